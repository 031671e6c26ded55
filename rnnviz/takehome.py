"""Take it home: a trained model as one readable NumPy script with its weights beside it.

``export(trainer)`` gives the script's text and an .npz; ``zip_bytes(trainer)`` puts both in one zip with a
five-line README. The script, in the manner of min-char-rnn, loads the .npz, samples from the model and
continues training with the trainer's settings, exactly: its next loss is the Trainer's next loss (to
rounding; tests/test_takehome.py runs it with NumPy alone and compares). It is assembled from

    the header (what it is, the settings)   the cell's own fragment (``Cell.script``: rnnviz.cells.base)
    the head and one window's BPTT (full, or truncated at k: only the one in use)
    the optimizer and the clipping in use (only those, with rnnviz.optim's and rnnviz.clip's rules and constants)
    sampling, decoding, the training loop (windows sliding with the state carried, as rnnviz.trainer does)

The .npz holds plain arrays only (np.load(..., allow_pickle=False)): U, W, V, b, c; the optimizer's slots per
weight (``<slot>_<weight>``) and its update count t; the step, the position in the text, the carried state h,
the smoothed loss, the learning-rate halving's bookkeeping; the training tokens (``data``); the vocabulary and
the settings as JSON strings.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from string import Template

import numpy as np

from rnnviz.config import MAX_CHAR_VOCAB, MAX_HIDDEN, MAX_TEXT_CHARS, MAX_VH, MAX_VOCAB_CAP
from rnnviz.optim import Adam, Momentum, RMSProp
from rnnviz.params import PARAM_NAMES
from rnnviz.tokenize import _NO_SPACE_AFTER, _NO_SPACE_BEFORE, BOS, EOS

FORMAT = "rnnviz-takehome-1"
FOLDER = "rnnviz_model"            # the zip unpacks into this folder: rnnviz_model/rnnviz_model.py, .npz, README.txt
SCRIPT_NAME, NPZ_NAME = "rnnviz_model.py", "rnnviz_model.npz"
ZIP_NAME = "rnnviz_model.zip"
DEFAULT_STEPS, DEFAULT_EVERY = 1000, 100   # `python rnnviz_model.py`: sample, train this much, sample again
SAMPLE_TOKENS = {"char": 200, "word": 60}

# Why the zip cannot exceed MAX_ZIP_BYTES: every size in it is bounded by rnnviz.config before a model exists.
# θ has G·H·V + G·H·H + V·H + G·H + V weights, with V·H ≤ MAX_VH, H ≤ MAX_HIDDEN, V ≤ MAX_VOCAB_CAP and
# G ≤ 4 gate blocks (the LSTM's): at most 13.9M float64 numbers, 111 MB; the optimizer keeps at most two
# vectors like θ (Adam's m and v); the text is at most MAX_TEXT_CHARS tokens of 2 bytes (every vocabulary has
# fewer than 65,536 tokens), and the vocabulary's JSON at most ~6 bytes per character of that text. Compression
# can only shrink the arrays (a deflated member is stored as is when deflating does not help). A cell with more
# than 4 blocks would be refused by the check in ``npz_bytes`` rather than make a bigger file.
_MAX_BLOCKS = 4
_MAX_WEIGHTS = (_MAX_BLOCKS * MAX_VH + _MAX_BLOCKS * MAX_HIDDEN**2 + MAX_VH + _MAX_BLOCKS * MAX_HIDDEN
                + MAX_VOCAB_CAP)
MAX_ZIP_BYTES = 3 * 8 * _MAX_WEIGHTS + 2 * MAX_TEXT_CHARS + 6 * MAX_TEXT_CHARS + 2**20   # ≈ 342 MB
assert max(MAX_CHAR_VOCAB, MAX_VOCAB_CAP) < 2**16   # the token ids fit in uint16


@dataclass(frozen=True)
class Export:
    """script: the text of rnnviz_model.py;  npz: the bytes of rnnviz_model.npz."""

    script: str
    npz: bytes


def check(trainer) -> None:
    """ValueError saying why this trainer cannot be taken home (its cell has no script); None if it can."""
    cell = trainer.cell
    if not cell.script:
        raise ValueError(f"the {cell.title} cell has no NumPy script yet (a cell provides one as Cell.script), "
                         "so this model cannot be downloaded as a script; its checkpoint (.npz) can still be saved")


def export(trainer) -> Export:
    """The script and the .npz of the trainer's current state (ValueError if its cell has no script)."""
    check(trainer)
    state, theta = _consistent_state(trainer)
    return Export(script_text(trainer.config, trainer.cell, trainer.tokenizer, state, trainer.vocab_size),
                  npz_bytes(trainer, state, theta))


