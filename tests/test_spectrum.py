"""rnnviz.spectrum: ρ(W), σ_max(W), the decay of the reach matrix, saturation."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz
from rnnviz.spectrum import power_line, reach_decay, saturation, w_spectrum

from test_engine_reference import random_params, window


def test_spectrum_of_known_matrices():
    s = w_spectrum(np.diag([0.5, -2.0, 1.0]))
    assert s.rho == pytest.approx(2.0) and s.sigma_max == pytest.approx(2.0)
    assert sorted(s.eigenvalues.real) == pytest.approx([-2.0, 0.5, 1.0])
    # a rotation scaled by 0.9: |λ| = 0.9 for a complex pair; a shear: ρ = 1 but σ_max > 1
    a = 0.3
    rot = 0.9 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    s = w_spectrum(rot)
    assert np.abs(s.eigenvalues) == pytest.approx([0.9, 0.9]) and abs(s.eigenvalues[0].imag) > 0
    shear = np.array([[1.0, 3.0], [0.0, 1.0]])
    s = w_spectrum(shear)
    assert s.rho == pytest.approx(1.0) and s.sigma_max > 3
    assert s.rho == pytest.approx(rnnviz.spectral_radius_of(shear))


def test_reach_decay_of_an_exact_geometric_matrix():
    T, r = 8, 0.5
    t, k = np.indices((T, T))
    R = np.where(k <= t, (3.0 + t) * r ** (t - k), 0.0)   # each row its own scale, same decay
    dec = reach_decay(R)
    np.testing.assert_allclose(dec.typical, r ** np.arange(T), rtol=1e-12)
    np.testing.assert_allclose(dec.low, dec.typical, rtol=1e-12)
    np.testing.assert_allclose(dec.high, dec.typical, rtol=1e-12)
    assert dec.count.tolist() == list(range(T, 0, -1))


def test_reach_decay_skips_zeros_and_matches_the_engine_reach():
    params = random_params(5, 4, seed=1)
    xs, ys = window(5, 10, seed=2)
    R = rnnviz.gradient_reach(params, xs, ys)
    R[5, 2] = 0.0
    dec = reach_decay(R)
    d = 3
    ratios = np.array([R[t, t - d] / R[t, t] for t in range(d, 10) if R[t, t - d] > 0])
    assert dec.count[d] == ratios.size == 6
    assert dec.typical[d] == pytest.approx(np.exp(np.log(ratios).mean()), rel=1e-12)
    assert dec.typical[0] == pytest.approx(1.0)


def test_power_line_and_saturation():
    assert power_line(2.0, [0, 1, 10]).tolist() == [1.0, 2.0, 1024.0]
    assert np.isinf(power_line(10.0, [400])[0])   # no warning, just ∞
    hs = np.array([[0.0, 0.96], [-0.99, 0.5]])
    assert saturation(hs) == 0.5
    assert saturation(np.zeros((3, 0))) == 0.0
