"""The autosave folder as a shared, hostile place (issue #13): bounded, private, never followed
through a symlink, and a bad file is reported, never a crash or a silent fresh model."""

from __future__ import annotations

import io
import json
import os
import stat
import time

import numpy as np
import pytest

from rnnviz import TrainConfig, Trainer
from rnnviz.persist import dump_trainer
from rnnviz.ui import autosave
from rnnviz.ui.state import AppSession, default_session, restored_session

TEXT = "the cat sat on the mat, and the dog sat on the log. " * 20


@pytest.fixture
def store(tmp_path, monkeypatch):
    root = tmp_path / "sessions"
    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(root))
    monkeypatch.setattr(autosave, "PRUNE_EVERY_S", 0.0)     # prune after every save, as the caps tests expect
    return root


def files(root) -> list:
    """The folder's session and temp files (not the lock file writers and evictions share)."""
    return [p for p in root.iterdir() if p.name != autosave.LOCK_NAME]


def small() -> Trainer:
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    tr.step(2)
    return tr


def test_a_fresh_session_writes_nothing_until_it_changes_something(store):
    sess = default_session()
    sess.autosave()
    sess.autosave(force=True)
    assert not store.exists() or files(store) == []
    sess.trainer.step()
    sess.autosave()
    assert [p.name for p in files(store)] == [f"{sess.token}.npz"]


def test_a_small_paused_session_is_saved_after_every_click(store):
    sess = AppSession(trainer=small(), text_label="x")
    for _ in range(3):
        sess.trainer.step()
        sess.autosave()
        assert autosave.load(sess.token)[0].step_count == sess.trainer.step_count


def test_a_big_session_is_rewritten_at_most_every_few_seconds_even_when_paused(store, monkeypatch):
    monkeypatch.setattr(autosave, "SMALL_SAVE_BYTES", 0)      # every state counts as big
    sess = AppSession(trainer=small(), text_label="x")
    sess.autosave()
    path = store / f"{sess.token}.npz"
    first = path.stat().st_mtime_ns
    sess.trainer.step()
    sess.autosave()                                   # a Step click a moment later: not written again
    assert path.stat().st_mtime_ns == first
    sess.saved = (sess.saved[0], time.monotonic() - autosave.SAVE_EVERY_S - 0.1)
    sess.autosave()
    assert autosave.load(sess.token)[0].step_count == 3


def test_the_folder_is_private_and_its_files_are_0600(store):
    token = autosave.new_token()
    assert autosave.save(token, small(), {})
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert stat.S_IMODE((store / f"{token}.npz").stat().st_mode) == 0o600
    os.chmod(store, 0o755)                            # made 0755 by an older version: closed again
    autosave.store_dir()
    assert stat.S_IMODE(store.stat().st_mode) == 0o700


def test_a_symlinked_folder_is_refused_and_the_app_still_starts(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / "sessions"
    link.symlink_to(target)
    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(link))
    with pytest.raises(autosave.StoreError):
        autosave.store_dir()
    sess = AppSession(trainer=small(), text_label="x")
    sess.autosave()                                   # logged, not raised
    assert files(target) == []


