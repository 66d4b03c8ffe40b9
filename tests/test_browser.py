"""A real browser opens a report and a map from disk with the network blocked.

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by the Playwright Python package)
checks what an analyst on a closed network sees: polygons drawn, a tooltip on hover, no
JavaScript errors, no code cells in the report and the synthetic-data banner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from woonvoorraad.demo import build_demo
from woonvoorraad.report.render import render_reports

pytestmark = pytest.mark.browser


def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo reports, rendered once per session (same folder as in test_reports)."""
    out = tmp_path_factory.getbasetemp() / "woonvoorraad-rapporten"
    run_json = out / "run.json"
    if run_json.is_file() and json.loads(run_json.read_text())["status"] == "ok":
        return out
    data = build_demo(tmp_path_factory.getbasetemp() / "woonvoorraad-demo", scale=0.1)
    result = render_reports(data, out_dir=out, workers=2, timeout=300)
    assert result.ok, [(r.gemeentecode, r.error) for r in result.failed]
    return out


class OfflinePage:
    """A page that refuses every request except local files, and records JS errors."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:", "about:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: Path) -> Any:
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        return self.page

    def close(self) -> None:
        self.context.close()


def hover_shows_tooltip(frame: Any, page: Any) -> str:
    """Hover over buurt polygons until one shows a tooltip; return its text."""
    # the village circles let the pointer through: only buurt tooltips are looked for here
    frame.locator(".wv-dorp").evaluate_all(
        "els => els.forEach(e => e.style.pointerEvents = 'none')")
    paths = frame.locator("path.leaflet-interactive:not(.wv-dorp)")
    for i in range(paths.count()):
        box = paths.nth(i).bounding_box()
        if not box or box["width"] < 8 or box["height"] < 8:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tip = frame.locator(".leaflet-tooltip")
        try:
            tip.first.wait_for(state="visible", timeout=1500)
        except Exception:  # covered by a control or a hole; try the next buurt
            continue
        return tip.first.inner_text()
    raise AssertionError("no tooltip appeared over any buurt")


def test_map_works_offline(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = demo_reports(tmp_path_factory)
    rec = json.loads((out / "run.json").read_text())["reports"][0]
    view = OfflinePage(browser)
    try:
        page = view.open(out / rec["kaart"])
        page.wait_for_selector("path.leaflet-interactive", timeout=10_000)
        n_buurten = rec["kerncijfers"]["n_buurten"]
        assert page.locator("path.leaflet-interactive").count() >= n_buurten
        fills = page.eval_on_selector_all(
            "path.leaflet-interactive", "els => els.map(e => e.getAttribute('fill'))")
        assert len({f for f in fills if f and f != "none"}) >= 2  # classed colours
        text = hover_shows_tooltip(page, page)
        assert "Buurtcode" in text and "Woningen (BAG)" in text
        legend = page.locator(".wv-legenda")
        first_title = legend.locator(".wv-legenda-titel").inner_text()
        radios = page.locator(".leaflet-control-layers-base input[type=radio]")
        assert radios.count() >= 3
        radios.nth(2).check()
        assert legend.locator(".wv-legenda-titel").inner_text() != first_title
        assert page.locator(".wv-banner").inner_text().startswith("SYNTHETISCHE DEMODATA")
        assert not view.errors, view.errors
        assert not view.blocked, view.blocked
    finally:
        view.close()


def test_report_works_offline(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = demo_reports(tmp_path_factory)
    rec = json.loads((out / "run.json").read_text())["reports"][0]
    view = OfflinePage(browser)
    try:
        page = view.open(out / rec["html"])
        banner = page.locator("#synthetische-demodata")
        assert banner.is_visible() and "SYNTHETISCHE DEMODATA" in banner.inner_text()
        assert page.locator(".jp-InputArea, div.input, .input_area, .jp-CodeCell pre").count() \
            == 0
        assert page.locator("h1").first.inner_text() == f"Gemeente {rec['gemeentenaam']}"
        assert page.locator("h2").count() >= 10
        images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert len(images) >= 4 and all(w > 0 for w in images)
        kaart = page.locator("iframe.wv-kaart")
        kaart.scroll_into_view_if_needed()
        frame = page.frame_locator("iframe.wv-kaart")
        frame.locator("path.leaflet-interactive").first.wait_for(timeout=10_000)
        assert frame.locator("path.leaflet-interactive").count() >= rec["kerncijfers"][
            "n_buurten"]
        text = hover_shows_tooltip(frame, page)
        assert "Buurtcode" in text
        assert not view.errors, view.errors
        assert not view.blocked, view.blocked
        index = view.open(out / "index.html")
        assert index.locator(f'a[href="{rec["html"]}"]').count() == 1
        assert not view.errors and not view.blocked
    finally:
        view.close()


def test_villages_are_circles_with_their_figures(
        browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every woonplaats of the gemeente is a circle; a village candidate is filled, and its
    tooltip gives the village's figures and the candidate's rank."""
    import pandas as pd

    out = demo_reports(tmp_path_factory)
    rec = json.loads((out / "run.json").read_text())["reports"][0]
    code = rec["gemeentecode"]
    data = Path(json.loads((out / "run.json").read_text())["processed_dir"])
    dorpen = pd.read_csv(data / "woonplaatsen.csv", dtype={"woonplaats": str})
    dorpen = dorpen[dorpen["gemeentecode"] == code]
    kand = pd.read_csv(data / "proeftuinen.csv", dtype={"eenheid_code": str})
    kand = kand[(kand["gemeentecode"] == code) & (kand["niveau"] == "woonplaats")
                & kand["primair"] & ~kand["geen_kandidaat"]]
    assert len(dorpen) >= 2 and len(kand) >= 1  # the demo's rural gemeenten
    view = OfflinePage(browser)
    try:
        page = view.open(out / rec["kaart"])
        page.wait_for_selector("path.wv-dorp", timeout=10_000)
        assert page.locator("path.wv-dorp").count() == len(dorpen)
        assert page.locator("path.wv-dorp-kandidaat").count() == len(kand)
        assert page.get_by_label("Dorpen (woonplaatsen)").is_checked()  # on: it has candidates
        # the candidate ranked first: its name, dwellings and rank in the tooltip
        eerste = kand.sort_values("rang").iloc[0]
        naam = str(eerste["eenheid_code"])
        rij = dorpen[dorpen["woonplaats"] == naam].iloc[0]
        for i in range(page.locator("path.wv-dorp-kandidaat").count()):
            page.locator("path.wv-dorp-kandidaat").nth(i).hover(force=True)
            tip = page.locator(".leaflet-tooltip").last
            tip.wait_for(state="visible", timeout=5000)
            if tip.locator(".wv-tt-titel").inner_text() == naam:
                break
        else:
            raise AssertionError(f"no tooltip for {naam}")
        text = tip.inner_text()
        assert f"{int(rij['n_woningen']):,}".replace(",", ".") in text
        assert f"Proeftuinkandidaat nr. {int(eerste['rang'])}" in text and "(dorp)" in text
        assert not view.errors, view.errors
    finally:
        view.close()
