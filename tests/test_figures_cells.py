"""The cell figures (rnnviz.figures.cells): valid plotly (full validation), labels escaped, and
captions that read the numbers they are given (change the numbers, the caption changes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from rnnviz.bptt import gradient_reach, loss_and_grads
from rnnviz.cells import get_cell
from rnnviz.config import TrainConfig
from rnnviz.figures import cells as fc
from rnnviz.local_jacobian import local_jacobian
from rnnviz.params import init_params
from rnnviz.race import Race
from rnnviz.spectrum import reach_decay

TEXT = (Path(__file__).resolve().parent.parent / "sample_texts" / "recall_first_char.txt").read_text()


def _window(name, T=10, H=5, V=6, seed=0):
    p = init_params(V, H, cell=name, seed=seed)
    rng = np.random.default_rng(seed)
    return p, rng.integers(0, V, T), rng.integers(0, V, T)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "mingru"])
def test_specs_from_a_real_window_are_valid_for_every_cell(name):
    p, xs, ys = _window(name)
    cell = get_cell(name)
    res = loss_and_grads(p, xs, ys, cell=name)
    go.Figure(fc.gates_spec(res.gate_means))
    assert set(res.gate_means) == set(cell.gate_names)
    go.Figure(fc.state_grads_spec(res.state_grad_norms, log_scale=True))
    go.Figure(fc.state_grads_spec(res.state_grad_norms, log_scale=False))
    cap = fc.state_grads_caption(res.state_grad_norms)
    for part in cell.state_parts:
        assert f"‖∂L/∂{part}_1‖ = {res.state_grad_norms[part][0]:.3g}" in cap
    decays = {part: (lambda d: (d.d, d.typical))(reach_decay(gradient_reach(p, xs, ys, cell=name, wrt=part)))
              for part in cell.state_parts}
    go.Figure(fc.reach_parts_spec(decays))
    assert all(f"through {part}" in fc.reach_parts_caption(decays) for part in cell.state_parts)
    lj = local_jacobian(p, xs, cell=name)
    go.Figure(fc.jacobian_sv_spec(lj.sv))
    cap = fc.jacobian_sv_caption(lj.sv, lj.state_parts)
    assert f"{lj.sigma_max.min():.3g} to {lj.sigma_max.max():.3g}" in cap
    assert f"{int(np.sum(lj.sigma_max > 1))} of {xs.size} steps" in cap


def test_gates_caption_reads_the_numbers():
    g = {"f": np.array([0.5, 0.9, 0.7]), "i": np.array([0.2, 0.1, 0.3])}
    cap = fc.gates_caption(g)
    assert "f: mean 0.70 (lowest 0.50 at t = 1, highest 0.90 at t = 2)" in cap
    assert "i: mean 0.20 (lowest 0.10 at t = 2, highest 0.30 at t = 3)" in cap
    g["f"] = g["f"] * 0.5
    assert "f: mean 0.35" in fc.gates_caption(g)
    assert fc.gates_caption({}) == ""
    go.Figure(fc.gates_spec({"<b>x</b>": [0.5, np.inf]}))          # escaped, ∞ a gap
    assert "<b>x" not in str(fc.gates_spec({"<b>x</b>": [0.5]}))


def test_reach_caption_says_where_the_reach_falls_below_one_percent():
    d = np.arange(5)
    cap = fc.reach_parts_caption({"h": (d, np.array([1, 0.1, 0.02, 0.005, 0.001])),
                                  "c": (d, np.array([1, 0.9, 0.8, 0.7, 0.6]))})
    assert "through h: 0.001 at d = 4, falls below 1% at d = 3" in cap
    assert "through c: 0.6 at d = 4, stays above 1% over the whole window" in cap


def test_jacobian_caption_counts_stretching_steps():
    sv = np.array([[2.0, 0.5], [0.5, 0.1], [1.5, 1.0]])
    cap = fc.jacobian_sv_caption(sv, ("h", "c"))
    assert "(h, c) has 2 numbers" in cap and "from 0.5 to 2" in cap and "exceeds 1 at 2 of 3 steps" in cap
    assert "10^0.2" in cap    # log10(2 · 0.5 · 1.5) = 0.18


def test_race_specs_and_caption():
    r = Race(TEXT, TrainConfig(hidden_size=6, seq_len=12, optimizer="adam", lr=0.01, clip="norm"), eval_every=2)
    assert "Step 0" in fc.race_caption(r.summary(), r.chance)
    r.step(4)
    labels = {cell: rc.title for cell, rc in r.racers.items()}
    go.Figure(fc.race_loss_spec({labels[c]: (r.series(c)["step"], r.series(c)["loss"]) for c in r.racers}, 1.9))
    go.Figure(fc.race_accuracy_spec({labels[c]: (r.series(c)["eval_steps"], r.series(c)["accuracy"])
                                     for c in r.racers}, r.chance))
    spec = fc.race_reach_spec({labels[c]: r.reaches(c)["h"] for c in r.racers})
    go.Figure(spec)
    assert [a["text"] for a in spec["layout"]["annotations"]] == [f"<b>{t}</b>" for t in labels.values()]
    summary = r.summary()
    cap = fc.race_caption(summary, r.chance)
    assert cap.startswith("After 4 steps")
    for s in summary:
        assert f"{s['label']} {s['correct']}/{s['n']} right ({s['accuracy']:.0%}" in cap


def test_race_caption_names_the_gap_and_who_sits_at_chance():
    rows = [dict(label="Vanilla RNN", step=900, accuracy=0.25, correct=15, n=60, best=0.3, loss=0.9, diverged_at=None),
            dict(label="GRU", step=900, accuracy=1.0, correct=60, n=60, best=1.0, loss=0.5, diverged_at=None),
            dict(label="LSTM", step=900, accuracy=0.5, correct=30, n=60, best=0.5, loss=0.7, diverged_at=40)]
    cap = fc.race_caption(rows, 0.25)
    assert "GRU picks the right closing marker 75 percentage points more often than Vanilla RNN" in cap
    assert "Within 10 points of chance (25%): Vanilla RNN." in cap
    assert "LSTM diverged at step 40" in cap


@pytest.mark.parametrize("k", [None, 2])
def test_unrolled_graph_with_a_cell_state_row_is_valid_and_marks_the_highway(k):
    from rnnviz.figures.explorer import unrolled_graph_spec

    T, t = 16, 6
    toks = [chr(97 + i) for i in range(T)]
    spec = unrolled_graph_spec(toks, toks[1:] + ["z"], t, k, np.linspace(1, 2, T), np.ones(T),
                               dc_norms=np.linspace(0.1, 1, T))
    go.Figure(spec)
    labels = [a["text"] for a in spec["layout"]["annotations"] if "⊙ f" in a.get("text", "")]
    red = [a for a in spec["layout"]["annotations"] if "⊙ f" in a.get("text", "") and a["font"]["color"] == "#d62728"]
    assert labels and red                     # later losses reach c_t along ⊙ f edges, drawn red
    steps = [int(a["text"].split("<sub>")[1].split("</sub>")[0]) for a in red]   # s + 1 of the edge c_{s−1} → c_s
    reach = T if k is None else t + k + 1            # L_s reaches c_t when s − t ≤ k (s 0-based)
    assert all(t + 1 < n <= reach for n in steps) and t + 2 in steps
    plain = unrolled_graph_spec(toks, toks, t, k, np.ones(T), np.ones(T))
    assert not [a for a in plain["layout"]["annotations"] if "⊙ f" in a.get("text", "")]


def test_heatmap_and_strip_show_c_on_its_own_scale():
    from rnnviz.figures.generate import heatmap_spec
    from rnnviz.figures.tokens import unit_strip_html

    hs = np.array([[0.5, -3.0, 2.0], [1.0, 0.0, -1.0]])
    spec = heatmap_spec(hs, [0, 1], ["a", "b", "c"], part="c", scale=3.0)
    go.Figure(spec)
    heat = spec["data"][0]
    assert (heat["zmin"], heat["zmax"]) == (-3.0, 3.0) and "c  (−3 … +3)" in heat["colorbar"]["title"]["text"]
    assert "c = " in heat["hovertemplate"]
    html_ = unit_strip_html(["a", "b", "c"], hs[0], 0, part="c", scale=3.0)
    assert "c = -3.00" in html_ and "+3" in html_ and "c of unit 0" in html_
    assert heatmap_spec(hs, [0], ["a", "b", "c"], scale=float("nan"))["data"][0]["zmax"] == 1.0


def test_the_jacobian_axis_holds_its_lines_however_small_the_median():
    """Saturated units (as after an explosion) push the median singular value to 1e−10 and below: its
    line must stay on the chart (an axis cut at 1e−6 once left it off)."""
    sv = np.array([[3.0, 1e-104, 0.0], [2.0, 1e-12, 1e-300]])
    lo, hi = go.Figure(fc.jacobian_sv_spec(sv)).layout.yaxis.range
    median = np.median(sv, axis=1)
    assert lo <= np.log10(median.min()) and hi >= np.log10(sv[:, 0].max())


def test_the_race_sentence_reads_the_scores_and_says_when_a_lane_dipped():
    from rnnviz.figures.race import score_sentence

    rows = [dict(label="Vanilla RNN", step=3000, accuracy=0.29, correct=17, n=59, best=0.32, first=None, diverged_at=None),
            dict(label="GRU", step=3000, accuracy=1.0, correct=59, n=59, best=1.0, first=2300, diverged_at=None),
            dict(label="LSTM", step=3000, accuracy=0.29, correct=17, n=59, best=1.0, first=2300, diverged_at=None)]
    s = score_sentence(rows, 0.25)
    assert s.startswith("After 3,000 race steps") and "GRU 100% (59 of 59, 70% first at step 2,300)" in s
    assert "Remembering: GRU." in s and "no better than guessing (never 15 points above chance): Vanilla RNN" in s
    assert "LSTM has dipped from its best 100% to 29%" in s
    assert "dipped" not in score_sentence(rows[:2], 0.25)
    assert score_sentence([{**r, "step": 0} for r in rows], 0.25).startswith("Step 0")
