"""Train: one SGD step at a time, and everything that step did."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import streamlit as st

from rnnviz.figures.common import esc as _esc
from rnnviz.figures.heldout import gap_sentence, gap_short, with_val
from rnnviz.figures.tables import loss_table, reach_table
from rnnviz.figures.textstats import what_to_watch
from rnnviz.figures.tokens import STRIP_CSS, least_sure, sample_html, window_html
from rnnviz.figures.train import (
    VERDICT_CSS,
    adagrad_early_peak_note,
    dh_heatmap_spec,
    grad_norms_spec,
    loss_spec,
    reach_spec,
    recent_mean_loss,
    smoothing_window,
    trailing_mean,
)
from rnnviz.local_jacobian import window_saturation
from rnnviz.params import param_names
from rnnviz.sample import sample
from rnnviz.ui import budget, charts, play, present, takeaway, welcome
from rnnviz.ui.cell_panel import cell_section
from rnnviz.ui.guard import fill, fill_html, guarded
from rnnviz.ui.memo import forget, memo_args
from rnnviz.ui.page import page_header, setup_page
from rnnviz.ui.slots import Slot
from rnnviz.ui.state import AppSession, get_session
from rnnviz.vanish import saturation_cause, total_gradient_reading, verdict, window_reach

SAMPLE_KEY = "train_sample"  # sess.extras key of the text sample (rnnviz.ui.memo.memo_args)
CONTROLS_KEY = "train_controls"  # the training controls' container (its CSS class: st-key-train_controls)
METRIC_MIN_PX = 100  # a metric's narrowest column: three fit a row on a 390 px phone
SPEED_WIDTH = 190  # px: the play-speed slider, so that it shares a row with the switch on a phone
SHORTCUTS = "Keyboard: **S** Step · **P** Play / Pause · **U** Undo"   # (Tab, Enter and Space work as anywhere)
REACH_EVERY = 3  # play frames per redraw of the reach chart (see draw_panel)


# ---------------------------------------------------------------------------- actions
def do_step(sess: AppSession, n: int) -> None:
    """Ask for n steps: controls() does them, paid from this session's CPU budget (rnnviz.ui.budget)."""
    budget.request("train", f"Step ×{n}" if n > 1 else "Step", n, lambda k: steps_done(sess, sess.generation, k))


def steps_done(sess: AppSession, generation: int, k: int) -> int:
    """Train up to k steps of the model the click was for; how many were taken (fewer: it diverged)."""
    if sess.generation != generation:
        return 0
    before = sess.trainer.step_count
    sess.trainer.step(k)
    return sess.trainer.step_count - before


def do_undo(sess: AppSession) -> None:
    budget.cancel("train")  # a job still running would undo this at once
    if sess.playing:  # undoing under a running play loop would be overwritten at once: pause first
        set_playing(sess, False)
    if not sess.trainer.undo():
        sess.flash("warning", "Nothing more to undo: undo reaches back 50 steps.")


def do_reset(sess: AppSession) -> None:
    budget.cancel("train")  # a job still running would undo this at once
    sess.playing = False
    sess.trainer.reset()
    forget(sess, SAMPLE_KEY)  # a sample drawn at steps 0..N−1 of the old run must not reappear
    sess.flash("info", "Reset: same seed, fresh weights, step 0.")


def set_playing(sess: AppSession, on: bool) -> None:
    budget.cancel("train")  # Play or Pause ends a pending Step ×N job (the steps done are kept)
    sess.playing = on
    play.stop_clock(sess)


