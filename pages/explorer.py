"""BPTT explorer: the backward pass over the next window, one time step at a time."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from rnnviz.explain import BackwardTrace, backward_trace, gradient_check_plan
from rnnviz.explain_cells import CellTrace, cell_trace
from rnnviz.figures.explorer import (
    MAX_UNITS,
    WEIGHT_COLOURS,
    dh_compare_figure,
    gradcheck_figure,
    matrix_heatmap,
    unrolled_graph,
    visible_steps,
)
from rnnviz.figures.palette import NAMES
from rnnviz.gradcheck import gradient_check
from rnnviz.gradcheck import verdict as check_verdict
from rnnviz.params import param_names
from rnnviz.terms import TERM_NAMES
from rnnviz.truncation import truncation_gap
from rnnviz.ui import a11y, charts
from rnnviz.ui.fmt import md_token, num
from rnnviz.ui.guard import guarded
from rnnviz.ui.memo import memo, page_state, peek, store
from rnnviz.ui.page import page_header, setup_page
from rnnviz.ui.state import AppSession

P = "explorer_"                      # every sess.extras key of this page starts with this


# ---------------------------------------------------------------------------- state and engine calls
def terms_table(sess: AppSession, tc, t: int, k, s: int, T: int) -> pd.DataFrame:
    """Each weight gradient's term added at step s, the running sum of steps s…T and the whole gradient."""
    term = tc.term_norms(t)
    run = memo(sess, P + "running_norms", (t, k), lambda: tc.running_norms(t))
    full = memo(sess, P + "whole_norms", (k,), lambda: tc.running_norms(0))
    names = [p for p in TERM_NAMES if p in param_names(sess.trainer.params)]   # a cell without W has no dW row
    return pd.DataFrame({
        "parameter": [f"d{p}" for p in names],
        f"‖term added at t = {s}‖": [term[p] for p in names],
        f"‖sum of steps {s}…{T}‖": [run[p] for p in names],
        "‖whole gradient (t = 1…T)‖": [full[p] for p in names],
    })


def show_terms_table(table: pd.DataFrame) -> None:
    st.dataframe(table, hide_index=True, width="stretch", key=f"{P}terms_table",
                 column_config={c: st.column_config.NumberColumn(format="%.4g") for c in table.columns[1:]})


def position(sess: AppSession) -> tuple[int, int | None]:
    """(t, k): the backward pass's current step (0-based; starts at T − 1) and the truncation."""
    ps = page_state(sess, P)
    T = sess.config.seq_len
    k = ps.setdefault("k", sess.config.effective_truncate)
    t = min(max(ps.setdefault("t", T - 1), 0), T - 1)
    return t, (None if k is None or k >= T - 1 else k)


def trace(sess: AppSession, k: int | None) -> BackwardTrace | CellTrace:
    """The step-by-step backward pass of the window the next Step will train on (memoised): the
    vanilla RNN's written out from its equations (rnnviz.explain), any other cell's from its own
    back_step (rnnviz.explain_cells)."""
    tr = sess.trainer

    def compute():
        xs, ys, h0 = tr.next_window()
        build = backward_trace if tr.cell.step_by_step else cell_trace
        return build(tr.params, xs, ys, h0, k, cell=tr.config.cell)

    return memo(sess, P + ("trace_full" if k is None else "trace_k"), (k,), compute)


def _slider_key(sess: AppSession) -> str:
    return f"{P}t_{sess.generation}"


def _k_key(sess: AppSession) -> str:
    return f"{P}k_{sess.generation}"


def follow_trainer_k(sess: AppSession) -> None:
    """Show the trainer's k: at first, and again whenever it is changed in the sidebar (the k
    slider here explores other values without touching the trainer)."""
    ps = page_state(sess, P)
    k = sess.config.effective_truncate
    if ps.get("trainer_k", "unset") != k:
        ps["trainer_k"] = ps["k"] = k
        st.session_state[_k_key(sess)] = sess.config.seq_len - 1 if k is None else k


