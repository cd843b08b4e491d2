"""Home: what a CNN is, how the pages follow the lesson, and the chosen image as numbers."""
from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import describe, images
from cnnviz.ui import accessible, export, figures, page_list, session_memo, share, st_image, url_state, widgets
from cnnviz.ui.plain_text import plain

CHANNELS = {"Red": ("red", 0), "Green": ("green", 1), "Blue": ("blue", 2)}
ZOOM = url_state.integer("zoom", "home_crop_size", 4, 16, None)   # pixels across the square
PARAMS = [   # the zoomed square; its default is the busiest square of each picture
    ZOOM,
    url_state.integer("top", "home_crop_top", 0, 4096, None),
    url_state.integer("left", "home_crop_left", 0, 4096, None),
    url_state.choice("channel", "home_channel", list(CHANNELS), "Red", what="colour channel"),
]


linked = url_state.restore(PARAMS, "home")
share.page_header("Inside a convolutional neural network")
share.intro(
    "A **convolutional neural network** (CNN) is the kind of network that recognises what is in "
    "a picture. It does not look at the whole image at once: small filters scan it for simple "
    "features, such as edges and curves; later layers combine those into larger shapes; at the "
    "end, a few ordinary (*fully connected*) layers turn what was found into a score for each "
    "class, such as *“this is a 3”* or *“this is a cat”*.\n\n"
    "Each page shows one step, in the order a network applies them. Pick an image in the sidebar "
    "(a sample, your own upload, a drawing or a photo): every page uses it.")

with st.container(horizontal=True, gap="small"):   # cards wrap onto a second row on narrow screens
    for card in page_list.cards():
        with st.container(border=True, width=172, height="stretch"):
            st.page_link(card.path, label=f"**{card.step}**", icon=card.icon)
            st.caption(card.summary)


# --------------------------------------------------------------------------- the image as numbers

def shape_sentence(pixels) -> str:
    h, w = pixels.shape[:2]
    count = pixels.size
    if pixels.ndim == 2:
        return (f"**{h} × {w}** (height × width): a grey image is one grid of {count:,} numbers, "
                "one per pixel.")
    return (f"**{h} × {w} × 3** (height × width × colour channels): a colour image is three "
            f"grids, one each for red, green and blue, so {count:,} numbers in all.")


def busiest_square(pixels, size: int) -> tuple[int, int]:
    """(top, left) of the size x size square whose values vary most: a good first zoom."""
    gray = images.to_gray(pixels).astype(np.float64)
    h, w = gray.shape
    if size >= h and size >= w:
        return 0, 0
    pad = np.zeros((h + 1, w + 1))
    pad[1:, 1:] = gray.cumsum(0).cumsum(1)
    sq = np.zeros((h + 1, w + 1))
    sq[1:, 1:] = (gray ** 2).cumsum(0).cumsum(1)

    def windows(t):
        return t[size:, size:] - t[:-size, size:] - t[size:, :-size] + t[:-size, :-size]

    n = size * size
    variance = windows(sq) / n - (windows(pad) / n) ** 2
    # prefer squares near the centre when several vary as much
    yy, xx = np.mgrid[0:variance.shape[0], 0:variance.shape[1]]
    cy, cx = (variance.shape[0] - 1) / 2, (variance.shape[1] - 1) / 2
    distance = np.hypot(yy - cy, xx - cx) / max(h, w)
    score = variance - 1e-3 * distance * max(float(variance.max()), 1e-12)
    top, left = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(top), int(left)


def _memo(name: str, source, params: tuple, compute):
    return session_memo.remembered("home_memo", name, source, params, compute)


