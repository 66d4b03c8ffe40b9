"""PDOK OGC API Features: BAG panden and verblijfsobjecten, CBS wijken en buurten.

What :func:`woonvoorraad.sources.fetch.fetch` downloads from PDOK for one gemeente: its
wijk- en buurtkaart (:func:`fetch_boundaries`), the BAG inside its boundary, paged by
tile (:func:`fetch_bag`; or clipped from a national ``bag-light.gpkg``), and the buurt
codes that changed between Kerncijfers years (:func:`find_buurt_code_changes`).

What we know about the formats:

* **BAG** — PDOK OGC API Features v2 (``settings.pdok_bag_url``), collections ``pand`` and
  ``verblijfsobject``, GeoJSON as served by PDOK's GoKoala: ``FeatureCollection`` with
  ``links`` (``rel="next"`` carries an opaque ``cursor``), ``numberReturned``, no
  ``numberMatched`` (high confidence: GoKoala's own test fixtures). Feature ``id`` is a uuid;
  the unit → pand link is ``properties["pand.href"]``, a list of
  ``…/collections/pand/items/<uuid>`` URLs (high confidence: many independent clients).
  Production v2 filters only on ``bbox``/``identificatie``, so status and gebruiksdoel are
  filtered here, client-side; withdrawn and demolished objects are included by the API.
* **CBS wijken en buurten** — PDOK OGC API ``wijken-en-buurten-<year>``
  (``settings.pdok_cbs_url_template``), collections ``gemeenten``, ``wijken``, ``buurten``,
  ``gemeentecode=GM0114`` as a query filter (medium confidence: third-party code), snake_case
  properties as in the GeoPackage, CBS missing-value codes (``-99997`` …) left as served.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import shape
from shapely.prepared import prep

from woonvoorraad import _validate, settings
from woonvoorraad._io import atomic_path
from woonvoorraad._log import progress
from woonvoorraad.errors import DownloadError, GemeenteNotFoundError, HTTPStatusError, InputError
from woonvoorraad.sources import _http, _redact
from woonvoorraad.sources._fetchjob import LICENCES, SOURCES, FetchJob, Licence

logger = logging.getLogger(__name__)


#: Features per page asked from the BAG OGC API (PDOK's maximum is 1000).
BAG_PAGE_LIMIT = 1000


#: Side, in metres, of the bbox tiles a gemeente's BAG is fetched in.
BAG_TILE_SIZE = 5000.0


RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"


#: BAG statuses of objects that do not exist (dropped here; dwelling selection is the build's).
PAND_DROP_STATUSES = frozenset({"Pand gesloopt", "Niet gerealiseerd pand",
                                "Pand ten onrechte opgevoerd"})


VBO_DROP_STATUSES = frozenset({"Verblijfsobject ingetrokken", "Niet gerealiseerd verblijfsobject",
                               "Verblijfsobject ten onrechte opgevoerd"})


PAND_COLUMNS = ("identificatie", "bouwjaar", "status", "gebruiksdoel", "aantal_verblijfsobjecten")


VBO_COLUMNS = ("identificatie", "pand_identificatie", "gebruiksdoel", "oppervlakte", "status",
               "woonplaats_naam", "woonplaats_identificatie")  # BAG woonplaats (villages)


def build_cbs_url(year: int) -> str:
    """The PDOK OGC API base URL of the CBS wijken en buurten of ``year``."""
    return settings.pdok_cbs_url_template.format(year=year).rstrip("/")


def read_page_features(page: Any, url: str) -> list[dict[str, Any]]:
    """The features of one GeoJSON page, checked; malformed features are skipped and logged.

    Raises
    ------
    DownloadError
        The page is not a FeatureCollection, or its ``features`` is not a list.
    """
    shown = _redact.redact_url(url)
    if not isinstance(page, dict) or page.get("type") != "FeatureCollection":
        raise DownloadError(f"{shown}: answer is not a GeoJSON FeatureCollection")
    feats = page.get("features")
    if feats is None:
        return []
    if not isinstance(feats, list):
        raise DownloadError(f"{shown}: 'features' of the answer is not a list")
    good = [f for f in feats if isinstance(f, dict)]
    if len(good) < len(feats):
        logger.warning("%s: %d feature(s) are not JSON objects; skipped", shown,
                       len(feats) - len(good))
    return good


def check_feature_page(page: Any) -> None:
    """Raise ValueError unless ``page`` is a GeoJSON FeatureCollection with a features list.

    Given to :func:`woonvoorraad.sources._http.iter_pages`, so such a page is retried and
    never cached.
    """
    if not isinstance(page, dict) or page.get("type") != "FeatureCollection":
        raise ValueError("answer is not a GeoJSON FeatureCollection")
    if not isinstance(page.get("features", []), list):
        raise ValueError("'features' of the answer is not a list")


def read_feature_properties(feature: Mapping[str, Any]) -> dict[str, Any]:
    """A feature's ``properties`` (an empty dict when absent or not a JSON object)."""
    props = feature.get("properties")
    return props if isinstance(props, dict) else {}


