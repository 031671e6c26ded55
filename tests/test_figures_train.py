"""The Train page's figure specs: valid plotly (with full validation), bounded, honest, escaped."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from rnnviz.figures.common import (
    MAX_POINTS,
    downsample,
    envelope,
    fast_figure,
    layout,
    tick_step,
    token_label,
    viridis,
    visible,
)
from rnnviz.figures.train import adagrad_early_peak_note, dh_heatmap_spec, grad_norms_spec, loss_spec, reach_spec

RNG = np.random.default_rng(0)


def validated(spec: dict) -> go.Figure:
    """Plotly's full validation: raises on any invalid property the fast path skipped."""
    return go.Figure(spec)


def test_loss_spec_is_valid_and_bounded_for_a_long_history():
    n = 20_000
    steps = np.arange(1, n + 1)
    loss = RNG.random(n) + 1
    loss[12_345] = 50.0  # one exploding step must survive downsampling
    fig = validated(loss_spec(steps, loss, loss, 3.9, clipped_steps=steps[::3], lr_change_steps=[100, 200],
                              lr_values=[0.05, 0.025]))
    raw = fig.data[0]
    assert len(raw.x) <= MAX_POINTS + 2 and 50.0 in np.asarray(raw.y)
    assert all(len(tr.x) <= MAX_POINTS + 2 for tr in fig.data)
    assert fig.layout.yaxis.title.text == "loss (nats per token)"
    texts = [a.text for a in fig.layout.annotations]
    assert "untrained: ln V = 3.90" in texts and "η→0.05" in texts


def test_loss_spec_with_no_history_still_shows_the_baseline():
    fig = validated(loss_spec(np.array([]), [], [], 2.0))
    assert len(fig.data) == 0 and any("ln V" in a.text for a in fig.layout.annotations)


def test_heatmap_spec_logs_positive_values_and_blanks_zeros():
    M = np.array([[1.0, 10.0, 0.0], [100.0, np.nan, 1e-3]])
    fig = validated(dh_heatmap_spec([5, 10], M, log_scale=True))
    Z = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_allclose(Z[0, :2], [0.0, 1.0])
    assert np.isnan(Z[0, 2]) and np.isnan(Z[1, 1]) and Z[1, 2] == pytest.approx(-3.0)


def test_grad_norms_spec_totals_and_threshold_line():
    before = {"U": 3.0, "W": 4.0, "V": 0.0, "b": 0.0, "c": 0.0}
    after = {k: v / 5 for k, v in before.items()}
    fig = validated(grad_norms_spec(before, after, "norm", 1.0))
    assert list(fig.data[0].x) == ["U", "W", "V", "b", "c", "all"]
    assert fig.data[0].y[-1] == pytest.approx(5.0) and fig.data[1].y[-1] == pytest.approx(1.0)
    assert fig.layout.shapes[0].y0 == 1.0
    assert len(validated(grad_norms_spec(before, after, "none", 1.0)).layout.shapes) == 0
    elem = validated(grad_norms_spec(before, after, "elementwise", 2.0, max_abs={"U": 3.0, "W": 1.0, "V": 0, "b": 0, "c": 0}))
    assert list(elem.data[2].y[:2]) == [3.0, 1.0] and elem.layout.shapes[0].y0 == 2.0
    # The legend, not a note over the bars, says what the line means.
    assert elem.data[-1].name == "c = 2: entries cut to ±c"
    assert fig.data[-1].name == "c = 1: ‖g‖ scaled down to c"
    assert [a.text for a in elem.layout.annotations] == ["c = 2"]


def test_specs_serialise_to_json():
    norms = {"U": 1.0, "W": np.nan, "V": 2.0, "b": 0.0, "c": 0.5}
    spec = grad_norms_spec(norms, norms, "norm", 1.0)
    parsed = json.loads(pio.to_json(validated(spec), validate=False))
    assert parsed["data"][0]["type"] == "bar" and parsed["layout"]["yaxis"]["type"] == "log"


def test_downsample_keeps_last_and_is_bounded():
    x = np.arange(10_001)
    xs, ys = downsample(x, x * 2, max_points=100)
    assert len(xs) <= 100 and xs[-1] == 10_000 and xs[0] == 0 and np.array_equal(ys, xs * 2)
    small = downsample(np.arange(5), np.arange(5))
    assert len(small[0]) == 5


