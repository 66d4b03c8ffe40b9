"""A build folder as the reports read it: :class:`Run`, :func:`load_run` and the key figures.

:func:`load_run` reads ``manifest.json`` and the buurten of a build (the classification tables
on first use); with ``gemeente=`` it decodes the buurt polygons of that gemeente only, read with
a pyarrow filter on ``gemeentecode``. :func:`gemeente_summary` gives the key figures of a
gemeente or of the whole build; :func:`candidates_of` and :func:`candidate_buurten` the
proeftuin candidates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from woonvoorraad import layout
from woonvoorraad.errors import InputError

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------

#: Tables of the classification step (name → file in the build folder).
ANALYSE_TABELLEN: dict[str, str] = {
    "proeftuinen": "proeftuinen.csv",
    "proeftuinen_stabiliteit": "proeftuinen_stabiliteit.csv",
    "instrumenten": "instrumenten.csv",
    "kosten_buurt": "kosten_buurt.csv",
    "kosten_gemeente": "kosten_gemeente.csv",
    "typologie_k": "typologie_k.csv",
    "typologie_profielen": "typologie_profielen.csv",
    "uitgesloten": "uitgesloten.csv",
    "score_componenten": "score_componenten.csv",
    "label_model": "label_model.csv",
    "woonplaatsen": "woonplaatsen.csv",
}

_TEXT_COLUMNS = ("buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode",
                 "gemeentenaam", "instrument", "naam", "reden", "regel", "status", "bron",
                 "woonplaats", "eenheid_code", "eenheid_naam")


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a table of the build: ids as text, only empty cells as missing."""
    return pd.read_csv(path, dtype=dict.fromkeys(_TEXT_COLUMNS, str), keep_default_na=False,
                       na_values=[""], encoding="utf-8")


