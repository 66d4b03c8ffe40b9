"""The HTTP layer, over real HTTP against a local server replaying recorded responses."""

from __future__ import annotations

import json
import logging
import time
import zipfile
from pathlib import Path

import pytest

from _testserver import ReplayServer, fast_io, no_internet, replay_settings
from woonvoorraad import settings
from woonvoorraad.errors import DownloadError, HTTPStatusError, OfflineError
from woonvoorraad.sources import _cache, _http, _redact

HTTP_DATA = Path(__file__).parent / "data" / "http"
API_KEY = "sk-test-7f3a9c51e2"
PROPS = "/ODataApi/odata/85984NED/DataProperties"
BAG_ITEMS = "/kadaster/bag/ogc/v2/collections/pand/items"
ZIP = "/blob/ep-online/v20250101_v4_csv.zip"
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"


@pytest.fixture(scope="module")
def server():
    with no_internet(), ReplayServer(HTTP_DATA, api_key=API_KEY) as srv:
        yield srv


@pytest.fixture
def srv(server, tmp_path):
    server.clear()
    with no_internet(), fast_io(), replay_settings(server, cache_dir=tmp_path / "cache",
                                        data_dir=tmp_path / "data"):
        yield server
    server.clear()


def props_url(srv: ReplayServer) -> str:
    return f"{srv.base_url}{PROPS}"


def get_props(srv: ReplayServer, **kwargs):
    return _http.get_json(props_url(srv), params={"$format": "json"}, source="cbs-odata",
                          licence="CC BY 4.0", **kwargs)


def cache_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


# -- cache and provenance ----------------------------------------------------------------------


def test_second_request_comes_from_the_cache(srv, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="woonvoorraad.sources._http")
    first = get_props(srv)
    second = get_props(srv)
    assert first == second
    assert first["value"][0]["Key"] == "WijkenEnBuurten"
    assert srv.hits[PROPS] == 1
    assert "cache miss" in caplog.text and "cache hit" in caplog.text
    report = _cache.verify_cache()
    assert len(report["ok"]) == 1 and not report["corrupt"] and not report["orphans"]
    sidecar = next((tmp_path / "cache").rglob("*.provenance.json"))
    meta = json.loads(sidecar.read_text())
    assert meta["url"] == props_url(srv)
    assert meta["params"] == {"$format": "json"}
    assert meta["licence"] == "CC BY 4.0"
    assert meta["size"] == (sidecar.parent / meta["file"]).stat().st_size
    assert {"fetched_at", "sha256", "status", "source"} <= set(meta)
    index = (tmp_path / "cache" / _cache.INDEX_NAME).read_text().splitlines()
    assert len(index) == 1 and json.loads(index[0])["sha256"] == meta["sha256"]


def test_cache_key_sorts_parameters_and_separates_secrets():
    a = _cache.make_cache_key("GET", "https://x.nl/items", {"b": "2", "a": "1"})
    assert a == _cache.make_cache_key("GET", "https://x.nl/items?a=1&b=2")
    assert a != _cache.make_cache_key("GET", "https://x.nl/items", {"a": "1", "b": "3"})
    k1 = _cache.make_cache_key("GET", "https://x.nl/i", {"apikey": "one"})
    k2 = _cache.make_cache_key("GET", "https://x.nl/i", {"apikey": "two"})
    h1 = _cache.make_cache_key("GET", "https://x.nl/i", headers={"Authorization": "one"})
    h2 = _cache.make_cache_key("GET", "https://x.nl/i", headers={"Authorization": "two"})
    assert len({k1, k2, h1, h2}) == 4


def test_collect_records_provenance(srv):
    with _cache.collect() as records:
        get_props(srv)
        get_props(srv)
    assert [r["from_cache"] for r in records] == [False, True]
    assert records[0]["sha256"] == records[1]["sha256"]
    assert records[1]["cache_file"].startswith("cbs-odata/")


def test_corrupted_cache_entry_is_discarded_and_fetched_again(srv, tmp_path, caplog):
    get_props(srv)
    sidecar = next((tmp_path / "cache").rglob("*.provenance.json"))
    body = sidecar.parent / json.loads(sidecar.read_text())["file"]
    body.write_bytes(body.read_bytes().replace(b"Wijken", b"Wijkxn"))
    with caplog.at_level(logging.WARNING, logger="woonvoorraad.sources._http"):
        doc = get_props(srv)
    assert doc["value"][0]["Title"] == "Wijken en buurten"
    assert srv.hits[PROPS] == 2
    assert "SHA-256 differs" in caplog.text
    assert _cache.verify_cache()["corrupt"] == []


