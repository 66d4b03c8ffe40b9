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

import json
import logging
import re
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

from . import _validate
from ._errors import InputError

logger = logging.getLogger(__name__)

Layout = Literal["bag-light", "lvbag", "ogc"]
BBox = tuple[float, float, float, float]

PAND_LAYER = "pand"
VBO_LAYER = "verblijfsobject"

_ID_PREFIX = re.compile(r"NL\.IMBAG\.[A-Za-z]+\.")
_PLAIN_ID = r"^\d{16}$"

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
    from ._errors import MissingColumnError

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
    if pc.all(pc.match_substring_regex(s, _PLAIN_ID)).as_py() is not False:
        return s  # the national files: every id is already 16 digits
    s = pc.utf8_trim_whitespace(s)
    s = pc.replace_substring_regex(s, _ID_PREFIX.pattern, "")
    s = pc.replace_substring_regex(s, r"\s+", "")
    single = pc.fill_null(pc.invert(pc.match_substring(s, ",")), True)
    return pc.if_else(single, pc.utf8_lpad(s, 16, "0"), s)


def _str_series(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (no copy into Python objects)."""
    return values.to_pandas() if isinstance(values, pa.ChunkedArray) else pa.chunked_array(
        [values]).to_pandas()


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


def _geometries(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Shapely geometries from a WKB column.

    Plain little-endian 2D points (21 bytes each, what a BAG unit layer holds) are decoded with
    numpy and built with :func:`shapely.points`; anything else goes through
    :func:`shapely.from_wkb`.
    """
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(col)
    if n and col.null_count == 0 and not pa.types.is_large_binary(col.type):
        bufs = col.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=col.offset * 4)
        if offsets[-1] - offsets[0] == 21 * n and np.all(np.diff(offsets) == 21):
            rec = np.frombuffer(bufs[2], dtype=np.uint8, count=21 * n,
                                offset=int(offsets[0])).reshape(n, 21)
            if np.all(rec[:, 0] == 1) and np.all(rec[:, 1:5].view("<u4").ravel() == 1):
                xy = rec[:, 5:21].copy().view("<f8")
                return shapely.points(xy)
    return shapely.from_wkb(np.asarray(col.to_numpy(zero_copy_only=False)))


