"""The race: which cell remembers? Every cell trained together on one long-memory task, scored as it learns."""

from __future__ import annotations

import math

import streamlit as st

from rnnviz.figures.common import esc
from rnnviz.figures.palette import NAMES
from rnnviz.figures.race import (
    lane,
    race_loss_spec,
    race_score_spec,
    reach_panel_spec,
    reach_range,
    reach_sentence,
    score_sentence,
)
from rnnviz.figures.svg import WIDTH
from rnnviz.figures.tables import scores_table
from rnnviz.race import GOAL, Race
from rnnviz.recall import MARKERS
from rnnviz.ui import budget, charts, present, race_play
from rnnviz.ui.guard import guarded
from rnnviz.ui.page import setup_page
from rnnviz.ui.state import AppSession, show_flashes

STEPS = (50, 500)           # the step buttons
PLAY_EVERY_S = 1.0          # a play rerun (rnnviz.ui.race_play.play: ~0.85 s of training, then a redraw) this often
SOURCES = {"lecture": "the lecture's settings", "model": "the sidebar's settings (H, T, optimizer, η, clipping, seed…)"}


# ---------------------------------------------------------------------------- choices
def _on_source() -> None:
    race_play.restart(source=st.session_state["race_source"])


def _on_seed() -> None:
    race_play.restart(seed=int(st.session_state["race_seed"]))


# ---------------------------------------------------------------------------- sections
def intro(sess: AppSession) -> None:
    st.markdown("### The race: which cell remembers?")   # not page_header: the race may have its own text
    present.caption("The lecture's ending. Every cell learns the same text from its own fresh weights, with the same "
                    "settings, reading the same windows: the vanilla RNN, the minGRU, the GRU and the LSTM. Each line of "
                    f"the text opens with a marker ({', '.join(MARKERS)}), runs 20-40 dots and closes with the same "
                    "marker. Only a model whose gradient reaches 20-40 steps back can learn which marker closes the "
                    "line; one that cannot picks right about one time in four, as a guess would.",
                    "Four cells, one memory task: who learns to close each line with the marker it opened with?")
    show_flashes(sess)


def controls(sess: AppSession) -> bool:
    """The buttons and choices; returns whether the race is playing."""
    s = race_play.state()
    c = st.columns([1, 1, 1.3, 1, 1.2, 3.2], vertical_alignment="bottom")
    for col, n in zip(c[:2], STEPS, strict=True):
        col.button(f"Race ×{n}", key=f"race_step_{n}", on_click=race_play.request_steps, args=(sess, n), width="stretch",
                   type="primary" if n == STEPS[0] else "secondary", help=f"Train every model {n} steps")
    playing = c[2].toggle("Play the race", key="race_play",
                          help="Train all the models continuously; the charts redraw about once a second")
    c[3].button("Restart", key="race_restart", on_click=race_play.restart, width="stretch",
                help="Every model from its fresh weights again (also picks up changed sidebar settings)")
    c[4].number_input("Seed", 0, 2**32 - 1, value=int(s["seed"]), step=1, key="race_seed", on_change=_on_seed,
                      disabled=s["source"] != "lecture",
                      help="Other first weights: a seed stands in for another machine, whose rounding sends the same "
                           "run elsewhere")
    c[5].radio("Race with", list(SOURCES), index=list(SOURCES).index(s["source"]), format_func=SOURCES.get,
               key="race_source", on_change=_on_source)
    budget.drain(race_play.JOB)
    return playing


def settings_line(r: Race) -> None:
    cfg = r.config
    clip = {"none": "no clipping", "elementwise": f"each entry clipped to ±{cfg.clip_value:g}",
            "norm": f"‖g‖ clipped to {cfg.clip_value:g}"}[cfg.clip]
    st.caption(f"Settings shared by every model: H = {cfg.hidden_size} hidden units, windows of T = {cfg.seq_len} "
               f"steps, {cfg.optimizer} η = {cfg.lr:g}, {clip}, seed {cfg.seed}. Every {r.eval_every} race steps each "
               f"model is scored on the text's first {r.eval_tokens:,} characters: at each line's closing marker, is the "
               "most likely marker the one the line opened with?")


