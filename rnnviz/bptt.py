"""Backpropagation through time over one window: the loss, every gradient, and diagnostics.

This is where a cell (``rnnviz.cells``) and the shared output head (``rnnviz.head``) meet.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnviz.cells import get_cell
from rnnviz.head import dV_into, head_forward_backward
from rnnviz.vecdot import vecdot as _vecdot


@dataclass
class LossResult:
    """Everything one forward + backward pass over a window of T steps produces.

    loss: L = Σ_t −log p_t[y_t] in nats.   losses: (T,) the L_t.
    grads: dU (H×V), dW (H×H), dV (V×H), db (H,), dc (V,) under the same names as the params.
    h_last: (H,) h_T, carried into the next window.   hs: (H, T) h_1..h_T.
    dlogits: (T, V) row t is ∂L_t/∂o_t = p_t − onehot(y_t) (``probs()`` gives p_t back);
    p_target: (T,) p_t[y_t];  predicted: (T,) argmax_v p_t[v], the model's best guess.
    dh_norms: (T,) ‖∂L/∂h_t‖, the total gradient reaching h_t (own output + the future, up to
    the truncation).
    dlogit_norms: (T,) ‖∂L_t/∂o_t‖;  dW_contrib, dU_contrib: (T,) each step's term's norm in dW, dU;
    jacobian_norms: (T,) ‖∂h_t/∂h_{t−1}‖_F;  saturation: (T,) fraction of |h_t| > 0.95.
    The diagnostic arrays are empty when computed with ``diagnostics=False``.
    """

    loss: float
    losses: np.ndarray
    grads: Mapping[str, np.ndarray]
    h_last: np.ndarray
    hs: np.ndarray
    dlogits: np.ndarray
    targets: np.ndarray
    p_target: np.ndarray
    predicted: np.ndarray
    dh_norms: np.ndarray
    dlogit_norms: np.ndarray = field(default_factory=lambda: np.empty(0))
    dW_contrib: np.ndarray = field(default_factory=lambda: np.empty(0))
    dU_contrib: np.ndarray = field(default_factory=lambda: np.empty(0))
    jacobian_norms: np.ndarray = field(default_factory=lambda: np.empty(0))
    saturation: np.ndarray = field(default_factory=lambda: np.empty(0))

    def probs(self) -> np.ndarray:
        """(T, V) row t is p_t, rebuilt from dlogits (a new array)."""
        p = self.dlogits.copy()
        p[np.arange(self.targets.size), self.targets] += 1.0
        return p


class DeferredGrads(Mapping):
    """The five gradients, with dV (V×H) written into its buffer only when first read.

    The Trainer's in-place SGD (rnnviz.inplace) applies dV block by block without storing it:
    for a word model, storing it would write 6 MB per step that nothing reads."""

    def __init__(self, grads: Mapping[str, np.ndarray], dlogits: np.ndarray, hs: np.ndarray):
        self._grads, self._dlogits, self._hs, self._filled = grads, dlogits, hs, False

    def __getitem__(self, key: str) -> np.ndarray:
        if key == "V" and not self._filled:
            dV_into(self._dlogits, self._hs, self._grads["V"])
            self._filled = True
        return self._grads[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._grads)

    def __len__(self) -> int:
        return len(self._grads)


def _check_window(params: Mapping[str, np.ndarray], inputs, targets, validate: bool = True) -> tuple[np.ndarray, np.ndarray]:
    if not validate:  # the Trainer's windows: 1-D id arrays its own tokenizer made
        return np.asarray(inputs, dtype=np.intp), np.asarray(targets, dtype=np.intp)
    xs = np.asarray(inputs, dtype=np.intp).reshape(-1)
    ys = np.asarray(targets, dtype=np.intp).reshape(-1)
    if xs.shape != ys.shape:
        raise ValueError(f"inputs and targets differ in length ({xs.size} vs {ys.size})")
    if xs.size == 0:
        raise ValueError("a window needs at least one time step")
    V = params["U"].shape[1]
    for name, ids in (("input", xs), ("target", ys)):
        if ids.min() < 0 or ids.max() >= V:
            raise ValueError(f"{name} token ids must lie in 0..{V - 1}")
    return xs, ys


def _col_norms(M: np.ndarray) -> np.ndarray:
    """‖M[:, t]‖ for every column t of a 2-D array."""
    return np.sqrt(_vecdot(M, M, axis=0))


def _h0(params, h0) -> np.ndarray:
    H = params["W"].shape[0]
    return np.zeros(H) if h0 is None else np.asarray(h0, dtype=np.float64).reshape(H)


def loss_and_grads(
    params: Mapping[str, np.ndarray],
    inputs: Sequence[int],
    targets: Sequence[int],
    h0: np.ndarray | None = None,
    truncate: int | None = None,
    *,
    cell: str = "rnn",
    diagnostics: bool = True,
    grads_out: Mapping[str, np.ndarray] | None = None,
    validate: bool = True,
    defer_dV: bool = False,
) -> LossResult:
    """Forward and (truncated) backward pass over one window; the exact gradient of ``.loss``.

    params: mapping with U (H×V), W (H×H), V (V×H), b (H,), c (V,).
    inputs, targets: T token ids each.  h0: (H,) the carried state (zeros if None); it is a
    constant here: windows are not differentiated through each other.
    truncate: None for full BPTT, or k ≥ 0 so that each L_t reaches back at most k steps.
    grads_out: optional zero-filled arrays (one per parameter) to write the gradients into;
    the Trainer passes views of one flat vector so that no copy is needed afterwards.
    validate=False skips the token id range check (the Trainer's ids come from its tokenizer).
    defer_dV: dV is written into its buffer only when ``.grads["V"]`` is first read (DeferredGrads).
    """
    xs, ys = _check_window(params, inputs, targets, validate)
    the_cell = get_cell(cell)
    cache = the_cell.forward(params, xs, _h0(params, h0))
    out = {k: np.zeros_like(params[k]) for k in params} if grads_out is None else grads_out
    head = head_forward_backward(params, cache.hs, ys, out, defer_dV=defer_dV)
    back = the_cell.backward(params, cache, head.dh_out, truncate, out)
    diag = {}
    if diagnostics:
        diag = the_cell.diagnostics(params, cache, back.delta)
        diag["dlogit_norms"] = np.sqrt(_vecdot(head.dlogits, head.dlogits, axis=1))
    return LossResult(
        loss=head.loss,
        losses=head.losses,
        grads=(DeferredGrads({k: out[k] for k in ("U", "W", "V", "b", "c")}, head.dlogits, cache.hs)
               if defer_dV else {k: out[k] for k in ("U", "W", "V", "b", "c")}),
        h_last=cache.hs[:, -1].copy(),
        hs=cache.hs,
        dlogits=head.dlogits,
        targets=ys,
        p_target=head.p_target,
        predicted=head.predicted,
        dh_norms=_col_norms(back.dh),
        **diag,
    )


def gradient_reach(
    params: Mapping[str, np.ndarray],
    inputs: Sequence[int],
    targets: Sequence[int],
    h0: np.ndarray | None = None,
    *,
    cell: str = "rnn",
) -> np.ndarray:
    """R (T×T): R[t, k] = ‖∂L_t/∂h_k‖ for k ≤ t, zero above the diagonal (full BPTT).

    Row t shows how far back loss term L_t's gradient reaches: if it shrinks geometrically with
    t − k the gradient vanishes; if it grows, it explodes. Costs about one extra backward pass.
    """
    xs, ys = _check_window(params, inputs, targets)
    the_cell = get_cell(cell)
    cache = the_cell.forward(params, xs, _h0(params, h0))
    head = head_forward_backward(params, cache.hs, ys)
    return the_cell.reach(params, cache, head.dh_out)
