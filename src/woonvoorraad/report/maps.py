"""Interactive buurt maps with folium that work offline and stay small.

:func:`map_from_buurten` draws one polygon layer of the buurten and lets the reader switch the
indicator it is coloured by (one radio button per indicator in the layer control, a legend per
indicator, classes from :mod:`mapclassify`). Proeftuin candidates get a thick outline in their
own overlay. Every buurt has a tooltip with Dutch labels and Dutch number formats.

Design choices:

Offline
    Leaflet 1.9.4 is shipped in ``woonvoorraad/static/leaflet`` and inlined into the HTML
    (``offline=True``, the default); folium's default jQuery, Bootstrap and Font Awesome links
    are dropped because nothing here needs them. No tiles by default: the map is complete
    without a background. ``offline=False`` loads Leaflet from a CDN and may add an
    OpenStreetMap layer. ``achtergrond="pdok"`` adds the PDOK BRT-Achtergrondkaart (grey) as
    a layer the reader can switch off; it is off by default, and only then does a map fetch
    anything (the tiles).
Small
    The geometry is embedded once. It is simplified as a coverage in RD New
    (:meth:`geopandas.GeoSeries.simplify_coverage`, so shared buurt edges stay shared and no
    slivers open), reprojected to WGS84 and rounded to 5 decimals (about 1 m). The tolerance
    grows until the estimated HTML size fits ``max_bytes`` (3 MB by default). Each feature
    carries only whitelisted, pre-formatted properties.
Small screens
    On a phone or in a small frame the layer list folds into its button and the legend and
    title shrink; the legend and the one-line attribution fold and unfold with a tap; the
    synthetic-data banner is a strip the controls sit below
    (:mod:`woonvoorraad.report._kaartbediening`).
Safe
    No text from the data is ever markup or template source: the folium elements and
    :func:`js_json` of :mod:`woonvoorraad.report._folium` keep it inert.
"""

from __future__ import annotations

import html
import json
import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from matplotlib import colormaps
from matplotlib.colors import to_hex

from woonvoorraad._io import write_text_atomic
from woonvoorraad.classify.scores import SCORES
from woonvoorraad.report._folium import (
    ACHTERGROND_ENV,
    ACHTERGRONDEN,  # noqa: F401 - part of this module's API
    LEAFLET_CDN_CSS,
    LEAFLET_CDN_JS,
    _FeatureGroup,
    _GeoJson,
    _LayerControl,
    _Tekst,
    _TileLayer,
    html_tekst,
    read_leaflet_assets,
    resolve_achtergrond,
)
from woonvoorraad.report._kaartbediening import Bediening, Dorpen, Kader
from woonvoorraad.report.format import (
    Kolom,
    describe_column,
    fmt_waarde,
    is_missing,
    schattingen,
)

logger = logging.getLogger(__name__)

#: Default size budget of one map HTML, in bytes.
MAX_BYTES = 3_000_000

#: Columns shown by default, in this order, when the column exists and has a value.
DEFAULT_INDICATORS: tuple[str, ...] = (
    "n_doelgroep", "aandeel_doelgroep", "aandeel_naoorlogs", "aandeel_label_efg",
    "aandeel_label_efg_verwacht_naoorlogs", "label_dekking", *SCORES, "aandeel_65plus",
    "woz_gemiddeld", "typologie_naam",
)

#: Columns always shown in the tooltip (when present), before the indicators.
TOOLTIP_VAST: tuple[str, ...] = ("buurtcode", "wijknaam", "n_woningen")

BRON = ("Bron: CBS Wijk- en buurtkaart (CC BY 4.0), BAG (Kadaster), EP-Online (RVO), "
        "PBL Vesta MAIS kentallen; bewerking woonvoorraad")
NA_KLEUR = "#cfcfcf"
_NA_TEKST = "onbekend"
_TOLERANTIES = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0)
_ASSET_OVERHEAD = 230_000  # inlined Leaflet, CSS, script and template, in bytes
_BYTES_PER_COORD = 21  # "[5.12345, 52.12345], "


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------


