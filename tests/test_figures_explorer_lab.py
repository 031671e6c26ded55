"""The explorer's and the lab's figure specs: valid plotly (full validation), bounded, escaped,
and safe on a log axis (zeros and infinities become gaps, never a broken chart)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import rnnviz
from rnnviz.config import TrainConfig
from rnnviz.explain import backward_trace
from rnnviz.figures import explorer as fx
from rnnviz.figures import lab as fl
from rnnviz.spectrum import reach_decay, w_spectrum
from rnnviz.trainer import Trainer
from rnnviz.truncation import truncation_sweep
from rnnviz.twin import TwinRun

RNG = np.random.default_rng(0)


PLOTLY_JS_SCALES = {"Greys", "YlGnBu", "Greens", "YlOrRd", "Bluered", "RdBu", "Reds", "Blues", "Picnic", "Rainbow",
                    "Portland", "Jet", "Hot", "Blackbody", "Earth", "Electric", "Viridis", "Cividis"}


def _scales(obj):
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "colorscale":
                yield value
            else:
                yield from _scales(value)
    elif isinstance(obj, list):
        for v in obj:
            yield from _scales(v)


def validated(spec: dict) -> go.Figure:
    """Plotly's full validation: raises on any invalid property the fast path skipped. Also: a
    colour scale named in the spec must be one plotly.js knows, since the fast path sends names
    as they are (plotly.py's validation would have expanded any of its own names)."""
    for scale in _scales(spec):
        assert not isinstance(scale, str) or scale in PLOTLY_JS_SCALES, scale
    return go.Figure(spec)


def tokens(T: int) -> list[str]:
    return [["<b>", "a", "\n", " ", "'", '"'][i % 6] for i in range(T)]


@pytest.mark.parametrize("T,t,k", [(1, 0, None), (5, 4, None), (5, 0, 1), (25, 24, None), (200, 120, 3), (200, 0, 5)])
def test_unrolled_graph_is_valid_bounded_and_escaped(T, t, k):
    dh = RNG.random(T) + 0.1
    dh[0] = 0.0                                   # a zero norm must not break the log colour scale
    fig = validated(fx.unrolled_graph_spec(tokens(T), tokens(T)[::-1], t, k, dh, RNG.random(T)))
    lo, hi = fx.visible_steps(T, t)
    assert hi - lo + 1 == min(T, fx.MAX_SHOWN) and lo <= t <= hi
    texts = [a.text for a in fig.layout.annotations]
    assert "&lt;b&gt;" in texts and "<b>" not in texts          # a token never becomes markup
    assert ("…" in texts) == (T > fx.MAX_SHOWN)
    assert ("<b>✂ W</b>" in texts) == (k is not None and lo <= t + k + 1 <= hi)
    shown = {s for tr in fig.data for s in (tr.text or ()) if s.startswith("h<sub>")}
    assert f"h<sub>{t + 1}</sub>" in shown and len(shown) <= fx.MAX_SHOWN + 1


def test_matrix_heatmap_is_capped_and_scaled_by_the_whole():
    M = RNG.normal(size=(300, 300))
    whole = 10 * M
    fig = validated(fx.matrix_heatmap_spec(M, scale_of=whole))
    z = np.asarray(fig.data[0].z)
    assert z.shape == (fx.MAX_UNITS, fx.MAX_UNITS)
    assert fig.data[0].zmax == pytest.approx(np.abs(whole).max()) and fig.data[0].zmin == -fig.data[0].zmax
    assert validated(fx.matrix_heatmap_spec(np.zeros((3, 3)))).data[0].zmax == 1.0   # all-zero: still a scale


def test_dh_compare_and_gradcheck_specs():
    fig = validated(fx.dh_compare_spec([1.0, 0.0, np.inf], [1.0, 0.5, 2.0], 1, 2))
    assert np.isnan(np.asarray(fig.data[0].y, dtype=float)[1:]).all()
    fig = validated(fx.gradcheck_spec({"U": 1e-9, "W": 0.0, "V": 5e-5, "b": 0.2, "c": np.nan}))
    colours = list(fig.data[0].marker.color)
    assert colours[0] == fx.GOOD and colours[1] == fx.GOOD and colours[2] == fx.SMOOTH   # right, right, in between
    assert colours[3] == fx.CLIP_RED and colours[4] == fx.CLIP_RED
    assert min(fig.data[0].y) >= fx.FLOOR


def test_lab_specs_from_a_real_model_are_valid():
    tr = Trainer("abcabcabd " * 30, TrainConfig(hidden_size=8, seq_len=12))
    tr.step(3)
    xs, ys, h0 = tr.next_window()
    R = rnnviz.gradient_reach(tr.params, xs, ys, h0)
    R[5, 1] = 0.0
    spec = w_spectrum(tr.params["W"])
    dec = reach_decay(R)
    validated(fl.reach_heatmap_spec(R))
    validated(fl.reach_decay_spec(dec.d, dec.typical, dec.low, dec.high, spec.rho, spec.sigma_max))
    validated(fl.eigen_spec(spec.eigenvalues, spec.rho))
    validated(fl.saturation_spec(backward_trace(tr.params, xs, ys, h0).hs))
    sw = truncation_sweep(tr.params, xs, ys, h0)
    fig = validated(fl.sweep_spec(sw.ks, sw.rel_error, 4))
    assert np.isnan(np.asarray(fig.data[-1].y, dtype=float)[-1])     # k = T − 1 (exact) is off the log axis
    run = TwinRun.start(tr, "clip")
    run.step(4)
    a, b = run.series(run.a), run.series(run.b)
    validated(fl.twin_metric_spec(a["step"], a["loss"], b["loss"], "A", "B", "loss", hline=2.0, hline_text="ln V"))
    validated(fl.twin_metric_spec(a["step"], a["grad_norm"], b["grad_norm"], "A", "B", "norm", log=True))
    validated(fl.twin_spectrum_spec(a, b, "A", "B"))


def test_reach_heatmap_blanks_the_upper_triangle_and_survives_all_zero():
    R = np.tril(RNG.random((6, 6)) + 0.1)
    z = np.asarray(validated(fl.reach_heatmap_spec(R)).data[0].z, dtype=float)
    assert np.isnan(z[np.triu_indices(6, 1)]).all() and np.isfinite(z[np.tril_indices(6)]).all()
    validated(fl.reach_heatmap_spec(np.zeros((3, 3))))


def test_reference_lines_stay_near_the_data():
    """An exploding ρ = 2 over 200 steps (2^199) must not stretch the axis over 60 decades."""
    d = np.arange(200)
    typ = 0.9 ** d
    fig = validated(fl.reach_decay_spec(d, typ, typ / 2, typ * 2, 2.0, 2.5))
    lo, hi = fig.layout.yaxis.range
    for tr in fig.data[2:]:
        y = np.asarray(tr.y, dtype=float)
        assert y.size == 0 or (np.log10(y.max()) <= hi and np.log10(y.min()) >= lo)


def test_twin_metric_downsamples_long_runs_keeping_spikes():
    n = 5000
    steps = np.arange(1, n + 1)
    a = RNG.random(n) + 1
    a[3210] = 1e6
    b = np.full(n, np.nan)        # a twin that diverged at once: all gaps
    fig = validated(fl.twin_metric_spec(steps, a, b, "A", "B", "norm", log=True))
    assert len(fig.data[0].x) <= 602 and 1e6 in np.asarray(fig.data[0].y)


def test_a_gated_cells_dw_heatmap_shows_every_gate_block():
    """The LSTM's dW is 4H × H (blocks i, f, g, o): each block gets its rows on the chart, labelled."""
    H = 60
    M = np.zeros((4 * H, H))
    for b in range(4):
        M[b * H:(b + 1) * H] = b + 1          # block b holds the value b + 1
    fig = validated(fx.matrix_heatmap_spec(M, blocks=("i", "f", "g", "o")))
    z = np.asarray(fig.data[0].z)
    per = fx.MAX_UNITS // 4
    assert z.shape == (4 * per, H)
    assert [set(np.unique(z[b * per:(b + 1) * per])) for b in range(4)] == [{1.0}, {2.0}, {3.0}, {4.0}]
    assert list(fig.layout.yaxis.ticktext) == ["<b>i</b>", "<b>f</b>", "<b>g</b>", "<b>o</b>"]
    assert len(fig.layout.shapes) == 3                                  # lines between the blocks
    assert fig.data[0].customdata[per][0] == "f, unit 1"                # hover names block and unit
    small = validated(fx.matrix_heatmap_spec(np.ones((3 * 8, 8)), blocks=("r", "z", "n")))
    assert np.asarray(small.data[0].z).shape == (24, 8)                 # small H: every row of every block
