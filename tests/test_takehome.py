"""Take it home (rnnviz.takehome): the downloaded script runs with NumPy alone and continues exactly as the engine.

Each script runs in a subprocess of a venv that has NumPy and nothing else (made once per test session), in
Python's isolated mode (-I: no PYTHONPATH, no user site, not even the script's folder on sys.path), from a
folder holding only the unzipped download. Its numbers are compared with the engine's on the same machine in
the same run (never with stored numbers)."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnviz import TrainConfig, Trainer, takehome
from rnnviz.bptt import loss_and_grads
from rnnviz.cells import register, unregister
from rnnviz.cells.base import Cache, Cell
from rnnviz.config import MAX_CHAR_VOCAB, MAX_HIDDEN, MAX_TEXT_CHARS, MAX_VH, MAX_VOCAB_CAP
from rnnviz.params import PARAM_NAMES, param_shapes
from rnnviz.sample import sample as engine_sample

TEXT = 'the cat sat on the mat. the dog ate the hat! (a "quote": it is.)\n' * 10
SMALL = dict(hidden_size=6, seq_len=8)
# Every cell at character level; word level and truncation; every optimizer and clipping mode at least once.
CONFIGS = {
    "rnn-adagrad-elementwise": dict(cell="rnn"),
    "lstm-adam-norm": dict(cell="lstm", optimizer="adam", lr=0.01, clip="norm", clip_value=1.0),
    "gru-rmsprop-none": dict(cell="gru", optimizer="rmsprop", lr=0.01, clip="none"),
    "mingru-momentum": dict(cell="mingru", optimizer="momentum", lr=0.05),
    "rnn-word-sgd-truncated": dict(cell="rnn", level="word", optimizer="sgd", lr=0.1, truncate=2, clip="norm"),
    "lstm-truncated-k1": dict(cell="lstm", truncate=1),
    "gru-word-adam-truncated-k0": dict(cell="gru", level="word", optimizer="adam", lr=0.01, truncate=0),
    "lstm-race-settings": dict(cell="lstm", optimizer="adam", lr=0.01, adam_beta2=0.99, forget_bias=3.0, clip="norm"),
}


def config(**kw) -> TrainConfig:
    return TrainConfig(**{**SMALL, **kw}).validate()


@pytest.fixture(scope="session")
def numpy_python(tmp_path_factory) -> str:
    """A Python with NumPy and nothing else: a fresh venv with `pip install numpy` (PyPI), once per session.
    Under CI=true any failure fails the tests; locally, a venv that cannot be made skips them, saying why."""
    where = tmp_path_factory.mktemp("numpy-only-venv")
    ci = os.environ.get("CI", "").lower() == "true"
    try:
        venv.EnvBuilder(with_pip=True).create(where)
        py = str(where / "bin" / "python")
        subprocess.run([py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "numpy"],
                       check=True, capture_output=True, text=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        why = f"a venv with NumPy alone could not be made: {e} {getattr(e, 'stderr', '') or ''}"
        if ci:
            pytest.fail(why)
        pytest.skip(why)
    probe = subprocess.run([py, "-I", "-c", "import numpy\ntry:\n import rnnviz\nexcept ImportError:\n print('alone')"],
                           capture_output=True, text=True, timeout=60, env=_clean_env())
    assert probe.stdout.strip() == "alone", probe.stderr   # NumPy is there, rnnviz is not
    return py


def _clean_env() -> dict:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "OPENBLAS_NUM_THREADS": "1",
            "PYTHONIOENCODING": "utf-8"}


def unpack(trainer: Trainer, where: Path) -> Path:
    """The download unzipped into ``where``; returns the script's path."""
    with zipfile.ZipFile(io.BytesIO(takehome.zip_bytes(trainer))) as zf:
        zf.extractall(where)
    return where / takehome.FOLDER / takehome.SCRIPT_NAME


