"""Download the open data of any gemeente: BAG, CBS wijken en buurten, Kerncijfers, EP-Online.

``fetch`` writes, per gemeente, the files ``woonvoorraad build`` reads, under
``<data_dir>/raw/``::

    bag/GM0114/bag.gpkg                      BAG in the PDOK bag-light layout
    cbs/GM0114/wijkenbuurten_2024.gpkg       CBS wijk- en buurtkaart (buurten, wijken, gemeenten)
    cbs/GM0114/kerncijfers.parquet           CBS Kerncijfers wijken en buurten, 2019-2024
    cbs/GM0114/prognose.parquet              PBL/CBS regional forecast for the gemeente
    ep-online/GM0114/labels.csv              EP-Online registered labels (needs an API key)
    manifests/GM0114/fetch-manifest.json     sources, URLs, times, sizes, SHA-256, licences

Every request goes through :mod:`woonvoorraad.sources._http` (cache, retries, provenance), so a
second fetch of the same gemeente makes no network request at all, and ``offline=True`` works from
the cache alone.

Sources and what we know about their formats (research notes ``open-data-sources.md``, plus
the public code and documentation searched while writing this module):

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
* **Kerncijfers** — CBS OData v3: ``<cbs_odata_url>/<table>/DataProperties`` (``value`` list of
  ``{"odata.type", "ID", "Key", "Title", "Type", "Unit", …}``; dimension types ``GeoDimension``
  / ``Dimension`` / ``TimeDimension``, measures ``Topic``) and
  ``<cbs_odata_feed_url>/<table>/TypedDataSet`` paged with ``odata.nextLink`` (high
  confidence). Column keys carry a yearly changing suffix (``AantalInwoners_5``) and are found
  here by their stem through ``DataProperties``; region codes and ``SoortRegio`` are padded
  (``"GM0114    "``) and stripped here; units come from ``DataProperties.Unit`` (``%`` →
  fraction, ``x 1 000 euro`` → euro).
* **Forecast** — PBL/CBS "Regionale prognose 2023-2050 … regio-indeling 2021":
  ``85173NED`` (bevolking, intervallen; dimensions ``RegioIndeling2021``, ``PrognoseInterval``
  ``MW00000``/``MOG0067``/``MBG0067``, ``Leeftijd`` total ``10000``, ``Perioden``; measure
  ``TotaleBevolking_1`` in × 1 000 — medium-high confidence: third-party code that states it
  was checked against the live API) and ``85172NED`` (huishoudens, intervallen; title and
  layout from the cbs.nl table page — medium confidence). CBS/PBL published an erratum in 2023
  saying the *detail* of the 2019 and 2022 regional forecasts (age groups, households) is not
  reliable and was removed from StatLine, while totals per gemeente remain: expect the
  household table to answer 404; that is recorded, not hidden. CBS announced a new regional
  forecast table for 2025 whose id we could not find; set :data:`FORECAST_TABLES` when known.
* **EP-Online** — API v5 (``settings.ep_online_url``), header ``Authorization: <key>`` (raw
  key, no "Bearer"), ``GET Mutatiebestand/DownloadInfo?fileType=csv`` → JSON
  ``{"bestandsnaam": "v20250101_v4_csv.zip", "downloadUrl": <pre-signed URL, about 24 h>,
  "geldigTotEnMet": …}`` (medium-high confidence: third-party documentation of verified
  responses). The ZIP holds one ``;``-separated CSV (UTF-8 with BOM, decimal commas, two
  preamble lines). The signed URL is never stored: the cached DownloadInfo is kept without it
  and the ZIP is cached under its ``bestandsnaam``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import json
import logging
import os
import re
import sys
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely
from shapely.geometry import shape
from shapely.prepared import prep

from woonvoorraad import __version__, _validate, settings
from woonvoorraad._io import (
    atomic_path,
    open_zip_member,
    sha256_file,
    write_json_atomic,
    zip_members,
)
from woonvoorraad._log import progress
from woonvoorraad.errors import (
    ConfigError,
    DownloadError,
    GemeenteNotFoundError,
    HTTPStatusError,
    InputError,
    OfflineError,
    WoonvoorraadError,
)
from woonvoorraad.sources import _http
from woonvoorraad.sources.gemeenten import REGIONS, Gemeente, gemeenten_from_queries, normalise_code

logger = logging.getLogger(__name__)

#: Default vintage of the CBS wijken en buurten (boundaries and latest Kerncijfers). 2024 is
#: the latest vintage whose Kerncijfers were complete when this was written (the first release
#: of a year lacks income and energy figures).
DEFAULT_YEAR = 2024

#: First year of the Kerncijfers fetched for trends.
FIRST_TREND_YEAR = 2019

#: CBS Kerncijfers wijken en buurten table per year (OData v3). 2022-2024: official cbs.nl
#: table pages; 2019-2021 and 2025: third-party edition mappings (medium confidence).
KERNCIJFERS_TABLES: dict[int, str] = {
    2019: "84583NED",
    2020: "84799NED",
    2021: "85039NED",
    2022: "85318NED",
    2023: "85618NED",
    2024: "85984NED",
    2025: "86165NED",
}

#: PBL/CBS regional forecast tables (see the module docstring for the evidence).
FORECAST_TABLES: dict[str, str] = {"bevolking": "85173NED", "huishoudens": "85172NED"}

#: Features per page asked from the BAG OGC API (PDOK's maximum is 1000).
BAG_PAGE_LIMIT = 1000

#: Side, in metres, of the bbox tiles a gemeente's BAG is fetched in.
BAG_TILE_SIZE = 5000.0

#: Seconds a cached EP-Online DownloadInfo is trusted (the bulk file is monthly).
DOWNLOAD_INFO_MAX_AGE = 12 * 3600.0

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"

#: BAG statuses of objects that do not exist (dropped here; dwelling selection is the build's).
PAND_DROP_STATUSES = frozenset({"Pand gesloopt", "Niet gerealiseerd pand",
                                "Pand ten onrechte opgevoerd"})
VBO_DROP_STATUSES = frozenset({"Verblijfsobject ingetrokken", "Niet gerealiseerd verblijfsobject",
                               "Verblijfsobject ten onrechte opgevoerd"})

PAND_COLUMNS = ("identificatie", "bouwjaar", "status", "gebruiksdoel", "aantal_verblijfsobjecten")
VBO_COLUMNS = ("identificatie", "pand_identificatie", "gebruiksdoel", "oppervlakte", "status")


@dataclass(frozen=True)
class Licence:
    """Licence of a source and how sure we are of it."""

    name: str
    url: str
    holder: str
    confidence: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "holder": self.holder,
                "confidence": self.confidence}


LICENCES: dict[str, Licence] = {
    "bag": Licence(
        "Public Domain Mark 1.0 (PDOK OGC API); CC0 1.0 (bag-light.gpkg)",
        "https://creativecommons.org/publicdomain/mark/1.0/", "Kadaster",
        "high for the OGC API (PDOK's BAG API page states Public Domain Mark 1.0); medium for "
        "CC0 of bag-light.gpkg (third-party references)"),
    "cbs": Licence(
        "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/",
        "Centraal Bureau voor de Statistiek",
        "high (CBS open data and the PDOK CBS services are published under CC BY 4.0)"),
    "forecast": Licence(
        "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/",
        "PBL Planbureau voor de Leefomgeving / CBS (StatLine)", "high (StatLine open data)"),
    "ep-online": Licence(
        "RVO terms of use of EP-Online", "https://www.ep-online.nl",
        "Rijksdienst voor Ondernemend Nederland (RVO)",
        "low: we found no explicit open-data licence for the bulk file; the registrations are "
        "public and RVO asks for an API key; check RVO's conditions before redistributing the "
        "raw file and cite 'EP-Online, RVO'"),
}

_SOURCES = {"bag": "pdok-bag", "cbs": "pdok-cbs", "odata": "cbs-odata", "ep": "ep-online"}


# --------------------------------------------------------------------------------------------
# results


@dataclass
class GemeenteFetch:
    """What :func:`fetch` did for one gemeente."""

    gemeente: Gemeente
    inputs: dict[str, Any]
    manifest: Path
    skipped: bool = False
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    downloads: int = 0


@dataclass
class FetchResult:
    """The result of :func:`fetch`: one :class:`GemeenteFetch` per gemeente."""

    gemeenten: list[GemeenteFetch]
    data_dir: Path

    def __iter__(self) -> Iterator[GemeenteFetch]:
        return iter(self.gemeenten)

    def __len__(self) -> int:
        return len(self.gemeenten)

    def __getitem__(self, key: str | int) -> GemeenteFetch:
        if isinstance(key, int):
            return self.gemeenten[key]
        code = normalise_code(key)
        for g in self.gemeenten:
            if g.gemeente.code == code or g.gemeente.naam.casefold() == str(key).casefold():
                return g
        raise KeyError(key)

    @property
    def downloads(self) -> int:
        """Number of responses downloaded (not served from the cache)."""
        return sum(g.downloads for g in self.gemeenten)


@dataclass
class _Ctx:
    gemeente: Gemeente
    year: int
    root: Path
    refresh: bool
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        logger.warning("%s: %s", self.gemeente, message)
        self.warnings.append(message)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    def path(self, *parts: str) -> Path:
        return self.raw.joinpath(*parts)


# --------------------------------------------------------------------------------------------
# helpers


@contextlib.contextmanager
def _settings(**values: Any) -> Iterator[None]:
    """Set settings temporarily (values of None are left alone)."""
    old = {}
    for name, value in values.items():
        if value is not None:
            old[name] = getattr(settings, name)
            setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(settings, name, value)


def _pdok_cbs(year: int) -> str:
    return settings.pdok_cbs_url_template.format(year=year).rstrip("/")


def page_features(page: Any, url: str) -> list[dict[str, Any]]:
    """The features of one GeoJSON page, checked; malformed features are skipped and logged.

    Raises
    ------
    DownloadError
        The page is not a FeatureCollection, or its ``features`` is not a list.
    """
    shown = _http.redact_url(url)
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


def feature_properties(feature: Mapping[str, Any]) -> dict[str, Any]:
    """A feature's ``properties`` (an empty dict when absent or not a JSON object)."""
    props = feature.get("properties")
    return props if isinstance(props, dict) else {}


