"""Parameter initialisation and the flat parameter vector."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import init_params, spectral_radius_of
from rnnviz.flat import Layout
from rnnviz.params import copy_params, param_shapes, sizes_of


@pytest.mark.parametrize("V,H", [(2, 1), (5, 3), (40, 16)])
def test_uniform_init_shapes_bounds_and_zero_biases(V, H):
    p = init_params(V, H, seed=1)
    assert {k: v.shape for k, v in p.items()} == {"U": (H, V), "W": (H, H), "V": (V, H), "b": (H,), "c": (V,)}
    assert param_shapes(V, H) == {k: v.shape for k, v in p.items()}
    assert sizes_of(p) == (V, H)
    assert all(v.dtype == np.float64 for v in p.values())
    assert np.all(p["b"] == 0) and np.all(p["c"] == 0)
    assert np.abs(p["U"]).max() <= 1 / np.sqrt(V)  # fan-in of U is V
    assert np.abs(p["W"]).max() <= 1 / np.sqrt(H)
    assert np.abs(p["V"]).max() <= 1 / np.sqrt(H)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = init_params(6, 4, seed=3), init_params(6, 4, seed=3), init_params(6, 4, seed=4)
    for k in a:
        assert a[k].tobytes() == b[k].tobytes()
    assert not np.array_equal(a["W"], c["W"])


def test_orthogonal_init():
    W = init_params(5, 8, seed=0, init="orthogonal")["W"]
    np.testing.assert_allclose(W @ W.T, np.eye(8), atol=1e-12)


@pytest.mark.parametrize("rho", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("init", ["uniform", "orthogonal"])
def test_spectral_radius_rescaling(rho, init):
    W = init_params(5, 7, seed=2, init=init, spectral_radius=rho)["W"]
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(rho, rel=1e-10)
    assert spectral_radius_of(W) == pytest.approx(rho, rel=1e-10)


def test_spectral_radius_of_known_matrices():
    assert spectral_radius_of(np.array([[0.0, 2.0], [-2.0, 0.0]])) == pytest.approx(2.0)  # eigenvalues ±2i
    assert spectral_radius_of(np.array([[0.5, 100.0], [0.0, -0.7]])) == pytest.approx(0.7)  # triangular
    assert spectral_radius_of(np.zeros((0, 0))) == 0.0


@pytest.mark.parametrize(
    "args,kw",
    [((1, 3), {}), ((3, 0), {}), ((3, 3), {"init": "zeros"}), ((3, 3), {"spectral_radius": -1.0}),
     ((3, 3), {"spectral_radius": float("nan")})],
)
def test_bad_init_arguments(args, kw):
    with pytest.raises(ValueError):
        init_params(*args, **kw)


def test_copy_params_is_deep():
    p = init_params(4, 3, seed=0)
    q = copy_params(p)
    q["W"][0, 0] += 1.0
    assert p["W"][0, 0] != q["W"][0, 0]


def test_layout_flatten_views_norms():
    p = init_params(4, 3, seed=0)
    p["b"] += 0.5
    layout = Layout.of(p)
    assert layout.size == sum(v.size for v in p.values())
    flat = layout.flatten(p)
    views = layout.views(flat)
    for k in p:
        assert np.array_equal(views[k], p[k]) and np.shares_memory(views[k], flat)
        assert layout.norms(flat)[k] == pytest.approx(np.linalg.norm(p[k]))
    flat[layout.slices["W"]] = 0.0
    assert np.all(views["W"] == 0) and np.all(p["W"] != 0)


def test_layout_max_abs_per_part_including_empty_parts():
    shapes = {"e0": (0,), "A": (2, 3), "e1": (0, 4), "b": (4,), "s": (1,), "e2": (0,)}
    layout = Layout(shapes)
    rng = np.random.default_rng(3)
    flat = rng.normal(size=layout.size)
    flat[layout.slices["b"]][2] = -9.0   # the largest |entry| of b is a negative one
    got = layout.max_abs(flat)
    assert list(got) == list(shapes)
    for k, sl in layout.slices.items():
        part = flat[sl]
        assert got[k] == (np.abs(part).max() if part.size else 0.0), k
    assert got["b"] == 9.0
    assert Layout({"e": (0,)}).max_abs(np.zeros(0)) == {"e": 0.0}
