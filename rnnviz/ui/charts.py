"""How charts are drawn, each with its text alternative: the Train page's specs as a static SVG picture by
default (plotly on request), every other page's plotly figures, and "Show as a table".

Every chart has a text alternative that a screen reader reads: what it shows and its key numbers (the
computed sentence). A picture carries it as its alt text; a plotly chart, whose SVG a screen reader
cannot make sense of, gets it as screen-reader-only text just before it (``plotly``). The headline
charts also offer their numbers as a table (``show_table``, or ``table=`` of ``draw`` and ``plotly``),
built only while it is open.

Every Step replaces the Train page's charts. A plotly chart in Streamlit is built anew each time its
figure changes, which cost a Step click ~250 ms of the browser's time for three charts (measured
with benchmarks/bench_click.py); a picture drawn on the server (rnnviz.figures.svg) costs it almost
nothing. Hovering for values, zooming and plotly's PNG button for slides are one switch away
("Interactive charts"), drawn from the same spec. While playing the charts are pictures either way.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from rnnviz.figures.common import CHART, THEME, chart_config, fast_figure
from rnnviz.figures.svg import WIDTH, svg_img
from rnnviz.ui import a11y, present
from rnnviz.ui.slots import Slot
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
         table=None, into=st) -> None:
    """One chart: a picture (alt: what it shows, in words; also its tooltip), or plotly when
    ``interactive``. width: the picture's, in px (WIDTH fits half the page; a chart across the whole
    page passes 2 × WIDTH). table: its numbers for "Show as a table" (a DataFrame or a function that
    builds one; see ``show_table``), or None. into: where to draw, st or a placeholder (a
    rnnviz.ui.slots.Slot) that play frames rewrite in place (then no table: a placeholder holds one
    element)."""
    if interactive(sess):
        plotly(fast_figure(spec), alt=alt, key=key, filename=filename, into=into)
    else:
        into.html(svg_img(spec, alt, width=width))
    if table is not None:
        show_table(table, key=f"{key}_table")


def plotly(fig, *, alt: str, key: str, filename: str | None = None, table=None,
           formats: dict[str, str] | None = None, into=st) -> None:
    """A plotly figure with its text alternative: ``alt`` (what it shows and its key numbers, in words) is
    read by a screen reader just before the chart and not shown (the caption under a chart says it for
    everyone). filename: the PNG download's name (without .png). table, formats: the chart's numbers
    for "Show as a table" under it (a DataFrame or a function that builds one, and number formats by
    column; see ``show_table``), or None. into: st, a container or a Slot."""
    box = into.container() if isinstance(into, Slot) else into.container(gap=None)
    box.html(a11y.sr_only(f"Chart: {alt}"))
    box.plotly_chart(fig, theme=THEME, config=chart_config(filename) if filename else CHART, key=key)
    if table is not None:
        show_table(table, key=f"{key}_table", formats=formats, into=into if not isinstance(into, Slot) else st)


def show_table(data: pd.DataFrame | Callable[[], pd.DataFrame], *, key: str, label: str = "Show as a table",
          formats: dict[str, str] | None = None, into=st) -> None:
    """"Show as a table": an expander with a chart's numbers, keyboard- and screen-reader-friendly.

    data: the DataFrame, or a function that builds it: it is called (and the table sent to the browser)
    only while the expander is open, so a closed table costs a Step nothing. formats: printf-style
    number formats by column ("%.3g"). key: the expander's widget key (unique on the page)."""
    box = into.expander(label, key=key, on_change="rerun", icon=":material/table_rows:")
    if box.open:
        df = data() if callable(data) else data
        config = {c: st.column_config.NumberColumn(format=f) for c, f in (formats or {}).items()}
        box.dataframe(df, hide_index=True, width="stretch", column_config=config)
