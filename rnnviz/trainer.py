"""The step-able Trainer: one SGD update per call, and everything the UI shows about it.

It owns the config, the parameters, the optimizer state, the position in the text, the hidden
state carried from window to window, and the history. Windows slide along the text T tokens at
a time with h carried forward (not differentiated through); at the end of the text it wraps to
the start with h = 0 exactly where min-char-rnn does: when p + T + 1 ≥ len(data), so a window whose
last target is the text's last token is skipped as it is there (tests/test_engine_trainer.py runs
min-char-rnn's loop beside the Trainer). Same text + same config ⇒ the same run, bit for bit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from rnnviz.bptt import LossResult, loss_and_grads
from rnnviz.cells import get_cell
from rnnviz.cells.base import Spectrum
from rnnviz.clip import ClipReport, clip_flat
from rnnviz.config import TrainConfig, needs_reset
from rnnviz.flat import Layout
from rnnviz.heldout import due as heldout_due
from rnnviz.heldout import heldout_loss, split_heldout
from rnnviz.history import History
from rnnviz.optim import OptState, make_optimizer
from rnnviz.params import PARAM_NAMES, init_params
from rnnviz.tokenize import tokenize_corpus

UNDO_DEPTH = 50                        # undo reaches back at least this many steps
UNDO_BUDGET_BYTES = 8 * 2**20          # memory for undo snapshots (see Trainer docstring)
MAX_WEIGHT_NORM = 1e8                  # weights whose norm ‖θ‖ exceeds this count as blown up
EMA = 0.999                            # smoothing of the displayed loss (min-char-rnn)
DIAGNOSTICS = True                     # per-time-step diagnostics; off only to benchmark their cost
SPECTRUM_EVERY = 100                   # log ρ, σ_max (cell.spectrum) at steps 1, 2, 4, …, 64, every 100 steps up to
SPECTRUM_LATE_FROM = 1_000             # step 1,000, then every 500 (see spectrum_due): an eigendecomposition
SPECTRUM_LATE_EVERY = 500              # costs ~7 steps at H = 100, so past step 1,000 the log costs ≤ 2%
SPECTRUM_SCHEDULE = "at steps 1, 2, 4, …, 64, every 100 steps up to 1,000, then every 500"  # for captions
SLACK = 1 + 1e-9                       # rounding: a computed norm may exceed the exact one by ~n·ε


@dataclass(frozen=True)
class State:
    """Everything that changes from step to step. The Trainer's live state holds the θ it updates
    in place (and the named views into it); an undo snapshot holds a copy of θ. Optimizer slots
    are new arrays at every step, so a snapshot refers to them without copying."""

    step: int
    theta: np.ndarray         # every parameter in one flat, read-only vector (rnnviz.flat)
    params: dict              # named views into theta: U, W, V, b, c
    opt: OptState
    pos: int
    h: np.ndarray             # the carried state: (H,), or (2, H) = [h; c] for the LSTM
    smooth_loss: float
    lr_scale: float
    block_sum: float          # sum of per-token losses in the current lr-halving block
    prev_block_mean: float    # mean of the previous block (inf before the first)
    norm_bound: float = math.inf  # an upper bound on ‖θ‖: while ‖θ‖ + ‖Δ‖ stays below MAX_WEIGHT_NORM
                                  # an update Δ needs no exact check


@dataclass(frozen=True)
class Divergence:
    """Why a step was refused: a non-finite loss or gradient, or weights that would blow up."""

    step: int
    reason: str
    suggestion: str

    def message(self) -> str:
        return f"Diverged at step {self.step}: {self.reason}. The last good weights are kept. {self.suggestion}"


@dataclass
class StepRecord:
    """What one step did. loss is Σ_t L_t (nats); loss_per_token = loss/T; perplexity = e^(L/T).

    inputs, targets: (T,) ids of the window; p_target: (T,) p_t[y_t];
    result: the full LossResult (dh_norms and the other per-time-step diagnostics). Its
    ``grads`` are the trainer's reused gradient buffer: valid until the next step;
    clip: norms before/after clipping; lr: learning rate used; lr_changed: η was just halved.
    """

    step: int
    loss: float
    loss_per_token: float
    smooth_loss: float
    perplexity: float
    inputs: np.ndarray
    targets: np.ndarray
    p_target: np.ndarray
    result: LossResult
    clip: ClipReport
    lr: float
    lr_changed: bool
    wall_ms: float

    @property
    def predicted(self) -> np.ndarray:
        """(T,) the model's most likely next token at each step (argmax p_t)."""
        return self.result.predicted