def test_a_planted_symlink_is_replaced_never_written_through(store, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    token = autosave.new_token()
    autosave.store_dir()
    (store / f"{token}.npz").symlink_to(victim)
    (store / f"{token}.{os.getpid()}.tmp").symlink_to(victim)     # the old predictable temp name
    assert autosave.save(token, small(), {})
    assert victim.read_text() == "precious"
    assert not (store / f"{token}.npz").is_symlink()


def test_a_save_file_pointing_at_dev_zero_is_refused_at_once(store):
    token = autosave.new_token()
    autosave.store_dir()
    (store / f"{token}.npz").symlink_to("/dev/zero")
    t0 = time.monotonic()
    with pytest.raises(autosave.RestoreError):
        autosave.load(token)
    assert time.monotonic() - t0 < 1.0


def test_an_oversized_save_file_is_refused_without_reading_it(store, monkeypatch):
    token = autosave.new_token()
    autosave.store_dir()
    with open(store / f"{token}.npz", "wb") as f:
        f.truncate(autosave.MAX_SAVE_BYTES + 1)       # sparse: no disk used
    monkeypatch.setattr(autosave, "load_trainer", lambda *a: pytest.fail("read an oversized file"))
    with pytest.raises(autosave.RestoreError, match="limit"):
        autosave.load(token)


def test_the_folder_keeps_at_most_max_files_oldest_out_first(store, monkeypatch):
    monkeypatch.setattr(autosave, "MAX_STORE_FILES", 3)
    tr = small()
    tokens = [autosave.new_token() for _ in range(5)]
    for i, t in enumerate(tokens):
        assert autosave.save(t, tr, {})
        os.utime(store / f"{t}.npz", (time.time() - 100 + i,) * 2)   # distinct ages, oldest first
    assert sorted(p.name for p in files(store)) == sorted(f"{t}.npz" for t in tokens[-3:])


def test_the_folder_keeps_at_most_max_bytes(store, monkeypatch):
    tr = small()
    size = len(dump_trainer(tr, {}))
    monkeypatch.setattr(autosave, "MAX_STORE_BYTES", int(2.5 * size))
    tokens = [autosave.new_token() for _ in range(4)]
    for i, t in enumerate(tokens):
        autosave.save(t, tr, {})
        os.utime(store / f"{t}.npz", (time.time() - 100 + i,) * 2)
    left = sum(p.stat().st_size for p in files(store))
    assert left <= 2.5 * size and (store / f"{tokens[-1]}.npz").exists()


def test_stale_temp_files_expire_too(store):
    autosave.store_dir()
    stale, fresh = store / "x.tmp", store / "y.tmp"
    stale.write_bytes(b"half a file")
    fresh.write_bytes(b"being written")
    os.utime(stale, (time.time() - autosave.TMP_EXPIRE_S - 10,) * 2)
    assert autosave.expire_old() == 1
    assert not stale.exists() and fresh.exists()


def test_a_truncated_save_says_it_could_not_be_restored(store):
    token = autosave.new_token()
    autosave.store_dir()
    (store / f"{token}.npz").write_bytes(dump_trainer(small(), {})[:5000])
    sess = restored_session(token)
    assert sess.trainer.step_count == 0
    assert "could not be restored" in sess.flashes[0].text and "cut short" in sess.flashes[0].text


def test_an_extra_that_is_a_json_list_does_not_crash_the_restore(store):
    with np.load(io.BytesIO(dump_trainer(small(), {})), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["extra"] = np.array(json.dumps(["not", "a", "dict"]))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    token = autosave.new_token()
    autosave.store_dir()
    (store / f"{token}.npz").write_bytes(buf.getvalue())
    sess = restored_session(token)
    assert "could not be restored" in sess.flashes[0].text and "JSON object" in sess.flashes[0].text


def test_a_saved_session_whose_text_is_over_the_paste_limit_is_refused_before_tokenizing(monkeypatch):
    from rnnviz import persist
    from rnnviz.checkpoint import CheckpointError
    from rnnviz.config import MAX_TEXT_CHARS

    with np.load(io.BytesIO(dump_trainer(small(), {})), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["text"] = np.array(json.dumps("ab" * (MAX_TEXT_CHARS // 2 + 1)))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    monkeypatch.setattr(persist, "Trainer", lambda *a: pytest.fail("tokenized an over-long text"))
    with pytest.raises(CheckpointError, match=f"limit is {MAX_TEXT_CHARS:,}"):
        persist.load_trainer(buf.getvalue())


def test_odd_json_values_in_extra_fall_back_to_defaults(store):
    token = autosave.new_token()
    autosave.save(token, small(), {"text_label": ["x"], "preset": ["not", "hashable"], "sample_name": {"a": 1}})
    sess = restored_session(token)
    assert sess.trainer.step_count == 2 and sess.preset is None


def test_a_small_playing_session_is_saved_every_play_save_s_a_big_one_every_save_every_s():
    small, big = autosave.SMALL_SAVE_BYTES, autosave.SMALL_SAVE_BYTES + 1
    assert autosave.save_interval(0.001, playing=False, nbytes=small) == 0.0
    assert autosave.save_interval(0.001, playing=True, nbytes=small) == autosave.PLAY_SAVE_S < autosave.SAVE_EVERY_S
    assert autosave.save_interval(0.001, playing=True, nbytes=big) == autosave.SAVE_EVERY_S
    assert autosave.save_interval(0.001, playing=False, nbytes=big) == autosave.SAVE_EVERY_S
    assert autosave.save_interval(1.0, playing=True, nbytes=small) == pytest.approx(1.0 / autosave.SAVE_SHARE)


def test_a_restore_after_a_reconnect_says_what_happened_and_how_old_the_save_is(store, monkeypatch):
    from rnnviz.ui import state

    token = autosave.new_token()
    autosave.save(token, small(), {"saved_at": time.time() - 2.5})
    reload = restored_session(token)
    assert [f.text for f in reload.flashes] == ["Welcome back: your model was restored at step 2."]
    monkeypatch.setattr(state, "reconnected", lambda: True)
    sess = restored_session(token)
    (text,) = [f.text for f in sess.flashes]
    assert text.startswith("The connection to the server was lost and this tab reconnected")
    assert "(step 2, saved 2.5 s ago)" in text or "(step 2, saved 2.6 s ago)" in text
    assert text.count(".") == 2 and "Traceback" not in text      # one sentence ("2.5" has the other dot)
    assert sess.token not in (token, reload.token)
    assert autosave.load(sess.token)[0].step_count == 2         # durable under its new token at once
