"""Wall time per step of a longer job (build phases, report phases)."""

from __future__ import annotations

import time


class Laps:
    """Seconds between successive :meth:`mark` calls, by step name.

    Examples
    --------
    >>> laps = Laps()
    >>> laps.mark("lezen"); laps.mark("schrijven")
    >>> list(laps.seconds)
    ['lezen', 'schrijven']
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def mark(self, name: str) -> None:
        """Record the seconds since the previous mark (or the start) as step ``name``."""
        now = time.perf_counter()
        self.seconds[name] = round(now - self._t, 2)
        self._t = now
