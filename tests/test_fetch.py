"""`woonvoorraad fetch`: real client code over real HTTP against a local replay server."""

from __future__ import annotations

import argparse
import io
import json
import logging
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from _testserver import ReplayServer, fast_io, no_internet, replay_settings
from woonvoorraad import settings
from woonvoorraad.cli import _cmd_fetch, build_parser
from woonvoorraad.errors import (
    DownloadError,
    GemeenteNotFoundError,
    InputError,
    OfflineError,
)
from woonvoorraad.sources import _cache, fetch, pdok

HTTP_DATA = Path(__file__).parent / "data" / "http"
API_KEY = "sk-test-7f3a9c51e2"
BAG_PAND = "/kadaster/bag/ogc/v2/collections/pand/items"
BAG_VBO = "/kadaster/bag/ogc/v2/collections/verblijfsobject/items"
KERNCIJFERS_COLUMNS = [
    "jaar", "regiocode", "soort_regio", "regionaam", "gemeentenaam", "indelingswijziging",
    "aantal_inwoners", "aantal_65plus", "aandeel_65plus", "aantal_huishoudens",
    "gemiddelde_huishoudsgrootte", "woningvoorraad", "woz_gemiddeld", "aandeel_eengezins",
    "aandeel_koop", "aandeel_huur", "aandeel_corporatie", "gasverbruik_gemiddeld",
    "inkomen_per_inwoner", "aandeel_laag_inkomen", "aandeel_sociaal_minimum",
]


@pytest.fixture(scope="module")
def server():
    with no_internet(), ReplayServer(HTTP_DATA, api_key=API_KEY) as srv:
        yield srv


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def srv(server, data_dir, monkeypatch):
    """Settings point at the server; small BAG pages and tiles so paging and tiling happen."""
    server.clear()
    monkeypatch.setenv("EP_ONLINE_API_KEY", API_KEY)
    monkeypatch.setattr(pdok, "BAG_PAGE_LIMIT", 7)
    with no_internet(), fast_io(), replay_settings(server, data_dir=data_dir):
        yield server
    server.clear()


@pytest.fixture
def emmen(srv, data_dir):
    """Emmen fetched once."""
    result = fetch.fetch("Emmen", data_dir=data_dir)
    return result["Emmen"]


def manifest_of(data_dir: Path) -> dict:
    return json.loads((data_dir / "raw" / "manifests" / "GM0114" / "fetch-manifest.json")
                      .read_text())


def cache_report(data_dir: Path) -> dict:
    with settings_dir(data_dir):
        return _cache.verify_cache()


class settings_dir:  # noqa: N801 - reads like a function
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def __enter__(self) -> None:
        self.old = settings.data_dir
        settings.data_dir = self.data_dir

    def __exit__(self, *exc: object) -> None:
        settings.data_dir = self.old


# -- the acceptance path ---------------------------------------------------------------------