# ---------------------------------------------------------------------------- sections
def controls(sess: AppSession) -> None:
    budget.drain("train")  # steps asked for by a click, before the buttons (Undo's state) are drawn
    tr = sess.trainer
    # One row that wraps (a horizontal container), not a row of columns: below 640 px Streamlit stacks
    # columns one per row, and the eight controls then filled a phone's whole first screen. Here they
    # take two or three compact rows there (tests/test_browser_a11y.py measures them at 390 × 844).
    # The presentation view leaves out the charts' switch: the projector shows pictures, which draw fastest.
    box = st.container(key=CONTROLS_KEY, gap="small")
    row = box.container(horizontal=True, vertical_alignment="bottom", gap="small")
    row.button("Step", type="primary", on_click=do_step, args=(sess, 1), shortcut="S",
               help="One SGD update on the next window (keyboard: S)", key="btn_step")
    row.button("Step ×10", on_click=do_step, args=(sess, 10), key="btn_step10")
    row.button("Step ×100", on_click=do_step, args=(sess, 100), key="btn_step100")
    # Two buttons with their own keys, not one relabelled toggle: a click that reaches the server
    # twice (racing a periodic play frame) then repeats the same intent instead of undoing it.
    if sess.playing:
        row.button("Pause", icon=":material/pause:", on_click=set_playing, args=(sess, False), shortcut="P",
                   key="btn_pause", help="Stop training (keyboard: P)")
    else:
        row.button("Play", icon=":material/play_arrow:", on_click=set_playing, args=(sess, True), shortcut="P",
                   key="btn_play", help="Train continuously (keyboard: P)")
    # While playing the buttons are not redrawn, so Undo is enabled then (it pauses, then undoes).
    row.button("Undo", on_click=do_undo, args=(sess,), disabled=not (tr.can_undo or sess.playing),
               key="btn_undo", shortcut="U", help="Back one step, exactly; pauses play (keyboard: U)")
    row.button("Reset", on_click=do_reset, args=(sess,), key="btn_reset", help="Fresh weights from the same seed, step 0")
    speed = row.select_slider("Play speed", list(play.SPEEDS), value=sess.extras.get("speed", play.DEFAULT_SPEED),
                              key="play_speed", width=SPEED_WIDTH)
    sess.extras["speed"] = speed
    if not present.on():
        with row:
            charts.toggle(sess)
    box.caption(SHORTCUTS)


def metric_slots() -> list[Slot]:
    """Six placeholders in a row. Play frames rewrite the metrics in them in place: re-creating the
    row every frame would cost the browser a relayout of the whole page. A grid, not columns: on a
    phone it shows three a row (columns would stack one a row, six rows before the first chart)."""
    grid = st.grid(6, min_column_width=METRIC_MIN_PX, gap="small")
    return [Slot(grid.empty()) for _ in range(6)]


def metrics(sess: AppSession, slots: list[Slot]) -> None:
    tr = sess.trainer
    last = tr.last
    hist = tr.history
    slots[0].metric("Step", f"{tr.step_count:,}")
    if last is not None:
        slots[1].metric("Loss per token", f"{last.loss_per_token:.3f}", help="L/T for the last window, in nats")
        smooth, w = recent_mean_loss(tr.history, tr.step_count)
        slots[2].metric("Smoothed loss", f"{smooth:.3f}", help=f"Mean loss per token over the last {w} steps "
                        "(the orange line of the loss chart)")
        slots[3].metric("Perplexity", f"{last.perplexity:.1f}" if last.perplexity < 1e6 else "huge",
                        help="e^(loss per token): the model is as unsure as a uniform choice among this many tokens")
        slots[5].metric("Gradient norm", f"{last.clip.global_before:.3g}",
                        delta="clipped" if last.clip.fired else None, delta_color="inverse",
                        help="‖∂L/∂θ‖ over all weights, before clipping")
    elif len(hist):
        slots[1].metric("Loss per token", f"{hist.cols['loss'][-1]:.3f}")
        slots[2].metric("Smoothed loss", f"{recent_mean_loss(tr.history, tr.step_count)[0]:.3f}")
        slots[3].metric("Perplexity", f"{hist.cols['perplexity'][-1]:.1f}")
    else:
        slots[1].metric("Loss per token", "—", help="Press Step to train on the first window")
        slots[2].metric("Smoothed loss", "—", help="Mean loss per token over the last steps: none yet")
        slots[3].metric("Perplexity", f"{tr.vocab_size}", help="Untrained: as unsure as a uniform choice among V tokens")
    slots[4].metric("Untrained baseline ln V", f"{tr.baseline_loss:.3f}", help=f"V = {tr.vocab_size} tokens: "
                    "the loss per token of a model that guesses uniformly. Below this line, it has learned something.")


