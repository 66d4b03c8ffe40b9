"""Property tests (hypothesis) of every reader and of the safety helpers.

Each reader is given generated input — valid tables written in every encoding, separator and
decimal style, and arbitrary or mutated bytes — and must either return a result that obeys the
schema (and agrees with an independent oracle) or raise an :class:`InputError`; nothing else.
The examples are derandomised, so CI runs the same cases every time.
"""

from __future__ import annotations

import ast
import html
import io
import random
import re
import string
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from woonvoorraad import _archive, _validate
from woonvoorraad.errors import DownloadError, InputError
from woonvoorraad.report.format import esc, safe_filename
from woonvoorraad.report.render import _stems
from woonvoorraad.sources import _http, _redact, cbs, eponline, pdok
from woonvoorraad.sources.eponline import LABELS, V5_COLUMNS

BAD = Path(__file__).parent / "data" / "bad"

CI = settings(derandomize=True, deadline=None, max_examples=60, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(CI, max_examples=25)


def _tmp(suffix: str = ".csv") -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(suffix=suffix)
    import os

    os.close(fd)
    return Path(name)


# --------------------------------------------------------------------------------------------
# numbers


def _styled(x: float, decimals: int, style: str) -> str:
    text = f"{x:.{decimals}f}"
    if style == "nl":
        return text.replace(".", ",")
    if style == "nl-thousands":
        whole, _, frac = f"{abs(x):,.{decimals}f}".partition(".")
        return ("-" if x < 0 else "") + whole.replace(",", ".") + ("," + frac if frac else "")
    return text


@CI
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 4),
       st.sampled_from(["nl", "en", "nl-thousands"]))
def test_to_number_reads_every_decimal_style(x: float, decimals: int, style: str) -> None:
    text = _styled(x, decimals, style)
    decimal = "." if style == "en" else ","
    assert _validate.to_number(text, decimal=decimal) == pytest.approx(
        round(x, decimals), rel=1e-12, abs=1e-9)


@CI
@given(st.lists(st.floats(min_value=-1e7, max_value=1e7, allow_nan=False), min_size=1,
                max_size=8), st.sampled_from(["nl", "en", "nl-thousands"]))
def test_parse_numbers_takes_the_decimal_sign_from_the_column(values: list[float],
                                                              style: str) -> None:
    """"1.000" alone is ambiguous; a column with any comma is Dutch, one without is not."""
    cells = [_styled(v, 2, style) for v in values]
    df = pd.DataFrame({"x": cells})
    assert _validate.parse_numbers(df, ["x"], path="t.csv") == {}
    assert df["x"].tolist() == pytest.approx([round(v, 2) for v in values], abs=1e-9)


@CI
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str),
                          st.text(max_size=8), st.just(""), st.none()), min_size=1, max_size=30))
def test_parse_numbers_never_raises_and_counts_what_it_drops(cells: list[Any]) -> None:
    df = pd.DataFrame({"x": pd.Series(cells, dtype=object)})
    bad = _validate.parse_numbers(df, ["x"], path="t.csv")
    assert pd.api.types.is_float_dtype(df["x"])
    text = pd.Series(cells, dtype=object).astype("string").str.strip()
    unparsable = int((text.notna() & (text != "") & df["x"].isna()).sum())
    assert bad.get("x", 0) == unparsable


@CI
@given(st.dictionaries(
    st.sampled_from(["aandeel_koop", "aandeel_65plus", "woz_gemiddeld", "aantal_inwoners",
                     "gemiddelde_huishoudsgrootte", "inkomen_per_inwoner", "buurtnaam"]),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=3, max_size=3),
    min_size=1))