def test_body_without_sidecar_is_not_a_cache_hit(srv, tmp_path):
    key = _cache.make_cache_key("GET", props_url(srv), {"$format": "json"})
    orphan = tmp_path / "cache" / "cbs-odata" / key[:2] / f"{key}.json"
    orphan.parent.mkdir(parents=True)
    orphan.write_text('{"value": []}')
    assert _cache.verify_cache()["orphans"] == [str(orphan.relative_to(tmp_path / "cache"))]
    assert get_props(srv)["value"]  # downloaded, not the orphan
    assert srv.hits[PROPS] == 1
    assert _cache.verify_cache()["orphans"] == []


def test_use_cache_off_always_downloads(srv, tmp_path):
    settings.use_cache = False
    get_props(srv)
    get_props(srv)
    assert srv.hits[PROPS] == 2
    assert not (tmp_path / "cache").exists()


# -- faults ----------------------------------------------------------------------------------


def test_503_then_success(srv):
    srv.inject(PROPS, "status", status=503)
    assert get_props(srv)["value"]
    assert srv.hits[PROPS] == 2
    assert len(_cache.verify_cache()["ok"]) == 1


def test_429_honours_retry_after(srv):
    srv.inject(PROPS, "status", status=429, retry_after="1")
    start = time.monotonic()
    assert get_props(srv)["value"]
    assert time.monotonic() - start >= 0.9
    assert srv.hits[PROPS] == 2


def test_retry_after_is_capped(srv, monkeypatch):
    monkeypatch.setattr(_http, "retry_after_cap", 0.2)
    srv.inject(PROPS, "status", status=503, retry_after="3600")
    start = time.monotonic()
    assert get_props(srv)["value"]
    assert time.monotonic() - start < 3


def test_server_error_that_persists_raises_and_caches_nothing(srv):
    srv.inject(PROPS, "status", status=503, times=None)
    with pytest.raises(HTTPStatusError, match="HTTP 503") as info:
        get_props(srv)
    assert info.value.status == 503
    assert srv.hits[PROPS] == settings.max_retries + 1
    assert _cache.verify_cache() == {"ok": [], "corrupt": [], "orphans": [], "partials": []}


def test_client_error_is_not_retried(srv):
    with pytest.raises(HTTPStatusError) as info:
        _http.get_json(f"{srv.base_url}/ODataApi/odata/00000NED/DataProperties",
                       source="cbs-odata")
    assert info.value.status == 404
    assert srv.hits["/ODataApi/odata/00000NED/DataProperties"] == 1


def test_truncated_body_is_retried_and_only_the_complete_body_cached(srv, tmp_path):
    srv.inject(PROPS, "truncate")
    doc = get_props(srv)
    assert srv.hits[PROPS] == 2
    entry = _cache.verify_cache()["ok"]
    assert len(entry) == 1
    assert json.loads((tmp_path / "cache" / entry[0]).read_text()) == doc


def test_truncated_body_every_time_leaves_no_cache_entry(srv, tmp_path):
    srv.inject(PROPS, "truncate", times=None)
    with pytest.raises(DownloadError, match="gave up after 3 attempts"):
        get_props(srv)
    assert _cache.verify_cache() == {"ok": [], "corrupt": [], "orphans": [], "partials": []}


def test_invalid_json_with_matching_length_is_never_cached(srv):
    srv.inject(PROPS, "invalid-json", times=None)
    with pytest.raises(DownloadError, match="not valid JSON"):
        get_props(srv)
    assert _cache.verify_cache()["ok"] == []


def test_timeout_then_success(srv):
    settings.requests_timeout = 0.3
    srv.inject(PROPS, "sleep", seconds=1.0)
    assert get_props(srv)["value"]
    assert srv.hits[PROPS] == 2


def test_timeout_every_time_raises(srv):
    settings.requests_timeout = 0.2
    settings.max_retries = 1
    srv.inject(PROPS, "sleep", seconds=0.6, times=None)
    with pytest.raises(DownloadError, match="Timeout"):
        get_props(srv)
    assert _cache.verify_cache()["ok"] == []


def test_dropped_connection_is_retried(srv):
    srv.inject(PROPS, "drop")
    assert get_props(srv)["value"]


# -- paging ----------------------------------------------------------------------------------


def bag_params() -> dict:
    return {"bbox": "252000,528000,257000,533000", "bbox-crs": RD, "crs": RD, "limit": 5,
            "f": "json"}


