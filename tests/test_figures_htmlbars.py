"""The HTML bar chart (the reach by distance on the Train page): honest heights, axes that hold the data,
escaped labels."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnviz.figures.htmlbars import bar_html, labelled_bars, nice_step, tick_step, value_axis, viridis
from rnnviz.figures.train import reach_html


def bars(html: str) -> list[tuple[float, float]]:
    """(data-value, height %) of every bar, in order."""
    return [(float(v), float(h)) for v, h in re.findall(r"data-value='([^']*)'[^>]*height:([0-9.]+)%", html)]


def dh_html(v, tokens, log_scale):
    """A per-time-step chart as a page would build one: bar_html with the tokens in the tooltips."""
    hover = [f"t = {t} (input {tok}): {x:.3g}" for t, (tok, x) in enumerate(zip(tokens, v, strict=True), 1)]
    return bar_html(v, [str(t) for t in range(1, len(v) + 1)], hover, log=log_scale, x_title="t",
                    y_title="‖∂L/∂h_t‖ (log scale)" if log_scale else "‖∂L/∂h_t‖", label_every=tick_step(len(v)))


def test_linear_bars_are_proportional_to_values():
    html = dh_html(np.array([1.0, 2.0, 4.0]), ["a", "b", "c"], log_scale=False)
    (v1, h1), (v2, h2), (v3, h3) = bars(html)
    assert (v1, v2, v3) == (1.0, 2.0, 4.0)
    assert h2 == pytest.approx(2 * h1, rel=1e-3) and h3 == pytest.approx(4 * h1, rel=1e-3) and h3 <= 100


def test_log_bars_are_equally_spaced_for_geometric_values():
    """Vanishing gradients shrink geometrically: on the log axis that must look like a straight ramp."""
    v = 10.0 ** -np.arange(6.0)[::-1]   # 1e-5 … 1
    heights = [h for _, h in bars(dh_html(v, list("abcdef"), log_scale=True))]
    steps = np.diff(heights)
    assert np.allclose(steps, steps[0], rtol=1e-3) and steps[0] > 0
    assert "log scale" in dh_html(v, list("abcdef"), log_scale=True)


def test_zero_nan_and_inf_draw_a_grey_mark_not_a_broken_chart():
    html = dh_html(np.array([0.0, np.nan, np.inf, 3.0]), list("wxyz"), log_scale=True)
    got = bars(html)
    assert len(got) == 4 and got[3][0] == 3.0
    assert html.count("#bbbbbb") == 3 and all(h < 1 for _, h in got[:3])


def test_user_tokens_are_escaped_in_tooltips_and_labels():
    evil = ["<img src=x onerror=alert(1)>", "'", '"', "&"]
    html = dh_html(np.ones(4), evil, log_scale=False)
    assert "<img" not in html and "input &lt;img" in html
    assert "title='t = 2 (input &#x27;)" in html and "&amp;" in html


def test_reach_bars_are_distances_from_zero_with_a_truncation_note():
    ratio = 0.5 ** np.arange(40.0)
    html = reach_html(ratio, np.arange(40, 0, -1), truncate=5)
    got = bars(html)
    assert [v for v, _ in got] == pytest.approx(ratio.tolist(), rel=1e-5)
    heights = np.diff([h for _, h in got])
    assert np.all(heights < 0) and np.allclose(heights, heights[0], atol=0.02)   # geometric: a straight ramp
    assert "k = 5" in html and "log scale" in html
    ticks = re.findall(r"class='rv-xtick'[^>]*>([^<]*)<", html)
    assert ticks == ["0", "5", "10", "15", "20", "25", "30", "35", "39"]          # a ruler from d = 0
    assert "over 40 loss terms" in html and "over 1 loss term)" in html
    assert "k =" not in reach_html(np.ones(3), [3, 2, 1], truncate=2)           # k ≥ T − 1: full BPTT


def test_axis_holds_every_value():
    for v in (np.array([0.003, 7.0]), np.array([12.0]), np.array([1e-9, 1e3])):
        for log in (True, False):
            ax = value_axis(v, log)
            assert ax.lo <= v.min() or not log or ax.lo <= v[v > 0].min()
            assert ax.hi >= v.max()
            u = ax.unit(v)
            assert np.all((u >= -1e-12) & (u <= 1 + 1e-12))


def test_nice_step_and_colours():
    assert [nice_step(x) for x in (0.7, 1.0, 1.3, 3.0, 7.0, 0.02)] == [1.0, 1.0, 2.0, 5.0, 10.0, 0.02]
    c = viridis(np.array([0.0, 1.0, np.nan]))
    assert c == ["#440154", "#fde725", "#bbbbbb"]


def test_generic_bar_html_needs_one_label_and_tooltip_per_bar():
    html = bar_html([1, 2], ["x", "y"], ["one", "two"], log=False, x_title="t", y_title="size")
    assert "title='one'" in html and "title='two'" in html and "size" in html


def test_tick_labels_never_sit_side_by_side_on_a_long_window():
    """T = 25: labels 1, 5, 10, 15, 20, 25 (all 25 in a half-page chart ran together as "101112")."""
    assert [i + 1 for i in labelled_bars(25, tick_step(25))] == [1, 5, 10, 15, 20, 25]
    assert labelled_bars(12, tick_step(12)) == list(range(12))
    # 42 bars: 40 and 42 would touch, so 40 gives way to the last bar.
    assert [i + 1 for i in labelled_bars(42, tick_step(42))] == [1, 5, 10, 15, 20, 25, 30, 35, 42]
    for n in (1, 2, 7, 16, 40, 99, 200, 1000):
        marks = labelled_bars(n, tick_step(n))
        assert marks[0] == 0 and marks[-1] == n - 1 and marks == sorted(set(marks))
        assert len(marks) <= 17
        assert all(b - a >= tick_step(n) / 2 for a, b in zip(marks[1:], marks[2:], strict=False))
    html = dh_html(np.ones(25), ["a"] * 25, log_scale=False)
    assert html.count("class='rv-xtick'") == 6
