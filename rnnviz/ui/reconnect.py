"""Make a tab that reconnects to another replica always run its page again.

When its websocket reconnects, Streamlit's frontend (1.67) asks for a script run only if the last run
was a fragment's, a run was going on, or some fragment reruns on a timer (run_every); otherwise it takes
the server to have kept its session and sends nothing. Behind a load balancer the tab may reconnect to
another replica, which has no session for it: the page stayed as it was, connected to an empty session,
and its next click (a fragment rerun) found no fragment ("does not exist anymore" in the server log) and
did nothing, for good. Seen in Chromium after a tab failed over twice with no click in between (a
rolling restart), and after a full rerun (a sidebar change) followed by a failover.

So every page registers a fragment that reruns on a timer and draws nothing: the frontend then always
asks for a run after a reconnect, and the new replica restores the session (rnnviz.ui.state). Its timer
fires once an hour: one empty fragment run per open tab per hour.
"""

from __future__ import annotations

import streamlit as st

TIMER_S = 3600


@st.fragment(run_every=TIMER_S)
def _rerun_after_reconnect() -> None:
    """Draws nothing; its timer is what makes a reconnecting tab ask for a run."""


def keep_reconnects_rerunning() -> None:
    """Call once per full run of every page (app.py does, after the page)."""
    _rerun_after_reconnect()