def read_feature_geometry(feature: Mapping[str, Any]) -> Any:
    """A feature's geometry as shapely, or None when absent or not valid GeoJSON."""
    g = feature.get("geometry")
    if not g:
        return None
    try:
        geom = shape(g)
    except (shapely.errors.GEOSException, shapely.errors.GeometryTypeError, ValueError,
            TypeError, KeyError, IndexError, AttributeError):
        return None
    return None if geom.is_empty else geom


def _check_rd_coordinates(geoms: Sequence[Any], url: str) -> None:
    """Raise when coordinates asked in EPSG:28992 came back as longitude/latitude."""
    present = [g for g in geoms if g is not None]
    if not present:
        return
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(present, dtype=object))
    lo_x, lo_y, hi_x, hi_y = _validate._NL_DEGREES
    if lo_x <= x0 <= x1 <= hi_x and lo_y <= y0 <= y1 <= hi_y:
        raise DownloadError(f"{_redact.redact_url(url)}: coordinates ({x0:.4f}, {y0:.4f}) are "
                            f"longitude/latitude although EPSG:28992 was asked (crs={RD_URI})")


def _ogc_features(url: str, params: Mapping[str, Any], *, source: str, licence: Licence,
                  desc: str, refresh: bool) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = []
    for page in _http.iter_pages(url, params=params, source=source, licence=licence.name,
                                 desc=desc, refresh=refresh, validate=check_feature_page):
        features.extend(read_page_features(page, url))
    return features


def build_feature_frame(features: Sequence[Mapping[str, Any]], *, url: str = "",
         kind: str = "polygon") -> gpd.GeoDataFrame:
    """GeoDataFrame of GeoJSON features (properties as served, column order kept).

    Features without a usable geometry are kept with an empty one and counted in a warning;
    invalid polygons are repaired (:func:`woonvoorraad._validate.check_geometries`).
    """
    columns: dict[str, None] = {}
    props = [read_feature_properties(f) for f in features]
    for pr in props:
        for k in pr:
            columns.setdefault(k, None)
    table = pd.DataFrame(props, columns=list(columns))
    geoms = [read_feature_geometry(f) for f in features]
    n_bad = sum(1 for f, g in zip(features, geoms, strict=True) if g is None and f.get("geometry"))
    if n_bad:
        logger.warning("%s: %d feature(s) have a geometry that is not valid GeoJSON; kept "
                       "without geometry", _redact.redact_url(url) or "GeoJSON", n_bad)
    _check_rd_coordinates(geoms, url)
    gdf = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs="EPSG:28992"))
    if len(gdf):
        gdf = _validate.check_geometries(gdf, path=_redact.redact_url(url) or "GeoJSON",
                                         layer="features", kind=kind)
    return gdf


#: Time stamp GDAL writes into ``gpkg_contents.last_change`` (``OGR_CURRENT_DATE``): fixed, so
#: the same features give the same bytes and the manifest's SHA-256 values reproduce.
GPKG_TIMESTAMP = "2000-01-01T00:00:00.000Z"


