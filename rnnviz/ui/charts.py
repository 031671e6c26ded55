"""How the Train page draws its chart specs: a static SVG picture by default, plotly on request.

Every Step replaces the Train page's charts. A plotly chart in Streamlit is built anew each time its
figure changes, which cost a Step click ~250 ms of the browser's time for three charts (measured
with benchmarks/bench_click.py); a picture drawn on the server (rnnviz.figures.svg) costs it almost
nothing. Hovering for values, zooming and plotly's PNG button for slides are one switch away
("Interactive charts"), drawn from the same spec. While playing the charts are pictures either way.
"""

from __future__ import annotations

import streamlit as st

from rnnviz.figures.common import THEME, chart_config, fast_figure
from rnnviz.figures.svg import WIDTH, svg_img
from rnnviz.ui import present
from rnnviz.ui.state import AppSession

KEY = "interactive_charts"   # sess.extras key and widget key of the switch


def interactive(sess: AppSession) -> bool:
    """Plotly now? Only when switched on, paused and not in the presentation view: while playing, a
    plotly chart would be a static image of itself anyway (no hover, no button), at plotly's cost."""
    return bool(sess.extras.get(KEY, False)) and not sess.playing and not present.on()


def _switched(sess: AppSession) -> None:
    sess.extras[KEY] = bool(st.session_state[KEY])


def toggle(sess: AppSession) -> None:
    """The switch between pictures and interactive plotly charts (kept per session)."""
    st.toggle("Interactive charts", value=bool(sess.extras.get(KEY, False)), key=KEY, on_change=_switched, args=(sess,),
              help="Hover for values, zoom, and a button that downloads each chart as a PNG for slides "
                   "(2560 × 1440 px). Each Step then redraws more slowly, so it is off by default.")


def draw(sess: AppSession, spec: dict, *, key: str, alt: str, filename: str, width: int = WIDTH,
         into=st) -> None:
    """One chart: a picture (alt: what it shows, in words; also its tooltip), or plotly when
    ``interactive``. width: the picture's, in px (WIDTH fits half the page; a chart across the whole
    page passes 2 × WIDTH). into: where to draw, st or a placeholder (a rnnviz.ui.slots.Slot) that
    play frames rewrite in place."""
    if interactive(sess):
        into.plotly_chart(fast_figure(spec), theme=THEME, config=chart_config(filename), key=key)
    else:
        into.html(svg_img(spec, alt, width=width))
