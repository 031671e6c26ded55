"""Vanishing & exploding lab: how far back the gradient reaches, and why, measured on this model."""

from __future__ import annotations

import numpy as np
import streamlit as st

from rnnviz.bptt import gradient_reaches, loss_and_grads
from rnnviz.figures.cells import jacobian_sv_caption, jacobian_sv_figure, reach_parts_caption, reach_parts_figure
from rnnviz.figures.lab import (
    eigen_figure,
    reach_decay_figure,
    reach_heatmap,
    saturation_figure,
    spectrum_history_figure,
    sweep_figure,
    twin_metric_figure,
    twin_spectrum_figure,
)
from rnnviz.local_jacobian import local_jacobian
from rnnviz.presets import PRESETS_BY_KEY
from rnnviz.sample import hidden_states
from rnnviz.spectrum import SATURATED, reach_decay
from rnnviz.trainer import SPECTRUM_SCHEDULE
from rnnviz.truncation import truncation_sweep
from rnnviz.twin import TWIN_SETTINGS, TwinRun
from rnnviz.ui import budget, charts
from rnnviz.ui.guard import guarded
from rnnviz.ui.memo import memo, memo_args, page_state
from rnnviz.ui.page import page_header, setup_page
from rnnviz.ui.state import AppSession
from rnnviz.vanish import against_rho, sweep_reading, verdict

P = "lab_"                           # every sess.extras key of this page starts with this
SETTING_LABELS = {"clip": "Clipping on / off", "lr": "Learning rate η vs 10η", "truncate": "Full vs truncated BPTT",
                  "optimizer": "Optimizer: SGD vs Adagrad"}
CHOICES = TWIN_SETTINGS              # the race of the cells has its own page (pages/race.py)
TWIN_STEPS = (1, 10, 50)


# ---------------------------------------------------------------------------- engine calls (memoised per model state)
def reach(sess: AppSession, part: str = "h"):
    """R[t, k] = ‖∂L_t/∂s_k‖ through state part ``part`` on the next window (every part from one pass)."""
    tr = sess.trainer
    return memo(sess, P + "reaches", (),
                lambda: gradient_reaches(tr.params, *tr.next_window(), cell=tr.config.cell))[part]


def diagnostics(sess: AppSession):
    """The next window's loss, gradients and the cell's per-step diagnostics (saturation, gates)."""
    tr = sess.trainer
    def compute():
        xs, ys, s0 = tr.next_window()
        return loss_and_grads(tr.params, xs, ys, s0, cell=tr.config.cell)

    return memo(sess, P + "diag", (), compute)


def jacobian(sess: AppSession):
    tr = sess.trainer
    def compute():
        xs, _, s0 = tr.next_window()
        return local_jacobian(tr.params, xs, s0, cell=tr.config.cell)

    return memo(sess, P + "jac", (), compute)


def spectrum(sess: AppSession):
    return memo(sess, P + "spectrum", (), lambda: sess.trainer.spectrum())


def states(sess: AppSession):
    tr = sess.trainer

    def compute():
        xs, _, h0 = tr.next_window()
        return hidden_states(tr.params, xs, h0, cell=tr.config.cell)

    return memo(sess, P + "hs", (), compute)


def figure(sess: AppSession, name: str, args: tuple, build):
    """A figure built once per model state (and args): reruns for the twin run reuse the others."""
    return memo(sess, f"{P}fig_{name}", args, build)


# ---------------------------------------------------------------------------- twin run
def twin(sess: AppSession) -> TwinRun:
    """The session's twin run, started on first use with the page's choices."""
    ps = page_state(sess, P)
    if ps.get("twin") is None:
        setting = ps.get("setting", "clip")
        ps["twin"] = TwinRun.start(sess.trainer, setting, ps.get("from_current", False))
    return ps["twin"]


def restart_twin(sess: AppSession) -> None:
    page_state(sess, P)["twin"] = None


def _on_twin_choice(sess: AppSession, field: str, key: str, transform=lambda v: v) -> None:
    value = st.session_state.get(key)
    if value is None:  # nothing chosen: keep the current choice
        return
    ps = page_state(sess, P)
    ps[field] = transform(value)
    ps["twin"] = None


