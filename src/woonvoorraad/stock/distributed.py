"""The distributed build engine: ``woonvoorraad build --engine dask``.

The build runs as tasks on a :mod:`dask.distributed` cluster (``--scheduler ADDRESS``, or a
:class:`~distributed.LocalCluster` on this machine), partitioned spatially into tiles, and gives
exactly the same dwellings and buurt figures as in memory, but PBL default labels where none is
registered (no label model). Every rule is the in-memory code, run per partition; what needs the
whole country is done on compact integer arrays.

How the work is split
---------------------
1. **Units** (workers, one task per tile): the units whose point lies in the tile (half-open
   tile boxes, so every unit belongs to exactly one tile; units without a location form one
   more partition) are read with a bbox filter at read time, merged per unit as in the
   in-memory reader, and kept on the worker. The worker sends back only their links to panden,
   the dwelling/existing flags and the floor areas.
2. **Panden** (workers, one task per tile): every pand belongs to the tile holding the first
   vertex of its outline (a point of the pand, so the tile's bbox read returns it; the tiles
   on the rim reach out to infinity). The worker sends back id, FID, build year, footprint
   area and bounding box; duplicate ids are resolved on the client as the in-memory reader
   does.
3. **Links** (client): unit → pand links are resolved exactly as in memory (largest footprint,
   ties to the lowest id; the oldest build year) on int64 ids: about 0.4 GB for the whole
   country. This gives each pand its dwelling count and floor area, and the set of panden that
   hold a unit (the only ones that count as neighbours).
4. **Woningtype with a halo** (workers, one task per tile): a pand's type depends on its
   neighbours within 0.4 m and, for a pand with one neighbour, on that neighbour's neighbours.
   Each task reads (by FID) the linked panden whose bounding box meets the tile grown by a
   margin, classifies them, and keeps the result for the panden it owns only when it is
   provably complete: the pand's box, and for a pand with one neighbour also that neighbour's
   box, grown by 0.4 m, lies inside the area read. Panden that fail the check (very large
   buildings at a tile edge) are classified again with a halo that covers what they need, until
   none is left. Panden touching across a tile edge are therefore classified exactly.
5. **Dwellings** (workers, per tile, on the units kept in step 1): the in-memory
   :func:`~woonvoorraad.stock.dwellings.dwelling_stage` with the main panden's ids, build years and
   types from steps 3-4, the buurten that meet the tile and the labels. Each task writes its
   dwellings as GeoParquet parts per gemeente and returns exact, mergeable per-buurt counts
   (:func:`woonvoorraad.stock.indicators.partial_counts`).
6. **Outputs** (client): the counts are merged
   (:func:`~woonvoorraad.stock.indicators.combine_counts`) and the indicators computed as in
   memory; the parts are concatenated into the same ``dwellings.parquet`` (one row group per
   gemeente) without holding all dwellings at once.

The build returns the dwellings as a lazy :class:`dask_geopandas.GeoDataFrame` with one
partition per gemeente (:func:`dwellings_frame`). With ``--scheduler`` the workers must see the
input files and the output folder at the same paths as the client (a shared file system).
Not supported: the OGC API layout, and units listed in several places with different points
(history rows); both raise a clear error (use the in-memory engine).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyogrio
import shapely

from woonvoorraad import _geoparquet, _validate
from woonvoorraad._geoparquet import geoparquet_table, read_row_group, write_partitioned
from woonvoorraad._timing import Laps
from woonvoorraad.config import Config, default_config
from woonvoorraad.errors import InputError
from woonvoorraad.sources import _bag_arrow, _bag_ids, bag
from woonvoorraad.sources.eponline import LABEL_DTYPE
from woonvoorraad.stock import indicators
from woonvoorraad.stock.dwellings import (
    LABEL_BRON_DTYPE,
    LABEL_METHODE_DTYPE,
    DwellingReport,
    PandStage,
    _arrow_strings,
    _link_table,
    _log_report,
    _lookup,
    dwelling_stage,
    pand_loads,
    resolve_links,
    unit_flags,
)
from woonvoorraad.stock.kentallen import PERIOD_DTYPE
from woonvoorraad.stock.labels import P_COLUMNS
from woonvoorraad.stock.woningtype import WONINGTYPE_DTYPE, neighbour_pairs, woningtype_from_panden

logger = logging.getLogger(__name__)

BBox = tuple[float, float, float, float]

#: Halo around a tile for the neighbour rule (m); larger buildings are handled by re-tries.
HALO_M = 100.0
#: Aim for about this many units per tile.
UNITS_PER_TILE = 150_000
NONE_PART = "_geen_gemeente"


# --------------------------------------------------------------------------------------------
# quiet worker logs: per-tile log lines would clutter the build log; the client logs totals
# --------------------------------------------------------------------------------------------

_QUIET = threading.local()


class _QuietFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_QUIET, "active", False)


_FILTER = _QuietFilter()


_TASK_LOGGERS = ("woonvoorraad.sources.bag", "woonvoorraad.sources._bag_arrow",
                 "woonvoorraad.sources._bag_ids", "woonvoorraad.sources._bag_values",
                 "woonvoorraad.stock.dwellings",
                 "woonvoorraad.stock.woningtype", "woonvoorraad.stock.indicators",
                 "woonvoorraad.stock.kentallen", "woonvoorraad.sources.cbs")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the per-tile log records of the current thread (a logger's filter applies to
    the records it makes, so it goes on every module logger a task uses)."""
    for name in _TASK_LOGGERS:
        log = logging.getLogger(name)
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)
    _QUIET.active = True
    try:
        yield
    finally:
        _QUIET.active = False


