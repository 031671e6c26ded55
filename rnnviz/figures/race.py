"""Figures of the Race page: which cell remembers? Plain data in, chart specs (drawn as SVG pictures or by
plotly) and sentences computed from the same numbers out.

    race_score_spec     right closing marker (fraction) per cell over race steps, chance drawn
    race_loss_spec      loss per token per cell over race steps, ln V drawn
    reach_panel_spec    one cell's reach matrix R[t, k] = ‖∂L_t/∂s_k‖ (log colour), a shared colour range
    score_sentence      the race read aloud from the scores
    reach_sentence      how much of a loss term's gradient is left d steps back, per panel, from the matrices
                        (rnnviz.vanish.reach_by_distance: the geometric mean over t of R[t, t − d] / R[t, t])

Every lane has a colour, a dash and a marker of its own, so no lane is told apart by colour alone.
"""

from __future__ import annotations

import html
import math

import numpy as np

from rnnviz.figures.common import layout
from rnnviz.figures.palette import BASELINE, CLIP, LANES, text_colour
from rnnviz.race import GOAL  # the score at which a lane has learned the task (the 70% line)
from rnnviz.vanish import reach_by_distance

REACH_DECADES = 12   # the reach colour scale spans at most this many decades (more is one colour anyway)


def lane(i: int) -> tuple[str, str, str]:
    """(colour, dash, marker) of lane i, in the race's order (fewest gate blocks first): rnnviz.figures.palette's
    lanes, apart under every simulated colour blindness and by dash and marker too."""
    return LANES[i % len(LANES)]


def _arr(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def _esc(s) -> str:
    return html.escape(str(s))


def race_score_spec(series: dict, chance: float, height: int = 330) -> dict:
    """Right closing marker (fraction) of each racer at its evaluations, with chance and the GOAL line.

    series: {label: (eval_steps (m,), accuracy (m,))}, in lane order."""
    data, last = [], 1
    for i, (label, (steps, acc)) in enumerate(series.items()):
        colour, dash, symbol = lane(i)
        steps = np.asarray(steps)
        last = max(last, int(steps[-1]) if steps.size else 0)
        data.append(dict(type="scatter", x=steps, y=_arr(acc), mode="lines+markers", name=_esc(label),
                         line=dict(color=colour, width=2.5, dash=dash), marker=dict(size=7, symbol=symbol, color=colour),
                         hovertemplate=f"{_esc(label)}, step %{{x}}: %{{y:.0%}} right<extra></extra>"))
    shapes, notes = [], []
    if math.isfinite(chance):
        shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=chance, y1=chance,
                           line=dict(color=CLIP, dash="dot", width=1.5)))
        notes.append(dict(x=0, xref="paper", y=chance, text=f" chance {chance:.0%}", showarrow=False, xanchor="left",
                          yanchor="top", font=dict(color=text_colour(CLIP))))
    shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=GOAL, y1=GOAL, line=dict(color=BASELINE, dash="dash",
                                                                                          width=1)))
    notes.append(dict(x=0, xref="paper", y=GOAL, text=f"{GOAL:.0%}", showarrow=False, xanchor="left", yanchor="bottom",
                      font=dict(color=BASELINE)))
    return dict(data=data, layout=layout(
        height=height, shapes=shapes, annotations=notes,
        xaxis=dict(title=dict(text="race step (each: one training step of every model)"), range=[0, last]),
        yaxis=dict(title=dict(text="right closing marker"), range=[0, 1.05], tickformat=".0%"),
    ))


def block_means(steps, loss, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(last step of each block, mean loss of the block) over consecutive blocks of ``block`` steps (the last
    block may be shorter); NaN losses (after a divergence) are left out of their block's mean."""
    steps, loss = np.asarray(steps), _arr(loss)
    if not steps.size:
        return steps, loss
    starts = np.arange(0, steps.size, block)
    ends = np.minimum(starts + block, steps.size) - 1
    with np.errstate(invalid="ignore"):
        sums = np.add.reduceat(np.nan_to_num(loss), starts)
        counts = np.add.reduceat(np.isfinite(loss).astype(float), starts)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return steps[ends], means


def race_loss_spec(series: dict, baseline: float | None = None, block: int = 50, height: int = 300) -> dict:
    """Loss per token of each racer, as the mean of every ``block`` race steps (one window's loss is noisy).
    series: {label: (steps (n,), loss (n,))}."""
    data = []
    for i, (label, (steps, loss)) in enumerate(series.items()):
        colour, dash, _ = lane(i)
        x, y = block_means(steps, loss, max(1, int(block)))
        data.append(dict(type="scatter", x=x, y=y, mode="lines", name=_esc(label),
                         line=dict(color=colour, width=2, dash=dash),
                         hovertemplate=f"{_esc(label)}, steps up to %{{x}}: %{{y:.3f}} nats/token<extra></extra>"))
    shapes, notes = [], []
    if baseline is not None and math.isfinite(baseline):
        shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=baseline, y1=baseline,
                           line=dict(color=BASELINE, dash="dash")))
        notes.append(dict(x=1, xref="paper", y=baseline, text=f"untrained: ln V = {baseline:.2f}", showarrow=False,
                          xanchor="right", yanchor="bottom", font=dict(color=BASELINE)))
    return dict(data=data, layout=layout(
        height=height, shapes=shapes, annotations=notes,
        xaxis=dict(title=dict(text="race step"), rangemode="tozero"),
        yaxis=dict(title=dict(text="loss per token (nats)"), rangemode="tozero"),
    ))


