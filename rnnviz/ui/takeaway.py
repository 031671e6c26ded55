"""Numbers to take away: the training history and the current window as CSV (download buttons).

The files are built when the button is clicked (Streamlit's deferred download data), so drawing the
buttons costs a Step click or a play frame nothing.
"""

from __future__ import annotations

import csv
import io

import streamlit as st

from rnnviz.ui.state import AppSession

WINDOW_COLUMNS = ("t", "input", "target", "predicted", "p_target", "loss_term", "grad_norm_dh")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # spreadsheets would run these as formulas


def cell_text(token: str) -> str:
    """A token as a CSV cell: text a spreadsheet would read as a formula gets a leading apostrophe
    (the usual guard against CSV injection: the text is the user's)."""
    return "'" + token if token.startswith(_FORMULA_START) else token


def window_csv(sess: AppSession) -> str:
    """The last window, one row per time step t = 1…T: the input and target tokens, the model's guess,
    p_t[y_t], the loss term L_t = −log p_t[y_t] (nats) and ‖∂L/∂h_t‖ (the bars on the Train page).
    Only the header before the first step."""
    tr = sess.trainer
    last = tr.last
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(WINDOW_COLUMNS)
    if last is not None:
        tok = tr.tokenizer.token_text
        res = last.result
        for t in range(len(last.inputs)):
            w.writerow([t + 1, cell_text(tok(int(last.inputs[t]))), cell_text(tok(int(last.targets[t]))),
                        cell_text(tok(int(last.predicted[t]))), repr(float(last.p_target[t])),
                        repr(float(res.losses[t])), repr(float(res.dh_norms[t]))])
    return out.getvalue()


def history_csv(sess: AppSession) -> str:
    return sess.trainer.history.to_csv()


def downloads(sess: AppSession) -> None:
    """The two CSV buttons, side by side."""
    c = st.columns(2)
    c[0].download_button("Training history (CSV)", data=lambda: history_csv(sess), file_name="rnnviz-history.csv",
                         mime="text/csv", on_click="ignore", key="dl_history_csv", icon=":material/download:",
                         width="stretch",
                         help="One row per step: loss, smoothed loss, gradient norm before and after clipping, "
                              "whether clipping fired, η, and the held-out loss where it was measured.")
    c[1].download_button("The last window, per time step (CSV)", data=lambda: window_csv(sess),
                         file_name="rnnviz-window.csv", mime="text/csv", on_click="ignore", key="dl_window_csv",
                         icon=":material/download:", width="stretch",
                         help="One row per time step t: the tokens, p(target), the loss term −log p and ‖∂L/∂h_t‖.")


