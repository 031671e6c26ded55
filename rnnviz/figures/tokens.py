"""Token strips as HTML: the current window, and sampled text coloured by probability.

Every user or model string goes through ``html.escape`` (with quotes, since some land in
attributes) before it is placed in markup: a pasted ``<script>`` shows as text, never runs.
"""

from __future__ import annotations

import numpy as np

from rnnviz.figures.common import esc as _esc
from rnnviz.figures.common import visible
from rnnviz.figures.palette import ACTIVATION_STOPS, PROB_STOPS, ink, interpolate, rgb_hex


def prob_colour(p: float) -> str:
    """Light (the model gave this ~0: a surprise) → dark blue (the model was sure of it), '#rrggbb'
    (rnnviz.figures.palette.PROB_STOPS: one hue, so the lightness alone says how sure)."""
    return interpolate(PROB_STOPS, float(p) if np.isfinite(p) else 0.0)


def prob_style(p: float) -> str:
    """The CSS of a token coloured by p: its background and the ink that reads on it (≥ 4.5:1)."""
    bg = prob_colour(p)
    return f"background:{bg};color:{ink(bg)}"


def _printable(s: str) -> str:
    """Control characters (other than newline and tab) as \\xNN, so generated text shows them."""
    return "".join(ch if ch in "\n\t" or not (ord(ch) < 32 or ord(ch) == 127) else f"\\x{ord(ch):02x}" for ch in s)


STRIP_CSS = (
    "<style>"
    ".rv-strip{display:flex;flex-wrap:wrap;gap:3px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:14px}"
    ".rv-tok{display:flex;flex-direction:column;align-items:center;border-radius:4px;padding:2px 4px;min-width:22px;"
    "border:1px solid #8aa4bf}"   # the palest boxes stay boxes on the white page
    # Every text in a box is in the box's own ink (black or white, chosen for its background): no grey.
    ".rv-in{font-weight:600}.rv-t{font-size:11px}.rv-arrow{font-size:10px}"
    ".rv-legend{font-size:12px;color:#555;margin-top:6px}"
    ".rv-sample{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:14px;line-height:1.7;white-space:pre-wrap;"
    "overflow-wrap:anywhere}"  # a long run without spaces (dots, a URL) wraps instead of leaving the page
    ".rv-sample span{border-radius:3px;padding:0 1px}"
    ".rv-prime{color:#555;background:#eee}"
    "</style>"
)


def window_html(inputs: list[str], targets: list[str], p_target, predicted: list[str], *, css: bool = True) -> str:
    """One box per time step t: input x_t on top, the target y_t under it, coloured by p_t[y_t].

    Hover shows the probability and the model's best guess."""
    boxes = []
    for t, (x, y, p, g) in enumerate(zip(inputs, targets, np.asarray(p_target, dtype=float), predicted, strict=True), start=1):
        tip = f"t = {t}: input {visible(x)!r}, target {visible(y)!r}, p(target) = {p:.3f}; model's best guess {visible(g)!r}"
        boxes.append(
            f'<div class="rv-tok" style="{prob_style(p)}" title="{_esc(tip)}">'
            f'<span class="rv-in">{_esc(visible(x))}</span><span class="rv-arrow" aria-hidden="true">↓</span>'
            f'<span class="rv-in">{_esc(visible(y))}</span><span class="rv-t">{p:.2f}</span></div>'
        )
    legend = ('<div class="rv-legend">Top: input x<sub>t</sub>. Below the arrow: the target y<sub>t</sub> (the next token) '
              'and p<sub>t</sub>[y<sub>t</sub>], the probability the model gave it: '
              f'<span style="{prob_style(0.02)};padding:0 4px">0 low</span> → '
              f'<span style="{prob_style(0.5)};padding:0 4px">0.5</span> → '
              f'<span style="{prob_style(0.98)};padding:0 4px">1 sure</span> (the darker, the surer; the number '
              'is printed under each target). Hover a box for the best guess.</div>')
    # css=False when the page already holds STRIP_CSS: re-inserting a <style> restyles the whole page.
    return (STRIP_CSS if css else "") + f'<div class="rv-strip">{"".join(boxes)}</div>' + legend