# --------------------------------------------------------------------------------------------
# tiles
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tile:
    """A half-open cell of the tile grid: ``x0 <= x < x1``, ``y0 <= y < y1``.

    Cells on the high edge of the grid also own ``x == x1`` / ``y == y1``. With
    ``unbounded=True`` the cells on the rim of the grid reach out to infinity, so that the grid
    covers the whole plane.
    """

    index: int
    x0: float
    y0: float
    x1: float
    y1: float
    first_x: bool
    first_y: bool
    last_x: bool
    last_y: bool

    @property
    def box(self) -> BBox:
        """The closed box (what a bbox read returns)."""
        return (self.x0, self.y0, self.x1, self.y1)

    def outer_box(self) -> BBox:
        """The box reaching out to infinity on the rim of the grid."""
        big = 1e15
        return (-big if self.first_x else self.x0, -big if self.first_y else self.y0,
                big if self.last_x else self.x1, big if self.last_y else self.y1)

    def owns(self, x: np.ndarray, y: np.ndarray, *, unbounded: bool = False) -> np.ndarray:
        """Which of the points this tile owns."""
        lo_x = (x >= self.x0) | (unbounded and self.first_x)
        lo_y = (y >= self.y0) | (unbounded and self.first_y)
        hi_x = (x < self.x1) | (self.last_x & ((x == self.x1) | unbounded))
        hi_y = (y < self.y1) | (self.last_y & ((y == self.y1) | unbounded))
        return lo_x & hi_x & lo_y & hi_y


def make_tiles(region: BBox, n_tiles: int) -> list[Tile]:
    """A grid of about ``n_tiles`` near-square cells covering ``region``."""
    x0, y0, x1, y1 = region
    w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    nx = max(1, round(math.sqrt(n_tiles * w / h)))
    ny = max(1, math.ceil(n_tiles / nx))
    xs = np.linspace(x0, x1, nx + 1)
    ys = np.linspace(y0, y1, ny + 1)
    xs[-1], ys[-1] = x1, y1
    tiles = []
    for j in range(ny):
        for i in range(nx):
            tiles.append(Tile(len(tiles), float(xs[i]), float(ys[j]), float(xs[i + 1]),
                              float(ys[j + 1]), i == 0, j == 0, i == nx - 1, j == ny - 1))
    return tiles


def _expand(box: BBox, m: float) -> BBox:
    return (box[0] - m, box[1] - m, box[2] + m, box[3] + m)


# --------------------------------------------------------------------------------------------
# worker tasks (module-level functions: picklable)
# --------------------------------------------------------------------------------------------

@dataclass
class _Layers:
    """What a task needs to read the BAG file (validated once on the client)."""

    path: Path
    layout: bag.Layout
    v_map: dict[str, str]
    v_cols: list[str]
    v_info: dict[str, Any]
    p_map: dict[str, str]
    p_cols: list[str]
    p_info: dict[str, Any]


def _read_units(layers: _Layers, tile: Tile | None) -> pd.DataFrame:
    """Step 1: the units of one tile (or, for ``None``, the units without a location)."""
    with _quiet():
        if tile is None:
            geom = layers.v_info.get("geometry_name") or "geom"
            cols = ", ".join(f'"{c}"' for c in layers.v_cols)
            sql = (f'SELECT {cols}, "{geom}" FROM "{bag.VBO_LAYER}" '
                   f'WHERE "{geom}" IS NULL OR ST_IsEmpty("{geom}")')
            _, table = pyogrio.read_arrow(layers.path, sql=sql)
            geom_col = geom
        else:
            table, geom_col = _bag_arrow.read_arrow(layers.path, bag.VBO_LAYER, layers.v_cols,
                                              layers.v_info, bbox=tile.box, mask=None)
        units = bag._vbo_from_arrow(table, geom_col, layers.path, layers.layout, layers.v_map,
                                    points=False)
    if tile is not None and len(units):
        units = units.loc[tile.owns(units["x"].to_numpy(), units["y"].to_numpy())]
    else:
        units = units.loc[units["x"].isna().to_numpy()]
    return units.reset_index(drop=True)


