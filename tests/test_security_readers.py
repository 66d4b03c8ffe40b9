"""Silent data loss in the readers (issue 17, items 6 and 7).

Every case here used to lose or mislabel data without a warning: BAG units whose gebruiksdoel
or status is spelled in another case or with spaces, units stored as polygons, units far
outside the Netherlands (or without finite coordinates), ids that only differ by a padding
zero, a label file of another region and a CBS ``jaar`` that is a missing-value code.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import write_layer
from test_eponline import _row, _v5_text
from woonvoorraad.errors import InputError
from woonvoorraad.pipeline import build
from woonvoorraad.sources import bag, cbs, eponline
from woonvoorraad.stock.dwellings import dwelling_stage, dwellings_from_bag, pand_stage

#: The tiny street moved from (0, 0) into the Netherlands (RD New), so that "outside the
#: Netherlands" means something in these tests.
SHIFT = (150_000.0, 450_000.0)
TINY_BUURTEN = {"BU99010001": 6, "BU99010002": 7}


def _copy(src: Path, dst: Path, edit: Callable[[dict[str, gpd.GeoDataFrame]], None] | None = None,
          *, shift: tuple[float, float] | None = None) -> Path:
    """Copy a GeoPackage layer by layer, optionally moved by ``shift`` and edited."""
    import pyogrio

    layers = {name: gpd.read_file(src, layer=name) for name, _ in pyogrio.list_layers(src)}
    if shift is not None:
        for g in layers.values():
            g.geometry = g.geometry.translate(*shift)
    if edit is not None:
        edit(layers)
    if dst.exists():
        dst.unlink()
    for name, g in layers.items():
        write_layer(dst, name, g)
    return dst


#: The BAG reader and its helper modules (:mod:`woonvoorraad.sources._bag_values` warns).
BAG_LOGGERS = ("woonvoorraad.sources.bag", "woonvoorraad.sources._bag_arrow",
               "woonvoorraad.sources._bag_ids", "woonvoorraad.sources._bag_values")


def _bag_warnings(caplog: pytest.LogCaptureFixture,
                  logger: str | tuple[str, ...] = BAG_LOGGERS) -> list[str]:
    names = (logger,) if isinstance(logger, str) else logger
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name in names]


def _dwellings(bag_path: Path, buurten_path: Path, *, for_build: bool = True
               ) -> tuple[gpd.GeoDataFrame, object]:
    """The dwelling table as the build makes it (lean reader, two stages) or the plain way."""
    buurten, _ = cbs.read_buurten(buurten_path)
    if for_build:
        panden, units, _ = bag.read_bag_for_build(bag_path)
        stage = pand_stage(panden, units)
        return dwelling_stage(stage, units, buurten)
    panden, units, _ = bag.read_bag(bag_path)
    return dwellings_from_bag(panden, units, buurten)


# --------------------------------------------------------------------------------------------
# 6. gebruiksdoel and status spellings


@pytest.mark.parametrize("spelling", ["WOONFUNCTIE", "Woonfunctie", " woonfunctie\t"])
@pytest.mark.parametrize("for_build", [True, False])
def test_gebruiksdoel_in_another_case_gives_the_same_dwellings(
        spelling: str, for_build: bool, *, tiny_bag_light: Path, tiny_buurten: Path,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        v = layers["verblijfsobject"]
        v["gebruiksdoel"] = v["gebruiksdoel"].str.replace("woonfunctie", spelling)

    p = _copy(tiny_bag_light, tmp_path / "doel.gpkg", edit)
    dwell, report = _dwellings(p, tiny_buurten, for_build=for_build)
    assert report.n_dwellings == 13  # as with 'woonfunctie'
    assert dwell["buurtcode"].value_counts().to_dict() == TINY_BUURTEN
    warned = [w for w in _bag_warnings(caplog) if "gebruiksdoel" in w]
    assert warned, caplog.text
    assert "doel.gpkg" in warned[0] and "14" in warned[0] and repr(spelling) in warned[0]


def test_interior_spaces_in_gebruiksdoel_are_not_reported(tiny_bag_light: Path, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    """'overige gebruiksfunctie' and 'woonfunctie, winkelfunctie' are ordinary spellings."""
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        v = layers["verblijfsobject"]
        v.loc[v.index[-1], "gebruiksdoel"] = "overige gebruiksfunctie"
        v.loc[v.index[0], "gebruiksdoel"] = "woonfunctie, winkelfunctie"

    p = _copy(tiny_bag_light, tmp_path / "b.gpkg", edit)
    units = bag.read_verblijfsobjecten(p)
    assert units["gebruiksdoel"].iloc[0] == "woonfunctie,winkelfunctie"
    assert not [w for w in _bag_warnings(caplog) if "gebruiksdoel" in w]


@pytest.mark.parametrize("spell", [str.lower, str.upper, lambda s: s + " ",
                                   lambda s: "  " + s.replace(" ", "  ")])
def test_status_in_another_case_or_with_spaces_gives_the_same_dwellings(
        spell: Callable[[str], str], tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        v = layers["verblijfsobject"]
        v["status"] = v["status"].map(spell)

    p = _copy(tiny_bag_light, tmp_path / "status.gpkg", edit)
    _, report = _dwellings(p, tiny_buurten)
    assert report.n_dwellings == 13
    assert report.excluded_by_status == {"Verblijfsobject ingetrokken": 1}
    warned = [w for w in _bag_warnings(caplog) if "status" in w]
    assert warned and "status.gpkg" in warned[0] and "15" in warned[0], caplog.text


def test_unknown_status_is_a_warning_with_counts_and_examples(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        v = layers["verblijfsobject"]
        v.loc[v.index[:3], "status"] = "In use"

    p = _copy(tiny_bag_light, tmp_path / "unknown.gpkg", edit)
    _, report = _dwellings(p, tiny_buurten)
    assert report.n_dwellings == 10
    assert report.excluded_by_status == {"In use": 3, "Verblijfsobject ingetrokken": 1}
    warned = [w for w in _bag_warnings(caplog) if "not a BAG" in w]
    assert warned, caplog.text
    assert "unknown.gpkg" in warned[0] and "3 unit" in warned[0] and "'In use'" in warned[0]


def test_no_known_status_at_all_is_an_error_naming_the_column(tiny_bag_light: Path,
                                                             tmp_path: Path) -> None:
    """Not one BAG status: the cause is the status column, not "another area"."""
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        layers["verblijfsobject"]["status"] = "in use"

    p = _copy(tiny_bag_light, tmp_path / "english.gpkg", edit)
    with pytest.raises(InputError, match=r"english\.gpkg: .*'status'.*'in use'"):
        bag.read_bag_for_build(p)


# --------------------------------------------------------------------------------------------
# 6. units stored as polygons or multipoints


def _as_polygons(layers: dict[str, gpd.GeoDataFrame]) -> None:
    v = layers["verblijfsobject"]
    rows = v.index[1::2]  # 7 of the 15 units, dwellings in both buurten
    v.loc[rows, "geometry"] = v.loc[rows, "geometry"].buffer(0.4)
    v.loc[v.index[0], "geometry"] = shapely.MultiPoint([v.geometry.iloc[0]] * 2)


@pytest.mark.parametrize("for_build", [True, False])
def test_units_stored_as_polygons_lie_inside_their_buurt(
        for_build: bool, tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    p = _copy(tiny_bag_light, tmp_path / "poly.gpkg", _as_polygons)
    dwell, report = _dwellings(p, tiny_buurten, for_build=for_build)
    assert report.n_dwellings == 13
    assert report.n_outside_buurten == 0
    assert dwell["buurtcode"].value_counts().to_dict() == TINY_BUURTEN
    assert (dwell.geometry.geom_type == "Point").all()
    warned = [w for w in _bag_warnings(caplog) if "Polygon" in w]
    assert warned and "poly.gpkg" in warned[0] and "8 unit" in warned[0], caplog.text
    assert "7 Polygon" in warned[0] and "1 MultiPoint" in warned[0]


def test_units_stored_as_polygons_through_the_build(tiny_bag_light: Path, tiny_buurten: Path,
                                                    tmp_path: Path) -> None:
    p = _copy(tiny_bag_light, tmp_path / "poly.gpkg", _as_polygons)
    result = build(bag_path=p, buurten_path=tiny_buurten, out=tmp_path / "o", analyse=False)
    assert result.manifest["dwellings"]["n_outside_buurten"] == 0
    assert result.buurten.set_index("buurtcode")["n_woningen"].to_dict() == TINY_BUURTEN
    assert any("represented by a point inside" in w for w in result.manifest["log"])


# --------------------------------------------------------------------------------------------
# 6. units far outside the Netherlands, without finite coordinates or without a geometry


def _far_units(layers: dict[str, gpd.GeoDataFrame]) -> None:
    v = layers["verblijfsobject"]
    geoms = v.geometry.to_numpy().copy()
    geoms[2] = shapely.Point(1e12, 1e12)
    geoms[3] = shapely.Point(1e12, -1e12)
    geoms[4] = shapely.Point(np.inf, np.inf)
    geoms[8] = None
    v.geometry = gpd.GeoSeries(geoms, index=v.index, crs=v.crs)


def test_far_away_units_are_counted_outside_every_buurt(tiny_bag_light: Path,
                                                        tiny_buurten: Path, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    """Through the build (which reads the BAG for the buurten' bbox): nothing vanishes."""
    p = _copy(tiny_bag_light, tmp_path / "far.gpkg", _far_units, shift=SHIFT)
    b = _copy(tiny_buurten, tmp_path / "wijkenbuurten_2023.gpkg", shift=SHIFT)
    caplog.set_level(logging.INFO)
    result = build(bag_path=p, buurten_path=b, out=tmp_path / "o", analyse=False)
    report = result.manifest["dwellings"]
    assert report["n_units"] == 15  # all of them, not 11
    assert report["n_dwellings"] == 13
    assert report["n_outside_buurten"] == 4
    assert len(gpd.read_parquet(tmp_path / "o" / "dwellings.parquet")) == 13
    assert result.buurten["n_woningen"].sum() == 9
    warned = [w for w in _bag_warnings(caplog) if "outside the Netherlands" in w]
    assert warned, caplog.text
    assert "far.gpkg" in warned[0] and "4 unit" in warned[0] and "0000010000000003" in warned[0]
    assert "2 outside" in warned[0] and "1 with coordinates that are not finite" in warned[0]
    assert any("outside the Netherlands" in w for w in result.manifest["log"])
    # the unit at (inf, inf) has no location in the output, not an infinite one
    d = result.dwellings.set_index("vbo_id")
    assert d.loc["0000010000000005", "geometry"] is None
    assert d.loc["0000010000000003", "buurtcode"] is pd.NA or pd.isna(
        d.loc["0000010000000003", "buurtcode"])


def test_bbox_read_keeps_far_away_units(tiny_bag_light: Path, tmp_path: Path) -> None:
    p = _copy(tiny_bag_light, tmp_path / "far.gpkg", _far_units, shift=SHIFT)
    box = (SHIFT[0] - 100, SHIFT[1] - 100, SHIFT[0] + 200, SHIFT[1] + 100)
    units = bag.read_verblijfsobjecten(p, bbox=box)
    assert len(units) == 15
    lean = bag.read_bag_for_build(p, bbox=box)[1].set_index("vbo_id")
    assert len(lean) == 15
    assert lean.loc["0000010000000003", "x"] == 1e12
    assert np.isnan(lean.loc[["0000010000000005", "0000010000000101"], "x"]).all()
    # a bbox elsewhere in the Netherlands still reads only the strays, not the street
    far_box = (100_000.0, 400_000.0, 100_100.0, 400_100.0)
    assert sorted(bag.read_verblijfsobjecten(p, bbox=far_box)["vbo_id"]) == [
        "0000010000000003", "0000010000000004", "0000010000000005", "0000010000000101"]


# --------------------------------------------------------------------------------------------
# 6. ids that differ only by a padding zero


def test_padded_unit_id_colliding_with_another_unit_is_an_error(tiny_bag_light: Path,
                                                                tmp_path: Path) -> None:
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        v = layers["verblijfsobject"]
        v.loc[v.index[1], "identificatie"] = "000010000000001"  # 15 digits: unit 1 once padded

    p = _copy(tiny_bag_light, tmp_path / "pad.gpkg", edit)
    for read in (bag.read_bag, bag.read_bag_for_build, bag.read_verblijfsobjecten):
        with pytest.raises(InputError, match=r"pad\.gpkg: .*'000010000000001'.*"
                                             r"'0000010000000001'"):
            read(p)


def test_padded_pand_id_colliding_with_another_pand_is_an_error(tiny_bag_light: Path,
                                                                tmp_path: Path) -> None:
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        pand = layers["pand"]
        pand.loc[pand.index[1], "identificatie"] = "000100000000001"  # pand 1 once padded

    p = _copy(tiny_bag_light, tmp_path / "padp.gpkg", edit)
    for read in (bag.read_bag, bag.read_bag_for_build):
        with pytest.raises(InputError, match=r"padp\.gpkg: .*'000100000000001'.*"
                                             r"'0000100000000001'"):
            read(p)


def test_padding_without_a_collision_still_joins(tiny_bag_light: Path, tiny_buurten: Path,
                                                 tmp_path: Path) -> None:
    """A 15-digit id alone (a spreadsheet dropped the zero) is padded as before."""
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        v = layers["verblijfsobject"]
        v["identificatie"] = v["identificatie"].str[1:]
        v["pand_identificatie"] = v["pand_identificatie"].str.replace(
            "0000100000000009", "NL.IMBAG.Pand.0000100000000009")

    p = _copy(tiny_bag_light, tmp_path / "short.gpkg", edit)
    dwell, report = _dwellings(p, tiny_buurten)
    assert report.n_dwellings == 13 and report.n_without_pand == 0
    assert dwell["vbo_id"].str.fullmatch(r"0\d{15}").all()


# --------------------------------------------------------------------------------------------
# 7. a label file of another region


def _labels_file(path: Path, ids: list[str]) -> Path:
    path.write_text(_v5_text([_row(i, "C", "20220101") for i in ids]), encoding="utf-8")
    return path


def test_label_file_of_another_region_is_a_warning(tiny_bag_light: Path, tiny_buurten: Path,
                                                   tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    labels = _labels_file(tmp_path / "labels_elders.csv",
                          [f"05990100000{i:05d}" for i in range(40)])
    result = build(bag_path=tiny_bag_light, buurten_path=tiny_buurten, out=tmp_path / "o",
                   labels_path=labels, analyse=False)
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
              and "labels_elders.csv" in r.getMessage()]
    assert warned, caplog.text
    assert "0 of the 13 dwellings" in warned[0] and "40" in warned[0]
    log = json.loads((tmp_path / "o" / "manifest.json").read_text())["log"]
    assert any("labels_elders.csv" in w for w in log)
    assert result.manifest["dwellings"]["n_label_registered"] == 0


def test_labels_matching_the_dwellings_give_no_warning(tiny_bag_light: Path,
                                                      tiny_buurten: Path, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    labels = _labels_file(tmp_path / "labels.csv", ["0000010000000002", "0599010000000001"])
    build(bag_path=tiny_bag_light, buurten_path=tiny_buurten, out=tmp_path / "o",
          labels_path=labels, analyse=False)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING
                and "labels.csv" in r.getMessage()]


@pytest.mark.realdata
def test_labels_matching_under_one_percent_is_a_warning(realdata: Path, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    panden, units, _ = bag.read_bag(realdata)
    buurten, _ = cbs.read_buurten(realdata)
    woon = units.loc[units["gebruiksdoel"] == "woonfunctie", "vbo_id"].head(5).tolist()
    path = _labels_file(tmp_path / "few.csv", woon + [f"05990100000{i:05d}" for i in range(900)])
    labels = eponline.read_ep_online(path, vbo_ids=units["vbo_id"])
    _, report = dwellings_from_bag(panden, units, buurten, labels=labels)
    assert 0 < report.n_label_registered <= 5
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
              and "few.csv" in r.getMessage()]
    assert warned and "of the 26686 dwellings" in warned[0] and "905" in warned[0]


# --------------------------------------------------------------------------------------------
# 7. a CBS jaar that is a missing-value code


def _jaar(value: object) -> Callable[[dict[str, gpd.GeoDataFrame]], None]:
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        layers["buurten"]["jaar"] = value

    return edit


def test_cbs_jaar_sentinel_falls_back_to_the_file_name(tiny_buurten: Path, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    p = _copy(tiny_buurten, tmp_path / "wijkenbuurten_2021.gpkg", _jaar(-99997))
    buurten, read = cbs.read_buurten(p)
    assert read.year == 2021
    assert (buurten["jaar"] == 2021).all()
    warned = [w for w in _bag_warnings(caplog, "woonvoorraad.sources.cbs") if "jaar" in w]
    assert warned and "wijkenbuurten_2021.gpkg" in warned[0] and "-99997" in warned[0]


def test_cbs_jaar_sentinel_without_a_year_in_the_name_is_no_year(tiny_buurten: Path,
                                                                 tmp_path: Path) -> None:
    p = _copy(tiny_buurten, tmp_path / "buurten.gpkg", _jaar(-99997))
    _, read = cbs.read_buurten(p)
    assert read.year is None
    with pytest.raises(InputError, match="cannot tell the year"):
        cbs.read_statistics(p)


def test_kerncijfers_jaar_sentinel_is_named_as_a_missing_value_code(tmp_path: Path) -> None:
    """A Kerncijfers table has no other source of its year: an error that says why."""
    p = tmp_path / "kerncijfers.csv"
    p.write_text("jaar;regiocode;aantal_inwoners\n2022;BU99010001;40\n-99997;BU99010002;25\n",
                 encoding="utf-8")
    with pytest.raises(InputError, match=r"'-99997'.*1 of them are CBS missing-value codes"):
        cbs.read_statistics(p)


def test_cbs_jaar_partly_sentinel_uses_the_real_year(tiny_buurten: Path, tmp_path: Path) -> None:
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        layers["buurten"]["jaar"] = [2022, -99995]

    p = _copy(tiny_buurten, tmp_path / "b.gpkg", edit)
    assert cbs.read_buurten(p)[1].year == 2022


# --------------------------------------------------------------------------------------------
# the real sample


@pytest.mark.realdata
def test_real_sample_with_every_spelling_fault_gives_the_same_count(realdata: Path,
                                                                   tmp_path: Path) -> None:
    """Upper-case gebruiksdoel, statuses with a trailing space, a third of the units stored as
    polygons and 100 dwellings far away: 26,686 dwellings as from the original sample."""
    def edit(layers: dict[str, gpd.GeoDataFrame]) -> None:
        v = layers["verblijfsobject"]
        v["gebruiksdoel"] = v["gebruiksdoel"].str.upper()
        v["status"] = v["status"] + " "
        rows = v.index[::3]
        v.loc[rows, "geometry"] = v.loc[rows, "geometry"].buffer(0.5)
        woon = v.index[(v["gebruiksdoel"] == "WOONFUNCTIE")
                       & (v["status"] == "Verblijfsobject in gebruik ")][1::3][:100]
        v.loc[woon, "geometry"] = shapely.points(np.full((100, 2), 1e12))
        layers.pop("nummeraanduiding", None)

    p = _copy(realdata, tmp_path / "faults.gpkg", edit)
    result = build(bag_path=p, buurten_path=realdata, out=tmp_path / "o", analyse=False)
    report = result.manifest["dwellings"]
    assert report["n_units"] == 31293
    assert report["n_dwellings"] == 26686
    assert report["n_outside_buurten"] == 100
    assert result.buurten["n_woningen"].sum() == 26586


@pytest.mark.realdata
def test_real_sample_reads_without_new_warnings(realdata: Path, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """The spelling checks stay silent on a clean file (and cost no padding check)."""
    copy = tmp_path / "sample.gpkg"
    shutil.copyfile(realdata, copy)
    buurten, _ = cbs.read_buurten(copy)
    bag.read_bag_for_build(copy, bbox=tuple(float(v) for v in buurten.total_bounds))
    bag.read_bag(copy)
    assert _bag_warnings(caplog) == []
