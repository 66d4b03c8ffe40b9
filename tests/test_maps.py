"""Maps: offline assets, escaping, classes, simplification, size budget."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from woonvoorraad.report import _folium, maps
from woonvoorraad.report.format import Kolom, describe_column
from woonvoorraad.report.maps import classify, map_from_buurten, map_html, save_map

REMOTE_ASSET = re.compile(
    r"""<script[^>]+src\s*=\s*["']?(https?:)?//|<link[^>]+href\s*=\s*["']?(https?:)?//|"""
    r"""@import\s+url\(\s*["']?(https?:)?//|url\(\s*["']?https?://""",
    re.IGNORECASE,
)


def grid_buurten(nx: int = 4, ny: int = 3, *, size: float = 500.0, wiggle: int = 0,
                 jitter: float = 0.01, seed: int = 1) -> gpd.GeoDataFrame:
    """A coverage of nx × ny square buurten in RD New, two gemeenten, with indicators.

    ``wiggle`` adds that many vertices per edge (shared edges identical), to make big maps.
    """
    rng = np.random.default_rng(seed)
    x0, y0 = 230_000.0, 520_000.0
    xs = np.linspace(x0, x0 + nx * size, nx + 1)
    ys = np.linspace(y0, y0 + ny * size, ny + 1)

    def edge(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        """Points from a (included) to b (excluded); a shared edge gets the same points."""
        if not wiggle:
            return [a]
        key = (a, b) if a <= b else (b, a)
        r = np.random.default_rng(int(key[0][0] * 7 + key[0][1] * 13 + key[1][0] * 17
                                      + key[1][1] * 19) % 2**32)
        t = np.linspace(0, 1, wiggle + 2)[1:-1]
        off = r.normal(0, size * jitter, len(t)) * np.sin(np.pi * t)  # calm at corners
        vertical = key[0][0] == key[1][0]
        inner = [(key[0][0] + (key[1][0] - key[0][0]) * ti + (o if vertical else 0.0),
                  key[0][1] + (key[1][1] - key[0][1]) * ti + (0.0 if vertical else o))
                 for ti, o in zip(t, off, strict=True)]
        if (a, b) != key:
            inner = inner[::-1]
        return [a, *inner]

    rows, geoms = [], []
    for i in range(nx):
        for j in range(ny):
            c = [(xs[i], ys[j]), (xs[i + 1], ys[j]), (xs[i + 1], ys[j + 1]), (xs[i], ys[j + 1])]
            ring = []
            for k in range(4):
                ring += edge(c[k], c[(k + 1) % 4])
            geoms.append(shapely.Polygon(ring))
            gm = "GM9901" if i < nx / 2 else "GM9902"
            n = int(rng.integers(50, 2000))
            rows.append({
                "buurtcode": f"BU{gm[2:]}{i:02d}{j:02d}", "buurtnaam": f"Buurt {i}-{j}",
                "wijknaam": "Wijk", "gemeentecode": gm,
                "gemeentenaam": "Oostdorp" if gm == "GM9901" else "Westdorp",
                "n_woningen": n, "n_doelgroep": float(rng.integers(0, n // 2)),
                "aandeel_naoorlogs": rng.random(), "aandeel_label_efg": rng.random(),
                "woz_gemiddeld": float(rng.integers(150, 400) * 1000),
                "energiebehoefte": rng.random(), "typologie_naam": f"type {i % 3}",
            })
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=28992)


def geojson_children(m: folium.Map) -> list[folium.GeoJson]:
    return [c for c in m._children.values() if isinstance(c, folium.GeoJson)]


def test_offline_map_has_no_remote_assets(tmp_path: Path) -> None:
    m = map_from_buurten(grid_buurten(), candidates=["BU99010000"])
    html = map_html(m)
    assert not REMOTE_ASSET.search(html), REMOTE_ASSET.search(html)
    assert f"Leaflet {_folium.LEAFLET_VERSION}" in html or 't.version="1.9.4"' in html
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()
    assert "sourceMappingURL" not in html
    out = save_map(m, tmp_path / "kaart.html")
    saved = out.read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>") and not REMOTE_ASSET.search(saved)
    assert [p.name for p in tmp_path.iterdir()] == ["kaart.html"]  # no temp files left


def test_online_map_uses_cdn_and_tiles_need_network() -> None:
    html = map_html(map_from_buurten(grid_buurten(), offline=False, tiles="OpenStreetMap"))
    assert _folium.LEAFLET_CDN_JS in html and "tile.openstreetmap.org" in html
    with pytest.raises(ValueError, match="offline=False"):
        map_from_buurten(grid_buurten(), tiles="OpenStreetMap")


def test_names_from_the_data_are_escaped() -> None:
    gdf = grid_buurten()
    gdf.loc[0, "buurtnaam"] = "<script>alert('x')</script>"
    gdf.loc[1, "gemeentenaam"] = "<img src=x onerror=alert(1)>"
    html = map_html(map_from_buurten(gdf, title="<b>titel</b>", tooltip=["gemeentenaam"]))
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>titel</b>" not in html
    assert "\\u003cscript\\u003ealert" in html  # kept as text in the embedded JSON
    # tooltips and legend are filled with textContent, never innerHTML
    script = html[html.index("function tooltip"):html.index("legenda.addTo")]
    assert "innerHTML" not in script


def test_structure_layers_tooltip_and_candidates() -> None:
    gdf = grid_buurten()
    cands = pd.DataFrame({"buurtcode": ["BU99010001"], "rang": [1],
                          "reden": ["Hoge energiebehoefte"]})
    m = map_from_buurten(gdf, indicators=["n_doelgroep", "aandeel_naoorlogs"], candidates=cands)
    info = m.woonvoorraad_info
    assert info["indicators"] == ["n_doelgroep", "aandeel_naoorlogs"]
    assert info["n_buurten"] == len(gdf) and info["n_candidates"] == 1
    layers = geojson_children(m)
    assert len(layers) == 2  # buurten + candidate outlines
    buurt_layer, outline = layers
    feats = buurt_layer.data["features"]
    assert {f["id"] for f in feats} == set(gdf["buurtcode"])
    for f in feats:  # only whitelisted, pre-formatted properties
        assert set(f["properties"]) == {"n", "v", "k", "p"}
        assert all(isinstance(v, str) for v in f["properties"]["v"])
    feat = next(f for f in feats if f["id"] == "BU99010001")
    assert feat["properties"]["p"] == "Proeftuinkandidaat nr. 1: Hoge energiebehoefte"
    assert [f["id"] for f in outline.data["features"]] == ["BU99010001"]
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())
    html = map_html(m)
    assert "Doelgroep (geschat aantal)" in html and "Aandeel naoorlogs" in html
    assert "Proeftuinkandidaten" in html


def test_tooltip_values_are_dutch_formatted() -> None:
    gdf = grid_buurten().head(2).copy()
    gdf["n_woningen"] = [1234, 5]
    gdf["aandeel_naoorlogs"] = [0.125, np.nan]
    gdf["woz_gemiddeld"] = [215000.0, np.nan]
    m = map_from_buurten(gdf, indicators=["aandeel_naoorlogs", "woz_gemiddeld"])
    feats = {f["id"]: f["properties"] for f in geojson_children(m)[0].data["features"]}
    first, second = (feats[c] for c in gdf["buurtcode"])
    assert "1.234" in first["v"] and "12,5%" in first["v"] and "€ 215.000" in first["v"]
    assert second["v"].count("onbekend") >= 2 and second["k"] == [-1, -1]
    data = json.dumps(geojson_children(m)[0].data)
    assert "NaN" not in data and "nan" not in data.lower().replace("onbekend", "")


def test_unknown_indicator_is_an_error_and_empty_ones_are_skipped() -> None:
    gdf = grid_buurten()
    with pytest.raises(KeyError, match="bestaat_niet"):
        map_from_buurten(gdf, indicators=["bestaat_niet"])
    gdf["woz_gemiddeld"] = np.nan
    m = map_from_buurten(gdf)
    assert "woz_gemiddeld" not in m.woonvoorraad_info["indicators"]
    assert "n_doelgroep" in m.woonvoorraad_info["indicators"]


def test_classify_numeric_categorical_and_fixed_bins() -> None:
    cls, kleuren, labels = classify(pd.Series([1.0, 2.0, np.nan, 2.0]),
                                    Kolom("x", "X", "aantal", k=5))
    assert cls.tolist() == [0, 1, -1, 1] and len(kleuren) == 2 and labels == ["1", "2"]
    vals = pd.Series(np.linspace(0, 1000, 50))
    cls, kleuren, labels = classify(vals, Kolom("x", "X", "aantal", k=5))
    assert len(kleuren) == 5 and cls.min() == 0 and cls.max() == 4
    assert np.all(np.diff(cls) >= 0)  # monotone in the value
    cls, _, labels = classify(pd.Series([0.1, 0.5, 0.95]),
                              describe_column("energiebehoefte"))
    assert cls.tolist() == [0, 2, 4] and labels[0] == "0,00 – 0,20"
    cls, kleuren, labels = classify(pd.Series(["b", "a", None, "b"]),
                                    Kolom("t", "T", "tekst"))
    assert labels == ["a", "b"] and cls.tolist() == [1, 0, -1, 1] and len(kleuren) == 2
    cls, kleuren, labels = classify(pd.Series([np.nan, np.nan]), Kolom("x", "X", "aantal"))
    assert cls.tolist() == [-1, -1] and kleuren == [] and labels == []


def test_geometry_simplified_as_coverage_and_rounded() -> None:
    gdf = grid_buurten(6, 5, wiggle=60)
    simple = maps.simplify_buurten(gdf.geometry, 10.0)
    assert shapely.get_num_coordinates(simple.values).sum() < shapely.get_num_coordinates(
        gdf.geometry.values).sum() / 2
    assert bool(shapely.coverage_is_valid(simple.values))  # no gaps or overlaps opened
    rounded = maps.prepare_geometries(gdf, tolerance=10.0)
    assert rounded.crs.to_epsg() == 4326
    coords = shapely.get_coordinates(rounded.values)
    assert np.allclose(coords, np.round(coords, 5), atol=1e-12)
    m = map_from_buurten(gdf)
    text = json.dumps(geojson_children(m)[0].data["features"][0]["geometry"])
    assert not re.search(r"\d\.\d{6,}", text)


def test_large_gemeente_stays_under_budget() -> None:
    # 1,200 buurten with about 150,000 ragged vertices: over 3 MB of coordinates as they are
    gdf = grid_buurten(40, 30, size=200.0, wiggle=30, jitter=0.08)
    assert shapely.get_num_coordinates(gdf.geometry.values).sum() * 21 > maps.MAX_BYTES
    m = map_from_buurten(gdf)
    size = len(map_html(m).encode("utf-8"))
    assert size < maps.MAX_BYTES, (size, m.woonvoorraad_info)
    assert m.woonvoorraad_info["tolerance"] > 5.0


def test_invalid_and_missing_geometries_do_not_break_the_map() -> None:
    gdf = grid_buurten()
    bowtie = shapely.Polygon([(230000, 520000), (230500, 520500), (230500, 520000),
                              (230000, 520500)])
    gdf.loc[0, "geometry"] = bowtie
    gdf.loc[1, "geometry"] = None
    m = map_from_buurten(gdf)
    assert m.woonvoorraad_info["n_buurten"] == len(gdf) - 1
    with pytest.raises(ValueError, match="CRS"):
        map_from_buurten(gdf.set_crs(None, allow_override=True))


def test_iframe_embedding_escapes_the_document() -> None:
    gdf = grid_buurten()
    gdf.loc[0, "buurtnaam"] = '"><script>x</script>'
    frame = maps.map_iframe(map_from_buurten(gdf), height=500, title="Kaart <x>")
    assert frame.startswith('<iframe class="wv-kaart" title="Kaart &lt;x&gt;" srcdoc="')
    assert "<script>" not in frame  # the whole document is attribute-escaped
    assert 'height:min(500px,88vh)' in frame  # never taller than 88 % of the screen


def test_largest_demo_gemeente_map_stays_under_3_mb(tmp_path_factory: pytest.TempPathFactory,
                                                     tmp_path: Path) -> None:
    from woonvoorraad.demo import region as datasets
    from woonvoorraad.sources import cbs

    paths = datasets.make_demo(tmp_path_factory.getbasetemp() / "woonvoorraad-demo-volledig",
                               scale=1.0)
    buurten, _ = cbs.read_buurten(paths["buurten"])
    coords = pd.Series(shapely.get_num_coordinates(buurten.geometry.values),
                       index=buurten.index).groupby(buurten["gemeentecode"]).sum()
    largest = buurten[buurten["gemeentecode"] == coords.idxmax()]
    m = map_from_buurten(largest, candidates=largest["buurtcode"].head(3), synthetic=True,
                         tooltip=["aantal_inwoners"])
    out = save_map(m, tmp_path / "kaart.html")
    assert out.stat().st_size < 3_000_000
    assert m.woonvoorraad_info["n_buurten"] == len(largest)
    assert not REMOTE_ASSET.search(out.read_text(encoding="utf-8"))


def test_layer_control_folding_is_one_of_three_choices() -> None:
    from woonvoorraad.report._folium import _LayerControl

    with pytest.raises(ValueError, match="'smal'"):
        _LayerControl(collapsed="smal")
    page = map_html(map_from_buurten(grid_buurten()))
    # the small-screen switch runs before the layer list decides whether to fold
    assert page.index('"smal_breedte": 700') < page.index("L.control.layers(")


def test_tooltips_show_an_estimate_with_its_range() -> None:
    gdf = grid_buurten(2, 1)
    gdf["n_doelgroep"] = [168.0, 12.0]
    gdf["n_doelgroep_laag"] = [103.4, np.nan]  # the second buurt has no range
    gdf["n_doelgroep_hoog"] = [236.0, 20.0]
    m = map_from_buurten(gdf, indicators=["n_doelgroep"])
    [laag] = [c for c in m._children.values() if getattr(c, "layer_name", "") == "Buurten"]
    values = [f["properties"]["v"] for f in laag.data["features"]]
    assert [v[-1] for v in values] == ["168 (103–236)", "12"]


def test_villages_are_a_layer_of_their_own(caplog: pytest.LogCaptureFixture) -> None:
    gdf = grid_buurten(2, 1)
    punt = gdf.geometry.representative_point()
    dorpen = pd.DataFrame({"woonplaats": ["Oostdorp", "Westdorp", "Nergens"],
                           "x_rd": [punt.x[0], punt.x[1], np.nan],
                           "y_rd": [punt.y[0], punt.y[1], np.nan],
                           "n_woningen": [400, 100, 5], "n_doelgroep": [40.0, 9.0, 1.0],
                           "n_doelgroep_laag": [30.0, 6.0, 0.0],
                           "n_doelgroep_hoog": [52.0, 12.0, 2.0]})
    with caplog.at_level("WARNING", logger="woonvoorraad.report.maps"):
        m = map_from_buurten(gdf, woonplaatsen=dorpen)
    assert "1 woonplaatsen without a location" in caplog.text
    assert m.woonvoorraad_info["n_woonplaatsen"] == 2
    [groep] = [c for c in m._children.values()
               if getattr(c, "layer_name", "") == "Dorpen (woonplaatsen)"]
    assert groep.show is False  # no village is a candidate: the layer starts off
    [dorp_el] = [c for c in m._children.values() if type(c).__name__ == "Dorpen"]
    cfg = json.loads(dorp_el.cfg_js)
    oost, west = cfg["punten"]  # sorted by name
    assert (oost["n"], west["n"]) == ("Oostdorp", "Westdorp")
    assert oost["r"] == 10.0 and west["r"] == 7.0  # 4 + 6·√(n / n_max)
    assert cfg["velden"][0] == "Woningen (BAG)" and "Doelgroep (geschat aantal)" in cfg["velden"]
    assert oost["v"][0] == "400" and "40 (30–52)" in oost["v"] and oost["k"] is None
    assert oost["ll"][0] == pytest.approx(gdf.to_crs(4326).geometry.representative_point()
                                          .y[0], abs=0.01)
    # a candidate village: filled, with its rank, and the layer is on
    m = map_from_buurten(gdf, woonplaatsen=dorpen.assign(rang=[np.nan, 1.0, np.nan],
                                                          reden=[None, "Veel doelgroep", None]))
    [groep] = [c for c in m._children.values()
               if getattr(c, "layer_name", "") == "Dorpen (woonplaatsen)"]
    [dorp_el] = [c for c in m._children.values() if type(c).__name__ == "Dorpen"]
    west = json.loads(dorp_el.cfg_js)["punten"][1]
    assert groep.show is True and west["k"] == 1
    assert west["t"] == "Proeftuinkandidaat nr. 1: Veel doelgroep (dorp)"
    with pytest.raises(KeyError, match="x_rd"):
        map_from_buurten(gdf, woonplaatsen=dorpen.drop(columns="x_rd"))
