"""The long-memory preset, measured: RNN vs LSTM vs GRU on recall_first_char.txt.

Prints, every `--every` steps, each cell's right-closing-marker accuracy (rnnviz.recall) and the
steps per second of the three stepped together. Usage:
    python benchmarks/bench_longmem.py --T 100 --H 64 --lr 0.01 --seeds 0 1 2 --steps 1500
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rnnviz.config import TrainConfig  # noqa: E402
from rnnviz.recall import trainer_recall  # noqa: E402
from rnnviz.trainer import Trainer  # noqa: E402

TEXT = (Path(__file__).resolve().parent.parent / "sample_texts" / "recall_first_char.txt").read_text()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--H", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--opt", default="adam")
    ap.add_argument("--clip", default="norm")
    ap.add_argument("--clip-value", type=float, default=5.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    a = ap.parse_args()
    for seed in a.seeds:
        cfg = TrainConfig(hidden_size=a.H, seq_len=a.T, optimizer=a.opt, lr=a.lr, clip=a.clip,
                          clip_value=a.clip_value, seed=seed)
        trainers = {c: Trainer(TEXT, cfg.with_changes(cell=c), undo_budget_bytes=0) for c in a.cells}
        spent = {c: 0.0 for c in a.cells}
        for s in range(1, a.steps + 1):
            for c, tr in trainers.items():
                t0 = time.perf_counter()
                tr.step(history=False)
                spent[c] += time.perf_counter() - t0
            if s % a.every == 0:
                accs = " ".join(f"{c}={trainer_recall(tr).accuracy:.2f}" for c, tr in trainers.items())
                tot = sum(spent.values())
                print(f"T={a.T} H={a.H} {a.opt} η={a.lr:g} clip={a.clip}:{a.clip_value:g} seed={seed} "
                      f"step {s}: {accs}  together {s / tot:.1f} steps/s "
                      + " ".join(f"{c}:{1e3 * spent[c] / s:.1f}ms" for c in a.cells), flush=True)


if __name__ == "__main__":
    main()
