"""cnnviz: a Streamlit app that shows what happens inside a convolutional neural network."""
import streamlit as st

from cnnviz import settings
from cnnviz.ui import preload, routes, share, url_state, widgets

st.set_page_config(page_title="cnnviz: inside a CNN", page_icon=":material/visibility:", layout="wide")
try:
    settings.mode()
except settings.SettingsError as e:   # a mistyped CNNVIZ_MODE must not quietly open a public demo
    st.error(str(e))
    st.stop()
preload.start_tensorflow_import()
routes.send_deep_unknown_paths_to_not_found()   # not a blank page (see routes.py)
url_state.begin_run()
if url_state.restore([widgets.IMAGE, share.PRESENT], "app"):   # a shared link
    widgets.follow_link()

PAGES = "cnnviz/ui/pages/"
# Home is served at /; its own url_path is reserved but never reached, so /home is an alias below.
home = st.Page(PAGES + "home.py", title="Home", icon=":material/home:", url_path="index", default=True)
navigation = st.navigation([
    home,
    st.Page(PAGES + "convolution.py", title="Convolution", icon=":material/grid_on:", url_path="convolution"),
    st.Page(PAGES + "activations.py", title="Activations", icon=":material/show_chart:", url_path="activations"),
    st.Page(PAGES + "pooling.py", title="Pooling & dropout", icon=":material/compress:", url_path="pooling"),
    st.Page(PAGES + "conv1d.py", title="Conv1D", icon=":material/graphic_eq:", url_path="conv1d"),
    st.Page(PAGES + "network.py", title="Network explorer", icon=":material/hub:", url_path="network"),
    routes.home_alias(home),   # /home opens Home, which lives at /
], position="top" if share.presenting() else "sidebar")
share.apply_presentation_style()
widgets.image_source()
try:
    navigation.run()
finally:
    url_state.publish()   # fragments publish on their own (url_state.fragment)
