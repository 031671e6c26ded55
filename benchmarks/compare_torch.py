"""Dev check (not a test): our LSTM and GRU against torch.nn.LSTM / nn.GRU with the same weights.

    /work/torchvenv/bin/python benchmarks/compare_torch.py

U, W, b go into weight_ih_l0, weight_hh_l0, bias_ih_l0 (bias_hh_l0 = 0: one bias per gate, and the
GRU's reset gate then multiplies W_n h_{t−1} alone, as in DESIGN.md). Float64 on both sides; prints
the largest differences of the hidden states, the loss and every gradient.
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


if __name__ == "__main__":
    for cell in ("lstm", "gru"):
        d = compare(cell)
        print(cell, "  ".join(f"{k} {v:.1e}" for k, v in d.items()))
        assert max(d.values()) < 1e-10, d
    print("LSTM and GRU agree with PyTorch")
