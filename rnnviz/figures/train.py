"""Figures of the Train page: loss curve, gradient per time step, its history, norms per weight."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnnviz.figures.common import ACCENT, CLIP_RED, SMOOTH, base_layout, downsample, envelope, token_label

PARAMS = ("U", "W", "V", "b", "c")


def loss_figure(steps, loss, smooth, baseline: float, clipped_steps=(), lr_change_steps=(), lr_values=()) -> go.Figure:
    """Loss per token (raw, smoothed) over training steps, the untrained baseline ln V,
    red ticks where clipping fired and dotted lines where the learning rate was halved."""
    fig = go.Figure()
    if len(steps):
        x, y = envelope(np.asarray(steps), np.asarray(loss))
        fig.add_trace(go.Scattergl(x=x, y=y, mode="lines", name="loss (this window)", line=dict(color=ACCENT, width=1),
                                   opacity=0.45, hovertemplate="step %{x}<br>loss %{y:.3f} nats/token<extra></extra>"))
        xs, ys = downsample(np.asarray(steps), np.asarray(smooth))
        fig.add_trace(go.Scattergl(x=xs, y=ys, mode="lines", name="smoothed", line=dict(color=SMOOTH, width=2.5),
                                   hovertemplate="step %{x}<br>smoothed %{y:.3f}<extra></extra>"))
        clipped = np.asarray(clipped_steps)
        if clipped.size:
            cx = downsample(clipped)[0]
            fig.add_trace(go.Scattergl(x=cx, y=np.full(cx.size, 0.0), mode="markers", name="clipping fired",
                                       marker=dict(symbol="line-ns-open", size=10, color=CLIP_RED),
                                       yaxis="y", hovertemplate="clipped at step %{x}<extra></extra>"))
        for s, lr in zip(lr_change_steps, lr_values, strict=True):
            fig.add_vline(x=s, line=dict(color="#7f7f7f", dash="dot", width=1),
                          annotation_text=f"η→{lr:.2g}", annotation_position="top")
    fig.add_hline(y=baseline, line=dict(color="#2ca02c", dash="dash", width=1.5),
                  annotation_text=f"untrained: ln V = {baseline:.2f}", annotation_position="top left")
    base_layout(fig, height=300)
    fig.update_xaxes(title_text="training step", rangemode="tozero")
    fig.update_yaxes(title_text="loss (nats per token)", rangemode="tozero")
    return fig


def dh_figure(dh_norms, input_tokens, log_scale: bool, truncate: int | None = None) -> go.Figure:
    """‖∂L/∂h_t‖ for each time step t of the window: where the gradient reaches, where it dies.

    dh_norms: (T,); input_tokens: T token strings (the x_t read at each step)."""
    v = np.asarray(dh_norms, dtype=float)
    T = v.size
    t = np.arange(1, T + 1)
    labels = [token_label(s) for s in input_tokens]
    fig = go.Figure(go.Bar(
        x=t, y=v, marker=dict(color=v, colorscale="Viridis", cmin=0, showscale=False),
        customdata=labels, hovertemplate="t = %{x} (input %{customdata})<br>‖∂L/∂h_t‖ = %{y:.3g}<extra></extra>",
    ))
    base_layout(fig, height=300)
    fig.update_xaxes(title_text="time step t in the window (1 = oldest, T = newest)", dtick=max(1, T // 20) if T > 25 else 1)
    if log_scale:
        fig.update_yaxes(type="log", title_text="‖∂L/∂h_t‖ (log scale)", exponentformat="power")
    else:
        fig.update_yaxes(title_text="‖∂L/∂h_t‖", rangemode="tozero")
    if truncate is not None and truncate < T - 1:
        fig.add_annotation(x=0, y=1.08, xref="paper", yref="paper", showarrow=False, xanchor="left",
                           text=f"truncated BPTT: each L_t reaches back at most k = {truncate} steps")
    return fig


def dh_heatmap(steps, M, log_scale: bool = True) -> go.Figure:
    """Rows = training steps, columns = time steps t: how the gradient profile evolves."""
    M = np.asarray(M, dtype=float)
    fig = go.Figure()
    if M.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            Z = np.log10(np.where(M > 0, M, np.nan)) if log_scale else M
        fig.add_trace(go.Heatmap(
            z=Z, x=np.arange(1, M.shape[1] + 1), y=np.asarray(steps), colorscale="Viridis",
            colorbar=dict(title=dict(text="log₁₀ ‖∂L/∂h_t‖" if log_scale else "‖∂L/∂h_t‖", side="right")),
            hovertemplate="step %{y}, t = %{x}<br>"
                          + ("log₁₀ norm %{z:.2f}" if log_scale else "norm %{z:.3g}") + "<extra></extra>",
        ))
    base_layout(fig, height=300)
    fig.update_xaxes(title_text="time step t in the window", showgrid=False)
    fig.update_yaxes(title_text="training step", showgrid=False)
    return fig


def grad_norms_figure(before: dict, after: dict, mode: str, threshold: float) -> go.Figure:
    """‖∂L/∂θ‖ for each weight before and after clipping, and the whole gradient ("all")."""
    names = list(PARAMS) + ["all"]
    b = [before[k] for k in PARAMS]
    a = [after[k] for k in PARAMS]
    b.append(float(np.sqrt(np.sum(np.square(b)))))
    a.append(float(np.sqrt(np.sum(np.square(a)))))
    fig = go.Figure([
        go.Bar(x=names, y=b, name="before clipping", marker_color="#9ecae1",
               hovertemplate="‖d%{x}‖ before = %{y:.3g}<extra></extra>"),
        go.Bar(x=names, y=a, name="after clipping (used)", marker_color=ACCENT,
               hovertemplate="‖d%{x}‖ after = %{y:.3g}<extra></extra>"),
    ])
    base_layout(fig, height=300, barmode="group")
    fig.update_yaxes(type="log", title_text="gradient norm (log scale)", exponentformat="power")
    fig.update_xaxes(title_text="weights (all = the whole gradient)")
    if mode == "norm":
        fig.add_hline(y=threshold, line=dict(color=CLIP_RED, dash="dash"),
                      annotation_text=f"c = {threshold:g}: the whole gradient is scaled down to this norm",
                      annotation_position="top left")
    return fig
