"""Dev check (not a test): our LSTM and GRU against torch.nn.LSTM / nn.GRU with the same weights, and our
minGRU against the same equations written in PyTorch and differentiated by autograd (full and truncated BPTT).

    /work/torchvenv/bin/python benchmarks/compare_torch.py

U, W, b go into weight_ih_l0, weight_hh_l0, bias_ih_l0 (bias_hh_l0 = 0: one bias per gate, and the
GRU's reset gate then multiplies W_n h_{t−1} alone, as in DESIGN.md). Float64 on both sides; prints
the largest differences of the hidden states, the loss and every gradient.

The minGRU has no nn module: ``torch_mingru`` is z_t = σ(U_z x_t + b_z), h̃_t = U_h x_t + b_h,
h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t as PyTorch code (an embedding lookup of U's columns, as a PyTorch
user would write it), and truncated BPTT with length k as autograd sees it: L_t's graph reaches back k
steps from a detached h_{t−k−1} (one forward per loss term: slow, but plainly the definition).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rnnviz  # noqa: E402


def compare(cell: str, V: int = 11, H: int = 7, T: int = 9, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    p = rnnviz.init_params(V, H, cell=cell, seed=seed)
    p = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}
    xs, ys = rng.integers(0, V, T), rng.integers(0, V, T)
    ours = rnnviz.loss_and_grads(p, xs, ys, cell=cell)
    mod = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](V, H).double()
    with torch.no_grad():
        mod.weight_ih_l0.copy_(torch.from_numpy(p["U"]))
        mod.weight_hh_l0.copy_(torch.from_numpy(p["W"]))
        mod.bias_ih_l0.copy_(torch.from_numpy(p["b"]))
        mod.bias_hh_l0.zero_()
    Vm = torch.tensor(p["V"], requires_grad=True)
    c = torch.tensor(p["c"], requires_grad=True)
    x = torch.nn.functional.one_hot(torch.from_numpy(xs), V).double().view(T, 1, V)
    out, _ = mod(x)
    hs = out.view(T, H)
    loss = torch.nn.functional.cross_entropy(hs @ Vm.T + c, torch.from_numpy(ys), reduction="sum")
    loss.backward()
    theirs = {"U": mod.weight_ih_l0.grad, "W": mod.weight_hh_l0.grad, "b": mod.bias_ih_l0.grad, "V": Vm.grad, "c": c.grad}
    diffs = {"hs": float(np.abs(hs.detach().numpy().T - ours.hs).max()), "loss": abs(float(loss.detach()) - ours.loss)}
    diffs |= {f"d{k}": float(np.abs(theirs[k].numpy() - ours.grads[k]).max()) for k in theirs}
    return diffs


def torch_mingru(Uz, Uh, bz, bh, xs, h0, upto=None, start=0):
    """h_1..h_upto of the minGRU in PyTorch, from the state h0 entering step ``start`` (0-based)."""
    h, hs = h0, []
    for t in range(start, len(xs) if upto is None else upto + 1):
        z = torch.sigmoid(Uz[:, xs[t]] + bz)
        h = (1 - z) * h + z * (Uh[:, xs[t]] + bh)
        hs.append(h)
    return hs


def compare_mingru(V: int = 11, H: int = 7, T: int = 9, seed: int = 0, truncate: int | None = None) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    p = rnnviz.init_params(V, H, cell="mingru", seed=seed)
    p = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}
    xs, ys = rng.integers(0, V, T), rng.integers(0, V, T)
    h0 = rng.uniform(-0.8, 0.8, H)
    ours = rnnviz.loss_and_grads(p, xs, ys, h0, truncate, cell="mingru")
    U = torch.tensor(p["U"], requires_grad=True)
    b = torch.tensor(p["b"], requires_grad=True)
    Vm = torch.tensor(p["V"], requires_grad=True)
    c = torch.tensor(p["c"], requires_grad=True)
    Uz, Uh, bz, bh = U[:H], U[H:], b[:H], b[H:]
    start = torch.tensor(h0)

    def term(h, y):
        return torch.nn.functional.cross_entropy((Vm @ h + c).view(1, V), torch.tensor([int(y)]), reduction="sum")

    hs = torch_mingru(Uz, Uh, bz, bh, xs, start)
    if truncate is None:
        loss = sum(term(h, y) for h, y in zip(hs, ys, strict=True))
    else:   # L_t reaches k steps back: from the (detached) state entering step t − k
        states = [start] + [h.detach() for h in hs]
        loss = sum(term(torch_mingru(Uz, Uh, bz, bh, xs, states[max(0, t - truncate)], upto=t,
                                     start=max(0, t - truncate))[-1], y) for t, y in enumerate(ys))
    loss.backward()
    theirs = {"U": U.grad, "b": b.grad, "V": Vm.grad, "c": c.grad}
    diffs = {"hs": float(np.abs(torch.stack(hs).detach().numpy().T - ours.hs).max()),
             "loss": abs(float(loss.detach()) - ours.loss)}
    diffs |= {f"d{k}": float(np.abs(theirs[k].numpy() - ours.grads[k]).max()) for k in theirs}
    assert ours.grads["W"].shape == (0, H)    # no recurrent matrix: nothing to compare
    return diffs


if __name__ == "__main__":
    for cell in ("lstm", "gru"):
        d = compare(cell)
        print(cell, "  ".join(f"{k} {v:.1e}" for k, v in d.items()))
        assert max(d.values()) < 1e-10, d
    for k in (None, 0, 1, 3):
        for V, H, T in ((2, 1, 1), (11, 7, 9), (5, 3, 25)):
            d = compare_mingru(V, H, T, seed=V + H + T, truncate=k)
            print(f"mingru V={V} H={H} T={T} k={k}", "  ".join(f"{n} {v:.1e}" for n, v in d.items()))
            assert max(d.values()) < 1e-10, d
    print("LSTM and GRU agree with PyTorch's modules; the minGRU with the same equations under autograd")