def test_envelope_keeps_extremes_of_each_bucket():
    x = np.arange(1000)
    y = np.sin(x / 7.0)
    y[333], y[777] = 9.0, -9.0
    ex, ey = envelope(x, y, max_points=50)
    assert len(ex) <= 50 and 9.0 in ey and -9.0 in ey
    assert np.all(np.diff(ex) > 0) and np.array_equal(y[ex], ey)


@pytest.mark.parametrize("tok, shown", [(" ", "␣"), ("\n", "⏎"), ("\t", "⇥"), ("\x00", "\\x00"), ("\x7f", "\\x7f"),
                                        ("a", "a"), ("averyveryverylongword", "averyveryve…")])
def test_visible_tokens(tok, shown):
    assert visible(tok) == shown


def test_token_label_escapes_html():
    assert token_label("<script>") == "&lt;script&gt;"
    assert token_label('"&\'') == "&#34;&amp;&#39;"


def test_trailing_mean_counts_steps_starts_unbiased_and_skips_non_finite():
    from rnnviz.figures.train import trailing_mean

    steps = np.arange(1, 11)
    loss = np.arange(1.0, 11.0)
    np.testing.assert_allclose(trailing_mean(steps, loss, 3), [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9])
    # Thinned history: rows 1, 50, 100, 101, 102: a window of 3 steps at 100 holds only row 100.
    m = trailing_mean(np.array([1, 50, 100, 101, 102]), np.array([9.0, 7.0, 1.0, 2.0, 3.0]), 3)
    np.testing.assert_allclose(m, [9, 7, 1, 1.5, 2])
    m = trailing_mean(steps, np.where(steps == 5, np.inf, loss), 2)
    assert m[4] == 4.0 and m[5] == 6.0
    assert trailing_mean([], [], 5).size == 0


def test_smoothing_follows_the_steps_shown_not_min_char_rnns_thousand_step_lag():
    from rnnviz.figures.train import smoothing_window, trailing_mean

    assert smoothing_window(0) == 5 and smoothing_window(300) == 12 and smoothing_window(10**7) == 500
    # A loss that drops from 4 to 1 at step 200 of 300: the smoothed line is within 0.1 of 1 by step 220
    # (the 0.999 EMA it replaces was still above 3.5 there).
    steps = np.arange(1, 301)
    loss = np.where(steps <= 200, 4.0, 1.0)
    m = trailing_mean(steps, loss, smoothing_window(300))
    assert abs(m[219] - 1.0) < 0.1


def test_loss_legend_names_the_smoothing():
    from rnnviz.figures.train import loss_spec

    spec = loss_spec(np.arange(1, 4), [3.0, 2.0, 1.0], [3.0, 2.5, 2.0], 3.3, smooth_name="mean of the last 5 steps")
    assert spec["data"][1]["name"] == "mean of the last 5 steps"
    assert validated(spec)


def test_a_loss_chart_of_few_steps_has_whole_step_ticks_and_markers():
    spec = loss_spec(np.array([1]), [3.0], [3.0], 3.3)
    assert spec["layout"]["xaxis"]["dtick"] == 1 and spec["data"][0]["mode"] == "lines+markers"
    assert validated(spec)
    long = loss_spec(np.arange(1, 101), np.ones(100), np.ones(100), 3.3)
    assert "dtick" not in long["layout"]["xaxis"] and long["data"][0]["mode"] == "lines"


def test_the_adagrad_early_peak_note_needs_adagrad_an_early_rise_and_the_start_on_the_chart():
    base = np.log(65)
    steps = np.arange(1, 41)
    peaked = np.full(40, base * 0.9)
    peaked[3] = base * 1.3
    assert "Adagrad's first steps" in adagrad_early_peak_note("adagrad", steps, peaked, base)
    assert adagrad_early_peak_note("adam", steps, peaked, base) == ""                 # another optimizer
    assert adagrad_early_peak_note("adagrad", steps, np.full(40, base * 1.1), base) == ""   # no clear rise
    assert adagrad_early_peak_note("adagrad", steps + 10, peaked, base) == ""        # the start is not shown
    assert adagrad_early_peak_note("adagrad", np.arange(1, 402), np.full(401, base * 1.5), base) == ""  # long run
    assert adagrad_early_peak_note("adagrad", steps[:0], peaked[:0], base) == ""
    assert adagrad_early_peak_note("adagrad", steps, np.full(40, np.nan), base) == ""


