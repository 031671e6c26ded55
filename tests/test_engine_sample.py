"""Sampling: determinism, greedy and top-k against a manual forward pass, the reported
probabilities, temperatures, and ``hidden_states``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz import hidden_states, sample
from rnnviz.cells import get_cell

from test_engine_reference import forward_states, random_params, softmax

V, H = 7, 5
PARAMS = random_params(V, H, seed=11, scale=1.5)
PRIME = [3, 1, 4]


def manual_path(params, prime, ids, h0=None):
    """Follow the given ids from the prime: (p_t at τ = 1 before each id, hidden state after)."""
    h = np.zeros(params["W"].shape[0]) if h0 is None else h0
    h = forward_states(params, prime, h)[-1]
    ps, hs = [], []
    for x in ids:
        ps.append(softmax(params["V"] @ h + params["c"]))
        h = np.tanh(params["U"][:, x] + params["W"] @ h + params["b"])
        hs.append(h)
    return np.array(ps), np.array(hs).T


def manual_greedy(params, prime, n, h0=None):
    h = np.zeros(params["W"].shape[0]) if h0 is None else h0
    h = forward_states(params, prime, h)[-1]
    ids = []
    for _ in range(n):
        x = int(np.argmax(params["V"] @ h + params["c"]))
        ids.append(x)
        h = np.tanh(params["U"][:, x] + params["W"] @ h + params["b"])
    return ids


def test_same_seed_same_tokens_other_seed_other_tokens():
    a = sample(PARAMS, PRIME, 40, temperature=1.5, seed=1)
    b = sample(PARAMS, PRIME, 40, temperature=1.5, seed=1)
    c = sample(PARAMS, PRIME, 40, temperature=1.5, seed=2)
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.probs, b.probs)
    assert not np.array_equal(a.ids, c.ids)
    assert a.ids.shape == (40,) and a.ids.min() >= 0 and a.ids.max() < V


@pytest.mark.parametrize("h0", [None, np.full(H, 0.3)])
def test_greedy_and_temperature_zero_pick_the_argmax(h0):
    expected = manual_greedy(PARAMS, PRIME, 25, h0)
    assert len(set(expected)) > 1  # not a trivial constant path
    for kw in ({"greedy": True}, {"temperature": 0.0}, {"greedy": True, "temperature": 3.0}):
        res = sample(PARAMS, PRIME, 25, h0=h0, seed=9, **kw)
        assert res.ids.tolist() == expected
    ps, hs = manual_path(PARAMS, PRIME, expected, h0)
    np.testing.assert_allclose(res.probs, ps[np.arange(25), expected], rtol=1e-12)
    np.testing.assert_allclose(res.hs, hs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.h_last, hs[:, -1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("temperature", [1.0, 0.4, 5.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_k_one_is_greedy(temperature, seed):
    res = sample(PARAMS, PRIME, 20, top_k=1, temperature=temperature, seed=seed)
    assert res.ids.tolist() == manual_greedy(PARAMS, PRIME, 20)


@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.7, 3), (2.5, 2), (1.0, V), (1.0, 100)])
def test_probs_and_top_lists_are_the_models(temperature, top_k):
    res = sample(PARAMS, [0], 30, temperature=temperature, top_k=top_k, seed=4)
    ps, hs = manual_path(PARAMS, [0], res.ids.tolist())
    np.testing.assert_allclose(res.probs, ps[np.arange(30), res.ids], rtol=1e-12)
    np.testing.assert_allclose(res.hs, hs, rtol=1e-12, atol=1e-15)
    for i in range(30):
        order = np.argsort(-ps[i], kind="stable")[:5]
        assert res.top_ids[i].tolist() == order.tolist()
        np.testing.assert_allclose(res.top_probs[i], ps[i][order], rtol=1e-12)
        if top_k is not None and top_k < V:
            assert res.ids[i] in np.argsort(-ps[i])[:top_k]  # only the k most likely are drawn


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_first_token_frequencies_follow_softmax_of_logits_over_temperature(temperature):
    p = random_params(4, 3, seed=2)
    h = np.tanh(p["U"][:, 1] + p["b"])
    expected = softmax((p["V"] @ h + p["c"]) / temperature)
    draws = np.array([sample(p, [1], 1, temperature=temperature, seed=s).ids[0] for s in range(3000)])
    freq = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(freq, expected, atol=0.035)  # ≥ 4 standard deviations


@pytest.mark.parametrize("temperature", [1e-300, 5e-324, 1e-200])
def test_tiny_temperatures_act_greedy(temperature):
    """Any temperature the check accepts must work; a tiny one means (almost) greedy."""
    res = sample(PARAMS, PRIME, 15, temperature=temperature, seed=3)
    assert res.ids.tolist() == manual_greedy(PARAMS, PRIME, 15)


@pytest.mark.parametrize("temperature", [-0.1, -1.0, float("nan"), float("inf"), 100.5, 1e9])
def test_invalid_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        sample(PARAMS, PRIME, 3, temperature=temperature)


def test_other_invalid_arguments():
    with pytest.raises(ValueError, match="prime"):
        sample(PARAMS, [], 3)
    with pytest.raises(ValueError):
        sample(PARAMS, PRIME, -1)
    with pytest.raises(ValueError, match="top-k"):
        sample(PARAMS, PRIME, 3, top_k=0)
    assert sample(PARAMS, PRIME, 0).ids.size == 0


def test_hidden_states_match_the_cell_and_a_manual_loop():
    ids = [0, 6, 6, 2, 5, 1]
    h0 = np.linspace(-0.5, 0.5, H)
    hs = hidden_states(PARAMS, ids, h0)
    assert hs.shape == (H, len(ids))
    np.testing.assert_array_equal(hs, get_cell("rnn").forward(PARAMS, np.array(ids), h0).hs)
    np.testing.assert_allclose(hs, np.array(forward_states(PARAMS, ids, h0)[1:]).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hidden_states(PARAMS, ids), np.array(forward_states(PARAMS, ids, np.zeros(H))[1:]).T,
                               rtol=1e-12, atol=1e-15)
    assert hidden_states(PARAMS, []).shape == (H, 0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(0, 12), temperature=st.floats(0, 100),
       top_k=st.one_of(st.none(), st.integers(1, 9)))
def test_property_sample_is_consistent(seed, n, temperature, top_k):
    res = sample(PARAMS, PRIME, n, temperature=temperature, top_k=top_k, seed=seed)
    again = sample(PARAMS, PRIME, n, temperature=temperature, top_k=top_k, seed=seed)
    assert np.array_equal(res.ids, again.ids)
    ps, hs = manual_path(PARAMS, PRIME, res.ids.tolist())
    if n:
        np.testing.assert_allclose(res.probs, ps[np.arange(n), res.ids], rtol=1e-12)
        np.testing.assert_allclose(res.hs, hs, rtol=1e-12, atol=1e-15)