def test_fetch_emmen_then_build(srv, data_dir, tmp_path, capsys):
    from woonvoorraad import pipeline
    fetch_cli = parser()
    args = fetch_cli.parse_args(["fetch", "--gemeente", "Emmen", "--data-dir", str(data_dir)])
    assert args.func(args) == 0
    first = srv.total_hits
    assert first > 20
    out = capsys.readouterr().out
    assert "Emmen (GM0114)" in out and "downloaded" in out
    for rel in ("bag/GM0114/bag.gpkg", "cbs/GM0114/wijkenbuurten_2024.gpkg",
                "cbs/GM0114/kerncijfers.parquet", "cbs/GM0114/prognose.parquet",
                "ep-online/GM0114/labels.csv", "manifests/GM0114/fetch-manifest.json"):
        assert (data_dir / "raw" / rel).is_file(), rel

    # a second fetch downloads nothing
    args = fetch_cli.parse_args(["fetch", "--gemeente", "gm0114", "--data-dir", str(data_dir)])
    assert args.func(args) == 0
    assert srv.total_hits == first
    assert "already up to date" in capsys.readouterr().out

    # the build works on what was fetched, exactly as on the demo
    inputs = fetch.build_inputs_for("Emmen", data_dir=data_dir)
    out_dir = tmp_path / "out"
    result = pipeline.build(bag_path=inputs["bag"], buurten_path=inputs["buurten"], out=out_dir,
                            cbs_paths=inputs["cbs"], labels_path=inputs["labels"],
                            prognose_path=inputs["forecast"],
                            gemeenten=[inputs["gemeentecode"]])
    assert srv.total_hits == first  # the build never touches the network
    buurten = result.buurten
    assert set(buurten["buurtcode"]) == {"BU01140101", "BU01140102", "BU01140202",
                                         "BU01140203", "BU01140204"}
    assert buurten["n_woningen"].sum() > 20
    assert buurten["n_label_geregistreerd"].sum() > 0
    assert buurten["trend_inwoners"].notna().any()
    assert (out_dir / "manifest.json").is_file()
    assert result.manifest["synthetic"] is False
    # income comes as -99995 (published later) in the 2024 boundaries: the build takes the
    # most recent Kerncijfers year that has it, and says so
    assert buurten["inkomen_per_inwoner"].notna().all()
    assert buurten["cbs_aangevuld"].str.contains("inkomen_per_inwoner:").all()
    assert "inkomen_per_inwoner" in result.manifest["trends"]["aangevuld"]
    assert result.analysis is not None and len(result.analysis.proeftuinen) >= 1


def test_cli_fetch_then_cli_build_by_name(srv, data_dir, capsys):
    """The README's two commands: `woonvoorraad fetch --gemeente Emmen`, then `build`."""
    from woonvoorraad.cli import main

    assert main(["fetch", "--gemeente", "Emmen", "--data-dir", str(data_dir), "-q"]) == 0
    hits = srv.total_hits
    assert main(["build", "--gemeente", "emmen", "--data-dir", str(data_dir), "-q"]) == 0
    assert srv.total_hits == hits  # the build never touches the network
    out = data_dir / "processed" / "GM0114"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["gemeenten"] == ["GM0114"]
    assert manifest["summary"]["n_buurten"] == 5
    assert (out / "proeftuinen.csv").is_file()
    assert "GM0114" in capsys.readouterr().out


def test_fetch_result_and_manifest(emmen, data_dir, srv):
    assert not emmen.skipped and emmen.downloads == emmen.requests > 20
    assert emmen.inputs == fetch.find_fetched_inputs("GM0114",
                                                data_dir=data_dir)
    m = manifest_of(data_dir)
    assert m["gemeente"] == {"code": "GM0114", "naam": "Emmen"}
    assert m["parameters"]["ep_online_key"] is True
    assert {"bag", "cbs", "forecast", "ep-online"} <= set(m["licences"])
    assert "Public Domain" in m["licences"]["bag"]["name"]
    assert m["licences"]["cbs"]["name"] == "CC BY 4.0"
    assert "confidence" in m["licences"]["ep-online"]
    for out in m["outputs"]:
        p = data_dir / out["path"]
        assert p.stat().st_size == out["size"]
    for r in m["requests"]:
        assert {"url", "params", "fetched_at", "size", "sha256", "licence"} <= set(r)
    assert m["sources"]["ep_online"]["status"] == "registered"
    assert m["requests_summary"]["pdok-bag"]["downloaded"] > 5


def test_no_secret_anywhere(emmen, data_dir, caplog):
    blobs = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert API_KEY.encode() not in blobs
    assert b"RmFrZVNpZ25hdHVyZUZvclRl" not in blobs  # the signature of the download URL
    assert API_KEY not in caplog.text


def test_refetch_after_deleting_outputs_uses_only_the_cache(emmen, srv, data_dir):
    hits = srv.total_hits
    shutil.rmtree(data_dir / "raw" / "bag")
    (data_dir / "raw" / "cbs" / "GM0114" / "kerncijfers.parquet").unlink()
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert srv.total_hits == hits
    assert result.downloads == 0 and not result[0].skipped
    assert (data_dir / "raw" / "bag" / "GM0114" / "bag.gpkg").is_file()


