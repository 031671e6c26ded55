"""How fast can an LSTM training step be in NumPy at all? A lower bound, against nn.LSTM.

    python benchmarks/lstm_floor.py                 # prints a Markdown table
    python benchmarks/lstm_floor.py --torch PYTHON  # the interpreter that has torch

Issue #11 asks the app's ``Trainer.step()`` for the LSTM (char shape V=65, H=100, T=25, plain
SGD) to be no slower than PyTorch's fused ``nn.LSTM`` at batch 1. This script measures what the
app's step is compared with: ``BareLSTM.step`` below is the leanest float64 LSTM training step
we could write with the recurrence looping in Python, as the issue requires. It has none of the
app's work: no cell protocol, no diagnostics, no gradient norms, no history, no checks of the
input, no divergence check; every buffer is allocated once. Before timing, its gradient is
checked against the engine's (``rnnviz.loss_and_grads``) on the same window.

Four columns, timed in one run, interleaved in blocks (the shared machine's slow spells land on
all alike), medians: the bare step, ``Trainer.step()`` with the app's per-step diagnostics and
without them (``rnnviz.trainer.DIAGNOSTICS = False``), and PyTorch (``bench_cells.TorchWorker``:
float32, one thread, nn.LSTM + Linear + cross-entropy + backward + SGD).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS, as in app.py

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cells import timed, torch_worker  # noqa: E402
from bench_step import char_text  # noqa: E402

import rnnviz.trainer  # noqa: E402
from rnnviz import TrainConfig, Trainer, init_params, loss_and_grads  # noqa: E402

NAMES = ("U", "W", "b", "V", "c")


class BareLSTM:
    """One flat θ (U 4H×V, W 4H×H, b 4H, V V×H, c V) and one flat gradient; SGD on a token stream."""

    def __init__(self, data: np.ndarray, V: int, H: int, T: int, lr: float, seed: int = 0):
        p0 = init_params(V, H, cell="lstm", seed=seed)
        self.theta = np.concatenate([p0[k].ravel() for k in NAMES])
        self.grad = np.zeros_like(self.theta)
        self.p, self.g = self._views(self.theta, p0), self._views(self.grad, p0)
        self.data, self.V, self.H, self.T, self.lr = data, V, H, T, lr
        self.pos, self.h, self.c = 0, np.zeros(H), np.zeros(H)
        self.Y = np.empty((T, 4 * H))            # ā_t = −(U x_t + W h_{t−1} + b), then the gates
        self.hs = np.empty((T + 1, H))           # h_0 … h_T
        self.M = np.empty((T + 1, 2 * H))        # M[t] = [−g_t, c_{t−1}]
        self.tc = np.empty((T, H))               # tanh(c_t)
        self.prod, self.Wh = np.empty(2 * H), np.empty(4 * H)
        self.coef = np.empty((T, 4, H))          # dA_{i,f,g} = dc ⊙ coef[:3], dA_o = dh ⊙ coef[3]
        self.k, self.f = np.empty((T, H)), np.empty((T, H))   # ∂h_t/∂c_t (diagonal), f_t
        self.dA = np.empty((T, 4 * H))
        self.dh, self.dc, self.tmp = np.empty(H), np.empty(H), np.empty(H)
        self.rows = np.arange(T)

    @staticmethod
    def _views(flat: np.ndarray, like: dict) -> dict:
        out, i = {}, 0
        for k in NAMES:
            out[k] = flat[i:i + like[k].size].reshape(like[k].shape)
            i += like[k].size
        return out

    def window(self) -> tuple[np.ndarray, np.ndarray]:
        if self.pos + self.T + 1 > self.data.size:
            self.pos, self.h, self.c = 0, np.zeros(self.H), np.zeros(self.H)
        return self.data[self.pos:self.pos + self.T], self.data[self.pos + 1:self.pos + self.T + 1]

    def loss_and_grads(self, xs: np.ndarray, ys: np.ndarray) -> float:
        """Forward and full BPTT over one window; the gradient lands in self.g. Returns Σ_t L_t."""
        p, g, H, T = self.p, self.g, self.H, self.T
        U, W, b, Vm, cb = p["U"], p["W"], p["b"], p["V"], p["c"]
        Y, hs, M, tc, prod, Wh = self.Y, self.hs, self.M, self.tc, self.prod, self.Wh
        np.add(U.T[xs], b, out=Y)
        np.negative(Y, out=Y)
        hs[0], M[0, H:] = self.h, self.c
        neg_ig, fc = prod[:H], prod[H:]
        W_dot, add, multiply, tanh, exp, divide, subtract = (W.dot, np.add, np.multiply, np.tanh, np.exp,
                                                             np.divide, np.subtract)
        with np.errstate(over="ignore"):
            for t in range(T):
                a, m = Y[t], M[t]
                W_dot(hs[t], Wh)
                subtract(a, Wh, a)
                tanh(a[2 * H:3 * H], m[:H])
                exp(a, a)
                add(a, 1.0, a)
                divide(1.0, a, a)
                multiply(a[:2 * H], m, prod)
                c = M[t + 1, H:]
                subtract(fc, neg_ig, c)
                tanh(c, tc[t])
                multiply(a[3 * H:], tc[t], hs[t + 1])
        # the head: o_t = V h_t + c, softmax, cross-entropy
        z = hs[1:] @ Vm.T
        z += cb
        z -= z.max(axis=1)[:, None]
        np.exp(z, out=z)
        Z = np.add.reduce(z, axis=1)
        z /= Z[:, None]
        loss = float(np.add.reduce(np.log(Z) - np.log(z[self.rows, ys] * Z)))
        z[self.rows, ys] -= 1.0
        np.matmul(z.T, hs[1:], out=g["V"])
        np.add.reduce(z, axis=0, out=g["c"])
        dh_out = z @ Vm
        # backward: the window's coefficients at once, then the time loop
        Gi, Gf, Gg, Go = (Y[:, j * H:(j + 1) * H] for j in range(4))
        np.negative(M[:T, :H], out=Gg)
        coef, k, f = self.coef, self.k, self.f
        np.subtract(1.0, Gi, out=coef[:, 0])
        coef[:, 0] *= Gi
        coef[:, 0] *= Gg
        np.subtract(1.0, Gf, out=coef[:, 1])
        coef[:, 1] *= Gf
        coef[:, 1] *= M[:T, H:]
        np.multiply(Gg, Gg, out=coef[:, 2])
        np.subtract(1.0, coef[:, 2], out=coef[:, 2])
        coef[:, 2] *= Gi
        np.subtract(1.0, Go, out=coef[:, 3])
        coef[:, 3] *= Go
        coef[:, 3] *= tc
        np.multiply(tc, tc, out=k)
        np.subtract(1.0, k, out=k)
        np.multiply(k, Go, out=k)
        f[:] = Gf
        dA, dh, dc, tmp = self.dA, self.dh, self.dc, self.tmp
        dA4 = dA.reshape(T, 4, H)
        dh.fill(0.0)
        dc.fill(0.0)
        for t in range(T - 1, -1, -1):
            add(dh, dh_out[t], dh)
            multiply(dh, k[t], tmp)
            add(dc, tmp, dc)
            multiply(dc, coef[t, :3], dA4[t, :3])
            multiply(dh, coef[t, 3], dA4[t, 3])
            dA[t].dot(W, dh)
            multiply(dc, f[t], dc)
        np.matmul(dA.T, hs[:T], out=g["W"])
        cols, col_of_t = np.unique(xs, return_inverse=True)
        onehot = np.zeros((T, cols.size))
        onehot[self.rows, col_of_t] = 1.0
        g["U"].fill(0.0)
        g["U"][:, cols] = dA.T @ onehot
        np.add.reduce(dA, axis=0, out=g["b"])
        return loss

    def step(self) -> float:
        xs, ys = self.window()
        loss = self.loss_and_grads(xs, ys)
        np.multiply(self.grad, self.lr, out=self.grad)
        np.subtract(self.theta, self.grad, out=self.theta)
        self.pos += self.T
        self.h, self.c = self.hs[self.T].copy(), self.M[self.T, self.H:].copy()
        return loss


def check_against_engine(bare: BareLSTM) -> float:
    """The bare gradient equals the engine's on one window; returns the largest relative difference."""
    xs, ys = bare.window()
    loss = bare.loss_and_grads(xs, ys)
    params = {k: v.copy() for k, v in bare.p.items()}
    res = loss_and_grads(params, xs, ys, np.array([bare.h, bare.c]), cell="lstm")
    assert abs(res.loss - loss) <= 1e-9 * abs(loss), (res.loss, loss)
    worst = 0.0
    for k in NAMES:
        ref = res.grads[k]
        worst = max(worst, float(np.abs(bare.g[k] - ref).max() / max(np.abs(ref).max(), 1e-300)))
    assert worst < 1e-9, f"the bare step's gradient differs from the engine's by {worst:.2e}"
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600, help="timed steps per column")
    ap.add_argument("--blocks", type=int, default=10, help="alternating blocks")
    ap.add_argument("--torch", default="/work/torchvenv/bin/python", help="an interpreter with torch")
    args = ap.parse_args()
    text = char_text()
    cfg = TrainConfig(level="char", hidden_size=100, seq_len=25, cell="lstm", optimizer="sgd", clip="none",
                      lr=0.01)
    trainer = Trainer(text, cfg)
    V, H, T = trainer.vocab_size, cfg.hidden_size, cfg.seq_len
    bare = BareLSTM(trainer.data, V, H, T, cfg.lr)
    worst = check_against_engine(bare)
    worker, torch_note = torch_worker(args.torch)

    def trainer_step(diagnostics: bool):
        def run():
            rnnviz.trainer.DIAGNOSTICS = diagnostics
            try:
                return timed(trainer.step, per)
            finally:
                rnnviz.trainer.DIAGNOSTICS = True
        return run

    per = max(1, args.steps // args.blocks)
    columns = {"bare NumPy step": lambda: timed(bare.step, per),
               "Trainer.step(), diagnostics on": trainer_step(True),
               "Trainer.step(), diagnostics off": trainer_step(False)}
    if worker:
        columns["nn.LSTM"] = lambda: worker.steps("lstm", V, H, T, per)
    for run in columns.values():                 # warm up
        run()
    times = {name: [] for name in columns}
    for _ in range(args.blocks):
        for name, run in columns.items():
            times[name] += run()
    if worker:
        worker.close()
    medians = {name: statistics.median(v) for name, v in times.items()}
    ref = medians.get("nn.LSTM")
    print(f"LSTM, char shape V={V} H={H} T={T}, plain SGD, {per * args.blocks} steps each; {torch_note}")
    print(f"the bare step's gradient matches the engine's (largest relative difference {worst:.1e})\n")
    print("| step | ms/step (median) | × nn.LSTM |")
    print("|---|---|---|")
    for name, m in medians.items():
        ratio = f"{m / ref:.2f}×" if ref else "n/a"
        print(f"| {name} | {m:.3f} | {ratio} |")


if __name__ == "__main__":
    main()
