"""The long-memory race over several seeds: how robust is the preset's point?

    python benchmarks/race_seeds.py --seeds 0 1 2 3 --steps 3000     # prints a Markdown table

Each seed stands for "another machine": a chaotic training run on a CPU whose BLAS rounds the last
bits differently ends elsewhere, much as a run from other first weights does (DESIGN.md, Tests). For
every seed the race of the preset (rnnviz.race.LONGMEM_CONFIG, every cell from its own fresh weights,
the same windows) runs ``--steps`` steps, scored every ``rnnviz.race.EVAL_EVERY`` steps; the table
gives each cell's best and median right-closing-marker score (over all its scores), the first step it
reached 70%, and the race's CPU time per step. tests/test_engine_race.py asserts the gap with margins
taken from this table (README, "Long memory, measured").
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS, as in app.py

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rnnviz.race import LONGMEM_CONFIG, Race  # noqa: E402

TEXT = (Path(__file__).resolve().parent.parent / "sample_texts" / "recall_first_char.txt").read_text()


def first_at(steps, accuracy, level: float) -> str:
    return next((f"{s:,}" for s, a in zip(steps, accuracy, strict=True) if a >= level), "—")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=LONGMEM_CONFIG.lr)
    a = ap.parse_args()
    rows = []
    for seed in a.seeds:
        print(f"seed {seed} …", file=sys.stderr, flush=True)
        r = Race(TEXT, LONGMEM_CONFIG.with_changes(seed=seed, lr=a.lr))
        c0 = time.thread_time()
        r.step(a.steps)
        ms = (time.thread_time() - c0) / a.steps * 1e3
        cells = {rc.title: (max(rc.accuracy), first_at(rc.eval_steps, rc.accuracy, 0.7), statistics.median(rc.accuracy))
                 for rc in r.racers.values()}
        rows.append((seed, cells, ms))
    titles = list(rows[0][1])
    print(f"Preset: H = {LONGMEM_CONFIG.hidden_size}, T = {LONGMEM_CONFIG.seq_len}, {LONGMEM_CONFIG.optimizer} "
          f"η = {a.lr:g}, clip ‖g‖ ≤ {LONGMEM_CONFIG.clip_value:g}; {a.steps:,} steps; chance 25%\n")
    print("| seed | " + " | ".join(f"{t} best / median | {t} first ≥ 70%" for t in titles) + " | CPU ms per race step |")
    print("|---" * (2 + 2 * len(titles)) + "|")
    for seed, cells, ms in rows:
        print(f"| {seed} | " + " | ".join(f"{cells[t][0]:.0%} / {cells[t][2]:.0%} | {cells[t][1]}" for t in titles)
              + f" | {ms:.1f} |")


if __name__ == "__main__":
    main()