def test_refresh_downloads_again(emmen, srv, data_dir):
    hits = srv.total_hits
    fetch.fetch("Emmen", data_dir=data_dir, refresh=True)
    assert srv.total_hits >= 2 * hits - 1


def test_offline_fetch_from_the_cache(emmen, srv, data_dir):
    hits = srv.total_hits
    shutil.rmtree(data_dir / "raw" / "manifests")
    fetch.fetch("Emmen", data_dir=data_dir, offline=True)
    assert srv.total_hits == hits
    assert settings.offline is False  # restored


def test_offline_without_cache_names_what_is_missing(srv, data_dir):
    with pytest.raises(OfflineError, match=r"wijken-en-buurten-2024/ogc/v1/collections/"
                                           r"gemeenten/items\?"):
        fetch.fetch("Emmen", data_dir=data_dir, offline=True)
    assert srv.total_hits == 0


# -- the files -------------------------------------------------------------------------------


def test_bag_is_in_the_bag_light_layout(emmen, data_dir):
    path = emmen.inputs["bag"]
    assert sorted(n for n, _ in pyogrio.list_layers(path)) == ["pand", "verblijfsobject"]
    pand = pyogrio.read_dataframe(path, layer="pand")
    vbo = pyogrio.read_dataframe(path, layer="verblijfsobject")
    assert list(pand.columns) == [*pdok.PAND_COLUMNS, "geometry"]
    assert list(vbo.columns) == [*pdok.VBO_COLUMNS, "geometry"]
    assert pyogrio.read_info(path, layer="pand")["geometry_name"] == "geom"
    assert pyogrio.read_info(path, layer="pand")["crs"] == "EPSG:28992"
    # existing objects only
    assert not set(pand["status"]) & pdok.PAND_DROP_STATUSES
    assert not set(vbo["status"]) & pdok.VBO_DROP_STATUSES
    assert "Verblijfsobject gevormd" in set(vbo["status"])  # dwelling selection is the build's
    # deduplicated across tiles: the pand on the tile border once, both its units
    assert not pand["identificatie"].duplicated().any()
    border = pand.loc[pand.geometry.bounds["minx"] == 256995, "identificatie"]
    assert len(border) == 1
    assert (vbo["pand_identificatie"] == border.iloc[0]).sum() == 2
    # clipped to the gemeente: nothing in the cut corner or far away
    gemeente = shapely.Polygon([(252000, 528000), (260000, 528000), (262000, 530000),
                                (262000, 538000), (257000, 538000), (257000, 533000),
                                (252000, 533000)])
    assert vbo.geometry.within(gemeente.buffer(0.01)).all()
    assert (pand.geometry.bounds["minx"] < 261000).all()
    # a unit in two panden: one row per pand
    two = vbo.loc[vbo["identificatie"].duplicated(keep=False)]
    assert two["identificatie"].nunique() == 1 and len(two) == 2
    # a unit whose pand lies outside every tile: resolved by uuid and kept
    below = vbo.loc[vbo.geometry.y < 528010, "pand_identificatie"]
    assert len(below) == 1 and below.iloc[0] in set(pand["identificatie"])
    assert vbo["pand_identificatie"].notna().all()
    assert pand["bouwjaar"].dtype.kind == "i" and vbo["identificatie"].str.len().eq(16).all()


def test_bag_reads_with_the_project_reader(emmen):
    from woonvoorraad.sources import bag

    panden, vbo, layout = bag.read_bag(emmen.inputs["bag"])
    assert layout == "bag-light" and len(panden) == 25
    assert vbo["pand_ids"].str.contains(",").sum() == 1


def test_wijken_en_buurten_as_served(emmen):
    path = emmen.inputs["buurten"]
    assert path.name == "wijkenbuurten_2024.gpkg"
    assert {n for n, _ in pyogrio.list_layers(path)} == {"buurten", "wijken", "gemeenten"}
    buurten = pyogrio.read_dataframe(path, layer="buurten")
    assert len(buurten) == 5  # two pages of the OGC API
    assert {"buurtcode", "buurtnaam", "wijkcode", "gemeentecode", "aantal_inwoners",
            "percentage_personen_65_jaar_en_ouder", "gemiddelde_woningwaarde"} <= set(buurten)
    assert (buurten["gemiddelde_woningwaarde"] == -99997).sum() == 1  # sentinels as served


