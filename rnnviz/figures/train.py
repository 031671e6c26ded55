"""Figures of the Train page: loss curve, reach of a loss term's gradient, its history, norms per weight.

These are rebuilt on every Step click and play frame, so they are plain dict specs turned into
figures by ``fast_figure`` (see there why); tests validate every spec with plotly's full checks.
"""

from __future__ import annotations

import numpy as np

from rnnviz.figures.common import (
    ACCENT,
    CLIP_RED,
    SMOOTH,
    downsample,
    envelope,
    layout,
    tick_step,
    viridis,
)
from rnnviz.figures.palette import BASELINE, MUTED, text_colour

PARAMS = ("U", "W", "V", "b", "c")


def _arr(a) -> np.ndarray:
    """float64 array with ±∞ turned into NaN (a gap). Plotly sends arrays as compact binary
    (base64), much faster than lists of Python floats."""
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def loss_spec(steps, loss, smooth, baseline: float, clipped_steps=(), lr_change_steps=(), lr_values=(),
              smooth_name: str = "smoothed") -> dict:
    """Loss per token (raw, smoothed) over training steps, the untrained baseline ln V,
    red ticks where clipping fired and dotted lines where the learning rate was halved.
    smooth_name: the legend entry of the smoothed line, saying how it was smoothed."""
    steps = np.asarray(steps)
    data, shapes, notes = [], [], []
    if steps.size:
        x, y = envelope(steps, np.asarray(loss))
        # Markers while there are few steps: a line of one point draws nothing at all.
        data.append(dict(type="scatter", x=x, y=_arr(y), mode="lines+markers" if steps.size <= 30 else "lines",
                         marker=dict(size=5), name="loss (this window)",
                         line=dict(color=ACCENT, width=1), opacity=0.45,
                         hovertemplate="step %{x}<br>loss %{y:.3f} nats/token<extra></extra>"))
        xs, ys = downsample(steps, np.asarray(smooth))
        data.append(dict(type="scatter", x=xs, y=_arr(ys), mode="lines", name=smooth_name,
                         line=dict(color=SMOOTH, width=2.5), hovertemplate="step %{x}<br>smoothed %{y:.3f}<extra></extra>"))
        clipped = np.asarray(clipped_steps)
        if clipped.size:
            cx = downsample(clipped)[0]
            data.append(dict(type="scatter", x=cx, y=np.zeros(cx.size), mode="markers", name="clipping fired",
                             marker=dict(symbol="line-ns-open", size=10, color=CLIP_RED),
                             hovertemplate="clipped at step %{x}<extra></extra>"))
        for s, lr in zip(lr_change_steps, lr_values, strict=True):
            shapes.append(dict(type="line", x0=float(s), x1=float(s), y0=0, y1=1, yref="paper",
                               line=dict(color="#7f7f7f", dash="dot", width=1)))
            notes.append(dict(x=float(s), y=1, yref="paper", text=f"η→{lr:.2g}", showarrow=False, yanchor="bottom"))
    xaxis = dict(title=dict(text="training step"), rangemode="tozero")
    last = float(steps[-1]) if steps.size else 0.0
    if last <= 10:  # whole steps only: after one Step, plotly's own ticks read 0.2, 0.4, … "training steps"
        xaxis.update(range=[0, max(5.0, last) + 0.5], dtick=1)
    shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=baseline, y1=baseline,
                       line=dict(color=BASELINE, dash="dash", width=1.5)))
    notes.append(dict(x=0.01, xref="paper", y=baseline, text=f"untrained: ln V = {baseline:.2f}", showarrow=False,
                      xanchor="left", yanchor="bottom", font=dict(color=text_colour(BASELINE))))
    return dict(data=data, layout=layout(
        height=300, shapes=shapes, annotations=notes, showlegend=True,
        xaxis=xaxis,
        yaxis=dict(title=dict(text="loss (nats per token)"), rangemode="tozero"),
    ))


REACH_X_TITLE = "d = steps back from the loss term (0 = its own step)"


