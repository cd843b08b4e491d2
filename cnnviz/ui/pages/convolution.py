import streamlit as st

st.title('convolution (being written)')