def feature_geometry(feature: Mapping[str, Any]) -> Any:
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
        raise DownloadError(f"{_http.redact_url(url)}: coordinates ({x0:.4f}, {y0:.4f}) are "
                            f"longitude/latitude although EPSG:28992 was asked (crs={RD_URI})")


def _ogc_features(url: str, params: Mapping[str, Any], *, source: str, licence: Licence,
                  desc: str, refresh: bool) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = []
    for page in _http.iter_pages(url, params=params, source=source, licence=licence.name,
                                 desc=desc, refresh=refresh):
        features.extend(page_features(page, url))
    return features


def _gdf(features: Sequence[Mapping[str, Any]], *, url: str = "",
         kind: str = "polygon") -> gpd.GeoDataFrame:
    """GeoDataFrame of GeoJSON features (properties as served, column order kept).

    Features without a usable geometry are kept with an empty one and counted in a warning;
    invalid polygons are repaired (:func:`woonvoorraad._validate.check_geometries`).
    """
    columns: dict[str, None] = {}
    props = [feature_properties(f) for f in features]
    for pr in props:
        for k in pr:
            columns.setdefault(k, None)
    table = pd.DataFrame(props, columns=list(columns))
    geoms = [feature_geometry(f) for f in features]
    n_bad = sum(1 for f, g in zip(features, geoms, strict=True) if g is None and f.get("geometry"))
    if n_bad:
        logger.warning("%s: %d feature(s) have a geometry that is not valid GeoJSON; kept "
                       "without geometry", _http.redact_url(url) or "GeoJSON", n_bad)
    _check_rd_coordinates(geoms, url)
    gdf = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs="EPSG:28992"))
    if len(gdf):
        gdf = _validate.check_geometries(gdf, path=_http.redact_url(url) or "GeoJSON",
                                         layer="features", kind=kind)
    return gdf


