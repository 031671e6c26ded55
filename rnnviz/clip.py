"""Gradient clipping: the standard remedy for exploding gradients.

"elementwise": every entry clamped to [−c, c] (min-char-rnn uses c = 5). Cheap, but it changes the
gradient's direction.  "norm": if the global norm ‖g‖ over all parameters exceeds c, scale every
gradient by c/‖g‖; the direction is kept.  "none": leave the gradient alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnviz.flat import Layout

CLIP_MODES = ("none", "elementwise", "norm")


@dataclass
class ClipReport:
    """Norms before and after clipping. norms_*: {name: ‖g_name‖}; global_*: ‖all of g‖."""

    norms_before: dict[str, float]
    norms_after: dict[str, float]
    global_before: float
    global_after: float
    fired: bool
    max_abs_before: dict[str, float] | None = None  # largest |entry| per weight (elementwise mode only)


def _global(norms: dict[str, float]) -> float:
    """‖all of g‖ from the per-parameter norms: √(Σ n²), in C and without overflow (math.hypot)."""
    return math.hypot(*norms.values())


def clip_flat(g: np.ndarray, layout: Layout, mode: str, threshold: float,
              before: dict[str, float] | None = None) -> tuple[np.ndarray, ClipReport]:
    """Clip the flat gradient g (size,) and report per-parameter norms. g itself is not modified.

    before: the per-parameter norms of g if the caller already has them (else computed here)."""
    if mode not in CLIP_MODES:
        raise ValueError(f"unknown clipping {mode!r}; choose one of {', '.join(CLIP_MODES)}")
    if before is None:
        before = layout.norms(g)
    g_before = _global(before)
    if mode == "none":
        return g, ClipReport(before, before, g_before, g_before, False)
    c = float(threshold)
    if not c > 0:
        raise ValueError(f"the clipping threshold must be > 0 (got {threshold})")
    if mode == "elementwise":
        # Largest |entry| of each weight: what the chart compares with c, and whether clipping
        # fires at all (it rarely does once training has settled, and then g is passed on as is).
        max_abs = layout.max_abs(g)
        fired = any(m > c for m in max_abs.values())
        clipped = np.clip(g, -c, c) if fired else g
    else:
        fired = g_before > c
        clipped = g * (c / g_before) if fired else g
    after = layout.norms(clipped) if fired else before
    report = ClipReport(before, after, g_before, _global(after), fired)
    if mode == "elementwise":
        report.max_abs_before = max_abs
    return clipped, report


def clip_gradients(grads: Mapping[str, np.ndarray], mode: str, threshold: float) -> tuple[dict[str, np.ndarray], ClipReport]:
    """The same on a {name: gradient} mapping; returns new arrays, the inputs are not modified."""
    layout = Layout.of(grads)
    g, report = clip_flat(layout.flatten(grads), layout, mode, threshold)
    return layout.views(g), report