@dataclass
class Run:
    """A processed-data folder written by ``woonvoorraad build`` (or ``demo``).

    Attributes
    ----------
    path
        The folder.
    manifest
        ``manifest.json``.
    buurten
        One row per buurt (GeoDataFrame, EPSG:28992): ``analyse_buurten.parquet`` when the
        classification ran, else ``buurten.parquet``.
    tabellen
        The classification tables read so far (see :data:`ANALYSE_TABELLEN` and :meth:`read_table`).
    """

    path: Path
    manifest: dict[str, Any]
    buurten: gpd.GeoDataFrame
    tabellen: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def naam(self) -> str:
        """Name of the run: the folder name (e.g. ``demo``)."""
        return self.path.name

    @property
    def synthetic(self) -> bool:
        """True when the build was made from synthetic demo data."""
        return bool(self.manifest.get("synthetic"))

    @property
    def data_notice(self) -> str | None:
        """The build's data notice (set for synthetic data)."""
        notice = self.manifest.get("data_notice")
        if not notice and self.synthetic:
            notice = "SYNTHETISCHE DEMODATA - fictieve gemeenten, geen echte cijfers"
        return notice

    @property
    def config(self) -> dict[str, Any]:
        """The effective configuration of the build."""
        return (self.manifest.get("parameters") or {}).get("config") or {}

    @property
    def created(self) -> dt.datetime | None:
        """When the build was made (UTC)."""
        value = self.manifest.get("created")
        try:
            return dt.datetime.fromisoformat(value) if value else None
        except ValueError:
            return None

    @property
    def geanalyseerd(self) -> bool:
        """True when the build ran the classification step (its tables are present)."""
        return (self.path / ANALYSE_TABELLEN["proeftuinen"]).is_file()

    @property
    def cbs_jaar(self) -> int | None:
        """CBS year of the key figures (None when unknown)."""
        if "cbs_jaar" in self.buurten.columns:
            years = pd.to_numeric(self.buurten["cbs_jaar"], errors="coerce").dropna()
            if len(years):
                return int(years.max())
        for entry in self.manifest.get("inputs") or []:
            if entry.get("role") == "buurten" and entry.get("year"):
                return int(entry["year"])
        return None

    def read_table(self, naam: str) -> pd.DataFrame | None:
        """A classification table by name (read on first use), or None when the build has none.

        Raises
        ------
        InputError
            The file exists but cannot be read.
        """
        if naam not in self.tabellen:
            if naam not in ANALYSE_TABELLEN:
                raise KeyError(f"unknown table {naam!r}; known: {', '.join(ANALYSE_TABELLEN)}")
            p = self.path / ANALYSE_TABELLEN[naam]
            if not p.is_file():
                return None
            try:
                self.tabellen[naam] = _read_csv(p)
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise InputError(f"cannot read {p.name}: {exc}", path=self.path) from exc
        return self.tabellen[naam]

    def gemeenten(self) -> pd.DataFrame:
        """The gemeenten of the run: ``gemeentecode``, ``gemeentenaam``, ``n_buurten``."""
        b = self.buurten
        names = b["gemeentenaam"] if "gemeentenaam" in b.columns else b["gemeentecode"]
        g = (pd.DataFrame({"gemeentecode": b["gemeentecode"].astype(str),
                           "gemeentenaam": names.fillna(b["gemeentecode"]).astype(str)})
             .groupby("gemeentecode", sort=True)
             .agg(gemeentenaam=("gemeentenaam", "first"),
                  n_buurten=("gemeentenaam", "size"))
             .reset_index())
        return g

    def gemeentenaam(self, code: str) -> str:
        """Name of gemeente ``code`` (the code itself when the data has no name)."""
        g = self.gemeenten().set_index("gemeentecode")
        if code not in g.index:
            raise InputError(f"gemeente {code!r} is not in this build; it has "
                             f"{', '.join(g.index)}", path=self.path)
        return str(g.loc[code, "gemeentenaam"])

    def resolve_gemeente(self, query: str) -> str:
        """Return the code of a gemeente of the run given its code or name (case-insensitive).

        Raises
        ------
        InputError
            No gemeente of the run matches; the message lists them.
        """
        g = self.gemeenten()
        q = str(query).strip()
        by_code = {c.lower(): c for c in g["gemeentecode"]}
        if q.lower() in by_code:
            return by_code[q.lower()]
        digits = re.fullmatch(r"(?:gm)?\s*(\d{1,4})", q.lower())
        if digits and f"gm{int(digits.group(1)):04d}" in by_code:
            return by_code[f"gm{int(digits.group(1)):04d}"]
        by_name = {n.lower(): c for c, n in zip(g["gemeentecode"], g["gemeentenaam"],
                                                strict=True)}
        if q.lower() in by_name:
            return by_name[q.lower()]
        known = ", ".join(f"{n} ({c})" for c, n in zip(g["gemeentecode"], g["gemeentenaam"],
                                                        strict=True))
        raise InputError(f"gemeente {query!r} is not in this build; it has: {known}",
                         path=self.path)

    def select_buurten(self, code: str | None) -> gpd.GeoDataFrame:
        """The buurten of gemeente ``code`` (all buurten when None)."""
        if code is None:
            return self.buurten
        return self.buurten[self.buurten["gemeentecode"].astype(str) == code]

    def dwellings(self, gemeente: str | None = None,
                  columns: Sequence[str] | None = None) -> pd.DataFrame | None:
        """Read dwellings (optionally of one gemeente and some columns) without geometry.

        Returns None when the build folder has no ``dwellings.parquet``.
        """
        p = self.path / "dwellings.parquet"
        if not p.is_file():
            return None
        import pyarrow.parquet as pq

        available = set(pq.read_schema(p).names)
        cols = [c for c in (columns or available) if c in available and c != "geometry"]
        if gemeente is not None and "gemeentecode" not in cols and "gemeentecode" in available:
            cols.append("gemeentecode")
        filters = ([("gemeentecode", "==", gemeente)]
                   if gemeente is not None and "gemeentecode" in available else None)
        table = pq.read_table(p, columns=cols, filters=filters)
        return table.to_pandas()


def buurten_file(processed_dir: str | Path) -> Path:
    """The buurten table of a build: ``analyse_buurten.parquet`` when the build has one (builds
    that keep the classification columns apart), else ``buurten.parquet``."""
    folder = Path(processed_dir)
    analysed = folder / "analyse_buurten.parquet"
    return analysed if analysed.is_file() else folder / "buurten.parquet"


