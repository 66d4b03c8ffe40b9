"""The report worker: renders the map and the report of one gemeente.

Started by :func:`woonvoorraad.report.render.render_reports` as ``python -m
woonvoorraad.report.worker --worker JOB`` (the ``proces`` runner: one process per report); it
reads the job file, writes the map, executes the template with papermill, exports the HTML and
writes a result file. The warm workers of :mod:`woonvoorraad.report._warm` call
:func:`render_job` for every gemeente with a kernel they keep running.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from woonvoorraad._io import write_json_atomic, write_text_atomic
from woonvoorraad._timing import Laps
from woonvoorraad.report._processes import limit_memory, peak_rss
from woonvoorraad.report.export import export_html
from woonvoorraad.report.run import check_build_snapshot, load_run
from woonvoorraad.report.sections import make_map

logger = logging.getLogger(__name__)

#: Name under which :class:`WarmKernelEngine` is registered with papermill.
WARM_ENGINE = "woonvoorraad-warm"


def _publish_notebook(tmp: Path, final: Path) -> None:
    """Move an executed notebook into place if it is a complete notebook, else drop it.

    A failed run still publishes its notebook (it shows the error in the failing cell); a
    notebook that papermill did not finish writing never gets the final name.
    """
    if not tmp.is_file():
        return
    try:
        complete = isinstance(json.loads(tmp.read_text(encoding="utf-8"))["cells"], list)
    except (OSError, ValueError, KeyError, TypeError):
        complete = False
    if not complete:
        tmp.unlink(missing_ok=True)
        return
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


def register_warm_engine() -> str:
    """Register :class:`WarmKernelEngine` with papermill (once); return its name.

    The engine is papermill's ``nbclient`` engine that runs the notebook in a kernel the
    caller started (``km=``, a running ``AsyncKernelManager``) and leaves it running; it
    closes the channels of the client it made, so a worker that renders hundreds of reports
    does not collect sockets.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(  # noqa: PLR0917 - papermill's signature
                cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None,
                                     start_timeout: int = 60,
                                     execution_timeout: int | None = None,
                                     **kwargs: Any) -> Any:
            km = kwargs.pop("km")
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout,
                                 startup_timeout=start_timeout, kernel_name=kernel_name,
                                 log=logging.getLogger("papermill"), log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, km=km, **final)
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
                    client.kc = None

    if WARM_ENGINE not in papermill_engines._engines:
        papermill_engines.register(WARM_ENGINE, WarmKernelEngine)
    return WARM_ENGINE


def _notebook_phases(nb: Any) -> dict[str, float]:
    """Kernel start-up and cell time from papermill's metadata of an executed notebook."""
    import datetime as dt

    def ts(text: Any) -> float | None:
        try:
            return dt.datetime.fromisoformat(str(text)).timestamp()
        except (TypeError, ValueError):
            return None

    start = ts(nb.get("metadata", {}).get("papermill", {}).get("start_time"))
    cells = [c.get("metadata", {}).get("papermill", {}) for c in nb.get("cells", [])]
    firsts = [t for t in (ts(c.get("start_time")) for c in cells) if t is not None]
    out = {"cellen": round(sum(float(c.get("duration") or 0.0) for c in cells), 2)}
    if start is not None and firsts:
        out["kernel_start"] = round(max(min(firsts) - start, 0.0), 2)
    return out


_IFRAME = re.compile(r'<iframe class="wv-kaart"[^>]*?\ssrcdoc="([^"]*)"')


def map_from_notebook(nb: Any) -> str | None:
    """The map document the report embeds (``section_kaart``'s iframe), or None.

    The standalone map is the same map as the one in the report: the warm runner takes it
    from the executed notebook instead of drawing it a second time.
    """
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            text = (output.get("data") or {}).get("text/html")
            if not text:
                continue
            found = _IFRAME.search("".join(text) if isinstance(text, list) else str(text))
            if found:
                return html.unescape(found.group(1))
    return None


def _write_map(job: dict[str, Any], out: Path, nb: Any = None) -> int:
    """Write the standalone map (from the notebook when it holds it, else drawn); its size."""
    from woonvoorraad.report.maps import MAX_BYTES, save_map

    target = out / job["kaart"]
    doc = map_from_notebook(nb) if nb is not None else None
    if doc is None:
        run = load_run(job["data_dir"], gemeente=job["code"])
        save_map(make_map(run, job["code"], offline=bool(job.get("offline", True))), target)
    else:
        write_text_atomic(target, doc)
        if target.stat().st_size > MAX_BYTES:
            logger.warning("map %s is %.1f MB, over the %.1f MB budget", target,
                           target.stat().st_size / 1e6, MAX_BYTES / 1e6)
    return target.stat().st_size


