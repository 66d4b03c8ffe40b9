"""The optional map background (issue 16): PDOK BRT-Achtergrondkaart grey, off by default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_maps import grid_buurten
from woonvoorraad.cli import main
from woonvoorraad.report import maps
from woonvoorraad.report.maps import map_from_buurten, map_html

PDOK_GRIJS = ("https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/"
              "{z}/{x}/{y}.png")


def test_no_background_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(maps.ACHTERGROND_ENV, raising=False)
    m = map_from_buurten(grid_buurten())
    page = map_html(m)
    assert "L.tileLayer" not in page and "pdok" not in page.lower()
    assert m.woonvoorraad_info["achtergrond"] is None
    # "geen" says the same explicitly
    assert "L.tileLayer" not in map_html(map_from_buurten(grid_buurten(), achtergrond="geen"))


def test_pdok_background_is_a_switchable_layer_under_the_buurten() -> None:
    m = map_from_buurten(grid_buurten(), achtergrond="pdok")  # offline Leaflet stays inline
    page = map_html(m)
    assert maps.ACHTERGRONDEN["pdok"]["url"] == PDOK_GRIJS
    assert m.woonvoorraad_info["achtergrond"] == PDOK_GRIJS
    assert page.count("L.tileLayer(") == 1 and f'"{PDOK_GRIJS}"' in page
    # in the layer control as an overlay (a check box the reader can switch off), shown on
    # opening, with Kadaster's attribution
    control = re.search(r"overlays\s*[:=]\s*\{(.*?)\}", page, re.S)
    assert control and "BRT-Achtergrondkaart grijs (PDOK)" in control.group(1)
    assert "Kadaster" in page and '"maxNativeZoom": 19' in page
    assert "leaflet.js" not in page and "cdn.jsdelivr" not in page  # Leaflet still inline


def test_background_from_the_environment_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(maps.ACHTERGROND_ENV, "pdok")
    assert map_from_buurten(grid_buurten()).woonvoorraad_info["achtergrond"] == PDOK_GRIJS
    # an explicit argument wins over the environment
    assert map_from_buurten(grid_buurten(), achtergrond="geen").woonvoorraad_info[
        "achtergrond"] is None
    own = "https://tegels.example.nl/kaart/{z}/{x}/{y}.png"
    assert maps.resolve_achtergrond(own)["url"] == own
    for bad in ("google", "http://tegels.example.nl/{z}/{x}/{y}.png",
                "https://tegels.example.nl/kaart.png", "https://x/{z}/{x}/{y}\"><script>"):
        with pytest.raises(ValueError, match="background"):
            maps.resolve_achtergrond(bad)


def test_cli_has_the_background_and_runner_options(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    assert "--achtergrond" in text and "--runner" in text and "proces" in text
    code = main(["report", "--data", str(tmp_path / "geen-build"), "--all", "--achtergrond",
                 "google", "--out", str(tmp_path / "r"), "-q"])
    assert code == 2
    assert "background" in capsys.readouterr().err