def test_kerncijfers_format(emmen):
    (path,) = emmen.inputs["cbs"]
    kc = pd.read_parquet(path)
    assert list(kc.columns) == KERNCIJFERS_COLUMNS
    assert sorted(kc["jaar"].unique()) == [2019, 2020, 2021, 2022, 2023, 2024]
    assert kc["jaar"].dtype == np.int64
    assert set(kc["soort_regio"]) == {"Buurt", "Wijk", "Gemeente"}
    assert kc["regiocode"].str.len().isin([6, 8, 10]).all()  # padding stripped
    assert (kc["regiocode"] == "GM0114").sum() == 6
    row = kc.set_index(["jaar", "regiocode"]).loc[(2023, "BU01140101")]
    assert row["regionaam"] == "Westerkamp" and row["gemeentenaam"] == "Emmen"
    assert row["woz_gemiddeld"] == 224_000  # x 1 000 euro -> euro
    assert row["aandeel_koop"] == pytest.approx(0.59)  # % -> fraction
    assert row["inkomen_per_inwoner"] == pytest.approx(26_700)
    assert row["aandeel_65plus"] == pytest.approx(row["aantal_65plus"] / row["aantal_inwoners"])
    assert (kc["jaar"] == 2023).sum() == 8  # both OData pages
    # NaN, never 0: a secret value, a statistic a year lacks, a 2024 rename
    assert kc.loc[kc["regiocode"] == "BU01140102", "woz_gemiddeld"].isna().all()
    k24 = kc.loc[kc["jaar"] == 2024]
    assert k24["aandeel_sociaal_minimum"].isna().all()
    assert k24["inkomen_per_inwoner"].isna().all()
    assert k24["gasverbruik_gemiddeld"].notna().all()  # GemiddeldAardgasverbruik_55


def test_kerncijfers_read_by_the_project_reader(emmen):
    from woonvoorraad.sources import cbs

    stats = cbs.read_statistics(emmen.inputs["cbs"][0])
    assert set(stats["regiocode"].str[:2]) == {"BU"}
    assert len(stats) == 4 * 3 + 5 * 3


def test_kerncijfers_used_the_data_properties(emmen, data_dir):
    years = manifest_of(data_dir)["sources"]["kerncijfers"]["years"]
    assert years["2023"]["keys"]["woz_gemiddeld"] == "GemiddeldeWOZWaardeVanWoningen_36"
    assert years["2024"]["keys"]["woz_gemiddeld"] == "GemiddeldeWOZWaardeVanWoningen_39"
    assert years["2024"]["keys"]["gasverbruik_gemiddeld"] == "GemiddeldAardgasverbruik_55"
    assert years["2024"]["missing_statistics"] == ["aandeel_sociaal_minimum"]


def test_buurt_code_changes_are_reported(emmen, data_dir, caplog):
    changes = manifest_of(data_dir)["buurt_code_changes"]
    assert changes == [{
        "from_year": 2021, "to_year": 2022, "disappeared": ["BU01140201"],
        "appeared": ["BU01140203", "BU01140204"], "geometry": changes[0]["geometry"]}]
    assert "not checked" in changes[0]["geometry"]
    assert any("BU01140201" in w for w in emmen.warnings)
    kc = pd.read_parquet(emmen.inputs["cbs"][0])
    assert (kc["regiocode"] == "BU01140201").sum() == 3  # kept, not dropped


