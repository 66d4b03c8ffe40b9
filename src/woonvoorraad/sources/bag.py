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
national file is never read whole for one gemeente. The Arrow reading and WKB decoding are
in :mod:`~woonvoorraad.sources._bag_arrow`, the id handling in
:mod:`~woonvoorraad.sources._bag_ids`, the gebruiksdoel/status spellings and location checks
in :mod:`~woonvoorraad.sources._bag_values`.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import queue
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
from woonvoorraad.sources import _bag_woonplaats
from woonvoorraad.sources._bag_arrow import (
    BBox,
    covers,
    decode_coordinates,
    decode_geometries,
    extract_xy,
    make_points,
    read_arrow,
    read_units,
)
from woonvoorraad.sources._bag_ids import (
    find_duplicates,
    make_str_series,
    normalise_ids_arrow,
    normalise_row_ids,
    parse_href_uuids,
    parse_int_ids,
)
from woonvoorraad.sources._bag_values import (
    check_unit_locations,
    normalise_gebruiksdoel,
    normalise_status,
    warn_not_points,
)

logger = logging.getLogger(__name__)

Layout = Literal["bag-light", "lvbag", "ogc"]

PAND_LAYER = "pand"
VBO_LAYER = "verblijfsobject"


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
            "woonplaats": _bag_woonplaats.NAAM_FIELD,
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
            "woonplaats": _bag_woonplaats.HOOFDADRES_FIELD,  # resolved through the addresses
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
            "woonplaats": _bag_woonplaats.NAAM_FIELD,
        },
    },
}

_OPTIONAL = {"oppervlakte", "woonplaats"}


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


def release_memory() -> None:
    """Hand freed memory back to the operating system (Arrow's pool; glibc's heap on Linux).

    Large builds free gigabytes between steps; without this the freed memory stays in the
    allocators and adds to the peak of the next step.
    """
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _prepare_layer(path: Path, layer: str, layout: Layout, *, what: str
                   ) -> tuple[dict[str, str], list[str], dict[str, Any]]:
    """Validate a layer; return the column mapping, the columns to read and the layer info."""
    info = _validate.layer_info(path, layer, what=what)
    _validate.require_rd_new(info["crs"], path=path, layer=layer)
    mapping = _COLUMNS[layout][layer].copy()
    fields = list(info["fields"])
    if layout == "bag-light" and layer == VBO_LAYER and "pand_identificatie" not in fields:
        mapping["pand_ids"] = "pandidentificatie"  # PDOK WFS spelling
    if layer == VBO_LAYER:
        bron = _bag_woonplaats.plan(path, layout, fields)
        _bag_woonplaats.warn_if_unavailable(bron, path)
        if bron.bron_kolom is None:  # read no address column when the chain is broken
            mapping.pop("woonplaats", None)
    required = [src for canon, src in mapping.items() if canon not in _OPTIONAL]
    _validate.require_columns(fields, required, path=path, layer=layer)
    history = [c for c in ("eindgeldigheid", "voorkomenidentificatie") if c in fields]
    columns = [src for src in mapping.values() if src in fields] + history
    return mapping, columns, info


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
            df, geometry=decode_geometries(table.column(geom_col), row_mask), crs=_validate.RD_NEW)
    elif geometry is None:
        gdf = df
    else:
        xy, types = decode_coordinates(table.column(geom_col))
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
    table, geom_col = read_arrow(path, layer, columns, info, bbox=bbox, mask=mask)
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
        table, geom_col = read_arrow(p, PAND_LAYER, columns, info, bbox=bbox, mask=mask)
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
    ids = normalise_ids_arrow(pand_ids)
    index = keep_ids if isinstance(keep_ids, pd.Index) else _keep_index(keep_ids)
    if index.dtype == np.int64:
        as_int = parse_int_ids(ids)
        if as_int is not None:
            return index.get_indexer(as_int) >= 0 if len(index) else \
                np.zeros(len(as_int), dtype=bool)
        index = pd.Index(np.char.zfill(index.to_numpy().astype(str), 16), dtype=object)
    values = pa.array(index.to_numpy(), type=pa.string())
    return np.asarray(pc.fill_null(pc.is_in(ids, value_set=values), False))


