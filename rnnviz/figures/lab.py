"""Figures of the vanishing/exploding lab: gradient reach, its decay against ρ(W)^d, the
eigenvalues of W, tanh saturation, the twin run and the truncation sweep.

Plain dict specs turned into figures by ``fast_figure`` (as on the Train page): the twin run's
charts are rebuilt on every click. Tests validate every spec with plotly's full checks.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnnviz.figures.common import ACCENT, CLIP_RED, SMOOTH, downsample, envelope, fast_figure, layout
from rnnviz.figures.palette import BASELINE, LANES, text_colour
from rnnviz.vanish import ROUNDING

TWIN_A = SMOOTH
TWIN_B = ACCENT
SWEEP_LANES = {"W": LANES[0], "U": LANES[1], "b": LANES[2], "all": LANES[3]}   # colour, dash and marker differ
MAX_EIGS = 600    # eigenvalues drawn (H ≤ 512, so all of them in practice)
LEGEND_TOP_LEFT = dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0)


def _arr(a) -> np.ndarray:
    """float64 array with ±∞ turned into NaN (a gap)."""
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def _positive(a) -> np.ndarray:
    """For a log axis: values ≤ 0 (and ±∞) become gaps."""
    a = _arr(a)
    return np.where(a > 0, a, np.nan)


def _log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Integer powers of ten between lo and hi (log10 values), at most ~8 labels."""
    a, b = int(np.floor(lo)), int(np.ceil(hi))
    step = max(1, (b - a) // 8 + 1)
    vals = list(range(a, b + 1, step))
    return vals, ["1" if v == 0 else "10" if v == 1 else f"10<sup>{v}</sup>".replace("-", "−") for v in vals]


def _with_legend(lay: dict, legend: dict) -> dict:
    lay["legend"] = legend
    return lay


def reach_heatmap_spec(R) -> dict:
    """R[t, k] = ‖∂L_t/∂h_k‖ on a log colour scale; the empty upper triangle (k > t) is blank."""
    R = np.asarray(R, dtype=float)
    T = R.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        Z = np.log10(np.where(R > 0, R, np.nan))
    Z[np.triu_indices(T, 1)] = np.nan
    fin = Z[np.isfinite(Z)]
    lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (-1.0, 0.0)
    tv, tt = _log_ticks(lo, hi)
    steps = np.arange(1, T + 1)
    dtick = max(1, T // 10) if T > 25 else 1 if T <= 12 else 2
    return dict(data=[dict(
        type="heatmap", z=_arr(Z), x=steps, y=steps, colorscale="Viridis", zmin=lo, zmax=hi if hi > lo else lo + 1,
        colorbar=dict(title=dict(text="‖∂L<sub>t</sub>/∂h<sub>k</sub>‖", side="right"), tickvals=tv, ticktext=tt,
                      thickness=12),
        customdata=_arr(R), hovertemplate="loss term L<sub>%{y}</sub> → h<sub>%{x}</sub><br>"
                                          "‖∂L_t/∂h_k‖ = %{customdata:.3g}<extra></extra>",
    )], layout=layout(
        height=380,
        xaxis=dict(title=dict(text="k: the time step the gradient reaches"), showgrid=False, dtick=dtick),
        yaxis=dict(title=dict(text="t: the loss term L_t it comes from"), showgrid=False, dtick=dtick,
                   autorange="reversed"),
    ))


def reach_decay_spec(d, typical, low, high, rho: float, sigma_max: float, matrix: str = "W") -> dict:
    """How ‖∂L_t/∂h_{t−d}‖ / ‖∂L_t/∂h_t‖ changes with the distance d, against ρ(M)^d and σ_max(M)^d,
    M = matrix (the cell's ``spectrum_of``: W for the vanilla RNN, J̄ for a gated cell).

    d, typical, low, high: (n,) from rnnviz.spectrum.reach_decay. The reference lines are drawn
    only within a few decades of the data, so an exploding 2^200 does not squash the chart."""
    d = np.asarray(d, dtype=float)
    typ, low, high = _arr(typical), _arr(low), _arr(high)
    ok = np.isfinite(typ) & (typ > 0)
    data = []
    if ok.any():
        data.append(dict(type="scatter", x=np.r_[d[ok], d[ok][::-1]], y=np.r_[high[ok], low[ok][::-1]],
                         fill="toself", fillcolor="rgba(31,119,180,0.15)", line=dict(width=0),
                         name="10–90% of loss terms", hoverinfo="skip"))
        data.append(dict(type="scatter", x=d[ok], y=typ[ok], mode="lines+markers",
                         name="measured (geometric mean over t)", line=dict(color=ACCENT, width=2.5),
                         marker=dict(size=5), hovertemplate="t − k = %{x}: ratio %{y:.3g}<extra></extra>"))
        vals = np.r_[typ[ok], low[ok], high[ok]]
        vals = vals[np.isfinite(vals) & (vals > 0)]
        lo, hi = float(np.log10(vals.min())) - 2, float(np.log10(vals.max())) + 2
    else:
        lo, hi = -3.0, 1.0
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        for base, name, colour, dash in ((rho, f"ρ({matrix})", CLIP_RED, "dash"),
                                         (sigma_max, f"σ_max({matrix})", "#7f7f7f", "dot")):
            line = np.power(float(base), d)
            keep = (line > 10 ** lo) & (line < 10 ** hi)
            data.append(dict(type="scatter", x=d[keep], y=line[keep], mode="lines",
                             name=f"{name}^(t−k), {name} = {base:.3g}", line=dict(color=colour, width=2, dash=dash),
                             hovertemplate=f"{name}^%{{x}} = %{{y:.3g}}<extra></extra>"))
    return dict(data=data, layout=_with_legend(layout(
        height=380,
        xaxis=dict(title=dict(text="distance back in time, t − k (steps)"), rangemode="tozero"),
        yaxis=dict(type="log", title=dict(text="‖∂L_t/∂h_k‖ ÷ ‖∂L_t/∂h_t‖ (log)"), exponentformat="power",
                   range=[lo, hi]),
    ), dict(orientation="v", yanchor="top", y=0.99, xanchor="right", x=0.99, bgcolor="rgba(255,255,255,0.8)")))


def eigen_spec(eigenvalues, rho: float, matrix: str = "W") -> dict:
    """The eigenvalues of M = matrix in the complex plane, the unit circle, and the circle of radius ρ(M)."""
    ev = np.asarray(eigenvalues, dtype=complex)[:MAX_EIGS]
    theta = np.linspace(0, 2 * np.pi, 181)
    r = max(1.15, rho * 1.1, float(np.abs(ev).max()) * 1.1 if ev.size else 0.0)
    return dict(data=[
        dict(type="scatter", x=np.cos(theta), y=np.sin(theta), mode="lines", name="unit circle |λ| = 1",
             line=dict(color=BASELINE, width=2), hoverinfo="skip"),
        dict(type="scatter", x=rho * np.cos(theta), y=rho * np.sin(theta), mode="lines",
             name=f"|λ| = ρ({matrix}) = {rho:.3g}", line=dict(color=CLIP_RED, width=1.5, dash="dash"), hoverinfo="skip"),
        dict(type="scatter", x=ev.real, y=ev.imag, mode="markers", name=f"eigenvalues λ of {matrix}",
             marker=dict(size=7, color=ACCENT, opacity=0.8, line=dict(width=0.5, color="white")),
             customdata=np.abs(ev), hovertemplate="λ = %{x:.3f} %{y:+.3f}i<br>|λ| = %{customdata:.3f}<extra></extra>"),
    ], layout=_with_legend(layout(
        height=380,
        xaxis=dict(title=dict(text="real part Re λ"), range=[-r, r], zeroline=True, zerolinecolor="#ccc"),
        yaxis=dict(title=dict(text="imaginary part Im λ"), range=[-r, r], scaleanchor="x", scaleratio=1,
                   zeroline=True, zerolinecolor="#ccc"),
    ), LEGEND_TOP_LEFT))


def saturation_spec(hs, threshold: float = 0.95, bins: int = 20) -> dict:
    """Histogram of |h| over every unit and time step of the window (H·T values, bins on [0, 1])."""
    a = np.abs(np.asarray(hs, dtype=float)).ravel()
    counts, edges = np.histogram(a, bins=bins, range=(0.0, 1.0))
    share = 100.0 * counts / max(a.size, 1)
    mids = (edges[:-1] + edges[1:]) / 2
    return dict(data=[dict(
        type="bar", x=mids, y=share, width=(edges[1] - edges[0]) * 0.95,
        marker=dict(color=[CLIP_RED if m > threshold else ACCENT for m in mids]),
        customdata=np.stack([edges[:-1], edges[1:], counts], axis=1),
        hovertemplate="|h| in [%{customdata[0]:.2f}, %{customdata[1]:.2f}): %{customdata[2]:.0f} values, "
                      "%{y:.1f}%<extra></extra>",
    )], layout=layout(
        height=380,
        shapes=[dict(type="line", x0=threshold, x1=threshold, y0=0, y1=1, yref="paper",
                     line=dict(color=CLIP_RED, dash="dash", width=1.5))],
        annotations=[dict(x=threshold, y=1, yref="paper", xanchor="right", yanchor="top", showarrow=False,
                          text=f"|h| > {threshold:g}: tanh′ < 0.1 ", bgcolor="rgba(255,255,255,0.85)",
                          font=dict(color=text_colour(CLIP_RED)))],
        xaxis=dict(title=dict(text="|h| (size of a hidden unit's value; tanh saturates at 1)"), range=[0, 1.0]),
        yaxis=dict(title=dict(text="share of all H·T values (%)"), rangemode="tozero"),
    ))


def twin_metric_spec(step, a, b, label_a: str, label_b: str, y_title: str, log: bool = False,
                     hline: float | None = None, hline_text: str = "") -> dict:
    """One per-step metric of both twins on one chart (A orange, B blue), downsampled keeping spikes."""
    data = []
    for ys, label, colour in ((a, label_a, TWIN_A), (b, label_b, TWIN_B)):
        x, y = envelope(np.asarray(step), _positive(ys) if log else _arr(ys))
        data.append(dict(type="scatter", x=x, y=_arr(y), mode="lines+markers" if len(x) <= 60 else "lines", name=label,
                         line=dict(color=colour, width=2), marker=dict(size=5),
                         hovertemplate="step %{x}: %{y:.4g}<extra>" + label + "</extra>"))
    shapes, notes = [], []
    if hline is not None:
        shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=hline, y1=hline,
                           line=dict(color=BASELINE, dash="dash", width=1.5)))
        notes.append(dict(x=0.01, xref="paper", y=hline, xanchor="left", yanchor="top", text=hline_text,
                          showarrow=False, font=dict(color=text_colour(BASELINE))))
    yaxis = (dict(type="log", title=dict(text=y_title), exponentformat="power") if log
             else dict(title=dict(text=y_title)))
    return dict(data=data, layout=_with_legend(layout(
        height=320, shapes=shapes, annotations=notes,
        xaxis=dict(title=dict(text="twin step"), rangemode="tozero"), yaxis=yaxis), LEGEND_TOP_LEFT))


