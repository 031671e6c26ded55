"""The lesson: a guided path through BPTT, each chapter a prediction checked against the student's own run."""

from __future__ import annotations

import streamlit as st

from rnnviz.figures.common import esc
from rnnviz.lesson import CHAPTERS, KEYS, TICKET, LessonContext, score
from rnnviz.lesson.run import setup_source
from rnnviz.twin import TwinRun
from rnnviz.ui import budget, present, race_play, takeaway, views
from rnnviz.ui.page import setup_page
from rnnviz.ui.state import AppSession, show_flashes

JOB = "lesson"                 # the budget job of the set-up's steps and the chapter's action
PENDING = "lesson_pending"     # sess.extras: the chapter whose action is running, to measure when it ends
TWIN = "lesson_twin"           # sess.extras: the twin run a chapter's set-up started
URL_READ = "lesson_url_read"   # st.session_state: ?lesson= was applied in this session already
TICKET_AT = len(CHAPTERS)      # the chapter index of the exit ticket
CSS = """<style>
.rv-reveal{border-left:4px solid #0072B2;background:#f4f8fb;padding:.6rem .9rem;margin:.4rem 0 .8rem}
.rv-reveal b{font-weight:650}
.rv-changed{border-left:4px solid #b35c00;background:#fff6ec;padding:.5rem .9rem;margin:.3rem 0}
.st-key-lesson_text p, .st-key-lesson_text li, .rv-reveal {max-width:52rem}
</style>"""


# ---------------------------------------------------------------------------- where the student is
def open_from_url(sess: AppSession) -> None:
    """?lesson=N opens chapter N once per session (a shareable link); a bad value gets a message and chapter 1."""
    raw = st.query_params.get("lesson")
    if raw is None or st.session_state.get(URL_READ) == raw:
        return
    st.session_state[URL_READ] = raw
    n = int(raw) if raw.isdigit() else None
    if n is None or not 1 <= n <= TICKET_AT + 1:
        sess.flash("warning", f"The link's lesson={esc(raw[:20])} is not a chapter (1 to {TICKET_AT}, or "
                              f"{TICKET_AT + 1} for the exit ticket): the lesson opens at chapter 1.")
        n = 1
    go_to(sess, n - 1)


def go_to(sess: AppSession, i: int) -> None:
    p = sess.lesson
    p.chapter = max(0, min(int(i), TICKET_AT))
    p.touch()
    st.query_params["lesson"] = str(p.chapter + 1)


def fingerprint(sess: AppSession, i: int) -> list:
    """What "Set it up" left: the settings and the text (a change of either is a change of set-up); for the race,
    the race's own source and seed, and whether it exists (a reload does not keep a race)."""
    if CHAPTERS[i].setup.race:
        s = race_play.state()
        return [{"race": s["source"], "seed": s["seed"]}, "race" if s.get("race") is not None else "no race"]
    return [sess.config.to_dict(), sess.text_label]


def setup_is_current(sess: AppSession, i: int) -> bool:
    return sess.lesson.setups.get(CHAPTERS[i].key) == fingerprint(sess, i)


def context(sess: AppSession) -> LessonContext:
    twin = sess.extras.get(TWIN)
    race = race_play.state().get("race")
    return LessonContext(trainer=sess.trainer, twin=twin, race=race)


# ---------------------------------------------------------------------------- actions (button callbacks)
def set_up(sess: AppSession, i: int) -> None:
    ch = CHAPTERS[i]
    s = ch.setup
    budget.cancel(JOB)
    sess.extras.pop(PENDING, None)
    if s.race:
        race_play.restart(source="lecture")
        race_play.race(sess)
    else:
        sample, config, _ = setup_source(s)
        ok = sess.apply_preset(s.preset) if s.preset else sess.use_setup(sample, config)
        if not ok:
            return
        sess.flashes.clear()   # the preset's own notice: the chapter says what to look at
        if s.steps:
            budget.request(JOB, f"Setting up: training {s.steps} steps", s.steps, lambda k: _train(sess, sess.generation, k))
        if s.twin:
            sess.extras[TWIN] = TwinRun.start(sess.trainer, s.twin)
    p = sess.lesson
    p.setups[ch.key] = fingerprint(sess, i)
    p.predictions.pop(ch.key, None)
    p.reveals.pop(ch.key, None)
    p.touch()


