"""The build: input files → ``dwellings.parquet``, ``buurten.parquet`` and ``manifest.json``.

All outputs are staged and published together by :class:`woonvoorraad._io.OutputTransaction`:
a build that fails or is killed leaves the previous complete outputs in place, and the
manifest written last always describes the files beside it.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import importlib.metadata
import logging
import platform
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from tqdm.std import tqdm  # not tqdm.auto: without ipywidgets it warns in notebooks

from woonvoorraad import __version__, _validate, settings
from woonvoorraad._geoparquet import write_partitioned
from woonvoorraad._io import (
    FolderLock,
    OutputTransaction,
    check_output_folder,
    owned_work_dir,
    sha256_file,
)
from woonvoorraad._log import SafeFormatter
from woonvoorraad._memory import peak_rss_mb
from woonvoorraad.config import Config, default_config
from woonvoorraad.errors import InputError
from woonvoorraad.sources import bag, cbs, eponline
from woonvoorraad.stock import indicators, woonplaatsen
from woonvoorraad.stock.dwellings import check_label_match, dwelling_stage, pand_stage

logger = logging.getLogger(__name__)

#: Seconds a finished build waits for another build's publish into the same folder.
PUBLISH_LOCK_WAIT = 120.0

#: Every file a build may write besides ``manifest.json`` (the analysis tables are those of
#: :meth:`woonvoorraad.classify.analysis.AnalysisResult.tables`). When a build folder has lost its
#: manifest (a publish interrupted by an older version), a build removes those of them that
#: it does not produce itself, so no stale file stays beside its new manifest.
BUILD_OUTPUTS: tuple[str, ...] = (
    "dwellings.parquet", "buurten.parquet", "build.log",
    "proeftuinen.csv", "proeftuinen_stabiliteit.csv",
    "instrumenten.csv", "kosten_buurt.csv", "kosten_gemeente.csv", "typologie_k.csv",
    "typologie_profielen.csv", "typologie_imputatie.csv", "score_componenten.csv",
    "uitgesloten.csv", "label_model.csv", "label_selectie.csv", "woonplaatsen.csv",
)

#: Files that older versions wrote and a build no longer does (the analysis columns are in
#: ``buurten.parquet`` now); removed like :data:`BUILD_OUTPUTS`, so that no reader finds a
#: stale one beside a new manifest.
_FORMER_OUTPUTS: tuple[str, ...] = ("analyse_buurten.parquet",)

_NO_LABELS = ("no EP-Online labels given: every energy label is estimated from dwelling type "
              "and build period (PBL Vesta default labels)")

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
        The classification results (see :mod:`woonvoorraad.classify.analysis`), if run.
    """

    out_dir: Path
    buurten: gpd.GeoDataFrame
    dwellings: gpd.GeoDataFrame
    manifest: dict[str, Any]
    analysis: Any = None
    files: dict[str, Path] = field(default_factory=dict)


class _Steps:
    """Wall time and peak memory after each step of a build (``timings`` in the manifest)."""

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.steps: dict[str, dict[str, float]] = {}
        self.bar = tqdm(desc="build", unit=" stappen", leave=False, file=sys.stderr,
                        disable=not settings.show_progress)

    def mark(self, name: str) -> None:
        bag.release_memory()  # hand memory freed by the step back to the system
        now = time.perf_counter()
        entry = {"seconds": round(now - self.t, 2)}
        peak_mb = peak_rss_mb()
        peak = None if peak_mb is None else round(peak_mb / 1024, 2)
        if peak is not None:
            entry["peak_rss_gb"] = peak
        self.steps[name] = entry
        self.bar.set_postfix_str(name, refresh=False)
        self.bar.update(1)
        logger.debug("step %s: %.1f s (peak memory so far %s GB)", name, now - self.t, peak)
        self.t = now