def step_twin(sess: AppSession, n: int) -> None:
    """Ask for n twin steps: twin_section does them, paid from this session's CPU budget (rnnviz.ui.budget)."""
    run = twin(sess)

    def steps(k: int) -> int:
        if page_state(sess, P).get("twin") is not run:   # restarted meanwhile: the job was for the old twins
            return 0
        run.step(k)
        return k

    budget.request("twin", f"Step both ×{n}" if n > 1 else "Step both", n, steps)


# ---------------------------------------------------------------------------- sections
def intro(sess: AppSession) -> None:
    tr = sess.trainer
    page_header(
        sess, "Vanishing & exploding gradients lab",
        f"Measured on the model at step {tr.step_count:,} and on the window its next Step will train on "
        f"(T = {tr.config.seq_len}), cell: {tr.cell.title}. Going back one time step multiplies the gradient by the "
        "local Jacobian ∂s_t/∂s_{t−1} (for the vanilla RNN diag(1 − h_t²) W): over many steps it shrinks or grows "
        "roughly like the product of those factors. Try the lecture presets *Vanishing gradients*, *Exploding "
        "gradients* and *Long memory* in the sidebar.",
    )
    st.page_link("pages/race.py", label="The race of the cells (vanilla RNN, minGRU, GRU, LSTM on a long-memory task) "
                 "has its own page", icon=":material/sports_score:")


@guarded("the gradient reach")
def reach_section(sess: AppSession) -> None:
    spec = spectrum(sess)
    cell = sess.trainer.cell
    m = cell.spectrum_of
    left, right = st.columns(2)
    with left:
        st.markdown("**Gradient reach** R[t, k] = ‖∂L_t/∂h_k‖: how much of loss term L_t arrives at step k")
        v = verdict(reach_decay(reach(sess)).typical)
        charts.plotly(figure(sess, "reach", (), lambda: reach_heatmap(reach(sess))), key=f"{P}chart_reach",
                      alt=f"Heatmap of R[t, k] for the window's T = {reach(sess).shape[0]} steps, on a log colour scale: "
                          + _extent(reach(sess)) + (f" Typically, a loss term's gradient {v.text}" if v is not None else ""))
        st.caption("Each row is one loss term; read it from the diagonal leftwards: the colour fading (or brightening) "
                   "towards the left is the gradient vanishing (or exploding) as it travels back."
                   + (f" On this window, typically, a loss term's gradient {v.text}" if v is not None else ""))
    with right:
        st.markdown(f"**Decay with distance**, against ρ({m})^(t−k)")
        def build():
            dec = reach_decay(reach(sess))
            return reach_decay_figure(dec.d, dec.typical, dec.low, dec.high, spec.rho, spec.sigma_max, matrix=m)

        dec = reach_decay(reach(sess))
        far = int(np.flatnonzero(np.isfinite(dec.typical))[-1]) if np.isfinite(dec.typical).any() else 0
        charts.plotly(figure(sess, "decay", (), build), key=f"{P}chart_decay", alt=(
            f"The measured ratio ‖∂L_t/∂h_k‖ ÷ ‖∂L_t/∂h_t‖ against the distance t − k (log scale): {dec.typical[far]:.3g} at "
            f"t − k = {far}; the lines ρ({m})^(t−k) with ρ({m}) = {spec.rho:.3g} and σ_max({m})^(t−k) with "
            f"σ_max = {spec.sigma_max:.3g} would give {spec.rho ** far:.3g} and {spec.sigma_max ** far:.3g} there."))
        if m == "W":   # W's spectrum bounds the vanilla RNN's reach: read the chart against it
            st.caption(f"The dashed red line is ρ(W)^(t−k) with ρ(W) = {spec.rho:.3g}: where tanh is unsaturated the measured "
                       "gradient tends to follow it, saturated units (1 − h² ≈ 0) pull it below, and it can never rise "
                       f"above the dotted σ_max(W)^(t−k) bound (σ_max = {spec.sigma_max:.3g})."
                       + against_rho(reach_decay(reach(sess)).typical, spec.rho))
        else:
            st.caption(f"ρ({m}) = {spec.rho:.3g}, σ_max({m}) = {spec.sigma_max:.3g}. {cell.spectrum_note}")
    if len(cell.state_parts) > 1:
        decays = {part: (lambda d: (d.d, d.typical))(reach_decay(reach(sess, part))) for part in cell.state_parts}
        st.markdown(f"**Reach through each part of the {cell.title} state** "
                    + ", ".join(f"‖∂L_t/∂{p}_k‖" for p in cell.state_parts))
        charts.plotly(figure(sess, "reach_parts", (), lambda: reach_parts_figure(decays)), key=f"{P}chart_reach_parts",
                      alt="One line per state part, against the distance back. " + reach_parts_caption(decays))
        st.caption(reach_parts_caption(decays))