def _write_layers(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Write GeoPackage layers into one file, atomically."""
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")


def _text_list(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or None
    text = str(value).strip()
    return text or None


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(float(value))
    except (TypeError, ValueError):
        return None


def _output(path: Path, root: Path, **extra: Any) -> dict[str, Any]:
    return {"path": str(path.relative_to(root)), "size": path.stat().st_size,
            "sha256": sha256_file(path), **extra}


# --------------------------------------------------------------------------------------------
# CBS wijken en buurten (boundaries)


def _fetch_boundaries(ctx: _Ctx) -> tuple[Path, Any, dict[str, Any]]:
    base = _pdok_cbs(ctx.year)
    code = ctx.gemeente.code
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in ("gemeenten", "wijken", "buurten"):
        feats = _ogc_features(
            f"{base}/collections/{name}/items",
            {"gemeentecode": code, "crs": RD_URI, "limit": 1000, "f": "json"},
            source=_SOURCES["cbs"], licence=LICENCES["cbs"],
            desc=f"CBS {name} {ctx.gemeente.naam} {ctx.year}", refresh=ctx.refresh)
        feats = [f for f in feats
                 if str(feature_properties(f).get("gemeentecode", "")).strip() == code]
        if name == "gemeenten" and not feats:
            raise GemeenteNotFoundError(
                f"{ctx.gemeente} has no boundary in CBS wijken en buurten {ctx.year} (PDOK); "
                f"did it exist in {ctx.year}? Try another --year")
        layers[name] = _gdf(feats, url=f"{base}/collections/{name}/items")
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


# --------------------------------------------------------------------------------------------
# BAG


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


def _bag_from_api(ctx: _Ctx, boundary: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame,
                                                        dict[str, Any]]:
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
                                         params=params, source=_SOURCES["bag"],
                                         licence=licence.name, refresh=ctx.refresh,
                                         desc=f"{collection} tile {i + 1}/{len(tiles)}"):
                for f in page_features(page, f"{base}/collections/{collection}/items"):
                    n_raw[collection] += 1
                    fid = f.get("id")
                    if fid is None or isinstance(fid, dict | list):
                        fid = feature_properties(f).get("identificatie")
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
        props = feature_properties(f)
        if props.get("status") in VBO_DROP_STATUSES:
            n_vbo_status += 1
            continue
        geom = feature_geometry(f)
        if geom is None:
            n_vbo_nogeom += 1
            continue
        if not prepared.covers(geom):
            n_vbo_outside += 1
            continue
        uuids = _pand_uuids(props)
        referenced.update(uuids)
        vbo_rows.append((props, geom, uuids))

    uuid_to_id = {fid: str(feature_properties(f).get("identificatie"))
                  for fid, f in found["pand"].items()}
    extra: set[str] = set()
    missing = sorted(u for u in referenced if u not in uuid_to_id)
    for uuid in progress(missing, desc="BAG panden referenced by units", unit="pand"):
        try:
            f = _http.get_json(f"{base}/collections/pand/items/{uuid}",
                               params={"crs": RD_URI, "f": "json"}, source=_SOURCES["bag"],
                               licence=licence.name, refresh=ctx.refresh)
        except HTTPStatusError as exc:
            if exc.status != 404:
                raise
            continue
        if isinstance(f, dict) and f.get("type") == "Feature":
            found["pand"][uuid] = f
            uuid_to_id[uuid] = str(feature_properties(f).get("identificatie"))
            extra.add(uuid)
    unresolved = sorted(u for u in referenced if u not in uuid_to_id)
    if unresolved:
        ctx.warn(f"{len(unresolved)} pand links of units could not be resolved "
                 f"(e.g. {', '.join(unresolved[:3])}); those units have no pand_identificatie")

    pand_rows, pand_geoms = [], []
    n_pand_status = n_pand_outside = n_pand_nogeom = 0
    for fid, f in found["pand"].items():
        props = feature_properties(f)
        if props.get("status") in PAND_DROP_STATUSES:
            n_pand_status += 1
            continue
        geom = feature_geometry(f)
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


def _bag_from_file(ctx: _Ctx, path: Path, boundary: Any) -> tuple[gpd.GeoDataFrame,
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
        columns=[c for c in ("identificatie", link, "gebruiksdoel", "oppervlakte", "status")
                 if c in vbo_fields])
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


def _fetch_bag(ctx: _Ctx, boundary: Any, bag_file: Path | None) -> tuple[Path, set[str],
                                                                         dict[str, Any]]:
    if bag_file is not None:
        panden, vbo, info = _bag_from_file(ctx, Path(bag_file), boundary)
    else:
        panden, vbo, info = _bag_from_api(ctx, boundary)
    if len(vbo) == 0:
        ctx.warn("no verblijfsobjecten inside the gemeente boundary")
    out = ctx.path("bag", ctx.gemeente.code, "bag.gpkg")
    _write_layers(out, {"pand": panden, "verblijfsobject": vbo})
    logger.info("%s: %d panden, %d verblijfsobjecten -> %s", ctx.gemeente, info["panden"],
                info["verblijfsobjecten"], out)
    return out, set(vbo["identificatie"].dropna().astype(str)), info


# --------------------------------------------------------------------------------------------
# CBS OData (Kerncijfers and forecast)

#: Canonical statistic -> OData key stems (suffix ``_\\d+`` stripped), in order of preference.
KERNCIJFERS_KEYS: dict[str, tuple[str, ...]] = {
    "aantal_inwoners": ("AantalInwoners",),
    "aantal_65plus": ("k_65JaarOfOuder",),
    "aantal_huishoudens": ("HuishoudensTotaal",),
    "gemiddelde_huishoudsgrootte": ("GemiddeldeHuishoudensgrootte",),
    "woningvoorraad": ("Woningvoorraad",),
    "woz_gemiddeld": ("GemiddeldeWOZWaardeVanWoningen", "GemiddeldeWoningwaarde"),
    "aandeel_eengezins": ("PercentageEengezinswoning",),
    "aandeel_koop": ("Koopwoningen", "PercentageKoopwoningen"),
    "aandeel_huur": ("HuurwoningenTotaal", "PercentageHuurwoningen"),
    "aandeel_corporatie": ("InBezitWoningcorporatie",),
    "gasverbruik_gemiddeld": ("GemiddeldAardgasverbruikTotaal", "GemiddeldAardgasverbruik"),
    "inkomen_per_inwoner": ("GemiddeldInkomenPerInwoner",),
    "aandeel_laag_inkomen": ("HuishoudensMetEenLaagInkomen", "HuishoudensMetLaagInkomen"),
    "aandeel_sociaal_minimum": ("HuishOnderOfRondSociaalMinimum",
                                "HuishoudensOnderOfRondSociaalMinimum"),
}

#: Columns of ``kerncijfers.parquet``, in order.
KERNCIJFERS_COLUMNS: tuple[str, ...] = (
    "jaar", "regiocode", "soort_regio", "regionaam", "gemeentenaam", "indelingswijziging",
    "aantal_inwoners", "aantal_65plus", "aandeel_65plus", "aantal_huishoudens",
    "gemiddelde_huishoudsgrootte", "woningvoorraad", "woz_gemiddeld", "aandeel_eengezins",
    "aandeel_koop", "aandeel_huur", "aandeel_corporatie", "gasverbruik_gemiddeld",
    "inkomen_per_inwoner", "aandeel_laag_inkomen", "aandeel_sociaal_minimum",
)

_SENTINEL_MAX = -99990


def _stem(key: str) -> str:
    return re.sub(r"_\d+$", "", str(key))


def unit_factor(unit: str | None, statistic: str = "") -> float:
    """Factor from a CBS ``DataProperties.Unit`` to canonical units (fractions, euro).

    Examples
    --------
    >>> unit_factor("%"), unit_factor("x 1 000 euro"), unit_factor("aantal")
    (0.01, 1000.0, 1.0)
    """
    text = (unit or "").strip().lower()
    if not text:
        if statistic.startswith("aandeel_"):
            return 0.01
        return 1000.0 if statistic in ("woz_gemiddeld", "inkomen_per_inwoner") else 1.0
    if "%" in text or "procent" in text:
        return 0.01
    if re.search(r"(x|×)\s*1[ .]?000(?!\s*000)", text):
        return 1000.0
    if re.search(r"(x|×)\s*1[ .]?000[ .]000", text):
        return 1_000_000.0
    return 1.0


def _odata_properties(table: str, ctx: _Ctx) -> list[dict[str, Any]]:
    doc = _http.get_json(f"{settings.cbs_odata_url.rstrip('/')}/{table}/DataProperties",
                         params={"$format": "json"}, source=_SOURCES["odata"],
                         licence=LICENCES["cbs"].name, refresh=ctx.refresh)
    if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
        raise DownloadError(f"{table}/DataProperties: no 'value' list in the answer")
    return doc["value"]


def _odata_rows(table: str, params: Mapping[str, Any], ctx: _Ctx, desc: str) -> list[dict]:
    rows: list[dict[str, Any]] = []
    for page in _http.iter_pages(f"{settings.cbs_odata_feed_url.rstrip('/')}/{table}/TypedDataSet",
                                 params=params, source=_SOURCES["odata"],
                                 licence=LICENCES["cbs"].name, next_link=_http.next_link_odata,
                                 desc=desc, refresh=ctx.refresh):
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise DownloadError(f"{table}/TypedDataSet: no 'value' list in the answer")
        rows.extend(page["value"])
    return rows


def _odata_dimension(table: str, dimension: str, ctx: _Ctx,
                     flt: str | None = None) -> list[dict[str, Any]]:
    params = {"$format": "json"}
    if flt:
        params["$filter"] = flt
    doc = _http.get_json(f"{settings.cbs_odata_url.rstrip('/')}/{table}/{dimension}",
                         params=params, source=_SOURCES["odata"],
                         licence=LICENCES["cbs"].name, refresh=ctx.refresh)
    return list(doc.get("value") or []) if isinstance(doc, dict) else []


def _find_key(props: Sequence[Mapping[str, Any]], stems: Sequence[str], *,
              types: Sequence[str] = ("Topic",)) -> Mapping[str, Any] | None:
    by_stem: dict[str, list[Mapping[str, Any]]] = {}
    for p in props:
        if p.get("Type") in types and p.get("Key"):
            by_stem.setdefault(_stem(p["Key"]), []).append(p)
    for stem in stems:
        if stem in by_stem:
            return by_stem[stem][0]
    return None


def _number(value: Any) -> float:
    if value is None:
        return np.nan
    try:
        x = float(value)
    except (TypeError, ValueError):
        return np.nan
    return np.nan if x <= _SENTINEL_MAX else x


def _strip(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _kerncijfers_year(ctx: _Ctx, year: int, table: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    nummer = ctx.gemeente.nummer
    props = _odata_properties(table, ctx)
    geo = _find_key(props, ("WijkenEnBuurten",), types=("GeoDimension", "Dimension"))
    if geo is None:
        geo = next((p for p in props if p.get("Type") == "GeoDimension"), None)
    if geo is None:
        raise DownloadError(f"{table}: DataProperties has no region dimension")
    geo_key = str(geo["Key"])
    id_keys = {
        "gemeentenaam": _find_key(props, ("Gemeentenaam",)),
        "soort_regio": _find_key(props, ("SoortRegio",)),
        "indelingswijziging": _find_key(props, ("IndelingswijzigingWijkenEnBuurten",
                                                "Indelingswijziging")),
    }
    stats = {name: _find_key(props, stems) for name, stems in KERNCIJFERS_KEYS.items()}
    prefixes = [f"BU{nummer}", f"WK{nummer}", f"GM{nummer}"]
    flt = " or ".join(f"startswith({geo_key},'{p}')" for p in prefixes)
    select = [geo_key] + [str(p["Key"]) for p in (*id_keys.values(), *stats.values()) if p]
    rows = _odata_rows(table, {"$format": "json", "$filter": flt, "$select": ",".join(select)},
                       ctx, desc=f"Kerncijfers {year} {ctx.gemeente.naam}")
    names = {}
    for item in _odata_dimension(table, geo_key, ctx,
                                 " or ".join(f"startswith(Key,'{p}')" for p in prefixes)):
        if _strip(item.get("Key")):
            names[_strip(item.get("Key"))] = _strip(item.get("Title"))
    records = []
    for row in rows:
        code = _strip(row.get(geo_key))
        if not code or not any(code.startswith(p) for p in prefixes):
            continue
        soort = _strip(row.get(id_keys["soort_regio"]["Key"])) if id_keys["soort_regio"] else None
        if soort is None:
            soort = {"BU": "Buurt", "WK": "Wijk", "GM": "Gemeente"}[code[:2]]
        rec: dict[str, Any] = {
            "jaar": year,
            "regiocode": code,
            "soort_regio": soort,
            "regionaam": names.get(code),
            "gemeentenaam": (_strip(row.get(id_keys["gemeentenaam"]["Key"]))
                             if id_keys["gemeentenaam"] else ctx.gemeente.naam),
            "indelingswijziging": (_strip(row.get(id_keys["indelingswijziging"]["Key"]))
                                   if id_keys["indelingswijziging"] else None),
        }
        for name, prop in stats.items():
            if prop is None:
                rec[name] = np.nan
            else:
                rec[name] = _number(row.get(prop["Key"])) * unit_factor(prop.get("Unit"), name)
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=[c for c in KERNCIJFERS_COLUMNS
                                                        if c != "aandeel_65plus"])
    with np.errstate(divide="ignore", invalid="ignore"):
        inw = frame["aantal_inwoners"].astype(float)
        frame["aandeel_65plus"] = frame["aantal_65plus"].astype(float) / inw.where(inw > 0)
    missing = [n for n, p in stats.items() if p is None]
    info = {"table": table, "rows": len(frame),
            "keys": {n: p["Key"] for n, p in stats.items() if p is not None},
            "missing_statistics": missing}
    if missing:
        logger.info("%s: Kerncijfers %d (%s) has no %s", ctx.gemeente, year, table,
                    ", ".join(missing))
    return frame[list(KERNCIJFERS_COLUMNS)], info


def _fetch_kerncijfers(ctx: _Ctx) -> tuple[Path | None, pd.DataFrame | None, dict[str, Any]]:
    years = [y for y in sorted(KERNCIJFERS_TABLES) if FIRST_TREND_YEAR <= y <= ctx.year]
    frames, per_year = [], {}
    for year in years:
        table = KERNCIJFERS_TABLES[year]
        try:
            frame, info = _kerncijfers_year(ctx, year, table)
        except HTTPStatusError as exc:
            if exc.status not in (404, 410):
                raise
            ctx.warn(f"Kerncijfers {year} (table {table}) is not available: {exc}")
            per_year[str(year)] = {"table": table, "status": f"not available (HTTP {exc.status})"}
            continue
        if frame.empty:
            ctx.warn(f"Kerncijfers {year} (table {table}) has no rows for this gemeente")
        frames.append(frame)
        per_year[str(year)] = info
    if not frames:
        ctx.warn("no Kerncijfers could be fetched; trends and CBS statistics will be missing")
        return None, None, {"years": per_year}
    table_all = pd.concat(frames, ignore_index=True)
    table_all["jaar"] = table_all["jaar"].astype("int64")
    for col in ("regiocode", "soort_regio", "regionaam", "gemeentenaam", "indelingswijziging"):
        table_all[col] = table_all[col].astype("string")
    out = ctx.path("cbs", ctx.gemeente.code, "kerncijfers.parquet")
    arrow = pa.Table.from_pandas(table_all, preserve_index=False)
    meta = dict(arrow.schema.metadata or {})
    meta[b"woonvoorraad"] = json.dumps({
        "gemeentecode": ctx.gemeente.code, "tables": {y: i.get("table")
                                                      for y, i in per_year.items()},
        "units": "fractions 0-1 for aandeel_*, euro for woz_gemiddeld and inkomen_per_inwoner",
        "source": "CBS Kerncijfers wijken en buurten, OData v3", "licence": "CC BY 4.0",
    }).encode()
    with atomic_path(out) as tmp:
        pq.write_table(arrow.replace_schema_metadata(meta), tmp)
    logger.info("%s: Kerncijfers %s (%d rows) -> %s", ctx.gemeente,
                ", ".join(str(y) for y in sorted(table_all["jaar"].unique())), len(table_all),
                out)
    return out, table_all, {"years": per_year}


def _boundary_vintages(ctx: _Ctx) -> dict[int, Path]:
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


def _buurt_code_changes(ctx: _Ctx, kc: pd.DataFrame | None) -> list[dict[str, Any]]:
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


def _interval_label(title: str | None, key: str) -> str:
    text = (title or "").strip().lower()
    m = re.match(r"(onder|boven)grens\s*(\d+)\s*%", text)
    if m:
        return f"{m.group(1)}grens_{m.group(2)}"
    if text.startswith("prognose"):
        return "prognose"
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or key


_TOTAL_KEYS = ("10000", "T001038", "T001025", "T001019", "A049810")


def _total_category(values: Sequence[Mapping[str, Any]]) -> str | None:
    keys = [(_strip(v.get("Key")), (_strip(v.get("Title")) or "").lower()) for v in values]
    for key, _ in keys:
        if key in _TOTAL_KEYS:
            return key
    for key, title in keys:
        if title.startswith(("totaal", "particulier huishouden", "particuliere huishoudens")):
            return key
    return keys[0][0] if len(keys) == 1 else None


def _forecast_table(ctx: _Ctx, kind: str, table: str) -> tuple[pd.DataFrame | None,
                                                                 dict[str, Any]]:
    props = _odata_properties(table, ctx)
    geo = next((p for p in props if p.get("Type") == "GeoDimension"), None)
    time_dim = next((p for p in props if p.get("Type") == "TimeDimension"), None)
    measures = [p for p in props if p.get("Type") == "Topic"]
    if geo is None or time_dim is None or not measures:
        return None, {"table": table, "status": "unexpected layout (no region, period or "
                                                 "measure in DataProperties)"}
    stems = ("TotaleBevolking", "Bevolking") if kind == "bevolking" else (
        "ParticuliereHuishoudens", "Huishoudens")
    measure = _find_key(props, stems) or measures[0]
    interval = next((p for p in props if p.get("Type") == "Dimension"
                     and "prognose" in str(p.get("Key", "")).lower()), None)
    filters = [f"startswith({geo['Key']},'{ctx.gemeente.code}')"]
    for dim in props:
        if dim.get("Type") != "Dimension" or dim is interval:
            continue
        total = _total_category(_odata_dimension(table, str(dim["Key"]), ctx))
        if total is None:
            return None, {"table": table, "status": f"no total category in {dim['Key']}"}
        filters.append(f"{dim['Key']} eq '{total}'")
    labels = {}
    if interval is not None:
        for item in _odata_dimension(table, str(interval["Key"]), ctx):
            key = _strip(item.get("Key"))
            if key:
                labels[key] = _interval_label(item.get("Title"), key)
    rows = _odata_rows(table, {"$format": "json", "$filter": " and ".join(filters)}, ctx,
                       desc=f"prognose {kind} {ctx.gemeente.naam}")
    factor = unit_factor(measure.get("Unit"))
    records = []
    for row in rows:
        if _strip(row.get(geo["Key"])) != ctx.gemeente.code:
            continue
        period = _strip(row.get(time_dim["Key"])) or ""
        m = re.match(r"(\d{4})", period)
        if not m:
            continue
        key = _strip(row.get(interval["Key"])) if interval is not None else None
        records.append({"gemeentecode": ctx.gemeente.code, "jaar": int(m.group(1)),
                        "prognose_interval": labels.get(key or "", key or "prognose"),
                        kind: _number(row.get(measure["Key"])) * factor})
    frame = pd.DataFrame.from_records(
        records, columns=["gemeentecode", "jaar", "prognose_interval", kind])
    return frame, {"table": table, "status": "ok", "rows": len(frame),
                   "measure": measure["Key"], "unit": measure.get("Unit"),
                   "years": sorted(int(y) for y in frame["jaar"].unique())}


def _fetch_forecast(ctx: _Ctx) -> tuple[Path | None, dict[str, Any]]:
    frames, info = [], {}
    for kind, table in FORECAST_TABLES.items():
        try:
            frame, info[kind] = _forecast_table(ctx, kind, table)
        except HTTPStatusError as exc:
            if exc.status not in (404, 410):
                raise
            reason = (f"table {table} is not available (HTTP {exc.status})"
                      + ("; CBS/PBL withdrew the household detail of the regional forecast "
                         "in 2023 as unreliable" if kind == "huishoudens" else ""))
            ctx.warn(f"forecast {kind}: {reason}")
            info[kind] = {"table": table, "status": reason}
            continue
        if frame is None or frame.empty:
            ctx.warn(f"forecast {kind}: no rows for this gemeente in {table} "
                     f"({info[kind].get('status')})")
            continue
        frames.append(frame.set_index(["gemeentecode", "jaar", "prognose_interval"]))
    if not frames:
        return None, info
    merged = pd.concat(frames, axis=1).reset_index()
    for kind in FORECAST_TABLES:
        if kind not in merged.columns:
            merged[kind] = np.nan
    merged = merged[["gemeentecode", "jaar", "bevolking", "huishoudens", "prognose_interval"]]
    merged = merged.sort_values(["jaar", "prognose_interval"]).reset_index(drop=True)
    merged["jaar"] = merged["jaar"].astype("int64")
    out = ctx.path("cbs", ctx.gemeente.code, "prognose.parquet")
    with atomic_path(out) as tmp:
        merged.to_parquet(tmp, index=False)
    return out, info


# --------------------------------------------------------------------------------------------
# EP-Online


def _without_download_url(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: v for k, v in doc.items() if k.lower() != "downloadurl"}
    return doc


def _validate_zip(path: Path) -> None:
    """Check a downloaded bulk ZIP: safe members, one CSV, every CRC right (ValueError if not).

    An unsafe archive (zip-slip names, encryption, a zip bomb) is as unusable as a damaged
    one: :class:`~woonvoorraad.errors.UnsafeArchiveError` is a ValueError, so the download
    layer discards the file and tries again, then gives up with the reason.
    """
    infos = zip_members(path)
    members = [m for m in infos if m.filename.lower().endswith(".csv")]
    if len(members) != 1:
        raise ValueError(f"expected one .csv in the ZIP, found {len(members)}")
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ValueError(f"not a valid ZIP file: {exc}") from None
    if bad is not None:
        raise ValueError(f"CRC error in {bad}")


_ID_COLUMNS = ("BAGVerblijfsobjectID", "Pand_bagverblijfsobjectid")


def labels_from_bulk(zip_path: str | Path, vbo_ids: Iterable[str], out: str | Path) -> int:
    """Copy the rows of an EP-Online bulk file that belong to ``vbo_ids`` into ``out``.

    The output keeps the bulk file's exact format (byte-order mark, the two preamble lines,
    the header, ``;`` separators, decimal commas and line endings), so the EP-Online reader
    reads it unchanged. The national file is streamed, never held in memory.

    Returns
    -------
    int
        Number of rows written (the file is not written when there are none).
    """
    wanted = {str(i).strip().zfill(16) for i in vbo_ids}
    path = Path(zip_path)
    with open_zip_member(path, suffix=".csv") as raw:
        head: list[bytes] = []
        index = None
        for _ in range(10):
            line = raw.readline()
            if not line:
                break
            head.append(line)
            text = line.decode("utf-8-sig", errors="replace").rstrip("\r\n")
            fields = next(csv.reader([text], delimiter=";"))
            found = [c for c in _ID_COLUMNS if c in fields]
            if found:
                index = fields.index(found[0])
                break
        if index is None:
            raise InputError("no EP-Online header with BAGVerblijfsobjectID found in the "
                             "first lines", path=path)
        kept: list[bytes] = []
        for line in progress(raw, desc="EP-Online rows", unit="row"):
            if index == 0:
                value = line.split(b";", 1)[0]
            else:
                row = next(csv.reader([line.decode("utf-8", errors="replace")],
                                      delimiter=";"), [])
                value = row[index].encode() if len(row) > index else b""
            vid = value.strip().strip(b'"').decode("ascii", errors="ignore").zfill(16)
            if vid in wanted:
                kept.append(line)
    if kept:
        with atomic_path(out) as tmp, tmp.open("wb") as fh:
            fh.writelines(head)
            fh.writelines(kept)
    return len(kept)


def _fetch_labels(ctx: _Ctx, vbo_ids: set[str]) -> tuple[Path | None, dict[str, Any]]:
    env = settings.ep_online_api_key_env
    key = (os.environ.get(env) or "").strip()
    if not key:
        reason = (f"no EP-Online API key in ${env}: the build will use estimated labels "
                  f"(PBL defaults per dwelling type and period), not registered ones")
        ctx.warn(reason)
        return None, {"status": "estimated", "reason": reason}
    licence = LICENCES["ep-online"].name
    url = f"{settings.ep_online_url.rstrip('/')}/Mutatiebestand/DownloadInfo"
    headers = {"Authorization": key}

    def info(refresh: bool) -> dict[str, Any]:
        doc = _http.get_json(url, params={"fileType": "csv"}, headers=headers,
                             source=_SOURCES["ep"], licence=licence,
                             max_age=DOWNLOAD_INFO_MAX_AGE, sanitize=_without_download_url,
                             refresh=refresh)
        if not isinstance(doc, dict) or not str(doc.get("bestandsnaam", "")).endswith(".zip"):
            raise DownloadError("EP-Online DownloadInfo has no 'bestandsnaam' of a ZIP file")
        return doc

    try:
        doc = info(ctx.refresh)
    except HTTPStatusError as exc:
        if exc.status not in (401, 403):
            raise
        reason = (f"EP-Online refused the API key in ${env} (HTTP {exc.status}); the build "
                  f"will use estimated labels")
        ctx.warn(reason)
        return None, {"status": "estimated", "reason": reason}
    name = str(doc["bestandsnaam"])
    cache_id = f"ep-online/{name}"
    zip_path = None if ctx.refresh else _http.cached_download(_SOURCES["ep"], cache_id)
    if zip_path is None:
        link = doc.get("downloadUrl") or doc.get("downloadurl")
        if not link:  # the cached DownloadInfo is kept without its short-lived signed URL
            doc = info(True)
            link = doc.get("downloadUrl")
        if not link:
            raise DownloadError("EP-Online DownloadInfo has no downloadUrl")
        host = urlsplit(str(link)).hostname or ""
        zip_path = _http.download(str(link), source=_SOURCES["ep"], cache_id=cache_id,
                                  licence=licence, suffix=".zip", extra_hosts=[host],
                                  validate=_validate_zip, desc=f"EP-Online {name}",
                                  refresh=ctx.refresh)
    out = ctx.path("ep-online", ctx.gemeente.code, "labels.csv")
    n = labels_from_bulk(zip_path, vbo_ids, out)
    if n == 0:
        out.unlink(missing_ok=True)
        reason = f"EP-Online {name} has no registrations for this gemeente's units"
        ctx.warn(reason)
        return None, {"status": "estimated", "reason": reason, "bulk_file": name}
    logger.info("%s: %d EP-Online registrations from %s -> %s", ctx.gemeente, n, name, out)
    return out, {"status": "registered", "bulk_file": name, "rows": n,
                 "published": doc.get("geldigTotEnMet")}


# --------------------------------------------------------------------------------------------
# manifest


def _manifest_path(root: Path, code: str) -> Path:
    return root / "raw" / "manifests" / code / "fetch-manifest.json"


def _manifest_is_current(path: Path, root: Path, parameters: Mapping[str, Any]) -> bool:
    """The manifest exists, has the same parameters and every output it lists is intact."""
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("parameters") != dict(parameters):
        return False
    for out in manifest.get("outputs", []):
        p = root / out["path"]
        if not p.is_file() or p.stat().st_size != out["size"] or sha256_file(p) != out["sha256"]:
            return False
    return bool(manifest.get("outputs"))


def _summarise_requests(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    by_source: dict[str, dict[str, Any]] = {}
    for r in records:
        s = by_source.setdefault(str(r.get("source")), {"requests": 0, "downloaded": 0,
                                                        "from_cache": 0, "bytes": 0})
        s["requests"] += 1
        s["from_cache" if r.get("from_cache") else "downloaded"] += 1
        s["bytes"] += int(r.get("size") or 0)
    return by_source


def _fetch_one(gem: Gemeente, *, year: int, root: Path, bag_file: Path | None,
               refresh: bool) -> GemeenteFetch:
    ctx = _Ctx(gemeente=gem, year=year, root=root, refresh=refresh)
    key_present = bool((os.environ.get(settings.ep_online_api_key_env) or "").strip())
    parameters = {"year": year, "bag_file": str(bag_file) if bag_file else None,
                  "ep_online_key": key_present, "first_trend_year": FIRST_TREND_YEAR}
    manifest_path = _manifest_path(root, gem.code)
    if not refresh and _manifest_is_current(manifest_path, root, parameters):
        logger.info("%s: already fetched with these parameters (%s); nothing to do "
                    "(use --refresh to download again)", gem, manifest_path)
        return GemeenteFetch(gemeente=gem, inputs=fetched_inputs(gem.code, data_dir=root,
                                                                 year=year),
                             manifest=manifest_path, skipped=True)
    started = _http._utcnow()
    logger.info("%s: fetching (CBS vintage %d)", gem, year)
    with _http.collect() as records:
        buurten_path, boundary, boundary_info = _fetch_boundaries(ctx)
        bag_path, vbo_ids, bag_info = _fetch_bag(ctx, boundary, bag_file)
        kc_path, kc_table, kc_info = _fetch_kerncijfers(ctx)
        changes = _buurt_code_changes(ctx, kc_table)
        forecast_path, forecast_info = _fetch_forecast(ctx)
        labels_path, labels_info = _fetch_labels(ctx, vbo_ids)
    outputs = [
        _output(buurten_path, root, source="cbs", layers=boundary_info),
        _output(bag_path, root, source="bag", layers={
            "pand": bag_info["panden"], "verblijfsobject": bag_info["verblijfsobject_rows"]}),
    ]
    if kc_path is not None:
        outputs.append(_output(kc_path, root, source="cbs"))
    if forecast_path is not None:
        outputs.append(_output(forecast_path, root, source="forecast"))
    if labels_path is not None:
        outputs.append(_output(labels_path, root, source="ep-online"))
    if bag_file is not None:
        bag_info["file_sha256"] = None  # a national file of ~8 GB is not hashed here
    manifest = {
        "tool": "woonvoorraad",
        "version": __version__,
        "created": _http._utcnow(),
        "started": started,
        "gemeente": {"code": gem.code, "naam": gem.naam},
        "parameters": parameters,
        "licences": {k: v.as_dict() for k, v in LICENCES.items()},
        "sources": {
            "bag": {**bag_info, "licence": "bag",
                    "base_url": None if bag_file else _http.redact_url(settings.pdok_bag_url)},
            "wijken_en_buurten": {"year": year, "base_url": _http.redact_url(_pdok_cbs(year)),
                                  "licence": "cbs", **boundary_info},
            "kerncijfers": {**kc_info, "licence": "cbs",
                            "base_url": _http.redact_url(settings.cbs_odata_feed_url)},
            "prognose": {**forecast_info, "licence": "forecast"},
            "ep_online": {**labels_info, "licence": "ep-online"},
        },
        "buurt_code_changes": changes,
        "requests_summary": _summarise_requests(records),
        "requests": records,
        "warnings": ctx.warnings,
        "outputs": outputs,
    }
    write_json_atomic(manifest_path, manifest)
    downloads = sum(1 for r in records if not r.get("from_cache"))
    logger.info("%s: done: %d requests (%d downloaded, %d from the cache); manifest %s", gem,
                len(records), downloads, len(records) - downloads, manifest_path)
    return GemeenteFetch(gemeente=gem, inputs=fetched_inputs(gem.code, data_dir=root, year=year),
                         manifest=manifest_path, warnings=ctx.warnings, requests=len(records),
                         downloads=downloads)


# --------------------------------------------------------------------------------------------
# public API


def fetch(
    gemeenten: str | Iterable[str] = (),
    *,
    region: str | None = None,
    year: int | None = None,
    bag_file: str | Path | None = None,
    offline: bool | None = None,
    data_dir: str | Path | None = None,
    refresh: bool = False,
) -> FetchResult:
    """Download BAG, CBS and EP-Online data for gemeenten into ``<data_dir>/raw/``.

    Parameters
    ----------
    gemeenten
        Names or codes (``"Emmen"``, ``"GM0114"``, ``"114"``), case-insensitive.
    region
        A preset of :data:`woonvoorraad.sources.gemeenten.REGIONS`, e.g.
        ``"regiodeal-zuid-oost-drenthe"``; added to ``gemeenten``.
    year
        Vintage of the CBS wijken en buurten (default :data:`DEFAULT_YEAR`); Kerncijfers of
        :data:`FIRST_TREND_YEAR` up to this year are fetched for the trends.
    bag_file
        PDOK's national ``bag-light.gpkg``: read by the gemeente's boundary instead of using
        the BAG API.
    offline
        Use only the cache (default ``settings.offline``); a missing response raises
        :class:`~woonvoorraad.errors.OfflineError` naming it.
    data_dir
        Root of ``raw/`` (default ``settings.data_dir``). The HTTP cache is
        ``settings.cache_dir`` or ``<data_dir>/raw/cache``.
    refresh
        Download again, ignoring the cache and an up-to-date fetch manifest.

    Returns
    -------
    FetchResult
        Per gemeente the written inputs (see :func:`fetched_inputs`), the manifest path and the
        warnings.

    Raises
    ------
    GemeenteNotFoundError
        A name or code is unknown (the message lists the closest names).
    OfflineError
        Offline and a needed response is not cached.
    DownloadError
        A service failed after all retries.

    Examples
    --------
    >>> result = fetch("Emmen")  # doctest: +SKIP
    >>> result["Emmen"].inputs["bag"]  # doctest: +SKIP
    PosixPath('data/raw/bag/GM0114/bag.gpkg')
    """
    queries = [gemeenten] if isinstance(gemeenten, str) else list(gemeenten)
    year = int(year if year is not None else DEFAULT_YEAR)
    if not 2010 <= year <= 2100:
        raise ConfigError(f"year {year} is not a CBS wijken-en-buurten vintage")
    root = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    with _settings(offline=offline, data_dir=root):
        targets = gemeenten_from_queries(queries, region=region,
                                         known=_fetched_gemeenten(root))
        if not targets:
            raise ConfigError("nothing to fetch: give one or more gemeenten or a region")
        results = [_fetch_one(g, year=year, root=root,
                              bag_file=Path(bag_file) if bag_file else None, refresh=refresh)
                   for g in targets]
    return FetchResult(gemeenten=results, data_dir=root)


def _fetched_gemeenten(root: Path) -> list[Gemeente]:
    out = []
    for path in sorted((root / "raw" / "manifests").glob("*/fetch-manifest.json")):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            g = json.loads(path.read_text("utf-8"))["gemeente"]
            out.append(Gemeente(str(g["code"]), str(g["naam"])))
    return out


def fetched_inputs(gemeentecode: str, *, data_dir: str | Path | None = None,
                   year: int | None = None) -> dict[str, Any]:
    """Paths of the fetched inputs of one gemeente, for the build step.

    Parameters
    ----------
    gemeentecode
        ``GM0114`` (or ``0114``/``114``).
    data_dir
        Root of ``raw/`` (default ``settings.data_dir``).
    year
        Vintage of the wijken en buurten (default: the latest fetched).

    Returns
    -------
    dict
        ``{"bag": Path, "buurten": Path, "cbs": list[Path], "labels": Path | None,
        "forecast": Path | None, "gemeentecode": "GM0114"}``.

    Raises
    ------
    InputError
        Something needed has not been fetched; the message says which command fetches it.
    """
    code = normalise_code(gemeentecode)
    if code is None:
        raise InputError(f"{gemeentecode!r} is not a gemeentecode (GM + 4 digits)")
    root = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    raw = root / "raw"
    bag = raw / "bag" / code / "bag.gpkg"
    cbs_dir = raw / "cbs" / code
    if year is not None:
        buurten: Path | None = cbs_dir / f"wijkenbuurten_{int(year)}.gpkg"
    else:
        vintages = sorted(cbs_dir.glob("wijkenbuurten_*.gpkg"))
        buurten = vintages[-1] if vintages else None
    missing = [str(p) for p in (bag, buurten) if p is None or not p.is_file()]
    if buurten is None:
        missing = [str(cbs_dir / "wijkenbuurten_<year>.gpkg"), *missing]
    if missing:
        hint = f" --year {year}" if year is not None else ""
        raise InputError(f"no fetched data for {code} in {raw} (missing: {', '.join(missing)}); "
                         f"run `woonvoorraad fetch --gemeente {code}{hint}` first")
    kc = cbs_dir / "kerncijfers.parquet"
    labels = raw / "ep-online" / code / "labels.csv"
    forecast = cbs_dir / "prognose.parquet"
    return {
        "bag": bag,
        "buurten": buurten,
        "cbs": [kc] if kc.is_file() else [],
        "labels": labels if labels.is_file() else None,
        "forecast": forecast if forecast.is_file() else None,
        "gemeentecode": code,
    }


def build_inputs_for(gemeente: str, *, data_dir: str | Path | None = None,
                     year: int | None = None) -> dict[str, Any]:
    """Resolve a gemeente name or code without network and return its fetched inputs.

    For ``woonvoorraad build --gemeente``: looks the gemeente up among the built-in and the
    already fetched ones (and the cached list of all gemeenten), then returns
    :func:`fetched_inputs`.

    Raises
    ------
    GemeenteNotFoundError
        The name is unknown here.
    InputError
        The gemeente has not been fetched; the message says to run ``woonvoorraad fetch``.
    """
    root = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    known = _fetched_gemeenten(root)
    code = normalise_code(gemeente)
    if code is None:
        from woonvoorraad.sources.gemeenten import gemeente_from_query

        with _settings(offline=True, data_dir=root):
            try:
                code = gemeente_from_query(gemeente, known=known).code
            except GemeenteNotFoundError as exc:
                raise GemeenteNotFoundError(
                    f"{exc}; run `woonvoorraad fetch --gemeente {gemeente}` first") from None
    return fetched_inputs(code, data_dir=root, year=year)


# --------------------------------------------------------------------------------------------
# command line


_EPILOG = """\
examples:
  woonvoorraad fetch --gemeente Emmen
  woonvoorraad fetch --region regiodeal-zuid-oost-drenthe --year 2024
  woonvoorraad fetch --gemeente GM0114 --bag-file ~/Downloads/bag-light.gpkg
  woonvoorraad fetch --gemeente Emmen --offline        # from the cache only

