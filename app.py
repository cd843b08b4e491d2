"""cnnviz: a Streamlit app that shows what happens inside a convolutional neural network."""
import streamlit as st

from cnnviz.ui import preload, widgets

st.set_page_config(page_title="cnnviz: inside a CNN", page_icon=":material/visibility:", layout="wide")
preload.start_tensorflow_import()

PAGES = "cnnviz/ui/pages/"
navigation = st.navigation([
    st.Page(PAGES + "home.py", title="Home", icon=":material/home:", url_path="home", default=True),
    st.Page(PAGES + "convolution.py", title="Convolution", icon=":material/grid_on:", url_path="convolution"),
    st.Page(PAGES + "activations.py", title="Activations", icon=":material/show_chart:", url_path="activations"),
    st.Page(PAGES + "pooling.py", title="Pooling & dropout", icon=":material/compress:", url_path="pooling"),
    st.Page(PAGES + "conv1d.py", title="Conv1D", icon=":material/graphic_eq:", url_path="conv1d"),
    st.Page(PAGES + "network.py", title="Network explorer", icon=":material/hub:", url_path="network"),
])
widgets.image_source()
navigation.run()
