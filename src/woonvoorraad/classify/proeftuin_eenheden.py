"""Ranking units for the proeftuin candidates: buurten, wijken and woonplaatsen (villages).

:func:`make_units` turns scored buurten into units. At the buurt level a unit is a buurt; at the
wijk level and at the woonplaats level without a ``woonplaatsen`` table, counts are summed and
scores and figures are dwelling-weighted means of the buurten (``n_woningen``).
:func:`woonplaats_units` turns the ``woonplaatsen`` table of the stock stage (one row per
gemeente × BAG woonplaats, counts summed over the village's own dwellings) into units, scored
with the same score functions as the buurten (:func:`woonvoorraad.classify.scores.compute_scores`).

:func:`choose_levels` decides, per gemeente, the primary level of ``[proeftuin] niveau = "auto"``:
the woonplaats (village) level when the gemeente is rural — fewer dwellings per km² of land than
``landelijk_max_woningen_per_km2`` and at least ``landelijk_min_woonplaatsen`` woonplaatsen —
else the buurt level.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.classify.scores import (
    SCORES,
    components_from_config,
    compute_score,
    compute_scores,
)
from woonvoorraad.errors import ConfigError, InputError, MissingColumnError

logger = logging.getLogger(__name__)

NIVEAUS: tuple[str, ...] = ("buurt", "wijk", "woonplaats", "auto")

#: Figures carried to the units for the reasons (dwelling-weighted at aggregated levels).
KENGETALLEN: tuple[str, ...] = (
    "aandeel_label_efg", "aandeel_label_efg_verwacht", "aandeel_label_efg_verwacht_naoorlogs",
    "aandeel_label_geschat", "aandeel_65plus", "aandeel_eengezins_voor_1975",
    "woz_t_o_v_mediaan", "aandeel_laag_inkomen", "inkomen_t_o_v_daeb", "trend_huishoudens",
    "trend_65plus", "prognose_huishoudens", "mediaan_bouwjaar",
)

#: Counts summed at aggregated levels (the target-group range and the post-war stock).
TELLINGEN: tuple[str, ...] = ("n_doelgroep", "n_doelgroep_laag", "n_doelgroep_hoog",
                              "n_woningen", "n_naoorlogs")

#: The target-group scenarios: suffix of ``n_doelgroep`` → name in the stability table.
SCENARIOS: dict[str, str] = {"_laag": "doelgroep laag", "_hoog": "doelgroep hoog"}


def assign_woonplaats(
    buurten: pd.DataFrame, dwellings: pd.DataFrame | None = None
) -> tuple[pd.Series, str]:
    """Woonplaats (village) of every buurt and a description of where it came from.

    Order of preference: ``buurten["woonplaats"]``; the modal ``woonplaats`` of the buurt's
    dwellings (ties: alphabetical); the CBS ``wijknaam`` (else ``wijkcode``). Gaps in a source
    are filled from the next one.

    Examples
    --------
    >>> b = pd.DataFrame({"buurtcode": ["BU1", "BU2"], "wijknaam": ["Sleen", "Sleen"]})
    >>> s, bron = assign_woonplaats(b)
    >>> s.tolist(), bron
    (['Sleen', 'Sleen'], 'CBS-wijk (wijknaam) als benadering van de woonplaats')
    """
    has_names = "wijknaam" in buurten.columns and buurten["wijknaam"].notna().any()
    fallback_col = "wijknaam" if has_names else "wijkcode"
    if fallback_col not in buurten.columns:
        raise InputError("buurten lacks wijknaam/wijkcode needed for the woonplaats level")
    fallback = buurten[fallback_col].astype("string")
    if "woonplaats" in buurten.columns and buurten["woonplaats"].notna().any():
        s = buurten["woonplaats"].astype("string")
        bron = "kolom woonplaats van buurten"
    elif dwellings is not None and "woonplaats" in dwellings.columns:
        d = dwellings[["buurtcode", "woonplaats"]].dropna()
        counts = d.groupby(["buurtcode", "woonplaats"], observed=True).size().rename("n")
        counts = counts.reset_index().sort_values(
            ["buurtcode", "n", "woonplaats"], ascending=[True, False, True], kind="mergesort")
        modal = counts.drop_duplicates("buurtcode").set_index("buurtcode")["woonplaats"]
        s = buurten["buurtcode"].map(modal).astype("string")
        bron = "meest voorkomende woonplaats van de woningen in de buurt"
    else:
        return fallback.fillna(buurten["buurtcode"].astype("string")), (
            f"CBS-wijk ({fallback_col}) als benadering van de woonplaats")
    n_fill = int(s.isna().sum())
    if n_fill:
        bron += f"; {n_fill} buurt(en) zonder woonplaats aangevuld met de {fallback_col}"
    return s.fillna(fallback).fillna(buurten["buurtcode"].astype("string")), bron


def _wmean(values: pd.Series, weights: pd.Series, groups: list[pd.Series]) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce").astype(float)
    w = pd.to_numeric(weights, errors="coerce").astype(float)
    w = w.where(w > 0, 0.0).fillna(0.0)
    ok = v.notna()
    df = pd.DataFrame({"vw": (v * w).where(ok, 0.0), "w": w.where(ok, 0.0),
                       "v": v, "one": ok.astype(float)})
    g = df.groupby(groups, sort=True)
    sums = g[["vw", "w", "one"]].sum()
    plain = g["v"].mean()
    out = sums["vw"] / sums["w"].where(sums["w"] > 0)
    return out.fillna(plain).where(sums["one"] > 0)


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def add_scenario_scores(frame: pd.DataFrame, *, config: Mapping[str, Any]) -> pd.DataFrame:
    """Add ``doelgroepconcentratie_laag``/``_hoog``: the score with the low/high target count.

    The score is recomputed with the components of ``[scores.doelgroepconcentratie]`` on
    ``n_doelgroep_laag`` (``_hoog``) and that count over ``n_woningen``; NaN where the count is.
    Frames without the range get NaN columns.

    Examples
    --------
    >>> from woonvoorraad.config import default_config
    >>> f = pd.DataFrame({"n_doelgroep_laag": [150.0], "n_doelgroep_hoog": [np.nan],
    ...                   "n_woningen": [300.0]})
    >>> out = add_scenario_scores(f, config=default_config())
    >>> round(float(out["doelgroepconcentratie_laag"].iloc[0]), 3)  # 0.6*0.5 + 0.4*1.0
    0.7
    """
    out = frame.copy()
    comps = components_from_config(config)["doelgroepconcentratie"]
    n_won = _num(frame, "n_woningen")
    for suffix in SCENARIOS:
        n = _num(frame, f"n_doelgroep{suffix}")
        work = pd.DataFrame({"n_doelgroep": n,
                             "aandeel_doelgroep": n / n_won.where(n_won > 0)}, index=frame.index)
        score, _ = compute_score(work, comps)
        out[f"doelgroepconcentratie{suffix}"] = score["doelgroepconcentratie"].where(n.notna())
    return out


def _unit_columns() -> list[str]:
    scen = [f"doelgroepconcentratie{s}" for s in SCENARIOS]
    return [*SCORES, *scen, *KENGETALLEN]


def make_units(
    buurten: pd.DataFrame,
    *,
    niveau: str,
    dwellings: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Build the ranking units (buurt, wijk or woonplaats) from scored buurten.

    Returns
    -------
    (pandas.DataFrame, list of str)
        Units with ``gemeentecode``, ``gemeentenaam``, ``niveau``, ``eenheid_code``,
        ``eenheid_naam``, ``buurtcodes``, ``n_buurten``, :data:`TELLINGEN`,
        ``aandeel_doelgroep``, ``aandeel_naoorlogs``, the scores (and their target-group
        scenarios) and :data:`KENGETALLEN`; and remarks.
    """
    if niveau not in NIVEAUS or niveau == "auto":
        raise ConfigError(f"make_units: niveau must be buurt, wijk or woonplaats, got {niveau!r}")
    notes: list[str] = []
    b = buurten.sort_values("buurtcode", kind="mergesort").reset_index(drop=True)
    for col in ("gemeentenaam", "buurtnaam"):
        if col not in b.columns:
            b[col] = pd.NA
    n_won = _num(b, "n_woningen")
    if "n_naoorlogs" not in b.columns and "aandeel_naoorlogs" in b.columns:
        b["n_naoorlogs"] = _num(b, "aandeel_naoorlogs") * n_won
    cols = [*_unit_columns(), *TELLINGEN, "aandeel_doelgroep", "aandeel_naoorlogs"]
    for col in cols:
        if col not in b.columns:
            b[col] = np.nan
    if niveau == "buurt":
        out = pd.DataFrame({
            "gemeentecode": b["gemeentecode"], "gemeentenaam": b["gemeentenaam"],
            "niveau": "buurt", "eenheid_code": b["buurtcode"], "eenheid_naam": b["buurtnaam"],
            "buurtcodes": b["buurtcode"], "n_buurten": 1,
        })
        for col in cols:
            out[col] = _num(b, col)
        return out, notes
    if niveau == "wijk":
        if "wijkcode" not in b.columns:
            raise InputError("buurten lacks wijkcode needed for proeftuin.niveau='wijk'")
        key = b["wijkcode"].astype("string").fillna("onbekend")
        naam = (b["wijknaam"] if "wijknaam" in b.columns else b["wijkcode"]).astype("string")
    else:
        key, bron = assign_woonplaats(b, dwellings)
        naam = key
        notes.append(f"woonplaats: {bron}")
    groups = [b["gemeentecode"].rename("gemeentecode"), key.rename("eenheid_code")]
    g = b.groupby(groups, sort=True)
    out = pd.DataFrame({
        "gemeentenaam": g["gemeentenaam"].first(),
        "eenheid_naam": naam.groupby(groups, sort=True).first(),
        "buurtcodes": g["buurtcode"].agg(lambda s: ",".join(sorted(s))),
        "n_buurten": g["buurtcode"].size(),
    })
    for col in TELLINGEN:
        out[col] = _num(b, col).groupby(groups, sort=True).sum(min_count=1)
    for col in _unit_columns():
        out[col] = _wmean(b[col], b["n_woningen"], groups)
    won = out["n_woningen"].where(out["n_woningen"] > 0)
    out["aandeel_doelgroep"] = out["n_doelgroep"] / won
    out["aandeel_naoorlogs"] = out["n_naoorlogs"] / won
    part_nan = _num(b, "n_doelgroep").isna().groupby(
        groups, sort=True).any() & out["n_doelgroep"].notna()
    if part_nan.any():
        notes.append(f"{int(part_nan.sum())} {niveau}(en) met buurten zonder n_doelgroep: "
                     "som over de bekende buurten")
    out = out.reset_index()
    out.insert(2, "niveau", niveau)
    return out, notes


