"""The build: input files → ``dwellings.parquet``, ``buurten.parquet`` and ``manifest.json``.

All outputs are staged and published together by :class:`woonvoorraad._io.OutputTransaction`:
a build that fails or is killed leaves the previous complete outputs in place, and the
manifest written last always describes the files beside it.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import logging
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import __version__, bag, cbs, eponline, indicators
from ._io import OutputTransaction, sha256_file
from .config import Config, default_config
from .dwellings import dwellings_from_bag

logger = logging.getLogger(__name__)

_PACKAGES = ("numpy", "pandas", "geopandas", "shapely", "pyogrio", "pyarrow", "pyproj",
             "scikit-learn", "folium", "matplotlib", "papermill")


@dataclass
class BuildResult:
    """Outputs of :func:`build`.

    Attributes
    ----------
    out_dir
        Where the files were written.
    buurten
        The per-buurt indicator table.
    dwellings
        The dwelling table.
    manifest
        The manifest as written.
    analysis
        The classification results (see :mod:`woonvoorraad.analysis`), if run.
    """

    out_dir: Path
    buurten: gpd.GeoDataFrame
    dwellings: gpd.GeoDataFrame
    manifest: dict[str, Any]
    analysis: Any = None
    files: dict[str, Path] = field(default_factory=dict)


class _LogCapture(logging.Handler):
    """Collects the run's log records for ``build.log`` and the manifest."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []
        self.warnings: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.levelno >= logging.WARNING:
            self.warnings.append(record.getMessage())


def _input_entry(role: str, path: Path, **extra: Any) -> dict[str, Any]:
    return {"role": role, "path": str(path.resolve()), "size": path.stat().st_size,
            "sha256": sha256_file(path), **extra}


def package_versions() -> dict[str, str]:
    """Versions of Python and the main dependencies, for manifests."""
    versions = {"python": sys.version.split()[0], "woonvoorraad": __version__,
                "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build(
    *,
    bag_path: str | Path,
    buurten_path: str | Path,
    out: str | Path,
    cbs_paths: Sequence[str | Path] = (),
    labels_path: str | Path | None = None,
    prognose_path: str | Path | None = None,
    gemeenten: Sequence[str] | None = None,
    config: Config | None = None,
    synthetic: bool | None = None,
    analyse: bool = True,
    extra_parameters: dict[str, Any] | None = None,
) -> BuildResult:
    """Run the whole chain and write the outputs to ``out``.

    Parameters
    ----------
    bag_path
        BAG GeoPackage (bag-light, lvbag or OGC layout).
    buurten_path
        CBS wijk- en buurtkaart GeoPackage (its ``buurten`` layer gives boundaries and the
        latest key figures).
    out
        Output folder.
    cbs_paths
        More CBS statistics (other years: wijk- en buurtkaart GeoPackages or Kerncijfers
        tables) for trends.
    labels_path
        EP-Online bulk CSV or ZIP; without it every label is estimated.
    prognose_path
        Gemeente population/household forecast table (from ``woonvoorraad fetch``).
    gemeenten
        Limit the build to these gemeentecodes.
    config
        Effective configuration (:func:`woonvoorraad.config.load_config`).
    synthetic
        Mark the outputs as synthetic; default: detected from the inputs' metadata.
    analyse
        Also run the classification (scores, candidates, instruments, costs, typology).
    extra_parameters
        Run options recorded in the manifest (e.g. the CLI arguments).

    Returns
    -------
    BuildResult
    """
    cfg = config or default_config()
    started = time.perf_counter()
    capture = _LogCapture()
    root = logging.getLogger("woonvoorraad")
    root.addHandler(capture)
    old_level = root.level
    if root.getEffectiveLevel() > logging.INFO:
        # the run log records INFO even when the console shows warnings only
        root.setLevel(logging.INFO)
        for h in root.handlers:
            if h is not capture and h.level == logging.NOTSET:
                h.setLevel(old_level or logging.WARNING)
    try:
        return _build(
            bag_path=Path(bag_path), buurten_path=Path(buurten_path), out=Path(out),
            cbs_paths=[Path(p) for p in cbs_paths],
            labels_path=Path(labels_path) if labels_path else None,
            prognose_path=Path(prognose_path) if prognose_path else None,
            gemeenten=gemeenten, cfg=cfg, synthetic=synthetic, analyse=analyse,
            extra_parameters=extra_parameters or {}, capture=capture, started=started,
        )
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)


