"""Peak memory of this process and of its finished children (for manifests and run reports)."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

import psutil

logger = logging.getLogger(__name__)

#: ``ru_maxrss`` is in KiB on Linux and in bytes on macOS.
_RUSAGE_TO_MB = 1 / 2**20 if sys.platform == "darwin" else 1 / 1024


def peak_rss_mb(*, children: bool = False) -> float | None:
    """Peak resident memory (MiB) of this process, or of its finished child processes.

    The process's own peak is ``VmHWM`` on Linux: unlike ``ru_maxrss``, it does not count the
    memory of the parent a forked process shared until it exec'ed. Elsewhere it is
    ``ru_maxrss`` or, on Windows, :mod:`psutil`'s peak working set.

    Parameters
    ----------
    children
        The largest peak among the finished, waited-for children instead (``ru_maxrss`` of
        ``RUSAGE_CHILDREN``; an upper bound for forked children, for the reason above).

    Returns
    -------
    float or None
        MiB, rounded to 0.1; ``None`` where the platform cannot tell.
    """
    try:
        import resource
    except ImportError:  # Windows
        if children:
            return None
        peak = getattr(psutil.Process().memory_info(), "peak_wset", None)
        return None if peak is None else round(peak / 2**20, 1)
    if children:
        return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * _RUSAGE_TO_MB, 1)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RUSAGE_TO_MB
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
    return round(own, 1)
