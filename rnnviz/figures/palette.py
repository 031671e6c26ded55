"""Every colour rnnviz draws with, in one place: told apart by colour-blind students, readable as text.

About 1 in 12 men in a lecture hall does not see red and green as different colours. So no meaning here
rests on red against green, every scale runs from light to dark (its lightness alone orders it, in any
vision and in greyscale), every line colour keeps at least 3:1 against the white chart (WCAG 1.4.11),
and colour is never alone: the lines also differ by dash and marker, and the values are printed or
read aloud in the chart's text alternative.

tests/test_palette.py simulates protanopia, deuteranopia and tritanopia (Machado, Oliveira & Fernandes
2009, severity 1) and measures the CIEDE2000 distance between the colours that must stay apart; the
distances are in its docstrings. Plain data (strings, tuples) and NumPy only: no Streamlit, no plotly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# ---------------------------------------------------------------------------- lines, bars, markers
# From Okabe & Ito's colour-blind-safe set and Paul Tol's "vibrant" and "high-contrast" sets, darkened
# where needed so that every line has at least 3:1 against white.
ACCENT = "#0072B2"      # blue: the main data line or bar (a window's loss, the measured reach)
SMOOTH = "#D67200"      # orange: its mean or a second series (the smoothed loss, truncated BPTT)
CLIP = "#A51C1C"        # brick red: clipping fired, a threshold, a reference line (ρ^d, 1, chance)
BASELINE = "#444444"    # dark grey, drawn dashed: the untrained baseline ln V
HELDOUT = "#AA3377"     # purple: the held-out loss
MUTED = "#9ecae1"       # light blue: the value before clipping, behind ACCENT's value after it
GOOD = ACCENT           # the gradient check's "right" (the words on the chart say so too)

# The race's lanes and any series told apart by position (gates, state parts, weights): colour, dash
# and marker all differ, so a lane is found by any one of them. In lane order RNN, LSTM, GRU, minGRU.


class Lane(NamedTuple):
    colour: str
    dash: str        # plotly's line.dash
    symbol: str      # plotly's marker.symbol


LANES = (
    Lane("#004488", "solid", "circle"),          # dark blue
    Lane("#D67200", "dash", "square"),           # orange
    Lane("#009988", "dot", "diamond"),           # teal
    Lane("#000000", "dashdot", "triangle-up"),   # black
)
LINES = tuple(lane.colour for lane in LANES)   # the lane colours alone, by position

# Names used in captions ("the orange line"): the words on screen follow the colours here.
NAMES = {ACCENT: "blue", SMOOTH: "orange", CLIP: "red", BASELINE: "grey", HELDOUT: "purple", MUTED: "light blue",
         LINES[0]: "dark blue", LINES[2]: "teal", LINES[3]: "black"}

# Text in a line's colour (a label beside its line) needs 4.5:1 on white: the darker variant of each.
TEXT = {SMOOTH: "#B56000", LINES[2]: "#008576"}


def text_colour(colour: str) -> str:
    """The colour to write a label in, beside a line drawn in ``colour`` (at least 4.5:1 on white)."""
    return TEXT.get(colour, colour)


# ---------------------------------------------------------------------------- scales
# p_t[y_t], the probability the model gave a token: light (≈ 0, a surprise) to dark blue (≈ 1, sure).
# One hue, so lightness alone carries the value (the old red → yellow → green scale put its two ends
# on the one pair of hues red–green colour-blind students cannot tell apart).
PROB_STOPS = ((0.0, "#deebf7"), (0.25, "#9ecae1"), (0.5, "#4292c6"), (0.75, "#2171b5"), (1.0, "#08306b"))

# A value of either sign (a tanh unit's h ∈ [−1, 1], an entry of dW): orange (−1) → white (0) → blue (+1):
# ColorBrewer's PuOr orange half and RdBu blue half. Blue against orange is the pair every colour vision
# tells apart, and each end is dark against the white middle.
ACTIVATION_STOPS = ((-1.0, (179, 88, 6)), (-0.5, (241, 163, 64)), (0.0, (247, 247, 247)),
                    (0.5, (103, 169, 207)), (1.0, (33, 102, 172)))

# Viridis, as plotly and matplotlib define it, sampled at 9 points: dark (small) → yellow (large).
VIRIDIS = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725")


# ---------------------------------------------------------------------------- colour arithmetic
def hex_rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' → (r, g, b) in 0..255."""
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def rgb_hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(round(float(v))) for v in rgb))


def linear_rgb(rgb) -> np.ndarray:
    """sRGB 0..255 (…, 3) → linear light 0..1 (the sRGB transfer function undone)."""
    c = np.asarray(rgb, dtype=float) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of '#rrggbb' (0 black … 1 white)."""
    return float(linear_rgb(hex_rgb(colour)) @ np.array([0.2126, 0.7152, 0.0722]))


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 … 21 (text needs 4.5, large text and graphics 3)."""
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def ink(background: str) -> str:
    """Black or white, whichever reads better on ``background``: at least 4.58:1 on any colour."""
    return "#000000" if contrast(background, "#000000") >= contrast(background, "#ffffff") else "#ffffff"


def interpolate(stops, u: float) -> str:
    """'#rrggbb' at u on a scale of (position, '#rrggbb' or (r, g, b)) stops, clipped to its ends."""
    pos = [p for p, _ in stops]
    cols = [hex_rgb(c) if isinstance(c, str) else c for _, c in stops]
    u = min(max(float(u), pos[0]), pos[-1])
    return rgb_hex([np.interp(u, pos, [c[k] for c in cols]) for k in range(3)])