class _LogCapture(logging.Handler):
    """Collects the run's log records for ``build.log`` and the manifest."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []
        self.warnings: list[str] = []
        self.setFormatter(SafeFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.levelno >= logging.WARNING:
            self.warnings.append(record.getMessage())


#: Folders of dask dwelling parts of the running build, with their owner locks (see
#: :func:`_dwellings_dask`).
_PENDING_PARTS: list[tuple[Path, FolderLock]] = []


@functools.cache
def _hasher() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="woonvoorraad-sha256")


def _input_entry(role: str, path: Path, **extra: Any) -> dict[str, Any]:
    """Manifest entry of an input; its sha256 is computed in a background thread.

    Hashing the national BAG file (~8 GB) takes about 10 s; hashlib releases the GIL, so it
    overlaps with the build. :func:`_resolve_hashes` waits for it before the manifest is made.
    """
    return {"role": role, "path": str(path.resolve()), "size": path.stat().st_size,
            "sha256": _hasher().submit(sha256_file, path), **extra}


def _resolve_hashes(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace the pending sha256 of each input entry by its value."""
    for entry in inputs:
        if isinstance(entry.get("sha256"), Future):
            entry["sha256"] = entry["sha256"].result()
    return inputs


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
    inkomen_path: str | Path | None = None,
    gemeenten: Sequence[str] | None = None,
    config: Config | None = None,
    synthetic: bool | None = None,
    analyse: bool = True,
    extra_parameters: dict[str, Any] | None = None,
    engine: str = "memory",
    scheduler: str | None = None,
    workers: int | None = None,
    checks: Callable[[gpd.GeoDataFrame, pd.DataFrame | None], dict[str, Any]] | None = None,
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
    inkomen_path
        CBS income by tenure (``inkomen.parquet`` from ``woonvoorraad fetch``): the owners'
        over renters' income of each gemeente for the target group; without it the national
        setting ``[doelgroep] inkomen_eigenaar_huurder``.
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
    engine
        ``"memory"`` (default): one process; ``"dask"``: partitioned over a
        :mod:`dask.distributed` cluster (:mod:`woonvoorraad.stock.distributed`), with exactly the
        same dwellings and counts, except that a dwelling without a registered label gets the
        PBL default label: the label model runs in memory only (the manifest's
        ``label_model`` says so). With ``"dask"``, :attr:`BuildResult.dwellings` is a lazy
        :class:`dask_geopandas.GeoDataFrame` on the written ``dwellings.parquet``.
    scheduler
        Dask scheduler address (``tcp://host:8786``); default: a LocalCluster on this machine.
    workers
        Workers of that LocalCluster (default: one per core).
    checks
        Called with the buurt table and the dwellings (None when they are not in memory)
        before the outputs are published; its result is recorded as ``manifest["waarheid"]``
        (the demo checks its estimates against the generator's truth this way).

    Returns
    -------
    BuildResult
    """
    if engine not in ("memory", "dask"):
        raise ValueError(f"engine must be 'memory' or 'dask', not {engine!r}")
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
            inkomen_path=Path(inkomen_path) if inkomen_path else None,
            gemeenten=gemeenten, cfg=cfg, synthetic=synthetic, analyse=analyse,
            extra_parameters=extra_parameters or {}, capture=capture, started=started,
            engine=engine, scheduler=scheduler, workers=workers, checks=checks,
        )
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
        while _PENDING_PARTS:  # dwelling parts of the dask engine, merged or not
            parts_dir, owner = _PENDING_PARTS.pop()
            shutil.rmtree(parts_dir, ignore_errors=True)
            owner.release()


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
    inkomen_path: Path | None = None,
    synthetic: bool | None,
    analyse: bool,
    extra_parameters: dict[str, Any],
    capture: _LogCapture,
    started: float,
    engine: str = "memory",
    scheduler: str | None = None,
    workers: int | None = None,
    checks: Callable[[gpd.GeoDataFrame, pd.DataFrame | None], dict[str, Any]] | None = None,
) -> BuildResult:
    logger.info("build: BAG %s, buurten %s -> %s", bag_path, buurten_path, out)
    # fail now, not after the whole computation: a file or a dangling link as --out, a
    # read-only folder, a symlinked lock file (OutputError), another build (OutputLockedError)
    check_output_folder(out)
    steps = _Steps()
    buurten, cbs_read = cbs.read_buurten(buurten_path, gemeenten=gemeenten)
    if synthetic is None:
        synthetic = bag.layer_is_synthetic(bag_path) or bag.layer_is_synthetic(buurten_path)
    if synthetic:
        logger.info("inputs are SYNTHETIC demo data; every output is marked as such")
    inputs = [_input_entry("buurten", buurten_path, year=cbs_read.year)]
    inkomen_info: dict[str, Any] = {"bron": "[doelgroep] inkomen_eigenaar_huurder (landelijk)"}
    if inkomen_path is not None:
        buurten, inkomen_info = _owner_renter_ratios(buurten, inkomen_path)
        inputs.append(_input_entry("inkomen", inkomen_path))

    bbox = tuple(float(v) for v in buurten.total_bounds)
    lo, hi = cfg["dwellings"]["bouwjaar_min"], cfg["dwellings"]["bouwjaar_max"]
    steps.mark("read buurten")
    dist = None
    if engine == "dask":
        dist = _dwellings_dask(bag_path, buurten, labels_path, inputs=inputs, cfg=cfg,
                               bbox=bbox, out=out, scheduler=scheduler, workers=workers)
        report = dist.report
        dwell = None
        steps.mark("dwellings (dask)")
    else:
        panden, vbo, layout = bag.read_bag_for_build(bag_path, bbox=bbox,
                                                     bouwjaar_range=(lo, hi))
        inputs.insert(0, _input_entry("bag", bag_path, layout=layout))
        steps.mark("read BAG")

        labels = None
        if labels_path is not None:
            labels = eponline.read_ep_online(labels_path, vbo_ids=vbo["vbo_id"])
            inputs.append(_input_entry("labels", labels_path))
        else:
            logger.warning(_NO_LABELS)
        steps.mark("read labels")

        # two stages, so that the footprints are freed before the dwellings' points are made
        stage = pand_stage(panden, vbo, config=cfg)
        del panden
        steps.mark("links and woningtype")
        dwell, report = dwelling_stage(stage, vbo, buurten, labels=labels, config=cfg)
        del vbo, stage
        steps.mark("dwellings")
    _validate.require_overlap(report.n_dwellings, report.n_outside_buurten, bag_path=bag_path,
                              buurten_path=buurten_path)

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

    if dist is not None:
        ind, missing = indicators.buurt_indicators_from_counts(dist.counts, buurten,
                                                               trends=trend_table, config=cfg)
    else:
        lm = report.label_model
        fout = (lm.metrics.get("mae_buurt_efg", {}).get("model")
                if lm is not None and lm.methode == "model" else None)
        ind, missing = indicators.buurt_indicators(dwell, buurten, trends=trend_table,
                                                   config=cfg, label_fout=fout)
    steps.mark("indicators")

    prognose = None
    if prognose_path is not None:
        prognose = pd.read_parquet(prognose_path)
        inputs.append(_input_entry("prognose", prognose_path))

    lm = report.label_model
    label_methode = lm.methode if lm is not None else "pbl"
    fout = (lm.metrics.get("mae_buurt_efg", {}).get("model")
            if lm is not None and lm.methode == "model" else None)
    if analyse and dist is not None:  # the analysis needs the dwellings in memory
        from woonvoorraad.stock.distributed import read_parts

        dwell = read_parts(dist.parts)
    dorpen = None
    if dwell is not None:
        dorpen = woonplaatsen.woonplaats_indicators(dwell, ind, config=cfg, label_fout=fout)
        steps.mark("woonplaatsen")

    analysis_result = None
    if analyse:
        analysis_result = _run_analysis(ind, dwell, cfg, prognose, woonplaatsen=dorpen,
                                        label_methode=label_methode)
        if analysis_result is not None:
            ind = analysis_result.buurten
        steps.mark("analysis")

    manifest: dict[str, Any] = {
        "tool": "woonvoorraad",
        "version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "synthetic": bool(synthetic),
        "data_notice": ("SYNTHETISCHE DEMODATA - fictieve gemeenten, geen echte cijfers"
                        if synthetic else None),
        "inputs": _resolve_hashes(inputs),
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
    label_result = report.label_model
    if label_result is None:  # the dask engine: PBL defaults per tile
        from woonvoorraad.stock.labels import LabelModelResult

        label_result = LabelModelResult("pbl", "label model not run in the dask engine "
                                        "(`build --engine dask`): PBL default labels; use "
                                        "the memory engine for the label model")
    manifest["label_model"] = label_result.manifest()
    manifest["doelgroep"] = {**_target_group_summary(ind, cfg), "inkomen": inkomen_info}
    manifest["woonplaatsen"] = {**woonplaatsen.summary(dorpen),
                                "bron": report.woonplaats or None}
    if analysis_result is not None:
        manifest["analysis"] = analysis_result.summary()
    if checks is not None:
        manifest["waarheid"] = checks(ind, dwell)
    manifest["engine"] = {"name": engine}
    if dist is not None:
        manifest["engine"].update({"scheduler": scheduler or "LocalCluster",
                                   "workers": dist.n_workers, "tiles": dist.n_tiles,
                                   "timings": dist.timings})

    files: dict[str, Path] = {}
    # another build publishing into this folder: wait for it, then publish over it
    with OutputTransaction(out, lock_wait=PUBLISH_LOCK_WAIT) as txn:
        if dist is not None:
            from woonvoorraad.stock.distributed import merge_parts, remove_parts

            merge_parts(dist.parts, txn.path("dwellings.parquet"))
            remove_parts(dist.parts_dir)
        else:
            write_partitioned(dwell, txn.path("dwellings.parquet"))
        steps.mark("write dwellings")
        # one buurt table: the indicators, plus every analysis column when the analysis ran;
        # one row group per gemeente, by buurtcode within it
        write_partitioned(ind, txn.path("buurten.parquet"))
        if analysis_result is not None:
            for name, table in analysis_result.tables().items():
                # every text field quoted: the csv module quotes a field with a line feed but
                # not one with a lone carriage return, which readers (pandas too) take for the
                # end of a row; numbers stay unquoted and read back as numbers
                pd.DataFrame(table.drop(columns="geometry", errors="ignore")).to_csv(
                    txn.path(name), index=False, quoting=csv.QUOTE_NONNUMERIC,
                    lineterminator="\n")
        if dorpen is not None:
            dorpen.to_csv(txn.path("woonplaatsen.csv"), index=False,
                          quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        label_result.table().to_csv(txn.path("label_model.csv"), index=False,
                                    lineterminator="\n")
        label_result.selectie.to_csv(txn.path("label_selectie.csv"), index=False,
                                     lineterminator="\n")
        steps.mark("write other outputs")
        manifest["elapsed_seconds"] = round(time.perf_counter() - started, 2)
        steps.bar.close()
        manifest["timings"] = steps.steps
        manifest["log"] = capture.warnings
        txn.path("build.log").write_text("\n".join(capture.lines) + "\n", encoding="utf-8")
        known = [*BUILD_OUTPUTS, *_FORMER_OUTPUTS,
                 *(analysis_result.tables() if analysis_result else ())]
        txn.commit(manifest, known_outputs=known)
        files = {name: out / name for name in txn.files}
    logger.info("build finished in %.1f s: %d buurten, %d dwellings", manifest["elapsed_seconds"],
                len(ind), report.n_dwellings)
    if dist is not None:
        from woonvoorraad.stock.distributed import dwellings_frame

        dwell = dwellings_frame(out / "dwellings.parquet")
    return BuildResult(out_dir=out, buurten=ind, dwellings=dwell, manifest=manifest,
                       analysis=analysis_result, files=files)


def _dwellings_dask(bag_path: Path, buurten: gpd.GeoDataFrame, labels_path: Path | None, *,
                    inputs: list[dict[str, Any]], cfg: Config, bbox: tuple[float, ...],
                    out: Path, scheduler: str | None, workers: int | None) -> Any:
    """The dwellings on a dask cluster (:mod:`woonvoorraad.stock.distributed`)."""
    from woonvoorraad.stock import distributed

    labels = None
    if labels_path is not None:
        labels = eponline.read_ep_online(labels_path)
        labels = labels[[c for c in ("vbo_id", "energielabel", "geldig_tot", "berekeningstype")
                         if c in labels.columns]]
        inputs.append(_input_entry("labels", labels_path))
    else:
        logger.warning(_NO_LABELS)
    out.mkdir(parents=True, exist_ok=True)
    # a killed build's parts are removed by the next build's recover (the owner lock is free)
    parts_dir, owner = owned_work_dir(out)
    _PENDING_PARTS.append((parts_dir, owner))  # removed by build() however the build ends
    try:
        with distributed.connect(scheduler, workers) as client:
            result = distributed.build_dwellings(bag_path, buurten, client=client,
                                                 parts_dir=parts_dir, labels=labels,
                                                 config=cfg, bbox=bbox)  # type: ignore[arg-type]
    except BaseException:
        distributed.remove_parts(parts_dir)
        raise
    if labels is not None:
        check_label_match(labels, n_registered=result.report.n_label_registered,
                          n_dwellings=result.report.n_dwellings, source=labels_path.name)
    result.parts_dir = parts_dir
    inputs.insert(0, _input_entry("bag", bag_path, layout=result.layout))
    return result


def _owner_renter_ratios(buurten: gpd.GeoDataFrame, path: Path
                         ) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Each gemeente's owners' over renters' income from the CBS income table, as the buurt
    column ``inkomen_eigenaar_huurder``; gemeenten the table cannot answer keep the setting."""
    from woonvoorraad.sources import inkomen

    frame = inkomen.read_inkomen(path)
    per: dict[str, Any] = {}
    for code in sorted(buurten["gemeentecode"].dropna().astype(str).unique()):
        try:
            r = inkomen.owner_income_ratio(frame, code, noemer="huur")
        except InputError as exc:
            logger.warning("%s: %s; the national setting is used for %s", path.name, exc, code)
            continue
        per[code] = r._asdict()
    buurten = buurten.copy()
    buurten["inkomen_eigenaar_huurder"] = buurten["gemeentecode"].astype(str).map(
        {k: v["verhouding"] for k, v in per.items()}).astype(float)
    return buurten, {"bron": f"CBS inkomen naar woonsituatie ({path.name})",
                     "per_gemeente": per}


def _target_group_summary(ind: pd.DataFrame, cfg: Config) -> dict[str, Any]:
    """``manifest["doelgroep"]``: per gemeente and in total the target group with its range."""
    if "n_naoorlogs_eengezins" not in ind.columns:
        return {}
    per = indicators.target_group_by(ind, cfg)
    tot = indicators.target_group_by(ind.assign(_alle="alle"), cfg, by="_alle")

    def row(r: pd.Series) -> dict[str, float | None]:
        return {k: (None if pd.isna(v) else round(float(v), 1)) for k, v in r.items()}

    return {"totaal": row(tot.iloc[0]) if len(tot) else {},
            "per_gemeente": {str(k): row(r) for k, r in per.iterrows()},
            "toelichting": "bereik = kleinste en grootste uitkomst over alle combinaties van de "
                           "lage en hoge aannames ([doelgroep]); geen statistisch interval"}


def _run_analysis(ind: gpd.GeoDataFrame, dwell: gpd.GeoDataFrame, cfg: Config,
                  prognose: pd.DataFrame | None, *, woonplaatsen: pd.DataFrame | None,
                  label_methode: str) -> Any:
    from woonvoorraad.classify import analysis

    return analysis.analyse(ind, dwell, config=cfg, prognose=prognose,
                            woonplaatsen=woonplaatsen, label_methode=label_methode)
