"""Charts of the session's model as (spec, alt text, caption), for pages that show them outside their home page.

The lesson draws each chapter's charts from the same spec functions as the pages it borrows from (rnnviz.figures:
the Train page's loss and reach, the Lab's decay and truncation sweep, the explorer's unrolled network and dW, the
race's scores and reach matrices); this module only gathers their arguments from the session, and writes the text
alternative and the caption from the numbers drawn. A page draws a View with ``draw`` below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from rnnviz.bptt import gradient_reach, loss_and_grads
from rnnviz.explain_cells import cell_trace
from rnnviz.figures.cells import state_grads_spec
from rnnviz.figures.common import THEME, chart_config, fast_figure
from rnnviz.figures.explorer import matrix_heatmap_spec, unrolled_graph_spec
from rnnviz.figures.lab import reach_decay_spec, sweep_spec, twin_metric_spec
from rnnviz.figures.race import race_score_spec, reach_panel_spec, reach_range, reach_sentence, score_sentence
from rnnviz.figures.tokens import window_html
from rnnviz.figures.train import grad_norms_spec, loss_spec, reach_spec, smoothing_window, trailing_mean
from rnnviz.params import param_names
from rnnviz.spectrum import reach_decay
from rnnviz.truncation import truncation_sweep
from rnnviz.ui import charts, present
from rnnviz.ui.state import AppSession
from rnnviz.vanish import against_rho, sweep_reading, total_gradient_reading, verdict, window_reach


@dataclass
class View:
    """spec: a chart spec (or None when html is given); html: escaped HTML to show instead; alt: the chart's numbers
    in words (its text alternative); caption: what to notice, computed from the same numbers; plotly: draw with
    plotly (charts the SVG pictures do not draw: arrows, diverging heat maps)."""

    alt: str
    caption: str = ""
    spec: dict | None = None
    html: str | None = None
    plotly: bool = False


def draw(sess: AppSession, view: View, key: str, filename: str) -> None:
    if view.html is not None:
        st.html(view.html)
    elif view.plotly:
        st.plotly_chart(fast_figure(present.enlarge(view.spec)), theme=THEME, config=chart_config(filename), key=key)
        st.caption(f"Chart, in words: {view.alt}")
    else:
        charts.draw(sess, present.enlarge(view.spec), key=key, alt=view.alt, filename=filename)
    if view.caption:
        st.caption(view.caption)


# ---------------------------------------------------------------------------- the Train page's charts
def loss(sess: AppSession) -> View:
    tr = sess.trainer
    h = tr.history
    steps, values = h.column("step"), h.column("loss")
    clipped = steps[h.column("clipped").astype(bool)] if len(h) else steps
    w = smoothing_window(tr.step_count)
    smooth = trailing_mean(steps, values, w)
    spec = loss_spec(steps, values, smooth, tr.baseline_loss, clipped, (), (), smooth_name=f"mean of the last {w} steps")
    if not len(h):
        return View(f"No training step yet; a model that knows nothing scores ln V = {tr.baseline_loss:.3f}.",
                    "The loss per token appears here after the first Step.", spec)
    alt = (f"Loss per token over {tr.step_count:,} steps: the last window's {values[-1]:.3f}, the mean of the last {w} "
           f"steps {smooth[-1]:.3f}; ln V = {tr.baseline_loss:.3f}" + (f"; clipping fired on {clipped.size:,} steps"
                                                                       if clipped.size else "") + ".")
    where = ("below" if smooth[-1] < tr.baseline_loss else "above")
    return View(alt, f"Blue: each window's loss; orange: the mean of the last {w} steps, now {smooth[-1]:.3f}, {where} the "
                     f"dashed line ln V = {tr.baseline_loss:.3f}." + (" Red ticks: steps where clipping fired."
                                                                     if clipped.size else ""), spec)


def reach(sess: AppSession) -> View:
    tr = sess.trainer
    xs, ys, h0 = tr.next_window()
    ratio, n_terms = window_reach(tr.params, xs, ys, h0, cell=tr.config.cell)
    v = verdict(ratio)
    shown = range(0, ratio.size, max(1, ratio.size // 8))
    alt = ("Fraction of a loss term's gradient left d steps back: " + ", ".join(f"d = {d}: {ratio[d]:.2g}" for d in shown)
           + ".")
    words = f"The gradient {v.text}" if v is not None else "Nothing to measure on a window of one step."
    return View(alt, "How much of a loss term's gradient is left d steps back (log scale), on the window the next Step "
                     f"trains on. {words}", reach_spec(ratio, n_terms, tr.config.effective_truncate))


def window(sess: AppSession) -> View:
    tr = sess.trainer
    tok = tr.tokenizer.token_text
    last = tr.last
    if last is None:
        xs, ys, _ = tr.next_window()
        body = window_html([tok(i) for i in xs], [tok(i) for i in ys], [1.0 / tr.vocab_size] * len(xs), ["?"] * len(xs))
        return View("The next window's tokens.", "Not trained on yet: the window the next Step reads.", html=body)
    body = window_html([tok(i) for i in last.inputs], [tok(i) for i in last.targets], last.p_target,
                       [tok(i) for i in last.predicted])
    p = np.asarray(last.p_target)
    return View("", f"The window of step {last.step:,}: under each input, the target and p_t[y_t], the probability the "
                    f"model gave it (from {p.min():.3f} to {p.max():.3f} here; 1/V = {1 / tr.vocab_size:.3f}).", html=body)


def norms(sess: AppSession) -> View:
    tr = sess.trainer
    last = tr.last
    c = tr.config
    if last is None:
        return View("", "The gradient norm of each weight appears after the next Step.",
                    html="<p>No step trained in this view yet.</p>")
    shown = param_names(tr.params)
    before = {k: v for k, v in last.clip.norms_before.items() if k in shown}
    after = {k: v for k, v in last.clip.norms_after.items() if k in shown}
    alt = (f"Gradient norm of each weight on step {last.step:,}, before → after clipping: "
           + ", ".join(f"{k} {before[k]:.3g} → {after[k]:.3g}" for k in before))
    what = ("clipping is off" if c.clip == "none" else
            f"clipping fired ({c.clip}, c = {c.clip_value:g}): the dark bars are what the update used" if last.clip.fired
            else f"clipping ({c.clip}, c = {c.clip_value:g}) did not fire")
    return View(alt, f"‖∂L/∂θ‖ = {last.clip.global_before:.3g} before clipping on step {last.step:,}; {what}.",
                grad_norms_spec(before, after, c.clip, c.clip_value, last.clip.max_abs_before))


def total(sess: AppSession) -> View:
    tr = sess.trainer
    xs, ys, h0 = tr.next_window()
    res = loss_and_grads(tr.params, xs, ys, h0, tr.config.effective_truncate, cell=tr.config.cell)
    T = xs.size
    alt = (f"Total gradient ‖∂L/∂h_t‖ at each step t = 1 … {T} of the next window: from {res.dh_norms[0]:.3g} at t = 1 "
           f"to {res.dh_norms[-1]:.3g} at t = {T}.")
    return View(alt, "The total gradient at each step of the window (log scale). " + total_gradient_reading(res.dh_norms),
                state_grads_spec({"h": res.dh_norms}))


# ---------------------------------------------------------------------------- the Lab's charts
def decay(sess: AppSession) -> View:
    tr = sess.trainer
    R = gradient_reach(tr.params, *tr.next_window(), cell=tr.config.cell)
    dec = reach_decay(R)
    spec = tr.spectrum()
    m = tr.cell.spectrum_of
    d10 = int(min(10, dec.d[-1]))
    alt = f"Measured reach by distance against ρ({m})^d with ρ = {spec.rho:.3g}: at d = {d10}, {dec.typical[d10]:.2g}."
    return View(alt, f"Blue: the measured reach; red: ρ({m})^d with ρ({m}) = {spec.rho:.3g}; dotted: σ_max^d."
                + against_rho(dec.typical, spec.rho),
                reach_decay_spec(dec.d, dec.typical, dec.low, dec.high, spec.rho, spec.sigma_max, matrix=m))


def sweep(sess: AppSession) -> View:
    tr = sess.trainer
    sw = truncation_sweep(tr.params, *tr.next_window(), cell=tr.config.cell)
    k = tr.config.effective_truncate
    err = sw.rel_error["all"]
    alt = "Error of the truncated gradient for k = 0 … T − 1: " + ", ".join(
        f"k = {i}: {err[i]:.2g}" for i in range(0, err.size, max(1, err.size // 6))) + "."
    return View(alt, "‖g_k − g‖ / ‖g‖ of the gradient truncated at k, against full BPTT, on the next window."
                + sweep_reading(sw.ks, err), sweep_spec(sw.ks, sw.rel_error, k))


def twin_loss(sess: AppSession, run) -> View:
    a, b = run.series(run.a), run.series(run.b)
    base = run.a.trainer.baseline_loss
    if not a["step"].size:
        return View("", "Both twins' losses appear here once they have stepped.", html="<p>The twins have not stepped yet.</p>")
    alt = (f"Loss per token of twin A ({run.a.label}) and twin B ({run.b.label}) over {a['step'][-1]:,} steps: "
           f"now {a['loss'][-1]:.3f} and {b['loss'][-1]:.3f}; ln V = {base:.3f}.")
    return View(alt, "Same first weights, same windows: the gap between the curves is the optimizer's doing.",
                twin_metric_spec(a["step"], a["loss"], b["loss"], f"A: {run.a.label}", f"B: {run.b.label}",
                                 "loss per token (nats)", hline=base, hline_text=f"untrained: ln V = {base:.2f}"))


# ---------------------------------------------------------------------------- the explorer's charts
def graph(sess: AppSession) -> View:
    tr = sess.trainer
    xs, ys, h0 = tr.next_window()
    tc = cell_trace(tr.params, xs, ys, h0, None, cell=tr.config.cell)
    tok = tr.tokenizer.token_text
    n = tc.norms()
    t = tc.T - 1
    spec = unrolled_graph_spec([tok(i) for i in tc.inputs], [tok(i) for i in tc.targets], t, None, n["dh"], tc.losses,
                               dc_norms=n.get("dc"), recurrence=tr.cell.recurrence)
    return View(f"The unrolled network of the next window, T = {tc.T}, with the backward pass at its last step: "
                f"‖∂L/∂h_T‖ = {n['dh'][t]:.3g}.", "The window unrolled: x_t → h_t → o_t → L_t, and h_(t−1) → h_t; the "
                "backward pass starts at the last step. Open the BPTT explorer to walk it back step by step.",
                spec, plotly=True)


def dw(sess: AppSession) -> View:
    tr = sess.trainer
    xs, ys, h0 = tr.next_window()
    tc = cell_trace(tr.params, xs, ys, h0, None, cell=tr.config.cell)
    if "W" not in param_names(tr.params):
        return View("", f"The {tr.cell.title} has no recurrent matrix W: there is no dW to fill in.",
                    html="<p>No W in this cell.</p>")
    full = tc.running("W", 0)
    share = np.array([tc.term_norms(s)["W"] for s in range(tc.T)]) / max(tc.running_norms(0)["W"], 1e-300)
    alt = (f"The window's dW = the sum of {tc.T} outer products; the terms' norms as shares of ‖dW‖: "
           + ", ".join(f"t = {s + 1}: {share[s]:.0%}" for s in range(0, tc.T, max(1, tc.T // 6))) + ".")
    return View(alt, "dW over the whole window: every row is a sum of multiples of the h_(t−1), one per step.",
                matrix_heatmap_spec(full, colorbar_title="dW", blocks=tr.cell.block_names), plotly=True)


# ---------------------------------------------------------------------------- the race's charts
def race_scores(sess: AppSession, race) -> View:
    rows = race.summary()
    series = {rc.title: (race.series(c)["eval_steps"], race.series(c)["accuracy"]) for c, rc in race.racers.items()}
    alt = (f"Right closing markers per model at race step {race.steps:,}: "
           + ", ".join(f"{r['label']} {r['accuracy']:.0%}" for r in rows) + f"; chance {race.chance:.0%}.")
    return View(alt, score_sentence(rows, race.chance), race_score_spec(series, race.chance))


def race_reaches(sess: AppSession, race) -> tuple[list[tuple[str, dict]], str]:
    """[(label, panel spec)] and the sentence that reads them."""
    panels, parts = {}, {}
    for cell, rc in race.racers.items():
        for part, R in race.reaches(cell).items():
            label = rc.title if part == "h" else f"{rc.title} through {part}"
            panels[label], parts[label] = R, part
    zr = reach_range(panels)
    d = race.dependency_distance()
    specs = [(label, reach_panel_spec(R, zr, label, parts[label], colorbar=i == len(panels) - 1))
             for i, (label, R) in enumerate(panels.items())]
    return specs, reach_sentence(panels, d)
