"""Everything that imports Streamlit. The core (cnnviz.*) never imports this package."""
