"""Names from the data are never run as Jinja templates (issue 17, item 1).

branca renders a folium map in two passes: the output of every ``MacroElement`` macro is handed
to ``branca.element.Element(template=...)``, compiled as a new Jinja template and rendered a
second time inside the ``Figure``. Any buurt, wijk or gemeente name embedded in that output was
therefore Jinja source: ``{{7*7}}`` became ``49``, ``{{ cycler.__init__.__globals__.os... }}``
ran a shell command while ``woonvoorraad report`` rendered the map, a name that built
``</script><script>`` injected a script, and ``Buurt {{ onvolledig`` made the report fail.

These tests check the map on its own, the whole ``woonvoorraad report`` run from a CBS
GeoPackage with such names, and (marked ``browser``) what headless Chromium shows.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from matplotlib.text import Text

from test_browser import OfflinePage
from woonvoorraad.cli import main
from woonvoorraad.report import charts, maps
from woonvoorraad.report.format import esc


def jinja_text(text: str) -> str:
    """A Jinja expression without quotes that evaluates to ``text``.

    Quotes would be escaped by ``tojson`` (``'`` becomes ``\\u0027``) and break the payload;
    ``chr`` reached through a global keeps it valid after JSON encoding.
    """
    return " ~ ".join(f"cycler.__init__.__globals__.__builtins__.chr({ord(c)})" for c in text)


def jinja_shell(command: str) -> str:
    """A name that runs ``command`` through ``os.system`` when Jinja renders it."""
    return "{{ cycler.__init__.__globals__.os.system(" + jinja_text(command) + ") }}"


def hostile_names(tmp: Path) -> dict[str, str]:
    """Names that Jinja would evaluate, by test id; a run that executes one creates a file in
    ``tmp`` (``pwned-*``) or shows ``49``, ``xxx``, ``uid=`` or a script."""
    return {
        "rekensom": "{{7*7}}",
        "lus": "{% for x in range(3) %}x{% endfor %}",
        "shell": f"{{{{ cycler.__init__.__globals__.os.system('touch {tmp}/pwned-quotes') }}}}",
        "shell-zonder-quotes": jinja_shell(f"touch {tmp}/pwned-chr"),
        "popen": "{{ cycler.__init__.__globals__.os.popen(dict(id=1)|first).read() }}",
        "onvolledig": "Buurt {{ onvolledig",
        "commentaar": "Buurt {# niet gesloten",
        "script": "</script><script>alert(1)</script>",
        "script-via-jinja": "{{ " + jinja_text("</script><script>alert(2)</script>") + " }}",
        "raw": "{% raw %}Buurt $x^2$ {{ 7*7 }}",
    }


#: What executed template code leaves in a page.
EXECUTED = ("uid=", "</script><script>alert")
_JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


# ``browser``: headless Chromium, skipped when it or Playwright is missing (tests/conftest.py)


def pwned(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("pwned*"))


def map_strings(page: str) -> set[str]:
    """Every double-quoted string literal of the map's own script (the last ``<script>`` of
    the page, after the inlined Leaflet), decoded as JSON."""
    script = page[page.rindex("<script>"):]
    out = set()
    for m in _JS_STRING.finditer(script):
        try:
            out.add(json.loads(m.group(0)))
        except json.JSONDecodeError:
            continue
    return out


def page_title(page: str) -> str:
    """The text of the ``<title>`` of an HTML page."""
    return html.unescape(page.split("<title>", 1)[1].split("</title>", 1)[0])


def assert_inert(page: str, names: list[str], where: str) -> None:
    """No trace of executed template code; every name is in the map's data, literally."""
    low = page.lower()
    for trace in EXECUTED:
        assert trace not in low, f"{trace!r} in {where}"
    strings = map_strings(page)
    for name in names:
        assert name in strings, f"{name!r} not shown literally in {where}"
    assert "49" not in strings and "xxx" not in strings, where