def reach_range(matrices: dict) -> tuple[float, float]:
    """(lo, hi) in log10 for one colour scale over every panel: the largest reach, and at most
    REACH_DECADES below it."""
    fin = [np.log10(R[R > 0]) for R in (np.asarray(M, dtype=float) for M in matrices.values()) if (R > 0).any()]
    fin = [f[np.isfinite(f)] for f in fin]
    allv = np.concatenate(fin) if fin else np.zeros(0)
    if not allv.size:
        return -1.0, 0.0
    hi = float(allv.max())
    return max(float(allv.min()), hi - REACH_DECADES), hi


def reach_panel_spec(R, zrange: tuple[float, float], title: str, part: str = "h", *, colorbar: bool = False,
                     height: int = 300) -> dict:
    """One racer's reach matrix: row t (the loss term L_t), column k (the step its gradient reaches),
    colour log10 ‖∂L_t/∂s_k‖ on the shared range zrange; above the diagonal (k > t) blank."""
    R = np.asarray(R, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        Z = np.log10(np.where(R > 0, R, np.nan))
    Z[np.triu_indices(R.shape[0], 1)] = np.nan
    lo, hi = zrange
    T = R.shape[0]
    steps = list(range(1, T + 1))
    trace = dict(type="heatmap", z=_arr(np.maximum(Z, lo)), x=steps, y=steps, colorscale="Viridis", zmin=lo,
                 zmax=hi if hi > lo else lo + 1, showscale=colorbar,
                 colorbar=dict(title=dict(text=f"log₁₀ ‖∂L_t/∂{_esc(part)}_k‖", side="right"), thickness=12),
                 hovertemplate=f"{_esc(title)}: L<sub>%{{y}}</sub> → {_esc(part)}<sub>%{{x}}</sub>"
                               "<br>log₁₀ reach = %{z:.2f}<extra></extra>")
    lay = layout(height=height, title=f"<b>{_esc(title)}</b>",
                 xaxis=dict(title=dict(text="k: the step reached"), showgrid=False),
                 yaxis=dict(title=dict(text="t: the loss term"), showgrid=False, autorange="reversed"))
    lay["margin"] = dict(l=50, r=10, t=34, b=45)
    return dict(data=[trace], layout=lay)


def _fraction(x: float) -> str:
    if not math.isfinite(x):
        return "nothing measurable"
    if x >= 0.095:
        return f"{x:.0%}"
    if x >= 1e-4:
        return f"{x:.2g}"
    return f"10^{math.log10(x):.0f}" if x > 0 else "0"


def reach_sentence(matrices: dict, d: int) -> str:
    """Per panel, how much of a loss term's gradient is left d steps back (from the matrices drawn)."""
    parts = [f"{label}: {_fraction(float(reach_by_distance(R)[0][d]))}" for label, R in matrices.items()]
    return (f"How much of a loss term's gradient is left {d} steps back (a typical line's distance from its "
            f"closing marker to its opening one), on each model's next window: " + "; ".join(parts) + ".")


def score_sentence(rows: list[dict], chance: float) -> str:
    """The race read aloud. rows: one dict per racer with label, step (race steps so far), accuracy, correct, n
    (latest score), best (highest so far), first (first step ≥ GOAL or None), diverged_at (or None)."""
    if not rows:
        return ""
    step = max(int(r["step"]) for r in rows)
    if step == 0:
        return (f"Step 0: every model is untrained, so each picks the right closing marker about as often as a guess "
                f"({chance:.0%}). Press Play the race and watch which lines climb.")
    said = []
    for r in rows:
        if r.get("diverged_at") is not None:
            said.append(f"{r['label']} diverged at step {r['diverged_at']:,}")
            continue
        when = f", {GOAL:.0%} first at step {r['first']:,}" if r.get("first") else ""
        said.append(f"{r['label']} {r['accuracy']:.0%} ({r['correct']} of {r['n']}{when})")
    ok = [r for r in rows if r.get("diverged_at") is None and math.isfinite(r["accuracy"])]
    learned = [r["label"] for r in ok if r["accuracy"] >= GOAL]
    dipped = [r for r in ok if r["best"] >= GOAL and r["accuracy"] < r["best"] - 0.3]
    guessing = [r["label"] for r in ok if r["best"] < chance + 0.15]
    verdict = ""
    if learned:
        verdict += f" Remembering: {', '.join(learned)}."
    if guessing:
        verdict += (f" Still no better than guessing (never 15 points above chance): {', '.join(guessing)}.")
    if dipped:
        verdict += " " + "; ".join(f"{r['label']} has dipped from its best {r['best']:.0%} to {r['accuracy']:.0%}"
                                   for r in dipped) + ": a run of large updates can undo it for a few hundred steps."
    if not learned and not guessing:
        verdict += " No model is at 70% yet: keep playing."
    return f"After {step:,} race steps, right closing markers: " + "; ".join(said) + "." + verdict
