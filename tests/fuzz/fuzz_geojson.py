"""Fuzz the GeoJSON page handling of ``woonvoorraad fetch`` (PDOK OGC API pages)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness

with atheris.instrument_imports(include=["woonvoorraad"]):
    from woonvoorraad.errors import DownloadError
    from woonvoorraad.sources import pdok

URL = "https://api.pdok.nl/kadaster/bag/ogc/v2/collections/pand/items"


def test_one_input(data: bytes) -> None:
    try:
        page = json.loads(data)
    except (ValueError, RecursionError):
        return  # the HTTP layer retries a body that is not JSON and never caches it
    try:
        gdf = pdok.build_feature_frame(pdok.read_page_features(page, URL), url=URL)
    except DownloadError:
        return
    polygons = gdf.geometry.notna() & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    assert gdf.geometry[polygons & ~gdf.geometry.is_empty].is_valid.all()


if __name__ == "__main__":
    _harness.main(test_one_input, sorted((_harness.BAD / "geojson").iterdir()))
