"""Saving a session's whole training state (for reloads) and restoring it exactly."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from rnnviz import TrainConfig, Trainer
from rnnviz.checkpoint import CheckpointError
from rnnviz.persist import dump_trainer, load_trainer
from rnnviz.ui import autosave

TEXT = "the cat sat on the mat, and the dog sat on the log. " * 20


@pytest.mark.parametrize("cfg", [TrainConfig(hidden_size=16, seq_len=10),
                                 TrainConfig(hidden_size=8, seq_len=6, optimizer="adam", truncate=2, lr_halving=True,
                                             halve_every=5),
                                 TrainConfig(level="word", hidden_size=8, seq_len=5, optimizer="momentum")])
def test_restored_trainer_continues_bit_for_bit(cfg):
    a = Trainer(TEXT, cfg)
    a.step(37)
    b, extra = load_trainer(dump_trainer(a, {"label": "mine"}))
    assert extra == {"label": "mine"}
    assert b.step_count == 37 and len(b.history) == 37
    assert np.array_equal(b.history.column("loss"), a.history.column("loss"))
    assert all(np.array_equal(x, y) for x, y in zip(a.history.dh_norms, b.history.dh_norms, strict=True))
    a.step(15)
    b.step(15)
    assert np.array_equal(a.state.theta, b.state.theta)
    assert a.last.loss == b.last.loss and a.state.pos == b.state.pos


def test_text_with_nul_characters_survives():
    text = TEXT + "\x00 tail\x00\x00"
    a = Trainer(text, TrainConfig(hidden_size=8, seq_len=10))
    a.step(2)
    b, _ = load_trainer(dump_trainer(a))
    assert b.text == text and b.tokenizer.vocab == a.tokenizer.vocab


def test_undo_after_restore_stops_at_the_restore_point():
    a = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    a.step(5)
    b, _ = load_trainer(dump_trainer(a))
    assert not b.undo()
    b.step(2)
    assert b.undo(2) and b.step_count == 5 and len(b.history) == 5


def _tamper(data: bytes, name: str, value: np.ndarray) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays[name] = value
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_corrupt_states_are_rejected():
    a = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    a.step(3)
    good = dump_trainer(a)
    bad = [
        good[: len(good) // 2],
        b"not a zip at all",
        _tamper(good, "theta", np.full_like(a.state.theta, np.nan)),
        _tamper(good, "theta", a.state.theta[:-1]),
        _tamper(good, "h", np.zeros(3)),
        _tamper(good, "format", np.array("something-else")),
        _tamper(good, "hist_loss", np.zeros(1)),
        _tamper(good, "config", np.array('{"hidden_size": -4}')),
    ]
    obj = io.BytesIO()
    with zipfile.ZipFile(obj, "w") as z, z.open("theta.npy", "w") as f:
        np.lib.format.write_array(f, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    bad.append(obj.getvalue())
    for data in bad:
        with pytest.raises(CheckpointError):
            load_trainer(data)


def test_autosave_store_round_trip_and_token_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(tmp_path))
    token = autosave.new_token()
    assert autosave.valid_token(token) and len(token) == 22
    for bad in ("", "../../etc/passwd", "a" * 21, "a" * 23, "abc/def" * 3 + "a", None):
        assert not autosave.valid_token(bad)
        assert autosave.load(bad) is None
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    tr.step(4)
    assert autosave.save(token, tr, {"text_label": "x"})
    restored, extra = autosave.load(token)
    assert restored.step_count == 4 and extra["text_label"] == "x"
    assert list(tmp_path.iterdir()) == [tmp_path / f"{token}.npz"]  # no temp file left behind
    (tmp_path / f"{token}.npz").write_bytes(b"garbage")
    assert autosave.load(token) is None  # a broken file is ignored, never a crash


def test_expire_old_removes_only_stale_files(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(tmp_path))
    old, fresh = tmp_path / ("a" * 22 + ".npz"), tmp_path / ("b" * 22 + ".npz")
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    import os
    import time
    os.utime(old, (time.time() - autosave.EXPIRE_S - 10,) * 2)
    assert autosave.expire_old() == 1
    assert not old.exists() and fresh.exists()