def test_the_gradient_heatmap_labels_whole_steps():
    M = np.ones((2, 5))
    lay = go.Figure(dh_heatmap_spec([1, 2], M)).layout
    assert list(lay.yaxis.tickvals) == [1, 2] and lay.yaxis.tickformat == "d"
    many = go.Figure(dh_heatmap_spec(np.arange(1, 201), np.ones((200, 5)))).layout
    assert many.yaxis.tickvals is None and many.yaxis.tickformat == "d"   # plotly picks the ticks, whole numbers


def test_reach_bars_are_distances_from_zero_coloured_by_height_with_a_truncation_line():
    ratio = 0.5 ** np.arange(40.0)
    spec = reach_spec(ratio, np.arange(40, 0, -1), truncate=5)
    fig = validated(spec)
    bars = fig.data[0]
    assert list(bars.x) == list(range(40)) and np.allclose(bars.y, ratio)
    assert fig.layout.yaxis.type == "log" and "log scale" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.dtick == 5                                   # a ruler from d = 0
    assert bars.marker.color[0] == "#fde725" and bars.marker.color[-1] == "#440154"   # tall: yellow
    assert list(bars.customdata) == list(range(40, 0, -1))               # terms per bar, in the hover
    assert [s.x0 for s in fig.layout.shapes] == [5.5]                    # training stops after d = k
    assert "k = 5" in fig.layout.annotations[0].text
    full = validated(reach_spec(np.ones(3), [3, 2, 1], truncate=2))     # k ≥ T − 1: full BPTT
    assert not full.layout.shapes and not full.layout.annotations


def test_reach_bars_of_zero_nan_and_inf_are_gaps_not_a_broken_chart():
    spec = reach_spec(np.array([1.0, 0.0, np.nan, np.inf, 0.1]), [5, 4, 3, 2, 1])
    y = validated(spec).data[0].y
    assert y[0] == 1.0 and y[4] == 0.1 and all(np.isnan(v) for v in y[1:4])


def test_colours_and_ruler_steps():
    assert viridis(np.array([0.0, 1.0, np.nan])) == ["#440154", "#fde725", "#bbbbbb"]
    assert [tick_step(n) for n in (1, 15, 16, 25, 75, 76, 200)] == [1, 1, 5, 5, 5, 10, 20]


def test_a_log_axis_over_several_decades_labels_its_powers_of_ten_only():
    """Plotly would label 50 as "5" between 10 and 10²; a narrow log axis keeps its plain-number labels."""
    def axis(y, **yaxis):
        spec = dict(data=[dict(type="scatter", x=list(range(len(y))), y=y)],
                    layout=layout(yaxis=dict(type="log", **yaxis)))
        return fast_figure(spec).layout.yaxis

    assert axis([1.5, 900.0, None, 0.0]).minorloglabels == "none"    # 2.8 decades (None and 0 are not drawn)
    assert axis([0.6, 4.0]).minorloglabels is None                   # under one decade: labels 0.6, 1, 2, …
    assert axis([0.6, 4.0], range=[-3, 1]).minorloglabels == "none"  # the axis's own range decides
    line_at_1 = dict(type="line", x0=0, x1=1, xref="paper", y0=1.0, y1=1.0)   # as the ρ(W) chart draws ρ = 1
    spec = dict(data=[dict(type="scatter", x=[0, 1], y=[155.0, 751.0])],
                layout=layout(yaxis=dict(type="log"), shapes=[line_at_1]))
    assert fast_figure(spec).layout.yaxis.minorloglabels == "none"   # the line stretches the axis to 1 … 751
    assert axis([0.6, 4.0], minorloglabels="small digits").minorloglabels == "small digits"   # a chart's own choice stays
    linear = fast_figure(dict(data=[dict(type="scatter", x=[0, 1], y=[1.0, 1e6])], layout=layout()))
    assert linear.layout.yaxis.minorloglabels is None