def simplify_buurten(geoms: gpd.GeoSeries, tolerance: float) -> gpd.GeoSeries:
    """Simplify buurt polygons as a coverage (shared edges stay shared), in their own CRS.

    Falls back to per-polygon topology-preserving simplification when the polygons do not
    form a valid coverage, and keeps the original polygon where simplification would leave
    it empty or invalid.

    Parameters
    ----------
    geoms
        Polygons in a metric CRS (RD New).
    tolerance
        Tolerance in metres (for coverages: about the square root of the area removed).

    Returns
    -------
    geopandas.GeoSeries
    """
    if tolerance <= 0 or len(geoms) == 0:
        return geoms
    try:
        out = geoms.simplify_coverage(tolerance)
    except (shapely.errors.GEOSException, ValueError) as exc:
        logger.info("coverage simplification failed (%s); simplifying polygons one by one", exc)
        out = geoms.simplify(tolerance, preserve_topology=True)
    bad = out.isna() | out.is_empty | ~out.is_valid
    if bad.any():
        logger.debug("kept %d polygons unsimplified", int(bad.sum()))
        out = out.where(~bad, geoms)
    return out


def prepare_geometries(gdf: gpd.GeoDataFrame, *, tolerance: float,
                       precision: int = 5) -> gpd.GeoSeries:
    """Simplify in RD New, reproject to WGS84 and round coordinates.

    Parameters
    ----------
    gdf
        Buurten with polygon geometry and a CRS.
    tolerance
        Simplification tolerance in metres (0: none).
    precision
        Decimals of the WGS84 coordinates (5 ≈ 1 m).

    Returns
    -------
    geopandas.GeoSeries
        In EPSG:4326, same index as ``gdf``; empty geometries stay empty.
    """
    if gdf.crs is None:
        raise ValueError("buurten have no CRS; expected EPSG:28992 (RD New)")
    geoms = gdf.geometry
    if geoms.crs.is_geographic:
        geoms = geoms.to_crs(28992)
    simple = simplify_buurten(geoms, tolerance).to_crs(4326)
    grid = 10.0 ** -precision
    rounded = _round(simple.values, grid)
    empty = shapely.is_empty(rounded) & ~shapely.is_empty(simple.values)
    if empty.any():  # tiny polygons that collapsed: round the unsimplified ones instead
        rounded[empty] = _round(geoms.to_crs(4326).values[empty], grid)
    return gpd.GeoSeries(rounded, index=gdf.index, crs=4326)


def _round(values: np.ndarray, grid: float) -> np.ndarray:
    """Snap coordinates to ``grid`` keeping polygons valid; plain rounding where GEOS cannot
    (invalid input polygons)."""
    try:
        return shapely.set_precision(values, grid)
    except shapely.errors.GEOSException:
        out = np.empty(len(values), dtype=object)
        for i, g in enumerate(values):
            try:
                out[i] = shapely.set_precision(g, grid)
            except shapely.errors.GEOSException:
                out[i] = shapely.set_precision(g, grid, mode="pointwise")
        return out


def _n_coords(geoms: gpd.GeoSeries) -> int:
    return int(shapely.get_num_coordinates(geoms.values).sum())


# ---------------------------------------------------------------------------------------------
# Classes and colours
# ---------------------------------------------------------------------------------------------


def _colours(cmap: str, k: int) -> list[str]:
    cm = colormaps[cmap]
    if k == 1:
        return [to_hex(cm(0.6))]
    return [to_hex(cm(x)) for x in np.linspace(0.15, 0.9, k)]


