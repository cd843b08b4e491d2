"""cnnviz: a Streamlit app that shows what happens inside a convolutional neural network.

Run it with `streamlit run app.py` in a checkout (app.py there runs this file) or `cnnviz app`
after `pip install .`.
"""
import streamlit as st

from cnnviz import settings
from cnnviz.compat import streamlit_internals
from cnnviz.ui import (class_session, figures, follow_render, index_page, page_list, preload, routes, share,
                       url_state, widgets)
from cnnviz.ui import palette   # before any picture is drawn: maps follow the visitor's palette

streamlit_internals.lighter_runs()   # once per process: cheaper sends and new-session messages
st.set_page_config(page_title="cnnviz: inside a CNN", page_icon=figures.app_icon(), layout="wide")
with class_session.follow_turn() as follow_run:   # a student's run that opens the teacher's view takes turns
    try:
        settings.mode()
    except settings.SettingsError as e:   # a mistyped CNNVIZ_MODE must not quietly open a public demo
        st.error(str(e))
        st.stop()
    preload.visit()
    routes.send_deep_unknown_paths_to_not_found()   # not a blank page (see routes.py)
    index_page.add_server_address()   # a shared link's page connects at once (see index_page.py)
    url_state.begin_run()
    if url_state.restore([widgets.IMAGE, share.PRESENT, palette.PALETTE, *class_session.PARAMS], "app"):   # a shared link
        widgets.follow_link()

    navigation = st.navigation(page_list.navigation_pages(), position="top" if share.presenting() else "sidebar")
    share.apply_presentation_style()
    class_session.begin(navigation.url_path)   # the class bar, for a room's members
    widgets.image_source()
    palette.control()
    class_session.keep_drawing_link()
    try:
        follow_render.run_page(navigation, follow_run)   # followers of one view share its render
    finally:
        url_state.publish()   # fragments publish on their own (url_state.fragment)
        preload.visit()