def run(py: str, script: Path, *args: str) -> subprocess.CompletedProcess:
    p = subprocess.run([py, "-I", str(script), *args], capture_output=True, text=True, timeout=120,
                       cwd=script.parent.parent, env=_clean_env())
    assert p.returncode == 0, p.stderr
    return p


def twins(cfg: TrainConfig, steps: int) -> tuple[Trainer, Trainer]:
    """Two trainers at the same step (same seed and config: the same state, bit for bit)."""
    a, b = Trainer(TEXT, cfg), Trainer(TEXT, cfg)
    a.step(steps)
    b.step(steps)
    return a, b


# ---------------------------------------------------------------------------- continuing exactly
@pytest.mark.parametrize("kw", CONFIGS.values(), ids=CONFIGS.keys())
def test_the_script_continues_exactly_as_the_engine(numpy_python, tmp_path, kw):
    cfg = config(**kw)
    tr, twin = twins(cfg, 5)
    out = json.loads(run(numpy_python, unpack(tr, tmp_path), "--check").stdout)
    xs, ys, h0 = tr.next_window()
    engine_next = loss_and_grads(tr.params, xs, ys, h0, cfg.effective_truncate, cell=cfg.cell).loss
    assert out["loss"] == pytest.approx(engine_next, rel=1e-9)
    first = twin.step()
    assert first.loss == engine_next                     # the premise: the next-step loss is that window's
    np.testing.assert_allclose(out["theta"], twin.state.theta, rtol=1e-9, atol=1e-12)
    assert out["loss_after"] == pytest.approx(twin.step().loss, rel=1e-9)
    ids = out["sample"]
    assert len(ids) == 20 and all(0 <= i < tr.vocab_size for i in ids)
    assert out["text"] == tr.tokenizer.decode(ids)      # the script's decoder is rnnviz.tokenize's
    if cfg.level == "char":
        assert set(out["text"]) <= set(tr.tokenizer.vocab)


def test_at_the_texts_end_the_script_wraps_to_the_start_with_a_fresh_state(numpy_python, tmp_path):
    cfg = config(cell="lstm", optimizer="adam", lr=0.01)
    tr = Trainer(TEXT, cfg)
    tr.step(tr.windows_per_pass())
    assert tr.state.pos + cfg.seq_len + 1 >= tr.data.size and np.any(tr.h != 0)   # the premise: the next step wraps
    out = json.loads(run(numpy_python, unpack(tr, tmp_path), "--check").stdout)
    xs, ys, h0 = tr.next_window()
    assert not np.any(h0)
    assert out["loss"] == pytest.approx(loss_and_grads(tr.params, xs, ys, h0, cell=cfg.cell).loss, rel=1e-9)
    tr.step()
    np.testing.assert_allclose(out["theta"], tr.state.theta, rtol=1e-9, atol=1e-12)


