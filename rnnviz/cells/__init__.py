"""Recurrent cells. A cell computes the hidden states of a window and their backward pass.

Adding a cell (LSTM, GRU) means adding one module to this package that defines a class with the
same methods as :class:`rnnviz.cells.rnn.VanillaRNNCell` (forward, step, backward, reach,
diagnostics) and a module-level ``CELL = TheCell()``: modules here are discovered, so nothing else
needs editing to register it. The output head (V, c, softmax, cross-entropy) is shared by every
cell and lives in ``rnnviz.head``.
"""

import importlib
import pkgutil

CELLS = {}
for _info in pkgutil.iter_modules(__path__):
    _cell = getattr(importlib.import_module(f"{__name__}.{_info.name}"), "CELL", None)
    if _cell is not None:
        CELLS[_cell.name] = _cell


def get_cell(name: str = "rnn"):
    """The cell registered under ``name``; ValueError names the choices."""
    try:
        return CELLS[name]
    except KeyError:
        raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(CELLS)}") from None
