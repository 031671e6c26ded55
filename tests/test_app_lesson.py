"""AppTest: the lesson page walked chapter by chapter. Every chapter is set up, its question answered with each
of its choices in turn (and skipped), its action run, and the reveal's number compared with the engine's on the
same session; the exit ticket is answered and scored; ?lesson=N opens a chapter and a bad N says so; the progress
rides along with the session's autosave (a reload keeps it)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import rnnviz.lesson as lesson_pkg
from rnnviz.bptt import loss_and_grads
from rnnviz.explain_cells import cell_trace
from rnnviz.lesson import CHAPTERS, KEYS, TICKET
from rnnviz.lesson.chapters import REACH_D, TRUNCATE_K
from rnnviz.truncation import truncation_gap
from rnnviz.ui.race_play import RACE_KEY
from rnnviz.ui.state import restored_session
from rnnviz.vanish import window_reach

from apptest_helpers import APP, TIMEOUT, session

RACE_N = 30   # the race chapter's action shortened for the test (its real length is RACE_STEPS)


@pytest.fixture(autouse=True)
def short_race(monkeypatch):
    """The page reads rnnviz.lesson.CHAPTERS at every run: give it a race chapter of RACE_N steps."""
    short = tuple(dataclasses.replace(c, action=dataclasses.replace(c.action, n=RACE_N)) if c.setup.race else c
                  for c in CHAPTERS)
    monkeypatch.setattr(lesson_pkg, "CHAPTERS", short)


def open_lesson(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/lesson.py").run()
    clean(at)
    return at


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def go(at: AppTest, i: int) -> None:
    session(at).lesson.chapter = i
    at.run()
    clean(at)


def engine_value(key: str, at: AppTest) -> float:
    """The number the chapter's question asks about, computed here from the engine on the session's model."""
    sess = session(at)
    tr = sess.trainer
    if key == "window":
        return float(tr.history.column("loss")[0])
    if key == "bptt":
        tc = cell_trace(tr.params, *tr.next_window(), cell=tr.config.cell)
        return tc.term_norms(tc.T - 1)["W"] / float(np.linalg.norm(loss_and_grads(tr.params, *tr.next_window()).grads["W"]))
    if key == "two":
        res = loss_and_grads(tr.params, *tr.next_window())
        return float(res.dh_norms[0] / res.dh_norms[-1])
    if key == "vanish":
        return float(window_reach(tr.params, *tr.next_window())[0][REACH_D])
    if key == "explode":
        return float(tr.history.column("grad_norm")[-20:].max())
    if key == "clip":
        return float(tr.history.column("clipped")[-20:].sum())
    if key == "trunc":
        return truncation_gap(tr.params, *tr.next_window(), TRUNCATE_K)["all"].rel_error
    if key == "optim":
        run = sess.extras["lesson_twin"]
        return float(np.mean(run.series(run.a)["loss"][-20:]) - np.mean(run.series(run.b)["loss"][-20:]))
    if key == "cure":
        race = at.session_state[RACE_KEY]["race"]
        assert race.steps == RACE_N
        return float(session(at).lesson.reveals[key]["band"])   # a kind, not an amount: the band is the answer
    raise KeyError(key)


def answer(at: AppTest, i: int, choice: int | None) -> dict:
    """Set chapter i up, lock in `choice` (None: skip), run its action; returns the reveal."""
    ch = CHAPTERS[i]
    at.button(key=f"lesson_setup_{ch.key}").click().run()
    clean(at)
    if choice is None:
        at.button(key=f"lesson_skip_{ch.key}").click().run()
    else:
        at.radio(key=f"lesson_q_{ch.key}").set_value(choice).run()
        at.button(key=f"lesson_lock_{ch.key}").click().run()
    clean(at)
    assert not at.button(key=f"lesson_act_{ch.key}").disabled   # the action opens only once committed
    at.button(key=f"lesson_act_{ch.key}").click().run()
    clean(at)
    return session(at).lesson.reveals[ch.key]


def reveal_text(at: AppTest) -> str:
    return next(h.proto.body for h in at.html if "rv-reveal" in h.proto.body and "Your run" in h.proto.body)


@pytest.mark.parametrize("i", range(len(CHAPTERS)), ids=[c.key for c in CHAPTERS])
def test_every_chapter_with_every_choice(i):
    ch = CHAPTERS[i]
    at = open_lesson()
    go(at, i)
    assert at.button(key=f"lesson_setup_{ch.key}")            # before the set-up: only the text and the button
    with pytest.raises(KeyError):
        at.button(key=f"lesson_act_{ch.key}")
    at.button(key=f"lesson_setup_{ch.key}").click().run()
    clean(at)
    assert at.button(key=f"lesson_act_{ch.key}").disabled      # no action before a prediction
    n_choices = len(at.radio(key=f"lesson_q_{ch.key}").options)
    for choice in [*range(n_choices), None]:
        r = answer(at, i, choice)
        assert r["prediction"] == choice and 0 <= r["band"] < n_choices
        assert r["value"] == pytest.approx(engine_value(ch.key, at), rel=1e-9, abs=1e-12)
        text = reveal_text(at)
        assert r["shown"] in text.replace("&#x27;", "'") or r["shown"] in text
        if choice is None:
            assert "You skipped the prediction" in text
        elif choice == r["band"]:
            assert "Your prediction was right" in text
        else:
            assert "You predicted" in text and "Your prediction was right" not in text
        assert at.button(key=f"lesson_act_{ch.key}").disabled   # one action per attempt: Set it up starts again


def test_changing_the_setup_under_a_chapter_is_noticed():
    at = open_lesson()
    at.button(key="lesson_setup_window").click().run()
    sess = session(at)
    assert sess.apply_config(sess.config.with_changes(lr=0.02))
    at.run()
    clean(at)
    assert any("You have changed the set-up since" in h.proto.body for h in at.html)
    with pytest.raises(KeyError):
        at.button(key="lesson_act_window")                     # the chapter waits for its set-up again


def test_the_exit_ticket_scores_from_memory():
    at = open_lesson()
    go(at, len(CHAPTERS))
    for j, q in enumerate(TICKET):
        at.radio(key=f"lesson_ticket_{j}").set_value(q.answer if j % 2 == 0 else (q.answer + 1) % len(q.choices))
    at.button(key="lesson_ticket_check").click().run()
    clean(at)
    right = sum(1 for j in range(len(TICKET)) if j % 2 == 0)
    assert any(f"Your score: {right} of {len(TICKET)}" in h.proto.body for h in at.html)
    assert sum("Right." in c.value for c in at.caption) == right      # each answer gets its explanation
    assert any("rnnviz_model.zip" in c.value for c in at.caption)      # take it home: the NumPy script's download
    at.button(key="lesson_ticket_again").click().run()
    clean(at)
    assert not session(at).lesson.ticket_done and at.button(key="lesson_ticket_check")


@pytest.mark.parametrize("n", range(1, len(CHAPTERS) + 2))
def test_lesson_n_opens_chapter_n(n):
    at = open_lesson(lesson=str(n))
    assert session(at).lesson.chapter == n - 1
    heading = f"#### {n}. " + (CHAPTERS[n - 1].title if n <= len(CHAPTERS) else "Exit ticket")
    assert any(m.value == heading for m in at.markdown)


@pytest.mark.parametrize("bad", ["0", "99", "abc", "-1", "2.5", "<b>x</b>"])
def test_a_bad_lesson_value_gets_a_message_and_chapter_1(bad):
    at = open_lesson(lesson=bad)
    assert session(at).lesson.chapter == 0
    assert any("is not a chapter" in w.value for w in at.warning)
    assert not any("<b>" in w.value for w in at.warning)


def test_progress_survives_a_reload():
    at = open_lesson()
    answer(at, 0, 2)
    go(at, 3)
    sess = session(at)
    sess.autosave(force=True)
    back = restored_session(sess.token)
    assert back.lesson.chapter == 3 and back.lesson.predictions == {"window": 2}
    assert back.lesson.reveals["window"] == sess.lesson.reveals["window"]
    assert set(KEYS) >= set(back.lesson.reveals)


def test_a_newcomers_first_screen_offers_the_lesson_and_their_own_text():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    clean(at)
    assert any(m.value.startswith("#### Watch a recurrent network learn") for m in at.markdown)
    assert at.text_area(key="welcome_text") and at.button(key="welcome_train")
    at.text_area(key="welcome_text").set_value("the cat sat on the mat. " * 20).run()
    at.button(key="welcome_train").click().run()
    clean(at)
    assert session(at).trainer.text == "the cat sat on the mat. " * 20
    assert not any(m.value.startswith("#### Watch a recurrent network learn") for m in at.markdown)


def test_the_first_screen_goes_after_the_first_step_and_its_loss_falls():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.button(key="btn_step10").click().run()
    clean(at)
    assert not any(m.value.startswith("#### Watch a recurrent network learn") for m in at.markdown)
    tr = session(at).trainer
    loss = tr.history.column("loss")
    assert loss.max() <= loss[0] + 0.02 < tr.baseline_loss + 0.05   # the default model's first Steps make the point


def test_a_chapters_follow_up_trains_on():
    at = open_lesson()
    answer(at, 0, 2)
    before = session(at).trainer.step_count
    at.button(key="lesson_more_window").click().run()
    clean(at)
    assert session(at).trainer.step_count == before + 20
    assert session(at).lesson.reveals["window"]["value"] == session(at).trainer.history.column("loss")[0]   # kept


def test_start_the_lesson_opens_the_lesson_page():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.button(key="welcome_lesson").click().run()
    clean(at)
    assert any(m.value.startswith("### The lesson") for m in at.markdown)