def test_split_detected_from_both_years_boundaries(srv, data_dir):
    fetch.fetch("Emmen", year=2021, data_dir=data_dir)
    assert (data_dir / "raw" / "cbs" / "GM0114" / "wijkenbuurten_2021.gpkg").is_file()
    assert manifest_of(data_dir)["buurt_code_changes"] == []  # 2019-2021 had no change
    fetch.fetch("Emmen", year=2024, data_dir=data_dir)
    (change,) = manifest_of(data_dir)["buurt_code_changes"]
    geo = change["geometry"]
    assert geo["old_boundaries"] == 2021 and geo["new_boundaries"] == 2024
    (item,) = geo["changes"]
    assert item["code"] == "BU01140201" and item["change"] == "split"
    assert set(item["successors"]) == {"BU01140203", "BU01140204"}
    assert sum(item["successors"].values()) == pytest.approx(1.0, abs=0.01)
    # the build picks the latest vintage by default, or the one asked for
    inputs = fetch.find_fetched_inputs("GM0114", data_dir=data_dir)
    assert inputs["buurten"].name.endswith("2024.gpkg")
    assert fetch.find_fetched_inputs("GM0114", data_dir=data_dir,
                                     year=2021)["buurten"].name.endswith("2021.gpkg")


def test_forecast(emmen):
    fc = pd.read_parquet(emmen.inputs["forecast"])
    assert list(fc.columns) == ["gemeentecode", "jaar", "bevolking", "huishoudens",
                                "prognose_interval"]
    assert set(fc["prognose_interval"]) == {"prognose", "ondergrens_67", "bovengrens_67"}
    p2030 = fc.set_index(["jaar", "prognose_interval"]).loc[(2030, "prognose")]
    assert p2030["bevolking"] == pytest.approx(106_100)
    assert p2030["huishoudens"] == pytest.approx(50_300)


def test_withdrawn_household_forecast_is_reported(srv, data_dir):
    srv.disable("/ODataApi/odata/85172NED")
    result = fetch.fetch("Emmen", data_dir=data_dir)
    fc = pd.read_parquet(result[0].inputs["forecast"])
    assert fc["huishoudens"].isna().all() and fc["bevolking"].notna().all()
    prognose = manifest_of(data_dir)["sources"]["prognose"]
    assert "withdrew" in prognose["huishoudens"]["status"]
    assert any("forecast huishoudens" in w for w in result[0].warnings)


def test_missing_kerncijfers_year_is_reported_not_fatal(srv, data_dir):
    srv.disable("/ODataApi/odata/84799NED")
    result = fetch.fetch("Emmen", data_dir=data_dir)
    kc = pd.read_parquet(result[0].inputs["cbs"][0])
    assert 2020 not in set(kc["jaar"])
    years = manifest_of(data_dir)["sources"]["kerncijfers"]["years"]
    assert "not available" in years["2020"]["status"]


def test_labels_keep_the_bulk_format(emmen):
    from woonvoorraad.sources import eponline

    raw = emmen.inputs["labels"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfPublicatieDatum;01-01-2025\r\n"
                          b"LaatstVerwerkteMutatievolgnummer;")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[2].startswith("BAGVerblijfsobjectID;BAGLigplaatsID;")
    assert all(line.split(";")[0].startswith("0114") for line in lines[3:])
    assert len(lines) - 3 == 15  # 14 units, one labelled twice; other gemeenten dropped
    assert "," in lines[3].split(";")[24]  # decimal commas as published
    labels = eponline.read_ep_online(emmen.inputs["labels"])
    assert len(labels) == 14
    assert labels.set_index("vbo_id").loc["0114010000000001", "energielabel"] == "A"


def test_without_api_key_labels_are_estimated(srv, data_dir, monkeypatch):
    monkeypatch.delenv("EP_ONLINE_API_KEY")
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert result[0].inputs["labels"] is None
    assert any("EP_ONLINE_API_KEY" in w and "estimated" in w for w in result[0].warnings)
    assert manifest_of(data_dir)["sources"]["ep_online"]["status"] == "estimated"
    assert srv.hits["/api/v5/Mutatiebestand/DownloadInfo"] == 0


def test_wrong_api_key_falls_back_to_estimated_labels(srv, data_dir, monkeypatch):
    monkeypatch.setenv("EP_ONLINE_API_KEY", "not-the-key")
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert result[0].inputs["labels"] is None
    assert "refused the API key" in manifest_of(data_dir)["sources"]["ep_online"]["reason"]


