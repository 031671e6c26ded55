"""The step-able Trainer: determinism, exact undo (with and without replay), windows, the carried
hidden state, the smoothed loss, learning-rate halving, and buffer recycling."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnviz
from rnnviz import TrainConfig, Trainer
from rnnviz.clip import clip_gradients

from test_engine_reference import NAMES, forward_states, seed_bptt, token_losses

CHAR_TEXT = (
    "the quick brown fox jumps over the lazy dog. a stitch in time saves nine!\n"
    "so many books, so little time; not all those who wander are lost.\n"
) * 3


def word_text(n_words: int = 400, n_tokens: int = 3000, seed: int = 0) -> str:
    """A deterministic word-level text with a vocabulary of about n_words + punctuation."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n_words)] + [".", ",", "\n"]
    return " ".join(words[i] for i in rng.integers(0, len(words), n_tokens))


WORD_TEXT = word_text()


# ----------------------------------------------------------------------------- state capture
def capture(tr: Trainer) -> dict:
    """A deep copy of everything a step changes, to compare runs bit for bit."""
    s = tr.state
    xs, ys, h0 = tr.next_window()
    return {
        "step": s.step,
        "theta": s.theta.copy(),
        "params": {k: np.array(v, copy=True) for k, v in s.params.items()},
        "opt_t": s.opt.t,
        "slots": {k: v.copy() for k, v in s.opt.slots.items()},
        "pos": s.pos,
        "h": s.h.copy(),
        "smooth": s.smooth_loss,
        "lr_scale": s.lr_scale,
        "block_sum": s.block_sum,
        "prev_block_mean": s.prev_block_mean,
        "hist_len": len(tr.history),
        "hist": {c: list(v) for c, v in tr.history.cols.items()},
        "dh": [d.copy() for d in tr.history.dh_norms],
        "configs": list(tr.history.configs),
        "window": (xs.copy(), ys.copy(), h0.copy()),
    }


def bits(x) -> bytes:
    return np.asarray(x, dtype=np.float64).tobytes()


def assert_same(a: dict, b: dict, skip_columns=()) -> None:
    assert a["step"] == b["step"]
    assert bits(a["theta"]) == bits(b["theta"])
    for k in NAMES:
        assert bits(a["params"][k]) == bits(b["params"][k]), k
    assert a["opt_t"] == b["opt_t"]
    assert a["slots"].keys() == b["slots"].keys()
    for k in a["slots"]:
        assert bits(a["slots"][k]) == bits(b["slots"][k]), k
    assert a["pos"] == b["pos"]
    assert bits(a["h"]) == bits(b["h"])
    for k in ("smooth", "lr_scale", "block_sum", "prev_block_mean"):
        assert bits(a[k]) == bits(b[k]), k
    assert a["hist_len"] == b["hist_len"]
    for c in a["hist"]:
        if c not in skip_columns:
            assert a["hist"][c] == b["hist"][c], c
    assert len(a["dh"]) == len(b["dh"])
    for x, y in zip(a["dh"], b["dh"], strict=True):
        assert bits(x) == bits(y)
    assert a["configs"] == b["configs"]
    for x, y in zip(a["window"], b["window"], strict=True):
        assert bits(x) == bits(y)


# ----------------------------------------------------------------------------- determinism
DET_CONFIG = TrainConfig(hidden_size=12, seq_len=8, optimizer="adam", lr=0.01, clip="norm", clip_value=1.0, seed=3)


def test_same_text_and_config_give_bit_identical_runs():
    a, b = Trainer(CHAR_TEXT, DET_CONFIG), Trainer(CHAR_TEXT, DET_CONFIG)
    a.step(40)
    for _ in range(40):
        b.step()
    assert_same(capture(a), capture(b), skip_columns=("wall_ms",))
    # A different seed gives a different run, so the comparison above is not vacuous.
    c = Trainer(CHAR_TEXT, DET_CONFIG.with_changes(seed=4))
    c.step(40)
    assert bits(c.state.theta) != bits(a.state.theta)


