"""Readers for BAG GeoPackages: buildings (panden) and units (verblijfsobjecten).

Three layouts of the same registry are recognised from the file itself:

``bag-light``
    PDOK's national ``bag-light.gpkg`` (and the PDOK WFS): ``bouwjaar`` on the pand,
    ``pand_identificatie`` (or ``pandidentificatie``) on the unit, comma-joined
    ``gebruiksdoel``. A unit in several panden may appear once per pand.
``lvbag``
    GDAL's LVBAG driver and ``lvbag``-style database loads: ``oorspronkelijkbouwjaar``,
    ``pandref`` (comma-joined), ids prefixed ``NL.IMBAG.Pand.``, and history rows with
    ``begingeldigheid``/``eindgeldigheid`` (only current rows are kept).
``ogc``
    Features saved from the PDOK OGC API v2: ``bouwjaar`` on the pand, feature ``id`` (uuid)
    on both, and the unit → pand link as ``pand.href`` URLs ending in the pand's uuid.

All readers return the canonical schema of ``docs/schema.md`` in EPSG:28992 and read only
the columns they need, through pyogrio with Arrow; ``bbox``/``mask`` filter at read time so a
national file is never read whole for one gemeente.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import queue
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely

from woonvoorraad import _validate
from woonvoorraad.errors import InputError

logger = logging.getLogger(__name__)

Layout = Literal["bag-light", "lvbag", "ogc"]
BBox = tuple[float, float, float, float]

PAND_LAYER = "pand"
VBO_LAYER = "verblijfsobject"

_ID_PREFIX = re.compile(r"NL\.IMBAG\.[A-Za-z]+\.")
_WKB_CHUNK = 500_000

#: Columns read per layout and layer: canonical name -> source name.
_COLUMNS: dict[str, dict[str, dict[str, str]]] = {
    "bag-light": {
        PAND_LAYER: {"pand_id": "identificatie", "bouwjaar": "bouwjaar", "status": "status"},
        VBO_LAYER: {
            "vbo_id": "identificatie",
            "pand_ids": "pand_identificatie",
            "gebruiksdoel": "gebruiksdoel",
            "oppervlakte": "oppervlakte",
            "status": "status",
        },
    },
    "lvbag": {
        PAND_LAYER: {
            "pand_id": "identificatie",
            "bouwjaar": "oorspronkelijkbouwjaar",
            "status": "status",
        },
        VBO_LAYER: {
            "vbo_id": "identificatie",
            "pand_ids": "pandref",
            "gebruiksdoel": "gebruiksdoel",
            "oppervlakte": "oppervlakte",
            "status": "status",
        },
    },
    "ogc": {
        PAND_LAYER: {
            "pand_id": "identificatie",
            "bouwjaar": "bouwjaar",
            "status": "status",
            "uuid": "id",
        },
        VBO_LAYER: {
            "vbo_id": "identificatie",
            "pand_ids": "pand.href",
            "gebruiksdoel": "gebruiksdoel",
            "oppervlakte": "oppervlakte",
            "status": "status",
        },
    },
}

_OPTIONAL = {"oppervlakte"}


def detect_layout(path: str | Path) -> Layout:
    """Detect which BAG layout a GeoPackage uses.

    Parameters
    ----------
    path
        A GeoPackage with ``pand`` and ``verblijfsobject`` layers.

    Returns
    -------
    str
        ``"bag-light"``, ``"lvbag"`` or ``"ogc"``.

    Raises
    ------
    InputError
        If the file, a layer or the identifying columns are missing.
    """
    p = _validate.check_file(path)
    info = _validate.layer_info(p, VBO_LAYER, what="BAG verblijfsobjecten")
    fields = set(info["fields"])
    if "pandref" in fields:
        return "lvbag"
    if "pand_identificatie" in fields or "pandidentificatie" in fields:
        return "bag-light"
    if "pand.href" in fields:
        return "ogc"
    raise _missing_link_error(p, fields)


def _missing_link_error(path: Path, fields: set[str]) -> InputError:
    from woonvoorraad.errors import MissingColumnError

    return MissingColumnError(
        f"layer {VBO_LAYER!r} has no link to its pand: expected one of 'pand_identificatie' "
        f"(PDOK bag-light), 'pandref' (lvbag/GDAL LVBAG) or 'pand.href' (PDOK OGC API); "
        f"columns present: {', '.join(sorted(fields)) or 'none'}",
        path=path,
    )


def normalise_ids(values: pd.Series) -> pd.Series:
    """Normalise BAG identifiers to bare 16-digit strings.

    Strips ``NL.IMBAG.<Type>.`` prefixes (also inside comma-joined lists) and left-pads
    numeric ids read as integers.

    Examples
    --------
    >>> normalise_ids(pd.Series(["NL.IMBAG.Pand.0518100000212345", "518100000212346"])).tolist()
    ['0518100000212345', '0518100000212346']
    """
    arr = _normalise_ids_arrow(pa.array(values.astype(object).where(values.notna(), None),
                                        type=pa.string(), from_pandas=True))
    return pd.Series(arr.to_pylist(), index=values.index, dtype=object, name=values.name)


def _normalise_ids_arrow(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`normalise_ids` in Arrow: no Python string objects, fast when nothing changes."""
    s = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    if _all_plain(s):
        return s  # the national files: every id is already 16 digits
    s = _clean_ids(s)
    return pc.if_else(_single(s), pc.utf8_lpad(s, 16, "0"), s)