def zip_bytes(trainer) -> bytes:
    """One zip: rnnviz_model/rnnviz_model.py, rnnviz_model.npz and README.txt (ValueError as ``export``)."""
    ex = export(trainer)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{FOLDER}/{SCRIPT_NAME}", ex.script, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(f"{FOLDER}/README.txt", readme(trainer), compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(f"{FOLDER}/{NPZ_NAME}", ex.npz, compress_type=zipfile.ZIP_STORED)   # already compressed
    return buf.getvalue()


def readme(trainer) -> str:
    """The zip's README.txt: five lines on what is in it and how to run it."""
    return (f"rnnviz_model.py is the {trainer.cell.title} you trained in rnnviz (step {trainer.step_count:,}), as one "
            "NumPy script; rnnviz_model.npz holds its weights, optimizer memory and training text.\n"
            "It needs Python 3 and NumPy only (pip install numpy).\n"
            "Run it:  python rnnviz_model.py   (a sample, 1,000 more training steps with the loss, another sample)\n"
            "Options: --steps N (0: only sample), --sample N tokens, --temperature T (0: greedy), --save to keep it.\n"
            "python rnnviz_model.py --help lists them all; the script's comments explain each line of the math.\n")


def _consistent_state(trainer):
    """(state, a copy of its θ) that belong together. A play run may step while a download is built (Streamlit
    runs the deferred download on another thread); the copy is retried until the state object is the same on
    both sides of it. (A step caught between its in-place write of θ and its new state can still pair θ of step
    n + 1 with the position of step n: the script then trains on one window twice. Harmless, and rare.)"""
    for _ in range(100):
        state = trainer.state
        theta = np.array(state.theta, dtype=np.float64)
        if trainer.state is state:
            break
    return state, theta


# ---------------------------------------------------------------------------- the .npz
def npz_bytes(trainer, state=None, theta=None) -> bytes:
    """The .npz the script loads (see the module docstring), compressed; plain arrays only."""
    if state is None:
        state, theta = _consistent_state(trainer)
    layout = trainer.layout
    arrays = dict(zip(PARAM_NAMES, (np.array(v) for v in layout.views(theta).values()), strict=True))
    for slot, vec in state.opt.slots.items():
        for k, v in layout.views(np.asarray(vec)).items():
            arrays[f"{slot}_{k}"] = np.array(v)
    arrays.update(
        format=np.array(FORMAT),
        settings=np.array(json.dumps(trainer.config.to_dict())),
        # JSON, not a NumPy string array: NumPy's fixed-width strings drop trailing NUL characters.
        vocab=np.array(json.dumps(trainer.tokenizer.vocab, ensure_ascii=False)),
        data=np.asarray(trainer.data, dtype=np.uint16),   # the training part of the text (the held-out part is not trained on)
        step=np.array(state.step, dtype=np.int64), t=np.array(state.opt.t, dtype=np.int64),
        pos=np.array(state.pos, dtype=np.int64), h=np.array(state.h, dtype=np.float64),
        smooth_loss=np.array(state.smooth_loss), lr_scale=np.array(state.lr_scale),
        block_sum=np.array(state.block_sum), prev_block_mean=np.array(state.prev_block_mean),
    )
    size = sum(a.nbytes for a in arrays.values())
    if size > MAX_ZIP_BYTES:
        raise ValueError(f"this model's files would take {size / 2**20:,.0f} MB, beyond the take-home limit of "
                         f"{MAX_ZIP_BYTES / 2**20:,.0f} MB: lower the hidden size")
    # np.savez_compressed's own format, written at deflate level 1 rather than its 6: float64 weights barely
    # compress at any level. For the largest model the limits allow (LSTM, V = 5,000, H = 512, Adam, after one
    # step) level 6 took 17.6 s and made 155 MB, level 1 6.5 s and 157 MB; token ids and zeros still shrink.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, a in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, a, allow_pickle=False)
    return buf.getvalue()


