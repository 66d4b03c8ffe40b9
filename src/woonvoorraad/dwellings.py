"""The dwelling table: BAG units joined to their building, buurt and energy label.

Rules, each stated once here and in the README:

* **Dwelling** (CBS definition of the woningvoorraad): a verblijfsobject whose gebruiksdoel
  includes ``woonfunctie`` and whose status is one of ``config["dwellings"]["statuses"]``
  (in use, in use (not measured), out of use, under renovation).
* **Build year**: of a unit in several panden, the oldest pand's ``bouwjaar`` (the CBS rule
  for its build-year classes; unknown years are skipped).
* **Main pand**: of a unit in several panden, the one with the largest footprint (ties: lowest
  pand id); the dwelling takes its type and counts towards its dwelling number.
* **Woningtype**: the PBL Vesta touching-neighbours rule (:mod:`woonvoorraad.woningtype`) on
  every pand holding at least one existing unit of any use.
* **Buurt**: the buurt polygon that contains the unit's point (a point on a shared edge goes to
  the lowest buurtcode); units outside every buurt keep NA and are counted in the report.
* **Energy label**: the latest registered EP-Online label; otherwise the PBL default label of
  the dwelling's type and build period, with ``label_bron`` saying which.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import kentallen
from .config import Config, default_config
from .eponline import LABEL_DTYPE
from .woningtype import EENGEZINS, woningtype_from_panden

logger = logging.getLogger(__name__)

#: Unit statuses of objects that do not (or no longer) exist.
NOT_EXISTING = (
    "Verblijfsobject ingetrokken",
    "Niet gerealiseerd verblijfsobject",
    "Verblijfsobject ten onrechte opgevoerd",
)
LABEL_BRON_DTYPE = pd.CategoricalDtype(["geregistreerd", "geschat"])


@dataclass
class DwellingReport:
    """What happened to the units on their way into the dwelling table."""

    n_units: int = 0
    n_dwellings: int = 0
    excluded_by_status: dict[str, int] = field(default_factory=dict)
    n_without_pand: int = 0
    n_without_bouwjaar: int = 0
    n_outside_buurten: int = 0
    n_multi_pand: int = 0
    n_label_registered: int = 0
    n_label_estimated: int = 0
    n_label_unknown: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form for the manifest."""
        return dict(self.__dict__)


def is_dwelling(vbo: pd.DataFrame, *, statuses: list[str] | tuple[str, ...]) -> pd.Series:
    """Boolean mask of units that are dwellings by the CBS definition.

    Parameters
    ----------
    vbo
        Units with ``gebruiksdoel`` (comma-joined) and ``status``.
    statuses
        Unit statuses that count (see ``config["dwellings"]["statuses"]``).

    Examples
    --------
    >>> units = pd.DataFrame({
    ...     "gebruiksdoel": ["woonfunctie", "winkelfunctie,woonfunctie", "winkelfunctie",
    ...                      "woonfunctie"],
    ...     "status": ["Verblijfsobject in gebruik"] * 3 + ["Verblijfsobject ingetrokken"]})
    >>> is_dwelling(units, statuses=["Verblijfsobject in gebruik"]).tolist()
    [True, True, False, False]
    """
    doel = vbo["gebruiksdoel"].astype("string").fillna("")
    woon = ("," + doel.str.replace(" ", "", regex=False) + ",").str.contains(",woonfunctie,",
                                                                            regex=False)
    return (woon & vbo["status"].astype(object).isin(list(statuses))).fillna(False).astype(bool)


def _link_table(vbo: pd.DataFrame, panden: pd.DataFrame) -> pd.DataFrame:
    """One row per (unit row, pand row) link; pand row -1 when the pand is not in ``panden``."""
    ids = vbo["pand_ids"].astype("string").fillna("")
    multi = ids.str.contains(",", regex=False)
    single = pd.DataFrame({"vbo_row": np.flatnonzero(~multi.to_numpy()),
                           "pand_id": ids[~multi].to_numpy()})
    exploded = ids[multi].str.split(",").explode()
    many = pd.DataFrame({"vbo_row": vbo.index.get_indexer(exploded.index),
                         "pand_id": exploded.to_numpy()}) if len(exploded) else single.iloc[:0]
    links = pd.concat([single, many], ignore_index=True)
    pand_index = pd.Index(panden["pand_id"])
    links["pand_row"] = pand_index.get_indexer(links["pand_id"])
    return links