def set_t(sess: AppSession, t: int) -> None:
    """Move the backward pass to step t (0-based, clamped); the slider follows."""
    ps = page_state(sess, P)
    ps["t"] = min(max(int(t), 0), sess.config.seq_len - 1)
    st.session_state[_slider_key(sess)] = ps["t"] + 1


def move_t(sess: AppSession, delta: int) -> None:
    """Back (delta = −1) or Forward (+1) from wherever the backward pass is when clicked."""
    set_t(sess, position(sess)[0] + delta)


def _on_slider(sess: AppSession) -> None:
    page_state(sess, P)["t"] = int(st.session_state[_slider_key(sess)]) - 1


def _on_k(sess: AppSession, key: str) -> None:
    T = sess.config.seq_len
    k = st.session_state[key]
    page_state(sess, P)["k"] = None if k >= T - 1 else int(k)


def check_plan(sess: AppSession, k: int | None) -> tuple[int, float]:
    """(entries per parameter, estimated seconds) of the gradient check for this model and k."""
    tr = sess.trainer
    return gradient_check_plan(tr.config.seq_len, k, tr.config.hidden_size, tr.vocab_size, blocks=tr.cell.blocks)


def run_gradient_check(sess: AppSession, k: int | None) -> None:
    """Finite differences on sampled entries of every parameter; the result is kept for this state."""
    tr = sess.trainer
    xs, ys, h0 = tr.next_window()
    entries, _ = check_plan(sess, k)
    t0 = time.perf_counter()
    errors = gradient_check(tr.params, xs, ys, h0, k, max_entries=entries, cell=tr.config.cell)
    store(sess, P + "gradcheck", (k,), {"errors": errors, "entries": entries, "seconds": time.perf_counter() - t0})


# ---------------------------------------------------------------------------- sections
def intro(sess: AppSession) -> None:
    tr = sess.trainer
    page_header(
        sess, "BPTT explorer · backpropagation through time, one step at a time",
        f"The window below is exactly what the next **Step** on the Train page will learn from (model at step "
        f"{tr.step_count:,}, T = {tr.config.seq_len}). The forward pass runs left to right; the backward pass "
        "starts at the last step t = T and walks back to t = 1. Step through it with **Back** and **Forward**.",
    )


@guarded("the backward-pass controls")
def controls(sess: AppSession) -> None:
    T = sess.config.seq_len
    t, k = position(sess)
    trainer_k = sess.config.effective_truncate
    c = st.columns([1.9, 0.85, 1.05, 0.85, 2.8], vertical_alignment="bottom")
    if T >= 2:
        key = _k_key(sess)
        if key not in st.session_state:
            st.session_state[key] = T - 1 if k is None else k
        c[0].select_slider(
            "Truncation k (T − 1 = full BPTT)", list(range(T)), key=key, on_change=_on_k, args=(sess, key),
            format_func=lambda v: f"{v} (full)" if v == T - 1 else str(v),
            help="Each loss term L_s may send its gradient back at most k steps. Trying a k here does not change "
                 "the trainer, which uses " + ("full BPTT." if trainer_k is None else f"k = {trainer_k}."))
    else:
        c[0].caption("T = 1: there is nothing to truncate.")
    c[1].button("Back", icon=":material/arrow_back:", key=f"{P}back", on_click=move_t, args=(sess, -1),
                disabled=t == 0, width="stretch", help="t → t − 1: the backward pass goes one step further back")
    c[2].button("Forward", icon=":material/arrow_forward:", key=f"{P}forward", on_click=move_t, args=(sess, 1),
                disabled=t == T - 1, width="stretch", help="t → t + 1: undo one step of the backward pass")
    c[3].button("t = T", icon=":material/replay:", key=f"{P}restart", on_click=set_t, args=(sess, T - 1),
                disabled=t == T - 1, width="stretch", help="Start the backward pass again at the last step")
    if T >= 2:
        skey = _slider_key(sess)
        if skey not in st.session_state:
            st.session_state[skey] = t + 1
        c[4].slider("Time step t of the backward pass", 1, T, key=skey, on_change=_on_slider, args=(sess,))


