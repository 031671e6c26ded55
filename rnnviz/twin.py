"""A twin run: two Trainers from identical weights and data, one setting apart, stepped together.

The setting that differs touches no random draw (clipping, learning rate, truncation, the optimizer),
so both twins start from the same weights and read the same windows, and any difference between
their curves is caused by that one setting. (Comparing cells, whose weights differ in shape, is a
race: rnnviz.race.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from rnnviz.checkpoint import save_checkpoint
from rnnviz.config import MAX_LR, TrainConfig, needs_reset
from rnnviz.trainer import Trainer

TWIN_SETTINGS = ("clip", "lr", "truncate", "optimizer")   # the one setting that differs between A and B
TWIN_OPTIMIZERS = ("sgd", "adagrad")        # "optimizer": A plain SGD, B Adagrad (the char-level tutorial's comparison)
SPECTRUM_SAMPLES = 10                        # ρ(W), σ_max(W) at most this often per step(n) call …
SPECTRUM_BUDGET = 2e8                        # … and at most this many H³ (an eigen-decomposition costs ~H³)


def spectrum_samples(H: int, n: int) -> int:  # (a gated cell's spectrum is of a 2H×2H or H×H Jacobian)
    """How many times a step(n) call samples ρ(W) and σ_max(W): up to SPECTRUM_SAMPLES, fewer for
    a big W (H = 512: once, at the last step) so that a click stays about a second."""
    return int(min(n, SPECTRUM_SAMPLES, max(1, SPECTRUM_BUDGET // max(H, 1) ** 3)))


def twin_configs(config: TrainConfig, setting: str) -> tuple[TrainConfig, TrainConfig]:
    """(A, B): config with `setting` changed. clip: A off, B on (the config's own clipping if it
    has one, else global norm ≤ c);  lr: B uses 10η;  truncate: A full BPTT, B truncated at k;
    optimizer: A SGD, B Adagrad, both at the config's η."""
    if setting == "clip":
        on = config.clip if config.clip != "none" else "norm"
        return config.with_changes(clip="none"), config.with_changes(clip=on)
    if setting == "lr":
        lr = config.lr if config.lr > 0 else 0.01
        return config.with_changes(lr=lr), config.with_changes(lr=min(10 * lr, MAX_LR))
    if setting == "truncate":
        k = config.effective_truncate
        k = min(4, max(config.seq_len - 2, 0)) if k is None else k
        return config.with_changes(truncate=None), config.with_changes(truncate=k)
    if setting == "optimizer":
        a, b = TWIN_OPTIMIZERS
        return config.with_changes(optimizer=a), config.with_changes(optimizer=b)
    raise ValueError(f"unknown twin setting {setting!r}; choose one of {', '.join(TWIN_SETTINGS)}")


def describe(config: TrainConfig, setting: str) -> str:
    """The value of `setting` in config, in words (for legends)."""
    if setting == "clip":
        return {"none": "no clipping", "elementwise": f"clip each entry to ±{config.clip_value:g}",
                "norm": f"clip ‖g‖ to {config.clip_value:g}"}[config.clip]
    if setting == "lr":
        return f"η = {config.lr:g}"
    if setting == "truncate":
        k = config.effective_truncate
        return "full BPTT" if k is None else f"truncated, k = {k}"
    if setting == "optimizer":
        return {"sgd": "SGD", "momentum": "SGD with momentum", "adagrad": "Adagrad", "rmsprop": "RMSprop",
                "adam": "Adam"}.get(config.optimizer, config.optimizer) + f", η = {config.lr:g}"
    raise ValueError(f"unknown twin setting {setting!r}")


def _with_config(tr: Trainer, cfg: TrainConfig) -> Trainer:
    """tr with cfg and tr's weights: a live change keeps the trainer; another (the optimizer) would
    reset it, so a fresh trainer with cfg takes tr's weights (its optimizer starts fresh either way)."""
    if not needs_reset(tr.config, cfg):
        tr.reconfigure(cfg)
        return tr
    new = Trainer(tr.text, cfg, undo_budget_bytes=0)
    new.state = replace(new.state, step=tr.step_count, theta=tr.state.theta, norm_bound=tr.state.norm_bound)
    return new


