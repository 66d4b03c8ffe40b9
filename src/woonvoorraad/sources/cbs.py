"""Readers for CBS neighbourhood data: the wijk- en buurtkaart and the Kerncijfers.

CBS publishes the same key figures under different names per channel and vintage: snake_case
in the wijk- en buurtkaart GeoPackage and the PDOK OGC API, camelCase in the PDOK WFS,
upper-case abbreviations (``BU_CODE``, ``AANT_INW``) in vintages up to 2020, short codes in the
KWB spreadsheet (``a_inw``, ``g_woz``) and year-suffixed keys in OData. :data:`CBS_FIELDS`
maps all of them onto one canonical name in canonical units (fractions, euro).

Every value at or below ``-99990`` is a CBS missing-value code (``-99997`` secret or absent,
``-99995`` published later, ``-99991`` no longer published, ``-99999999`` in older vintages)
and becomes NaN — never a number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from woonvoorraad import _validate
from woonvoorraad.errors import InputError, MissingColumnError

logger = logging.getLogger(__name__)

#: Identification columns: canonical name -> accepted source names.
ID_FIELDS: dict[str, tuple[str, ...]] = {
    "buurtcode": ("buurtcode", "BU_CODE", "bu_code", "gwb_code_10"),
    "buurtnaam": ("buurtnaam", "BU_NAAM", "bu_naam", "regio"),
    "wijkcode": ("wijkcode", "WK_CODE", "wk_code"),
    "wijknaam": ("wijknaam", "WK_NAAM", "wk_naam"),
    "gemeentecode": ("gemeentecode", "GM_CODE", "gm_code"),
    "gemeentenaam": ("gemeentenaam", "GM_NAAM", "gm_naam"),
    "water": ("water", "WATER"),
    "jaar": ("jaar", "JAAR"),
}

@dataclass(frozen=True)
class Statistic:
    """Where one canonical CBS statistic is published, in every channel.

    Attributes
    ----------
    columns
        ``(column name, factor to canonical units)`` in the wijk- en buurtkaart GeoPackages,
        the PDOK OGC API and WFS, old vintages and the KWB spreadsheet, in order of preference.
    odata_stems
        Key stems of the OData Kerncijfers tables (the yearly suffix ``_5`` stripped), in order
        of preference; the unit comes from ``DataProperties.Unit``. Empty: not fetched from
        OData (``aandeel_65plus`` is derived from the counts there).
    """

    columns: tuple[tuple[str, float], ...]
    odata_stems: tuple[str, ...] = ()


#: Statistics: canonical name -> where each channel publishes it, one table for all readers
#: and for :mod:`woonvoorraad.sources.odata`.
CBS_FIELDS: dict[str, Statistic] = {
    "aantal_inwoners": Statistic(
        columns=(("aantal_inwoners", 1), ("aantalInwoners", 1), ("AANT_INW", 1), ("a_inw", 1)),
        odata_stems=("AantalInwoners",)),
    "aandeel_65plus": Statistic(
        columns=(("percentage_personen_65_jaar_en_ouder", 0.01),
                 ("percentagePersonen65JaarEnOuder", 0.01), ("P_65_EO_JR", 0.01),
                 ("p_65_oo", 0.01))),
    "aantal_65plus": Statistic(
        columns=(("aantal_65plus", 1), ("a_65_oo", 1)),
        odata_stems=("k_65JaarOfOuder",)),
    "aantal_huishoudens": Statistic(
        columns=(("aantal_huishoudens", 1), ("aantalHuishoudens", 1), ("AANTAL_HH", 1),
                 ("a_hh", 1)),
        odata_stems=("HuishoudensTotaal",)),
    "gemiddelde_huishoudsgrootte": Statistic(
        columns=(("gemiddelde_huishoudsgrootte", 1), ("gemiddeldeHuishoudsgrootte", 1),
                 ("GEM_HH_GR", 1), ("g_hhgro", 1)),
        odata_stems=("GemiddeldeHuishoudensgrootte",)),
    "woningvoorraad": Statistic(
        columns=(("woningvoorraad", 1), ("WONINGEN", 1), ("a_woning", 1)),
        odata_stems=("Woningvoorraad",)),
    "woz_gemiddeld": Statistic(
        columns=(("gemiddelde_woningwaarde", 1000), ("gemiddeldeWoningwaarde", 1000), ("WOZ", 1000),
                 ("g_woz", 1000), ("g_wozbag", 1000)),
        odata_stems=("GemiddeldeWOZWaardeVanWoningen", "GemiddeldeWoningwaarde")),
    "aandeel_eengezins": Statistic(
        columns=(("percentage_eengezinswoning", 0.01), ("percentageEengezinswoning", 0.01),
                 ("P_1GEZW", 0.01), ("p_1gezw", 0.01)),
        odata_stems=("PercentageEengezinswoning",)),
    "aandeel_koop": Statistic(
        columns=(("percentage_koopwoningen", 0.01), ("percentageKoopwoningen", 0.01),
                 ("P_KOOPWON", 0.01), ("p_koopw", 0.01)),
        odata_stems=("Koopwoningen", "PercentageKoopwoningen")),
    "aandeel_huur": Statistic(
        columns=(("percentage_huurwoningen", 0.01), ("percentageHuurwoningen", 0.01),
                 ("P_HUURWON", 0.01), ("p_huurw", 0.01)),
        odata_stems=("HuurwoningenTotaal", "PercentageHuurwoningen")),
    "aandeel_corporatie": Statistic(
        columns=(("perc_huurwoningen_in_bezit_woningcorporaties", 0.01),
                 ("percHuurwoningenInBezitWoningcorporaties", 0.01), ("p_wcorpw", 0.01)),
        odata_stems=("InBezitWoningcorporatie",)),
    "gasverbruik_gemiddeld": Statistic(
        columns=(("gemiddeld_gasverbruik_totaal", 1), ("gemiddeld_aardgasverbruik", 1),
                 ("gemiddeldGasverbruikTotaal", 1), ("G_GAS_TOT", 1), ("g_gas", 1)),
        odata_stems=("GemiddeldAardgasverbruikTotaal", "GemiddeldAardgasverbruik")),
    "inkomen_per_inwoner": Statistic(
        columns=(("gemiddeld_inkomen_per_inwoner", 1000), ("gemiddeldInkomenPerInwoner", 1000),
                 ("INK_INW", 1000), ("g_ink_pi", 1000)),
        odata_stems=("GemiddeldInkomenPerInwoner",)),
    "aandeel_laag_inkomen": Statistic(
        columns=(("percentage_huishoudens_met_laag_inkomen", 0.01),
                 ("percentageHuishoudensMetLaagInkomen", 0.01), ("p_hh_li", 0.01)),
        odata_stems=("HuishoudensMetEenLaagInkomen", "HuishoudensMetLaagInkomen")),
    "aandeel_sociaal_minimum": Statistic(
        columns=(("percentage_huishoudens_onder_of_rond_sociaal_minimum", 0.01),
                 ("p_hh_osm", 0.01)),
        odata_stems=("HuishOnderOfRondSociaalMinimum", "HuishoudensOnderOfRondSociaalMinimum")),
}

STATISTICS: tuple[str, ...] = tuple(CBS_FIELDS)

#: Units of the canonical statistics, for reports.
UNITS = {name: ("fractie" if name.startswith("aandeel_") else "euro"
                if name in ("woz_gemiddeld", "inkomen_per_inwoner") else "m3"
                if name == "gasverbruik_gemiddeld" else "aantal") for name in STATISTICS}


@dataclass
class CBSRead:
    """Bookkeeping of one CBS read: which statistics were found and which were not."""

    path: Path
    year: int | None
    found: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    sentinels: dict[str, int] = field(default_factory=dict)


def mask_sentinels(df: pd.DataFrame, *, columns: Iterable[str] | None = None,
                   source: str = "") -> dict[str, int]:
    """Replace CBS missing-value codes (values ``<= -99990``) by NaN, in place.

    Parameters
    ----------
    df
        Table to clean.
    columns
        Numeric columns to check (default: all numeric columns).
    source
        File name for the log line.

    Returns
    -------
    dict
        Number of codes replaced per column (only columns that had any).

    Examples
    --------
    >>> t = pd.DataFrame({"woz": [250, -99997, -99995], "n": [1, 2, 3]})
    >>> mask_sentinels(t)
    {'woz': 2}
    >>> t["woz"].tolist()
    [250.0, nan, nan]
    """
    counts: dict[str, int] = {}
    cols = list(columns) if columns is not None else list(df.select_dtypes("number").columns)
    for col in cols:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values <= _validate.CBS_MISSING_MAX
        if bad.any():
            counts[col] = int(bad.sum())
            df[col] = values.astype(float).mask(bad)
    if counts:
        logger.info("%s: CBS missing-value codes set to NaN: %s", source or "CBS table", counts)
    return counts


def _year_from(df: pd.DataFrame, path: Path, *, column: str = "jaar") -> int | None:
    """The year of a CBS table: its ``jaar`` column when that holds one year, else the year
    in the file name (None if neither).

    ``jaar`` values at or below :data:`woonvoorraad._validate.CBS_MISSING_MAX` are CBS
    missing-value codes (``-99997``), not years: they count as missing, with a warning.
    """
    year: int | None = None
    if "jaar" in df.columns:
        values = pd.to_numeric(df["jaar"], errors="coerce")
        sentinel = values <= _validate.CBS_MISSING_MAX
        values = values.mask(sentinel)
        years = values.dropna().unique()
        if len(years) == 1:
            year = int(years[0])
        if sentinel.any():
            codes = ", ".join(f"{v:g}" for v in pd.unique(
                pd.to_numeric(df["jaar"], errors="coerce")[sentinel])[:3])
            fallback = _year_in_name(path) if year is None else None
            source = (f"the other rows give {year}" if year is not None else
                      f"the year {fallback} comes from the file name" if fallback is not None
                      else "the year is unknown (no year in the file name either)")
            logger.warning("%s: column %r holds the CBS missing-value code %s in %d of %d "
                           "row(s), not a year; treated as missing: %s", path.name, column,
                           codes, int(sentinel.sum()), len(df), source)
        if year is not None:
            return year
    return _year_in_name(path)


def _year_in_name(path: Path) -> int | None:
    match = re.search(r"(19|20)\d{2}", path.stem)
    return int(match.group(0)) if match else None


def _canonical_statistics(raw: pd.DataFrame, result: CBSRead) -> pd.DataFrame:
    """Map source columns onto canonical statistics, in canonical units."""
    out = pd.DataFrame(index=raw.index)
    for name, statistic in CBS_FIELDS.items():
        for source, factor in statistic.columns:
            if source in raw.columns and factor is not None:
                values = pd.to_numeric(raw[source], errors="coerce").astype(float)
                out[name] = values * factor
                result.found[name] = source
                break
        else:
            out[name] = np.nan
    if ("aandeel_65plus" not in result.found and "aantal_65plus" in result.found
            and "aantal_inwoners" in result.found):
        with np.errstate(divide="ignore", invalid="ignore"):
            out["aandeel_65plus"] = out["aantal_65plus"] / out["aantal_inwoners"].where(
                out["aantal_inwoners"] > 0)
        result.found["aandeel_65plus"] = "aantal_65plus / aantal_inwoners"
    result.missing = [n for n in STATISTICS if n not in result.found]
    return out


def _normalise_codes(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().astype(object)


def read_buurten(
    path: str | Path,
    *,
    layer: str = "buurten",
    gemeenten: Sequence[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    read_geometry: bool = True,
) -> tuple[gpd.GeoDataFrame, CBSRead]:
    """Read the buurten of a CBS wijk- en buurtkaart GeoPackage into the canonical schema.

    Parameters
    ----------
    path
        The GeoPackage (``wijkenbuurten_YYYY.gpkg`` or the CBS ``WijkBuurtkaart`` file).
    layer
        Layer to read (``buurten``; ``wijken``/``gemeenten`` work for their own codes).
    gemeenten
        Keep only these gemeentecodes (``GM0114``); default all.
    bbox
        Read only features intersecting this EPSG:28992 box.
    read_geometry
        Read the polygons (needed for the point-in-polygon step).

    Returns
    -------
    tuple
        The buurten (identification columns, every statistic in :data:`CBS_FIELDS` — NaN where
        the file lacks it — and ``jaar``) and a :class:`CBSRead` that says which statistics
        were missing and how many missing-value codes were replaced.
    """
    p = _validate.check_file(path)
    info = _validate.layer_info(p, layer, what="CBS buurten")
    if read_geometry:
        _validate.require_rd_new(info["crs"], path=p, layer=layer)
    fields = list(info["fields"])
    ids = {canon: next((s for s in sources if s in fields), None)
           for canon, sources in ID_FIELDS.items()}
    required = ["buurtcode", "buurtnaam", "gemeentecode"] if layer == "buurten" else []
    missing_ids = [c for c in required if ids[c] is None]
    if missing_ids:
        raise MissingColumnError(
            f"layer {layer!r} lacks required column(s) {', '.join(map(repr, missing_ids))} "
            f"(accepted spellings: {', '.join('/'.join(ID_FIELDS[c]) for c in missing_ids)}); "
            f"columns present: {', '.join(sorted(fields))}",
            path=p,
        )
    stat_sources = {s for stat in CBS_FIELDS.values() for s, _ in stat.columns}
    columns = [c for c in fields if c in stat_sources or c in ids.values()]
    where = None
    if gemeenten and ids["gemeentecode"]:
        codes = ",".join(f"'{c}'" for c in _as_gm_codes(gemeenten))
        where = f"\"{ids['gemeentecode']}\" IN ({codes})"
    with _validate.gdal_errors(p, layer=layer):
        raw = pyogrio.read_dataframe(p, layer=layer, columns=columns, bbox=bbox, where=where,
                                     read_geometry=read_geometry, use_arrow=True)
    _validate.require_rows(len(raw), path=p, layer=layer, what="CBS buurten")
    # text columns (decimal commas, "geheim") become numbers, with a warning per column
    _validate.parse_numbers(raw, [c for c in columns if c in stat_sources], path=p, layer=layer)
    result = CBSRead(path=p, year=None)
    result.sentinels = mask_sentinels(raw, columns=[c for c in columns if c in stat_sources
                                                    and c in raw.columns], source=p.name)
    result.year = _year_from(raw.rename(columns={ids["jaar"]: "jaar"}) if ids["jaar"] else raw, p,
                             column=ids["jaar"] or "jaar")
    out = pd.DataFrame(index=raw.index)
    for canon, src in ids.items():
        if canon == "jaar":
            continue
        out[canon] = _normalise_codes(raw[src]) if src else None
    if out["wijkcode"].isna().all() and layer == "buurten":
        # CBS buurtcode = BU + gemeente (4) + wijk (2) + buurt (2)
        out["wijkcode"] = "WK" + out["buurtcode"].str[2:8]
    stats = _canonical_statistics(raw, result)
    _validate.check_statistics(stats, path=p, layer=layer)
    out = pd.concat([out, stats], axis=1)
    out["jaar"] = result.year
    if read_geometry:
        out = gpd.GeoDataFrame(out, geometry=raw.geometry.values, crs=raw.crs)
    if layer == "buurten":
        _validate.check_codes(out, "buurtcode", prefix="BU", path=p, layer=layer)
    if read_geometry:
        out = _validate.check_geometries(out, path=p, layer=layer, kind="polygon",
                                         id_column="buurtcode")
    dup = out["buurtcode"].duplicated()
    if dup.any():
        raise InputError(
            f"layer {layer!r} has duplicate buurtcodes: "
            f"{', '.join(out.loc[dup, 'buurtcode'].astype(str).unique()[:5])}", path=p)
    if result.missing:
        logger.info("%s: statistics not in this file: %s", p.name, ", ".join(result.missing))
    logger.info("read %d buurten from %s (year %s)", len(out), p.name, result.year)
    return out.reset_index(drop=True), result


def _as_gm_codes(codes: Iterable[str]) -> list[str]:
    out = []
    for c in codes:
        digits = re.sub(r"\D", "", str(c))
        out.append(f"GM{int(digits):04d}" if digits else str(c))
    return out


def read_statistics(path: str | Path, *, gemeenten: Sequence[str] | None = None) -> pd.DataFrame:
    """Read CBS statistics of one or more years into a long-by-year wide table.

    Accepts a wijk- en buurtkaart GeoPackage (its ``buurten`` layer, any vintage) or a
    Kerncijfers table as written by ``woonvoorraad fetch`` (``kerncijfers.parquet``, or CSV
    with the same columns: ``jaar``, ``regiocode``, canonical statistics).

    Returns
    -------
    pandas.DataFrame
        ``jaar``, ``regiocode`` and the canonical statistics, buurten only.
    """
    p = _validate.check_file(path)
    suffix = p.suffix.lower()
    if suffix == ".gpkg":
        gdf, res = read_buurten(p, gemeenten=gemeenten, read_geometry=False)
        if res.year is None:
            raise InputError("cannot tell the year of these statistics: no 'jaar' column "
                             "and no year in the file name", path=p)
        table = pd.DataFrame(gdf.drop(columns=["geometry"], errors="ignore"))
        table = table.rename(columns={"buurtcode": "regiocode"})
        return table[["jaar", "regiocode", *STATISTICS]]
    if suffix in (".parquet", ".pq"):
        table = pd.read_parquet(p)
    elif suffix in (".csv", ".txt"):
        table = _validate.read_csv_table(p, what="CBS statistics table")
    else:
        raise InputError("unsupported CBS statistics file: expected .gpkg, .parquet or .csv",
                         path=p)
    _validate.require_columns(table.columns, ["jaar", "regiocode"], path=p)
    table["regiocode"] = _normalise_codes(table["regiocode"])
    if "soort_regio" in table.columns:
        table = table.loc[table["soort_regio"].astype(str).str.strip() == "Buurt"]
    else:
        table = table.loc[table["regiocode"].astype(str).str.startswith("BU")]
    present = [c for c in STATISTICS if c in table.columns]
    if not present:
        raise MissingColumnError(
            f"has none of the canonical statistics ({', '.join(STATISTICS)})", path=p)
    _validate.parse_numbers(table, present, path=p)
    table["jaar"] = _validate.check_years(table["jaar"], path=p)
    mask_sentinels(table, columns=present, source=p.name)
    _validate.check_statistics(table, path=p, fractions=True)
    _validate.check_unique(table, ["regiocode", "jaar"], path=p)
    for col in STATISTICS:
        if col not in table.columns:
            table[col] = np.nan
    return table[["jaar", "regiocode", *STATISTICS]].reset_index(drop=True)


def trends(
    statistics: pd.DataFrame, buurtcodes: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-buurt trends in population, households and the 65+ share.

    Parameters
    ----------
    statistics
        Output of :func:`read_statistics` for several years (concatenated).
    buurtcodes
        The buurten of the analysis (latest boundaries).

    Returns
    -------
    tuple
        A frame indexed by buurtcode with ``trend_inwoners`` and ``trend_huishoudens``
        (compound relative change per year), ``trend_65plus`` (change of the share per year,
        fraction points) and ``trend_jaren``; and a report of buurtcodes without history
        (new or re-coded buurten) and codes that disappeared.
    """
    idx = pd.Index(list(buurtcodes), name="buurtcode")
    out = pd.DataFrame(index=idx, columns=["trend_inwoners", "trend_huishoudens",
                                           "trend_65plus", "trend_jaren"], dtype=object)
    for c in ("trend_inwoners", "trend_huishoudens", "trend_65plus"):
        out[c] = np.nan
    report: dict[str, Any] = {"years": sorted(int(y) for y in statistics["jaar"].dropna().unique())}
    if len(report["years"]) < 2:
        report["reason"] = "statistics of fewer than two years"
        return out, report
    stats = statistics.dropna(subset=["jaar"]).drop_duplicates(["regiocode", "jaar"], keep="last")
    first_year, last_year = report["years"][0], report["years"][-1]
    known_last = set(stats.loc[stats["jaar"] == last_year, "regiocode"])
    known_first = set(stats.loc[stats["jaar"] == first_year, "regiocode"])
    report["without_history"] = sorted(set(idx) - known_first)
    report["disappeared"] = sorted(known_first - known_last)

    def per_year_change(col: str, relative: bool) -> np.ndarray:
        wide = stats.pivot(index="regiocode", columns="jaar", values=col).reindex(idx)
        values = wide.to_numpy(dtype=float)
        years = wide.columns.to_numpy(dtype=float)
        valid = ~np.isnan(values)
        n_valid = valid.sum(axis=1)
        first = valid.argmax(axis=1)
        last = values.shape[1] - 1 - valid[:, ::-1].argmax(axis=1)
        rows = np.arange(len(values))
        v0, v1 = values[rows, first], values[rows, last]
        span = years[last] - years[first]
        with np.errstate(divide="ignore", invalid="ignore"):
            change = (np.power(v1 / v0, 1 / span) - 1) if relative else (v1 - v0) / span
        ok = (n_valid >= 2) & (span > 0) & ((v0 > 0) if relative else True)
        return np.where(ok, change, np.nan)

    out["trend_inwoners"] = per_year_change("aantal_inwoners", True)
    out["trend_huishoudens"] = per_year_change("aantal_huishoudens", True)
    out["trend_65plus"] = per_year_change("aandeel_65plus", False)
    has = out[["trend_inwoners", "trend_huishoudens", "trend_65plus"]].notna().any(axis=1)
    out["trend_jaren"] = np.where(has, f"{first_year}-{last_year}", None)
    if report["without_history"]:
        logger.warning("%d buurten have no figures in %d (new or re-coded): %s",
                       len(report["without_history"]), first_year,
                       ", ".join(report["without_history"][:10]))
    if report["disappeared"]:
        logger.warning("%d buurtcodes of %d no longer exist in %d: %s",
                       len(report["disappeared"]), first_year, last_year,
                       ", ".join(report["disappeared"][:10]))
    return out, report