@guarded("the race's scores")
def scores(sess: AppSession, r: Race) -> None:
    rows = r.summary()
    if all(row["n"] == 0 for row in rows):
        st.info("With these settings the markers A-D are not tokens of their own (word-level tokens?), so the "
                "right-closing-marker score is not defined; the loss curves still compare the cells. Race with the "
                "lecture's settings to see the score.")
    else:
        st.html(f"<div class='rv-race-verdict'>{esc(score_sentence(rows, r.chance))}</div>")
    for rc in r.racers.values():
        if rc.diverged_at is not None:
            st.warning(f"{rc.title} diverged at race step {rc.diverged_at:,}: {rc.divergence}. It stops there.")
    labels = {cell: rc.title for cell, rc in r.racers.items()}
    left, right = st.columns([1.25, 1])
    with left:
        st.markdown("**Right closing markers** over training, one line per model")
        series = {labels[c]: (r.series(c)["eval_steps"], r.series(c)["accuracy"]) for c in r.racers}
        alt = ("Right closing markers per model at race step " + f"{r.steps:,}: "
               + ", ".join(f"{row['label']} {row['accuracy']:.0%}" for row in rows) + f"; chance {r.chance:.0%}.")
        charts.draw(sess, race_score_spec(series, r.chance), key="race_chart_score", alt=alt, filename="rnnviz-race-scores",
                    width=int(1.25 * WIDTH), table=lambda: scores_table(series))
        st.caption(f"Dotted red: chance ({r.chance:.0%}, one marker in {len(MARKERS)}). Dashed grey: {GOAL:.0%}, where we "
                   "say a model has learned the task. Each line has its own colour, dash and marker: "
                   + "; ".join(f"{rc.title} {NAMES.get(lane(i)[0], '')} {lane(i)[1]}, {lane(i)[2].replace('-', ' ')}"
                               for i, rc in enumerate(r.racers.values())) + ".")
    with right:
        st.markdown("**Loss per token** over training (mean of every 50 race steps)")
        losses = {labels[c]: (r.series(c)["step"], r.series(c)["loss"]) for c in r.racers}
        base = next(iter(r.racers.values())).trainer.baseline_loss
        alt = ("Loss per token per model, mean of the last 100 race steps: "
               + ", ".join(f"{row['label']} {row['loss']:.3f}" for row in rows) + f"; ln V = {base:.3f}.")
        charts.draw(sess, race_loss_spec(losses, base), key="race_chart_loss", alt=alt, filename="rnnviz-race-loss")
        st.caption("Most of each line is predictable dots, so every model's loss falls fast at first. The closing "
                   "marker is one character in about thirty: remembering it lowers the loss per token by at most "
                   f"ln 4 / 30 ≈ {math.log(len(MARKERS)) / 30:.2f} nats, a small last drop. The score on the left "
                   "shows it plainly.")


@guarded("the reach matrices")
def reaches(sess: AppSession, r: Race) -> None:
    panels, parts = {}, {}
    for cell, rc in r.racers.items():
        for part, R in r.reaches(cell).items():   # one backward pass per racer gives every state part
            label = rc.title if part == "h" else f"{rc.title} through {part}"
            panels[label], parts[label] = R, part
    zr = reach_range(panels)
    d = r.dependency_distance()
    st.markdown("**Why: how far back each model's gradient reaches**, R[t, k] = ‖∂L_t/∂s_k‖ on its next window "
                "(one colour scale for all)")
    cols = st.columns(len(panels))
    for i, (col, (label, R)) in enumerate(zip(cols, panels.items(), strict=True)):
        with col:
            spec = reach_panel_spec(R, zr, label, parts[label], colorbar=i == len(panels) - 1)
            charts.draw(sess, spec, key=f"race_chart_reach_{i}", filename=f"rnnviz-race-reach-{i}",
                        alt=f"{label}: the reach of each loss term L_t (rows) to step k (columns), log colour from "
                            f"10^{zr[0]:.0f} to 10^{zr[1]:.0f}.", width=320)
    st.caption(reach_sentence(panels, d) + " Read each row from the diagonal leftwards: where the colour stays bright "
               "the gradient of a closing marker's loss still reaches the line's opening marker, which is what learning "
               "the task needs."
               + "".join(f" {rc.title}: {note}" for rc in r.racers.values() for note in rc.trainer.cell.part_notes.values()))


def cells_note(r: Race) -> None:
    with st.expander("What differs between the cells, in one line each"):
        for i, rc in enumerate(r.racers.values()):
            colour, dash, symbol = lane(i)
            cell = rc.trainer.cell
            st.markdown(f"**{esc(cell.title)}** ({NAMES.get(colour, 'its own colour')}, {dash} line, "
                        f"{symbol.replace('-', ' ')} markers)")
            for eq in cell.equations:
                st.latex(eq)


def main() -> None:
    sess = setup_page()
    intro(sess)
    st.html("<style>.rv-race-verdict{font-size:1.05rem;margin:.2rem 0 .6rem;padding:.5rem .8rem;"
            "border-left:4px solid #0072B2;background:#f4f8fb}</style>")
    playing = controls(sess)
    r = race_play.race(sess)
    settings_line(r)

    @st.fragment(run_every=PLAY_EVERY_S if playing else None)
    def live() -> None:
        if playing:
            race_play.play(sess)
        current = race_play.race(sess)
        scores(sess, current)
        reaches(sess, current)

    live()
    cells_note(r)


main()
