"""A race: every registered cell (the vanilla RNN, the minGRU, the GRU, the LSTM) on one text with the same
settings, stepped together.

Every racer is a Trainer with the same config (same seed, optimizer, η, clipping, H, T) but its
own cell, reading the same windows. The race keeps each one's loss per token at every step and,
every ``eval_every`` steps, the right-closing-marker score (rnnviz.recall): how often the model
recalls a line's first character at its end. No undo and no history rows: a racer only moves
forward, so a race step costs the three training steps plus, now and then, one bounded forward
pass per cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rnnviz.bptt import gradient_reaches
from rnnviz.cells import CELLS, get_cell
from rnnviz.config import TrainConfig
from rnnviz.recall import MAX_EVAL_TOKENS, RecallScore, trainer_dependencies, trainer_recall
from rnnviz.samples import read_sample
from rnnviz.trainer import Trainer

RACE_CELLS = tuple(sorted(CELLS, key=lambda n: CELLS[n].blocks))  # every registered cell, fewest gate blocks first
EVAL_EVERY = 100         # steps between two recall scores (each a forward pass of ≤ MAX_EVAL_TOKENS per cell)
MAX_RACE_STEPS = 20_000  # a race's record is bounded: steps beyond this are refused

# The long-memory preset (rnnviz.presets "longmem") and the race page's lecture settings, measured with
# benchmarks/race_seeds.py over seeds 0-15 (README, "Long memory, measured"). T = 100 so that most lines (22-42
# characters) lie inside one window and their closing marker's gradient reaches the opening one. H = 64 keeps a race
# step (four cells) near 5 CPU-ms, so the session's CPU share plays ~5,000 race steps in 30 s. The LSTM's
# forget-gate bias 3 (σ(3) ≈ 0.95 of the cell state kept per step at the start; σ(1) ≈ 0.73 keeps 0.73³⁰ ≈ 10⁻⁴ of a
# line's opening marker) and Adam's β2 = 0.99 (it forgets the first steps' large gradients sooner) make the LSTM
# reach 70% within 3,400 race steps on all 16 seeds, against 11 of 16 within 3,000 with b_f = 1 and β2 = 0.999.
# Adam η = 0.01; clipping ‖g‖ ≤ 500 on the window's summed loss is the prototype's ‖g‖ ≤ 5 on the mean over
# T = 100 (rnnviz sums L_t, PyTorch's cross_entropy averages them).
LONGMEM_CONFIG = TrainConfig(hidden_size=64, seq_len=100, optimizer="adam", lr=0.01, adam_beta2=0.99, clip="norm",
                             clip_value=500.0, forget_bias=3.0, seed=0)
LONGMEM_SAMPLE = "recall_first_char"   # the lecture race's text (sample_texts/)
GOAL = 0.7                # a racer at this right-closing-marker score has learned the task
LONGMEM_GAP_STEPS = 5000  # ~30 s of play; within these, seeds 0-15: every gated cell ≥ 70% by step 3,400, RNN median ≤ 29%


@dataclass
class Racer:
    """One cell's record. loss: (steps,) L/T per step (NaN after divergence);
    eval_steps / accuracy / correct / n: the recall scores, one per evaluation."""

    trainer: Trainer
    loss: list = field(default_factory=list)
    eval_steps: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    correct: list = field(default_factory=list)
    n: list = field(default_factory=list)
    diverged_at: int | None = None
    divergence: str = ""

    @property
    def title(self) -> str:
        return self.trainer.cell.title

    def score(self, step: int, max_tokens: int) -> RecallScore:
        s = trainer_recall(self.trainer, max_tokens)
        self.eval_steps.append(step)
        self.accuracy.append(s.accuracy)
        self.correct.append(s.correct)
        self.n.append(s.n)
        return s


class Race:
    """Racers for ``cells`` from one config; ``steps`` counts race steps (all advance together)."""

    def __init__(self, text: str, config: TrainConfig, cells: tuple[str, ...] = RACE_CELLS, *,
                 eval_every: int = EVAL_EVERY, eval_tokens: int = MAX_EVAL_TOKENS):
        for c in cells:
            get_cell(c)   # ValueError names the choices
        base = config.with_changes(spectral_radius=None) if config.spectral_radius is not None else config
        self.config = base
        self.eval_every = max(1, int(eval_every))
        self.eval_tokens = int(eval_tokens)
        self.racers = {c: Racer(Trainer(text, base.with_changes(cell=c), undo_budget_bytes=0)) for c in cells}
        self.steps = 0
        self.chance = math.nan
        for r in self.racers.values():
            self.chance = r.score(0, self.eval_tokens).chance

    @classmethod
    def lecture(cls, seed: int = 0, **kw) -> Race:
        """The lecture's race: the long-memory preset's text and settings (LONGMEM_CONFIG) with this seed."""
        return cls(read_sample(LONGMEM_SAMPLE), LONGMEM_CONFIG.with_changes(seed=int(seed)), **kw)

    @classmethod
    def start(cls, trainer: Trainer, **kw) -> Race:
        """A race on the trainer's text with its settings (every cell from its own fresh weights)."""
        return cls(trainer.text, trainer.config, **kw)

    def step(self, n: int = 1) -> int:
        """Advance every racer n steps (bounded by MAX_RACE_STEPS); returns the steps taken.
        A racer that diverges stops there (NaN loss from then on), the others go on."""
        n = max(0, min(int(n), MAX_RACE_STEPS - self.steps))
        for _ in range(n):
            self.steps += 1
            for r in self.racers.values():
                rec = r.trainer.step(history=False) if r.diverged_at is None else None
                if rec is None:
                    if r.diverged_at is None:
                        r.diverged_at = self.steps
                        d = r.trainer.divergence
                        r.divergence = d.reason if d else "the step was refused"
                    r.loss.append(math.nan)
                else:
                    r.loss.append(rec.loss_per_token)
            if self.steps % self.eval_every == 0:
                for r in self.racers.values():
                    r.score(self.steps, self.eval_tokens)
        return n

    def series(self, cell: str) -> dict[str, np.ndarray]:
        """Arrays for charts: step (1..steps), loss; eval_steps, accuracy, correct, n."""
        r = self.racers[cell]
        return {"step": np.arange(1, len(r.loss) + 1), "loss": np.asarray(r.loss, dtype=float),
                "eval_steps": np.asarray(r.eval_steps, dtype=int),
                "accuracy": np.asarray(r.accuracy, dtype=float),
                "correct": np.asarray(r.correct, dtype=int), "n": np.asarray(r.n, dtype=int)}

    def reaches(self, cell: str) -> dict[str, np.ndarray]:
        """{state part: (T, T) the reach R[t, k] = ‖∂L_t/∂s_k‖} of the cell's current weights on its
        next window, every part from one pass."""
        tr = self.racers[cell].trainer
        xs, ys, s0 = tr.next_window()
        return gradient_reaches(tr.params, xs, ys, s0, cell=cell)

    def dependencies(self) -> np.ndarray:
        """(n,) for each closing marker the score reads, how many steps back its answer lies (the
        line's opening marker): the distance a racer's memory must bridge."""
        return trainer_dependencies(next(iter(self.racers.values())).trainer, self.eval_tokens)

    def dependency_distance(self) -> int:
        """The typical distance (the mean of ``dependencies``, rounded, below T) the captions read the reach at."""
        deps = self.dependencies()
        d = int(round(float(deps.mean()))) if deps.size else self.config.seq_len // 3
        return max(0, min(d, self.config.seq_len - 1))

    def summary(self, last: int = EVAL_EVERY) -> list[dict]:
        """One dict per racer: cell, label, step, accuracy / correct / n (latest score), best (highest
        accuracy so far), first (the first scored step at GOAL or above, else None), loss (mean L/T
        over the last ``last`` steps), diverged_at."""
        out = []
        for cell, r in self.racers.items():
            losses = np.asarray(r.loss[-last:], dtype=float)
            first = next((s for s, a in zip(r.eval_steps, r.accuracy, strict=True) if a >= GOAL), None)
            out.append({"cell": cell, "label": r.title, "step": self.steps, "accuracy": r.accuracy[-1],
                        "correct": r.correct[-1], "n": r.n[-1],
                        "best": float(np.nanmax(r.accuracy)) if r.n[-1] else math.nan, "first": first,
                        "loss": float(np.nanmean(losses)) if np.isfinite(losses).any() else math.nan,
                        "diverged_at": r.diverged_at})
        return out