@dataclass
class TwinSide:
    """One twin's record, one entry per twin step (NaN after it diverged).

    loss: L/T (nats per token);  grad_norm: ‖g‖ before clipping;  grad_norm_used: after;
    clipped: did clipping fire;  spec_steps, rho, sigma_max: ρ(W) and ‖W‖₂ where sampled."""

    trainer: Trainer
    label: str
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    grad_norm_used: list = field(default_factory=list)
    clipped: list = field(default_factory=list)
    spec_steps: list = field(default_factory=list)
    rho: list = field(default_factory=list)
    sigma_max: list = field(default_factory=list)
    diverged_at: int | None = None
    divergence: str = ""

    def record_spectrum(self, step: int) -> None:
        s = self.trainer.spectrum()  # the cell's: ρ(W), σ_max(W) for the vanilla RNN
        self.spec_steps.append(step)
        self.rho.append(s.rho)
        self.sigma_max.append(s.sigma_max)


class TwinRun:
    """Twins A and B. ``steps`` counts twin steps (both advance together); step 0 is the start.

    start_step: the main model's step the weights came from (0 when fresh from the seed)."""

    def __init__(self, a: Trainer, b: Trainer, setting: str, start_step: int = 0):
        self.setting = setting
        self.start_step = start_step
        self.a = TwinSide(a, describe(a.config, setting))
        self.b = TwinSide(b, describe(b.config, setting))
        self.steps = 0
        for side in self.sides:
            side.record_spectrum(0)

    @property
    def sides(self) -> tuple[TwinSide, TwinSide]:
        return self.a, self.b

    @classmethod
    def start(cls, trainer: Trainer, setting: str, from_current: bool = False) -> TwinRun:
        """Twins of the main trainer: fresh from its seed (step 0), or from its current weights.

        Either way both read the text from its start with h = 0 and a fresh optimizer state.
        No undo for twins (undo_budget_bytes=0): they only move forward."""
        cfg_a, cfg_b = twin_configs(trainer.config, setting)
        if from_current:
            data = save_checkpoint(trainer)
            a = Trainer.from_checkpoint(data, undo_budget_bytes=0)
            b = Trainer.from_checkpoint(data, undo_budget_bytes=0)
            a, b = (_with_config(t, cfg) for t, cfg in ((a, cfg_a), (b, cfg_b)))
            return cls(a, b, setting, trainer.step_count)
        return cls(Trainer(trainer.text, cfg_a, undo_budget_bytes=0),
                   Trainer(trainer.text, cfg_b, undo_budget_bytes=0), setting, 0)

    def step(self, n: int = 1) -> None:
        """Advance both twins n steps; a twin that diverges stops there, the other goes on.

        ρ(W) and σ_max(W) (an eigen- and a singular value decomposition each, the costly part
        for big H) are sampled spectrum_samples(H, n) times per call, always at its last step."""
        n = int(n)
        stride = max(1, math.ceil(n / spectrum_samples(self.a.trainer.config.hidden_size, n)))
        for i in range(n):
            self.steps += 1
            for side in self.sides:
                rec = side.trainer.step() if side.diverged_at is None else None
                if rec is None:
                    if side.diverged_at is None:
                        side.diverged_at = self.steps
                        d = side.trainer.divergence
                        side.divergence = d.reason if d else "the step was refused"
                    for col in (side.loss, side.grad_norm, side.grad_norm_used):
                        col.append(math.nan)
                    side.clipped.append(False)
                    continue
                side.loss.append(rec.loss_per_token)
                side.grad_norm.append(rec.clip.global_before)
                side.grad_norm_used.append(rec.clip.global_after)
                side.clipped.append(rec.clip.fired)
                if (i + 1) % stride == 0 or i == n - 1:
                    side.record_spectrum(self.steps)

    def series(self, side: TwinSide) -> dict[str, np.ndarray]:
        """Arrays for charts: step (1..steps), loss, grad_norm, grad_norm_used, clipped,
        spec_steps, rho, sigma_max."""
        return {
            "step": np.arange(1, self.steps + 1),
            "loss": np.asarray(side.loss, dtype=float),
            "grad_norm": np.asarray(side.grad_norm, dtype=float),
            "grad_norm_used": np.asarray(side.grad_norm_used, dtype=float),
            "clipped": np.asarray(side.clipped, dtype=bool),
            "spec_steps": np.asarray(side.spec_steps, dtype=int),
            "rho": np.asarray(side.rho, dtype=float),
            "sigma_max": np.asarray(side.sigma_max, dtype=float),
        }
