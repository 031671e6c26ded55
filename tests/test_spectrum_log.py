"""The trainer's sparse log of ρ(W) and σ_max(W) over training, and its chart."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnnviz import TrainConfig, Trainer
from rnnviz.figures.lab import spectrum_history_spec
from rnnviz.trainer import SPECTRUM_SCHEDULE, spectrum_due

TEXT = "a quick brown fox jumps over the lazy dog; " * 30


def test_logged_at_powers_of_two_then_every_hundred_with_exact_values():
    tr = Trainer(TEXT, TrainConfig(hidden_size=12, seq_len=8))
    ref = Trainer(TEXT, TrainConfig(hidden_size=12, seq_len=8))
    expected = {}
    for step in range(1, 221):
        ref.step()
        if step in (1, 2, 4, 8, 16, 32, 64, 100, 200):
            W = ref.params["W"]
            expected[step] = (np.abs(np.linalg.eigvals(W)).max(), np.linalg.svd(W, compute_uv=False)[0])
    tr.step(220)
    assert [s for s, _, _ in tr.history.spectrum] == sorted(expected)
    for s, rho, sigma in tr.history.spectrum:
        assert rho == np.float64(expected[s][0]) or abs(rho - expected[s][0]) < 1e-12
        assert abs(sigma - expected[s][1]) < 1e-10


def test_sparser_after_step_1000_and_the_schedule_matches_its_description():
    expected = [1, 2, 4, 8, 16, 32, 64, *range(100, 1001, 100), 1500, 2000, 2500]
    assert [s for s in range(1, 2600) if spectrum_due(s)] == expected
    # SPECTRUM_SCHEDULE is what captions show: it must name these numbers.
    assert all(part in SPECTRUM_SCHEDULE for part in ("1, 2, 4, …, 64", "every 100 steps up to 1,000", "every 500"))
    # The trainer follows it, and a late entry holds W's numbers at that very step.
    tr = Trainer(TEXT, TrainConfig(hidden_size=4, seq_len=4))
    tr.step(1499)
    W = tr.params["W"].copy()
    tr.step(1)
    assert [s for s, _, _ in tr.history.spectrum] == expected[:-2]
    W1500 = tr.params["W"]
    assert not np.array_equal(W, W1500)
    _, rho, sigma = tr.history.spectrum[-1]
    assert abs(rho - np.abs(np.linalg.eigvals(W1500)).max()) < 1e-12
    assert abs(sigma - np.linalg.svd(W1500, compute_uv=False)[0]) < 1e-12


def test_undo_and_reset_trim_the_log():
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=8))
    tr.step(70)
    tr.undo(10)
    assert [s for s, _, _ in tr.history.spectrum] == [1, 2, 4, 8, 16, 32]
    tr.reset()
    assert tr.history.spectrum == []


def test_chart_spec_is_valid():
    fig = go.Figure(spectrum_history_spec([1, 2, 4, 100], [0.9, 1.1, 1.4, 2.0], [1.2, 1.5, 2.2, 3.1]))
    assert list(fig.data[0].y) == [0.9, 1.1, 1.4, 2.0] and fig.layout.xaxis.title.text == "training step"
