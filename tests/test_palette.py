"""The palettes (rnnviz.figures.palette) under colour-blindness: simulated, measured, kept apart.

Simulation: Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color
vision deficiency", severity 1.0 (protanopia, deuteranopia, tritanopia: a cone type missing), applied in
linear RGB as the paper does. Distance: CIEDE2000 in CIELAB (D65), checked here against Sharma, Wu &
Dalal's published test pairs. Pure NumPy: no browser.

How far apart is apart? ΔE00 ≈ 2.3 is a just-noticeable difference between two large patches side by
side; for thin lines and small markers a difference must be several times larger to be seen (Stone,
Szafir & Setlur 2014, "An engineering model for color difference as a function of size"). So:

- a scale's two ends (and a diverging scale's ends against its middle): ΔE00 ≥ 40, far apart in every
  vision, because a heatmap's or a token's colour is read against the legend from across a room;
- the race's four lanes: ΔE00 ≥ 20 between every pair, in every vision (the lanes also differ by
  dash and marker, and the caption reads their scores);
- the lines that share one chart (the loss chart: loss, smoothed loss, ln V, clipping ticks, held-out
  loss): ΔE00 ≥ 12 between every pair (they also differ by width, dash and marker).

Measured (this palette; the smallest distance over normal vision and the three simulations): the
probability scale's ends 62.8 (tritanopia), viridis's ends 73.6, the activation scale's ends 39.4
(protanopia) and each end against its white middle 44.5 or more; the lanes 23.2 (orange against teal,
protanopia); the loss chart 12.3 (red clipping ticks against the purple held-out loss, tritanopia). The
colours they replaced: the red → yellow → green probability scale's ends 15.6 apart under deuteranopia
(the test below keeps it as the case that must fail); on the loss chart the orange smoothed line and
the green ln V 1.3 apart under protanopia, the blue loss and the purple held-out loss 1.9, the green
ln V and the red clipping ticks 4.6 under deuteranopia.
"""

from __future__ import annotations

import colorsys
from itertools import combinations

import numpy as np
import pytest

from rnnviz.figures import palette as pal
from rnnviz.figures.tokens import activation_colour, prob_colour

MACHADO = {   # severity 1.0, rows map linear (R, G, B) to the simulated linear (R, G, B)
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
VISIONS = (None, *MACHADO)   # None: normal colour vision
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])

SCALE_ENDS = 40.0
LANES_APART = 20.0
LINES_APART = 12.0


# ---------------------------------------------------------------------------- colour science
def rgb255(colour) -> np.ndarray:
    """'#rrggbb', 'rgb(r, g, b)' or (r, g, b) → (3,) floats in 0..255."""
    if isinstance(colour, str) and colour.startswith("rgb("):
        return np.array([float(v) for v in colour[4:-1].split(",")])
    return np.array(pal.hex_rgb(colour) if isinstance(colour, str) else colour, dtype=float)


def simulate(colour, vision: str | None) -> np.ndarray:
    """The linear RGB a viewer with ``vision`` sees (clipped to the displayable range)."""
    lin = pal.linear_rgb(rgb255(colour))
    return lin if vision is None else np.clip(MACHADO[vision] @ lin, 0.0, 1.0)


