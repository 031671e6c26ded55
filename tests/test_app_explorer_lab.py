"""AppTest of the BPTT explorer and the vanishing/exploding lab: both run on the default state and
after training steps, their controls change state, and the numbers they show are the engine's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import rnnviz
from rnnviz.ui.state import SESSION_KEY

APP = str(Path(__file__).resolve().parent.parent / "app.py")
EXPLORER, LAB = "pages/explorer.py", "pages/lab.py"


def open_page(page: str, steps: int = 0) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if steps:
        session(at).trainer.step(steps)
    at.switch_page(page).run()
    assert_clean(at)
    return at


def session(at: AppTest):
    return at.session_state[SESSION_KEY]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def explorer_state(at: AppTest) -> dict:
    return session(at).extras["explorer_state"]


def lab_state(at: AppTest) -> dict:
    return session(at).extras["lab_state"]


def chart_count(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


# ----------------------------------------------------------------------------- explorer
def test_explorer_runs_on_the_default_state_and_starts_at_t_equals_T():
    at = open_page(EXPLORER)
    T = session(at).config.seq_len
    assert explorer_state(at)["t"] == T - 1
    assert chart_count(at) == 3            # the graph and the two dW heatmaps
    assert any("BPTT explorer" in m.value for m in at.markdown)
    assert at.button(key="explorer_forward").disabled and not at.button(key="explorer_back").disabled


def test_back_forward_and_the_slider_move_the_backward_pass():
    at = open_page(EXPLORER)
    T = session(at).config.seq_len
    at.button(key="explorer_back").click().run()
    at.button(key="explorer_back").click().run()
    assert_clean(at)
    assert explorer_state(at)["t"] == T - 3
    assert at.slider(key=f"explorer_t_{session(at).generation}").value == T - 2   # shown 1-based
    at.button(key="explorer_forward").click().run()
    assert explorer_state(at)["t"] == T - 2
    at.slider(key=f"explorer_t_{session(at).generation}").set_value(1).run()
    assert explorer_state(at)["t"] == 0
    assert at.button(key="explorer_back").disabled
    assert any("At t = 1" in m.value for m in at.markdown)
    at.button(key="explorer_restart").click().run()
    assert explorer_state(at)["t"] == T - 1
    assert_clean(at)


def test_the_terms_table_shows_the_engines_gradient():
    """The page's 'whole gradient' column is ‖loss_and_grads(next window)‖ per parameter, and its
    running column at t = 1 is the same: the per-step terms add up to the gradient."""
    at = open_page(EXPLORER, steps=3)
    at.slider(key=f"explorer_t_{session(at).generation}").set_value(1).run()
    assert_clean(at)
    tr = session(at).trainer
    grads = rnnviz.loss_and_grads(tr.params, *tr.next_window(), tr.config.effective_truncate).grads
    table = at.dataframe[0].value
    expected = [np.linalg.norm(grads[n]) for n in ("W", "U", "b", "V", "c")]
    np.testing.assert_allclose(table["‖whole gradient (t = 1…T)‖"], expected, rtol=1e-10)
    np.testing.assert_allclose(table["‖sum of steps 1…25‖"], expected, rtol=1e-10)


def test_choosing_k_shows_the_truncation_gap():
    at = open_page(EXPLORER)
    assert not any("k = 4" in m.value for m in at.markdown)
    at.select_slider(key=f"explorer_k_{session(at).generation}").set_value(4).run()
    assert_clean(at)
    assert explorer_state(at)["k"] == 4
    assert chart_count(at) == 4            # + full vs truncated ‖∂L/∂h_t‖
    tr = session(at).trainer
    full = rnnviz.loss_and_grads(tr.params, *tr.next_window()).grads
    trunc = rnnviz.loss_and_grads(tr.params, *tr.next_window(), 4).grads
    gap = next(d.value for d in at.dataframe if "‖g_k − g‖" in d.value.columns)
    assert gap["‖g_k − g‖"].iloc[1] == pytest.approx(np.linalg.norm(trunc["W"] - full["W"]), rel=1e-10)
    assert gap["‖g_k − g‖"].iloc[3] == 0.0        # dV is not changed by truncation
    # T − 1 means full BPTT again
    at.select_slider(key=f"explorer_k_{session(at).generation}").set_value(24).run()
    assert explorer_state(at)["k"] is None and chart_count(at) == 3


def test_gradient_check_button_shows_a_small_error_and_its_time():
    at = open_page(EXPLORER, steps=2)
    at.button(key="explorer_gradcheck_btn").click().run()
    assert_clean(at)
    stored = session(at).extras["explorer_gradcheck"][3]
    assert set(stored["errors"]) == {"U", "W", "V", "b", "c"}
    assert max(stored["errors"].values()) < 1e-6
    assert stored["seconds"] < 5
    assert any("Checked 60 random entries" in c.value for c in at.caption)
    assert chart_count(at) == 4


def test_explorer_follows_the_trainer_after_steps_and_a_new_model():
    at = open_page(EXPLORER)
    at.button(key="explorer_back").click().run()
    sess = session(at)
    sess.trainer.step(5)
    at.run()
    assert_clean(at)
    assert explorer_state(at)["t"] == sess.config.seq_len - 2    # the position is kept across steps
    assert any("model at step 5" in c.value for c in at.caption)
    at.select_slider(key=f"explorer_k_{sess.generation}").set_value(2).run()
    assert explorer_state(at)["k"] == 2 and sess.config.truncate is None    # exploring k leaves the trainer alone
    sess.apply_config(sess.config.with_changes(truncate=6))                # k changed in the sidebar: followed
    at.run()
    assert explorer_state(at)["k"] == 6
    assert at.select_slider(key=f"explorer_k_{sess.generation}").value == 6
    sess.apply_config(sess.config.with_changes(seq_len=8, truncate=3))   # a new model: state starts over
    at.run()
    assert_clean(at)
    assert explorer_state(at)["t"] == 7 and explorer_state(at)["k"] == 3


# ----------------------------------------------------------------------------- lab
def test_lab_runs_on_the_default_state():
    at = open_page(LAB)
    assert chart_count(at) == 8            # incl. the local Jacobian and ρ(W) over training; the twins' charts appear
                                           # after their first step
    assert lab_state(at)["twin"].steps == 0
    assert any("Spectral radius" in m.label for m in at.metric)


def test_twin_buttons_step_both_and_restart():
    at = open_page(LAB)
    at.button(key="lab_twin_step_1").click().run()
    assert lab_state(at)["twin"].steps == 1 and chart_count(at) == 10
    at.button(key="lab_twin_step_10").click().run()
    run = lab_state(at)["twin"]
    assert run.steps == 11 and len(run.a.loss) == len(run.b.loss) == 11
    assert_clean(at)
    at.button(key="lab_twin_restart").click().run()
    assert lab_state(at)["twin"].steps == 0


def test_twin_setting_and_start_choices_rebuild_the_twins():
    at = open_page(LAB, steps=4)
    gen = session(at).generation
    at.radio(key=f"lab_twin_setting_{gen}").set_value("truncate").run()
    run = lab_state(at)["twin"]
    assert run.setting == "truncate" and run.a.label == "full BPTT" and run.b.label.startswith("truncated")
    at.radio(key=f"lab_twin_from_{gen}").set_value("current").run()
    assert_clean(at)
    run = lab_state(at)["twin"]
    assert run.start_step == 4
    assert np.array_equal(run.a.trainer.params["W"], session(at).trainer.params["W"])


def test_lab_after_steps_shows_the_current_model():
    at = open_page(LAB, steps=20)
    tr = session(at).trainer
    assert any("step 20" in c.value for c in at.caption)
    rho = float(at.metric[0].value)
    assert rho == pytest.approx(rnnviz.spectral_radius_of(tr.params["W"]), abs=5e-4)
    R = session(at).extras["lab_reaches"][3]["h"]
    np.testing.assert_allclose(R, rnnviz.gradient_reach(tr.params, *tr.next_window()), rtol=1e-12)
