import streamlit as st

st.title('activations (being written)')
