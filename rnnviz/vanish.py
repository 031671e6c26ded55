"""Vanishing or exploding: what the reach of the loss terms says, in numbers and in words.

The reach R[t, k] = ‖∂L_t/∂h_k‖ (rnnviz.gradient_reach) is what vanishes or explodes; the total
‖∂L/∂h_t‖ is not, because every step has its own loss term (../shared/DESIGN.md, "Two gradients
that must not be confused"). rnnviz.spectrum.reach_decay turns R into one number per distance d:

    ratio[d] = geometric mean over t of R[t, t − d] / R[t, t]

"how much of a loss term's gradient is left d steps back", 1 at d = 0. ``verdict`` reads those
numbers; the sentence it returns is computed from them, never written in advance.

``reach_by_distance`` computes the same geometric mean without reach_decay's percentile bands: the
Train page draws it on every play frame, where the 2·T percentile calls cost ~20 ms (T = 40)
against ~0.3 ms for this; tests/test_vanish.py checks that the two agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnviz.bptt import gradient_reach

VANISH_BELOW = 0.1    # left after `span` steps back: below this the signal has faded (10×)
EXPLODE_ABOVE = 10.0  # ...above this it has grown (10×)
SPAN = 10             # the distance the verdict speaks about (the issue's and the tests' R[t, t−10])


def reach_by_distance(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R (T, T) lower-triangular → (ratio (T,), count (T,)): ratio[d] = geometric mean over t ≥ d of
    R[t, t−d] / R[t, t] over the terms where that ratio is finite and positive (NaN if none);
    count[d] = how many terms went into it (T − d at most). = reach_decay(R).typical and .count."""
    R = np.asarray(R, dtype=float)
    T = R.shape[0]
    own = np.diagonal(R)
    ratio = np.full(T, np.nan)
    count = np.zeros(T, dtype=int)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for d in range(T):
            r = np.diagonal(R, offset=-d) / own[d:]      # R[t, t−d] / R[t, t] for t = d … T−1
            r = r[np.isfinite(r) & (r > 0)]
            count[d] = r.size
            if r.size:
                ratio[d] = float(np.exp(np.log(r).mean()))
    return ratio, count


def window_reach(params, inputs, targets, h0=None, *, cell: str = "rnn") -> tuple[np.ndarray, np.ndarray]:
    """The Train page's headline numbers for one window: reach_by_distance of its gradient_reach through h."""
    return reach_by_distance(gradient_reach(params, inputs, targets, h0, cell=cell))


@dataclass(frozen=True)
class Verdict:
    """What the ratios say, in numbers and in words."""

    span: int          # the near distance spoken about: SPAN, or T − 1 when the window is shorter
    left: float        # ratio[span]: how much is left that many steps back
    per_step: float    # left ** (1 / span): the average factor per step back over that distance
    far: int           # the farthest distance, T − 1
    left_far: float    # ratio[far]: how much is left across the whole window
    kind: str          # "vanishing" | "exploding" | "fading" (slowly: only across the whole window) | "steady"
    text: str          # one or two sentences, plain text, every number from the ratios


def _times(x: float) -> str:
    """A factor as people say it: 4.2×, 1,000×, 3e+12×."""
    if not math.isfinite(x):
        return "∞×" if x > 0 else "?×"
    return f"{x:,.0f}×" if 20 <= x < 1e6 else f"{x:.2g}×"


def _change(x: float) -> str:
    """'falls 1,000×' or 'grows 4.2×' for a ratio x > 0."""
    return f"falls {_times(1 / x)}" if x < 1 else f"grows {_times(x)}"


def verdict(ratio: np.ndarray, span: int = SPAN) -> Verdict | None:
    """Read ratio (reach_by_distance) at the distance min(span, T − 1) and across the whole window.

    vanishing: less than VANISH_BELOW is left `span` steps back (the tests' criterion, R[t, t−10]);
    exploding: more than EXPLODE_ABOVE at `span` steps back or across the whole window (growth
    compounds: 1.2× per step is 6× over 10 steps and 1,000× over 40);
    fading: less than VANISH_BELOW is left only across the whole window; steady otherwise.
    None when T = 1 or a needed ratio is not a finite positive number."""
    ratio = np.asarray(ratio, dtype=float)
    far = ratio.size - 1
    span = min(span, far)
    if span < 1 or not all(math.isfinite(x) and x > 0 for x in (ratio[span], ratio[far])):
        return None
    left, left_far = float(ratio[span]), float(ratio[far])
    per_step = left ** (1.0 / span)
    near = f"{_change(left)} over {span} step{'s' if span > 1 else ''} back (about {per_step:.2g}× per step)"
    whole = f" and {_change(left_far)} across the whole window ({far} steps back)" if far > span else ""
    if left < VANISH_BELOW:
        kind, end = "vanishing", "Loss terms barely reach tokens that far back."
    elif left > EXPLODE_ABOVE or left_far > EXPLODE_ABOVE:
        kind, end = "exploding", "Far-back steps get more gradient from a loss term than its own step does."
    elif left_far < VANISH_BELOW:
        kind, end = "fading", "Loss terms still reach across the window, but weakly."
    else:
        kind, end = "steady", "Neither vanishing nor exploding over this window."
    text = f"{near}{whole}" + (f": {kind}. " if kind not in ("steady", "fading") else
                               ": fading slowly. " if kind == "fading" else ". ") + end
    return Verdict(span, left, per_step, far, left_far, kind, text)


