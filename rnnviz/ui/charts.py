"""How the Train page draws its chart specs: a static SVG picture by default, plotly on request.

Every Step replaces the Train page's charts. A plotly chart in Streamlit is built anew each time its
figure changes, which cost a Step click ~250 ms of the browser's time for three charts (measured
with benchmarks/bench_click.py); a picture drawn on the server (rnnviz.figures.svg) costs it almost
nothing. Hovering for values, zooming and plotly's PNG button for slides are one switch away
("Interactive charts"), drawn from the same spec.
"""

from __future__ import annotations

import streamlit as st

from rnnviz.figures.common import THEME, chart_config, fast_figure
from rnnviz.figures.svg import WIDTH, svg_img
from rnnviz.ui import present
from rnnviz.ui.state import AppSession

KEY = "interactive_charts"   # sess.extras key and widget key of the switch


def interactive(sess: AppSession) -> bool:
    return bool(sess.extras.get(KEY, False))


def _switched(sess: AppSession) -> None:
    sess.extras[KEY] = bool(st.session_state[KEY])


def toggle(sess: AppSession) -> None:
    """The switch between pictures and interactive plotly charts (kept per session)."""
    st.toggle("Interactive charts", value=interactive(sess), key=KEY, on_change=_switched, args=(sess,),
              help="Hover for values, zoom, and a button that downloads each chart as a PNG for slides "
                   "(2560 × 1440 px). Each Step then redraws more slowly, so it is off by default.")


def draw(sess: AppSession, spec: dict, *, key: str, alt: str, filename: str, width: int = WIDTH) -> None:
    """One chart: a picture (alt: what it shows, in words; also its tooltip), or plotly when switched on
    (not in the presentation view, which has no switch). width: the picture's, in px (WIDTH fits half
    the page; a chart across the whole page passes 2 × WIDTH).
    While playing, plotly charts are static images of themselves (see rnnviz.figures.common)."""
    if interactive(sess) and not present.on():
        st.plotly_chart(fast_figure(spec), theme=THEME, config=chart_config(sess.playing, filename), key=key)
    else:
        st.html(svg_img(spec, alt, width=width))