def _train(sess: AppSession, generation: int, k: int) -> int:
    if sess.generation != generation:
        return 0
    before = sess.trainer.step_count
    sess.trainer.step(k)
    return sess.trainer.step_count - before


def predict(sess: AppSession, key: str, widget: str | None) -> None:
    """Lock in the chosen prediction (widget: the radio's key), or skip the question (widget None)."""
    p = sess.lesson
    choice = st.session_state.get(widget) if widget else None
    p.predictions[key] = None if choice is None else int(choice)
    p.touch()


def act(sess: AppSession, i: int) -> None:
    ch = CHAPTERS[i]
    a = ch.action
    sess.extras[PENDING] = ch.key
    if a.kind == "train":
        budget.request(JOB, a.label, a.n, lambda k: _train(sess, sess.generation, k))
    elif a.kind == "twin":
        run = sess.extras.get(TWIN)
        budget.request(JOB, a.label, a.n, lambda k: (run.step(k), k)[1] if run is not None else 0)
    elif a.kind == "race":
        race_play.request_steps(sess, a.n, a.label)


def more(sess: AppSession, i: int) -> None:
    """The chapter's follow-up training (after its reveal): drained with the set-up's steps, no measure after it."""
    a = CHAPTERS[i].more
    budget.request(JOB, a.label, a.n, lambda k: _train(sess, sess.generation, k))


def measure_if_done(sess: AppSession) -> None:
    """After the action's job has ended (finished, stopped, or refused by a divergence): measure the session
    and keep the reveal with the prediction it answers."""
    key = sess.extras.get(PENDING)
    if key is None or budget.pending(JOB) is not None or budget.pending(race_play.JOB) is not None:
        return
    sess.extras.pop(PENDING, None)
    ch = CHAPTERS[KEYS.index(key)]
    ctx = context(sess)
    try:
        m = ch.question.measure(ctx)
    except Exception as e:   # noqa: BLE001 — a model that diverged or was changed meanwhile: say so, no traceback
        sess.flash("warning", f"This run could not be measured ({type(e).__name__}); press Set it up and try again.")
        return
    p = sess.lesson
    p.reveals[key] = {"value": m.value, "shown": m.shown, "band": m.band, "why": m.why,
                      "choices": list(ch.question.choices(ctx)), "prediction": p.predictions.get(key)}
    p.touch()


# ---------------------------------------------------------------------------- sections
def header(sess: AppSession) -> None:
    p = sess.lesson
    st.markdown("### The lesson: how a recurrent network learns, and why it forgets")
    present.caption(
        "Nine short chapters on your own model: read, set it up, **predict** what will happen, then see what your run "
        "did. Predicting first is what makes a demonstration teach (Crouch et al. 2004). Your answers stay in this "
        "session; nothing leaves it.", "Predict first, then see what your own run does.")
    done = sum(1 for k in KEYS if k in p.reveals)
    st.progress(done / len(KEYS), text=f"{done} of {len(KEYS)} chapters answered")
    labels = [f"{i + 1}. {c.title}" for i, c in enumerate(CHAPTERS)] + [f"{TICKET_AT + 1}. Exit ticket"]
    c = st.columns([4, 1, 1], vertical_alignment="bottom")
    c[0].selectbox("Chapter", range(len(labels)), index=p.chapter, format_func=labels.__getitem__,
                   key=f"lesson_pick_{p.chapter}", on_change=lambda: go_to(sess, st.session_state[f"lesson_pick_{p.chapter}"]))
    c[1].button("← Previous", key="lesson_prev", disabled=p.chapter == 0, on_click=go_to, args=(sess, p.chapter - 1),
                width="stretch")
    c[2].button("Next →", key="lesson_next", disabled=p.chapter >= TICKET_AT, on_click=go_to, args=(sess, p.chapter + 1),
                width="stretch", type="primary" if CHAPTERS[min(p.chapter, TICKET_AT - 1)].key in p.reveals else "secondary")
    show_flashes(sess)


