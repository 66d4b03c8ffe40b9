"""Security: hostile names are escaped everywhere, file names are safe, no secret leaks,
the HTTP layer stays on the configured hosts and ZIP archives cannot escape their folder.
"""

from __future__ import annotations

import base64
import html
import inspect
import json
import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import nbformat
import pyogrio
import pytest

from _testserver import ReplayServer, fast_io, no_internet, replay_settings
from woonvoorraad import _archive, settings
from woonvoorraad.cli import main
from woonvoorraad.errors import (
    DownloadError,
    GemeenteNotFoundError,
    InputError,
    UnsafeArchiveError,
)
from woonvoorraad.report import maps, sections
from woonvoorraad.report._processes import worker_env
from woonvoorraad.report.format import esc
from woonvoorraad.report.index import index_html
from woonvoorraad.report.render import ReportStatus, _stems, render_reports
from woonvoorraad.report.run import Run, load_run
from woonvoorraad.report.sections import make_map
from woonvoorraad.sources import _cache, _http, eponline_api, fetch, pdok

BAD = Path(__file__).parent / "data" / "bad"
HTTP_DATA = Path(__file__).parent / "data" / "http"
API_KEY = "sk-test-7f3a9c51e2"
SIGNATURE = "RmFrZVNpZ25hdHVyZUZvclRl"  # the signature in the recorded EP-Online download URL

#: Names from the data that must come out as text, never as markup or code.
HOSTILE = [
    "<script>alert('buurt')</script>",
    '"><img src=x onerror=alert(1)>',
    "O'Neil \"&\" <b>Zonen</b>",
    "\u202eevil\u202c Zürich 🏠",
    "$\\frac{$ 100% {{7*7}}",
    "</script><script>alert(2)</script>",
    "javascript:alert(3)",
]
HOSTILE_GEMEENTE = ["<script>alert('gm')</script>", "../../etc/passwd"]
#: Markup that must never appear raw in a page (only escaped).
RAW = ["<script>alert", "<img src=x", "<b>Zonen</b>", "</script><script>alert(2)"]



def _no_raw_markup(text: str, where: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} unescaped in {where}"


def _hostile_buurten(path: Path) -> None:
    """Give the buurten of a wijk- en buurtkaart GeoPackage hostile names, in place."""
    gdf = pyogrio.read_dataframe(path, layer="buurten")
    gdf["buurtnaam"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(gdf))]
    gdf["wijknaam"] = [HOSTILE[(i + 3) % len(HOSTILE)] for i in range(len(gdf))]
    codes = sorted(gdf["gemeentecode"].unique())
    names = dict(zip(codes, HOSTILE_GEMEENTE * len(codes), strict=False))
    gdf["gemeentenaam"] = gdf["gemeentecode"].map(names)
    pyogrio.write_dataframe(gdf, path, layer="buurten", driver="GPKG")


# --------------------------------------------------------------------------------------------
# escaping in report sections, the index, maps and charts


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from woonvoorraad.demo.region import make_demo
    from woonvoorraad.pipeline import build

    raw = make_demo(tmp_path_factory.mktemp("raw") / "demo", scale=0.05)
    _hostile_buurten(raw["buurten"])
    out = tmp_path_factory.mktemp("processed")
    build(bag_path=raw["bag"], buurten_path=raw["buurten"], out=out,
          cbs_paths=[raw["cbs_2022"]], labels_path=raw["labels"], synthetic=True)
    return load_run(out)


def _sections() -> list[tuple[str, Any]]:
    names = sorted(n for n in dir(sections) if n.startswith(("section_", "chart_")))
    return [(n, getattr(sections, n)) for n in [*names, "title_block"]]


