"""The dwelling table: BAG units joined to their building, buurt and energy label.

Rules, each stated once here and in the README:

* **Dwelling** (CBS definition of the woningvoorraad): a verblijfsobject whose gebruiksdoel
  includes ``woonfunctie`` and whose status is one of ``config["dwellings"]["statuses"]``
  (in use, in use (not measured), out of use, under renovation).
* **Build year**: of a unit in several panden, the oldest pand's ``bouwjaar`` (the CBS rule
  for its build-year classes; unknown years are skipped).
* **Main pand**: of a unit in several panden, the one with the largest footprint (ties: lowest
  pand id); the dwelling takes its type and counts towards its dwelling number.
* **Woningtype**: the PBL Vesta touching-neighbours rule (:mod:`woonvoorraad.stock.woningtype`) on
  every pand holding at least one existing unit of any use.
* **Buurt**: the buurt polygon that contains the unit's point (a point on a shared edge goes to
  the lowest buurtcode); units outside every buurt keep NA and are counted in the report.
* **Energy label**: the latest registered EP-Online label (also when it has expired, and
  whatever its calculation method; ``label_geldig_tot`` and ``label_berekeningstype`` say
  which); otherwise the most likely class of the label model fitted on the build's registered
  labels (:mod:`woonvoorraad.stock.labels`), or the PBL default label of the dwelling's type and
  build period where the build falls back to it; ``label_bron`` says which and
  ``p_label_A`` … ``p_label_G`` hold the class probabilities.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from woonvoorraad.config import Config, default_config
from woonvoorraad.sources._bag_ids import parse_int_ids
from woonvoorraad.sources.bag import release_memory
from woonvoorraad.sources.eponline import LABEL_DTYPE
from woonvoorraad.stock import kentallen
from woonvoorraad.stock.woningtype import (
    EENGEZINS,
    WONINGTYPE_DTYPE,
    parallel_map,
    woningtype_from_panden,
)

logger = logging.getLogger(__name__)

#: Unit statuses of objects that do not (or no longer) exist.
NOT_EXISTING = (
    "Verblijfsobject ingetrokken",
    "Niet gerealiseerd verblijfsobject",
    "Verblijfsobject ten onrechte opgevoerd",
)
LABEL_BRON_DTYPE = pd.CategoricalDtype(["geregistreerd", "model", "pbl"])
#: Calculation method of a registered label: NTA 8800 (since 2021) or an older one
#: (NEN 7120 energy index, ISSO 82.x), recorded only; both count as registered labels.
LABEL_METHODE_DTYPE = pd.CategoricalDtype(["NTA 8800", "voor NTA 8800"])


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
    n_label_model: int = 0
    n_label_unknown: int = 0
    n_label_verlopen: int = 0
    #: Where the woonplaats came from (``units.attrs["woonplaats"]`` of the BAG reader) and
    #: the dwellings without one.
    woonplaats: dict[str, Any] = field(default_factory=dict)
    #: The label model's :class:`woonvoorraad.stock.labels.LabelModelResult` (not in
    #: :meth:`as_dict`: the manifest has its own ``label_model`` entry).
    label_model: Any = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form for the manifest."""
        return {k: v for k, v in self.__dict__.items() if k != "label_model"}


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
    mask = _woon_mask(vbo["gebruiksdoel"]) & _in_values(vbo["status"], statuses)
    return pd.Series(mask, index=vbo.index)


def _woon_mask(gebruiksdoel: pd.Series) -> np.ndarray:
    """``woonfunctie`` among the comma-joined uses, tested once per distinct value (case and
    whitespace do not matter: the BAG reader normalises them, other tables may not)."""
    codes, uniques = pd.factorize(gebruiksdoel)
    doel = pd.Series(np.asarray(uniques, dtype=object), dtype="string").str.replace(
        r"\s+", "", regex=True).str.lower()
    woon = ("," + doel + ",").str.contains(",woonfunctie,", regex=False).fillna(False)
    return _decode(codes, woon.to_numpy(dtype=bool))