def reach_spec(ratio, n_terms, truncate: int | None = None) -> dict:
    """What is left of a loss term's gradient d steps back, for d = 0 … T − 1: bars on a log axis,
    coloured by height (dark: little left).

    ratio: (T,) geometric mean over t of ‖∂L_t/∂h_{t−d}‖ / ‖∂L_t/∂h_t‖ (rnnviz.vanish.reach_by_distance),
    1 at d = 0; n_terms: (T,) how many loss terms went into each bar. Vanishing: the bars fall to the
    right; exploding: they rise. truncate: k of truncated BPTT, marked by a dotted line after d = k
    when the window reaches past it."""
    v = _arr(ratio)
    T = v.size
    y = np.where(v > 0, v, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(y)
    fin = logs[np.isfinite(logs)]
    unit = (logs - fin.min()) / (fin.max() - fin.min()) if fin.size and fin.max() > fin.min() else np.ones(T)
    shapes, notes = [], []
    if truncate is not None and truncate < T - 1:
        shapes.append(dict(type="line", x0=truncate + 0.5, x1=truncate + 0.5, y0=0, y1=1, yref="paper",
                           line=dict(color="#555", dash="dot", width=1.5)))
        notes.append(dict(x=1, xref="paper", y=1, yref="paper", xanchor="right", yanchor="bottom", showarrow=False,
                          text=f"truncated BPTT: training uses d ≤ k = {truncate} only", font=dict(color="#555")))
    data = [dict(type="bar", x=np.arange(T), y=y, name="fraction left", customdata=np.asarray(n_terms),
                 marker=dict(color=viridis(unit)),
                 hovertemplate="d = %{x} steps back: %{y:.3g} × the loss term's gradient at its own step "
                               "(geometric mean over %{customdata} loss terms)<extra></extra>")]
    lay = layout(height=300, shapes=shapes, annotations=notes, showlegend=False, bargap=0.15,
                 xaxis=dict(title=dict(text=REACH_X_TITLE), showgrid=False, dtick=tick_step(T), range=[-0.5, T - 0.5]),
                 yaxis=dict(title=dict(text="fraction left (log scale)"), type="log", exponentformat="power"))
    lay["margin"]["t"] = 30 if notes else 10   # room for the note above the plot
    return dict(data=data, layout=lay)


def smoothing_window(n_steps: int) -> int:
    """How many steps the smoothed loss averages over: about 1/25 of the steps on the chart, at least
    5 and at most 500, so the line follows what is shown (an EMA of 0.999, min-char-rnn's, lags
    ~1,000 steps: more than a lecture shows)."""
    return int(min(500, max(5, round(n_steps / 25))))


def trailing_mean(steps, loss, window: int) -> np.ndarray:
    """For each row i, the mean loss over the rows with step in (steps[i] − window, steps[i]]: a
    moving average that starts exactly at the first step (no bias towards a start value) and counts
    steps, not rows, so thinned old history is averaged over the right stretch. Non-finite losses
    are left out. steps, loss: (n,), steps increasing."""
    steps = np.asarray(steps)
    loss = np.asarray(loss, dtype=float)
    if not steps.size:
        return np.zeros(0)
    ok = np.isfinite(loss)
    cs = np.concatenate([[0.0], np.cumsum(np.where(ok, loss, 0.0))])
    cn = np.concatenate([[0], np.cumsum(ok)])
    lo = np.searchsorted(steps, steps - window, side="right")
    hi = np.arange(1, steps.size + 1)
    n = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (cs[hi] - cs[lo]) / np.maximum(n, 1), np.nan)


EARLY_PEAK_STEPS = 300   # an early peak is only worth a sentence while the chart still shows the start
EARLY_PEAK_RATIO = 1.2   # ...and only if the loss rose clearly above ln V


def adagrad_early_peak_note(optimizer: str, steps, loss, baseline: float) -> str:
    """The sentence that explains Adagrad's early peak, or "" if the chart shows none.

    Adagrad's first update is η·sign(g) for every weight with a gradient (its sum of g² starts at g²):
    a big jump that often lifts the loss above ln V before it falls. Students ask, so the caption says
    so when the chart starts at step 1, ends by step EARLY_PEAK_STEPS, and the loss of the first 50
    steps rose above EARLY_PEAK_RATIO · ln V (the baseline). steps, loss: (n,) the history columns."""
    steps = np.asarray(steps)
    loss = np.asarray(loss, dtype=float)
    if optimizer != "adagrad" or not steps.size or steps[0] > 1 or steps[-1] > EARLY_PEAK_STEPS:
        return ""
    head = loss[:50]
    if not np.isfinite(head).any() or float(np.nanmax(head)) <= baseline * EARLY_PEAK_RATIO:
        return ""
    return ("The early peak above the dashed grey line is Adagrad's first steps at work: the very first moves every "
            "weight that has a gradient by about η (its running sum of g² starts at zero); later steps are "
            "smaller, and the loss falls.")


def recent_mean_loss(history, step_count: int) -> tuple[float, int]:
    """(the loss chart's smoothed line at the newest step, its span w): reads only the history's last
    w rows (this runs every play frame). NaN with no history."""
    w = smoothing_window(step_count)
    if not len(history):
        return float("nan"), w
    steps, loss = history.column("step")[-w:], history.column("loss")[-w:]
    return float(trailing_mean(steps, loss, w)[-1]), w


