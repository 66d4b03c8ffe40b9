"""Batch rendering of the reports: N workers, one gemeente at a time each.

:func:`render_reports` executes the report template once per gemeente with papermill, with a
per-report timeout, retries and failure isolation; it writes ``run.json`` after every report
and ``index.html`` at the end. Ctrl-C and SIGTERM stop the run cleanly. Two runners:

``warm`` (default)
    ``workers`` long-lived processes (:mod:`woonvoorraad.report._warm`), each with one warm
    kernel that is reset between gemeenten and replaced after a failure.
``proces``
    One new process and one new kernel per report (:mod:`woonvoorraad.report.worker`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from woonvoorraad import __version__, layout
from woonvoorraad._io import FolderLock, remove_temp_files, write_json_atomic, write_text_atomic
from woonvoorraad.errors import InputError
from woonvoorraad.report._processes import kill_group, wait_for_exit, worker_env
from woonvoorraad.report.format import fmt_getal, safe_filename
from woonvoorraad.report.index import index_html
from woonvoorraad.report.run import (
    Run,
    gemeente_summary,
    load_run,
    make_json_safe,
    take_build_snapshot,
)
from woonvoorraad.report.template import (
    KERNEL_NAME,
    ReportParameterError,
    check_template_parameters,
    ensure_kernel,
    find_template,
)

logger = logging.getLogger(__name__)

#: Lock file of a report folder while :func:`render_reports` writes into it.
REPORT_LOCK_NAME = ".woonvoorraad-report.lock"


@dataclass
class ReportStatus:
    """Outcome of one gemeente's report.

    Attributes
    ----------
    gemeentecode, gemeentenaam
        The gemeente.
    status
        ``ok``, ``failed`` or ``timeout``; ``pending`` and ``running`` while the run goes on;
        after Ctrl-C or SIGTERM ``interrupted`` (its worker was stopped) or ``cancelled``
        (never started).
    attempts
        Attempts made (at most 1 + retries).
    started, finished
        When the report started and ended (ISO 8601, UTC), None when it did not.
    duration_seconds
        Wall time of all attempts.
    error, error_type
        Last error message and its kind (``notebook`` for an error in a cell, ``timeout``,
        ``worker`` for a crash, or the exception name).
    html, notebook, kaart, log
        Output files relative to the report folder (None when not written).
    kerncijfers
        Key figures of the gemeente (:func:`gemeente_summary`), for the index.
    peak_rss_mb, kernel_peak_rss_mb
        Peak resident memory of the worker process and of its notebook kernel (last attempt;
        for the ``warm`` runner the peak of the long-lived worker so far and of the kernel
        that rendered the report, over its reports so far).
    phases
        Seconds per phase of the last attempt (``start_imports``, ``kaart``,
        ``kernel_start``, ``kernel_warmup``, ``cellen``, ``papermill``, ``export``,
        ``reset``; see :func:`woonvoorraad.report.worker.render_job`).
    kernel_restarted
        ``warm`` runner: the report ran in a kernel started for it after an earlier failure
        (its own failed attempt or another gemeente's), or one that replaced a kernel that
        had done its share of reports.
    retry_errors
        The error of every failed attempt before the last one.
    """

    gemeentecode: str
    gemeentenaam: str
    status: str = "pending"
    attempts: int = 0
    duration_seconds: float = 0.0
    error: str | None = None
    error_type: str | None = None
    html: str | None = None
    notebook: str | None = None
    kaart: str | None = None
    log: str | None = None
    kerncijfers: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float | None = None
    kernel_peak_rss_mb: float | None = None
    started: str | None = None
    finished: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    kernel_restarted: bool = False
    retry_errors: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """Outcome of :func:`render_reports`.

    Attributes
    ----------
    out_dir
        The report folder.
    index, run_json
        ``index.html`` and ``run.json``.
    reports
        One :class:`ReportStatus` per gemeente.
    elapsed_seconds
        Wall time.
    """

    out_dir: Path
    index: Path
    run_json: Path
    reports: list[ReportStatus]
    elapsed_seconds: float

    @property
    def failed(self) -> list[ReportStatus]:
        """The reports that did not succeed."""
        return [r for r in self.reports if r.status != "ok"]

    @property
    def ok(self) -> bool:
        """True when every report succeeded."""
        return not self.failed


def _select(run: Run, gemeenten: Sequence[str] | str | None,
            region: str | None) -> tuple[list[str], str | None]:
    """Resolve the selection to gemeentecodes of the run (and a region name)."""
    if isinstance(gemeenten, str):
        if gemeenten.lower() in ("all", "alle"):
            gemeenten = None
        else:
            from woonvoorraad.sources.gemeenten import REGIONS

            if gemeenten.lower() in REGIONS and region is None:
                region, gemeenten = gemeenten, None
            else:
                gemeenten = [gemeenten]
    codes: list[str] = []
    if region is not None:
        from woonvoorraad.sources.gemeenten import gemeenten_from_region

        wanted = [g.code for g in gemeenten_from_region(region)]
        have = set(run.gemeenten()["gemeentecode"])
        missing = [c for c in wanted if c not in have]
        if missing:
            raise InputError(f"region {region!r}: gemeente(n) {', '.join(missing)} are not in "
                             "this build; build them first", path=run.path)
        codes = wanted
    if gemeenten:
        codes += [run.resolve_gemeente(q) for q in gemeenten]
    if not codes:
        codes = list(run.gemeenten()["gemeentecode"])
    return list(dict.fromkeys(codes)), region


def _stems(run: Run, codes: Sequence[str]) -> dict[str, str]:
    stems: dict[str, str] = {}
    used: set[str] = set()
    for code in codes:
        code_part = re.sub(r"[^A-Za-z0-9]", "", code)[:12] or "x"
        stem = f"{code_part}-{safe_filename(run.gemeentenaam(code))}"
        base, i = stem, 2
        while stem.lower() in used:
            stem, i = f"{base}-{i}", i + 1
        used.add(stem.lower())
        stems[code] = stem
    return stems


#: Seconds a worker and its kernel get after SIGTERM before SIGKILL when the run is stopped
#: (Ctrl-C, SIGTERM); a report that hangs gets the longer grace of :func:`kill_group`.
_STOP_GRACE = 3.0


class _Stopped(SystemExit):
    """Raised in the runner's main thread by SIGTERM: stop, record, exit with 128 + 15."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class _RunControl:
    """Shared by the runner's threads: once stopped, no worker process starts any more.

    ``start_lock`` is held from the check of ``stopped`` to the start of a worker, so a worker
    either starts before :meth:`stop` (and is then stopped by its thread) or not at all.
    """

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.start_lock = threading.Lock()
        self.reason: str | None = None

    def stop(self, reason: str) -> None:
        with self.start_lock:
            if self.reason is None:
                self.reason = reason
            self.stopped.set()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _attempt(job: dict[str, Any], *, timeout: float, log_path: Path, attempt: int,
             control: _RunControl | None = None) -> dict[str, Any]:
    """Run one worker process for one gemeente; return its result dict.

    ``{"status": "cancelled"}`` when the run was stopped before the worker started;
    ``{"status": "interrupted", …}`` when it was stopped while the worker ran (the worker and
    its kernel are then stopped within :data:`_STOP_GRACE` seconds, plus 5 for SIGKILL).
    """
    control = control or _RunControl()
    job_file = log_path.with_suffix(f".job{attempt}.json")
    result_file = log_path.with_suffix(f".result{attempt}.json")
    result_file.unlink(missing_ok=True)
    write_json_atomic(job_file, {**job, "result": str(result_file), "spawned": time.time()})
    cmd = [sys.executable, "-m", "woonvoorraad.report.worker", "--worker", str(job_file)]
    try:
        with log_path.open("a", encoding="utf-8") as log:
            with control.start_lock:
                if control.stopped.is_set():
                    return {"status": "cancelled", "error_type": "interrupted",
                            "error": f"not started: run stopped by {control.reason}"}
                log.write(f"\n=== attempt {attempt} "
                          f"({dt.datetime.now().isoformat(timespec='seconds')})\n")
                log.flush()
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=worker_env(),
                                        start_new_session=True)
            try:
                code = wait_for_exit(proc, timeout, control.stopped)
            except subprocess.TimeoutExpired:
                kill_group(proc)
                return {"status": "timeout", "error_type": "timeout",
                        "error": f"report not finished within {fmt_getal(timeout, 0)} s; "
                        "stopped"}
            except BaseException:
                kill_group(proc, grace=2.0)
                raise
            if code is None:
                kill_group(proc, grace=_STOP_GRACE)
                log.write(f"\n=== stopped: run stopped by {control.reason}\n")
                return {"status": "interrupted", "error_type": "interrupted",
                        "error": f"stopped by {control.reason}"}
        if result_file.is_file():
            return json.loads(result_file.read_text(encoding="utf-8"))
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        return {"status": "failed", "error_type": "worker",
                "error": f"worker exited with code {code}: " + " | ".join(tail)}
    finally:
        job_file.unlink(missing_ok=True)
        result_file.unlink(missing_ok=True)