def test_training_on_and_saving_reach_the_engines_state_with_the_learning_rate_halved(numpy_python, tmp_path):
    """--steps N --save: N more steps (across the text's end, with η halving on) written back into the .npz,
    which then holds what the Trainer holds after the same N steps."""
    cfg = config(level="word", optimizer="adagrad", lr=0.5, lr_halving=True, halve_every=1, truncate=3)
    tr, twin = twins(cfg, 4)
    n = tr.windows_per_pass() + 3
    script = unpack(tr, tmp_path)
    p = run(numpy_python, script, "--steps", str(n), "--sample", "5", "--every", "1", "--save")
    twin.step(n)
    assert twin.state.lr_scale < tr.state.lr_scale          # the premise: η was halved on the way
    printed = [line for line in p.stdout.splitlines() if line.startswith("step ")]
    assert [int(line.split()[1].rstrip(":")) for line in printed] == list(range(5, 5 + n))
    shown = [float(line.split()[3]) for line in printed]
    assert shown == pytest.approx(twin.history.column("loss")[-n:], abs=6e-5)   # printed to 4 decimals
    saved = np.load(script.with_suffix(".npz"), allow_pickle=False)
    for k, v in twin.layout.views(twin.state.theta).items():
        np.testing.assert_allclose(saved[k], v, rtol=1e-9, atol=1e-12)
    for k, v in twin.layout.views(twin.state.opt.slots["m"]).items():
        np.testing.assert_allclose(saved[f"m_{k}"], v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(saved["h"], twin.h, rtol=1e-9, atol=1e-12)
    assert (int(saved["step"]), int(saved["t"]), int(saved["pos"])) == (twin.step_count, twin.state.opt.t, twin.state.pos)
    assert float(saved["lr_scale"]) == twin.state.lr_scale
    again = json.loads(run(numpy_python, script, "--check").stdout)   # and the saved model goes on from there
    xs, ys, h0 = twin.next_window()
    assert again["loss"] == pytest.approx(loss_and_grads(twin.params, xs, ys, h0, 3, cell="rnn").loss, rel=1e-9)
    twin.step()
    np.testing.assert_allclose(again["theta"], twin.state.theta, rtol=1e-9, atol=1e-12)


def test_with_no_arguments_it_samples_trains_and_samples_and_greedy_sampling_is_the_engines(numpy_python, tmp_path):
    cfg = config(cell="gru", optimizer="adam", lr=0.01)
    tr = Trainer(TEXT, cfg)
    tr.step(30)
    script = unpack(tr, tmp_path)
    p = run(numpy_python, script)
    lines = p.stdout.splitlines()
    steps = [int(line.split()[1].rstrip(":")) for line in lines if line.startswith("step ")]
    assert steps == list(range(100, 30 + takehome.DEFAULT_STEPS + 1, takehome.DEFAULT_EVERY))
    assert [line for line in lines if line.startswith("--- sampled at step")] == [
        "--- sampled at step 30:", f"--- sampled at step {30 + takehome.DEFAULT_STEPS}:"]
    greedy = run(numpy_python, script, "--steps", "0", "--sample", "40", "--temperature", "0").stdout
    head, text = greedy.split(":\n", 1)
    expect = engine_sample(tr.params, [tr.data[tr.state.pos]], 40, greedy=True, h0=tr.h, cell="gru")
    assert head == "--- sampled at step 30" and text == tr.tokenizer.decode(expect.ids) + "\n"
    bad = subprocess.run([numpy_python, "-I", str(script), "--temperature", "-1"], capture_output=True, text=True,
                         timeout=60, env=_clean_env())
    assert bad.returncode == 2 and "the temperature must be 0 (greedy) or more" in bad.stderr


# ---------------------------------------------------------------------------- what the files are
def imports_of(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module.split(".")[0])
    return found


def test_the_vanilla_script_is_min_char_rnns_length_and_reads_as_the_equation():
    tr = Trainer(TEXT, TrainConfig())          # the defaults: H = 100, T = 25, Adagrad, clipping ±5, full BPTT
    script = takehome.export(tr).script
    assert len(script.splitlines()) <= 150
    assert "np.tanh(U[:, x] + W @ h + b)" in script
    assert imports_of(script) <= set(sys.stdlib_module_names) | {"numpy"}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "mingru"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_every_script_compiles_imports_only_numpy_and_holds_only_what_is_in_use(cell, optimizer):
    for clip, truncate, level in (("none", None, "char"), ("elementwise", 2, "word"), ("norm", None, "char")):
        tr = Trainer(TEXT, config(cell=cell, optimizer=optimizer, clip=clip, truncate=truncate, level=level))
        script = takehome.export(tr).script
        compile(script, takehome.SCRIPT_NAME, "exec")
        assert imports_of(script) <= set(sys.stdlib_module_names) | {"numpy"}
        assert script.count("def update(") == 1 and script.count("def step(") == 1
        assert ("np.clip(" in script) == (clip == "elementwise")
        assert ("norm > clip" in script) == (clip == "norm")
        assert ("k = 2 " in script) == (truncate == 2)
        assert (f"npz[\"{'v' if optimizer == 'momentum' else 'm'}_\"" in script) == (optimizer != "sgd")
        assert len(script.splitlines()) <= 200


def test_the_npz_is_plain_arrays_holding_the_trainers_state():
    tr = Trainer(TEXT, config(cell="lstm", optimizer="adam", lr=0.01))
    tr.step(3)
    with zipfile.ZipFile(io.BytesIO(takehome.zip_bytes(tr))) as zf:
        names = sorted(zf.namelist())
        npz = np.load(io.BytesIO(zf.read(f"{takehome.FOLDER}/{takehome.NPZ_NAME}")), allow_pickle=False)
        readme = zf.read(f"{takehome.FOLDER}/README.txt").decode()
    assert names == [f"{takehome.FOLDER}/{n}" for n in ("README.txt", takehome.NPZ_NAME, takehome.SCRIPT_NAME)]
    assert len(readme.splitlines()) == 5 and "python rnnviz_model.py" in readme
    assert all(npz[k].dtype != object for k in npz.files)
    for k in PARAM_NAMES:
        assert npz[k].tobytes() == tr.params[k].tobytes()
    for slot, vec in tr.state.opt.slots.items():
        for k, v in tr.layout.views(vec).items():
            assert npz[f"{slot}_{k}"].tobytes() == v.tobytes()
    assert npz["h"].shape == (2, 6) and npz["h"].tobytes() == tr.h.tobytes()
    assert (int(npz["step"]), int(npz["t"]), int(npz["pos"])) == (3, 3, tr.state.pos)
    assert np.array_equal(npz["data"], tr.data) and json.loads(str(npz["vocab"])) == tr.tokenizer.vocab
    assert json.loads(str(npz["settings"])) == tr.config.to_dict()


def test_the_zip_bound_covers_the_largest_model_the_limits_allow():
    """MAX_ZIP_BYTES is derived in rnnviz.takehome from the config limits; here the largest models those limits
    allow are sized from their shapes (nothing allocated): the weights, Adam's two slots, the longest text."""
    for cell, V in (("lstm", MAX_CHAR_VOCAB), ("lstm", MAX_VOCAB_CAP), ("gru", MAX_VOCAB_CAP)):
        H = min(MAX_HIDDEN, MAX_VH // V)
        weights = sum(int(np.prod(s)) for s in param_shapes(V, H, cell).values())
        assert 3 * 8 * weights + 2 * MAX_TEXT_CHARS < takehome.MAX_ZIP_BYTES
    assert takehome.MAX_ZIP_BYTES < 400 * 2**20


# ---------------------------------------------------------------------------- a cell without a script
class ToyCell(Cell):
    """h_t = W h_{t−1} + U x_t + b (a test cell with no script of its own)."""

    name = "toy_takehome"
    title = "Toy"

    def forward(self, params, inputs, s0):
        xs = np.asarray(inputs, dtype=np.intp)
        states = np.empty((xs.size + 1, params["W"].shape[1]))
        states[0] = s0
        for t, x in enumerate(xs):
            states[t + 1] = 0.5 * (params["W"] @ states[t]) + params["U"][:, x] + params["b"]
        return Cache(inputs=xs, s0=s0, hs=states[1:].T, h_prev=states[:-1].T, h_prev_rows=states[:-1],
                     s_last=states[-1].copy())

    def back_step(self, params, cache, t, dS, dA_x, dA_h):
        dA_x[...] = dS
        return 0.5 * (dA_x @ params["W"])

    def reference_step(self, params, x, s):
        return 0.5 * (params["W"] @ s) + params["U"][:, x] + params["b"]


def test_a_cell_without_a_script_is_refused_with_a_clear_message():
    cell = register(ToyCell())
    try:
        tr = Trainer(TEXT, config(cell=cell.name, lr=0.01))
        assert tr.step(2) is not None
        for build in (takehome.check, takehome.export, takehome.zip_bytes):
            with pytest.raises(ValueError, match="the Toy cell has no NumPy script"):
                build(tr)
    finally:
        unregister(cell.name)
