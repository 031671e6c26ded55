"""The held-out loss on the loss chart, and the sentence that says what its gap to the training loss means.

Plain data in (steps, losses, the (step, held-out loss) log), plotly trace / text out; no Streamlit.
"""

from __future__ import annotations

import numpy as np

from rnnviz.figures.palette import HELDOUT as VAL_COLOR

VAL_NAME = "held-out loss (text never trained on)"
GAP_NATS = 0.1        # a gap smaller than this (nats per token) is within the windows' own noise: "no gap"
RISE_NATS = 0.15      # the held-out loss counts as rising again when the mean of its last RECENT points is
RECENT = 3            # this far above its lowest point before them (one point alone swings by ~0.2)


def val_trace(val: list[tuple[int, float]]) -> dict:
    """The held-out points as a plotly scatter trace (a dict): purple line with markers."""
    x = np.array([s for s, _ in val], dtype=float)
    y = np.array([v for _, v in val], dtype=float)
    return dict(type="scatter", x=x, y=y, mode="lines+markers", name=VAL_NAME,
                line=dict(color=VAL_COLOR, width=2.5), marker=dict(size=6, color=VAL_COLOR),
                hovertemplate="step %{x}<br>held-out %{y:.3f} nats/token<extra></extra>")


def with_val(spec: dict, val: list[tuple[int, float]]) -> dict:
    """spec (the loss chart's) with the held-out line added (unchanged when nothing was measured yet)."""
    if val:
        spec["data"].append(val_trace(val))
    return spec


def train_loss_near(steps: np.ndarray, loss: np.ndarray, step: int, window: int) -> float:
    """Mean training loss per token over the rows with step in (step − window, step]: what the model
    scored on the windows it trained on around the time of a held-out measurement. NaN if none."""
    steps, loss = np.asarray(steps), np.asarray(loss, dtype=float)
    m = (steps > step - max(int(window), 1)) & (steps <= step) & np.isfinite(loss)
    return float(loss[m].mean()) if m.any() else float("nan")


def _latest_gap(steps, loss, val: list[tuple[int, float]], window: int) -> tuple[int, float, float] | None:
    """(step, held-out loss, training loss near that step) of the newest measurement; None if either is missing."""
    if not val:
        return None
    s, v = val[-1]
    t = train_loss_near(steps, loss, s, window)
    return (s, v, t) if np.isfinite(t) else None


def gap_sentence(steps, loss, val: list[tuple[int, float]], window: int) -> str:
    """What the gap between the held-out and the training loss means, from the numbers (markdown)."""
    latest = _latest_gap(steps, loss, val, window)
    if latest is None:
        return ""
    s, v, t = latest
    gap = v - t
    head = (f"Purple: the loss on the text's held-out end, never trained on. At step {s:,} it is {v:.2f} "
            f"against {t:.2f} nats per token on the training windows")
    if gap > GAP_NATS:
        out = (f"{head}: {gap:.2f} worse on unseen text, so part of what the model learned is this text itself "
               "(memorised), not patterns that carry over.")
    elif gap < -GAP_NATS:
        out = (f"{head}: {-gap:.2f} lower on unseen text, so no sign of memorisation (the training figure averages "
               f"the last {max(int(window), 1):,} steps, some of them taken by a worse model).")
    else:
        out = f"{head}: within {abs(gap):.2f}, so what it learned carries over to text it never saw."
    if len(val) > 2 * RECENT and gap > GAP_NATS:
        recent = float(np.mean([x for _, x in val[-RECENT:]]))
        best_s, best_v = min(val[:-RECENT], key=lambda e: e[1])
        if recent - best_v > RISE_NATS:
            out += (f" The held-out loss of the last {RECENT} measurements averages {recent:.2f}, up from its lowest "
                    f"{best_v:.2f} at step {best_s:,}: more training now memorises.")
    return out


def gap_short(steps, loss, val: list[tuple[int, float]], window: int) -> str:
    """One sentence for the presentation view."""
    latest = _latest_gap(steps, loss, val, window)
    if latest is None:
        return ""
    s, v, t = latest
    gap = v - t
    what = "memorising" if gap > GAP_NATS else "generalising" if gap >= -GAP_NATS else "held-out text is easier"
    return f"Held-out (purple) {v:.2f} vs training {t:.2f} nats/token at step {s:,}: gap {gap:+.2f}, {what}."