@url_state.fragment
def pixel_section(picture: images.Picture, linked: bool) -> None:
    pixels = picture.pixels
    h, w = pixels.shape[:2]
    identity = (picture.name, pixels.shape)
    if linked:                 # a shared link's square is for this picture
        st.session_state["home_crop_for"] = identity
    if st.session_state.get("home_crop_for") != identity:   # a new picture: start where it is busiest
        for key in ("home_crop_size", "home_crop_top", "home_crop_left"):
            st.session_state.pop(key, None)
        st.session_state["home_crop_for"] = identity
    st.markdown(shape_sentence(pixels))
    left, right = st.columns([2, 3], gap="large")

    with right:
        c1, c2, c3 = st.columns(3)
        smallest = min(h, w)
        with c1:
            size = widgets.clamped_slider("Zoom: square of", ZOOM.key, min(ZOOM.lo, smallest),
                                          min(ZOOM.hi, smallest), min(12, smallest),
                                          "How many pixels across the zoomed square shows.")
        best_top, best_left = _memo("busiest", pixels, (size,), lambda: busiest_square(pixels, size))
        with c2:
            top = widgets.clamped_slider("Top row", "home_crop_top", 0, h - size, best_top,
                                         "Row 0 is the top of the image.")
        with c3:
            left_col = widgets.clamped_slider("Left column", "home_crop_left", 0, w - size, best_left,
                                              "Column 0 is the left edge.")
        if pixels.ndim == 3:
            choice = st.segmented_control("Colour channel", list(CHANNELS), default="Red",
                                          required=True, key="home_channel") or "Red"
            colour, index = CHANNELS[choice]
            values = images.to_uint8(pixels[top:top + size, left_col:left_col + size, index])
        else:
            colour = "grey"
            values = images.to_uint8(pixels[top:top + size, left_col:left_col + size])
        st_image.show(figures.drawn(figures.pixel_values_image, values, top, left_col, colour,
                                    size=share.scaled(470)),
                      caption=f"The {colour} values of rows {top}–{top + size - 1} (left edge) and columns "
                              f"{left_col}–{left_col + size - 1} (top edge).",
                      alt=_memo("values_alt", pixels, (top, left_col, size, colour), lambda: describe.window(
                          values, top, left_col, f"The {colour} pixel values, each written in its cell")))
        accessible.as_numbers(values, f"The {colour} values of rows {top}–{top + size - 1}, columns "
                              f"{left_col}–{left_col + size - 1}",
                              [str(top + i) for i in range(values.shape[0])],
                              [str(left_col + j) for j in range(values.shape[1])])
        stem = export.file_stem(picture.name)
        with share.secondary("home_export"), st.container(horizontal=True, gap="small"):
            export.download("Zoomed values (CSV)", lambda: export.grid_csv(values),
                            f"{stem}-{colour}-rows-{top}-{top + size - 1}.csv", export.CSV, "home_export_csv")
            export.download("The picture (PNG)", lambda: export.png(Image.fromarray(figures.rgb8(pixels))),
                            f"{stem}.png", export.PNG, "home_export_png")

    with left:
        st_image.show(figures.drawn(figures.crop_box_image, pixels, top, left_col, size, size, size=340),
                      caption=f"{plain(picture.name)}: the orange box is the zoomed square "
                              f"(rows {top}–{top + size - 1}, columns {left_col}–{left_col + size - 1}).",
                      alt=_memo("picture_alt", pixels, (picture.name,),
                                lambda: describe.picture(pixels, plain(picture.name)))
                      + f" An orange box marks rows {top} to {top + size - 1}, columns {left_col} to {left_col + size - 1}.")
        st.markdown(
            "Each number is the brightness of one pixel: **0 is black, 255 is white**"
            + (", and each colour channel says how much red, green or blue the pixel has"
               if pixels.ndim == 3 else "")
            + ". That grid of numbers is all a network ever gets. cnnviz divides the numbers by "
              "255, so the other pages work with values from 0 to 1.")
        if picture.notes:
            st.caption(plain(" · ".join(picture.notes)))


st.header("Your image as the computer sees it")
pixel_section(widgets.current_picture(), linked)
