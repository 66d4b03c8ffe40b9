"""The Arrow fast path of the BAG readers: layers read as Arrow tables, WKB decoded in bulk.

:func:`read_arrow` reads the needed columns of a GeoPackage layer with pyogrio (filtered by
bbox or mask at read time); :func:`read_units` adds the units no area filter finds (no
geometry, far away), so every count includes them. :func:`decode_geometries` and
:func:`decode_coordinates` turn a WKB column into shapely geometries or plain x, y without
Python objects where the column holds simple points (what a BAG unit layer holds).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import shapely

from woonvoorraad import _validate

logger = logging.getLogger(__name__)


#: A bounding box (xmin, ymin, xmax, ymax) in RD New metres.
BBox = tuple[float, float, float, float]


_WKB_CHUNK = 500_000


def covers(bbox: BBox | None, info: dict[str, Any]) -> bool:
    """Whether ``bbox`` contains the layer's whole extent (then filtering only costs time)."""
    bounds = info.get("total_bounds")
    if bbox is None or bounds is None or not np.all(np.isfinite(bounds)):
        return False
    return (bbox[0] <= bounds[0] and bbox[1] <= bounds[1] and bbox[2] >= bounds[2]
            and bbox[3] >= bounds[3])


def read_arrow(path: Path, layer: str, columns: list[str], info: dict[str, Any], *,
                bbox: BBox | None, mask: Any) -> tuple[pa.Table, str]:
    """Read the columns of a layer as an Arrow table (WKB geometry column); filter at read time.

    A ``bbox`` that contains the whole layer is dropped: the spatial index would only cost time.
    """
    if covers(bbox, info):
        bbox = None
    meta, table = pyogrio.read_arrow(path, layer=layer, columns=columns, bbox=bbox, mask=mask)
    return table, meta.get("geometry_name") or "wkb_geometry"


def read_units(path: Path, layer: str, columns: list[str], info: dict[str, Any], *,
               bbox: BBox | None, mask: Any) -> tuple[pa.Table, str]:
    """Read the unit layer like :func:`read_arrow`, plus the units no area filter can find.

    A bbox or mask read returns only units with a location in the area: units without a
    geometry, with coordinates that are not finite or far outside the Netherlands would
    vanish from every count. They are read as well (:func:`_stray_units`) and end up outside
    every buurt, counted and reported.
    """
    table, geom_col = read_arrow(path, layer, columns, info, bbox=bbox, mask=mask)
    if (bbox is None and mask is None) or covers(bbox, info):
        return table, geom_col  # the whole layer was read
    area = bbox if bbox is not None else tuple(float(v) for v in shapely.bounds(mask))
    stray = _stray_units(path, layer, columns, info, area=area)
    if stray is None or not stray.num_rows:
        return table, geom_col
    # the SQL answer holds the columns asked for, then the geometry (names may differ)
    stray = stray.rename_columns([*columns, geom_col]).select(table.column_names)
    try:
        stray = stray.cast(table.schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.concat_tables([table, stray], promote_options="permissive"), geom_col
    return pa.concat_tables([table, stray]), geom_col


def _stray_units(path: Path, layer: str, columns: list[str], info: dict[str, Any], *,
                 area: BBox) -> pa.Table | None:
    """Units of a GeoPackage without a geometry, or outside the Netherlands and outside
    ``area``: what a read of ``area`` misses but every count must include.

    Cheap when there are none (the national files): the layer's extent lies inside
    :data:`~woonvoorraad._validate.RD_EXTENT` and its spatial index holds every feature,
    so no unit lacks a geometry. Only otherwise is the layer scanned once, in SQLite.
    """
    geom = info.get("geometry_name") or ""
    if not geom or not _is_sqlite(path):
        return None
    x0, y0, x1, y1 = _validate.RD_EXTENT
    bounds = info.get("total_bounds")
    inside_nl = bounds is not None and bool(np.all(np.isfinite(bounds))) and (
        bounds[0] >= x0 and bounds[1] >= y0 and bounds[2] <= x1 and bounds[3] <= y1)
    if inside_nl and _indexed_features(path, layer, geom) == info.get("features"):
        return None
    g = f'"{geom}"'
    a0, b0, a1, b1 = (float(v) for v in area)
    where = (f"{g} IS NULL OR ST_IsEmpty({g}) OR ("
             f"NOT (ST_MinX({g}) >= {x0!r} AND ST_MaxX({g}) <= {x1!r} AND ST_MinY({g}) >= "
             f"{y0!r} AND ST_MaxY({g}) <= {y1!r}) AND NOT (ST_MaxX({g}) >= {a0!r} AND "
             f"ST_MinX({g}) <= {a1!r} AND ST_MaxY({g}) >= {b0!r} AND ST_MinY({g}) <= {b1!r}))")
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f'SELECT {cols}, {g} FROM "{layer}" WHERE {where}'
    _, table = pyogrio.read_arrow(path, sql=sql)
    if table.num_rows:
        logger.debug("%s: %d units without a location in the area read as well", path.name,
                     table.num_rows)
    return table


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _indexed_features(path: Path, layer: str, geom: str) -> int | None:
    """Entries of a GeoPackage layer's spatial index (it holds every non-empty geometry);
    None without an index."""
    import sqlite3

    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        for table in (f"rtree_{layer}_{geom}_rowid", f"rtree_{layer}_{geom}"):
            try:
                return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
            except sqlite3.Error:
                continue
        return None
    finally:
        con.close()


def _point_xy(col: pa.Array) -> np.ndarray | None:
    """x, y of a WKB column of plain little-endian 2D points (21 bytes each), else None."""
    n = len(col)
    if not n or col.null_count or pa.types.is_large_binary(col.type):
        return None
    bufs = col.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=col.offset * 4)
    if offsets[-1] - offsets[0] != 21 * n or not np.all(np.diff(offsets) == 21):
        return None
    rec = np.frombuffer(bufs[2], dtype=np.uint8, count=21 * n,
                        offset=int(offsets[0])).reshape(n, 21)
    if not (np.all(rec[:, 0] == 1) and np.all(rec[:, 1:5].view("<u4").ravel() == 1)):
        return None
    return rec[:, 5:21].copy().view("<f8")


