"""Figures of the Generate page: which hidden units light up where in a text.

Plain data in, plotly figure out. hs is always (H, n): column t is the hidden state after
reading token t, each value a tanh output in [−1, 1]. As on the Train page, the figure is a
plain dict spec turned into a figure by ``fast_figure`` (plotly's validation of a 64×300
heatmap with per-cell hover labels costs ~150 ms); tests validate the spec in full.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from rnnviz.figures.common import fast_figure, layout, token_label, visible
from rnnviz.figures.tokens import ACTIVATION_STOPS

MAX_UNITS = 64          # rows: more than this and a row is thinner than its label
MAX_COLUMNS = 300       # tokens: the page states the cap (rnnviz.generation.MAX_ANALYSE_TOKENS)
VISIBLE_COLUMNS = 100   # shown at first; drag sideways to see the rest
ROW_PX = 16
ORDERS = ("variance", "slow", "index")

# The strip's orange–white–blue stops, rescaled from h ∈ [−1, 1] to plotly's [0, 1].
COLORSCALE = [[(v + 1) / 2, f"rgb{c}"] for v, c in ACTIVATION_STOPS]


def unit_scores(hs, order: str = "variance") -> np.ndarray:
    """(H,) how interesting each unit is, higher first.

    variance: how much the unit's value changes over the text.
    slow: lag-1 autocorrelation corr(h_t, h_{t+1}): a unit that holds its value for many tokens
    and then switches (a memory: inside a quote or not) scores near 1; one that flips at every
    token scores near −1. Units that barely move (variance < 1e-3) score −∞: nothing to see."""
    hs = np.asarray(hs, dtype=float)
    var = hs.var(axis=1)
    if order == "variance":
        return var
    if order != "slow":
        raise ValueError(f"order must be one of {', '.join(ORDERS)} (got {order!r})")
    if hs.shape[1] < 3:
        return var
    d = hs - hs.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ac = (d[:, 1:] * d[:, :-1]).mean(axis=1) / var
    return np.where(var > 1e-3, ac, -np.inf)


def pick_units(hs, n: int, order: str = "variance") -> np.ndarray:
    """(min(n, H, MAX_UNITS),) unit indices: the highest-scoring units first (ties by index),
    or units 0, 1, 2, … for order "index"."""
    hs = np.asarray(hs, dtype=float)
    n = max(0, min(int(n), hs.shape[0], MAX_UNITS))
    if order == "index" or hs.shape[1] == 0:
        return np.arange(n)
    return np.argsort(-unit_scores(hs, order), kind="stable")[:n]


def _label(tok: str) -> str:
    return token_label(tok)  # escaped for plotly's HTML subset, quotes as numeric entities


def heatmap_spec(hs, units, tokens: list[str], *, visible_columns: int = VISIBLE_COLUMNS, part: str = "h",
                 scale: float = 1.0) -> dict:
    """Rows = the chosen hidden units (in the order given, first on top), columns = the tokens
    read, colour = h in [−1, 1] (orange −1, white 0, blue +1). At most MAX_COLUMNS tokens are drawn.

    hs: (H, n); units: (N,) row indices into hs (the first MAX_UNITS are used); tokens: n strings.
    part, scale: the state part shown (h, or the LSTM's c) and the colour range ±scale (c is not
    bounded by 1)."""
    scale = float(scale) if np.isfinite(scale) and scale > 0 else 1.0
    hs = np.asarray(hs, dtype=float)
    units = np.asarray(units, dtype=int).reshape(-1)[:MAX_UNITS]
    if hs.ndim != 2 or hs.shape[1] != len(tokens):
        raise ValueError(f"hs must be (H, n) with n = {len(tokens)} tokens (got shape {hs.shape})")
    n = min(len(tokens), MAX_COLUMNS)
    labels = [_label(t) for t in tokens[:n]]
    rows = [f"unit {u}" for u in units]
    # Long labels (words) are turned so neighbours do not overlap; single characters stay upright.
    long_labels = any(len(visible(t)) > 2 for t in tokens[:n])
    heat = dict(
        type="heatmap", z=hs[units, :n], x=np.arange(n), y=rows, zmin=-scale, zmax=scale, zmid=0,
        colorscale=COLORSCALE, customdata=[labels] * len(rows), xgap=0.5, ygap=0.5,
        colorbar=dict(title=dict(text=f"{html.escape(part)}  (−{scale:g} … +{scale:g})", side="right"),
                      tickvals=[-scale, -scale / 2, 0, scale / 2, scale], thickness=14),
        hovertemplate="%{y} after token %{x}: %{customdata}<br>" + html.escape(part) + " = %{z:+.2f}<extra></extra>",
    )
    return dict(data=[heat], layout=layout(
        height=110 + ROW_PX * max(len(rows), 4) + (40 if long_labels else 0), dragmode="pan",
        xaxis=dict(title=dict(text="token read, left to right" + ("  (drag sideways to scroll)" if n > visible_columns
                                                                  else "")),
                   tickmode="array", tickvals=np.arange(n), ticktext=labels, tickangle=-60 if long_labels else 0,
                   tickfont=dict(size=11, family="ui-monospace, Menlo, Consolas, monospace"),
                   range=[-0.5, min(n, visible_columns) - 0.5], showgrid=False, ticks=""),
        yaxis=dict(title=dict(text="hidden unit"), autorange="reversed", fixedrange=True, showgrid=False, ticks=""),
    ))


def hidden_heatmap(hs, units, tokens: list[str], *, visible_columns: int = VISIBLE_COLUMNS, part: str = "h",
                   scale: float = 1.0) -> go.Figure:
    """The figure of ``heatmap_spec`` (same arguments)."""
    return fast_figure(heatmap_spec(hs, units, tokens, visible_columns=visible_columns, part=part, scale=scale))
