"""A bar chart drawn in plain HTML and CSS: for the chart that play mode redraws a dozen times a second.

Why not plotly here: a plotly chart costs the browser about 100 ms to mount (measured in headless
Chromium on a 2-core machine), and play mode replaces the chart on every frame, so a plotly version
capped the page at a few redraws a second. A few dozen positioned <div>s cost the browser about as
much as a line of text. Why not SVG: st.html sanitises with DOMPurify's HTML profile, which drops
SVG. Hovering a bar shows its title (the browser's own tooltip).

Every label is escaped with ``html.escape``: tokens are user text and land in markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnviz.figures.common import esc as _esc

# Viridis, as plotly and matplotlib define it, sampled at 9 points: dark (small) → yellow (large).
VIRIDIS = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725")


_VIRIDIS_RGB = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in VIRIDIS], dtype=float)
_VIRIDIS_AT = np.linspace(0.0, 1.0, len(VIRIDIS))


def viridis(u: np.ndarray) -> list[str]:
    """Colours for u in [0, 1] (NaN → grey), interpolated on VIRIDIS (all bars at once: this runs
    on every play frame)."""
    u = np.asarray(u, dtype=float)
    x = np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0)
    rgb = np.rint(np.stack([np.interp(x, _VIRIDIS_AT, _VIRIDIS_RGB[:, k]) for k in range(3)], axis=1)).astype(int)
    return [f"#{r:02x}{g:02x}{b:02x}" if ok else "#bbbbbb"
            for (r, g, b), ok in zip(rgb.tolist(), np.isfinite(u).tolist(), strict=True)]


@dataclass(frozen=True)
class Axis:
    """A value axis: maps a value to [0, 1] of the plot height, and its tick marks with labels."""

    lo: float
    hi: float
    log: bool

    def unit(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log10(v) if self.log else v
        lo, hi = (math.log10(self.lo), math.log10(self.hi)) if self.log else (self.lo, self.hi)
        return (x - lo) / (hi - lo)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            a, b = round(math.log10(self.lo)), round(math.log10(self.hi))
            step = max(1, math.ceil((b - a) / 6))
            # Counted down from the top: the top power of ten (1 on a chart of fractions) always gets a label.
            ticks = [(10.0**e, f"10<sup>{e}</sup>") for e in range(b, a - 1, -step)]
            if b - a <= 2:  # few decades: label 2× and 5× as well, or the axis says almost nothing
                ticks += [(m * 10.0**e, f"{m * 10.0**e:g}") for e in range(a, b) for m in (2, 5)]
            return sorted(ticks)
        step = nice_step(self.hi / 5)
        n = int(math.floor(self.hi / step + 1e-9))
        return [(i * step, f"{i * step:.3g}") for i in range(n + 1)]


def nice_step(raw: float) -> float:
    """1, 2 or 5 × a power of ten, at least raw (> 0)."""
    if not raw > 0 or not math.isfinite(raw):
        return 1.0
    p = 10.0 ** math.floor(math.log10(raw))
    return next(m * p for m in (1, 2, 5, 10) if m * p >= raw * (1 - 1e-12))


def value_axis(values: np.ndarray, log: bool) -> Axis:
    """An axis that holds every finite (and, for log, positive) value."""
    v = np.asarray(values, dtype=float)
    if log:
        pos = v[np.isfinite(v) & (v > 0)]
        if pos.size == 0:
            return Axis(0.1, 10.0, True)
        # A little room below the smallest value: a bar sitting exactly on the axis's lowest power of
        # ten would have no height at all and read as "no gradient here".
        lo = 10.0 ** math.floor(math.log10(pos.min()) - 0.05)
        hi = 10.0 ** math.ceil(math.log10(pos.max()))
        return Axis(lo, hi if hi > lo else lo * 10, True)
    fin = v[np.isfinite(v)]
    top = float(fin.max()) if fin.size else 0.0
    if not top > 0:
        return Axis(0.0, 1.0, False)
    step = nice_step(top / 5)
    return Axis(0.0, step * math.ceil(top / step), False)


BARS_CSS = (
    "<style>"
    ".rv-bars{position:relative;height:300px;font-family:Inter,'Source Sans Pro',sans-serif;font-size:12px;color:#444}"
    ".rv-plot{position:absolute;left:74px;right:12px;top:38px;bottom:58px;border-left:1px solid #999;"
    "border-bottom:1px solid #999}"
    ".rv-grid{position:absolute;left:0;right:0;border-top:1px solid #eee}"
    ".rv-ytick{position:absolute;right:calc(100% + 6px);transform:translateY(-50%);white-space:nowrap}"
    ".rv-bar{position:absolute;bottom:0;border-radius:2px 2px 0 0}"
    ".rv-bar:hover{outline:2px solid #222}"
    ".rv-xtick{position:absolute;top:calc(100% + 4px);transform:translateX(-50%)}"
    ".rv-xtitle{position:absolute;left:74px;right:12px;bottom:4px;text-align:center;font-size:13px;color:#222}"
    # The value axis is titled above the axis, not rotated: turned sideways, ‖ reads as "=".
    ".rv-ytitle{position:absolute;left:8px;top:2px;font-size:13px;color:#222}"
    ".rv-note{position:absolute;right:12px;top:4px;text-align:right}"
    ".rv-verdict{font-size:14px;margin:2px 0 0 74px}"
    ".rv-note-box{background:rgba(28,131,225,0.1);color:#0b4a85;border-radius:8px;padding:14px 16px;font-size:15px}"
    "</style>"
)


def labelled_bars(n: int, every: int, first: int = 1) -> list[int]:
    """Which of n bars get a tick label: the first, every `every`-th counting from `first` (the first
    bar's label: with first=1, bars 5, 10, 15, … for every=5, as on a ruler; with first=0, bars
    labelled 0, 5, 10, …), and the last, minus a ruler label too close to the last one
    (two labels side by side read as one number: "2425")."""
    if every <= 1:
        return list(range(n))
    marks = [0] + [i for i in range(1, n - 1) if (i + first) % every == 0]
    if n > 1:
        if marks[-1] != 0 and (n - 1) - marks[-1] < every / 2:
            marks.pop()
        marks.append(n - 1)
    return marks


def tick_step(n: int) -> int:
    """A ruler step for n bars in a half-page chart: all labels up to 15, then 5, 10, 20, 25, 50, …"""
    for step in (1, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if n <= 15 * step:
            return step
    return -(-n // 15)


def bar_html(values, x_labels: list[str], hover: list[str], *, log: bool, x_title: str, y_title: str,
             note: str = "", label_every: int = 1, first_label: int = 1, css: bool = True) -> str:
    """A bar chart as HTML. values: (n,) bar heights (NaN/∞ and, on a log axis, ≤ 0 draw no bar but a
    thin grey mark); x_labels: n tick labels; hover: n tooltip texts. Colour follows the bar's height.
    first_label: the number the first x label stands for (1 for t = 1 … T, 0 for distances d = 0 …),
    so the ruler's labels land on multiples of label_every.
    Each bar carries its value in data-value (for tests and screen readers: aria-label).
    css=False leaves out the <style> block, for a page that already holds BARS_CSS (inserting a
    <style> element makes the browser restyle the whole page, on every play frame)."""
    v = np.asarray(values, dtype=float)
    n = v.size
    axis = value_axis(v, log)
    u = axis.unit(v)
    drawable = np.isfinite(u) & (v > 0 if log else np.isfinite(v))
    colours = viridis(np.where(drawable, u, np.nan))
    parts = [BARS_CSS if css else "", f"<div class='rv-bars' role='img' aria-label='{_esc(y_title)}'><div class='rv-plot'>"]
    for val, text in axis.ticks():
        y = 100 * float(axis.unit(np.array([val]))[0])
        parts.append(f"<div class='rv-grid' style='bottom:{y:.2f}%'><span class='rv-ytick'>{text}</span></div>")
    slot = 100 / max(n, 1)
    labelled = set(labelled_bars(n, label_every, first_label))
    for i in range(n):
        left = (i + 0.12) * slot
        if drawable[i]:
            height, colour = 100 * min(1.0, max(0.0, float(u[i]))), colours[i]
        else:  # nothing to draw on this axis (0 on a log scale, NaN, ∞): a grey mark says "no bar here"
            height, colour = 0.8, "#bbbbbb"
        parts.append(f"<div class='rv-bar' data-value='{v[i]:.6g}' title='{_esc(hover[i])}' aria-label='{_esc(hover[i])}' "
                     f"style='left:{left:.2f}%;width:{0.76 * slot:.2f}%;height:{height:.2f}%;background:{colour}'></div>")
        if i in labelled:
            parts.append(f"<span class='rv-xtick' style='left:{(i + 0.5) * slot:.2f}%'>{_esc(x_labels[i])}</span>")
    parts.append(f"</div><div class='rv-xtitle'>{_esc(x_title)}</div><div class='rv-ytitle'>{_esc(y_title)}</div>")
    if note:
        parts.append(f"<div class='rv-note'>{_esc(note)}</div>")
    parts.append("</div>")
    return "".join(parts)