def test_every_report_section_escapes_hostile_names(hostile_run: Run) -> None:
    codes = list(hostile_run.gemeenten()["gemeentecode"])
    assert set(hostile_run.buurten["buurtnaam"]) <= set(HOSTILE)
    seen_escaped = set()
    for code in codes:
        for name, func in _sections():
            params = inspect.signature(func).parameters
            out = func(hostile_run, code) if "code" in params else func(hostile_run)
            text = str(out)
            _no_raw_markup(text, f"{name}({code})")
            for h in HOSTILE + HOSTILE_GEMEENTE:
                if esc(h) in text:
                    seen_escaped.add(h)
            if name.startswith("chart_") and "data:image/png;base64," in text:
                data = text.split("data:image/png;base64,", 1)[1]
                png = base64.b64decode(data.split('"', maxsplit=1)[0])
                assert png.startswith(b"\x89PNG")  # rendered, mathtext did not choke on "$"
    # the names really reached the pages, escaped
    assert {HOSTILE[0], HOSTILE[1], HOSTILE_GEMEENTE[0]} <= seen_escaped


def test_index_page_escapes_names_and_links(hostile_run: Run) -> None:
    statuses = [ReportStatus(gemeentecode=c, gemeentenaam=hostile_run.gemeentenaam(c),
                                     status="failed", error=HOSTILE[0],
                                     html=f"{c}-x.html", log="logs/x.log")
                for c in hostile_run.gemeenten()["gemeentecode"]]
    page = index_html(hostile_run, statuses, region=HOSTILE[1])
    _no_raw_markup(page, "index.html")
    assert esc(HOSTILE_GEMEENTE[0]) in page
    assert esc(HOSTILE[0]) in page  # the error message, escaped


def test_map_tooltips_and_layers_escape_hostile_names(hostile_run: Run) -> None:
    for code in hostile_run.gemeenten()["gemeentecode"]:
        page = maps.map_html(make_map(hostile_run, code))
        _no_raw_markup(page, f"map of {code}")
        # the data sits in <script> as JSON with <, > and & escaped, and is shown with
        # textContent; so "</script>" in a name cannot end the script
        assert "\\u003cscript\\u003ealert" in page
        assert "\\u003c/script\\u003e\\u003cscript\\u003e" in page
        iframe = maps.map_iframe(make_map(hostile_run, code))
        assert iframe.count("<iframe") == 1 and "<script" not in iframe.split("srcdoc=")[1]


def test_titles_of_maps_are_escaped() -> None:
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame({"buurtcode": ["BU00010001"], "buurtnaam": [HOSTILE[5]],
                            "gemeentenaam": [HOSTILE_GEMEENTE[0]], "n_woningen": [10]},
                           geometry=[shapely.box(230_000, 520_000, 230_500, 520_500)],
                           crs=28992)
    page = maps.map_html(maps.map_from_buurten(gdf, indicators=["n_woningen"],
                                               title=HOSTILE[0], subtitle=HOSTILE[1]))
    _no_raw_markup(page, "map title")
    assert f"<title>{html.escape(HOSTILE[0])}</title>" in page


# --------------------------------------------------------------------------------------------
# file names from data


def test_report_file_names_never_leave_the_folder() -> None:
    class FakeRun:
        names: ClassVar[dict[str, str]] = {
            "GM0001": "../../etc/passwd", "GM0002": "..", "GM0003": "CON",
            "GM0004": "a/b\\c\x00d", "GM0005": "x" * 300, "GM0006": "<script>"}

        def gemeentenaam(self, code: str) -> str:
            return self.names.get(code, code)

    codes = [*FakeRun.names, "GM/../../0007", "../GM0008"]
    stems = _stems(FakeRun(), codes)  # type: ignore[arg-type]
    root = Path("/srv/reports")
    for stem in stems.values():
        assert "/" not in stem and "\\" not in stem and ".." not in stem and "\x00" not in stem
        for suffix in (".html", ".ipynb", "-kaart.html"):
            assert (root / f"{stem}{suffix}").resolve().parent == root
    assert stems["GM0001"] == "GM0001-etc-passwd"
    assert len(stems["GM0005"]) <= 80


