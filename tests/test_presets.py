"""Each lecture preset makes its point in the first 20 steps and keeps making it for 300, through the engine.

Properties with margins, not trajectories (DESIGN.md, Tests): the limits are the issue's criteria;
the figures measured when the presets were chosen are in rnnviz/presets.py and the README. "The loss
at step N" is read as the Train page shows it: the loss chart's orange line (rnnviz.figures.train's
trailing mean) at that step, so one noisy window does not decide.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from rnnviz import Trainer, gradient_reach
from rnnviz.figures.train import smoothing_window, trailing_mean
from rnnviz.presets import PRESETS, PRESETS_BY_KEY
from rnnviz.samples import read_sample
from rnnviz.spectrum import reach_decay
from rnnviz.vanish import verdict

STEPS = 300


def trainer(key: str) -> Trainer:
    p = PRESETS_BY_KEY[key]
    return Trainer(read_sample(p.sample), p.config)


def reach_ratio(tr: Trainer, d: int = 10) -> float:
    """Geometric mean over t of R[t, t−d] / R[t, t] on the window the next Step trains on."""
    xs, ys, h0 = tr.next_window()
    return float(reach_decay(gradient_reach(tr.params, xs, ys, h0, cell=tr.config.cell)).typical[d])


@cache
def run(key: str) -> dict:
    """Train a preset STEPS steps; the per-step losses, clipping flags, and the reach ratio at steps 0 and 20."""
    tr = trainer(key)
    out = {"lnV": tr.baseline_loss, "ratio0": reach_ratio(tr)}
    losses, fired = [], []
    for i in range(1, STEPS + 1):
        rec = tr.step()
        assert rec is not None, f"{key}: step {i} was refused: {tr.divergence}"
        losses.append(rec.loss_per_token)
        fired.append(rec.clip.fired)
        if i == 20:
            out["ratio20"] = reach_ratio(tr)
    out["loss"] = np.array(losses)
    out["fired"] = np.array(fired)
    steps = np.arange(1, STEPS + 1)
    out["smooth_end"] = float(trailing_mean(steps, out["loss"], smoothing_window(STEPS))[-1])
    return out


def test_every_preset_is_valid_and_its_sample_exists():
    assert len({p.key for p in PRESETS}) == len(PRESETS)
    for p in PRESETS:
        p.config.validate()
        assert read_sample(p.sample)


@pytest.mark.parametrize("key, frac", [("quick", 0.25), ("word", 0.6)])
def test_learning_presets_never_rise_early_and_end_far_below_ln_V(key, frac):
    r = run(key)
    lnV = r["lnV"]
    first = r["loss"][:20]
    assert first.max() <= lnV + 0.1, f"{key}: loss rose to {first.max():.3f} in steps 1-20 (ln V = {lnV:.3f})"
    assert r["smooth_end"] <= frac * lnV, f"{key}: {r['smooth_end']:.3f} at step {STEPS} > {frac}·ln V = {frac * lnV:.3f}"


def test_vanishing_preset_loses_a_hundredfold_ten_steps_back_before_and_after_20_steps():
    r = run("vanishing")
    assert r["ratio0"] <= 1e-2 and r["ratio20"] <= 1e-2, (r["ratio0"], r["ratio20"])
    assert verdict(np.array([1.0] * 10 + [r["ratio0"]])).kind == "vanishing"


def test_exploding_preset_grows_tenfold_ten_steps_back_and_never_learns():
    r = run("exploding")
    assert r["ratio0"] >= 10, r["ratio0"]
    # "The loss stays above ln V": the mean of every 50-step stretch, as a smoothed curve shows it.
    blocks = r["loss"].reshape(-1, 50).mean(axis=1)
    assert np.all(blocks > r["lnV"]), (blocks, r["lnV"])
    assert not r["fired"].any()  # no clipping: the contrast with the next preset


def test_clipping_preset_starts_where_exploding_does_and_learns():
    exploding, clipping = PRESETS_BY_KEY["exploding"], PRESETS_BY_KEY["clipping"]
    assert clipping.sample == exploding.sample
    assert replace(clipping.config, clip=exploding.config.clip, clip_value=exploding.config.clip_value) == exploding.config
    a, b = trainer("exploding"), trainer("clipping")
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)   # the same first weights
    r = run("clipping")
    assert r["fired"][:20].mean() >= 0.5, r["fired"][:20]
    assert r["smooth_end"] <= r["lnV"] - 1.0, (r["smooth_end"], r["lnV"])
    assert math.isfinite(r["smooth_end"])
