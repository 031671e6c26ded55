"""Recurrent cells: the registry. The protocol is in ``rnnviz.cells.base``.

Each module here that defines a module-level ``CELL`` (an instance of a ``Cell`` subclass) is
discovered at import, so adding a cell is adding one file. ``register`` adds one from elsewhere
(a test's toy cell) and ``unregister`` removes it again.
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
    except (KeyError, TypeError):
        raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(CELLS)}") from None


def register(cell):
    """Make ``cell`` available under ``cell.name`` (TrainConfig, Trainer, checkpoints…). Returns it."""
    if cell.name in CELLS:
        raise ValueError(f"a cell named {cell.name!r} is already registered")
    CELLS[cell.name] = cell
    return cell


def unregister(name: str) -> None:
    """Remove a cell added with ``register``."""
    CELLS.pop(name, None)