def render_job(job: dict[str, Any], *, km: Any = None) -> dict[str, Any]:
    """Render the map and the report of one gemeente; return the result dict.

    Parameters
    ----------
    job
        The job written by the runner (gemeente, paths, parameters, limits).
    km
        A running kernel manager to execute the template in (warm workers); None: papermill
        starts a kernel of its own and stops it afterwards. With a kernel manager the notebook
        is saved when it is finished (not after every cell) and the standalone map is the
        one the report embeds (drawn by the worker only when the report has none).

    Returns
    -------
    dict
        ``status`` (``ok`` or ``failed``), ``error`` and ``error_type`` when it failed, the
        sizes of the outputs, and ``phases``: seconds per phase (``kaart``, ``kernel_start``,
        ``cellen``, ``papermill`` (all of papermill's work), ``export``).
    """
    out = Path(job["out_dir"])
    result: dict[str, Any] = {"status": "failed"}
    laps = Laps()
    phases = laps.seconds

    try:
        check_build_snapshot(job["data_dir"], job.get("build_snapshot"))
        if km is None:
            # the polygons of this gemeente only; the kernel reads them the same way (the
            # template calls load_run with its gemeente_code parameter)
            result["kaart_bytes"] = _write_map(job, out)
            laps.mark("kaart")

        import papermill as pm

        nb_final = out / job["notebook"]
        fd, tmp_name = tempfile.mkstemp(prefix=f".{job['notebook']}.", suffix=".part.ipynb",
                                        dir=out)
        os.close(fd)
        nb_tmp = Path(tmp_name)
        nb_tmp.unlink()  # a unique hidden name; papermill creates the file
        engine: dict[str, Any] = {} if km is None else {
            "engine_name": register_warm_engine(), "km": km,
            "request_save_on_cell_execute": False}
        nb = None
        with tempfile.TemporaryDirectory(prefix="woonvoorraad-rapport-") as cwd:
            try:
                nb = pm.execute_notebook(
                    job["template"], str(nb_tmp), parameters=job["parameters"],
                    kernel_name=job["kernel"], progress_bar=False, log_output=False,
                    start_timeout=int(job.get("start_timeout", 120)),
                    execution_timeout=int(job["cell_timeout"]), cwd=cwd, report_mode=True,
                    **engine)
            finally:
                laps.mark("papermill")
                _publish_notebook(nb_tmp, nb_final)
                if nb_final.is_file():
                    import nbformat

                    phases.update(_notebook_phases(nbformat.read(str(nb_final), as_version=4)))
        if km is not None:
            result["kaart_bytes"] = _write_map(job, out, nb)
            laps.mark("kaart")
        page = export_html(nb if nb is not None else nb_final,
                           titel=f"Woningvoorraad gemeente {job['naam']}")
        write_text_atomic(out / job["html"], page)
        laps.mark("export")
        result = {"status": "ok", "kaart_bytes": result["kaart_bytes"],
                  "html_bytes": (out / job["html"]).stat().st_size}
    except Exception as exc:
        ename = type(exc).__name__
        if ename == "CellTimeoutError":  # the kernel is still busy: the caller stops it
            result = {"status": "timeout", "error_type": "timeout",
                      "error": f"report not finished within {int(job['cell_timeout'])} s "
                               "(a cell ran too long); stopped"}
        elif ename == "PapermillExecutionError":
            result = {"status": "failed", "error_type": "notebook",
                      "error": f"{exc.ename}: {exc.evalue} (cel {exc.exec_count})"}  # type: ignore[attr-defined]
        else:
            result = {"status": "failed", "error_type": ename, "error": str(exc) or ename}
        logger.error("report %s failed: %s", job.get("code"), result["error"])
    result["phases"] = phases
    return result


def _worker(job_file: str | Path) -> int:
    """Render the map and the report of one gemeente; write a result JSON. Exit code 0 = ok."""
    t0, now = time.perf_counter(), time.time()
    from woonvoorraad._log import configure_logging

    configure_logging(0)
    logging.getLogger("papermill").setLevel(logging.INFO)
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    limit_memory(job.get("memory_limit_mb"))
    if job.get("achtergrond"):  # read by the map here and by the one the kernel draws
        from woonvoorraad.report.maps import ACHTERGROND_ENV

        os.environ[ACHTERGROND_ENV] = str(job["achtergrond"])
    # from the runner's Popen to here: process start and the imports of this module
    start = max(now - float(job.get("spawned", now)), 0.0)
    result = render_job(job)
    result["phases"] = {"start_imports": round(start, 2), **result["phases"]}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result.update(peak_rss())
    write_json_atomic(job["result"], result)
    return 0 if result["status"] == "ok" else 1


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m woonvoorraad.report.worker")
    parser.add_argument("--worker", metavar="JOB", required=True,
                        help="render one report from a job file (used by render_reports)")
    args = parser.parse_args(argv)
    return _worker(args.worker)


if __name__ == "__main__":  # pragma: no cover - worker entry point
    sys.exit(_main())
