"""Plotly figures: plain data in, a figure out. No Streamlit and no training here."""
