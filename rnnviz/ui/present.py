"""The presentation view, for a projector: ``?present=1`` or the sidebar's toggle.

Large type (every size Streamlit draws is in rem, so one root font size scales the page), the sidebar
collapsed, the headline charts only (pages ask ``on()`` and leave the rest out), captions in one
sentence (``caption(long, short)``). Keyboard shortcuts are the buttons' own, so they keep working.
The state lives in the URL, so a presentation link (and Streamlit's ``?embed=true`` for slides) opens
straight in it.
"""

from __future__ import annotations

import streamlit as st

from rnnviz.ui.urlstate import PRESENT_PARAM

ROOT_PX = 21          # root font size in the presentation view (Streamlit's default is 16 px)
CHART_FONT_PX = 18    # chart text in the presentation view (charts are sized in px, not rem)
CHART_HEIGHT_PX = 430

_CSS = f"""<style>
html {{ font-size: {ROOT_PX}px; }}
section[data-testid="stSidebar"] {{ font-size: 16px; }}
.block-container, [data-testid="stMainBlockContainer"] {{ padding-top: 4rem; padding-bottom: 1rem;
  max-width: 100%; }}
[data-testid="stMetricValue"] {{ font-size: 1.9rem; }}
h3 {{ font-size: 1.45rem !important; padding-top: 0 !important; }}
/* The way back sits in the top bar, out of the charts' way. */
.st-key-present_exit {{ position: fixed; top: 0.55rem; right: 5.5rem; z-index: 999991; width: auto !important; }}
[data-testid="stMetricLabel"] p {{ font-size: 0.9rem; }}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {{ white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; }}
/* Streamlit draws captions at opacity 0.6: black ink makes them #666 on white, 5.7:1 (#333 gave 3.7:1). */
[data-testid="stCaptionContainer"] {{ font-size: 1rem; color: #000; }}
.rv-verdict, .rv-legend {{ font-size: 1rem !important; }}
</style>"""


def on() -> bool:
    """Whether this page is drawn in the presentation view."""
    return st.query_params.get(PRESENT_PARAM) == "1"


def set_on(value: bool) -> None:
    if value:
        st.query_params[PRESENT_PARAM] = "1"
    elif PRESENT_PARAM in st.query_params:
        del st.query_params[PRESENT_PARAM]


def _toggled(key: str) -> None:
    set_on(bool(st.session_state[key]))


def toggle() -> None:
    """The sidebar's switch (its state is the URL's, so it survives reloads and goes into links)."""
    st.toggle("Presentation view", value=on(), key="present_toggle", on_change=_toggled, args=("present_toggle",),
              help="For a projector: large type, headline charts only, short captions. Also ?present=1 in the URL.")


def apply() -> None:
    """In the presentation view: the large-type style and a way back (the sidebar starts collapsed)."""
    if not on():
        return
    st.html(_CSS)
    st.button("Exit presentation view", key="present_exit", on_click=set_on, args=(False,), type="tertiary",
              icon=":material/close_fullscreen:")


def caption(long: str, short: str) -> None:
    """The long caption normally; in the presentation view one sentence."""
    st.caption(short if on() else long)


def enlarge(spec: dict, height: int | None = None) -> dict:
    """A chart spec with text readable from the back of a hall (in the presentation view only)."""
    if on():
        lay = spec["layout"]
        lay["font"] = {**(lay.get("font") or {}), "size": CHART_FONT_PX}
        lay["height"] = height or CHART_HEIGHT_PX
        lay["legend"] = {**(lay.get("legend") or {}), "font": {"size": CHART_FONT_PX - 2}}
    return spec
