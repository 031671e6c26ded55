"""The session folder shared by several replicas (issue #22): real processes, not threads, write,
restore and evict in one folder at once. Each race is forced to happen at its worst moment (a
process waits for a flag file another one creates), so these tests fail if the protection is gone."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rnnviz import TrainConfig, Trainer
from rnnviz.ui import autosave

ROOT = Path(__file__).resolve().parent.parent
TEXT = "the cat sat on the mat, and the dog sat on the log. " * 20

# What every child process runs first: a small trainer with `steps` steps, and flag-file helpers.
PRELUDE = '''
import os, sys, time
from pathlib import Path
from rnnviz import TrainConfig, Trainer
from rnnviz.ui import autosave
FLAGS = Path(os.environ["FLAGS"])
def trained(steps):
    tr = Trainer(%r, TrainConfig(hidden_size=8, seq_len=10))
    tr.step(steps)
    return tr
def wait_for(name, timeout=60):
    deadline = time.monotonic() + timeout
    while not (FLAGS / name).exists():
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for " + name)
        time.sleep(0.005)
def flag(name):
    (FLAGS / name).touch()
''' % TEXT


@pytest.fixture
def store(tmp_path, monkeypatch):
    root = tmp_path / "sessions"
    flags = tmp_path / "flags"
    flags.mkdir()
    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(root))
    monkeypatch.setenv("FLAGS", str(flags))
    return root


def child(code: str) -> subprocess.Popen:
    """A Python process running PRELUDE + code with this test's session folder (inherited env)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p: subprocess.Popen, timeout: float = 90) -> str:
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, f"child failed ({p.returncode}): {err[-2000:]}"
    return out


def trained(steps: int) -> Trainer:
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=10))
    tr.step(steps)
    return tr


def age(path: Path, seconds: float) -> None:
    os.utime(path, (time.time() - seconds,) * 2)


def test_an_eviction_never_unlinks_a_save_another_process_renamed_over_the_name_it_listed(store):
    """The pruner lists T as the oldest file; before it unlinks, another process saves T afresh.
    The fresh save must survive (without the check under the folder lock, it is deleted)."""
    old, other = autosave.new_token(), autosave.new_token()
    assert autosave.save(old, trained(2), {})
    assert autosave.save(other, trained(2), {})
    age(store / f"{old}.npz", 100)                  # the oldest: the first the cap evicts
    pruner = child('''
        autosave.MAX_STORE_FILES = 1
        real = autosave._evict
        def evict(*a):                              # between the listing and the first unlink:
            flag("listed")                          # let the writer save the oldest token again
            wait_for("written")
            return real(*a)
        autosave._evict = evict
        print(autosave.prune())
    ''')
    writer = child(f'''
        wait_for("listed")
        assert autosave.save({old!r}, trained(5), {{}})
        flag("written")
    ''')
    finish(writer)
    finish(pruner)
    assert autosave.load(old)[0].step_count == 5, "the fresh save was evicted by a decision taken on the old file"
    assert not (store / f"{other}.npz").exists()    # the cap still held: the next oldest went instead


def test_two_replicas_restoring_one_token_fork_two_durable_copies_and_leave_the_original(store):
    token = autosave.new_token()
    assert autosave.save(token, trained(3), {"text_label": "mine", "saved_at": time.time()})
    original = hashlib.sha256((store / f"{token}.npz").read_bytes()).hexdigest()
    code = f'''
        from rnnviz.ui.state import restored_session
        wait_for("go")                              # both restore at the same moment
        sess = restored_session({token!r})
        print(sess.token, sess.trainer.step_count, sess.text_label, flush=True)
        os.kill(os.getpid(), 9)                     # the replica dies before the session changes anything
    '''
    a, b = child(code), child(code)
    time.sleep(0.2)
    (Path(os.environ["FLAGS"]) / "go").touch()
    outs = []
    for p in (a, b):
        out, err = p.communicate(timeout=90)
        assert p.returncode == -signal.SIGKILL, err[-2000:]
        outs.append(out.split())
    (ta, sa, la), (tb, sb, lb) = outs
    assert len({ta, tb, token}) == 3, "two restores continued under one token"
    assert sa == sb == "3" and la == lb == "mine"
    for t in (ta, tb):                              # each copy is durable although its replica died at once
        tr, extra = autosave.load(t)
        assert tr.step_count == 3 and extra["text_label"] == "mine"
    assert hashlib.sha256((store / f"{token}.npz").read_bytes()).hexdigest() == original


def test_the_caps_evict_the_old_file_a_replica_restored_never_the_copy_it_continues_under(store):
    token = autosave.new_token()
    assert autosave.save(token, trained(4), {})
    age(store / f"{token}.npz", 3600)              # saved an hour ago, restored now
    restorer = child(f'''
        from rnnviz.ui.state import restored_session
        print(restored_session({token!r}).token)
    ''')
    new = finish(restorer).strip()
    pruner = child('''
        autosave.MAX_STORE_FILES = 1
        print(autosave.prune())
    ''')
    assert finish(pruner).strip() == "1"
    assert not (store / f"{token}.npz").exists()
    assert autosave.load(new)[0].step_count == 4


def test_a_writer_killed_mid_write_leaves_the_last_whole_save_and_a_temp_file_that_expires(store):
    token = autosave.new_token()
    assert autosave.save(token, trained(2), {})
    writer = child(f'''
        import signal
        real_fdopen = os.fdopen
        class Dying:                                # writes half of the file, then the process is SIGKILLed
            def __init__(self, f): self.f = f
            def __enter__(self): return self
            def __exit__(self, *a): return False
            def write(self, b):
                self.f.write(b[: len(b) // 2]); self.f.flush()
                flag("half")
                os.kill(os.getpid(), signal.SIGKILL)
        os.fdopen = lambda fd, mode="r", *a, **k: Dying(real_fdopen(fd, mode, *a, **k)) if "w" in mode \\
            else real_fdopen(fd, mode, *a, **k)
        autosave.save({token!r}, trained(6), {{}})
    ''')
    writer.communicate(timeout=90)
    assert writer.returncode == -signal.SIGKILL
    temps = [p for p in store.iterdir() if p.name.endswith(".tmp")]
    assert len(temps) == 1 and temps[0].stat().st_size > 0       # the half-written file it left
    reader = child(f'''
        print(autosave.load({token!r})[0].step_count)
    ''')
    assert finish(reader).strip() == "2"            # another process reads the last whole save
    # The size caps never take a temp file, even one a minute old: its writer may be alive on a slow volume.
    age(temps[0], 60)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(autosave, "MAX_STORE_FILES", 1)
        assert autosave.prune(keep=store / f"{token}.npz") == 0 and temps[0].exists()
    assert autosave.prune(now=time.time() + autosave.TMP_EXPIRE_S) == 1       # a dead writer's, once expired
    assert not temps[0].exists() and autosave.load(token)[0].step_count == 2
