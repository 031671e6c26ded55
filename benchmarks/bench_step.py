"""Median milliseconds per Trainer.step() for the two reference configurations.

    python benchmarks/bench_step.py            # prints a Markdown table

C: char level, V=65, H=100, T=25, Adagrad, full BPTT.   Target ≤ 0.6 ms.
W: word level, V=8000, H=100, T=20, SGD, full BPTT.     Target ≤ 8 ms.
"bare" is one forward+backward without the per-time-step diagnostics, plus the same update, so
the last column is what the diagnostics cost (the two are timed in alternating blocks). Texts are
generated here (seeded), so the vocabulary sizes are exact and nothing is downloaded. One BLAS
thread, as app.py sets it (an OPENBLAS_NUM_THREADS already in the environment wins).

The machine is shared and its speed drifts by 2× within minutes, so each config runs in
--rounds rounds (fresh trainers each time) and the table gives the median over all timed steps
together with the lowest and highest round median. Between blocks, W's four big kernels (three
matrix products and the exp of the softmax, see reference_ms) are timed alone: their median is
both a floor for W's step and a gauge of how fast the machine was during the run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS, as in app.py

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rnnviz.trainer as trainer_module  # noqa: E402
from rnnviz import TrainConfig, Trainer  # noqa: E402


def char_text(vocab: int = 65, n: int = 20000, seed: int = 0) -> str:
    """n characters drawn from exactly `vocab` distinct printable characters."""
    alphabet = [chr(c) for c in range(33, 33 + vocab)]
    rng = np.random.default_rng(seed)
    return "".join(alphabet) + "".join(rng.choice(alphabet, size=n))


def word_text(vocab: int = 8000, n: int = 40000, seed: int = 0) -> str:
    """n words drawn (Zipf-like) from `vocab - 1` made-up words, so V = vocab with <unk>."""
    words = [f"w{i}" for i in range(vocab - 1)]
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab)
    p /= p.sum()
    return " ".join(words) + " " + " ".join(rng.choice(words, size=n, p=p))


def _reference_arrays(T: int = 20, H: int = 100, V: int = 8000) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(1)
    hs = np.tanh(rng.standard_normal((T, H)))              # like h_t: in (−1, 1)
    Vmat = 0.1 * rng.standard_normal((V, H))                # logits of order 1: no overflow in exp
    return hs, Vmat, np.empty((T, V)), np.empty((T, H)), np.empty((V, H))


_REF = _reference_arrays()


def reference_ms() -> float:
    """W's four big kernels alone, in ms: the logits (T×H)·(H×V), exp over T×V, ∂L/∂h = (T×V)·(V×H)
    and dV = (V×T)·(T×H). No allocation (fresh 1.3 MB arrays cost page faults that vary more than
    the arithmetic) and no Python around them: a floor for W's step, and a gauge of the machine."""
    hs, Vmat, z, dh, dV = _REF
    t0 = time.perf_counter()
    np.matmul(hs, Vmat.T, out=z)
    np.exp(z, out=z)
    np.matmul(z, Vmat, out=dh)
    np.matmul(z.T, hs, out=dV)
    return (time.perf_counter() - t0) * 1e3


def time_steps(trainer: Trainer, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        trainer.step()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def bench(name: str, text: str, cfg: TrainConfig, n: int, warmup: int, warmup_s: float = 1.0, blocks: int = 20) -> dict:
    """Median ms per step with all diagnostics and without ("bare"), n timed steps each.

    The two runs alternate in `blocks` blocks rather than one after the other, so that a slow
    spell of the shared machine lands on both alike; and timing starts only after `warmup` steps
    and at least `warmup_s` seconds of stepping (an idle CPU needs a moment to reach full clock)."""
    trainers = {diag: Trainer(text, cfg) for diag in (True, False)}
    for diag, tr in trainers.items():
        trainer_module.DIAGNOSTICS = diag
        time_steps(tr, warmup)
    t_end = time.perf_counter() + warmup_s
    while time.perf_counter() < t_end:
        for diag, tr in trainers.items():
            trainer_module.DIAGNOSTICS = diag
            time_steps(tr, 1)
    times: dict[bool, list[float]] = {True: [], False: []}
    ref: list[float] = []
    per_block = max(1, n // blocks)
    while len(times[True]) < n:
        for diag, tr in trainers.items():
            trainer_module.DIAGNOSTICS = diag
            times[diag] += time_steps(tr, min(per_block, n - len(times[diag])))
        ref += [reference_ms() for _ in range(3)]
    trainer_module.DIAGNOSTICS = True
    tr = trainers[True]
    return {"config": name, "V": tr.vocab_size, "H": cfg.hidden_size, "T": cfg.seq_len, "optimizer": cfg.optimizer,
            "full": times[True], "bare": times[False], "ref": ref}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000, help="timed steps per config and round (C; W uses a tenth)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per config, each with fresh trainers")
    args = ap.parse_args()
    configs = {
        "C": (char_text(), TrainConfig(level="char", hidden_size=100, seq_len=25, optimizer="adagrad", lr=0.1),
              args.steps, 200),
        "W": (word_text(), TrainConfig(level="word", hidden_size=100, seq_len=20, optimizer="sgd", lr=0.005,
                                       clip="none", max_vocab=8000), max(20, args.steps // 10), 20),
    }
    targets = {"C": 0.6, "W": 8.0}
    rounds = {name: [] for name in configs}
    for _ in range(args.rounds):
        for name, (text, cfg, n, warmup) in configs.items():
            rounds[name].append(bench(name, text, cfg, n, warmup))
    print("| config | V | H | T | optimizer | median ms/step (all diagnostics) | round medians | target "
          "| bare ms/step | diagnostics overhead | W's kernels alone, ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, rs in rounds.items():
        r = rs[0]
        full = statistics.median([t for x in rs for t in x["full"]])
        bare = statistics.median([t for x in rs for t in x["bare"]])
        per_round = [statistics.median(x["full"]) for x in rs]
        ref = statistics.median([t for x in rs for t in x["ref"]])
        print(f"| {name} | {r['V']} | {r['H']} | {r['T']} | {r['optimizer']} | {full:.3f} | "
              f"{min(per_round):.3f}–{max(per_round):.3f} | ≤ {targets[name]} | {bare:.3f} | "
              f"{100 * (full / bare - 1):+.0f}% | {ref:.2f} |")


if __name__ == "__main__":
    main()
