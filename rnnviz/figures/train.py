"""Figures of the Train page: loss curve, gradient per time step, its history, norms per weight.

These are rebuilt on every Step click and play frame, so they are plain dict specs turned into
figures by ``fast_figure`` (see there why); tests validate every spec with plotly's full checks.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnnviz.figures.common import ACCENT, CLIP_RED, SMOOTH, downsample, envelope, fast_figure, layout, visible
from rnnviz.figures.htmlbars import bar_html, tick_step

PARAMS = ("U", "W", "V", "b", "c")


def _arr(a) -> np.ndarray:
    """float64 array with ±∞ turned into NaN (a gap). Plotly sends arrays as compact binary
    (base64), much faster than lists of Python floats."""
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def loss_spec(steps, loss, smooth, baseline: float, clipped_steps=(), lr_change_steps=(), lr_values=()) -> dict:
    """Loss per token (raw, smoothed) over training steps, the untrained baseline ln V,
    red ticks where clipping fired and dotted lines where the learning rate was halved."""
    steps = np.asarray(steps)
    data, shapes, notes = [], [], []
    if steps.size:
        x, y = envelope(steps, np.asarray(loss))
        data.append(dict(type="scatter", x=x, y=_arr(y), mode="lines", name="loss (this window)",
                         line=dict(color=ACCENT, width=1), opacity=0.45,
                         hovertemplate="step %{x}<br>loss %{y:.3f} nats/token<extra></extra>"))
        xs, ys = downsample(steps, np.asarray(smooth))
        data.append(dict(type="scatter", x=xs, y=_arr(ys), mode="lines", name="smoothed",
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
    shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=baseline, y1=baseline,
                       line=dict(color="#2ca02c", dash="dash", width=1.5)))
    notes.append(dict(x=0.01, xref="paper", y=baseline, text=f"untrained: ln V = {baseline:.2f}", showarrow=False,
                      xanchor="left", yanchor="bottom", font=dict(color="#2ca02c")))
    return dict(data=data, layout=layout(
        height=300, shapes=shapes, annotations=notes,
        xaxis=dict(title=dict(text="training step"), rangemode="tozero"),
        yaxis=dict(title=dict(text="loss (nats per token)"), rangemode="tozero"),
    ))


def dh_html(dh_norms, input_tokens, log_scale: bool, truncate: int | None = None, *, css: bool = True) -> str:
    """‖∂L/∂h_t‖ for each time step t of the window, as an HTML bar chart (see rnnviz.figures.htmlbars
    for why this one chart is not plotly): where the gradient reaches, where it dies.

    dh_norms: (T,); input_tokens: T token strings (the x_t read at each step), shown on hover."""
    v = np.asarray(dh_norms, dtype=float)
    T = v.size
    hover = [f"t = {t} (input {visible(tok)}): ‖∂L/∂h_t‖ = {x:.3g}"
             for t, (tok, x) in enumerate(zip(input_tokens, v, strict=True), 1)]
    note = (f"truncated BPTT: each L_t reaches back at most k = {truncate} steps"
            if truncate is not None and truncate < T - 1 else "")
    return bar_html(v, [str(t) for t in range(1, T + 1)], hover, log=log_scale,
                    x_title="time step t in the window (1 = oldest, T = newest)",
                    y_title="‖∂L/∂h_t‖ (log scale)" if log_scale else "‖∂L/∂h_t‖", note=note,
                    label_every=tick_step(T), css=css)


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
    return dict(data=data, layout=layout(
        height=300, xaxis=dict(title=dict(text="time step t in the window"), showgrid=False),
        yaxis=dict(title=dict(text="training step"), showgrid=False),
    ))


def _threshold_note(threshold: float) -> dict:
    """A short "c = 5" label on the threshold line, on a white ground so it stays legible over bars."""
    return dict(x=0.0, xref="paper", y=float(np.log10(threshold)), text=f"c = {threshold:g}", showarrow=False,
                xanchor="left", yanchor="bottom", font=dict(color=CLIP_RED), bgcolor="rgba(255,255,255,0.8)")


def grad_norms_spec(before: dict, after: dict, mode: str, threshold: float, max_abs: dict | None = None) -> dict:
    """‖∂L/∂θ‖ for each weight before and after clipping, and the whole gradient ("all").

    In elementwise mode the threshold c bounds single entries, not norms: max_abs (the largest
    |entry| of each weight's gradient) is drawn as markers against the line c."""
    names = list(PARAMS) + ["all"]
    b = [float(before[k]) for k in PARAMS]
    a = [float(after[k]) for k in PARAMS]
    b.append(float(np.sqrt(np.sum(np.square(b)))))
    a.append(float(np.sqrt(np.sum(np.square(a)))))
    shapes, notes = [], []
    if mode == "norm":
        shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=threshold, y1=threshold,
                           line=dict(color=CLIP_RED, dash="dash")))
        notes.append(_threshold_note(threshold))
    data = [
        dict(type="bar", x=names, y=_arr(b), name="before clipping", marker=dict(color="#9ecae1"),
             hovertemplate="‖d%{x}‖ before = %{y:.3g}<extra></extra>"),
        dict(type="bar", x=names, y=_arr(a), name="after clipping (used)", marker=dict(color=ACCENT),
             hovertemplate="‖d%{x}‖ after = %{y:.3g}<extra></extra>"),
    ]
    if mode == "elementwise" and max_abs:
        m = [float(max_abs[k]) for k in PARAMS]
        data.append(dict(type="scatter", x=list(PARAMS), y=_arr(m), mode="markers", name="largest |entry|",
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


def loss_figure(*a, **k) -> go.Figure:
    return fast_figure(loss_spec(*a, **k))


def dh_heatmap(*a, **k) -> go.Figure:
    return fast_figure(dh_heatmap_spec(*a, **k))


def grad_norms_figure(*a, **k) -> go.Figure:
    return fast_figure(grad_norms_spec(*a, **k))
