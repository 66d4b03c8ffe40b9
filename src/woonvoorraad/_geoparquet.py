"""GeoParquet files partitioned by gemeente: writing, merging parts and reading row groups.

Every table woonvoorraad writes as GeoParquet (``dwellings.parquet``, ``buurten.parquet``)
has one row group per gemeente, ordered by gemeentecode, so a reader that wants one gemeente
reads only its row group through a pyarrow filter. Both engines of the build write through
this module (:mod:`woonvoorraad.pipeline`, :mod:`woonvoorraad.stock.distributed`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from woonvoorraad import __version__

logger = logging.getLogger(__name__)

#: Columns stored with dictionary encoding besides the dictionary (categorical) ones.
_LOW_CARDINALITY = ("buurtcode", "wijkcode", "gemeentecode")


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns of ``schema`` written with dictionary encoding."""
    return [f.name for f in schema
            if f.name in _LOW_CARDINALITY or pa.types.is_dictionary(f.type)]


def geoparquet_table(gdf: gpd.GeoDataFrame) -> pa.Table:
    """A GeoDataFrame as an Arrow table with GeoParquet 1.1.0 metadata (WKB geometry).

    Plain 2D points are encoded to WKB with numpy (21 bytes each), without one Python
    ``bytes`` object per row; other geometries go through :func:`shapely.to_wkb` in chunks.
    Reading the file back with :func:`geopandas.read_parquet` gives the same frame.

    Parameters
    ----------
    gdf
        The table to convert.

    Returns
    -------
    pyarrow.Table
        The columns of ``gdf`` with its geometry (last) as WKB and the ``geo`` metadata.
    """
    geom_col = gdf.geometry.name
    geoms = np.asarray(gdf.geometry.values)
    table = pa.Table.from_pandas(pd.DataFrame(gdf.drop(columns=geom_col)),
                                 preserve_index=False)
    types = shapely.get_type_id(geoms)
    n = len(geoms)
    if n and (types == 0).all() and not shapely.has_z(geoms).any():
        xy = shapely.get_coordinates(geoms)
        rec = np.empty(n, dtype=np.dtype([("bo", "u1"), ("t", "<u4"), ("x", "<f8"),
                                          ("y", "<f8")]))
        rec["bo"], rec["t"], rec["x"], rec["y"] = 1, 1, xy[:, 0], xy[:, 1]
        offsets = np.arange(n + 1, dtype=np.int64) * 21
        wkb = pa.Array.from_buffers(pa.large_binary(), n, [
            None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(rec.tobytes())])
        bbox = [float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()),
                float(xy[:, 1].max())]
    else:
        wkb = pa.concat_arrays([pa.array(shapely.to_wkb(geoms[lo:lo + 500_000]),
                                         type=pa.large_binary())
                                for lo in range(0, max(n, 1), 500_000)])
        present_geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
        bounds = (shapely.total_bounds(present_geoms) if len(present_geoms)
                  else np.full(4, np.nan))  # total_bounds raises on zero-size input
        bbox = [float(v) for v in bounds] if np.isfinite(bounds).all() else []
    present = sorted({shapely.GeometryType(t).name for t in np.unique(types) if t >= 0})
    names = {"POINT": "Point", "LINESTRING": "LineString", "LINEARRING": "LineString",
             "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint",
             "MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon",
             "GEOMETRYCOLLECTION": "GeometryCollection"}
    column: dict[str, Any] = {"encoding": "WKB",
                              "geometry_types": sorted({names[t] for t in present})}
    if gdf.crs is not None:
        column["crs"] = gdf.crs.to_json_dict()
    if bbox:
        column["bbox"] = bbox
    geo = {"version": "1.1.0", "primary_column": geom_col, "columns": {geom_col: column},
           "creator": {"library": "woonvoorraad", "version": __version__}}
    table = table.append_column(geom_col, wkb)
    metadata = dict(table.schema.metadata or {})
    metadata[b"geo"] = json.dumps(geo).encode()
    return table.replace_schema_metadata(metadata)