def twin_spectrum_spec(series_a: dict, series_b: dict, label_a: str, label_b: str,
                       x_title: str = "twin step (0 = start)", matrix: str = "W") -> dict:
    """ρ(W) (solid) and σ_max(W) (dotted) of both twins over twin steps, with the line 1. Log axis:
    one twin's W can grow a thousandfold while the other's stays near 1."""
    data = []
    for s, label, colour in ((series_a, label_a, TWIN_A), (series_b, label_b, TWIN_B)):
        if not len(s["spec_steps"]):
            continue
        x, rho, sig = downsample(s["spec_steps"], s["rho"], s["sigma_max"])
        data.append(dict(type="scatter", x=x, y=_positive(rho), mode="lines+markers", name=f"ρ({matrix}): {label}",
                         line=dict(color=colour, width=2), marker=dict(size=5),
                         hovertemplate="step %{x}: ρ = %{y:.4g}<extra></extra>"))
        data.append(dict(type="scatter", x=x, y=_positive(sig), mode="lines", name=f"σ_max({matrix}): {label}",
                         line=dict(color=colour, width=1.5, dash="dot"),
                         hovertemplate="step %{x}: σ_max = %{y:.4g}<extra></extra>"))
    return dict(data=data, layout=_with_legend(layout(
        height=320,
        shapes=[dict(type="line", x0=0, x1=1, xref="paper", y0=1.0, y1=1.0,
                     line=dict(color=BASELINE, dash="dash", width=1.5))],
        annotations=[dict(x=0.99, xref="paper", y=0.0, xanchor="right", yanchor="bottom", showarrow=False,
                          text="1: the edge between vanishing and exploding", font=dict(color=text_colour(BASELINE)))],
        xaxis=dict(title=dict(text=x_title), rangemode="tozero"),
        yaxis=dict(type="log", title=dict(text=f"ρ({matrix}) and σ_max({matrix}) (log)"), exponentformat="power"),
    ), LEGEND_TOP_LEFT))


