"""Run scenarios on a build folder and write them into their own folder.

:func:`run_scenarios` reads a build (``manifest.json``, ``buurten.parquet``,
``dwellings.parquet``; ``proeftuinen.csv`` for ``kandidaten=True``) and never writes to it;
:func:`write_scenarios` publishes the tables, two charts and a manifest together into another
folder with :class:`woonvoorraad._io.OutputTransaction` (the same atomic publish as a build).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from woonvoorraad import __version__, layout
from woonvoorraad._io import OutputTransaction, sha256_file
from woonvoorraad.errors import InputError
from woonvoorraad.scenarios import answer, charts
from woonvoorraad.scenarios.config import load_scenario_config, scenario_names
from woonvoorraad.scenarios.model import dwelling_outcomes, prepare_dwellings, sums_per_buurt
from woonvoorraad.scenarios.warmtevraag import BRON as BRON_WARMTE
from woonvoorraad.stock.kentallen import ATTRIBUTION

logger = logging.getLogger(__name__)

DATA_NOTICE = "SYNTHETISCHE DEMODATA - fictieve gemeenten, geen echte cijfers"
#: Every file a scenario run may write besides its manifest.
OUTPUTS: tuple[str, ...] = (
    "scenario_buurten.csv", "scenario_buurten.parquet", "scenario_inkomensgroepen.csv",
    "scenario_samenvatting.csv", "scenario_kandidaten.csv", "maandlast_per_inkomensgroep.png",
    "financieringsgat_per_buurt.png", "LEESMIJ.txt",
)
_DW_COLS = ("buurtcode", "woningtype", "bouwjaar", "bouwperiode", "oppervlakte", "naoorlogs",
            "energielabel", *(f"p_label_{k}" for k in "ABCDEFG"))


@dataclass
class ScenarioResult:
    """Tables of a scenario run (Dutch column names, see ``docs/scenarios.md``)."""

    buurten: pd.DataFrame
    groepen: pd.DataFrame
    samenvatting: pd.DataFrame
    kandidaten: pd.DataFrame | None
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    build: dict[str, Any] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """Whether the build was synthetic (demo)."""
        return bool(self.build.get("synthetic"))


def _read_parquet(path: Path, wanted: Sequence[str]) -> pd.DataFrame:
    try:
        names = (pq.read_schema(path).names if path.is_file()
                 else pq.ParquetDataset(path).schema.names)
        return pd.read_parquet(path, columns=[c for c in wanted if c in names])
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", path=path) from exc


def read_build(build_dir: str | Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Manifest, buurten (without geometry) and dwellings of a build folder (read only)."""
    path, manifest = layout.read_build_manifest(build_dir)
    for name in ("buurten.parquet", "dwellings.parquet"):
        if not (path / name).exists():
            raise InputError(f"build folder has no {name}", path=path)
    bnames = pq.read_schema(path / "buurten.parquet").names if (path / "buurten.parquet"
                                                                ).is_file() else []
    buurten = _read_parquet(path / "buurten.parquet", [c for c in bnames if c != "geometry"]
                            or ["buurtcode"])
    dwellings = _read_parquet(path / "dwellings.parquet", _DW_COLS)
    if "buurtcode" not in buurten.columns:
        raise InputError("buurten.parquet lacks column 'buurtcode'", path=path)
    return manifest, buurten, dwellings


def read_candidates(build_dir: str | Path) -> pd.DataFrame:
    """The candidate units of ``proeftuinen.csv`` (rows that are candidates)."""
    path = Path(build_dir) / "proeftuinen.csv"
    if not path.is_file():
        raise InputError("the build has no proeftuinen.csv (built with --no-analyse?); give "
                         "--buurten instead of --kandidaten", path=path)
    k = pd.read_csv(path, dtype={"buurtcodes": "string", "gemeentecode": "string"})
    if "buurtcodes" not in k.columns:
        raise InputError("proeftuinen.csv lacks column 'buurtcodes'", path=path)
    if "geen_kandidaat" in k.columns:
        k = k[~k["geen_kandidaat"].astype("boolean").fillna(False)]
    return k.reset_index(drop=True)