def _unit_summary(units: pd.DataFrame, cfg: Config) -> dict[str, Any]:
    """Step 1, what the client needs: links, flags and floor areas."""
    with _quiet():
        existing, dwelling, excluded = unit_flags(units, cfg)
        empty = pd.DataFrame({"pand_id": pd.Series([], dtype="str")})
        links = _link_table(units, empty)
    return {"n": len(units), "existing": existing, "dwelling": dwelling, "excluded": excluded,
            "ids": _arrow_strings(units["vbo_id"]),
            "area": units["oppervlakte"].to_numpy(dtype=float),
            "link_vbo": links["vbo_row"].to_numpy(),
            "link_pand": _arrow_strings(links["pand_id"])}


def _read_panden(layers: _Layers, tile: Tile, region: BBox, clip: bool,
                 bouwjaar_range: tuple[int, int]) -> dict[str, Any]:
    """Step 2: the panden this tile owns: id, FID, build year, area and bounding box.

    A pand belongs to the tile holding the first vertex of its outline (a point of the pand,
    so the tile's bbox read returns it); the rim tiles reach out to infinity. With ``clip``
    only panden that meet ``region`` count, as for an in-memory read with that bbox.
    """
    with _quiet():
        meta, table = pyogrio.read_arrow(layers.path, layer=bag.PAND_LAYER,
                                         columns=layers.p_cols, bbox=tile.outer_box(),
                                         return_fids=True)
        geom_col = meta.get("geometry_name") or "wkb_geometry"
        fids = np.asarray(table.column("fid"))
        geoms = _bag_arrow.decode_geometries(table.column(geom_col))
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        first = np.full((len(geoms), 2), np.nan)
        starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]]) if len(index) else \
            np.zeros(0, dtype=np.int64)
        first[index[starts]] = coords[starts]
        own = tile.owns(first[:, 0], first[:, 1], unbounded=True)
        if clip:
            own &= shapely.intersects(geoms, shapely.box(*region))
        frame = bag._frame(table, geom_col, layers.path, bag.PAND_LAYER, layers.p_map,
                           row_mask=own, geometry=None, keep_voorkomen=True)
    by_fid = np.argsort(fids, kind="stable")
    pos = by_fid[np.searchsorted(fids[by_fid], frame["fid"].to_numpy())] if len(frame) else \
        np.zeros(0, dtype=np.int64)
    geoms = geoms[pos]
    years = pd.to_numeric(frame["bouwjaar"], errors="coerce").astype(float)
    lo, hi = bouwjaar_range
    bad = years.notna() & ((years < lo) | (years > hi))
    ids = _bag_ids.normalise_ids_arrow(pa.array(frame["pand_id"].astype("str").array))
    voorkomen = (frame["voorkomenidentificatie"].astype("str").to_numpy(dtype=object)
                 if "voorkomenidentificatie" in frame.columns else None)
    return {"ids": _cast_string(ids), "fid": fids[pos], "area": shapely.area(geoms),
            "bouwjaar": years.mask(bad).round().to_numpy(dtype=float),
            "bounds": shapely.bounds(geoms), "voorkomen": voorkomen, "n_bad": int(bad.sum()),
            "bad_examples": sorted({int(v) for v in years[bad]})[:5]}


