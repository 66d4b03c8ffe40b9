"""Reports and the index on a phone (390×844) and on a desktop, in a real browser (issue 18).

Headless Chromium (``/usr/bin/chromium`` through Playwright, as in ``test_browser``) opens a
rendered demo report and ``index.html`` and measures: the page never scrolls sideways, a wide
table scrolls inside its own box (with a hint on a phone), numbers do not wrap, the banner and
the charts keep a readable size on a phone, in a box that scrolls. The maps are tested in
``test_browser_maps_phone``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from test_browser import demo_reports

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

#: Everything measured on a page, in one evaluation.
MEASURE = """() => {
  const se = document.scrollingElement;
  const box = el => { const r = el.getBoundingClientRect();
                      return {left: r.left, right: r.right, width: r.width}; };
  const scroller = el => { for (let e = el; e && e !== document.body; e = e.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(e).overflowX)) return e; }
    return null; };
  const tables = [...document.querySelectorAll('table.wv-tabel')].map(t => {
    const s = scroller(t);
    const wide = s ? s.scrollWidth > s.clientWidth + 1 : false;
    let scrolls = false;
    if (s && wide) { s.scrollLeft = 40; scrolls = s.scrollLeft > 0; s.scrollLeft = 0; }
    return {table: box(t), box: s ? box(s) : null, wide, scrolls,
            shadow: s ? getComputedStyle(s).backgroundImage.includes('gradient') : false,
            hint: [s && s.previousElementSibling, t.previousElementSibling].some(
              h => h && h.classList.contains('wv-schuif') && h.offsetParent !== null)
              || getComputedStyle(t, '::before').content.includes('Schuif')};
  });
  const nums = [...document.querySelectorAll('table.wv-tabel td.wv-num')];
  const banner = document.querySelector('#synthetische-demodata');
  return {scrollWidth: se.scrollWidth, innerWidth: window.innerWidth, tables,
          wrapping: nums.filter(td => getComputedStyle(td).whiteSpace !== 'nowrap').length,
          n_nums: nums.length, banner: banner ? box(banner) : null,
          images: [...document.querySelectorAll('img')].filter(i => !i.closest('.wv-figuur'))
            .map(box),
          figures: [...document.querySelectorAll('figure.wv-figuur')].map(f => {
            const img = f.querySelector('img'), k = f.querySelector('.wv-figuur-kader');
            const wide = k.scrollWidth > k.clientWidth + 1;
            let scrolls = false;
            if (wide) { k.scrollLeft = 40; scrolls = k.scrollLeft > 0; k.scrollLeft = 0; }
            const hint = f.querySelector('.wv-schuif');
            return {box: box(k), img: box(img), natural: img.naturalWidth, wide, scrolls,
                    hint: hint !== null && hint.offsetParent !== null}; })};
}"""


def measure(browser: Any, path: Path, viewport: dict[str, int]) -> dict[str, Any]:
    """Open ``path`` offline at ``viewport`` and measure it."""
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
            ("file://", "data:", "about:", "blob:")) else r.abort())
        page.goto(path.resolve().as_uri(), wait_until="load")
        return page.evaluate(MEASURE)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_report_and_index_fit_the_screen(browser: Any, viewport: dict[str, int],
                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    out = demo_reports(tmp_path_factory)
    rec = json.loads((out / "run.json").read_text())["reports"][0]
    for path in (out / rec["html"], out / "index.html"):
        m = measure(browser, path, viewport)
        width = viewport["width"]
        assert m["innerWidth"] == width
        # the page itself never scrolls sideways (before: 471 px report, 823 px index at 390)
        assert m["scrollWidth"] <= width, (path.name, m["scrollWidth"])
        assert m["banner"] and m["banner"]["left"] >= 0 and m["banner"]["right"] <= width
        assert m["tables"], path.name
        for t in m["tables"]:
            if t["table"]["right"] <= width + 0.5:
                continue  # fits on the screen
            # wider than the screen: it scrolls inside a box that fits, with a visible hint
            assert t["box"] and t["box"]["right"] <= width + 0.5 and t["scrolls"], t
            assert t["shadow"] and (t["hint"] or width > 700), t
        assert m["n_nums"] and m["wrapping"] == 0  # numbers are never cut over two lines
        assert all(i["right"] <= width + 0.5 for i in m["images"]), m["images"]
        assert path.name == "index.html" or len(m["figures"]) >= 3, path.name
        for f in m["figures"]:  # charts: inside the screen, in a box that scrolls if wider
            assert f["box"]["right"] <= width + 0.5, f
            assert not f["wide"] or (f["scrolls"] and f["hint"]), f
        if width == PHONE["width"]:
            # on a phone the wide tables really are wider than the screen, and scroll
            assert sum(t["wide"] for t in m["tables"]) >= 1, path.name
            assert all(t["hint"] for t in m["tables"] if t["wide"]), m["tables"]
            # a chart keeps 60 % of its pixel size: its 9.5 pt text about 10 px (before: 35 %,
            # 6 px, shrunk to the screen)
            assert all(f["img"]["width"] >= 0.59 * f["natural"] for f in m["figures"]), \
                m["figures"]
        else:
            assert not any(t["hint"] for t in m["tables"])  # no hint on a wide screen
            assert not any(f["wide"] or f["hint"] for f in m["figures"]), m["figures"]


def test_the_index_has_no_horizontal_scroll_at_phone_width(
        browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The index was 779 px wide at 390 px; now its table scrolls in a box of the screen."""
    m = measure(browser, demo_reports(tmp_path_factory) / "index.html", PHONE)
    [t] = m["tables"]
    assert t["box"]["right"] <= PHONE["width"] and t["table"]["width"] > t["box"]["width"]
    assert m["scrollWidth"] == PHONE["width"]
