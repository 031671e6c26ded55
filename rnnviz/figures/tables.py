"""The headline charts' numbers as tables ("Show as a table", rnnviz.ui.charts.show_table): plain data in, a
pandas DataFrame out, one row per point the chart draws from. For students who read with a screen reader
or the keyboard, and for anyone who wants the exact value behind a bar."""

from __future__ import annotations

import numpy as np
import pandas as pd


def loss_table(steps, loss, smooth, val: list[tuple[int, float]] = (), smooth_name: str = "smoothed") -> pd.DataFrame:
    """The loss chart: step, each window's loss per token, its smoothed mean, and the held-out loss where
    it was measured (empty elsewhere). steps, loss, smooth: (n,); val: [(step, held-out loss)]."""
    steps = np.asarray(steps)
    df = pd.DataFrame({"step": steps.astype(np.int64), "loss per token (nats)": np.asarray(loss, dtype=float),
                       smooth_name: np.asarray(smooth, dtype=float)})
    if len(val):
        held = dict(val)
        df["held-out loss"] = [held.get(int(s), np.nan) for s in steps]
    return df


def reach_table(ratio, n_terms) -> pd.DataFrame:
    """The reach chart: for each distance d = 0 … T − 1, the fraction of a loss term's gradient left d steps
    back and how many loss terms the geometric mean is over. ratio, n_terms: (T,)."""
    ratio = np.asarray(ratio, dtype=float)
    return pd.DataFrame({"d (steps back)": np.arange(ratio.size), "fraction left": ratio,
                         "loss terms averaged": np.asarray(n_terms).astype(np.int64)})


def scores_table(series: dict) -> pd.DataFrame:
    """The race's scores: one row per evaluation step, one column per racer (the share of closing markers
    it got right, 0 … 1; empty where it was not scored). series: {label: (eval_steps (m,), accuracy (m,))}."""
    steps = sorted({int(s) for xs, _ in series.values() for s in np.asarray(xs)})
    df = pd.DataFrame({"race step": np.array(steps, dtype=np.int64)})
    for label, (xs, acc) in series.items():
        got = dict(zip((int(s) for s in np.asarray(xs)), np.asarray(acc, dtype=float), strict=True))
        df[f"{label}: right closing marker"] = [got.get(s, np.nan) for s in steps]
    return df
