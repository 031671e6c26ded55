"""The Generate page's figure and HTML builders: shapes, caps, colours and escaping."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import pytest

from rnnviz.figures.generate import MAX_COLUMNS, MAX_UNITS, VISIBLE_COLUMNS, heatmap_spec, hidden_heatmap, pick_units
from rnnviz.figures.tokens import ACTIVATION_STOPS, activation_colour, unit_strip_html

XSS = "<img src=x onerror=alert(1)>"


def rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(v) for v in re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", css).groups())


# ---------------------------------------------------------------------------- activation colours
@pytest.mark.parametrize("v,colour", [(v, c) for v, c in ACTIVATION_STOPS])
def test_activation_colour_hits_each_stop(v, colour):
    assert rgb(activation_colour(v)) == colour


def test_activation_colour_is_red_negative_white_zero_blue_positive_and_clipped():
    red, white, blue = rgb(activation_colour(-1)), rgb(activation_colour(0)), rgb(activation_colour(1))
    assert red[0] > red[2] and blue[2] > blue[0] and min(white) > 240
    assert activation_colour(-5) == activation_colour(-1) and activation_colour(7) == activation_colour(1)
    assert activation_colour(float("nan")) == activation_colour(float("inf")) == "rgb(200, 200, 200)"
    # Halfway between two stops is halfway between their colours.
    mid = rgb(activation_colour(0.25))
    assert mid == tuple(round((a + b) / 2) for a, b in zip(ACTIVATION_STOPS[2][1], ACTIVATION_STOPS[3][1], strict=True))


# ---------------------------------------------------------------------------- unit strip
def test_unit_strip_escapes_tokens_and_tooltips():
    tokens = [XSS, '"', "'", "&", "\n"]
    body = unit_strip_html(tokens, [0.1, -0.2, 0.3, 1.0, -1.0], unit=3)
    assert "<img" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    # Every title attribute is closed by the first double quote: no token can break out of it.
    for title in re.findall(r'title="([^"]*)"', body):
        assert "<" not in title and ">" not in title
    assert body.count("<span style=") == len(tokens) + 5   # one per token + the 5-swatch legend
    assert "⏎" in body and "unit 3" in body


def test_unit_strip_colours_follow_the_values():
    body = unit_strip_html(["a", "b", "c"], [-1.0, 0.0, 1.0], unit=0)
    spans = re.findall(r'<span style="background:(rgb\([^)]*\))', body)[:3]
    assert spans == [activation_colour(-1), activation_colour(0), activation_colour(1)]


def test_unit_strip_joiner_and_length_check():
    body = unit_strip_html(["the", "sea"], [0.0, 0.5], unit=1, joiner=" ")
    assert "</span> <span" in body
    with pytest.raises(ValueError, match="one value per token"):
        unit_strip_html(["a", "b"], [0.1], unit=0)


# ---------------------------------------------------------------------------- picking units
def test_pick_units_by_variance_index_and_cap():
    rng = np.random.default_rng(0)
    hs = rng.uniform(-0.1, 0.1, (80, 50))
    hs[17] = np.tile([-0.9, 0.9], 25)         # the unit that moves most
    hs[5] = np.linspace(-0.5, 0.5, 50)        # second
    assert pick_units(hs, 2).tolist() == [17, 5]
    assert pick_units(hs, 3, "index").tolist() == [0, 1, 2]
    assert pick_units(hs, 1000).size == MAX_UNITS
    assert pick_units(hs[:4], 10).size == 4
    with pytest.raises(ValueError):
        pick_units(hs, 3, "loudest")


def test_pick_units_slow_prefers_units_that_hold_their_value():
    t = np.arange(60)
    hs = np.zeros((3, 60))
    hs[0] = np.where(t % 2, 0.9, -0.9)         # flips at every token: autocorrelation −1
    hs[1] = np.where(t < 30, -0.8, 0.8)        # one switch, like "inside a quote": near +1
    hs[2] = 0.3                                # never moves: nothing to see, last
    assert pick_units(hs, 3, "slow").tolist() == [1, 0, 2]
    assert pick_units(hs, 3, "variance").tolist()[:2] == [0, 1]


# ---------------------------------------------------------------------------- heatmap
def test_heatmap_spec_is_valid_plotly_with_units_as_rows():
    rng = np.random.default_rng(1)
    hs = np.tanh(rng.normal(size=(10, 30)))
    tokens = list("abcdefghij" * 3)
    spec = heatmap_spec(hs, [4, 2, 9], tokens)
    fig = go.Figure(spec)                      # full validation (the page skips it for speed)
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (3, 30)
    assert np.array_equal(np.asarray(heat.z)[1], hs[2])
    assert list(heat.y) == ["unit 4", "unit 2", "unit 9"]
    assert (heat.zmin, heat.zmid, heat.zmax) == (-1, 0, 1)
    assert fig.layout.yaxis.autorange == "reversed"   # the first unit given is on top
    assert np.array(heat.customdata).shape == (3, 30)
    assert isinstance(hidden_heatmap(hs, [4, 2, 9], tokens), go.Figure)


def test_heatmap_caps_columns_and_rows_and_opens_on_the_first_tokens():
    hs = np.zeros((100, 500))
    tokens = ["x"] * 500
    spec = heatmap_spec(hs, np.arange(100), tokens)
    heat = spec["data"][0]
    assert np.asarray(heat["z"]).shape == (MAX_UNITS, MAX_COLUMNS)
    assert len(spec["layout"]["xaxis"]["ticktext"]) == MAX_COLUMNS
    assert spec["layout"]["xaxis"]["range"] == [-0.5, VISIBLE_COLUMNS - 0.5]
    assert "drag sideways" in spec["layout"]["xaxis"]["title"]["text"]


def test_heatmap_labels_are_escaped_and_visible():
    tokens = ["<b>", '"', " ", "\n", "a"]
    spec = heatmap_spec(np.zeros((2, 5)), [0, 1], tokens)
    ticks = spec["layout"]["xaxis"]["ticktext"]
    assert ticks == ["&lt;b&gt;", "&#34;", "␣", "⏎", "a"]
    assert spec["data"][0]["customdata"][0] == ticks
    assert spec["layout"]["xaxis"]["tickangle"] == -60       # "<b>" is a long label: turned
    assert heatmap_spec(np.zeros((1, 2)), [0], ["a", "b"])["layout"]["xaxis"]["tickangle"] == 0


def test_heatmap_rejects_mismatched_tokens():
    with pytest.raises(ValueError, match="tokens"):
        heatmap_spec(np.zeros((3, 4)), [0], ["a", "b"])