def test_reset_reproduces_the_run():
    tr = Trainer(CHAR_TEXT, DET_CONFIG)
    start = capture(tr)
    tr.step(25)
    first = capture(tr)
    tr.reset()
    assert_same(capture(tr), start)
    tr.step(25)
    assert_same(capture(tr), first, skip_columns=("wall_ms",))


def test_step_record_matches_history_and_reference():
    """One SGD step, checked end to end: the gradient is the seed loop's (truncated) gradient, the
    clipping is elementwise, and θ_new = θ − η·clip(g)."""
    cfg = TrainConfig(hidden_size=6, seq_len=7, optimizer="sgd", lr=0.3, clip="elementwise", clip_value=0.2,
                      truncate=2)
    tr = Trainer(CHAR_TEXT, cfg)
    tr.step(3)  # so that h0 is a carried, nonzero state
    before = {k: np.array(v, copy=True) for k, v in tr.params.items()}
    xs, ys, h0 = (np.array(a, copy=True) for a in tr.next_window())
    assert np.linalg.norm(h0) > 0
    rec = tr.step()
    loss, g = seed_bptt(before, xs.tolist(), ys.tolist(), h0, 2)
    clipped, rep = clip_gradients(g, "elementwise", 0.2)
    assert rep.fired
    for k in NAMES:
        np.testing.assert_allclose(tr.params[k], before[k] - 0.3 * clipped[k], rtol=1e-12, atol=1e-14)
    assert rec.step == 4 and tr.step_count == 4
    assert rec.loss == pytest.approx(loss, rel=1e-12)
    assert rec.loss_per_token == pytest.approx(loss / 7, rel=1e-12)
    assert rec.perplexity == pytest.approx(math.exp(loss / 7), rel=1e-12)
    assert np.array_equal(rec.inputs, xs) and np.array_equal(rec.targets, ys)
    assert rec.lr == 0.3
    total = math.sqrt(sum(float((v**2).sum()) for v in g.values()))
    assert tr.history.column("grad_norm")[-1] == pytest.approx(total, rel=1e-12)
    assert tr.history.column("clipped")[-1]
    assert tr.history.column("loss")[-1] == pytest.approx(loss / 7, rel=1e-12)
    for k in NAMES:
        assert tr.history.column(f"{k}_before")[-1] == pytest.approx(np.linalg.norm(g[k]), rel=1e-12, abs=1e-15)
        assert tr.history.column(f"{k}_after")[-1] == pytest.approx(np.linalg.norm(clipped[k]), rel=1e-12, abs=1e-15)


# ----------------------------------------------------------------------------- undo
MODELS = {
    # stride 1: a snapshot every step
    "char": (CHAR_TEXT, TrainConfig(hidden_size=10, seq_len=8, optimizer="adam", lr=0.01), None),
    # a word model whose state is too big for 51 snapshots in a 1 MB budget: every s-th step is kept
    "word_big": (word_text(200, 2000), TrainConfig(level="word", hidden_size=16, seq_len=10, optimizer="adam", lr=0.005),
                 1_000_000),
    # a tiny budget: a snapshot only every 50 steps, so almost every undo replays
    "char_tiny_budget": (CHAR_TEXT, TrainConfig(hidden_size=10, seq_len=8, optimizer="momentum", lr=0.05), 1),
}
N_STEPS = 60


def live_change(cfg: TrainConfig, step: int) -> TrainConfig:
    """Live settings changed between steps (the run being undone must replay them)."""
    changes = {
        5: {"lr": cfg.lr * 2},
        12: {"clip": "norm", "clip_value": 0.5},
        20: {"truncate": 3, "lr_halving": True, "halve_every": 4},
        33: {"clip": "none"},
        41: {"lr": cfg.lr / 3, "truncate": None},
        52: {"clip": "elementwise", "clip_value": 0.01},
        55: {"lr": cfg.lr * 5},
        58: {"halve_every": 2, "truncate": 0},
    }.get(step)
    return cfg.with_changes(**changes) if changes else cfg