def chapter(sess: AppSession, i: int) -> None:
    ch = CHAPTERS[i]
    p = sess.lesson
    st.markdown(f"#### {i + 1}. {ch.title}")
    with st.container(key="lesson_text"):   # a reading width for the text (CSS above): long lines are hard to follow
        st.markdown(ch.text)
    current = setup_is_current(sess, i)
    c = st.columns([1.2, 3], vertical_alignment="center")
    c[0].button("Set it up", key=f"lesson_setup_{ch.key}", on_click=set_up, args=(sess, i), width="stretch",
                type="secondary" if current else "primary", help=ch.setup.describe)
    c[1].caption(f"Puts your session into this chapter's state: {ch.setup.describe}.")
    if sess.extras.get(PENDING) is None:
        budget.drain(JOB)   # the set-up's training steps (the action's are drained beside its button)
    if ch.key in p.setups and not current:
        st.html("<div class='rv-changed'>You have changed the set-up since (the sidebar's settings, the text, or another "
                "chapter's set-up): press <b>Set it up</b> again to come back to this chapter's state.</div>")
    if not current:
        return
    ctx = context(sess)
    question(sess, i, ctx)
    reveal(sess, i)
    charts(sess, i, ctx)
    if ch.after and ch.key in p.reveals:
        st.markdown(ch.after)
        if ch.more is not None:
            st.button(ch.more.label, key=f"lesson_more_{ch.key}", on_click=more, args=(sess, i), help=ch.more.help)
    st.page_link(ch.page[0], label=f"More on the {ch.page[1]} page", icon=":material/arrow_forward:")


def question(sess: AppSession, i: int, ctx: LessonContext) -> None:
    ch = CHAPTERS[i]
    p = sess.lesson
    choices = ch.question.choices(ctx)
    locked = ch.key in p.predictions
    st.markdown(f"**Predict first.** {ch.question.prompt(ctx)}")
    widget = f"lesson_q_{ch.key}"
    if locked:
        pred = p.predictions[ch.key]
        st.markdown(f"Your prediction: **{esc(choices[pred])}**" if pred is not None else "You skipped this question.")
    else:
        st.radio("Your prediction", range(len(choices)), index=None, format_func=choices.__getitem__, key=widget,
                 label_visibility="collapsed")
        c = st.columns([1.3, 1, 3])
        c[0].button("Lock in my prediction", key=f"lesson_lock_{ch.key}", type="primary", on_click=predict,
                    args=(sess, ch.key, widget), disabled=st.session_state.get(widget) is None, width="stretch")
        c[1].button("Skip", key=f"lesson_skip_{ch.key}", on_click=predict, args=(sess, ch.key, None), width="stretch",
                    help="Go on without predicting (the reveal then says so)")
    done = ch.key in p.reveals
    c = st.columns([1.3, 3], vertical_alignment="center")
    c[0].button(ch.action.label, key=f"lesson_act_{ch.key}", type="primary", on_click=act, args=(sess, i),
                disabled=not locked or done or sess.extras.get(PENDING) is not None, width="stretch",
                help=ch.action.help)
    c[1].caption("Locked in or skipped: now see what your run does." if locked and not done else
                 "Commit to a prediction (or skip) to go on." if not locked else "Done: the answer is below.")
    if sess.extras.get(PENDING) == ch.key:
        budget.drain(race_play.JOB if ch.action.kind == "race" else JOB)
        measure_if_done(sess)
        if ch.key in p.reveals:
            st.rerun()   # the reveal is in: redraw the page with it (and the action button disabled)


def reveal(sess: AppSession, i: int) -> None:
    ch = CHAPTERS[i]
    r = sess.lesson.reveals.get(ch.key)
    if r is None:
        return
    truth = r["choices"][r["band"]] if 0 <= r["band"] < len(r["choices"]) else "none of the choices"
    pred = r["prediction"]
    if pred is None:
        verdict = "You skipped the prediction."
    elif pred == r["band"]:
        verdict = "Your prediction was right."
    else:
        off = abs(pred - r["band"])
        verdict = f"You predicted “{esc(r['choices'][pred])}”" + (
            (": one choice away." if off == 1 else f": {off} choices away.") if ch.question.ordinal else ".")
    st.html(f"<div class='rv-reveal'><b>Your run: {esc(r['shown'])}</b>, that is “{esc(truth)}”. {verdict}<br>"
            f"{esc(r['why'])}</div>")