class _WarmPool:
    """The warm workers of a run: a thread takes an idle one for each attempt."""

    def __init__(self, n: int, *, kernel: str, log_dir: Path, start_timeout: float,
                 memory_limit_mb: float | None, achtergrond: str | None = None) -> None:
        import queue

        from woonvoorraad.report._warm import WarmWorkerProcess

        self.all = [WarmWorkerProcess(kernel=kernel, log_path=log_dir / f"worker-{i + 1}.log",
                                      start_timeout=start_timeout,
                                      memory_limit_mb=memory_limit_mb, achtergrond=achtergrond)
                    for i in range(n)]
        self.idle: queue.Queue[Any] = queue.Queue()
        for w in self.all:
            self.idle.put(w)

    def close(self) -> None:
        for w in self.all:
            w.close()

    def kill(self) -> None:
        for w in self.all:
            w.kill(grace=_STOP_GRACE)


def _attempt_warm(job: dict[str, Any], *, timeout: float, log_path: Path, attempt: int,
                  control: _RunControl, pool: _WarmPool) -> dict[str, Any]:
    """One attempt of one gemeente in a warm worker; the same result dict as :func:`_attempt`.

    A retry runs in a fresh kernel. A report that hangs (no answer within ``timeout``) or a
    worker that ends without answering has its worker and kernel stopped; the next report
    gets a new worker.
    """
    from woonvoorraad.report._warm import WorkerGoneError

    worker = pool.idle.get()
    try:
        with control.start_lock:
            if control.stopped.is_set():
                return {"status": "cancelled", "error_type": "interrupted",
                        "error": f"not started: run stopped by {control.reason}"}
            with log_path.open("a", encoding="utf-8") as log:
                log.write(f"\n=== attempt {attempt} "
                          f"({dt.datetime.now().isoformat(timespec='seconds')}, warm worker "
                          f"{worker.log_path.stem})\n")
        try:
            got = worker.render({**job, "log": str(log_path), "fresh_kernel": attempt > 1},
                                timeout=timeout, stopped=control.stopped)
        except TimeoutError:
            worker.kill()
            return {"status": "timeout", "error_type": "timeout",
                    "error": f"report not finished within {fmt_getal(timeout, 0)} s; stopped"}
        except WorkerGoneError as exc:
            worker.kill()
            tail = worker.log_path.read_text(encoding="utf-8", errors="replace").strip()
            tail_lines = " | ".join(tail.splitlines()[-3:])
            return {"status": "failed", "error_type": "worker",
                    "error": f"{exc}: {tail_lines}"}
        except BaseException:
            worker.kill(grace=2.0)
            raise
        if got is None:
            worker.kill(grace=_STOP_GRACE)
            with log_path.open("a", encoding="utf-8") as log:
                log.write(f"\n=== stopped: run stopped by {control.reason}\n")
            return {"status": "interrupted", "error_type": "interrupted",
                    "error": f"stopped by {control.reason}"}
        return got
    finally:
        pool.idle.put(worker)