def scheduled_run(name):
    text, cfg, budget = MODELS[name]
    tr = Trainer(text, cfg) if budget is None else Trainer(text, cfg, undo_budget_bytes=budget)
    caps = [capture(tr)]
    for i in range(N_STEPS):
        new = live_change(tr.config, i)
        if new is not tr.config:
            assert tr.reconfigure(new) is False  # live: no reset
        assert tr.step() is not None
        caps.append(capture(tr))
    return tr, caps


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("n", [1, 7, 50])
def test_undo_is_exact(name, n):
    tr, caps = scheduled_run(name)
    if name == "char":
        assert tr.snapshot_stride == 1
    else:
        assert tr.snapshot_stride > 1
    if name == "char_tiny_budget":
        assert tr.snapshot_stride == 50
    assert tr.can_undo
    assert tr.undo(n) is True
    assert_same(capture(tr), caps[N_STEPS - n])
    assert tr.divergence is None
    # Going forward again with the settings used originally reproduces the original run.
    for i in range(N_STEPS - n, N_STEPS):
        tr.reconfigure(caps[i + 1]["configs"][i])
        tr.step()
        assert_same(capture(tr), caps[i + 1], skip_columns=("wall_ms",))


def test_undo_twice_and_undo_beyond_reach():
    tr, caps = scheduled_run("char")
    assert tr.undo(3) and tr.undo(4)
    assert_same(capture(tr), caps[N_STEPS - 7])
    tr2, caps2 = scheduled_run("char")
    now = capture(tr2)
    # stride 1: exactly 50 steps back are kept, no more.
    for n in (51, N_STEPS, N_STEPS + 1, 0, -1):
        assert tr2.undo(n) is False
        assert_same(capture(tr2), now)
    assert tr2.undo(50)
    assert_same(capture(tr2), caps2[N_STEPS - 50])


def test_default_budget_strides_for_a_big_word_model():
    """With the default budget a big model keeps every s-th state, and undo replays exactly."""
    tr = Trainer(WORD_TEXT, TrainConfig(level="word", hidden_size=64, seq_len=10, optimizer="adam", lr=0.005))
    assert tr.vocab_size > 400
    assert tr.snapshot_stride > 1
    caps = [capture(tr)]
    for i in range(2 * tr.snapshot_stride + 3):
        if i == 4:
            tr.reconfigure(tr.config.with_changes(clip="norm", clip_value=0.3, lr=0.02))
        tr.step()
        caps.append(capture(tr))
    n = tr.snapshot_stride + 2
    assert tr.undo(n)
    assert_same(capture(tr), caps[-1 - n])


@pytest.mark.parametrize("name", ["word_big", "char_tiny_budget"])
def test_undo_beyond_start_is_refused_with_replay(name):
    tr, caps = scheduled_run(name)
    now = capture(tr)
    assert tr.undo(N_STEPS + 1) is False
    assert_same(capture(tr), now)


def test_fresh_trainer_cannot_undo():
    tr = Trainer(CHAR_TEXT, DET_CONFIG)
    assert not tr.can_undo
    assert tr.undo(1) is False
    tr.step()
    assert tr.can_undo and tr.undo(1)
    assert tr.step_count == 0 and len(tr.history) == 0


