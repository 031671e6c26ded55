"""Trainer.step() for each cell against PyTorch at batch 1, interleaved in one run.

    python benchmarks/bench_cells.py                 # prints a Markdown table
    python benchmarks/bench_cells.py --torch PYTHON  # the interpreter that has torch (default /work/torchvenv/bin/python)

PyTorch runs in a separate interpreter (it is never a dependency of rnnviz): a worker subprocess
builds, on the same shapes (float32, one thread), each step being zero_grad, forward, cross-entropy
(summed over the window), backward and an SGD step, in two forms:

- **Embedding** (the reference: what a PyTorch user writes): nn.Embedding(V, H) → nn.RNN / nn.LSTM / nn.GRU
  (input size H) → nn.Linear. Token ids index the embedding as ours index U's columns; the cell then
  has one more H×H input product per gate than ours (its weight_ih), so it does a little more work.
- **one-hot** (the same model as ours): one-hot inputs through the cell's V-wide weight_ih, as U x_t
  would be written as a product; slower than the Embedding form, so a weaker baseline, shown beside it.

Our side is ``Trainer.step()`` with all diagnostics.
The two alternate in blocks, so a slow spell of the shared machine lands on both alike; the
table gives medians over all timed steps, and the spread of the ratio between blocks (each
block's median against the PyTorch block right after it) to show how much the machine moved.
Without torch the torch column says why it is empty.

Shapes: char V=65 H=100 T=25, once with the app's default (Adagrad, elementwise clipping: more
work than SGD) and then, for every cell, plain SGD without clipping as PyTorch's side does;
word V=8000 H=100 T=20 with plain SGD and no clipping. For the word case the table also gives the
floor of any exact float64 step of that shape (bench_step.reference_ms: the three products with V,
16M multiply-adds each, and the softmax's exp, timed alone between the blocks): where our step
cannot reach a target, that floor says how far NumPy in float64 could go.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS, as in app.py

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_step import char_text, reference_ms, word_text  # noqa: E402

from rnnviz import TrainConfig, Trainer  # noqa: E402

TORCH_WORKER = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
torch.manual_seed(0)
models = {}
def build(cell, V, H, T, form):
    embed = torch.nn.Embedding(V, H) if form == "embed" else None
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](H if embed else V, H)
    lin = torch.nn.Linear(H, V)
    params = list(rnn.parameters()) + list(lin.parameters()) + (list(embed.parameters()) if embed else [])
    opt = torch.optim.SGD(params, lr=1e-3)
    g = torch.Generator().manual_seed(1)
    xs = torch.randint(0, V, (T,), generator=g)
    x = xs if embed else torch.nn.functional.one_hot(xs, V).to(torch.float32).view(T, 1, V)
    y = torch.randint(0, V, (T,), generator=g)
    return embed, rnn, lin, opt, x, y, H
def step(m):
    embed, rnn, lin, opt, x, y, H = m
    opt.zero_grad(set_to_none=True)
    out, _ = rnn(embed(x).view(-1, 1, H) if embed is not None else x)
    loss = torch.nn.functional.cross_entropy(lin(out.view(-1, H)), y, reduction="sum")
    loss.backward()
    opt.step()
for line in sys.stdin:
    req = json.loads(line)
    key = (req["cell"], req["V"], req["H"], req["T"], req["form"])
    if key not in models:
        models[key] = build(*key)
    m = models[key]
    out = []
    for _ in range(req["n"]):
        t0 = time.perf_counter()
        step(m)
        out.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps(out), flush=True)
"""