def load_run(processed_dir: str | Path, *, gemeente: str | None = None,
             polygons: bool = True) -> Run:
    """Load a processed-data folder: manifest and buurten (tables are read on first use).

    Parameters
    ----------
    processed_dir
        Output folder of ``woonvoorraad build`` or ``woonvoorraad demo``.
    gemeente
        Decode the buurt polygons of this gemeente (code or name) only; every other column is
        read for all buurten (the comparisons need them), the other polygons stay empty. A
        report needs only its own gemeente's polygons: for a national build (14,500 detailed
        buurten) this saves about 1 GB and half a minute per report. They are read with a
        pyarrow filter on ``gemeentecode``, so from a buurten file with a row group per
        gemeente only that row group is read. Default: every polygon is read.
    polygons
        False: read no polygons at all (what the report runner needs).

    Returns
    -------
    Run

    Raises
    ------
    InputError
        The folder lacks ``manifest.json`` or ``buurten.parquet``, they cannot be read, or
        ``gemeente`` is not in the build.
    """
    path, manifest = layout.read_build_manifest(processed_dir)
    buurten_path = buurten_file(path)
    if not buurten_path.is_file():
        raise InputError("build folder has no buurten.parquet", path=path)
    try:
        if polygons and gemeente is None:
            buurten = gpd.read_parquet(buurten_path)
        else:
            buurten = _read_attributes(buurten_path)
    except Exception as exc:  # pyarrow / geopandas raise many types
        raise InputError(f"cannot read {buurten_path.name}: {exc}", path=path) from exc
    for col in ("buurtcode", "gemeentecode"):
        if col not in buurten.columns:
            raise InputError(f"{buurten_path.name} lacks column {col!r}", path=path)
    run = Run(path=path, manifest=manifest, buurten=buurten)
    if polygons and gemeente is not None:
        code = run.resolve_gemeente(gemeente)
        try:
            _read_polygons(run.buurten, buurten_path, code)
        except Exception as exc:  # pyarrow / shapely raise many types
            raise InputError(f"cannot read {buurten_path.name}: {exc}", path=path) from exc
    logger.debug("loaded %s: %d buurten (polygons: %s)", path, len(run.buurten),
                 (gemeente or "all") if polygons else "none")
    return run


def _read_attributes(path: Path) -> gpd.GeoDataFrame:
    """The buurten GeoParquet without decoding a polygon (every geometry None, CRS kept)."""
    from pyproj import CRS

    geom_col, geo, names = _geo_column(path)
    if geom_col not in names or "gemeentecode" not in names:
        return gpd.read_parquet(path)
    attrs = pd.read_parquet(path, columns=[c for c in names if c != geom_col])
    column_meta = geo.get("columns", {}).get(geom_col) or {}
    # GeoParquet: no "crs" key means OGC:CRS84, null means none, else PROJJSON (or a string)
    crs_value = column_meta.get("crs", "OGC:CRS84")
    crs = (None if crs_value is None else CRS.from_json_dict(crs_value)
           if isinstance(crs_value, dict) else CRS.from_user_input(crs_value))
    geoms = gpd.GeoSeries(np.full(len(attrs), None, dtype=object), index=attrs.index, crs=crs)
    out = gpd.GeoDataFrame(attrs, geometry=geoms)
    return out.rename_geometry(geom_col) if geom_col != "geometry" else out


def _read_polygons(buurten: gpd.GeoDataFrame, path: Path, gemeentecode: str) -> None:
    """Decode the polygons of one gemeente into ``buurten`` (from :func:`_read_attributes`),
    reading only its rows of ``path`` (a pyarrow filter on ``gemeentecode``)."""
    import pyarrow.parquet as pq
    import shapely

    geom_col = buurten.geometry.name
    mine = (buurten["gemeentecode"].astype(str) == gemeentecode).to_numpy()
    if not mine.any() or buurten.geometry.notna().any():
        return
    part = pq.read_table(path, columns=["buurtcode", geom_col],
                         filters=[("gemeentecode", "==", gemeentecode)])
    by_code = dict(zip(part.column("buurtcode").to_pylist(), part.column(geom_col).to_pylist(),
                       strict=True))
    wkb = [by_code.get(c) for c in buurten.loc[mine, "buurtcode"].astype(str)]
    geoms = np.full(len(buurten), None, dtype=object)
    geoms[mine] = shapely.from_wkb(np.asarray(wkb, dtype=object))
    buurten[geom_col] = gpd.GeoSeries(geoms, index=buurten.index, crs=buurten.crs)


