"""Shared figure helpers: a consistent look, bounded point counts, safe labels."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from rnnviz.figures.palette import ACCENT, SMOOTH, VIRIDIS  # noqa: F401 (ACCENT, SMOOTH: shared by the figures)
from rnnviz.figures.palette import CLIP as CLIP_RED  # noqa: F401 (the figures import it from here)

MAX_POINTS = 600   # per line: the browser draws this many points fast; more adds nothing visible
FONT = dict(family="Inter, Source Sans Pro, sans-serif", size=13)


def fast_figure(spec: dict) -> go.Figure:
    """A plotly Figure from a plain dict spec, without plotly's per-property validation.

    Validation costs 15-35 ms per figure, which would dominate a Step click's rerun; the specs
    are built by our own code and tests/test_figures_train.py validates every one of them with
    plotly's full checks, so skipping it at run time loses nothing. ``_validate`` is a private
    plotly argument; if a future plotly drops it, fall back to the validated constructor.
    """
    spec = decade_labels(spec)
    try:
        return go.Figure(spec, _validate=False)
    except TypeError:  # pragma: no cover - depends on the plotly version
        return go.Figure(spec)


DECADES_FOR_POWERS_ONLY = 2.0   # a log y axis spanning at least this many decades labels its powers of 10 only


def decade_labels(spec: dict) -> dict:
    """Over a few decades plotly labels 2 and 5 inside each decade by their first digit alone, so
    between 10 and 10² a "5" means 50 and reads as 5. When the lines and bars of a log y axis span
    DECADES_FOR_POWERS_ONLY decades or more (so at least two powers of 10 are labelled; shapes drawn in
    data coordinates count, as they do in plotly's autorange), label the
    powers only (``minorloglabels="none"``; the grid keeps its minor lines). A narrower axis keeps
    plotly's labels, which are then plain numbers. The spec is changed in place and returned."""
    axis = spec.get("layout", {}).get("yaxis") or {}
    if axis.get("type") != "log" or "minorloglabels" in axis:
        return spec
    if axis.get("range") is not None:
        lo, hi = axis["range"]
        span = hi - lo
    else:
        ys = [np.asarray(t["y"], dtype=float).ravel() for t in spec.get("data", [])
              if t.get("type") in ("scatter", "bar") and t.get("y") is not None and t.get("yaxis", "y") == "y"]
        # Lines drawn as shapes in data coordinates (the line ρ = 1) stretch the axis too.
        ys += [np.array([sh.get("y0"), sh.get("y1")], dtype=float) for sh in spec["layout"].get("shapes") or ()
               if sh.get("yref", "y") == "y"]
        y = np.concatenate(ys) if ys else np.zeros(0)
        y = y[np.isfinite(y) & (y > 0)]
        span = float(np.log10(y.max() / y.min())) if y.size else 0.0
    if span >= DECADES_FOR_POWERS_ONLY:
        axis["minorloglabels"] = "none"
    return spec


# How every plotly chart is shown (st.plotly_chart's config), defined once for every page.
# plotly's toolbar appears only on hover, with one button: download the chart as a PNG at slide
# resolution (SLIDE_WIDTH × SLIDE_HEIGHT CSS px at scale 2: 2560 × 1440 pixels, 16:9, fonts as on screen).
# (While playing, the Train page draws pictures instead: rnnviz.ui.charts.)
SLIDE_WIDTH, SLIDE_HEIGHT, SLIDE_SCALE = 1280, 720, 2
CHART = {
    "displaylogo": False,
    "modeBarButtons": [["toImage"]],
    "toImageButtonOptions": {"format": "png", "filename": "rnnviz-chart", "width": SLIDE_WIDTH,
                             "height": SLIDE_HEIGHT, "scale": SLIDE_SCALE},
}
# st.plotly_chart(theme=THEME): our layouts set fonts, colours and grids themselves. Streamlit's own
# theme ("streamlit") restyles every figure in the browser on each redraw; measured in Chromium
# (benchmarks/bench_click.py), a Step click painted about 200 ms sooner on the Train page without it.
THEME = None


def chart_config(filename: str | None = None) -> dict:
    """CHART, its PNG named filename (without .png)."""
    if filename is None:
        return CHART
    return {**CHART, "toImageButtonOptions": {**CHART["toImageButtonOptions"], "filename": filename}}


AXIS = dict(showgrid=True, gridcolor="#eee", zeroline=False, linecolor="#999", ticks="outside",
            automargin=True)   # plotly widens the margin for long tick labels (10⁻¹⁸) so they miss the title


def layout(*, height: int = 300, title: str | None = None, xaxis: dict | None = None, yaxis: dict | None = None,
           **kw) -> dict:
    """The layout dict shared by every chart: margins, font, legend on top, light grid."""
    return dict(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)) if title else None,
        height=height, margin=dict(l=60, r=20, t=40 if title else 10, b=50), font=FONT,
        hovermode="closest", legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        plot_bgcolor="white", xaxis={**AXIS, **(xaxis or {})}, yaxis={**AXIS, **(yaxis or {})}, **kw,
    )