def _frame(table: pa.Table, geom_col: str, path: Path, layer: str,
           mapping: dict[str, str], row_mask: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Arrow table -> GeoDataFrame with canonical column names; current rows only."""
    if row_mask is not None:
        table = table.filter(pa.array(row_mask))
    geoms = _geometries(table.column(geom_col))
    df = table.drop_columns([geom_col]).to_pandas()
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=_validate.RD_NEW)
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
    layout = layout or detect_layout(p)
    mapping, columns, info = _prepare_layer(p, PAND_LAYER, layout, what="BAG panden")
    table, geom_col = _read_arrow(p, PAND_LAYER, columns, info, bbox=bbox, mask=mask)
    return _panden_from_arrow(table, geom_col, p, layout, mapping,
                              bouwjaar_range=bouwjaar_range)


def _panden_from_arrow(table: pa.Table, geom_col: str, p: Path, layout: Layout,
                       mapping: dict[str, str], *, bouwjaar_range: tuple[int, int],
                       keep_ids: pa.Array | None = None) -> gpd.GeoDataFrame:
    """Canonical panden from an Arrow table; with ``keep_ids`` only those panden."""
    n_all = table.num_rows
    src = mapping["bouwjaar"]
    if src in table.column_names:
        lo, hi = bouwjaar_range
        years = pc.cast(table.column(src), pa.float64(), safe=False) if pa.types.is_integer(
            table.column(src).type) or pa.types.is_floating(table.column(src).type) else \
            pa.array(pd.to_numeric(table.column(src).to_pandas(), errors="coerce"))
        bad = pc.and_(pc.is_valid(years), pc.or_(pc.less(years, lo), pc.greater(years, hi)))
        n_bad = pc.sum(bad).as_py() or 0
        if n_bad:
            examples = sorted({int(v) for v in pc.filter(years, bad).to_pylist()})[:5]
            logger.warning("%s: %d panden have an implausible bouwjaar (e.g. %s); treated as "
                           "unknown", p.name, n_bad, examples)
    row_mask = None
    if keep_ids is not None and n_all:
        ids = _normalise_ids_arrow(table.column(mapping["pand_id"]))
        row_mask = pc.is_in(ids, value_set=keep_ids).to_numpy(zero_copy_only=False)
        row_mask &= True  # writable copy
    gdf = _frame(table, geom_col, p, PAND_LAYER, mapping, row_mask=row_mask)
    del table
    gdf["pand_id"] = _str_series(_normalise_ids_arrow(pa.array(gdf["pand_id"].array)
                                                      )).set_axis(gdf.index)
    bouwjaar = pd.to_numeric(gdf["bouwjaar"], errors="coerce")
    lo, hi = bouwjaar_range
    bad_rows = bouwjaar.notna() & ((bouwjaar < lo) | (bouwjaar > hi))
    gdf["bouwjaar"] = bouwjaar.mask(bad_rows).round().astype("Int16")
    gdf["status"] = gdf["status"].astype("category")
    keep = ["pand_id", "bouwjaar", "status"] + (["uuid"] if "uuid" in gdf.columns else [])
    out = gdf[[*keep, "geometry"]].reset_index(drop=True)
    dup = out["pand_id"].duplicated()
    if dup.any():
        logger.warning("%s: %d duplicate pand ids; keeping the first of each", p.name,
                       int(dup.sum()))
        out = out.loc[~dup].reset_index(drop=True)
    if keep_ids is None:
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
    layout = layout or detect_layout(p)
    mapping, columns, info = _prepare_layer(p, VBO_LAYER, layout, what="BAG verblijfsobjecten")
    table, geom_col = _read_arrow(p, VBO_LAYER, columns, info, bbox=bbox, mask=mask)
    return _vbo_from_arrow(table, geom_col, p, layout, mapping)


def _vbo_from_arrow(table: pa.Table, geom_col: str, p: Path, layout: Layout,
                    mapping: dict[str, str]) -> gpd.GeoDataFrame:
    gdf = _frame(table, geom_col, p, VBO_LAYER, mapping)
    del table
    gdf["vbo_id"] = _str_series(_normalise_ids_arrow(pa.array(gdf["vbo_id"].array))
                                ).set_axis(gdf.index)
    if layout == "ogc":
        gdf["pand_ids"] = gdf["pand_ids"].map(_uuids_from_hrefs).astype("str")
    else:
        gdf["pand_ids"] = _str_series(_normalise_ids_arrow(pa.array(gdf["pand_ids"].array))
                                      ).set_axis(gdf.index)
    if "oppervlakte" in gdf.columns:
        area = pd.to_numeric(gdf["oppervlakte"], errors="coerce").astype(float)
        gdf["oppervlakte"] = area.where(area > 0)
    else:
        gdf["oppervlakte"] = np.nan
    doel = pa.array(gdf["gebruiksdoel"].astype("str").array)
    gdf["gebruiksdoel"] = _str_series(pc.replace_substring(doel, " ", "")).set_axis(gdf.index)
    dup = gdf["vbo_id"].duplicated(keep=False)
    if dup.any():
        gdf = _merge_multi_pand_rows(gdf, dup)
    gdf["status"] = gdf["status"].astype("category")
    gdf["geometry"] = _points(gdf.geometry)
    out = gdf[["vbo_id", "pand_ids", "gebruiksdoel", "oppervlakte", "status", "geometry"]]
    logger.info("read %d verblijfsobjecten from %s (%s layout)", len(out), p.name, layout)
    return out.reset_index(drop=True)


def _merge_multi_pand_rows(gdf: gpd.GeoDataFrame, dup: pd.Series) -> gpd.GeoDataFrame:
    """Merge units listed once per pand (bag-light) into one row with comma-joined pand ids.

    Vectorised: the pand ids of all rows of a unit are split, de-duplicated, sorted and joined
    with Arrow, without a Python call per unit.
    """
    multi = gdf.loc[dup]
    ids = pa.array(multi["pand_ids"].astype("str").array)
    parts = pc.split_pattern(pc.fill_null(ids, ""), ",")
    pairs = pd.DataFrame({
        "vbo_id": pa.chunked_array([pa.array(multi["vbo_id"].astype("str").array).take(
            pc.list_parent_indices(parts))]).to_pandas(),
        "pand": pa.chunked_array([pc.list_flatten(parts)]).to_pandas(),
    })
    pairs = pairs.loc[pairs["pand"] != ""].drop_duplicates().sort_values(
        ["vbo_id", "pand"], kind="mergesort")
    codes, uniques = pd.factorize(pairs["vbo_id"], sort=False)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(uniques)))])
    joined = pc.binary_join(pa.ListArray.from_arrays(
        pa.array(offsets, type=pa.int32()), pc.cast(pa.array(pairs["pand"].array), pa.string())),
        ",")
    by_unit = pd.Series(pa.chunked_array([joined]).to_pandas().to_numpy(), index=uniques)
    first = multi.drop_duplicates("vbo_id").set_index("vbo_id")
    first["pand_ids"] = by_unit.reindex(first.index).fillna("").astype("str")
    merged = pd.concat([gdf.loc[~dup], first.reset_index()], ignore_index=True)
    logger.debug("merged %d rows of %d multi-pand units", int(dup.sum()), len(first))
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=gdf.crs)


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
    """Multi-points (rare in BAG) become their first point; empty stays empty."""
    arr = geoms.values
    types = shapely.get_type_id(np.asarray(arr))
    if (types == 4).any():
        fixed = np.asarray(arr).copy()
        fixed[types == 4] = shapely.get_geometry(fixed[types == 4], 0)
        return gpd.GeoSeries(fixed, index=geoms.index, crs=geoms.crs)
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

    Both layers are read at the same time (two threads; GDAL and Arrow work outside the GIL),
    only the columns needed, through pyogrio with Arrow. Panden are read for the area of the
    units extended by 200 m, so that a building straddling the bbox edge is not lost.

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
    p = _validate.check_file(path)
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
    with ThreadPoolExecutor(max_workers=2) as pool:
        f_vbo = pool.submit(_read_arrow, p, VBO_LAYER, v_cols, v_info, bbox=bbox, mask=mask)
        f_pand = pool.submit(_read_arrow, p, PAND_LAYER, p_cols, p_info, bbox=pand_bbox,
                             mask=None)
        v_table, v_geom = f_vbo.result()
        p_table, p_geom = f_pand.result()
    vbo = _vbo_from_arrow(v_table, v_geom, p, layout, v_map)
    del v_table
    keep_ids = None
    if panden_of_units_only and layout != "ogc":
        parts = pc.split_pattern(pc.fill_null(pa.array(vbo["pand_ids"].astype("str").array),
                                              ""), ",")
        keep_ids = pc.unique(pc.list_flatten(parts))
    panden = _panden_from_arrow(p_table, p_geom, p, layout, p_map,
                                bouwjaar_range=bouwjaar_range, keep_ids=keep_ids)
    del p_table
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