@guarded("the unrolled network")
def graph(sess: AppSession) -> None:
    tr = sess.trainer
    t, k = position(sess)
    tc = trace(sess, k)
    tok = tr.tokenizer.token_text
    T = tc.T
    st.markdown(f"**The unrolled network** of this window · backward pass at **t = {t + 1}** of T = {T}"
                + ("" if k is None else f" · truncated at k = {k}"))
    norms = tc.norms()
    fig = memo(sess, P + "fig_graph", (t, k), lambda: unrolled_graph(
        [tok(i) for i in tc.inputs], [tok(i) for i in tc.targets], t, k, norms["dh"], tc.losses,
        dc_norms=norms.get("dc"), recurrence=tr.cell.recurrence))
    lo, hi = visible_steps(T, t)
    weights = "U and V" if "W" not in param_names(tr.params) else "U, W and V"
    charts.plotly(fig, key=f"{P}chart_graph", alt=(
        f"The unrolled network, time steps {lo + 1} to {hi + 1} of T = {T}: inputs x, hidden states h, outputs o and "
        f"losses L in rows, the shared weights {weights} on the arrows. The backward pass is at t = {t + 1}, where "
        f"‖∂L/∂h_{t + 1}‖ = {norms['dh'][t]:.3g}" + ("" if k is None else f"; truncated at k = {k}") + "."))
    shown = "" if T <= 12 else " Only 12 steps around t are drawn; “…” stands for the rest."
    cut = ("" if k is None else
           f" Grey losses and the ✂ on W: terms more than k = {k} steps after t whose gradient is cut before h_t.")
    highway = ""
    if "dc" in norms:
        dc = norms["dc"]
        highway = (f" Diamonds: the cell state c. Going back along c_t → c_(t−1) multiplies the gradient by f_t only "
                   f"(thick red: the edges later losses take back to c_{t + 1}); here ‖∂L/∂c_{t + 1}‖ = {dc[t]:.3g}, "
                   f"‖∂L/∂h_{t + 1}‖ = {norms['dh'][t]:.3g}.")
    st.caption(f"Same colour, same weights: one U ({NAMES[WEIGHT_COLOURS['U']]}) and one V ({NAMES[WEIGHT_COLOURS['V']]}), "
               f"each labelled on its arrows, are used at every step; {tr.cell.recurrence_note} "
               f"({NAMES[WEIGHT_COLOURS['W']]} arrows, labelled {tr.cell.recurrence}). "
               "Red glow: where the gradient flows now (strong) and the path by which later losses reach h_t (faint); "
               "h nodes already visited are shaded by ‖∂L/∂h_t‖." + highway + cut + shown)


def _eq_row(latex: str, numbers: str, *, key: str, words: str) -> None:
    """An equation (key: unique on the page; words: the equation read in words) beside this window's numbers."""
    left, right = st.columns([1.15, 1], vertical_alignment="center")
    a11y.latex(latex, key=key, help=words, into=left)
    right.markdown(numbers)


def _output_row(tok, out: dict, s: int) -> None:
    """The first equation of every backward step, ∂L_s/∂o_s = p_s − onehot(y_s), beside its numbers
    (out: the trace's output_summary; tok: id → token text)."""
    pushes = ", ".join(f"{md_token(tok(i))} {num(v)}" for i, v in out["others"])
    # p within 0.0005 of 1 rounds to "1" at 3 digits, and "1 − 1 = −4.9e−07" would read as a slip:
    # write such a p as 1 minus what is left.
    p = num(out["p_target"]) if out["target_entry"] < -5e-4 else f"1 − {num(-out['target_entry'])}"
    _eq_row(
        rf"\frac{{\partial L_{{{s}}}}}{{\partial o_{{{s}}}}} = p_{{{s}}} - \mathrm{{onehot}}(y_{{{s}}})",
        f"Target y = {md_token(tok(out['target']))} had p = {p}, so its entry is "
        f"p − 1 = **{num(out['target_entry'])}**; the largest others: {pushes}. "
        f"‖·‖ = {num(out['norm'])}, L_{s} = −log p = {num(out['loss'])} nats.",
        key="out", words=f"The gradient of L_{s} at the output o_{s} is the predicted probabilities p_{s} minus 1 at the "
                         f"target y_{s}.")


