"""Income by tenure (CBS 86004NED): recorded OData answers, paging, secret values, fallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from _testserver import ReplayServer, fast_io, no_internet, replay_settings
from woonvoorraad.config import default_config
from woonvoorraad.errors import ConfigError, InputError, MissingColumnError
from woonvoorraad.sources import fetch, inkomen
from woonvoorraad.sources._fetchjob import FetchJob
from woonvoorraad.sources.gemeenten import Gemeente

HTTP_DATA = Path(__file__).parent / "data" / "http"
FEED = "/ODataFeed/odata/86004NED/TypedDataSet"
EMMEN = Gemeente("GM0114", "Emmen", "Drenthe")


@pytest.fixture(scope="module")
def server():
    with no_internet(), ReplayServer(HTTP_DATA) as srv:
        yield srv


@pytest.fixture
def srv(server, tmp_path):
    server.clear()
    with no_internet(), fast_io(), replay_settings(server, data_dir=tmp_path / "data"):
        yield server
    server.clear()


def job(root: Path) -> FetchJob:
    return FetchJob(gemeente=EMMEN, year=2024, root=root, refresh=False)


def value(frame: pd.DataFrame, code: str, year: int, tenure: str, column: str) -> float:
    row = frame[(frame["regiocode"] == code) & (frame["jaar"] == year)
                & (frame["woonsituatie"] == tenure)]
    assert len(row) == 1, (code, year, tenure)
    return float(row[column].iloc[0])


@pytest.fixture
def fetched(srv, tmp_path):
    ctx = job(tmp_path / "data")
    path, frame, info = inkomen.fetch_inkomen(ctx)
    return ctx, path, frame, info


def test_fetch_reads_both_pages_into_a_tidy_frame(srv, fetched):
    ctx, path, frame, info = fetched
    assert srv.hits[FEED] == 2  # odata.nextLink followed
    assert path == ctx.path("cbs", "GM0114", "inkomen.parquet") and path.is_file()
    assert list(frame.columns) == list(inkomen.INKOMEN_COLUMNS)
    # 16 recorded rows (GM0114 2022+2023, PV22 and NL01 2023; 4 categories) + 4 derived huur
    assert len(frame) == 20
    assert set(frame["regiocode"]) == {"GM0114", "PV22", "NL01"}  # padding stripped
    assert value(frame, "GM0114", 2023, "totaal", "aantal_huishoudens") == 52_500
    assert value(frame, "GM0114", 2023, "totaal", "inkomen_besteedbaar_gemiddeld") == 44_000
    assert value(frame, "GM0114", 2023, "koop", "inkomen_gestandaardiseerd_gemiddeld") == 38_400
    # StatLine's "." (OData null) is NaN, never 0
    assert np.isnan(value(frame, "GM0114", 2023, "koop", "inkomen_besteedbaar_gemiddeld"))
    # national 10%-groups 3 + 5 (+ 7 + 9) % of Emmen's owners
    assert value(frame, "GM0114", 2023, "koop", "aandeel_onderste_10pct") == pytest.approx(0.03)
    assert value(frame, "GM0114", 2023, "koop", "aandeel_onderste_20pct") == pytest.approx(0.08)
    assert value(frame, "GM0114", 2023, "koop", "aandeel_onderste_40pct") == pytest.approx(0.24)
    gm = frame[frame["regiocode"] == "GM0114"]
    assert set(gm["provinciecode"]) == {"PV22"} and set(gm["soort_regio"]) == {"Gemeente"}
    assert set(frame.loc[frame["regiocode"] == "PV22", "regionaam"]) == {"Drenthe (PV)"}
    assert info["table"] == "86004NED"
    assert info["editions"]["86004NED"]["categories"]["koop"] == "1014800"
    assert info["editions"]["86004NED"]["populatie"] == "Particuliere huishoudens incl. studenten"


def test_all_renters_are_derived_from_the_two_rental_groups(fetched):
    _, _, frame, _ = fetched
    huur = frame[frame["woonsituatie"] == "huur"]
    assert len(huur) == 4 and huur["afgeleid"].all()
    assert not frame.loc[frame["woonsituatie"] != "huur", "afgeleid"].any()
    # (8.0 x 24.0 + 10.0 x 33.0) / 18.0 = 29.0 thousand euro; 18 000 households
    assert value(frame, "GM0114", 2023, "huur", "inkomen_besteedbaar_gemiddeld") == 29_000
    assert value(frame, "GM0114", 2023, "huur", "aantal_huishoudens") == 18_000
    assert np.isnan(value(frame, "GM0114", 2023, "huur", "inkomen_besteedbaar_mediaan"))
    # owners + renters = all households
    assert (value(frame, "GM0114", 2023, "koop", "aantal_huishoudens")
            + value(frame, "GM0114", 2023, "huur", "aantal_huishoudens")) == 52_500


def test_ratio_falls_back_to_the_provincie_then_nederland(fetched):
    _, _, frame, _ = fetched
    # Emmen's owners' disposable income of 2023 is secret: Drenthe 60.0 / 48.0
    r = inkomen.owner_income_ratio(frame, "GM0114")
    assert r == inkomen.InkomenVerhouding(1.25, "PV22", "Provincie", 2023, "besteedbaar")
    # the standardised income is published for Emmen: 38.4 / 32.0
    r = inkomen.owner_income_ratio(frame, "GM0114", maat="gestandaardiseerd")
    assert (r.verhouding, r.niveau, r.regiocode) == (1.2, "Gemeente", "GM0114")
    # 2022 has Emmen's own figure: 52.5 / 42.0
    r = inkomen.owner_income_ratio(frame, "GM0114", jaar=2022)
    assert (r.verhouding, r.niveau, r.jaar) == (1.25, "Gemeente", 2022)
    # without the provincie rows: Nederland 62.0 / 50.0
    r = inkomen.owner_income_ratio(frame[frame["regiocode"] != "PV22"], "GM0114")
    assert (r.verhouding, r.niveau, r.regiocode) == (1.24, "Nederland", "NL01")
    # a gemeente outside the table: its provincie is unknown, Nederland is used
    r = inkomen.owner_income_ratio(frame, "GM0106")
    assert (r.niveau, r.verhouding) == ("Nederland", 1.24)


def test_ratio_errors_name_the_problem(fetched):
    _, _, frame, _ = fetched
    with pytest.raises(ConfigError, match="bruto"):
        inkomen.owner_income_ratio(frame, "GM0114", maat="bruto")
    only_gm = frame[frame["regiocode"] == "GM0114"]
    with pytest.raises(InputError, match=r"GM0114, its provincie \(PV22\) or Nederland in 2023"):
        inkomen.owner_income_ratio(only_gm, "GM0114", jaar=2023)


def test_default_ratio_without_a_table(fetched):
    _, _, frame, _ = fetched
    cfg = default_config()
    r = inkomen.owner_income_ratio_or_default(None, "GM0114", cfg)
    assert r == inkomen.InkomenVerhouding(1.23, None, "standaard", 2021, "gestandaardiseerd")
    assert inkomen.owner_income_ratio_or_default(frame, "GM0114", cfg).niveau == "Provincie"
    c = cfg["inkomen"]
    # 41.3 / 33.5 (CBS, 2021) rounded; the range brackets it
    assert c["verhouding_eigenaren"] == pytest.approx(41.3 / 33.5, abs=0.005)
    assert c["verhouding_eigenaren_laag"] < c["verhouding_eigenaren"] < c[
        "verhouding_eigenaren_hoog"]
    assert 0 < c["aandeel_laag_inkomen_eigenaren"] < 0.068  # below the all-households rate


def test_paged_catalogue_answers_give_the_same_frame(srv, fetched, tmp_path):
    _, _, frame, _ = fetched
    srv.clear()
    srv.odata_page_size = 2  # DataProperties and the dimension lists in pages of two
    ctx = FetchJob(gemeente=EMMEN, year=2024, root=tmp_path / "other", refresh=True)
    _, again, _ = inkomen.fetch_inkomen(ctx)
    assert srv.hits["/ODataApi/odata/86004NED/DataProperties"] > 1
    pd.testing.assert_frame_equal(again, frame)


def test_written_file_reads_back_with_provenance(fetched):
    _, path, frame, _ = fetched
    back = inkomen.read_inkomen(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    meta = json.loads(pq.read_schema(path).metadata[b"woonvoorraad"])
    assert meta["table"] == "86004NED" and meta["licence"] == "CC BY 4.0"
    assert meta["keys"]["inkomen_besteedbaar_gemiddeld"] == "GemiddeldBesteedbaarInkomen_5"


def test_no_edition_available_is_incomplete_not_an_error(srv, tmp_path):
    for table, _ in inkomen.INKOMEN_TABLES:
        srv.disable(f"/ODataApi/odata/{table}")
    ctx = job(tmp_path / "data")
    path, frame, info = inkomen.fetch_inkomen(ctx)
    assert path is None and frame is None and info["table"] is None
    assert [i["id"] for i in ctx.incomplete] == ["inkomen"]
    assert all("HTTP 404" in e["status"] for e in info["editions"].values())
    assert any("national defaults of [inkomen]" in w for w in ctx.warnings)


def test_fetch_puts_the_file_in_the_raw_folder(srv, tmp_path):
    data_dir = tmp_path / "data"
    result = fetch.fetch("Emmen", data_dir=data_dir)["Emmen"]
    expected = data_dir / "raw" / "cbs" / "GM0114" / "inkomen.parquet"
    assert result.inputs["inkomen"] == expected and expected.is_file()
    assert fetch.find_fetched_inputs("GM0114", data_dir=data_dir)["inkomen"] == expected
    manifest = json.loads(result.manifest.read_text())
    assert manifest["sources"]["inkomen"]["table"] == "86004NED"
    assert "inkomen" not in [i["id"] for i in manifest["incomplete"]]
    assert "raw/cbs/GM0114/inkomen.parquet" in [o["path"] for o in manifest["outputs"]]
    hits = srv.total_hits
    assert fetch.fetch("Emmen", data_dir=data_dir)["Emmen"].skipped
    assert srv.total_hits == hits


def test_read_inkomen_rejects_bad_tables(tmp_path):
    p = tmp_path / "inkomen.csv"
    p.write_text("jaar,regiocode\n2023,GM0114\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="woonsituatie"):
        inkomen.read_inkomen(p)
    p.write_text("jaar,regiocode,woonsituatie\n2023,GM0114,eigenaar\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown value.*eigenaar"):
        inkomen.read_inkomen(p)
    p.write_text("jaar,regiocode,woonsituatie,inkomen_besteedbaar_gemiddeld\n"
                 "2023,GM0114 ,koop,-99997\n", encoding="utf-8")
    table = inkomen.read_inkomen(p)
    assert table["regiocode"].tolist() == ["GM0114"]
    assert np.isnan(table["inkomen_besteedbaar_gemiddeld"].iloc[0])


def test_category_titles_are_recognised_without_the_known_keys():
    items = [{"Key": "A1", "Title": "Particuliere huishoudens"},
             {"Key": "A2", "Title": "Woningbezit: eigen woning"},
             {"Key": "A3", "Title": "Woningbezit: huurwoning"},
             {"Key": "A4", "Title": "Woningbezit: huurwoning met huurtoeslag"},
             {"Key": "A5", "Title": "Woningbezit: huurwoning geen huurtoeslag"},
             {"Key": "A6", "Title": "Type: Eenpersoonshuishouden"}]
    assert inkomen._categories(items) == {"totaal": "A1", "koop": "A2", "huur": "A3",
                                          "huur_met_toeslag": "A4",
                                          "huur_zonder_toeslag": "A5"}


def test_a_fetch_from_before_the_income_table_is_completed_from_the_cache(srv, tmp_path):
    data_dir = tmp_path / "data"
    first = fetch.fetch("Emmen", data_dir=data_dir)["Emmen"]
    path = first.inputs["inkomen"]
    manifest = json.loads(first.manifest.read_text())
    # as written by the previous version: no income table, no inkomen_tables parameter
    del manifest["parameters"]["inkomen_tables"]
    manifest["outputs"] = [o for o in manifest["outputs"] if "inkomen" not in o["path"]]
    first.manifest.write_text(json.dumps(manifest))
    path.unlink()
    hits = srv.total_hits
    again = fetch.fetch("Emmen", data_dir=data_dir)["Emmen"]
    assert not again.skipped and again.inputs["inkomen"] == path and path.is_file()
    assert srv.total_hits == hits  # everything, the income table too, from the cache
