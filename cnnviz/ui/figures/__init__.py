"""Figure builders (moved from cnnviz/ui/figures.py; split into submodules by the next commit)."""
from cnnviz.ui.figures.pictures import *  # noqa: F401,F403
