"""The trainer's sparse log of ρ(W) and σ_max(W) over training, and its chart."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnnviz import TrainConfig, Trainer
from rnnviz.figures.lab import spectrum_history_spec

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