def _build(
    *,
    bag_path: Path,
    buurten_path: Path,
    out: Path,
    cbs_paths: list[Path],
    labels_path: Path | None,
    prognose_path: Path | None,
    gemeenten: Sequence[str] | None,
    cfg: Config,
    synthetic: bool | None,
    analyse: bool,
    extra_parameters: dict[str, Any],
    capture: _LogCapture,
    started: float,
) -> BuildResult:
    logger.info("build: BAG %s, buurten %s -> %s", bag_path, buurten_path, out)
    buurten, cbs_read = cbs.read_buurten(buurten_path, gemeenten=gemeenten)
    if synthetic is None:
        synthetic = bag.layer_is_synthetic(bag_path) or bag.layer_is_synthetic(buurten_path)
    if synthetic:
        logger.info("inputs are SYNTHETIC demo data; every output is marked as such")
    inputs = [_input_entry("buurten", buurten_path, year=cbs_read.year)]

    bbox = tuple(float(v) for v in buurten.total_bounds)
    lo, hi = cfg["dwellings"]["bouwjaar_min"], cfg["dwellings"]["bouwjaar_max"]
    panden, vbo, layout = bag.read_bag(bag_path, bbox=bbox, bouwjaar_range=(lo, hi))
    inputs.insert(0, _input_entry("bag", bag_path, layout=layout))

    labels = None
    if labels_path is not None:
        labels = eponline.read_ep_online(labels_path, vbo_ids=set(vbo["vbo_id"].dropna()))
        inputs.append(_input_entry("labels", labels_path))
    else:
        logger.warning("no EP-Online labels given: every energy label is estimated from "
                       "dwelling type and build period (PBL Vesta default labels)")

    dwell, report = dwellings_from_bag(panden, vbo, buurten, labels=labels, config=cfg)

    trend_table = None
    trend_report: dict[str, Any] = {}
    if cbs_paths:
        years = [cbs.read_statistics(buurten_path, gemeenten=gemeenten)]
        for p in cbs_paths:
            years.append(cbs.read_statistics(p, gemeenten=gemeenten))
            inputs.append(_input_entry("cbs", p))
        stats = pd.concat(years, ignore_index=True)
        trend_table, trend_report = cbs.trends(stats, buurten["buurtcode"].tolist())
        buurten, trend_report["aangevuld"] = cbs.fill_from_other_years(
            buurten, stats, year=cbs_read.year)

    ind, missing = indicators.buurt_indicators(dwell, buurten, trends=trend_table, config=cfg)

    prognose = None
    if prognose_path is not None:
        prognose = pd.read_parquet(prognose_path)
        inputs.append(_input_entry("prognose", prognose_path))

    analysis_result = None
    if analyse:
        analysis_result = _run_analysis(ind, dwell, cfg, prognose)
        if analysis_result is not None:
            ind = analysis_result.buurten

    manifest: dict[str, Any] = {
        "tool": "woonvoorraad",
        "version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "synthetic": bool(synthetic),
        "data_notice": ("SYNTHETISCHE DEMODATA - fictieve gemeenten, geen echte cijfers"
                        if synthetic else None),
        "inputs": inputs,
        "parameters": {"config": cfg, "gemeenten": list(gemeenten) if gemeenten else None,
                       **extra_parameters},
        "packages": package_versions(),
        "summary": indicators.summary(ind),
        "dwellings": report.as_dict(),
        "missing_statistics": missing,
        "trends": trend_report,
        "attribution": ["BAG: Kadaster (Public Domain / CC0)", "CBS: CC BY 4.0",
                        "EP-Online: RVO", "PBL Vesta MAIS kentallen 2024"],
    }
    if analysis_result is not None:
        manifest["analysis"] = analysis_result.summary()

    files: dict[str, Path] = {}
    with OutputTransaction(out) as txn:
        dwell.to_parquet(txn.path("dwellings.parquet"), index=False)
        ind.to_parquet(txn.path("buurten.parquet"), index=False)
        if analysis_result is not None:
            for name, table in analysis_result.tables().items():
                target = txn.path(name)
                if name.endswith(".parquet"):
                    table.to_parquet(target, index=False)
                else:
                    pd.DataFrame(table.drop(columns="geometry", errors="ignore")).to_csv(
                        target, index=False)
        manifest["elapsed_seconds"] = round(time.perf_counter() - started, 2)
        manifest["log"] = capture.warnings
        txn.path("build.log").write_text("\n".join(capture.lines) + "\n", encoding="utf-8")
        txn.commit(manifest)
        files = {name: out / name for name in txn.files}
    logger.info("build finished in %.1f s: %d buurten, %d dwellings", manifest["elapsed_seconds"],
                len(ind), len(dwell))
    return BuildResult(out_dir=out, buurten=ind, dwellings=dwell, manifest=manifest,
                       analysis=analysis_result, files=files)


def _run_analysis(ind: gpd.GeoDataFrame, dwell: gpd.GeoDataFrame, cfg: Config,
                  prognose: pd.DataFrame | None) -> Any:
    from . import analysis

    return analysis.analyse(ind, dwell, config=cfg, prognose=prognose)
