"""Shared fixtures: the real BAG/CBS sample, small hand-made GeoPackages, settings isolation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import geopandas as gpd
import matplotlib
import pytest
import shapely

matplotlib.use("Agg")

# The atheris harnesses in fuzz/ run as scripts (test_fuzz_smoke.py); pytest, with
# --doctest-modules, must not import them.
collect_ignore_glob = ["fuzz/fuzz_*.py", "fuzz/_harness.py"]

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(
    os.environ.get("WOONVOORRAAD_REALDATA", ROOT.parent / "shared" / "realdata")
) / "bag_cbs_sample_haaglanden.gpkg"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Path of the real BAG + CBS sample; skips the test when it is not beside the repo."""
    if not REALDATA.is_file():
        pytest.skip(f"real BAG/CBS sample not found at {REALDATA}")
    return REALDATA


@pytest.fixture(autouse=True)
def _cli_logging_per_test() -> Iterator[None]:
    """``cli.main`` adds a stderr handler once per process; drop it around each test, so that
    each test's captured stderr is its own (a handler bound to an earlier test's closed stream
    fails)."""
    import logging

    def drop() -> None:
        root = logging.getLogger("woonvoorraad")
        for h in list(root.handlers):
            if getattr(h, "_woonvoorraad", False):
                root.removeHandler(h)

    drop()
    yield
    drop()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point data and cache folders at a temporary folder; no progress bars in tests."""
    from woonvoorraad import settings

    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    monkeypatch.setattr(settings, "cache_dir", None)
    monkeypatch.setattr(settings, "show_progress", False)
    monkeypatch.setattr(settings, "offline", False)
    # a test that sets a setting directly (settings.max_pages = 5) must not change the next
    # test in the same worker: every public setting is put back afterwards
    saved = {k: v for k, v in vars(settings).items()
             if not k.startswith("_") and not callable(v) and not isinstance(v, ModuleType)}
    yield
    for k, v in saved.items():
        setattr(settings, k, v)


def write_layer(path: Path, layer: str, gdf: gpd.GeoDataFrame, **kwargs: object) -> Path:
    """Write one layer to a GeoPackage (appending layers to an existing file)."""
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", **kwargs)
    return path


@pytest.fixture
def tiny_bag_light(tmp_path: Path) -> Path:
    """A small BAG GeoPackage in the PDOK bag-light layout.

    Street of 4 terraced houses (one built 1950 is a multi-pand unit with a 1930 shed), a
    semi-detached pair (1968), a detached house (1985) with a touching garage that has no
    unit, a walk-up flat of 6 dwellings (1962), a withdrawn dwelling and a shop.
    """
    p = tmp_path / "bag-light.gpkg"
    panden = [
        ("0000100000000001", 1950, shapely.box(0, 0, 5, 9)),
        ("0000100000000002", 1950, shapely.box(5, 0, 10, 9)),
        ("0000100000000003", 1950, shapely.box(10, 0, 15, 9)),
        ("0000100000000004", 1950, shapely.box(15, 0, 20, 9)),
        ("0000100000000005", 1968, shapely.box(40, 0, 46, 9)),
        ("0000100000000006", 1968, shapely.box(46, 0, 52, 9)),
        ("0000100000000007", 1985, shapely.box(80, 0, 90, 10)),
        ("0000100000000008", 1985, shapely.box(90, 0, 94, 5)),  # garage, no unit
        ("0000100000000009", 1962, shapely.box(120, 0, 140, 10)),
        ("0000100000000010", 1930, shapely.box(0, 20, 3, 23)),  # shed linked to unit 1
    ]
    pand = gpd.GeoDataFrame(
        {"identificatie": [p_[0] for p_ in panden], "bouwjaar": [p_[1] for p_ in panden],
         "status": ["Pand in gebruik"] * len(panden)},
        geometry=[p_[2] for p_ in panden], crs=28992)
    units = []
    in_use = "Verblijfsobject in gebruik"
    for i in range(1, 8):
        units.append((f"00000100000000{i:02d}", f"000010000000000{i}", "woonfunctie", 100,
                      in_use))
    units[0] = (units[0][0], "0000100000000001,0000100000000010", "woonfunctie", 100, in_use)
    for j in range(6):
        units.append((f"00000100000001{j:02d}", "0000100000000009", "woonfunctie", 60, in_use))
    units.append(("0000010000000200", "0000100000000009", "woonfunctie", 60,
                  "Verblijfsobject ingetrokken"))
    units.append(("0000010000000201", "0000100000000009", "winkelfunctie", 80, in_use))
    pts = []
    for u in units:
        first = u[1].split(",")[0]
        poly = next(g for i, _, g in panden if i == first)
        pts.append(poly.representative_point())
    vbo = gpd.GeoDataFrame(
        {"identificatie": [u[0] for u in units], "pand_identificatie": [u[1] for u in units],
         "gebruiksdoel": [u[2] for u in units], "oppervlakte": [u[3] for u in units],
         "status": [u[4] for u in units]},
        geometry=pts, crs=28992)
    write_layer(p, "pand", pand)
    write_layer(p, "verblijfsobject", vbo)
    return p


@pytest.fixture
def tiny_buurten(tmp_path: Path) -> Path:
    """Two buurten covering the tiny BAG street, wijk-en-buurtkaart layout with sentinels."""
    p = tmp_path / "wijkenbuurten_2023.gpkg"
    gdf = gpd.GeoDataFrame(
        {"buurtcode": ["BU99010001", "BU99010002"], "buurtnaam": ["Noord", "Zuid"],
         "wijkcode": ["WK990100", "WK990100"], "wijknaam": ["Centrum", "Centrum"],
         "gemeentecode": ["GM9901", "GM9901"], "gemeentenaam": ["Testdorp", "Testdorp"],
         "water": ["NEE", "NEE"], "jaar": [2023, 2023],
         "aantal_inwoners": [40, 25], "percentage_personen_65_jaar_en_ouder": [30, -99997],
         "aantal_huishoudens": [20, 12], "gemiddelde_woningwaarde": [210, -99997],
         "percentage_koopwoningen": [60, -99995],
         "gemiddeld_inkomen_per_inwoner": [28.4, -99997]},
        geometry=[shapely.box(-10, -10, 60, 30), shapely.box(60, -10, 150, 30)], crs=28992)
    return write_layer(p, "buurten", gdf)


#: Headless Chromium of the browser tests (Debian's ``chromium`` package).
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (Playwright), skipped when absent."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found; install it with 'apt-get install -y chromium'")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the Playwright Python package is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update",
            "--disable-gpu"])
        yield b
        b.close()