def _write_layers(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Write GeoPackage layers into one file, atomically and byte-for-byte reproducibly."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        with atomic_path(path) as tmp:
            for name, gdf in layers.items():
                gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _text_list(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or None
    text = str(value).strip()
    return text or None


def _woonplaats_id(value: Any) -> str | None:
    """A woonplaats code as its 4 digits (an integer loses the leading zero)."""
    text = _text_list(value)
    return text.zfill(4) if text is not None and text.isdigit() else text


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(float(value))
    except (TypeError, ValueError):
        return None


def fetch_boundaries(ctx: FetchJob) -> tuple[Path, Any, dict[str, Any]]:
    """Write the gemeente's wijk- en buurtkaart of ``ctx.year`` from PDOK.

    Returns
    -------
    tuple
        The GeoPackage written, the gemeente boundary (a shapely geometry) and the number
        of features per layer.

    Raises
    ------
    GemeenteNotFoundError
        The gemeente has no boundary in that vintage.
    """
    base = build_cbs_url(ctx.year)
    code = ctx.gemeente.code
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in ("gemeenten", "wijken", "buurten"):
        feats = _ogc_features(
            f"{base}/collections/{name}/items",
            {"gemeentecode": code, "crs": RD_URI, "limit": 1000, "f": "json"},
            source=SOURCES["cbs"], licence=LICENCES["cbs"],
            desc=f"CBS {name} {ctx.gemeente.naam} {ctx.year}", refresh=ctx.refresh)
        feats = [f for f in feats
                 if str(read_feature_properties(f).get("gemeentecode", "")).strip() == code]
        if name == "gemeenten" and not feats:
            raise GemeenteNotFoundError(
                f"{ctx.gemeente} has no boundary in CBS wijken en buurten {ctx.year} (PDOK); "
                f"did it exist in {ctx.year}? Try another --year")
        layers[name] = build_feature_frame(feats, url=f"{base}/collections/{name}/items")
    boundary = shapely.union_all(shapely.make_valid(layers["gemeenten"].geometry.values))
    if boundary is None or boundary.is_empty:
        raise DownloadError(f"{ctx.gemeente}: the CBS boundary of {ctx.year} has no usable "
                            f"geometry")
    out = ctx.path("cbs", code, f"wijkenbuurten_{ctx.year}.gpkg")
    _write_layers(out, layers)
    info = {name: len(gdf) for name, gdf in layers.items()}
    logger.info("%s: %d buurten, %d wijken of %d -> %s", ctx.gemeente, info["buurten"],
                info["wijken"], ctx.year, out)
    return out, boundary, info


def _tiles(boundary: Any, size: float) -> list[tuple[float, float, float, float]]:
    xmin, ymin, xmax, ymax = boundary.bounds
    tiles = []
    prepared = prep(boundary)
    y = ymin
    while y < ymax:
        x = xmin
        while x < xmax:
            tile = (x, y, min(x + size, xmax), min(y + size, ymax))
            box = shapely.box(*tile)
            if prepared.intersects(box) and boundary.intersection(box).area > 0:
                tiles.append(tile)
            x += size
        y += size
    return tiles


def _pand_uuids(props: Mapping[str, Any]) -> list[str]:
    hrefs = props.get("pand.href")
    if hrefs is None and isinstance(props.get("pand"), list):
        hrefs = [p.get("href") for p in props["pand"] if isinstance(p, dict)]
    if isinstance(hrefs, str):
        hrefs = [h for h in re.split(r"[,\s]+", hrefs) if h]
    return [str(h).split("?")[0].rstrip("/").rsplit("/", 1)[-1] for h in hrefs or () if h]


def download_bag(ctx: FetchJob, boundary: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame,
                                                        dict[str, Any]]:
    """Download the panden and verblijfsobjecten inside ``boundary`` from the BAG API.

    The boundary's bounding box is read in tiles of :data:`BAG_TILE_SIZE` metres, pages of
    :data:`BAG_PAGE_LIMIT`; demolished and withdrawn objects are dropped here.

    Returns
    -------
    tuple
        Panden, verblijfsobjecten (columns :data:`PAND_COLUMNS`, :data:`VBO_COLUMNS`) and
        counts of what was read and dropped.
    """
    base = settings.pdok_bag_url.rstrip("/")
    tiles = _tiles(boundary, BAG_TILE_SIZE)
    licence = LICENCES["bag"]
    found: dict[str, dict[str, dict[str, Any]]] = {"pand": {}, "verblijfsobject": {}}
    n_raw = dict.fromkeys(found, 0)
    n_no_id = dict.fromkeys(found, 0)
    for collection, feats in found.items():
        for i, tile in enumerate(progress(tiles, desc=f"BAG {collection} {ctx.gemeente.naam}",
                                          total=len(tiles), unit="tile")):
            params = {"bbox": ",".join(f"{v:.3f}" for v in tile), "bbox-crs": RD_URI,
                      "crs": RD_URI, "limit": BAG_PAGE_LIMIT, "f": "json"}
            for page in _http.iter_pages(f"{base}/collections/{collection}/items",
                                         params=params, source=SOURCES["bag"],
                                         licence=licence.name, refresh=ctx.refresh,
                                         validate=check_feature_page,
                                         desc=f"{collection} tile {i + 1}/{len(tiles)}"):
                for f in read_page_features(page, f"{base}/collections/{collection}/items"):
                    n_raw[collection] += 1
                    fid = f.get("id")
                    if fid is None or isinstance(fid, dict | list):
                        fid = read_feature_properties(f).get("identificatie")
                    if fid is None:
                        n_no_id[collection] += 1
                        continue
                    feats.setdefault(str(fid), f)
    prepared = prep(boundary)

    for collection, n in n_no_id.items():
        if n:
            ctx.warn(f"{n} BAG {collection} feature(s) without an id were skipped")
    # units: existing, inside the gemeente
    vbo_rows, referenced = [], set()
    n_vbo_status = n_vbo_outside = n_vbo_nogeom = 0
    for f in found["verblijfsobject"].values():
        props = read_feature_properties(f)
        if props.get("status") in VBO_DROP_STATUSES:
            n_vbo_status += 1
            continue
        geom = read_feature_geometry(f)
        if geom is None:
            n_vbo_nogeom += 1
            continue
        if not prepared.covers(geom):
            n_vbo_outside += 1
            continue
        uuids = _pand_uuids(props)
        referenced.update(uuids)
        vbo_rows.append((props, geom, uuids))

    uuid_to_id = {fid: str(read_feature_properties(f).get("identificatie"))
                  for fid, f in found["pand"].items()}
    extra: set[str] = set()
    missing = sorted(u for u in referenced if u not in uuid_to_id)
    for uuid in progress(missing, desc="BAG panden referenced by units", unit="pand"):
        try:
            f = _http.get_json(f"{base}/collections/pand/items/{uuid}",
                               params={"crs": RD_URI, "f": "json"}, source=SOURCES["bag"],
                               licence=licence.name, refresh=ctx.refresh)
        except HTTPStatusError as exc:
            if exc.status != 404:
                raise
            continue
        if isinstance(f, dict) and f.get("type") == "Feature":
            found["pand"][uuid] = f
            uuid_to_id[uuid] = str(read_feature_properties(f).get("identificatie"))
            extra.add(uuid)
    unresolved = sorted(u for u in referenced if u not in uuid_to_id)
    if unresolved:
        ctx.warn(f"{len(unresolved)} pand links of units could not be resolved "
                 f"(e.g. {', '.join(unresolved[:3])}); those units have no pand_identificatie")

    pand_rows, pand_geoms = [], []
    n_pand_status = n_pand_outside = n_pand_nogeom = 0
    for fid, f in found["pand"].items():
        props = read_feature_properties(f)
        if props.get("status") in PAND_DROP_STATUSES:
            n_pand_status += 1
            continue
        geom = read_feature_geometry(f)
        if geom is None:
            n_pand_nogeom += 1
            continue
        if not (fid in extra or prepared.intersects(geom)):
            n_pand_outside += 1
            continue
        pand_rows.append({
            "identificatie": str(props.get("identificatie")),
            "bouwjaar": _int_or_none(props.get("bouwjaar")),
            "status": props.get("status"),
            "gebruiksdoel": _text_list(props.get("gebruiksdoel")),
            "aantal_verblijfsobjecten": _int_or_none(props.get("aantal_verblijfsobjecten")),
        })
        pand_geoms.append(geom)

    rows, geoms = [], []
    for props, geom, uuids in vbo_rows:
        pand_ids = [uuid_to_id.get(u) for u in uuids] or [None]
        for pid in dict.fromkeys(pand_ids):  # one row per pand, as bag-light does
            rows.append({
                "identificatie": str(props.get("identificatie")),
                "pand_identificatie": pid,
                "gebruiksdoel": _text_list(props.get("gebruiksdoel")),
                "oppervlakte": _int_or_none(props.get("oppervlakte")),
                "status": props.get("status"),
                "woonplaats_naam": _text_list(props.get("woonplaats_naam")),
                "woonplaats_identificatie": _woonplaats_id(props.get("woonplaats_identificatie")),
            })
            geoms.append(geom)
    if n_pand_nogeom or n_vbo_nogeom:
        ctx.warn(f"{n_pand_nogeom} BAG pand(en) and {n_vbo_nogeom} verblijfsobject(en) without a "
                 f"usable geometry were skipped")
    panden = _bag_frame(pand_rows, pand_geoms, PAND_COLUMNS,
                        ints=("bouwjaar", "aantal_verblijfsobjecten"))
    if len(panden):
        panden = _validate.check_geometries(panden, path=f"{base}/collections/pand",
                                            layer="pand", kind="polygon",
                                            id_column="identificatie")
    vbo = _bag_frame(rows, geoms, VBO_COLUMNS, ints=("oppervlakte",))
    info = {
        "route": "PDOK OGC API v2",
        "tiles": len(tiles),
        "features_received": n_raw,
        "panden": len(panden),
        "verblijfsobjecten": int(vbo["identificatie"].nunique()),
        "verblijfsobject_rows": len(vbo),
        "dropped": {"pand_status": n_pand_status, "pand_outside": n_pand_outside,
                    "pand_without_geometry": n_pand_nogeom,
                    "verblijfsobject_status": n_vbo_status,
                    "verblijfsobject_outside": n_vbo_outside,
                    "verblijfsobject_without_geometry": n_vbo_nogeom,
                    "without_id": n_no_id},
        "panden_outside_referenced": len(extra),
        "unresolved_pand_links": len(unresolved),
    }
    return panden, vbo, info


def _bag_frame(rows: list[dict[str, Any]], geoms: list[Any], columns: Sequence[str], *,
               ints: Sequence[str]) -> gpd.GeoDataFrame:
    table = pd.DataFrame(rows, columns=list(columns))
    for col in ints:
        table[col] = pd.array(table[col].tolist(), dtype="Int32")
    for col in columns:
        if col not in ints:
            table[col] = table[col].astype(object)
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs="EPSG:28992"))