_NORM_COLUMNS = tuple((k, f"{k}_before", f"{k}_after") for k in PARAM_NAMES)  # history columns of ‖g_k‖


def spectrum_due(step: int) -> bool:
    """Whether the history logs ρ(W), σ_max(W) after this step (SPECTRUM_SCHEDULE): densely while
    W changes fast early on, sparsely later, when each entry costs the time of several steps."""
    if step > SPECTRUM_LATE_FROM:
        return step % SPECTRUM_LATE_EVERY == 0
    return step % SPECTRUM_EVERY == 0 or (0 < step < SPECTRUM_EVERY and step & (step - 1) == 0)


def _grad_norms(g: dict, cols: np.ndarray) -> dict[str, float]:
    """{name: ‖g_name‖} in PARAM_NAMES order. dU is zero outside the columns ``cols`` of the
    window's tokens, so only those are read (a word model's dU has 8,000 columns, a window 20)."""
    out = {}
    for k in PARAM_NAMES:
        a = g[k][:, cols] if k == "U" else g[k]
        f = a.reshape(-1)
        out[k] = math.sqrt(f.dot(f))
    return out


class Trainer:
    """Train a character- or word-level RNN language model on ``text``, one window per step.

    Undo: ``undo()`` goes back exactly, at least UNDO_DEPTH (50) steps from the newest step, using at most
    UNDO_BUDGET_BYTES (8 MiB) of snapshots. Small models snapshot every step; for a model whose
    state is too big for 51 snapshots, every s-th step is kept and undo replays the steps after
    the nearest snapshot with the settings recorded for them (replay is exact because steps are
    deterministic). Memory is therefore bounded by the budget plus one state. Undoing spends that
    reach: after undoing k steps, up to 50 − k more remain until new steps are taken.
    """

    def __init__(self, text: str, config: TrainConfig | None = None, *, undo_budget_bytes: int = UNDO_BUDGET_BYTES):
        config = (config or TrainConfig()).validate()
        kw = {"max_vocab": config.max_vocab, "sentence_tokens": config.sentence_tokens} if config.level == "word" else {}
        self.tokenizer, self.data = tokenize_corpus(text, config.level, config.seq_len, config.hidden_size, **kw)
        self.data.flags.writeable = False  # validated once here; windows are views of it
        # Held-out split (rnnviz.heldout): train on the first part only; the rest is never trained on.
        self.data, self.heldout = split_heldout(self.data, config.val_fraction, config.seq_len)
        self.text = text
        self.config = config
        self.undo_budget_bytes = int(undo_budget_bytes)
        self.reset()

    # ------------------------------------------------------------------ setup
    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    @property
    def baseline_loss(self) -> float:
        """ln V: the loss per token of a model that knows nothing (uniform p_t)."""
        return math.log(self.vocab_size)

    @property
    def expected_initial_loss(self) -> float:
        """T·ln V: the window loss L of an untrained model (what the first steps should show)."""
        return self.config.seq_len * self.baseline_loss

    @property
    def cell(self):
        """The recurrent cell (rnnviz.cells): title, equations, gates, diagnostics, spectrum."""
        return get_cell(self.config.cell)

    def reset(self) -> None:
        """Back to step 0 with freshly initialised weights (same seed ⇒ same weights)."""
        c = self.config
        params = init_params(self.vocab_size, c.hidden_size, cell=c.cell, seed=c.seed, init=c.init,
                             spectral_radius=c.spectral_radius, forget_bias=c.forget_bias)
        self.layout = Layout({k: params[k].shape for k in PARAM_NAMES})
        # θ: the one vector the Trainer owns and updates in place; params are named views of it.
        self._theta = self.layout.flatten(params)
        self._theta.flags.writeable = False  # pages read it; only _apply writes (it flips the flag)
        self._views = self.layout.views(self._theta)
        self.optimizer = make_optimizer(c.optimizer, c.adam_beta2)
        self._state = State(
            step=0, theta=self._theta, params=self._views, opt=self.optimizer.init_state(self._theta), pos=0,
            h=self.cell.zero_state(c.hidden_size), smooth_loss=self.baseline_loss, lr_scale=1.0,
            block_sum=0.0, prev_block_mean=math.inf, norm_bound=math.sqrt(self._theta.dot(self._theta)) * SLACK,
        )
        self.history = History()
        self.divergence: Divergence | None = None
        self.last: StepRecord | None = None
        nbytes = self._theta.nbytes + self._state.opt.nbytes()
        fit = self.undo_budget_bytes // max(nbytes, 1)
        # Keep a snapshot every `stride` steps so that ≥ UNDO_DEPTH steps back are reachable.
        self.snapshot_stride = 1 if fit >= UNDO_DEPTH + 1 else max(1, math.ceil(UNDO_DEPTH / max(fit - 2, 1)))
        self._snapshots: list[State] = [self._snapshot_of(self._state)]

    @property
    def state(self) -> State:
        """The live state. Its θ is the Trainer's own vector, changed in place by the next step:
        copy what must be kept (``params`` views change with it)."""
        return self._state

    @state.setter
    def state(self, s: State) -> None:
        """Adopt a state built elsewhere (a snapshot, a restored session): its θ is copied into ours."""
        if s.theta is not self._theta:
            if s.theta.shape != self._theta.shape:
                raise ValueError(f"θ has {s.theta.size} weights; this model has {self._theta.size}")
            self._theta.flags.writeable = True
            np.copyto(self._theta, s.theta)
            self._theta.flags.writeable = False
            s = replace(s, theta=self._theta, params=self._views)
        self._state = s

    @staticmethod
    def _snapshot_of(s: State) -> State:
        theta = s.theta.copy()
        theta.flags.writeable = False
        return replace(s, theta=theta, params=None)

    def reconfigure(self, config: TrainConfig) -> bool:
        """Apply new settings. Live ones (lr, clipping, truncation, halving) apply from the next
        step and keep the model; any other change rebuilds the trainer. Returns True if reset."""
        config.validate()
        if not needs_reset(self.config, config):
            self.config = config
            return False
        self.__init__(self.text, config, undo_budget_bytes=self.undo_budget_bytes)
        return True

    @classmethod
    def from_checkpoint(cls, data: bytes, *, undo_budget_bytes: int = UNDO_BUDGET_BYTES) -> Trainer:
        """A trainer at the checkpoint's step with its weights (fresh optimizer, empty history).

        Raises ValueError (CheckpointError) for an invalid file, or if the saved vocabulary does
        not match the one rebuilt from the saved text."""
        from rnnviz.checkpoint import CheckpointError, load_checkpoint

        ck = load_checkpoint(data)
        try:
            tr = cls(ck["text"], ck["config"], undo_budget_bytes=undo_budget_bytes)
        except ValueError as e:
            raise CheckpointError(f"not a valid rnnviz checkpoint: its text cannot be trained on ({e})") from None
        if tr.tokenizer.vocab != ck["vocab"]:
            raise CheckpointError("not a valid rnnviz checkpoint: its vocabulary does not match its text")
        theta = tr.layout.flatten(ck["params"])
        tr.state = replace(tr.state, step=ck["step"], theta=theta, norm_bound=math.sqrt(theta.dot(theta)) * SLACK)
        tr._snapshots = [tr._snapshot_of(tr.state)]
        return tr

    # ------------------------------------------------------------------ reading state
    @property
    def params(self) -> dict:
        return self.state.params

    @property
    def step_count(self) -> int:
        return self.state.step

    @property
    def h(self) -> np.ndarray:
        return self.state.h

    @property
    def lr(self) -> float:
        """The learning rate the next step will use (after any halving)."""
        return self.config.lr * self.state.lr_scale

    def next_window(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(inputs (T,), targets (T,), h0) that the next step will train on (h0: the cell's state)."""
        T = self.config.seq_len
        pos, h = self._window_start(self.state.pos, self.state.h, T)
        return self.data[pos:pos + T], self.data[pos + 1:pos + T + 1], h

    def _window_start(self, pos: int, h: np.ndarray, T: int) -> tuple[int, np.ndarray]:
        """Where the next window starts and the state it starts from: wrap to the start with h = 0 when
        pos + T + 1 ≥ len(data), min-char-rnn's test (``if p+seq_length+1 >= len(data)``)."""
        if pos + T + 1 >= self.data.size:
            return 0, np.zeros_like(h)
        return pos, h

    def spectrum(self) -> Spectrum:
        """The spectrum of the matrix that rules how far gradients reach (``cell.spectrum_of``:
        W for the vanilla RNN; for gated cells the mean local Jacobian over the next window)."""
        return self.cell.spectrum(self.params, *self.next_window()[::2])

    def windows_per_pass(self) -> int:
        """How many windows one pass over the text takes: starts p = 0, T, 2T, … with p + T + 1 < len(data)."""
        return max(1, (self.data.size - 2) // self.config.seq_len)

    # ------------------------------------------------------------------ training
    def step(self, n: int = 1, *, history: bool = True) -> StepRecord | None:
        """Do n updates (default 1). Returns the last step's record; None if the first was refused.

        A step whose loss, gradient or new weights are not finite (or exceed MAX_ABS_WEIGHT) is
        refused: nothing changes, ``divergence`` says why, and further steps in this call stop.
        history=False: no history rows and no spectrum log (a race keeps its own record; such a
        trainer must not undo, since undo replays the settings the history recorded); nor per-step
        diagnostics (the record's result has empty diagnostic arrays).
        The per-step diagnostics (Jacobian norms, saturation, gate means) are computed for the
        n-th step only: the earlier steps' records are not returned, so nobody could read them.
        """
        record = None
        n = int(n)
        for i in range(n):
            rec = self._step_once(self.config, record_history=history, diagnostics=history and i == n - 1)
            if rec is None:
                break
            record = rec
        return record

    def _step_once(self, cfg: TrainConfig, record_history: bool, diagnostics: bool = True) -> StepRecord | None:
        t0 = time.perf_counter()
        s = self.state
        T = cfg.seq_len
        pos, h0 = self._window_start(s.pos, s.h, T)   # at the text's end: back to the start, fresh state
        xs = self.data[pos:pos + T]
        ys = self.data[pos + 1:pos + T + 1]
        g = self._grad_buffer()
        res = loss_and_grads(s.params, xs, ys, h0, cfg.effective_truncate, cell=cfg.cell,
                             diagnostics=DIAGNOSTICS and record_history and diagnostics,
                             grads_out=self._grad_views, validate=False)
        self._dirty_columns = xs
        step_no = s.step + 1
        lr = cfg.lr * s.lr_scale
        update = self._update(s, cfg, res, g, lr)
        if isinstance(update, str):
            return self._refuse(step_no, update)
        theta, opt, clip, norm_bound = update
        loss_tok = res.loss / T
        smooth = EMA * s.smooth_loss + (1 - EMA) * loss_tok
        lr_scale, block_sum, prev_mean, lr_changed = s.lr_scale, s.block_sum + loss_tok, s.prev_block_mean, False
        if step_no % cfg.halve_every == 0:
            mean = block_sum / cfg.halve_every
            if cfg.lr_halving and mean > prev_mean:
                lr_scale, lr_changed = lr_scale * 0.5, True
            block_sum, prev_mean = 0.0, mean
        self._state = State(step_no, theta, self._views, opt, pos + T, res.h_last, smooth,
                            lr_scale, block_sum, prev_mean, norm_bound)
        self.divergence = None
        self._take_snapshot()
        wall_ms = (time.perf_counter() - t0) * 1e3
        rec = StepRecord(
            step=step_no, loss=res.loss, loss_per_token=loss_tok, smooth_loss=smooth,
            perplexity=math.exp(min(loss_tok, 700.0)), inputs=xs, targets=ys, p_target=res.p_target,
            result=res, clip=clip, lr=lr, lr_changed=lr_changed,
            wall_ms=wall_ms,
        )
        if record_history:
            row = {
                "step": step_no, "loss": loss_tok, "smooth_loss": smooth, "perplexity": rec.perplexity,
                "grad_norm": clip.global_before, "grad_norm_clipped": clip.global_after,
                "clipped": clip.fired, "lr": lr, "lr_changed": lr_changed, "wall_ms": wall_ms, "pos": pos,
            }
            for k, before, after in _NORM_COLUMNS:
                row[before] = clip.norms_before[k]
                row[after] = clip.norms_after[k]
            self.history.append(row, res.dh_norms, cfg)
            if spectrum_due(step_no):
                spec = self.cell.spectrum(self.params, xs, h0)  # the window just trained on, new weights
                self.history.spectrum.append((step_no, spec.rho, spec.sigma_max))
            if heldout_due(step_no, cfg.val_every, self.heldout):   # the held-out loss, from the zero state
                self.history.val.append((step_no, heldout_loss(self.params, self.heldout, np.zeros_like(h0), cfg.cell)))
        self.last = rec
        return rec

    def _update(self, s: State, cfg: TrainConfig, res: LossResult, g: np.ndarray, lr: float) -> tuple | str:
        """Clip g, let the optimizer propose its change Δ, check it, and only then write θ − Δ
        into θ: a refused step changes nothing.

        Returns (θ, optimizer state, ClipReport, bound on ‖θ‖), or why the step must be refused.
        The check: ‖θ − Δ‖ ≤ ‖θ‖ + ‖Δ‖ (triangle inequality), and we keep an upper bound on ‖θ‖;
        only when bound + ‖Δ‖ would pass MAX_WEIGHT_NORM is ‖θ − Δ‖ computed exactly (rare)."""
        cols = res.columns
        g, clip = clip_flat(g, self.layout, cfg.clip, cfg.clip_value, before=_grad_norms(self._grad_views, cols))
        # The norm is NaN/∞ exactly when some gradient entry is (or its squares overflow).
        if not (math.isfinite(res.loss) and math.isfinite(clip.global_before)):
            return "the loss or a gradient is not a finite number (NaN or ∞)"
        opt = self.optimizer
        if opt.sparse:
            # Δ = η g: zero where g is, so only the window's columns of U change (a word model's U
            # has 8,000 columns, a window 20), and ‖Δ‖ = η‖g‖ is already known.
            delta, new_opt = None, OptState(s.opt.t + 1, {})
            delta_norm = lr * clip.global_after
        else:
            delta, slots = opt.rule(g, s.opt.slots, lr, s.opt.t + 1)
            new_opt = OptState(s.opt.t + 1, slots)
            delta_norm = math.sqrt(delta.dot(delta))
        bound = (s.norm_bound + delta_norm) * SLACK
        if not bound <= MAX_WEIGHT_NORM:  # NaN fails too: then check exactly
            new = s.theta - (lr * g if delta is None else delta)
            sq = float(new.dot(new))
            if not math.sqrt(sq) <= MAX_WEIGHT_NORM:
                return (f"this update would push the weights' norm beyond {MAX_WEIGHT_NORM:g} or to NaN/∞ "
                        f"(gradient norm {clip.global_before:.3g}, learning rate {lr:.3g})")
            bound = math.sqrt(sq) * SLACK
        self._apply(g, delta, lr, cols)
        return self._theta, new_opt, clip, bound

    def _apply(self, g: np.ndarray, delta: np.ndarray | None, lr: float, cols: np.ndarray) -> None:
        """θ ← θ − Δ in place; Δ = η g restricted to where g can be nonzero if delta is None."""
        theta = self._theta
        theta.flags.writeable = True
        try:
            if delta is not None:
                np.subtract(theta, delta, out=theta)
                return
            # U first in the layout: after it, W, V, b, c form one contiguous tail. Where the
            # window's tokens are a sizeable part of the vocabulary (a char model), all of θ.
            shape = self.layout.shapes["U"]
            tail = 0 if shape[1] <= 8 * cols.size else self.layout.slices["U"].stop
            chunk = 1 << 15  # 256 kB: the temporary η g stays in cache
            tmp = np.empty(min(chunk, max(theta.size - tail, 1)))
            for i in range(tail, theta.size, chunk):
                j = min(i + chunk, theta.size)
                t = tmp[: j - i]
                np.multiply(g[i:j], lr, out=t)
                np.subtract(theta[i:j], t, out=theta[i:j])
            if tail:
                U, dU = theta[:tail].reshape(shape), g[:tail].reshape(shape)   # views made while θ is writable
                U[:, cols] -= dU[:, cols] * lr
        finally:
            theta.flags.writeable = False

    def _grad_buffer(self) -> np.ndarray:
        """The flat gradient vector, zero-filled, reused from step to step.

        Zeroing a fresh vector costs a pass over every weight (millions for a word model);
        instead we zero only the columns of U that the previous window touched: every other
        gradient is overwritten in full by the next backward pass.
        """
        # Compare layouts, not sizes: after a reset, (V, H) and (V', H') can have the same number
        # of weights (e.g. V=8, H=1 and V=4, H=2), and old views would have the wrong shapes.
        if getattr(self, "_grad_layout", None) is not self.layout:
            self._grad = np.zeros(self.layout.size)
            self._grad_views = self.layout.views(self._grad)
            self._grad_layout = self.layout
            self._dirty_columns = None
        elif self._dirty_columns is not None:
            dU = self._grad_views["U"]
            if dU.shape[1] <= 8 * self._dirty_columns.size:
                dU.fill(0.0)  # few columns in all (a char model): one contiguous fill is cheaper
            else:
                dU[:, self._dirty_columns] = 0.0
        return self._grad

    def _refuse(self, step_no: int, reason: str) -> None:
        c = self.config
        tips = []
        if c.clip == "none":
            tips.append("turn gradient clipping on")
        tips.append(f"lower the learning rate (now {self.lr:.3g})")
        if c.spectral_radius is not None and c.spectral_radius > 1:
            tips.append(f"or reset with a spectral radius below {c.spectral_radius:g}")
        self.divergence = Divergence(step_no, reason, "Try: " + ", ".join(tips) + ", then step again.")
        return None

    # ------------------------------------------------------------------ undo
    def _take_snapshot(self) -> None:
        if self.state.step % self.snapshot_stride == 0:
            self._snapshots.append(self._snapshot_of(self.state))
        # Drop snapshots no longer needed to reach UNDO_DEPTH steps back (keep the newest such).
        floor = self.state.step - UNDO_DEPTH
        while len(self._snapshots) > 1 and self._snapshots[1].step <= floor:
            self._snapshots.pop(0)

    @property
    def can_undo(self) -> bool:
        return self.state.step > 0 and self._snapshots[0].step <= self.state.step - 1

    def undo(self, n: int = 1) -> bool:
        """Go back n steps exactly (weights, optimizer, position, history). False if impossible."""
        target = self.state.step - int(n)
        if n < 1 or target < 0 or self._snapshots[0].step > target:
            return False
        while self._snapshots[-1].step > target:
            self._snapshots.pop()
        self.state = self._snapshots[-1]  # copied into θ; the snapshot stays for later undos
        # Replay the steps between the snapshot and the target with the settings they used (the
        # history addresses steps, not rows: old rows are thinned, a loaded checkpoint starts later).
        for step_no in range(self.state.step + 1, target + 1):
            cfg = self.history.config_at(step_no) or self.config
            self._step_once(cfg, record_history=False)
        self.history.truncate_to_step(target)
        self.divergence = None
        self.last = None
        return True