def buurten(names: list[str], gemeente: str, *, size: float = 1_000.0) -> gpd.GeoDataFrame:
    """One square buurt per name, in a row, of one gemeente; the name is also the wijk and the
    buurt type (a categorical indicator, so it reaches the legend)."""
    n = len(names)
    return gpd.GeoDataFrame({
        "buurtcode": [f"BU0001{i:04d}" for i in range(n)],
        "buurtnaam": names,
        "wijknaam": names,
        "gemeentenaam": [gemeente] * n,
        "n_woningen": [100 + 10 * i for i in range(n)],
        "typologie_naam": names,
    }, geometry=[shapely.box(230_000 + i * size, 520_000, 230_000 + (i + 1) * size,
                             520_000 + size) for i in range(n)], crs=28992)


def reden(name: str) -> str:
    """The reason of a candidate: the name, unless the map would shorten it."""
    return name if len(name) < 170 else "lange naam"


def hostile_map(names: list[str], gemeente: str) -> Any:
    gdf = buurten(names, gemeente)
    cands = pd.DataFrame({"buurtcode": gdf["buurtcode"], "rang": range(1, len(gdf) + 1),
                          "reden": [reden(n) for n in names]})
    # a village of the same name in every buurt, the first one a village candidate
    punt = gdf.geometry.representative_point()
    dorpen = pd.DataFrame({"woonplaats": names, "x_rd": punt.x, "y_rd": punt.y,
                           "n_woningen": gdf["n_woningen"].to_numpy(),
                           "rang": [1.0] + [np.nan] * (len(names) - 1),
                           "reden": [reden(names[0])] + [None] * (len(names) - 1)})
    return maps.map_from_buurten(gdf, indicators=["n_woningen", "typologie_naam"],
                                 candidates=cands, woonplaatsen=dorpen, subtitle=names[0],
                                 synthetic=True)


# --------------------------------------------------------------------------------------------
# (a) one map


@pytest.mark.parametrize("key", list(hostile_names(Path("/x"))))
def test_a_name_in_a_map_is_never_run_by_jinja(key: str, tmp_path: Path) -> None:
    name = hostile_names(tmp_path)[key]
    page = maps.map_html(hostile_map([name, "Buurt B"], name))
    assert pwned(tmp_path) == []
    assert_inert(page, [name, f"Gemeente {name}", f"Proeftuinkandidaat nr. 1: {reden(name)}"],
                 f"map with {key}")


def test_all_names_at_once_and_the_page_is_a_fixed_point_of_jinja(tmp_path: Path) -> None:
    names = list(hostile_names(tmp_path).values())
    m = hostile_map(names, names[0])
    page = maps.map_html(m)
    assert pwned(tmp_path) == []
    assert_inert(page, names, "map with every name")
    assert page_title(page) == f"Gemeente {names[0]}"
    # whatever folium or branca render once more, nothing of the page is Jinja source
    assert jinja2.Template(page, keep_trailing_newline=True).render() == page
    # rendered again (folium then repeats its addTo lines), still inert
    assert_inert(maps.map_html(m), names, "map rendered twice")
    frame = maps.map_iframe(m, title="Kaart " + names[0])
    assert "<script" not in frame.split("srcdoc=", 1)[1]
    assert pwned(tmp_path) == []


def test_names_with_dollars_and_braces_are_plain_text_in_charts() -> None:
    names = ["Buurt $x^2$", "$\\frac{$ {{7*7}}", "{% if 1 %}ja{% endif %}"]
    frame = pd.DataFrame({"buurtnaam": names, "energiebehoefte": [0.2, 0.5, 0.9],
                          "levensloopbehoefte": [0.1, 0.4, 0.7],
                          "kosten_b_min": [1e6, 2e6, 3e6], "kosten_b_max": [2e6, 4e6, 5e6]})
    for fig in (charts.plot_score_profile(frame), charts.plot_costs(frame)):
        assert charts.fig_to_png(fig).startswith(b"\x89PNG")
        texts = [t for t in fig.findobj(Text) if "$" in t.get_text() or "{" in t.get_text()]
        assert texts and not any(t.get_parse_math() for t in texts)
        shown = "\n".join(t.get_text() for t in texts)
        assert all(n in shown for n in names)