@guarded("the spectrum")
def spectrum_section(sess: AppSession) -> None:
    spec = spectrum(sess)
    cell = sess.trainer.cell
    m = cell.spectrum_of
    hs = states(sess)
    sat = float(diagnostics(sess).saturation.mean())
    c = st.columns(3)
    c[0].metric(f"Spectral radius ρ({m})", f"{spec.rho:.3f}",
                help=f"max |λ| over the eigenvalues λ of {m}. {cell.spectrum_note}")
    c[1].metric(f"Largest singular value σ_max({m})", f"{spec.sigma_max:.3f}",
                help=f"‖{m}‖₂: the most one step back through {m} can stretch a gradient")
    c[2].metric(f"Saturated units (|{cell.saturation_of}| > {SATURATED:g})", f"{sat:.1%}",
                help=f"Mean over this window of the {cell.saturation_note}")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Eigenvalues of {m}** in the complex plane")
        outside = int((abs(spec.eigenvalues) > 1).sum())
        charts.plotly(figure(sess, "eig", (), lambda: eigen_figure(spec.eigenvalues, spec.rho, matrix=m)), key=f"{P}chart_eig",
                      alt=f"The {len(spec.eigenvalues)} eigenvalues of {m} in the complex plane: {outside} lie outside the "
                          f"unit circle; the largest |λ|, ρ({m}), is {spec.rho:.3g}.")
        st.caption(f"{outside} of {len(spec.eigenvalues)} eigenvalues lie outside the solid grey unit circle: directions in "
                   f"which {m} stretches a gradient at every step back; inside, it shrinks. ρ({m}) = {spec.rho:.3g} "
                   "is the dashed red circle.")
    with right:
        st.markdown("**How saturated is h?** |h| over every unit and step of the window")
        charts.plotly(figure(sess, "sat", (), lambda: saturation_figure(hs, SATURATED)), key=f"{P}chart_sat",
                      alt=f"Histogram of |h| over the window's {hs.size:,} values (H·T), in bins of 0.05 from 0 to 1: "
                          f"{(abs(hs) > SATURATED).mean():.1%} of them above {SATURATED:g}.")
        st.caption(f"{(abs(hs) > SATURATED).mean():.1%} of the window's |h| values exceed {SATURATED:g} (red)."
                   + (f" The {cell.title}'s units saturate inside the cell, so the metric above ({sat:.1%}) counts "
                      f"|{cell.saturation_of}| > {SATURATED:g} instead." if cell.saturation_of != "h_t" else ""))
    lj = jacobian(sess)
    st.markdown("**The local Jacobian ∂s_t/∂s_{t−1} at every step of the window**: its singular values")
    charts.plotly(figure(sess, "jac", (), lambda: jacobian_sv_figure(lj.sv)), key=f"{P}chart_jac",
                  alt="The largest, median and smallest singular value of ∂s_t/∂s_(t−1) at every step t of the window, "
                      "log scale, with the line 1. " + jacobian_sv_caption(lj.sv, lj.state_parts))
    st.caption(jacobian_sv_caption(lj.sv, lj.state_parts))
    log = list(sess.trainer.history.spectrum)
    if not log or log[-1][0] != sess.trainer.step_count:
        log.append((sess.trainer.step_count, spec.rho, spec.sigma_max))  # always include the model as it is now
    steps, rho, sigma = (list(col) for col in zip(*log, strict=True))
    st.markdown(f"**ρ({m}) and σ_max({m}) over training**")
    charts.plotly(spectrum_history_figure(steps, rho, sigma, matrix=m), key=f"{P}chart_spec_hist",
                  alt=f"ρ({m}) and σ_max({m}) over training, log scale, with the line 1: ρ from {rho[0]:.3g} at step "
                      f"{steps[0]:,} to {rho[-1]:.3g} at step {steps[-1]:,}, σ_max from {sigma[0]:.3g} to {sigma[-1]:.3g}.")
    st.caption(f"From {rho[0]:.3g} at step {steps[0]:,} to {rho[-1]:.3g} at step {steps[-1]:,} (ρ). Logged "
               f"{SPECTRUM_SCHEDULE}, plus the current step; after very long runs older entries are thinned.")