def test_check_statistics_leaves_only_plausible_values(columns: dict[str, list[float]]) -> None:
    df = pd.DataFrame(columns)
    before = df.copy()
    _validate.check_statistics(df, path="b.gpkg")
    for col in df.columns:
        v = df[col]
        if col == "buurtnaam":
            pd.testing.assert_series_equal(v, before[col])
            continue
        finite = v.dropna()
        assert np.isfinite(finite).all()
        if col.startswith("aandeel_"):
            assert finite.between(0, 1).all()
        else:
            lo, hi = _validate.STATISTIC_RANGES[col]
            assert finite.between(lo, hi).all()
        # values are only ever removed, never changed
        kept = v.notna()
        assert (v[kept] == pd.to_numeric(before[col][kept])).all()
    # idempotent: a second pass finds nothing
    assert _validate.check_statistics(df.copy(), path="b.gpkg") == {}


# --------------------------------------------------------------------------------------------
# delimited tables (the Kerncijfers reader's text path)

_CELL = st.text(alphabet=string.ascii_letters + "éëèüöï -'", min_size=1, max_size=10).map(
    str.strip).filter(bool)


@CI
@given(names=st.lists(_CELL, min_size=1, max_size=5),
       values=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1,
                       max_size=5),
       sep=st.sampled_from([",", ";", "\t", "|"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
       decimal=st.sampled_from([".", ","]),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_read_csv_table_round_trips(names: list[str], values: list[float], *, sep: str,
                                    encoding: str, decimal: str, newline: str) -> None:
    assume(not (sep == "," and decimal == ","))  # a CSV cannot use ',' for both
    rows = [{"jaar": "2022", "regiocode": f"BU{i:08d}", "naam": n,
             "waarde": f"{v:.3f}".replace(".", decimal)}
            for i, (n, v) in enumerate(zip(names, values, strict=False))]
    text = newline.join([sep.join(rows[0])] + [sep.join(r.values()) for r in rows]) + newline
    path = _tmp()
    try:
        path.write_bytes(text.encode(encoding))
        table = _validate.read_csv_table(path)
        _validate.parse_numbers(table, ["waarde"], path=path)
        assert list(table.columns) == ["jaar", "regiocode", "naam", "waarde"]
        assert table["naam"].tolist() == [r["naam"] for r in rows]
        assert table["regiocode"].tolist() == [r["regiocode"] for r in rows]
        expected = [round(v, 3) for v in values[:len(rows)]]
        assert table["waarde"].tolist() == pytest.approx(expected, abs=1e-9)
    finally:
        path.unlink()


@CI
@given(st.binary(min_size=1, max_size=400))
def test_read_csv_table_on_arbitrary_bytes_raises_only_input_errors(data: bytes) -> None:
    path = _tmp()
    try:
        path.write_bytes(data)
        try:
            table = _validate.read_csv_table(path)
        except InputError:
            return
        assert isinstance(table, pd.DataFrame) and len(table) > 0
    finally:
        path.unlink()


@CI
@given(st.lists(st.sampled_from(["2019", "2024", "2023.0", "twintig", "0", "", "9999", " 2021 "]),
                min_size=1, max_size=6))
def test_check_years_accepts_only_whole_plausible_years(values: list[str]) -> None:
    s = pd.Series(values, dtype=object)
    good = all(v.strip() in ("2019", "2024", "2023.0", "2021") for v in values)
    if good:
        years = _validate.check_years(s, path="k.csv")
        assert years.between(1990, 2100).all()
    else:
        with pytest.raises(InputError, match="not a year"):
            _validate.check_years(s, path="k.csv")


# --------------------------------------------------------------------------------------------
# EP-Online: generated bulk files against an oracle, and arbitrary bytes

_ID = st.integers(10**12, 10**16 - 1).map(lambda i: f"{i:016d}")
_DATE = st.dates(min_value=pd.Timestamp("1996-01-01").date(),
                 max_value=pd.Timestamp("2025-12-31").date()).map(lambda d: d.strftime("%Y%m%d"))
_ROW = st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]),  # 5 units, so repeats happen
                 st.sampled_from([*LABELS, "X", "", "b", "g "]), _DATE)