# --------------------------------------------------------------------------------------------
# (b) woonvoorraad report from a CBS GeoPackage with such names


def rename_buurten(path: Path, buurt: list[str], wijk: list[str], gemeente: list[str]) -> None:
    """Give the buurten of a wijk- en buurtkaart GeoPackage these names (cycled), in place."""
    gdf = pyogrio.read_dataframe(path, layer="buurten")
    gdf["buurtnaam"] = [buurt[i % len(buurt)] for i in range(len(gdf))]
    gdf["wijknaam"] = [wijk[(i + 3) % len(wijk)] for i in range(len(gdf))]
    codes = sorted(gdf["gemeentecode"].unique())
    gdf["gemeentenaam"] = gdf["gemeentecode"].map(
        {c: gemeente[i % len(gemeente)] for i, c in enumerate(codes)})
    pyogrio.write_dataframe(gdf, path, layer="buurten", driver="GPKG")


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``woonvoorraad report --all`` on a demo build whose names are Jinja payloads."""
    from woonvoorraad.demo.region import make_demo
    from woonvoorraad.pipeline import build

    tmp = tmp_path_factory.mktemp("jinja")
    names = hostile_names(tmp)
    gemeenten = [names["shell-zonder-quotes"], names["onvolledig"], names["script-via-jinja"]]
    raw = make_demo(tmp / "raw", scale=0.05)
    rename_buurten(raw["buurten"], list(names.values()), list(names.values())[::-1], gemeenten)
    data = tmp / "processed"
    build(bag_path=raw["bag"], buurten_path=raw["buurten"], out=data,
          cbs_paths=[raw["cbs_2022"]], labels_path=raw["labels"], synthetic=True)
    out = tmp / "rapporten"
    rc = main(["report", "--all", "--data", str(data), "--out", str(out), "--workers", "2",
               "--retries", "0", "--timeout", "600"])
    yield {"rc": rc, "tmp": tmp, "out": out, "names": names, "gemeenten": gemeenten,
           "meta": json.loads((out / "run.json").read_text(encoding="utf-8"))}


@pytest.mark.slow
def test_report_with_jinja_names_succeeds_and_runs_nothing(hostile_reports: dict[str, Any]
                                                          ) -> None:
    r = hostile_reports
    errors = [(x["gemeentecode"], x.get("error")) for x in r["meta"]["reports"]
              if x["status"] != "ok"]
    assert r["rc"] == 0 and r["meta"]["status"] == "ok", errors
    assert pwned(r["tmp"]) == []
    seen: set[str] = set()
    index = (r["out"] / "index.html").read_text(encoding="utf-8")
    for rec in r["meta"]["reports"]:
        naam = rec["gemeentenaam"]
        assert naam in r["gemeenten"]
        page = (r["out"] / rec["html"]).read_text(encoding="utf-8")
        for where, text in (("report", page), ("index", index)):
            assert not any(t in text.lower() for t in EXECUTED), (where, naam)
        assert f"<h1>Gemeente {esc(naam)}" in page
        assert esc(naam) in index
        kaart = (r["out"] / rec["kaart"]).read_text(encoding="utf-8")
        strings = map_strings(kaart)
        assert_inert(kaart, [f"Gemeente {naam}"], rec["kaart"])
        seen |= strings & set(r["names"].values())
        assert page_title(kaart) == f"Gemeente {naam}"
        assert page_title(html.unescape(page.split('srcdoc="', 1)[1].split('"', 1)[0])) \
            == f"Gemeente {naam}"
    assert set(r["names"].values()) <= seen  # every buurt name reached a map, literally
    assert pwned(r["tmp"]) == []


# --------------------------------------------------------------------------------------------
# (c) in a browser: no dialog, the names shown as they are


class DialogPage(OfflinePage):
    """An offline page that also records (and dismisses) every alert, confirm or prompt."""

    def __init__(self, browser: Any) -> None:
        super().__init__(browser)
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def tooltip_titles(frame: Any, page: Any) -> set[str]:
    """Hover over every buurt polygon; the title lines of the tooltips that appear."""
    titles: set[str] = set()
    # the village circles let the pointer through: only buurt tooltips are collected here
    frame.locator(".wv-dorp").evaluate_all(
        "els => els.forEach(e => e.style.pointerEvents = 'none')")
    paths = frame.locator("path.leaflet-interactive:not(.wv-dorp)")
    for i in range(paths.count()):
        box = paths.nth(i).bounding_box()
        if not box or box["width"] < 8 or box["height"] < 8:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tip = frame.locator(".leaflet-tooltip .wv-tt-titel")
        try:
            tip.last.wait_for(state="visible", timeout=1500)
        except Exception:  # covered by a control; try the next buurt
            continue
        titles.update(tip.all_text_contents())
    return titles


@pytest.mark.browser
def test_browser_shows_the_names_of_a_map_literally(browser: Any, tmp_path: Path) -> None:
    names = list(hostile_names(tmp_path).values())
    path = maps.save_map(hostile_map(names, names[-2]), tmp_path / "kaart.html")
    view = DialogPage(browser)
    try:
        page = view.open(path)
        page.wait_for_selector("path.leaflet-interactive", timeout=10_000)
        page.wait_for_timeout(300)
        assert page.locator(".wv-titel").first.evaluate(
            "e => e.firstChild.textContent") == f"Gemeente {names[-2]}"
        assert page.title() == f"Gemeente {names[-2]}"
        titles = tooltip_titles(page, page)
        assert "{{7*7}}" in titles and "</script><script>alert(1)</script>" in titles
        assert titles <= set(names)
        legend = page.locator(".leaflet-control-layers-base input[type=radio]")
        legend.nth(1).check()  # the buurt types: the names are the legend entries
        shown = page.locator(".wv-legenda").inner_text()
        assert "{% for x in range(3) %}x{% endfor %}" in shown and "Buurt {{ onvolledig" in shown
        assert view.dialogs == []
        assert not view.errors, view.errors
        assert pwned(tmp_path) == []
    finally:
        view.close()


@pytest.mark.slow
@pytest.mark.browser
def test_browser_shows_the_names_of_a_report_literally(browser: Any,
                                                       hostile_reports: dict[str, Any]) -> None:
    r = hostile_reports
    view = DialogPage(browser)
    try:
        for rec in r["meta"]["reports"]:
            naam = rec["gemeentenaam"]
            page = view.open(r["out"] / rec["kaart"])
            page.wait_for_selector("path.leaflet-interactive", timeout=10_000)
            assert page.locator(".wv-titel").first.evaluate(
                "e => e.firstChild.textContent") == f"Gemeente {naam}"
            assert tooltip_titles(page, page) <= set(r["names"].values())
            page = view.open(r["out"] / rec["html"])
            assert page.locator("h1").first.inner_text() == f"Gemeente {naam}"
            frame = page.frame_locator("iframe.wv-kaart")
            page.locator("iframe.wv-kaart").scroll_into_view_if_needed()
            frame.locator("path.leaflet-interactive").first.wait_for(timeout=10_000)
            assert frame.locator(".wv-titel").first.evaluate(
                "e => e.firstChild.textContent") == f"Gemeente {naam}"
            titles = tooltip_titles(frame, page)
            assert titles and titles <= set(r["names"].values())
        view.open(r["out"] / "index.html")
        assert view.dialogs == []
        assert not view.errors, view.errors
        assert not view.blocked, view.blocked
        assert pwned(r["tmp"]) == []
    finally:
        view.close()
