"""BAG readers: the three layouts, spatial filtering and malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import write_layer
from woonvoorraad.errors import (
    CRSError,
    EmptyInputError,
    InputError,
    MissingColumnError,
    MissingLayerError,
)
from woonvoorraad.sources import _bag_ids, bag


def test_bag_light_layout(tiny_bag_light: Path) -> None:
    assert bag.detect_layout(tiny_bag_light) == "bag-light"
    panden, vbo, layout = bag.read_bag(tiny_bag_light)
    assert layout == "bag-light"
    assert len(panden) == 10
    assert len(vbo) == 15
    assert list(vbo.columns) == ["vbo_id", "pand_ids", "gebruiksdoel", "oppervlakte", "status",
                                 "woonplaats", "geometry"]
    assert panden["bouwjaar"].dtype == "Int16"
    assert vbo.crs.to_epsg() == 28992
    multi = vbo.loc[vbo["vbo_id"] == "0000010000000001", "pand_ids"].item()
    assert multi == "0000100000000001,0000100000000010"


def test_bag_light_unit_listed_once_per_pand_is_merged(tmp_path: Path) -> None:
    p = tmp_path / "b.gpkg"
    pand = gpd.GeoDataFrame({"identificatie": ["0000100000000001", "0000100000000002"],
                             "bouwjaar": [1960, 1955], "status": ["Pand in gebruik"] * 2},
                            geometry=[shapely.box(0, 0, 5, 5), shapely.box(5, 0, 10, 5)],
                            crs=28992)
    vbo = gpd.GeoDataFrame({"identificatie": ["0000010000000001"] * 2,
                            "pand_identificatie": ["0000100000000002", "0000100000000001"],
                            "gebruiksdoel": ["woonfunctie"] * 2, "oppervlakte": [80, 80],
                            "status": ["Verblijfsobject in gebruik"] * 2},
                           geometry=[shapely.Point(4.9, 1)] * 2, crs=28992)
    write_layer(p, "pand", pand)
    write_layer(p, "verblijfsobject", vbo)
    units = bag.read_verblijfsobjecten(p)
    assert len(units) == 1
    assert units["pand_ids"].item() == "0000100000000001,0000100000000002"


@pytest.mark.realdata
def test_lvbag_layout_on_real_sample(realdata: Path) -> None:
    assert bag.detect_layout(realdata) == "lvbag"
    panden, vbo, _ = bag.read_bag(realdata)
    assert len(panden) == 15380
    assert len(vbo) == 31293
    # prefixes stripped, 16 digits everywhere
    assert panden["pand_id"].str.fullmatch(r"\d{16}").all()
    assert vbo["vbo_id"].str.fullmatch(r"\d{16}").all()
    assert vbo["pand_ids"].str.fullmatch(r"\d{16}(,\d{16})*").all()
    assert vbo["pand_ids"].str.contains(",").sum() == 290
    assert panden["bouwjaar"].median() == 1954
    assert set(vbo["status"].cat.categories) >= {"Verblijfsobject in gebruik",
                                                  "Verblijfsobject ingetrokken"}


@pytest.mark.realdata
def test_bbox_reads_only_the_area(realdata: Path) -> None:
    box = (83000.0, 455000.0, 84000.0, 456000.0)
    vbo = bag.read_verblijfsobjecten(realdata, bbox=box)
    everything = bag.read_verblijfsobjecten(realdata)
    assert 0 < len(vbo) < len(everything)
    inside = everything.geometry.intersects(shapely.box(*box))
    assert len(vbo) == int(inside.sum())


def test_ogc_layout_resolves_pand_href(tmp_path: Path) -> None:
    p = tmp_path / "ogc.gpkg"
    base = "https://api.pdok.nl/kadaster/bag/ogc/v2/collections/pand/items/"
    pand = gpd.GeoDataFrame({"id": ["uuid-a", "uuid-b"],
                             "identificatie": ["0000100000000001", "0000100000000002"],
                             "bouwjaar": [1958, 1971], "status": ["Pand in gebruik"] * 2},
                            geometry=[shapely.box(0, 0, 5, 5), shapely.box(20, 0, 25, 5)],
                            crs=28992)
    vbo = gpd.GeoDataFrame({"identificatie": ["0000010000000001", "0000010000000002"],
                            "pand.href": [json.dumps([base + "uuid-a"]),
                                          json.dumps([base + "uuid-a", base + "uuid-b"])],
                            "gebruiksdoel": ["woonfunctie", "woonfunctie"],
                            "oppervlakte": [90, 70],
                            "status": ["Verblijfsobject in gebruik"] * 2},
                           geometry=[shapely.Point(2, 2), shapely.Point(4, 4)], crs=28992)
    write_layer(p, "pand", pand)
    write_layer(p, "verblijfsobject", vbo)
    panden, units, layout = bag.read_bag(p)
    assert layout == "ogc"
    assert "uuid" not in panden.columns
    assert units["pand_ids"].tolist() == ["0000100000000001",
                                          "0000100000000001,0000100000000002"]


def test_normalise_ids() -> None:
    s = pd.Series(["NL.IMBAG.Pand.0518100000212345", "518100000212346",
                   "NL.IMBAG.Pand.0518100000000001,NL.IMBAG.Pand.0518100000000002", None])
    assert _bag_ids.normalise_ids(s).tolist() == [
        "0518100000212345", "0518100000212346", "0518100000000001,0518100000000002", None]


def test_implausible_bouwjaar_becomes_na(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                         ) -> None:
    p = tmp_path / "b.gpkg"
    pand = gpd.GeoDataFrame({"identificatie": ["1", "2", "3"], "bouwjaar": [1005, 9999, 1961],
                             "status": ["Pand in gebruik"] * 3},
                            geometry=[shapely.box(i * 10, 0, i * 10 + 5, 5) for i in range(3)],
                            crs=28992)
    vbo = gpd.GeoDataFrame({"identificatie": ["1"], "pand_identificatie": ["1"],
                            "gebruiksdoel": ["woonfunctie"], "oppervlakte": [1],
                            "status": ["Verblijfsobject in gebruik"]},
                           geometry=[shapely.Point(1, 1)], crs=28992)
    write_layer(p, "pand", pand)
    write_layer(p, "verblijfsobject", vbo)
    panden = bag.read_panden(p)
    assert panden["bouwjaar"].isna().tolist() == [True, True, False]
    assert "implausible bouwjaar" in caplog.text


# --- malformed input -------------------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        bag.read_bag(tmp_path / "nope.gpkg")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.gpkg"
    p.write_bytes(b"")
    with pytest.raises(EmptyInputError, match=r"empty\.gpkg: file is empty"):
        bag.read_bag(p)


def test_not_a_geopackage(tmp_path: Path) -> None:
    p = tmp_path / "bag.gpkg"
    p.write_text("this is not a GeoPackage\n")
    with pytest.raises(InputError, match="cannot be opened as a vector file"):
        bag.read_bag(p)


def test_missing_layer(tiny_bag_light: Path, tmp_path: Path) -> None:
    p = tmp_path / "only_pand.gpkg"
    write_layer(p, "pand", gpd.read_file(tiny_bag_light, layer="pand"))
    with pytest.raises(MissingLayerError,
                       match=r"has no layer 'verblijfsobject'.*layers present: pand"):
        bag.read_bag(p)


def test_missing_link_column(tiny_bag_light: Path, tmp_path: Path) -> None:
    p = tmp_path / "nolink.gpkg"
    write_layer(p, "pand", gpd.read_file(tiny_bag_light, layer="pand"))
    units = gpd.read_file(tiny_bag_light, layer="verblijfsobject").drop(
        columns="pand_identificatie")
    write_layer(p, "verblijfsobject", units)
    with pytest.raises(MissingColumnError, match=r"no link to its pand.*pand_identificatie"):
        bag.read_bag(p)


def test_missing_required_column(tiny_bag_light: Path, tmp_path: Path) -> None:
    p = tmp_path / "nostatus.gpkg"
    write_layer(p, "pand", gpd.read_file(tiny_bag_light, layer="pand"))
    units = gpd.read_file(tiny_bag_light, layer="verblijfsobject").drop(columns="status")
    write_layer(p, "verblijfsobject", units)
    with pytest.raises(MissingColumnError, match=r"layer 'verblijfsobject' lacks required "
                                                 r"column\(s\) 'status'"):
        bag.read_bag(p)


def test_wrong_crs(tiny_bag_light: Path, tmp_path: Path) -> None:
    p = tmp_path / "wgs84.gpkg"
    write_layer(p, "pand", gpd.read_file(tiny_bag_light, layer="pand").set_crs(4326,
                                                                              allow_override=True))
    write_layer(p, "verblijfsobject", gpd.read_file(tiny_bag_light, layer="verblijfsobject"))
    with pytest.raises(CRSError, match=r"layer 'pand' is in EPSG:4326, expected EPSG:28992"):
        bag.read_bag(p)


def test_missing_crs(tiny_bag_light: Path, tmp_path: Path) -> None:
    p = tmp_path / "nocrs.gpkg"
    write_layer(p, "pand", gpd.read_file(tiny_bag_light, layer="pand"))
    units = gpd.read_file(tiny_bag_light, layer="verblijfsobject")
    units.geometry.array.crs = None
    with pytest.warns(UserWarning, match="crs"):
        write_layer(p, "verblijfsobject", units)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        bag.read_bag(p)
