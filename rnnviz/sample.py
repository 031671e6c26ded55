"""Sampling text from a trained model: prime it, then draw one token at a time.

The distribution at each step is p_t = softmax(o_t / τ) with temperature τ (τ → 0 is greedy,
large τ approaches uniform), optionally restricted to the k most likely tokens (top-k).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.cells import get_cell

MAX_TEMPERATURE = 100.0


@dataclass
class SampleResult:
    """ids: (n,) generated token ids; probs: (n,) the probability the model (at τ = 1) gave each
    chosen token; top_ids, top_probs: (n, 5) its five most likely tokens at each step;
    hs: (H, n) the hidden state h after reading each generated token; h_last: the cell's whole
    state after the last one ((H,), or (2, H) = [h; c] for the LSTM)."""

    ids: np.ndarray
    probs: np.ndarray
    top_ids: np.ndarray
    top_probs: np.ndarray
    hs: np.ndarray
    h_last: np.ndarray


def hidden_states(params, ids, h0=None, cell: str = "rnn") -> np.ndarray:
    """(H, n) the hidden state h after reading each of the n token ids (zero state if h0 is None;
    h0 is the cell's whole state: (H,), or (2, H) for the LSTM)."""
    H = params["V"].shape[1]
    ids = np.asarray(ids, dtype=np.intp)
    if ids.size == 0:
        return np.zeros((H, 0))
    the_cell = get_cell(cell)
    return the_cell.forward(params, ids, the_cell.check_state(h0, H)).hs


def state_trajectory(params, ids, h0=None, cell: str = "rnn") -> dict[str, np.ndarray]:
    """{state part: (H, n)} each part of the state after reading each of the n token ids (h, and
    the LSTM's c); h0 as in hidden_states."""
    H = params["V"].shape[1]
    ids = np.asarray(ids, dtype=np.intp)
    the_cell = get_cell(cell)
    if ids.size == 0:
        return {p: np.zeros((H, 0)) for p in the_cell.state_parts}
    return the_cell.states(the_cell.forward(params, ids, the_cell.check_state(h0, H)))


def sample(
    params,
    prime_ids,
    n: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    seed: int = 0,
    h0=None,
    cell: str = "rnn",
) -> SampleResult:
    """Generate n tokens after the prime (≥ 1 token id). Same arguments ⇒ the same tokens."""
    prime = np.asarray(prime_ids, dtype=np.intp).reshape(-1)
    if prime.size == 0:
        raise ValueError("the prime needs at least one token the model knows")
    if not np.isfinite(temperature) or temperature < 0 or temperature > MAX_TEMPERATURE:
        raise ValueError(f"temperature must be between 0 and {MAX_TEMPERATURE:g} (got {temperature})")
    if n < 0:
        raise ValueError("the number of tokens to generate must be ≥ 0")
    Vsize = params["V"].shape[0]
    if top_k is not None and top_k < 1:
        raise ValueError("top-k must be at least 1")
    greedy = greedy or temperature == 0
    rng = np.random.default_rng(seed)
    the_cell = get_cell(cell)
    H = params["V"].shape[1]
    s = the_cell.forward(params, prime, the_cell.check_state(h0, H)).s_last
    h = the_cell.hidden(s)
    ids = np.empty(n, dtype=np.intp)
    probs = np.empty(n)
    k5 = min(5, Vsize)
    top_ids = np.empty((n, k5), dtype=np.intp)
    top_probs = np.empty((n, k5))
    hs = np.empty((H, n))
    Vm, c = params["V"], params["c"]
    # Inverse-CDF draws from uniforms taken up front: one RNG call instead of n.
    u = rng.random(n)
    for i in range(n):
        o = Vm @ h + c
        p = np.exp(o - o.max())
        p /= p.sum()
        top = np.argpartition(-p, k5 - 1)[:k5] if k5 < Vsize else np.arange(Vsize)
        top = top[np.argsort(-p[top], kind="stable")]
        top_ids[i], top_probs[i] = top, p[top]
        if greedy:
            x = int(top[0])
        else:
            # Shift before dividing: o/τ overflows to ∞ (and q to NaN) for a tiny τ, whereas
            # (o − max o)/τ ≤ 0 can only go to −∞, which tends to greedy, as it should.
            with np.errstate(over="ignore"):
                z = (o - o.max()) / temperature
            q = np.exp(z - z.max())
            if top_k is not None and top_k < Vsize:
                cut = np.argpartition(-q, top_k - 1)[top_k:]
                q[cut] = 0.0
            cdf = np.cumsum(q)
            x = min(int(np.searchsorted(cdf, u[i] * cdf[-1], side="right")), Vsize - 1)
        ids[i], probs[i] = x, p[x]
        s = the_cell.step(params, x, s)
        h = the_cell.hidden(s)
        hs[:, i] = h
    return SampleResult(ids=ids, probs=probs, top_ids=top_ids, top_probs=top_probs, hs=hs, h_last=s)