def spectrum_history_spec(steps, rho, sigma_max, matrix: str = "W") -> dict:
    """ρ(M) and σ_max(M) of the model over training steps (a sparse log), with the line 1 (M = matrix)."""
    return twin_spectrum_spec({"spec_steps": np.asarray(steps), "rho": np.asarray(rho), "sigma_max": np.asarray(sigma_max)},
                              {"spec_steps": np.zeros(0), "rho": np.zeros(0), "sigma_max": np.zeros(0)},
                              "this model", "", x_title="training step", matrix=matrix)


def sweep_spec(ks, rel_error: dict, current_k: int | None) -> dict:
    """Relative error ‖g_k − g‖ / ‖g‖ of the truncated gradient for every k, per parameter.

    rel_error: {"W", "U", "b", "all": (T,)}. Zeros (k = T − 1 is exact) and rounding-level values
    (a term that is exactly zero, e.g. δ h_0ᵀ with h_0 = 0, leaves ~1e-16) are left off the log axis."""
    ks = np.asarray(ks)
    data = []
    for name in [n for n in ("W", "U", "b", "all") if n in rel_error]:   # a cell without W has no dW line
        e = _arr(rel_error[name])
        label = "all weights" if name == "all" else f"d{name}"
        lane = SWEEP_LANES[name]
        data.append(dict(type="scatter", x=ks, y=np.where(e > ROUNDING, e, np.nan),
                         mode="lines+markers" if ks.size <= 60 else "lines", name=label,
                         line=dict(color=lane.colour, width=3 if name == "all" else 1.8, dash=lane.dash),
                         marker=dict(size=6, symbol=lane.symbol),
                         hovertemplate="k = %{x}: relative error %{y:.3g}<extra>" + label + "</extra>"))
    shapes, notes = [], []
    if current_k is not None:
        shapes.append(dict(type="line", x0=current_k, x1=current_k, y0=0, y1=1, yref="paper",
                           line=dict(color=CLIP_RED, dash="dash", width=2)))
        notes.append(dict(x=current_k, y=1, yref="paper", xanchor="left", yanchor="top", showarrow=False,
                          text=f" trainer's k = {current_k}", font=dict(color=text_colour(CLIP_RED))))
    return dict(data=data, layout=_with_legend(layout(
        height=340, shapes=shapes, annotations=notes,
        xaxis=dict(title=dict(text="truncation length k (steps each L_t may reach back; T − 1 = full BPTT)"),
                   rangemode="tozero"),
        yaxis=dict(type="log", title=dict(text="‖g_k − g‖ ÷ ‖g‖ (log)"), exponentformat="power"),
    ), LEGEND_TOP_LEFT))


def reach_heatmap(*a, **k) -> go.Figure:
    return fast_figure(reach_heatmap_spec(*a, **k))


def reach_decay_figure(*a, **k) -> go.Figure:
    return fast_figure(reach_decay_spec(*a, **k))


def eigen_figure(*a, **k) -> go.Figure:
    return fast_figure(eigen_spec(*a, **k))


def saturation_figure(*a, **k) -> go.Figure:
    return fast_figure(saturation_spec(*a, **k))


def twin_metric_figure(*a, **k) -> go.Figure:
    return fast_figure(twin_metric_spec(*a, **k))


def twin_spectrum_figure(*a, **k) -> go.Figure:
    return fast_figure(twin_spectrum_spec(*a, **k))


def spectrum_history_figure(*a, **k) -> go.Figure:
    return fast_figure(spectrum_history_spec(*a, **k))


def sweep_figure(*a, **k) -> go.Figure:
    return fast_figure(sweep_spec(*a, **k))