@guarded("the truncation sweep")
def sweep_section(sess: AppSession) -> None:
    tr = sess.trainer
    if tr.config.seq_len < 2:
        st.info("With T = 1 there is nothing to truncate.")
        return
    sw = memo(sess, P + "sweep", (), lambda: truncation_sweep(tr.params, *tr.next_window(), cell=tr.config.cell))
    st.markdown("**Truncation sweep**: this window's gradient for every k = 0 … T − 1, against full BPTT")
    k = tr.config.effective_truncate
    charts.plotly(figure(sess, "sweep", (k,), lambda: sweep_figure(sw.ks, sw.rel_error, k)), key=f"{P}chart_sweep",
                  alt=f"The relative error ‖g_k − g‖ ÷ ‖g‖ of dW, dU, db and all weights for k = 0 to {int(sw.ks[-1])}, log "
                      "scale." + sweep_reading(sw.ks, sw.rel_error["all"]))
    st.caption("When gradients vanish the error becomes tiny after a few steps, so a short k loses almost nothing; "
               "a slow fall means long-range gradients matter and truncation throws them away."
               + sweep_reading(sw.ks, sw.rel_error["all"]))


@guarded("the twin run")
def twin_section(sess: AppSession) -> None:
    tr = sess.trainer
    ps = page_state(sess, P)
    st.markdown("**Twin run**: two copies of the model, identical weights and data, one setting apart, "
                "stepped together")
    gen = sess.generation
    skey, fkey = f"{P}twin_setting_{gen}", f"{P}twin_from_{gen}"
    preset = PRESETS_BY_KEY.get(sess.preset) if sess.preset else None
    setting = ps.setdefault("setting", preset.lab_choice if preset else "clip")
    c = st.columns([1.1, 1])
    c[0].radio("What differs between twin A and twin B", CHOICES, index=CHOICES.index(setting),
               format_func=SETTING_LABELS.get, horizontal=True, key=skey, on_change=_on_twin_choice,
               args=(sess, "setting", skey))
    fresh_label = f"fresh weights (seed {tr.config.seed}, step 0)"
    now_label = f"the main model now (step {tr.step_count:,})"
    c[1].radio("Both start from", ["fresh", "current"], index=1 if ps.get("from_current") else 0, horizontal=True,
               format_func={"fresh": fresh_label, "current": now_label}.get,
               key=fkey, on_change=_on_twin_choice, args=(sess, "from_current", fkey, lambda v: v == "current"))
    c = st.columns([1, 1, 1, 1, 2.5], vertical_alignment="bottom")
    for col, n in zip(c[:3], TWIN_STEPS, strict=True):
        col.button(f"Step both ×{n}" if n > 1 else "Step both", key=f"{P}twin_step_{n}", on_click=step_twin,
                   args=(sess, n), type="primary" if n == 1 else "secondary", width="stretch")
    c[3].button("Restart twins", key=f"{P}twin_restart", on_click=restart_twin, args=(sess,), width="stretch",
                help="Start both twins again (also picks up changed sidebar settings)")
    budget.drain("twin")
    run = twin(sess)
    a, b = run.a, run.b
    origin = (f"the main model's weights at step {run.start_step:,}" if run.start_step else
              f"fresh weights from seed {a.trainer.config.seed}")
    st.caption(f"**A: {a.label}** · **B: {b.label}** · both from {origin}, reading the same windows from the start "
               f"of the text with a fresh optimizer · twin step {run.steps:,}.")
    for side, name in ((a, "A"), (b, "B")):
        if side.diverged_at is not None:
            st.warning(f"Twin {name} ({side.label}) diverged at twin step {side.diverged_at}: {side.divergence}. "
                       "It stops there; the other twin goes on.")
    if run.steps == 0:
        st.info("Press **Step both** to train both twins on the same windows.")
    (loss_fig, loss_alt), (norm_fig, norm_alt), (spec_fig, spec_alt) = twin_figures(sess, run)
    if run.steps:
        left, right = st.columns(2)
        with left:
            charts.plotly(loss_fig, alt=loss_alt, key=f"{P}chart_twin_loss")
            st.caption("Same start, same data: any gap between the two curves is caused by the one setting that "
                       "differs.")
        with right:
            charts.plotly(norm_fig, alt=norm_alt, key=f"{P}chart_twin_norm")
            st.caption("Both twins start with the same gradient norm; after that, a jump of several decades is an "
                       "exploding gradient (clipping limits the step taken, not this measured norm).")
    charts.plotly(spec_fig, alt=spec_alt, key=f"{P}chart_twin_spectrum")
    st.caption("ρ(W) (solid) and σ_max(W) (dotted) of each twin as it trains: watch whether training pushes W "
               "across 1, where gradients stop vanishing and start exploding.")


