"""CBS readers: sentinels, column spellings, units, statistics of several years, trends."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import write_layer
from woonvoorraad.errors import CRSError, EmptyInputError, InputError, MissingColumnError
from woonvoorraad.sources import cbs


def test_sentinels_become_nan_and_units_are_canonical(tiny_buurten: Path) -> None:
    b, res = cbs.read_buurten(tiny_buurten)
    noord, zuid = b.set_index("buurtcode").loc[["BU99010001", "BU99010002"]].to_dict("records")
    assert noord["woz_gemiddeld"] == 210_000
    assert noord["aandeel_koop"] == pytest.approx(0.60)
    assert noord["aandeel_65plus"] == pytest.approx(0.30)
    assert noord["inkomen_per_inwoner"] == pytest.approx(28_400)
    for col in ("woz_gemiddeld", "aandeel_koop", "aandeel_65plus", "inkomen_per_inwoner"):
        assert np.isnan(zuid[col]), col
    assert res.sentinels == {"percentage_personen_65_jaar_en_ouder": 1,
                             "gemiddelde_woningwaarde": 1, "percentage_koopwoningen": 1,
                             "gemiddeld_inkomen_per_inwoner": 1}
    assert "aandeel_laag_inkomen" in res.missing
    assert b["aandeel_laag_inkomen"].isna().all()
    assert res.year == 2023


@pytest.mark.parametrize("sentinel", [-99997, -99995, -99991, -99999999])
def test_every_sentinel_code(sentinel: int) -> None:
    t = pd.DataFrame({"x": [5, sentinel]})
    assert cbs.mask_sentinels(t) == {"x": 1}
    assert t["x"].isna().tolist() == [False, True]


def test_old_uppercase_vintage(tmp_path: Path) -> None:
    p = tmp_path / "buurt_2019.gpkg"
    gdf = gpd.GeoDataFrame({"BU_CODE": ["BU01140101"], "BU_NAAM": ["Oud"], "WK_CODE": ["WK011401"],
                            "GM_CODE": ["GM0114"], "GM_NAAM": ["Emmen"], "AANT_INW": [500],
                            "P_KOOPWON": [55], "WOZ": [180]},
                           geometry=[shapely.box(0, 0, 1, 1)], crs=28992)
    write_layer(p, "buurten", gdf)
    b, res = cbs.read_buurten(p)
    assert b.loc[0, "buurtcode"] == "BU01140101"
    assert b.loc[0, "woz_gemiddeld"] == 180_000
    assert b.loc[0, "aandeel_koop"] == pytest.approx(0.55)
    assert res.year == 2019  # from the file name


@pytest.mark.realdata
def test_real_sample_has_no_housing_figures(realdata: Path) -> None:
    b, res = cbs.read_buurten(realdata)
    assert len(b) == 14
    assert b["gemeentecode"].unique().tolist() == ["GM1916", "GM0518"]
    assert {"woz_gemiddeld", "aandeel_koop", "inkomen_per_inwoner"} <= set(res.missing)
    assert b["woz_gemiddeld"].isna().all()
    assert b["aantal_inwoners"].sum() == pytest.approx(b["aantal_inwoners"].sum())
    assert b["aandeel_65plus"].between(0, 1).all()


def test_gemeente_filter(tmp_path: Path) -> None:
    p = tmp_path / "wb.gpkg"
    gdf = gpd.GeoDataFrame({"buurtcode": ["BU99010001", "BU99020001"], "buurtnaam": ["a", "b"],
                            "wijkcode": ["WK990100", "WK990200"],
                            "gemeentecode": ["GM9901", "GM9902"], "gemeentenaam": ["A", "B"]},
                           geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=28992)
    write_layer(p, "buurten", gdf)
    b, _ = cbs.read_buurten(p, gemeenten=["9902"])
    assert b["buurtcode"].tolist() == ["BU99020001"]


def test_missing_buurtcode_column(tmp_path: Path) -> None:
    p = tmp_path / "wb.gpkg"
    write_layer(p, "buurten", gpd.GeoDataFrame({"naam": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)],
                                               crs=28992))
    with pytest.raises(MissingColumnError, match=r"'buurtcode'.*BU_CODE"):
        cbs.read_buurten(p)


def test_wrong_crs(tmp_path: Path) -> None:
    p = tmp_path / "wb.gpkg"
    write_layer(p, "buurten", gpd.GeoDataFrame(
        {"buurtcode": ["BU1"], "buurtnaam": ["x"], "gemeentecode": ["GM1"]},
        geometry=[shapely.box(5, 52, 5.1, 52.1)], crs=4326))
    with pytest.raises(CRSError, match="EPSG:4326"):
        cbs.read_buurten(p)


def test_empty_layer(tmp_path: Path) -> None:
    p = tmp_path / "wb.gpkg"
    empty = gpd.GeoDataFrame({"buurtcode": pd.Series([], dtype=str),
                              "buurtnaam": pd.Series([], dtype=str),
                              "gemeentecode": pd.Series([], dtype=str)},
                             geometry=gpd.GeoSeries([], crs=28992))
    write_layer(p, "buurten", empty)
    with pytest.raises(EmptyInputError, match=r"'buurten'.*no features"):
        cbs.read_buurten(p)


def test_duplicate_buurtcodes(tmp_path: Path) -> None:
    p = tmp_path / "wb.gpkg"
    write_layer(p, "buurten", gpd.GeoDataFrame(
        {"buurtcode": ["BU1", "BU1"], "buurtnaam": ["x", "y"], "gemeentecode": ["GM1", "GM1"]},
        geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=28992))
    with pytest.raises(InputError, match="duplicate buurtcodes: BU1"):
        cbs.read_buurten(p)


def test_kerncijfers_table_and_trends(tmp_path: Path) -> None:
    rows = []
    for jaar, inw, hh, p65 in [(2019, 1000, 400, 0.20), (2021, 980, 410, 0.22),
                               (2023, 960, 420, 0.24)]:
        rows.append({"jaar": jaar, "regiocode": "BU99010001  ", "soort_regio": "Buurt     ",
                     "aantal_inwoners": inw, "aantal_huishoudens": hh, "aandeel_65plus": p65})
        rows.append({"jaar": jaar, "regiocode": "GM9901", "soort_regio": "Gemeente",
                     "aantal_inwoners": inw * 10, "aantal_huishoudens": hh * 10,
                     "aandeel_65plus": p65})
    rows.append({"jaar": 2019, "regiocode": "BU99010099", "soort_regio": "Buurt",
                 "aantal_inwoners": -99997, "aantal_huishoudens": 5, "aandeel_65plus": 0.1})
    p = tmp_path / "kerncijfers.parquet"
    pd.DataFrame(rows).to_parquet(p)
    stats = cbs.read_statistics(p)
    assert set(stats["regiocode"]) == {"BU99010001", "BU99010099"}
    assert stats["aantal_inwoners"].isna().sum() == 1
    t, report = cbs.trends(stats, ["BU99010001", "BU99010002"])
    assert t.loc["BU99010001", "trend_inwoners"] == pytest.approx((960 / 1000) ** 0.25 - 1)
    assert t.loc["BU99010001", "trend_65plus"] == pytest.approx(0.01)
    assert t.loc["BU99010001", "trend_jaren"] == "2019-2023"
    assert np.isnan(t.loc["BU99010002", "trend_inwoners"])
    assert report["without_history"] == ["BU99010002"]
    assert report["disappeared"] == ["BU99010099"]


def test_statistics_without_year(tmp_path: Path) -> None:
    p = tmp_path / "buurten.gpkg"
    write_layer(p, "buurten", gpd.GeoDataFrame(
        {"buurtcode": ["BU1"], "buurtnaam": ["x"], "gemeentecode": ["GM1"],
         "aantal_inwoners": [5]}, geometry=[shapely.box(0, 0, 1, 1)], crs=28992))
    with pytest.raises(InputError, match="cannot tell the year"):
        cbs.read_statistics(p)


def test_fill_from_other_years() -> None:
    buurten = pd.DataFrame({"buurtcode": ["BU1", "BU2", "BU3"],
                            "inkomen_per_inwoner": [np.nan, 30_000.0, np.nan],
                            "woz_gemiddeld": [200_000.0, np.nan, np.nan]})
    stats = pd.DataFrame({"jaar": [2021, 2022, 2022, 2024],
                          "regiocode": ["BU1", "BU1", "BU2", "BU3"],
                          "inkomen_per_inwoner": [25_000.0, 26_000.0, 31_000.0, 99_000.0],
                          "woz_gemiddeld": [np.nan, np.nan, 150_000.0, 1.0]})
    for col in cbs.STATISTICS:
        for frame in (buurten, stats):
            if col not in frame.columns:
                frame[col] = np.nan
    out, report = cbs.fill_from_other_years(buurten, stats, year=2023)
    assert out["inkomen_per_inwoner"].tolist()[:2] == [26_000.0, 30_000.0]
    assert np.isnan(out.loc[2, "inkomen_per_inwoner"])  # only earlier years are used
    assert out.loc[1, "woz_gemiddeld"] == 150_000.0
    assert out["cbs_aangevuld"].tolist() == ["inkomen_per_inwoner:2022", "woz_gemiddeld:2022", ""]
    assert report == {"inkomen_per_inwoner": {2022: 1}, "woz_gemiddeld": {2022: 1}}