def charts(sess: AppSession, i: int, ctx: LessonContext) -> None:
    ch = CHAPTERS[i]
    names = ch.charts
    cols = st.columns(len(names)) if len(names) > 1 else [st.container()]
    for col, name in zip(cols, names, strict=True):
        with col:
            try:
                view(sess, name, ctx, f"lesson_chart_{ch.key}_{name}")
            except Exception:   # noqa: BLE001 — a chart that cannot be drawn must not take the lesson down
                st.info("This chart cannot be drawn for the model as it is now.")


def view(sess: AppSession, name: str, ctx: LessonContext, key: str) -> None:
    if name == "twin_loss":
        if ctx.twin is not None:
            views.draw(sess, views.twin_loss(sess, ctx.twin), key, "rnnviz-lesson-twins")
        return
    if name == "race_score":
        if ctx.race is not None:
            views.draw(sess, views.race_scores(sess, ctx.race), key, "rnnviz-lesson-race")
        return
    if name == "race_reach":
        if ctx.race is not None:
            specs, sentence = views.race_reaches(sess, ctx.race)
            row = st.columns(len(specs))
            for j, (col, (label, spec)) in enumerate(zip(row, specs, strict=True)):
                with col:
                    views.draw(sess, views.View(f"{label}: reach of each loss term (rows) to each step (columns).",
                                                spec=spec), f"{key}_{j}", f"rnnviz-lesson-reach-{j}")
            st.caption(sentence)
        return
    views.draw(sess, getattr(views, name)(sess), key, f"rnnviz-lesson-{name}")


def exit_ticket(sess: AppSession) -> None:
    p = sess.lesson
    st.markdown(f"#### {TICKET_AT + 1}. Exit ticket")
    st.markdown("Answer from memory, without scrolling back: recalling is what makes it stay (Roediger & Karpicke 2006). "
                "Then see the explanations and your score. Nothing leaves this session.")
    for j, q in enumerate(TICKET):
        if not p.ticket_done:
            st.radio(f"{j + 1}. {q.prompt}", range(len(q.choices)), format_func=q.choices.__getitem__,
                     index=p.ticket.get(j), key=f"lesson_ticket_{j}")
            continue
        # Answered: the question, the answer given and the right one as text (a disabled radio's grey is 2.6:1)
        a = p.ticket.get(j)
        st.markdown(f"**{j + 1}. {esc(q.prompt)}**  \nYour answer: {esc(q.choices[a]) if a is not None else '(none)'}")
        mark = "Right." if a == q.answer else f"The answer: {q.choices[q.answer]}." if a is not None else \
            f"Not answered. The answer: {q.choices[q.answer]}."
        st.caption(f"{mark} {q.explain(p.reveals)}")
    if p.ticket_done:
        right, n = score(p.ticket)
        st.html(f"<div class='rv-reveal'><b>Your score: {right} of {n}.</b> "
                f"{'Every one right.' if right == n else 'Open the chapters of the ones you missed and run them again.'}"
                "</div>")
        st.button("Try the exit ticket again", key="lesson_ticket_again", on_click=_ticket_again, args=(sess,))
    else:
        st.button("Check my answers", key="lesson_ticket_check", type="primary", on_click=_ticket_check, args=(sess,))
    st.markdown("#### Take it home")
    st.markdown(f"Your session's model ({esc(sess.trainer.cell.title)}, {esc(sess.text_label)}, step "
                f"{sess.trainer.step_count:,}) as one NumPy script you can read, run and keep training on your laptop.")
    takeaway.script_download(sess, key="lesson_dl_script")


def _ticket_check(sess: AppSession) -> None:
    p = sess.lesson
    p.ticket = {j: int(st.session_state[f"lesson_ticket_{j}"]) for j in range(len(TICKET))
                if st.session_state.get(f"lesson_ticket_{j}") is not None}
    p.ticket_done = True
    p.touch()


def _ticket_again(sess: AppSession) -> None:
    p = sess.lesson
    p.ticket, p.ticket_done = {}, False
    for j in range(len(TICKET)):
        st.session_state.pop(f"lesson_ticket_{j}", None)
    p.touch()


def main() -> None:
    sess = setup_page()
    open_from_url(sess)
    st.html(CSS)
    header(sess)
    if sess.lesson.chapter < TICKET_AT:
        chapter(sess, sess.lesson.chapter)
    else:
        exit_ticket(sess)


main()
