"""CBS household income by tenure: owners' versus all households' income per region.

The Regio Deal target group is *owners* with a household income under the DAEB limit. The
Kerncijfers give income per buurt for all households only; CBS's regional table "Inkomen van
huishoudens; huishoudenskenmerken, regio" splits it by tenure (``Woningbezit``) per gemeente,
provincie and Nederland. :func:`fetch_inkomen` writes ``raw/cbs/<GM>/inkomen.parquet``
(:data:`INKOMEN_COLUMNS`, one row per region x year x tenure), :func:`read_inkomen` reads it
back and :func:`owner_income_ratio` gives the ratio of owners' to all households' mean income,
falling back from the gemeente to its provincie to Nederland where CBS keeps a value secret.

What we know about the table (no CBS request could be made while writing this; evidence
levels as in the research notes):

* **Editions** (:data:`INKOMEN_TABLES`, newest first). ``85342NED`` "(indeling 2022)", figures
  2021*, and ``85711NED`` "(indeling 2023)", figures 2022*: titles and measure headers from the
  cbs.nl table pages (high confidence). ``86004NED`` "Inkomen van huishoudens;
  huishoudenskenmerken, regio", metadata changed 08-10-2025, figures up to 2023: two
  independent third-party projects that downloaded it (medium confidence; its regional
  indeling is not known here). Older: ``84639NED`` (indeling 2019), ``84341NED`` (2018).
* **Layout** (OData v3, same as the Kerncijfers): dimensions ``Populatie``,
  ``KenmerkenVanHuishoudens``, ``RegioS`` (GeoDimension, codes ``NL01``, ``PVxx``, ``GMxxxx``,
  padded), ``Perioden`` (``2021JJ00``); measures ``ParticuliereHuishoudens_1`` (x 1 000),
  ``ParticuliereHuishoudensRelatief_2`` (%), ``GemiddeldGestandaardiseerdInkomen_3``,
  ``MediaanGestandaardiseerdInkomen_4``, ``GemiddeldBesteedbaarInkomen_5``,
  ``MediaanBesteedbaarInkomen_6`` (1 000 euro) and ``GestandaardiseerdInkomen1e10Groep_7`` ..
  ``GestandaardiseerdInkomen10e10Groep_16`` (% of the households in each *national* 10 %-group
  of standardised income). Keys: third-party code for 85342NED and 86004NED; titles: cbs.nl
  pages (high confidence). Keys are found here by stem through ``DataProperties``.
* **Categories**: total ``1050010`` ("Particuliere huishoudens"; also the ``Populatie`` key of
  "Particuliere huishoudens incl. studenten"), ``1014800`` eigen woning, ``1014900`` huurwoning
  met huurtoeslag, ``1014950`` huurwoning zonder huurtoeslag (third-party code, medium
  confidence; cbs.nl shows the title "Woningbezit: huurwoning geen huurtoeslag"). The keys are
  tried first, then the titles; a total for all renters is not known to exist, so ``huur`` is
  derived from the two rental groups (household-weighted means, ``afgeleid`` = True) when the
  table has none.
* **Secret values**: StatLine shows "." and the OData answer has ``null``; values at or below
  ``-99990`` are CBS missing-value codes. Both become NaN.

The table has no *gross* income: the measures are the mean/median *disposable* household
income (``besteedbaar``, household level) and the *standardised* income (``gestandaardiseerd``,
corrected for household size and composition). :func:`owner_income_ratio` uses the mean
disposable income by default because the DAEB limit applies to a household's income, not to an
equivalised one.

Examples
--------
>>> frame = pd.DataFrame({
...     "jaar": [2022] * 6,
...     "regiocode": ["GM0114", "GM0114", "PV22", "PV22", "NL01", "NL01"],
...     "soort_regio": ["Gemeente", "Gemeente", "Provincie", "Provincie", "Nederland",
...                     "Nederland"],
...     "provinciecode": ["PV22", "PV22", None, None, None, None],
...     "woonsituatie": ["koop", "totaal"] * 3,
...     "inkomen_besteedbaar_gemiddeld": [np.nan, 40000.0, 60000.0, 48000.0, 62000.0, 50000.0],
... })
>>> owner_income_ratio(frame, "GM0114")  # the gemeente's owners are secret: provincie
InkomenVerhouding(verhouding=1.25, regiocode='PV22', niveau='Provincie', jaar=2022, \
maat='besteedbaar')
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from woonvoorraad import _validate
from woonvoorraad._io import atomic_path
from woonvoorraad.errors import (
    ConfigError,
    DownloadError,
    HTTPStatusError,
    InputError,
    MissingColumnError,
)
from woonvoorraad.sources._fetchjob import FetchJob
from woonvoorraad.sources.odata import (
    _find_key,
    _number,
    _odata_dimension,
    _odata_properties,
    _odata_rows,
    _strip,
    _total_category,
)

logger = logging.getLogger(__name__)

#: File name of the fetched table in ``raw/cbs/<gemeentecode>/``.
INKOMEN_FILE = "inkomen.parquet"

#: Editions of "Inkomen van huishoudens; huishoudenskenmerken, regio", newest first: table id
#: and what we know of it (see the module docstring for the evidence).
INKOMEN_TABLES: tuple[tuple[str, str], ...] = (
    ("86004NED", "figures up to 2023, metadata of 08-10-2025 (third-party code; indeling not "
                 "verified)"),
    ("85711NED", "indeling 2023, figures 2022* (cbs.nl table page)"),
    ("85342NED", "indeling 2022, figures 2021* (cbs.nl table page)"),
)

#: CBS provincie codes by name (CBS regional classification, PV20-PV31).
PROVINCIES: dict[str, str] = {
    "groningen": "PV20", "fryslân": "PV21", "friesland": "PV21", "drenthe": "PV22",
    "overijssel": "PV23", "flevoland": "PV24", "gelderland": "PV25", "utrecht": "PV26",
    "noord-holland": "PV27", "zuid-holland": "PV28", "zeeland": "PV29",
    "noord-brabant": "PV30", "limburg": "PV31",
}

NEDERLAND = "NL01"

#: Category keys of ``KenmerkenVanHuishoudens`` per tenure (tried before the titles).
TENURE_KEYS: dict[str, tuple[str, ...]] = {
    "totaal": ("1050010",),
    "koop": ("1014800",),
    "huur_met_toeslag": ("1014900",),
    "huur_zonder_toeslag": ("1014950",),
}

#: Key of "Particuliere huishoudens incl. studenten" in the ``Populatie`` dimension.
POPULATIE_KEY = "1050010"

#: Measures: canonical column -> OData key stems.
MEASURES: dict[str, tuple[str, ...]] = {
    "aantal_huishoudens": ("ParticuliereHuishoudens",),
    "inkomen_gestandaardiseerd_gemiddeld": ("GemiddeldGestandaardiseerdInkomen",),
    "inkomen_gestandaardiseerd_mediaan": ("MediaanGestandaardiseerdInkomen",),
    "inkomen_besteedbaar_gemiddeld": ("GemiddeldBesteedbaarInkomen",),
    "inkomen_besteedbaar_mediaan": ("MediaanBesteedbaarInkomen",),
}

#: Shares of the households in the lowest national 10 %-groups of standardised income.
LOW_SHARES: dict[str, int] = {"aandeel_onderste_10pct": 1, "aandeel_onderste_20pct": 2,
                              "aandeel_onderste_40pct": 4}

#: Columns of ``inkomen.parquet``, in order. Incomes in euro per year, shares as fractions.
INKOMEN_COLUMNS: tuple[str, ...] = (
    "jaar", "regiocode", "soort_regio", "regionaam", "provinciecode", "woonsituatie",
    *MEASURES, *LOW_SHARES, "afgeleid", "tabel",
)

#: Tenure categories of the frame.
WOONSITUATIES: tuple[str, ...] = ("totaal", "koop", "huur", "huur_met_toeslag",
                                  "huur_zonder_toeslag")

#: Income measures :func:`owner_income_ratio` accepts.
MAATEN: tuple[str, ...] = ("besteedbaar", "gestandaardiseerd")

_SOORT = {"NL": "Nederland", "PV": "Provincie", "GM": "Gemeente"}


class InkomenVerhouding(NamedTuple):
    """Owners' mean income divided by all households' mean income, and where it came from."""

    verhouding: float
    regiocode: str | None
    niveau: str
    jaar: int | None
    maat: str


def provincie_code(naam: str | None) -> str | None:
    """The CBS code of a provincie name (``"Drenthe"`` -> ``"PV22"``), None when unknown.

    Examples
    --------
    >>> provincie_code("Drenthe"), provincie_code("Fryslân"), provincie_code(None)
    ('PV22', 'PV21', None)
    """
    if not naam:
        return None
    return PROVINCIES.get(str(naam).strip().casefold().replace(" (pv)", ""))


def _unit_factor(unit: str | None, column: str) -> float:
    """Factor from a ``DataProperties.Unit`` to euro / households / fractions."""
    text = (unit or "").strip().lower()
    if not text:
        return 0.01 if column.startswith("aandeel_") else 1000.0
    if "%" in text or "procent" in text:
        return 0.01
    if re.search(r"1[ .]?000(?![ .]?000)", text):
        return 1000.0
    return 1.0


def _tenure_of(key: str | None, title: str | None) -> str | None:
    """Tenure category of one ``KenmerkenVanHuishoudens`` item by its key, else its title."""
    for name, keys in TENURE_KEYS.items():
        if key in keys:
            return name
    text = (title or "").strip().lower()
    name = None
    if "eigen woning" in text or "koopwoning" in text:
        name = "koop"
    elif "huurwoning" in text or "huurder" in text:
        if "met huurtoeslag" in text:
            name = "huur_met_toeslag"
        elif "geen huurtoeslag" in text or "zonder huurtoeslag" in text:
            name = "huur_zonder_toeslag"
        elif "toeslag" not in text:
            name = "huur"
    elif text in ("particuliere huishoudens", "totaal", "totaal particuliere huishoudens"):
        name = "totaal"
    return name


def _categories(items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Tenure name -> category key; keys known in advance win over matching titles."""
    found: dict[str, str] = {}
    for by_key in (True, False):
        for item in items:
            key = _strip(item.get("Key"))
            if not key:
                continue
            name = _tenure_of(key, None) if by_key else _tenure_of(None, item.get("Title"))
            if name and name not in found and key not in found.values():
                found[name] = str(item.get("Key"))
    return found


