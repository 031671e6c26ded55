"""What every page does first: find this session's state and draw the shared sidebar.

The sidebar is drawn from inside each page rather than in app.py around ``page.run()``: Streamlit's
AppTest loses sidebar elements created outside the page script after the first rerun, and drawing
it here keeps one code path for the browser and the tests.
"""

from __future__ import annotations

import streamlit as st

from rnnviz.ui.controls import sidebar
from rnnviz.ui.safe import md
from rnnviz.ui.state import AppSession, get_session, show_flashes

CHART = {"displayModeBar": False}   # every page's plotly config: no toolbar over the charts


def setup_page() -> AppSession:
    """This browser session's AppSession, with the sidebar drawn."""
    sess = get_session()
    sidebar(sess)
    return sess


def page_header(sess: AppSession, title: str, caption: str) -> None:
    """The page title with the text it trains on (escaped: a file name is user text), a caption
    for students, then any pending messages."""
    st.markdown(f"### {title} · {md(sess.text_label)}")
    st.caption(caption)
    show_flashes(sess)