@guarded("the equations at this step")
def cell_equations(sess: AppSession) -> None:
    """Any cell: its forward and backward equations (from the cell) beside this window's norms."""
    tr = sess.trainer
    cell = tr.cell
    t, k = position(sess)
    tc = trace(sess, k)
    T, s = tc.T, t + 1
    tok = tr.tokenizer.token_text
    out = tc.output_summary(t)
    n = {name: v[t] for name, v in tc.norms().items()}
    st.markdown(f"**At t = {s}: the {cell.title}'s backward pass, with this window's numbers**")
    with st.expander(f"The {cell.title}'s forward equations"):
        for i, eq in enumerate(cell.equations):
            a11y.latex(eq, key=f"fwd{i}", help=f"The {cell.title}'s forward equation {i + 1} of {len(cell.equations)}.")
    _output_row(tok, out, s)
    parts = []
    for p in tc.state_parts:
        own = f"{num(n[f'd{p}_own'])} from its own output, " if n[f"d{p}_own"] > 0 else ""
        cut = (f" (truncation cut {num(n[f'd{p}_cut'])})" if k is not None and n[f"d{p}_cut"] > 0 else "")
        parts.append(f"‖∂L/∂{p}_{s}‖ = **{num(n[f'd{p}'])}**: {own}{num(n[f'd{p}_future'])} from step {s + 1}{cut}")
    blocks = ", ".join(f"‖δ^{b}‖ = {num(v)}" for b, v in tc.block_norms(t).items())
    eqs = cell.backward_equations or ()
    left, right = st.columns([1.3, 1], vertical_alignment="center")
    with left:
        for i, eq in enumerate(eqs):
            a11y.latex(eq, key=f"bwd{i}", help=f"The {cell.title}'s backward equation {i + 1} of {len(eqs)}: one "
                                               "step back, from the gradient at s_t to the one at s_(t−1).")
    right.markdown("  \n".join(parts) + f"  \nPre-activation gradients of the blocks {', '.join(cell.block_names)}: "
                   f"{blocks}; ‖δ_{s}‖ = **{num(n['delta'])}**.")
    table = terms_table(sess, tc, t, k, s, T)
    dw = f"dW += δ^W_{s} h_{s - 1}ᵀ, " if "W" in param_names(tr.params) else ""
    st.markdown(f"{dw}dU[:, x_{s}] += δ_{s}, db += δ_{s}, dV += ∂L_{s}/∂o_{s} h_{s}ᵀ, "
                f"dc += ∂L_{s}/∂o_{s} ({len(cell.block_names)} block(s) of H rows in δ):")
    show_terms_table(table)


