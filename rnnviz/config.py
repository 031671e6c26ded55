"""The training configuration: one frozen dataclass, a comment per field.

Fields in ``LIVE_FIELDS`` may change between steps without a reset (they touch no state's
shape and no random draw); every other field rebuilds the model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from rnnviz.cells import CELLS
from rnnviz.clip import CLIP_MODES
from rnnviz.optim import OPTIMIZERS
from rnnviz.params import INITS

MAX_HIDDEN = 512      # beyond this a step takes too long to watch live
MAX_SEQ_LEN = 200     # T; a longer window gives an unreadable per-step chart
MAX_VOCAB_CAP = 20000 # word-level vocabulary cap: V×H weights must fit a lecture laptop
MAX_CHAR_VOCAB = 5000 # distinct characters at char level (a Chinese novel has ~4,000; 1M distinct code points
                      # at H=100 took 4.9 GB to build and 8 s per step before this cap)
MAX_VH = MAX_CHAR_VOCAB * MAX_HIDDEN  # V·H: the output layer V (V×H) and U (H×V, ×4 for an LSTM) are what
                      # grows; 2.56M weights each keeps one session's arrays (θ, optimizer, gradient, undo)
                      # near 200 MB and a step at T=200 under a second (README, "Robust for a lecture hall")
MAX_TEXT_CHARS = 1_000_000  # any training text (paste, upload, checkpoint, saved session) is refused beyond this
MAX_LR = 1e3
MAX_VAL_FRACTION = 0.5   # held-out share of the text: beyond half, too little is left to train on
MAX_VAL_EVERY = 10_000   # steps between two held-out evaluations
MAX_FORGET_BIAS = 10.0   # σ(10) = 0.99995: beyond this the LSTM's forget gate is shut open anyway


@dataclass(frozen=True)
class TrainConfig:
    level: str = "char"                   # "char" or "word" tokens
    hidden_size: int = 100                # H, number of hidden units
    seq_len: int = 25                     # T, time steps per window (one SGD step per window)
    truncate: int | None = None           # k: each L_t reaches back ≤ k steps; None = full BPTT
    optimizer: str = "adagrad"            # sgd | momentum | adagrad | rmsprop | adam
    lr: float = 0.1                       # learning rate η
    adam_beta2: float = 0.999             # Adam's decay β2 of its running mean of squared gradients (others ignore it):
                                          # 0.99 forgets the first steps' large gradients sooner
    clip: str = "elementwise"             # none | elementwise (±c) | norm (global norm ≤ c)
    clip_value: float = 5.0               # c, the clipping threshold
    lr_halving: bool = False              # halve η when a block's mean loss rises (word-level seed)
    halve_every: int = 100                # block length in steps for lr_halving
    init: str = "uniform"                 # uniform U(±1/√fan_in) | orthogonal W
    spectral_radius: float | None = None  # ρ: rescale W to this spectral radius after init
    forget_bias: float = 1.0              # the LSTM's forget-gate bias b_f at init (σ(1) ≈ 0.73 of c kept per step);
                                          # cells without a forget gate have nothing to set and ignore it
    seed: int = 0                         # one seed for the weights; same seed ⇒ same run
    max_vocab: int = 5000                 # word level: keep this many most frequent tokens
    sentence_tokens: bool = False         # word level: wrap sentences in <s> … </s>
    cell: str = "rnn"                     # the recurrent cell (rnnviz.cells)
    val_fraction: float = 0.1             # the text's last share held out: never trained on (rnnviz.heldout)
    val_every: int = 100                  # held-out loss every this many steps (0 = never)

    def validate(self) -> TrainConfig:
        """Raise ValueError with a message that says what to change; return self if fine."""
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ValueError(msg)

        need(self.level in ("char", "word"), f"tokens must be 'char' or 'word' (got {self.level!r})")
        need(_is_int(self.hidden_size) and 1 <= self.hidden_size <= MAX_HIDDEN,
             f"hidden size must be a whole number from 1 to {MAX_HIDDEN} (got {self.hidden_size})")
        need(_is_int(self.seq_len) and 1 <= self.seq_len <= MAX_SEQ_LEN,
             f"window length T must be a whole number from 1 to {MAX_SEQ_LEN} (got {self.seq_len})")
        need(self.truncate is None or (_is_int(self.truncate) and self.truncate >= 0),
             f"truncation k must be off or a whole number ≥ 0 (got {self.truncate})")
        need(self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        need(_finite(self.lr) and 0 <= self.lr <= MAX_LR,
             f"learning rate must be between 0 and {MAX_LR:g} (got {self.lr})")
        need(_finite(self.adam_beta2) and 0.5 <= self.adam_beta2 < 1,
             f"Adam's β2 must be at least 0.5 and below 1 (got {self.adam_beta2})")
        need(self.clip in CLIP_MODES, f"clipping must be one of {', '.join(CLIP_MODES)}")
        need(_finite(self.clip_value) and self.clip_value > 0,
             f"the clipping threshold must be a number > 0 (got {self.clip_value})")
        need(_is_int(self.halve_every) and self.halve_every >= 1, "halve_every must be ≥ 1 step")
        need(self.init in INITS, f"initialisation must be one of {', '.join(INITS)}")
        need(self.spectral_radius is None or (_finite(self.spectral_radius) and 0 < self.spectral_radius <= 10),
             f"spectral radius ρ must be off or between 0 and 10 (got {self.spectral_radius})")
        need(_finite(self.forget_bias) and -MAX_FORGET_BIAS <= self.forget_bias <= MAX_FORGET_BIAS,
             f"the forget-gate bias must be between −{MAX_FORGET_BIAS:g} and {MAX_FORGET_BIAS:g} (got {self.forget_bias})")
        need(_is_int(self.seed) and 0 <= self.seed < 2**32, "the seed must be a whole number from 0 to 2³²−1")
        need(_is_int(self.max_vocab) and 3 <= self.max_vocab <= MAX_VOCAB_CAP,
             f"the word vocabulary cap must be from 3 to {MAX_VOCAB_CAP}")
        need(self.cell in CELLS, f"cell must be one of {', '.join(CELLS)}")
        need(self.spectral_radius is None or CELLS[self.cell].spectral_radius_ok,
             f"spectral radius ρ rescales the vanilla RNN's W; turn it off for the {CELLS[self.cell].title}")
        need(_finite(self.val_fraction) and 0 <= self.val_fraction <= MAX_VAL_FRACTION,
             f"the held-out share must be from 0 to {MAX_VAL_FRACTION:g} (got {self.val_fraction})")
        need(_is_int(self.val_every) and 0 <= self.val_every <= MAX_VAL_EVERY,
             f"the held-out loss interval must be a whole number of steps from 0 to {MAX_VAL_EVERY:,} (got {self.val_every})")
        return self

    @property
    def effective_truncate(self) -> int | None:
        """k, or None when k ≥ T − 1 (then nothing is cut: it is full BPTT)."""
        return None if self.truncate is None or self.truncate >= self.seq_len - 1 else self.truncate

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Build from a dict (a checkpoint's); unknown keys are an error, not ignored."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**d).validate()

    def with_changes(self, **changes) -> TrainConfig:
        return replace(self, **changes).validate()


LIVE_FIELDS = frozenset({"lr", "clip", "clip_value", "truncate", "lr_halving", "halve_every", "val_every"})


def needs_reset(old: TrainConfig, new: TrainConfig) -> list[str]:
    """Names of the changed fields that require rebuilding the model."""
    return [f.name for f in fields(TrainConfig)
            if f.name not in LIVE_FIELDS and getattr(old, f.name) != getattr(new, f.name)]


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
