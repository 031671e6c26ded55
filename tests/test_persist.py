"""Saving a session's whole training state (for reloads) and restoring it exactly."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from rnnviz import TrainConfig, Trainer, persist
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
    assert set(tmp_path.iterdir()) == {tmp_path / autosave.LOCK_NAME, tmp_path / f"{token}.npz"}  # no temp file left
    (tmp_path / f"{token}.npz").write_bytes(b"garbage")
    with pytest.raises(autosave.RestoreError, match="not a complete .npz"):
        autosave.load(token)             # a broken file is reported, never a crash
    assert autosave.load(autosave.new_token()) is None     # nothing saved: nothing to say
    assert not autosave.valid_token(token + "\n")         # fullmatch: no trailing newline


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


# ----------------------------------------------------------------------------- the history in the saved file
@pytest.fixture
def small_limits(monkeypatch):
    """Trainers built now thin their history after 60 steps."""
    from rnnviz import history

    monkeypatch.setattr(history, "RECENT_STEPS", 60)
    monkeypatch.setattr(history, "BATCH_ROWS", 20)
    monkeypatch.setattr(history, "OLD_ROWS", 16)


def _history(tr: Trainer, skip=("wall_ms",)) -> dict:
    h = tr.history
    return {"cols": {c: h.column(c).tolist() for c in h.cols if c not in skip},
            "dh": [v.tobytes() for v in h.dh_norms], "thinned": (h.n_thinned, h.stride), "spectrum": h.spectrum}


def test_thinned_history_round_trips_exactly_and_keeps_thinning_alike(small_limits):
    cfg = TrainConfig(hidden_size=8, seq_len=6, clip="norm", clip_value=0.3, lr_halving=True, halve_every=7)
    a = Trainer(TEXT, cfg)
    a.step(400)
    assert a.history.n_thinned > 0 and len(a.history) < 400
    b, _ = load_trainer(dump_trainer(a))
    assert _history(b, skip=()) == _history(a, skip=())
    assert b.history.configs[-1] == cfg
    a.step(150)
    b.step(150)
    assert _history(b) == _history(a)           # thinning goes on the same way after a reload


def test_dump_size_is_known_before_dumping():
    a = Trainer(TEXT, TrainConfig(hidden_size=16, seq_len=10))
    a.step(30)
    assert persist.min_dump_bytes(a) <= len(dump_trainer(a)) <= 2 * persist.min_dump_bytes(a)


def test_an_old_format_file_is_rejected_and_the_app_starts_fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(tmp_path))
    a = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    a.step(3)
    with np.load(io.BytesIO(dump_trainer(a)), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if not k.startswith("hist_")}
    # Format 1 kept the history as float64 columns and a NaN-padded matrix, and this tag.
    arrays |= {"format": np.array("rnnviz-session-1"), "hist_dh": np.ones((3, 10)),
               "hist_dh_len": np.full(3, 10), "hist_spectrum": np.zeros((0, 3))}
    arrays |= {f"hist_{c}": np.arange(1.0, 4.0) for c in a.history.cols}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(CheckpointError, match="format"):
        load_trainer(buf.getvalue())
    token = autosave.new_token()
    (tmp_path / f"{token}.npz").write_bytes(buf.getvalue())
    with pytest.raises(autosave.RestoreError, match="format"):
        autosave.load(token)
    from rnnviz.ui.state import restored_session

    sess = restored_session(token)              # a fresh default session that says why
    assert sess.trainer.step_count == 0 and sess.token != token
    assert [f.kind for f in sess.flashes] == ["warning"]
    assert "could not be restored" in sess.flashes[0].text and "format" in sess.flashes[0].text


def test_corrupt_histories_are_rejected():
    a = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    a.step(6)
    good = dump_trainer(a)
    h = a.history.to_arrays()
    steps = h["step"].copy()
    steps[3] = steps[2]
    nan_dh = h["dh"].copy()
    nan_dh[1, 2] = np.nan
    bad = {
        "hist_step": steps,                                   # not increasing
        "hist_loss": np.r_[h["loss"][:-1], np.inf],           # not finite
        "hist_clipped": h["clipped"].astype(np.float64),      # wrong dtype
        "hist_pos": h["pos"][:-1],                            # wrong length
        "hist_dh": nan_dh,                                    # NaN inside a window
        "hist_dh_len": np.full(6, 11, dtype=np.int32),        # longer than the matrix
        "hist_layout": np.array([7, 1, 1]),                   # more thinned rows than rows
        "hist_spectrum": np.array([[4.0, 1.0, 1.0], [2.0, 1.0, 1.0]]),   # steps not increasing
    }
    for name, value in bad.items():
        with pytest.raises(CheckpointError):
            load_trainer(_tamper(good, name, value))
    future = _tamper(good, "hist_step", h["step"] + 100)     # rows after the saved step
    with pytest.raises(CheckpointError):
        load_trainer(future)
    with np.load(io.BytesIO(good), allow_pickle=False) as npz:
        missing = {k: npz[k] for k in npz.files if k != "hist_grad_norm"}
    buf = io.BytesIO()
    np.savez(buf, **missing)
    with pytest.raises(CheckpointError):
        load_trainer(buf.getvalue())


def test_too_big_states_are_skipped_without_building_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(tmp_path))
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    tr.step(2)
    monkeypatch.setattr(autosave, "MAX_SAVE_BYTES", persist.min_dump_bytes(tr) - 1)

    def no_dump(*a, **k):
        raise AssertionError("dumped a state that is known to be too big")

    monkeypatch.setattr(autosave, "dump_trainer", no_dump)
    assert autosave.save(autosave.new_token(), tr, {}) is False
    assert list(tmp_path.iterdir()) == []         # not even the lock file: nothing was written


def test_playing_sessions_save_less_often_when_saving_is_slow(tmp_path, monkeypatch):
    import time

    from rnnviz.ui.state import AppSession

    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(tmp_path))
    assert autosave.save_interval(0.001) == autosave.SAVE_EVERY_S
    assert autosave.save_interval(1.0) == pytest.approx(1.0 / autosave.SAVE_SHARE)
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    sess = AppSession(trainer=tr, text_label="x", playing=True)
    path = tmp_path / f"{sess.token}.npz"
    sess.saved = (None, time.monotonic() - autosave.SAVE_EVERY_S - 1)
    tr.step()
    sess.autosave()
    assert path.exists() and 0 < sess.save_cost < 5
    path.unlink()
    sess.save_cost = 0.5                        # a slow save: the next one waits 0.5 / SAVE_SHARE = 25 s
    sess.saved = (sess.saved[0], time.monotonic() - autosave.SAVE_EVERY_S - 1)
    tr.step()
    sess.autosave()
    assert not path.exists()
    sess.autosave(force=True)
    assert path.exists()