def test_cached_download_info_without_url_asks_again_for_the_zip(emmen, srv, data_dir):
    # the cached DownloadInfo holds no signed URL; with the ZIP gone it is fetched anew
    with settings_dir(data_dir):
        for p in (data_dir / "raw" / "cache" / "ep-online").rglob("*.zip"):
            p.unlink()
    shutil.rmtree(data_dir / "raw" / "manifests")
    srv.clear()
    fetch.fetch("Emmen", data_dir=data_dir)
    assert srv.hits["/api/v5/Mutatiebestand/DownloadInfo"] == 1
    assert srv.hits["/blob/ep-online/v20250101_v4_csv.zip"] == 1


# -- faults during a fetch -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["truncate", "invalid-json", "drop"])
def test_fault_on_bag_pages_leaves_a_consistent_cache(srv, data_dir, kind):
    srv.inject(BAG_VBO, kind, times=None)
    with pytest.raises(DownloadError):
        fetch.fetch("Emmen", data_dir=data_dir)
    report = cache_report(data_dir)
    assert report["corrupt"] == [] and report["orphans"] == []
    assert not (data_dir / "raw" / "bag" / "GM0114" / "bag.gpkg").exists()
    assert not list((data_dir / "raw").rglob("*.part"))
    assert not (data_dir / "raw" / "manifests").exists()
    # after the fault, the fetch resumes: what was cached is not downloaded again
    before = srv.hits[BAG_PAND]
    srv.clear()
    fetch.fetch("Emmen", data_dir=data_dir)
    assert before >= 5 and srv.hits[BAG_PAND] == 0  # the pand pages came from the cache
    assert srv.hits[BAG_VBO] > 0
    assert cache_report(data_dir)["orphans"] == []


def test_transient_faults_during_a_fetch_are_absorbed(srv, data_dir):
    srv.inject(BAG_PAND, "status", status=503)
    srv.inject("/ODataFeed/odata/85618NED", "status", status=429, retry_after="0")
    srv.inject("/cbs/wijken-en-buurten-2024/ogc/v1/collections/buurten", "truncate")
    srv.inject("/blob/ep-online", "truncate")
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert result[0].inputs["labels"] is not None
    report = cache_report(data_dir)
    assert report["corrupt"] == [] and report["orphans"] == [] and report["partials"] == []


def test_unknown_gemeente(srv, data_dir):
    with pytest.raises(GemeenteNotFoundError, match="did you mean: Emmen"):
        fetch.fetch("Emmn", data_dir=data_dir)
    assert not (data_dir / "raw" / "bag").exists()


def test_gemeente_without_boundary_in_that_year(srv, data_dir):
    with pytest.raises(GemeenteNotFoundError, match="no boundary in CBS wijken en buurten 2024"):
        fetch.fetch("Coevorden", data_dir=data_dir)


# -- bag-light file --------------------------------------------------------------------------


def test_national_bag_light_file_is_read_by_the_boundary(emmen, srv, data_dir, tmp_path):
    src = emmen.inputs["bag"]
    pand = pyogrio.read_dataframe(src, layer="pand")
    vbo = pyogrio.read_dataframe(src, layer="verblijfsobject")
    # the national file also holds other gemeenten and demolished objects
    extra_pand = gpd.GeoDataFrame(
        {"identificatie": ["0106100000000001", "0114100000099999"], "bouwjaar": [1970, 1950],
         "status": ["Pand in gebruik", "Pand gesloopt"], "gebruiksdoel": ["woonfunctie"] * 2,
         "aantal_verblijfsobjecten": [1, 1]},
        geometry=[shapely.box(230000, 550000, 230010, 550010),
                  shapely.box(253500, 530000, 253510, 530010)], crs="EPSG:28992")
    extra_vbo = gpd.GeoDataFrame(
        {"identificatie": ["0106010000000001", "0114010000099999"],
         "pand_identificatie": ["0106100000000001", "0114100000099999"],
         "gebruiksdoel": ["woonfunctie"] * 2, "oppervlakte": [80, 80],
         "status": ["Verblijfsobject in gebruik", "Verblijfsobject ingetrokken"]},
        geometry=[shapely.Point(230005, 550005), shapely.Point(253505, 530005)],
        crs="EPSG:28992")
    national = tmp_path / "bag-light.gpkg"
    pd.concat([pand, extra_pand]).to_file(national, layer="pand", engine="pyogrio")
    pd.concat([vbo, extra_vbo]).to_file(national, layer="verblijfsobject", engine="pyogrio")
    other = tmp_path / "other"
    srv.clear()
    result = fetch.fetch("Emmen", bag_file=national, data_dir=other)
    assert srv.hits[BAG_PAND] == 0 and srv.hits[BAG_VBO] == 0
    got = pyogrio.read_dataframe(result[0].inputs["bag"], layer="verblijfsobject")
    assert set(got["identificatie"]) == set(vbo["identificatie"])
    got_pand = pyogrio.read_dataframe(result[0].inputs["bag"], layer="pand")
    assert set(got_pand["identificatie"]) == set(pand["identificatie"])
    assert json.loads((other / "raw" / "manifests" / "GM0114" / "fetch-manifest.json")
                      .read_text())["parameters"]["bag_file"] == str(national)