def _geo_column(path: Path) -> tuple[str, dict[str, Any], list[str]]:
    """Primary geometry column, its GeoParquet metadata and all column names of a file."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    geo = json.loads((schema.metadata or {}).get(b"geo", b"{}") or b"{}")
    geom_col = geo.get("primary_column", "geometry")
    return geom_col, geo, list(schema.names)


def take_build_snapshot(processed_dir: str | Path) -> dict[str, list[int]]:
    """Size and modification time of the files of a build that a report reads."""
    folder = Path(processed_dir)
    out = {}
    for name in ("manifest.json", "buurten.parquet", "analyse_buurten.parquet"):
        with contextlib.suppress(OSError):
            st = (folder / name).stat()
            out[name] = [st.st_size, st.st_mtime_ns]
    return out


def check_build_snapshot(processed_dir: str | Path,
                         snapshot: dict[str, list[int]] | None) -> None:
    """Raise :class:`InputError` when the build changed since ``snapshot`` was taken.

    A build that publishes into the folder while its reports are being made would give
    reports from two different builds in one run; a worker checks before it reads anything.
    """
    if snapshot is None:
        return
    now = take_build_snapshot(processed_dir)
    if now != snapshot:
        changed = sorted(set(now) ^ set(snapshot) | {n for n in now
                                                      if now[n] != snapshot.get(n)})
        raise InputError(f"the build changed while its reports were being made "
                         f"({', '.join(changed)} replaced by a new build); render the reports "
                         f"again", path=processed_dir)


def make_json_safe(value: Any) -> Any:
    """Convert numpy scalars and NaN to plain JSON values."""
    if isinstance(value, dict):
        return {str(k): make_json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [make_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if value is pd.NA or value is None:
        return None
    return value


def as_numeric(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def _sum(frame: pd.DataFrame, col: str) -> float:
    return float(as_numeric(frame, col).sum(min_count=1))


def _weighted_mean(frame: pd.DataFrame, col: str, *gewichten: str) -> float:
    """Weighted mean of ``col`` over rows where it is known, by the first weight column that
    has values (unweighted when none has)."""
    x = as_numeric(frame, col)
    for w_col in gewichten:
        w = as_numeric(frame, w_col)
        ok = x.notna() & w.notna() & (w > 0)
        if ok.any():
            return float((x[ok] * w[ok]).sum() / w[ok].sum())
    return float(x.mean()) if x.notna().any() else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b and math.isfinite(a) and math.isfinite(b) and b > 0 else float("nan")


def candidates_of(run: Run, code: str | None = None, *,
                  alle: bool = False) -> pd.DataFrame | None:
    """Proeftuin candidates of gemeente ``code`` (all when None), in rank order.

    By default only the candidates at the gemeente's primary level (``primair``); ``alle``
    also gives the other level and the ``geen_kandidaat`` rows. Returns None when the build
    has no classification (``--no-analyse``).
    """
    p = run.read_table("proeftuinen")
    if p is None:
        return None
    if code is not None:
        p = p[p["gemeentecode"].astype(str) == code]
    if not alle:
        for col in ("primair", "geen_kandidaat"):
            if col in p.columns:
                flag = p[col].astype(str).str.lower().isin(["true", "1"])
                p = p[flag] if col == "primair" else p[~flag]
    sort = [c for c in ("gemeentecode", "rang") if c in p.columns]
    return p.sort_values(sort, kind="mergesort").reset_index(drop=True) if sort else p


def candidate_buurten(run: Run, code: str | None = None) -> pd.DataFrame:
    """One row per buurt of a candidate: ``buurtcode``, ``rang``, ``naam``, ``reden``.

    Candidates at wijk or woonplaats level cover several buurten (``buurtcodes``).
    """
    k = candidates_of(run, code)
    cols = ["buurtcode", "rang", "naam", "reden"]
    if k is None or k.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for r in k.to_dict("records"):
        codes = str(r.get("buurtcodes") or r.get("eenheid_code") or r.get("buurtcode") or "")
        for bc in [c.strip() for c in codes.split(",") if c.strip()]:
            rows.append({"buurtcode": bc, "rang": r.get("rang"),
                         "naam": r.get("eenheid_naam") or r.get("buurtnaam"),
                         "reden": r.get("reden")})
    return pd.DataFrame(rows, columns=cols).drop_duplicates("buurtcode")


def villages_of(run: Run, code: str | None = None) -> pd.DataFrame | None:
    """The villages (``woonplaatsen.csv``) of gemeente ``code`` (all when None), with the
    ``rang`` and ``reden`` of those that are proeftuin candidates at the gemeente's primary
    level; None when the build has no located villages. Input for the map's village layer
    (:func:`woonvoorraad.report.maps.map_from_buurten`)."""
    w = run.read_table("woonplaatsen")
    if w is None or "x_rd" not in w.columns:
        return None
    if code is not None:
        w = w[w["gemeentecode"].astype(str) == code]
    w = w.drop(columns=["rang", "reden"], errors="ignore")
    k = candidates_of(run, code)
    if k is not None and "niveau" in k.columns:
        k = k[k["niveau"].astype(str) == "woonplaats"]
        k = k.assign(woonplaats=k["eenheid_code"].astype(str))[
            ["gemeentecode", "woonplaats", "rang", "reden"]]
        w = w.merge(k.drop_duplicates(["gemeentecode", "woonplaats"]),
                    on=["gemeentecode", "woonplaats"], how="left")
    return w.reset_index(drop=True)


def gemeente_summary(run: Run, code: str | None = None) -> dict[str, Any]:
    """Key figures of gemeente ``code``, or of the whole build when ``code`` is None.

    Counts are sums over the buurten; shares of dwellings are ratios of sums; CBS averages
    are weighted (WOZ and tenure by dwellings, age and income by residents, low incomes by
    households). A figure no buurt has is NaN.

    Parameters
    ----------
    run
        The build (:func:`load_run`).
    code
        Gemeentecode, or None for all gemeenten of the build.

    Returns
    -------
    dict
        ``gemeentecode``, ``gemeentenaam``, ``n_buurten``, ``n_woningen``, ``n_naoorlogs``,
        ``aandeel_naoorlogs``, ``n_doelgroep`` with ``_laag`` / ``_hoog`` (the range of the
        total from ``manifest["doelgroep"]``, else the sum of the buurten's ranges),
        ``n_goedkoop_koop`` (and its range), ``aandeel_doelgroep``,
        ``n_buurten_doelgroep_onbekend``, ``n_label_geregistreerd``, ``label_dekking``,
        ``n_label_efg``, ``aandeel_label_efg`` (expected share where the build has the
        label model's ``n_label_efg_verwacht``), ``n_label_efg_verwacht``,
        ``n_label_efg_verwacht_naoorlogs``, ``aandeel_label_efg_verwacht_naoorlogs``,
        ``aandeel_label_geschat``, ``aantal_inwoners``, ``aandeel_65plus``,
        ``woz_gemiddeld``, ``aandeel_koop``, ``inkomen_per_inwoner``, ``aandeel_laag_inkomen``,
        ``n_kandidaten`` (None without classification), ``n_kandidaten_voorlopig`` (chosen
        without a known target group), the cost figures of ``kosten_gemeente.csv``
        (``n_onder_b_verwacht``, ``investering_naar_b_laag``/``_hoog``,
        ``investering_naar_c``, ``investering_efg_naar_*``, also ``..._naoorlogs``; an older
        build has only the E/F/G ones and ``kosten_alleen_efg`` True); ``n_efg_verwacht`` is
        None without classification.
    """
    b = run.select_buurten(code)
    if code is not None and b.empty:
        run.gemeentenaam(code)  # raises with the list of gemeenten
    n_won = _sum(b, "n_woningen")
    n_no = _sum(b, "n_naoorlogs")
    doel = as_numeric(b, "n_doelgroep")
    n_doel = float(doel.sum(min_count=1))
    won_doel = float(as_numeric(b, "n_woningen")[doel.notna()].sum())
    out: dict[str, Any] = {
        "gemeentecode": code,
        "gemeentenaam": run.gemeentenaam(code) if code is not None else None,
        "n_buurten": len(b),
        "n_woningen": n_won,
        "n_naoorlogs": n_no,
        "aandeel_naoorlogs": _ratio(n_no, n_won),
        "n_doelgroep": n_doel,
        "n_doelgroep_laag": float(as_numeric(b, "n_doelgroep_laag").sum(min_count=1)),
        "n_doelgroep_hoog": float(as_numeric(b, "n_doelgroep_hoog").sum(min_count=1)),
        "n_goedkoop_koop": float(as_numeric(b, "n_goedkoop_koop").sum(min_count=1)),
        "n_goedkoop_koop_laag": float(as_numeric(b, "n_goedkoop_koop_laag").sum(min_count=1)),
        "n_goedkoop_koop_hoog": float(as_numeric(b, "n_goedkoop_koop_hoog").sum(min_count=1)),
        "aandeel_doelgroep": _ratio(n_doel, won_doel),
        "n_buurten_doelgroep_onbekend": int(doel.isna().sum()),
        "n_label_geregistreerd": _sum(b, "n_label_geregistreerd"),
        "label_dekking": _ratio(_sum(b, "n_label_geregistreerd"), n_won),
        "n_label_efg": _sum(b, "n_label_efg"),
        "aandeel_label_efg": _ratio(_sum(b, "n_label_efg"), n_won),
        "n_label_efg_verwacht": float("nan"),
        "n_label_efg_verwacht_naoorlogs": float("nan"),
        "aandeel_label_efg_verwacht_naoorlogs": float("nan"),
        "aandeel_label_geschat": _ratio(n_won - _sum(b, "n_label_geregistreerd"), n_won),
        "aantal_inwoners": _sum(b, "aantal_inwoners"),
        "aandeel_65plus": _weighted_mean(b, "aandeel_65plus", "aantal_inwoners", "n_woningen"),
        "woz_gemiddeld": _weighted_mean(b, "woz_gemiddeld", "woningvoorraad_cbs", "n_woningen"),
        "aandeel_koop": _weighted_mean(b, "aandeel_koop", "woningvoorraad_cbs", "n_woningen"),
        "inkomen_per_inwoner": _weighted_mean(b, "inkomen_per_inwoner", "aantal_inwoners",
                                        "n_woningen"),
        "aandeel_laag_inkomen": _weighted_mean(b, "aandeel_laag_inkomen", "aantal_huishoudens",
                                         "n_woningen"),
        "n_kandidaten": None,
        "n_efg_verwacht": None,
        "kosten_alleen_efg": False,
    }
    # the range of a total: over the assumption combinations applied to every buurt at once
    # (manifest["doelgroep"]); the sum of the buurten's ranges is wider and the fallback
    dg = run.manifest.get("doelgroep") or {}
    totaal = (dg.get("per_gemeente") or {}).get(code) if code is not None else dg.get("totaal")
    if isinstance(totaal, dict):
        for key in ("n_doelgroep_laag", "n_doelgroep_hoog", "n_goedkoop_koop_laag",
                    "n_goedkoop_koop_hoog"):
            if totaal.get(key) is not None:
                out[key] = float(totaal[key])
    if "n_label_efg_verwacht" in b.columns:  # a build with the label model's expectations
        n_efg = _sum(b, "n_label_efg_verwacht")
        n_efg_no = _sum(b, "n_label_efg_verwacht_naoorlogs")
        out.update({"n_label_efg_verwacht": n_efg, "aandeel_label_efg": _ratio(n_efg, n_won),
                    "n_label_efg_verwacht_naoorlogs": n_efg_no,
                    "aandeel_label_efg_verwacht_naoorlogs": _ratio(n_efg_no, n_no)})
    k = candidates_of(run, code)
    if k is not None:
        out["n_kandidaten"] = len(k)
        out["n_kandidaten_voorlopig"] = (int(k["voorlopig"].astype(str).str.lower()
                                            .isin(["true", "1"]).sum())
                                        if "voorlopig" in k.columns else 0)
    kg = run.read_table("kosten_gemeente")
    if kg is not None:
        sel = kg if code is None else kg[kg["gemeentecode"].astype(str) == code]
        if "investering_naar_b_laag" not in sel.columns:  # older build: E/F/G only
            sel = sel.rename(columns=_KOSTEN_OUD)
            out["kosten_alleen_efg"] = True
        for col in (*_KOSTEN_SOM, "n_onder_b_zonder_kentallen"):
            out[col] = _sum(sel, col) if col in sel.columns else float("nan")
    return out


#: Cost columns of builds before the label model (E/F/G only) → their current names.
_KOSTEN_OUD = {"n_efg": "n_efg_verwacht", "kosten_b_min": "investering_efg_naar_b_laag",
               "kosten_b_max": "investering_efg_naar_b_hoog",
               "kosten_c_min": "investering_efg_naar_c",
               "n_efg_naoorlogs": "n_efg_verwacht_naoorlogs",
               "kosten_b_min_naoorlogs": "investering_efg_naar_b_laag_naoorlogs",
               "kosten_b_max_naoorlogs": "investering_efg_naar_b_hoog_naoorlogs"}
#: Cost figures of a gemeente (sums over its buurten in ``kosten_gemeente.csv``).
_KOSTEN_SOM = tuple(
    f"{c}{s}" for s in ("", "_naoorlogs") for c in (
        "n_onder_b_verwacht", "n_onder_c_verwacht", "n_efg_verwacht",
        "investering_naar_b_laag", "investering_naar_b_hoog", "investering_naar_c",
        "investering_efg_naar_b_laag", "investering_efg_naar_b_hoog",
        "investering_efg_naar_c"))
