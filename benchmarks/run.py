"""Benchmark ``woonvoorraad build`` against the straightforward reference, side by side.

For each scale (1 = the whole country, ~10 million units) the script generates the input if
needed (:mod:`generate`), then runs, each in its own subprocess on the same machine in the
same run:

* ``reference``: :mod:`reference` (plain ``geopandas.read_file``, ``sjoin``,
  ``groupby().apply``);
* ``build``: ``python -m woonvoorraad build --no-analyse`` (the in-memory engine), and, with
  ``--dask``, ``--engine dask`` on a local cluster.

Wall time is measured around the subprocess; peak memory is the child's ``ru_maxrss`` (from
``os.wait4``, exact for a single process) and, for process trees (dask workers), the sum of the
tree's resident memory sampled every 0.1 s with psutil. The per-buurt ``n_woningen`` and
``n_naoorlogs`` of every implementation are compared with the build's and must agree (the run
fails otherwise); the type counts are compared too.

Results go to ``benchmarks/results/results.json`` (every run appended to
``benchmarks/results/runs/``) and a Markdown table ``benchmarks/results/README.md``.

Usage::

    python benchmarks/run.py --scale 0.01                 # seconds; prints the ratio line
    python benchmarks/run.py --scales 0.01,0.1,1 --dask   # the full table (takes a while)
    python benchmarks/run.py --labels 1000000             # what the label model adds

``--labels N`` times the label model alone (:mod:`labels`: features, selection weights,
grouped cross-validation, fit, prediction) on ``N`` synthetic dwellings, half of them
labelled, in a subprocess, and prints its time and extra peak memory.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate

logger = logging.getLogger("benchmarks.run")

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PYTHON = sys.executable
CHECK_COLUMNS = ("n_woningen", "n_naoorlogs")
EXTRA_CHECK_COLUMNS = ("n_eengezins", "n_meergezins", "n_label_efg")
#: a reference that grows beyond this is stopped (no swap on the benchmark machine)
DEFAULT_MEMORY_LIMIT_GB = 21.0


def machine() -> dict[str, Any]:
    """Description of the machine the benchmark runs on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import geopandas
    import numpy
    import pandas
    import pyogrio
    import shapely

    return {
        "cpu": cpu, "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(), "python": platform.python_version(),
        "versions": {"numpy": numpy.__version__, "pandas": pandas.__version__,
                     "geopandas": geopandas.__version__, "shapely": shapely.__version__,
                     "pyogrio": pyogrio.__version__, "gdal": ".".join(
                         map(str, pyogrio.__gdal_version__)), "dask": _version("dask")},
    }