def test_paging_follows_next_links_and_resumes_from_the_cache(srv):
    pages = list(_http.iter_pages(f"{srv.base_url}{BAG_ITEMS}", params=bag_params(),
                                  source="pdok-bag"))
    ids = [f["id"] for p in pages for f in p["features"]]
    assert len(pages) >= 3 and len(ids) == len(set(ids))
    assert srv.hits[BAG_ITEMS] == len(pages)
    # a second run (e.g. after a crash) reads every page from the cache
    again = list(_http.iter_pages(f"{srv.base_url}{BAG_ITEMS}", params=bag_params(),
                                  source="pdok-bag"))
    assert again == pages and srv.hits[BAG_ITEMS] == len(pages)


def test_interrupted_paging_resumes_where_it_stopped(srv):
    srv.inject(BAG_ITEMS, "status", status=503, times=None)
    gen = _http.iter_pages(f"{srv.base_url}{BAG_ITEMS}", params=bag_params(), source="pdok-bag")
    srv.clear()
    first = next(gen)  # page 1 downloaded
    srv.inject(BAG_ITEMS, "status", status=503, times=None)
    with pytest.raises(HTTPStatusError):
        next(gen)
    srv.clear()
    pages = list(_http.iter_pages(f"{srv.base_url}{BAG_ITEMS}", params=bag_params(),
                                  source="pdok-bag"))
    assert pages[0] == first
    assert srv.hits[BAG_ITEMS] == len(pages) - 1  # page 1 came from the cache


def test_a_next_link_that_never_ends_stops(srv):
    settings.max_pages = 5
    srv.inject(BAG_ITEMS, "endless", times=None)
    with pytest.raises(DownloadError, match="does not end"):
        list(_http.iter_pages(f"{srv.base_url}{BAG_ITEMS}", params=bag_params(),
                              source="pdok-bag"))
    assert srv.hits[BAG_ITEMS] == 5


def test_a_next_link_that_repeats_stops(srv):
    url = f"{srv.base_url}{BAG_ITEMS}?bbox=252000,528000,257000,533000&bbox-crs={RD}&crs={RD}"
    with pytest.raises(DownloadError, match="paging loop"):
        list(_http.iter_pages(url, source="pdok-bag", next_link=lambda page: url + "&x=1"))


def test_a_next_link_to_another_host_is_refused(srv):
    with pytest.raises(DownloadError, match="not one of the configured services"):
        list(_http.iter_pages(f"{srv.base_url}{BAG_ITEMS}", params=bag_params(),
                              source="pdok-bag",
                              next_link=lambda page: "https://evil.example/items"))


# -- offline, redirects, secrets -------------------------------------------------------------


def test_offline_raises_naming_the_missing_url(srv):
    settings.offline = True
    with pytest.raises(OfflineError, match=r"85984NED/DataProperties\?%24format=json"):
        get_props(srv)
    assert srv.total_hits == 0


def test_offline_reads_what_is_cached(srv):
    get_props(srv)
    settings.offline = True
    assert get_props(srv)["value"]
    assert srv.hits[PROPS] == 1


def test_redirect_within_configured_hosts_is_followed(srv):
    srv.add_route({"path": "/ODataApi/moved", "query": {}, "status": 301,
                   "headers": {"Location": "{{base}}" + PROPS + "?$format=json"}})
    doc = _http.get_json(f"{srv.base_url}/ODataApi/moved", source="cbs-odata")
    assert doc["value"]


def test_redirect_to_another_host_is_refused(srv):
    port = srv.base_url.rsplit(":", 1)[1]
    srv.add_route({"path": "/ODataApi/elsewhere", "query": {}, "status": 302,
                   "headers": {"Location": f"http://localhost:{port}{PROPS}?$format=json"}})
    with pytest.raises(DownloadError, match="refusing to follow a redirect"):
        _http.get_json(f"{srv.base_url}/ODataApi/elsewhere", source="cbs-odata")
    settings.allowed_redirect_hosts = ("localhost",)
    assert _http.get_json(f"{srv.base_url}/ODataApi/elsewhere", source="cbs-odata")["value"]


