"""rnnviz.vanish: the verdict read from the reach by distance (rnnviz.spectrum.reach_decay)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz import Trainer, gradient_reach
from rnnviz.config import TrainConfig
from rnnviz.spectrum import reach_decay
from rnnviz.vanish import (
    EXPLODE_ABOVE,
    VANISH_BELOW,
    against_rho,
    reach_by_distance,
    saturation_cause,
    sweep_reading,
    total_gradient_reading,
    verdict,
)


def geometric_reach(T: int, g: float, own) -> np.ndarray:
    """R[t, k] = own[t] · g^(t−k) for k ≤ t."""
    t, k = np.indices((T, T))
    return np.where(k <= t, np.asarray(own)[:, None] * g ** (t - k).astype(float), 0.0)


def test_ratio_by_distance_recovers_a_geometric_decay_whatever_each_terms_own_size():
    own = np.random.default_rng(0).uniform(0.1, 10, 12)
    dec = reach_decay(geometric_reach(12, 0.5, own))
    np.testing.assert_allclose(dec.typical, 0.5 ** np.arange(12), rtol=1e-12)
    assert dec.count.tolist() == list(range(12, 0, -1))


def test_ratio_is_a_geometric_mean_over_loss_terms():
    R = np.array([[1.0, 0, 0], [1e-4, 1.0, 0], [1e-2, 1.0, 1.0]])   # d = 1: ratios 1e-4 and 1.0
    dec = reach_decay(R)
    assert dec.typical[1] == pytest.approx(1e-2) and dec.count[1] == 2
    assert dec.typical[2] == pytest.approx(1e-2) and dec.count[2] == 1


def test_zero_and_non_finite_terms_are_left_out_not_poisoning_the_mean():
    R = geometric_reach(5, 0.5, np.ones(5))
    R[4, 3] = np.inf
    R[3, 2] = 0.0
    R[2, 2] = 0.0   # a term with no gradient at its own step: its ratios are undefined
    dec = reach_decay(R)
    assert np.all(np.isfinite(dec.typical)) and dec.typical[1] == pytest.approx(0.5) and dec.count[1] == 1


def test_verdict_kinds_follow_the_numbers():
    v = verdict(0.5 ** np.arange(40))
    assert v.kind == "vanishing" and v.left == pytest.approx(0.5**10) and v.per_step == pytest.approx(0.5)
    assert "1,024×" in v.text and "10 steps back" in v.text and "39 steps back" in v.text
    v = verdict(1.2 ** np.arange(40))          # 6.2× over 10 steps, but 1,225× across 39: exploding
    assert v.kind == "exploding" and "grows 1,225×" in v.text
    assert verdict(0.98 ** np.arange(40)).kind == "steady"
    v = verdict(0.85 ** np.arange(25))          # 5× over 10 steps, 50× across 24: it fades, slowly
    assert v.kind == "fading" and "fading slowly" in v.text and "neither" not in v.text.lower()
    assert verdict(np.ones(1)) is None
    assert verdict(np.array([1.0, 0.5, np.nan])) is None     # nothing measurable across the window: no verdict
    short = verdict(0.5 ** np.arange(5))      # T = 5: speaks about 4 steps back
    assert short.span == 4 and "4 steps back" in short.text


@settings(max_examples=60, deadline=None)
@given(st.floats(0.05, 3.0), st.integers(2, 30))
def test_verdict_thresholds(g, T):
    v = verdict(g ** np.arange(T, dtype=float))
    span = min(10, T - 1)
    if g**span < VANISH_BELOW:
        assert v.kind == "vanishing"
    elif g**span > EXPLODE_ABOVE or g ** (T - 1) > EXPLODE_ABOVE:
        assert v.kind == "exploding"
    elif g ** (T - 1) < VANISH_BELOW:
        assert v.kind == "fading"
    else:
        assert v.kind == "steady"


@pytest.mark.parametrize("rho, kind", [(0.3, "vanishing"), (3.0, "exploding")])
def test_engine_reach_of_small_and_large_spectral_radius(rho, kind):
    """Through the engine: ρ(W) = 0.3 vanishes, ρ(W) = 3 explodes on the first window of a text."""
    tr = Trainer("abcab cabba, cab!\n" * 20, TrainConfig(hidden_size=32, seq_len=30, init="orthogonal", spectral_radius=rho))
    xs, ys, h0 = tr.next_window()
    assert verdict(reach_decay(gradient_reach(tr.params, xs, ys, h0, cell=tr.config.cell)).typical).kind == kind


def test_lab_readings_are_computed_from_the_numbers():
    assert "close to the line" in against_rho(0.5 ** np.arange(20), 0.5)
    assert "1e+03× below the line" in against_rho(0.25 ** np.arange(20), 0.5)   # 0.25^10 / 0.5^10 = 1/1024
    assert "above the line" in against_rho(np.ones(20), 0.5)
    assert against_rho(np.ones(1), 0.5) == "" and against_rho(np.full(20, np.nan), 0.5) == ""
    got = sweep_reading([0, 1, 2, 3], [0.5, 0.02, 0.004, 0.0])
    assert got == " On this window: 50.00% error at k = 0, below 1% from k = 2 on."
    assert "still 5.00% at k = 2" in sweep_reading([0, 1, 2], [0.9, 0.3, 0.05])
    assert sweep_reading([], []) == ""
    # Rounding-level errors before the last k (full BPTT): the chart's line stops there, and the caption says so.
    got = sweep_reading(range(6), [0.3, 0.004, 2e-9, 1e-15, 0.0, 0.0])
    assert got.endswith(" From k = 3 on it is float64 rounding (below 1e-13), so the line for all weights stops there."), got
    assert "rounding" not in sweep_reading(range(4), [0.3, 0.004, 2e-9, 0.0])      # only k = T − 1 is exact
    assert "rounding" not in sweep_reading(range(4), [0.3, 1e-15, 2e-9, 0.0])      # a dip, then real again


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(0, 2**31 - 1), st.floats(0.1, 3.0))
def test_the_train_pages_fast_path_equals_the_labs_reach_decay(T, seed, g):
    rng = np.random.default_rng(seed)
    R = geometric_reach(T, g, rng.uniform(0.1, 10, T)) * rng.uniform(0.5, 2.0, (T, T))
    R[rng.random((T, T)) < 0.05] = 0.0     # some terms with no gradient
    ratio, count = reach_by_distance(R)
    dec = reach_decay(R)
    np.testing.assert_allclose(ratio, dec.typical, rtol=1e-12)
    assert count.tolist() == dec.count.tolist()


def test_saturation_is_blamed_only_from_half_the_units_on():
    assert saturation_cause(0.49, "fraction of units with |h_t| > 0.95") == ""
    s = saturation_cause(0.97, "fraction of units with |h_t| > 0.95")
    assert s.startswith("97% saturated (fraction of units with |h_t| > 0.95)") and "derivative of tanh" in s
    assert saturation_cause(float("nan"), "x") == ""


def test_the_total_gradient_reading_is_computed_from_the_row():
    level = total_gradient_reading(np.array([2.0, 1.5, 1.0]))
    assert level.startswith("‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = 2") and "does not fade" in level
    assert "fades towards t = 1" in total_gradient_reading(np.array([0.01, 0.5, 1.0]))
    assert "grows towards t = 1" in total_gradient_reading(np.array([50.0, 5.0, 1.0]))
    assert total_gradient_reading(np.array([1.0, np.nan])).endswith("= nan.")   # one finite entry: no ratio
