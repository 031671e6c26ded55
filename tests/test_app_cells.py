"""AppTest: every page runs for every cell (no exception, no error box), after steps too; the race page
steps every cell's model, on its own task or on the sidebar's model."""

from __future__ import annotations

import pytest

from rnnviz.cells import CELLS
from rnnviz.race import LONGMEM_SAMPLE
from rnnviz.samples import read_sample
from rnnviz.ui.race_play import RACE_KEY

from apptest_helpers import session, start

PAGES = ("train", "explorer", "lab", "generate", "race")
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


def test_race_page_steps_every_cell_and_reads_the_scores():
    at = start("race")
    _clean(at)
    race = at.session_state[RACE_KEY]["race"]
    assert race.steps == 0 and set(race.racers) == set(CELL_NAMES)
    assert any("Step 0: every model is untrained" in h.proto.body for h in at.html)
    at.button(key="race_step_50").click().run()
    _clean(at)
    race = at.session_state[RACE_KEY]["race"]
    assert race.steps == 50
    sentence = next(h.proto.body for h in at.html if "After 50 race steps" in h.proto.body)
    for row in race.summary():   # the sentence reads the engine's scores
        assert f"{row['label']} {row['accuracy']:.0%} ({row['correct']} of {row['n']}" in sentence
    # The reach panels: one per racer through h, and the LSTM's cell state c beside its h; the caption reads them.
    assert any("LSTM through c:" in c.value and "steps back" in c.value for c in at.caption)
    assert any("LSTM: c is the cell state" in c.value for c in at.caption)


def test_race_page_races_with_the_sidebars_settings_and_restarts_with_them():
    at = _with_cell("gru")
    at.switch_page("pages/race.py").run()
    at.radio(key="race_source").set_value("model").run()
    _clean(at)
    race = at.session_state[RACE_KEY]["race"]
    assert race.config.hidden_size == 16 and race.config.seq_len == 12      # the sidebar's settings
    assert all(rc.trainer.text == read_sample(LONGMEM_SAMPLE) for rc in race.racers.values())   # the race's own text
    sess = session(at)
    assert sess.apply_config(sess.config.with_changes(lr=0.02))   # a live setting changes the race too
    at.run()
    _clean(at)
    assert at.session_state[RACE_KEY]["race"].config.lr == 0.02
    assert sess.apply_config(sess.config.with_changes(level="word"))   # markers are no tokens of their own
    at.run()
    _clean(at)
    assert any("score is not defined" in i.value for i in at.info)


def test_race_seed_restarts_the_lecture_race():
    at = start("race")
    at.button(key="race_step_50").click().run()
    at.number_input(key="race_seed").set_value(3).run()
    _clean(at)
    race = at.session_state[RACE_KEY]["race"]
    assert race.steps == 0 and race.config.seed == 3


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