def _cast_string(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Arrow strings (not large), one chunk."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return arr if arr.type == pa.string() else pc.cast(arr, pa.string())


def _woningtype_task(layers: _Layers, box: BBox, *, fids: np.ndarray, bounds: np.ndarray,
                     n_won: np.ndarray, floor: np.ndarray, targets: np.ndarray,
                     cfg: Config) -> dict[str, Any]:
    """Step 4: woningtype of the ``targets`` among the linked panden read for ``box``.

    Returns the type codes of the targets whose result is provably complete, and for the
    others the box their check needs.
    """
    wt = cfg["woningtype"]
    reach = 2 * wt["buffer_m"]
    with _quiet():
        meta, table = pyogrio.read_arrow(layers.path, layer=bag.PAND_LAYER, columns=[],
                                         fids=fids, return_fids=True)
    geom_col = meta.get("geometry_name") or "wkb_geometry"
    got = np.asarray(table.column("fid"))
    order = np.argsort(got)
    pos = order[np.searchsorted(got[order], fids)]
    geoms = _bag_arrow.decode_geometries(table.column(geom_col))[pos]
    frame = gpd.GeoDataFrame(geometry=geoms, crs=_validate.RD_NEW)
    types = woningtype_from_panden(frame, n_woningen=n_won, vloeroppervlak=floor,
                                   buffer_m=wt["buffer_m"],
                                   hoog_min_lagen=wt["meergezins_hoog_min_lagen"],
                                   bruto_netto_factor=wt["bruto_netto_factor"])
    # completeness: the target's box, and that of its single neighbour, grown by the reach
    left, right = neighbour_pairs(geoms, buffer_m=wt["buffer_m"])
    n_nb = np.bincount(left, minlength=len(geoms))
    only = np.full(len(geoms), -1, dtype=np.int64)
    single = n_nb[left] == 1
    only[left[single]] = right[single]
    grown = bounds + np.array([-reach, -reach, reach, reach])
    inside = ((grown[:, 0] >= box[0]) & (grown[:, 1] >= box[1]) & (grown[:, 2] <= box[2])
              & (grown[:, 3] <= box[3]))
    t = targets
    ok = inside[t] & np.where(only[t] >= 0, inside[np.clip(only[t], 0, None)], True)
    need = grown[t[~ok]]
    nb = only[t[~ok]]
    need_nb = np.where((nb >= 0)[:, None], grown[np.clip(nb, 0, None)], need)
    need = np.column_stack([np.minimum(need[:, 0], need_nb[:, 0]),
                            np.minimum(need[:, 1], need_nb[:, 1]),
                            np.maximum(need[:, 2], need_nb[:, 2]),
                            np.maximum(need[:, 3], need_nb[:, 3])])
    return {"done": t[ok], "codes": types.cat.codes.to_numpy()[t[ok]],
            "retry": t[~ok], "retry_box": need}


def _dwellings_task(units: pd.DataFrame, tile_index: int, *, pand_row: np.ndarray,
                    bouwjaar: np.ndarray, n_multi: int, excluded: dict[str, int],
                    type_code: np.ndarray, pand_ids: pa.Array, buurten: gpd.GeoDataFrame,
                    labels: pd.DataFrame | None, cfg: Config, parts_dir: str
                    ) -> dict[str, Any]:
    """Step 5: the tile's dwelling table, written as parts per gemeente; partial counts."""
    with _quiet():
        existing, dwelling, _ = unit_flags(units, cfg)
        report = DwellingReport(n_units=len(units), excluded_by_status=dict(excluded),
                                n_multi_pand=n_multi)
        stage = PandStage(existing=existing, dwelling=dwelling, pand_row=pand_row,
                          bouwjaar=bouwjaar, type_code=type_code, pand_ids=pand_ids,
                          report=report)
        dwell, report = dwelling_stage(stage, units, buurten, labels=labels, config=cfg,
                                       estimate=False)  # PBL defaults (manifest says so)
    counts = indicators.partial_counts(dwell, cfg)
    written: dict[str, dict[str, Any]] = {}
    if len(dwell):
        codes, uniques = pd.factorize(dwell["gemeentecode"], sort=True)
        for k, code in enumerate([*list(uniques), None]):
            rows = np.flatnonzero(codes == (k if code is not None else -1))
            if not len(rows):
                continue
            name = str(code) if code is not None else NONE_PART
            folder = Path(parts_dir) / name
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{tile_index:06d}.parquet"
            pq.write_table(geoparquet_table(dwell.iloc[rows]), target)
            written[name] = {"path": str(target), "rows": len(rows)}
    return {"counts": counts, "report": report.as_dict(), "parts": written}


# --------------------------------------------------------------------------------------------
# the client side
# --------------------------------------------------------------------------------------------

@dataclass
class DistributedResult:
    """What :func:`build_dwellings` returns to the build.

    Attributes
    ----------
    counts
        Per-buurt counts (:func:`woonvoorraad.stock.indicators.combine_counts`).
    report
        The dwelling report, summed over the partitions.
    layout
        BAG layout of the input.
    parts
        Part files per gemeente (``NONE_PART`` for dwellings outside every buurt), in tile
        order.
    timings
        Seconds per step.
    """

    counts: pd.DataFrame
    report: DwellingReport
    layout: str
    parts: dict[str, list[str]]
    n_tiles: int = 0
    n_workers: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    parts_dir: Path | None = None


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int | None = None, *,
            processes: bool = True) -> Iterator[Any]:
    """A :class:`distributed.Client` on ``scheduler``, or on a new LocalCluster.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``); default: start a
        :class:`~distributed.LocalCluster` for the duration of the build.
    workers
        Workers of the local cluster (default: one per core); one thread each.
    processes
        Local workers as processes (default) or threads.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                      dashboard_address=":0", memory_limit=0) as cluster, \
            Client(cluster) as client:
        yield client


def build_dwellings(
    bag_path: str | Path,
    buurten: gpd.GeoDataFrame,
    *,
    client: Any,
    parts_dir: str | Path,
    labels: pd.DataFrame | None = None,
    config: Config | None = None,
    bbox: BBox | None = None,
    n_tiles: int | None = None,
) -> DistributedResult:
    """Build the dwellings of ``bag_path`` on a dask cluster, partitioned into tiles.

    Parameters
    ----------
    bag_path
        BAG GeoPackage.
    buurten
        Canonical buurten (:func:`woonvoorraad.sources.cbs.read_buurten`).
    client
        A :class:`distributed.Client` (see :func:`connect`).
    parts_dir
        Folder for the dwelling parts (visible to the workers).
    labels
        Registered labels, optional.
    config
        Effective configuration.
    bbox
        Read units in this box only (as the in-memory build does with the buurten' extent).
    n_tiles
        Number of tiles (default: about one per 150,000 units, at least four per worker).

    Returns
    -------
    DistributedResult
    """
    cfg = config or default_config()
    laps = Laps()
    timings = laps.seconds

    p = _validate.check_file(bag_path)
    layout = bag.detect_layout(p)
    if layout == "ogc":
        raise NotImplementedError("the dask engine reads the bag-light and lvbag layouts; "
                                  "use --engine memory for OGC API extracts")
    v_map, v_cols, v_info = bag._prepare_layer(p, bag.VBO_LAYER, layout,
                                               what="BAG verblijfsobjecten")
    p_map, p_cols, p_info = bag._prepare_layer(p, bag.PAND_LAYER, layout, what="BAG panden")
    layers = _Layers(p, layout, v_map, v_cols, v_info, p_map, p_cols, p_info)
    lo_hi = (cfg["dwellings"]["bouwjaar_min"], cfg["dwellings"]["bouwjaar_max"])
    # the same areas as the in-memory reader: the bbox, unless it holds the whole layer
    v_all = bbox is None or _bag_arrow.covers(bbox, v_info)
    unit_region = _layer_bounds(v_info) if v_all else bbox
    pand_box = None if bbox is None else _expand(bbox, 200.0)
    p_all = pand_box is None or _bag_arrow.covers(pand_box, p_info)
    pand_region = _layer_bounds(p_info) if p_all else pand_box
    n_workers = max(1, len(client.scheduler_info()["workers"]))
    n_units = int(v_info.get("features") or 0)
    n = n_tiles or max(4 * n_workers, math.ceil(max(n_units, 1) / UNITS_PER_TILE))
    unit_tiles = make_tiles(unit_region, n) if unit_region is not None else []
    pand_tiles = make_tiles(pand_region, n) if pand_region is not None else []
    logger.info("dask engine: %d workers, %d unit tiles, %d pand tiles", n_workers,
                len(unit_tiles), len(pand_tiles))

    # steps 1 and 2: units (kept on the workers) and panden, per tile
    cfg_f = client.scatter([cfg], broadcast=True)[0]
    layers_f = client.scatter([layers], broadcast=True)[0]
    sources: list[Tile | None] = [*unit_tiles, *([None] if v_all else [])]
    unit_futures = [client.submit(_read_units, layers_f, tl, pure=False) for tl in sources]
    summary_futures = [client.submit(_unit_summary, u, cfg_f, pure=False) for u in unit_futures]
    pand_futures = [client.submit(_read_panden, layers_f, tl, pand_region, not p_all, lo_hi,
                                  pure=False) for tl in pand_tiles]
    summaries = client.gather(summary_futures)
    pand_parts = client.gather(pand_futures)
    del summary_futures, pand_futures  # let the workers drop those results
    laps.mark("read units and panden")

    # step 3: links, on the client
    pids, p_fid, p_area, p_year, p_bounds = _collect_panden(pand_parts, p.name)
    n_bad = sum(pp["n_bad"] for pp in pand_parts)  # (counted before removing duplicates)
    if n_bad:
        examples = sorted({v for pp in pand_parts for v in pp["bad_examples"]})[:5]
        logger.warning("%s: %d panden have an implausible bouwjaar (e.g. %s); treated as "
                       "unknown", p.name, n_bad, examples)
    offsets = np.concatenate([[0], np.cumsum([s["n"] for s in summaries])]).astype(np.int64)
    _check_unique_units([s["ids"] for s in summaries], p)
    existing = _cat([s["existing"] for s in summaries], bool)
    dwelling = _cat([s["dwelling"] for s in summaries], bool)
    area = _cat([s["area"] for s in summaries], float)
    links = pd.DataFrame({
        "vbo_row": _cat([s["link_vbo"] + offsets[k] for k, s in enumerate(summaries)], np.int64),
        "pand_id": pa.chunked_array([s["link_pand"] for s in summaries],
                                    type=pa.string()).to_pandas(),
    })
    excluded = [s["excluded"] for s in summaries]
    del summaries, pand_parts  # concatenated above; the parts would double the client's memory
    links["pand_row"] = _lookup(_arrow_strings(links["pand_id"]), pids)
    pand_row, unit_year, _, l_row = resolve_links(links, existing=existing, dwelling=dwelling,
                                                  footprint=p_area, bouwjaar=p_year)
    n_multi_by_tile = _per_tile_multi(links, existing, dwelling, offsets)
    linked = np.zeros(len(p_area), dtype=bool)
    linked[l_row[l_row >= 0]] = True
    n_won, floor = pand_loads(pand_row, existing=existing, dwelling=dwelling, area=area,
                              n_pand=len(p_area))
    del links
    laps.mark("links")

    # step 4: woningtype of the linked panden, per tile with a halo
    type_code = _classify(client, layers_f, cfg_f, pand_tiles, pand_region, fid=p_fid,
                          bounds=p_bounds, linked=linked, n_won=n_won, floor=floor)
    laps.mark("woningtype")

    # step 5: the dwellings, on the workers that hold the units
    parts_dir = Path(parts_dir)
    parts_dir.mkdir(parents=True, exist_ok=True)
    labels_f = client.scatter(labels, broadcast=True) if labels is not None else None
    b_bounds = shapely.bounds(np.asarray(buurten.geometry.values))
    futures = []
    for k, (tile, units_f, excl) in enumerate(zip(sources, unit_futures, excluded,
                                                  strict=True)):
        rows = pand_row[offsets[k]:offsets[k + 1]]
        used = np.unique(rows[rows >= 0])
        local = np.where(rows >= 0, np.searchsorted(used, np.clip(rows, 0, None)), -1)
        if tile is None:
            sub = buurten.iloc[:0]
        else:
            hit = ((b_bounds[:, 0] <= tile.x1) & (b_bounds[:, 2] >= tile.x0)
                   & (b_bounds[:, 1] <= tile.y1) & (b_bounds[:, 3] >= tile.y0))
            sub = buurten.iloc[np.flatnonzero(hit)]
        futures.append(client.submit(
            _dwellings_task, units_f, k, pand_row=local,
            bouwjaar=unit_year[offsets[k]:offsets[k + 1]], n_multi=n_multi_by_tile[k],
            excluded=excl, type_code=type_code[used],
            pand_ids=pids.take(pa.array(used)), buurten=sub, labels=labels_f, cfg=cfg_f,
            parts_dir=str(parts_dir), pure=False))
    results = client.gather(futures)
    del unit_futures, futures
    laps.mark("dwellings")

    counts = indicators.combine_counts([r["counts"] for r in results]) if results else \
        indicators.combine_counts([indicators.partial_counts(_empty_dwellings(), cfg)])
    report = _merge_reports([r["report"] for r in results])
    parts: dict[str, list[str]] = {}
    for r in results:
        for name, info in r["parts"].items():
            parts.setdefault(name, []).append(info["path"])
    _log_report(report)
    return DistributedResult(counts=counts, report=report, layout=layout, parts=parts,
                             n_tiles=len(sources), n_workers=n_workers, timings=timings)


def _collect_panden(parts: Sequence[dict[str, Any]], name: str
                    ) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate the panden of all tiles; one row per pand id, as the in-memory reader.

    History rows keep the latest ``voorkomenidentificatie``; other duplicates keep the first
    in file order (lowest FID).
    """
    if not parts:
        return (pa.array([], type=pa.string()), np.zeros(0, np.int64), np.zeros(0),
                np.zeros(0), np.zeros((0, 4)))
    ids = pa.concat_arrays([pp["ids"] for pp in parts])
    fid = _cat([pp["fid"] for pp in parts], np.int64)
    area = _cat([pp["area"] for pp in parts], float)
    year = _cat([pp["bouwjaar"] for pp in parts], float)
    bounds = np.concatenate([pp["bounds"] for pp in parts])
    frame = pd.DataFrame({"id": pa.chunked_array([ids]).to_pandas(), "fid": fid})
    if all(pp["voorkomen"] is not None for pp in parts):
        frame["v"] = np.concatenate([pp["voorkomen"] for pp in parts])
        order = frame.sort_values(["id", "v", "fid"], ascending=[True, True, False],
                                  kind="mergesort").index.to_numpy()
        keep = ~frame.loc[order, "id"].duplicated(keep="last").to_numpy()
    else:
        order = frame.sort_values(["id", "fid"], kind="mergesort").index.to_numpy()
        keep = ~frame.loc[order, "id"].duplicated(keep="first").to_numpy()
    rows = np.sort(order[keep])
    if len(rows) < len(frame):
        logger.warning("%s: %d duplicate pand ids; keeping one of each", name,
                       len(frame) - len(rows))
    return ids.take(pa.array(rows)), fid[rows], area[rows], year[rows], bounds[rows]


def _check_unique_units(ids: Sequence[pa.Array], path: Path) -> None:
    """A unit listed in two tiles (rows with different points) cannot be merged per tile."""
    if not ids:
        return
    all_ids = pa.chunked_array(ids, type=pa.string()).to_pandas()
    dup = _bag_ids.find_duplicates(all_ids, keep=False).to_numpy()
    if dup.any():
        examples = ", ".join(sorted(set(all_ids[dup].astype(str)))[:3])
        raise InputError(
            f"{int(dup.sum())} rows of units appear at different locations (e.g. {examples}: "
            "history rows, or a unit listed per pand with different points); the dask engine "
            "cannot merge them per tile; use --engine memory", path=path)


def _layer_bounds(info: dict[str, Any]) -> BBox | None:
    b = info.get("total_bounds")
    if b is None or not np.all(np.isfinite(b)):
        return None
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _cat(arrays: Sequence[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype) if len(arrays) else np.zeros(0, dtype=dtype)


def _per_tile_multi(links: pd.DataFrame, existing: np.ndarray, dwelling: np.ndarray,
                    offsets: np.ndarray) -> list[int]:
    """Dwellings in several panden, per unit partition (for the report)."""
    l_vbo = links["vbo_row"].to_numpy()
    l_vbo = l_vbo[existing[l_vbo]]
    n_links = np.bincount(l_vbo, minlength=len(existing))
    multi = np.flatnonzero((n_links > 1) & dwelling)
    return np.bincount(np.searchsorted(offsets, multi, side="right") - 1,
                       minlength=len(offsets) - 1).tolist()


def _classify(client: Any, layers_f: Any, cfg_f: Any, tiles: list[Tile], region: BBox | None,
              *, fid: np.ndarray, bounds: np.ndarray, linked: np.ndarray, n_won: np.ndarray,
              floor: np.ndarray) -> np.ndarray:
    """Step 4: type codes of all linked panden, with halos and re-tries for the edge cases."""
    type_code = np.full(len(fid), -1, dtype=np.int8)
    lk = np.flatnonzero(linked)
    if not len(lk) or region is None:
        return type_code
    lb = bounds[lk]
    cx = np.clip((lb[:, 0] + lb[:, 2]) / 2, region[0], region[2])
    cy = np.clip((lb[:, 1] + lb[:, 3]) / 2, region[1], region[3])
    jobs: list[tuple[BBox, np.ndarray]] = []
    for tile in tiles:
        own = np.flatnonzero(tile.owns(cx, cy))
        if len(own):
            jobs.append((_expand(tile.box, HALO_M), own))
    rounds = 0
    while jobs:
        rounds += 1
        futures = []
        for box, own in jobs:
            member = np.flatnonzero((lb[:, 0] <= box[2]) & (lb[:, 2] >= box[0])
                                    & (lb[:, 1] <= box[3]) & (lb[:, 3] >= box[1]))
            targets = np.searchsorted(member, own)
            g = lk[member]
            futures.append((member, client.submit(
                _woningtype_task, layers_f, box, fids=fid[g], bounds=bounds[g],
                n_won=n_won[g], floor=floor[g], targets=targets, cfg=cfg_f, pure=False)))
        jobs = []
        for member, fut in futures:
            res = fut.result()
            type_code[lk[member[res["done"]]]] = res["codes"]
            if len(res["retry"]):
                need = res["retry_box"]
                box = (float(need[:, 0].min()), float(need[:, 1].min()),
                       float(need[:, 2].max()), float(need[:, 3].max()))
                jobs.append((_expand(box, 1.0), member[res["retry"]]))
        if jobs:
            logger.info("woningtype: %d panden at tile edges need a larger halo (round %d)",
                        sum(len(o) for _, o in jobs), rounds + 1)
    return type_code


def _merge_reports(reports: Sequence[dict[str, Any]]) -> DwellingReport:
    total = DwellingReport()
    excluded: dict[str, int] = {}
    for r in reports:
        for key, value in r.items():
            if key == "excluded_by_status":
                for status, n in value.items():
                    excluded[status] = excluded.get(status, 0) + int(n)
            elif key == "woonplaats":  # where it came from (alike per tile), and the count
                n = "n_woningen_zonder_woonplaats"
                total.woonplaats = {**value, n: total.woonplaats.get(n, 0) + int(value[n])}
            else:
                setattr(total, key, getattr(total, key) + int(value))
    total.excluded_by_status = dict(sorted(excluded.items(), key=lambda kv: -kv[1]))
    return total


def merge_parts(parts: dict[str, list[str]], target: str | Path) -> dict[str, int]:
    """Concatenate dwelling parts into one GeoParquet file, one row group per gemeente.

    The same layout as :func:`woonvoorraad._geoparquet.write_partitioned`; one gemeente's
    parts are in memory at a time.

    Returns
    -------
    dict
        Rows per gemeente (``""`` for dwellings outside every buurt).
    """
    names = sorted(n for n in parts if n != NONE_PART) + ([NONE_PART] if NONE_PART in parts
                                                          else [])
    if not names:
        empty = gpd.GeoDataFrame(_empty_dwellings(), geometry=[], crs=_validate.RD_NEW)
        return write_partitioned(empty, target)
    return _geoparquet.merge_parts(parts, target, order=names, labels={NONE_PART: ""})


def _empty_dwellings() -> pd.DataFrame:
    """A dwelling table without rows, with the columns and dtypes of a real one."""
    s = pd.Series([], dtype="string")
    return pd.DataFrame({
        "vbo_id": s, "pand_id": s, "bouwjaar": pd.Series([], dtype="Int16"),
        "bouwperiode": pd.Series([], dtype=PERIOD_DTYPE),
        "naoorlogs": pd.Series([], dtype=bool),
        "woningtype": pd.Series([], dtype=WONINGTYPE_DTYPE),
        "eengezins": pd.Series([], dtype=bool), "oppervlakte": pd.Series([], dtype=float),
        "buurtcode": s, "wijkcode": s, "gemeentecode": s,
        "energielabel": pd.Series([], dtype=LABEL_DTYPE),
        "label_bron": pd.Series([], dtype=LABEL_BRON_DTYPE),
        **{c: pd.Series([], dtype=np.float32) for c in P_COLUMNS},
        "label_geldig_tot": pd.Series([], dtype="datetime64[ms]"),
        "label_berekeningstype": pd.Series([], dtype=LABEL_METHODE_DTYPE)})


def read_parts(parts: dict[str, list[str]], *, geometry: bool = False) -> pd.DataFrame:
    """All dwelling parts as one frame (for the analysis step), without geometry by default."""
    files = [f for name in sorted(parts) for f in parts[name]]
    if not files:
        return _empty_dwellings()
    if geometry:
        return pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)
    frames = []
    for f in files:
        names = [n for n in pq.read_schema(f).names if n != "geometry"]
        frames.append(pq.read_table(f, columns=names).to_pandas())
    return pd.concat(frames, ignore_index=True)


def remove_parts(parts_dir: str | Path) -> None:
    """Delete the part files (after :func:`merge_parts`)."""
    shutil.rmtree(parts_dir, ignore_errors=True)


def dwellings_frame(path: str | Path) -> Any:
    """The written ``dwellings.parquet`` as a lazy :class:`dask_geopandas.GeoDataFrame`.

    One partition per row group, that is per gemeente (the file's layout, see
    :func:`merge_parts`); ``.compute()`` gives the table :func:`geopandas.read_parquet` reads.
    """
    import dask.dataframe as dd
    import dask_geopandas  # noqa: F401  (registers the GeoDataFrame backend of dask)

    path = str(path)
    n = pq.ParquetFile(path).num_row_groups
    meta = read_row_group(path, 0).iloc[:0] if n else gpd.read_parquet(path)
    return dd.from_map(read_row_group, [path] * max(n, 1), range(max(n, 1)), meta=meta,
                       enforce_metadata=False)
