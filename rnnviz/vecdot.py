"""``vecdot(a, b, axis)``: Σ a·b along one axis of 2-D arrays, without a temporary a·b.

NumPy ≥ 2's ``np.vecdot`` is a ufunc, cheaper per call than einsum (whose Python layer costs more
than the arithmetic at the sizes the engine steps); older NumPy falls back to einsum.
"""

from __future__ import annotations

import numpy as np

vecdot = getattr(np, "vecdot", None) or (lambda a, b, axis: np.einsum("ij,ij->j" if axis == 0 else "ij,ij->i", a, b))