def dh_heatmap_spec(steps, M, log_scale: bool = True) -> dict:
    """Rows = training steps, columns = time steps t: how the gradient profile evolves."""
    M = np.asarray(M, dtype=float)
    data = []
    if M.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            Z = np.log10(np.where(M > 0, M, np.nan)) if log_scale else M
        data.append(dict(
            type="heatmap", z=_arr(Z), x=list(range(1, M.shape[1] + 1)),
            y=np.asarray(steps), colorscale="Viridis",
            colorbar=dict(title=dict(text="log₁₀ ‖∂L/∂h_t‖" if log_scale else "‖∂L/∂h_t‖", side="right")),
            hovertemplate="step %{y}, t = %{x}<br>" + ("log₁₀ norm %{z:.2f}" if log_scale else "norm %{z:.3g}")
                          + "<extra></extra>",
        ))
    # Rows are whole steps: with few of them plotly would label 0.5, 1.5, …; ask for whole numbers.
    yaxis = dict(title=dict(text="training step"), showgrid=False, tickformat="d")
    if 0 < len(steps) <= 10:
        yaxis.update(tickmode="array", tickvals=[int(s) for s in steps])
    return dict(data=data, layout=layout(
        height=300, xaxis=dict(title=dict(text="time step t in the window"), showgrid=False), yaxis=yaxis,
    ))


def _threshold_note(threshold: float) -> dict:
    """A short "c = 5" label on the threshold line, on a white ground so it stays legible over bars."""
    return dict(x=0.0, xref="paper", y=float(np.log10(threshold)), text=f"c = {threshold:g}", showarrow=False,
                xanchor="left", yanchor="bottom", font=dict(color=text_colour(CLIP_RED)), bgcolor="rgba(255,255,255,0.8)")


def grad_norms_spec(before: dict, after: dict, mode: str, threshold: float, max_abs: dict | None = None) -> dict:
    """‖∂L/∂θ‖ for each weight before and after clipping, and the whole gradient ("all"). before, after
    (and max_abs): {weight name: value} for the weights to draw, in any order (drawn in U, W, V, b, c order).

    In elementwise mode the threshold c bounds single entries, not norms: max_abs (the largest
    |entry| of each weight's gradient) is drawn as markers against the line c."""
    shown = [k for k in PARAMS if k in before]   # the weights the model has (the minGRU has no W)
    names = shown + ["all"]
    b = [float(before[k]) for k in shown]
    a = [float(after[k]) for k in shown]
    b.append(float(np.sqrt(np.sum(np.square(b)))))
    a.append(float(np.sqrt(np.sum(np.square(a)))))
    shapes, notes = [], []
    if mode == "norm":
        shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=threshold, y1=threshold,
                           line=dict(color=CLIP_RED, dash="dash")))
        notes.append(_threshold_note(threshold))
    data = [
        dict(type="bar", x=names, y=_arr(b), name="before clipping", marker=dict(color=MUTED),
             hovertemplate="‖d%{x}‖ before = %{y:.3g}<extra></extra>"),
        dict(type="bar", x=names, y=_arr(a), name="after clipping (used)", marker=dict(color=ACCENT),
             hovertemplate="‖d%{x}‖ after = %{y:.3g}<extra></extra>"),
    ]
    if mode == "elementwise" and max_abs:
        m = [float(max_abs[k]) for k in shown]
        data.append(dict(type="scatter", x=shown, y=_arr(m), mode="markers", name="largest |entry|",
                         marker=dict(symbol="diamond", size=11, color=CLIP_RED),
                         hovertemplate="largest |entry| of d%{x} = %{y:.3g}<extra></extra>"))
        shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=threshold, y1=threshold,
                           line=dict(color=CLIP_RED, dash="dot")))
        notes.append(_threshold_note(threshold))
    if mode in ("norm", "elementwise"):
        # What the line means goes in the legend: as a note on the plot it ran over the bars.
        what = "‖g‖ scaled down to c" if mode == "norm" else "entries cut to ±c"
        data.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=f"c = {threshold:g}: {what}",
                         line=dict(color=CLIP_RED, dash="dash" if mode == "norm" else "dot"), hoverinfo="skip"))
    return dict(data=data, layout=layout(
        height=300 if mode == "none" else 340, barmode="group", shapes=shapes, annotations=notes,  # room for the legend
        yaxis=dict(type="log", title=dict(text="gradient norm (log scale)"), exponentformat="power"),
        xaxis=dict(title=dict(text="weights (all = the whole gradient)")),
    ))


# The verdict under the reach chart (pages/train.py), styled once per page.
VERDICT_CSS = "<style>.rv-verdict{font-size:14px;margin:2px 0 0 60px}</style>"
