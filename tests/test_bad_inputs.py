"""The bad-input corpus (``tests/data/bad``): every file gets a specific error or a logged repair.

Each case names the reader, the file and what must happen: an :class:`InputError` subclass
whose message names the file and the fault, or a result with the repair applied and a warning
in the log that says so. No case may end in a traceback from inside a library, nor in a
silently wrong number. The second half runs every file through ``woonvoorraad build`` (the
command line): exit code 2 with the file named for errors, 0 for repairs.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from woonvoorraad import _validate
from woonvoorraad.cli import main
from woonvoorraad.errors import (
    CRSError,
    DownloadError,
    EmptyInputError,
    HTTPStatusError,
    InputError,
    MissingColumnError,
    MissingLayerError,
    UnsafeArchiveError,
)
from woonvoorraad.sources import _http, bag, cbs, eponline, pdok
from woonvoorraad.sources._fetchjob import FetchJob
from woonvoorraad.sources.gemeenten import Gemeente

BAD = Path(__file__).parent / "data" / "bad"

# --------------------------------------------------------------------------------------------
# the table of cases


@dataclass(frozen=True)
class Raises:
    """The reader must raise ``error`` with a message matching ``match`` (and the file name)."""

    error: type[Exception]
    match: str


@dataclass(frozen=True)
class Repairs:
    """The reader must return a result that passes ``check`` and log a warning matching ``log``
    (``log=None``: a correct result without any warning is the right answer)."""

    log: str | None
    check: Callable[[Any], None]


def _ok(_: Any) -> None:
    return None


def _bag_counts(panden: int, units: int) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        p, v, _layout = result
        assert (len(p), len(v)) == (panden, units)

    return check


def _check_absurd_years(result: Any) -> None:
    p, _v, _ = result
    assert p["bouwjaar"].isna().sum() == 4  # 0, 9999, -1 and 1005
    assert p["bouwjaar"].dropna().between(1200, 2030).all()


def _check_absurd_areas(result: Any) -> None:
    _p, v, _ = result
    area = v.set_index("vbo_id")["oppervlakte"]
    assert area.isna().sum() == 3  # -50, 0 and 5e7 m² are unknown, not numbers
    assert area.dropna().between(1, 100_000).all()


def _check_text_numbers(result: Any) -> None:
    p, v, _ = result
    assert p.set_index("pand_id")["bouwjaar"].isna().sum() == 1  # "onbekend"
    area = v.set_index("vbo_id")["oppervlakte"]
    assert area["0000010000000001"] == pytest.approx(85.5)  # "85,5": a decimal comma
    assert math.isnan(area["0000010000000003"])  # "n.v.t."


def _check_duplicate_panden(result: Any) -> None:
    p, v, _ = result
    assert p["pand_id"].is_unique and len(p) == 7
    assert p.set_index("pand_id").loc["0000100000000001", "bouwjaar"] == 1950  # the first
    assert v["vbo_id"].is_unique and len(v) == 10


def _check_odd_ids(result: Any) -> None:
    p, v, _ = result
    assert p["pand_id"].str.fullmatch(r"\d{16}").all()  # NL.IMBAG.Pand. prefix removed
    assert v["pand_ids"].str.fullmatch(r"\d{16}").all()  # whitespace removed
    assert set(v["pand_ids"]) <= set(p["pand_id"])


def _check_valid_polygons(result: Any) -> None:
    p = result[0] if isinstance(result, tuple) else result
    geoms = p.geometry[p.geometry.notna()]
    assert geoms.is_valid.all()


def _check_empty_geometries(result: Any) -> None:
    p, v, _ = result
    assert len(p) == 7 and len(v) == 10


def _check_empty_unit_points(result: Any) -> None:
    _p, units, _ = result
    xy = units.set_index("vbo_id")[["x", "y"]]
    assert xy.loc["0000010000000001"].isna().all()  # no geometry
    assert xy.loc["0000010000000002"].isna().all()  # an empty point
    assert xy.drop(["0000010000000001", "0000010000000002"]).notna().all().all()


def _buurt(col: str, expect: list[Any]) -> Callable[[Any], None]:
    def check(b: Any) -> None:
        got = b.sort_values("buurtcode")[col].tolist()
        assert len(got) == len(expect)
        for g, e in zip(got, expect, strict=True):
            if isinstance(e, float) and math.isnan(e):
                assert g is None or (isinstance(g, float) and math.isnan(g)), (col, got)
            elif isinstance(e, float):
                assert g == pytest.approx(e), (col, got)
            else:
                assert g == e, (col, got)

    return check


def _both(*checks: Callable[[Any], None]) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        for c in checks:
            c(result)

    return check


NAN = float("nan")


def _stats(col: str, expect: list[Any]) -> Callable[[pd.DataFrame], None]:
    def check(t: pd.DataFrame) -> None:
        got = t.sort_values(["jaar", "regiocode"])[col].tolist()
        assert got == pytest.approx(expect, nan_ok=True), (col, got)
        assert pd.api.types.is_float_dtype(t[col]) or pd.api.types.is_integer_dtype(t[col])

    return check


def _labels(expect: dict[str, str]) -> Callable[[pd.DataFrame], None]:
    def check(t: pd.DataFrame) -> None:
        assert t.set_index("vbo_id")["energielabel"].astype(str).to_dict() == expect
        assert t["vbo_id"].is_unique
        assert t["vbo_id"].str.fullmatch(r"\d{16}").all()

    return check


def _check_energieindex(t: pd.DataFrame) -> None:
    got = t.set_index("vbo_id").sort_index()["energieindex"].tolist()
    assert got == pytest.approx([1.23, 2.01, NAN, -7.5], nan_ok=True)


ABC = {"0000010000000001": "C", "0000010000000002": "E", "0000010000000003": "A"}

CASES: list[Any] = [
    # ---- BAG GeoPackages ------------------------------------------------------------------
    ("bag", "empty.gpkg", Raises(EmptyInputError, "file is empty")),
    ("bag", "not_sqlite.gpkg", Raises(InputError, "not a GeoPackage")),
    ("bag", "truncated_half.gpkg", Raises(InputError, "damaged or truncated")),
    ("bag", "truncated_header.gpkg", Raises(InputError, "damaged or truncated")),
    ("bag", "corrupt_pages.gpkg", Raises(InputError, "damaged or truncated")),
    ("bag", "corrupt_data_pages.gpkg", Raises(InputError, "damaged or truncated")),
    pytest.param("bag", "invalid_utf8_text.gpkg", Raises(InputError, "damaged"),
                 id="bag-invalid_utf8_text.gpkg"),
    pytest.param("bag", "broken_wkb.gpkg", Raises(InputError, "damaged geometry"),
                 id="bag-broken_wkb.gpkg"),
    ("bag", "missing_pand_layer.gpkg", Raises(MissingLayerError, "has no layer 'pand'")),
    ("bag", "missing_link_column.gpkg", Raises(MissingColumnError, "no link to its pand")),
    ("bag", "missing_bouwjaar.gpkg", Raises(MissingColumnError, "'bouwjaar'")),
    ("bag", "wgs84.gpkg", Raises(CRSError, "EPSG:4326, expected EPSG:28992")),
    ("bag", "no_crs.gpkg", Raises(CRSError, "no coordinate reference system")),
    ("bag", "mixed_crs.gpkg", Raises(CRSError, "'verblijfsobject' is in EPSG:4326")),
    ("bag", "degrees_labelled_rd.gpkg", Raises(CRSError, "longitude/latitude degrees")),
    ("bag", "empty_layers.gpkg", Raises(EmptyInputError, "has no features")),
    ("bag", "pand_points.gpkg", Raises(InputError, "holds Point geometries")),
    ("bag", "duplicate_ids.gpkg", Repairs("1 duplicate pand ids", _check_duplicate_panden)),
    ("bag", "absurd_values.gpkg", Repairs("implausible bouwjaar", _check_absurd_years)),
    pytest.param("bag", "absurd_values.gpkg", Repairs("oppervlakte outside", _check_absurd_areas),
                 id="bag-absurd_values.gpkg-oppervlakte"),
    pytest.param("bag", "text_numbers.gpkg", Repairs("not numbers", _check_text_numbers),
                 id="bag-text_numbers.gpkg"),
    ("bag", "odd_ids.gpkg", Repairs(None, _check_odd_ids)),
    pytest.param("bag", "invalid_geometries.gpkg",
                 Repairs("invalid polygon", _check_valid_polygons),
                 id="bag-invalid_geometries.gpkg"),
    pytest.param("bag", "empty_geometries.gpkg",
                 Repairs("without geometry", _check_empty_geometries),
                 id="bag-empty_geometries.gpkg"),
    pytest.param("bag_build", "empty_geometries.gpkg",
                 Repairs("without geometry", _check_empty_unit_points),
                 id="bag_build-empty_geometries.gpkg"),
    # ---- CBS wijk- en buurtkaart ----------------------------------------------------------
    ("buurten", "empty.gpkg", Raises(EmptyInputError, "file is empty")),
    ("buurten", "truncated.gpkg", Raises(InputError, "damaged or truncated")),
    ("buurten", "missing_layer.gpkg", Raises(MissingLayerError, "has no layer 'buurten'")),
    ("buurten", "missing_buurtcode.gpkg", Raises(MissingColumnError, "'buurtcode'")),
    ("buurten", "duplicate_buurtcode.gpkg", Raises(InputError, "duplicate buurtcodes")),
    ("buurten", "wgs84.gpkg", Raises(CRSError, "EPSG:4326")),
    ("buurten", "empty_layer.gpkg", Raises(EmptyInputError, "has no features")),
    pytest.param("buurten", "null_buurtcode.gpkg", Raises(InputError, "'buurtcode' is empty"),
                 id="buurten-null_buurtcode.gpkg"),
    pytest.param("buurten", "percent_over_100.gpkg",
                 Repairs("above 1", _both(_buurt("aandeel_koop", [NAN, 0.45]),
                                          _buurt("aandeel_65plus", [0.30, NAN]))),
                 id="buurten-percent_over_100.gpkg"),
    pytest.param("buurten", "negative_values.gpkg",
                 Repairs("below 0", _both(_buurt("aantal_inwoners", [NAN, 25.0]),
                                          _buurt("woz_gemiddeld", [210_000.0, NAN]))),
                 id="buurten-negative_values.gpkg"),
    pytest.param("buurten", "infinite_values.gpkg",
                 Repairs("infinite", _buurt("woz_gemiddeld", [NAN, 260_000.0])),
                 id="buurten-infinite_values.gpkg"),
    pytest.param("buurten", "text_decimal_comma.gpkg",
                 Repairs(None, _both(_buurt("inkomen_per_inwoner", [28_400.0, 31_000.0]),
                                     _buurt("aandeel_koop", [0.60, 0.455]))),
                 id="buurten-text_decimal_comma.gpkg"),
    pytest.param("buurten", "invalid_geometry.gpkg",
                 Repairs("invalid polygon", _check_valid_polygons),
                 id="buurten-invalid_geometry.gpkg"),
    pytest.param("buurten", "null_geometry.gpkg",
                 Repairs("without geometry", _buurt("buurtcode", ["BU99010001", "BU99010002"])),
                 id="buurten-null_geometry.gpkg"),
    ("buurten", "overlapping.gpkg", Repairs(None, _buurt("buurtnaam", ["Noord", "Zuid"]))),
    ("buurten", "hostile_names.gpkg",  # kept verbatim: escaping is the outputs' job
     Repairs(None, _buurt("buurtnaam", ["<script>alert('x')</script>",
                                        'Zuid "&" <b>vet</b>']))),
    # ---- CBS Kerncijfers tables -----------------------------------------------------------
    ("statistics", "empty.csv", Raises(EmptyInputError, "file is empty")),
    ("statistics", "no_jaar.csv", Raises(MissingColumnError, "'jaar'")),
    ("statistics", "unsupported.xlsx", Raises(InputError, "unsupported CBS statistics file")),
    ("statistics", "tab.csv", Repairs(None, _stats("aandeel_koop", [0.58, 0.44, 0.59]))),
    pytest.param("statistics", "semicolon_decimal_comma.csv",
                 Repairs(None, _both(_stats("aandeel_koop", [0.58, 0.44, 0.59]),
                                     _stats("woz_gemiddeld", [205_000.0, 250_000.0, 208_000.0]))),
                 id="statistics-semicolon_decimal_comma.csv"),
    pytest.param("statistics", "latin1.csv",
                 Repairs("not UTF-8", _stats("aandeel_koop", [0.58, 0.44, 0.59])),
                 id="statistics-latin1.csv"),
    pytest.param("statistics", "utf16.csv",
                 Repairs(None, _stats("aandeel_koop", [0.58, 0.44, 0.59])),
                 id="statistics-utf16.csv"),
    pytest.param("statistics", "binary.csv", Raises(InputError, "binary file"),
                 id="statistics-binary.csv"),
    pytest.param("statistics", "header_only.csv", Raises(EmptyInputError, "no rows"),
                 id="statistics-header_only.csv"),
    pytest.param("statistics", "ragged.csv", Raises(InputError, "line 5 has 9 fields"),
                 id="statistics-ragged.csv"),
    pytest.param("statistics", "percent_not_fraction.csv", Raises(InputError, "percentages"),
                 id="statistics-percent_not_fraction.csv"),
    pytest.param("statistics", "duplicate_rows.csv", Raises(InputError, "regiocode \\+ jaar"),
                 id="statistics-duplicate_rows.csv"),
    pytest.param("statistics", "garbage_jaar.csv", Raises(InputError, "not a year"),
                 id="statistics-garbage_jaar.csv"),
    # ---- EP-Online bulk files -------------------------------------------------------------
    ("labels", "empty.csv", Raises(EmptyInputError, "file is empty")),
    ("labels", "header_only.csv", Raises(EmptyInputError, "header but no rows")),
    ("labels", "no_header.csv", Raises(MissingColumnError, "no EP-Online header")),
    ("labels", "comma_separated.csv", Raises(MissingColumnError, "','-separated")),
    ("labels", "binary.csv", Raises(InputError, "binary or damaged file")),
    ("labels", "zip_two_csv.zip", Raises(InputError, "exactly one .csv file, found 2")),
    ("labels", "zip_no_csv.zip", Raises(InputError, "exactly one .csv file, found 0")),
    ("labels", "zip_truncated.zip", Raises(UnsafeArchiveError, "damaged or truncated ZIP")),
    ("labels", "zip_crc_error.zip", Raises(UnsafeArchiveError, "is damaged")),
    ("labels", "zip_encrypted.zip", Raises(UnsafeArchiveError, "is encrypted")),
    ("labels", "zip_slip.zip", Raises(UnsafeArchiveError, "leads outside the folder")),
    ("labels", "zip_absolute.zip", Raises(UnsafeArchiveError, "leads outside the folder")),
    ("labels", "zip_bomb.zip", Raises(UnsafeArchiveError, "zip bomb")),
    ("labels", "latin1.csv", Repairs("not UTF-8", _labels({"0000010000000001": "C"}))),
    ("labels", "utf16.csv", Repairs("UTF-16", _labels(ABC))),
    ("labels", "ragged_extra_fields.csv", Repairs("do not have the 42 fields", _labels(ABC))),
    ("labels", "short_rows.csv", Repairs("do not have the 42 fields", _labels(ABC))),
    ("labels", "unknown_labels.csv",
     Repairs("unknown energy class", _labels({"0000010000000002": "B"}))),
    ("labels", "bad_dates.csv",  # the dated registration wins, not the year-2999 one
     Repairs("registration date", _labels({"0000010000000001": "C", "0000010000000002": "B",
                                           "0000010000000003": "A"}))),
    ("labels", "nul_bytes.csv", Repairs("registration date", _labels(ABC))),
    ("labels", "decimal_point.csv", Repairs("EnergieIndex", _check_energieindex)),
    ("labels", "malformed_ids.csv",
     Repairs("not a 16-digit id", _labels({"0000010000000003": "A"}))),
    ("labels", "quoted_fields.csv", Repairs(None, _labels({"0000010000000001": "C"}))),
    ("labels", "duplicate_registrations.csv",  # a tie on the date: the order rule decides
     Repairs(None, _labels({"0000010000000001": "E"}))),
]

_FOLDER = {"bag": "bag", "bag_build": "bag", "buurten": "cbs", "statistics": "kerncijfers",
           "labels": "ep"}


def _read(reader: str, path: Path) -> Any:
    if reader == "bag":
        return bag.read_bag(path)
    if reader == "bag_build":
        return bag.read_bag_for_build(path)
    if reader == "buurten":
        return cbs.read_buurten(path)[0]
    if reader == "statistics":
        return cbs.read_statistics(path)
    if reader == "labels":
        return eponline.read_ep_online(path)
    raise AssertionError(reader)


def _unpack(case: Any) -> tuple[tuple[Any, ...], list[Any], str]:
    """(values, marks, id) of a plain tuple case or a ``pytest.param`` (itself a tuple)."""
    if hasattr(case, "marks"):
        return tuple(case.values), list(case.marks), str(case.id)
    return tuple(case), [], f"{case[0]}-{case[1]}"


def _case_id(case: Any) -> str:
    return _unpack(case)[2]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.startswith("woonvoorraad")]


@pytest.mark.parametrize(("reader", "name", "expect"), CASES, ids=[_case_id(c) for c in CASES])
def test_bad_input(reader: str, name: str, expect: Raises | Repairs,
                   caplog: pytest.LogCaptureFixture) -> None:
    path = BAD / _FOLDER[reader] / name
    assert path.is_file(), f"corpus file missing: run python {BAD / 'make_corpus.py'}"
    caplog.set_level(logging.INFO)
    if isinstance(expect, Raises):
        with pytest.raises(expect.error, match=expect.match) as err:
            _read(reader, path)
        assert path.name in str(err.value)  # the message names the file
        return
    result = _read(reader, path)
    expect.check(result)
    warnings = _warnings(caplog)
    if expect.log is None:
        assert not [w for w in warnings if path.name in w], warnings
    else:
        assert any(re.search(expect.log, w) for w in warnings), warnings


def test_every_corpus_file_has_a_case() -> None:
    covered = {(_FOLDER[_unpack(c)[0][0]], _unpack(c)[0][1]) for c in CASES}
    on_disk = {(p.parent.name, p.name) for p in BAD.rglob("*")
               if p.is_file() and p.parent != BAD and p.parent.name != "geojson"}
    assert on_disk - covered == set()
    assert covered - on_disk == set()


def test_corpus_is_small() -> None:
    total = sum(p.stat().st_size for p in BAD.rglob("*") if p.is_file())
    assert total < 2_000_000


# --------------------------------------------------------------------------------------------
# helpers the readers use (or will use, once wired), tested on the corpus files directly


def test_gdal_errors_names_the_damage() -> None:
    for name, match in (("invalid_utf8_text.gpkg", "Arrow cannot read"),
                        ("broken_wkb.gpkg", "damaged geometry")):
        path = BAD / "bag" / name
        with pytest.raises(InputError, match=match) as err, _validate.gdal_errors(path):
            bag.read_bag(path)
        assert name in str(err.value)


def test_check_geometries_repairs_the_bowtie_buurt(caplog: pytest.LogCaptureFixture) -> None:
    raw = pyogrio.read_dataframe(BAD / "cbs" / "invalid_geometry.gpkg", layer="buurten")
    assert not raw.geometry.is_valid.all()
    fixed = _validate.check_geometries(raw, path=BAD / "cbs" / "invalid_geometry.gpkg",
                                       layer="buurten", id_column="buurtcode")
    assert fixed.geometry.is_valid.all()
    # the bow-tie of 70 m becomes its two triangles: 2 × 70²/4
    assert fixed.geometry.area.iloc[0] == pytest.approx(2 * 70**2 / 4)
    assert "BU99010001" in caplog.text and "Self-intersection" in caplog.text


def test_check_geometries_refuses_points_in_a_polygon_layer() -> None:
    raw = pyogrio.read_dataframe(BAD / "bag" / "pand_points.gpkg", layer="pand")
    with pytest.raises(InputError, match="Point geometries where polygons belong"):
        _validate.check_geometries(raw, path="pand_points.gpkg", layer="pand")


def test_check_statistics_on_the_percent_file(caplog: pytest.LogCaptureFixture) -> None:
    raw = pyogrio.read_dataframe(BAD / "cbs" / "percent_over_100.gpkg", layer="buurten",
                                 read_geometry=False)
    stats = pd.DataFrame({"aandeel_koop": raw["percentage_koopwoningen"] / 100,
                          "aandeel_65plus": raw["percentage_personen_65_jaar_en_ouder"] / 100})
    repairs = _validate.check_statistics(stats, path="percent_over_100.gpkg", layer="buurten")
    assert repairs == {"aandeel_koop": {"above 1 (over 100 %)": 1},
                       "aandeel_65plus": {"above 1 (over 100 %)": 1}}
    assert stats.isna().sum().tolist() == [1, 1]
    assert "aandeel_koop has absurd values" in caplog.text


def test_read_csv_table_reads_every_spelling_of_the_same_table() -> None:
    expected = _validate.read_csv_table(BAD / "kerncijfers" / "tab.csv")
    for name in ("semicolon_decimal_comma.csv", "latin1.csv", "utf16.csv"):
        table = _validate.read_csv_table(BAD / "kerncijfers" / name)
        _validate.parse_numbers(table, ["aandeel_koop", "woz_gemiddeld"], path=name)
        assert table["aandeel_koop"].tolist() == pytest.approx([0.58, 0.44, 0.59]), name
        assert table["woz_gemiddeld"].tolist() == [205_000.0, 250_000.0, 208_000.0], name
        assert list(table.columns) == list(expected.columns), name
    latin = _validate.read_csv_table(BAD / "kerncijfers" / "latin1.csv")
    assert latin["regionaam"].iloc[0] == "Noordé"


@pytest.mark.parametrize(("name", "match"), [
    ("binary.csv", "binary file"), ("header_only.csv", "no rows"),
    ("ragged.csv", "line 5 has 9 fields, the header 7"), ("empty.csv", "file is empty")])
def test_read_csv_table_errors(name: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        _validate.read_csv_table(BAD / "kerncijfers" / name)


def test_statistics_checks_on_the_kerncijfers_files() -> None:
    pct = _validate.read_csv_table(BAD / "kerncijfers" / "percent_not_fraction.csv")
    _validate.parse_numbers(pct, ["aandeel_koop"], path="p.csv")
    with pytest.raises(InputError, match="holds percentages"):
        _validate.check_statistics(pct, path="p.csv", fractions=True)
    dup = _validate.read_csv_table(BAD / "kerncijfers" / "duplicate_rows.csv")
    with pytest.raises(InputError, match="BU99010001/2022"):
        _validate.check_unique(dup, ["regiocode", "jaar"], path="d.csv")
    years = _validate.read_csv_table(BAD / "kerncijfers" / "garbage_jaar.csv")
    with pytest.raises(InputError, match="'twintig', '0', '9999'"):
        _validate.check_years(years["jaar"], path="g.csv")


def test_require_overlap() -> None:
    with pytest.raises(EmptyInputError, match="no dwellings"):
        _validate.require_overlap(0, 0, bag_path="b.gpkg", buurten_path="w.gpkg")
    with pytest.raises(InputError, match="none of the 5 dwellings"):
        _validate.require_overlap(5, 5, bag_path="b.gpkg", buurten_path="w.gpkg")
    _validate.require_overlap(5, 4, bag_path="b.gpkg", buurten_path="w.gpkg")


# --------------------------------------------------------------------------------------------
# GeoJSON pages of the PDOK OGC API (fetch)


GEOJSON_CASES = [
    ("missing_geometry.json", "ok", 3, 2),
    ("null_properties.json", "ok", 2, 0),
    ("properties_not_object.json", "ok", 2, 0),
    ("extra_fields.json", "ok", 2, 0),
    ("invalid_coordinates.json", "ok", 5, 4),
    ("feature_not_object.json", "ok", 1, 0),
    ("duplicate_ids.json", "ok", 3, 0),
    ("string_numbers.json", "ok", 3, 0),
    ("invalid_polygon.json", "ok", 1, 0),
    ("not_feature_collection.json", "not a GeoJSON FeatureCollection", 0, 0),
    ("features_not_list.json", "'features' of the answer is not a list", 0, 0),
    ("degrees_coordinates.json", "longitude/latitude", 0, 0),
]


@pytest.mark.parametrize(("name", "outcome", "n_rows", "n_without_geometry"), GEOJSON_CASES)
def test_geojson_page(name: str, outcome: str, n_rows: int, n_without_geometry: int,
                      caplog: pytest.LogCaptureFixture) -> None:
    page = json.loads((BAD / "geojson" / name).read_text(encoding="utf-8"))
    url = "https://api.pdok.nl/kadaster/bag/ogc/v2/collections/pand/items"
    if outcome != "ok":
        with pytest.raises(DownloadError, match=re.escape(outcome)):
            pdok.build_feature_frame(pdok.read_page_features(page, url), url=url)
        return
    gdf = pdok.build_feature_frame(pdok.read_page_features(page, url), url=url)
    assert len(gdf) == n_rows
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    assert int(missing.sum()) == n_without_geometry
    assert gdf.geometry[~missing].is_valid.all()  # invalid polygons were repaired
    if n_without_geometry:
        assert "without geometry" in caplog.text


def test_geojson_truncated_page_is_not_json() -> None:
    text = (BAD / "geojson" / "truncated.json").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="Unterminated string"):
        json.loads(text)  # the HTTP layer retries such a body and never caches it


def test_bag_from_api_survives_hostile_pages(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """The whole BAG download step over pages with every fault at once."""
    pages = [json.loads((BAD / "geojson" / n).read_text(encoding="utf-8"))
             for n, outcome, *_ in GEOJSON_CASES if outcome == "ok"]
    vbo_page = {"type": "FeatureCollection", "links": [], "features": [
        {"type": "Feature", "id": "v1", "properties": {
            "identificatie": "0000010000000001", "status": "Verblijfsobject in gebruik",
            "gebruiksdoel": ["woonfunctie"], "oppervlakte": "85",
            "pand.href": ["https://api.pdok.nl/kadaster/bag/ogc/v2/collections/pand/items/u3"]},
         "geometry": {"type": "Point", "coordinates": [250002.5, 530004.5]}},
        {"type": "Feature", "id": "v2", "properties": None, "geometry": None},
        {"type": "Feature", "properties": {"status": "x"},
         "geometry": {"type": "Point", "coordinates": [1]}}]}

    def fake_pages(url: str, **_: Any) -> Any:
        yield from (vbo_page,) if "verblijfsobject" in url else pages

    def no_single_pand(*_: Any, **__: Any) -> Any:
        raise HTTPStatusError("gone", status=404)

    monkeypatch.setattr(_http, "iter_pages", fake_pages)
    monkeypatch.setattr(_http, "get_json", no_single_pand)
    ctx = FetchJob(gemeente=Gemeente("GM9901", "Testdorp"), year=2024, root=tmp_path,
                     refresh=False)
    boundary = shapely.box(249_000, 529_000, 252_000, 532_000)
    panden, vbo, info = pdok.download_bag(ctx, boundary)
    assert vbo["identificatie"].tolist() == ["0000010000000001"]
    assert panden.geometry.is_valid.all() and len(panden) >= 1
    assert info["dropped"]["verblijfsobject_without_geometry"] == 1
    assert info["dropped"]["without_id"]["verblijfsobject"] == 1
    assert any("without a usable geometry" in w for w in ctx.warnings)


# --------------------------------------------------------------------------------------------
# the same files through the command line: exit 2 and the file named, or exit 0


def _load_corpus_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module



@pytest.fixture(scope="module")
def good_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    mc = _load_corpus_module()
    folder = tmp_path_factory.mktemp("good")
    pand, vbo = mc.bag_tables()
    return {"bag": mc._gpkg(folder / "bag.gpkg", {"pand": pand, "verblijfsobject": vbo}),
            "buurten": mc._gpkg(folder / "buurten.gpkg", {"buurten": mc.buurten_table()})}


_SLOT = {"bag": "--bag", "buurten": "--buurten", "statistics": "--cbs", "labels": "--labels"}

def _build_cases() -> list[Any]:
    """One command-line case per corpus file: exit 2 for reader errors, 0 for repairs."""
    out: list[Any] = []
    seen: set[tuple[str, str]] = set()
    for case in CASES:
        (reader, name, expect), _, _ = _unpack(case)
        if reader == "bag_build" or (reader, name) in seen:
            continue
        seen.add((reader, name))
        rc = 2 if isinstance(expect, Raises) else 0
        out.append(pytest.param(reader, name, rc, id=f"build-{reader}-{name}"))
    return out


BUILD_CASES = _build_cases()


@pytest.mark.parametrize(("reader", "name", "rc"), BUILD_CASES)
def test_bad_input_through_the_command_line(reader: str, name: str, rc: int, *,
                                            good_inputs: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    inputs = {"bag": good_inputs["bag"], "buurten": good_inputs["buurten"]}
    args = ["build", "--out", str(tmp_path / "out"), "--no-analyse", "-q"]
    inputs[reader] = BAD / _FOLDER[reader] / name
    for slot, path in inputs.items():
        args += [_SLOT[slot], str(path)]
    assert main(args) == rc
    err = capsys.readouterr().err
    if rc == 2:
        assert "woonvoorraad: error: " in err and name in err
        assert "Traceback" not in err
        assert not (tmp_path / "out" / "manifest.json").exists()
    else:
        assert json.loads((tmp_path / "out" / "manifest.json").read_text())["outputs"]


def test_infinite_woz_does_not_crash_the_analysis(good_inputs: dict[str, Path],
                                                  tmp_path: Path) -> None:
    """An infinite WOZ value reaches the instrument rules (int(inf)) unless it is NaN."""
    from woonvoorraad.pipeline import build

    result = build(bag_path=good_inputs["bag"], buurten_path=BAD / "cbs" / "infinite_values.gpkg",
                   out=tmp_path / "o")
    assert np.isfinite(result.buurten["woz_gemiddeld"].dropna()).all()


def test_units_outside_every_buurt_are_an_error(good_inputs: dict[str, Path],
                                                tmp_path: Path) -> None:
    """Buurten around the BAG street but not on it: a clear error, not a table of zeros."""
    mc = _load_corpus_module()
    apart = mc.buurten_table()
    apart["geometry"] = [mc._box(-1000, -1000, 10, 10), mc._box(1000, 1000, 10, 10)]
    buurten = mc._gpkg(tmp_path / "apart.gpkg", {"buurten": apart})
    from woonvoorraad.pipeline import build

    with pytest.raises(InputError, match="none of the 10 dwellings lies inside a buurt"):
        build(bag_path=good_inputs["bag"], buurten_path=buurten, out=tmp_path / "o",
              analyse=False)


def test_numbers_in_the_corpus_generator_match_the_expectations() -> None:
    """The expectations above are written against these inputs; guard them."""
    mc = _load_corpus_module()
    b = mc.buurten_table()
    assert b["percentage_koopwoningen"].tolist() == [60.0, 45.0]
    pand, vbo = mc.bag_tables()
    assert (len(pand), len(vbo)) == (7, 10)
    assert np.isclose(vbo["oppervlakte"].sum(), 840.0)


def test_maps_of_buurten_without_usable_polygons_say_why() -> None:
    from woonvoorraad.report import maps

    b = pyogrio.read_dataframe(BAD / "cbs" / "null_geometry.gpkg", layer="buurten")
    with pytest.raises(ValueError, match="none of the 1 buurten has a geometry"):
        maps.map_from_buurten(b.iloc[[1]], indicators=["aantal_inwoners"])
    points = b.set_geometry(b.geometry.centroid)
    points.loc[1, "geometry"] = shapely.Point(250_000, 530_000)
    with pytest.raises(ValueError, match="must be polygons to be drawn; found Point"):
        maps.map_from_buurten(points, indicators=["aantal_inwoners"])