def run_scenarios(build_dir: str | Path, *, settings: Mapping[str, Any] | None = None,
                  scenarios: Sequence[str] | None = None,
                  buurtcodes: Sequence[str] | None = None,
                  kandidaten: bool = False) -> ScenarioResult:
    """Apply the packages to the buurten of a build (all, ``buurtcodes`` or the candidates).

    Parameters
    ----------
    build_dir
        Output folder of ``woonvoorraad build`` / ``demo``; only read.
    settings
        Effective scenario settings (default: :func:`load_scenario_config`).
    scenarios
        Names of the packages to run (default: all defined).
    buurtcodes
        Limit to these buurten (unknown codes are an error).
    kandidaten
        Limit to the buurten of the candidate units of ``proeftuinen.csv`` and add a ranked
        table per unit.

    Returns
    -------
    ScenarioResult
    """
    cfg = dict(settings) if settings is not None else load_scenario_config()
    names = scenario_names(cfg, scenarios)
    manifest, buurten, dwellings = read_build(build_dir)
    notes: list[str] = []
    cand = None
    if kandidaten:
        cand = read_candidates(build_dir)
        buurtcodes = sorted({c.strip() for s in cand["buurtcodes"].dropna()
                             for c in str(s).split(",") if c.strip()})
    if buurtcodes is not None:
        unknown = sorted(set(buurtcodes) - set(buurten["buurtcode"]))
        if unknown:
            raise InputError(f"buurtcode(s) not in the build: {', '.join(unknown[:10])}",
                             path=Path(build_dir) / "buurten.parquet")
        buurten = buurten[buurten["buurtcode"].isin(list(buurtcodes))]
    naoorlogs = bool(cfg["algemeen"]["alleen_naoorlogs"])
    prep = prepare_dwellings(dwellings, alleen_naoorlogs=naoorlogs,
                             buurtcodes=buurten["buurtcode"])
    notes.extend(prep.notes)
    tables_b, tables_g, summary, tables_k = [], [], [], []
    for name in names:
        sc = cfg["scenario"][name]
        out = dwelling_outcomes(prep, sc, cfg)
        sums = sums_per_buurt(prep, out)
        b = answer.buurt_answer(sums, buurten, scenario=name, settings=cfg, notes=notes)
        g = answer.income_groups(sums, buurten, scenario=name, settings=cfg,
                                 alleen_naoorlogs=naoorlogs, notes=notes)
        z, _ = answer.zero_shares(buurten.drop_duplicates("buurtcode")
                                  .set_index("buurtcode", drop=False).sort_index(), cfg)
        zd = pd.Series(z["doelgroep"], index=sorted(buurten["buurtcode"].unique()))
        med = answer.target_median(prep, out, b, zd)
        summary.append(answer.summary_row(b, scenario=name, naam=str(sc.get("naam", name)),
                                          median=med))
        tables_b.append(b)
        tables_g.append(g)
        if cand is not None:
            tables_k.append(answer.candidate_answer(b, cand))
    build = {"pad": str(Path(build_dir).expanduser().resolve()),
             "manifest_sha256": sha256_file(Path(build_dir) / "manifest.json"),
             "synthetic": bool(manifest.get("synthetic")),
             "data_notice": manifest.get("data_notice"),
             "label_methode": (manifest.get("label_model") or {}).get("methode")}
    return ScenarioResult(
        buurten=pd.concat(tables_b, ignore_index=True),
        groepen=pd.concat(tables_g, ignore_index=True),
        samenvatting=pd.DataFrame(summary),
        kandidaten=pd.concat(tables_k, ignore_index=True) if tables_k else None,
        settings=cfg, notes=list(dict.fromkeys(notes)), build=build)


def _notice(frame: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    if synthetic:
        frame = frame.copy()
        frame.insert(0, "data", "SYNTHETISCHE DEMODATA")
    return frame


def write_scenarios(result: ScenarioResult, out_dir: str | Path) -> Path:
    """Publish the scenario tables, charts and manifest into ``out_dir`` (atomically).

    Raises
    ------
    InputError
        ``out_dir`` is the build folder itself.
    """
    out = Path(out_dir).expanduser().resolve()
    if result.build.get("pad") and out == Path(result.build["pad"]):
        raise InputError("the scenario output folder must not be the build folder", path=out)
    syn = result.synthetic
    namen = {k: str(v.get("naam", k)) for k, v in result.settings["scenario"].items()}
    with OutputTransaction(out) as txn:
        tables = {"scenario_buurten.csv": result.buurten,
                  "scenario_inkomensgroepen.csv": result.groepen,
                  "scenario_samenvatting.csv": result.samenvatting}
        if result.kandidaten is not None:
            tables["scenario_kandidaten.csv"] = result.kandidaten
        for name, table in tables.items():
            _notice(table, syn).to_csv(txn.path(name), index=False, lineterminator="\n")
        _notice(result.buurten, syn).to_parquet(txn.path("scenario_buurten.parquet"),
                                                index=False)
        charts.balance_chart(result.groepen, namen, txn.path("maandlast_per_inkomensgroep.png"),
                             synthetic=syn)
        charts.gap_chart(result.buurten, namen, txn.path("financieringsgat_per_buurt.png"),
                         synthetic=syn)
        txn.path("LEESMIJ.txt").write_text(
            (f"{DATA_NOTICE}\n\n" if syn else "")
            + "Scenario's van woonvoorraad (issue #15): zie docs/scenarios.md voor methode, "
            "bronnen en grenzen. Bronnen: " + ATTRIBUTION + "; prijzen, tarieven en "
            "subsidies met bron en datum in manifest.json['instellingen'].\n", encoding="utf-8")
        manifest = {
            "kind": "woonvoorraad scenario",
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "version": __version__, "synthetic": syn,
            "data_notice": DATA_NOTICE if syn else None,
            "build": result.build,
            "scenarios": list(dict.fromkeys(result.buurten["scenario"])),
            "n_buurten": int(result.buurten["buurtcode"].nunique()),
            "bronnen": [ATTRIBUTION, BRON_WARMTE],
            "instellingen": result.settings, "notities": result.notes,
            "samenvatting": result.samenvatting.to_dict(orient="records"),
        }
        txn.commit(manifest, known_outputs=OUTPUTS)
    logger.info("scenarios written to %s", out)
    return out