def _keep_index(keep_ids: pa.Array) -> pd.Index:
    """A lookup index of pand ids: int64 when they are plain 16-digit ids."""
    keep = pc.drop_null(keep_ids)
    as_int = parse_int_ids(keep)
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
    if covers(bbox, info):
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
    gdf["pand_id"] = make_str_series(normalise_row_ids(
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
    dup = find_duplicates(out["pand_id"])
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
        table, geom_col = read_units(p, VBO_LAYER, columns, info, bbox=bbox, mask=mask)
        return _vbo_from_arrow(table, geom_col, p, layout, mapping, woonplaats_cache=False)


def _vbo_from_arrow(table: pa.Table, geom_col: str, p: Path, layout: Layout,
                    mapping: dict[str, str], *, points: bool = True,
                    woonplaats_cache: bool = True) -> pd.DataFrame:
    """Canonical units from an Arrow table; ``points=False``: ``x``/``y`` instead of points.

    Without history rows, ids are normalised and units listed once per pand are merged in
    Arrow before the conversion to pandas (one filtered copy instead of several); a merged
    unit keeps the place of its first row. ``gebruiksdoel`` and ``status`` are normalised
    (:func:`normalise_gebruiksdoel`, :func:`normalise_status`), units stored as another
    geometry than a point get a point inside it, and units far outside the Netherlands are
    named in a warning (:func:`check_unit_locations`). The ``woonplaats`` comes from
    :mod:`~woonvoorraad.sources._bag_woonplaats` (``woonplaats_cache``: keep the address lookup
    for the next tile); where it comes from is in ``attrs["woonplaats"]``.
    """
    table, bron = _bag_woonplaats.prepare(table, p, layout, mapping, cache=woonplaats_cache)
    row_mask = None
    merged_in_arrow = layout != "ogc" and not (
        {"eindgeldigheid", "voorkomenidentificatie"} & set(table.column_names))
    if merged_in_arrow:
        table, row_mask = _merge_in_arrow(table, mapping, path=p)
    gdf = _frame(table, geom_col, p, VBO_LAYER, mapping, row_mask=row_mask, geometry=points)
    del table
    if not merged_in_arrow:
        gdf["vbo_id"] = make_str_series(normalise_row_ids(
            pa.array(gdf["vbo_id"].array), path=p, layer=VBO_LAYER,
            column=mapping["vbo_id"])).set_axis(gdf.index)
    if layout == "ogc":
        gdf["pand_ids"] = gdf["pand_ids"].map(parse_href_uuids).astype("str")
    elif not merged_in_arrow:
        gdf["pand_ids"] = make_str_series(normalise_ids_arrow(pa.array(gdf["pand_ids"].array))
                                      ).set_axis(gdf.index)
    if "oppervlakte" in gdf.columns:
        _validate.parse_numbers(gdf, ["oppervlakte"], path=p, layer=VBO_LAYER)
        gdf["oppervlakte"] = _validate.check_range(gdf["oppervlakte"], lo=1, hi=100_000, path=p,
                                                   column="oppervlakte", layer=VBO_LAYER,
                                                   unit="m²")
    else:
        gdf["oppervlakte"] = np.nan
    gdf["gebruiksdoel"] = normalise_gebruiksdoel(gdf["gebruiksdoel"], path=p, layer=VBO_LAYER,
                                                 column=mapping["gebruiksdoel"])
    dup = find_duplicates(gdf["vbo_id"], keep=False) if not merged_in_arrow else None
    if dup is not None and dup.any():
        gdf = _merge_multi_pand_rows(gdf, dup)
    gdf["status"] = normalise_status(gdf["status"], path=p, layer=VBO_LAYER,
                                   column=mapping["status"])
    gdf["woonplaats"], bron = _bag_woonplaats.finish(gdf, bron)
    if points:
        geoms = np.asarray(gdf.geometry.values)
        warn_not_points(shapely.get_type_id(geoms), gdf["vbo_id"], p, layer=VBO_LAYER)
        gdf["geometry"] = _points(gdf.geometry)
        xy = extract_xy(np.asarray(gdf.geometry.values))
        bad = check_unit_locations(xy, gdf["vbo_id"], p, layer=VBO_LAYER)
        if bad.any():  # no infinite points: a unit without a location is a missing geometry
            fixed = np.asarray(gdf.geometry.values).copy()
            fixed[bad] = None
            gdf["geometry"] = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
        gdf["gebruiksdoel"] = gdf["gebruiksdoel"].astype("str")
        out = gdf[["vbo_id", "pand_ids", "gebruiksdoel", "oppervlakte", "status", "woonplaats",
                   "geometry"]]
    else:
        if _GEOM_TYPE in gdf.columns:
            warn_not_points(gdf[_GEOM_TYPE].to_numpy(), gdf["vbo_id"], p, layer=VBO_LAYER)
        xy = np.column_stack([gdf["x"].to_numpy(dtype=float), gdf["y"].to_numpy(dtype=float)])
        bad = check_unit_locations(xy, gdf["vbo_id"], p, layer=VBO_LAYER)
        if bad.any():
            gdf.loc[bad, ["x", "y"]] = np.nan
        out = gdf[["vbo_id", "pand_ids", "gebruiksdoel", "oppervlakte", "status", "woonplaats",
                   "x", "y"]]
    logger.info("read %d verblijfsobjecten from %s (%s layout)", len(out), p.name, layout)
    out = out.reset_index(drop=True)
    out.attrs["woonplaats"] = bron.as_dict()
    return out


def woonplaats_bron(path: str | Path, *, layout: Layout | None = None
                    ) -> _bag_woonplaats.WoonplaatsBron:
    """Whether a BAG GeoPackage gives each unit's woonplaats, and if not, what it lacks
    (:class:`~woonvoorraad.sources._bag_woonplaats.WoonplaatsBron`, without counts).

    The readers put the same, with counts, in ``units.attrs["woonplaats"]``; this is for a
    caller that reads no units itself (the dask engine's client). Logs nothing.
    """
    p = _validate.check_file(path)
    with _validate.gdal_errors(p, layer=VBO_LAYER):
        layout = layout or detect_layout(p)
        fields = _validate.layer_info(p, VBO_LAYER, what="BAG verblijfsobjecten")["fields"]
        return _bag_woonplaats.plan(p, layout, fields)


#: Temporary column of :func:`_frame` (``geometry=False``): geometry type of each row, set
#: only when some unit is not a plain point.
_GEOM_TYPE = "__geometry_type__"


def _merge_in_arrow(table: pa.Table, mapping: dict[str, str], *, path: Path
                    ) -> tuple[pa.Table, np.ndarray | None]:
    """Normalise the unit and pand ids in Arrow; merge units listed once per pand.

    Returns the table with normalised id columns (the first row of a multi-pand unit holding
    all its pand ids, comma-joined and sorted) and the mask of rows to keep (None: all).
    """
    id_src, pand_src = mapping["vbo_id"], mapping["pand_ids"]
    ids = normalise_row_ids(table.column(id_src), path=path, layer=VBO_LAYER, column=id_src)
    pand = normalise_ids_arrow(table.column(pand_src))
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    pand = pand.combine_chunks() if isinstance(pand, pa.ChunkedArray) else pand
    as_int = parse_int_ids(ids)
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


def _points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Units that are not points (multi-points, polygons) become a point inside them
    (:func:`shapely.point_on_surface`, i.e. ``representative_point``); empty stays empty."""
    arr = np.asarray(geoms.values)
    kind = shapely.get_type_id(arr)
    if (kind > 0).any():
        return gpd.GeoSeries(make_points(arr, kind), index=geoms.index, crs=geoms.crs)
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
        v_table, v_geom = read_units(p, VBO_LAYER, v_cols, v_info, bbox=bbox, mask=mask)
        vbo = _vbo_from_arrow(v_table, v_geom, p, layout, v_map, points=points,
                              woonplaats_cache=False)
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
            f_vbo = pool.submit(read_units, p, VBO_LAYER, v_cols, v_info, bbox=bbox, mask=mask)
            f_pand = pool.submit(read_arrow, p, PAND_LAYER, p_cols, p_info, bbox=pand_bbox,
                                 mask=None)
            v_table, v_geom = f_vbo.result()
            p_table, p_geom = f_pand.result()
            del f_vbo, f_pand  # a finished future keeps its result (the tables) alive
        vbo = _vbo_from_arrow(v_table, v_geom, p, layout, v_map, points=points,
                              woonplaats_cache=False)
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
