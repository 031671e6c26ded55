"""Figures for the cells: gates, the state path (h and the LSTM's c), the local Jacobian, the race.

Plain data in, plotly figure out. Names, labels and equations come from the caller (the cell
object); nothing here branches on a cell's name. Every ``*_caption`` reads the numbers it is
given aloud: no canned text says what a chart shows.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go

from rnnviz.figures.common import ACCENT, CLIP_RED, SMOOTH, downsample, fast_figure, layout
from rnnviz.figures.palette import LANES, LINES

PALETTE = LINES   # by position, never by name: the race's lanes (rnnviz.figures.palette.LANES), gates, state parts
PART_DASH = ("solid", "dash", "dot")


def _arr(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def _sub(name: str) -> str:
    """A gate or state part name as "f<sub>t</sub>" (escaped)."""
    return f"{html.escape(str(name))}<sub>t</sub>"


# ---------------------------------------------------------------------- gates
def gates_spec(gates: dict, height: int = 240) -> dict:
    """The mean activation (over units) of each gate at every time step t = 1..T, on [0, 1].

    gates: {gate name: (T,) mean activation} (a cell's ``diagnostics()["gates"]``)."""
    data = []
    for i, (name, g) in enumerate(gates.items()):
        g = _arr(g)
        t = np.arange(1, g.size + 1)
        lane = LANES[i % len(LANES)]   # colour, dash and marker: a gate is found by any of them
        data.append(dict(type="scatter", x=t, y=g, mode="lines+markers", name=f"mean {_sub(name)}",
                         line=dict(color=lane.colour, width=2, dash=lane.dash), marker=dict(size=6, symbol=lane.symbol),
                         hovertemplate=f"t = %{{x}}: mean {html.escape(str(name))} = %{{y:.3f}}<extra></extra>"))
    return dict(data=data, layout=layout(
        height=height,
        xaxis=dict(title=dict(text="time step t in the window")),
        yaxis=dict(title=dict(text="mean gate activation"), range=[0, 1.02]),
    ))


def gates_caption(gates: dict) -> str:
    """One clause per gate: its mean over the window and where it was lowest and highest."""
    parts = []
    for name, g in gates.items():
        g = _arr(g)
        if not np.isfinite(g).any():
            continue
        lo, hi = int(np.nanargmin(g)), int(np.nanargmax(g))
        parts.append(f"{name}: mean {np.nanmean(g):.2f} (lowest {g[lo]:.2f} at t = {lo + 1}, "
                     f"highest {g[hi]:.2f} at t = {hi + 1})")
    return "Gate means over the window — " + "; ".join(parts) + "." if parts else ""


# ---------------------------------------------------------------------- the state path (h, c)
def state_grads_spec(norms: dict, log_scale: bool = True, height: int = 280) -> dict:
    """‖∂L/∂s_t‖ per time step for each part of the state: h (and the LSTM's c), total gradients.

    norms: {part name: (T,)} (LossResult.state_grad_norms)."""
    data = []
    for i, (part, v) in enumerate(norms.items()):
        v = _arr(v)
        t = np.arange(1, v.size + 1)
        y = np.where(v > 0, v, np.nan) if log_scale else v
        data.append(dict(type="scatter", x=t, y=y, mode="lines+markers", name=f"‖∂L/∂{_sub(part)}‖",
                         line=dict(color=PALETTE[i % len(PALETTE)], width=2.5, dash=PART_DASH[i % len(PART_DASH)]),
                         marker=dict(size=5),
                         hovertemplate=f"t = %{{x}}: ‖∂L/∂{html.escape(str(part))}_t‖ = %{{y:.3g}}<extra></extra>"))
    return dict(data=data, layout=layout(
        height=height,
        xaxis=dict(title=dict(text="time step t in the window")),
        yaxis=dict(title=dict(text="total gradient at the node" + (" (log)" if log_scale else "")),
                   type="log" if log_scale else "linear", exponentformat="power"),
    ))


def state_grads_caption(norms: dict) -> str:
    """Reads the chart: each part's gradient at the window's first and last step."""
    parts = []
    for part, v in norms.items():
        v = _arr(v)
        if v.size == 0 or not np.isfinite(v).all():
            continue
        parts.append(f"‖∂L/∂{part}_1‖ = {v[0]:.3g} and ‖∂L/∂{part}_{v.size}‖ = {v[-1]:.3g}")
    return ("Total gradient at each state node, own loss term plus all that the future sends back: "
            + "; ".join(parts) + ".") if parts else ""


def reach_parts_spec(decays: dict, height: int = 320) -> dict:
    """The typical reach ‖∂L_t/∂s_{t−d}‖ ÷ ‖∂L_t/∂h_t‖ against the distance d, one line per state part.

    decays: {part name: (d (n,), typical (n,))}, typical = geometric mean over loss terms t."""
    data = []
    for i, (part, (d, typ)) in enumerate(decays.items()):
        d, typ = np.asarray(d, dtype=float), _arr(typ)
        ok = np.isfinite(typ) & (typ > 0)
        data.append(dict(type="scatter", x=d[ok], y=typ[ok], mode="lines+markers", name=f"through {_sub(part)}",
                         line=dict(color=PALETTE[i % len(PALETTE)], width=2.5, dash=PART_DASH[i % len(PART_DASH)]),
                         marker=dict(size=4),
                         hovertemplate=f"d = %{{x}}: ‖∂L_t/∂{html.escape(str(part))}_(t−d)‖ ratio %{{y:.3g}}"
                                       "<extra></extra>"))
    return dict(data=data, layout=layout(
        height=height,
        xaxis=dict(title=dict(text="distance back in time, d = t − k (steps)"), rangemode="tozero"),
        yaxis=dict(type="log", title=dict(text="reach ÷ ‖∂L_t/∂h_t‖ (log)"), exponentformat="power"),
    ))


def reach_parts_caption(decays: dict) -> str:
    """For each part: the typical reach at the farthest distance measured, and the distance at
    which it first falls below 1% of the loss term's gradient at its own step."""
    parts = []
    for part, (d, typ) in decays.items():
        d, typ = np.asarray(d), _arr(typ)
        ok = np.flatnonzero(np.isfinite(typ) & (typ > 0))
        if ok.size < 2:
            continue
        far = ok[-1]
        below = ok[typ[ok] < 0.01]
        when = (f"falls below 1% at d = {int(d[below[0]])}" if below.size
                else "stays above 1% over the whole window")
        parts.append(f"through {part}: {typ[far]:.2g} at d = {int(d[far])}, {when}")
    return ("Typical reach of one loss term, relative to its gradient at its own step — "
            + "; ".join(parts) + ".") if parts else ""


# ---------------------------------------------------------------------- the local Jacobian
def jacobian_sv_spec(sv, height: int = 320) -> dict:
    """The singular values of J_t = ∂s_t/∂s_{t−1} at each t: largest, median and smallest, the
    band between them, and the line 1 (above it J_t stretches some direction, below it shrinks all).

    sv: (T, S) singular values, largest first."""
    sv = _arr(sv)
    T = sv.shape[0]
    t = np.arange(1, T + 1)
    top, mid, low = sv[:, 0], np.median(sv, axis=1), sv[:, -1]
    data = [
        dict(type="scatter", x=np.r_[t, t[::-1]], y=np.r_[top, low[::-1]], fill="toself",
             fillcolor="rgba(31,119,180,0.12)", line=dict(width=0), name="all singular values", hoverinfo="skip"),
        dict(type="scatter", x=t, y=top, mode="lines+markers", name="σ<sub>max</sub>(J<sub>t</sub>)",
             line=dict(color=ACCENT, width=2.5), marker=dict(size=4),
             hovertemplate="t = %{x}: σ_max = %{y:.3g}<extra></extra>"),
        dict(type="scatter", x=t, y=mid, mode="lines", name="median σ(J<sub>t</sub>)",
             line=dict(color=SMOOTH, width=2, dash="dash"), hovertemplate="t = %{x}: median σ = %{y:.3g}<extra></extra>"),
        dict(type="scatter", x=[0.5, T + 0.5], y=[1, 1], mode="lines", name="1", line=dict(color=CLIP_RED, dash="dot"),
             hoverinfo="skip"),
    ]
    # The axis holds the two lines (σ_max and the median), however small: once units saturate, the
    # median falls to 1e−100 and below (tanh′ underflows), and an axis cut at 1e−6 left its line off
    # the chart while the caption named its value. The band may run below the axis (the smallest σ
    # can be 0).
    lines = np.r_[top, mid]
    pos = lines[lines > 0] if (lines > 0).any() else sv[sv > 0]
    lo = math.log10(max(float(pos.min()), 1e-300)) - 0.2 if pos.size else -3.0
    hi = math.log10(max(float(pos.max()), 1.0)) + 0.2 if pos.size else 1.0
    return dict(data=data, layout=layout(
        height=height,
        xaxis=dict(title=dict(text="time step t in the window")),
        yaxis=dict(type="log", title=dict(text="singular values of ∂s_t/∂s_{t−1} (log)"), exponentformat="power",
                   range=[lo, max(hi, 0.2)], automargin=True),   # room for long labels such as 10⁻¹¹²
    ))


def jacobian_sv_caption(sv, state_parts=("h",)) -> str:
    """How many steps stretch (σ_max > 1), the range of σ_max, and Π σ_max over the window."""
    sv = _arr(sv)
    if sv.size == 0 or not np.isfinite(sv).all():
        return ""
    top = sv[:, 0]
    T = top.size
    with np.errstate(divide="ignore"):
        log_prod = float(np.sum(np.log10(np.maximum(top, 1e-300))))
    state = "(" + ", ".join(state_parts) + ")" if len(state_parts) > 1 else state_parts[0]
    return (f"The state {state} has {sv.shape[1]} numbers, so each J_t is {sv.shape[1]}×{sv.shape[1]}. "
            f"σ_max(J_t) ranges from {top.min():.3g} to {top.max():.3g}; it exceeds 1 at {int(np.sum(top > 1))} "
            f"of {T} steps. Their product, an upper bound on how much a gradient can grow over the "
            f"whole window, is 10^{log_prod:.1f}; the median singular value is {np.median(sv):.3g}.")


# ---------------------------------------------------------------------- the race
def race_loss_spec(series: dict, baseline: float | None = None, height: int = 300) -> dict:
    """Loss per token of each racer over race steps. series: {label: (steps (n,), loss (n,))}."""
    data = []
    for i, (label, (steps, loss)) in enumerate(series.items()):
        x, y = downsample(np.asarray(steps), _arr(loss))
        data.append(dict(type="scatter", x=x, y=_arr(y), mode="lines", name=html.escape(str(label)),
                         line=dict(color=PALETTE[i % len(PALETTE)], width=2),
                         hovertemplate=f"{html.escape(str(label))}, step %{{x}}: %{{y:.3f}} nats/token<extra></extra>"))
    if baseline is not None and data:
        xs = [s for _, (steps, _l) in series.items() for s in (np.asarray(steps)[:1].tolist() + np.asarray(steps)[-1:].tolist())]
        if xs:
            data.append(dict(type="scatter", x=[min(xs), max(xs)], y=[baseline, baseline], mode="lines",
                             name="untrained ln V", line=dict(color="#999", dash="dot"), hoverinfo="skip"))
    return dict(data=data, layout=layout(
        height=height,
        xaxis=dict(title=dict(text="race step")),
        yaxis=dict(title=dict(text="loss per token (nats)"), rangemode="tozero"),
    ))


def race_accuracy_spec(series: dict, chance: float, height: int = 300) -> dict:
    """Right closing marker (fraction) of each racer at its evaluations, with the chance line.

    series: {label: (eval_steps (m,), accuracy (m,))}."""
    data, last = [], 0
    for i, (label, (steps, acc)) in enumerate(series.items()):
        steps = np.asarray(steps)
        last = max(last, int(steps[-1]) if steps.size else 0)
        data.append(dict(type="scatter", x=steps, y=_arr(acc), mode="lines+markers", name=html.escape(str(label)),
                         line=dict(color=PALETTE[i % len(PALETTE)], width=2.5), marker=dict(size=5),
                         hovertemplate=f"{html.escape(str(label))}, step %{{x}}: %{{y:.0%}} right<extra></extra>"))
    if math.isfinite(chance):
        data.append(dict(type="scatter", x=[0, max(last, 1)], y=[chance, chance], mode="lines",
                         name=f"chance ({chance:.0%})", line=dict(color=CLIP_RED, dash="dot"), hoverinfo="skip"))
    return dict(data=data, layout=layout(
        height=height,
        xaxis=dict(title=dict(text="race step"), rangemode="tozero"),
        yaxis=dict(title=dict(text="right closing marker"), range=[0, 1.05], tickformat=".0%"),
    ))


def race_reach_spec(matrices: dict, height: int = 330, parts: dict | None = None) -> dict:
    """The reach matrices R[t, k] = ‖∂L_t/∂s_k‖ side by side, one log colour scale shared by all.

    matrices: {label: (T, T)}; the empty upper triangle (k > t) is blank. parts: {label: the state
    part s the matrix reaches ("h" unless given; the LSTM's cell state is "c")}."""
    parts = parts or {}
    labels = list(matrices)
    n = max(len(labels), 1)
    Zs = []
    for R in matrices.values():
        R = np.asarray(R, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            Z = np.log10(np.where(R > 0, R, np.nan))
        Z[np.triu_indices(R.shape[0], 1)] = np.nan
        Zs.append(Z)
    fin = np.concatenate([Z[np.isfinite(Z)] for Z in Zs]) if Zs else np.zeros(0)
    lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (-1.0, 0.0)
    lo = max(lo, hi - 12)   # twelve decades are as many as a colour scale can show
    gap = 0.04
    width = (1 - gap * (n - 1)) / n
    data, lay = [], layout(height=height)
    lay["margin"] = dict(l=50, r=20, t=30, b=50)
    annotations = []
    for i, (label, Z) in enumerate(zip(labels, Zs, strict=True)):
        ax = "" if i == 0 else str(i + 1)
        T = Z.shape[0]
        steps = np.arange(1, T + 1)
        data.append(dict(type="heatmap", z=_arr(np.maximum(Z, lo)), x=steps, y=steps, xaxis=f"x{ax}", yaxis=f"y{ax}",
                         colorscale="Viridis", zmin=lo, zmax=hi if hi > lo else lo + 1, showscale=i == n - 1,
                         colorbar=dict(title=dict(text="log₁₀ ‖∂L_t/∂s_k‖", side="right"), thickness=12),
                         hovertemplate=f"{html.escape(str(label))}: L<sub>%{{y}}</sub> → "
                                       f"{html.escape(parts.get(label, 'h'))}<sub>%{{x}}</sub>"
                                       "<br>log₁₀ reach = %{z:.2f}<extra></extra>"))
        x0 = i * (width + gap)
        lay[f"xaxis{ax}"] = dict(domain=[x0, x0 + width], title=dict(text="k"), showgrid=False, anchor=f"y{ax}")
        lay[f"yaxis{ax}"] = dict(autorange="reversed", showgrid=False, anchor=f"x{ax}",
                                 title=dict(text="t" if i == 0 else ""))
        annotations.append(dict(text=f"<b>{html.escape(str(label))}</b>", x=x0 + width / 2, y=1.0, xref="paper",
                                yref="paper", xanchor="center", yanchor="bottom", showarrow=False))
    lay["annotations"] = annotations
    return dict(data=data, layout=lay)


def race_caption(summary: list[dict], chance: float) -> str:
    """Reads the race aloud. summary: one dict per racer with label, step (race steps so far),
    accuracy (latest right-closing-marker fraction), correct, n, best (highest so far), loss
    (mean loss per token over the last steps), diverged_at (or None)."""
    if not summary:
        return ""
    step = max(int(s["step"]) for s in summary)
    if step == 0:
        return (f"Step 0: every model picks the right closing marker at about chance ({chance:.0%}); "
                "step the race to see which one learns to remember the line's first character.")
    parts = []
    for s in summary:
        if s.get("diverged_at") is not None:
            parts.append(f"{s['label']} diverged at step {s['diverged_at']}")
            continue
        parts.append(f"{s['label']} {s['correct']}/{s['n']} right ({s['accuracy']:.0%}, best so far "
                     f"{s['best']:.0%}, loss {s['loss']:.3f} nats/token)")
    ok = [s for s in summary if s.get("diverged_at") is None and math.isfinite(s["accuracy"])]
    verdict = ""
    if ok:
        lead = max(ok, key=lambda s: s["accuracy"])
        tail = min(ok, key=lambda s: s["accuracy"])
        near = [s["label"] for s in ok if abs(s["accuracy"] - chance) <= 0.1]
        if lead["accuracy"] - tail["accuracy"] >= 0.2:
            gap = 100 * (lead["accuracy"] - tail["accuracy"])
            verdict = (f" {lead['label']} picks the right closing marker {gap:.0f} percentage points more often "
                       f"than {tail['label']}.")
        if near:
            verdict += f" Within 10 points of chance ({chance:.0%}): {', '.join(near)}."
    return f"After {step} steps — " + "; ".join(parts) + "." + verdict


def _wrap(spec_fn):
    def build(*a, **k) -> go.Figure:
        return fast_figure(spec_fn(*a, **k))
    build.__doc__ = spec_fn.__doc__
    return build


reach_parts_figure = _wrap(reach_parts_spec)
jacobian_sv_figure = _wrap(jacobian_sv_spec)
race_loss_figure = _wrap(race_loss_spec)
race_accuracy_figure = _wrap(race_accuracy_spec)
race_reach_figure = _wrap(race_reach_spec)
