"""Load test of the report renderer: every gemeente of a national-size build, 2 workers, a cap.

Makes a SYNTHETIC, national-size, *buurten-only* build folder (``buurten.parquet`` and
``manifest.json``, no dwellings, no classification) with 342 gemeenten and about 14,500 buurten
whose boundaries are as detailed as CBS's (Voronoi cells of clustered seeds, edges densified to
20 m), with the columns and value distributions of a real build of the demo region. A few
gemeenten are broken on purpose:

* ``GM9991`` "Kapot zonder geometrie": every buurt lacks a geometry (the map fails);
* ``GM9992`` "Kapot met punten": buurten are points instead of polygons (the map fails);
* ``GM9993`` "Geheugenvreter": one buurt with a boundary of ``--hog-vertices`` vertices (the
  map needs far more memory than any other report and exceeds the cap).

Then ``woonvoorraad.report.render.render_reports`` renders them with ``--workers`` processes, each
worker and its kernel under an address-space limit (``RLIMIT_AS``, ``--memory-limit`` MiB).
Measured: wall time, time per report, peak RSS per worker and per kernel (from ``run.json``),
the peak total RSS of all report processes together (sampled every 0.5 s), and which reports
failed and why. The figures go to ``benchmarks/data/load-reports/figures.json`` (and are
printed); the ones of record are in ``docs/reliability.md``.

    python benchmarks/load_reports.py                      # all 342 + 3 broken gemeenten
    python benchmarks/load_reports.py --sample 40          # a stratified subset, extrapolated
    python benchmarks/load_reports.py --runner proces      # the one-process-per-report runner
    python benchmarks/load_reports.py --compare 20         # warm vs proces on 20, one line

``--compare N`` renders the same N gemeenten (stratified, no broken ones) with the
one-process-per-report runner and then with the warm runner, in one run, and prints the
ratio of their wall times (and the time per phase of each); figures in ``compare.json``.

With ``--sample N`` the gemeenten are sorted by their number of buurten and N are taken evenly
spaced over that order (plus the broken ones); the full run time is extrapolated as
``sum(time per report in each stratum × gemeenten in it) / workers`` and reported as such.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "load-reports"
RESULTS = DATA / "figures.json"
REGION = (13_000.0, 306_000.0, 278_000.0, 619_000.0)  # the RD extent of the Netherlands
N_GEMEENTEN, N_BUURTEN = 342, 14_500
BROKEN = {"GM9991": "Kapot zonder geometrie", "GM9992": "Kapot met punten",
          "GM9993": "Geheugenvreter"}
SEED = 20261129

logger = logging.getLogger("load_reports")


# --------------------------------------------------------------------------------------------
# the synthetic national build folder


def _template() -> tuple[pd.DataFrame, dict[str, Any]]:
    """Columns, values and manifest of a real (no-classification) build of the demo region."""
    from woonvoorraad.demo.region import make_demo
    from woonvoorraad.pipeline import build

    tmp = Path(tempfile.mkdtemp(prefix="woonvoorraad-load-"))
    raw = make_demo(tmp / "raw", scale=0.3)
    result = build(bag_path=raw["bag"], buurten_path=raw["buurten"], out=tmp / "out",
                   cbs_paths=[raw["cbs_2022"]], labels_path=raw["labels"], analyse=False,
                   synthetic=True)
    return pd.DataFrame(result.buurten.drop(columns="geometry")), result.manifest


def _geography(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buurt polygons (Voronoi cells of clustered seeds), their gemeente index, centres."""
    x0, y0, x1, y1 = REGION
    centres = np.column_stack([rng.uniform(x0 + 5e3, x1 - 5e3, N_GEMEENTEN),
                               rng.uniform(y0 + 5e3, y1 - 5e3, N_GEMEENTEN)])
    # buurten per gemeente: lognormal (a few cities with hundreds, many villages with few)
    size = rng.lognormal(0.0, 0.9, N_GEMEENTEN)
    counts = np.maximum(3, np.round(size / size.sum() * N_BUURTEN)).astype(int)
    gem = np.repeat(np.arange(N_GEMEENTEN), counts)
    spread = np.sqrt(counts[gem]) * 450.0
    seeds = centres[gem] + rng.normal(0, 1, (len(gem), 2)) * spread[:, None]
    seeds[:, 0] = np.clip(seeds[:, 0], x0 + 1, x1 - 1)
    seeds[:, 1] = np.clip(seeds[:, 1], y0 + 1, y1 - 1)
    region = shapely.box(*REGION)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    polys = shapely.intersection(shapely.get_parts(cells), region)
    polys = shapely.segmentize(shapely.set_precision(polys, 0.01), 20.0)
    return polys, gem, centres


