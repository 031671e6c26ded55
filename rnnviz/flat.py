"""One contiguous vector θ holding every parameter, with named views into it.

Why: the optimizer, clipping and the finiteness check then cost a handful of NumPy calls on one
array instead of a handful per parameter; at the sizes we teach with (tens of thousands of
weights) per-call overhead, not arithmetic, is what a step costs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


class Layout:
    """Where each named array lives in the flat vector. shapes: {name: shape}, in order."""

    def __init__(self, shapes: Mapping[str, tuple[int, ...]]):
        self.shapes = {k: tuple(int(d) for d in v) for k, v in shapes.items()}
        self.slices: dict[str, slice] = {}
        start = 0
        for k, shape in self.shapes.items():
            n = int(np.prod(shape, dtype=np.int64))
            self.slices[k] = slice(start, start + n)
            start += n
        self.size = start
        self._parts = [(k, self.slices[k], self.shapes[k]) for k in self.shapes]  # for views, per step
        # Where the non-empty parts start: np.maximum.reduceat(flat, starts) then reduces every
        # part in one call (reduceat would misread an empty part, so those are left out).
        self._nonempty = [k for k, sl in self.slices.items() if sl.stop > sl.start]
        self._starts = np.array([self.slices[k].start for k in self._nonempty], dtype=np.intp)

    @classmethod
    def of(cls, arrays: Mapping[str, np.ndarray]) -> Layout:
        return cls({k: np.shape(v) for k, v in arrays.items()})

    def flatten(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """A new (size,) float64 vector holding the arrays in layout order."""
        return np.concatenate([np.asarray(arrays[k], dtype=np.float64).ravel() for k in self.shapes])

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """{name: view of flat shaped like that parameter} (no copies)."""
        return {k: flat[sl].reshape(shape) for k, sl, shape in self._parts}

    def norms(self, flat: np.ndarray) -> dict[str, float]:
        """{name: ‖that part of flat‖₂}."""
        out = {}
        for k, sl in self.slices.items():
            part = flat[sl]
            out[k] = math.sqrt(part.dot(part))  # BLAS ddot (the method: np.dot adds a Python dispatcher)
        return out

    def max_abs(self, flat: np.ndarray) -> dict[str, float]:
        """{name: the largest |entry| of that part of flat} (0 for an empty part).

        Two reductions over all parts at once, from max and min: no temporary |flat| array."""
        out = dict.fromkeys(self.shapes, 0.0)
        if self._nonempty:
            hi = np.maximum.reduceat(flat, self._starts)
            lo = np.minimum.reduceat(flat, self._starts)
            out.update(zip(self._nonempty, np.maximum(hi, -lo).tolist(), strict=True))
        return out