def _ep_file(rows: list[tuple[str, str, str]], ids: dict[str, str], *, encoding: str,
             newline: str, zipped: bool) -> Path:
    lines = ["PublicatieDatum;01-11-2023", "LaatstVerwerkteMutatievolgnummer;1",
             ";".join(V5_COLUMNS)]
    for unit, label, date in rows:
        row = dict.fromkeys(V5_COLUMNS, "")
        row.update(BAGVerblijfsobjectID=ids[unit], Energieklasse=label, Registratiedatum=date,
                   Projectnaam="Blok é", EnergieIndex="1,5")
        lines.append(";".join(row[c] for c in V5_COLUMNS))
    data = ("\ufeff" if encoding == "utf-8" else "") + newline.join(lines) + newline
    raw = data.encode(encoding)
    if zipped:
        path = _tmp(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("v20231101_v5_csv.csv", raw)
    else:
        path = _tmp(".csv")
        path.write_bytes(raw)
    return path


@CI
@given(rows=st.lists(_ROW, min_size=1, max_size=25), ids=st.lists(_ID, min_size=5, max_size=5,
                                                                   unique=True),
       encoding=st.sampled_from(["utf-8", "utf-16"]), newline=st.sampled_from(["\n", "\r\n"]),
       zipped=st.booleans())
def test_ep_online_latest_registration_wins(rows: list[tuple[str, str, str]], ids: list[str],
                                            encoding: str, newline: str, zipped: bool) -> None:
    units = dict(zip("abcde", ids, strict=True))
    path = _ep_file(rows, units, encoding=encoding, newline=newline, zipped=zipped)
    try:
        table = eponline.read_ep_online(path)
    finally:
        path.unlink()
    # oracle: a valid class (case and spaces ignored), the latest date; on a tie of dates
    # the class that sorts last as text (the documented, deterministic tie rule)
    best: dict[str, tuple[str, str]] = {}
    for unit, label, date in rows:
        lab = label.strip().upper()
        if lab not in LABELS:
            continue
        vid = units[unit]
        if vid not in best or (date, lab) >= best[vid]:
            best[vid] = (date, lab)
    got = table.set_index("vbo_id")["energielabel"].astype(str).to_dict()
    assert got == {vid: lab for vid, (_, lab) in best.items()}
    assert table["vbo_id"].is_unique
    assert table["energielabel"].cat.ordered


@CI
@given(prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"PK\x03\x04", b"\xff\xfe",
                               ";".join(V5_COLUMNS).encode() + b"\r\n"]),
       data=st.binary(max_size=600))
def test_ep_online_on_arbitrary_bytes_raises_only_input_errors(prefix: bytes,
                                                               data: bytes) -> None:
    assume(prefix or data)
    path = _tmp()
    try:
        path.write_bytes(prefix + data)
        try:
            table = eponline.read_ep_online(path)
        except InputError:
            return
        assert table["vbo_id"].str.fullmatch(r"\d{16}").all()
        assert set(table["energielabel"].astype(str)) <= set(LABELS)
    finally:
        path.unlink()


def _valid_ep_bytes() -> bytes:
    return (BAD / "ep" / "quoted_fields.csv").read_bytes()


