"""Numbers to take away: the training history and the current window as CSV, and the model itself as a NumPy
script (rnnviz.takehome) (download buttons).

The files are built when the button is clicked (Streamlit's deferred download data), so drawing the
buttons costs a Step click or a play frame nothing.
"""

from __future__ import annotations

import csv
import io

import streamlit as st

from rnnviz import takehome
from rnnviz.ui.state import AppSession
from rnnviz.vanish import window_reach

WINDOW_COLUMNS = ("t", "input", "target", "predicted", "p_target", "loss_term", "grad_norm_dh")
REACH_COLUMNS = ("d", "fraction_left", "loss_terms", "after_step")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # spreadsheets would run these as formulas


def cell_text(token: str) -> str:
    """A token as a CSV cell: text a spreadsheet would read as a formula gets a leading apostrophe
    (the usual guard against CSV injection: the text is the user's)."""
    return "'" + token if token.startswith(_FORMULA_START) else token


def window_columns(sess: AppSession) -> tuple[str, ...]:
    """WINDOW_COLUMNS, plus grad_norm_d<part> for every state part beyond h (the LSTM's c)."""
    return WINDOW_COLUMNS + tuple(f"grad_norm_d{p}" for p in sess.trainer.cell.state_parts if p != "h")


def window_csv(sess: AppSession) -> str:
    """The last window, one row per time step t = 1…T: the input and target tokens, the model's guess,
    p_t[y_t], the loss term L_t = −log p_t[y_t] (nats), the total gradient ‖∂L/∂h_t‖ (the Train page's
    heatmap, newest row) and, for the LSTM, ‖∂L/∂c_t‖. Only the header before the first step."""
    tr = sess.trainer
    last = tr.last
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(window_columns(sess))
    if last is not None:
        tok = tr.tokenizer.token_text
        res = last.result
        extra = [res.state_grad_norms[p] for p in tr.cell.state_parts if p != "h"]
        for t in range(len(last.inputs)):
            w.writerow([t + 1, cell_text(tok(int(last.inputs[t]))), cell_text(tok(int(last.targets[t]))),
                        cell_text(tok(int(last.predicted[t]))), repr(float(last.p_target[t])),
                        repr(float(res.losses[t])), repr(float(res.dh_norms[t]))]
                       + [repr(float(n[t])) for n in extra])
    return out.getvalue()


def reach_csv(sess: AppSession) -> str:
    """The Train page's headline chart as numbers: for d = 0…T−1, the fraction of a loss term's gradient
    left d steps back (geometric mean over the terms L_t of ‖∂L_t/∂h_(t−d)‖ / ‖∂L_t/∂h_t‖) and how many
    terms went into it, on the window the next Step trains on with the current weights."""
    tr = sess.trainer
    xs, ys, h0 = tr.next_window()
    ratio, n_terms = window_reach(tr.params, xs, ys, h0, cell=tr.config.cell)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(REACH_COLUMNS)
    for d, (r, n) in enumerate(zip(ratio, n_terms, strict=True)):
        w.writerow([d, repr(float(r)), int(n), tr.step_count])
    return out.getvalue()


def history_csv(sess: AppSession) -> str:
    return sess.trainer.history.to_csv()


def downloads(sess: AppSession) -> None:
    """The CSV buttons, side by side, and the NumPy script below them."""
    c = st.columns(3)
    c[0].download_button("Training history (CSV)", data=lambda: history_csv(sess), file_name="rnnviz-history.csv",
                         mime="text/csv", on_click="ignore", key="dl_history_csv", icon=":material/download:",
                         width="stretch",
                         help="One row per step: loss, smoothed loss, gradient norm before and after clipping, "
                              "whether clipping fired, η, and the held-out loss where it was measured.")
    c[1].download_button("The last window, per time step (CSV)", data=lambda: window_csv(sess),
                         file_name="rnnviz-window.csv", mime="text/csv", on_click="ignore", key="dl_window_csv",
                         icon=":material/download:", width="stretch",
                         help="One row per time step t: the tokens, p(target), the loss term −log p and the total "
                              "gradient ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖ for the LSTM).")
    c[2].download_button("Gradient reach by distance (CSV)", data=lambda: reach_csv(sess),
                         file_name="rnnviz-reach.csv", mime="text/csv", on_click="ignore", key="dl_reach_csv",
                         icon=":material/download:", width="stretch",
                         help="The headline chart's bars: for d = 0…T−1, the fraction of a loss term's gradient left "
                              "d steps back, on the window the next Step trains on.")
    script_download(sess)


SCRIPT_LABEL = "Download as a NumPy script"


def script_caption(sess: AppSession) -> str:
    """What the zip holds and how to run it, read off this session's script (its length, its parts). No step count:
    on the Train page this is drawn before a click's steps are taken, and the zip is built when it is clicked."""
    tr = sess.trainer
    script = takehome.script_text(tr.config, tr.cell, tr.tokenizer, tr.state, tr.vocab_size)
    parts = ", ".join(takehome.script_parts(tr.config, tr.cell))
    return (f"**{takehome.ZIP_NAME}**: `{takehome.SCRIPT_NAME}`, {len(script.splitlines())} lines of NumPy that read "
            f"as the equations ({parts}), and `{takehome.NPZ_NAME}`: your weights and optimizer memory when you click, "
            f"and the text. Unzip it and run `python {takehome.SCRIPT_NAME}` with NumPy alone: it samples, trains "
            f"{takehome.DEFAULT_STEPS:,} more steps exactly as the next Steps here would, and samples again.")


def script_download(sess: AppSession, key: str = "dl_script") -> None:
    """The "Download as a NumPy script" button and its caption (the Train page's downloads; the Lesson's end).

    The zip is built on click from the session's model at that moment (a deferred download). A cell without a
    script (Cell.script) gets the reason instead of the button."""
    try:
        takehome.check(sess.trainer)
    except ValueError as e:
        st.caption(str(e))
        return
    st.download_button(SCRIPT_LABEL, data=lambda: takehome.zip_bytes(sess.trainer), file_name=takehome.ZIP_NAME,
                       mime="application/zip", on_click="ignore", key=key, icon=":material/download:",
                       help="One readable Python file with the recurrence written as its equation, and the trained "
                            "weights beside it: sample from your model and keep training it at home.")
    st.caption(script_caption(sess))