def classify(values: pd.Series, ind: Kolom) -> tuple[np.ndarray, list[str], list[str]]:
    """Classify an indicator: class per value (-1 = missing), colours and legend labels.

    Numeric indicators are split into ``ind.k`` classes (fewer when there are fewer distinct
    values); categorical ones (``formaat == "tekst"``) get one class per category.

    Returns
    -------
    (numpy.ndarray, list of str, list of str)
        Class index per value, hex colour per class, Dutch legend label per class.

    Examples
    --------
    >>> ind = Kolom("x", "X", "aandeel", schema="equalinterval", k=2)
    >>> cls, kleuren, labels = classify(pd.Series([0.1, 0.2, None, 0.3]), ind)
    >>> cls.tolist(), labels
    ([0, 0, -1, 1], ['10,0% – 20,0%', '20,0% – 30,0%'])
    """
    if ind.formaat == "tekst":
        text = values.astype(object).where(values.notna(), None)
        cats = sorted(pd.unique(text.dropna()), key=str)
        lookup = {c: i for i, c in enumerate(cats)}
        cls = np.array([lookup.get(v, -1) if v is not None else -1 for v in text], dtype=int)
        base = colormaps["tab10" if len(cats) <= 10 else "tab20"]
        kleuren = [to_hex(base(i % base.N)) for i in range(len(cats))]
        return cls, kleuren, [str(c) for c in cats]
    y = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    ok = np.isfinite(y)
    cls = np.full(len(y), -1, dtype=int)
    if not ok.any():
        return cls, [], []
    yv = y[ok]
    uniq = np.unique(yv)
    if ind.schema == "vast":
        bins = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
        bins = bins[: int(np.searchsorted(bins, yv.max(), side="left")) + 1]
        lower = np.concatenate([[0.0], bins[:-1]])
    elif len(uniq) <= ind.k:
        bins = uniq
        lower = uniq
    else:
        k = ind.k
        if ind.schema == "quantiles" or (ind.schema == "fisherjenks" and len(yv) > 1000):
            bins = mapclassify.Quantiles(yv, k=k).bins
        elif ind.schema == "equalinterval":
            bins = mapclassify.EqualInterval(yv, k=k).bins
        else:
            with warnings.catch_warnings():
                # mapclassify's pure-Python Fisher-Jenks is fine for a gemeente's buurten
                warnings.filterwarnings("ignore", message="Numba not installed",
                                        category=UserWarning)
                bins = mapclassify.FisherJenks(yv, k=k).bins
        bins = np.unique(bins)
        lower = np.concatenate([[yv.min()], bins[:-1]])
    cls[ok] = np.minimum(np.searchsorted(bins, yv, side="left"), len(bins) - 1)
    kleuren = _colours(ind.cmap, len(bins))
    labels = []
    for lo, hi in zip(lower, bins, strict=True):
        a, b = fmt_waarde(lo, ind.formaat), fmt_waarde(hi, ind.formaat)
        labels.append(a if a == b else f"{a} – {b}")
    return cls, kleuren, labels


# ---------------------------------------------------------------------------------------------
# Map
# ---------------------------------------------------------------------------------------------

def _resolve_indicators(gdf: pd.DataFrame,
                        indicators: Sequence[str | Kolom] | None) -> list[Kolom]:
    wanted: Iterable[str | Kolom] = DEFAULT_INDICATORS if indicators is None else indicators
    out: list[Kolom] = []
    seen: set[str] = set()
    for item in wanted:
        ind = item if isinstance(item, Kolom) else describe_column(str(item))
        if ind.naam not in gdf.columns:
            if indicators is not None:
                raise KeyError(f"indicator column {ind.naam!r} is not in the buurten table")
            continue
        col = gdf[ind.naam]
        has_value = col.notna().any() if ind.formaat == "tekst" else pd.to_numeric(
            col, errors="coerce").notna().any()
        if not has_value:
            logger.info("map: indicator %s has no values; left out", ind.naam)
            continue
        if ind.label in seen:
            ind = replace(ind, label=f"{ind.label} ({ind.naam})")
        seen.add(ind.label)
        out.append(ind)
    return out


def _candidate_texts(candidates: Any) -> dict[str, str]:
    """Tooltip line per candidate buurtcode."""
    if candidates is None:
        return {}
    if isinstance(candidates, pd.DataFrame):
        if "buurtcode" not in candidates.columns:
            raise KeyError("candidates table needs a 'buurtcode' column")
        out = {}
        rank_col = next((c for c in ("rang", "rang_gemeente", "positie") if c in
                         candidates.columns), None)
        for i, row in enumerate(candidates.itertuples(index=False), start=1):
            r = row._asdict()
            out[str(r["buurtcode"])] = _candidate_text(r.get(rank_col) if rank_col else i,
                                                       r.get("reden"))
        return out
    return {str(c): "Proeftuinkandidaat" for c in candidates}


