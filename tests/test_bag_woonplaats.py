"""BAG woonplaats per unit in the three layouts (bag-light, OGC, LVBAG chain) and its absence."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import write_layer
from woonvoorraad.demo import make_demo
from woonvoorraad.sources import _bag_woonplaats, bag

HTTP_BAG = Path(__file__).parent / "data" / "http" / "bag"
WP_LOGGER = "woonvoorraad.sources._bag_woonplaats"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name == WP_LOGGER]


def test_bag_light_demo_woonplaats(tmp_path: Path) -> None:
    paths = make_demo(tmp_path / "demo", scale=0.05)
    raw = gpd.read_file(paths["bag"], layer="verblijfsobject", engine="pyogrio")
    expected = raw.drop_duplicates("identificatie").set_index("identificatie")["woonplaats_naam"]
    for read in (bag.read_bag, bag.read_bag_for_build):
        _, units, layout = read(paths["bag"])
        assert layout == "bag-light"
        assert isinstance(units["woonplaats"].dtype, pd.CategoricalDtype)
        got = units.set_index("vbo_id")["woonplaats"].astype(object)
        assert got.notna().all()
        assert got.to_dict() == expected.reindex(got.index).to_dict()
        info = units.attrs["woonplaats"]
        assert info["beschikbaar"] and info["methode"] == "woonplaats_naam"
        assert info["n_eenheden"] == len(units) and info["n_zonder_woonplaats"] == 0
    assert list(units["woonplaats"].cat.categories) == sorted(expected.unique())


def _ogc_file(tmp_path: Path) -> Path:
    """The recorded PDOK OGC API v2 pages, saved as features are (``pand.href``, uuids)."""
    base = "https://api.pdok.nl"
    frames = {}
    for layer in ("pand", "verblijfsobject"):
        text = (HTTP_BAG / f"{layer}.json").read_text(encoding="utf-8").replace("{{base}}", base)
        feats = json.loads(text)["features"]
        props = [dict(f["properties"], id=f["id"]) for f in feats]
        for p in props:
            if "pand.href" in p:
                p["pand.href"] = json.dumps(p["pand.href"])
        frames[layer] = gpd.GeoDataFrame(
            pd.DataFrame(props), crs=28992,
            geometry=[shapely.geometry.shape(f["geometry"]) for f in feats])
    p = tmp_path / "ogc.gpkg"
    write_layer(p, "pand", frames["pand"])
    # one unit with a blank woonplaats_naam: NA, counted
    vbo = frames["verblijfsobject"]
    vbo.loc[vbo.index[0], "woonplaats_naam"] = "  "
    write_layer(p, "verblijfsobject", vbo)
    return p


def test_ogc_layout_woonplaats_from_recorded_fixture(tmp_path: Path) -> None:
    p = _ogc_file(tmp_path)
    _, units, layout = bag.read_bag(p)
    assert layout == "ogc"
    assert units["woonplaats"].isna().sum() == 1
    assert set(units["woonplaats"].dropna()) == {"Emmen"}
    assert units.attrs["woonplaats"]["n_zonder_woonplaats"] == 1


# -- LVBAG: verblijfsobject -> nummeraanduiding -> openbareruimte -> woonplaats ---------------

def _lvbag(tmp_path: Path, *, with_woonplaats: bool = True) -> Path:
    """Five units; exact GDAL LVBAG field names, lower-cased, ids with NL.IMBAG prefixes.

    u1, u2: Hoofdstraat in Sleen; u3: Diphoornseweg in Diphoorn; u4: a street in Sleen but
    its address carries woonplaatsref Diphoorn itself (BAG allows it); u5: its address names
    an openbare ruimte that does not exist (broken chain -> NA). Old voorkomens of the
    Hoofdstraat (in Diphoorn) and the woonplaats name are history and ignored.
    """
    p = tmp_path / "lvbag.gpkg"
    na = "NL.IMBAG.Nummeraanduiding."
    opr = "NL.IMBAG.Openbareruimte."
    wpl = "NL.IMBAG.Woonplaats."
    pand = gpd.GeoDataFrame(
        {"identificatie": ["NL.IMBAG.Pand.0114100000000001"], "oorspronkelijkbouwjaar": [1962],
         "status": ["Pand in gebruik"]}, geometry=[shapely.box(0, 0, 50, 10)], crs=28992)
    vbo = gpd.GeoDataFrame(
        {"identificatie": [f"NL.IMBAG.Verblijfsobject.011401000000000{i}" for i in range(1, 6)],
         "gebruiksdoel": ["woonfunctie"] * 5, "oppervlakte": [90] * 5,
         "hoofdadresnummeraanduidingref": [f"{na}011420000000000{i}" for i in range(1, 6)],
         "pandref": ["NL.IMBAG.Pand.0114100000000001"] * 5,
         "status": ["Verblijfsobject in gebruik"] * 5},
        geometry=[shapely.Point(5 + 10 * i, 5) for i in range(5)], crs=28992)
    num = pd.DataFrame({
        "identificatie": [f"{na}011420000000000{i}" for i in range(1, 6)],
        "huisnummer": [1, 2, 3, 4, 5],
        "openbareruimteref": [f"{opr}0114300000000001", f"{opr}0114300000000001",
                              f"{opr}0114300000000002", f"{opr}0114300000000001",
                              f"{opr}0114300000000099"],
        "woonplaatsref": [None, None, None, f"{wpl}2950", None],
    })
    opr_layer = pd.DataFrame({
        "identificatie": [f"{opr}0114300000000001", f"{opr}0114300000000001",
                          f"{opr}0114300000000002"],
        "naam": ["Hoofdstraat", "Hoofdstraat", "Diphoornseweg"],
        "woonplaatsref": [f"{wpl}2950", f"{wpl}2949", f"{wpl}2950"],
        "voorkomenidentificatie": [1, 2, 1],
        "eindgeldigheid": ["2019-01-01", None, None],
    })
    wpl_layer = gpd.GeoDataFrame({
        "identificatie": [f"{wpl}2949", f"{wpl}2950", f"{wpl}2949"],
        "naam": ["Slene", "Diphoorn", "Sleen"],
        "voorkomenidentificatie": [1, 1, 2],
        "eindgeldigheid": ["2001-01-01", None, None],
    }, geometry=[shapely.box(-100, -100, 100, 100)] * 3, crs=28992)
    write_layer(p, "pand", pand)
    write_layer(p, "verblijfsobject", vbo)
    write_layer(p, "nummeraanduiding", gpd.GeoDataFrame(num))
    write_layer(p, "openbareruimte", gpd.GeoDataFrame(opr_layer))
    if with_woonplaats:
        write_layer(p, "woonplaats", wpl_layer)
    return p


@pytest.mark.parametrize("cached", [False, True])
def test_lvbag_chain(tmp_path: Path, cached: bool, caplog: pytest.LogCaptureFixture) -> None:
    p = _lvbag(tmp_path)
    assert bag.detect_layout(p) == "lvbag"
    _bag_woonplaats.clear_cache()
    if cached:  # the dask engine's tile path: the lookup of the whole file, kept
        mapping, columns, info = bag._prepare_layer(p, bag.VBO_LAYER, "lvbag", what="units")
        table, geom = bag.read_units(p, bag.VBO_LAYER, columns, info, bbox=None, mask=None)
        units = bag._vbo_from_arrow(table, geom, p, "lvbag", mapping, points=False)
        assert _bag_woonplaats._CACHE
        _bag_woonplaats.clear_cache()
    else:
        _, units, _ = bag.read_bag_for_build(p)
        assert not _bag_woonplaats._CACHE
    got = units.set_index("vbo_id")["woonplaats"].astype(object)
    assert got.tolist()[:4] == ["Sleen", "Sleen", "Diphoorn", "Diphoorn"]
    assert pd.isna(got.iloc[4])
    assert list(units["woonplaats"].cat.categories) == ["Diphoorn", "Sleen"]
    info = units.attrs["woonplaats"]
    assert info["methode"] == "lvbag" and info["n_zonder_woonplaats"] == 1
    assert _warnings(caplog) == []


def test_lvbag_without_woonplaats_layer(tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    p = _lvbag(tmp_path, with_woonplaats=False)
    units = bag.read_verblijfsobjecten(p)
    assert units["woonplaats"].isna().all() and len(units) == 5
    assert units.attrs["woonplaats"]["ontbrekende_lagen"] == ["woonplaats"]
    (warning,) = _warnings(caplog)
    assert "woonplaats" in warning and "village-level" in warning
    assert not bag.woonplaats_bron(p).beschikbaar


def test_bag_light_without_woonplaats_column(tiny_bag_light: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    _, units, _ = bag.read_bag(tiny_bag_light)
    assert units["woonplaats"].isna().all()
    assert units.attrs["woonplaats"]["ontbrekende_kolommen"] == ["verblijfsobject.woonplaats_naam"]
    assert len(_warnings(caplog)) == 1


def test_int_ids() -> None:
    import pyarrow as pa

    got = _bag_woonplaats.int_ids(pa.array(["NL.IMBAG.Woonplaats.0123", " 2950 ", None, "x1",
                                            ""]))
    assert got.tolist() == [123, 2950, -1, -1, -1]


@pytest.mark.realdata
def test_real_sample_has_no_woonplaats(realdata: Path, tmp_path: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    copy = tmp_path / "sample.gpkg"
    shutil.copyfile(realdata, copy)
    _, units, _ = bag.read_bag_for_build(copy)
    assert len(units) == 31293 and units["woonplaats"].isna().all()
    info = units.attrs["woonplaats"]
    assert info == {**info, "beschikbaar": False, "methode": "geen",
                    "ontbrekende_lagen": ["openbareruimte", "woonplaats"],
                    "n_zonder_woonplaats": 31293}
    (warning,) = _warnings(caplog)
    assert "openbareruimte, woonplaats" in warning and "village-level" in warning