@guarded("the equations at this step")
def equations(sess: AppSession) -> None:
    tr = sess.trainer
    t, k = position(sess)
    tc = trace(sess, k)
    T, s = tc.T, t + 1
    tok = tr.tokenizer.token_text
    out = tc.output_summary(t)
    n = {name: v[t] for name, v in tc.norms().items()}
    st.markdown(f"**At t = {s}: the equations, with this window's numbers**")

    _output_row(tok, out, s)

    if t == T - 1:
        future_tex, future_txt = r"\underbrace{W^\top \delta_{T+1}}_{=\,0}", "nothing comes after the last step"
    elif k is None:
        future_tex, future_txt = rf"W^\top \delta_{{{s + 1}}}", f"‖Wᵀδ_{s + 1}‖ = {num(n['dh_future'])} from the future"
    elif k == 0:
        future_tex = rf"\underbrace{{W^\top \tilde\delta_{{{s + 1}}}}}_{{=\,0 \text{{ for }} k = 0}}"
        future_txt = f"with k = 0 nothing from later steps is kept (truncation cut ‖·‖ = {num(n['cut'])})"
    else:
        future_tex = rf"W^\top \tilde\delta_{{{s + 1}}}"
        future_txt = (f"‖Wᵀδ̃_{s + 1}‖ = {num(n['dh_future'])} from L_{s + 1}…L_{min(s + k, T)} only"
                      + (f"; truncation cut ‖·‖ = {num(n['cut'])} from L_{s + k + 1}" if s + k + 1 <= T else ""))
    _eq_row(
        rf"\frac{{\partial L}}{{\partial h_{{{s}}}}} = "
        rf"V^\top \frac{{\partial L_{{{s}}}}}{{\partial o_{{{s}}}}} + {future_tex}",
        f"‖Vᵀ ∂L_{s}/∂o_{s}‖ = {num(n['dh_own'])} from its own output, {future_txt}: "
        f"‖∂L/∂h_{s}‖ = **{num(n['dh'])}**.",
        key="dh", words=f"The gradient at h_{s} is what its own output sends back through V transposed, plus what step "
                        f"{s + 1} sends back through W transposed.")

    gate = tc.gate_stats(t)
    _eq_row(
        rf"\delta_{{{s}}} = (1 - h_{{{s}}}^2) \odot \frac{{\partial L}}{{\partial h_{{{s}}}}}",
        f"tanh′ = 1 − h² averages {num(gate['mean_gate'])} here (1 lets everything through, 0 blocks); "
        f"{gate['saturated']:.0%} of units are saturated (|h| > 0.95). ‖δ_{s}‖ = **{num(n['delta'])}**.",
        key="delta", words=f"δ_{s} is the gradient at h_{s} times tanh's derivative 1 − h_{s}², entry by entry.")

    x_tok = md_token(tok(int(tc.inputs[t])))
    d, dl_do, pe = rf"\delta_{{{s}}}", rf"\frac{{\partial L_{{{s}}}}}{{\partial o_{{{s}}}}}", r"&\mathrel{+}="
    _eq_row(
        rf"\begin{{aligned}} dW {pe} {d}\, h_{{{s - 1}}}^\top & dU_{{:,\,x_{{{s}}}}} {pe} {d} & db {pe} {d} \\ "
        rf"dV {pe} {dl_do}\, h_{{{s}}}^\top & dc {pe} {dl_do} \end{{aligned}}",
        f"x_{s} = {x_tok}: only column {x_tok} of U gets a gradient at this step. The table shows each term, the sum "
        f"of the terms of steps {s}…{T} so far, and the window's whole gradient.",
        key="dw", words=f"Step {s} adds δ_{s} times h_{s - 1} transposed to dW, δ_{s} to column x_{s} of dU and to db, and "
                        f"the output gradient times h_{s} transposed to dV and itself to dc.")
    table = terms_table(sess, tc, t, k, s, T)
    show_terms_table(table)
    with st.expander(f"The vectors at t = {s} (first 8 of H = {tc.hs.shape[0]} entries)"):
        vec = tc.vectors(t)
        frame = pd.DataFrame({name: v[:8] for name, v in vec.items()}).T
        st.dataframe(frame.rename(columns=lambda j: f"unit {j + 1}"), width="stretch", key=f"{P}vectors_table",
                     column_config={f"unit {j + 1}": st.column_config.NumberColumn(format="%.4f") for j in range(8)})
        st.caption(f"Here t = {s}. Row ∂L/∂h_t is the sum of the two rows above it; δ_t is it times 1 − h_t², "
                   "entry by entry.")


