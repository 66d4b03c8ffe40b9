"""Issue 14: a cache that heals, an offline mode that holds, paging that loses nothing.

Each test reproduces one defect over real HTTP against the replay server on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from _testserver import ReplayServer, fast_io, no_internet, replay_settings
from woonvoorraad import settings
from woonvoorraad.cli import _cmd_fetch, build_parser
from woonvoorraad.errors import DownloadError
from woonvoorraad.sources import _http, fetch, pdok

HTTP_DATA = Path(__file__).parent / "data" / "http"
API_KEY = "sk-test-7f3a9c51e2"
BAG_VBO = "/kadaster/bag/ogc/v2/collections/verblijfsobject/items"
FEED_2020 = "/ODataFeed/odata/84799NED/TypedDataSet"
DOWNLOAD_INFO = "/api/v5/Mutatiebestand/DownloadInfo"


@pytest.fixture(scope="module")
def server():
    with no_internet(), ReplayServer(HTTP_DATA, api_key=API_KEY) as srv:
        yield srv


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def srv(server, data_dir, monkeypatch):
    server.clear()
    monkeypatch.setenv("EP_ONLINE_API_KEY", API_KEY)
    monkeypatch.setattr(pdok, "BAG_PAGE_LIMIT", 7)
    with no_internet(), fast_io(), replay_settings(server, data_dir=data_dir):
        yield server
    server.clear()


def manifest_of(data_dir: Path) -> dict:
    return json.loads((data_dir / "raw" / "manifests" / "GM0114" / "fetch-manifest.json")
                      .read_text())


def remove_outputs(data_dir: Path) -> None:
    """Remove every fetched file but the cache (and the manifests)."""
    for name in ("bag", "cbs", "ep-online", "manifests"):
        shutil.rmtree(data_dir / "raw" / name, ignore_errors=True)


def run_cli(*argv: str) -> tuple[int, str]:
    args = build_parser().parse_args(["fetch", *argv])
    out = io.StringIO()
    return _cmd_fetch(args, out=out), out.getvalue()


# -- 1 a paging loop never poisons the cache -------------------------------------------------


def test_paging_loop_is_not_cached_and_the_next_plain_fetch_repairs_it(srv, data_dir):
    srv.inject(BAG_VBO, "loop", times=None)
    with pytest.raises(DownloadError, match=r"paging loop.*--refresh"):
        fetch.fetch("Emmen", data_dir=data_dir)
    first_run = [json.dumps(e["query"], sort_keys=True) for e in srv.log if e["path"] == BAG_VBO]
    assert len(first_run) == 2  # page 1 of the first tile, then page 2 that links to itself
    srv.clear()
    # the next plain fetch (no --refresh) asks again for the page that closed the loop only
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert not result[0].skipped and result[0].inputs["bag"].is_file()
    again = [json.dumps(e["query"], sort_keys=True) for e in srv.log if e["path"] == BAG_VBO]
    assert first_run[0] not in again  # the good page came from the cache
    assert first_run[1] in again  # the looping page was not cached


def test_an_answer_that_fails_validation_is_never_cached(srv, data_dir):
    url = f"{srv.base_url}/ODataApi/odata/85984NED/DataProperties"
    with pytest.raises(DownloadError, match="unusable answer: answer is not a GeoJSON"):
        _http.get_json(url, params={"$format": "json"}, source="cbs-odata",
                       validate=pdok.check_feature_page)
    assert srv.hits["/ODataApi/odata/85984NED/DataProperties"] == 3  # retried, then given up
    assert _http.get_json(url, params={"$format": "json"}, source="cbs-odata")["value"]
    assert srv.hits["/ODataApi/odata/85984NED/DataProperties"] == 4  # nothing was cached


# -- 2 negative answers are cached; --offline and a cache-only refetch hold ------------------


def test_offline_and_cache_only_refetch_after_a_complete_fetch_with_404s(srv, data_dir):
    srv.disable("/ODataApi/odata/85172NED")  # the withdrawn household forecast: 404
    srv.disable("/ODataApi/odata/84799NED")  # a Kerncijfers year that does not exist: 404
    fetch.fetch("Emmen", data_dir=data_dir)
    negative = [r for r in manifest_of(data_dir)["requests"] if r.get("status") == 404]
    assert len(negative) == 2 and all("fetched_at" in r for r in negative)
    hits = srv.total_hits
    remove_outputs(data_dir)
    result = fetch.fetch("Emmen", data_dir=data_dir, offline=True)
    assert srv.total_hits == hits
    assert result[0].inputs["forecast"] is not None
    remove_outputs(data_dir)
    code, out = run_cli("-g", "Emmen", "--data-dir", str(data_dir))
    assert code == 0 and srv.total_hits == hits
    assert "0 sent" in out, out


def test_negative_answers_expire(srv, data_dir, monkeypatch):
    monkeypatch.setattr(settings, "negative_cache_max_age", 0.0)
    url = f"{srv.base_url}/ODataApi/odata/00000NED/DataProperties"
    for _ in range(2):
        with pytest.raises(Exception, match="404"):
            _http.get_json(url, params={"$format": "json"}, source="cbs-odata")
    assert srv.hits["/ODataApi/odata/00000NED/DataProperties"] == 2
    monkeypatch.setattr(settings, "negative_cache_max_age", 3600.0)
    for _ in range(2):
        with pytest.raises(Exception, match="404"):
            _http.get_json(url, params={"$format": "json"}, source="cbs-odata")
    assert srv.hits["/ODataApi/odata/00000NED/DataProperties"] == 2  # the cached 404


# -- 3 OData paging everywhere -----------------------------------------------------------------


def test_odata_api_answers_are_read_past_their_first_page(srv, data_dir):
    srv.odata_page_size = 7
    result = fetch.fetch("Emmen", data_dir=data_dir)
    kc = pd.read_parquet(result[0].inputs["cbs"][0])
    assert kc["regionaam"].notna().all()
    row = kc.set_index(["jaar", "regiocode"]).loc[(2023, "BU01140101")]
    assert row["regionaam"] == "Westerkamp" and row["woz_gemiddeld"] == 224_000
    years = manifest_of(data_dir)["sources"]["kerncijfers"]["years"]
    assert years["2023"]["missing_statistics"] == []
    assert years["2024"]["missing_statistics"] == ["aandeel_sociaal_minimum"]


def test_a_statistic_missing_for_every_region_is_a_warning(srv, data_dir, caplog):
    with caplog.at_level(logging.INFO, logger="woonvoorraad"):
        result = fetch.fetch("Emmen", data_dir=data_dir)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # 2024: income is published later (every value -99995); sociaal minimum has no column
    assert any("85984NED" in w and "GemiddeldInkomenPerInwoner" in w for w in warnings), warnings
    assert any("85984NED" in w and "aandeel_sociaal_minimum" in w for w in warnings), warnings
    assert any("85984NED" in w for w in result[0].warnings)


# -- 4 degraded results do not stick -----------------------------------------------------------


def test_a_transient_404_on_a_year_is_retried_by_the_next_plain_fetch(srv, data_dir):
    srv.inject(FEED_2020, "status", status=404)
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert 2020 not in set(pd.read_parquet(result[0].inputs["cbs"][0])["jaar"])
    incomplete = manifest_of(data_dir)["incomplete"]
    assert [(i["part"], i.get("year")) for i in incomplete] == [("kerncijfers", 2020)]
    assert "84799NED" in incomplete[0]["table"] and "404" in incomplete[0]["reason"]
    srv.clear()
    code, out = run_cli("-g", "Emmen", "--data-dir", str(data_dir))
    assert code == 0 and "already up to date" not in out
    assert 2020 in set(pd.read_parquet(result[0].inputs["cbs"][0])["jaar"])
    assert FEED_2020 in srv.hits  # exactly the failed part (that year's table), nothing else
    assert all(path.startswith(("/ODataFeed/odata/84799NED/", "/ODataApi/odata/84799NED/"))
               for path in srv.hits), srv.hits
    assert manifest_of(data_dir)["incomplete"] == []
    code, out = run_cli("-g", "Emmen", "--data-dir", str(data_dir))
    assert "already up to date" in out


def test_labels_refused_then_the_right_key_gives_labels(srv, data_dir, monkeypatch):
    monkeypatch.setenv("EP_ONLINE_API_KEY", "not-the-key")
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert result[0].inputs["labels"] is None
    assert [i["part"] for i in manifest_of(data_dir)["incomplete"]] == ["labels"]
    monkeypatch.setenv("EP_ONLINE_API_KEY", API_KEY)
    srv.clear()
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert result[0].inputs["labels"] is not None
    assert srv.hits[DOWNLOAD_INFO] == 1
    assert manifest_of(data_dir)["incomplete"] == []


def test_a_changed_api_key_counts_as_a_change(srv, data_dir, monkeypatch):
    fetch.fetch("Emmen", data_dir=data_dir)
    monkeypatch.setenv("EP_ONLINE_API_KEY", "another-key-123")
    result = fetch.fetch("Emmen", data_dir=data_dir)
    assert not result[0].skipped
    assert result[0].inputs["labels"] is None  # refused: the new key was tried
    blobs = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert b"another-key-123" not in blobs and API_KEY.encode() not in blobs


# -- 5 every request counts --------------------------------------------------------------------


def test_every_request_is_counted_whatever_its_answer(srv, data_dir):
    srv.disable("/ODataApi/odata/85172NED")
    srv.inject("/ODataApi/odata/85984NED/DataProperties", "status", status=503)
    srv.inject("/cbs/wijken-en-buurten-2024/ogc/v1/collections/buurten", "truncate")
    code, out = run_cli("-g", "Emmen", "--data-dir", str(data_dir))
    assert code == 0
    m = manifest_of(data_dir)
    sent = [r for r in m["requests"] if not r["from_cache"]]
    assert len(sent) == srv.total_hits
    assert sum(s["sent"] for s in m["requests_summary"].values()) == srv.total_hits
    assert f"{srv.total_hits} sent" in out, out


# -- 6 stale temporary files of killed runs -----------------------------------------------------


def test_stale_part_files_of_a_killed_run_are_removed(srv, data_dir):
    bag_dir = data_dir / "raw" / "bag" / "GM0114"
    bag_dir.mkdir(parents=True)
    stale = [bag_dir / ".bag.gpkg.k3x9_q2a.part.gpkg",
             bag_dir / ".bag.gpkg.k3x9_q2a.part.gpkg-journal"]
    for p in stale:
        p.write_bytes(b"x" * 1000)
    foreign = [bag_dir / "notes.part.txt", bag_dir / ".mine.part"]
    for p in foreign:
        p.write_text("not the tool's")
    fetch.fetch("Emmen", data_dir=data_dir)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in foreign)
    assert not list((data_dir / "raw").rglob(".*.part.gpkg*"))


# -- 7 reproducible outputs ----------------------------------------------------------------------


def test_geopackages_and_manifest_hashes_reproduce(srv, data_dir):
    fetch.fetch("Emmen", data_dir=data_dir)
    first = {o["path"]: o["sha256"] for o in manifest_of(data_dir)["outputs"]}
    time.sleep(1.1)
    remove_outputs(data_dir)
    fetch.fetch("Emmen", data_dir=data_dir)
    second = {o["path"]: o["sha256"] for o in manifest_of(data_dir)["outputs"]}
    assert second == first
    assert os.environ.get("OGR_CURRENT_DATE") is None  # not left behind


# -- shareable pages carry no local path --------------------------------------------------------


def test_report_index_footer_has_no_absolute_path(tmp_path):
    from types import SimpleNamespace

    from woonvoorraad.report.index import index_html

    build = tmp_path / "secret-home" / "processed" / "GM0114"
    run = SimpleNamespace(path=build, naam="Emmen", synthetic=False, gemeenten=lambda: [])
    html = index_html(run, [], created="2025-01-01T00:00:00+00:00")
    assert "GM0114" in html and str(tmp_path) not in html and "secret-home" not in html


# -- the bulk download resumes across chunks ------------------------------------------------------


def test_multi_chunk_bulk_download_resumes_after_a_cut(srv, tmp_path):
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("labels.csv", os.urandom(3 * _http.CHUNK_SIZE + 12345))
    srv.add_route({"path": "/blob/ep-online/big.zip", "query": {}, "file": str(big),
                   "content_type": "application/zip", "range": True})
    srv.inject("/blob/ep-online/big.zip", "truncate")  # cut after 1.5 of 3 chunks
    path = _http.download(f"{srv.base_url}/blob/ep-online/big.zip", source="ep-online",
                          cache_id="ep-online/big.zip", suffix=".zip",
                          validate=lambda p: zipfile.ZipFile(p).testzip())
    assert path.read_bytes() == big.read_bytes()
    ranges = [e["range"] for e in srv.log if e["path"] == "/blob/ep-online/big.zip"]
    assert ranges[0] is None and ranges[1].startswith("bytes=")
    offset = int(ranges[1][len("bytes="):-1])
    assert _http.CHUNK_SIZE <= offset < big.stat().st_size // 2 + 1