def least_sure(tokens: list[str], probs, n: int = 3) -> str:
    """The sample's colours in words: the mean p over its tokens and the n it was least sure of, with their
    p (first one first when tied). "" for no tokens. tokens: m strings; probs: (m,)."""
    probs = np.asarray(probs, dtype=float)
    ok = np.flatnonzero(np.isfinite(probs))
    if not ok.size:
        return ""
    low = ok[np.argsort(probs[ok], kind="stable")[:n]]
    which = ", ".join(f"{visible(tokens[i])!r} ({probs[i]:.2g}, token {i + 1})" for i in sorted(low))
    return f"Mean p over the {ok.size:,} tokens written: {probs[ok].mean():.2f}; least sure: {which}."


def sample_html(prime: str, tokens: list[str], probs, top: list[list[tuple[str, float]]] | None = None,
                joiner: str = "") -> str:
    """The prime (grey) then each generated token coloured by the probability the model gave it.

    top: for each token, its top-5 alternatives (token, probability), shown on hover."""
    parts = [f'<span class="rv-prime" title="prime text">{_esc(_printable(prime))}</span>'] if prime else []
    probs = np.asarray(probs, dtype=float)
    for i, tok in enumerate(tokens):
        tip = f"p = {probs[i]:.3f}"
        if top is not None:
            tip += " · top 5: " + ", ".join(f"{visible(a)!r} {q:.2f}" for a, q in top[i])
        shown = _printable(tok) if tok != "\n" else "⏎\n"
        parts.append(f'{_esc(joiner) if i or prime else ""}<span style="{prob_style(probs[i])}" '
                     f'title="{_esc(tip)}">{_esc(shown)}</span>')
    return STRIP_CSS + f'<div class="rv-sample">{"".join(parts)}</div>'


# ACTIVATION_STOPS (rnnviz.figures.palette): a tanh unit's value h ∈ [−1, 1], orange (−1) → white (0) →
# blue (+1). The hidden-unit heatmap (rnnviz.figures.generate) uses the same stops, so strip and chart agree.


def activation_colour(v: float) -> str:
    """CSS rgb() for h = v on the orange–white–blue scale (clipped to [−1, 1]; NaN/∞ is grey)."""
    if not np.isfinite(v):
        return "rgb(200, 200, 200)"
    v = float(np.clip(v, -1.0, 1.0))
    for (a, ca), (b, cb) in zip(ACTIVATION_STOPS, ACTIVATION_STOPS[1:], strict=False):
        if v <= b:
            f = (v - a) / (b - a)
            r, g, bl = (round(x + f * (y - x)) for x, y in zip(ca, cb, strict=True))
            return f"rgb({r}, {g}, {bl})"
    return "rgb(33, 102, 172)"  # unreachable: v ≤ 1 is caught by the last stop


def activation_style(v: float) -> str:
    """The CSS of a token coloured by h = v: its background and the ink that reads on it (≥ 4.5:1)."""
    bg = activation_colour(v)
    return f"background:{bg};color:{ink(rgb_hex(bg[4:-1].split(',')))}"


def unit_strip_html(tokens: list[str], values, unit: int, joiner: str = "", part: str = "h", scale: float = 1.0) -> str:
    """The text with each token's background the value of hidden unit ``unit`` after reading it.

    tokens: n strings; values: (n,) h values in [−1, 1]. Hover a token for its position and value.
    A unit that is blue inside quotes and orange outside is tracking whether a quote is open.
    part, scale: the state part (h, or the LSTM's c) and the value drawn at full colour (±scale)."""
    values = np.asarray(values, dtype=float)
    scale = float(scale) if np.isfinite(scale) and scale > 0 else 1.0
    if values.shape != (len(tokens),):
        raise ValueError(f"need one value per token (got {values.shape[0] if values.ndim else 0} for {len(tokens)})")
    parts = []
    for i, (tok, v) in enumerate(zip(tokens, values, strict=True)):
        tip = f"unit {unit} · token {i} {visible(tok)!r} · {part} = {v:+.2f}"
        shown = _printable(tok) if tok != "\n" else "⏎\n"
        parts.append(f'{_esc(joiner) if i else ""}<span style="{activation_style(v / scale)}" '
                     f'title="{_esc(tip)}">{_esc(shown)}</span>')
    legend = ('<div class="rv-legend">Background: ' + _esc(part) + ' of unit ' + _esc(str(unit))
              + ' after reading each token: '
              + "".join(f'<span style="{activation_style(x)};padding:0 6px">{_esc(f"{x * scale:+g}")}</span>'
                        for x in (-1, -0.5, 0, 0.5, 1))
              + '. Hover a token for its value.</div>')
    return STRIP_CSS + f'<div class="rv-sample">{"".join(parts)}</div>' + legend