def _increasing_numbers(x: np.ndarray) -> bool:
    """x is numbers that strictly increase (step numbers): then sample evenly in x, not in index,
    because a long history keeps its recent steps row for row and thins the old ones."""
    return x.ndim == 1 and x.dtype.kind in "iuf" and x.size > 1 and bool(np.all(np.diff(x) > 0))


def downsample(x: np.ndarray, *ys: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, ...]:
    """At most max_points samples of x and each y, evenly spaced (in x if it increases; always
    keeping the first and last)."""
    x = np.asarray(x)
    n = len(x)
    if n <= max_points:
        return (x, *[np.asarray(y) for y in ys])
    if _increasing_numbers(x):
        targets = np.linspace(float(x[0]), float(x[-1]), max_points)
        j = np.searchsorted(x, targets).clip(1, n - 1)
        idx = np.unique(np.where(targets - x[j - 1] <= x[j] - targets, j - 1, j))   # the nearest sample
    else:
        idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return (x[idx], *[np.asarray(y)[idx] for y in ys])


def envelope(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Downsample keeping each bucket's lowest and highest point, so spikes stay visible
    (a plain stride would hide the one exploding step among a thousand). Buckets are equal
    ranges of x when x increases, else equal runs of points."""
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    n = len(x)
    if n <= max_points:
        return x, y
    half = max_points // 2
    if _increasing_numbers(x):
        ids = np.minimum(((x - x[0]) / ((x[-1] - x[0]) / half)).astype(np.int64), half - 1)
    else:
        ids = np.arange(n) // -(-n // half)
    new = np.empty(n, dtype=bool)
    new[0], new[1:] = True, ids[1:] != ids[:-1]
    starts = np.flatnonzero(new)
    seg = np.cumsum(new) - 1
    finite = np.isfinite(y)
    lo_key, hi_key = np.where(finite, y, np.inf), np.where(finite, y, -np.inf)
    # An all-NaN bucket gives its first point: kept as a gap.
    lo = _first_true(lo_key == np.minimum.reduceat(lo_key, starts)[seg], seg)
    hi = _first_true(hi_key == np.maximum.reduceat(hi_key, starts)[seg], seg)
    idx = np.unique(np.concatenate([lo, hi]))
    return x[idx], y[idx]


def _first_true(mask: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """For each segment id in seg, the first index where mask holds (every segment has one)."""
    cand = np.flatnonzero(mask)
    _, first = np.unique(seg[cand], return_index=True)
    return cand[first]


def esc(s) -> str:
    """HTML-escape str(s), quotes included (some of our markup puts text in attributes)."""
    return html.escape(str(s), quote=True)


def visible(tok: str) -> str:
    """A visible, short form of a token: spaces, newlines, tabs and control characters shown."""
    special = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}
    if tok in special:
        return special[tok]
    if len(tok) == 1 and (ord(tok) < 32 or ord(tok) == 127):
        return f"\\x{ord(tok):02x}"
    return tok if len(tok) <= 12 else tok[:11] + "…"


def token_label(tok: str) -> str:
    """``visible(tok)`` escaped for plotly, whose labels interpret a subset of HTML tags.
    Quotes become &#34;/&#39;: plotly decodes numeric entities but shows &quot; literally."""
    return html.escape(visible(tok), quote=False).replace('"', "&#34;").replace("'", "&#39;")


# VIRIDIS (rnnviz.figures.palette): dark (small) → yellow (large).
_VIRIDIS_RGB = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in VIRIDIS], dtype=float)
_VIRIDIS_AT = np.linspace(0.0, 1.0, len(VIRIDIS))


def viridis(u: np.ndarray) -> list[str]:
    """Colours for u in [0, 1] (NaN → grey), interpolated on VIRIDIS (all at once: this runs on
    every play frame)."""
    u = np.asarray(u, dtype=float)
    x = np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0)
    rgb = np.rint(np.stack([np.interp(x, _VIRIDIS_AT, _VIRIDIS_RGB[:, k]) for k in range(3)], axis=1)).astype(int)
    return [f"#{r:02x}{g:02x}{b:02x}" if ok else "#bbbbbb"
            for (r, g, b), ok in zip(rgb.tolist(), np.isfinite(u).tolist(), strict=True)]


def tick_step(n: int) -> int:
    """A ruler step for n bars in a half-page chart: all labels up to 15, then 5, 10, 20, 25, 50, …"""
    for step in (1, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if n <= 15 * step:
            return step
    return -(-n // 15)