def _render_one(job: dict[str, Any], status: ReportStatus, *, out_dir: Path, timeout: float,
                retries: int, control: _RunControl | None = None,
                on_start: Callable[[], None] | None = None,
                pool: _WarmPool | None = None) -> ReportStatus:
    control = control or _RunControl()
    with control.start_lock:
        if control.stopped.is_set():
            status.status = "cancelled"
            return status
        status.status, status.started = "running", _now()
    log_path = out_dir / "logs" / f"{job['stem']}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("", encoding="utf-8")
    status.log = log_path.relative_to(out_dir).as_posix()
    if on_start is not None:
        on_start()
    started = time.perf_counter()
    res: dict[str, Any] = {}
    for attempt in range(1, retries + 2):
        if pool is None:
            got = _attempt(job, timeout=timeout, log_path=log_path, attempt=attempt,
                           control=control)
        else:
            got = _attempt_warm(job, timeout=timeout, log_path=log_path, attempt=attempt,
                                control=control, pool=pool)
        if got.get("status") == "cancelled":  # stopped before this attempt's worker started
            if attempt == 1:  # no worker ran: as if it never started
                log_path.unlink(missing_ok=True)
                status.status, status.started, status.log = "cancelled", None, None
                return status
            res = {**res, "status": "interrupted", "error_type": "interrupted",
                   "error": f"{got['error']} (attempt {attempt}); attempt {attempt - 1}: "
                   f"{res.get('error')}"}
            break
        if res.get("status") not in (None, "ok", "interrupted"):
            status.retry_errors.append(str(res.get("error")))
        res = got
        status.attempts = attempt
        if res.get("status") in ("ok", "interrupted"):
            break
        logger.warning("report %s (%s) attempt %d failed: %s", status.gemeentecode,
                       status.gemeentenaam, attempt, res.get("error"))
    status.duration_seconds = round(time.perf_counter() - started, 2)
    status.finished = _now()
    status.status = res.get("status", "failed")
    status.error = res.get("error")
    status.error_type = res.get("error_type")
    status.peak_rss_mb = res.get("peak_rss_mb")
    status.kernel_peak_rss_mb = res.get("kernel_peak_rss_mb")
    status.phases = dict(res.get("phases") or {})
    status.kernel_restarted = bool(res.get("kernel_restarted")) or (
        pool is not None and status.attempts > 1)
    for key in ("html", "notebook", "kaart"):
        p = out_dir / job[key]
        setattr(status, key, job[key] if p.is_file() and (key != "html" or status.status == "ok")
                else None)
    return status