def write_partitioned(table: gpd.GeoDataFrame, path: str | Path, *,
                      by: str = "gemeentecode") -> dict[str, int]:
    """Write a table as GeoParquet, partitioned by gemeente into row groups.

    Rows are ordered by ``by`` (stable; rows without a gemeente, such as dwellings outside
    every buurt, last) and each gemeente is exactly one row group, so a reader that wants one
    gemeente reads only its row group:
    ``pyarrow.parquet.read_table(path, filters=[("gemeentecode", "==", "GM0114")])`` or
    ``geopandas.read_parquet(path, filters=...)`` skips the others by their statistics. One
    file keeps the output a plain GeoParquet file (1.1.0, WKB) that any tool can open.

    Parameters
    ----------
    table
        The dwelling or buurt table.
    path
        Output file.
    by
        Partitioning column.

    Returns
    -------
    dict
        Rows per partition value (``""`` for missing).
    """
    codes, uniques = pd.factorize(table[by], sort=True)
    key = np.where(codes < 0, len(uniques), codes)
    order = np.argsort(key, kind="stable")
    counts = np.bincount(key, minlength=len(uniques) + 1)
    arrow = geoparquet_table(table).take(pa.array(order))
    with pq.ParquetWriter(path, arrow.schema, compression="snappy",
                          use_dictionary=_dictionary_columns(arrow.schema)) as writer:
        start = 0
        for n in counts:
            if n:
                writer.write_table(arrow.slice(start, int(n)), row_group_size=int(n))
            start += int(n)
    labels = [str(u) for u in uniques] + [""]
    return {label: int(n) for label, n in zip(labels, counts, strict=True) if n}


def merge_parts(parts: dict[str, Sequence[str | Path]], target: str | Path, *,
                order: Sequence[str], labels: dict[str, str] | None = None) -> dict[str, int]:
    """Concatenate GeoParquet part files into one file, one row group per key.

    The layout of :func:`write_partitioned`, written without holding more than one key's
    parts in memory. The parts share one schema (that of the first); the merged ``geo``
    metadata carries the union of their geometry types and bounding boxes.

    Parameters
    ----------
    parts
        Part files per key (e.g. per gemeentecode), concatenated in the given order.
    target
        Output file.
    order
        The keys in the order of their row groups (every key of ``parts``, non-empty).
    labels
        Name of a key in the returned counts, if not the key itself.

    Returns
    -------
    dict
        Rows per key (renamed by ``labels``).
    """
    labels = labels or {}
    schema = pq.read_schema(parts[order[0]][0])
    geo = json.loads(schema.metadata[b"geo"])
    col = geo["primary_column"]
    bbox = [math.inf, math.inf, -math.inf, -math.inf]
    types: set[str] = set()
    for name in order:
        for f in parts[name]:
            meta = json.loads(pq.read_schema(f).metadata[b"geo"])["columns"][col]
            types.update(meta.get("geometry_types", []))
            if meta.get("bbox"):
                b = meta["bbox"]
                bbox = [min(bbox[0], b[0]), min(bbox[1], b[1]), max(bbox[2], b[2]),
                        max(bbox[3], b[3])]
    geo["columns"][col]["geometry_types"] = sorted(types)
    if math.isfinite(bbox[0]):
        geo["columns"][col]["bbox"] = bbox
    metadata = dict(schema.metadata)
    metadata[b"geo"] = json.dumps(geo).encode()
    schema = schema.with_metadata(metadata)
    counts: dict[str, int] = {}
    with pq.ParquetWriter(target, schema, compression="snappy",
                          use_dictionary=_dictionary_columns(schema)) as writer:
        for name in order:
            table = pa.concat_tables([pq.read_table(f) for f in parts[name]])
            table = table.replace_schema_metadata(metadata).cast(schema)
            writer.write_table(table, row_group_size=max(table.num_rows, 1))
            counts[labels.get(name, name)] = table.num_rows
    return counts


def read_row_group(path: str | Path, index: int) -> gpd.GeoDataFrame:
    """One row group of a GeoParquet file written by woonvoorraad, as a GeoDataFrame.

    Parameters
    ----------
    path
        A file written by :func:`write_partitioned` or :func:`merge_parts`.
    index
        The row group (a file without row groups is read whole).

    Returns
    -------
    geopandas.GeoDataFrame
    """
    pf = pq.ParquetFile(path)
    geo = json.loads(pf.schema_arrow.metadata[b"geo"])
    col = geo["primary_column"]
    table = pf.read_row_group(index) if pf.num_row_groups else pf.read()
    frame = table.drop_columns([col]).to_pandas()
    geoms = shapely.from_wkb(np.asarray(table.column(col).to_numpy(zero_copy_only=False)))
    crs = geo["columns"][col].get("crs")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=crs, name=col,
                                                          index=frame.index), crs=crs)