def divergence_banner(sess: AppSession, slot: Slot) -> None:
    d = sess.trainer.divergence
    if d is not None:
        slot.error(f"**Training diverged at step {d.step}.** {d.reason}. The last good weights are kept. {d.suggestion}",
                   icon=":material/warning:")
    else:
        slot.empty()


@guarded("the loss chart")
def loss_chart(sess: AppSession) -> None:
    tr = sess.trainer
    h = tr.history
    steps, loss = h.column("step"), h.column("loss")
    clipped = steps[h.column("clipped").astype(bool)] if len(h) else steps
    changed = h.column("lr_changed").astype(bool) if len(h) else steps.astype(bool)
    w = smoothing_window(tr.step_count)
    smooth = trailing_mean(steps, loss, w)
    spec = loss_spec(steps, loss, smooth, tr.baseline_loss,
                     clipped, steps[changed], h.column("lr")[changed] * 0.5 if len(h) else [],
                     smooth_name=f"mean of the last {w} steps")
    spec = present.enlarge(with_val(spec, h.val))   # the held-out loss beside the training loss (rnnviz.heldout)
    st.markdown("**Loss per token** over training steps")
    alt = (f"Loss per token over {tr.step_count:,} training steps: the last window's {loss[-1]:.3f}, the mean of the last "
           f"{w} steps {smooth[-1]:.3f}; a model that knows nothing scores ln V = {tr.baseline_loss:.3f}."
           + (f" Clipping fired at {clipped.size:,} of the {len(h):,} steps drawn." if clipped.size else "")
           if len(h) else f"No training step yet; a model that knows nothing scores ln V = {tr.baseline_loss:.3f}.")
    charts.draw(sess, spec, key="chart_loss", alt=alt, filename="rnnviz-loss")
    gap = gap_sentence(steps, loss, h.val, tr.config.val_every)
    thinned = h.n_thinned
    early_peak = adagrad_early_peak_note(tr.config.optimizer, steps, loss, tr.baseline_loss)
    present.caption(f"Thin blue line: each window's loss; thick orange line: its mean over the last {w} steps (the span "
               "grows with the run, so the line keeps up with the steps shown). The dashed grey line is a model that knows "
               "nothing. Red ticks along the bottom: steps where clipping fired."
               + (f" Steps before {steps[thinned]:,} are summarised (each stretch keeps its lowest and highest "
                  "loss), so a tick there marks clipping somewhere in that stretch." if thinned else "")
               + (f" {early_peak}" if early_peak else "")
                    + (f" {gap}" if gap else ""),
                    gap_short(steps, loss, h.val, tr.config.val_every)
                    or "Blue: the loss per token; dashed grey: a model that knows nothing.")
    if len(h) and not present.on():
        charts.show_table(lambda: loss_table(steps, loss, smooth, h.val, f"mean of the last {w} steps"), key="table_loss",
                          formats={"loss per token (nats)": "%.4f", f"mean of the last {w} steps": "%.4f",
                                   "held-out loss": "%.4f"})


def reach_header() -> None:
    st.markdown("**How much of a loss term's gradient is left d steps back**: "
                r"$\lVert \partial L_t / \partial h_{t-d} \rVert \,/\, \lVert \partial L_t / \partial h_t \rVert$, "
                "averaged over the loss terms $L_t$ of the window the next Step trains on")


