"""cnnviz's Streamlit app for a checkout: `streamlit run app.py`.

The app itself is cnnviz/ui/app.py, inside the package, so that an installed copy has it too
(`cnnviz app` runs it there); this file runs that same script on every rerun.
"""
import runpy

runpy.run_module("cnnviz.ui.app", run_name="__main__")
