"""Optimizers: how a gradient becomes a change of the weights.

Optimizers are pure and work on the flat parameter vector θ (see ``rnnviz.flat``): ``propose``
returns a new θ and a new state without touching the old ones. The Trainer commits the proposal
only if every number in it is finite, so a step that would blow up is refused and the last good
weights stay; and since no array is ever changed in place, a snapshot for undo is a reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")


@dataclass(frozen=True)
class OptState:
    """An optimizer's memory: t updates so far, and slots {slot name: (size,) vector like θ}."""

    t: int = 0
    slots: dict = field(default_factory=dict)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.slots.values())


class Optimizer:
    """Base class: θ_new = θ − Δ(g, slots); subclasses define ``rule``."""

    name = "base"
    slot_names: tuple[str, ...] = ()
    sparse = False  # True if Δ is zero wherever g is (the Trainer then skips those weights)

    def init_state(self, theta: np.ndarray) -> OptState:
        return OptState(0, {s: np.zeros_like(theta) for s in self.slot_names})

    def propose(self, theta: np.ndarray, g: np.ndarray, state: OptState, lr: float,
                out: np.ndarray | None = None) -> tuple[np.ndarray, OptState]:
        """(new θ, new state) for gradient g (same shape as θ); the inputs are left unchanged.

        out: an optional spare vector like θ to write the new θ into."""
        t = state.t + 1
        delta, slots = self.rule(g, state.slots, lr, t)  # delta is always a new array we own
        np.subtract(theta, delta, out=delta if out is None else out)
        return (delta if out is None else out), OptState(t, slots)

    def propose_checked(self, theta: np.ndarray, g: np.ndarray, state: OptState, lr: float,
                        out: np.ndarray | None = None) -> tuple[np.ndarray, OptState, float]:
        """``propose``, plus ‖θ_new‖² (NaN or ∞ if an entry is): what the Trainer checks before it
        commits a step. Optimizers that stream θ in chunks compute it on the way (SGD)."""
        new, state = self.propose(theta, g, state, lr, out)
        return new, state, float(new.dot(new))

    def rule(self, g, slots: dict, lr: float, t: int) -> tuple[np.ndarray, dict]:  # pragma: no cover
        raise NotImplementedError


class SGD(Optimizer):
    """θ ← θ − η g (the word-level seed)."""

    name = "sgd"
    sparse = True
    chunk = 1 << 15  # 32k floats = 256 kB: the temporary stays in cache

    def propose(self, theta, g, state, lr, out=None):
        return self.propose_checked(theta, g, state, lr, out)[:2]

    def propose_checked(self, theta, g, state, lr, out=None):
        # One fused pass in cache-sized chunks: for a word model θ has millions of entries and
        # memory traffic, not arithmetic, is the cost of an update. ‖θ_new‖² is summed while each
        # chunk is still in cache, which saves the Trainer's check a pass over θ of its own.
        new = np.empty_like(theta) if out is None else out
        tmp = np.empty(min(self.chunk, theta.size))
        sq = 0.0
        for i in range(0, theta.size, self.chunk):
            j = min(i + self.chunk, theta.size)
            t, part = tmp[: j - i], new[i:j]
            np.multiply(g[i:j], lr, out=t)
            np.subtract(theta[i:j], t, out=part)
            sq += float(part.dot(part))
        return new, OptState(state.t + 1, {}), sq

    def rule(self, g, slots, lr, t):
        return lr * g, {}


class Momentum(Optimizer):
    """v ← μ v + g;  θ ← θ − η v  (μ = 0.9): a heavy ball that smooths noisy gradients."""

    name = "momentum"
    slot_names = ("v",)
    mu = 0.9

    def rule(self, g, slots, lr, t):
        v = self.mu * slots["v"] + g
        return lr * v, {"v": v}


class Adagrad(Optimizer):
    """m ← m + g²;  θ ← θ − η g / √(m + 1e-8)  (min-char-rnn): often-pushed weights slow down."""

    name = "adagrad"
    slot_names = ("m",)
    eps = 1e-8

    def rule(self, g, slots, lr, t):
        m = g * g
        m += slots["m"]  # in place on the new array only: the old state stays untouched
        d = m + self.eps
        np.sqrt(d, out=d)
        np.divide(g, d, out=d)
        d *= lr
        return d, {"m": m}


class RMSProp(Optimizer):
    """m ← ρ m + (1 − ρ) g²;  θ ← θ − η g / (√m + 1e-8)  (ρ = 0.9): Adagrad that forgets."""

    name = "rmsprop"
    slot_names = ("m",)
    rho, eps = 0.9, 1e-8

    def rule(self, g, slots, lr, t):
        m = g * g
        m *= 1 - self.rho
        m += self.rho * slots["m"]
        d = np.sqrt(m)
        d += self.eps
        np.divide(g, d, out=d)
        d *= lr
        return d, {"m": m}


class Adam(Optimizer):
    """Adam (β1 = 0.9, β2 = 0.999 unless given, ε = 1e-8) with bias correction."""

    name = "adam"
    slot_names = ("m", "v")
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def __init__(self, beta2: float | None = None):
        if beta2 is not None:
            self.beta2 = float(beta2)   # the instance's own (TrainConfig.adam_beta2); the class keeps the default

    def rule(self, g, slots, lr, t):
        m = self.beta1 * slots["m"] + (1 - self.beta1) * g
        v = self.beta2 * slots["v"] + (1 - self.beta2) * (g * g)
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return lr * m_hat / (np.sqrt(v_hat) + self.eps), {"m": m, "v": v}


_BY_NAME = {cls.name: cls for cls in (SGD, Momentum, Adagrad, RMSProp, Adam)}


def make_optimizer(name: str, adam_beta2: float | None = None) -> Optimizer:
    """The optimizer of the given name (adam_beta2: Adam's β2, if not the default; the others have none)."""
    try:
        cls = _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    return cls(adam_beta2) if cls is Adam else cls()