def _candidate_text(rang: Any, reden: Any) -> str:
    """"Proeftuinkandidaat nr. 2: <reason, at most 180 characters>"."""
    text = "Proeftuinkandidaat"
    if not is_missing(rang):
        text += f" nr. {int(rang)}"
    if isinstance(reden, str) and reden:
        text += ": " + (reden if len(reden) <= 180 else reden[:179].rstrip() + "…")
    return text


#: Columns of a village's tooltip, when the woonplaatsen table has them.
DORP_VELDEN: tuple[str, ...] = ("n_woningen", "aandeel_naoorlogs", "n_doelgroep",
                                "aandeel_label_efg", "aandeel_65plus")


def _village_markers(woonplaatsen: pd.DataFrame, precision: int) -> tuple[list[str],
                                                                        list[dict[str, Any]]]:
    """Tooltip labels and one point per village of ``woonplaatsen`` (see :class:`Dorpen`)."""
    for col in ("woonplaats", "x_rd", "y_rd"):
        if col not in woonplaatsen.columns:
            raise KeyError(f"woonplaatsen table needs a {col!r} column (a build from before "
                           "village points has none: build again)")
    w = woonplaatsen[woonplaatsen["x_rd"].notna() & woonplaatsen["y_rd"].notna()]
    if len(w) < len(woonplaatsen):
        logger.warning("map: %d woonplaatsen without a location left out",
                       len(woonplaatsen) - len(w))
    w = w.sort_values("woonplaats", kind="mergesort")
    ll = gpd.GeoSeries(gpd.points_from_xy(w["x_rd"], w["y_rd"]), crs="EPSG:28992").to_crs(4326)
    velden = [c for c in DORP_VELDEN if c in w.columns]
    teksten = [schattingen(w, c, describe_column(c).formaat, na=_NA_TEKST) for c in velden]
    n = pd.to_numeric(w["n_woningen"], errors="coerce").fillna(0).to_numpy(
        dtype=float) if "n_woningen" in w.columns else np.zeros(len(w))
    straal = 4.0 + 6.0 * np.sqrt(n / n.max()) if len(n) and n.max() > 0 else np.full(len(w), 5.0)
    rang = w["rang"] if "rang" in w.columns else pd.Series(np.nan, index=w.index)
    reden = w["reden"] if "reden" in w.columns else pd.Series(None, index=w.index)
    punten = []
    for j, (naam, lat, lon) in enumerate(zip(w["woonplaats"], ll.y, ll.x, strict=True)):
        k = rang.iloc[j]
        kandidaat = not is_missing(k)
        punten.append({"n": str(naam), "ll": [round(float(lat), precision),
                                              round(float(lon), precision)],
                       "r": round(float(straal[j]), 1), "v": [t[j] for t in teksten],
                       "k": int(k) if kandidaat else None,
                       "t": _candidate_text(k, reden.iloc[j]) + " (dorp)" if kandidaat
                       else None})
    return [describe_column(c).label for c in velden], punten


