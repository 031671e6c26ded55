"""The held-out split and loss (rnnviz.heldout), their log in the history, and the history CSV."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from rnnviz import heldout
from rnnviz.bptt import loss_and_grads
from rnnviz.config import TrainConfig
from rnnviz.history import CSV_COLUMNS, History
from rnnviz.persist import dump_trainer, load_trainer
from rnnviz.samples import read_sample
from rnnviz.tokenize import tokenize_corpus
from rnnviz.trainer import Trainer

TEXT = read_sample("short_poem")


def test_split_keeps_the_last_share_apart_and_never_trains_on_it():
    cfg = TrainConfig(hidden_size=8, seq_len=10, val_fraction=0.2, val_every=0)
    tr = Trainer(TEXT, cfg)
    _, whole = tokenize_corpus(TEXT, "char", 10)
    n_val = int(whole.size * 0.2)
    assert tr.heldout.size == n_val and tr.data.size == whole.size - n_val
    assert np.array_equal(np.concatenate([tr.data, tr.heldout]), whole)
    # Two passes over the training part: no window ever reads or predicts a held-out token.
    for _ in range(2 * tr.windows_per_pass()):
        rec = tr.step()
        start = int(tr.history.column("pos")[-1])
        assert start + cfg.seq_len + 1 <= tr.data.size
        assert np.array_equal(rec.targets, whole[start + 1:start + cfg.seq_len + 1])


@pytest.mark.parametrize("n, fraction, T", [(100, 0.0, 5), (100, 0.01, 5), (12, 0.5, 10), (30, 0.1, 5)])
def test_split_holds_nothing_out_when_a_part_would_be_too_short(n, fraction, T):
    data = np.arange(n)
    train, val = heldout.split_heldout(data, fraction, T)
    n_val = math.floor(n * fraction)
    if n_val < 2 or n - n_val < T + 1:
        assert val.size == 0 and train.size == n
    else:
        assert val.size == n_val and train.size == n - n_val


def test_heldout_loss_is_the_mean_loss_of_one_window_with_the_state_carried_through():
    tr = Trainer(TEXT, TrainConfig(hidden_size=16, seq_len=20, val_every=0))
    tr.step(30)
    toks = tr.heldout
    got = heldout.heldout_loss(tr.params, toks, np.zeros(16))
    n = min(toks.size - 1, heldout.MAX_VAL_TOKENS)
    ref = loss_and_grads(tr.params, toks[:n], toks[1:n + 1], np.zeros(16), diagnostics=False)
    assert got == pytest.approx(ref.loss / n, rel=1e-12)
    # Carried means carried: restarting from h = 0 every T tokens gives a different number.
    T = 20
    restarted = sum(loss_and_grads(tr.params, toks[i:min(i + T, n)], toks[i + 1:min(i + T, n) + 1], np.zeros(16),
                                   diagnostics=False).loss for i in range(0, n, T)) / n
    assert abs(restarted - got) > 1e-9


def test_heldout_loss_is_bounded_to_max_val_tokens(monkeypatch):
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, val_every=0))
    monkeypatch.setattr(heldout, "MAX_VAL_TOKENS", 7)
    toks = tr.heldout
    ref = loss_and_grads(tr.params, toks[:7], toks[1:8], np.zeros(8), diagnostics=False).loss / 7
    assert heldout.heldout_loss(tr.params, toks, np.zeros(8)) == pytest.approx(ref, rel=1e-12)
    assert math.isnan(heldout.heldout_loss(tr.params, toks[:1], np.zeros(8)))


def test_heldout_head_in_blocks_matches_one_block(monkeypatch):
    """Logits are built HEAD_ROWS steps at a time (bounded memory for word models): same number."""
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, val_every=0))
    whole = heldout.heldout_loss(tr.params, tr.heldout, np.zeros(8))
    monkeypatch.setattr(heldout, "HEAD_ROWS", 5)
    assert heldout.heldout_loss(tr.params, tr.heldout, np.zeros(8)) == pytest.approx(whole, rel=1e-12)


def test_trainer_logs_the_heldout_loss_every_n_steps_and_undo_and_restore_keep_it():
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10, val_every=4))
    tr.step(13)
    assert [s for s, _ in tr.history.val] == [4, 8, 12]
    assert all(math.isfinite(v) and v > 0 for _, v in tr.history.val)
    tr.undo()
    tr.undo()
    assert [s for s, _ in tr.history.val] == [4, 8]
    b, _ = load_trainer(dump_trainer(tr))
    assert b.history.val == tr.history.val
    off = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10, val_every=0))
    off.step(13)
    assert off.history.val == []


def test_sessions_saved_before_the_log_existed_still_load():
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10, val_every=2))
    tr.step(6)
    arrays = tr.history.to_arrays()
    del arrays["val"]
    h = History.from_arrays(arrays, tr.config, last_step=6, max_T=10)
    assert h.val == [] and len(h) == 6
    arrays["val"] = np.array([[7.0, 1.0]])   # a step after the last: refused
    with pytest.raises(ValueError, match="held-out"):
        History.from_arrays(arrays, tr.config, last_step=6, max_T=10)


def test_history_csv_has_every_column_and_its_last_row_is_the_last_step():
    cfg = TrainConfig(hidden_size=8, seq_len=10, clip="norm", clip_value=0.5, val_every=3)
    tr = Trainer(TEXT, cfg)
    tr.step(10)
    rows = list(csv.DictReader(io.StringIO(tr.history.to_csv())))
    assert list(rows[0]) == [h for h, _ in CSV_COLUMNS]
    assert [int(r["step"]) for r in rows] == list(range(1, 11))
    assert int(rows[-1]["step"]) == tr.step_count
    h = tr.history
    for r, loss, clipped, g in zip(rows, h.column("loss"), h.column("clipped"), h.column("grad_norm"), strict=True):
        assert float(r["loss"]) == loss and int(r["clipped"]) == int(clipped) and float(r["grad_norm_before_clip"]) == g
    val = dict(h.val)
    assert [int(r["step"]) for r in rows if r["val_loss"]] == [3, 6, 9]
    assert all(float(r["val_loss"]) == val[int(r["step"])] for r in rows if r["val_loss"])


def test_config_bounds_the_heldout_settings():
    for bad in ({"val_fraction": -0.1}, {"val_fraction": 0.9}, {"val_fraction": math.nan}, {"val_every": -1},
                {"val_every": 10**9}, {"val_every": 2.5}):
        with pytest.raises(ValueError):
            TrainConfig(**bad).validate()


def test_gap_sentence_is_computed_from_the_numbers():
    from rnnviz.figures.heldout import gap_sentence, gap_short, train_loss_near

    steps = np.arange(1, 301)
    loss = np.where(steps <= 200, 3.0, 2.0)
    assert train_loss_near(steps, loss, 300, 100) == 2.0
    memo = gap_sentence(steps, loss, [(100, 2.9), (200, 3.1), (300, 2.6)], 100)
    assert "2.60 against 2.00" in memo and "0.60 worse" in memo and "memorised" in memo
    same = gap_sentence(steps, loss, [(300, 2.05)], 100)
    assert "within 0.05" in same and "carries over" in same
    assert "no sign of memorisation" in gap_sentence(steps, loss, [(300, 1.5)], 100)
    rising = [(s, v) for s, v in zip(range(40, 301, 40), [3.0, 2.5, 2.2, 2.3, 2.6, 2.7, 2.8], strict=True)]
    assert "up from its lowest 2.20 at step 120" in gap_sentence(steps, loss, rising, 100)
    assert gap_sentence(steps, loss, [], 100) == "" and "+0.60" in gap_short(steps, loss, [(300, 2.6)], 100)
