"""Gradient clipping: elementwise, global norm, none; the report; purity; bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnnviz.clip import CLIP_MODES, clip_gradients


def grads_example():
    return {
        "U": np.array([[3.0, -7.0], [0.5, 6.0]]),
        "W": np.array([[-1.0]]),
        "b": np.array([10.0, -10.0, 2.0]),
    }


def copy(g):
    return {k: v.copy() for k, v in g.items()}


def test_elementwise_clamps_each_entry():
    g = grads_example()
    orig = copy(g)
    out, rep = clip_gradients(g, "elementwise", 5.0)
    np.testing.assert_array_equal(out["U"], [[3.0, -5.0], [0.5, 5.0]])
    np.testing.assert_array_equal(out["W"], [[-1.0]])
    np.testing.assert_array_equal(out["b"], [5.0, -5.0, 2.0])
    assert rep.fired
    assert rep.norms_before["U"] == pytest.approx(math.sqrt(9 + 49 + 0.25 + 36))
    assert rep.norms_after["U"] == pytest.approx(math.sqrt(9 + 25 + 0.25 + 25))
    assert rep.norms_before["b"] == pytest.approx(math.sqrt(204))
    assert rep.norms_after["b"] == pytest.approx(math.sqrt(54))
    total_before = math.sqrt(9 + 49 + 0.25 + 36 + 1 + 204)
    assert rep.global_before == pytest.approx(total_before)
    assert rep.global_after == pytest.approx(math.sqrt(9 + 25 + 0.25 + 25 + 1 + 54))
    for k in g:  # inputs untouched
        np.testing.assert_array_equal(g[k], orig[k])
        assert not np.shares_memory(out[k], g[k])


def test_norm_mode_scales_to_c_and_keeps_direction():
    g = grads_example()
    orig = copy(g)
    out, rep = clip_gradients(g, "norm", 2.0)
    total = math.sqrt(sum(float((v**2).sum()) for v in orig.values()))
    assert rep.fired
    assert rep.global_before == pytest.approx(total)
    assert rep.global_after == pytest.approx(2.0)
    flat_in = np.concatenate([orig[k].ravel() for k in orig])
    flat_out = np.concatenate([out[k].ravel() for k in orig])
    assert np.linalg.norm(flat_out) == pytest.approx(2.0, rel=1e-12)
    np.testing.assert_allclose(flat_out, flat_in * (2.0 / total), rtol=1e-14)  # same direction
    for k in g:
        assert out[k].shape == g[k].shape
        np.testing.assert_array_equal(g[k], orig[k])
        assert rep.norms_after[k] == pytest.approx(np.linalg.norm(orig[k]) * 2.0 / total)


def test_no_clipping_below_threshold_and_none_mode():
    g = grads_example()
    big = 1e6
    for mode in ("elementwise", "norm"):
        out, rep = clip_gradients(g, mode, big)
        assert not rep.fired
        for k in g:
            np.testing.assert_array_equal(out[k], g[k])
        assert rep.global_after == rep.global_before
    out, rep = clip_gradients(g, "none", 0.001)
    assert not rep.fired
    for k in g:
        np.testing.assert_array_equal(out[k], g[k])
        assert not np.shares_memory(out[k], g[k])  # still new arrays
    assert rep.norms_after == rep.norms_before


def test_threshold_boundaries_do_not_fire():
    g = {"a": np.array([3.0, -4.0])}  # norm 5, max |entry| 4
    assert not clip_gradients(g, "norm", 5.0)[1].fired
    assert clip_gradients(g, "norm", 4.999)[1].fired
    assert not clip_gradients(g, "elementwise", 4.0)[1].fired
    assert not clip_gradients({"a": np.array([4.0, -3.0])}, "elementwise", 4.0)[1].fired
    assert clip_gradients(g, "elementwise", 3.999)[1].fired


@pytest.mark.parametrize("mode,threshold", [("max", 1.0), ("", 1.0), ("elementwise", 0.0), ("norm", 0.0),
                                            ("norm", -1.0), ("elementwise", -5.0), ("norm", float("nan"))])
def test_bad_mode_or_threshold(mode, threshold):
    with pytest.raises(ValueError):
        clip_gradients(grads_example(), mode, threshold)


@settings(max_examples=60, deadline=None)
@given(
    a=hnp.arrays(np.float64, (3, 2), elements=st.floats(-100, 100)),
    b=hnp.arrays(np.float64, 4, elements=st.floats(-100, 100)),
    c=st.floats(0.01, 50),
    mode=st.sampled_from(CLIP_MODES),
)
def test_property_clipping(a, b, c, mode):
    g = {"a": a, "b": b}
    orig = copy(g)
    out, rep = clip_gradients(g, mode, c)
    flat_in = np.concatenate([a.ravel(), b.ravel()])
    flat_out = np.concatenate([out["a"].ravel(), out["b"].ravel()])
    for k in g:
        np.testing.assert_array_equal(g[k], orig[k])
    assert rep.global_before == pytest.approx(np.linalg.norm(flat_in), rel=1e-12, abs=1e-300)
    assert rep.global_after == pytest.approx(np.linalg.norm(flat_out), rel=1e-12, abs=1e-300)
    if mode == "elementwise":
        np.testing.assert_array_equal(flat_out, np.clip(flat_in, -c, c))
        assert rep.fired == bool(np.any(np.abs(flat_in) > c))
    elif mode == "norm":
        n = np.linalg.norm(flat_in)
        assert rep.fired == (n > c)
        if n > c:
            assert np.linalg.norm(flat_out) == pytest.approx(c, rel=1e-12)
            np.testing.assert_allclose(flat_out * n, flat_in * c, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(flat_out, flat_in)
    else:
        assert not rep.fired
        np.testing.assert_array_equal(flat_out, flat_in)
