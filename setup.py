"""The package list, for setuptools (everything else is in pyproject.toml).

Every package under cnnviz/ is found, so a new one cannot be left out of an install; the data
folder pretrained/ (and the Streamlit settings in .streamlit/) are added as packages that
pyproject.toml maps from those top-level folders.
"""
from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["cnnviz", "cnnviz.*"]), "cnnviz.pretrained",
                "cnnviz.streamlit_config"])
