"""The Train page's view of the chosen cell after a step: the state path (‖∂L/∂h_t‖ and, for the
LSTM, ‖∂L/∂c_t‖ beside it) and the gates' mean activation per time step.

Everything shown comes from the last step's LossResult (its state_grad_norms and gate_means) and
from the cell object (parts, gate names, title): no branching on a cell's name.
"""

from __future__ import annotations

import streamlit as st

from rnnviz.figures.cells import gates_caption, gates_spec, state_grads_caption, state_grads_spec
from rnnviz.figures.svg import WIDTH
from rnnviz.ui import charts
from rnnviz.ui.guard import guarded
from rnnviz.ui.memo import memo
from rnnviz.ui.state import AppSession

P = "cellpanel_"


@guarded("the cell's state path and gates")
def cell_section(sess: AppSession, log_scale: bool = True) -> None:
    """Draw nothing before the first step; then the state path if the state has more than one part
    (the h-only path is the page's own per-step chart), and the gates if the cell has any."""
    tr = sess.trainer
    rec = tr.last
    cell = tr.cell
    if rec is None or rec.result is None:
        return
    res = rec.result
    parts = res.state_grad_norms
    gates = res.gate_means
    if len(parts) < 2 and not gates:
        return
    cols = st.columns(2) if len(parts) > 1 and gates else [st.container()]
    width = WIDTH if len(cols) == 2 else 2 * WIDTH   # the picture's text keeps its size across the page
    i = 0
    if len(parts) > 1:
        with cols[i]:
            st.markdown(f"**The {cell.title}'s state path**: total gradient at "
                        + " and ".join(f"{p}_t" for p in parts) + " for each time step of this window")
            spec = memo(sess, P + "parts", (log_scale,), lambda: state_grads_spec(parts, log_scale=log_scale))
            caption = state_grads_caption(parts)
            charts.draw(sess, spec, key=f"{P}chart_parts", alt=caption or "No finite gradient to show.",
                        filename="rnnviz-state-path", width=width)
            st.caption(caption)
        i += 1
    if gates:
        with cols[min(i, len(cols) - 1)]:
            st.markdown(f"**The {cell.title}'s gates**: mean activation of "
                        + ", ".join(f"{g}_t" for g in gates) + " at each time step")
            spec = memo(sess, P + "gates", (), lambda: gates_spec(gates))
            caption = gates_caption(gates)
            charts.draw(sess, spec, key=f"{P}chart_gates", alt=caption or "No finite gate value to show.",
                        filename="rnnviz-gates", width=width)
            st.caption(caption)