def _read_bag_file(ctx: FetchJob, path: Path, boundary: Any) -> tuple[gpd.GeoDataFrame,
                                                                  gpd.GeoDataFrame,
                                                                  dict[str, Any]]:
    if not path.is_file():
        raise InputError("BAG GeoPackage not found", path=path)
    layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    for layer in ("pand", "verblijfsobject"):
        if layer not in layers:
            raise InputError(f"has no layer {layer!r} (expected PDOK bag-light.gpkg); layers: "
                             f"{', '.join(sorted(layers))}", path=path)
    pand_fields = set(pyogrio.read_info(path, layer="pand")["fields"])
    vbo_fields = set(pyogrio.read_info(path, layer="verblijfsobject")["fields"])
    link = "pand_identificatie" if "pand_identificatie" in vbo_fields else "pandidentificatie"
    for layer, fields, need in (("pand", pand_fields, ("identificatie", "bouwjaar", "status")),
                                ("verblijfsobject", vbo_fields,
                                 ("identificatie", link, "status"))):
        lacking = [c for c in need if c not in fields]
        if lacking:
            raise InputError(f"layer {layer!r} lacks {', '.join(lacking)} (expected the PDOK "
                             f"bag-light layout)", path=path)
    logger.info("%s: reading %s by the gemeente's boundary", ctx.gemeente, path)
    vbo = pyogrio.read_dataframe(
        path, layer="verblijfsobject", mask=boundary,
        columns=[c for c in ("identificatie", link, *VBO_COLUMNS[2:]) if c in vbo_fields])
    vbo = vbo.rename(columns={link: "pand_identificatie"})
    n_vbo = len(vbo)
    vbo = vbo.loc[~vbo["status"].isin(VBO_DROP_STATUSES)]
    vbo = vbo.loc[shapely.covers(boundary, vbo.geometry.values)]
    pand_cols = [c for c in PAND_COLUMNS if c in pand_fields]
    panden = pyogrio.read_dataframe(path, layer="pand", mask=boundary, columns=pand_cols)
    wanted = set(vbo["pand_identificatie"].dropna().astype(str)) - set(
        panden["identificatie"].astype(str))
    n_extra = 0
    if wanted:
        ids = ",".join(f"'{re.sub(r'[^0-9A-Za-z.]', '', i)}'" for i in sorted(wanted))
        extra = pyogrio.read_dataframe(path, layer="pand", columns=pand_cols,
                                       where=f"identificatie IN ({ids})")
        n_extra = len(extra)
        panden = pd.concat([panden, extra], ignore_index=True)
    n_pand = len(panden)
    panden = panden.loc[~panden["status"].isin(PAND_DROP_STATUSES)]
    panden = panden.drop_duplicates("identificatie")
    for col in PAND_COLUMNS:
        if col not in panden.columns:
            panden[col] = None
    for col in VBO_COLUMNS:
        if col not in vbo.columns:
            vbo[col] = None
    panden = gpd.GeoDataFrame(panden[[*PAND_COLUMNS, "geometry"]], geometry="geometry",
                              crs="EPSG:28992")
    vbo = gpd.GeoDataFrame(vbo[[*VBO_COLUMNS, "geometry"]], geometry="geometry",
                           crs="EPSG:28992")
    info = {"route": f"bag-light GeoPackage {path.name}", "panden": len(panden),
            "verblijfsobjecten": int(vbo["identificatie"].nunique()),
            "verblijfsobject_rows": len(vbo),
            "dropped": {"pand": n_pand - len(panden), "verblijfsobject": n_vbo - len(vbo)},
            "panden_outside_referenced": n_extra, "file_sha256": None}
    return panden.reset_index(drop=True), vbo.reset_index(drop=True), info