def reach_view(sess: AppSession) -> tuple[dict, str, str]:
    """The reach chart's spec, its numbers in words (the picture's alt text) and the verdict that
    reads it (escaped HTML), all from one gradient_reach on the window the next Step trains on, with
    the current weights (so the chart has something to say at step 0 too). One extra backward pass
    per draw, never per training step."""
    tr = sess.trainer
    xs, ys, h0 = tr.next_window()
    ratio, n_terms = window_reach(tr.params, xs, ys, h0, cell=tr.config.cell)
    v = verdict(ratio)
    when = "before the first Step" if tr.step_count == 0 else f"after step {tr.step_count:,}"
    if v is None:
        words = ("has nowhere to go back to in a window of one step." if ratio.size < 2 else
                 "could not be measured on this window: it is not a finite number.")
    else:
        words = _esc(v.text).replace(f": {v.kind}.", f": <b>{v.kind}</b>.")
        if v.kind == "vanishing":  # say why when it is saturation (as after an explosion), not a small W
            cause = saturation_cause(window_saturation(tr.params, xs, h0, cell=tr.config.cell), tr.cell.saturation_note)
            words += f" {_esc(cause)}" if cause else ""
    shown = range(0, ratio.size, max(1, ratio.size // 8))
    alt = ("Fraction of a loss term's gradient left d steps back (" + when + "): "
           + ", ".join(f"d = {d}: {ratio[d]:.2g}" for d in shown) + ".")
    return (present.enlarge(reach_spec(ratio, n_terms, tr.config.effective_truncate)), alt,
            f"<div class='rv-verdict'>{when.capitalize()}: the gradient {words}</div>")


def draw_reach(sess: AppSession, chart: Slot, words: Slot) -> None:
    spec, alt, verdict_html = reach_view(sess)
    charts.draw(sess, spec, key="chart_reach", alt=alt, filename="rnnviz-gradient-reach", into=chart)
    words.html(verdict_html)


def reach_table_data(sess: AppSession):
    """The reach chart's numbers (the window the next Step trains on, the current weights) as a table."""
    tr = sess.trainer
    return reach_table(*window_reach(tr.params, *tr.next_window(), cell=tr.config.cell))


def reach_caption(sess: AppSession) -> None:
    k = sess.trainer.config.effective_truncate
    present.caption("Each loss term L_t sends its gradient back through one step of the cell, ∂s_t/∂s_(t−1) (for the "
               "vanilla RNN: tanh′ and W), once per step back. The bar at d is what "
               "arrives d steps back, as a fraction of what L_t gives its own step (geometric mean over t). "
               "Bars falling to the right: vanishing; rising: exploding. (The total ‖∂L/∂h_t‖ of all terms does not "
               "fade like this, since every step adds its own loss term; it is the heatmap below.)"
               + (f" With truncated BPTT (k = {k}) training cuts each term after k steps back; the bars beyond "
                  "show what full BPTT would send." if k is not None else ""),
                    "Bar d: how much of a loss term's gradient is left d steps back; the sentence above reads it.")


def window_body_html(sess: AppSession) -> str:
    """The window strip: what the model read, the targets, and p_t[y_t] (tokens escaped by window_html)."""
    tr = sess.trainer
    tok = tr.tokenizer.token_text
    last = tr.last
    if last is None:   # step 0, or a model restored (reload, another replica) or undone: no window trained in this view
        xs, ys, _ = tr.next_window()
        lead = ("Not trained yet. The first window will be:" if tr.step_count == 0 else
                f"At step {tr.step_count:,}; press Step to train on the next window:")
        return (f"<div class='rv-legend'>{lead}</div>"
                + window_html([tok(i) for i in xs], [tok(i) for i in ys], [1.0 / tr.vocab_size] * len(xs),
                              ["?"] * len(xs), css=False))
    return window_html([tok(i) for i in last.inputs], [tok(i) for i in last.targets], last.p_target,
                       [tok(i) for i in last.predicted], css=False)


@guarded("the gradient heatmap")
def dh_history(sess: AppSession) -> None:
    steps, M = sess.trainer.history.dh_matrix(max_rows=200)
    st.markdown("**Total gradient ‖∂L/∂h_t‖ of all loss terms, over training** (rows: steps, columns: t)")
    if not len(steps):
        st.info("Each step adds a row here.")
        return
    charts.draw(sess, dh_heatmap_spec(steps, M), key="chart_dh_hist", filename="rnnviz-gradient-heatmap",
                alt=f"‖∂L/∂h_t‖ (colour, log scale) at each time step t of the window (columns) for "
                    f"{len(steps):,} training steps (rows, the newest on top), up to step {int(steps[-1]):,}; "
                    f"on the newest row from {np.nanmin(M[-1]):.3g} to {np.nanmax(M[-1]):.3g}.")
    st.caption(f"The total at t collects the loss term at t and every later one. On the newest row, "
               f"{total_gradient_reading(M[-1])} A bright band across all t at some step: an exploding step.")


@guarded("the gradient norms chart")
def norms_chart(sess: AppSession) -> None:
    last = sess.trainer.last
    c = sess.trainer.config
    st.markdown("**Gradient norm of each weight**, before and after clipping")
    if last is None:
        st.info("Shows ‖∂L/∂U‖, ‖∂L/∂V‖, … after the next step." if sess.trainer.step_count else
                "Shows ‖∂L/∂U‖, ‖∂L/∂V‖, … after the first step.")
        return
    shown = param_names(sess.trainer.params)   # the weights this cell has (the minGRU has no W)
    before = {k: v for k, v in last.clip.norms_before.items() if k in shown}
    after = {k: v for k, v in last.clip.norms_after.items() if k in shown}
    charts.draw(sess, grad_norms_spec(before, after, c.clip, c.clip_value, last.clip.max_abs_before),
                key="chart_norms", filename="rnnviz-gradient-norms",
                alt=f"Gradient norm of each weight on step {last.step:,}, before → after clipping: "
                    + ", ".join(f"{k} {before[k]:.3g} → {after[k]:.3g}" for k in before))
    if c.clip == "none":
        st.caption("Clipping is off: the update uses the gradient as it is.")
    elif last.clip.fired:
        st.caption(f"Clipping **fired** on step {last.step:,} ({c.clip}, c = {c.clip_value:g}): the dark bars are what "
                   "the update used.")
    else:
        st.caption(f"Clipping is on ({c.clip}, c = {c.clip_value:g}) but did not fire on step {last.step:,}.")


@guarded("the text sample")
def sample_view(sess: AppSession) -> None:
    tr = sess.trainer
    cols = st.columns([2, 1, 1], vertical_alignment="center")
    cols[0].markdown("**What the model writes now** (a fresh sample every N steps)")
    every = cols[1].select_slider("every N steps", [10, 25, 50, 100, 250, 500, 1000],
                                  value=sess.extras.get("sample_every", 100), key="sample_every")
    temp = cols[2].select_slider("temperature", [0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0],
                                 value=sess.extras.get("sample_temp", 0.8), key="sample_temp")
    sess.extras["sample_every"], sess.extras["sample_temp"] = every, temp

    def draw() -> tuple[str, int]:
        tok = tr.tokenizer
        prime = tr.data[:1]
        n = 200 if tok.level == "char" else 60
        res = sample(tr.params, prime, n, temperature=temp, seed=tr.config.seed + tr.step_count, cell=tr.config.cell)
        tokens = [tok.token_text(i) for i in res.ids]
        return (sample_html(tok.decode(prime), tokens, res.probs, joiner="" if tok.level == "char" else " "),
                tr.step_count, least_sure(tokens, res.probs))

    body, drawn_at, words = memo_args(sess, SAMPLE_KEY, (tr.step_count // every, temp), draw)
    st.html(body)
    st.caption(f"Sampled at step {drawn_at:,} with temperature {temp}, starting from the text's first token. "
               "Colour: the probability the model gave each token, pale (a surprise) to dark blue (sure); hover "
               f"for it. {words} " + what_to_watch(tr.tokenizer.vocab, tr.data, tr.tokenizer.level))


def vocab_view(sess: AppSession) -> None:
    tr = sess.trainer
    tok = tr.tokenizer
    with st.expander(f"Vocabulary (V = {tr.vocab_size}) and how the text is cut into windows"):
        st.markdown(
            f"The text is **{tr.data.size:,} {'characters' if tok.level == 'char' else 'tokens'}**. Each step reads a "
            f"window of T = {tr.config.seq_len} inputs and predicts the next token at every position; the next window "
            f"starts where this one ended and carries the hidden state over. One pass over the text is "
            f"**{tr.windows_per_pass():,} windows**; the next window starts at token {tr.state.pos:,}."
        )
        shown = [t for t in tok.vocab[:400]]
        from rnnviz.figures.common import visible
        st.code("  ".join(visible(t) for t in shown) + ("  …" if tr.vocab_size > 400 else ""), language=None, wrap_lines=True)


# ---------------------------------------------------------------------------- page
def draw_panel(sess: AppSession) -> Callable[[int], None]:
    """Draw the live panel; returns redraw(frame), which redraws only its fast-changing part.

    Fast (every play frame): the divergence banner, the numbers, the gradient per time step and the
    window. Slow (once per play run, every play.LOOP_S or more): the loss curve, the gradient heatmap,
    the norms per weight and the text sample (and, with Interactive charts on, plotly costs the browser
    ~100 ms per chart to draw).
    """
    banner = Slot(st.empty())
    numbers = metric_slots()
    left, right = st.columns(2)
    with left:
        loss_chart(sess)
    with right:
        reach_header()
        reach_slot, verdict_slot = Slot(st.empty()), Slot(st.empty())
        reach_caption(sess)
        if not present.on():   # built while open only; while playing it follows each play run (every few s)
            charts.show_table(lambda: reach_table_data(sess), key="table_reach", formats={"fraction left": "%.4g"})
    st.markdown("**The window just trained on**: what the model read, what it had to predict, and how sure it was")
    window_slot = Slot(st.empty())
    if not present.on():   # the presentation view shows the headline charts only
        left, right = st.columns(2)
        with left:
            dh_history(sess)
        with right:
            norms_chart(sess)
        cell_section(sess, sess.extras.get("dh_log", True))
        sample_view(sess)

    def redraw(frame: int) -> None:  # frame: 0 for the first draw of a run, then 1, 2, …
        divergence_banner(sess, banner)
        metrics(sess, numbers)
        # The reach costs one extra backward pass: while playing it is redrawn every REACH_EVERY-th frame
        # (5 a second at 15 frames/s, still labelled with its own step), so training keeps its share.
        if frame % REACH_EVERY == 0:
            fill(reach_slot, "the gradient-reach chart", lambda: draw_reach(sess, reach_slot, verdict_slot))
        fill_html(window_slot, "the window view", lambda: window_body_html(sess))

    redraw(0)
    return redraw


def live_panel() -> None:
    """The fragment: one draw when paused; while playing, a play run (rnnviz.ui.play).

    Paused, the buttons live in here, so a Step click reruns only this panel (not the sidebar and
    the rest of the page: measurably cheaper with many users). Playing, they live outside: only a
    full rerun can interrupt a running play run."""
    sess = get_session()
    if sess.playing != sess.extras.get("fragment_playing"):
        st.rerun()  # Play was pressed in here: a full run moves the buttons out and starts the timer
    cpu0 = time.thread_time()
    was_playing = sess.playing
    if not sess.playing:
        controls(sess)
        if welcome.outdated(sess):
            st.rerun()   # the first Step: a full run takes the newcomer's welcome off the page
    beat = st.empty()  # an invisible element to touch while a play run waits (see play.sleep)
    if sess.playing:
        play.wait_turn(beat.empty)
        play.train_frame(sess)
    redraw = draw_panel(sess)
    if sess.playing:
        play.loop(sess, redraw, cpu0, beat.empty)
    sess.autosave()  # play runs rerun only this fragment, so save here too (throttled while playing)
    if was_playing and not sess.playing:
        st.rerun()  # training diverged: a full run shows Play again and stops the fragment's timer


def main() -> None:
    sess = setup_page()
    page_header(
        sess, "Train a recurrent network on your text",
        "Each **Step** is one SGD update: the RNN reads a window of T tokens, predicts the next token at every "
               "position, and backpropagation through time (BPTT) sends the error back through the window. "
               "Everything below updates after every step.",
        "Each Step is one SGD update through time; watch the loss and the gradient reaching back.",
    )
    welcome.show(sess)   # a newcomer's first screen: what rnnviz is, the lesson or your own text
    if sess.playing:
        controls(sess)
        st.caption(f"Playing: the numbers, the gradient per time step and the window redraw about "
                   f"{1 / play.FRAME_S:.0f} times a second; the loss curve, the heatmap, the norms and the sample "
                   f"every {play.LOOP_S:g} seconds. To hover and zoom: pause and switch on Interactive charts.")
    st.html(STRIP_CSS + VERDICT_CSS)  # once per page, outside the live panel: its frames then insert no <style>
    panel = st.container()
    if not present.on():
        takeaway.downloads(sess)
        vocab_view(sess)
    sess.extras["fragment_playing"] = sess.playing
    with panel:  # drawn last, so that a play run looping inside it never holds up the rest of the page
        st.fragment(live_panel, run_every=play.RESTART_S if sess.playing else None)()


main()