def map_from_buurten(
    gdf: gpd.GeoDataFrame,
    *,
    indicators: Sequence[str | Kolom] | None = None,
    candidates: pd.DataFrame | Iterable[str] | None = None,
    woonplaatsen: pd.DataFrame | None = None,
    tooltip: Sequence[str] = (),
    title: str | None = None,
    subtitle: str | None = None,
    synthetic: bool = False,
    offline: bool = True,
    tiles: str | None = None,
    achtergrond: str | None = None,
    simplify_tolerance: float | None = None,
    max_bytes: int = MAX_BYTES,
    precision: int = 5,
    height: str | int = "100%",
    prefer_canvas: bool = False,
) -> folium.Map:
    """Draw buurten as a folium map with one switchable choropleth per indicator.

    Parameters
    ----------
    gdf
        Buurten (one row each) with ``buurtcode``, ``buurtnaam`` and the indicator columns,
        in EPSG:28992.
    indicators
        Columns (or :class:`Kolom`) to draw; default: those of
        :data:`DEFAULT_INDICATORS` that have values. The first is shown on opening.
    candidates
        Proeftuin candidates to outline: a table with ``buurtcode`` (and optionally ``rang``
        and ``reden``, shown in the tooltip) or buurtcodes.
    woonplaatsen
        Villages to draw as circles in a layer "Dorpen (woonplaatsen)" (sized by dwellings):
        rows of ``woonplaatsen.csv`` with ``woonplaats``, ``x_rd``, ``y_rd`` (EPSG:28992)
        and the figures of :data:`DORP_VELDEN` for the tooltip; a ``rang`` (and ``reden``)
        marks a village candidate (filled orange). The layer is on when there is one.
    tooltip
        Extra columns for the tooltip (shown with their Dutch label and format).
    title, subtitle
        Title box (default: the gemeente name when all buurten are of one gemeente).
    synthetic
        Show a "synthetische demodata" banner.
    offline
        Inline the vendored Leaflet (True) or load it from a CDN (False).
    tiles
        Background tiles, e.g. ``"OpenStreetMap"``; only allowed with ``offline=False``.
    achtergrond
        Background layer, shown on opening and switchable in the layer control: ``"pdok"``
        (PDOK BRT-Achtergrondkaart grijs) or a tile URL template (:func:`resolve_achtergrond`);
        also with ``offline=True`` (Leaflet stays inline; only the tiles come from the
        network). None: ``$WOONVOORRAAD_ACHTERGROND``, else no background (no request at all).
    simplify_tolerance
        Tolerance in metres; default: the smallest of 5, 10, 20, … m for which the estimated
        HTML size stays within ``max_bytes``.
    max_bytes
        Size budget for the automatic tolerance.
    precision
        Decimals of the coordinates.
    height
        Height of the map (CSS); ``"100%"`` fills a standalone page.
    prefer_canvas
        Draw on a canvas instead of SVG (faster with thousands of buurten).

    Returns
    -------
    folium.Map
        With an attribute ``woonvoorraad_info`` (dict: tolerance, indicators, n_buurten,
        n_coordinates, n_candidates, n_woonplaatsen).
    """
    if tiles and offline:
        raise ValueError("tiles need the network; use offline=False to add a tile layer")
    laag_achtergrond = resolve_achtergrond(achtergrond if achtergrond is not None
                                           else os.environ.get(ACHTERGROND_ENV))
    if len(gdf) == 0:
        raise ValueError("no buurten to draw")
    if "buurtcode" not in gdf.columns:
        raise KeyError("buurten need a 'buurtcode' column")
    data = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
    if len(data) < len(gdf):
        logger.warning("map: %d buurten without geometry left out", len(gdf) - len(data))
    if len(data) == 0:
        raise ValueError(f"none of the {len(gdf)} buurten has a geometry to draw")
    kinds = set(data.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise ValueError(f"buurten must be polygons to be drawn; found "
                         f"{', '.join(sorted(kinds - {'Polygon', 'MultiPolygon'}))}")
    data = data.sort_values("buurtcode", kind="mergesort")
    inds = _resolve_indicators(data, indicators)
    kandidaat = _candidate_texts(candidates)

    fixed = [c for c in TOOLTIP_VAST if c in data.columns]
    extra = [c for c in tooltip if c not in fixed and c not in {i.naam for i in inds}]
    for c in extra:
        if c not in data.columns:
            raise KeyError(f"tooltip column {c!r} is not in the buurten table")
    velden = ([describe_column(c).label for c in fixed] + [i.label for i in inds]
              + [describe_column(c).label for c in extra])

    classes = []
    ind_cfg = []
    for ind in inds:
        cls, kleuren, labels = classify(data[ind.naam], ind)
        classes.append(cls)
        ind_cfg.append({"label": ind.label, "uitleg": ind.uitleg, "kleuren": kleuren,
                        "labels": labels, "heeft_na": bool((cls < 0).any())})

    def value_text(col: str, fmt: str) -> list[str]:  # an estimate with its range, if any
        return schattingen(data, col, fmt, na=_NA_TEKST)

    columns_text = ([value_text(c, describe_column(c).formaat) for c in fixed]
                    + [value_text(i.naam, i.formaat) for i in inds]
                    + [value_text(c, describe_column(c).formaat) for c in extra])
    names = (data["buurtnaam"] if "buurtnaam" in data.columns else data["buurtcode"]).astype(
        object).where(lambda s: s.notna(), data["buurtcode"])
    codes = data["buurtcode"].astype(str).tolist()
    props = []
    for j, code in enumerate(codes):
        props.append({
            "n": str(names.iloc[j]),
            "v": [col[j] for col in columns_text],
            "k": [int(c[j]) for c in classes],
            "p": kandidaat.get(code),
        })
    props_bytes = len(json.dumps(props, ensure_ascii=False)) + 40 * len(props)

    # geometry: the smallest tolerance that fits the budget
    if simplify_tolerance is None:
        budget = 0.9 * max_bytes - _ASSET_OVERHEAD - props_bytes  # 10% margin
        raw_coords = _n_coords(data.geometry)
        if raw_coords * _BYTES_PER_COORD <= budget * 0.5:
            tolerance = _TOLERANTIES[0]
        else:
            tolerance = _TOLERANTIES[-1]
            for tol in _TOLERANTIES:
                n = _n_coords(simplify_buurten(
                    data.geometry if not data.crs.is_geographic else data.geometry.to_crs(28992),
                    tol))
                if n * _BYTES_PER_COORD * (1 + 0.06 * len(kandidaat) / len(data)) <= budget:
                    tolerance = tol
                    break
    else:
        tolerance = float(simplify_tolerance)
    geoms = prepare_geometries(data, tolerance=tolerance, precision=precision)
    n_coords = _n_coords(geoms)
    logger.debug("map: %d buurten, tolerance %.0f m, %d coordinates", len(data), tolerance,
                 n_coords)

    features = []
    for j, (code, geom) in enumerate(zip(codes, geoms.values, strict=True)):
        if geom is None or geom.is_empty:
            continue
        features.append({"type": "Feature", "id": code, "properties": props[j],
                         "geometry": shapely.geometry.mapping(geom)})
    collection = {"type": "FeatureCollection", "features": features}

    minx, miny, maxx, maxy = geoms.total_bounds
    # zoom in quarter steps, so the buurten fill a phone's narrow screen after fit_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12,
                   zoom_snap=0.25, tiles=None, control_scale=False, prefer_canvas=prefer_canvas,
                   height=height)
    root = m.get_root()
    if offline:
        m.default_js = []
        m.default_css = []
        js, css = read_leaflet_assets()
        root.header.add_child(_Tekst(f"<style>{css}</style>"), name="leaflet_css")
        root.header.add_child(_Tekst(f"<script>{js}</script>"), name="leaflet_js")
    else:
        m.default_js = [("leaflet", LEAFLET_CDN_JS)]
        m.default_css = [("leaflet_css", LEAFLET_CDN_CSS)]
        if tiles:
            folium.TileLayer(tiles, name="Achtergrondkaart", overlay=True, control=True,
                             opacity=0.5).add_to(m)
    if laag_achtergrond is not None:  # under the buurten (Leaflet's tile pane), switchable
        _TileLayer(tiles=laag_achtergrond["url"], attr=laag_achtergrond["attributie"],
                   name=html_tekst(laag_achtergrond["naam"]), overlay=True, control=True,
                   show=True, max_native_zoom=laag_achtergrond["max_native_zoom"],
                   max_zoom=21).add_to(m)
    single = data["gemeentenaam"].dropna().unique() if "gemeentenaam" in data.columns else []
    if title is None:
        title = f"Gemeente {single[0]}" if len(single) == 1 else "Buurten"
    root.title = html_tekst(title)
    Kader(m, titel=title, ondertitel=subtitle,
          banner="SYNTHETISCHE DEMODATA — fictieve gemeenten" if synthetic else None).add_to(m)

    laag = _GeoJson(collection, name="Buurten", control=False, smooth_factor=0.5)
    laag.add_to(m)
    groepen = []
    for i, ind in enumerate(inds):
        g = _FeatureGroup(name=html_tekst(ind.label), overlay=False, control=True,
                          show=(i == 0))
        g.add_to(m)
        groepen.append(g)
    if kandidaat:
        outline = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": f["id"], "geometry": f["geometry"],
             "properties": {"style": {"fill": False, "color": "#111111", "weight": 3.5,
                                      "opacity": 1, "dashArray": None}}}
            for f in features if f["id"] in kandidaat]}
        _GeoJson(outline, name="Proeftuinkandidaten", overlay=True, control=True, show=True,
                 interactive=False, stijl_uit_data=True).add_to(m)
    dorpen = None
    if woonplaatsen is not None and len(woonplaatsen):
        dorp_velden, punten = _village_markers(woonplaatsen, precision)
        if punten:
            n_kand = sum(p["k"] is not None for p in punten)
            groep = _FeatureGroup(name=html_tekst("Dorpen (woonplaatsen)"), overlay=True,
                                  control=True, show=n_kand > 0)
            groep.add_to(m)
            Dorpen(groep, velden=dorp_velden, punten=punten).add_to(m)
            dorpen = {"label": "Dorp", "kandidaat": "dorp als kandidaat" if n_kand else None,
                      "n": len(punten), "n_kandidaten": n_kand}
    cfg = {"indicatoren": ind_cfg, "velden": velden, "n_vast": len(fixed),
           "dorpen": dorpen,
           "na_kleur": NA_KLEUR, "na_tekst": "onbekend", "leeg": "#9ecae1",
           "geen_indicator": "Buurtgrenzen",
           "kandidaten": "Proeftuinkandidaat" if kandidaat else None}
    Bediening(m, laag, groepen, cfg, html_tekst(BRON)).add_to(m)
    if groepen or kandidaat or dorpen or laag_achtergrond is not None:
        _LayerControl(collapsed="auto", position="topright",
                      knop_tekst="Indicator en kaartlagen kiezen").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(12, 12))
    m.woonvoorraad_info = {  # type: ignore[attr-defined]
        "tolerance": tolerance, "indicators": [i.naam for i in inds], "n_buurten": len(features),
        "n_coordinates": n_coords, "n_candidates": len(kandidaat), "offline": offline,
        "n_woonplaatsen": dorpen["n"] if dorpen else 0,
        "max_bytes": max_bytes,
        "achtergrond": None if laag_achtergrond is None else laag_achtergrond["url"],
    }
    return m