def lab(lin: np.ndarray) -> np.ndarray:
    """Linear sRGB → CIELAB (D65)."""
    t = (SRGB_TO_XYZ @ lin) / WHITE_D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(lab1, lab2) -> float:
    """ΔE00 (Sharma, Wu & Dalal 2005, the formula as published, kL = kC = kH = 1)."""
    (L1, a1, b1), (L2, a2, b2) = lab1, lab2
    C7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    G = 0.5 * (1 - np.sqrt(C7 / (C7 + 25.0 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = np.degrees(np.arctan2(b1, a1p)) % 360, np.degrees(np.arctan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, C2p - C1p
    if C1p * C2p == 0:
        dhp, hbp = 0.0, h1p + h2p
    else:
        dhp = h2p - h1p if abs(h2p - h1p) <= 180 else (h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360)
        hbp = (h1p + h2p) / 2 if abs(h1p - h2p) <= 180 else ((h1p + h2p + 360) / 2 if h1p + h2p < 360
                                                            else (h1p + h2p - 360) / 2)
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dhp) / 2)
    Lbp, Cbp = (L1 + L2) / 2, (C1p + C2p) / 2
    T = (1 - 0.17 * np.cos(np.radians(hbp - 30)) + 0.24 * np.cos(np.radians(2 * hbp))
         + 0.32 * np.cos(np.radians(3 * hbp + 6)) - 0.20 * np.cos(np.radians(4 * hbp - 63)))
    SL = 1 + 0.015 * (Lbp - 50) ** 2 / np.sqrt(20 + (Lbp - 50) ** 2)
    SC, SH = 1 + 0.045 * Cbp, 1 + 0.015 * Cbp * T
    RT = -np.sin(np.radians(60 * np.exp(-(((hbp - 275) / 25) ** 2)))) * 2 * np.sqrt(Cbp ** 7 / (Cbp ** 7 + 25.0 ** 7))
    return float(np.sqrt((dLp / SL) ** 2 + (dCp / SC) ** 2 + (dHp / SH) ** 2 + RT * (dCp / SC) * (dHp / SH)))


def distance(a, b, vision: str | None) -> float:
    return ciede2000(lab(simulate(a, vision)), lab(simulate(b, vision)))


def closest(a, b) -> tuple[float, str]:
    """The smallest ΔE00 between a and b over normal vision and the three simulations, and where."""
    return min((distance(a, b, v), v or "normal vision") for v in VISIONS)


def old_prob_colour(p: float) -> str:
    """The probability scale before this palette: hsl(120·p, 70%, 88 − 18p %), red → yellow → green."""
    r, g, b = colorsys.hls_to_rgb(int(120 * p) / 360, (88 - 18 * p) / 100, 0.7)
    return pal.rgb_hex((255 * r, 255 * g, 255 * b))


# ---------------------------------------------------------------------------- the tools are right
@pytest.mark.parametrize("lab1,lab2,expected", [   # Sharma, Wu & Dalal (2005), table 1: pairs 1, 7, 17, 25
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
])
def test_ciede2000_matches_the_published_test_pairs(lab1, lab2, expected):
    assert ciede2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)


def test_the_simulations_keep_grey_grey_and_merge_what_they_should():
    for vision in MACHADO:   # every row of a Machado matrix sums to 1: neutral colours are seen as they are
        assert distance("#777777", "#777777", vision) == pytest.approx(0, abs=1e-6)
        assert closest("#777777", "#ffffff")[0] > 30
    # The textbook confusions: red against green for the red–green deficiencies, blue against green-ish
    # teal for tritanopia; each far apart in normal vision.
    assert distance("#d62728", "#2ca02c", None) > 60 > 10 > distance("#d62728", "#2ca02c", "deuteranopia")
    assert distance("#0072B2", "#009E73", None) > 30 > 15 > distance("#0072B2", "#009E73", "tritanopia")


def test_the_old_red_to_green_scale_fails_this_check():
    """The scale this palette replaced: its ends collapse under deuteranopia (so the check can fail)."""
    d, vision = closest(old_prob_colour(0.0), old_prob_colour(1.0))
    assert d < SCALE_ENDS and vision == "deuteranopia"


# ---------------------------------------------------------------------------- the palettes
def test_the_probability_scale_runs_light_to_dark_and_its_ends_stay_apart():
    shades = [prob_colour(p) for p in np.linspace(0, 1, 21)]
    for vision in VISIONS:   # lightness alone orders it, in every vision
        L = [lab(simulate(c, vision))[0] for c in shades]
        assert np.all(np.diff(L) < 0), vision
    assert closest(prob_colour(0.0), prob_colour(1.0))[0] >= SCALE_ENDS
    assert prob_colour(float("nan")) == prob_colour(0.0)


def test_viridis_ends_stay_apart():
    assert closest(pal.VIRIDIS[0], pal.VIRIDIS[-1])[0] >= SCALE_ENDS


def test_the_activation_scale_keeps_minus_plus_and_zero_apart():
    neg, zero, pos = (activation_colour(v) for v in (-1.0, 0.0, 1.0))
    assert closest(neg, pos)[0] >= SCALE_ENDS
    assert closest(neg, zero)[0] >= SCALE_ENDS and closest(pos, zero)[0] >= SCALE_ENDS


def test_the_race_lanes_differ_in_every_vision_and_by_dash_and_marker():
    lanes = pal.LANES
    assert len(lanes) >= 4   # RNN, LSTM, GRU, minGRU
    for a, b in combinations(lanes, 2):
        d, vision = closest(a.colour, b.colour)
        assert d >= LANES_APART, f"{a.colour} and {b.colour} are {d:.1f} apart under {vision}"
    assert len({lane.dash for lane in lanes}) == len(lanes)
    assert len({lane.symbol for lane in lanes}) == len(lanes)


def test_the_loss_charts_lines_differ_in_every_vision():
    lines = {"loss": pal.ACCENT, "smoothed": pal.SMOOTH, "ln V": pal.BASELINE, "clipping": pal.CLIP,
             "held-out": pal.HELDOUT}
    for (na, a), (nb, b) in combinations(lines.items(), 2):
        d, vision = closest(a, b)
        assert d >= LINES_APART, f"{na} ({a}) and {nb} ({b}) are {d:.1f} apart under {vision}"


def test_lines_keep_3_to_1_and_labels_4_5_to_1_on_white():
    """WCAG 1.4.11 (graphics 3:1) for every line colour, 1.4.3 (text 4.5:1) for a label in its colour."""
    colours = {pal.ACCENT, pal.SMOOTH, pal.CLIP, pal.BASELINE, pal.HELDOUT, *pal.LINES}
    for c in colours:
        assert pal.contrast(c, "#ffffff") >= 3.0, c
        assert pal.contrast(pal.text_colour(c), "#ffffff") >= 4.5, c
        assert c in pal.NAMES, f"{c} has no name for the captions"


@pytest.mark.parametrize("colour_of", [prob_colour, lambda u: activation_colour(2 * u - 1)])
def test_text_on_every_shade_of_a_scale_reads_at_4_5_to_1(colour_of):
    for u in np.linspace(0, 1, 101):
        bg = pal.rgb_hex(rgb255(colour_of(float(u))))
        assert pal.contrast(pal.ink(bg), bg) >= 4.5, bg


def test_contrast_ratio_matches_wcag_examples():
    assert pal.contrast("#ffffff", "#000000") == pytest.approx(21.0)
    assert pal.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)   # the lightest grey that passes
    assert pal.contrast("#828180", "#ffffff") == pytest.approx(3.88, abs=0.01)   # Streamlit's default caption grey