# ----------------------------------------------------------------------------- windows and h
def test_windows_slide_wrap_and_carry_h():
    # 51 characters: windows start at 0, 10, 20, 30; one at 40 would end on the text's last character, and
    # min-char-rnn skips it (it wraps when p + T + 1 >= len(data)), so the Trainer does too.
    text = "abcdefghij klmnop, qrstuv. wxyz abc! def ghi jkl mn"
    assert len(text) == 51
    T = 10
    cfg = TrainConfig(hidden_size=5, seq_len=T, optimizer="sgd", lr=0.1, val_fraction=0.0)  # the whole text: no held-out part
    tr = Trainer(text, cfg)
    data = np.array([tr.tokenizer.index[ch] for ch in text])
    N = len(text)
    assert tr.windows_per_pass() == (N - 2) // T == 4
    pos, h = 0, np.zeros(5)
    wraps = 0
    for _ in range(13):
        if pos + T + 1 >= N:  # min-char-rnn's test: wrap before a window that would reach the last character
            pos, h = 0, np.zeros(5)
            wraps += 1
            # The wrap matters: with the carried h the loss would be different.
            xs, ys = data[:T], data[1:T + 1]
            carried = tr.h
            assert np.linalg.norm(carried) > 0.1
            assert abs(token_losses(tr.params, xs, ys, carried).sum() - token_losses(tr.params, xs, ys, np.zeros(5)).sum()) > 1e-6
        xs, ys = data[pos:pos + T], data[pos + 1:pos + T + 1]
        nx, ny, nh = tr.next_window()
        assert np.array_equal(nx, xs) and np.array_equal(ny, ys)
        np.testing.assert_allclose(nh, h, rtol=1e-12, atol=1e-15)  # zeros exactly after a wrap
        before = {k: np.array(v, copy=True) for k, v in tr.params.items()}
        rec = tr.step()
        assert tr.history.column("pos")[-1] == pos
        assert np.array_equal(rec.inputs, xs) and np.array_equal(rec.targets, ys)
        assert rec.loss == pytest.approx(token_losses(before, xs, ys, h).sum(), rel=1e-12)
        h = forward_states(before, xs, h)[-1]
        np.testing.assert_allclose(tr.h, h, rtol=1e-12, atol=1e-14)  # h_T carried to the next window
        pos += T
    assert wraps == 3


def test_the_trainer_runs_min_char_rnns_loop():
    """min-char-rnn's training loop (Karpathy 2015: lossFun, Adagrad with mem += dθ², clipping each entry to ±5,
    p += seq_length, and ``if p+seq_length+1 >= len(data): hprev = 0; p = 0``), ported line for line beside the
    Trainer on the same first weights: the same windows (including where it wraps), the same losses and the same
    weights after three passes over the text."""
    text = "abcdefghij klmnop, qrstuv. wxyz abc! def ghi jkl mn"   # 51 characters: it wraps after 4 windows
    T, H, lr = 10, 6, 0.1
    tr = Trainer(text, TrainConfig(hidden_size=H, seq_len=T, optimizer="adagrad", lr=lr, clip="elementwise",
                                   clip_value=5.0, val_fraction=0.0))
    data = [tr.tokenizer.index[ch] for ch in text]
    vocab_size = tr.vocab_size
    Wxh, Whh, Why = (np.array(tr.params[k], copy=True) for k in ("U", "W", "V"))
    bh, by = np.array(tr.params["b"], copy=True).reshape(H, 1), np.array(tr.params["c"], copy=True).reshape(-1, 1)

    def lossFun(inputs, targets, hprev):   # noqa: N802 — min-char-rnn's names, as it writes them
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((vocab_size, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys[t] = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
            np.clip(dparam, -5, 5, out=dparam)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

    n, p = 0, 0
    mWxh, mWhh, mWhy, mbh, mby = (np.zeros_like(a) for a in (Wxh, Whh, Why, bh, by))
    starts = []
    while n < 3 * tr.windows_per_pass() + 1:
        if p + T + 1 >= len(data) or n == 0:
            hprev = np.zeros((H, 1))
            p = 0
        inputs, targets = data[p:p + T], data[p + 1:p + T + 1]
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
        for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby],
                                      [mWxh, mWhh, mWhy, mbh, mby], strict=True):
            mem += dparam * dparam
            param += -lr * dparam / np.sqrt(mem + 1e-8)
        rec = tr.step()
        starts.append(p)
        assert tr.history.column("pos")[-1] == p
        assert rec.loss == pytest.approx(float(loss), rel=1e-12)
        p += T
        n += 1
    assert starts[:9] == [0, 10, 20, 30, 0, 10, 20, 30, 0]   # 40 is skipped: 40 + 10 + 1 >= 51
    for ours, theirs in (("U", Wxh), ("W", Whh), ("V", Why), ("b", bh), ("c", by)):
        np.testing.assert_allclose(tr.params[ours], theirs.reshape(tr.params[ours].shape), rtol=1e-11, atol=1e-13)


