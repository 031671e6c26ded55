"""The three-cell race (rnnviz.race): one config, the same windows, each its own cell; and the
long-memory gap itself (slow: ~20-60 s, marked `slow` in its name and docstring)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rnnviz.race as race_mod
from rnnviz.config import TrainConfig
from rnnviz.race import LONGMEM_CONFIG, LONGMEM_GAP_STEPS, RACE_CELLS, Race

TEXT = (Path(__file__).resolve().parent.parent / "sample_texts" / "recall_first_char.txt").read_text()
SMALL = TrainConfig(hidden_size=6, seq_len=12, optimizer="adam", lr=0.01, clip="norm", seed=5)


def test_racers_share_settings_and_windows_and_differ_only_in_cell():
    r = Race(TEXT, SMALL, eval_every=4)
    assert tuple(r.racers) == RACE_CELLS
    assert r.step(9) == 9 and r.steps == 9
    cfgs = [rc.trainer.config for rc in r.racers.values()]
    assert {c.cell for c in cfgs} == set(RACE_CELLS)
    assert len({c.with_changes(cell="rnn") for c in cfgs}) == 1
    assert len({rc.trainer.state.pos for rc in r.racers.values()}) == 1
    for cell in RACE_CELLS:
        s = r.series(cell)
        assert s["step"].tolist() == list(range(1, 10)) and np.isfinite(s["loss"]).all()
        assert s["eval_steps"].tolist() == [0, 4, 8]
        assert np.all((s["accuracy"] >= 0) & (s["accuracy"] <= 1)) and np.all(s["n"] > 0)
        assert len(r.racers[cell].trainer.history) == 0          # racers keep no history rows
    assert r.chance == 0.25


def test_reach_is_lower_triangular_for_every_cell_and_part():
    r = Race(TEXT, SMALL)
    for cell, rc in r.racers.items():
        for part in rc.trainer.cell.state_parts:
            R = r.reaches(cell)[part]
            assert R.shape == (12, 12) and np.all(np.triu(R, 1) == 0) and np.all(np.diag(R) > 0)


def test_a_diverged_racer_stops_and_the_others_go_on(monkeypatch):
    r = Race(TEXT, SMALL)
    monkeypatch.setattr(r.racers["gru"].trainer, "step", lambda *a, **k: None)
    r.step(3)
    assert r.racers["gru"].diverged_at == 1
    assert np.isnan(r.series("gru")["loss"]).all() and np.isfinite(r.series("lstm")["loss"]).all()
    summary = {s["label"]: s for s in r.summary()}
    assert summary["GRU"]["diverged_at"] == 1 and summary["LSTM"]["diverged_at"] is None


def test_steps_are_bounded(monkeypatch):
    monkeypatch.setattr(race_mod, "MAX_RACE_STEPS", 5)
    r = Race(TEXT, SMALL)
    assert r.step(4) == 4 and r.step(10**9) == 1 and r.step(1) == 0 and r.steps == 5


def test_a_spectral_radius_is_dropped_for_the_race():
    r = Race(TEXT, SMALL.with_changes(init="orthogonal", spectral_radius=0.5))
    assert all(rc.trainer.config.spectral_radius is None for rc in r.racers.values())


def test_slow_the_long_memory_gap():
    """SLOW (~45 s on one core: three models × 3,000 steps at T = 100): the long-memory preset's point,
    as a property with margins, not a trajectory.

    Measured with `python benchmarks/race_seeds.py --seeds 0 … 15`, the seeds standing in for other CPUs
    (README, "Long memory, measured"): within 3,000 steps the GRU's best score was 85-100% for all 16
    seeds; the vanilla RNN's median score 24-29% and its best (the top of 30 noisy scores) 32-42%
    (chance 25%). So, with at least 10 points to spare: GRU best ≥ 70%, RNN median ≤ 40%, RNN best ≤ 55%,
    and the GRU's best at least 30 points above the RNN's median.

    The LSTM is not asserted here: its best within 3,000 steps was 61-100% for 14 seeds but 34% and 46%
    for two (47% and 66% by step 6,000), so no threshold that means "learned" holds on every machine.
    Its mechanism, the gradient passing along c untouched when f = 1 and i = 0, is tested exactly in
    tests/test_engine_cells.py."""
    r = Race(TEXT, LONGMEM_CONFIG)
    r.step(LONGMEM_GAP_STEPS)
    best = {cell: max(r.racers[cell].accuracy) for cell in RACE_CELLS}
    rnn_median = float(np.median(r.racers["rnn"].accuracy))
    assert best["gru"] >= 0.7, best
    assert rnn_median <= 0.4 and best["rnn"] <= 0.55, (rnn_median, best)
    assert best["gru"] - rnn_median >= 0.3, (rnn_median, best)


@pytest.mark.parametrize("cell", RACE_CELLS)
def test_unknown_cell_is_refused(cell):
    with pytest.raises(ValueError, match="unknown cell"):
        Race(TEXT, SMALL, cells=(cell, "nope"))
