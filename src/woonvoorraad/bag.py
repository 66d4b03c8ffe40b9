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
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
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
    s = values.astype("string").str.strip()
    s = s.str.replace(_ID_PREFIX, "", regex=True).str.replace(r"\s+", "", regex=True)
    single = ~s.str.contains(",", regex=False).fillna(False)
    s = s.mask(single, s.str.zfill(16))
    return s.astype(object).where(s.notna(), None)


def _read_layer(
    path: Path,
    layer: str,
    layout: Layout,
    *,
    bbox: BBox | None,
    mask: Any,
    what: str,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
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
    gdf = pyogrio.read_dataframe(
        path, layer=layer, columns=columns, bbox=bbox, mask=mask, use_arrow=True
    )
    if gdf.crs is None:
        gdf = gdf.set_crs(_validate.RD_NEW)
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
    gdf = gdf.drop(columns=[c for c in ("eindgeldigheid",) if c in gdf.columns])
    return gdf, info


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
    gdf, _ = _read_layer(p, PAND_LAYER, layout, bbox=bbox, mask=mask, what="BAG panden")
    gdf["pand_id"] = normalise_ids(gdf["pand_id"])
    bouwjaar = pd.to_numeric(gdf["bouwjaar"], errors="coerce")
    lo, hi = bouwjaar_range
    bad = bouwjaar.notna() & ((bouwjaar < lo) | (bouwjaar > hi))
    if bad.any():
        examples = sorted(set(bouwjaar[bad].astype(int).tolist()))[:5]
        logger.warning("%s: %d panden have an implausible bouwjaar (e.g. %s); treated as unknown",
                       p.name, int(bad.sum()), examples)
    gdf["bouwjaar"] = bouwjaar.mask(bad).round().astype("Int16")
    gdf["status"] = gdf["status"].astype("category")
    keep = ["pand_id", "bouwjaar", "status"] + (["uuid"] if "uuid" in gdf.columns else [])
    out = gdf[[*keep, "geometry"]].reset_index(drop=True)
    dup = out["pand_id"].duplicated()
    if dup.any():
        logger.warning("%s: %d duplicate pand ids; keeping the first of each", p.name,
                       int(dup.sum()))
        out = out.loc[~dup].reset_index(drop=True)
    logger.info("read %d panden from %s (%s layout)", len(out), p.name, layout)
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
    gdf, _ = _read_layer(p, VBO_LAYER, layout, bbox=bbox, mask=mask,
                         what="BAG verblijfsobjecten")
    gdf["vbo_id"] = normalise_ids(gdf["vbo_id"])
    if layout == "ogc":
        gdf["pand_ids"] = gdf["pand_ids"].map(_uuids_from_hrefs)
    else:
        gdf["pand_ids"] = normalise_ids(gdf["pand_ids"])
    if "oppervlakte" in gdf.columns:
        area = pd.to_numeric(gdf["oppervlakte"], errors="coerce").astype(float)
        gdf["oppervlakte"] = area.where(area > 0)
    else:
        gdf["oppervlakte"] = np.nan
    gdf["gebruiksdoel"] = gdf["gebruiksdoel"].astype("string").str.replace(" ", "")
    dup = gdf["vbo_id"].duplicated(keep=False)
    if dup.any():
        gdf = _merge_multi_pand_rows(gdf, dup)
    gdf["status"] = gdf["status"].astype("category")
    gdf["geometry"] = _points(gdf.geometry)
    out = gdf[["vbo_id", "pand_ids", "gebruiksdoel", "oppervlakte", "status", "geometry"]]
    logger.info("read %d verblijfsobjecten from %s (%s layout)", len(out), p.name, layout)
    return out.reset_index(drop=True)


def _merge_multi_pand_rows(gdf: gpd.GeoDataFrame, dup: pd.Series) -> gpd.GeoDataFrame:
    """Merge units listed once per pand (bag-light) into one row with comma-joined pand ids."""
    multi = gdf.loc[dup]
    joined = (
        multi.groupby("vbo_id", sort=False)["pand_ids"]
        .agg(lambda s: ",".join(sorted({x for v in s.dropna() for x in str(v).split(",")})))
    )
    first = multi.drop_duplicates("vbo_id").set_index("vbo_id")
    first["pand_ids"] = joined
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
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Layout]:
    """Read panden and verblijfsobjecten from one BAG GeoPackage.

    Units are read first; panden are then read for the same area, extended by the panden the
    units refer to, so that a building straddling the bbox edge is not lost.

    Returns
    -------
    tuple
        ``(panden, verblijfsobjecten, layout)``; for the ``ogc`` layout ``pand_ids`` is
        resolved from uuids to pand ids.
    """
    p = _validate.check_file(path)
    layout = detect_layout(p)
    vbo = read_verblijfsobjecten(p, bbox=bbox, mask=mask, layout=layout)
    if bbox is not None or mask is not None:
        # grow the area by the building footprints the units point into
        area = shapely.box(*vbo.total_bounds) if len(vbo) else None
        panden = read_panden(p, bbox=None if area is None else tuple(area.buffer(200).bounds),
                             layout=layout, bouwjaar_range=bouwjaar_range)
    else:
        panden = read_panden(p, layout=layout, bouwjaar_range=bouwjaar_range)
    if layout == "ogc":
        lookup = dict(zip(panden["uuid"], panden["pand_id"], strict=True))
        vbo["pand_ids"] = vbo["pand_ids"].map(
            lambda v: None if v is None else ",".join(lookup.get(u, u) for u in v.split(","))
        )
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