def _in_values(values: pd.Series, allowed: Sequence[str]) -> np.ndarray:
    """``values.isin(allowed)`` (NA never matches), tested once per distinct value; case and
    runs of whitespace do not matter (``"verblijfsobject in gebruik "`` is in use)."""
    codes, uniques = pd.factorize(values)
    hit = _status_keys(np.asarray(uniques, dtype=object)).isin(
        _status_keys(np.asarray(list(allowed), dtype=object)))
    return _decode(codes, np.asarray(hit, dtype=bool))


def _status_keys(values: np.ndarray) -> pd.Index:
    """Values without surrounding whitespace, inner whitespace as one space, lower case."""
    return pd.Index(pd.Series(values, dtype="string").str.strip().str.replace(
        r"\s+", " ", regex=True).str.lower())


def _decode(codes: np.ndarray, per_unique: np.ndarray) -> np.ndarray:
    """Per-row value of a per-unique boolean (False for missing, code -1)."""
    out = np.zeros(len(codes), dtype=bool)
    ok = codes >= 0
    out[ok] = per_unique[codes[ok]]
    return out


def _arrow_strings(values: pd.Series | pd.Index) -> pa.Array:
    """A string column as a (non-large) Arrow string array, nulls for missing."""
    arr = values.array if isinstance(values, pd.Series | pd.Index) else values
    if isinstance(arr, pd.arrays.ArrowStringArray):
        out = arr._pa_array.combine_chunks()  # no copy into Python objects
    else:
        obj = np.asarray(values, dtype=object)
        out = pa.array(obj, type=pa.string(), from_pandas=True)
    return out if out.type == pa.string() else pc.cast(out, pa.string())


def _lookup(keys: pa.Array, table: pa.Array) -> np.ndarray:
    """Row of each key in ``table`` (first occurrence), -1 when absent or null.

    Plain 16-digit ids are matched as int64 with a sorted search; anything else by hashing.
    """
    k_null = keys.is_null().to_numpy(zero_copy_only=False)
    k_int = parse_int_ids(pc.fill_null(keys, "0" * 16)) if len(keys) else np.zeros(0, np.int64)
    t_int = parse_int_ids(table) if len(table) else np.zeros(0, np.int64)
    if k_int is not None and t_int is not None:
        order = np.argsort(t_int, kind="stable")
        ordered = t_int[order]
        pos = np.searchsorted(ordered, k_int)
        pos_c = np.minimum(pos, max(len(ordered) - 1, 0))
        found = (pos < len(ordered)) & (ordered[pos_c] == k_int) if len(ordered) else \
            np.zeros(len(k_int), dtype=bool)
        rows = np.where(found, order[pos_c] if len(ordered) else -1, -1)
    else:
        index = pd.Index(pa.chunked_array([table]).to_pandas(), dtype=object)
        rows = index.get_indexer(pd.Index(pa.chunked_array([keys]).to_pandas(), dtype=object))
    rows = np.asarray(rows, dtype=np.int64)
    rows[k_null] = -1
    return rows


def _link_table(vbo: pd.DataFrame, panden: pd.DataFrame) -> pd.DataFrame:
    """One row per (unit row, pand row) link; pand row -1 when the pand is not in ``panden``.

    Units in one pand (almost all) give one link without splitting strings; only the
    comma-joined ``pand_ids`` are split.
    """
    ids = pc.fill_null(_arrow_strings(vbo["pand_ids"]), "")
    multi = pc.match_substring(ids, ",").to_numpy(zero_copy_only=False)
    single_rows = np.flatnonzero(~multi)
    multi_rows = np.flatnonzero(multi)
    parts = pc.split_pattern(ids.take(pa.array(multi_rows)), ",")
    vbo_row = np.concatenate([
        single_rows, multi_rows[pc.list_parent_indices(parts).to_numpy(zero_copy_only=False)]])
    pand_id = pa.concat_arrays([ids.take(pa.array(single_rows)),
                                pc.cast(pc.list_flatten(parts), pa.string())])
    keys = pc.if_else(pc.equal(pand_id, ""), pa.scalar(None, pa.string()), pand_id)
    pand_row = _lookup(keys, _arrow_strings(panden["pand_id"]))
    links = pd.DataFrame({"vbo_row": vbo_row.astype(np.int64),
                          "pand_id": pa.chunked_array([pand_id]).to_pandas(),
                          "pand_row": pand_row})
    return links