def _version(name: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class _TreeSampler(threading.Thread):
    """Samples the resident memory of a process and its descendants."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.limit: int | None = None
        self.exceeded = False
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            if self.limit is not None and total > self.limit and not self.exceeded:
                self.exceeded = True
                for p in reversed(procs):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        p.kill()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()


def measure(cmd: list[str], *, label: str, memory_limit_gb: float | None = None,
            timeout: float | None = None) -> dict[str, Any]:
    """Run ``cmd`` in a subprocess; return wall time, peak memory and its output."""
    logger.info("%s: %s (load average %.1f)", label, " ".join(cmd), os.getloadavg()[0])
    load_before = [round(v, 2) for v in os.getloadavg()]
    env = {**os.environ, "WOONVOORRAAD_PROGRESS": "0", "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True)
    sampler = _TreeSampler(proc.pid)
    if memory_limit_gb:
        sampler.limit = int(memory_limit_gb * 2**30)
    sampler.start()
    timer = threading.Timer(timeout, proc.kill) if timeout else None
    if timer:
        timer.start()
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    readers = [threading.Thread(target=lambda s, b: b.append(s.read()), args=(s, b), daemon=True)
               for s, b in ((proc.stdout, out_chunks), (proc.stderr, err_chunks))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    sampler.stop()
    sampler.join()
    if timer:
        timer.cancel()
    result = {
        "label": label, "command": cmd, "returncode": proc.returncode,
        "load_average_before": load_before,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "wall_s": round(wall, 2),
        "peak_rss_gb": round(usage.ru_maxrss / 2**20, 3),  # ru_maxrss is in KiB on Linux
        "peak_tree_rss_gb": round(sampler.peak / 2**30, 3),
        "cpu_user_s": round(usage.ru_utime, 1), "cpu_sys_s": round(usage.ru_stime, 1),
        "stdout": "".join(out_chunks)[-4000:], "stderr": "".join(err_chunks)[-4000:],
    }
    if sampler.exceeded:
        result["error"] = f"stopped: memory above {memory_limit_gb} GiB"
    elif proc.returncode != 0:
        result["error"] = f"exit code {proc.returncode}: " + result["stderr"][-800:]
    level = logging.WARNING if "error" in result else logging.INFO
    logger.log(level, "%s: %.1f s, peak %.2f GiB (tree %.2f GiB)%s", label, wall,
               result["peak_rss_gb"], result["peak_tree_rss_gb"],
               f" -- {result['error']}" if "error" in result else "")
    return result


def warm(*paths: str | Path) -> None:
    """Read the inputs once so that every implementation starts with them in the page cache.

    Without this the first implementation to run pays for reading the file from disk (about
    25 s for the national BAG file on the benchmark machine) and the comparison is unfair.
    """
    for p in paths:
        with Path(p).open("rb") as fh:
            while fh.read(1 << 24):
                pass


def _counts(out: Path) -> pd.DataFrame:
    cols = ["buurtcode", *CHECK_COLUMNS, *EXTRA_CHECK_COLUMNS]
    table = gpd.read_parquet(out / "buurten.parquet") if (out / "buurten.parquet").exists() \
        else pd.DataFrame(columns=cols)
    present = [c for c in cols if c in table.columns]
    return pd.DataFrame(table[present]).set_index("buurtcode").sort_index()


def compare(build_out: Path, other_out: Path) -> dict[str, Any]:
    """Compare the per-buurt counts of two outputs."""
    a, b = _counts(build_out), _counts(other_out)
    report: dict[str, Any] = {"n_buurten": len(a), "same_buurten": a.index.equals(b.index)}
    for col in (*CHECK_COLUMNS, *EXTRA_CHECK_COLUMNS):
        if col in a.columns and col in b.columns and report["same_buurten"]:
            diff = (a[col].astype("int64") != b[col].astype("int64"))
            report[col] = "equal" if not diff.any() else f"{int(diff.sum())} buurten differ"
    report["agree"] = bool(report["same_buurten"] and all(report.get(c) == "equal"
                                                          for c in CHECK_COLUMNS))
    return report


def run_scale(scale: float, *, work: Path, dask: bool, reference: bool, seed: int,
              memory_limit_gb: float, workers: int) -> dict[str, Any]:
    """Generate (or reuse) one scale and run every implementation on it."""
    meta = generate.generate(scale, seed=seed)
    bag, buurten = meta["bag"], meta["buurten"]
    entry: dict[str, Any] = {"scale": scale, "input": {k: meta[k] for k in (
        "n_units", "n_verblijfsobject_rows", "n_panden", "n_buurten", "n_gemeenten", "bytes")}}
    outs = {name: work / f"scale-{scale:g}" / name for name in ("build", "reference", "dask")}
    for p in outs.values():
        shutil.rmtree(p, ignore_errors=True)
    warm(bag, buurten)
    entry["build"] = measure([PYTHON, "-m", "woonvoorraad", "build", "--bag", bag,
                              "--buurten", buurten, "--out", str(outs["build"]),
                              "--no-analyse", "-q"], label=f"build {scale:g}")
    if entry["build"].get("error"):
        raise RuntimeError(f"the build failed at scale {scale}: {entry['build']['error']}")
    if dask:
        warm(bag, buurten)
        entry["dask"] = measure([PYTHON, "-m", "woonvoorraad", "build", "--bag", bag,
                                 "--buurten", buurten, "--out", str(outs["dask"]),
                                 "--no-analyse", "-q", "--engine", "dask",
                                 "--workers", str(workers)],
                                label=f"dask {scale:g}")
        if not entry["dask"].get("error"):
            entry["dask"]["check"] = compare(outs["build"], outs["dask"])
    if reference:
        warm(bag, buurten)
        # stop below what the machine has free, or the kernel's OOM killer picks a victim
        free_gib = psutil.virtual_memory().available / 2**30 - 1.0
        entry["reference"] = measure([PYTHON, str(HERE / "reference.py"), "--bag", bag,
                                      "--buurten", buurten, "--out", str(outs["reference"])],
                                     label=f"reference {scale:g}",
                                     memory_limit_gb=round(min(memory_limit_gb, free_gib), 1))
        ref = entry["reference"]
        if not ref.get("error"):
            ref["check"] = compare(outs["build"], outs["reference"])
            if not ref["check"]["agree"]:
                raise RuntimeError(f"reference and build disagree at scale {scale}: "
                                   f"{ref['check']}")
            entry["ratio_wall"] = round(ref["wall_s"] / entry["build"]["wall_s"], 2)
            entry["ratio_memory"] = round(ref["peak_rss_gb"] / entry["build"]["peak_rss_gb"], 2)
    for p in outs.values():
        shutil.rmtree(p, ignore_errors=True)
    return entry


def ratio_line(e: dict[str, Any]) -> str:
    """One line per scale: times, memory, ratio and the agreement check."""
    b = e["build"]
    text = (f"scale {e['scale']:g} ({e['input']['n_units']:,} units, "
            f"{e['input']['n_buurten']:,} buurten): build {b['wall_s']:.1f} s, "
            f"{b['peak_rss_gb']:.2f} GiB")
    if "dask" in e:
        d = e["dask"]
        text += (f"; dask {d['wall_s']:.1f} s, {d['peak_tree_rss_gb']:.2f} GiB (all processes)"
                 if not d.get("error") else f"; dask failed: {d['error'][:80]}")
    r = e.get("reference")
    if r is None:
        return text
    if r.get("error"):
        return text + f"; reference FAILED ({r['error'][:120]}) after {r['wall_s']:.0f} s"
    return (text + f"; reference {r['wall_s']:.1f} s, {r['peak_rss_gb']:.2f} GiB; "
            f"ratio {e['ratio_wall']:.1f}x faster, {e['ratio_memory']:.1f}x less memory; "
            f"n_woningen/n_naoorlogs agree on {r['check']['n_buurten']:,} buurten")


def _cell_time(r: dict[str, Any]) -> str:
    return f"{r['wall_s']:.1f} s (cpu {r['cpu_user_s'] + r['cpu_sys_s']:.0f} s)"


def _table(results: dict[str, Any]) -> list[str]:
    """The table (and notes) of one run."""
    has_dask = any("dask" in e for e in results["scales"])
    lines = [
        "| scale | units | panden | buurten | build wall | build peak | reference wall | "
        "reference peak | speed-up | memory ratio |" + (" dask wall | dask peak |"
                                                        if has_dask else ""),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|"
                                                               if has_dask else ""),
    ]
    for e in results["scales"]:
        b, r = e["build"], e.get("reference")
        if r is None:
            ref_cells = "– | – | – | –"
        elif r.get("error"):
            ref_cells = (f"**failed** after {r['wall_s']:.0f} s: {r['error'][:60]} | "
                         f"≥ {r['peak_tree_rss_gb']:.1f} GiB | – | –")
        else:
            ref_cells = (f"{_cell_time(r)} | {r['peak_rss_gb']:.2f} GiB | "
                         f"**{e['ratio_wall']:.1f}×** | {e['ratio_memory']:.1f}×")
        row = (f"| {e['scale']:g} | {e['input']['n_units']:,} | {e['input']['n_panden']:,} | "
               f"{e['input']['n_buurten']:,} | {_cell_time(b)} | {b['peak_rss_gb']:.2f} GiB "
               f"| {ref_cells} |")
        if has_dask:
            d = e.get("dask")
            row += (f" {_cell_time(d)} | {d['peak_tree_rss_gb']:.2f} GiB |"
                    if d and not d.get("error") else " – | – |")
        lines.append(row)
    scales = [e for e in results["scales"] if e["build"].get("returncode") == 0]
    if len(scales) > 1:
        steps = []
        for a, b in itertools.pairwise(scales):
            k = b["input"]["n_units"] / a["input"]["n_units"]
            wall = b["build"]["wall_s"] / a["build"]["wall_s"]
            cpu = ((b["build"]["cpu_user_s"] + b["build"]["cpu_sys_s"])
                   / max(a["build"]["cpu_user_s"] + a["build"]["cpu_sys_s"], 0.1))
            steps.append(f"{a['scale']:g} → {b['scale']:g}: {k:.1f}× the units, {wall:.1f}× "
                         f"the wall time, {cpu:.1f}× the CPU time")
        lines += ["", "Growth of the build: " + "; ".join(steps) + " (the smallest run is "
                  "dominated by about 2 s of fixed start-up: imports and file checks)."]
    failed = [e for e in results["scales"] if e.get("reference", {}).get("error")]
    fitted = [e for e in results["scales"] if "ratio_wall" in e]
    if failed and fitted:
        big = fitted[-1]
        stopped = failed[0]["reference"]["peak_tree_rss_gb"]
        lines += ["", f"The reference does not fit in this machine's memory at scale "
                      f"{failed[0]['scale']:g} (stopped at {stopped:.0f} GiB); at scale "
                      f"{big['scale']:g}, the largest measured, the build is "
                      f"{big['ratio_wall']:.1f}× faster and needs {big['ratio_memory']:.1f}× "
                      "less memory."]
    loads = [x for e in results["scales"] for k in ("build", "reference", "dask") if k in e
             for x in (e[k].get("load_average_before", [None])[0],
                       e[k].get("load_average_after", [None])[0]) if x is not None]
    if loads:
        lines += ["", f"Load average (1 min) during this run: {min(loads):.1f}–{max(loads):.1f} "
                      "on 2 cores."]
    return lines


def markdown(results: dict[str, Any], runs: Sequence[dict[str, Any]] = ()) -> str:
    """The results in Markdown: one table per full run (newest first), then the reports."""
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, no swap "
        f"({m['os']}; Python {m['python']}, GDAL {m['versions']['gdal']}, geopandas "
        f"{m['versions']['geopandas']}, shapely {m['versions']['shapely']}, pandas "
        f"{m['versions']['pandas']}, pyogrio {m['versions']['pyogrio']}).",
        "",
        "Input: synthetic national-style BAG (`bag-light.gpkg` layout, all its columns) and "
        "CBS buurten (`benchmarks/generate.py`; scale 1 = the whole country). Build: "
        "`woonvoorraad build --no-analyse` (in-memory engine). Reference: "
        "`benchmarks/reference.py` (plain `geopandas.read_file` of every layer, `sjoin`, "
        "`groupby().apply`). Each runs in its own process, one after the other in the same run, "
        "with the input files in the page cache; peak memory is the process's maximum resident "
        "set size (dask: all processes together, sampled). Per-buurt `n_woningen` and "
        "`n_naoorlogs` of both agree (checked by `run.py`). The machine is shared with other "
        "work: the load average is given, and CPU time (user + system) next to wall time.",
    ]
    shown = [r for r in runs if len(r.get("scales", [])) >= 3] or [results]
    for r in shown:
        lines += ["", f"## Run of {r['created']} (`python benchmarks/run.py "
                      f"{r.get('arguments', '')}`)", "", *_table(r)]
    rep = results.get("reports")
    if rep:
        n = len(rep["gemeenten"])
        lines += ["", f"## Reports (scale {rep['scale']:g}, {n} gemeenten, measured "
                      f"{rep['created']})", "",
                  "| workers | total | per report (wall) | kernel start-up | cells | "
                  "other (process start, imports, map, HTML) | 342 gemeenten (extrapolated) |",
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rep["runs"]:
            m = r["mean"]
            if not m["wall_s"]:
                lines.append(f"| {r['workers']} | {r['total_s']:.0f} s | failed | | | | |")
                continue
            share = m["kernel_start_s"] / m["wall_s"]
            extra = 342 / n * r["total_s"]
            lines.append(f"| {r['workers']} | {r['total_s']:.0f} s ({r['ok']}/{n} ok) | "
                         f"{m['wall_s']:.1f} s | {m['kernel_start_s']:.1f} s ({share:.0%}) | "
                         f"{m['cells_s']:.1f} s | {m['other_s']:.1f} s | "
                         f"≈ {extra / 60:.0f} min |")
        if rep.get("national_load"):
            nl = rep["national_load"]
            lines += ["", f"Loading a report's data from the national outputs: "
                          f"`load_run` + buurten of the gemeente {nl['load_run_s']:.2f} s, its "
                          f"dwellings (one row group of `dwellings.parquet`) "
                          f"{nl['dwellings_of_gemeente_s']:.2f} s ({nl['rows']:,} rows)."]
    if results.get("notes"):
        lines += ["", "## Notes", "", *[f"* {n}" for n in results["notes"]]]
    return "\n".join(lines) + "\n"


def write_reports(entry: dict[str, Any]) -> None:
    """Store the report timings in ``results.json`` and the README table."""
    path = RESULTS / "results.json"
    merged = json.loads(path.read_text()) if path.exists() else {"scales": []}
    merged["reports"] = {**entry, "created": dt.datetime.now(dt.UTC).isoformat(
        timespec="seconds"), "machine": machine()}
    merged.setdefault("machine", merged["reports"]["machine"])
    path.write_text(json.dumps(merged, indent=2) + "\n")
    (RESULTS / "README.md").write_text(markdown(merged, _runs()))


def _runs() -> list[dict[str, Any]]:
    """Every saved run, newest first."""
    files = sorted((RESULTS / "runs").glob("*.json"), reverse=True)
    return [json.loads(f.read_text()) for f in files]


def write_results(results: dict[str, Any]) -> None:
    """Save this run and merge it into ``results.json`` and ``README.md`` (latest per scale).

    Every entry keeps the date and the machine it was measured on; a quick run at one scale
    does not erase the other scales of an earlier full run.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "runs").mkdir(exist_ok=True)
    stamp = results["created"].replace(":", "").replace("-", "")
    (RESULTS / "runs" / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    merged: dict[str, Any] = {"scales": []}
    path = RESULTS / "results.json"
    if path.exists():
        try:
            merged = json.loads(path.read_text())
        except json.JSONDecodeError:
            logger.warning("%s is not valid JSON; starting afresh", path)
    by_scale = {e["scale"]: e for e in merged.get("scales", [])}
    for e in results["scales"]:
        by_scale[e["scale"]] = {**e, "created": results["created"],
                                "arguments": results["arguments"]}
    merged.update({k: v for k, v in results.items() if k != "scales"})
    merged["dask"] = any("dask" in e for e in by_scale.values())
    merged["scales"] = [by_scale[k] for k in sorted(by_scale)]
    path.write_text(json.dumps(merged, indent=2) + "\n")
    (RESULTS / "README.md").write_text(markdown(merged, _runs()))
    logger.info("wrote %s and %s", path, RESULTS / "README.md")


def _notebook_timings(path: Path) -> dict[str, float]:
    """Kernel start-up and cell time of a notebook executed by papermill (its metadata)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    meta = nb["metadata"].get("papermill", {})
    cells = [c["metadata"].get("papermill", {}) for c in nb["cells"]]
    starts = [c["start_time"] for c in cells if c.get("start_time")]
    t0 = dt.datetime.fromisoformat(meta["start_time"])
    first = dt.datetime.fromisoformat(min(starts)) if starts else t0
    return {"notebook_s": float(meta.get("duration") or 0.0),
            "kernel_start_s": (first - t0).total_seconds(),
            "cells_s": sum(float(c.get("duration") or 0.0) for c in cells)}


def bench_reports(scale: float, n: int, *, work: Path, seed: int,
                  workers: Sequence[int] = (1, 2), national: Path | None = None
                  ) -> dict[str, Any]:
    """Render ``n`` gemeente reports of a build (with analysis) with 1 and 2 workers.

    Per report: wall time, the kernel start-up (papermill: start of the first cell minus the
    start of the notebook), the cells, and the rest (worker process start, imports, map,
    HTML export). ``national`` (a national build folder) adds the time a report needs to
    load its data from the national outputs.
    """
    from woonvoorraad.report.render import render_reports
    from woonvoorraad.report.run import load_run

    meta = generate.generate(scale, seed=seed)
    out = work / f"reports-{scale:g}"
    shutil.rmtree(out, ignore_errors=True)
    build = measure([PYTHON, "-m", "woonvoorraad", "build", "--bag", meta["bag"],
                     "--buurten", meta["buurten"], "--out", str(out / "build"), "-q"],
                    label=f"build with analysis {scale:g}")
    if build.get("error"):
        raise RuntimeError(f"build for the reports failed: {build['error']}")
    run = load_run(out / "build")
    codes = sorted(run.gemeenten()["gemeentecode"].astype(str))[:n]
    entry: dict[str, Any] = {"scale": scale, "build": build, "gemeenten": codes, "runs": []}
    for w in workers:
        folder = out / f"reports-{w}"
        t0 = time.perf_counter()
        res = render_reports(out / "build", gemeenten=codes, out_dir=folder, workers=w)
        wall = time.perf_counter() - t0
        per = []
        for st in res.reports:
            item: dict[str, Any] = {"gemeente": st.gemeentecode, "status": st.status,
                                    "wall_s": st.duration_seconds}
            if st.notebook:
                item.update(_notebook_timings(folder / st.notebook))
                item["other_s"] = round(st.duration_seconds - item["notebook_s"], 2)
            per.append(item)
        ok = [p for p in per if p["status"] == "ok"]
        mean = {k: round(float(np.mean([p[k] for p in ok])), 2) if ok else None
                for k in ("wall_s", "kernel_start_s", "cells_s", "other_s")}
        entry["runs"].append({"workers": w, "total_s": round(wall, 1), "reports": per,
                              "ok": len(ok), "mean": mean})
        logger.info("%d reports with %d worker(s): %.1f s (per report %.1f s, kernel start "
                    "%.1f s)", len(codes), w, wall, mean["wall_s"] or 0, mean["kernel_start_s"]
                    or 0)
    if national is not None and (national / "manifest.json").exists():
        nat = load_run(national)
        code = sorted(nat.gemeenten()["gemeentecode"].astype(str))[0]
        t0 = time.perf_counter()
        load_run(national).select_buurten(code)
        t1 = time.perf_counter()
        d = nat.dwellings(code, columns=["bouwjaar", "woningtype", "energielabel"])
        t2 = time.perf_counter()
        entry["national_load"] = {"gemeente": code, "load_run_s": round(t1 - t0, 2),
                                  "dwellings_of_gemeente_s": round(t2 - t1, 2),
                                  "rows": 0 if d is None else len(d)}
    return entry


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    ap = argparse.ArgumentParser(description="Benchmark woonvoorraad build vs the reference.")
    ap.add_argument("--scale", type=float, help="one scale (default 0.01)")
    ap.add_argument("--scales", help="comma-separated scales, e.g. 0.01,0.1,1")
    ap.add_argument("--dask", action="store_true", help="also run --engine dask")
    ap.add_argument("--workers", type=int, default=2, help="dask workers (default 2)")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--memory-limit-gb", type=float, default=DEFAULT_MEMORY_LIMIT_GB,
                    help="stop the reference above this resident memory in GiB "
                    "(default %(default)s)")
    ap.add_argument("--work", type=Path, default=HERE / "data" / "out",
                    help="scratch folder for the outputs")
    ap.add_argument("--no-write", action="store_true",
                    help="do not write benchmarks/results (quick checks)")
    ap.add_argument("--reports", type=int, metavar="N",
                    help="instead: render N gemeente reports of a build at --scale (with the "
                    "analysis) with 1 and 2 workers and time them")
    ap.add_argument("--national", type=Path, metavar="DIR",
                    help="with --reports: a national build folder, to time a report's data "
                    "loading from the national outputs")
    ap.add_argument("--labels", type=int, metavar="N",
                    help="instead: time the label model on N synthetic dwellings (half "
                    "labelled); see benchmarks/labels.py")
    ap.add_argument("--threads", type=int, default=1,
                    help="with --labels: OpenMP threads of the model (0 = all cores)")
    args = ap.parse_args(argv)
    if args.labels:
        cmd = [sys.executable, str(HERE / "labels.py"), "--n", str(args.labels),
               "--threads", str(args.threads)]
        return subprocess.run(cmd, check=False).returncode
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.reports:
        entry = bench_reports(args.scale or 0.1, args.reports, work=args.work, seed=args.seed,
                              national=args.national)
        for r in entry["runs"]:
            print(f"{len(entry['gemeenten'])} reports, {r['workers']} worker(s): "
                  f"{r['total_s']:.1f} s; per report {r['mean']}")
        if not args.no_write:
            write_reports(entry)
        return 0
    scales = ([float(s) for s in args.scales.split(",")] if args.scales
              else [args.scale if args.scale is not None else 0.01])
    results: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "arguments": " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(), "dask": args.dask, "scales": [],
    }
    for scale in scales:
        entry = run_scale(scale, work=args.work, dask=args.dask,
                          reference=not args.no_reference, seed=args.seed,
                          memory_limit_gb=args.memory_limit_gb, workers=args.workers)
        results["scales"].append(entry)
        print(ratio_line(entry), flush=True)
    if not args.no_write:
        write_results(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
