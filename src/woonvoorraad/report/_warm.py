"""Warm report workers: long-lived processes that keep one Jupyter kernel between gemeenten.

The ``warm`` runner of :func:`woonvoorraad.report.render.render_reports` starts ``workers``
processes (``python -m woonvoorraad.report._warm``) that each pay their imports once, start one
kernel, import the report's libraries in it once (:func:`kernel_warmup`), and then execute the
template with papermill for one gemeente after another in that kernel
(:func:`woonvoorraad.report.worker.render_job` with ``km=``). Between two gemeenten the kernel
is reset (:func:`kernel_reset`): the user namespace is emptied and a new IPython session starts
(execution counts from 1), figures are closed, and the working folder, environment,
``sys.path``, warning filters, random states, matplotlib and pandas settings and the globals of
every ``woonvoorraad`` module are put back as they were after the warm-up. So a report that
leaves a variable behind, or rebinds a function of the package, does not change the next one.

A report that fails gets a fresh kernel for its retry and the kernel is replaced after every
failure, after :data:`MAX_REPORTS_PER_KERNEL` reports, and when it holds far more memory than
after its warm-up. A kernel that dies or a report that hangs is handled by the runner: it stops
the worker and its kernel (process groups) and starts a new worker.

Protocol: the runner writes one job (JSON) per line on the worker's stdin; the worker answers
with one result (JSON) per line on the stdout it had at start (its own prints and logging go to
stderr, the worker's log).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Reports rendered in one kernel before it is replaced by a fresh one. A kernel grows by about
#: 2 MiB a report (caches, fragmentation) and its address space jumps by 128 MiB after some 15
#: national-scale reports (measured 6 December 2026): 10 keeps its peak within ~4 % of a
#: one-report kernel and well under a 1200 MiB address-space cap, for a warm-up (~2 s) every
#: 10 reports.
MAX_REPORTS_PER_KERNEL = 10

#: A kernel whose resident memory after a reset exceeds its size after the warm-up by more than
#: this (MiB) is replaced before the next report.
KERNEL_GROWTH_LIMIT_MB = 100.0

#: With a memory limit, a kernel whose address space is within this many MiB of it is replaced
#: before the next report (the next report might need that much).
ADDRESS_SPACE_HEADROOM_MB = 100.0

#: Modules imported into a fresh kernel before its first report (what the template imports).
WARM_MODULES = ("woonvoorraad.report.sections", "woonvoorraad.report.html",
                "woonvoorraad.report.run", "woonvoorraad.report.scenarios",
                "woonvoorraad.report.maps", "woonvoorraad.report.charts", "matplotlib.pyplot")

# --------------------------------------------------------------------------------------------
# inside the kernel

_BASELINE: dict[str, Any] | None = None


def _project_modules() -> dict[str, dict[str, Any]]:
    return {name: dict(vars(mod)) for name, mod in list(sys.modules.items())
            if mod is not None and name != __name__
            and (name == "woonvoorraad" or name.startswith("woonvoorraad."))}


def kernel_warmup(modules: Sequence[str] = WARM_MODULES) -> None:
    """Import the report's libraries and record the state :func:`kernel_reset` restores.

    Runs inside the kernel (sent by the worker before the kernel's first report).
    """
    global _BASELINE  # noqa: PLW0603 - the kernel's one record of its clean state
    import importlib
    import random
    import warnings

    import numpy as np

    for name in modules:
        importlib.import_module(name)
    state: dict[str, Any] = {
        "cwd": str(Path.cwd()), "environ": dict(os.environ), "path": list(sys.path),
        "warnings": list(warnings.filters), "random": random.getstate(),
        "np_random": np.random.get_state(), "modules": _project_modules(),
        "np_err": np.geterr(),
    }
    if "matplotlib" in sys.modules:
        import matplotlib as mpl

        state["rc"] = dict(mpl.rcParams)
    if "pandas" in sys.modules:
        import pandas as pd

        with warnings.catch_warnings(), contextlib.suppress(ImportError, AttributeError):
            warnings.simplefilter("ignore")
            from pandas._config import config as pd_config

            state["pd"] = {k: pd.get_option(k) for k in list(pd_config._registered_options)}
    _BASELINE = state


def kernel_reset() -> list[str]:
    """Put the kernel back in the state recorded by :func:`kernel_warmup`.

    Runs inside the kernel between two reports. Returns the names of the ``woonvoorraad``
    modules whose globals had been changed (and are now restored).
    """
    import random
    import warnings

    import numpy as np

    base = _BASELINE
    ip = None
    with contextlib.suppress(ImportError):
        from IPython import get_ipython

        ip = get_ipython()
    if ip is not None:
        ip.reset(new_session=True)  # empty user namespace, execution count 1
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if base is None:
        return []
    os.chdir(base["cwd"])
    os.environ.clear()
    os.environ.update(base["environ"])
    sys.path[:] = base["path"]
    warnings.filters[:] = base["warnings"]
    random.setstate(base["random"])
    np.random.set_state(base["np_random"])
    np.seterr(**base["np_err"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "rc" in base:
            import matplotlib as mpl

            dict.update(mpl.rcParams, base["rc"])
        if "pd" in base:
            import pandas as pd

            for key, value in base["pd"].items():
                with contextlib.suppress(Exception):
                    if pd.get_option(key) != value:
                        pd.set_option(key, value)
    changed = []
    for name, saved in base["modules"].items():
        mod = sys.modules.get(name)
        if mod is None:
            continue
        d = vars(mod)
        if d.keys() == saved.keys() and all(d[k] is v for k, v in saved.items()):
            continue
        changed.append(name)
        for k in [k for k in d if k not in saved]:
            del d[k]
        d.update(saved)
    import gc

    gc.collect()
    if "pyarrow" in sys.modules:  # Arrow's allocator keeps freed memory for itself
        with contextlib.suppress(Exception):
            sys.modules["pyarrow"].default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # glibc: give freed heap back to the OS
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return changed


# --------------------------------------------------------------------------------------------
# the worker process


def _proc_mb(pid: int | None) -> dict[str, float]:
    """``VmRSS``, ``VmHWM`` (peak RSS) and ``VmSize`` (address space) of a process, MiB."""
    out: dict[str, float] = {}
    if pid is None:
        return out
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM", "VmSize"):
                out[key] = round(int(line.split()[1]) / 1024, 1)
    return out


def _rss_mb(pid: int | None) -> tuple[float | None, float | None]:
    """Current and peak (``VmHWM``) resident memory of a process, MiB."""
    got = _proc_mb(pid)
    return got.get("VmRSS"), got.get("VmHWM")


class WarmKernel:
    """One kernel of a warm worker: started, warmed up, reset between reports, replaced.

    Parameters
    ----------
    kernel_name
        Jupyter kernel.
    start_timeout
        Seconds to wait for the kernel to start.
    """

    def __init__(self, kernel_name: str, *, start_timeout: float = 120.0,
                 memory_limit_mb: float | None = None) -> None:
        self.kernel_name = kernel_name
        self.memory_limit_mb = memory_limit_mb
        self.start_timeout = start_timeout
        self.km: Any = None
        self.kc: Any = None
        self.n_reports = 0
        self.n_started = 0
        self.base_rss: float | None = None
        self.peak_rss: float | None = None  # of the kernels that were replaced
        self._cwd: tempfile.TemporaryDirectory[str] | None = None

    @property
    def pid(self) -> int | None:
        prov = getattr(self.km, "provisioner", None)
        return getattr(prov, "pid", None)

    def _run(self, code: str = "", expr: str | None = None, timeout: float = 120.0) -> Any:
        reply = self.kc.execute_interactive(
            code, silent=True, store_history=False, timeout=timeout,
            user_expressions={"r": expr} if expr else None, output_hook=lambda _msg: None)
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(f"kernel: {content.get('ename')}: {content.get('evalue')}")
        if expr is None:
            return None
        got = content["user_expressions"]["r"]
        if got.get("status") != "ok":
            raise RuntimeError(f"kernel: {got.get('ename')}: {got.get('evalue')}")
        return ast.literal_eval(got["data"]["text/plain"])

    def start(self) -> float:
        """Start and warm up a kernel; return the seconds it took."""
        from jupyter_client import AsyncKernelManager, BlockingKernelClient
        from jupyter_core.utils import run_sync

        t0 = time.perf_counter()
        self._cwd = tempfile.TemporaryDirectory(prefix="woonvoorraad-rapport-")
        self.km = AsyncKernelManager(kernel_name=self.kernel_name)
        run_sync(self.km.start_kernel)(
            extra_arguments=["--HistoryManager.hist_file=:memory:"], cwd=self._cwd.name)
        self.kc = BlockingKernelClient()
        self.kc.load_connection_info(self.km.get_connection_info())
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=self.start_timeout)
        self._run("from woonvoorraad.report._warm import kernel_warmup as _w\n_w()\ndel _w",
                  timeout=self.start_timeout)
        self._run(expr="__import__('woonvoorraad.report._warm', fromlist=['_'])"
                       ".kernel_reset()")
        self.base_rss = _rss_mb(self.pid)[0]
        self.n_reports = 0
        self.n_started += 1
        logger.info("kernel %s started (pid %s, %.0f MiB) in %.1f s", self.kernel_name,
                    self.pid, self.base_rss or 0, time.perf_counter() - t0)
        return time.perf_counter() - t0

    def reset(self) -> list[str]:
        """Reset the kernel between two reports (see :func:`kernel_reset`)."""
        return list(self._run(expr="__import__('woonvoorraad.report._warm', fromlist=['_'])"
                                   ".kernel_reset()", timeout=60.0))

    def needs_replacing(self) -> bool:
        """True when the kernel has rendered enough reports or grew too much."""
        if self.km is None or self.n_reports >= MAX_REPORTS_PER_KERNEL:
            return True
        mem = _proc_mb(self.pid)
        cur, size = mem.get("VmRSS"), mem.get("VmSize")
        if (self.memory_limit_mb and size is not None
                and size > float(self.memory_limit_mb) - ADDRESS_SPACE_HEADROOM_MB):
            return True
        return (cur is not None and self.base_rss is not None
                and cur - self.base_rss > KERNEL_GROWTH_LIMIT_MB)

    def stop(self) -> None:
        """Stop the kernel (at once) and remember its peak memory."""
        from jupyter_core.utils import run_sync

        if self.km is None:
            return
        peak = _rss_mb(self.pid)[1]
        if peak is not None:
            self.peak_rss = max(self.peak_rss or 0.0, peak)
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            run_sync(self.km.shutdown_kernel)(now=True)
        with contextlib.suppress(Exception):
            self.km.cleanup_resources()
        if self._cwd is not None:
            self._cwd.cleanup()
        self.km = self.kc = self._cwd = None

    def kernel_peak_rss(self) -> float | None:
        """Largest peak resident memory of this worker's kernels so far, MiB."""
        peaks = [p for p in (self.peak_rss, _rss_mb(self.pid)[1]) if p is not None]
        return max(peaks) if peaks else None


def _serve_one(job: dict[str, Any], kernel: WarmKernel) -> dict[str, Any]:
    from woonvoorraad._memory import peak_rss_mb
    from woonvoorraad.report.worker import render_job

    t0 = time.perf_counter()
    handler = logging.FileHandler(job["log"], encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    phases: dict[str, float] = {}
    restarted = False
    kpeak: float | None = None
    try:
        if job.get("fresh_kernel") or kernel.needs_replacing():
            kernel.stop()
            phases["kernel_warmup"] = round(kernel.start(), 2)
            restarted = kernel.n_started > 1
        result = render_job(job, km=kernel.km)
        kernel.n_reports += 1
        kpeak = _rss_mb(kernel.pid)[1]  # this kernel's peak, over its reports so far
        t = time.perf_counter()
        if result.get("status") != "ok":
            kernel.stop()  # a failed report never leaves its kernel to the next one
        else:
            try:
                left = kernel.reset()
                if left:
                    logger.warning("report %s changed module globals %s; restored",
                                   job["code"], ", ".join(left))
                    result["state_restored"] = left
            except Exception as exc:  # unusable: replace it before the next report
                logger.warning("kernel reset after %s failed (%s); replacing it", job["code"],
                               exc)
                kernel.stop()
        result["phases"] = {**phases, **result.get("phases", {}),
                            "reset": round(time.perf_counter() - t, 2)}
        result["kernel_memory_mb"] = {**_proc_mb(kernel.pid), "reports": kernel.n_reports}
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    result["kernel_restarted"] = restarted
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["peak_rss_mb"] = peak_rss_mb()
    if kpeak is not None:
        result["kernel_peak_rss_mb"] = kpeak
    return result


def serve(*, kernel_name: str, start_timeout: float = 120.0,
          memory_limit_mb: float | None = None) -> int:
    """Serve jobs from stdin until it closes (the warm worker's main loop)."""
    from woonvoorraad._log import configure_logging
    from woonvoorraad.report._processes import limit_memory

    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to the log
    configure_logging(0)
    logging.getLogger("papermill").setLevel(logging.INFO)
    limit_memory(memory_limit_mb)
    t0 = time.perf_counter()
    import nbconvert  # noqa: F401 - paid once per worker, not per report
    import papermill  # noqa: F401

    import woonvoorraad.report.worker  # noqa: F401

    kernel = WarmKernel(kernel_name, start_timeout=start_timeout,
                        memory_limit_mb=memory_limit_mb)
    try:
        first_start = kernel.start()
    except Exception as exc:
        logger.error("warm worker: kernel %s did not start: %s", kernel_name, exc)
        first_start = None
    answers.write(json.dumps({"ready": True, "imports": round(time.perf_counter() - t0, 2),
                              "kernel_start": first_start}) + "\n")
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            job = json.loads(line)
            try:
                result = _serve_one(job, kernel)
            except Exception as exc:  # the kernel could not be (re)started: report, go on
                logger.exception("warm worker: report %s", job.get("code"))
                kernel.stop()
                result = {"status": "failed", "error_type": type(exc).__name__,
                          "error": str(exc) or type(exc).__name__}
            answers.write(json.dumps(result) + "\n")
    finally:
        kernel.stop()
    return 0


# --------------------------------------------------------------------------------------------
# the runner's side


class WorkerGoneError(RuntimeError):
    """The warm worker ended (crashed, or was killed) without answering."""


class WarmWorkerProcess:
    """The runner's handle on one warm worker process (started on first use).

    Parameters
    ----------
    kernel
        Jupyter kernel name.
    log_path
        The worker's own log (its stderr: start-up, kernels, stray output).
    start_timeout
        Seconds for the kernel to start.
    memory_limit_mb
        ``RLIMIT_AS`` of the worker and its kernels.
    """

    def __init__(self, *, kernel: str, log_path: Path, start_timeout: float = 120.0,
                 memory_limit_mb: float | None = None, achtergrond: str | None = None) -> None:
        self.kernel, self.log_path, self.achtergrond = kernel, log_path, achtergrond
        self.start_timeout, self.memory_limit_mb = start_timeout, memory_limit_mb
        self.proc: Any = None
        self.n_started = 0
        self._lines: Any = None
        self._reader: Any = None

    def start(self) -> None:
        import queue
        import subprocess
        import threading

        from woonvoorraad.report._processes import worker_env

        cmd = [sys.executable, "-m", "woonvoorraad.report._warm", "--kernel", self.kernel,
               "--start-timeout", str(self.start_timeout)]
        if self.memory_limit_mb:
            cmd += ["--memory-limit", str(self.memory_limit_mb)]
        if self.achtergrond:
            cmd += ["--achtergrond", self.achtergrond]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, env=worker_env(), start_new_session=True,
                                         text=True, encoding="utf-8", bufsize=1)
        self.n_started += 1
        lines: queue.Queue[str | None] = queue.Queue()
        self._lines = lines
        proc = self.proc

        def read() -> None:
            try:
                for line in proc.stdout:
                    lines.put(line)
            finally:
                proc.stdout.close()
                lines.put(None)

        self._reader = threading.Thread(target=read, daemon=True, name="warm-worker-reader")
        self._reader.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _answer(self, deadline: float, stopped: Any) -> dict[str, Any] | None:
        """Next answer; None when the run was stopped. Raises TimeoutError, WorkerGoneError."""
        import queue

        while not stopped.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            try:
                line = self._lines.get(timeout=min(0.1, left))
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait()
                raise WorkerGoneError(f"worker exited with code {code}")
            return dict(json.loads(line))
        return None

    def render(self, job: dict[str, Any], *, timeout: float, stopped: Any) -> dict[str, Any] | None:
        """Send one job and wait for its result (None: the run was stopped).

        Raises
        ------
        TimeoutError
            No answer within ``timeout`` seconds (plus the start of a new worker).
        WorkerGoneError
            The worker ended without answering (it crashed, or its memory ran out).
        """
        extra = 0.0
        if not self.alive():
            self.start()
            extra = self.start_timeout + 60.0
        deadline = time.monotonic() + timeout + extra
        try:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            raise WorkerGoneError(f"worker not reachable: {exc}") from exc
        while True:
            got = self._answer(deadline, stopped)
            if got is None or not got.get("ready"):
                return got

    def kill(self, grace: float = 3.0) -> None:
        """Stop the worker and its kernel (their process groups) now."""
        from woonvoorraad.report._processes import kill_group

        if self.proc is not None:
            with contextlib.suppress(OSError):
                kill_group(self.proc, grace=grace)
            self._forget()

    def _forget(self) -> None:
        """Close the pipes of an ended worker (the reader closes its stdout at EOF)."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        if self._reader is not None:
            self._reader.join(timeout=5.0)
        self.proc = self._reader = None

    def close(self, wait: float = 15.0) -> None:
        """Let the worker finish (stdin closed: it stops its kernel and exits), else kill."""
        import subprocess

        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=wait)
            self._forget()
        except subprocess.TimeoutExpired:
            self.kill()


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m woonvoorraad.report._warm")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--start-timeout", type=float, default=120.0)
    parser.add_argument("--memory-limit", type=float, default=None)
    parser.add_argument("--achtergrond", default=None)
    args = parser.parse_args(argv)
    if args.achtergrond:  # read by the maps of this worker and of its kernels
        from woonvoorraad.report.maps import ACHTERGROND_ENV

        os.environ[ACHTERGROND_ENV] = args.achtergrond
    return serve(kernel_name=args.kernel, start_timeout=args.start_timeout,
                 memory_limit_mb=args.memory_limit)


if __name__ == "__main__":  # pragma: no cover - worker entry point
    sys.exit(_main())
