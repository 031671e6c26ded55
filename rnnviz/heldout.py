"""Held-out loss: the last share of the text is never trained on; the model's loss per token on it
says whether it learned the text's patterns or memorised the part it saw.

The split: of the N tokens, the last ⌊N · val_fraction⌋ are held out (if both parts stay long enough:
the training part needs a window, T + 1 tokens, and the held-out part two tokens for one prediction).

The evaluation reads the held-out tokens as one sequence from the cell's zero state, the hidden state
carried from token to token all the way (as training carries it from window to window), and returns
    L_val = −(1/n) Σ_t log p_t[y_t]      (nats per token, the same units as the training loss)
over the first n = min(held-out tokens − 1, MAX_VAL_TOKENS) predictions. Forward only: no gradient.
Cost: one pass of the recurrence over ≤ MAX_VAL_TOKENS tokens (≈ 2-4 ms at H = 100), every
``val_every`` steps, so well under 0.1 ms per step at the default interval: play mode does not notice.
The bound also makes the cost independent of the text's size; a text whose held-out part is longer
is evaluated on the same first MAX_VAL_TOKENS tokens every time, so the curve's points are comparable.
"""

from __future__ import annotations

import math

import numpy as np

from rnnviz.cells import get_cell

MAX_VAL_TOKENS = 1_000   # predictions evaluated per held-out measurement (bounds its cost; see above)
HEAD_ROWS = 256          # logits are built this many time steps at a time: (rows × V) stays small for word models


def split_heldout(data: np.ndarray, fraction: float, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(training tokens, held-out tokens): views of data (N,). The held-out part is the last
    ⌊N · fraction⌋ tokens, or empty when either part would be too short (then nothing is held out)."""
    n_val = int(math.floor(data.size * fraction))
    if n_val < 2 or data.size - n_val < seq_len + 1:
        return data, data[data.size:]
    return data[:-n_val], data[-n_val:]


def heldout_loss(params, tokens: np.ndarray, s0: np.ndarray, cell: str = "rnn") -> float:
    """Loss per token (nats) on the held-out tokens (n + 1,), predicting tokens[1:] from tokens[:-1]
    with the state carried from s0 (the cell's zero state, shape as the trainer's carried state).
    At most MAX_VAL_TOKENS predictions; NaN when there is nothing to evaluate."""
    n = min(int(tokens.size) - 1, MAX_VAL_TOKENS)
    if n < 1:
        return math.nan
    xs, ys = tokens[:n], tokens[1:n + 1]
    hs = get_cell(cell).forward(params, xs, s0).hs        # (H, n): h_t for every held-out step
    Vmat, c = params["V"], params["c"]
    total = 0.0
    for j in range(0, n, HEAD_ROWS):
        o = hs[:, j:j + HEAD_ROWS].T @ Vmat.T + c           # (rows, V) logits o_t
        m = o.max(axis=1)
        log_z = m + np.log(np.exp(o - m[:, None]).sum(axis=1))   # log Σ exp o_t, shifted: no overflow
        y = ys[j:j + HEAD_ROWS]
        total += float(np.sum(log_z - o[np.arange(y.size), y]))  # −log p_t[y_t] = log Z_t − o_t[y_t]
    return total / n


def due(step: int, every: int, tokens: np.ndarray) -> bool:
    """Whether the held-out loss is measured after this step (every > 0 and a held-out part exists)."""
    return every > 0 and tokens.size >= 2 and step % every == 0
