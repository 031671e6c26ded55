"""Optimizers against updates computed by hand on tiny vectors, and their purity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnnviz.optim import OPTIMIZERS, make_optimizer

THETA = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.5, -1.0, 0.0])
G2 = np.array([-0.25, 2.0, 4.0])
LR = 0.1


def two_steps(name, lr=LR):
    opt = make_optimizer(name)
    s0 = opt.init_state(THETA)
    th1, s1 = opt.propose(THETA, G1, s0, lr)
    th2, s2 = opt.propose(th1, G2, s1, lr)
    return th1, s1, th2, s2


def test_sgd_hand_computed():
    th1, s1, th2, s2 = two_steps("sgd")
    # θ1 = θ0 − 0.1·g1, θ2 = θ1 − 0.1·g2, written out entry by entry.
    np.testing.assert_allclose(th1, [1.0 - 0.05, -2.0 + 0.1, 0.5], rtol=1e-15)
    np.testing.assert_allclose(th2, [0.95 + 0.025, -1.9 - 0.2, 0.5 - 0.4], rtol=1e-15)
    assert (s1.t, s2.t) == (1, 2)


def test_momentum_hand_computed():
    th1, s1, th2, s2 = two_steps("momentum")
    v1 = np.array([0.5, -1.0, 0.0])                        # 0.9·0 + g1
    v2 = np.array([0.9 * 0.5 - 0.25, -0.9 + 2.0, 4.0])     # 0.9·v1 + g2 = [0.2, 1.1, 4.0]
    np.testing.assert_allclose(s1.slots["v"], v1, rtol=1e-15)
    np.testing.assert_allclose(s2.slots["v"], v2, rtol=1e-15)
    np.testing.assert_allclose(th1, [0.95, -1.9, 0.5], rtol=1e-15)
    np.testing.assert_allclose(th2, [0.95 - 0.02, -1.9 - 0.11, 0.5 - 0.4], rtol=1e-14)


def test_adagrad_hand_computed():
    th1, s1, th2, s2 = two_steps("adagrad")
    # m1 = g1² = [0.25, 1, 0]; step = 0.1·g/√(m + 1e-8) (eps inside the root).
    np.testing.assert_allclose(s1.slots["m"], [0.25, 1.0, 0.0], rtol=1e-15)
    step1 = [0.1 * 0.5 / math.sqrt(0.25 + 1e-8), 0.1 * -1.0 / math.sqrt(1.0 + 1e-8), 0.0]
    np.testing.assert_allclose(th1, THETA - np.array(step1), rtol=1e-14)
    # m2 = [0.3125, 5, 16]
    np.testing.assert_allclose(s2.slots["m"], [0.3125, 5.0, 16.0], rtol=1e-15)
    step2 = [0.1 * -0.25 / math.sqrt(0.3125 + 1e-8), 0.1 * 2.0 / math.sqrt(5.0 + 1e-8), 0.1 * 4.0 / math.sqrt(16.0 + 1e-8)]
    np.testing.assert_allclose(th2, th1 - np.array(step2), rtol=1e-14)


def test_adagrad_eps_is_inside_the_root():
    """A zero accumulator and a tiny gradient tell where eps sits: 1e-10/√1e-8 = 1e-6, whereas
    1e-10/(√0 + 1e-8) would be 1e-2."""
    opt = make_optimizer("adagrad")
    th, _ = opt.propose(np.zeros(1), np.array([1e-10]), opt.init_state(np.zeros(1)), 1.0)
    # m = 1e-20, √(1e-20 + 1e-8) ≈ 1e-4 → step ≈ 1e-6.
    assert th[0] == pytest.approx(-1e-10 / math.sqrt(1e-20 + 1e-8), rel=1e-12)


def test_rmsprop_hand_computed():
    th1, s1, th2, s2 = two_steps("rmsprop")
    m1 = np.array([0.025, 0.1, 0.0])                       # 0.1·g1²
    np.testing.assert_allclose(s1.slots["m"], m1, rtol=1e-14)
    step1 = 0.1 * G1 / (np.sqrt(m1) + 1e-8)
    np.testing.assert_allclose(th1, THETA - step1, rtol=1e-14)
    m2 = np.array([0.9 * 0.025 + 0.1 * 0.0625, 0.9 * 0.1 + 0.1 * 4.0, 0.1 * 16.0])  # [0.02875, 0.49, 1.6]
    np.testing.assert_allclose(s2.slots["m"], m2, rtol=1e-14)
    step2 = 0.1 * G2 / (np.sqrt(m2) + 1e-8)
    np.testing.assert_allclose(th2, th1 - step2, rtol=1e-14)


def test_adam_hand_computed_with_bias_correction():
    th1, s1, th2, s2 = two_steps("adam")
    # Step 1: m̂ = g1, v̂ = g1², so the step is 0.1·g1/(|g1| + 1e-8) ≈ 0.1·sign(g1).
    np.testing.assert_allclose(s1.slots["m"], 0.1 * G1, rtol=1e-14)
    np.testing.assert_allclose(s1.slots["v"], 0.001 * G1**2, rtol=1e-14)
    step1 = np.array([0.1 * 0.5 / (0.5 + 1e-8), 0.1 * -1.0 / (1.0 + 1e-8), 0.0])
    np.testing.assert_allclose(th1, THETA - step1, rtol=1e-12)
    # Step 2, by hand: m2 = 0.9·m1 + 0.1·g2, v2 = 0.999·v1 + 0.001·g2², hats divide by 1 − β^2.
    m2 = 0.9 * 0.1 * G1 + 0.1 * G2
    v2 = 0.999 * 0.001 * G1**2 + 0.001 * G2**2
    np.testing.assert_allclose(s2.slots["m"], m2, rtol=1e-14)
    np.testing.assert_allclose(s2.slots["v"], v2, rtol=1e-14)
    m_hat = m2 / (1 - 0.9**2)
    v_hat = v2 / (1 - 0.999**2)
    np.testing.assert_allclose(th2, th1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-12)
    assert s2.t == 2


def test_sgd_chunks_cover_a_long_vector():
    """SGD updates in cache-sized chunks: every entry of a vector longer than a chunk is updated."""
    rng = np.random.default_rng(0)
    n = 3 * (1 << 15) + 17
    theta, g = rng.normal(size=n), rng.normal(size=n)
    opt = make_optimizer("sgd")
    new, _ = opt.propose(theta, g, opt.init_state(theta), 0.3)
    np.testing.assert_array_equal(new, theta - 0.3 * g)


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("n", [7, 3 * (1 << 15) + 17])
def test_propose_checked_gives_the_same_step_and_the_new_squared_norm(name, n):
    """The Trainer's blow-up check reads ‖θ_new‖² from propose_checked (SGD sums it per chunk)."""
    rng = np.random.default_rng(2)
    theta, g = rng.normal(size=n), rng.normal(size=n)
    opt = make_optimizer(name)
    s0 = opt.init_state(theta)
    new, s1 = opt.propose(theta, g, s0, 0.3)
    new2, s2, sq = opt.propose_checked(theta, g, s0, 0.3)
    np.testing.assert_array_equal(new2, new)
    assert s2.t == s1.t == 1
    assert sq == pytest.approx(float(np.dot(new, new)), rel=1e-12) and sq > 0
    # A NaN or ∞ anywhere (here in the last chunk) reaches the sum.
    for bad in (np.nan, np.inf):
        g_bad = g.copy()
        g_bad[-1] = bad
        with np.errstate(invalid="ignore"):  # ∞/∞ in the adaptive rules
            assert not math.isfinite(opt.propose_checked(theta, g_bad, s0, 0.3)[2])


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("use_out", [False, True])
def test_propose_never_modifies_its_inputs(name, use_out):
    opt = make_optimizer(name)
    rng = np.random.default_rng(1)
    theta = rng.normal(size=7)
    state = opt.init_state(theta)
    theta, state = opt.propose(theta, rng.normal(size=7), state, 0.1)  # non-zero slots
    g = rng.normal(size=7)
    copies = (theta.copy(), g.copy(), {k: v.copy() for k, v in state.slots.items()}, state.t)
    out = np.full(7, np.nan) if use_out else None
    new, new_state = opt.propose(theta, g, state, 0.1, out=out)
    assert np.array_equal(theta, copies[0]) and np.array_equal(g, copies[1])
    assert state.t == copies[3]
    for k, v in state.slots.items():
        assert np.array_equal(v, copies[2][k])
        assert not np.shares_memory(v, new_state.slots[k])
        assert not np.shares_memory(g, new_state.slots[k])
    assert not np.shares_memory(new, theta) and not np.shares_memory(new, g)
    if use_out:
        assert new is out
    # The same call again gives the same answer: nothing hidden changed.
    again, _ = opt.propose(theta, g, state, 0.1)
    np.testing.assert_array_equal(again, new)


