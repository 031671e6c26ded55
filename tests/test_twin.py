"""rnnviz.twin: two trainers from identical weights and data, one live setting apart."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from rnnviz.config import TrainConfig
from rnnviz.presets import PRESETS_BY_KEY
from rnnviz.samples import read_sample
from rnnviz.trainer import Trainer
from rnnviz.twin import SPECTRUM_SAMPLES, TWIN_SETTINGS, TwinRun, describe, spectrum_samples, twin_configs

TEXT = "the quick brown fox jumps over the lazy dog. " * 20
SMALL = TrainConfig(hidden_size=16, seq_len=10, optimizer="sgd", lr=0.05, clip="elementwise", clip_value=1.0)


def _diff_fields(a: TrainConfig, b: TrainConfig) -> set[str]:
    return {f.name for f in fields(TrainConfig) if getattr(a, f.name) != getattr(b, f.name)}


@pytest.mark.parametrize("setting", TWIN_SETTINGS)
def test_twin_configs_differ_in_exactly_one_live_setting(setting):
    a, b = twin_configs(SMALL, setting)
    changed = _diff_fields(a, b)
    assert changed and changed <= {"clip", "clip_value", "lr", "truncate", "optimizer"}
    assert describe(a, setting) != describe(b, setting)


def test_optimizer_twins_from_current_weights_keep_them_with_fresh_optimizers():
    main = Trainer(TEXT, SMALL.with_changes(optimizer="adam", cell="lstm"))
    main.step(4)
    run = TwinRun.start(main, "optimizer", from_current=True)
    assert (run.a.trainer.config.optimizer, run.b.trainer.config.optimizer) == ("sgd", "adagrad")
    assert run.a.label.startswith("SGD") and run.b.label.startswith("Adagrad")
    for side in run.sides:
        assert np.array_equal(side.trainer.state.theta, main.state.theta) and side.trainer.state.opt.t == 0
    run.step(2)
    assert run.a.loss[0] == run.b.loss[0] and run.a.loss[1] != run.b.loss[1]


def test_clip_twins_when_the_model_does_not_clip():
    a, b = twin_configs(SMALL.with_changes(clip="none"), "clip")
    assert a.clip == "none" and b.clip == "norm"


@pytest.mark.parametrize("setting", TWIN_SETTINGS)
def test_twins_start_from_identical_weights_and_data(setting):
    run = TwinRun.start(Trainer(TEXT, SMALL), setting)
    ta, tb = run.a.trainer, run.b.trainer
    for name in ("U", "W", "V", "b", "c"):
        assert np.array_equal(ta.params[name], tb.params[name])
    for x, y in zip(ta.next_window(), tb.next_window(), strict=True):
        assert np.array_equal(x, y)
    run.step(1)
    # the first loss is computed before any update: it must be bit-identical
    assert run.a.loss[0] == run.b.loss[0]


def test_twins_from_the_main_models_current_weights():
    main = Trainer(TEXT, SMALL)
    main.step(7)
    run = TwinRun.start(main, "lr", from_current=True)
    assert run.start_step == 7
    for side in run.sides:
        for name in ("U", "W", "V", "b", "c"):
            assert np.array_equal(side.trainer.params[name], main.params[name])
    assert run.a.trainer.config.lr * 10 == pytest.approx(run.b.trainer.config.lr)
    main_before = main.params["W"].copy()
    run.step(3)
    assert np.array_equal(main.params["W"], main_before)   # the main model is not touched


def test_step_advances_both_and_samples_the_spectrum_boundedly():
    run = TwinRun.start(Trainer(TEXT, SMALL), "clip")
    run.step(1)
    run.step(37)
    assert run.steps == 38
    for side in run.sides:
        s = run.series(side)
        assert s["step"].tolist() == list(range(1, 39))
        assert s["loss"].shape == s["grad_norm"].shape == s["clipped"].shape == (38,)
        assert np.isfinite(s["loss"]).all()
        # step 0, the single step, then at most SPECTRUM_SAMPLES for the 37 steps, ending at the last step
        assert s["spec_steps"][:2].tolist() == [0, 1] and s["spec_steps"][-1] == 38
        assert len(s["spec_steps"]) <= 2 + SPECTRUM_SAMPLES
        assert (s["rho"] > 0).all() and (s["sigma_max"] >= s["rho"] - 1e-12).all()


def test_clipping_is_seen_in_the_exploding_preset():
    """The lecture's claim, measured: with ρ(W) = 3 and SGD, the twin without clipping stays far
    above the untrained loss ln V, the clipped twin near or below it; gradients are equal before they differ.

    A property, not a trajectory: the unclipped run is chaotic, so its losses depend on the CPU's
    rounding (a 10-step mean read 3.1 on an AVX-512 machine and above 3.5 on others). Over steps
    21-60, measured on seeds 0-7 (standing in for other CPUs): without clipping the mean was 3.75-13.4
    nats/token, with clipping 1.07-1.71 (ln V = 1.79). Asserted with margins: above ln V + 1, below
    ln V + 0.5, and at least 1 nat apart."""
    p = PRESETS_BY_KEY["exploding"]
    main = Trainer(read_sample(p.sample), p.config)
    run = TwinRun.start(main, "clip")
    run.step(60)
    a, b = run.series(run.a), run.series(run.b)
    assert run.a.label == "no clipping" and b["clipped"].any() and not a["clipped"].any()
    assert a["grad_norm"][0] == b["grad_norm"][0]
    unclipped, clipped = np.mean(a["loss"][20:60]), np.mean(b["loss"][20:60])
    assert unclipped > main.baseline_loss + 1 and clipped < main.baseline_loss + 0.5, (unclipped, clipped)
    assert unclipped - clipped > 1, (unclipped, clipped)


def test_a_diverged_twin_stops_and_the_other_goes_on():
    run = TwinRun.start(Trainer(TEXT, SMALL), "lr")
    run.step(2)
    run.b.trainer.step = lambda n=1: None   # as if B's next update were refused
    run.step(3)
    a, b = run.series(run.a), run.series(run.b)
    assert run.b.diverged_at == 3 and run.a.diverged_at is None
    assert np.isfinite(a["loss"]).all() and np.isnan(b["loss"][2:]).all() and np.isfinite(b["loss"][:2]).all()
    assert run.steps == 5


def test_spectrum_sampling_shrinks_for_a_big_W():
    assert spectrum_samples(100, 50) == SPECTRUM_SAMPLES
    assert spectrum_samples(100, 3) == 3
    assert spectrum_samples(512, 50) == 1


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError):
        twin_configs(SMALL, "seed")
