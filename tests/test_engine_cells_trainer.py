"""Every cell through the whole engine: Trainer determinism, exact undo, refused divergent steps,
checkpoints and saved sessions, sampling and generation. And a toy cell, registered in this file
alone, that trains, checkpoints and gradient-checks with no other file changed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_engine_checkpoint import changed

import rnnviz
import rnnviz.trainer as trainer_module
from rnnviz.cells import get_cell, register, unregister
from rnnviz.cells.base import Cache, Cell
from rnnviz.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnviz.generation import GenSettings, generate
from rnnviz.persist import dump_trainer, load_trainer
from rnnviz.sample import hidden_states, sample
from rnnviz.trainer import Trainer

TEXT = "the cat sat on the mat. the dog ate the hat! " * 12
CELL_NAMES = ("rnn", "lstm", "gru", "mingru")


def config(cell, **kw):
    base = dict(hidden_size=6, seq_len=8, optimizer="adagrad", lr=0.1, clip="elementwise", cell=cell)
    return rnnviz.TrainConfig(**{**base, **kw}).validate()


def snapshot(tr: Trainer) -> dict:
    return {"theta": tr.state.theta.tobytes(), "h": np.asarray(tr.h).tobytes(), "step": tr.step_count,
            "pos": tr.state.pos, "slots": {k: v.tobytes() for k, v in tr.state.opt.slots.items()}}


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_same_config_gives_bit_identical_runs_and_the_state_has_the_cells_shape(cell):
    a, b = Trainer(TEXT, config(cell)), Trainer(TEXT, config(cell))
    a.step(9)
    for _ in range(9):
        b.step()
    assert snapshot(a) == snapshot(b)
    assert a.h.shape == get_cell(cell).state_shape(6)
    assert a.last.result.dh_norms.shape == (8,)
    assert set(a.last.result.gate_means) == set(get_cell(cell).gate_names)


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("budget", [None, 1])   # 1 byte: a snapshot only now and then, undo replays
def test_undo_is_exact(cell, budget):
    kw = {} if budget is None else {"undo_budget_bytes": budget}
    tr = Trainer(TEXT, config(cell), **kw)
    ref = Trainer(TEXT, config(cell))
    tr.step(12)
    ref.step(7)
    assert tr.undo(5)
    assert snapshot(tr) == snapshot(ref)
    tr.step(2)
    ref.step(2)
    assert snapshot(tr) == snapshot(ref)


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_divergent_step_is_refused_and_changes_nothing(cell, optimizer, monkeypatch):
    tr = Trainer(TEXT, config(cell, optimizer=optimizer, clip="none", lr=1.0))
    tr.step(2)
    norm = float(np.linalg.norm(tr.state.theta))
    # A limit 10× above today's ‖θ‖, and η so large that ‖Δ‖ = η‖g‖ (or Adam's ≈ η√n) passes it:
    # the proposed ‖θ − Δ‖ ≥ ‖Δ‖ − ‖θ‖ is then beyond the limit, whatever the machine's rounding.
    monkeypatch.setattr(trainer_module, "MAX_WEIGHT_NORM", 10 * norm)
    tr.reconfigure(tr.config.with_changes(lr=1e3))
    assert 1e3 * tr.last.clip.global_before > 20 * norm     # the premise, measured
    before, rows = snapshot(tr), len(tr.history)
    assert tr.step() is None and tr.divergence is not None
    assert "weights' norm" in tr.divergence.reason and "Diverged at step 3" in tr.divergence.message()
    assert snapshot(tr) == before and len(tr.history) == rows
    tr.reconfigure(tr.config.with_changes(lr=1e-3))          # a small step is taken again
    assert tr.step() is not None and tr.step_count == 3


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_a_nan_gradient_is_refused(cell):
    tr = Trainer(TEXT, config(cell))
    tr.step()
    before = snapshot(tr)
    theta = np.array(tr.state.theta)
    theta[tr.layout.slices["V"]] = np.nan
    tr.state = tr.state.__class__(**{**tr.state.__dict__, "theta": theta})
    nan_state = snapshot(tr)
    assert tr.step() is None and "not a finite number" in tr.divergence.reason
    assert snapshot(tr) == nan_state != before


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_checkpoint_round_trip_records_the_cell_and_checks_shapes_against_it(cell):
    tr = Trainer(TEXT, config(cell))
    tr.step(3)
    data = save_checkpoint(tr)
    ck = load_checkpoint(data)
    assert ck["config"].cell == cell
    back = Trainer.from_checkpoint(data)
    for k in rnnviz.PARAM_NAMES:
        assert back.params[k].tobytes() == tr.params[k].tobytes()
    assert back.step() is not None
    other = "gru" if cell != "gru" else "lstm"
    cfg = json.dumps({**tr.config.to_dict(), "cell": other})
    with pytest.raises(CheckpointError, match="has shape"):
        load_checkpoint(changed(data, config=np.array(cfg)))


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_saved_session_continues_exactly(cell):
    tr = Trainer(TEXT, config(cell))
    tr.step(5)
    back, _ = load_trainer(dump_trainer(tr))
    assert snapshot(back) == snapshot(tr)
    tr.step(3)
    back.step(3)
    assert snapshot(back) == snapshot(tr)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_sampling_and_generation_read_the_cells_state(cell):
    tr = Trainer(TEXT, config(cell))
    tr.step(4)
    c = get_cell(cell)
    a = sample(tr.params, [1, 2, 3], 20, seed=3, h0=tr.h, cell=cell)
    b = sample(tr.params, [1, 2, 3], 20, seed=3, h0=tr.h, cell=cell)
    assert np.array_equal(a.ids, b.ids) and a.hs.shape == (6, 20)
    assert a.h_last.shape == c.state_shape(6)
    # hs are the h part of the states the cell's own forward pass gives for the same tokens
    ids = np.concatenate([[1, 2, 3], a.ids])
    hs = hidden_states(tr.params, ids, h0=tr.h, cell=cell)
    np.testing.assert_allclose(hs[:, 3:], a.hs, rtol=1e-12, atol=1e-14)
    gen = generate(tr.params, tr.tokenizer, GenSettings(prime="the", length=15), int(tr.data[0]),
                   carried_h=tr.h, cell=cell)
    assert gen.n == 15 and gen.h0.shape == c.state_shape(6)
    np.testing.assert_array_equal(gen.h0, tr.h)


# ----------------------------------------------------------------------------- a toy cell, in this file only
class LinearCell(Cell):
    """h_t = W h_{t−1} + U x_t + b: no nonlinearity at all (a test cell)."""

    name = "toy_linear"
    title = "Linear toy"
    equations = (r"h_t = W h_{t-1} + U x_t + b",)

    def forward(self, params, inputs, s0):
        xs = np.asarray(inputs, dtype=np.intp)
        H = params["W"].shape[1]
        states = np.empty((xs.size + 1, H))
        states[0] = s0
        for t, x in enumerate(xs):
            states[t + 1] = params["W"] @ states[t] + params["U"][:, x] + params["b"]
        return Cache(inputs=xs, s0=s0, hs=states[1:].T, h_prev=states[:-1].T, h_prev_rows=states[:-1],
                     s_last=states[-1].copy())

    def back_step(self, params, cache, t, dS, dA_x, dA_h):
        dA_x[...] = dS
        return dA_x @ params["W"]

    def reference_step(self, params, x, s):
        return params["W"] @ s + params["U"][:, x] + params["b"]

    def init_params(self, vocab_size, hidden_size, *, seed=0, init="uniform", spectral_radius=None, forget_bias=1.0):
        p = super().init_params(vocab_size, hidden_size, seed=seed, init=init)
        p["W"] *= 0.5   # keep the linear recurrence contracting
        return p


@pytest.fixture
def toy():
    cell = register(LinearCell())
    yield cell.name
    unregister(cell.name)


def test_a_toy_cell_registered_here_trains_checkpoints_and_gradient_checks(toy):
    p = rnnviz.init_params(5, 3, cell=toy, seed=1)
    xs, ys = [0, 3, 1, 4, 2], [3, 1, 4, 2, 0]
    for k in (None, 0, 2):
        errors = rnnviz.gradient_check(p, xs, ys, np.full(3, 0.1), k, cell=toy, max_entries=None)
        assert max(errors.values()) < 1e-6, errors
    R = rnnviz.gradient_reach(p, xs, ys, cell=toy)
    assert R.shape == (5, 5)
    cfg = config(toy, lr=0.05)
    a, b = Trainer(TEXT, cfg), Trainer(TEXT, cfg)
    a.step(6)
    b.step(6)
    assert snapshot(a) == snapshot(b) and a.divergence is None
    assert a.last.result.jacobian_norms.shape == (8,)
    res = rnnviz.loss_and_grads(a.params, xs, ys, cell=toy)   # ∂h_t/∂h_{t−1} = W at every step
    np.testing.assert_allclose(res.jacobian_norms, np.linalg.norm(a.params["W"]), rtol=1e-12)
    back = Trainer.from_checkpoint(save_checkpoint(a))
    assert back.config.cell == toy and back.params["W"].tobytes() == a.params["W"].tobytes()
    restored, _ = load_trainer(dump_trainer(a))
    assert snapshot(restored) == snapshot(a)
    assert a.undo(2) and a.step_count == 4
    assert a.spectrum().rho == pytest.approx(np.abs(np.linalg.eigvals(a.params["W"])).max(), rel=1e-9)


def test_unregistered_cells_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="rnn"):
        rnnviz.TrainConfig(cell="toy_linear").validate()
    with pytest.raises(ValueError, match="unknown cell"):
        rnnviz.init_params(5, 3, cell="toy_linear")


def test_step_n_computes_the_diagnostics_of_its_returned_step_only(monkeypatch):
    """Step ×N shows the last step's record; the N − 1 before it are never returned, so their
    diagnostics (Jacobian norms, gates) are not computed."""
    cell = get_cell("lstm")
    calls = []
    real = type(cell).diagnostics
    monkeypatch.setattr(type(cell), "diagnostics", lambda self, p, c: calls.append(1) or real(self, p, c))
    tr = Trainer(TEXT, rnnviz.TrainConfig(cell="lstm", hidden_size=8, seq_len=10, val_fraction=0.0))
    rec = tr.step(5)
    assert tr.step_count == 5 and len(calls) == 1
    assert rec.result.jacobian_norms.shape == (10,) and set(rec.result.gate_means) == {"i", "f", "o"}
    tr.step()
    assert len(calls) == 2                                   # one step: its own diagnostics