@pytest.mark.parametrize("name", ["../../etc", "GM0114/../../x", "..", "/etc/passwd"])
def test_build_gemeente_names_cannot_reach_other_folders(name: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    rc = main(["build", "--gemeente", name, "--data-dir", str(tmp_path), "-q"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "woonvoorraad: error:" in err and "Traceback" not in err
    assert not any(tmp_path.rglob("*"))
    with pytest.raises((GemeenteNotFoundError, InputError)):
        fetch.build_inputs_for(name, data_dir=tmp_path)


# --------------------------------------------------------------------------------------------
# secrets


def test_report_workers_do_not_get_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.ep_online_api_key_env, API_KEY)
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok-123456")
    monkeypatch.setenv("WOONVOORRAAD_PROGRESS", "1")
    env = worker_env()
    assert settings.ep_online_api_key_env not in env and "SOME_SERVICE_TOKEN" not in env
    assert API_KEY not in json.dumps(env)
    assert env["WOONVOORRAAD_PROGRESS"] == "0" and "PATH" in env


@pytest.mark.slow
def test_no_secret_anywhere_from_fetch_to_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """fetch (with the key) → build → report, with hostile names; then scan every output."""
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    monkeypatch.setenv(settings.ep_online_api_key_env, API_KEY)
    monkeypatch.setattr(pdok, "BAG_PAGE_LIMIT", 7)
    with no_internet(), ReplayServer(HTTP_DATA, api_key=API_KEY) as srv, fast_io(), \
            replay_settings(srv, data_dir=data):
        result = fetch.fetch("Emmen", data_dir=data)["Emmen"]
        assert result.inputs["labels"] is not None  # the key was used
        _hostile_buurten(Path(result.inputs["buurten"]))
        assert main(["build", "--gemeente", "Emmen", "--data-dir", str(data), "-v"]) == 0
        processed = data / "processed" / "GM0114"
        folder = tmp_path / "reports"
        run = render_reports(processed, out_dir=folder, workers=1, timeout=300)
    assert run.ok, [r.error for r in run.reports]
    # every byte written anywhere: raw data, cache, manifests, build, reports, logs
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in files) and any(p.name == "manifest.json"
                                                            for p in files)
    out, err = capsys.readouterr()
    for secret in (API_KEY, SIGNATURE):
        for p in files:
            assert secret.encode() not in p.read_bytes(), p
            assert secret not in p.name
        assert secret not in caplog.text and secret not in out and secret not in err
    # the executed notebook: no hostile text in its markdown, and none raw in its outputs
    nb = nbformat.read(next(folder.glob("*.ipynb")), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert not any(h in cell.source for h in HOSTILE)
        for output in cell.get("outputs", []):
            _no_raw_markup(json.dumps(output.get("data", {}).get("text/html", "")),
                           "notebook output")
    for page in folder.glob("*.html"):
        _no_raw_markup(page.read_text(encoding="utf-8"), page.name)
    assert all(p.resolve().is_relative_to(folder.resolve()) for p in folder.rglob("*"))


# --------------------------------------------------------------------------------------------
# the HTTP layer stays on the configured hosts


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[ReplayServer]:
    with no_internet(), ReplayServer(HTTP_DATA, api_key=API_KEY) as server, fast_io(), \
            replay_settings(server, cache_dir=tmp_path / "cache", data_dir=tmp_path / "data"):
        yield server


PROPS = "/ODataApi/odata/85984NED/DataProperties"


@pytest.mark.parametrize(("location", "match"), [
    ("file:///etc/passwd", "only http and https"),
    ("ftp://{host}/x", "only http and https"),
    ("http://user:secret@{host}" + PROPS, "credentials in the URL"),
    ("http://{host}@evil.example" + PROPS, "credentials in the URL"),
    ("http://evil.example" + PROPS, "'evil.example' is not one of"),
])
def test_redirects_to_other_places_are_refused(srv: ReplayServer, location: str,
                                               match: str) -> None:
    host = srv.base_url.split("//", 1)[1]
    srv.add_route({"path": "/ODataApi/moved", "query": {}, "status": 302,
                   "headers": {"Location": location.format(host=host)}})
    with pytest.raises(DownloadError, match=re.escape(match)):
        _http.get_json(f"{srv.base_url}/ODataApi/moved", source="cbs-odata")
    assert "secret" not in str(_cache.verify_cache())


def test_downgrade_from_https_to_http_is_refused() -> None:
    allowed = "https://api.pdok.nl/kadaster/bag/ogc/v2/collections/pand/items?cursor=2"
    _http.check_host(allowed, origin="https://api.pdok.nl/kadaster/bag/ogc/v2/x")
    with pytest.raises(DownloadError, match="from https to plain http"):
        _http.check_host(allowed.replace("https:", "http:"),
                         origin="https://api.pdok.nl/kadaster/bag/ogc/v2/x")


def test_authorization_is_not_sent_to_another_host(srv: ReplayServer) -> None:
    port = srv.base_url.rsplit(":", 1)[1]
    srv.add_route({"path": "/ODataApi/hop", "query": {}, "status": 307,
                   "headers": {"Location": f"http://localhost:{port}{PROPS}?$format=json"}})
    settings.allowed_redirect_hosts = ("localhost",)
    _http.get_json(f"{srv.base_url}/ODataApi/hop", headers={"Authorization": API_KEY},
                   source="cbs-odata")
    hops = [e for e in srv.log if e["path"] in ("/ODataApi/hop", PROPS)]
    assert [e["authorization"] for e in hops] == [True, False]


def test_next_link_to_another_host_is_refused(srv: ReplayServer) -> None:
    page = {"type": "FeatureCollection", "features": [],
            "links": [{"rel": "next", "href": "http://127.0.0.1@evil.example/items"}]}
    with pytest.raises(DownloadError, match=r"evil\.example"):
        list(_http.iter_pages(f"{srv.base_url}{PROPS}", params={"$format": "json"},
                              source="cbs-odata",
                              next_link=lambda _: _http.find_next_link_ogc(page)))


# --------------------------------------------------------------------------------------------
# ZIP archives


@pytest.mark.parametrize(("name", "match"), [
    ("zip_slip.zip", "leads outside the folder"), ("zip_absolute.zip", "leads outside"),
    ("zip_encrypted.zip", "encrypted"), ("zip_bomb.zip", "zip bomb"),
    ("zip_truncated.zip", "damaged or truncated")])
def test_unsafe_zips_are_refused_everywhere(name: str, match: str, tmp_path: Path) -> None:
    path = BAD / "ep" / name
    with pytest.raises(UnsafeArchiveError, match=match):
        _archive.safe_extract_zip(path, tmp_path / "x")
    with pytest.raises(UnsafeArchiveError, match=match):
        eponline_api.extract_labels(path, ["0000010000000001"], tmp_path / "labels.csv")
    with pytest.raises(ValueError, match=match):
        eponline_api.check_bulk_zip(path)  # a downloaded bulk file: discarded, never cached
    assert not any(tmp_path.rglob("*"))
    assert not Path("/tmp/evil").exists()


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("v.csv")
    info.external_attr = (0o120777 << 16)  # a symbolic link to /etc/passwd
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        _archive.safe_extract_zip(archive, tmp_path / "x")


def test_safe_extract_writes_a_good_zip_inside_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "ok.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("labels/v.csv", "a;b\n1;2\n")
        zf.writestr("readme.txt", "x")
    written = _archive.safe_extract_zip(archive, tmp_path / "dest")
    assert sorted(p.relative_to(tmp_path / "dest").as_posix() for p in written) == [
        "labels/v.csv", "readme.txt"]
    assert (tmp_path / "dest" / "labels" / "v.csv").read_text() == "a;b\n1;2\n"


def test_downloaded_zip_slip_is_discarded_and_not_cached(srv: ReplayServer,
                                                         tmp_path: Path) -> None:
    srv.add_route({"path": "/blob/slip.zip", "query": {}, "status": 200,
                   "file": str(BAD / "ep" / "zip_slip.zip"), "content_type": "application/zip"})
    with pytest.raises(DownloadError, match="leads outside the folder"):
        _http.download(f"{srv.base_url}/blob/slip.zip", source="ep-online",
                       cache_id="ep-online/slip.zip", suffix=".zip",
                       validate=eponline_api.check_bulk_zip)
    report = _cache.verify_cache()
    assert report["ok"] == [] and report["partials"] == []
    assert not list((tmp_path / "cache").rglob("*.zip"))