def _write_run_json(path: Path, meta: dict[str, Any], statuses: Sequence[ReportStatus],
                    lock: threading.Lock, *, stopped_by: str | None = None) -> None:
    with lock:
        n_ok = sum(s.status == "ok" for s in statuses)
        done = all(s.status not in ("pending", "running") for s in statuses)
        if stopped_by is not None:
            status = "interrupted"
        else:
            status = ("ok" if n_ok == len(statuses) else "failed") if done else "running"
        data = {**meta, "status": status,
                **({"interrupted_by": stopped_by} if stopped_by is not None else {}),
                "n_reports": len(statuses), "n_ok": n_ok,
                "n_failed": sum(s.status in ("failed", "timeout") for s in statuses),
                "n_interrupted": sum(s.status == "interrupted" for s in statuses),
                "n_cancelled": sum(s.status == "cancelled" for s in statuses),
                "reports": [make_json_safe(asdict(s)) for s in statuses]}
        write_json_atomic(path, data)


class _RunState:
    """``run.json`` of a running report run; once the final state is written (after a stop),
    later writes from worker threads are ignored."""

    def __init__(self, path: Path, meta: dict[str, Any], statuses: list[ReportStatus]) -> None:
        self.path, self.meta, self.statuses = path, meta, statuses
        self.lock = threading.Lock()
        self._closed = threading.Event()

    def write(self) -> None:
        if not self._closed.is_set():
            _write_run_json(self.path, self.meta, self.statuses, self.lock)

    def write_stopped(self, reason: str) -> None:
        self._closed.set()
        _write_run_json(self.path, self.meta, self.statuses, self.lock, stopped_by=reason)


