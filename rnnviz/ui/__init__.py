"""Session glue between the Streamlit pages and the engine (the only layer that holds state)."""
