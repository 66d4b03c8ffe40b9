"""Indicators per woonplaats (kern, dorp): the village level a rural council thinks in.

CBS buurten do not follow village borders: a rural buurt "Verspreide huizen <dorp>" holds the
farms around a village and sometimes a hamlet with its own BAG woonplaats, and a small village
may be split over buurten. The village figures therefore come from the dwellings, not from
summing buurten:

* **Counts** (dwellings, post-war, types, labels, expected label classes) are summed over the
  village's dwellings, exactly as the buurt counts are (:func:`~woonvoorraad.stock.indicators.
  partial_counts` keyed by village).
* **CBS figures** (shares, means, WOZ, income, trends) are known per buurt only; a village gets
  the mean of its buurten's figures weighted by the number of its dwellings in each.
  Population counts (inwoners, huishoudens, 65+) are apportioned by the same dwelling shares.
* **Target group** (:mod:`~woonvoorraad.stock.doelgroep`): the owner chance and the WOZ and
  income probabilities of each buurt applied to the village's post-war dwellings in that buurt,
  summed, with the same low–high range.

* **Where** (``x_rd``, ``y_rd``, EPSG:28992): the dwelling nearest the median point of the
  village's dwellings, so the point a map puts the village on lies in its core, never in a
  field between two halves of a spread-out village.

Dwellings without a BAG woonplaats are left out and counted (``n_zonder_woonplaats`` in the
result's ``attrs``).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from woonvoorraad._validate import RD_NEW
from woonvoorraad.config import Config
from woonvoorraad.stock import doelgroep, indicators

logger = logging.getLogger(__name__)

#: Buurt figures carried to villages as dwelling-weighted means.
MEANS = ("aandeel_65plus", "gemiddelde_huishoudsgrootte", "woz_gemiddeld", "aandeel_koop",
         "aandeel_huur", "aandeel_corporatie", "gasverbruik_gemiddeld", "inkomen_per_inwoner",
         "aandeel_laag_inkomen", "aandeel_sociaal_minimum", "aandeel_eengezins_cbs",
         "trend_inwoners", "trend_huishoudens", "trend_65plus", "inkomen_eigenaren_geschat",
         "inkomen_eigenaren_sigma", "aandeel_eigenaren_onder_daeb", "woz_grens", "cbs_jaar",
         "inkomen_eigenaar_huurder")
#: Buurt counts apportioned to villages by their share of the buurt's dwellings.
APPORTIONED = ("aantal_inwoners", "aantal_huishoudens", "aantal_65plus")


def woonplaats_indicators(dwellings: pd.DataFrame, buurten: pd.DataFrame, *, config: Config,
                          label_fout: float | None = None) -> pd.DataFrame | None:
    """One row per gemeente × woonplaats with the buurt table's counts and shares.

    Parameters
    ----------
    dwellings
        The dwelling table (``woonplaats``, ``buurtcode``, ``gemeentecode`` and the columns the
        buurt counts use).
    buurten
        The buurt indicator table (:func:`~woonvoorraad.stock.indicators.buurt_indicators`).
    config
        Effective configuration.
    label_fout
        The label model's validated per-buurt E/F/G error (widens the 90 % intervals as for
        buurten).

    Returns
    -------
    pandas.DataFrame or None
        None (and a log line) when no dwelling has a woonplaats. Columns: ``gemeentecode``,
        ``gemeentenaam``, ``woonplaats``, ``buurtcodes`` (comma-joined, sorted),
        ``n_buurten``, the counts and shares of the buurt table (see ``docs/schema.md``).
    """
    if "woonplaats" not in dwellings.columns or dwellings["woonplaats"].isna().all():
        logger.info("no BAG woonplaats on the dwellings: no village-level figures")
        return None
    wp = dwellings["woonplaats"].astype("string")
    has = wp.notna().to_numpy() & dwellings["buurtcode"].notna().to_numpy()
    n_without = int((~has).sum())
    d = dwellings.loc[has]
    gem = d["gemeentecode"].astype("string").to_numpy()
    key = pd.Series(gem, dtype="string") + "/" + wp[has].reset_index(drop=True)
    keyed = d.assign(buurtcode=key.to_numpy())
    counts = indicators.counts_from_dwellings(keyed, config)
    out = counts[[c for c in counts.columns if c.startswith("n_")]].copy()
    out.index.name = "_key"
    n = indicators.add_shares(out, counts, config, label_fout=label_fout)

    # cells: the village's dwellings per buurt (weights of the CBS figures, target group)
    naoorlogs = d["naoorlogs"].to_numpy(dtype=bool)
    eengezins = d["eengezins"].to_numpy(dtype=bool)
    cells = (pd.DataFrame({"_key": key.to_numpy(), "buurtcode": d["buurtcode"].astype(
                              "string").to_numpy(), "n": 1,
                           "n_eengezins": (naoorlogs & eengezins).astype(int),
                           "n_overig": (naoorlogs & ~eengezins).astype(int)})
             .groupby(["_key", "buurtcode"], sort=True, observed=True).sum().reset_index())
    b = buurten.set_index("buurtcode")
    rows = b.reindex(cells["buurtcode"].to_numpy())
    w = cells["n"].to_numpy(dtype=float)
    for col in MEANS:
        if col in b.columns:
            out[col] = _weighted_mean(cells["_key"], pd.to_numeric(rows[col], errors="coerce"),
                                      w).reindex(out.index)
    share = w / rows["n_woningen"].where(rows["n_woningen"] > 0).to_numpy(dtype=float)
    for col in APPORTIONED:
        if col in b.columns:
            part = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float) * share
            out[col] = (pd.Series(part).groupby(cells["_key"].to_numpy()).sum(min_count=1)
                        .reindex(out.index).round(0))
    params = doelgroep.buurt_parameters(buurten, config).set_axis(
        buurten["buurtcode"].astype(str).to_numpy())
    est = doelgroep.estimate_target_group(cells, params, config, by="_key")
    for col in est.columns:
        out[col] = est[col].reindex(out.index)
    out["aandeel_doelgroep"] = out["n_doelgroep"] / n
    out["aandeel_doelgroep_naoorlogs"] = out["n_doelgroep"] / out["n_naoorlogs"].where(
        out["n_naoorlogs"] > 0)

    punten = _village_points(d, key)
    out["x_rd"] = punten["x"].reindex(out.index)
    out["y_rd"] = punten["y"].reindex(out.index)

    buurtcodes = cells.groupby("_key", sort=True)["buurtcode"].agg(
        lambda s: ",".join(sorted(s.astype(str))))
    ident = pd.DataFrame(index=out.index)
    ident["gemeentecode"] = [k.split("/", 1)[0] for k in out.index]
    ident["woonplaats"] = [k.split("/", 1)[1] for k in out.index]
    names = (buurten.drop_duplicates("gemeentecode").set_index("gemeentecode")["gemeentenaam"]
             if "gemeentenaam" in buurten.columns else pd.Series(dtype=object))
    ident["gemeentenaam"] = ident["gemeentecode"].map(names)
    ident["buurtcodes"] = buurtcodes.reindex(out.index)
    ident["n_buurten"] = ident["buurtcodes"].str.count(",") + 1
    result = pd.concat([ident, out.drop(columns=[c for c in out.columns if c.startswith("_")])],
                       axis=1).reset_index(drop=True)
    result = result.sort_values(["gemeentecode", "woonplaats"], kind="mergesort",
                                ignore_index=True)
    result.attrs["n_zonder_woonplaats"] = n_without
    logger.info("woonplaatsen: %d villages in %d gemeenten; %d dwellings without a woonplaats",
                len(result), result["gemeentecode"].nunique(), n_without)
    return result


def _village_points(d: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Per key the RD coordinates (``x``, ``y``) of the dwelling nearest the median point of
    the key's dwellings; NaN for a key without located dwellings (or without a geometry)."""
    geom = d.get("geometry")
    if geom is None:
        return pd.DataFrame(columns=["x", "y"], dtype=float)
    punten = np.asarray(geom.values if hasattr(geom, "values") else geom, dtype=object)
    x, y = shapely.get_x(punten), shapely.get_y(punten)
    crs = getattr(geom, "crs", None)
    frame = pd.DataFrame({"k": key.to_numpy(), "x": x, "y": y})
    frame = frame[np.isfinite(x) & np.isfinite(y)]
    if frame.empty:
        return pd.DataFrame(columns=["x", "y"], dtype=float)
    med = frame.groupby("k", sort=False)[["x", "y"]].transform("median")
    afstand = (frame["x"] - med["x"]) ** 2 + (frame["y"] - med["y"]) ** 2
    kern = frame.loc[afstand.groupby(frame["k"], sort=True).idxmin().to_numpy()]
    kern = kern.set_index("k")[["x", "y"]]
    if crs is not None and crs.to_epsg() != 28992:
        rd = gpd.GeoSeries(gpd.points_from_xy(kern["x"], kern["y"]), crs=crs).to_crs(RD_NEW)
        kern = pd.DataFrame({"x": rd.x.to_numpy(), "y": rd.y.to_numpy()}, index=kern.index)
    return kern


def _weighted_mean(key: pd.Series, values: pd.Series, weights: np.ndarray) -> pd.Series:
    """Per key the mean of ``values`` weighted by ``weights``, ignoring NaN values."""
    v = values.to_numpy(dtype=float)
    ok = np.isfinite(v)
    frame = pd.DataFrame({"k": key.to_numpy(), "wv": np.where(ok, v * weights, 0.0),
                          "w": np.where(ok, weights, 0.0)})
    g = frame.groupby("k", sort=True)[["wv", "w"]].sum()
    return g["wv"] / g["w"].where(g["w"] > 0)


def summary(table: pd.DataFrame | None) -> dict[str, Any]:
    """Facts for the manifest: villages per gemeente and dwellings without a woonplaats."""
    if table is None:
        return {"beschikbaar": False}
    return {"beschikbaar": True, "n_woonplaatsen": len(table),
            "per_gemeente": {str(k): int(v) for k, v in
                             table.groupby("gemeentecode").size().items()},
            "n_zonder_woonplaats": int(table.attrs.get("n_zonder_woonplaats", 0)),
            "n_doelgroep": (None if table["n_doelgroep"].isna().all()
                            else round(float(table["n_doelgroep"].sum()), 1))}