def against_rho(typical: np.ndarray, rho: float, span: int = SPAN) -> str:
    """One sentence comparing the measured ratio at d = min(span, T − 1) with ρ(W)^d, from the numbers
    ("" when there is nothing to compare)."""
    typical = np.asarray(typical, dtype=float)
    d = min(span, typical.size - 1)
    if d < 1 or not (math.isfinite(typical[d]) and typical[d] > 0 and rho > 0):
        return ""
    with np.errstate(over="ignore", under="ignore"):
        line = float(np.power(float(rho), d))
    if not (math.isfinite(line) and line > 0):
        return ""
    factor = typical[d] / line
    where = ("close to the line" if 0.5 <= factor <= 2 else
             f"{1 / factor:.2g}× below the line" if factor < 1 else f"{factor:.2g}× above the line")
    return f" Here, {d} steps back: measured {typical[d]:.2g}, ρ(W)^{d} = {line:.2g}: {where}."


ROUNDING = 1e-13  # relative errors below this are float64 rounding of an exactly equal gradient


def sweep_reading(ks, rel_error) -> str:
    """What a truncation sweep shows, from its numbers: the error at the smallest k, the first k
    where it is below 1%, and the k from which it is only rounding (the chart's log axis leaves
    those points out, so its lines stop there; said only when that is before the last k, which is
    full BPTT and exact). "" when there is nothing to read."""
    err = np.asarray(rel_error, dtype=float)
    ks = np.asarray(ks)
    if not err.size or not math.isfinite(err[0]):
        return ""
    below = ks[np.isfinite(err) & (err < 0.01)]
    text = (f" On this window: {err[0]:.2%} error at k = {ks[0]}, "
            + (f"below 1% from k = {below[0]} on." if below.size else f"still {err[-1]:.2%} at k = {ks[-1]}."))
    real = np.flatnonzero(~(err <= ROUNDING))          # NaN counts as real: it is not rounding
    first_rounding = real[-1] + 1 if real.size else 0
    if first_rounding < ks.size - 1:
        text += (f" From k = {ks[first_rounding]} on it is float64 rounding (below {ROUNDING:.0e}), "
                 "so the line for all weights stops there.")
    return text


SATURATION_CAUSE = 0.5   # a vanishing verdict blames saturation when at least this share of units is saturated


def saturation_cause(saturated: float, note: str) -> str:
    """Why a gradient vanishes when it is saturation (as after an explosion), not a small W: the
    sentence for a window where ``saturated`` (a fraction, the cell's ``saturation_note``) of its
    units are saturated, or "" below SATURATION_CAUSE."""
    if not saturated >= SATURATION_CAUSE:
        return ""
    return (f"{saturated:.0%} saturated ({note}): the derivative of tanh is below 0.1 there, "
            "and the gradient dies in them.")


def total_gradient_reading(row: np.ndarray) -> str:
    """How the total ‖∂L/∂h_t‖ of one window (row: (T,), t = 1…T) compares end to end, in words:
    it normally stays level, because every step adds its own loss term (DESIGN.md)."""
    row = np.asarray(row, dtype=float)
    row = row[np.isfinite(row)]
    ratio = row[0] / row[-1] if row.size > 1 and row[-1] > 0 else float("nan")
    words = (": it does not fade towards t = 1, although each term's reach (above) may; every step has its own "
             "loss term." if VANISH_BELOW <= ratio <= EXPLODE_ABOVE else
             ": it fades towards t = 1." if ratio < VANISH_BELOW else
             ": it grows towards t = 1." if ratio > EXPLODE_ABOVE else ".")
    return f"‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = {ratio:.2g}{words}"
