"""Recurrent cells. A cell computes the hidden states of a window and their backward pass.

Adding a cell (LSTM, GRU) means adding one module here that defines a class with the same
methods as :class:`rnnviz.cells.rnn.VanillaRNNCell` and registering it in ``CELLS``. The output
head (V, c, softmax, cross-entropy) is shared by every cell and lives in ``rnnviz.head``.
"""

from rnnviz.cells.rnn import VanillaRNNCell

CELLS = {VanillaRNNCell.name: VanillaRNNCell()}


def get_cell(name: str = "rnn"):
    """The cell registered under ``name``; ValueError names the choices."""
    try:
        return CELLS[name]
    except KeyError:
        raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(CELLS)}") from None
