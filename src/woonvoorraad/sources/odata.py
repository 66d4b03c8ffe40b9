"""CBS OData v3 (StatLine): the Kerncijfers wijken en buurten and the regional forecast.

:func:`fetch_kerncijfers` writes ``kerncijfers.parquet`` (one row per region and year,
canonical names and units; the statistics and their OData key stems are
:data:`woonvoorraad.sources.cbs.CBS_FIELDS`), :func:`fetch_forecast` writes
``prognose.parquet``. Two OData services are used: the catalogue API
(``settings.cbs_odata_url``: ``DataProperties`` and dimensions) and the feed
(``settings.cbs_odata_feed_url``: ``TypedDataSet``, paged).

What we know about the formats:

* **Kerncijfers** — CBS OData v3: ``<cbs_odata_url>/<table>/DataProperties`` (``value`` list of
  ``{"odata.type", "ID", "Key", "Title", "Type", "Unit", …}``; dimension types ``GeoDimension``
  / ``Dimension`` / ``TimeDimension``, measures ``Topic``) and
  ``<cbs_odata_feed_url>/<table>/TypedDataSet`` paged with ``odata.nextLink`` (high
  confidence). Column keys carry a yearly changing suffix (``AantalInwoners_5``) and are found
  here by their stem through ``DataProperties``; region codes and ``SoortRegio`` are padded
  (``"GM0114    "``) and stripped here; units come from ``DataProperties.Unit`` (``%`` →
  fraction, ``x 1 000 euro`` → euro).
* **Forecast** — PBL/CBS "Regionale prognose 2023-2050 … regio-indeling 2021":
  ``85173NED`` (bevolking, intervallen; dimensions ``RegioIndeling2021``, ``PrognoseInterval``
  ``MW00000``/``MOG0067``/``MBG0067``, ``Leeftijd`` total ``10000``, ``Perioden``; measure
  ``TotaleBevolking_1`` in × 1 000 — medium-high confidence: third-party code that states it
  was checked against the live API) and ``85172NED`` (huishoudens, intervallen; title and
  layout from the cbs.nl table page — medium confidence). CBS/PBL published an erratum in 2023
  saying the *detail* of the 2019 and 2022 regional forecasts (age groups, households) is not
  reliable and was removed from StatLine, while totals per gemeente remain: expect the
  household table to answer 404; that is recorded, not hidden. CBS announced a new regional
  forecast table for 2025 whose id we could not find; set :data:`FORECAST_TABLES` when known.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from woonvoorraad import _validate, settings
from woonvoorraad._io import atomic_path
from woonvoorraad.errors import DownloadError, HTTPStatusError
from woonvoorraad.sources import _http
from woonvoorraad.sources._fetchjob import LICENCES, SOURCES, FetchJob
from woonvoorraad.sources.cbs import CBS_FIELDS

logger = logging.getLogger(__name__)


#: First year of the Kerncijfers fetched for trends.
FIRST_TREND_YEAR = 2019


#: CBS Kerncijfers wijken en buurten table per year (OData v3). 2022-2024: official cbs.nl
#: table pages; 2019-2021 and 2025: third-party edition mappings (medium confidence).
KERNCIJFERS_TABLES: dict[int, str] = {
    2019: "84583NED",
    2020: "84799NED",
    2021: "85039NED",
    2022: "85318NED",
    2023: "85618NED",
    2024: "85984NED",
    2025: "86165NED",
}


#: PBL/CBS regional forecast tables (see the module docstring for the evidence).
FORECAST_TABLES: dict[str, str] = {"bevolking": "85173NED", "huishoudens": "85172NED"}


#: Columns of ``kerncijfers.parquet``, in order.
KERNCIJFERS_COLUMNS: tuple[str, ...] = (
    "jaar", "regiocode", "soort_regio", "regionaam", "gemeentenaam", "indelingswijziging",
    "aantal_inwoners", "aantal_65plus", "aandeel_65plus", "aantal_huishoudens",
    "gemiddelde_huishoudsgrootte", "woningvoorraad", "woz_gemiddeld", "aandeel_eengezins",
    "aandeel_koop", "aandeel_huur", "aandeel_corporatie", "gasverbruik_gemiddeld",
    "inkomen_per_inwoner", "aandeel_laag_inkomen", "aandeel_sociaal_minimum",
)


def _stem(key: str) -> str:
    return re.sub(r"_\d+$", "", str(key))


def find_unit_factor(unit: str | None, statistic: str = "") -> float:
    """Factor from a CBS ``DataProperties.Unit`` to canonical units (fractions, euro).

    Examples
    --------
    >>> find_unit_factor("%"), find_unit_factor("x 1 000 euro"), find_unit_factor("aantal")
    (0.01, 1000.0, 1.0)
    """
    text = (unit or "").strip().lower()
    if not text:
        if statistic.startswith("aandeel_"):
            return 0.01
        return 1000.0 if statistic in ("woz_gemiddeld", "inkomen_per_inwoner") else 1.0
    if "%" in text or "procent" in text:
        return 0.01
    if re.search(r"(x|×)\s*1[ .]?000(?!\s*000)", text):
        return 1000.0
    if re.search(r"(x|×)\s*1[ .]?000[ .]000", text):
        return 1_000_000.0
    return 1.0


def _check_value_list(page: Any) -> None:
    """Raise ValueError unless ``page`` is an OData answer with a ``value`` list."""
    if not isinstance(page, dict) or not isinstance(page.get("value"), list):
        raise ValueError("no 'value' list in the OData answer")


def _odata_values(url: str, params: Mapping[str, Any], ctx: FetchJob, desc: str) -> list[dict]:
    """Every item of the ``value`` lists of a paged OData answer (``odata.nextLink``)."""
    rows: list[dict[str, Any]] = []
    for page in _http.iter_pages(url, params=params, source=SOURCES["odata"],
                                 licence=LICENCES["cbs"].name,
                                 next_link=_http.find_next_link_odata, desc=desc,
                                 refresh=ctx.refresh, validate=_check_value_list,
                                 retry_errors=ctx.retry_errors):
        rows.extend(page["value"])  # checked by _check_value_list before it was cached
    return rows


def _odata_properties(table: str, ctx: FetchJob) -> list[dict[str, Any]]:
    return _odata_values(f"{settings.cbs_odata_url.rstrip('/')}/{table}/DataProperties",
                         {"$format": "json"}, ctx, desc=f"{table} DataProperties")


def _odata_rows(table: str, params: Mapping[str, Any], ctx: FetchJob, desc: str) -> list[dict]:
    return _odata_values(f"{settings.cbs_odata_feed_url.rstrip('/')}/{table}/TypedDataSet",
                         params, ctx, desc=desc)


def _odata_dimension(table: str, dimension: str, ctx: FetchJob,
                     flt: str | None = None) -> list[dict[str, Any]]:
    params = {"$format": "json"}
    if flt:
        params["$filter"] = flt
    return _odata_values(f"{settings.cbs_odata_url.rstrip('/')}/{table}/{dimension}", params,
                         ctx, desc=f"{table} {dimension}")


def _find_key(props: Sequence[Mapping[str, Any]], stems: Sequence[str], *,
              types: Sequence[str] = ("Topic",)) -> Mapping[str, Any] | None:
    by_stem: dict[str, list[Mapping[str, Any]]] = {}
    for p in props:
        if p.get("Type") in types and p.get("Key"):
            by_stem.setdefault(_stem(p["Key"]), []).append(p)
    for stem in stems:
        if stem in by_stem:
            return by_stem[stem][0]
    return None


def _number(value: Any) -> float:
    if value is None:
        return np.nan
    try:
        x = float(value)
    except (TypeError, ValueError):
        return np.nan
    return np.nan if x <= _validate.CBS_MISSING_MAX else x


def _strip(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _kerncijfers_year(ctx: FetchJob, year: int, table: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    nummer = ctx.gemeente.nummer
    props = _odata_properties(table, ctx)
    geo = _find_key(props, ("WijkenEnBuurten",), types=("GeoDimension", "Dimension"))
    if geo is None:
        geo = next((p for p in props if p.get("Type") == "GeoDimension"), None)
    if geo is None:
        raise DownloadError(f"{table}: DataProperties has no region dimension")
    geo_key = str(geo["Key"])
    id_keys = {
        "gemeentenaam": _find_key(props, ("Gemeentenaam",)),
        "soort_regio": _find_key(props, ("SoortRegio",)),
        "indelingswijziging": _find_key(props, ("IndelingswijzigingWijkenEnBuurten",
                                                "Indelingswijziging")),
    }
    stats = {name: _find_key(props, stat.odata_stems) for name, stat in CBS_FIELDS.items()
             if stat.odata_stems}
    prefixes = [f"BU{nummer}", f"WK{nummer}", f"GM{nummer}"]
    flt = " or ".join(f"startswith({geo_key},'{p}')" for p in prefixes)
    select = [geo_key] + [str(p["Key"]) for p in (*id_keys.values(), *stats.values()) if p]
    rows = _odata_rows(table, {"$format": "json", "$filter": flt, "$select": ",".join(select)},
                       ctx, desc=f"Kerncijfers {year} {ctx.gemeente.naam}")
    names = {}
    for item in _odata_dimension(table, geo_key, ctx,
                                 " or ".join(f"startswith(Key,'{p}')" for p in prefixes)):
        if _strip(item.get("Key")):
            names[_strip(item.get("Key"))] = _strip(item.get("Title"))
    records = []
    for row in rows:
        code = _strip(row.get(geo_key))
        if not code or not any(code.startswith(p) for p in prefixes):
            continue
        soort = _strip(row.get(id_keys["soort_regio"]["Key"])) if id_keys["soort_regio"] else None
        if soort is None:
            soort = {"BU": "Buurt", "WK": "Wijk", "GM": "Gemeente"}[code[:2]]
        rec: dict[str, Any] = {
            "jaar": year,
            "regiocode": code,
            "soort_regio": soort,
            "regionaam": names.get(code),
            "gemeentenaam": (_strip(row.get(id_keys["gemeentenaam"]["Key"]))
                             if id_keys["gemeentenaam"] else ctx.gemeente.naam),
            "indelingswijziging": (_strip(row.get(id_keys["indelingswijziging"]["Key"]))
                                   if id_keys["indelingswijziging"] else None),
        }
        for name, prop in stats.items():
            if prop is None:
                rec[name] = np.nan
            else:
                rec[name] = _number(row.get(prop["Key"])) * find_unit_factor(prop.get("Unit"), name)
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=[c for c in KERNCIJFERS_COLUMNS
                                                        if c != "aandeel_65plus"])
    with np.errstate(divide="ignore", invalid="ignore"):
        inw = frame["aantal_inwoners"].astype(float)
        frame["aandeel_65plus"] = frame["aantal_65plus"].astype(float) / inw.where(inw > 0)
    missing = [n for n, p in stats.items() if p is None]
    empty = {n: str(p["Key"]) for n, p in stats.items()
             if p is not None and len(frame) and frame[n].isna().all()}
    info = {"table": table, "rows": len(frame),
            "keys": {n: p["Key"] for n, p in stats.items() if p is not None},
            "missing_statistics": missing, "statistics_without_values": sorted(empty)}
    if missing:
        ctx.warn(f"Kerncijfers {year} (table {table}) has no column for "
                 f"{', '.join(missing)} (NaN for every region)")
    for name, key in empty.items():
        ctx.warn(f"Kerncijfers {year} (table {table}): column {key} ({name}) has no value for "
                 f"any region (NaN for every region; secret or not yet published?)")
    unnamed = int(frame["regionaam"].isna().sum()) if len(frame) else 0
    if unnamed:
        ctx.warn(f"Kerncijfers {year} (table {table}): {unnamed} region(s) have no name in "
                 f"{geo_key}")
    return frame[list(KERNCIJFERS_COLUMNS)], info


def fetch_kerncijfers(ctx: FetchJob) -> tuple[Path | None, pd.DataFrame | None,
                                               dict[str, Any]]:
    """Write ``kerncijfers.parquet``: the Kerncijfers of :data:`FIRST_TREND_YEAR` to ``ctx.year``.

    Returns
    -------
    tuple
        The file (None when no year could be read), the table itself (columns
        :data:`KERNCIJFERS_COLUMNS`) and per year the table id and the keys found.
    """
    years = [y for y in sorted(KERNCIJFERS_TABLES) if FIRST_TREND_YEAR <= y <= ctx.year]
    frames, per_year = [], {}
    for year in years:
        table = KERNCIJFERS_TABLES[year]
        try:
            frame, info = _kerncijfers_year(ctx.for_part(f"kerncijfers:{year}"), year, table)
        except HTTPStatusError as exc:
            if exc.status not in (404, 410):
                raise
            ctx.warn(f"Kerncijfers {year} (table {table}) is not available: {exc}")
            per_year[str(year)] = {"table": table, "status": f"not available (HTTP {exc.status})"}
            ctx.mark_incomplete(f"kerncijfers:{year}", f"HTTP {exc.status}: {exc}", year=year,
                                table=table)
            continue
        if frame.empty:
            ctx.warn(f"Kerncijfers {year} (table {table}) has no rows for this gemeente")
        frames.append(frame)
        per_year[str(year)] = info
    if not frames:
        ctx.warn("no Kerncijfers could be fetched; trends and CBS statistics will be missing")
        return None, None, {"years": per_year}
    table_all = pd.concat(frames, ignore_index=True)
    table_all["jaar"] = table_all["jaar"].astype("int64")
    for col in ("regiocode", "soort_regio", "regionaam", "gemeentenaam", "indelingswijziging"):
        table_all[col] = table_all[col].astype("string")
    out = ctx.path("cbs", ctx.gemeente.code, "kerncijfers.parquet")
    arrow = pa.Table.from_pandas(table_all, preserve_index=False)
    meta = dict(arrow.schema.metadata or {})
    meta[b"woonvoorraad"] = json.dumps({
        "gemeentecode": ctx.gemeente.code, "tables": {y: i.get("table")
                                                      for y, i in per_year.items()},
        "units": "fractions 0-1 for aandeel_*, euro for woz_gemiddeld and inkomen_per_inwoner",
        "source": "CBS Kerncijfers wijken en buurten, OData v3", "licence": "CC BY 4.0",
    }).encode()
    with atomic_path(out) as tmp:
        pq.write_table(arrow.replace_schema_metadata(meta), tmp)
    logger.info("%s: Kerncijfers %s (%d rows) -> %s", ctx.gemeente,
                ", ".join(str(y) for y in sorted(table_all["jaar"].unique())), len(table_all),
                out)
    return out, table_all, {"years": per_year}


def _interval_label(title: str | None, key: str) -> str:
    text = (title or "").strip().lower()
    m = re.match(r"(onder|boven)grens\s*(\d+)\s*%", text)
    if m:
        return f"{m.group(1)}grens_{m.group(2)}"
    if text.startswith("prognose"):
        return "prognose"
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or key


_TOTAL_KEYS = ("10000", "T001038", "T001025", "T001019", "A049810")


def _total_category(values: Sequence[Mapping[str, Any]]) -> str | None:
    keys = [(_strip(v.get("Key")), (_strip(v.get("Title")) or "").lower()) for v in values]
    for key, _ in keys:
        if key in _TOTAL_KEYS:
            return key
    for key, title in keys:
        if title.startswith(("totaal", "particulier huishouden", "particuliere huishoudens")):
            return key
    return keys[0][0] if len(keys) == 1 else None


def _forecast_table(ctx: FetchJob, kind: str, table: str) -> tuple[pd.DataFrame | None,
                                                                 dict[str, Any]]:
    props = _odata_properties(table, ctx)
    geo = next((p for p in props if p.get("Type") == "GeoDimension"), None)
    time_dim = next((p for p in props if p.get("Type") == "TimeDimension"), None)
    measures = [p for p in props if p.get("Type") == "Topic"]
    if geo is None or time_dim is None or not measures:
        return None, {"table": table, "status": "unexpected layout (no region, period or "
                                                 "measure in DataProperties)"}
    stems = ("TotaleBevolking", "Bevolking") if kind == "bevolking" else (
        "ParticuliereHuishoudens", "Huishoudens")
    measure = _find_key(props, stems) or measures[0]
    interval = next((p for p in props if p.get("Type") == "Dimension"
                     and "prognose" in str(p.get("Key", "")).lower()), None)
    filters = [f"startswith({geo['Key']},'{ctx.gemeente.code}')"]
    for dim in props:
        if dim.get("Type") != "Dimension" or dim is interval:
            continue
        total = _total_category(_odata_dimension(table, str(dim["Key"]), ctx))
        if total is None:
            return None, {"table": table, "status": f"no total category in {dim['Key']}"}
        filters.append(f"{dim['Key']} eq '{total}'")
    labels = {}
    if interval is not None:
        for item in _odata_dimension(table, str(interval["Key"]), ctx):
            key = _strip(item.get("Key"))
            if key:
                labels[key] = _interval_label(item.get("Title"), key)
    rows = _odata_rows(table, {"$format": "json", "$filter": " and ".join(filters)}, ctx,
                       desc=f"prognose {kind} {ctx.gemeente.naam}")
    factor = find_unit_factor(measure.get("Unit"))
    records = []
    for row in rows:
        if _strip(row.get(geo["Key"])) != ctx.gemeente.code:
            continue
        period = _strip(row.get(time_dim["Key"])) or ""
        m = re.match(r"(\d{4})", period)
        if not m:
            continue
        key = _strip(row.get(interval["Key"])) if interval is not None else None
        records.append({"gemeentecode": ctx.gemeente.code, "jaar": int(m.group(1)),
                        "prognose_interval": labels.get(key or "", key or "prognose"),
                        kind: _number(row.get(measure["Key"])) * factor})
    frame = pd.DataFrame.from_records(
        records, columns=["gemeentecode", "jaar", "prognose_interval", kind])
    return frame, {"table": table, "status": "ok", "rows": len(frame),
                   "measure": measure["Key"], "unit": measure.get("Unit"),
                   "years": sorted(int(y) for y in frame["jaar"].unique())}


def fetch_forecast(ctx: FetchJob) -> tuple[Path | None, dict[str, Any]]:
    """Write ``prognose.parquet``: the gemeente's rows of the :data:`FORECAST_TABLES`.

    A table the service no longer has (404/410) is recorded with a warning, not an error.

    Returns
    -------
    tuple
        The file (None when no table had rows) and the status per table.
    """
    frames, info = [], {}
    for kind, table in FORECAST_TABLES.items():
        try:
            frame, info[kind] = _forecast_table(ctx.for_part(f"forecast:{kind}"), kind, table)
        except HTTPStatusError as exc:
            if exc.status not in (404, 410):
                raise
            reason = (f"table {table} is not available (HTTP {exc.status})"
                      + ("; CBS/PBL withdrew the household detail of the regional forecast "
                         "in 2023 as unreliable" if kind == "huishoudens" else ""))
            ctx.warn(f"forecast {kind}: {reason}")
            info[kind] = {"table": table, "status": reason}
            ctx.mark_incomplete(f"forecast:{kind}", reason, table=table)
            continue
        if frame is None or frame.empty:
            ctx.warn(f"forecast {kind}: no rows for this gemeente in {table} "
                     f"({info[kind].get('status')})")
            continue
        frames.append(frame.set_index(["gemeentecode", "jaar", "prognose_interval"]))
    if not frames:
        return None, info
    merged = pd.concat(frames, axis=1).reset_index()
    for kind in FORECAST_TABLES:
        if kind not in merged.columns:
            merged[kind] = np.nan
    merged = merged[["gemeentecode", "jaar", "bevolking", "huishoudens", "prognose_interval"]]
    merged = merged.sort_values(["jaar", "prognose_interval"]).reset_index(drop=True)
    merged["jaar"] = merged["jaar"].astype("int64")
    out = ctx.path("cbs", ctx.gemeente.code, "prognose.parquet")
    with atomic_path(out) as tmp:
        merged.to_parquet(tmp, index=False)
    return out, info
