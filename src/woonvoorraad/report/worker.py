"""The report worker: renders the map and the report of one gemeente in its own process.

Started by :func:`woonvoorraad.report.render.render_reports` as ``python -m
woonvoorraad.report.worker --worker JOB``; it reads the job file, writes the map, executes the
template with papermill, exports the HTML and writes a result file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from woonvoorraad._io import write_json_atomic, write_text_atomic
from woonvoorraad.report._processes import limit_memory, peak_rss
from woonvoorraad.report.export import export_html
from woonvoorraad.report.run import check_build_snapshot, load_run
from woonvoorraad.report.sections import make_map

logger = logging.getLogger(__name__)


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


def _worker(job_file: str | Path) -> int:
    """Render the map and the report of one gemeente; write a result JSON. Exit code 0 = ok."""
    from woonvoorraad._log import configure_logging

    configure_logging(0)
    logging.getLogger("papermill").setLevel(logging.INFO)
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    out = Path(job["out_dir"])
    result: dict[str, Any] = {"status": "failed"}
    t0 = time.perf_counter()
    limit_memory(job.get("memory_limit_mb"))
    try:
        from woonvoorraad.report.maps import save_map

        check_build_snapshot(job["data_dir"], job.get("build_snapshot"))
        # the polygons of this gemeente only; the kernel reads them the same way (the template
        # calls load_run with its gemeente_code parameter)
        run = load_run(job["data_dir"], gemeente=job["code"])
        m = make_map(run, job["code"], offline=bool(job.get("offline", True)))
        save_map(m, out / job["kaart"])
        result["kaart_bytes"] = (out / job["kaart"]).stat().st_size

        import papermill as pm

        nb_final = out / job["notebook"]
        fd, tmp_name = tempfile.mkstemp(prefix=f".{job['notebook']}.", suffix=".part.ipynb",
                                        dir=out)
        os.close(fd)
        nb_tmp = Path(tmp_name)
        nb_tmp.unlink()  # a unique hidden name; papermill creates the file
        with tempfile.TemporaryDirectory(prefix="woonvoorraad-rapport-") as cwd:
            try:
                pm.execute_notebook(
                    job["template"], str(nb_tmp), parameters=job["parameters"],
                    kernel_name=job["kernel"], progress_bar=False, log_output=False,
                    start_timeout=int(job.get("start_timeout", 120)),
                    execution_timeout=int(job["cell_timeout"]), cwd=cwd, report_mode=True)
            finally:
                _publish_notebook(nb_tmp, nb_final)
        page = export_html(nb_final, titel=f"Woningvoorraad gemeente {job['naam']}")
        write_text_atomic(out / job["html"], page)
        result = {"status": "ok", "kaart_bytes": result["kaart_bytes"],
                  "html_bytes": (out / job["html"]).stat().st_size}
    except Exception as exc:
        ename = type(exc).__name__
        if ename == "PapermillExecutionError":
            result = {"status": "failed", "error_type": "notebook",
                      "error": f"{exc.ename}: {exc.evalue} (cel {exc.exec_count})"}  # type: ignore[attr-defined]
        else:
            result = {"status": "failed", "error_type": ename, "error": str(exc) or ename}
        logger.error("report %s failed: %s", job.get("code"), result["error"])
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