def _range_words(M) -> str:
    """A matrix's extent in words, for a heatmap's text alternative: its shape and its smallest and largest entry."""
    M = np.asarray(M, dtype=float)
    fin = M[np.isfinite(M)]
    if not fin.size:
        return f"{M.shape[0]}×{M.shape[1]} entries, none finite."
    return f"{M.shape[0]}×{M.shape[1]} entries from {fin.min():.3g} to {fin.max():.3g}."


def shown_rows(blocks: tuple[str, ...], H: int) -> str:
    """What the dW heatmaps leave out (rnnviz.figures.explorer.matrix_heatmap_spec), in a sentence."""
    G = len(blocks) if len(blocks) > 1 else 1
    per = min(H, max(1, MAX_UNITS // G))
    cols = f" and the first {MAX_UNITS} of its {H} columns" if H > MAX_UNITS else ""
    if G > 1:
        rows = f"the first {per} rows of each" if per < H else "every row of each"
        return f" dW stacks one block of H rows per gate ({', '.join(blocks)}): showing {rows}{cols}."
    return f" Showing the first {MAX_UNITS} of H = {H} units." if H > MAX_UNITS else ""


@guarded("the running dW heatmap")
def dw_heatmaps(sess: AppSession) -> None:
    t, k = position(sess)
    tc = trace(sess, k)
    s, T, H = t + 1, tc.T, tc.hs.shape[0]
    cell = sess.trainer.cell
    if "W" not in param_names(sess.trainer.params):
        st.markdown("**No dW to fill in**")
        st.info(f"The {cell.title} has no recurrent weight matrix W: its gates read only the input x_t. So the backward "
                f"pass through time fills only the columns of dU that the window's tokens use, and db; where the "
                f"gradient crosses from one step to the one before, it is multiplied by {cell.recurrence}, unit by unit, "
                "and nothing else (no weights to learn there).")
        return
    st.markdown(f"**dW fills in as the backward pass goes**: the term of step t = {s} and the sum of steps {s}…{T}")
    left, right = st.columns(2)
    with left:
        title = f"δ<sub>{s}</sub> h<sub>{s - 1}</sub><sup>T</sup>"
        blocks = sess.trainer.cell.block_names
        fig = memo(sess, P + "fig_dw_term", (t, k), lambda: matrix_heatmap(tc.term("W", t), colorbar_title=title,
                                                                           blocks=blocks))
        charts.plotly(fig, key=f"{P}chart_dw_term", alt=f"Heatmap of step {s}'s term of dW, δ_{s} h_{s - 1}ᵀ: "
                      + _range_words(tc.term("W", t)))
        st.caption(f"One step's term δ_{s} h_{s - 1}ᵀ is an outer product: every row is a multiple of h_{s - 1} "
                   "(the stripes), scaled by that unit's δ.")
    with right:
        fig = memo(sess, P + "fig_dw_running", (t, k), lambda: matrix_heatmap(
            tc.running("W", t), scale_of=tc.running("W", 0), colorbar_title="dW so far", blocks=blocks))
        charts.plotly(fig, key=f"{P}chart_dw_running", alt=f"Heatmap of dW summed over steps {s} to {T}: "
                      + _range_words(tc.running("W", t)) + f" The whole window's dW: {_range_words(tc.running('W', 0))}")
        st.caption("The colour scale is fixed to the whole window's dW, so you see it build up step by step; "
                   "at t = 1 it is exactly the gradient the next Step uses (before clipping)."
                   + shown_rows(blocks, H))


@guarded("the full vs truncated comparison")
def truncation(sess: AppSession) -> None:
    tr = sess.trainer
    t, k = position(sess)
    st.markdown("**Full vs truncated BPTT on this window**")
    if k is None:
        st.info("The explorer is showing full BPTT. Pick a k below T − 1 with the slider at the top to see which "
                "terms truncation drops and how far the truncated gradient is from the full one.")
        return
    gap = memo(sess, P + "gap", (k,), lambda: truncation_gap(tr.params, *tr.next_window(), k, cell=tr.config.cell))
    rows = [p for p in ("U", "W", "b", "V", "c") if p in gap] + ["all"]
    table = pd.DataFrame({
        "parameter": [f"d{p}" if p != "all" else "all weights" for p in rows],
        "‖g‖ full": [gap[p].full_norm for p in rows],
        f"‖g_k‖, k = {k}": [gap[p].truncated_norm for p in rows],
        "‖g_k − g‖": [gap[p].diff_norm for p in rows],
        "‖g_k − g‖ / ‖g‖": [gap[p].rel_error for p in rows],
    })
    left, right = st.columns([1.1, 1.2])
    with left:
        st.dataframe(table, hide_index=True, width="stretch", key=f"{P}gap_table",
                     column_config={c: st.column_config.NumberColumn(format="%.3g") for c in table.columns[1:]})
        st.caption(f"Relative error ‖g_k − g‖ / ‖g‖ = {gap['all'].rel_error:.2%} over all weights. dV and dc do "
                   "not change: they depend only on the forward pass.")
    with right:
        fig = memo(sess, P + "fig_dh_compare", (t, k), lambda: dh_compare_figure(
            trace(sess, None).norms()["dh"], trace(sess, k).norms()["dh"], k, t))
        full, cut = trace(sess, None).norms()["dh"], trace(sess, k).norms()["dh"]
        charts.plotly(fig, key=f"{P}chart_dh_compare", alt=(
            f"‖∂L/∂h_t‖ at every time step t = 1 to {full.size}, full BPTT (solid) against truncated k = {k} (dashed): at "
            f"t = 1 {full[0]:.3g} full, {cut[0]:.3g} truncated; at t = {full.size} {full[-1]:.3g} and {cut[-1]:.3g}."))
        st.caption("Where the dashed line falls below the solid one, gradient from losses more than k steps later "
                   "was dropped; the newest k + 1 steps lose nothing.")


@guarded("the gradient check")
def gradcheck(sess: AppSession) -> None:
    _, k = position(sess)
    st.markdown("**Gradient check**: are these gradients right? Compare them with finite differences "
                "(L(θ + ε) − L(θ − ε)) / 2ε on sampled weights.")
    entries, est = check_plan(sess, k)
    c = st.columns([1, 3], vertical_alignment="center")
    if c[0].button("Run the gradient check", key=f"{P}gradcheck_btn", type="primary", width="stretch"):
        with st.spinner(f"Finite differences on {entries} entries of each parameter (about {est:.1f} s)…"):
            run_gradient_check(sess, k)
    res = peek(sess, P + "gradcheck", (k,))
    if res is None:
        c[1].caption(f"Checks the weights and window shown above on {entries} random entries of each parameter "
                     f"(about {est:.1f} s)"
                     + ("" if k is None else f", with truncation k = {k}: against the loss in which the state k + 1 "
                                             "steps before each L_t is held fixed, whose exact gradient truncated "
                                             "BPTT is") + ".")
        return
    c[1].caption(f"Checked {res['entries']} random entries of each parameter in {res['seconds']:.2f} s: "
                 f"{check_verdict(res['errors'])}.")
    charts.plotly(gradcheck_figure(res["errors"]), key=f"{P}chart_gradcheck", alt=(
        "Relative error per parameter, analytic against numeric: "
        + ", ".join(f"d{name} {err:.1e}" for name, err in res["errors"].items()) + f"; {check_verdict(res['errors'])}."))
    st.caption("Relative error ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖) per parameter. Around 1e-8 is what "
               "central differences with ε = 1e-5 can resolve; a bug in BPTT shows up as 1e-2 or worse.")


def main() -> None:
    sess = setup_page()
    intro(sess)
    follow_trainer_k(sess)
    controls(sess)
    graph(sess)
    (equations if sess.trainer.cell.step_by_step else cell_equations)(sess)
    dw_heatmaps(sess)
    truncation(sess)
    gradcheck(sess)


main()
