"""A plain Streamlit page with Home's elements and none of cnnviz's code: the third line of
bench_first_render.py.

The same element kinds, in the same places and numbers, with text and pictures of about the same
size: the sidebar's navigation (9 pages with icons) and image picker, the title with a copy
button and a toggle, the introduction, 8 bordered cards with page links, and the pixel section
(3 sliders, 2 pictures, 2 download buttons). Whatever Home costs beyond this page is cnnviz's.
"""
import numpy as np
import streamlit as st

WORDS = "a small grid of weights slides over the image and turns it into a feature map "
rng = np.random.default_rng(0)


def home() -> None:
    head, tools = st.columns([5, 2], vertical_alignment="bottom")
    head.title("Inside a convolutional neural network")
    with tools, st.container(horizontal=True, horizontal_alignment="right", gap="small",
                             vertical_alignment="center"):
        st.html("<button>Copy link</button><script>void 0</script>", unsafe_allow_javascript=True,
                width="content")
        st.toggle("Present", help=WORDS)
    st.markdown(f"A **convolutional neural network** {WORDS * 6}\n\n{WORDS * 3}")
    with st.container(horizontal=True, gap="small"):
        for page in PAGES[1:]:
            with st.container(border=True, width=172, height="stretch"):
                st.page_link(page, label=f"**{page.title}**")
                st.caption(WORDS * 2)
    st.header("Your image as the computer sees it")
    st.markdown(f"**28 × 28** (height × width): {WORDS}")
    left, right = st.columns([2, 3], gap="large")
    with right:
        for column, label in zip(st.columns(3), ("Zoom: square of", "Top row", "Left column")):
            column.slider(label, 0, 16, 4, help=WORDS)
        st.image(rng.integers(0, 256, (470, 470), dtype=np.uint8), output_format="PNG", caption=WORDS)
        with st.container(horizontal=True, gap="small"):
            st.download_button("Zoomed values (CSV)", b"1,2", "values.csv", icon=":material/download:")
            st.download_button("The picture (PNG)", b"png", "picture.png", icon=":material/download:")
    with left:
        st.image(rng.integers(0, 256, (340, 340, 3), dtype=np.uint8), caption=WORDS)
        st.markdown(f"Each number is the brightness of one pixel: **0 is black, 255 is white**. {WORDS}")


ICONS = ["home", "school", "grid_on", "show_chart", "compress", "graphic_eq", "layers", "hub", "model_training"]
PAGES = [st.Page(home, title="Home", icon=":material/home:", default=True)] + [
    st.Page(lambda: None, title=f"Page {i}", icon=f":material/{icon}:", url_path=f"page{i}")
    for i, icon in enumerate(ICONS[1:], 1)]
navigation = st.navigation(PAGES)
with st.sidebar:
    st.markdown("#### Your image")
    st.segmented_control("Image source", ["Sample", "Upload", "Draw", "Camera"], default="Sample",
                         label_visibility="collapsed")
    st.selectbox("Sample image", [f"Sample {i}" for i in range(21)], help=WORDS)
    st.image(np.full((110, 110), 128, np.uint8), width=110)
    st.caption("**sample: Handwritten 3** · 28 × 28  \nMNIST test image")
navigation.run()