def fill_from_other_years(
    buurten: pd.DataFrame, statistics: pd.DataFrame, *, year: int | None
) -> tuple[pd.DataFrame, dict[str, dict[int, int]]]:
    """Fill statistics the latest boundary file lacks from the most recent year that has them.

    CBS publishes some key figures later than others (income arrives about two years after the
    population figures; a first release carries ``-99995``). Where a buurt's statistic is NaN
    in the buurten file, the most recent earlier year of ``statistics`` with a value for the
    same buurtcode is used. Every filled value is recorded: per buurt in ``cbs_aangevuld``
    (``"inkomen_per_inwoner:2022; ..."``) and in the returned report.

    Parameters
    ----------
    buurten
        Canonical buurten (:func:`read_buurten`).
    statistics
        Statistics of several years (:func:`read_statistics`, concatenated).
    year
        The year of ``buurten``; only earlier years are used (all years if unknown).

    Returns
    -------
    tuple
        The filled buurten (a copy) and ``{statistic: {year: number of buurten}}``.
    """
    out = buurten.copy()
    stats = statistics.dropna(subset=["jaar"])
    if year is not None:
        stats = stats.loc[stats["jaar"] < year]
    stats = stats.sort_values("jaar", kind="mergesort")
    filled = pd.Series("", index=out.index, dtype=object)
    report: dict[str, dict[int, int]] = {}
    codes = out["buurtcode"].astype(object)
    for stat in STATISTICS:
        if stat not in out.columns or stat not in stats.columns:
            continue
        need = out[stat].isna()
        if not need.any():
            continue
        latest = stats.dropna(subset=[stat]).drop_duplicates("regiocode", keep="last")
        latest = latest.set_index("regiocode")
        value = codes.map(latest[stat])
        source_year = codes.map(latest["jaar"])
        take = need & value.notna()
        if not take.any():
            continue
        out.loc[take, stat] = value[take].astype(float)
        filled[take] = filled[take] + f"{stat}:" + source_year[take].astype(int).astype(str) + "; "
        report[stat] = {int(y): int(n) for y, n in source_year[take].value_counts().items()}
        logger.warning("%s: %d buurten lack it in %s; filled from earlier years %s", stat,
                       int(take.sum()), year, report[stat])
    out["cbs_aangevuld"] = filled.str.rstrip("; ")
    return out, report
