"""History memory and reload-autosave cost after 10k, 100k and 1M steps (issue #5: many users).

A real Trainer (default settings: H = 100, T = 25, on the default sample) takes a few real steps;
then synthetic rows, its real row and ‖∂L/∂h_t‖ with varied loss, norms, clipping and η-halving
flags, go through the real ``History.append`` (and the spectrum log every 100 steps, as the
trainer does), and the real ``dump_trainer`` / ``load_trainer`` are timed. Memory is what
tracemalloc sees allocated by the appends (arrays and Python objects alike), so the same
number can be measured for an older History: run this script with PYTHONPATH pointing at an
older checkout (its History has no ``nbytes``; only tracemalloc is used for both).

    python benchmarks/bench_history.py [--sizes 10000,100000,1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parent.parent))   # appended: a PYTHONPATH checkout comes first

from rnnviz.persist import dump_trainer, load_trainer  # noqa: E402
from rnnviz.presets import DEFAULT_CONFIG, DEFAULT_SAMPLE  # noqa: E402
from rnnviz.samples import read_sample  # noqa: E402
from rnnviz.trainer import SPECTRUM_EVERY, Trainer  # noqa: E402

REAL_STEPS = 5


def grown_trainer(n_steps: int) -> tuple[Trainer, int]:
    """A trainer whose history holds n_steps rows (REAL_STEPS real, the rest synthetic); bytes allocated."""
    tr = Trainer(read_sample(DEFAULT_SAMPLE), DEFAULT_CONFIG)
    tr.step(REAL_STEPS)
    base = {c: v[-1].item() if hasattr(v[-1], "item") else v[-1] for c, v in tr.history.cols.items()}
    dh = tr.last.result.dh_norms
    rng = np.random.default_rng(0)
    loss = 2.0 + rng.standard_exponential(n_steps) * 0.1
    loss[rng.integers(0, n_steps, max(1, n_steps // 10_000))] = 40.0   # a few exploding steps
    grad = rng.lognormal(1.0, 0.5, n_steps)
    cfg = tr.config
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for step in range(REAL_STEPS + 1, n_steps + 1):
        # Fresh Python floats in every column, as real steps make (a list-based History keeps them all).
        row = {c: v * 1.0 if isinstance(v, float) else v for c, v in base.items()}
        row["step"], row["loss"], row["grad_norm"] = step, float(loss[step - 1]), float(grad[step - 1])
        row["clipped"] = bool(grad[step - 1] > 5.0)
        row["lr_changed"] = step % 5_000 == 0
        tr.history.append(row, dh * loss[step - 1], cfg)
        if step % SPECTRUM_EVERY == 0:
            tr.history.spectrum.append((step, 1.0, 1.5))
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    tr.state = dataclasses.replace(tr.state, step=n_steps)
    return tr, held


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated step counts")
    ap.add_argument("--repeat", type=int, default=5, help="dumps and loads timed per size (median shown)")
    args = ap.parse_args()
    print("| steps | history rows kept | history memory (MB) | autosave dump (ms, median) | file (MB) | load (ms, median) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        tr, held = grown_trainer(n)
        dump_ms, data = timed(lambda tr=tr: dump_trainer(tr, {"text_label": "bench"}), args.repeat)
        load_ms, (back, _) = timed(lambda data=data: load_trainer(data), args.repeat)
        assert back.step_count == n and len(back.history) == len(tr.history)
        print(f"| {n:,} | {len(tr.history):,} | {held / 2**20:.1f} | {dump_ms:.1f} | {len(data) / 2**20:.1f} "
              f"| {load_ms:.1f} |", flush=True)


if __name__ == "__main__":
    main()