# ---------------------------------------------------------------------------- the script
def script_text(config, cell, tokenizer, state, vocab_size: int) -> str:
    """rnnviz_model.py for this configuration: the header, the cell's fragment, the head and BPTT, the optimizer
    and clipping in use, sampling, decoding and the training loop."""
    k = config.effective_truncate
    halving = config.lr_halving
    # The η the next step uses, the engine's own product. With halving on, the script keeps the scale apart
    # (saved with --save) and multiplies as the engine does at every step.
    lr = config.lr if halving else config.lr * state.lr_scale
    parts = [
        _header(config, cell, tokenizer, state, vocab_size, config.lr * state.lr_scale),
        Template(_LOAD).substitute(shapes=_shapes(cell, vocab_size, config.hidden_size)),
        _settings(config, lr, k, halving),
        cell.script,
        _LOSS.rstrip("\n") + (_BPTT_FULL if k is None else _BPTT_TRUNCATED.replace("$k", str(k))),
        Template(_OPTIMIZERS[config.optimizer]).substitute(beta2=repr(float(config.adam_beta2))),
        _SAMPLE + (_DECODE_CHARS if tokenizer.level == "char" else _decode_words()),
        Template(_TRAIN).substitute(clip_call=_CLIPS.get(config.clip, ""), lr_now="lr * run.scale" if halving else "lr",
                                    halving=_HALVING if halving else ""),
        Template(_MAIN).substitute(
            steps=DEFAULT_STEPS, every=DEFAULT_EVERY, sample=SAMPLE_TOKENS[tokenizer.level],
            tokens="characters" if tokenizer.level == "char" else "words",
            run_extra=_RUN_HALVING if halving else "", save_extra=_SAVE_HALVING if halving else ""),
    ]
    # One blank line between functions (not PEP 8's two): the file stays near min-char-rnn's length.
    return re.sub(r"\n{3,}", "\n\n", "\n\n".join(p.strip("\n") for p in parts)) + "\n"


def script_parts(config, cell) -> list[str]:
    """What the script is made of, in words (the download's caption)."""
    k = config.effective_truncate
    parts = [f"the {cell.title}'s step forward and back", "full BPTT" if k is None else f"truncated BPTT with k = {k}",
             _opt_title(config)]
    if config.clip != "none":
        parts.append("clipping")
    return [*parts, "sampling", "the training loop"]


def _num(x: float) -> str:
    """A float as the script writes it: repr round-trips exactly."""
    return repr(float(x))


def _shapes(cell, V: int, H: int) -> str:
    shapes = cell.param_shapes(V, H)
    return ", ".join(f"{k} {shapes[k][0]}×{shapes[k][1]}" if len(shapes[k]) == 2 else f"{k} ({shapes[k][0]},)"
                     for k in PARAM_NAMES)


_OPT_TITLES = {"sgd": "plain SGD", "momentum": f"SGD with momentum μ = {Momentum.mu:g}", "adagrad": "Adagrad",
               "rmsprop": f"RMSProp (ρ = {RMSProp.rho:g})", "adam": f"Adam (β1 = {Adam.beta1:g}, β2 = $beta2)"}


def _opt_title(config) -> str:
    return Template(_OPT_TITLES[config.optimizer]).substitute(beta2=f"{config.adam_beta2:g}")


def _describe(config, lr: float, k) -> list[str]:
    """The settings, one phrase each, for the header."""
    c = config.clip_value
    clip = {"none": "no gradient clipping", "elementwise": f"every gradient entry clipped to ±{c:g}",
            "norm": f"the gradient's norm over all weights clipped to {c:g}"}[config.clip]
    bptt = "full BPTT over each window" if k is None else f"truncated BPTT (each L_t reaches back at most k = {k} steps)"
    out = [f"{_opt_title(config)} with learning rate η = {lr:g}", clip, bptt]
    if config.lr_halving:
        out.append(f"η halved whenever a block of {config.halve_every} steps has a higher mean loss than the one before")
    return out


def _header(config, cell, tokenizer, state, V: int, lr: float) -> str:
    level = "character" if tokenizer.level == "char" else "word"
    settings = ", ".join(_describe(config, lr, config.effective_truncate))
    lines = [
        f'"""{cell.title} language model, {level}-level, in NumPy alone: trained in rnnviz for {state.step:,} steps.',
        "",
        "rnnviz_model.npz beside this file holds the weights, the optimizer's memory, the state carried between windows",
        "and the training text as token ids. This script samples from the model and trains it further with rnnviz's",
        "settings, exactly as rnnviz would have:",
        f"    python rnnviz_model.py                       a sample, {DEFAULT_STEPS:,} training steps (the loss every "
        f"{DEFAULT_EVERY}), a sample",
        "    python rnnviz_model.py --steps 5000 --save   and keep the trained model (written back into the .npz)",
        *_wrap(f"V = {V:,} {'characters' if level == 'character' else 'tokens'}, H = {config.hidden_size} hidden units, "
               f"windows of T = {config.seq_len} tokens; {settings}. The output head (every cell): o_t = V h_t + c, "
               "p_t = softmax(o_t), L = Σ_t −log p_t[y_t] over a window (nats)."),
        '"""',
    ]
    return "\n".join(lines)