def _stop_reason(exc: BaseException) -> str:
    if isinstance(exc, _Stopped):
        return signal.Signals(exc.signum).name
    return "SIGINT" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__


@contextlib.contextmanager
def _signal_handlers(handlers: Mapping[int, Any]) -> Any:
    """Set signal handlers for a block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    try:
        for sig, handler in handlers.items():
            previous[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _on_sigterm(signum: int, _frame: Any) -> None:
    raise _Stopped(signum)


def _stop_handlers() -> dict[int, Any]:
    """SIGTERM stops a report run as Ctrl-C does (unless someone else handles SIGTERM)."""
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        return {signal.SIGTERM: _on_sigterm}
    return {}


def _stop_run(exc: BaseException, control: _RunControl, pool: ThreadPoolExecutor,
              futures: Mapping[Any, ReportStatus], state: _RunState) -> None:
    """Ctrl-C or SIGTERM: start no report, stop the running ones, record the final state."""
    from concurrent.futures import wait

    reason = _stop_reason(exc)

    def again(signum: int, _frame: Any) -> None:
        logger.warning("%s: already stopping", signal.Signals(signum).name)

    with _signal_handlers({signal.SIGINT: again, signal.SIGTERM: again}):
        control.stop(reason)
        running = [st for st in state.statuses if st.status == "running"]
        logger.warning("%s: stopping the report run: no new reports; stopping %d running "
                       "worker(s)", reason, len(running))
        pool.shutdown(wait=False, cancel_futures=True)
        # the threads stop their workers at once: SIGTERM, SIGKILL after the grace (a
        # cancelled future never completes, so wait for the others only)
        wait([f for f in futures if not f.cancelled()], timeout=_STOP_GRACE + 10.0)
        for st in state.statuses:
            if st.status == "pending":
                st.status = "cancelled"
            elif st.status == "running":  # its thread did not return in time
                st.status, st.error_type = "interrupted", "interrupted"
                st.error, st.finished = f"stopped by {reason}", _now()
        state.write_stopped(reason)
        for left in remove_temp_files(state.path.parent):
            logger.debug("removed %s of a stopped report", left)
        n_int = sum(st.status == "interrupted" for st in state.statuses)
        n_can = sum(st.status == "cancelled" for st in state.statuses)
        logger.warning("%s: report run stopped: %d report(s) interrupted, %d not started; "
                       "see %s", reason, n_int, n_can, state.path)


def render_reports(
    processed_dir: str | Path,
    *,
    gemeenten: Sequence[str] | str | None = None,
    region: str | None = None,
    out_dir: str | Path | None = None,
    workers: int = 2,
    timeout: float = 900.0,
    retries: int = 1,
    kernel_name: str | None = None,
    template: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    offline: bool = True,
    start_timeout: float = 120.0,
    memory_limit_mb: float | None = None,
    runner: str = "warm",
    achtergrond: str | None = None,
) -> RunResult:
    """Render one report and one map per gemeente.

    For every gemeente a worker writes the standalone map, executes the template with
    papermill and exports HTML without code cells; ``workers`` reports are rendered at once.
    With ``runner="warm"`` (default) each of the ``workers`` processes is long-lived and keeps
    one kernel, reset between gemeenten (:mod:`woonvoorraad.report._warm`); with
    ``runner="proces"`` every report gets a new process (``python -m
    woonvoorraad.report.worker --worker``) and a new kernel. A report
    that fails or exceeds ``timeout`` is retried ``retries`` times; a gemeente that still fails
    is recorded and the others go on. ``run.json`` is rewritten (atomically) after every
    report, and ``index.html`` lists every report with its key figures and status.

    Parameters
    ----------
    processed_dir
        Build folder (``manifest.json``, ``buurten.parquet``, …).
    gemeenten
        Codes or names of gemeenten of the build, ``"all"``, or a region preset name; None:
        all gemeenten of the build.
    region
        Region preset (:data:`woonvoorraad.sources.gemeenten.REGIONS`); its gemeenten must be in
        the build.
    out_dir
        Report folder; default ``reports/<region or build folder name>``.
    workers
        Reports rendered at the same time.
    timeout
        Seconds per report (per attempt) before its process group is stopped.
    retries
        Extra attempts for a failed report.
    kernel_name
        Jupyter kernel; default ``woonvoorraad`` (installed into this environment if missing).
    template
        Report template; default :func:`find_template`.
    parameters
        Extra template parameters (e.g. ``{"max_kandidaten": 3}``); unknown names are an error.
    offline
        Inline Leaflet in maps and reports (True) or load it from a CDN.
    start_timeout
        Seconds to wait for a kernel to start.
    memory_limit_mb
        Address-space limit (``RLIMIT_AS``) of each worker and of its kernel, in MiB; a report
        that needs more fails with a ``MemoryError`` (recorded in ``run.json``) and the others
        go on. None: no limit.
    runner
        ``warm`` (long-lived workers with a warm kernel) or ``proces`` (one process and one
        kernel per report, the runner before issue 16).
    achtergrond
        Background of the maps: None or ``"geen"`` (none: a map makes no request at all),
        ``"pdok"`` (PDOK BRT-Achtergrondkaart grijs, switchable in the layer control) or a
        tile URL template (see :func:`woonvoorraad.report.maps.resolve_achtergrond`). Passed to
        the workers and kernels as ``$WOONVOORRAAD_ACHTERGROND``.

    Returns
    -------
    RunResult

    Raises
    ------
    InputError
        The build folder is unusable or a gemeente is not in it.
    ReportParameterError
        A parameter is not declared by the template.
    KernelNotFoundError
        The kernel is missing.
    KeyboardInterrupt, SystemExit
        Ctrl-C (``KeyboardInterrupt``) or, when called in the main thread, SIGTERM
        (``SystemExit(143)``): no report starts any more, the running workers and their
        kernels are stopped (SIGTERM, SIGKILL after a few seconds), ``run.json`` records the
        run as ``interrupted`` (each report ``interrupted`` or ``cancelled``), then the
        exception goes on; ``index.html`` is left as it was.
    """
    started = time.perf_counter()
    if runner not in ("warm", "proces"):
        raise InputError(f"unknown report runner {runner!r}; choose warm or proces")
    from woonvoorraad.report.maps import resolve_achtergrond

    try:  # an unknown background stops here, not in every report
        resolve_achtergrond(achtergrond)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    run = load_run(processed_dir, polygons=False)  # the runner needs no polygons
    codes, region = _select(run, gemeenten, region)
    tpl = Path(template) if template is not None else find_template()
    if not tpl.is_file():
        raise InputError("report template not found", path=tpl)
    extra = dict(parameters or {})
    reserved = {"gemeente_code", "data_dir", "kaart_bestand"} & set(extra)
    if reserved:
        raise ReportParameterError(f"parameter(s) {', '.join(sorted(reserved))} are set by "
                                   "the runner")
    check_template_parameters(tpl, {"gemeente_code": "", "data_dir": "", "kaart_bestand": "",
                                    "offline": offline, **extra})
    kernel = ensure_kernel(kernel_name or KERNEL_NAME)
    folder = Path(out_dir) if out_dir is not None else layout.reports_dir(safe_filename(
        region or run.naam))
    # two report runs into one folder would overwrite each other's notebooks, logs and
    # run.json: the second one stops at once with a clear message. The lock is taken on the
    # folder as given, before any work: it makes the folder, and a file or a dangling or
    # looping link there, a read-only folder or a symlinked lock file stop with OutputError
    folder_lock = FolderLock(folder, name=REPORT_LOCK_NAME, what="woonvoorraad report run")
    folder_lock.acquire()
    folder = folder.resolve()
    try:
        for left in remove_temp_files(folder):  # of a report run that was killed
            logger.info("removed %s, left by an interrupted report run", left)
        snapshot = take_build_snapshot(run.path)
        workers = max(1, int(workers))
        stems = _stems(run, codes)
        statuses = []
        jobs = []
        for code in codes:
            stem = stems[code]
            st = ReportStatus(gemeentecode=code, gemeentenaam=run.gemeentenaam(code),
                              kerncijfers=make_json_safe(gemeente_summary(run, code)))
            statuses.append(st)
            job = {
                "code": code, "naam": st.gemeentenaam, "stem": stem, "data_dir": str(run.path),
                "template": str(tpl.resolve()), "kernel": kernel, "out_dir": str(folder),
                "html": f"{stem}.html", "notebook": f"{stem}.ipynb", "kaart": f"{stem}-kaart.html",
                "parameters": {"gemeente_code": code, "data_dir": str(run.path),
                               "kaart_bestand": f"{stem}-kaart.html", "offline": offline, **extra},
                "cell_timeout": timeout, "start_timeout": start_timeout, "offline": offline,
                "memory_limit_mb": memory_limit_mb, "build_snapshot": snapshot,
                "achtergrond": achtergrond,
            }
            for key in ("html", "notebook", "kaart"):  # no way out of the report folder
                target = (folder / job[key]).resolve()
                if target.parent != folder:
                    raise InputError(f"unsafe output name {job[key]!r}")
            jobs.append(job)
        meta = {
            "tool": "woonvoorraad", "version": __version__,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "processed_dir": str(run.path), "synthetic": run.synthetic, "region": region,
            "template": str(tpl.resolve()), "kernel": kernel, "workers": workers,
            "timeout_seconds": timeout, "retries": retries, "offline": offline,
            "memory_limit_mb": memory_limit_mb, "runner": runner, "achtergrond": achtergrond,
            "parameters": make_json_safe(extra),
        }
        run_json = folder / "run.json"
        state = _RunState(run_json, meta, statuses)
        # Ctrl-C (KeyboardInterrupt) or SIGTERM: no report starts any more, the running
        # workers and their kernels are stopped, run.json gets its final state; then the
        # exception goes on (the command exits with 130, or 143 for SIGTERM)
        control = _RunControl()
        warm = (_WarmPool(min(workers, len(jobs)) or 1, kernel=kernel, log_dir=folder / "logs",
                          start_timeout=start_timeout, memory_limit_mb=memory_limit_mb,
                          achtergrond=achtergrond)
                if runner == "warm" else None)
        with _signal_handlers(_stop_handlers()):
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rapport")
            futures: dict[Any, ReportStatus] = {}
            try:
                state.write()
                logger.info("rendering %d report(s) into %s with %d worker(s)", len(jobs),
                            folder, workers)
                for job, st in zip(jobs, statuses, strict=True):
                    futures[pool.submit(_render_one, job, st, out_dir=folder, timeout=timeout,
                                        retries=retries, control=control,
                                        on_start=state.write, pool=warm)] = st
                for fut in as_completed(futures):
                    st = futures[fut]
                    try:
                        fut.result()
                    except Exception as exc:  # the runner itself failed for this gemeente
                        logger.exception("report %s: runner error", st.gemeentecode)
                        st.status, st.error, st.error_type = ("failed", str(exc),
                                                              type(exc).__name__)
                    logger.info("report %s (%s): %s in %.1f s", st.gemeentecode,
                                st.gemeentenaam, st.status, st.duration_seconds)
                    state.write()
            except (KeyboardInterrupt, SystemExit) as exc:
                meta["elapsed_seconds"] = round(time.perf_counter() - started, 2)
                _stop_run(exc, control, pool, futures, state)
                if warm is not None:
                    warm.kill()
                raise
            finally:
                pool.shutdown(wait=True)
                if warm is not None:
                    warm.close()
        elapsed = round(time.perf_counter() - started, 2)
        meta["elapsed_seconds"] = elapsed
        state.write()
        index = write_text_atomic(folder / "index.html",
                                  index_html(run, statuses, region=region, created=meta["created"]))
        result = RunResult(out_dir=folder, index=index, run_json=run_json, reports=statuses,
                           elapsed_seconds=elapsed)
        logger.info("%d of %d report(s) ok in %.1f s; index: %s",
                    len(statuses) - len(result.failed), len(statuses), elapsed, index)
        return result
    finally:
        folder_lock.release()
