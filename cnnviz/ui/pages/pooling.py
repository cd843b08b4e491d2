import streamlit as st

st.title('pooling (being written)')