def _wrap(text: str, width: int = 112) -> list[str]:
    """Lines of at most ``width`` characters, never broken around an "=" (η = 0.1 stays together)."""
    lines, line = [], ""
    for word in text.replace(" = ", "\u00a0=\u00a0").split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [part.replace("\u00a0", " ") for part in (*lines, line)]


def _settings(config, lr: float, k, halving: bool) -> str:
    rows = [(f"T = {config.seq_len}", "tokens per window; each window is one update, the state carried into the next"),
            (f"lr = {_num(lr)}", "learning rate η" + _halved(config, lr))]
    if config.clip != "none":
        rows.append((f"clip = {_num(config.clip_value)}", "the clipping threshold"))
    if k is not None:
        rows.append((f"k = {k}", "truncated BPTT: how many steps back each L_t's gradient may travel"))
    if halving:
        rows.append((f"halve_every = {config.halve_every}", "η halves when a block of this many steps did worse"))
    width = max(len(code) for code, _ in rows) + 2
    return "\n".join(["# ---- the settings rnnviz trained with (change them to experiment)",
                      *(f"{code.ljust(width)}# {why}" for code, why in rows)])


def _halved(config, lr: float) -> str:
    """A note on the η line: what halving did to it so far."""
    if config.lr_halving:
        return " before halving (the .npz's lr_scale says how far it has been halved)"
    n = round(math.log2(config.lr / lr)) if config.lr > 0 and lr > 0 else 0
    times = {1: "once", 2: "twice"}.get(n, f"{n} times")
    return f" (rnnviz's {config.lr:g}, halved {times} while training)" if n > 0 else ""


_LOAD = '''
import argparse
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

FILE = Path(__file__).with_suffix(".npz")       # rnnviz_model.npz, beside this file
npz = dict(np.load(FILE, allow_pickle=False))    # plain arrays only: loading it runs no code
vocab = json.loads(str(npz["vocab"]))            # token id -> its text
data = npz["data"].astype(np.intp)               # the training text as token ids
U, W, V, b, c = (npz[name] for name in "UWVbc")  # $shapes
params = [U, W, V, b, c]                         # updated in place: every function reads the current weights
H = V.shape[1]
'''

_LOSS = '''
# ---- the output head, and one window's loss with every gradient (BPTT)
def loss_fun(xs, ys, s):
    """xs, ys: (T,) input and target ids; s: the state entering the window (a constant: windows are not
    differentiated through each other). Returns L, the gradients [dU, dW, dV, db, dc], the state after."""
    caches, hs = [], []
    for x in xs:                                   # forward in time: only the recurrence loops
        s, h, cache = step(x, s)
        caches.append(cache)
        hs.append(h)
    hs = np.array(hs)                              # (T, H): row t is h_t
    o = hs @ V.T + c                               # o_t = V h_t + c for every t at once: (T, V)
    o -= o.max(axis=1, keepdims=True)              # softmax ignores a shift; this one keeps exp finite
    p = np.exp(o)
    Z = p.sum(axis=1)
    p /= Z[:, None]                                # p_t = softmax(o_t)
    rows = np.arange(len(xs))
    loss = float(np.sum(np.log(Z) - o[rows, ys]))  # Σ_t −log p_t[y_t], exact even where p_t[y_t] underflows
    p[rows, ys] -= 1                               # ∂L_t/∂o_t = p_t − onehot(y_t)
    dh = p @ V                                     # (T, H): row t is ∂L_t/∂h_t through o_t
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
'''

_BPTT_FULL = '''
    ds = zero_state()
    for t in reversed(rows):                       # full BPTT: back in time to the window's start; each
        ds = back(dh[t], ds, caches[t], dU, dW, db)  # step adds its own L_t to what the future sends back
    return loss, [dU, dW, p.T @ hs, db, p.sum(axis=0)], s
'''

