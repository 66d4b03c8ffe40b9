"""Tests of the synthetic demo region (``woonvoorraad.demo``).

The files are read back with pyogrio, pandas and zipfile only, independent of the project's
readers, and checked against the real layouts, against each other, and for realism.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from woonvoorraad import layout, settings
from woonvoorraad.demo import DEMO_SEED, build_demo, demo_paths, make_demo, region

SCALE = 0.05  # about 2 500 dwellings in two gemeenten
CBS_YEARS = {2023: "buurten", 2022: "cbs_2022", 2021: "cbs_2021"}
CBS_LAYERS = ("gemeenten", "wijken", "buurten")
CBS_STATUSES = {  # CBS definition of the housing stock (table 82550NED)
    "Verblijfsobject in gebruik",
    "Verblijfsobject in gebruik (niet ingemeten)",
    "Verblijfsobject buiten gebruik",
    "Verbouwing verblijfsobject",
}
PAND_STATUSES = {
    "Pand in gebruik", "Pand in gebruik (niet ingemeten)", "Verbouwing pand",
    "Pand buiten gebruik", "Pand gesloopt", "Bouwvergunning verleend", "Bouw gestart",
    "Niet gerealiseerd pand", "Sloopvergunning verleend", "Pand ten onrechte opgevoerd",
}  # fmt: skip
VBO_STATUSES = CBS_STATUSES | {
    "Verblijfsobject gevormd", "Verblijfsobject ingetrokken",
    "Niet gerealiseerd verblijfsobject", "Verblijfsobject ten onrechte opgevoerd",
}  # fmt: skip
USES = {
    "woonfunctie", "bijeenkomstfunctie", "celfunctie", "gezondheidszorgfunctie",
    "industriefunctie", "kantoorfunctie", "logiesfunctie", "onderwijsfunctie", "sportfunctie",
    "winkelfunctie", "overige gebruiksfunctie",
}  # fmt: skip
PAND_COLUMNS = [
    "identificatie", "bouwjaar", "status", "gebruiksdoel", "oppervlakte_min", "oppervlakte_max",
    "aantal_verblijfsobjecten", "rdf_seealso",
]  # fmt: skip
VBO_COLUMNS = [
    "identificatie", "pand_identificatie", "gebruiksdoel", "oppervlakte", "status", "huisnummer",
    "huisletter", "toevoeging", "postcode", "openbare_ruimte_naam", "woonplaats_naam",
    "bouwjaar", "pandstatus",
]  # fmt: skip
CBS_COLUMNS = [
    "jaar", "water", "aantal_inwoners", "percentage_personen_0_tot_15_jaar",
    "percentage_personen_15_tot_25_jaar", "percentage_personen_25_tot_45_jaar",
    "percentage_personen_45_tot_65_jaar", "percentage_personen_65_jaar_en_ouder",
    "aantal_huishoudens", "gemiddelde_huishoudsgrootte", "woningvoorraad",
    "gemiddelde_woningwaarde", "percentage_eengezinswoning", "percentage_meergezinswoning",
    "percentage_koopwoningen", "percentage_huurwoningen",
    "perc_huurwoningen_in_bezit_woningcorporaties",
    "perc_huurwoningen_in_bezit_overige_verhuurders", "percentage_bouwjaarklasse_tot_2000",
    "percentage_bouwjaarklasse_vanaf_2000", "gemiddeld_gasverbruik_totaal",
    "gemiddeld_elektriciteitsverbruik_totaal", "gemiddeld_inkomen_per_inwoner",
    "percentage_huishoudens_met_laag_inkomen",
    "percentage_huishoudens_onder_of_rond_sociaal_minimum", "oppervlakte_totaal_in_ha",
    "oppervlakte_land_in_ha", "stedelijkheid_adressen_per_km2",
]  # fmt: skip
CBS_IDENTIFICATION = {
    "gemeenten": ["gemeentecode", "gemeentenaam"],
    "wijken": ["wijkcode", "wijknaam", "gemeentecode", "gemeentenaam"],
    "buurten": ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam"],
}
INCOME = [
    "gemiddeld_inkomen_per_inwoner",
    "percentage_huishoudens_met_laag_inkomen",
    "percentage_huishoudens_onder_of_rond_sociaal_minimum",
]
EP_COLUMNS = [
    "BAGVerblijfsobjectID", "BAGLigplaatsID", "BAGStandplaatsID", "BAGPandIDs", "Postcode",
    "Huisnummer", "Huisletter", "Huisnummertoevoeging", "Detailaanduiding", "Energieklasse",
    "Registratiedatum", "GeldigTot", "Opnamedatum", "Berekeningstype", "SoortOpname", "Status",
    "OpBasisVanReferentiegebouw", "Gebouwklasse", "Gebouwtype", "Gebouwsubtype", "Bouwjaar",
    "Projectnaam", "Projectobject", "SBICode", "GebruiksoppervlakteThermischeZone",
    "Compactheid", "Energiebehoefte", "Warmtebehoefte", "PrimaireFossieleEnergie",
    "AandeelHernieuwbareEnergie", "BerekendeCO2Emissie", "BerekendeEnergieverbruik",
    "EnergieIndex", "EnergieIndexEMGForfaitair", "PrimaireFossieleEnergieEMGForfaitair",
    "AandeelHernieuwbareEnergieEMGForfaitair", "Temperatuuroverschrijding",
    "EisEnergiebehoefte", "EisPrimaireFossieleEnergie", "EisAandeelHernieuwbareEnergie",
    "EisTemperatuuroverschrijding", "Certificaathouder",
]  # fmt: skip
LABELS = ["A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G"]
SENTINEL = -99990  # CBS codes for missing values are at or below this


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_demo(tmp_path_factory.mktemp("demo"), scale=SCALE)


@pytest.fixture(scope="module")
def panden(demo: dict[str, Path]) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(demo["bag"], layer="pand")


@pytest.fixture(scope="module")
def vbo(demo: dict[str, Path]) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(demo["bag"], layer="verblijfsobject")


@pytest.fixture(scope="module")
def cbs(demo: dict[str, Path]) -> dict[int, dict[str, gpd.GeoDataFrame]]:
    return {
        year: {layer: pyogrio.read_dataframe(demo[key], layer=layer) for layer in CBS_LAYERS}
        for year, key in CBS_YEARS.items()
    }


@pytest.fixture(scope="module")
def labels(demo: dict[str, Path]) -> pd.DataFrame:
    with zipfile.ZipFile(demo["labels"]) as archive:
        raw = archive.read("v20231101_v5_csv.csv")
    return pd.read_csv(
        io.BytesIO(raw), sep=";", skiprows=2, dtype=str, keep_default_na=False,
        encoding="utf-8-sig",
    )  # fmt: skip


def dwellings(vbo: pd.DataFrame) -> pd.DataFrame:
    """One row per dwelling of the CBS housing stock, with the bouwjaar of its oldest pand."""
    stock = vbo[vbo["gebruiksdoel"].str.contains("woonfunctie") & vbo["status"].isin(CBS_STATUSES)]
    return stock.groupby("identificatie").agg(
        bouwjaar=("bouwjaar", "min"), geometry=("geometry", "first")
    )


def in_buurt(points: np.ndarray, buurten: gpd.GeoDataFrame) -> np.ndarray:
    """Index (into ``buurten``) of the buurt holding each point; -1 outside."""
    point, buurt = shapely.STRtree(buurten.geometry.to_numpy()).query(points, "within")
    where = np.full(len(points), -1)
    where[point] = buurt
    return where


# -- API and files ---------------------------------------------------------------------------


def test_demo_paths_default_folder_read_at_call_time(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "data_dir", tmp_path / "elders")
    paths = demo_paths()
    folder = tmp_path / "elders" / "raw" / "demo"
    assert paths == {
        "bag": folder / "bag-light.gpkg",
        "buurten": folder / "wijkenbuurten_2023.gpkg",
        "cbs_2022": folder / "wijkenbuurten_2022.gpkg",
        "cbs_2021": folder / "wijkenbuurten_2021.gpkg",
        "labels": folder / "ep-online" / "v20231101_v5_csv.zip",
        "readme": folder / "README.md",
    }
    assert not folder.exists()


def test_all_files_written_and_nothing_else(demo: dict[str, Path]) -> None:
    root = demo["readme"].parent
    written = {p.relative_to(root) for p in root.rglob("*") if p.is_file()}
    # the inputs, and the synthetic truth of every dwelling's label (for validation only)
    assert written == {p.relative_to(root) for p in demo.values()} | {
        Path(region.TRUTH_FILE), Path(region.TRUTH_DWELLINGS_FILE)}
    readme = demo["readme"].read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme
    assert str(DEMO_SEED) in readme
    assert "GM9901" in readme


@pytest.mark.parametrize("scale", [0, -1, 1.5])
def test_scale_out_of_range(tmp_path: Path, scale: float) -> None:
    with pytest.raises(ValueError, match="scale"):
        make_demo(tmp_path, scale=scale)
    assert not any(tmp_path.iterdir())


def test_synthetic_metadata_on_every_layer(demo: dict[str, Path]) -> None:
    gpkgs = [p for p in demo.values() if p.suffix == ".gpkg"]
    assert len(gpkgs) == 4
    for path in gpkgs:
        for layer, _ in pyogrio.list_layers(path):
            meta = pyogrio.read_info(path, layer=layer)["layer_metadata"]
            assert meta["woonvoorraad_synthetic"] == "true", (path.name, layer)
            assert meta["woonvoorraad_description"].startswith("SYNTHETISCHE DEMODATA")


# -- BAG ---------------------------------------------------------------------------------------


def test_bag_light_layout(demo: dict[str, Path], panden: gpd.GeoDataFrame, vbo: gpd.GeoDataFrame):
    assert {tuple(x) for x in pyogrio.list_layers(demo["bag"])} == {
        ("pand", "Polygon"),
        ("verblijfsobject", "Point"),
    }
    for layer, columns in (("pand", PAND_COLUMNS), ("verblijfsobject", VBO_COLUMNS)):
        info = pyogrio.read_info(demo["bag"], layer=layer)
        assert info["crs"] == "EPSG:28992"
        assert info["geometry_name"] == "geom"
        assert set(columns) <= set(info["fields"])
    assert panden["identificatie"].str.fullmatch(r"99\d\d10\d{10}").all()
    assert panden["identificatie"].is_unique
    assert vbo["identificatie"].str.fullmatch(r"99\d\d01\d{10}").all()
    assert vbo["pand_identificatie"].isin(panden["identificatie"]).all()
    assert (
        panden["rdf_seealso"]
        == "http://bag.basisregistraties.overheid.nl/bag/id/pand/" + panden["identificatie"]
    ).all()
    assert set(panden["status"]) <= PAND_STATUSES
    assert set(vbo["status"]) <= VBO_STATUSES
    assert {"Pand gesloopt", "Bouwvergunning verleend"} <= set(panden["status"])
    assert {"Verblijfsobject gevormd", "Verblijfsobject ingetrokken"} <= set(vbo["status"])
    assert set(vbo["gebruiksdoel"].str.split(",").explode()) <= USES
    assert (vbo["gebruiksdoel"] == "woonfunctie,winkelfunctie").any()
    assert vbo["postcode"].str.fullmatch(r"\d{4}[A-Z]{2}").all()
    assert (vbo["huisnummer"] > 0).all()
    assert vbo["huisletter"].notna().any() and vbo["toevoeging"].notna().any()
    assert (vbo["oppervlakte"] >= 12).all()
    addresses = vbo.drop_duplicates("identificatie")
    key = ["postcode", "huisnummer", "huisletter", "toevoeging"]
    assert not addresses[key].astype(str).duplicated().any()


def test_pand_attributes_follow_from_units(panden: gpd.GeoDataFrame, vbo: gpd.GeoDataFrame):
    current = vbo[vbo["status"] != "Verblijfsobject ingetrokken"]
    count = current.groupby("pand_identificatie").size()
    per_pand = panden.set_index("identificatie")
    expected = count.reindex(per_pand.index, fill_value=0)
    assert (per_pand["aantal_verblijfsobjecten"] == expected).all()
    uses = current.assign(doel=current["gebruiksdoel"].str.split(",")).explode("doel")
    joined = uses.groupby("pand_identificatie")["doel"].agg(lambda d: ",".join(sorted(set(d))))
    assert (per_pand.loc[joined.index, "gebruiksdoel"] == joined).all()
    empty = per_pand[per_pand["aantal_verblijfsobjecten"] == 0]
    assert len(empty) > 0.05 * len(per_pand)  # garages, sheds and barns
    assert empty.loc[empty["status"] == "Pand in gebruik", "gebruiksdoel"].isna().all()


def test_some_units_span_two_panden(panden: gpd.GeoDataFrame, vbo: gpd.GeoDataFrame) -> None:
    twice = vbo[vbo["identificatie"].duplicated(keep=False)]
    units = twice["identificatie"].nunique()
    assert 0 < units < 0.01 * vbo["identificatie"].nunique()
    assert (twice.groupby("identificatie")["pand_identificatie"].nunique() == 2).all()
    shapes = panden.set_index("identificatie").geometry
    for _, pair in twice.groupby("identificatie"):
        first, second = shapes[pair["pand_identificatie"].to_numpy()]
        assert shapely.touches(first, second)


def test_terraces_share_walls_detached_houses_stand_free(panden: gpd.GeoDataFrame) -> None:
    houses = panden[
        (panden["gebruiksdoel"] == "woonfunctie") & (panden["aantal_verblijfsobjecten"] == 1)
    ]
    geoms = houses.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, "intersects")
    left, right = left[left < right], right[left < right]
    # neighbours share a whole wall: the same edge, no overlap
    assert shapely.touches(geoms[left], geoms[right]).all()
    shared = shapely.length(shapely.intersection(geoms[left], geoms[right]))
    assert shared.min() >= 8.0 - 1e-6
    neighbours = np.bincount(np.r_[left, right], minlength=len(geoms))
    assert (neighbours == 2).sum() > 100  # terraced houses between two others
    assert (neighbours == 1).sum() > 100  # corner houses and semi-detached halves
    # a house without neighbours stands at least 3 m from every other house
    alone = np.flatnonzero(neighbours == 0)
    assert alone.size > 100
    _, distance = tree.query_nearest(geoms[alone], exclusive=True, return_distance=True)
    assert distance.min() >= 3.0
    # ... though some have a garage or barn (a pand without units) against them
    sheds = panden[panden["aantal_verblijfsobjecten"] == 0].geometry.to_numpy()
    attached, _ = shapely.STRtree(sheds).query(geoms[alone], "touches")
    assert np.unique(attached).size > 20


def test_walk_up_flats_have_three_or_four_storeys(panden, vbo) -> None:
    homes = vbo[vbo["gebruiksdoel"] == "woonfunctie"]
    per_pand = homes.groupby("pand_identificatie").agg(
        n=("identificatie", "size"), area=("oppervlakte", "sum")
    )
    flats = panden.set_index("identificatie").join(
        per_pand[per_pand["n"].between(6, 24)], how="inner"
    )
    ratio = flats["area"] / flats.area
    assert len(flats) >= 10
    assert ratio.between(2.3, 5.0).all()
    assert 2.6 <= ratio.median() <= 4.2


# -- CBS ---------------------------------------------------------------------------------------


def test_cbs_layout(demo: dict[str, Path], cbs: dict[int, dict[str, gpd.GeoDataFrame]]) -> None:
    codes = {"gemeenten": r"GM99\d\d", "wijken": r"WK99\d{4}", "buurten": r"BU99\d{6}"}
    for year, key in CBS_YEARS.items():
        assert dict(pyogrio.list_layers(demo[key]).tolist()) == dict.fromkeys(
            CBS_LAYERS, "MultiPolygon"
        )
        for layer, frame in cbs[year].items():
            info = pyogrio.read_info(demo[key], layer=layer)
            assert (info["crs"], info["geometry_name"]) == ("EPSG:28992", "geom")
            assert set(CBS_IDENTIFICATION[layer] + CBS_COLUMNS) <= set(frame.columns)
            assert (frame["jaar"] == year).all()
            assert (frame["water"] == "NEE").all()
            code = CBS_IDENTIFICATION[layer][0]
            assert frame[code].str.fullmatch(codes[layer]).all() and frame[code].is_unique
            for column in CBS_COLUMNS:
                if column.startswith("perc"):
                    values = frame[column]
                    assert (values.between(0, 100) | (values <= SENTINEL)).all(), column
                    assert (values == values.round()).all(), column
            if layer != "gemeenten":  # counts are rounded at buurt and wijk level
                for column in ("aantal_inwoners", "aantal_huishoudens", "woningvoorraad"):
                    assert (frame[column] % 5 == 0).all(), column
    buurten = cbs[2023]["buurten"]
    assert (buurten["buurtcode"].str[2:8] == buurten["wijkcode"].str[2:]).all()
    assert (buurten["wijkcode"].str[2:6] == buurten["gemeentecode"].str[2:]).all()


def test_cbs_polygons_tile_the_gemeenten(cbs: dict[int, dict[str, gpd.GeoDataFrame]]) -> None:
    buurten, gemeenten = cbs[2023]["buurten"], cbs[2023]["gemeenten"]
    minx, miny, maxx, maxy = shapely.total_bounds(gemeenten.geometry.to_numpy())
    assert minx >= 230_000 and maxx <= 270_000 and miny >= 520_000 and maxy <= 560_000
    for layer in (buurten, cbs[2023]["wijken"], gemeenten):
        geoms = layer.geometry.to_numpy()
        left, right = shapely.STRtree(geoms).query(geoms, "intersects")
        keep = left < right
        assert (
            shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])).max(initial=0)
            < 1e-3
        )
    for code, gemeente in zip(gemeenten["gemeentecode"], gemeenten.geometry, strict=True):
        parts = buurten[buurten["gemeentecode"] == code].geometry
        assert parts.area.sum() == pytest.approx(gemeente.area, rel=1e-9)
        assert shapely.union_all(parts.to_numpy()).symmetric_difference(gemeente).area < 1.0


def test_cbs_figures_match_the_bag(cbs, vbo: gpd.GeoDataFrame) -> None:
    buurten = cbs[2023]["buurten"]
    stock = dwellings(vbo)
    stock = stock[stock["bouwjaar"] <= 2022]  # the 2023 figures count on 1 January 2023
    where = in_buurt(stock["geometry"].to_numpy(), buurten)
    assert (where >= 0).all()
    counted = np.bincount(where, minlength=len(buurten))
    assert np.abs(counted - buurten["woningvoorraad"].to_numpy()).max() < 5
    # single-family share: dwellings alone in their pand
    units = vbo[vbo["status"] != "Verblijfsobject ingetrokken"]
    per_pand = units.groupby("pand_identificatie")["identificatie"].nunique()
    alone = (
        vbo[vbo["identificatie"].isin(stock.index)]
        .assign(alone=lambda v: v["pand_identificatie"].map(per_pand) == 1)
        .groupby("identificatie")["alone"].all()
        .reindex(stock.index)
        .to_numpy()
    )  # fmt: skip
    share = 100 * np.bincount(where, weights=alone, minlength=len(buurten)) / np.maximum(counted, 1)
    published = buurten["percentage_eengezinswoning"].to_numpy()
    shown = published >= 0
    assert shown.sum() > 10
    assert np.abs(share[shown] - published[shown]).max() <= 1.0
    # the wijken and gemeenten add up their buurten
    gemeenten = cbs[2023]["gemeenten"].set_index("gemeentecode")
    totals = buurten.groupby("gemeentecode")["woningvoorraad"].sum()
    n = buurten.groupby("gemeentecode").size()
    assert ((totals - gemeenten["woningvoorraad"]).abs() <= 5 * n).all()


def test_cbs_missing_value_codes(cbs: dict[int, dict[str, gpd.GeoDataFrame]]) -> None:
    latest = cbs[2023]["buurten"]
    woz = latest["gemiddelde_woningwaarde"]
    assert (woz == -99997).any()
    assert (latest.loc[woz == -99997, "woningvoorraad"] <= 20).all()
    assert (latest.loc[woz > 0, "woningvoorraad"] >= 20).all()
    assert (latest.loc[woz == -99997, "percentage_koopwoningen"] == -99997).all()
    later = latest[INCOME] == -99995
    assert later.any(axis=None)
    assert (later.all(axis=1) == later.any(axis=1)).all()  # all income figures of a buurt
    others = latest.drop(columns=[*INCOME, "geometry"]).select_dtypes("number")
    assert not (others == -99995).any(axis=None)
    for year in (2021, 2022):
        for frame in cbs[year].values():
            assert not (frame.select_dtypes("number") == -99995).any(axis=None)
    shown = latest[latest["gemiddeld_inkomen_per_inwoner"] > 0]["gemiddeld_inkomen_per_inwoner"]
    assert (shown == shown.round(1)).all() and shown.between(15, 60).all()


def test_cbs_years_differ_realistically(cbs: dict[int, dict[str, gpd.GeoDataFrame]]) -> None:
    first, last = cbs[2021]["gemeenten"], cbs[2023]["gemeenten"]
    middle = cbs[2022]["gemeenten"]
    woz = [frame["gemiddelde_woningwaarde"].to_numpy() for frame in (first, middle, last)]
    assert (woz[0] < woz[1]).all() and (woz[1] < woz[2]).all()
    growth = woz[2] / woz[0]
    assert ((growth > 1.05**2) & (growth < 1.11**2)).all()
    old = "percentage_personen_65_jaar_en_ouder"
    assert (last[old] >= first[old]).all() and (last[old] > first[old]).any()
    size = "gemiddelde_huishoudsgrootte"
    assert (last[size] <= first[size]).all()
    a, b = cbs[2021]["buurten"], cbs[2023]["buurten"]
    big = (a["aantal_inwoners"] >= 300).to_numpy()
    change = (b["aantal_inwoners"] - a["aantal_inwoners"]).to_numpy()[big]
    assert (change < 0).any() and (change > 0).any()  # shrinking villages, growing estates


# -- EP-Online ------------------------------------------------------------------------------


def test_ep_online_layout(demo: dict[str, Path], labels: pd.DataFrame) -> None:
    with zipfile.ZipFile(demo["labels"]) as archive:
        assert archive.namelist() == ["v20231101_v5_csv.csv"]
        raw = archive.read("v20231101_v5_csv.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "PublicatieDatum;01-11-2023"
    assert re.fullmatch(r"LaatstVerwerkteMutatievolgnummer;\d+", lines[1])
    assert lines[2].split(";") == EP_COLUMNS
    assert len(EP_COLUMNS) == 42
    assert all(line.count(";") == 41 for line in lines[2:])
    assert list(labels.columns) == EP_COLUMNS
    index = labels["EnergieIndex"][labels["EnergieIndex"] != ""]
    assert len(index) > 0 and index.str.fullmatch(r"\d+,\d\d").all()
    area = labels["GebruiksoppervlakteThermischeZone"]
    assert area.str.fullmatch(r"\d+,\d").all()
    for column in ("PrimaireFossieleEnergie", "Compactheid", "EnergieIndex"):
        assert not labels[column].str.contains(".", regex=False).any()
    for column in ("Registratiedatum", "GeldigTot", "Opnamedatum"):
        assert labels[column].str.fullmatch(r"20\d{6}").all()
    assert set(labels["Gebouwklasse"]) == {"W", "U"}
    assert set(labels["Energieklasse"]) <= set(LABELS)


def test_ep_online_labels(labels: pd.DataFrame, vbo: gpd.GeoDataFrame) -> None:
    stock = dwellings(vbo)
    homes = labels[labels["Gebouwklasse"] == "W"]
    ours = homes[homes["BAGVerblijfsobjectID"].isin(stock.index)]
    coverage = stock.index.isin(ours["BAGVerblijfsobjectID"]).mean()
    assert 0.35 <= coverage <= 0.65
    # rows the reader must filter: other objects and utility buildings
    assert (~labels["BAGVerblijfsobjectID"].isin(vbo["identificatie"])).sum() >= 10
    assert (labels["BAGLigplaatsID"] != "").any() or (labels["BAGStandplaatsID"] != "").any()
    assert (
        labels.loc[labels["Gebouwklasse"] == "U", "BAGVerblijfsobjectID"]
        .isin(vbo.loc[~vbo["gebruiksdoel"].str.contains("woonfunctie"), "identificatie"])
        .all()
    )
    # ~3 % were labelled twice; the later label is the better one
    repeated = ours[ours["BAGVerblijfsobjectID"].duplicated(keep=False)]
    assert 0.01 <= repeated["BAGVerblijfsobjectID"].nunique() / len(stock) <= 0.06
    rank = repeated.assign(rank=repeated["Energieklasse"].map(LABELS.index))
    rank = rank.sort_values(["BAGVerblijfsobjectID", "Registratiedatum"])
    assert (
        rank.groupby("BAGVerblijfsobjectID")["rank"].agg(lambda r: r.iloc[-1] <= r.iloc[0])
    ).all()
    # post-war homes have poorer labels than new ones
    latest = ours.sort_values("Registratiedatum").drop_duplicates(
        "BAGVerblijfsobjectID", keep="last"
    )
    year = latest["BAGVerblijfsobjectID"].map(stock["bouwjaar"])
    poor = latest["Energieklasse"].isin(["E", "F", "G"])
    assert poor[year.between(1945, 1974)].mean() >= 0.3
    assert poor[year >= 2000].mean() <= 0.05


# -- behaviour ---------------------------------------------------------------------------------


def read_all(paths: dict[str, Path]) -> dict[str, object]:
    """Every table and file of a demo folder, for comparison."""
    tables: dict[str, object] = {}
    for key, path in paths.items():
        if path.suffix == ".gpkg":
            for layer, _ in pyogrio.list_layers(path):
                tables[f"{key}/{layer}"] = pyogrio.read_dataframe(path, layer=layer).to_wkb()
        else:
            tables[key] = path.read_bytes()
    return tables


def test_same_seed_same_data_other_seed_other_data(demo: dict[str, Path], tmp_path: Path):
    again = read_all(make_demo(tmp_path / "again", scale=SCALE))
    first = read_all(demo)
    assert again.keys() == first.keys()
    for key, value in first.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(again[key], value, obj=key)
        else:
            assert again[key] == value, key
    other = read_all(make_demo(tmp_path / "other", scale=SCALE, seed=DEMO_SEED + 1))
    assert not other["bag/pand"]["geometry"].equals(first["bag/pand"]["geometry"])
    assert other["labels"] != first["labels"]


class RegeneratedError(Exception):
    """Raised by a stand-in for the generator."""


def test_existing_files_are_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = make_demo(tmp_path, scale=SCALE)
    stamps = {key: path.stat().st_mtime_ns for key, path in paths.items()}

    def regenerate(**_: object) -> None:
        raise RegeneratedError

    monkeypatch.setattr(region, "_build", regenerate)
    assert make_demo(tmp_path, scale=SCALE) == paths
    assert {key: path.stat().st_mtime_ns for key, path in paths.items()} == stamps
    with pytest.raises(RegeneratedError):
        make_demo(tmp_path, scale=SCALE, overwrite=True)


def test_build_demo_generates_builds_and_reuses(tmp_path: Path) -> None:
    out = build_demo(tmp_path, scale=SCALE)
    assert out == layout.processed_dir(tmp_path, layout.DEMO)
    assert (out / "manifest.json").is_file() and (out / "buurten.parquet").is_file()
    raw = demo_paths(layout.demo_raw_dir(tmp_path, scale=SCALE))
    assert raw["readme"].parent == tmp_path / "raw" / f"demo-scale{SCALE:g}"
    assert all(path.is_file() for path in raw.values())
    stamp = (out / "manifest.json").stat().st_mtime_ns
    assert build_demo(tmp_path, scale=SCALE) == out
    assert (out / "manifest.json").stat().st_mtime_ns == stamp


def test_interrupted_geopackage_leaves_no_file(tmp_path: Path, monkeypatch) -> None:
    real = pyogrio.write_dataframe
    calls = []

    def fail_on_second_layer(*args: object, **kwargs: object) -> None:
        calls.append(kwargs.get("layer"))
        if len(calls) == 2:
            raise OSError("disk full")
        real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_second_layer)
    with pytest.raises(OSError, match="disk full"):
        make_demo(tmp_path, scale=SCALE)
    assert calls == ["pand", "verblijfsobject"]
    assert list(tmp_path.rglob("*")) == []


def test_interrupted_zip_leaves_no_file_and_is_redone(tmp_path: Path, monkeypatch) -> None:
    def fail(*_: object, **__: object) -> None:
        raise OSError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(zipfile.ZipFile, "writestr", fail)
        with pytest.raises(OSError, match="killed"):
            make_demo(tmp_path, scale=SCALE)
    paths = demo_paths(tmp_path)
    left = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert left == {
        paths[k].relative_to(tmp_path) for k in ("bag", "buurten", "cbs_2022", "cbs_2021")
    }
    assert make_demo(tmp_path, scale=SCALE) == paths  # incomplete: made again
    assert all(path.is_file() for path in paths.values())


# -- the full region -------------------------------------------------------------------------


def test_full_region_counts_and_realism() -> None:
    started = time.perf_counter()
    demo = region._build(seed=DEMO_SEED, scale=1.0)
    assert time.perf_counter() - started < 60
    buurten = demo.cbs[2023]["buurten"]
    assert 4 <= buurten["gemeentecode"].nunique() <= 6
    assert 80 <= len(buurten) <= 150
    per_wijk = buurten.groupby("wijkcode").size()
    assert per_wijk.between(1, 6).all() and (per_wijk >= 2).mean() > 0.8
    stock = dwellings(demo.vbo_rows)
    assert 40_000 <= len(stock) <= 100_000
    assert 0.35 <= stock["bouwjaar"].between(1945, 1974).mean() <= 0.45
    labelled = stock.index.isin(demo.labels["BAGVerblijfsobjectID"]).mean()
    assert 0.4 <= labelled <= 0.6
    classes = set(demo.labels["Energieklasse"])
    assert {"A+++++", "A++++", "G"} <= classes
    # a few high-rise blocks: at least five storeys by floor area over footprint
    homes = demo.vbo_rows[demo.vbo_rows["gebruiksdoel"] == "woonfunctie"]
    per_pand = homes.groupby("pand_identificatie").agg(
        n=("identificatie", "size"), area=("oppervlakte", "sum")
    )
    blocks = demo.panden.set_index("identificatie").join(per_pand[per_pand["n"] >= 24], how="inner")
    storeys = 1.2 * blocks["area"] / blocks.area
    assert 3 <= (storeys >= 5).sum() <= 200