class TorchWorker:
    """A subprocess with torch; ``steps(cell, V, H, T, n, form)`` returns n step times in ms."""

    def __init__(self, python: str):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([python, "-c", TORCH_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)

    def steps(self, cell: str, V: int, H: int, T: int, n: int, form: str = "embed") -> list[float]:
        """n step times (ms) of the PyTorch model of this shape; form "embed" (nn.Embedding) or "onehot"."""
        self.proc.stdin.write(json.dumps({"cell": cell, "V": V, "H": H, "T": T, "n": n, "form": form}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(self.proc.stderr.read()[-2000:])
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def torch_worker(python: str) -> tuple[TorchWorker | None, str]:
    if not Path(python).exists():
        return None, f"no torch: {python} does not exist"
    probe = subprocess.run([python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None, f"no torch in {python}"
    return TorchWorker(python), f"torch {probe.stdout.strip()} ({python})"


def timed(step, n: int) -> list[float]:
    """n calls of step(), each one's time in ms."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600, help="timed steps per char config (word: a tenth)")
    ap.add_argument("--blocks", type=int, default=10, help="alternating blocks per config")
    ap.add_argument("--torch", default="/work/torchvenv/bin/python", help="an interpreter with torch")
    ap.add_argument("--only", default="", help="run only the cases whose name contains this, e.g. 'lstm'")
    args = ap.parse_args()
    char, word = char_text(), word_text()
    char_cfg = TrainConfig(level="char", hidden_size=100, seq_len=25, optimizer="adagrad", lr=0.1)
    word_cfg = TrainConfig(level="word", hidden_size=100, seq_len=20, optimizer="sgd", lr=0.005, clip="none",
                           max_vocab=8000)
    sgd = {"optimizer": "sgd", "clip": "none", "lr": 0.01}   # what the PyTorch side does
    cases = [("char rnn", char, char_cfg, args.steps, 0.35)]
    cases += [(f"char {c}", char, char_cfg.with_changes(cell=c, **sgd), args.steps, target)
              for c, target in (("rnn", 0.35), ("lstm", 1.0), ("gru", 0.5))]
    cases.append(("word rnn", word, word_cfg, max(20, args.steps // 10), 1.0))
    cases = [c for c in cases if args.only in c[0]]
    worker, torch_note = torch_worker(args.torch)
    results = []
    for name, text, cfg, n, target in cases:
        print(f"{name} …", file=sys.stderr, flush=True)
        tr = Trainer(text, cfg)
        shape = (cfg.cell, tr.vocab_size, cfg.hidden_size, cfg.seq_len)
        timed(tr.step, max(20, n // 10))                          # warm up all sides
        for form in FORMS if worker else ():
            worker.steps(*shape, max(20, n // 10), form)
        ours, theirs, ratios, floor = [], {f: [] for f in FORMS}, [], []
        per = max(1, n // args.blocks)
        while len(ours) < n:
            mine = timed(tr.step, per)
            ours += mine
            if name.startswith("word"):
                floor += [reference_ms() for _ in range(per)]
            if worker:
                for form in FORMS:
                    theirs[form] += worker.steps(*shape, per, form)
                ratios.append(statistics.median(mine) / statistics.median(theirs["embed"][-per:]))
        med = {f: statistics.median(v) for f, v in theirs.items() if v}
        results.append((name, shape, cfg.optimizer, statistics.median(ours), med, ratios, target,
                        statistics.median(floor) if floor else None))
    if worker:
        worker.close()
    print(f"PyTorch: {torch_note}\n")
    print("| case | V | H | T | our optimizer | ours ms/step | PyTorch, Embedding | ratio | ratio per block, min–max "
          "| PyTorch, one-hot | ratio | target (against Embedding) | float64 floor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, (_, V, H, T), opt, ours, med, blocks, target, fl in results:
        cols = []
        for form in FORMS:
            cols += [f"{med[form]:.3f} ms" if form in med else "—", f"{ours / med[form]:.2f}×" if form in med else "—"]
        spread = f"{min(blocks):.2f}–{max(blocks):.2f}×" if blocks else "—"
        print(f"| {name} | {V} | {H} | {T} | {opt} | {ours:.3f} | {cols[0]} | {cols[1]} | {spread} | {cols[2]} | "
              f"{cols[3]} | ≤ {target}× | " + (f"{fl:.3f} ms ({fl / med['embed']:.2f}×)" if fl and med else "—") + " |")


FORMS = ("embed", "onehot")   # the PyTorch reference (nn.Embedding), then the one-hot form of the same model


if __name__ == "__main__":
    main()