_BPTT_TRUNCATED = '''
    for t in rows:                                 # truncated BPTT: L_t's gradient goes back through its own
        ds, dh_t = zero_state(), dh[t]             # step and at most k = $k earlier ones, then it is dropped
        for j in range(t, max(0, t - k) - 1, -1):
            ds, dh_t = back(dh_t, ds, caches[j], dU, dW, db), 0.0
    return loss, [dU, dW, p.T @ hs, db, p.sum(axis=0)], s
'''

_OPTIMIZERS = {
    "sgd": '''
# ---- plain SGD: w ← w − η g
slots = {}


def update(grads, lr, t):
    for w, g in zip(params, grads):
        w -= lr * g
''',
    "momentum": f'''
# ---- SGD with momentum: v ← μ v + g, w ← w − η v (μ = {Momentum.mu!r}): a heavy ball, smoothing noisy gradients
slots = {{"v": [npz["v_" + name] for name in "UWVbc"]}}


def update(grads, lr, t):
    for w, g, v in zip(params, grads, slots["v"]):
        v *= {Momentum.mu!r}
        v += g
        w -= lr * v
''',
    "adagrad": '''
# ---- Adagrad: m sums each weight's squared gradients, so often-pushed weights take smaller steps
slots = {"m": [npz["m_" + name] for name in "UWVbc"]}


def update(grads, lr, t):
    for w, g, m in zip(params, grads, slots["m"]):
        m += g * g
        w -= lr * (g / np.sqrt(m + 1e-8))
''',
    "rmsprop": f'''
# ---- RMSProp: m is a running mean of each weight's squared gradient (ρ = {RMSProp.rho!r}): Adagrad that forgets
slots = {{"m": [npz["m_" + name] for name in "UWVbc"]}}


def update(grads, lr, t):
    for w, g, m in zip(params, grads, slots["m"]):
        m[...] = {RMSProp.rho!r} * m + (1 - {RMSProp.rho!r}) * (g * g)
        w -= lr * (g / (np.sqrt(m) + {RMSProp.eps!r}))
''',
    "adam": f'''
# ---- Adam: running means of the gradient (m) and of its square (v), corrected for starting at zero
slots = {{"m": [npz["m_" + name] for name in "UWVbc"], "v": [npz["v_" + name] for name in "UWVbc"]}}


def update(grads, lr, t):
    """t: the number of updates so far, this one included."""
    for w, g, m, v in zip(params, grads, slots["m"], slots["v"]):
        m[...] = {Adam.beta1!r} * m + (1 - {Adam.beta1!r}) * g
        v[...] = $beta2 * v + (1 - $beta2) * (g * g)
        m_hat, v_hat = m / (1 - {Adam.beta1!r}**t), v / (1 - $beta2**t)
        w -= lr * m_hat / (np.sqrt(v_hat) + {Adam.eps!r})
''',
}

_CLIPS = {   # inserted into the training loop, after the gradients and before the update
    "elementwise": """\
        for g in grads:                            # clamp every entry to ±clip: a cheap guard against exploding
            np.clip(g, -clip, clip, out=g)         # gradients (it bends their direction)
""",
    "norm": """\
        norm = np.sqrt(sum(np.sum(g * g) for g in grads))   # ‖g‖ over all weights; beyond clip, scale it
        grads = [g * (clip / norm) for g in grads] if norm > clip else grads   # down to clip: direction kept
""",
}

_SAMPLE = '''
# ---- sampling: draw a token from p_t, feed it back in as the next input
def sample(n, temperature, s, x, rng):
    """n token ids after reading token x in state s, each drawn with p ∝ exp(o_t / τ); τ = 0: the likeliest."""
    ids = []
    for _ in range(n):
        s, h, _ = step(x, s)
        o = V @ h + c
        if temperature == 0:
            x = int(o.argmax())
        else:
            q = np.exp((o - o.max()) / temperature)
            x = int(rng.choice(len(q), p=q / q.sum()))
        ids.append(x)
    return ids
'''

_DECODE_CHARS = '''

def decode(ids):
    return "".join(vocab[i] for i in ids)
'''