def fetch_bag(ctx: FetchJob, boundary: Any, bag_file: Path | None) -> tuple[Path, set[str],
                                                                         dict[str, Any]]:
    """Write the gemeente's ``bag.gpkg`` from the BAG API, or clipped from ``bag_file``.

    Returns
    -------
    tuple
        The GeoPackage written, the ids of its verblijfsobjecten (for the EP-Online rows)
        and counts for the manifest.
    """
    if bag_file is not None:
        panden, vbo, info = _read_bag_file(ctx, Path(bag_file), boundary)
    else:
        panden, vbo, info = download_bag(ctx, boundary)
    if len(vbo) == 0:
        ctx.warn("no verblijfsobjecten inside the gemeente boundary")
    out = ctx.path("bag", ctx.gemeente.code, "bag.gpkg")
    _write_layers(out, {"pand": panden, "verblijfsobject": vbo})
    logger.info("%s: %d panden, %d verblijfsobjecten -> %s", ctx.gemeente, info["panden"],
                info["verblijfsobjecten"], out)
    return out, set(vbo["identificatie"].dropna().astype(str)), info


def _boundary_vintages(ctx: FetchJob) -> dict[int, Path]:
    folder = ctx.path("cbs", ctx.gemeente.code)
    found = {}
    for p in folder.glob("wijkenbuurten_*.gpkg"):
        m = re.fullmatch(r"wijkenbuurten_(\d{4})\.gpkg", p.name)
        if m:
            found[int(m.group(1))] = p
    return dict(sorted(found.items()))