def test_smoothed_loss_starts_at_ln_V():
    tr = Trainer(CHAR_TEXT, DET_CONFIG)
    V = len(set(CHAR_TEXT))
    assert tr.vocab_size == V
    assert tr.baseline_loss == pytest.approx(math.log(V))
    assert tr.state.smooth_loss == pytest.approx(math.log(V))
    tr.step(30)
    loss = tr.history.column("loss")
    smooth = tr.history.column("smooth_loss")
    expected = math.log(V)
    for i in range(30):
        expected = 0.999 * expected + 0.001 * loss[i]
        assert smooth[i] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(tr.history.column("perplexity"), np.exp(loss), rtol=1e-12)


@pytest.mark.parametrize("halving", [True, False])
def test_lr_halving_when_a_block_mean_rises(halving):
    every, base = 3, 0.5
    cfg = TrainConfig(hidden_size=8, seq_len=6, optimizer="sgd", lr=base, lr_halving=halving, halve_every=every)
    tr = Trainer(CHAR_TEXT, cfg)
    tr.step(60)
    losses = tr.history.column("loss")
    scale, prev, block = 1.0, math.inf, 0.0
    lrs, changed, rises = [], [], 0
    for i, loss in enumerate(losses, start=1):
        lrs.append(base * scale)
        block += loss
        flag = False
        if i % every == 0:
            mean = block / every
            if mean > prev:
                rises += 1
                if halving:
                    scale *= 0.5
                    flag = True
            prev, block = mean, 0.0
        changed.append(flag)
    assert rises >= 2 and rises < 60 // every  # the run has both rising and falling blocks
    np.testing.assert_array_equal(tr.history.column("lr"), lrs)
    assert tr.history.column("lr_changed").tolist() == changed
    assert tr.lr == base * scale
    if halving:
        assert tr.lr < base
    else:
        assert tr.lr == base


# ----------------------------------------------------------------------------- one update path
@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
def test_theta_is_updated_in_place_and_snapshots_are_copies(optimizer):
    """θ is the Trainer's own vector, written in place (no new vector per step); params are live
    views of it. Undo snapshots are copies, so undoing restores the exact earlier weights."""
    text, cfg, _ = MODELS["word_big"]
    tr = Trainer(text, cfg.with_changes(optimizer=optimizer, lr=0.05), undo_budget_bytes=1)
    theta_id, W = id(tr.state.theta), tr.params["W"]
    before = {k: np.array(v, copy=True) for k, v in tr.params.items()}
    tr.step(3)
    assert id(tr.state.theta) == theta_id and tr.params["W"] is W
    assert not np.array_equal(W, before["W"])           # the held view sees the new weights
    assert tr.undo(3)
    for k in NAMES:
        assert bits(tr.params[k]) == bits(before[k])
    assert tr.params["W"] is W                          # the same memory, restored


def test_params_handed_out_are_read_only():
    tr = Trainer(CHAR_TEXT, DET_CONFIG)
    tr.step()
    with pytest.raises(ValueError):
        tr.params["W"][0, 0] = 1.0