def decode_geometries(column: pa.ChunkedArray | pa.Array, row_mask: np.ndarray | None = None
                ) -> np.ndarray:
    """Shapely geometries from a WKB column (only the rows in ``row_mask``).

    Plain little-endian 2D points (what a BAG unit layer holds) are decoded with numpy and
    built with :func:`shapely.points`; anything else goes through :func:`shapely.from_wkb`,
    in chunks so that the temporary Python ``bytes`` objects stay few.
    """
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    xy = _point_xy(col)
    if xy is not None:
        return shapely.points(xy if row_mask is None else xy[row_mask])
    parts = []
    for lo in range(0, len(col), _WKB_CHUNK):
        chunk = col.slice(lo, _WKB_CHUNK)
        if row_mask is not None:
            chunk = chunk.filter(pa.array(row_mask[lo:lo + _WKB_CHUNK]))
        parts.append(shapely.from_wkb(np.asarray(chunk.to_numpy(zero_copy_only=False))))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=object)


def decode_coordinates(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """(n, 2) x, y of unit points (NaN where missing or empty), without shapely objects.

    Plain 2D points are read straight from the WKB; other geometries follow the unit rule of
    :func:`make_points` (a point inside them). Returns the coordinates and, when some geometry
    is not a point, the geometry type of every row (-1 missing), for the warning.
    """
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    xy = _point_xy(col)
    if xy is not None:
        return xy, None
    out = np.full((len(col), 2), np.nan)
    types = np.full(len(col), -1, dtype=np.int8)
    for lo in range(0, len(col), _WKB_CHUNK):
        geoms = shapely.from_wkb(np.asarray(col.slice(lo, _WKB_CHUNK).to_numpy(
            zero_copy_only=False)))
        kind = shapely.get_type_id(geoms)
        types[lo:lo + len(geoms)] = kind
        geoms = make_points(geoms, kind)
        out[lo:lo + len(geoms)] = extract_xy(geoms)
    return out, (types if (types > 0).any() else None)


def make_points(geoms: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Geometries that are not points become a point inside them (representative_point)."""
    other = kind > 0
    if not other.any():
        return geoms
    fixed = geoms.copy()
    fixed[other] = shapely.point_on_surface(geoms[other])
    return fixed


def extract_xy(geoms: np.ndarray) -> np.ndarray:
    """(n, 2) x, y of points; NaN for missing and empty ones."""
    xy = np.full((len(geoms), 2), np.nan)
    ok = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    xy[ok, 0] = shapely.get_x(geoms[ok])
    xy[ok, 1] = shapely.get_y(geoms[ok])
    return xy