def _buurt_geoms(path: Path) -> dict[str, Any]:
    gdf = pyogrio.read_dataframe(path, layer="buurten", columns=["buurtcode"])
    return {str(c).strip(): g for c, g in zip(gdf["buurtcode"], gdf.geometry.values,
                                              strict=True) if g is not None}


def find_buurt_code_changes(ctx: FetchJob, kc: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Buurt codes that appear or disappear between consecutive Kerncijfers years."""
    if kc is None or kc.empty:
        return []
    buurten = kc.loc[kc["soort_regio"] == "Buurt"]
    by_year = {int(y): set(g["regiocode"].astype(str)) for y, g in buurten.groupby("jaar")}
    years = sorted(by_year)
    vintages = _boundary_vintages(ctx)
    geoms_cache: dict[int, dict[str, Any]] = {}

    def geoms(year: int) -> dict[str, Any]:
        if year not in geoms_cache:
            geoms_cache[year] = _buurt_geoms(vintages[year])
        return geoms_cache[year]

    changes = []
    for y0, y1 in itertools.pairwise(years):
        gone = sorted(by_year[y0] - by_year[y1])
        new = sorted(by_year[y1] - by_year[y0])
        if not gone and not new:
            continue
        entry: dict[str, Any] = {"from_year": y0, "to_year": y1, "disappeared": gone,
                                 "appeared": new}
        old_year = next((v for v in sorted(vintages, reverse=True)
                         if v <= y0 and set(gone) <= set(geoms(v))), None)
        new_year = next((v for v in sorted(vintages)
                         if v >= y1 and set(new) <= set(geoms(v))), None)
        if gone and new and old_year is not None and new_year is not None:
            entry["geometry"] = {"old_boundaries": old_year, "new_boundaries": new_year,
                                 "changes": _classify(geoms(old_year), geoms(new_year), gone)}
        else:
            entry["geometry"] = (
                "not checked: boundaries of a year with the old codes and of a year with the "
                f"new codes are not both in {ctx.path('cbs', ctx.gemeente.code)} "
                f"(fetch with --year {y0} to add the older boundaries)")
        changes.append(entry)
        ctx.warn(f"buurt codes changed between {y0} and {y1}: disappeared "
                 f"{', '.join(gone) or '-'}; appeared {', '.join(new) or '-'} "
                 f"(kept as published; see buurt_code_changes in the fetch manifest)")
    return changes


def _classify(old: Mapping[str, Any], new: Mapping[str, Any],
              gone: Sequence[str]) -> list[dict[str, Any]]:
    """Split / merge / recode of disappeared buurten by area overlap (≥ 5 % of the area)."""
    tree_codes = list(new)
    tree = shapely.STRtree([new[c] for c in tree_codes])
    predecessors: dict[str, set[str]] = {}
    result = []
    for code in gone:
        poly = old[code]
        area = poly.area or 1.0
        successors = {}
        for idx in tree.query(poly):
            other = tree_codes[int(idx)]
            share = poly.intersection(new[other]).area / area
            if share >= 0.05:
                successors[other] = round(float(share), 3)
                predecessors.setdefault(other, set()).add(code)
        result.append({"code": code, "successors": successors})
    for item in result:
        succ = item["successors"]
        if not succ:
            item["change"] = "unmatched"
        elif len(succ) > 1:
            item["change"] = "split"
        elif len(predecessors[next(iter(succ))]) > 1:
            item["change"] = "merge"
        else:
            item["change"] = "recode"
    return result
