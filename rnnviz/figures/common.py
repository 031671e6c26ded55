"""Shared figure helpers: a consistent look, bounded point counts, safe labels."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

MAX_POINTS = 600   # per line: the browser draws this many points fast; more adds nothing visible
FONT = dict(family="Inter, Source Sans Pro, sans-serif", size=13)
CLIP_RED = "#d62728"
ACCENT = "#1f77b4"
SMOOTH = "#ff7f0e"


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 300, **kw) -> go.Figure:
    """Margins, font and hover defaults shared by every chart."""
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)) if title else None,
        height=height, margin=dict(l=60, r=20, t=40 if title else 10, b=50), font=FONT,
        hovermode="closest", legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        plot_bgcolor="white", **kw,
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eee", zeroline=False, linecolor="#999", ticks="outside")
    fig.update_yaxes(showgrid=True, gridcolor="#eee", zeroline=False, linecolor="#999", ticks="outside")
    return fig


def downsample(x: np.ndarray, *ys: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, ...]:
    """At most max_points evenly spaced samples (always keeping the last) of x and each y."""
    n = len(x)
    if n <= max_points:
        return (np.asarray(x), *[np.asarray(y) for y in ys])
    idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return (np.asarray(x)[idx], *[np.asarray(y)[idx] for y in ys])


def envelope(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Downsample keeping each bucket's lowest and highest point, so spikes stay visible
    (a plain stride would hide the one exploding step among a thousand)."""
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    n = len(x)
    if n <= max_points:
        return x, y
    keep: list[int] = []
    edges = np.linspace(0, n, max_points // 2 + 1).astype(int)
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        seg = y[a:b]
        if seg.size == 0:
            continue
        if np.isfinite(seg).any():
            keep.extend(sorted({a + int(np.nanargmin(seg)), a + int(np.nanargmax(seg))}))
        else:
            keep.append(a)
    idx = np.asarray(keep)
    return x[idx], y[idx]


def visible(tok: str) -> str:
    """A visible, short form of a token: spaces, newlines, tabs and control characters shown."""
    special = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}
    if tok in special:
        return special[tok]
    if len(tok) == 1 and (ord(tok) < 32 or ord(tok) == 127):
        return f"\\x{ord(tok):02x}"
    return tok if len(tok) <= 12 else tok[:11] + "…"


def token_label(tok: str) -> str:
    """``visible(tok)`` escaped for plotly, whose labels interpret a subset of HTML tags."""
    return html.escape(visible(tok))