def test_bag_file_without_the_layers(srv, data_dir, tmp_path):
    bad = tmp_path / "bad.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=28992).to_file(
        bad, layer="other", engine="pyogrio")
    with pytest.raises(InputError, match="has no layer 'pand'"):
        fetch.fetch("Emmen", bag_file=bad, data_dir=data_dir)


# -- inputs for the build --------------------------------------------------------------------


def test_build_inputs_for_resolves_without_network(emmen, srv, data_dir):
    hits = srv.total_hits
    for query in ("Emmen", "emmen", "GM0114", "114"):
        assert fetch.build_inputs_for(query, data_dir=data_dir)["bag"] == emmen.inputs["bag"]
    assert srv.total_hits == hits


def test_build_inputs_for_a_gemeente_not_fetched(srv, data_dir):
    with pytest.raises(InputError, match="run `woonvoorraad fetch --gemeente GM0109` first"):
        fetch.build_inputs_for("Coevorden", data_dir=data_dir)
    with pytest.raises(GemeenteNotFoundError, match="woonvoorraad fetch --gemeente Zwolle"):
        fetch.build_inputs_for("Zwolle", data_dir=data_dir)


def test_fetched_inputs_needs_a_code(data_dir):
    with pytest.raises(InputError, match="not a gemeentecode"):
        fetch.find_fetched_inputs("Emmen", data_dir=data_dir)


# -- command line ----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    return build_parser()


def test_cli_help(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["fetch", "--help"])
    text = capsys.readouterr().out
    for option in ("--gemeente", "--region", "--year", "--bag-file", "--offline", "--data-dir",
                   "--refresh", "EP_ONLINE_API_KEY", "regiodeal-zuid-oost-drenthe"):
        assert option in text


def test_cli_unknown_gemeente(srv, data_dir, capsys):
    args = parser().parse_args(["fetch", "--gemeente", "Emmn", "--data-dir", str(data_dir)])
    assert args.func(args) == 2
    assert "did you mean: Emmen" in capsys.readouterr().err


def test_cli_needs_a_gemeente(capsys):
    args = parser().parse_args(["fetch"])
    assert args.func(args) == 2
    assert "--gemeente" in capsys.readouterr().err


def test_cli_offline_error(srv, data_dir, capsys):
    args = parser().parse_args(["fetch", "-g", "Emmen", "--offline", "--data-dir",
                                str(data_dir)])
    assert args.func(args) == 1
    assert "offline mode" in capsys.readouterr().err


def test_cli_summary(srv, data_dir):
    args = parser().parse_args(["fetch", "-g", "GM0114", "--data-dir", str(data_dir)])
    out = io.StringIO()
    assert _cmd_fetch(args, out=out) == 0
    text = out.getvalue()
    assert "Emmen (GM0114):" in text and "bag.gpkg" in text and "warning: buurt codes" in text


def test_progress_and_logging_do_not_break(srv, data_dir, caplog):
    settings.show_progress = True
    with caplog.at_level(logging.INFO, logger="woonvoorraad"):
        fetch.fetch("Emmen", data_dir=data_dir)
    assert "Emmen (GM0114): done" in caplog.text
