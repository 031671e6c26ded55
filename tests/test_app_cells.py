"""AppTest: every page runs for every cell (no exception, no error box), after steps too, and the
Lab's race of cells steps all three models."""

from __future__ import annotations

import pytest

from rnnviz.cells import CELLS

from apptest_helpers import session, start

PAGES = ("train", "explorer", "lab", "generate")
CELL_NAMES = ("rnn", "lstm", "gru", "mingru")


def _with_cell(cell: str, steps: int = 3):
    at = start()
    sess = session(at)
    assert sess.apply_config(sess.config.with_changes(cell=cell, hidden_size=16, seq_len=12))
    sess.trainer.step(steps)
    return at


def _clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_for_every_cell(page, cell):
    assert cell in CELLS
    at = _with_cell(cell)
    at.switch_page(f"pages/{page}.py").run()
    _clean(at)
    assert session(at).trainer.config.cell == cell


def test_lab_race_of_cells_steps_three_models():
    at = _with_cell("gru")
    at.switch_page("pages/lab.py").run()
    gen = session(at).generation
    at.radio(key=f"lab_twin_setting_{gen}").set_value("cell").run()
    _clean(at)
    at.button(key="lab_race_step_10").click().run()
    _clean(at)
    race = session(at).extras["lab_state"]["race"]
    assert race.steps == 10 and set(race.racers) == set(CELL_NAMES)
    assert any(m.value.startswith("After 10 steps") for m in at.markdown)
    # The reach panels: one per racer through h, and the LSTM's cell state c beside its h.
    heading = next(m.value for m in at.markdown if m.value.startswith("**Gradient reach of each model**"))
    assert "‖∂L_t/∂c_k‖ for LSTM through c" in heading
    assert any("LSTM: c is the cell state" in c.value for c in at.caption)


@pytest.mark.parametrize("cell, parts, gates", [("rnn", False, False), ("lstm", True, True), ("gru", False, True)])
def test_train_page_shows_the_cells_state_path_and_gates(cell, parts, gates):
    at = _with_cell(cell)
    at.switch_page("pages/train.py").run()
    _clean(at)
    text = " ".join(m.value for m in at.markdown)
    title = CELLS[cell].title
    assert (f"The {title}'s state path" in text) == parts
    assert (f"The {title}'s gates" in text) == gates
    if gates:
        res = session(at).trainer.last.result
        g = next(iter(res.gate_means))
        assert any(f"{g}: mean {res.gate_means[g].mean():.2f}" in c.value for c in at.caption)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_the_labs_saturation_metric_names_what_it_counts(cell):
    """The metric counts the cell's own saturated quantity (tanh(c_t) for the LSTM, n_t for the GRU)
    while the histogram shows |h|: the label and the caption say so, so two numbers never disagree unexplained."""
    at = _with_cell(cell)
    at.switch_page("pages/lab.py").run()
    _clean(at)
    q = CELLS[cell].saturation_of
    assert any(m.label.startswith(f"Saturated units (|{q}| > 0.95)") for m in at.metric)
    explained = any("so the metric above" in c.value for c in at.caption)
    assert explained == (q != "h_t")