@CI
@given(st.data())
def test_ep_online_with_mutated_bytes_raises_only_input_errors(data: st.DataObject) -> None:
    raw = bytearray(_valid_ep_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    path = _tmp()
    try:
        path.write_bytes(bytes(raw[:cut]))
        try:
            table = eponline.read_ep_online(path)
        except InputError:
            return
        assert set(table["energielabel"].astype(str)) <= set(LABELS)
    finally:
        path.unlink()


# --------------------------------------------------------------------------------------------
# ZIP archives

_NAME = st.lists(st.sampled_from(["..", ".", "a", "b.csv", "/", "\\", "C:", "evil", "x.csv",
                                  "%2e%2e"]), min_size=1, max_size=5).map("/".join)


@CI
@given(st.lists(_NAME, min_size=1, max_size=4, unique=True))
def test_safe_extract_never_writes_outside_the_folder(names: list[str]) -> None:
    import tempfile

    root = Path(tempfile.mkdtemp())
    archive = root / "a.zip"
    dest = root / "dest"
    with zipfile.ZipFile(archive, "w") as zf:
        for n in names:
            zf.writestr(zipfile.ZipInfo(n), b"data")
    try:
        written = _archive.safe_extract_zip(archive, dest)
    except InputError:
        written = []
    for w in written:
        assert dest.resolve() in w.resolve().parents
    outside = [p for p in root.rglob("*") if p.is_file() and p != archive
               and dest.resolve() not in p.resolve().parents]
    assert outside == []


@CI
@given(st.binary(max_size=300), st.integers(0, 2000))
def test_open_zip_member_on_mutated_archives_raises_only_input_errors(noise: bytes,
                                                                       at: int) -> None:
    good = (BAD / "ep" / "zip_two_csv.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        body = zf.read("a.csv")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("v.csv", body * 5)
    raw = bytearray(buf.getvalue())
    at = at % len(raw)
    raw[at:at + len(noise)] = noise
    path = _tmp(".zip")
    try:
        path.write_bytes(bytes(raw))
        try:
            with _archive.open_zip_member(path) as fh:
                fh.read()
        except InputError:
            pass
    finally:
        path.unlink()


# --------------------------------------------------------------------------------------------
# GeoJSON pages

_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=5)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(
                                   ["type", "features", "geometry", "properties", "id",
                                    "coordinates", "identificatie", "bouwjaar"]), children,
                                   max_size=4)),
    max_leaves=20)


@CI
@given(features=st.lists(st.one_of(
    _JSON,
    st.fixed_dictionaries({"type": st.just("Feature"), "properties": _JSON, "geometry": st.one_of(
        _JSON, st.fixed_dictionaries({
            "type": st.sampled_from(["Point", "Polygon", "LineString", "MultiPolygon", "Blob"]),
            "coordinates": _JSON}))})), max_size=6))
def test_geojson_pages_raise_only_download_errors(features: list[Any]) -> None:
    page = {"type": "FeatureCollection", "features": features}
    try:
        gdf = pdok.build_feature_frame(pdok.read_page_features(page, "https://api.pdok.nl/x/items"),
                         url="https://api.pdok.nl/x/items")
    except DownloadError:
        return
    assert len(gdf) == sum(isinstance(f, dict) for f in features)
    ok = gdf.geometry.notna() & ~gdf.geometry.is_empty
    assert gdf.geometry[ok & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
                        ].is_valid.all()


# --------------------------------------------------------------------------------------------
# geometries

_COORD = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda v: round(v, 1))


@CI
@given(st.lists(st.lists(st.tuples(_COORD, _COORD), min_size=4, max_size=8), min_size=1,
                max_size=5))
def test_check_geometries_makes_every_polygon_valid(rings: list[list[tuple[float, float]]]
                                                    ) -> None:
    geoms = [shapely.Polygon(r) for r in rings]
    gdf = gpd.GeoDataFrame({"code": [f"BU{i}" for i in range(len(geoms))]}, geometry=geoms)
    fixed = _validate.check_geometries(gdf, path="b.gpkg", layer="buurten", id_column="code")
    assert len(fixed) == len(gdf)
    nonempty = ~fixed.geometry.is_empty
    assert fixed.geometry[nonempty].is_valid.all()
    assert fixed.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    for before, after in zip(geoms, fixed.geometry, strict=True):
        if before.is_valid:
            assert after.equals(before)  # valid polygons are left alone
        else:
            assert after.area == pytest.approx(shapely.make_valid(before).area, abs=1e-6)


# --------------------------------------------------------------------------------------------
# GeoPackages with damaged bytes


@pytest.fixture(scope="module")
def valid_buurten_gpkg(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    mc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mc)
    path = tmp_path_factory.mktemp("gpkg") / "buurten.gpkg"
    mc._gpkg(path, {"buurten": mc.buurten_table()})
    return path.read_bytes()


@FEW
@given(at=st.floats(0.0, 1.0), length=st.sampled_from([1, 8, 64, 512]), seed=st.integers(0, 99),
       truncate=st.booleans())