# ----------------------------------------------------------------------------- reconfigure
def test_reconfigure_live_keeps_model_other_fields_reset():
    tr = Trainer(CHAR_TEXT, DET_CONFIG)
    tr.step(5)
    theta = tr.state.theta.copy()
    assert tr.reconfigure(tr.config.with_changes(lr=0.5, clip="none")) is False
    assert tr.step_count == 5 and bits(tr.state.theta) == bits(theta) and tr.lr == 0.5
    assert tr.reconfigure(tr.config.with_changes(hidden_size=7)) is True
    assert tr.step_count == 0 and tr.params["W"].shape == (7, 7) and len(tr.history) == 0
    with pytest.raises(ValueError):
        tr.reconfigure(TrainConfig(hidden_size=0))


def test_reconfigure_to_a_model_with_the_same_number_of_weights():
    """V = 8, H = 1 and V = 4, H = 2 both have 26 weights (2VH + H² + H + V): the reused gradient
    buffer must still get the new shapes."""
    cfg = TrainConfig(level="word", max_vocab=8, hidden_size=1, seq_len=5, optimizer="sgd", lr=0.1)
    tr = Trainer(WORD_TEXT, cfg)
    assert tr.vocab_size == 8
    tr.step(2)
    new = cfg.with_changes(max_vocab=4, hidden_size=2)
    assert tr.reconfigure(new) is True
    assert tr.vocab_size == 4
    tr.step(3)
    fresh = Trainer(WORD_TEXT, new)
    fresh.step(3)
    for k in NAMES:
        assert bits(tr.params[k]) == bits(fresh.params[k]), k


def test_step_n_equals_n_single_steps_and_stops_at_zero():
    a, b = Trainer(CHAR_TEXT, DET_CONFIG), Trainer(CHAR_TEXT, DET_CONFIG)
    rec = a.step(6)
    for _ in range(6):
        last = b.step()
    assert rec.step == last.step == 6 and rec.loss == last.loss
    assert a.step(0) is None and a.step_count == 6


def test_engine_does_not_import_ui_libraries():
    import subprocess
    import sys

    code = "import sys, rnnviz; t = rnnviz.Trainer('abcabcabcabc', rnnviz.TrainConfig(hidden_size=3, seq_len=4)); " \
           "t.step(2); print(any(m.split('.')[0] in ('streamlit', 'plotly') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(rnnviz.__file__).parent.parent))
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- history
def test_history_rows_dh_norms_and_downsampled_matrix():
    tr = Trainer(CHAR_TEXT, DET_CONFIG)
    recs = [tr.step() for _ in range(12)]
    assert len(tr.history) == 12
    assert tr.history.column("step").tolist() == list(range(1, 13))
    for i, rec in enumerate(recs):
        assert np.array_equal(tr.history.dh_norms[i], rec.result.dh_norms)
        assert tr.history.column("loss")[i] == rec.loss_per_token
        assert tr.history.configs[i] == DET_CONFIG
    steps, M = tr.history.dh_matrix()
    assert steps.tolist() == list(range(1, 13)) and M.shape == (12, DET_CONFIG.seq_len)
    steps, M = tr.history.dh_matrix(max_rows=4)
    assert steps[0] == 1 and steps[-1] == 12 and len(steps) == 4 and np.all(np.diff(steps) > 0)
    for r, s in enumerate(steps):
        assert np.array_equal(M[r], tr.history.dh_norms[s - 1])


def test_history_pads_shorter_windows_with_nan():
    from rnnviz.history import COLUMNS, PARAM_NORM_COLUMNS, History

    h = History()
    for i, n in enumerate((3, 5, 2), start=1):
        row = dict.fromkeys(COLUMNS + PARAM_NORM_COLUMNS, 0.0)
        row["step"] = i
        h.append(row, np.arange(1.0, n + 1), None)
    steps, M = h.dh_matrix()
    assert M.shape == (3, 5)
    assert np.array_equal(M[0, :3], [1, 2, 3]) and np.all(np.isnan(M[0, 3:]))
    assert np.all(np.isnan(M[2, 2:]))
    h.truncate(1)
    assert len(h) == 1 and h.column("step").tolist() == [1]
    pd = pytest.importorskip("pandas")
    assert isinstance(h.frame(), pd.DataFrame) and len(h.frame()) == 1