def assign_buurten(points: gpd.GeoSeries, buurten: gpd.GeoDataFrame) -> np.ndarray:
    """Row number in ``buurten`` of the polygon containing each point, -1 if none.

    A point on the edge of two buurten goes to the one with the lowest buurtcode.
    """
    n = len(points)
    result = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(buurten) == 0:
        return result
    order = np.argsort(buurten["buurtcode"].astype(str).to_numpy(), kind="stable")
    tree = shapely.STRtree(buurten.geometry.values[order])
    pt, poly = tree.query(np.asarray(points.values), predicate="intersects")
    if len(pt):
        # keep, per point, the lowest position in code order
        best = pd.Series(poly).groupby(pt).min()
        result[best.index.to_numpy()] = order[best.to_numpy()]
    return result


def dwellings_from_bag(
    panden: gpd.GeoDataFrame,
    vbo: gpd.GeoDataFrame,
    buurten: gpd.GeoDataFrame,
    *,
    labels: pd.DataFrame | None = None,
    config: Config | None = None,
) -> tuple[gpd.GeoDataFrame, DwellingReport]:
    """Build the dwelling table from BAG panden and units, CBS buurten and labels.

    Parameters
    ----------
    panden
        Canonical ``panden`` (:func:`woonvoorraad.bag.read_panden`).
    vbo
        Canonical ``verblijfsobjecten`` (:func:`woonvoorraad.bag.read_verblijfsobjecten`),
        all uses — non-residential units matter for the neighbour rule.
    buurten
        Buurten with ``buurtcode``, ``wijkcode``, ``gemeentecode`` and polygons.
    labels
        Registered labels (:func:`woonvoorraad.eponline.read_ep_online`), optional.
    config
        Effective configuration (default: the packaged defaults).

    Returns
    -------
    tuple
        The dwelling GeoDataFrame (schema in ``docs/schema.md``) and a
        :class:`DwellingReport`.
    """
    cfg = config or default_config()
    report = DwellingReport(n_units=len(vbo))
    vbo = vbo.reset_index(drop=True)
    panden = panden.reset_index(drop=True)

    existing = ~vbo["status"].astype(object).isin(NOT_EXISTING).to_numpy()
    dwelling = is_dwelling(vbo, statuses=cfg["dwellings"]["statuses"]).to_numpy()
    woon = is_dwelling(vbo, statuses=list(vbo["status"].astype(object).dropna().unique()))
    excluded = vbo.loc[woon.to_numpy() & ~dwelling, "status"].astype(object).value_counts()
    report.excluded_by_status = {str(k): int(v) for k, v in excluded.items()}

    # unit -> pand links. Build year: the oldest linked pand (CBS rule). Main pand (type,
    # dwelling count): the largest linked footprint; ties go to the lowest pand id.
    links = _link_table(vbo, panden)
    links = links.loc[existing[links["vbo_row"].to_numpy()]]
    found = links["pand_row"].to_numpy() >= 0
    safe_row = np.clip(links["pand_row"].to_numpy(), 0, None)
    bouwjaar = panden["bouwjaar"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    footprint = shapely.area(panden.geometry.values)
    links["bouwjaar"] = np.where(found, bouwjaar[safe_row], np.nan)
    links["neg_area"] = np.where(found, -footprint[safe_row], np.inf)
    main = (links.sort_values(["vbo_row", "neg_area", "pand_id"], kind="mergesort")
            .drop_duplicates("vbo_row"))
    pand_row = np.full(len(vbo), -1, dtype=np.int64)
    pand_row[main["vbo_row"].to_numpy()] = main["pand_row"].to_numpy()
    oldest = links.groupby("vbo_row")["bouwjaar"].min()
    unit_bouwjaar = np.full(len(vbo), np.nan)
    unit_bouwjaar[oldest.index.to_numpy()] = oldest.to_numpy()
    n_links = np.bincount(links["vbo_row"].to_numpy(), minlength=len(vbo))
    report.n_multi_pand = int(((n_links > 1) & dwelling).sum())

    # the neighbour rule runs over panden that hold at least one existing unit
    linked_panden = np.unique(links.loc[links["pand_row"] >= 0, "pand_row"].to_numpy())
    n_won = np.bincount(pand_row[dwelling & (pand_row >= 0)], minlength=len(panden))
    area = vbo["oppervlakte"].to_numpy(dtype=float)
    floor = np.bincount(pand_row[existing & (pand_row >= 0)],
                        weights=np.nan_to_num(area[existing & (pand_row >= 0)]),
                        minlength=len(panden))
    wt_cfg = cfg["woningtype"]
    candidates = panden.iloc[linked_panden]
    types = woningtype_from_panden(
        candidates, n_woningen=n_won[linked_panden], vloeroppervlak=floor[linked_panden],
        buffer_m=wt_cfg["buffer_m"], hoog_min_lagen=wt_cfg["meergezins_hoog_min_lagen"],
        bruto_netto_factor=wt_cfg["bruto_netto_factor"],
    )
    pand_type = pd.Series(pd.Categorical([None] * len(panden), dtype=types.dtype))
    pand_type.iloc[linked_panden] = types.to_numpy()

    # the dwelling table
    d_idx = np.flatnonzero(dwelling)
    d_pand = pand_row[d_idx]
    has_pand = d_pand >= 0
    report.n_without_pand = int((~has_pand).sum())
    out = pd.DataFrame({
        "vbo_id": vbo["vbo_id"].to_numpy()[d_idx],
        "pand_id": np.where(has_pand, panden["pand_id"].to_numpy()[np.clip(d_pand, 0, None)],
                            None),
    })
    out["bouwjaar"] = pd.array(unit_bouwjaar[d_idx], dtype="Float64").round().astype("Int16")
    report.n_without_bouwjaar = int(out["bouwjaar"].isna().sum())
    out["bouwperiode"] = kentallen.bouwperiode(out["bouwjaar"])
    per = cfg["periods"]
    out["naoorlogs"] = (out["bouwjaar"] >= per["naoorlogs_start"]) & (
        out["bouwjaar"] <= per["naoorlogs_end"])
    out["naoorlogs"] = out["naoorlogs"].fillna(False).astype(bool)
    wt = pand_type.to_numpy()[np.clip(d_pand, 0, None)]
    wt[~has_pand] = np.nan
    out["woningtype"] = pd.Categorical(wt, dtype=types.dtype)
    out["eengezins"] = out["woningtype"].isin(EENGEZINS).to_numpy()
    out["oppervlakte"] = area[d_idx]

    # buurt by point-in-polygon
    points = vbo.geometry.iloc[d_idx]
    b_row = assign_buurten(points, buurten)
    inside = b_row >= 0
    report.n_outside_buurten = int((~inside).sum())
    for col in ("buurtcode", "wijkcode", "gemeentecode"):
        values = buurten[col].astype(object).to_numpy()
        out[col] = np.where(inside, values[np.clip(b_row, 0, None)], None)

    # energy labels: registered, else PBL default for type x period
    registered = pd.Series(pd.NA, index=out.index, dtype=object)
    if labels is not None and len(labels):
        lab = labels.drop_duplicates("vbo_id", keep="last").set_index("vbo_id")["energielabel"]
        registered = out["vbo_id"].map(lab.astype(object))
    estimated = kentallen.default_labels(out["woningtype"], out["bouwperiode"])
    has_reg = registered.notna().to_numpy()
    label = np.where(has_reg, registered.to_numpy(dtype=object), estimated.to_numpy())
    out["energielabel"] = pd.Categorical(label, dtype=LABEL_DTYPE)
    bron = np.where(has_reg, "geregistreerd",
                    np.where(pd.notna(estimated.to_numpy()), "geschat", None))
    out["label_bron"] = pd.Categorical(bron, dtype=LABEL_BRON_DTYPE)
    report.n_label_registered = int(has_reg.sum())
    report.n_label_estimated = int((out["label_bron"] == "geschat").sum())
    report.n_label_unknown = int(out["label_bron"].isna().sum())
    report.n_dwellings = len(out)

    for col in ("vbo_id", "pand_id", "buurtcode", "wijkcode", "gemeentecode"):
        out[col] = out[col].astype("string")
    gdf = gpd.GeoDataFrame(out, geometry=points.to_numpy(), crs=vbo.crs)
    _log_report(report)
    return gdf, report


def _log_report(r: DwellingReport) -> None:
    logger.info("dwellings: %d of %d units (CBS definition)", r.n_dwellings, r.n_units)
    if r.excluded_by_status:
        logger.info("residential units excluded by status: %s", r.excluded_by_status)
    if r.n_without_pand:
        logger.warning("%d dwellings refer to a pand that is not in the BAG input; their "
                       "build year and type are unknown", r.n_without_pand)
    if r.n_without_bouwjaar:
        logger.warning("%d dwellings have no known build year", r.n_without_bouwjaar)
    if r.n_outside_buurten:
        logger.warning("%d dwellings lie outside every buurt of the buurten input and are left "
                       "out of the buurt figures", r.n_outside_buurten)
    logger.info("energy labels: %d registered, %d estimated (PBL default), %d unknown",
                r.n_label_registered, r.n_label_estimated, r.n_label_unknown)