def _take_strings(values: pa.Array, rows: np.ndarray) -> pd.Series:
    """``values[rows]`` as a pandas ``string`` Series; NA where ``rows`` is -1."""
    taken = values.take(pa.array(np.clip(rows, 0, None), mask=rows < 0)) if len(values) else \
        pa.nulls(len(rows), pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([taken])), dtype="string")


def assign_buurten(points: gpd.GeoSeries, buurten: gpd.GeoDataFrame, *,
                   chunk_size: int = 500_000) -> np.ndarray:
    """Row number in ``buurten`` of the polygon containing each point, -1 if none.

    A point on the edge of two buurten goes to the one with the lowest buurtcode.

    Candidates come from an STRtree of the buurten (bounding boxes), then one vectorised
    point-in-polygon test on prepared polygons (:func:`shapely.intersects_xy`), in chunks
    spread over threads (shapely releases the GIL; each thread prepares its own copy of the
    polygons, because GEOS prepared geometries are not safe to share between threads).
    Geometries that are not points are tested with ``intersects`` directly.
    """
    n = len(points)
    result = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(buurten) == 0:
        return result
    order = np.argsort(buurten["buurtcode"].astype(str).to_numpy(), kind="stable")
    polys = np.asarray(buurten.geometry.values)[order]
    tree = shapely.STRtree(polys)
    tree.query(polys[:1])  # build the tree now, not lazily inside a thread
    # GEOS builds a prepared polygon's point locator lazily, which is not thread-safe:
    # every thread prepares its own copy of the polygons
    wkb = shapely.to_wkb(polys)
    local = threading.local()

    def prepared() -> np.ndarray:
        if not hasattr(local, "polys"):
            local.polys = shapely.from_wkb(wkb)
            shapely.prepare(local.polys)
        return local.polys

    geoms = np.asarray(points.values)
    types = shapely.get_type_id(geoms)
    x, y = shapely.get_x(np.where(types == 0, geoms, None)), shapely.get_y(
        np.where(types == 0, geoms, None))
    best = np.full(n, len(polys), dtype=np.int64)

    def chunk(bounds: tuple[int, int]) -> None:
        lo, hi = bounds
        own = prepared()
        pt, poly = tree.query(geoms[lo:hi])
        is_pt = types[lo:hi][pt] == 0
        hit = np.zeros(len(pt), dtype=bool)
        hit[is_pt] = shapely.intersects_xy(own[poly[is_pt]], x[lo:hi][pt[is_pt]],
                                           y[lo:hi][pt[is_pt]])
        other = ~is_pt
        if other.any():
            hit[other] = shapely.intersects(geoms[lo:hi][pt[other]], own[poly[other]])
        # keep the lowest code position per point
        pt, poly = pt[hit] + lo, poly[hit]
        first = np.ones(len(pt), dtype=bool)
        if len(pt):
            srt = np.lexsort((poly, pt))
            pt, poly = pt[srt], poly[srt]
            first[1:] = pt[1:] != pt[:-1]
        best[pt[first]] = poly[first]

    bounds = [(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]
    parallel_map(chunk, bounds)
    inside = best < len(polys)
    result[inside] = order[best[inside]]
    return result


def _woonplaats(vbo: pd.DataFrame, rows: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """The BAG woonplaats of the dwellings (Arrow strings; all NA without the column).

    Strings, not a categorical: the tiles of the dask engine have different categories,
    and a Parquet round trip of an all-missing categorical comes back as ``object``."""
    if "woonplaats" not in vbo.columns:
        return pd.array([None] * len(rows), dtype="string[pyarrow]")
    return pd.array(vbo["woonplaats"].to_numpy(dtype=object, na_value=None)[rows],
                    dtype="string[pyarrow]")


def _registration_year(geldig_tot: np.ndarray) -> np.ndarray:
    """Registration year (with fraction) of a label from its ``GeldigTot``: an EP-Online
    label is valid for ten years from its registration. NaN where there is no label."""
    days = geldig_tot.astype("datetime64[D]")
    ok = ~np.isnat(days)
    years = np.full(len(days), np.nan)
    years[ok] = 1970 + days[ok].astype(np.int64) / 365.2425 - 10
    return years


def _label_tables(labels_dtype: pd.CategoricalDtype) -> tuple[np.ndarray, np.ndarray]:
    """PBL default label per (woningtype code, period code): label code and 'has a label'."""
    table = kentallen.read_pbl_kentallen()
    wt = pd.Categorical(table["woningtype"], dtype=WONINGTYPE_DTYPE).codes
    per = pd.Categorical(table["pbl_periode"], dtype=kentallen.PERIOD_DTYPE).codes
    lab = pd.Categorical(table["default_label"], dtype=labels_dtype).codes
    codes = np.full((len(WONINGTYPE_DTYPE.categories), len(kentallen.PERIOD_DTYPE.categories)),
                    -1, dtype=np.int16)
    present = np.zeros(codes.shape, dtype=bool)
    ok = (wt >= 0) & (per >= 0)
    codes[wt[ok], per[ok]] = lab[ok]
    present[wt[ok], per[ok]] = table["default_label"].notna().to_numpy()[ok]
    return codes, present


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
        Canonical ``panden`` (:func:`woonvoorraad.sources.bag.read_panden`).
    vbo
        Canonical ``verblijfsobjecten`` (:func:`woonvoorraad.sources.bag.read_verblijfsobjecten`),
        all uses — non-residential units matter for the neighbour rule.
    buurten
        Buurten with ``buurtcode``, ``wijkcode``, ``gemeentecode`` and polygons.
    labels
        Registered labels (:func:`woonvoorraad.sources.eponline.read_ep_online`), optional.
    config
        Effective configuration (default: the packaged defaults).

    Returns
    -------
    tuple
        The dwelling GeoDataFrame (schema in ``docs/schema.md``) and a
        :class:`DwellingReport`.

    Notes
    -----
    Everything is vectorised (no Python loop over units or panden): string tests run once per
    distinct value, ids are joined as int64, strings stay in Arrow, and the spatial steps use
    spatial indexes with their work spread over threads. The work is done in two stages,
    :func:`pand_stage` (everything that needs the footprints) and :func:`dwelling_stage`;
    the build calls them separately so that the footprints can be freed in between.
    """
    cfg = config or default_config()
    stage = pand_stage(panden, vbo, config=cfg)
    return dwelling_stage(stage, vbo, buurten, labels=labels, config=cfg)


@dataclass
class PandStage:
    """What the dwelling table needs from the panden (see :func:`pand_stage`).

    Attributes
    ----------
    existing, dwelling
        Per unit: it exists (not withdrawn, not realised, wrongly registered); it is a
        dwelling by the CBS definition.
    pand_row
        Per unit: row of its main pand in ``panden`` (-1 when none is known).
    bouwjaar
        Per unit: the oldest build year of its panden (NaN when unknown).
    type_code
        Per pand: woningtype code in :data:`woonvoorraad.stock.woningtype.WONINGTYPE_DTYPE`
        (-1 for panden without a dwelling type).
    pand_ids
        The pand ids (Arrow strings), for the ``pand_id`` column.
    report
        The counts so far.
    footprint, perimeter
        Per pand: footprint area (m²) and perimeter (m), features of the label model (None
        when not known, as in the dask engine).
    """

    existing: np.ndarray
    dwelling: np.ndarray
    pand_row: np.ndarray
    bouwjaar: np.ndarray
    type_code: np.ndarray
    pand_ids: pa.Array
    report: DwellingReport
    footprint: np.ndarray | None = None
    perimeter: np.ndarray | None = None


def unit_flags(vbo: pd.DataFrame, cfg: Config) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Per unit: exists, is a dwelling; and residential units excluded, by status."""
    existing = ~_in_values(vbo["status"], NOT_EXISTING)
    woon = _woon_mask(vbo["gebruiksdoel"])
    dwelling = woon & _in_values(vbo["status"], cfg["dwellings"]["statuses"])
    excl_rows = np.flatnonzero(woon & ~dwelling & vbo["status"].notna().to_numpy())
    excluded = vbo["status"].iloc[excl_rows].astype(object).value_counts()
    return existing, dwelling, {str(k): int(v) for k, v in excluded.items()}


def resolve_links(links: pd.DataFrame, *, existing: np.ndarray, dwelling: np.ndarray,
                  footprint: np.ndarray, bouwjaar: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Main pand and build year of every unit from its links (:func:`_link_table`).

    Build year: the oldest linked pand (CBS rule). Main pand (type, dwelling count): the
    largest linked footprint; ties go to the lowest pand id. Only links of existing units
    count. Units in one pand (almost all) need no sorting.

    Returns
    -------
    tuple
        ``pand_row`` and ``bouwjaar`` per unit, the number of dwellings in several panden,
        and the pand row of every counted link (-1 when the pand is unknown).
    """
    n_vbo, n_pand = len(existing), len(footprint)
    links = links.loc[existing[links["vbo_row"].to_numpy()]]
    l_vbo = links["vbo_row"].to_numpy()
    l_row = links["pand_row"].to_numpy()
    found = l_row >= 0
    safe_row = np.clip(l_row, 0, None)
    l_year = np.where(found, bouwjaar[safe_row] if n_pand else np.nan, np.nan)
    n_links = np.bincount(l_vbo, minlength=n_vbo)
    n_multi = int(((n_links > 1) & dwelling).sum())
    one = n_links[l_vbo] == 1
    pand_row = np.full(n_vbo, -1, dtype=np.int64)
    unit_bouwjaar = np.full(n_vbo, np.nan)
    pand_row[l_vbo[one]] = l_row[one]
    unit_bouwjaar[l_vbo[one]] = l_year[one]
    if (~one).any():
        many = pd.DataFrame({"vbo_row": l_vbo[~one], "pand_id": links["pand_id"].to_numpy()[~one],
                             "pand_row": l_row[~one], "bouwjaar": l_year[~one],
                             "neg_area": np.where(found[~one], -footprint[safe_row[~one]]
                                                  if n_pand else np.inf, np.inf)})
        main = (many.sort_values(["vbo_row", "neg_area", "pand_id"], kind="mergesort")
                .drop_duplicates("vbo_row"))
        pand_row[main["vbo_row"].to_numpy()] = main["pand_row"].to_numpy()
        oldest = many.groupby("vbo_row")["bouwjaar"].min()
        unit_bouwjaar[oldest.index.to_numpy()] = oldest.to_numpy()
    return pand_row, unit_bouwjaar, n_multi, l_row


def pand_loads(pand_row: np.ndarray, *, existing: np.ndarray, dwelling: np.ndarray,
               area: np.ndarray, n_pand: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pand: dwellings and summed floor area (m²) of existing units with it as main pand."""
    has_main = pand_row >= 0
    n_won = np.bincount(pand_row[dwelling & has_main], minlength=n_pand)
    floor = np.bincount(pand_row[existing & has_main],
                        weights=np.nan_to_num(area[existing & has_main]), minlength=n_pand)
    return n_won, floor


def pand_stage(panden: gpd.GeoDataFrame, vbo: pd.DataFrame, *,
               config: Config | None = None) -> PandStage:
    """Unit → pand links, build years and the woningtype of every pand holding a unit.

    Parameters
    ----------
    panden
        Canonical ``panden``.
    vbo
        Canonical units; the geometry is not used (a plain DataFrame will do).
    config
        Effective configuration.

    Returns
    -------
    PandStage
    """
    cfg = config or default_config()
    report = DwellingReport(n_units=len(vbo))
    vbo = vbo.reset_index(drop=True)
    panden = panden.reset_index(drop=True)
    n_pand = len(panden)
    existing, dwelling, report.excluded_by_status = unit_flags(vbo, cfg)
    links = _link_table(vbo, panden)
    bouwjaar = panden["bouwjaar"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    footprint = shapely.area(np.asarray(panden.geometry.values))
    pand_row, unit_bouwjaar, report.n_multi_pand, l_row = resolve_links(
        links, existing=existing, dwelling=dwelling, footprint=footprint, bouwjaar=bouwjaar)
    found = l_row >= 0
    del links
    release_memory()

    # the neighbour rule runs over panden that hold at least one existing unit
    is_linked = np.zeros(n_pand, dtype=bool)
    is_linked[l_row[found]] = True
    linked_panden = np.flatnonzero(is_linked)
    n_won, floor = pand_loads(pand_row, existing=existing, dwelling=dwelling,
                              area=vbo["oppervlakte"].to_numpy(dtype=float), n_pand=n_pand)
    wt_cfg = cfg["woningtype"]
    types = woningtype_from_panden(
        panden.iloc[linked_panden], n_woningen=n_won[linked_panden],
        vloeroppervlak=floor[linked_panden], buffer_m=wt_cfg["buffer_m"],
        hoog_min_lagen=wt_cfg["meergezins_hoog_min_lagen"],
        bruto_netto_factor=wt_cfg["bruto_netto_factor"],
    )
    type_code = np.full(n_pand, -1, dtype=np.int8)
    type_code[linked_panden] = types.cat.codes.to_numpy()
    return PandStage(existing=existing, dwelling=dwelling, pand_row=pand_row,
                     bouwjaar=unit_bouwjaar, type_code=type_code,
                     pand_ids=_arrow_strings(panden["pand_id"]), report=report,
                     footprint=footprint.astype(np.float32),
                     perimeter=shapely.length(np.asarray(panden.geometry.values)).astype(
                         np.float32))


def dwelling_stage(
    stage: PandStage,
    vbo: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
    *,
    labels: pd.DataFrame | None = None,
    config: Config | None = None,
    crs: Any = None,
    estimate: bool = True,
) -> tuple[gpd.GeoDataFrame, DwellingReport]:
    """The dwelling table from a :class:`PandStage`: buurt, label and the output columns.

    Parameters
    ----------
    stage
        Result of :func:`pand_stage` for the same ``vbo``.
    vbo
        The units: a GeoDataFrame with points, or a DataFrame with ``x`` and ``y`` columns
        (NaN for a unit without a location), from which the dwellings' points are made.
    buurten
        Buurten with ``buurtcode``, ``wijkcode``, ``gemeentecode`` and polygons.
    labels
        Registered labels, optional.
    config
        Effective configuration.
    crs
        CRS of ``x``/``y`` (default: that of ``vbo``, else EPSG:28992).
    estimate
        Fit and apply the label model (``[labels]``); False: PBL default labels (the dask
        engine's tiles, which see part of the labels only).

    Returns
    -------
    tuple
        The dwelling GeoDataFrame and the :class:`DwellingReport`.
    """
    cfg = config or default_config()
    report = stage.report
    vbo = vbo.reset_index(drop=True)
    d_idx = np.flatnonzero(stage.dwelling)
    d_pand = stage.pand_row[d_idx]
    has_pand = d_pand >= 0
    report.n_without_pand = int((~has_pand).sum())
    out = pd.DataFrame({
        "vbo_id": _take_strings(_arrow_strings(vbo["vbo_id"]), d_idx),
        "pand_id": _take_strings(stage.pand_ids, np.where(has_pand, d_pand, -1)),
    })
    out["bouwjaar"] = pd.array(stage.bouwjaar[d_idx], dtype="Float64").round().astype("Int16")
    report.n_without_bouwjaar = int(out["bouwjaar"].isna().sum())
    out["bouwperiode"] = kentallen.bouwperiode_from_bouwjaar(out["bouwjaar"])
    per = cfg["periods"]
    bj = out["bouwjaar"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        out["naoorlogs"] = (bj >= per["naoorlogs_start"]) & (bj <= per["naoorlogs_end"])
    n_pand = len(stage.type_code)
    wt_codes = np.where(has_pand, stage.type_code[np.clip(d_pand, 0, None)] if n_pand else -1,
                        -1)
    out["woningtype"] = pd.Categorical.from_codes(wt_codes, dtype=WONINGTYPE_DTYPE)
    out["eengezins"] = out["woningtype"].isin(EENGEZINS).to_numpy()
    out["oppervlakte"] = vbo["oppervlakte"].to_numpy(dtype=float)[d_idx]
    out["woonplaats"] = _woonplaats(vbo, d_idx)
    info = dict(vbo.attrs.get("woonplaats") or {})
    report.woonplaats = {**{k: v for k, v in info.items()
                            if k in ("beschikbaar", "methode", "ontbrekende_lagen",
                                     "ontbrekende_kolommen")},
                         "n_woningen_zonder_woonplaats": int(out["woonplaats"].isna().sum())}

    # the dwellings' points
    if isinstance(vbo, gpd.GeoDataFrame):
        points = np.asarray(vbo.geometry.values)[d_idx]
        crs = vbo.crs if crs is None else crs
    else:
        xy = np.column_stack([vbo["x"].to_numpy(dtype=float)[d_idx],
                              vbo["y"].to_numpy(dtype=float)[d_idx]])
        points = np.full(len(d_idx), None, dtype=object)
        valid = np.isfinite(xy).all(axis=1)
        points[valid] = shapely.points(xy[valid])
        crs = crs or "EPSG:28992"

    # buurt by point-in-polygon
    b_row = assign_buurten(gpd.GeoSeries(points, crs=crs), buurten)
    inside = b_row >= 0
    report.n_outside_buurten = int((~inside).sum())
    for col in ("buurtcode", "wijkcode", "gemeentecode"):
        out[col] = _take_strings(_arrow_strings(buurten[col].astype(object)), b_row)

    _assign_labels(out, labels, wt_codes=wt_codes, points=points, d_pand=d_pand,
                   stage=stage, report=report, cfg=cfg, estimate=estimate)
    report.n_dwellings = len(out)

    gdf = gpd.GeoDataFrame(out, geometry=points, crs=crs)
    _log_report(report)
    return gdf, report


def _assign_labels(out: pd.DataFrame, labels: pd.DataFrame | None, *, wt_codes: np.ndarray,
                   points: np.ndarray, d_pand: np.ndarray, stage: PandStage,
                   report: DwellingReport, cfg: Config, estimate: bool) -> None:
    """The label columns of ``out`` (in place): registered, model or PBL default."""
    from woonvoorraad.stock import labels as label_model

    n = len(out)
    reg_code = np.full(n, -1, dtype=np.int16)
    has_reg = np.zeros(n, dtype=bool)
    geldig = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    methode = np.full(n, -1, dtype=np.int8)
    if labels is not None and len(labels):
        lab = labels.drop_duplicates("vbo_id", keep="last")
        rows = _lookup(_arrow_strings(out["vbo_id"]), _arrow_strings(lab["vbo_id"]))
        lab_values = lab["energielabel"].astype(object)
        lab_codes = pd.Categorical(lab_values, dtype=LABEL_DTYPE).codes
        lab_present = lab_values.notna().to_numpy()
        matched = rows >= 0
        safe = np.clip(rows, 0, None)
        has_reg = matched & lab_present[safe]
        reg_code = np.where(matched, lab_codes[safe], -1).astype(np.int16)
        if "geldig_tot" in lab.columns and len(lab):
            g = pd.to_datetime(lab["geldig_tot"]).to_numpy(dtype="datetime64[ns]")
            geldig = np.where(has_reg, g[safe], np.datetime64("NaT"))
        if "berekeningstype" in lab.columns and len(lab):
            text = lab["berekeningstype"].astype("string")
            code = np.where(text.str.contains("NTA 8800", regex=False).fillna(False), 0,
                            np.where(text.fillna("").str.strip() != "", 1, -1)).astype(np.int8)
            methode = np.where(has_reg, code[safe], -1).astype(np.int8)
    est_table, est_present = _label_tables(LABEL_DTYPE)
    per_code = out["bouwperiode"].cat.codes.to_numpy()
    known = (wt_codes >= 0) & (per_code >= 0)
    est_code = np.full(n, -1, dtype=np.int16)
    est_code[known] = est_table[wt_codes[known], per_code[known]]
    has_est = np.zeros(n, dtype=bool)
    has_est[known] = est_present[wt_codes[known], per_code[known]]
    est_code = np.where(has_est, est_code, -1).astype(np.int16)
    reg_class = np.where(has_reg, label_model.class_from_codes(reg_code), -1)
    pbl_class = label_model.class_from_codes(est_code)
    label_code = np.where(has_reg, reg_code, est_code).astype(np.int16)
    bron = np.where(has_reg, 0, np.where(has_est, 2, -1))
    prob = label_model.one_hot(np.where(has_reg, reg_class, pbl_class))

    if estimate:
        xy = np.full((n, 2), np.nan)
        is_pt = np.array([p is not None for p in points], dtype=bool) if n else np.zeros(0, bool)
        if is_pt.any():
            geoms = points[is_pt]
            xy[is_pt, 0], xy[is_pt, 1] = shapely.get_x(geoms), shapely.get_y(geoms)
        has_pand = d_pand >= 0

        def per_pand(values: np.ndarray | None) -> np.ndarray:
            if values is None or not len(values):
                return np.full(n, np.nan)
            return np.where(has_pand, values[np.clip(d_pand, 0, None)], np.nan)

        result = label_model.estimate_labels(
            out, label_class=reg_class, pbl_class=pbl_class, x=xy[:, 0], y=xy[:, 1],
            pand_oppervlak=per_pand(stage.footprint), pand_omtrek=per_pand(stage.perimeter),
            config=cfg, label_jaar=_registration_year(geldig))
        if result.probabilities is not None:
            rows = np.flatnonzero(~has_reg)
            prob[rows] = result.probabilities
            best = result.probabilities.argmax(axis=1)
            # class index 0 … 6 back to LABEL_DTYPE codes of A … G
            label_code[rows] = best + LABEL_DTYPE.categories.get_loc("A")
            bron[rows] = 1
    else:
        result = label_model.LabelModelResult(
            "pbl", "label model not run here (engine dask: tiles see part of the labels "
            "only); PBL default labels")
    out["energielabel"] = pd.Categorical.from_codes(label_code, dtype=LABEL_DTYPE)
    out["label_bron"] = pd.Categorical.from_codes(bron, dtype=LABEL_BRON_DTYPE)
    for j, col in enumerate(label_model.P_COLUMNS):
        out[col] = prob[:, j]
    out["label_geldig_tot"] = geldig.astype("datetime64[ms]")  # as Parquet stores it
    out["label_berekeningstype"] = pd.Categorical.from_codes(methode, dtype=LABEL_METHODE_DTYPE)
    report.n_label_registered = int(has_reg.sum())
    report.n_label_model = int((bron == 1).sum())
    report.n_label_estimated = int(((bron == 1) | (bron == 2)).sum())
    report.n_label_unknown = int((bron == -1).sum())
    today = np.datetime64(dt.date.today(), "ns")
    report.n_label_verlopen = int((has_reg & (geldig < today)).sum())
    result.info.setdefault("n_verlopen", report.n_label_verlopen)
    report.label_model = result
    if labels is not None:
        check_label_match(labels, n_registered=report.n_label_registered, n_dwellings=n)


#: A label file that gives a registered label to fewer than this share of the dwellings is
#: reported: it is most likely the file of another region (the national file labels over
#: half of the dwellings).
MIN_LABEL_SHARE = 0.01


def check_label_match(labels: pd.DataFrame, *, n_registered: int, n_dwellings: int,
                      source: str | None = None) -> bool:
    """Warn when (almost) no dwelling finds its registered label in the label table.

    A label file of another region (or of ligplaatsen only) reads without error, and every
    dwelling then silently gets an estimated label. It is reported when none, or fewer than
    :data:`MIN_LABEL_SHARE` of the dwellings, have a registered label while the file has
    rows. The file name and its number of rows come from ``labels.attrs`` as set by
    :func:`woonvoorraad.sources.eponline.read_ep_online` (which may have filtered the rows already).

    Returns
    -------
    bool
        Whether it warned.
    """
    name = source or labels.attrs.get("source") or "the label table"
    n_rows = int(labels.attrs.get("rows_with_id", len(labels)))
    if n_rows == 0 or n_dwellings == 0:
        return False
    share = n_registered / n_dwellings
    if n_registered and share >= MIN_LABEL_SHARE:
        return False
    logger.warning("%s: only %d of the %d dwellings (%.2f %%) match one of its %d label "
                   "row(s) (expected well over %g %%): is it the EP-Online file of another "
                   "region? The other dwellings get an estimated label (PBL default)", name,
                   n_registered, n_dwellings, 100 * share, n_rows, 100 * MIN_LABEL_SHARE)
    return True


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
    logger.info("energy labels: %d registered (%d expired, still used), %d estimated by the "
                "label model, %d PBL default, %d unknown", r.n_label_registered,
                r.n_label_verlopen, r.n_label_model, r.n_label_estimated - r.n_label_model,
                r.n_label_unknown)
