"""A real browser and the map background (issue 16): no request when it is off; tiles from
the configured PDOK URL when it is on, and the reader can switch it off.

Headless Chromium (``/usr/bin/chromium`` through Playwright, as in ``test_browser``); there is
no internet, so tile requests are intercepted and answered with a small PNG.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from test_maps import grid_buurten
from woonvoorraad.report.maps import map_from_buurten, save_map

pytestmark = pytest.mark.browser
TILE = re.compile(r"^https://service\.pdok\.nl/brt/achtergrondkaart/wmts/v2_0/grijs/"
                  r"EPSG:3857/\d+/\d+/\d+\.png$")
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
                       "HwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


def _open(browser: Any, path: Path) -> tuple[Any, Any, list[str], list[str]]:
    """Open a map; every request that is not a local file is recorded; PDOK tiles get a PNG,
    anything else is refused."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    remote: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file://", "data:", "about:", "blob:")):
            r.continue_()
            return
        remote.append(url)
        if TILE.match(url):
            r.fulfill(status=200, content_type="image/png", body=PNG)
        else:
            r.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_selector("path.leaflet-interactive", timeout=10_000)
    return context, page, remote, errors


def test_no_background_means_no_request(browser: Any, tmp_path: Path) -> None:
    path = save_map(map_from_buurten(grid_buurten()), tmp_path / "kaart.html")
    context, page, remote, errors = _open(browser, path)
    try:
        page.wait_for_timeout(1500)  # time for any late request
        assert remote == [] and errors == []
        assert page.locator(".leaflet-tile-pane img").count() == 0
    finally:
        context.close()


def test_pdok_background_loads_tiles_and_can_be_switched_off(browser: Any,
                                                             tmp_path: Path) -> None:
    path = save_map(map_from_buurten(grid_buurten(), achtergrond="pdok"), tmp_path / "kaart.html")
    context, page, remote, errors = _open(browser, path)
    try:
        page.wait_for_selector(".leaflet-tile-pane img.leaflet-tile-loaded", timeout=10_000)
        assert remote, "no tile was requested"
        assert all(TILE.match(u) for u in remote), [u for u in remote if not TILE.match(u)]
        assert errors == []
        # the buurten are drawn above the tiles (overlay pane over tile pane)
        assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() > 0
        box = page.get_by_label(re.compile("BRT-Achtergrondkaart grijs"))
        assert box.is_checked()
        box.uncheck()
        page.wait_for_timeout(300)
        assert page.locator(".leaflet-tile-pane img").count() == 0
        n = len(remote)
        page.mouse.wheel(0, -400)  # zooming with the background off requests nothing
        page.wait_for_timeout(800)
        assert len(remote) == n
    finally:
        context.close()
