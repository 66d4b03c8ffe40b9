"""Processes of the report runner: worker environment, process groups, memory limits."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from woonvoorraad._memory import peak_rss_mb

logger = logging.getLogger(__name__)


def worker_env() -> dict[str, str]:
    """Environment of a report worker: this Python first on PATH, one thread, no secrets.

    The reports never download anything, so the EP-Online API key (and anything else that
    looks like a key or token) is not passed on: a notebook can then never print it.
    """
    from woonvoorraad import settings

    secret = re.compile(r"(?i)(api[-_]?key|token|secret|password|passwd|credential)")
    env = {k: v for k, v in os.environ.items()
           if k != settings.ep_online_api_key_env and not secret.search(k)}
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env["WOONVOORRAAD_PROGRESS"] = "0"
    # one thread per worker (the workers are the parallelism) and few malloc arenas: no
    # oversubscription of the cores, and a small address space, so that a memory limit
    # (RLIMIT_AS) measures what a report really uses
    for name, value in (("OMP_NUM_THREADS", "1"), ("OPENBLAS_NUM_THREADS", "1"),
                        ("MKL_NUM_THREADS", "1"), ("MALLOC_ARENA_MAX", "2")):
        env.setdefault(name, value)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def _find_child_groups(pid: int) -> set[int]:
    """Process groups of the descendants of ``pid`` (a notebook kernel has a session of its
    own, so the worker's process group does not hold it)."""
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.Error:  # the worker has ended: its own group is still killed
        return set()
    groups = set()
    for kid in kids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(kid.pid))
    return groups


def _is_group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` runs (zombies, which init reaps, do not count)."""
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() not in (
                    psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                return True
    return False


def kill_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Terminate a worker, its process group and the groups of its children (the notebook
    kernel): SIGTERM, then SIGKILL to whatever still runs after ``grace`` seconds."""
    if not hasattr(os, "killpg"):  # pragma: no cover - Windows
        proc.kill()
        proc.wait()
        return
    own = os.getpgrp()  # never the runner's own group
    groups = ({proc.pid} | _find_child_groups(proc.pid)) - {own}
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for pgid in sorted(groups):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
        if sig == signal.SIGTERM:  # a kernel the worker started while it was being found
            for pgid in _find_child_groups(proc.pid) - groups - {own}:
                groups.add(pgid)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
        others = groups - {proc.pid}
        while others and time.monotonic() < deadline:
            others = {g for g in others if _is_group_alive(g)}
            if others:
                time.sleep(0.05)
        if proc.returncode is not None and not others:
            return


def wait_for_exit(proc: subprocess.Popen[bytes], timeout: float,
                  stopped: threading.Event) -> int | None:
    """Wait for a worker; its exit code, or None as soon as the run is stopped.

    Raises :class:`subprocess.TimeoutExpired` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not stopped.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            return proc.wait(timeout=min(0.1, left))
    return None


def limit_memory(limit_mb: float | None) -> None:
    """Cap this process's address space (the kernel it starts inherits the cap)."""
    if not limit_mb:
        return
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        logger.warning("memory limit ignored: no resource module on this platform")
        return
    limit = int(float(limit_mb) * 2**20)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    logger.info("memory limit of this report: %.0f MiB (address space)", limit / 2**20)


def peak_rss() -> dict[str, float]:
    """Peak resident memory (MiB) of this worker and of its finished children (the kernel).

    The worker's own peak is ``VmHWM`` (``ru_maxrss`` would include the runner's memory, which
    a freshly forked process counts until it execs); the kernel's is ``ru_maxrss`` of the
    children, an upper bound for the same reason (at least the worker's size when it forked).
    """
    peaks = {"peak_rss_mb": peak_rss_mb(), "kernel_peak_rss_mb": peak_rss_mb(children=True)}
    return {k: v for k, v in peaks.items() if v is not None}