def woonplaats_units(
    woonplaatsen: pd.DataFrame,
    *,
    config: Mapping[str, Any],
    prognose: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Units from the stock stage's ``woonplaatsen`` table, scored like buurten.

    Parameters
    ----------
    woonplaatsen
        One row per gemeente × woonplaats with ``gemeentecode``, ``woonplaats``,
        ``buurtcodes``, ``n_woningen`` and the buurt count and share columns (contract of the
        stock stage).
    config
        Effective configuration (``[scores]``).
    prognose
        The gemeente forecast given to the buurt scores, if any.

    Returns
    -------
    (pandas.DataFrame, list of str)
        Units as :func:`make_units` returns them (``niveau = "woonplaats"``), and remarks.
    """
    missing = [c for c in ("gemeentecode", "woonplaats", "buurtcodes", "n_woningen")
               if c not in woonplaatsen.columns]
    if missing:
        raise MissingColumnError(f"woonplaatsen table lacks column(s) {missing}")
    w = woonplaatsen.sort_values(["gemeentecode", "woonplaats"], kind="mergesort")
    w = w.reset_index(drop=True).copy()
    if w.duplicated(["gemeentecode", "woonplaats"]).any():
        dup = w.loc[w.duplicated(["gemeentecode", "woonplaats"]), "woonplaats"].tolist()[:5]
        raise InputError(f"woonplaatsen table has duplicate woonplaats rows {dup}")
    n_won = _num(w, "n_woningen")
    if "n_naoorlogs" not in w.columns and "aandeel_naoorlogs" in w.columns:
        w["n_naoorlogs"] = _num(w, "aandeel_naoorlogs") * n_won
    if "aandeel_naoorlogs" not in w.columns:
        w["aandeel_naoorlogs"] = _num(w, "n_naoorlogs") / n_won.where(n_won > 0)
    if "aandeel_doelgroep" not in w.columns:
        w["aandeel_doelgroep"] = _num(w, "n_doelgroep") / n_won.where(n_won > 0)
    # compute_scores keys its rows by buurtcode: give each village a unique key
    w["buurtcode"] = w["gemeentecode"].astype(str) + "/" + w["woonplaats"].astype(str)
    sc = compute_scores(w.drop(columns=list(SCORES), errors="ignore"), config=config,
                        prognose=prognose)
    w = pd.concat([w.drop(columns=sc.frame.columns, errors="ignore"), sc.frame], axis=1)
    w = add_scenario_scores(w, config=config)
    names = w["gemeentenaam"] if "gemeentenaam" in w.columns else pd.Series(pd.NA, index=w.index)
    out = pd.DataFrame({
        "gemeentecode": w["gemeentecode"], "gemeentenaam": names, "niveau": "woonplaats",
        "eenheid_code": w["woonplaats"].astype(str), "eenheid_naam": w["woonplaats"].astype(str),
        "buurtcodes": w["buurtcodes"].astype(str),
        "n_buurten": _num(w, "n_buurten").fillna(
            w["buurtcodes"].astype(str).str.count(",") + 1).astype(int),
    })
    for col in [*_unit_columns(), *TELLINGEN, "aandeel_doelgroep", "aandeel_naoorlogs"]:
        out[col] = _num(w, col)
    notes = [f"woonplaats: tabel woonplaatsen (BAG-woonplaats van elke woning; "
             f"{len(out)} woonplaatsen, scores berekend zoals voor buurten)"]
    return out, notes


def land_density(buurten: pd.DataFrame) -> tuple[pd.Series, str | None]:
    """Dwellings per km² of land per gemeente, from the buurt geometries.

    The land area is the area of the gemeente's buurten without those CBS flags as water
    (``water == "JA"``); the dwellings are all of its buurten's ``n_woningen``. NaN (and a
    remark) when the buurten have no projected geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"gemeentecode": ["GM1", "GM1"], "n_woningen": [300, 0],
    ...                       "water": ["NEE", "JA"]},
    ...                      geometry=[box(0, 0, 2000, 1000), box(0, 0, 5000, 5000)],
    ...                      crs="EPSG:28992")
    >>> land_density(b)[0].tolist()
    [150.0]
    """
    geom = getattr(buurten, "geometry", None) if "geometry" in buurten.columns else None
    crs = getattr(buurten, "crs", None)
    if geom is None or crs is None or not crs.is_projected:
        return (pd.Series(np.nan, index=pd.Index(buurten["gemeentecode"].unique(),
                                                 name="gemeentecode"), dtype=float),
                "woningdichtheid onbekend (buurten zonder geprojecteerde geometrie): "
                "buurtniveau")
    area = pd.Series(buurten.geometry.area.to_numpy() / 1e6, index=buurten.index)
    if "water" in buurten.columns:
        area = area.where(buurten["water"].astype("string").str.upper().ne("JA").fillna(True),
                          0.0)
    gem = buurten["gemeentecode"]
    land = area.groupby(gem, sort=True).sum()
    won = _num(buurten, "n_woningen").groupby(gem, sort=True).sum()
    return (won / land.where(land > 0)).rename("woningen_per_km2_land"), None


def choose_levels(
    buurten: pd.DataFrame,
    woonplaats_eenheden: pd.DataFrame,
    *,
    config: Mapping[str, Any],
) -> tuple[pd.DataFrame, list[str]]:
    """Primary level per gemeente for ``niveau = "auto"``.

    Returns
    -------
    (pandas.DataFrame, list of str)
        Indexed by ``gemeentecode``: ``woningen_per_km2_land``, ``n_woonplaatsen``,
        ``landelijk`` and ``niveau_primair`` ("woonplaats" or "buurt"); and remarks.
    """
    p = config["proeftuin"]
    drempel = float(p["landelijk_max_woningen_per_km2"])
    min_wp = int(p["landelijk_min_woonplaatsen"])
    dens, note = land_density(buurten)
    gem = pd.Index(sorted(buurten["gemeentecode"].astype(str).unique()), name="gemeentecode")
    n_wp = woonplaats_eenheden.groupby("gemeentecode")["eenheid_code"].nunique()
    out = pd.DataFrame(index=gem)
    out["woningen_per_km2_land"] = dens.reindex(gem)
    out["n_woonplaatsen"] = n_wp.reindex(gem).fillna(0).astype(int)
    out["landelijk"] = (out["woningen_per_km2_land"] < drempel) & (
        out["n_woonplaatsen"] >= min_wp)
    out["niveau_primair"] = np.where(out["landelijk"], "woonplaats", "buurt")
    notes = [note] if note else []
    for code, r in out.iterrows():
        d = r["woningen_per_km2_land"]
        dtext = "onbekend" if not np.isfinite(d) else f"{round(d):d}"
        notes.append(f"proeftuinniveau {code}: {r['niveau_primair']} ({dtext} woningen per km² "
                     f"land, drempel {drempel:g}; {r['n_woonplaatsen']} woonplaatsen)")
    return out, notes
