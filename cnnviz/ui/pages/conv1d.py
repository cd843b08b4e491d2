import streamlit as st

st.title('conv1d (being written)')