def map_html(m: folium.Map) -> str:
    """Render a map to a complete standalone HTML document."""
    return m.get_root().render()


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map as a standalone HTML file, atomically.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    text = map_html(m)
    out = write_text_atomic(path, text)
    size = out.stat().st_size
    budget = getattr(m, "woonvoorraad_info", {}).get("max_bytes", MAX_BYTES)
    if size > budget:
        logger.warning("map %s is %.1f MB, over the %.1f MB budget", out, size / 1e6,
                       budget / 1e6)
    logger.info("wrote map %s (%.0f kB)", out, size / 1e3)
    return out


def map_iframe(m: folium.Map, *, height: int = 620, title: str = "Kaart") -> str:
    """The map as an ``<iframe srcdoc=…>`` for embedding in a report (self-contained).

    Parameters
    ----------
    m
        The map (rendered with ``height="100%"``).
    height
        Height of the frame in pixels; never more than 88 % of the screen height, so the
        page can still be scrolled past the map on a phone.
    title
        Accessible title of the frame.
    """
    doc = html.escape(map_html(m), quote=True)
    return (f'<iframe class="wv-kaart" title="{html.escape(title)}" srcdoc="{doc}" '
            f'style="width:100%;height:min({int(height)}px,88vh);border:1px solid #ccc;'
            f'border-radius:4px" loading="eager"></iframe>')
