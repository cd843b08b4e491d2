"""Where the shipped data lives: pretrained models, their model cards and the sample images.

In a checkout they sit in the top-level ``pretrained/`` folder beside the package; ``pip install .``
copies that folder into the installed package as ``cnnviz/pretrained`` (see pyproject.toml). Every
path to that data is built from pretrained_dir(), which says loudly when the data is not there.
Pure standard library: no TensorFlow, no Streamlit.
"""
from __future__ import annotations

import functools
import importlib.resources
import pathlib

__all__ = ["MissingDataError", "pretrained_dir", "samples_dir", "streamlit_config_file"]

# The checkout's folders, used when the package is imported from a source tree.
_CHECKOUT_DIR = pathlib.Path(__file__).resolve().parent.parent / "pretrained"
_CHECKOUT_STREAMLIT = pathlib.Path(__file__).resolve().parent.parent / ".streamlit"


class MissingDataError(FileNotFoundError):
    """The models, cards or sample images that ship with cnnviz are not where they should be."""


@functools.cache
def pretrained_dir() -> pathlib.Path:
    """The folder holding the pretrained *.keras models, their *.json cards and samples/.

    The installed package's ``cnnviz/pretrained`` when there is one, the checkout's
    ``pretrained/`` otherwise. Raises MissingDataError naming both places when neither exists.
    """
    installed = importlib.resources.files("cnnviz") / "pretrained"
    if isinstance(installed, pathlib.Path) and installed.is_dir():
        return installed
    if _CHECKOUT_DIR.is_dir():
        return _CHECKOUT_DIR
    raise MissingDataError(
        f"cnnviz's data folder is missing: looked for {installed} (installed package) and "
        f"{_CHECKOUT_DIR} (source checkout). Reinstall cnnviz from a full checkout with "
        "`pip install .` (it copies pretrained/ into the package), or run it from the checkout.")


def samples_dir() -> pathlib.Path:
    """pretrained_dir() / "samples", with samples.json in it (MissingDataError otherwise)."""
    folder = pretrained_dir() / "samples"
    if not (folder / "samples.json").is_file():
        raise MissingDataError(
            f"The sample images are missing: {folder / 'samples.json'} does not exist. "
            "Restore pretrained/samples/ from the repository (or rebuild it with "
            "scripts/make_samples.py) and reinstall cnnviz if it is installed.")
    return folder


def streamlit_config_file() -> pathlib.Path:
    """The app's Streamlit settings: the installed package's ``cnnviz/streamlit_config/config.toml``
    (copied from the checkout's ``.streamlit/`` by ``pip install .``) or the checkout's own."""
    installed = importlib.resources.files("cnnviz") / "streamlit_config" / "config.toml"
    if isinstance(installed, pathlib.Path) and installed.is_file():
        return installed
    checkout = _CHECKOUT_STREAMLIT / "config.toml"
    if checkout.is_file():
        return checkout
    raise MissingDataError(
        f"cnnviz's Streamlit settings are missing: looked for {installed} (installed package) and "
        f"{checkout} (source checkout). Reinstall cnnviz from a full checkout with `pip install .`.")