def test_secrets_never_reach_logs_cache_or_errors(srv, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    info = _http.get_json(f"{srv.base_url}/api/v5/Mutatiebestand/DownloadInfo",
                          params={"fileType": "csv"}, headers={"Authorization": API_KEY},
                          source="ep-online", sanitize=lambda d: {k: v for k, v in d.items()
                                                                  if k != "downloadUrl"})
    assert "downloadUrl" in info  # the caller gets the full answer ...
    _http.get_json(props_url(srv), params={"$format": "json", "apikey": "another-secret-42"},
                   source="cbs-odata")
    srv.inject(PROPS, "status", status=500, times=None)
    with pytest.raises(HTTPStatusError) as err:
        _http.get_json(props_url(srv), params={"$format": "json", "token": "third-secret-77"},
                       source="cbs-odata")
    _http.download(f"{srv.base_url}{ZIP}?sv=1&sig=RmFrZVNpZ25hdHVyZUZvclRlc3Rz", source="ep",
                   cache_id="x.zip")
    blobs = b"".join(p.read_bytes() for p in cache_files(tmp_path / "cache"))
    names = " ".join(str(p) for p in cache_files(tmp_path / "cache"))
    for secret in (API_KEY, "another-secret-42", "third-secret-77", "RmFrZVNpZ25hdHVyZUZvclRl"):
        assert secret.encode() not in blobs
        assert secret not in names
        assert secret not in caplog.text
        assert secret not in str(err.value)
    assert b"downloadUrl" not in blobs  # ... but the short-lived signed URL is not cached
    assert b'"apikey": "***"' in blobs


def test_wrong_api_key_is_a_401(srv):
    with pytest.raises(HTTPStatusError) as info:
        _http.get_json(f"{srv.base_url}/api/v5/Mutatiebestand/DownloadInfo",
                       params={"fileType": "csv"}, headers={"Authorization": "wrong-key"},
                       source="ep-online")
    assert info.value.status == 401


def test_redact_url_hides_signatures():
    shown = _redact.redact_url("https://user:pw@blob.example/f.zip?sv=1&sig=abc%2Fdef&se=2")
    assert "abc" not in shown and "pw" not in shown and "sig=%2A%2A%2A" in shown


# -- streamed downloads ----------------------------------------------------------------------


def zip_url(srv: ReplayServer) -> str:
    return f"{srv.base_url}{ZIP}?sv=2022-11-02&sig=SeCrEtSig%3D"


def download(srv: ReplayServer, **kwargs) -> Path:
    return _http.download(zip_url(srv), source="ep-online", cache_id="ep-online/test.zip",
                          suffix=".zip", **kwargs)


def test_download_is_cached_and_verified(srv, tmp_path):
    path = download(srv)
    assert path.read_bytes() == (HTTP_DATA / "ep-online" / "v20250101_v4_csv.zip").read_bytes()
    assert download(srv) == path
    assert srv.hits[ZIP] == 1
    report = _cache.verify_cache()
    assert report["ok"] == [str(path.relative_to(tmp_path / "cache"))]
    assert report["partials"] == []
    meta = json.loads(next((tmp_path / "cache").rglob("*.provenance.json")).read_text())
    assert meta["params"]["sig"] == "***" and meta["cache_id"] == "ep-online/test.zip"


def test_download_resumes_after_a_truncated_body(srv, monkeypatch):
    monkeypatch.setattr(_http, "CHUNK_SIZE", 128)
    srv.inject(ZIP, "truncate")
    path = download(srv)
    assert path.read_bytes() == (HTTP_DATA / "ep-online" / "v20250101_v4_csv.zip").read_bytes()
    ranges = [e["range"] for e in srv.log if e["path"] == ZIP]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"
    assert _cache.verify_cache()["partials"] == []


def test_download_that_keeps_failing_leaves_no_complete_looking_file(srv, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setattr(_http, "CHUNK_SIZE", 128)
    srv.inject(ZIP, "truncate", times=None)
    with pytest.raises(DownloadError):
        download(srv)
    report = _cache.verify_cache()
    assert report["ok"] == [] and report["orphans"] == [] and report["corrupt"] == []
    assert all(Path(p).name.startswith(".") and p.endswith(".part")
               for p in report["partials"])
    assert not list((tmp_path / "cache").rglob("*.zip"))
    # the next attempt resumes the partial file and completes it
    srv.clear()
    path = download(srv)
    assert zipfile.ZipFile(path).testzip() is None
    assert _cache.verify_cache()["partials"] == []


def test_download_failing_validation_is_discarded(srv):
    def reject(path: Path) -> None:
        raise ValueError("not what we wanted")

    with pytest.raises(DownloadError, match="not what we wanted"):
        download(srv, validate=reject)
    assert _cache.verify_cache() == {"ok": [], "corrupt": [], "orphans": [], "partials": []}


def test_download_offline_and_missing(srv):
    settings.offline = True
    with pytest.raises(OfflineError, match=r"ep-online/test\.zip"):
        download(srv)
