"""rnnviz: watch a recurrent neural network learn, one step of backpropagation through time at a time.

    streamlit run app.py

This file only routes. Each page starts with rnnviz.ui.page.setup_page(), which draws the shared
sidebar (presets, text, settings) and returns the session's state.
"""

import logging
import os
import sys

# One BLAS thread per computation: every browser session already runs in its own thread, the
# matrices are small, and BLAS threads from many sessions would only fight over the cores.
# (Must be set before NumPy is first imported; Streamlit itself does not import it.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Hand the interpreter lock over every 1 ms instead of 5: Streamlit's event loop thread needs the
# lock several times for every message it sends, and with many sessions computing it otherwise waits
# up to 5 ms each time: a queue of play frames then delays everyone's Step by seconds (the convoy
# effect; measured with benchmarks/load_test.py).
sys.setswitchinterval(0.001)

import streamlit as st  # noqa: E402

# The presentation view (?present=1, rnnviz.ui.present) opens with the sidebar collapsed.
st.set_page_config(page_title="rnnviz · watch an RNN learn", page_icon="🔁", layout="wide",
                   initial_sidebar_state="collapsed" if st.query_params.get("present") == "1" else "auto")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

from rnnviz.ui import nav  # noqa: E402
from rnnviz.ui.reconnect import keep_reconnects_rerunning  # noqa: E402
from rnnviz.ui.state import get_session  # noqa: E402

# The menu is drawn by each page's sidebar (rnnviz.ui.nav says why), so Streamlit's own is hidden.
st.navigation(nav.pages(), position="hidden").run()
# After every full run: save the session's training state so a browser reload restores it.
get_session().autosave()
# ... and make a tab that reconnects to another replica run its page again (rnnviz.ui.reconnect).
keep_reconnects_rerunning()