def _populatie(items: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for item in items:
        if _strip(item.get("Key")) == POPULATIE_KEY:
            return item
    for item in items:
        if "incl. studenten" in (item.get("Title") or "").lower():
            return item
    return items[0] if items else None


def _derive_rental(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ``huur`` from the rental groups with and without huurtoeslag (household-weighted)."""
    parts = frame[frame["woonsituatie"].isin(["huur_met_toeslag", "huur_zonder_toeslag"])]
    rows = []
    for _, group in parts.groupby(["regiocode", "jaar"], sort=False):
        if len(group) != 2:
            continue
        n = group["aantal_huishoudens"].astype(float)
        row = group.iloc[0].to_dict()
        row.update(woonsituatie="huur", afgeleid=True, aantal_huishoudens=float(n.sum()))
        for col in ("inkomen_gestandaardiseerd_gemiddeld", "inkomen_besteedbaar_gemiddeld",
                    *LOW_SHARES):
            v = group[col].astype(float)
            ok = bool(n.notna().all() and v.notna().all() and n.sum() > 0)
            row[col] = float((v * n).sum() / n.sum()) if ok else np.nan
        for col in ("inkomen_gestandaardiseerd_mediaan", "inkomen_besteedbaar_mediaan"):
            row[col] = np.nan  # a median cannot be combined from two medians
        rows.append(row)
    return pd.DataFrame(rows, columns=frame.columns)


def _inkomen_table(ctx: FetchJob, table: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    props = _odata_properties(table, ctx)
    geo = next((p for p in props if p.get("Type") == "GeoDimension"), None)
    time_dim = next((p for p in props if p.get("Type") == "TimeDimension"), None)
    kenmerk = _find_key(props, ("KenmerkenVanHuishoudens",), types=("Dimension",))
    if geo is None or time_dim is None or kenmerk is None:
        raise DownloadError(f"{table}: DataProperties has no RegioS, Perioden or "
                            "KenmerkenVanHuishoudens dimension; not the expected income table")
    measures = {name: _find_key(props, stems) for name, stems in MEASURES.items()}
    deciles = {n: _find_key(props, (f"GestandaardiseerdInkomen{n}e10Groep",))
               for n in range(1, 5)}
    geo_key, kenmerk_key = str(geo["Key"]), str(kenmerk["Key"])
    cats = _categories(_odata_dimension(table, kenmerk_key, ctx))
    if "koop" not in cats or "totaal" not in cats:
        raise DownloadError(f"{table}: {kenmerk_key} has no category for owners (eigen woning) "
                            f"or for all households; found {sorted(cats)}")
    filters = []
    populatie_title = None
    for dim in props:
        if dim.get("Type") != "Dimension" or dim is kenmerk:
            continue
        items = _odata_dimension(table, str(dim["Key"]), ctx)
        if _stem_of(dim) == "Populatie":
            chosen = _populatie(items)
            key = str(chosen["Key"]) if chosen else None
            populatie_title = _strip(chosen.get("Title")) if chosen else None
        else:
            key = _total_category(items)
        if key is None:
            raise DownloadError(f"{table}: no total category in dimension {dim['Key']}")
        filters.append(f"{dim['Key']} eq '{key}'")
    gm = ctx.gemeente.code
    pv = provincie_code(ctx.gemeente.provincie)
    prefixes = [gm, pv or "PV", NEDERLAND]
    region_filter = " or ".join(f"startswith({geo_key},'{p}')" for p in prefixes)
    cat_filter = " or ".join(f"{kenmerk_key} eq '{k}'" for k in cats.values())
    flt = " and ".join([f"({region_filter})", f"({cat_filter})", *filters])
    rows = _odata_rows(table, {"$format": "json", "$filter": flt}, ctx,
                       desc=f"inkomen {ctx.gemeente.naam}")
    names = {}
    for item in _odata_dimension(table, geo_key, ctx,
                                 " or ".join(f"startswith(Key,'{p}')" for p in prefixes)):
        if _strip(item.get("Key")):
            names[_strip(item.get("Key"))] = _strip(item.get("Title"))
    tenure_by_key = {_strip(k): name for name, k in cats.items()}
    records = []
    for row in rows:
        code = _strip(row.get(geo_key)) or ""
        period = _strip(row.get(time_dim["Key"])) or ""
        m = re.match(r"(\d{4})JJ", period)
        tenure = tenure_by_key.get(_strip(row.get(kenmerk_key)))
        if not m or tenure is None or not code.startswith(tuple(prefixes)):
            continue
        rec: dict[str, Any] = {
            "jaar": int(m.group(1)), "regiocode": code, "soort_regio": _SOORT.get(code[:2]),
            "regionaam": names.get(code), "provinciecode": pv if code == gm else None,
            "woonsituatie": tenure, "afgeleid": False, "tabel": table,
        }
        for name, prop in measures.items():
            rec[name] = (np.nan if prop is None else
                         _number(row.get(prop["Key"])) * _unit_factor(prop.get("Unit"), name))
        for name, upto in LOW_SHARES.items():
            props_n = [deciles[n] for n in range(1, upto + 1)]
            if all(p is not None for p in props_n):
                values = [_number(row.get(p["Key"])) * _unit_factor(p.get("Unit"), name)
                          for p in props_n]
                rec[name] = float(np.sum(values))  # NaN when any group is secret
            else:
                rec[name] = np.nan
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(INKOMEN_COLUMNS))
    if "huur" not in cats and len(frame):
        frame = pd.concat([frame, _derive_rental(frame)], ignore_index=True)
    frame = frame.sort_values(["jaar", "regiocode", "woonsituatie"], kind="mergesort")
    info = {"table": table, "status": "ok", "rows": len(frame),
            "categories": cats, "populatie": populatie_title,
            "keys": {n: p["Key"] for n, p in measures.items() if p is not None},
            "missing_measures": sorted(n for n, p in measures.items() if p is None),
            "years": sorted(int(y) for y in frame["jaar"].unique()),
            "provinciecode": pv}
    return frame.reset_index(drop=True), info


def _stem_of(prop: Mapping[str, Any]) -> str:
    return re.sub(r"_\d+$", "", str(prop.get("Key", "")))


def fetch_inkomen(ctx: FetchJob) -> tuple[Path | None, pd.DataFrame | None, dict[str, Any]]:
    """Write ``raw/cbs/<GM>/inkomen.parquet``: income by tenure of the gemeente, its provincie
    and Nederland, from the newest edition of :data:`INKOMEN_TABLES` that answers.

    An edition the service does not have (404/410) is skipped with a warning; when none
    answers, the part ``inkomen`` is marked incomplete (the next fetch asks again) and the
    analysis falls back to the national defaults of ``[inkomen]`` in the configuration.

    Returns
    -------
    tuple
        The file (None when no edition could be read), the table (:data:`INKOMEN_COLUMNS`)
        and per edition its status, keys and categories (for the fetch manifest).
    """
    part = ctx.for_part("inkomen")
    tried: dict[str, Any] = {}
    for table, about in INKOMEN_TABLES:
        try:
            frame, info = _inkomen_table(part, table)
        except HTTPStatusError as exc:
            if exc.status not in (404, 410):
                raise
            tried[table] = {"status": f"not available (HTTP {exc.status})", "about": about}
            logger.info("%s: income table %s not available (HTTP %s); trying an older edition",
                        ctx.gemeente, table, exc.status)
            continue
        info["about"] = about
        tried[table] = info
        if not (frame["regiocode"] == ctx.gemeente.code).any():
            ctx.warn(f"income by tenure (table {table}) has no figures for "
                     f"{ctx.gemeente.code}; the provincie or Nederland is used instead")
        out = ctx.path("cbs", ctx.gemeente.code, INKOMEN_FILE)
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        meta = dict(arrow.schema.metadata or {})
        meta[b"woonvoorraad"] = json.dumps({
            "gemeentecode": ctx.gemeente.code, "table": table, "about": about,
            "keys": info["keys"], "categories": info["categories"],
            "populatie": info["populatie"],
            "units": "euro per year for inkomen_*, households for aantal_huishoudens, "
                     "fractions 0-1 for aandeel_* (share in the lowest national 10%-groups "
                     "of standardised income)",
            "source": "CBS Inkomen van huishoudens; huishoudenskenmerken, regio (OData v3)",
            "licence": "CC BY 4.0",
        }).encode()
        with atomic_path(out) as tmp:
            pq.write_table(arrow.replace_schema_metadata(meta), tmp)
        logger.info("%s: income by tenure from %s (%d rows) -> %s", ctx.gemeente, table,
                    len(frame), out)
        return out, frame, {"table": table, "editions": tried}
    reason = ("no edition of the income table answered ("
              + ", ".join(f"{t}: {i['status']}" for t, i in tried.items()) + ")")
    ctx.warn(f"income by tenure: {reason}; the national defaults of [inkomen] are used")
    ctx.mark_incomplete("inkomen", reason, tables=[t for t, _ in INKOMEN_TABLES])
    return None, None, {"table": None, "editions": tried}


def read_inkomen(path: str | Path) -> pd.DataFrame:
    """Read ``inkomen.parquet`` as written by :func:`fetch_inkomen` (or a CSV of its columns).

    Raises
    ------
    InputError
        The file is not a table of :data:`INKOMEN_COLUMNS` (the message names what is wrong).
    """
    p = _validate.check_file(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        table = pd.read_parquet(p)
    elif p.suffix.lower() in (".csv", ".txt"):
        table = _validate.read_csv_table(p, what="CBS income table")
    else:
        raise InputError("unsupported income table: expected .parquet or .csv", path=p)
    missing = [c for c in ("jaar", "regiocode", "woonsituatie") if c not in table.columns]
    if missing:
        raise MissingColumnError(f"income table lacks column(s) {', '.join(missing)}", path=p)
    table["regiocode"] = table["regiocode"].astype("string").str.strip().astype(object)
    bad = sorted(set(table["woonsituatie"].dropna().astype(str)) - set(WOONSITUATIES))
    if bad:
        raise InputError(f"column 'woonsituatie' has unknown value(s) {', '.join(bad)} "
                         f"(expected {', '.join(WOONSITUATIES)})", path=p)
    for col in INKOMEN_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    numeric = [*MEASURES, *LOW_SHARES]
    for col in numeric:
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
        table.loc[table[col] <= _validate.CBS_MISSING_MAX, col] = np.nan
    return table[list(INKOMEN_COLUMNS)].reset_index(drop=True)


def owner_income_ratio(frame: pd.DataFrame, gemeentecode: str, *, maat: str = "besteedbaar",
                       jaar: int | None = None, noemer: str = "totaal") -> InkomenVerhouding:
    """Owners' mean household income / all households' mean income for a gemeente.

    With ``noemer="huur"``: owners' over renters' mean income (the ratio ``k`` of the
    target-group estimate, :mod:`woonvoorraad.stock.doelgroep`).

    The gemeente's own figure when CBS publishes it; else its provincie (``provinciecode`` of
    the gemeente's rows); else Nederland (``NL01``). All levels use the same year: ``jaar``,
    or the latest year of the frame with a national figure.

    Parameters
    ----------
    frame
        :func:`read_inkomen` / :func:`fetch_inkomen` output.
    gemeentecode
        ``GM0114``.
    maat
        ``"besteedbaar"`` (mean disposable household income, the household-level measure the
        DAEB limit compares with) or ``"gestandaardiseerd"`` (equivalised).
    jaar
        Year of the figures (default: the latest with a national figure).

    Returns
    -------
    InkomenVerhouding
        ``(verhouding, regiocode, niveau, jaar, maat)``; ``niveau`` is ``Gemeente``,
        ``Provincie`` or ``Nederland``.

    Raises
    ------
    InputError
        No level has both figures (the message says what the frame holds).
    """
    if maat not in MAATEN:
        raise ConfigError(f"inkomen: unknown income measure {maat!r} "
                          f"(expected one of {', '.join(MAATEN)})")
    col = f"inkomen_{maat}_gemiddeld"
    if col not in frame.columns:
        raise MissingColumnError(f"income table has no column {col!r}")
    codes = frame["regiocode"].astype(str).str.strip()
    values = frame.assign(_code=codes).pivot_table(
        index=["jaar", "_code"], columns="woonsituatie", values=col, aggfunc="first")
    if noemer not in WOONSITUATIES:
        raise ConfigError(f"inkomen: unknown tenure {noemer!r} (expected one of "
                          f"{', '.join(WOONSITUATIES)})")
    for needed in ("koop", noemer):
        if needed not in values.columns:
            values[needed] = np.nan
    if jaar is None:
        complete = values[["koop", noemer]].notna().all(axis=1)
        national = complete & (values.index.get_level_values("_code") == NEDERLAND)
        years = values.index.get_level_values("jaar")[national if national.any() else complete]
        jaar = int(max(years)) if len(years) else None
    rows = frame.loc[codes == gemeentecode, "provinciecode"] if "provinciecode" in frame else []
    pv = next((str(v) for v in rows if isinstance(v, str) and v), None)
    for code, niveau in ((gemeentecode, "Gemeente"), (pv, "Provincie"), (NEDERLAND, "Nederland")):
        if code is None or (jaar, code) not in values.index:
            continue
        row = values.loc[(jaar, code)]
        own, total = row.get("koop", np.nan), row.get(noemer, np.nan)
        if np.isfinite(own) and np.isfinite(total) and total > 0:
            if niveau != "Gemeente":
                logger.info("owners' income of %s in %s is secret or absent; %s (%s) used",
                            gemeentecode, jaar, niveau.lower(), code)
            return InkomenVerhouding(round(float(own / total), 4), code, niveau, jaar, maat)
    raise InputError(f"income table has no owners' and {noemer} households' {col} for "
                     f"{gemeentecode}, its provincie ({pv}) or Nederland in {jaar}")


def owner_income_ratio_or_default(frame: pd.DataFrame | None, gemeentecode: str,
                                  config: Mapping[str, Any], *,
                                  maat: str = "besteedbaar") -> InkomenVerhouding:
    """:func:`owner_income_ratio`, or the national default of ``[inkomen]`` without a table.

    Examples
    --------
    >>> from woonvoorraad.config import default_config
    >>> owner_income_ratio_or_default(None, "GM0114", default_config()).niveau
    'standaard'
    """
    if frame is not None and len(frame):
        try:
            return owner_income_ratio(frame, gemeentecode, maat=maat)
        except InputError as exc:
            logger.warning("%s; the national default of [inkomen] is used", exc)
    cfg = config["inkomen"]
    return InkomenVerhouding(float(cfg["verhouding_eigenaren"]), None, "standaard",
                             int(cfg["verhouding_jaar"]), str(cfg["verhouding_maat"]))