EP-Online energy labels need an API key from RVO in the environment variable
EP_ONLINE_API_KEY; without it the build estimates labels and says so.
"""


def register_cli(subparsers: Any) -> None:
    """Add the ``fetch`` subcommand to an :mod:`argparse` subparsers object."""
    parser = subparsers.add_parser(
        "fetch",
        help="download BAG, CBS and EP-Online data for one or more gemeenten",
        description=("Download the open data of gemeenten into <data-dir>/raw/: BAG (PDOK), "
                     "CBS wijken en buurten and Kerncijfers (trends from "
                     f"{FIRST_TREND_YEAR}), the PBL/CBS forecast and EP-Online labels. "
                     "Everything is cached; a second fetch downloads nothing."),
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gemeente", "-g", action="append", default=[], metavar="NAME|CODE",
                        help="gemeente name or code (Emmen, GM0114, 0114); repeatable")
    parser.add_argument("--region", choices=sorted(REGIONS),
                        help="fetch every gemeente of this study area")
    parser.add_argument("--year", type=int, default=None,
                        help=f"CBS wijken-en-buurten vintage (default {DEFAULT_YEAR})")
    parser.add_argument("--bag-file", type=Path, default=None, metavar="GPKG",
                        help="read this national PDOK bag-light.gpkg instead of the BAG API")
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                        help="root of raw/ (default: ./data or $WOONVOORRAAD_DATA_DIR)")
    parser.add_argument("--offline", action="store_true",
                        help="use only the cache; fail naming any response that is missing")
    parser.add_argument("--refresh", action="store_true",
                        help="download again even when cached")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv: every request and cache hit)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="warnings and errors only, no progress bars")
    parser.set_defaults(func=cli_fetch)


def cli_fetch(args: argparse.Namespace, *, out: Any = None) -> int:
    """Run ``woonvoorraad fetch`` for parsed arguments; return the exit code."""
    out = out if out is not None else sys.stdout
    if not args.gemeente and not args.region:
        print("woonvoorraad fetch: give --gemeente NAME|CODE (repeatable) or --region",
              file=sys.stderr)
        return 2
    try:
        result = fetch(args.gemeente, region=args.region, year=args.year,
                       bag_file=args.bag_file, offline=True if args.offline else None,
                       data_dir=args.data_dir, refresh=args.refresh)
    except GemeenteNotFoundError as exc:
        print(f"woonvoorraad fetch: {exc}", file=sys.stderr)
        return 2
    except (OfflineError, DownloadError, InputError, ConfigError) as exc:
        print(f"woonvoorraad fetch: {exc}", file=sys.stderr)
        return 1
    except WoonvoorraadError as exc:  # pragma: no cover - any other library error
        print(f"woonvoorraad fetch: {exc}", file=sys.stderr)
        return 1
    for g in result:
        state = ("already up to date" if g.skipped
                 else f"{g.requests} requests, {g.downloads} downloaded")
        print(f"{g.gemeente}: {state}", file=out)
        for name, value in g.inputs.items():
            if name == "gemeentecode":
                continue
            shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
            print(f"  {name:9s} {shown if shown else '-'}", file=out)
        for w in g.warnings:
            print(f"  warning: {w}", file=out)
    return 0


__all__ = [
    "DEFAULT_YEAR",
    "FORECAST_TABLES",
    "KERNCIJFERS_TABLES",
    "LICENCES",
    "FetchResult",
    "GemeenteFetch",
    "build_inputs_for",
    "cli_fetch",
    "fetch",
    "fetched_inputs",
    "labels_from_bulk",
    "register_cli",
]
