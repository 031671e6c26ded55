"""Share the server's CPU between everyone who is playing, so that a Step click still gets through.

One Streamlit process runs every session's Python under one interpreter lock: a hundred play loops
that each redraw as fast as they can would leave nothing for the student who presses Step. So play
loops pay for their frames from one token bucket: it refills at ``rate`` CPU-seconds per second and
holds at most ``burst``. A frame that used c seconds of CPU takes c from the bucket; when the bucket is
in debt, the loop waits until it is paid back. With N players each of them therefore gets about
rate / N of a core, the frame rate of each falls as players join, and at least 1 − rate of the
interpreter stays free for clicks, which are never charged.

This is server resource accounting, not user state: the bucket holds two numbers and knows nothing
about who spent them, so it can live at module level (one per process, shared by all sessions).
"""

from __future__ import annotations

import os
import threading
import time


class CpuBucket:
    """A token bucket of CPU seconds. rate: refill, CPU-s per s; burst: capacity, CPU-s."""

    def __init__(self, rate: float, burst: float):
        if not rate > 0 or not burst > 0:
            raise ValueError("rate and burst must be > 0")
        self.rate = float(rate)
        self.burst = float(burst)
        self._level = float(burst)
        self._t = time.monotonic()
        self._lock = threading.Lock()

    def available(self, now: float | None = None) -> float:
        """CPU-s that may be spent now without going into debt (negative while in debt)."""
        with self._lock:
            now = time.monotonic() if now is None else now
            return min(self.burst, self._level + (now - self._t) * self.rate)

    def charge(self, cpu_s: float, now: float | None = None) -> float:
        """Pay for cpu_s seconds of CPU just used; returns how long the caller should wait (s)."""
        with self._lock:
            now = time.monotonic() if now is None else now
            self._level = min(self.burst, self._level + (now - self._t) * self.rate)
            self._t = now
            self._level -= max(0.0, float(cpu_s))
            return max(0.0, -self._level / self.rate)


def _rate_from_env() -> float:
    """RNNVIZ_PLAY_CPU_SHARE (0 < x ≤ 1, default 0.4): the fraction of one core play loops may use."""
    try:
        share = float(os.environ.get("RNNVIZ_PLAY_CPU_SHARE", "0.4"))
    except ValueError:
        share = 0.4
    return min(1.0, max(0.05, share))


PLAY_BUCKET = CpuBucket(rate=_rate_from_env(), burst=0.3)
