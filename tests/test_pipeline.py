"""The build end to end: the real BAG/CBS sample against an independent count."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from woonvoorraad._io import sha256_file
from woonvoorraad.pipeline import build

DWELLING_STATUSES = {"Verblijfsobject in gebruik", "Verblijfsobject in gebruik (niet ingemeten)",
                     "Verblijfsobject buiten gebruik", "Verbouwing verblijfsobject"}


def _independent_counts(path: Path) -> pd.DataFrame:
    """Count dwellings and post-war dwellings per buurt the plain way (no woonvoorraad code)."""
    units = gpd.read_file(path, layer="verblijfsobject")
    panden = gpd.read_file(path, layer="pand", ignore_geometry=True)
    year = dict(zip(panden["identificatie"], panden["oorspronkelijkbouwjaar"], strict=True))
    is_home = units["gebruiksdoel"].map(lambda s: "woonfunctie" in s.split(","))
    units = units[is_home & units["status"].isin(DWELLING_STATUSES)].copy()
    units["bouwjaar"] = units["pandref"].map(
        lambda refs: min(year[r] for r in refs.split(",") if r in year))
    buurten = gpd.read_file(path, layer="buurten")[["buurtcode", "geometry"]]
    joined = gpd.sjoin(units, buurten, predicate="within", how="inner")
    joined["naoorlogs"] = joined["bouwjaar"].between(1945, 1974)
    return joined.groupby("buurtcode").agg(n_woningen=("naoorlogs", "size"),
                                           n_naoorlogs=("naoorlogs", "sum"))


@pytest.mark.realdata
def test_real_sample_build_matches_independent_count(realdata: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(bag_path=realdata, buurten_path=realdata, out=out, analyse=False)
    got = result.buurten.set_index("buurtcode")[["n_woningen", "n_naoorlogs"]]
    expected = _independent_counts(realdata)
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index().astype("int64"),
                                  check_names=False, check_index_type=False)
    assert got["n_woningen"].sum() == 26686
    # the sample has no CBS housing figures: NaN, reported, never invented
    for col in ("woz_gemiddeld", "aandeel_koop", "inkomen_per_inwoner", "n_doelgroep"):
        assert result.buurten[col].isna().all(), col
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"woz_gemiddeld", "aandeel_koop", "n_doelgroep"} <= set(manifest["missing_statistics"])
    assert manifest["synthetic"] is False
    assert manifest["inputs"][0]["layout"] == "lvbag"
    assert manifest["inputs"][0]["sha256"] == sha256_file(realdata)
    for entry in manifest["outputs"]:
        assert sha256_file(out / entry["path"]) == entry["sha256"]
    assert "indicator woz_gemiddeld is unavailable" in (out / "build.log").read_text()
    # outputs read back as GeoParquet in RD New
    back = gpd.read_parquet(out / "buurten.parquet")
    assert back.crs.to_epsg() == 28992
    assert len(gpd.read_parquet(out / "dwellings.parquet")) == 26686


@pytest.mark.realdata
def test_real_sample_summary_statistics(realdata: Path, tmp_path: Path) -> None:
    result = build(bag_path=realdata, buurten_path=realdata, out=tmp_path / "o", analyse=False)
    d = result.dwellings
    assert d["bouwjaar"].median() == pytest.approx(1956, abs=3)
    assert d["naoorlogs"].mean() == pytest.approx(0.52, abs=0.1)
    assert (d["label_bron"] == "pbl").all()
    assert d["woningtype"].notna().all()
    # a largely post-war urban district: mostly apartments
    assert d["woningtype"].isin(["meergezins_laag", "meergezins_hoog"]).mean() > 0.6


@pytest.mark.realdata
def test_real_sample_analysis_without_tenure_figures(realdata: Path, tmp_path: Path) -> None:
    """No tenure or WOZ in the sample: one provisional candidate per gemeente, three types for
    14 buurten, and the analysis summary says which gemeenten are provisional."""
    out = tmp_path / "o"
    build(bag_path=realdata, buurten_path=realdata, out=out)
    kand = pd.read_csv(out / "proeftuinen.csv")
    kand = kand[kand["primair"]]  # the primary level (buurt here: urban)
    assert sorted(kand["gemeentecode"]) == ["GM0518", "GM1916"]
    assert kand["voorlopig"].all() and kand["n_doelgroep"].isna().all()
    assert kand["reden"].str.startswith("Voorlopig, want de doelgroep is onbekend").all()
    analysis = json.loads((out / "manifest.json").read_text())["analysis"]
    assert analysis["proeftuin"]["gemeenten_voorlopig"] == ["GM0518", "GM1916"]
    assert analysis["proeftuin"]["n_kleiner_dan_minimum"] == 0
    typ = pd.read_parquet(out / "buurten.parquet")
    assert typ["typologie_cluster"].nunique() == 3


def test_tiny_build_with_gemeente_filter_and_failed_input(tiny_bag_light: Path,
                                                          tiny_buurten: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(bag_path=tiny_bag_light, buurten_path=tiny_buurten, out=out, analyse=False)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    # a second build that fails on a bad input leaves the first outputs untouched
    bad = tmp_path / "bad.gpkg"
    bad.write_text("garbage")
    with pytest.raises(ValueError, match=r"bad\.gpkg"):
        build(bag_path=bad, buurten_path=tiny_buurten, out=out, analyse=False)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert before == after


def test_tiny_build_runs_the_analysis_without_a_typology(tiny_bag_light: Path,
                                                         tiny_buurten: Path,
                                                         tmp_path: Path) -> None:
    # two buurten cannot be clustered: the analysis still runs and says why there is no typology
    result = build(bag_path=tiny_bag_light, buurten_path=tiny_buurten, out=tmp_path / "o")
    a = result.analysis
    assert a.typologie.k == 0
    assert any("typologie niet mogelijk" in n for n in a.notities)
    assert set(a.uitgesloten.loc[a.uitgesloten["onderdeel"] == "typologie", "buurtcode"]) == {
        "BU99010001", "BU99010002"}
    assert len(a.proeftuinen) >= 1  # Noord has target dwellings
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["analysis"]["typologie"]["k"] == 0
    assert (tmp_path / "o" / "proeftuinen.csv").is_file()


def test_public_api_is_imported_on_first_use() -> None:
    """``import woonvoorraad`` loads no data library; each public name resolves on access."""
    import subprocess
    import sys

    code = ("import sys, woonvoorraad as w; heavy = {'pandas', 'geopandas', 'pyarrow'}; "
            "assert not heavy & set(sys.modules), heavy & set(sys.modules); "
            "[getattr(w, n) for n in w.__all__]; print(sorted(set(dir(w)) & set(w.__all__)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    import woonvoorraad

    assert out.strip() == str(sorted(woonvoorraad.__all__))
    assert set(woonvoorraad.__all__) == {"__version__", *woonvoorraad._LAZY}
    assert woonvoorraad.build is build
    with pytest.raises(AttributeError):
        woonvoorraad.no_such_name  # noqa: B018
