"""The app's pages, in the lesson's order: one list for the navigation (app.py) and Home's cards."""
from __future__ import annotations

import pathlib
from dataclasses import dataclass

import streamlit as st

from cnnviz.ui import routes

# Absolute, so the pages resolve from either main script: the checkout's app.py or cnnviz/ui/app.py.
FOLDER = pathlib.Path(__file__).resolve().parent / "pages"


@dataclass(frozen=True)
class PageInfo:
    file: str           # under FOLDER
    title: str          # in the navigation
    icon: str
    url_path: str
    step: str = ""      # the card's heading on Home ("" = no card)
    summary: str = ""   # the card's text on Home
    replayable: bool = False   # its render is a function of its address and session state: the
                               # students who follow a view may share one (follow_render.py)

    @property
    def path(self) -> str:
        return str(FOLDER / self.file)


HOME = PageInfo("home.py", "Home", ":material/home:", "index", replayable=True)
LESSON = [
    PageInfo("lesson.py", "Guided lesson", ":material/school:", "lesson", "Guided lesson",
             "Every step below in order, each with one thing to try and a question that is "
             "checked at once. Start here if you are new to CNNs."),
    PageInfo("convolution.py", "Convolution", ":material/grid_on:", "convolution", "1 · Convolution",
             "A small grid of weights (a kernel) slides over the image and turns it into a feature map "
             "that lights up where a pattern, such as an edge, is found.", replayable=True),
    PageInfo("activations.py", "Activations", ":material/show_chart:", "activations", "2 · Activation",
             "A simple function bends every number of the feature map, e.g. ReLU turns negatives into "
             "0. Without it, stacked layers would be no more than one big sum.", replayable=True),
    PageInfo("pooling.py", "Pooling & dropout", ":material/compress:", "pooling", "3 · Pooling",
             "Pooling keeps the strongest value of each small patch, so maps shrink and small shifts "
             "matter less. Dropout switches units off at random while training.", replayable=True),
    PageInfo("conv1d.py", "Conv1D", ":material/graphic_eq:", "conv1d", "Extra: Conv1D",
             "The same sliding window on a 1-D signal, such as a sound or a time series.", replayable=True),
    PageInfo("more_convolutions.py", "More convolutions", ":material/layers:", "more-convolutions",
             "Extra: more convolutions",
             "Transposed convolutions that make maps bigger, 3D kernels that slide through time, and "
             "depthwise separable ones that need far fewer weights.", replayable=True),
    PageInfo("network.py", "Network explorer", ":material/hub:", "network", "4 · Network",
             "A trained network: its feature maps layer by layer, the fully connected layers at the "
             "end and the probability it gives each class."),
    PageInfo("train.py", "Train a CNN", ":material/model_training:", "train", "5 · Training",
             "Build a network from these layers, train it on real pictures and watch it learn: "
             "the curves, the filters, the answers. Then explore it."),
]
CLASS = PageInfo("class_room.py", "A live class", ":material/groups:", "class", "A live class",
                 "Students join with a code on their phones, follow the teacher's screen, "
                 "answer questions and draw for a class gallery.")
NAVIGATION = [*LESSON, CLASS]   # the pages after Home, in the navigation's order
CARD_ORDER = ("lesson", "convolution", "activations", "pooling", "network", "train", "conv1d",
              "more-convolutions", "class")   # the guided path, the lesson, the extras, the class


def page_at(url_path: str) -> PageInfo | None:
    """The page at `url_path` ("" or "index": Home), or None when there is none."""
    if url_path in ("", HOME.url_path):
        return HOME
    return next((p for p in NAVIGATION if p.url_path == url_path), None)


def cards() -> list[PageInfo]:
    """The pages Home introduces, in the lesson's order (the extras and the live class last)."""
    by_path = {p.url_path: p for p in NAVIGATION}
    return [by_path[u] for u in CARD_ORDER]


_SESSION_PAGES = "cnnviz_navigation_pages"


def navigation_pages() -> list[st.Page]:
    """The st.Page objects of the navigation, made once per session: making them on every run
    (each resolves its file's path) was 3 % of a follower's run. A session's runs come one at a
    time, so its pages can be reused; they are not shared between sessions (st.navigation marks
    the page it picks as the one that may run)."""
    pages = st.session_state.get(_SESSION_PAGES)
    if pages is None:
        # Home is served at /; its own url_path is reserved but never reached, so /home is an alias.
        home = st.Page(HOME.path, title=HOME.title, icon=HOME.icon, url_path=HOME.url_path, default=True)
        pages = st.session_state[_SESSION_PAGES] = [
            home,
            *(st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in NAVIGATION),
            routes.home_alias(home),   # /home opens Home, which lives at /
        ]
    return pages