def test_damaged_buurten_geopackage_errors_or_reads_whole(valid_buurten_gpkg: bytes, at: float,
                                                          length: int, seed: int,
                                                          truncate: bool) -> None:
    """A damaged GeoPackage gives an InputError or all of its rows — never silently fewer."""
    raw = bytearray(valid_buurten_gpkg)
    start = int(at * (len(raw) - 1))
    if truncate:
        raw = raw[:max(start, 1)]
    else:
        rng = random.Random(seed)
        for i in range(start, min(start + length, len(raw))):
            raw[i] = rng.randrange(256)
    path = _tmp(".gpkg")
    try:
        path.write_bytes(bytes(raw))
        try:
            with _validate.gdal_errors(path):  # what the reader wraps itself in, once wired
                buurten, _ = cbs.read_buurten(path)
        except InputError:
            return
        assert len(buurten) == 2
    finally:
        path.unlink()


# --------------------------------------------------------------------------------------------
# output safety: escaping, file names, notebook parameters, secrets, hosts

_HOSTILE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
                   max_size=40) | st.sampled_from([
                       "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
                       "'; DROP TABLE buurten; --", "</script><script>x()</script>",
                       "\u202egnp.exe", "../../etc/passwd", "{{7*7}}", "${jndi:ldap://x}"])


@CI
@given(_HOSTILE)
def test_esc_leaves_no_markup_and_round_trips(text: str) -> None:
    out = esc(text)
    assert not re.search(r"[<>\"']", out)
    assert html.unescape(out) == text.replace("€ ", "€\u00a0")


@CI
@given(_HOSTILE)
def test_safe_filename_is_a_plain_name(text: str) -> None:
    name = safe_filename(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*|x", name)
    assert len(name) <= 60


@CI
@given(_HOSTILE)
def test_notebook_parameters_cannot_inject_code(text: str) -> None:
    from papermill.translators import PythonTranslator

    source = f"gemeente_code = {PythonTranslator.translate(text)}"
    tree = ast.parse(source)
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Assign)
    assert ast.literal_eval(tree.body[0].value) == text


_SECRET = st.text(alphabet=string.ascii_letters + string.digits + "-_/+=", min_size=6,
                  max_size=30)


@CI
@given(secret=_SECRET, param=st.sampled_from(["apikey", "token", "sig", "X-Amz-Signature",
                                              "access_token", "code", "key"]),
       other=st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6))
def test_redact_url_never_shows_a_secret(secret: str, param: str, other: str) -> None:
    assume(secret not in other and secret not in "https://blob.example.nl/f.zip")
    url = f"https://blob.example.nl/f.zip?{other}=1&{param}={secret}"
    shown = _redact.redact_url(url)
    assert secret not in shown
    assert _redact.REDACTED in shown or "%2A%2A%2A" in shown


@CI
@given(host=st.from_regex(r"[a-z]{1,8}(\.[a-z]{2,5}){1,2}", fullmatch=True),
       scheme=st.sampled_from(["http", "https", "ftp", "file", "javascript"]),
       user=st.sampled_from(["", "api.pdok.nl@", "u:p@"]))
def test_check_host_allows_only_configured_http_hosts(host: str, scheme: str,
                                                     user: str) -> None:
    url = f"{scheme}://{user}{host}/items"
    allowed = scheme in ("http", "https") and not user and host in _http.list_allowed_hosts()
    if allowed:
        _http.check_host(url)
    else:
        with pytest.raises(DownloadError, match="refusing"):
            _http.check_host(url)


@CI
@given(st.lists(_HOSTILE, min_size=1, max_size=6))
def test_report_file_stems_are_unique_and_stay_in_the_folder(names: list[str]) -> None:
    class FakeRun:
        def gemeentenaam(self, code: str) -> str:
            return names[int(code[2:]) % len(names)]

    codes = [f"GM{i:04d}" for i in range(len(names))]
    stems = _stems(FakeRun(), codes)  # type: ignore[arg-type]
    assert len({s.lower() for s in stems.values()}) == len(codes)
    root = Path("/reports/x")
    for stem in stems.values():
        assert (root / f"{stem}.html").resolve().parent == root
        assert re.fullmatch(r"[A-Za-z0-9]+-[a-z0-9-]+", stem)