def _decode_words() -> str:
    """The word-level decoder, with rnnviz.tokenize's own rules (tests compare it with WordTokenizer.decode)."""
    before, after = "".join(sorted(_NO_SPACE_BEFORE)), "".join(sorted(_NO_SPACE_AFTER))
    return f'''

NO_SPACE_BEFORE, NO_SPACE_AFTER = set({before!r}), set({after!r})


def decode(ids):
    """Words joined by spaces as rnnviz shows them: none before punctuation or after an opening bracket."""
    out, prev = [], "\\n"
    for i in ids:
        tok = vocab[i]
        if tok == {json.dumps(BOS)}:
            continue
        if tok == {json.dumps(EOS)}:
            tok = ""
        elif out and prev not in NO_SPACE_AFTER and tok not in NO_SPACE_BEFORE:
            out.append(" ")
        out.append(tok)
        prev = tok or prev
    return "".join(out)
'''


_TRAIN = '''
# ---- training: windows of T tokens slide along the text, the state carried from one to the next
def train(n, run, every=0):
    """n ≥ 1 updates; the loss printed every `every` steps. Returns the last one's L (before its update)."""
    for _ in range(n):
        if run.pos + T + 1 >= len(data):           # the text's end: back to its start, with a fresh state
            run.pos, run.s = 0, zero_state()
        xs, ys = data[run.pos:run.pos + T], data[run.pos + 1:run.pos + T + 1]
        loss, grads, run.s = loss_fun(xs, ys, run.s)
$clip_call        run.step, run.t, run.pos = run.step + 1, run.t + 1, run.pos + T
        update(grads, $lr_now, run.t)
        run.smooth = 0.999 * run.smooth + 0.001 * loss / T   # a running mean: one window's loss is noisy
$halving        if every and run.step % every == 0:
            print(f"step {run.step}: loss {loss / T:.4f} nats per token (running mean {run.smooth:.4f})")
    return loss
'''

_HALVING = '''        run.block += loss / T
        if run.step % halve_every == 0:
            mean, run.block = run.block / halve_every, 0.0
            if mean > run.prev:
                run.scale *= 0.5
            run.prev = mean
'''

_RUN_HALVING = ''',
                          scale=float(npz["lr_scale"]), block=float(npz["block_sum"]),
                          prev=float(npz["prev_block_mean"])'''
_SAVE_HALVING = '''
        npz.update(lr_scale=run.scale, block_sum=run.block, prev_block_mean=run.prev)'''

_MAIN = '''
def main():
    ap = argparse.ArgumentParser(description="Sample from this rnnviz model and train it further, in NumPy alone.")
    ap.add_argument("--steps", type=int, default=$steps, help="training steps (default $steps; 0: only sample)")
    ap.add_argument("--sample", type=int, default=$sample, help="$tokens to sample before and after training")
    ap.add_argument("--temperature", type=float, default=1.0, help="τ: below 1 safer, above 1 wilder, 0 greedy")
    ap.add_argument("--every", type=int, default=$every, help="print the loss every this many steps")
    ap.add_argument("--save", action="store_true", help="write the trained model back into rnnviz_model.npz")
    ap.add_argument("--check", action="store_true", help=argparse.SUPPRESS)   # JSON for rnnviz's own tests
    args = ap.parse_args()
    if args.temperature < 0:
        ap.error("the temperature must be 0 (greedy) or more")
    run = SimpleNamespace(step=int(npz["step"]), t=int(npz["t"]), pos=int(npz["pos"]), s=npz["h"].copy(),
                          smooth=float(npz["smooth_loss"])$run_extra)
    rng = np.random.default_rng()
    if args.check:    # for rnnviz's tests: the next loss, the weights after that update, the loss after it, a sample
        loss, theta = train(1, run), np.concatenate([w.ravel() for w in params]).tolist()
        ids = sample(20, 1.0, run.s, data[run.pos], rng)
        return print(json.dumps({"loss": loss, "theta": theta, "loss_after": train(1, run), "sample": ids,
                                 "text": decode(ids)}))
    print(f"--- sampled at step {run.step}:\\n{decode(sample(args.sample, args.temperature, run.s, data[run.pos], rng))}")
    if args.steps > 0:
        train(args.steps, run, args.every)
        print(f"--- sampled at step {run.step}:\\n{decode(sample(args.sample, args.temperature, run.s, data[run.pos], rng))}")
    if args.save:     # the weights and slots are npz's own arrays, updated in place: add where training stands
        npz.update(step=run.step, t=run.t, pos=run.pos, h=run.s, smooth_loss=run.smooth)$save_extra
        np.savez_compressed(FILE, **npz)          # and the next run goes on from there


if __name__ == "__main__":
    main()
'''
