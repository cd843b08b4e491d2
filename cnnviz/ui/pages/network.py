import streamlit as st

st.title('network (being written)')