def _extent(R) -> str:
    """A reach matrix's smallest and largest positive entry, in words (a heatmap's text alternative)."""
    R = np.asarray(R, dtype=float)
    pos = R[np.isfinite(R) & (R > 0)]
    return f"from {pos.min():.2g} to {pos.max():.2g}." if pos.size else "no positive entry."


def twin_figures(sess: AppSession, run: TwinRun) -> tuple:
    """(figure, its text alternative) for the loss, the gradient norm and the spectrum of the twin run,
    rebuilt only when it has stepped."""
    return memo_args(sess, P + "twin_figs", (run, run.steps), lambda: build_twin_figures(run))


def build_twin_figures(run: TwinRun) -> tuple:
    a, b = run.a, run.b
    la, lb = f"A: {a.label}", f"B: {b.label}"
    sa, sb = run.series(a), run.series(b)
    base = a.trainer.baseline_loss
    m = a.trainer.cell.spectrum_of

    def last(series: dict, name: str) -> str:
        v = series[name]
        return f"{v[-1]:.3g}" if len(v) else "not measured yet"

    figs = (
        (twin_metric_figure(sa["step"], sa["loss"], sb["loss"], la, lb, "loss per token (nats)", hline=base,
                            hline_text=f"untrained: ln V = {base:.2f}"),
         f"Loss per token of both twins over {run.steps:,} twin steps, with ln V = {base:.2f}: now {la} "
         f"{last(sa, 'loss')}, {lb} {last(sb, 'loss')}."),
        (twin_metric_figure(sa["step"], sa["grad_norm"], sb["grad_norm"], la, lb, "‖∂L/∂θ‖ before clipping (log)",
                            log=True),
         f"The gradient norm before clipping of both twins, log scale: now {la} {last(sa, 'grad_norm')}, "
         f"{lb} {last(sb, 'grad_norm')}."),
        (twin_spectrum_figure(sa, sb, la, lb, matrix=m),
         f"ρ({m}) and σ_max({m}) of each twin as it trains, log scale, with the line 1: ρ now {la} {last(sa, 'rho')}, "
         f"{lb} {last(sb, 'rho')}."),
    )
    return figs


def main() -> None:
    sess = setup_page()
    intro(sess)
    reach_section(sess)
    spectrum_section(sess)
    sweep_section(sess)
    twin_section(sess)


main()