@settings(max_examples=50, deadline=None)
@given(
    name=st.sampled_from(OPTIMIZERS),
    theta=hnp.arrays(np.float64, 5, elements=st.floats(-10, 10)),
    g=hnp.arrays(np.float64, 5, elements=st.floats(-10, 10)),
    lr=st.floats(0, 1),
)
def test_property_pure_and_zero_gradient_keeps_theta(name, theta, g, lr):
    opt = make_optimizer(name)
    s0 = opt.init_state(theta)
    t0, gcopy = theta.copy(), g.copy()
    new, s1 = opt.propose(theta, g, s0, lr)
    assert np.array_equal(theta, t0) and np.array_equal(g, gcopy)
    assert all(np.all(v == 0) for v in s0.slots.values())
    assert s0.t == 0 and s1.t == 1
    assert np.all(np.isfinite(new))
    # From a fresh state a zero gradient moves nothing (every rule's step is proportional to g).
    same, _ = opt.propose(theta, np.zeros_like(theta), s0, lr)
    np.testing.assert_array_equal(same, theta)


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="adam"):
        make_optimizer("lbfgs")


def test_adams_beta2_is_the_configs():
    """TrainConfig.adam_beta2 reaches Adam: v = β2·v + (1 − β2)·g², bias-corrected by 1 − β2^t (one step, by hand)."""
    from rnnviz.optim import Adam

    opt = make_optimizer("adam", 0.99)
    assert opt.beta2 == 0.99 and Adam.beta2 == 0.999 and make_optimizer("adam").beta2 == 0.999
    th1, s1 = opt.propose(THETA, G1, opt.init_state(THETA), LR)
    v = (1 - 0.99) * G1 ** 2
    m = (1 - 0.9) * G1
    np.testing.assert_allclose(s1.slots["v"], v, rtol=1e-15)
    np.testing.assert_allclose(th1, THETA - LR * (m / 0.1) / (np.sqrt(v / (1 - 0.99)) + 1e-8), rtol=1e-14)
    assert make_optimizer("sgd", 0.99).name == "sgd"      # the others have no β2 to set