def make_folder(out: Path, *, hog_vertices: int) -> dict[str, Any]:
    """Write the buurten-only build folder; return a summary."""
    from woonvoorraad._io import write_json_atomic

    rng = np.random.default_rng(SEED)
    template, manifest = _template()
    polys, gem, _ = _geography(rng)
    n = len(polys)
    rows = template.iloc[rng.integers(0, len(template), n)].reset_index(drop=True)
    codes = np.sort(rng.choice(np.arange(1, 1990), N_GEMEENTEN, replace=False))
    gm = np.array([f"GM{c:04d}" for c in codes])[gem]
    order = np.lexsort((rng.random(n), gem))
    rank = np.empty(n, dtype=int)
    starts = np.concatenate([[0], np.cumsum(np.bincount(gem))[:-1]])
    rank[order] = np.arange(n) - starts[gem[order]]
    rows["gemeentecode"] = gm
    rows["gemeentenaam"] = [f"Synthetisch {c[2:]}" for c in gm]
    rows["wijkcode"] = [f"WK{c[2:]}{r // 10:02d}" for c, r in zip(gm, rank, strict=True)]
    rows["wijknaam"] = [f"Wijk {r // 10}" for r in rank]
    rows["buurtcode"] = [f"BU{c[2:]}{r // 10:02d}{r % 10:02d}" for c, r in zip(gm, rank,
                                                                               strict=True)]
    rows["buurtnaam"] = [f"Buurt {c[2:]}-{r}" for c, r in zip(gm, rank, strict=True)]
    gdf = gpd.GeoDataFrame(rows, geometry=polys, crs=28992)
    # the broken gemeenten, each three buurten somewhere in the west
    extra = []
    for i, (code, naam) in enumerate(BROKEN.items()):
        b = template.iloc[:3].copy()
        b["gemeentecode"], b["gemeentenaam"] = code, naam
        b["wijkcode"], b["wijknaam"] = f"WK{code[2:]}00", "Wijk 0"
        b["buurtcode"] = [f"BU{code[2:]}000{j}" for j in range(3)]
        b["buurtnaam"] = [f"{naam} {j}" for j in range(3)]
        x, y = 20_000.0 + i * 5_000, 400_000.0
        boxes = [shapely.box(x + j * 1_000, y, x + j * 1_000 + 900, y + 900) for j in range(3)]
        if code == "GM9991":
            geoms: list[Any] = [None, None, None]
        elif code == "GM9992":
            geoms = [g.centroid for g in boxes]
        else:
            t = np.linspace(0, 2 * np.pi, hog_vertices, endpoint=False)
            r = 450 + 30 * np.sin(t * 997)  # a wiggly circle: nothing to simplify cheaply
            ring = np.column_stack([x + 450 + r * np.cos(t), y + 450 + r * np.sin(t)])
            geoms = [shapely.Polygon(ring), boxes[1], boxes[2]]
        extra.append(gpd.GeoDataFrame(b, geometry=geoms, crs=28992))
    gdf = pd.concat([gdf, *extra], ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    # as a build writes it (pipeline): one row group per gemeente, so a report reads only its
    # own gemeente's polygons (a plain to_parquet would make every report decode all 8.7
    # million coordinates: about 700 MiB and 12 s more per report)
    from woonvoorraad._geoparquet import write_partitioned

    write_partitioned(gdf, out / "buurten.parquet")
    for name in ("dwellings.parquet", "proeftuinen.csv"):
        (out / name).unlink(missing_ok=True)
    manifest = {**manifest, "outputs": [], "data_notice": "SYNTHETISCHE DEMODATA - "
                "nationale belastingstest, fictieve gemeenten",
                "summary": {**manifest.get("summary", {}), "n_buurten": len(gdf)}}
    write_json_atomic(out / "manifest.json", manifest)
    per_gem = gdf.groupby("gemeentecode").size()
    return {"n_gemeenten": int(per_gem.size), "n_buurten": len(gdf),
            "buurten_per_gemeente": {"min": int(per_gem.min()), "median": float(per_gem.median()),
                                     "max": int(per_gem.max())},
            "n_coordinates": int(shapely.get_num_coordinates(gdf.geometry.values).sum()),
            "buurten_parquet_mb": round((out / "buurten.parquet").stat().st_size / 1e6, 1),
            "hog_vertices": hog_vertices}


# --------------------------------------------------------------------------------------------
# measuring


class Sampler:
    """Sum the RSS of all descendants of this process every ``interval`` seconds."""

    def __init__(self, interval: float = 0.5) -> None:
        import psutil

        self._psutil = psutil
        self.interval = interval
        self.peak_total_mb = 0.0
        self.peak_processes = 0
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = self._psutil.Process()
        t0 = time.perf_counter()
        while not self._stop.wait(self.interval):
            total, count = 0.0, 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss / 2**20
                    count += 1
                except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                    continue
            self.peak_total_mb = max(self.peak_total_mb, total)
            self.peak_processes = max(self.peak_processes, count)
            self.samples.append((round(time.perf_counter() - t0, 1), round(total, 1), count))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _stratified(per_gem: pd.Series, n: int) -> list[str]:
    """``n`` gemeenten evenly spaced over the order of their number of buurten."""
    order = per_gem.sort_values(kind="mergesort")
    idx = np.unique(np.round(np.linspace(0, len(order) - 1, min(n, len(order)))).astype(int))
    return list(order.index[idx])


def _phases(reports: list[Any]) -> dict[str, dict[str, float]]:
    """Median and mean seconds per phase over the reports that have it."""
    names: dict[str, list[float]] = {}
    for r in reports:
        for name, sec in (r.phases or {}).items():
            names.setdefault(name, []).append(float(sec))
    return {name: {"median": round(float(np.median(v)), 2), "mean": round(float(np.mean(v)), 2),
                   "n": len(v)} for name, v in names.items()}


def _ensure_folder(args: argparse.Namespace) -> tuple[Path, float]:
    folder = DATA / "processed"
    t0 = time.perf_counter()
    if args.regenerate or not (folder / "manifest.json").is_file():
        made = make_folder(folder, hog_vertices=args.hog_vertices)
    else:
        made = json.loads((DATA / "made.json").read_text())
    (DATA / "made.json").write_text(json.dumps(made, indent=2) + "\n")
    return folder, time.perf_counter() - t0


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """The same gemeenten with the ``proces`` runner, then the ``warm`` one; the ratio."""
    from woonvoorraad.report.render import render_reports
    from woonvoorraad.report.run import load_run

    folder, _ = _ensure_folder(args)
    per_gem = load_run(folder, polygons=False).buurten.groupby("gemeentecode").size()
    codes = _stratified(per_gem.drop(list(BROKEN)), args.compare)
    figures: dict[str, Any] = {"reports": len(codes), "workers": args.workers,
                               "load_average_before": round(os.getloadavg()[0], 2)}
    for runner in ("proces", "warm"):
        with Sampler() as sampler:
            t0 = time.perf_counter()
            result = render_reports(folder, gemeenten=codes, out_dir=DATA / f"compare-{runner}",
                                    workers=args.workers, timeout=args.timeout,
                                    retries=args.retries, memory_limit_mb=args.memory_limit,
                                    runner=runner)
            wall = time.perf_counter() - t0
        ok = [r for r in result.reports if r.status == "ok"]
        figures[runner] = {
            "wall_seconds": round(wall, 1), "ok": len(ok),
            "seconds_per_report_median": round(float(np.median(
                [r.duration_seconds for r in ok])), 2),
            "phases_seconds": _phases(ok),
            "peak_rss_mb": {"worker_max": max((r.peak_rss_mb or 0) for r in ok),
                            "kernel_max": max((r.kernel_peak_rss_mb or 0) for r in ok),
                            "all_report_processes_together": round(sampler.peak_total_mb, 1)},
            "sizes_bytes": sum((DATA / f"compare-{runner}" / f).stat().st_size
                               for r in ok for f in (r.html, r.kaart)),
        }
    figures["load_average_after"] = round(os.getloadavg()[0], 2)
    figures["ratio_warm_to_proces"] = round(figures["warm"]["wall_seconds"]
                                            / figures["proces"]["wall_seconds"], 3)
    (DATA / "compare.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    from woonvoorraad.report.render import render_reports
    from woonvoorraad.report.run import load_run

    folder, t_make = _ensure_folder(args)
    made = json.loads((DATA / "made.json").read_text())
    run_ = load_run(folder, polygons=False)
    per_gem = run_.buurten.groupby("gemeentecode").size()
    normal = per_gem.drop(list(BROKEN))
    codes = list(normal.index) if args.sample is None else _stratified(normal, args.sample)
    codes += list(BROKEN)
    out = DATA / ("reports" if args.sample is None else f"reports-sample-{args.sample}")
    earlier: list[dict[str, Any]] = []
    earlier_wall = 0.0
    if args.resume:
        # a session that was stopped: render only what it did not finish, into a new folder
        first = json.loads((out / "run.json").read_text(encoding="utf-8"))
        earlier = [r for r in first["reports"] if r["status"] != "pending"]
        finished = {r["gemeentecode"] for r in earlier}
        codes = [c for c in codes if c not in finished]
        started = dt.datetime.fromisoformat(first["created"]).timestamp()
        earlier_wall = max(max((out / "run.json").stat().st_mtime, started) - started, 0.0)
        out = out.with_name(out.name + "-resumed")
    logger.info("rendering %d reports with %d workers, memory limit %s MiB", len(codes),
                args.workers, args.memory_limit)
    load_before = os.getloadavg()
    with Sampler() as sampler:
        t1 = time.perf_counter()
        result = render_reports(folder, gemeenten=codes, out_dir=out, workers=args.workers,
                                timeout=args.timeout, retries=args.retries,
                                memory_limit_mb=args.memory_limit, runner=args.runner)
        wall = time.perf_counter() - t1
    from woonvoorraad.report.render import ReportStatus

    fields = set(ReportStatus.__dataclass_fields__)
    statuses = [ReportStatus(**{k: v for k, v in r.items() if k in fields}) for r in earlier]
    statuses += result.reports
    wall += earlier_wall
    ok = [s for s in statuses if s.status == "ok"]
    dur = np.array([s.duration_seconds for s in ok])
    worker_rss = np.array([s.peak_rss_mb for s in ok if s.peak_rss_mb])
    kernel_rss = np.array([s.kernel_peak_rss_mb for s in ok if s.kernel_peak_rss_mb])
    figures: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "memory_gb": round(os.sysconf("SC_PAGE_SIZE")
                                       * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "data": made, "seconds_make_data": round(t_make, 1),
        "settings": {"runner": args.runner, "workers": args.workers,
                     "memory_limit_mb": args.memory_limit,
                     "timeout_seconds": args.timeout, "retries": args.retries,
                     "sample": args.sample,
                     "sessions": ([{"reports": len(earlier), "wall_seconds": round(earlier_wall),
                                    "note": "stopped from outside (SIGTERM)"},
                                   {"reports": len(result.reports),
                                    "wall_seconds": round(wall - earlier_wall)}]
                                  if args.resume else None)},
        "reports": len(statuses), "ok": len(ok),
        "failed": {s.gemeentecode: {"naam": s.gemeentenaam, "status": s.status,
                                    "error_type": s.error_type, "error": (s.error or "")[:300]}
                   for s in statuses if s.status != "ok"},
        "wall_seconds": round(wall, 1),
        "load_average_before_and_after": [round(load_before[0], 2),
                                          round(os.getloadavg()[0], 2)],
        "seconds_per_report": {"mean": round(float(dur.mean()), 2),
                               "median": round(float(np.median(dur)), 2),
                               "p95": round(float(np.percentile(dur, 95)), 2),
                               "max": round(float(dur.max()), 2)},
        "throughput_reports_per_minute": round(len(statuses) / wall * 60, 2),
        "phases_seconds": _phases(ok),
        "peak_rss_mb": {"worker_max": round(float(worker_rss.max()), 1),
                        "worker_median": round(float(np.median(worker_rss)), 1),
                        "kernel_max": round(float(kernel_rss.max()), 1),
                        "kernel_median": round(float(np.median(kernel_rss)), 1),
                        "all_report_processes_together": round(sampler.peak_total_mb, 1),
                        "processes_at_once": sampler.peak_processes},
        "broken_gemeenten_isolated": all(s.status != "ok" for s in statuses
                                         if s.gemeentecode in BROKEN)
                                     and all(s.status == "ok" for s in statuses
                                             if s.gemeentecode not in BROKEN),
    }
    if args.sample is not None:
        # extrapolate per stratum of buurten-count: the sampled time stands for its neighbours
        sampled = {s.gemeentecode: s.duration_seconds for s in ok}
        order = list(normal.sort_values(kind="mergesort").index)
        pos = {c: order.index(c) for c in sampled}
        nearest = [min(pos, key=lambda c, i=i: abs(pos[c] - i)) for i in range(len(order))]
        total = sum(sampled[c] for c in nearest)
        broken = sum(s.duration_seconds for s in statuses if s.gemeentecode in BROKEN)
        figures["extrapolated_wall_seconds_all"] = round((total + broken) / args.workers, 0)
        figures["extrapolation"] = ("each of the 342 gemeenten takes the time of the sampled "
                                    "gemeente nearest to it in number of buurten; the sum is "
                                    "divided by the number of workers")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", type=float, default=1200.0, metavar="MIB",
                        help="RLIMIT_AS per worker and kernel (default 1200)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--retries", type=int, default=0)
    parser.add_argument("--sample", type=int, default=None,
                        help="render a stratified subset of N gemeenten and extrapolate")
    parser.add_argument("--hog-vertices", type=int, default=3_000_000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--runner", choices=("warm", "proces"), default="warm",
                        help="report runner (default warm)")
    parser.add_argument("--compare", type=int, default=None, metavar="N",
                        help="render N gemeenten with the proces runner and then the warm "
                             "one; print the ratio of their wall times")
    parser.add_argument("--resume", action="store_true",
                        help="finish a run that was stopped: render the gemeenten its run.json "
                             "has not finished, and report the figures of both sessions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("woonvoorraad").setLevel(logging.WARNING)
    if args.compare:
        fig = compare(args)
        for runner in ("proces", "warm"):
            f = fig[runner]
            phases = ", ".join(f"{k} {v['median']:.2f}" for k, v in f["phases_seconds"].items())
            print(f"{runner:>6}: {f['wall_seconds']:7.1f} s, {f['ok']}/{fig['reports']} ok, "
                  f"median {f['seconds_per_report_median']:.1f} s a report; phases (median s): "
                  f"{phases}; peak RSS worker {f['peak_rss_mb']['worker_max']:.0f} MiB, kernel "
                  f"{f['peak_rss_mb']['kernel_max']:.0f} MiB")
        print(f"{fig['reports']} reports, {fig['workers']} workers: warm/proces = "
              f"{fig['ratio_warm_to_proces']:.2f} (warm is "
              f"{1 / fig['ratio_warm_to_proces']:.1f}x as fast); load average "
              f"{fig['load_average_before']} -> {fig['load_average_after']}")
        ok = all(fig[r]["ok"] == fig["reports"] for r in ("proces", "warm"))
        return 0 if ok else 1
    figures = run(args)
    print(json.dumps({k: v for k, v in figures.items() if k != "data"}, indent=2,
                     ensure_ascii=False))
    return 0 if figures["broken_gemeenten_isolated"] else 1


if __name__ == "__main__":
    sys.exit(main())