def _all_plain(s: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every id (nulls aside) is a bare 16-digit id (nothing to normalise)."""
    plain = pc.and_(pc.equal(pc.utf8_length(s), 16), pc.utf8_is_digit(s))
    return pc.all(plain).as_py() is not False


def _clean_ids(s: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Ids without ``NL.IMBAG.<Type>.`` prefixes and whitespace, not yet padded."""
    s = pc.utf8_trim_whitespace(s)
    s = pc.replace_substring_regex(s, _ID_PREFIX.pattern, "")
    return pc.replace_substring_regex(s, r"\s+", "")


def _single(s: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Which values hold one id (not a comma-joined list); nulls count as single."""
    return pc.fill_null(pc.invert(pc.match_substring(s, ",")), True)


def check_id_collisions(values: pa.Array | pa.ChunkedArray, *, path: Path, layer: str,
                        column: str) -> None:
    """Raise when two different ids of a layer become the same id once left-padded.

    BAG ids have 16 digits; a file that lost a leading zero (a spreadsheet, an integer
    column) holds 15-digit ids, which :func:`normalise_ids` pads. If the same file also holds
    the padded form as the id of *another* row, padding would merge two different objects
    into one, so that is an error naming both ids. Prefix and whitespace variants of one id
    (``NL.IMBAG.Pand.0518…`` and ``0518…``) are the same id, not a collision; a unit listed
    once per pand under one id is not a collision either.

    Free when every id is already a bare 16-digit id (the national files).
    """
    _normalise_row_ids(values, path=path, layer=layer, column=column)


def _normalise_row_ids(values: pa.Array | pa.ChunkedArray, *, path: Path, layer: str,
                       column: str) -> pa.Array | pa.ChunkedArray:
    """:func:`_normalise_ids_arrow` of the ids that name a layer's rows, refusing collisions
    (:func:`check_id_collisions`); the ids are cleaned once for both."""
    s = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    if isinstance(s, pa.ChunkedArray):
        s = s.combine_chunks()
    if not len(s) or _all_plain(s):
        return s
    cleaned = _clean_ids(s)
    single = _single(cleaned)
    padded = pc.if_else(single, pc.utf8_lpad(cleaned, 16, "0"), cleaned)
    short = pc.and_(single, pc.less(pc.utf8_length(cleaned), 16))
    if pc.any(pc.fill_null(short, False)).as_py():
        _refuse_collisions(s, cleaned, padded, single, path=path, layer=layer, column=column)
    return padded


def _refuse_collisions(raw: pa.Array, cleaned: pa.Array, padded: pa.Array, single: pa.Array,
                       *, path: Path, layer: str, column: str) -> None:
    """Raise when different cleaned ids share a padded id, naming the raw ids."""
    distinct = pc.drop_null(pc.unique(pc.filter(cleaned, single)))
    as_padded = pd.Index(pc.utf8_lpad(distinct, 16, "0").to_pylist(), dtype=object)
    clash = as_padded[as_padded.duplicated(keep=False)].unique()
    if not len(clash):
        return
    hits = pc.fill_null(pc.is_in(padded, value_set=pa.array(list(clash), type=pa.string())),
                        False)
    rows = pc.filter(pa.table({"raw": raw, "id": padded}), hits).to_pandas()
    groups = rows.drop_duplicates("raw").groupby("id", sort=True)["raw"].agg(list)
    shown = "; ".join(" and ".join(repr(r) for r in raws[:3]) + f" (both {ident!r})"
                      for ident, raws in list(groups.items())[:3])
    raise InputError(
        f"layer {layer!r} column {column!r}: {len(groups)} group(s) of different ids become "
        f"the same 16-digit id once a leading zero is added: {shown}; they would be merged "
        f"into one object. Fix the ids (BAG ids have 16 digits; was a leading zero lost?)",
        path=path)


def _int_ids(values: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """16-digit ids as int64 (a one-to-one mapping), or None when any id is not like that."""
    s = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    if s.null_count:
        return None
    plain = pc.all(pc.and_(pc.equal(pc.utf8_length(s), 16), pc.utf8_is_digit(s))).as_py()
    if plain is False:
        return None
    return np.asarray(pc.cast(s, pa.int64()))


def _str_series(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (no copy into Python objects)."""
    return values.to_pandas() if isinstance(values, pa.ChunkedArray) else pa.chunked_array(
        [values]).to_pandas()


def _duplicated(ids: pd.Series, keep: Literal["first", False] = "first") -> pd.Series:
    """``ids.duplicated(keep)``, on int64 when the ids are plain 16-digit numbers (fast)."""
    as_int = _int_ids(pa.array(ids.astype("str").array)) if len(ids) else None
    if as_int is None:
        return ids.duplicated(keep=keep)
    return pd.Series(pd.Index(as_int).duplicated(keep=keep), index=ids.index)


def release_memory() -> None:
    """Hand freed memory back to the operating system (Arrow's pool; glibc's heap on Linux).

    Large builds free gigabytes between steps; without this the freed memory stays in the
    allocators and adds to the peak of the next step.
    """
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _covers(bbox: BBox | None, info: dict[str, Any]) -> bool:
    """Whether ``bbox`` contains the layer's whole extent (then filtering only costs time)."""
    bounds = info.get("total_bounds")
    if bbox is None or bounds is None or not np.all(np.isfinite(bounds)):
        return False
    return (bbox[0] <= bounds[0] and bbox[1] <= bounds[1] and bbox[2] >= bounds[2]
            and bbox[3] >= bounds[3])


def _prepare_layer(path: Path, layer: str, layout: Layout, *, what: str
                   ) -> tuple[dict[str, str], list[str], dict[str, Any]]:
    """Validate a layer; return the column mapping, the columns to read and the layer info."""
    info = _validate.layer_info(path, layer, what=what)
    _validate.require_rd_new(info["crs"], path=path, layer=layer)
    mapping = _COLUMNS[layout][layer].copy()
    fields = list(info["fields"])
    if layout == "bag-light" and layer == VBO_LAYER and "pand_identificatie" not in fields:
        mapping["pand_ids"] = "pandidentificatie"  # PDOK WFS spelling
    required = [src for canon, src in mapping.items() if canon not in _OPTIONAL]
    _validate.require_columns(fields, required, path=path, layer=layer)
    history = [c for c in ("eindgeldigheid", "voorkomenidentificatie") if c in fields]
    columns = [src for src in mapping.values() if src in fields] + history
    return mapping, columns, info


def _read_arrow(path: Path, layer: str, columns: list[str], info: dict[str, Any], *,
                bbox: BBox | None, mask: Any) -> tuple[pa.Table, str]:
    """Read the columns of a layer as an Arrow table (WKB geometry column); filter at read time.

    A ``bbox`` that contains the whole layer is dropped: the spatial index would only cost time.
    """
    if _covers(bbox, info):
        bbox = None
    meta, table = pyogrio.read_arrow(path, layer=layer, columns=columns, bbox=bbox, mask=mask)
    return table, meta.get("geometry_name") or "wkb_geometry"


def _read_units(path: Path, columns: list[str], info: dict[str, Any], *, bbox: BBox | None,
                mask: Any) -> tuple[pa.Table, str]:
    """Read the unit layer like :func:`_read_arrow`, plus the units no area filter can find.

    A bbox or mask read returns only units with a location in the area: units without a
    geometry, with coordinates that are not finite or far outside the Netherlands would
    vanish from every count. They are read as well (:func:`_stray_units`) and end up outside
    every buurt, counted and reported.
    """
    table, geom_col = _read_arrow(path, VBO_LAYER, columns, info, bbox=bbox, mask=mask)
    if (bbox is None and mask is None) or _covers(bbox, info):
        return table, geom_col  # the whole layer was read
    area = bbox if bbox is not None else tuple(float(v) for v in shapely.bounds(mask))
    stray = _stray_units(path, columns, info, area=area)
    if stray is None or not stray.num_rows:
        return table, geom_col
    # the SQL answer holds the columns asked for, then the geometry (names may differ)
    stray = stray.rename_columns([*columns, geom_col]).select(table.column_names)
    try:
        stray = stray.cast(table.schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.concat_tables([table, stray], promote_options="permissive"), geom_col
    return pa.concat_tables([table, stray]), geom_col


def _stray_units(path: Path, columns: list[str], info: dict[str, Any], *, area: BBox
                 ) -> pa.Table | None:
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
    if inside_nl and _indexed_features(path, VBO_LAYER, geom) == info.get("features"):
        return None
    g = f'"{geom}"'
    a0, b0, a1, b1 = (float(v) for v in area)
    where = (f"{g} IS NULL OR ST_IsEmpty({g}) OR ("
             f"NOT (ST_MinX({g}) >= {x0!r} AND ST_MaxX({g}) <= {x1!r} AND ST_MinY({g}) >= "
             f"{y0!r} AND ST_MaxY({g}) <= {y1!r}) AND NOT (ST_MaxX({g}) >= {a0!r} AND "
             f"ST_MinX({g}) <= {a1!r} AND ST_MaxY({g}) >= {b0!r} AND ST_MinY({g}) <= {b1!r}))")
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f'SELECT {cols}, {g} FROM "{VBO_LAYER}" WHERE {where}'
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


def _geometries(column: pa.ChunkedArray | pa.Array, row_mask: np.ndarray | None = None
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


def _coordinates(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """(n, 2) x, y of unit points (NaN where missing or empty), without shapely objects.

    Plain 2D points are read straight from the WKB; other geometries follow the unit rule of
    :func:`_points` (a point inside them). Returns the coordinates and, when some geometry
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
        geoms = _as_points(geoms, kind)
        out[lo:lo + len(geoms)] = _point_coordinates(geoms)
    return out, (types if (types > 0).any() else None)


def _as_points(geoms: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Geometries that are not points become a point inside them (representative_point)."""
    other = kind > 0
    if not other.any():
        return geoms
    fixed = geoms.copy()
    fixed[other] = shapely.point_on_surface(geoms[other])
    return fixed


def _frame(table: pa.Table, geom_col: str, path: Path, layer: str,
           mapping: dict[str, str], *, row_mask: np.ndarray | None = None,
           geometry: bool | None = True, keep_voorkomen: bool = False) -> pd.DataFrame:
    """Arrow table -> GeoDataFrame with canonical column names; current rows only.

    With ``geometry=False`` a plain DataFrame with ``x`` and ``y`` columns (points only); with
    ``geometry=None`` no geometry at all.
    """
    attrs = table.drop_columns([geom_col])
    if row_mask is not None:
        attrs = attrs.filter(pa.array(row_mask))
    df = attrs.to_pandas()
    del attrs
    if geometry:
        gdf: pd.DataFrame = gpd.GeoDataFrame(
            df, geometry=_geometries(table.column(geom_col), row_mask), crs=_validate.RD_NEW)
    elif geometry is None:
        gdf = df
    else:
        xy, types = _coordinates(table.column(geom_col))
        if row_mask is not None:
            xy = xy[row_mask]
            types = types[row_mask] if types is not None else None
        df["x"], df["y"] = xy[:, 0], xy[:, 1]
        if types is not None:
            df[_GEOM_TYPE] = types
        gdf = df
    if "eindgeldigheid" in gdf.columns:
        ended = gdf["eindgeldigheid"].notna()
        if ended.any():
            logger.info("%s: dropped %d historical %s rows (eindgeldigheid set)",
                        path.name, int(ended.sum()), layer)
            gdf = gdf.loc[~ended]
    rename = {src: canon for canon, src in mapping.items() if src in gdf.columns}
    gdf = gdf.rename(columns=rename)
    if "voorkomenidentificatie" in gdf.columns:
        id_col = "pand_id" if layer == PAND_LAYER else "vbo_id"
        gdf = gdf.sort_values("voorkomenidentificatie").drop_duplicates(id_col, keep="last")
        if not keep_voorkomen:
            gdf = gdf.drop(columns=["voorkomenidentificatie"])
    return gdf.drop(columns=[c for c in ("eindgeldigheid",) if c in gdf.columns])


def _read_layer(
    path: Path,
    layer: str,
    layout: Layout,
    *,
    bbox: BBox | None,
    mask: Any,
    what: str,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    mapping, columns, info = _prepare_layer(path, layer, layout, what=what)
    table, geom_col = _read_arrow(path, layer, columns, info, bbox=bbox, mask=mask)
    return _frame(table, geom_col, path, layer, mapping), info


def read_panden(
    path: str | Path,
    *,
    bbox: BBox | None = None,
    mask: Any = None,
    layout: Layout | None = None,
    bouwjaar_range: tuple[int, int] = (1200, 2030),
) -> gpd.GeoDataFrame:
    """Read BAG buildings into the canonical ``panden`` schema.

    Parameters
    ----------
    path
        BAG GeoPackage in one of the recognised layouts.
    bbox
        ``(xmin, ymin, xmax, ymax)`` in EPSG:28992; only features intersecting it are read.
    mask
        A shapely geometry in EPSG:28992; only features intersecting it are read.
    layout
        Skip detection and use this layout.
    bouwjaar_range
        Inclusive plausible range of build years; others (BAG uses e.g. 1005 for
        "unknown", 9999 occurs in bad extracts) become NA and are counted in the log.

    Returns
    -------
    geopandas.GeoDataFrame
        ``pand_id``, ``bouwjaar`` (Int16), ``status`` (category), ``geometry``; plus ``uuid``
        for the ``ogc`` layout.
    """
    p = _validate.check_file(path)
    with _validate.gdal_errors(p, layer=PAND_LAYER):
        layout = layout or detect_layout(p)
        mapping, columns, info = _prepare_layer(p, PAND_LAYER, layout, what="BAG panden")
        table, geom_col = _read_arrow(p, PAND_LAYER, columns, info, bbox=bbox, mask=mask)
        return _panden_from_arrow(table, geom_col, p, layout, mapping,
                                  bouwjaar_range=bouwjaar_range)


def _implausible(table: pa.Table | pa.RecordBatch, mapping: dict[str, str],
                 bouwjaar_range: tuple[int, int]) -> tuple[int, set[int]]:
    """Implausible build years in a table: their number and some of the values."""
    src = mapping["bouwjaar"]
    if src not in table.column_names:
        return 0, set()
    col = table.column(src)
    lo, hi = bouwjaar_range
    years = pc.cast(col, pa.float64(), safe=False) if (
        pa.types.is_integer(col.type) or pa.types.is_floating(col.type)) else \
        pa.array(pd.to_numeric(col.to_pandas(), errors="coerce"))
    bad = pc.and_(pc.is_valid(years), pc.or_(pc.less(years, lo), pc.greater(years, hi)))
    n_bad = pc.sum(bad).as_py() or 0
    examples = {int(v) for v in pc.filter(years, bad).to_pylist()[:1000]} if n_bad else set()
    return n_bad, examples


def _keep_mask(pand_ids: pa.Array | pa.ChunkedArray, keep_ids: pa.Array | pd.Index
               ) -> np.ndarray:
    """Which pand ids are in ``keep_ids`` (an Arrow array, or an int64 Index from
    :func:`_keep_index`)."""
    ids = _normalise_ids_arrow(pand_ids)
    index = keep_ids if isinstance(keep_ids, pd.Index) else _keep_index(keep_ids)
    if index.dtype == np.int64:
        as_int = _int_ids(ids)
        if as_int is not None:
            return index.get_indexer(as_int) >= 0 if len(index) else \
                np.zeros(len(as_int), dtype=bool)
        index = pd.Index(np.char.zfill(index.to_numpy().astype(str), 16), dtype=object)
    values = pa.array(index.to_numpy(), type=pa.string())
    return np.asarray(pc.fill_null(pc.is_in(ids, value_set=values), False))


def _keep_index(keep_ids: pa.Array) -> pd.Index:
    """A lookup index of pand ids: int64 when they are plain 16-digit ids."""
    keep = pc.drop_null(keep_ids)
    as_int = _int_ids(keep)
    if as_int is not None:
        return pd.Index(as_int)
    return pd.Index(pa.chunked_array([keep]).to_pandas(), dtype=object)


def _read_panden_filtered(p: Path, columns: list[str], info: dict[str, Any], mapping: dict[
        str, str], *, bbox: BBox | None, keep_ids: pa.Array, bouwjaar_range: tuple[int, int]
                          ) -> tuple[pa.Table, str, tuple[int, int, set[int]]]:
    """Stream the pand layer and keep only the panden in ``keep_ids``.

    GDAL reads the batches in a background thread (outside the GIL) while this thread
    filters them, so the whole layer is never in memory: only the footprints the build
    needs. Returns the filtered table, the geometry column and what :func:`_panden_from_arrow`
    logs about the panden read.
    """
    if _covers(bbox, info):
        bbox = None
    index = _keep_index(keep_ids)
    kept: list[pa.RecordBatch] = []
    n_all, n_bad, examples = 0, 0, set()
    with pyogrio.open_arrow(p, layer=PAND_LAYER, columns=columns, bbox=bbox,
                            use_pyarrow=True, batch_size=131_072) as (meta, reader):
        geom_col = meta.get("geometry_name") or "wkb_geometry"
        batches: queue.Queue[Any] = queue.Queue(maxsize=4)

        def produce() -> None:
            try:
                for batch in reader:
                    batches.put(batch)
            except BaseException as exc:  # handed to the consumer
                batches.put(exc)
            finally:
                batches.put(None)

        thread = threading.Thread(target=produce, name="woonvoorraad-pand-reader",
                                  daemon=True)
        thread.start()
        while (item := batches.get()) is not None:
            if isinstance(item, BaseException):
                thread.join()
                raise item
            n_all += item.num_rows
            bad, ex = _implausible(item, mapping, bouwjaar_range)
            n_bad += bad
            examples |= ex
            kept.append(item.filter(pa.array(_keep_mask(item.column(mapping["pand_id"]),
                                                        index))))
        thread.join()
        schema = reader.schema
    table = pa.Table.from_batches(kept, schema=schema)
    return table, geom_col, (n_all, n_bad, examples)


def _panden_from_arrow(table: pa.Table | list[pa.Table], geom_col: str, p: Path,
                       layout: Layout, mapping: dict[str, str], *,
                       bouwjaar_range: tuple[int, int],
                       keep_ids: pa.Array | None = None,
                       read: tuple[int, int, set[int]] | None = None) -> gpd.GeoDataFrame:
    """Canonical panden from an Arrow table; with ``keep_ids`` only those panden.

    ``table`` may be a one-item list, which is emptied: the table is then freed as soon as
    its footprints are decoded instead of when the caller returns. ``read`` gives the panden
    read, implausible build years and examples when the table was already filtered.
    """
    if isinstance(table, list):
        table = table.pop()
    n_all, n_bad, examples = read if read is not None else (
        table.num_rows, *_implausible(table, mapping, bouwjaar_range))
    if n_bad:
        logger.warning("%s: %d panden have an implausible bouwjaar (e.g. %s); treated as "
                       "unknown", p.name, n_bad, sorted(examples)[:5])
    row_mask = None
    if keep_ids is not None and table.num_rows:
        row_mask = _keep_mask(table.column(mapping["pand_id"]), keep_ids)
    gdf = _frame(table, geom_col, p, PAND_LAYER, mapping, row_mask=row_mask)
    del table
    gdf["pand_id"] = _str_series(_normalise_row_ids(
        pa.array(gdf["pand_id"].array), path=p, layer=PAND_LAYER,
        column=mapping["pand_id"])).set_axis(gdf.index)
    bouwjaar = pd.to_numeric(gdf["bouwjaar"], errors="coerce")
    lo, hi = bouwjaar_range
    bad_rows = bouwjaar.notna() & ((bouwjaar < lo) | (bouwjaar > hi))
    gdf["bouwjaar"] = bouwjaar.mask(bad_rows).round().astype("Int16")
    gdf["status"] = gdf["status"].astype("category")
    keep = ["pand_id", "bouwjaar", "status"] + (["uuid"] if "uuid" in gdf.columns else [])
    out = gdf[[*keep, "geometry"]].reset_index(drop=True)
    out = _validate.check_geometries(out, path=p, layer=PAND_LAYER, kind="polygon",
                                     id_column="pand_id")
    dup = _duplicated(out["pand_id"])
    if dup.any():
        logger.warning("%s: %d duplicate pand ids; keeping the first of each", p.name,
                       int(dup.sum()))
        out = out.loc[~dup].reset_index(drop=True)
    if n_all == len(out):
        logger.info("read %d panden from %s (%s layout)", len(out), p.name, layout)
    else:
        logger.info("read %d panden from %s (%s layout); %d others hold no unit of the input "
                    "and were skipped", len(out), p.name, layout, n_all - len(out))
    return out


def read_verblijfsobjecten(
    path: str | Path,
    *,
    bbox: BBox | None = None,
    mask: Any = None,
    layout: Layout | None = None,
) -> gpd.GeoDataFrame:
    """Read BAG units into the canonical ``verblijfsobjecten`` schema.

    Parameters
    ----------
    path
        BAG GeoPackage in one of the recognised layouts.
    bbox, mask
        Spatial filter at read time, in EPSG:28992 (see :func:`read_panden`).
    layout
        Skip detection and use this layout.

    Returns
    -------
    geopandas.GeoDataFrame
        ``vbo_id``, ``pand_ids`` (comma-joined), ``gebruiksdoel``, ``oppervlakte``,
        ``status``, ``geometry`` (points). Units listed once per pand are merged into one
        row. For the ``ogc`` layout ``pand_ids`` holds pand uuids until resolved by
        :func:`read_bag`.
    """
    p = _validate.check_file(path)
    with _validate.gdal_errors(p, layer=VBO_LAYER):
        layout = layout or detect_layout(p)
        mapping, columns, info = _prepare_layer(p, VBO_LAYER, layout,
                                                what="BAG verblijfsobjecten")
        table, geom_col = _read_units(p, columns, info, bbox=bbox, mask=mask)
        return _vbo_from_arrow(table, geom_col, p, layout, mapping)


def _vbo_from_arrow(table: pa.Table, geom_col: str, p: Path, layout: Layout,
                    mapping: dict[str, str], *, points: bool = True) -> pd.DataFrame:
    """Canonical units from an Arrow table; ``points=False``: ``x``/``y`` instead of points.

    Without history rows, ids are normalised and units listed once per pand are merged in
    Arrow before the conversion to pandas (one filtered copy instead of several); a merged
    unit keeps the place of its first row. ``gebruiksdoel`` and ``status`` are normalised
    (:func:`normalise_gebruiksdoel`, :func:`normalise_status`), units stored as another
    geometry than a point get a point inside it, and units far outside the Netherlands are
    named in a warning (:func:`_check_unit_locations`).
    """
    row_mask = None
    merged_in_arrow = layout != "ogc" and not (
        {"eindgeldigheid", "voorkomenidentificatie"} & set(table.column_names))
    if merged_in_arrow:
        table, row_mask = _merge_in_arrow(table, mapping, path=p)
    gdf = _frame(table, geom_col, p, VBO_LAYER, mapping, row_mask=row_mask, geometry=points)
    del table
    if not merged_in_arrow:
        gdf["vbo_id"] = _str_series(_normalise_row_ids(
            pa.array(gdf["vbo_id"].array), path=p, layer=VBO_LAYER,
            column=mapping["vbo_id"])).set_axis(gdf.index)
    if layout == "ogc":
        gdf["pand_ids"] = gdf["pand_ids"].map(_uuids_from_hrefs).astype("str")
    elif not merged_in_arrow:
        gdf["pand_ids"] = _str_series(_normalise_ids_arrow(pa.array(gdf["pand_ids"].array))
                                      ).set_axis(gdf.index)
    if "oppervlakte" in gdf.columns:
        _validate.parse_numbers(gdf, ["oppervlakte"], path=p, layer=VBO_LAYER)
        gdf["oppervlakte"] = _validate.check_range(gdf["oppervlakte"], lo=1, hi=100_000, path=p,
                                                   column="oppervlakte", layer=VBO_LAYER,
                                                   unit="m²")
    else:
        gdf["oppervlakte"] = np.nan
    gdf["gebruiksdoel"] = normalise_gebruiksdoel(gdf["gebruiksdoel"], path=p,
                                                 column=mapping["gebruiksdoel"])
    dup = _duplicated(gdf["vbo_id"], keep=False) if not merged_in_arrow else None
    if dup is not None and dup.any():
        gdf = _merge_multi_pand_rows(gdf, dup)
    gdf["status"] = normalise_status(gdf["status"], path=p, column=mapping["status"])
    if points:
        geoms = np.asarray(gdf.geometry.values)
        _warn_not_points(shapely.get_type_id(geoms), gdf["vbo_id"], p)
        gdf["geometry"] = _points(gdf.geometry)
        xy = _point_coordinates(np.asarray(gdf.geometry.values))
        bad = _check_unit_locations(xy, gdf["vbo_id"], p)
        if bad.any():  # no infinite points: a unit without a location is a missing geometry
            fixed = np.asarray(gdf.geometry.values).copy()
            fixed[bad] = None
            gdf["geometry"] = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
        gdf["gebruiksdoel"] = gdf["gebruiksdoel"].astype("str")
        out = gdf[["vbo_id", "pand_ids", "gebruiksdoel", "oppervlakte", "status", "geometry"]]
    else:
        if _GEOM_TYPE in gdf.columns:
            _warn_not_points(gdf[_GEOM_TYPE].to_numpy(), gdf["vbo_id"], p)
        xy = np.column_stack([gdf["x"].to_numpy(dtype=float), gdf["y"].to_numpy(dtype=float)])
        bad = _check_unit_locations(xy, gdf["vbo_id"], p)
        if bad.any():
            gdf.loc[bad, ["x", "y"]] = np.nan
        out = gdf[["vbo_id", "pand_ids", "gebruiksdoel", "oppervlakte", "status", "x", "y"]]
    logger.info("read %d verblijfsobjecten from %s (%s layout)", len(out), p.name, layout)
    return out.reset_index(drop=True)


#: Unit statuses of the BAG (catalogus BAG 2.0), in their official spelling.
VBO_STATUSES: tuple[str, ...] = (
    "Verblijfsobject gevormd",
    "Niet gerealiseerd verblijfsobject",
    "Verblijfsobject in gebruik (niet ingemeten)",
    "Verblijfsobject in gebruik",
    "Verbouwing verblijfsobject",
    "Verblijfsobject ingetrokken",
    "Verblijfsobject buiten gebruik",
    "Verblijfsobject ten onrechte opgevoerd",
)

#: Temporary column of :func:`_frame` (``geometry=False``): geometry type of each row, set
#: only when some unit is not a plain point.
_GEOM_TYPE = "__geometry_type__"


def _recode(values: pd.Series) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Distinct values of a text column: row codes (-1 for missing), the distinct values (Arrow
    strings) and the number of rows of each; text functions then run once per distinct value.
    """
    codes, uniques = pd.factorize(values.astype("str"))
    codes = np.asarray(codes, dtype=np.int64)
    distinct = pa.array(np.asarray(uniques, dtype=object), type=pa.string())
    counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
    return codes, distinct, counts


def _categorical(codes: np.ndarray, new_values: list[Any], index: pd.Index) -> pd.Series:
    """Rows as a categorical of their (possibly merged) new distinct values."""
    new_codes, cats = pd.factorize(pd.Series(new_values, dtype=object), sort=True)
    row_codes = np.where(codes >= 0, new_codes[np.clip(codes, 0, None)] if len(new_codes)
                         else -1, -1)
    return pd.Series(pd.Categorical.from_codes(row_codes, categories=pd.Index(cats, dtype="str")),
                     index=index)


def _examples(old: list[Any], new: list[Any], counts: np.ndarray, which: np.ndarray,
              n: int = 3) -> str:
    """The most frequent changed values as ``'old' → 'new'``."""
    order = np.argsort(-counts[which], kind="stable")[:n]
    rows = np.flatnonzero(which)[order]
    return ", ".join(f"{old[i]!r} → {new[i]!r}" for i in rows)


def normalise_gebruiksdoel(values: pd.Series, *, path: Path, column: str = "gebruiksdoel",
                           layer: str = VBO_LAYER) -> pd.Series:
    """Uses of the units in one spelling: lower case, without whitespace, comma-joined.

    ``WOONFUNCTIE``, ``Woonfunctie`` and `` woonfunctie`` would not be dwellings; they become
    ``woonfunctie`` and are counted in a warning naming the file, column and examples. Spaces
    around the commas of a list and inside a use (``overige gebruiksfunctie``) are ordinary
    spellings and removed silently, as before.

    Returns
    -------
    pandas.Series
        A categorical.
    """
    codes, distinct, counts = _recode(values)
    old = distinct.to_pylist()
    new_arr = pc.utf8_lower(pc.replace_substring_regex(distinct, r"\s+", ""))
    new = new_arr.to_pylist()
    trimmed = pc.utf8_trim_whitespace(distinct)
    changed = np.asarray(pc.or_(pc.or_(
        pc.not_equal(trimmed, distinct),  # surrounding whitespace
        pc.not_equal(pc.utf8_lower(distinct), distinct)),  # case
        pc.match_substring_regex(distinct, r"[^\S ]")),  # tabs, line breaks
        dtype=bool) if len(distinct) else np.zeros(0, dtype=bool)
    if changed.any():
        logger.warning("%s: layer %r column %r: %d value(s) in another case or with "
                       "surrounding whitespace were normalised (e.g. %s)", path.name, layer,
                       column, int(counts[changed].sum()), _examples(old, new, counts, changed))
    return _categorical(codes, new, values.index)


def _status_key(values: pa.Array) -> pa.Array:
    collapsed = pc.replace_substring_regex(pc.utf8_trim_whitespace(values), r"\s+", " ")
    return pc.utf8_lower(collapsed)


def normalise_status(values: pd.Series, *, path: Path, column: str = "status",
                     layer: str = VBO_LAYER, known: tuple[str, ...] = VBO_STATUSES
                     ) -> pd.Series:
    """Unit statuses in the BAG spelling; unknown statuses named in a warning.

    Case and whitespace do not matter (``verblijfsobject in gebruik `` is
    ``Verblijfsobject in gebruik``); such values are counted in a warning. A status that is
    not one of ``known`` is kept (without surrounding whitespace) and named with its count in
    a warning: the dwelling rule does not count it.

    Raises
    ------
    InputError
        When units are read but not one has a BAG status: then the column holds something
        else, and every count would be zero for a reason no later message could name.
    """
    codes, distinct, counts = _recode(values)
    old = distinct.to_pylist()
    key = _status_key(distinct)
    lookup = pa.array([s.lower() for s in known], type=pa.string())
    pos = np.asarray(pc.fill_null(pc.index_in(key, value_set=lookup), -1), dtype=np.int64)
    tidy = pc.replace_substring_regex(pc.utf8_trim_whitespace(distinct), r"\s+", " "
                                      ).to_pylist()
    new = [known[i] if i >= 0 else t for i, t in zip(pos, tidy, strict=True)]
    is_known = pos >= 0
    changed = np.array([a != b for a, b in zip(old, new, strict=True)], dtype=bool)
    n_rows = int(counts.sum())
    n_missing = int((codes < 0).sum())
    if len(values) and not is_known.any():
        found = ", ".join(f"{o!r} ×{c}" for o, c in zip(old, counts, strict=True)) if old \
            else "no values"
        raise InputError(f"layer {layer!r} column {column!r} holds no BAG status of a unit "
                         f"(found: {found[:300]}); expected values such as {known[3]!r}",
                         path=path)
    if (changed & is_known).any():
        which = changed & is_known
        logger.warning("%s: layer %r column %r: %d value(s) in another case or with extra "
                       "whitespace were normalised to the BAG spelling (e.g. %s)", path.name,
                       layer, column, int(counts[which].sum()),
                       _examples(old, new, counts, which))
    if (~is_known).any() or n_missing:
        unknown = np.flatnonzero(~is_known)
        shown = ", ".join(f"{old[i]!r} ×{counts[i]}"
                          for i in unknown[np.argsort(-counts[unknown], kind="stable")][:5])
        n_unknown = int(counts[~is_known].sum())
        parts = []
        if n_unknown:
            parts.append(f"{n_unknown} unit(s) of {n_rows + n_missing} have a status that is "
                         f"not a BAG status ({shown})")
        if n_missing:
            parts.append(f"{n_missing} unit(s) have no status")
        logger.warning("%s: layer %r column %r: %s; they are not counted as dwellings",
                       path.name, layer, column, "; ".join(parts))
    return _categorical(codes, new, values.index)


def _warn_not_points(types: np.ndarray, ids: pd.Series, path: Path) -> None:
    """Warn about units stored as another geometry than a point (they get a point inside)."""
    other = (types > 0)  # -1: missing; 0: point
    if not other.any():
        return
    names = {1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
             5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
    kinds, n_kind = np.unique(types[other], return_counts=True)
    per_kind = ", ".join(f"{n} {names.get(int(k), 'other')}" for k, n in
                         zip(kinds, n_kind, strict=True))
    examples = ", ".join(ids.to_numpy(dtype=object)[other][:3].astype(str))
    logger.warning("%s: layer %r: %d unit(s) are stored as another geometry than a point "
                   "(%s; e.g. %s); each is represented by a point inside it "
                   "(representative_point)", path.name, VBO_LAYER, int(other.sum()), per_kind,
                   examples)


def _point_coordinates(geoms: np.ndarray) -> np.ndarray:
    """(n, 2) x, y of points; NaN for missing and empty ones."""
    xy = np.full((len(geoms), 2), np.nan)
    ok = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    xy[ok, 0] = shapely.get_x(geoms[ok])
    xy[ok, 1] = shapely.get_y(geoms[ok])
    return xy


def _check_unit_locations(xy: np.ndarray, ids: pd.Series, path: Path) -> np.ndarray:
    """Units without a usable location, named in one warning: coordinates that are not
    finite (returned, to become missing), far outside the Netherlands (kept) or no geometry.
    All of them end up outside every buurt, where the dwelling report counts them.

    Units outside the Netherlands are only reported when others lie inside: a layer that lies
    outside as a whole is already reported by :func:`woonvoorraad._validate.layer_info`.
    """
    missing = np.isnan(xy).all(axis=1)
    finite = np.isfinite(xy).all(axis=1)
    not_finite = ~missing & ~finite
    x0, y0, x1, y1 = _validate.RD_EXTENT
    with np.errstate(invalid="ignore"):
        outside = finite & ((xy[:, 0] < x0) | (xy[:, 0] > x1) | (xy[:, 1] < y0)
                            | (xy[:, 1] > y1))
    if outside.any() and outside[finite].all():
        outside[:] = False  # the whole layer: see the layer-level warning
    odd = outside | not_finite | missing
    if odd.any():
        parts = [f"{n} {what}" for n, what in (
            (int(outside.sum()), f"outside the Netherlands (RD New x {x0:.0f}–{x1:.0f}, "
                                 f"y {y0:.0f}–{y1:.0f} m)"),
            (int(not_finite.sum()), "with coordinates that are not finite"),
            (int(missing.sum()), "without geometry")) if n]
        names = ids.to_numpy(dtype=object)
        rows = np.concatenate([np.flatnonzero(outside | not_finite), np.flatnonzero(missing)])
        examples = ", ".join(f"{names[i]} at ({xy[i, 0]:g}, {xy[i, 1]:g})" if not missing[i]
                             else f"{names[i]} (no geometry)" for i in rows[:3])
        logger.warning("%s: layer %r: %d unit(s) have no usable location (%s; e.g. %s); they "
                       "are kept and counted as outside every buurt", path.name, VBO_LAYER,
                       int(odd.sum()), ", ".join(parts), examples)
    return not_finite


def _merge_in_arrow(table: pa.Table, mapping: dict[str, str], *, path: Path
                    ) -> tuple[pa.Table, np.ndarray | None]:
    """Normalise the unit and pand ids in Arrow; merge units listed once per pand.

    Returns the table with normalised id columns (the first row of a multi-pand unit holding
    all its pand ids, comma-joined and sorted) and the mask of rows to keep (None: all).
    """
    id_src, pand_src = mapping["vbo_id"], mapping["pand_ids"]
    ids = _normalise_row_ids(table.column(id_src), path=path, layer=VBO_LAYER, column=id_src)
    pand = _normalise_ids_arrow(table.column(pand_src))
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    pand = pand.combine_chunks() if isinstance(pand, pa.ChunkedArray) else pand
    as_int = _int_ids(ids)
    index = pd.Index(as_int) if as_int is not None else pd.Index(
        pa.chunked_array([ids]).to_pandas(), dtype=object)
    dup = index.duplicated(keep=False)
    row_mask = None
    if dup.any():
        rows = np.flatnonzero(dup)
        uniques, joined = _joined_pand_ids(index[rows].to_numpy(), pand.take(pa.array(rows)))
        first = ~index.duplicated(keep="first")
        target = rows[first[rows]]  # first row of each multi-pand unit, in row order
        lookup = uniques.get_indexer(index[target])
        values = pc.fill_null(joined.take(pa.array(lookup, mask=lookup < 0)), "")
        mask = np.zeros(len(ids), dtype=bool)
        mask[target] = True
        pand = pc.replace_with_mask(pand, pa.array(mask), pc.cast(values, pand.type))
        row_mask = first
        logger.debug("merged %d rows of %d multi-pand units", len(rows), len(target))
    table = table.set_column(table.schema.get_field_index(id_src), id_src, ids)
    table = table.set_column(table.schema.get_field_index(pand_src), pand_src, pand)
    return table, row_mask


def _joined_pand_ids(units: np.ndarray, pand_ids: pa.Array) -> tuple[pd.Index, pa.Array]:
    """The pand ids of each unit, de-duplicated, sorted and comma-joined.

    ``units`` names the unit of each row, ``pand_ids`` holds the row's comma-joined pand ids;
    returns the distinct units (in order of first appearance after sorting) and their joined
    ids, without a Python call per unit.
    """
    parts = pc.split_pattern(pc.fill_null(pand_ids, ""), ",")
    pairs = pd.DataFrame({
        "unit": units[pc.list_parent_indices(parts).to_numpy()],
        "pand": pa.chunked_array([pc.list_flatten(parts)]).to_pandas(),
    })
    pairs = pairs.loc[pairs["pand"] != ""].drop_duplicates().sort_values(
        ["unit", "pand"], kind="mergesort")
    codes, uniques = pd.factorize(pairs["unit"], sort=False)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(uniques)))])
    joined = pc.binary_join(pa.ListArray.from_arrays(
        pa.array(offsets, type=pa.int32()), pc.cast(pa.array(pairs["pand"].array),
                                                    pa.string())), ",")
    return pd.Index(uniques), joined


def _merge_multi_pand_rows(gdf: pd.DataFrame, dup: pd.Series) -> pd.DataFrame:
    """Merge units listed once per pand (bag-light) into one row with comma-joined pand ids.

    Vectorised: the pand ids of all rows of a unit are split, de-duplicated, sorted and joined
    with Arrow, without a Python call per unit.
    """
    multi = gdf.loc[dup]
    uniques, joined = _joined_pand_ids(multi["vbo_id"].astype("str").to_numpy(dtype=object),
                                       pa.array(multi["pand_ids"].astype("str").array))
    by_unit = pd.Series(pa.chunked_array([joined]).to_pandas().to_numpy(), index=uniques)
    first = multi.drop_duplicates("vbo_id").set_index("vbo_id")
    first["pand_ids"] = by_unit.reindex(first.index).fillna("").astype("str")
    merged = pd.concat([gdf.loc[~dup], first.reset_index()], ignore_index=True)
    logger.debug("merged %d rows of %d multi-pand units", int(dup.sum()), len(first))
    if isinstance(gdf, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(merged, geometry="geometry", crs=gdf.crs)
    return merged


def _uuids_from_hrefs(value: Any) -> str | None:
    """Turn a ``pand.href`` value (list or JSON list of URLs) into comma-joined uuids."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    items: list[str]
    if isinstance(value, list | tuple | np.ndarray):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        try:
            parsed = json.loads(text)
            items = [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]
        except json.JSONDecodeError:
            items = text.split(",")
    uuids = [i.rstrip("/").rsplit("/", 1)[-1].split("?")[0] for i in items if i]
    return ",".join(uuids) or None


def _points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Units that are not points (multi-points, polygons) become a point inside them
    (:func:`shapely.point_on_surface`, i.e. ``representative_point``); empty stays empty."""
    arr = np.asarray(geoms.values)
    kind = shapely.get_type_id(arr)
    if (kind > 0).any():
        return gpd.GeoSeries(_as_points(arr, kind), index=geoms.index, crs=geoms.crs)
    return geoms


def read_bag(
    path: str | Path,
    *,
    bbox: BBox | None = None,
    mask: Any = None,
    bouwjaar_range: tuple[int, int] = (1200, 2030),
    panden_of_units_only: bool = False,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Layout]:
    """Read panden and verblijfsobjecten from one BAG GeoPackage.

    Only the columns needed are read, through pyogrio with Arrow; both layers at the same
    time (two threads: GDAL and Arrow work outside the GIL), or, with
    ``panden_of_units_only``, units first and then the panden streamed and filtered. Panden
    are read for the area of the units extended by 200 m, so that a building straddling the
    bbox edge is not lost.

    Parameters
    ----------
    path
        BAG GeoPackage in one of the recognised layouts.
    bbox, mask
        Spatial filter at read time, in EPSG:28992 (see :func:`read_panden`).
    bouwjaar_range
        Plausible build years (see :func:`read_panden`).
    panden_of_units_only
        Keep only the panden that a unit of the input refers to (the build needs no others:
        sheds and garages without units take no part in any rule), which saves decoding their
        footprints. Warnings about implausible build years still count every pand read.

    Returns
    -------
    tuple
        ``(panden, verblijfsobjecten, layout)``; for the ``ogc`` layout ``pand_ids`` is
        resolved from uuids to pand ids.
    """
    return _read_bag(path, bbox=bbox, mask=mask, bouwjaar_range=bouwjaar_range,
                     panden_of_units_only=panden_of_units_only, points=True)


def read_bag_for_build(
    path: str | Path,
    *,
    bbox: BBox | None = None,
    mask: Any = None,
    bouwjaar_range: tuple[int, int] = (1200, 2030),
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, Layout]:
    """:func:`read_bag` as the build needs it, lean for a national file.

    Only the panden that units refer to are kept, and the units come as a plain DataFrame
    with ``x`` and ``y`` columns instead of shapely points and with ``gebruiksdoel`` as a
    category: ten million point objects would cost about 2 GB, and the build makes points
    only for the dwellings, after the footprints are freed.

    Returns
    -------
    tuple
        ``(panden, units, layout)``.
    """
    return _read_bag(path, bbox=bbox, mask=mask, bouwjaar_range=bouwjaar_range,
                     panden_of_units_only=True, points=False)


def _read_bag(
    path: str | Path,
    *,
    bbox: BBox | None,
    mask: Any,
    bouwjaar_range: tuple[int, int],
    panden_of_units_only: bool,
    points: bool,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, Layout]:
    p = _validate.check_file(path)
    with _validate.gdal_errors(p):  # damaged values name the file instead of a traceback
        return _read_bag_layers(p, bbox=bbox, mask=mask, bouwjaar_range=bouwjaar_range,
                                panden_of_units_only=panden_of_units_only, points=points)


def _read_bag_layers(p: Path, *, bbox: BBox | None, mask: Any, bouwjaar_range: tuple[int, int],
                     panden_of_units_only: bool, points: bool
                     ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, Layout]:
    layout = detect_layout(p)
    v_map, v_cols, v_info = _prepare_layer(p, VBO_LAYER, layout, what="BAG verblijfsobjecten")
    p_map, p_cols, p_info = _prepare_layer(p, PAND_LAYER, layout, what="BAG panden")
    pand_bbox: BBox | None = None
    if bbox is not None or mask is not None:
        # grow the area by 200 m for the building footprints the units point into
        x0, y0, x1, y1 = bbox if bbox is not None else shapely.bounds(mask)
        pand_bbox = (x0 - 200.0, y0 - 200.0, x1 + 200.0, y1 + 200.0)
        if mask is not None and bbox is not None:
            mb = shapely.bounds(mask)
            pand_bbox = (max(pand_bbox[0], mb[0] - 200), max(pand_bbox[1], mb[1] - 200),
                         min(pand_bbox[2], mb[2] + 200), min(pand_bbox[3], mb[3] + 200))
    if panden_of_units_only and layout != "ogc":
        # units first; then only the panden they refer to are kept, batch by batch
        v_table, v_geom = _read_units(p, v_cols, v_info, bbox=bbox, mask=mask)
        vbo = _vbo_from_arrow(v_table, v_geom, p, layout, v_map, points=points)
        del v_table
        release_memory()
        parts = pc.split_pattern(pc.fill_null(pa.array(vbo["pand_ids"].astype("str").array),
                                              ""), ",")
        keep_ids = pc.unique(pc.list_flatten(parts))
        p_table, p_geom, read = _read_panden_filtered(
            p, p_cols, p_info, p_map, bbox=pand_bbox, keep_ids=keep_ids,
            bouwjaar_range=bouwjaar_range)
        tables = [p_table]
        del p_table, parts, keep_ids
        panden = _panden_from_arrow(tables, p_geom, p, layout, p_map,
                                    bouwjaar_range=bouwjaar_range, read=read)
    else:
        # both layers at once: GDAL and Arrow work outside the GIL
        with ThreadPoolExecutor(max_workers=2) as pool:
            f_vbo = pool.submit(_read_units, p, v_cols, v_info, bbox=bbox, mask=mask)
            f_pand = pool.submit(_read_arrow, p, PAND_LAYER, p_cols, p_info, bbox=pand_bbox,
                                 mask=None)
            v_table, v_geom = f_vbo.result()
            p_table, p_geom = f_pand.result()
            del f_vbo, f_pand  # a finished future keeps its result (the tables) alive
        vbo = _vbo_from_arrow(v_table, v_geom, p, layout, v_map, points=points)
        del v_table
        tables = [p_table]
        del p_table  # _panden_from_arrow drops the last reference as soon as it can
        panden = _panden_from_arrow(tables, p_geom, p, layout, p_map,
                                    bouwjaar_range=bouwjaar_range)
    if layout == "ogc":
        lookup = dict(zip(panden["uuid"], panden["pand_id"], strict=True))
        vbo["pand_ids"] = vbo["pand_ids"].map(
            lambda v: None if pd.isna(v) else ",".join(lookup.get(u, u) for u in v.split(","))
        ).astype("str")
        panden = panden.drop(columns=["uuid"])
    return panden, vbo, layout


def layer_is_synthetic(path: str | Path) -> bool:
    """Whether a GeoPackage's layers carry woonvoorraad's synthetic-data marker."""
    p = Path(path)
    try:
        layers = _validate.list_layers(p)
    except InputError:
        return False
    for layer in layers:
        meta = pyogrio.read_info(p, layer=layer).get("layer_metadata") or {}
        if str(meta.get("woonvoorraad_synthetic", "")).lower() == "true":
            return True
    return False
