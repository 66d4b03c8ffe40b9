"""Write the bad-input corpus of ``tests/data/bad`` (run from the repository root).

Every file here is a small, deliberately broken (or hostile) input for one reader:

``bag/``
    BAG GeoPackages for :func:`woonvoorraad.sources.bag.read_bag` and the build.
``cbs/``
    CBS wijk- en buurtkaart GeoPackages for :func:`woonvoorraad.sources.cbs.read_buurten`.
``kerncijfers/``
    Kerncijfers tables (CSV) for :func:`woonvoorraad.sources.cbs.read_statistics`.
``ep/``
    EP-Online bulk files (CSV and ZIP) for :func:`woonvoorraad.sources.eponline.read_ep_online`.
``geojson/``
    OGC API Features pages as PDOK serves them (with faults) for :mod:`woonvoorraad.sources.pdok`.

What each reader must do with each file (a specific error, or a logged repair) is stated in
``tests/test_bad_inputs.py`` and summarised in ``docs/reliability.md``. The files are
deterministic (fixed seed); GeoPackages are vacuumed with 512-byte pages to stay small, so
the whole corpus stays well under 2 MB.

    python tests/data/bad/make_corpus.py
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
SEED = 20261129
X0, Y0 = 250_000.0, 530_000.0  # inside the RD New grid (Drenthe)
IN_USE = "Verblijfsobject in gebruik"

sys.path.insert(0, str(HERE.parents[2] / "src"))
from woonvoorraad.sources.eponline import V5_COLUMNS  # noqa: E402

# --------------------------------------------------------------------------------------------
# helpers


def _shrink(path: Path) -> Path:
    """Vacuum a GeoPackage with 512-byte pages (about 30 kB instead of 100 kB)."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA page_size=512")
        con.execute("VACUUM")
    finally:
        con.close()
    return path


def _sql(path: Path, statement: str) -> Path:
    con = sqlite3.connect(path)
    try:
        con.execute(statement)
        con.commit()
    finally:
        con.close()
    return path


def _gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame], **kwargs: object) -> Path:
    path.unlink(missing_ok=True)
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio", SPATIAL_INDEX="NO",
                    **kwargs)
    return _shrink(path)


def _box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def bag_tables() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A valid bag-light street: 4 terraced houses, a semi-detached pair, a flat of 4."""
    panden = [
        ("0000100000000001", 1950, _box(0, 0, 5, 9)),
        ("0000100000000002", 1950, _box(5, 0, 5, 9)),
        ("0000100000000003", 1955, _box(10, 0, 5, 9)),
        ("0000100000000004", 1955, _box(15, 0, 5, 9)),
        ("0000100000000005", 1968, _box(40, 0, 6, 9)),
        ("0000100000000006", 1968, _box(46, 0, 6, 9)),
        ("0000100000000007", 1962, _box(120, 0, 20, 10)),
    ]
    pand = gpd.GeoDataFrame(
        {"identificatie": [p[0] for p in panden], "bouwjaar": [p[1] for p in panden],
         "status": ["Pand in gebruik"] * len(panden)},
        geometry=[p[2] for p in panden], crs=28992)
    units = [(f"00000100000000{i:02d}", f"000010000000000{i}", 100.0) for i in range(1, 7)]
    units += [(f"00000100000001{j:02d}", "0000100000000007", 60.0) for j in range(4)]
    points = [next(g for i, _, g in panden if i == u[1]).representative_point() for u in units]
    vbo = gpd.GeoDataFrame(
        {"identificatie": [u[0] for u in units], "pand_identificatie": [u[1] for u in units],
         "gebruiksdoel": ["woonfunctie"] * len(units), "oppervlakte": [u[2] for u in units],
         "status": [IN_USE] * len(units), "woonplaats_naam": ["Sleen"] * len(units)},
        geometry=points, crs=28992)
    return pand, vbo


def buurten_table() -> gpd.GeoDataFrame:
    """Two valid buurten covering the street, wijk- en buurtkaart layout."""
    return gpd.GeoDataFrame(
        {"buurtcode": ["BU99010001", "BU99010002"], "buurtnaam": ["Noord", "Zuid"],
         "wijkcode": ["WK990100", "WK990100"], "wijknaam": ["Centrum", "Centrum"],
         "gemeentecode": ["GM9901", "GM9901"], "gemeentenaam": ["Testdorp", "Testdorp"],
         "water": ["NEE", "NEE"], "jaar": [2023, 2023],
         "aantal_inwoners": [40, 25], "percentage_personen_65_jaar_en_ouder": [30.0, 12.0],
         "aantal_huishoudens": [20, 12], "gemiddelde_woningwaarde": [210.0, 260.0],
         "percentage_koopwoningen": [60.0, 45.0],
         "gemiddeld_inkomen_per_inwoner": [28.4, 31.0]},
        geometry=[_box(-10, -10, 70, 40), _box(60, -10, 90, 40)], crs=28992)


def _bowtie(x: float, y: float, s: float) -> shapely.Polygon:
    """A self-intersecting ("bow-tie") polygon: invalid by OGC rules."""
    return shapely.Polygon([(X0 + x, Y0 + y), (X0 + x + s, Y0 + y + s),
                            (X0 + x + s, Y0 + y), (X0 + x, Y0 + y + s)])


# --------------------------------------------------------------------------------------------
# BAG


def _valid_bag(path: Path) -> Path:
    pand, vbo = bag_tables()
    return _gpkg(path, {"pand": pand, "verblijfsobject": vbo})


def _damaged_copy(src: Path, dst: Path, damage: Callable[[bytearray], bytearray]) -> Path:
    data = bytearray(src.read_bytes())
    dst.write_bytes(bytes(damage(data)))
    return dst


def _scribble(data: bytearray) -> bytearray:
    """Overwrite every page after the first 4 kB with random bytes at a few places."""
    rng = random.Random(SEED)
    for start in range(4096, len(data), 2048):
        for i in range(start, min(start + 64, len(data))):
            data[i] = rng.randrange(256)
    return data


def make_bag(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    valid = _valid_bag(folder / "_valid.gpkg")
    (folder / "empty.gpkg").write_bytes(b"")
    (folder / "not_sqlite.gpkg").write_text("this is not a GeoPackage\n", encoding="utf-8")
    _damaged_copy(valid, folder / "truncated_half.gpkg", lambda d: d[: len(d) // 2])
    _damaged_copy(valid, folder / "truncated_header.gpkg", lambda d: d[:200])
    _damaged_copy(valid, folder / "corrupt_pages.gpkg", _scribble)
    # a street of 400 panden whose last data pages are damaged: the header and the layer list
    # are intact, and GDAL reads the features it can and stops (silently fewer rows)
    n = 400
    street = gpd.GeoDataFrame(
        {"identificatie": [f"{i:016d}" for i in range(1, n + 1)], "bouwjaar": [1960] * n,
         "status": ["Pand in gebruik"] * n},
        geometry=[_box(10.0 * i, 100, 5, 9) for i in range(n)], crs=28992)
    big = _gpkg(folder / "_big.gpkg", {"verblijfsobject": bag_tables()[1], "pand": street})

    def damage_tail(d: bytearray) -> bytearray:
        rng = random.Random(SEED)
        start = int(len(d) * 0.8)
        for i in range(start, start + 2048):
            d[i] = rng.randrange(256)
        return d

    _damaged_copy(big, folder / "corrupt_data_pages.gpkg", damage_tail)
    big.unlink()
    pand, vbo = bag_tables()
    # intact SQLite pages, damaged values: text that is not UTF-8, a geometry that is not WKB
    _sql(_gpkg(folder / "invalid_utf8_text.gpkg", {"pand": pand, "verblijfsobject": vbo}),
         "UPDATE pand SET status = CAST(X'50616EFF20696E20676562727569CB' AS TEXT) WHERE fid = 2")
    broken = _gpkg(folder / "broken_wkb.gpkg", {"pand": pand, "verblijfsobject": vbo})
    con = sqlite3.connect(broken)
    try:
        blob = bytearray(con.execute("SELECT geom FROM pand WHERE fid = 3").fetchone()[0])
        flags = blob[3]
        wkb = 8 + {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0x7]
        struct.pack_into("<I", blob, wkb + 1, 892)  # an unknown WKB geometry type
        con.execute("UPDATE pand SET geom = ? WHERE fid = 3", (bytes(blob),))
        con.commit()
    finally:
        con.close()
    _gpkg(folder / "missing_pand_layer.gpkg", {"verblijfsobject": vbo})
    _gpkg(folder / "missing_link_column.gpkg",
          {"pand": pand, "verblijfsobject": vbo.drop(columns=["pand_identificatie"])})
    _gpkg(folder / "missing_bouwjaar.gpkg",
          {"pand": pand.drop(columns=["bouwjaar"]), "verblijfsobject": vbo})
    _gpkg(folder / "wgs84.gpkg", {"pand": pand.to_crs(4326), "verblijfsobject": vbo.to_crs(4326)})
    _gpkg(folder / "no_crs.gpkg", {"pand": pand.set_crs(None, allow_override=True),
                                   "verblijfsobject": vbo.set_crs(None, allow_override=True)})
    _gpkg(folder / "mixed_crs.gpkg", {"pand": pand, "verblijfsobject": vbo.to_crs(4326)})
    # degrees written as if they were RD metres (a file whose CRS label is wrong)
    pand_deg = pand.to_crs(4326).set_crs(28992, allow_override=True)
    vbo_deg = vbo.to_crs(4326).set_crs(28992, allow_override=True)
    _gpkg(folder / "degrees_labelled_rd.gpkg", {"pand": pand_deg, "verblijfsobject": vbo_deg})
    _gpkg(folder / "empty_layers.gpkg", {"pand": pand.iloc[:0], "verblijfsobject": vbo.iloc[:0]})
    bad = pand.copy()
    bad.loc[0, "geometry"] = _bowtie(0, 0, 5)
    bad.loc[1, "geometry"] = shapely.Polygon(  # a ring that touches itself
        [(X0 + 5, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 9), (X0 + 7.5, Y0),
         (X0 + 5, Y0 + 9)])
    _gpkg(folder / "invalid_geometries.gpkg", {"pand": bad, "verblijfsobject": vbo})
    empty_p, empty_v = pand.copy(), vbo.copy()
    empty_p.loc[2, "geometry"] = shapely.Polygon()
    empty_p.loc[3, "geometry"] = None
    empty_v.loc[0, "geometry"] = None
    empty_v.loc[1, "geometry"] = shapely.Point()
    _gpkg(folder / "empty_geometries.gpkg", {"pand": empty_p, "verblijfsobject": empty_v})
    dup_p = pd.concat([pand, pand.iloc[[0]].assign(bouwjaar=1890)], ignore_index=True)
    dup_v = pd.concat([vbo, vbo.iloc[[2]]], ignore_index=True)
    _gpkg(folder / "duplicate_ids.gpkg",
          {"pand": gpd.GeoDataFrame(dup_p, crs=28992),
           "verblijfsobject": gpd.GeoDataFrame(dup_v, crs=28992)})
    absurd_p, absurd_v = pand.copy(), vbo.copy()
    absurd_p["bouwjaar"] = [0, 9999, -1, 1005, 1968, 1968, 1962]
    absurd_v["oppervlakte"] = [-50.0, 0.0, 5e7, 100.0, 100.0, 100.0, 60.0, 60.0, 60.0, 60.0]
    _gpkg(folder / "absurd_values.gpkg", {"pand": absurd_p, "verblijfsobject": absurd_v})
    text_p, text_v = pand.copy(), vbo.copy()
    text_p["bouwjaar"] = ["1950", "onbekend", "1955", " 1955 ", "1968", "1968", "1962"]
    text_v["oppervlakte"] = ["85,5", "100", "n.v.t.", "100", "100", "100", "60", "60", "60",
                             "60"]
    _gpkg(folder / "text_numbers.gpkg", {"pand": text_p, "verblijfsobject": text_v})
    odd_p, odd_v = pand.copy(), vbo.copy()
    odd_p["identificatie"] = ["NL.IMBAG.Pand." + i for i in pand["identificatie"]]
    odd_v["pand_identificatie"] = [" " + i + " " for i in vbo["pand_identificatie"]]
    odd_v.loc[9, "identificatie"] = "<script>alert(1)</script>"
    _gpkg(folder / "odd_ids.gpkg", {"pand": odd_p, "verblijfsobject": odd_v})
    points_p = pand.copy()
    points_p["geometry"] = pand.geometry.centroid
    _gpkg(folder / "pand_points.gpkg", {"pand": points_p, "verblijfsobject": vbo})
    valid.unlink()


# --------------------------------------------------------------------------------------------
# CBS wijk- en buurtkaart


def make_cbs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    b = buurten_table()
    valid = _gpkg(folder / "_valid.gpkg", {"buurten": b})
    (folder / "empty.gpkg").write_bytes(b"")
    _damaged_copy(valid, folder / "truncated.gpkg", lambda d: d[: len(d) // 3])
    _gpkg(folder / "missing_layer.gpkg", {"buurt": b})
    _gpkg(folder / "missing_buurtcode.gpkg", {"buurten": b.drop(columns=["buurtcode"])})
    _gpkg(folder / "duplicate_buurtcode.gpkg", {"buurten": b.assign(buurtcode="BU99010001")})
    _gpkg(folder / "null_buurtcode.gpkg",
          {"buurten": b.assign(buurtcode=["BU99010001", None])})
    _gpkg(folder / "wgs84.gpkg", {"buurten": b.to_crs(4326)})
    _gpkg(folder / "percent_over_100.gpkg",
          {"buurten": b.assign(percentage_koopwoningen=[150.0, 45.0],
                               percentage_personen_65_jaar_en_ouder=[30.0, 250.0])})
    _gpkg(folder / "negative_values.gpkg",
          {"buurten": b.assign(aantal_inwoners=[-5, 25], gemiddelde_woningwaarde=[210.0, -3.0])})
    _gpkg(folder / "text_decimal_comma.gpkg",
          {"buurten": b.assign(gemiddeld_inkomen_per_inwoner=["28,4", "31,0"],
                               percentage_koopwoningen=["60", "45,5"])})
    inv = b.copy()
    inv.loc[0, "geometry"] = _bowtie(-10, -10, 70)
    _gpkg(folder / "invalid_geometry.gpkg", {"buurten": inv})
    emp = b.copy()
    emp.loc[1, "geometry"] = None
    _gpkg(folder / "null_geometry.gpkg", {"buurten": emp})
    _gpkg(folder / "empty_layer.gpkg", {"buurten": b.iloc[:0]})
    ovl = b.copy()
    ovl.loc[1, "geometry"] = _box(-10, -10, 160, 40)  # Zuid covers Noord too
    _gpkg(folder / "overlapping.gpkg", {"buurten": ovl})
    _gpkg(folder / "infinite_values.gpkg",
          {"buurten": b.assign(gemiddelde_woningwaarde=[float("inf"), 260.0])})
    hostile = b.assign(buurtnaam=["<script>alert('x')</script>", 'Zuid "&" <b>vet</b>'],
                       gemeentenaam=["../../etc/passwd", "../../etc/passwd"])
    _gpkg(folder / "hostile_names.gpkg", {"buurten": hostile})
    valid.unlink()


# --------------------------------------------------------------------------------------------
# CBS Kerncijfers tables

_KC_HEADER = ["jaar", "regiocode", "soort_regio", "regionaam", "aantal_inwoners",
              "aandeel_koop", "woz_gemiddeld"]
_KC_ROWS = [
    [2021, "BU99010001", "Buurt", "Noord", 38, 0.58, 205000.0],
    [2021, "BU99010002", "Buurt", "Zuid", 24, 0.44, 250000.0],
    [2022, "BU99010001", "Buurt", "Noord", 39, 0.59, 208000.0],
]


def _kc_text(sep: str = ",", decimal: str = ".", rows: list[list] | None = None,
             header: list[str] | None = None) -> str:
    def cell(v: object) -> str:
        return str(v).replace(".", decimal) if isinstance(v, float) else str(v)

    lines = [sep.join(header or _KC_HEADER)]
    lines += [sep.join(cell(v) for v in r) for r in (_KC_ROWS if rows is None else rows)]
    return "\n".join(lines) + "\n"


def make_kerncijfers(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "semicolon_decimal_comma.csv").write_text(_kc_text(";", ","), encoding="utf-8")
    latin = [[*r[:3], "Noordé" if r[3] == "Noord" else r[3], *r[4:]] for r in _KC_ROWS]
    (folder / "latin1.csv").write_bytes(_kc_text(rows=latin).encode("latin-1"))
    (folder / "utf16.csv").write_bytes(_kc_text().encode("utf-16"))
    (folder / "tab.csv").write_text(_kc_text("\t"), encoding="utf-8")
    (folder / "no_jaar.csv").write_text(
        _kc_text(header=["year", *_KC_HEADER[1:]]), encoding="utf-8")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header_only.csv").write_text(",".join(_KC_HEADER) + "\n", encoding="utf-8")
    pct = [[*r[:5], r[5] * 100, r[6]] for r in _KC_ROWS]
    (folder / "percent_not_fraction.csv").write_text(_kc_text(rows=pct), encoding="utf-8")
    rng = random.Random(SEED)
    (folder / "binary.csv").write_bytes(bytes(rng.randrange(256) for _ in range(600)))
    ragged = _kc_text() + "2022,BU99010002,Buurt,Zuid,25,0.45,255000.0,extra,velden\n"
    (folder / "ragged.csv").write_text(ragged, encoding="utf-8")
    dup = [*_KC_ROWS, [2022, "BU99010001", "Buurt", "Noord", 99, 0.10, 100000.0]]
    (folder / "duplicate_rows.csv").write_text(_kc_text(rows=dup), encoding="utf-8")
    years = [["twintig", *_KC_ROWS[0][1:]], [0, *_KC_ROWS[1][1:]], [9999, *_KC_ROWS[2][1:]]]
    (folder / "garbage_jaar.csv").write_text(_kc_text(rows=years), encoding="utf-8")
    (folder / "unsupported.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")


# --------------------------------------------------------------------------------------------
# EP-Online bulk files

_PREAMBLE = ["PublicatieDatum;01-11-2023", "LaatstVerwerkteMutatievolgnummer;123456"]


def _ep_row(vbo: str, klasse: str, datum: str, index: str = "1,23", **extra: str) -> list[str]:
    row = dict.fromkeys(V5_COLUMNS, "")
    row.update({"BAGVerblijfsobjectID": vbo, "Energieklasse": klasse, "Registratiedatum": datum,
                "Gebouwklasse": "W", "EnergieIndex": index,
                "GebruiksoppervlakteThermischeZone": "85,4", **extra})
    return [row[c] for c in V5_COLUMNS]


_EP_ROWS = [
    _ep_row("0000010000000001", "C", "20220105"),
    _ep_row("0000010000000002", "E", "20200311", "2,01"),
    _ep_row("0000010000000003", "A", "20230420", "0,85"),
]


def _ep_text(rows: list[list[str]] | None = None, sep: str = ";", bom: bool = True,
             preamble: bool = True) -> str:
    lines = ([*_PREAMBLE] if preamble else []) + [sep.join(V5_COLUMNS)]
    lines += [sep.join(r) for r in (_EP_ROWS if rows is None else rows)]
    return ("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n"


def _zip(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED
         ) -> Path:
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2023, 11, 1, 0, 0, 0))
            info.compress_type = compression
            zf.writestr(info, data)
    return path


def _set_encrypted_flag(path: Path) -> None:
    """Set the 'encrypted' bit of every entry (the data stays plain: a lying archive)."""
    data = bytearray(path.read_bytes())
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (i := data.find(sig, start)) >= 0:
            flags = struct.unpack_from("<H", data, i + off)[0]
            struct.pack_into("<H", data, i + off, flags | 0x1)
            start = i + 4
    path.write_bytes(bytes(data))


def make_ep(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    good = _ep_text().encode("utf-8")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "comma_separated.csv").write_text(_ep_text(sep=","), encoding="utf-8")
    latin_rows = [_ep_row("0000010000000001", "C", "20220105", Projectnaam="Café Noordé")]
    (folder / "latin1.csv").write_bytes(_ep_text(latin_rows, bom=False).encode("latin-1"))
    (folder / "utf16.csv").write_bytes(_ep_text(bom=False).encode("utf-16"))
    no_header = "\r\n".join(";".join(r) for r in _EP_ROWS) + "\r\n"
    (folder / "no_header.csv").write_text(no_header, encoding="utf-8")
    (folder / "header_only.csv").write_text(_ep_text(rows=[]), encoding="utf-8")
    ragged = [*_EP_ROWS, [*_ep_row("0000010000000004", "D", "20210101"), "extra", "veld"]]
    (folder / "ragged_extra_fields.csv").write_text(_ep_text(ragged), encoding="utf-8")
    short = [*_EP_ROWS, ["0000010000000004", "", "", "", "", "", "", "", "", "D"]]
    (folder / "short_rows.csv").write_text(_ep_text(short), encoding="utf-8")
    labels = [_ep_row("0000010000000001", "Z", "20220105"),
              _ep_row("0000010000000002", " b ", "20200311"),
              _ep_row("0000010000000003", "A++++++", "20230420"),
              _ep_row("0000010000000004", "", "20230420"),
              _ep_row("0000010000000005", "<script>", "20230420")]
    (folder / "unknown_labels.csv").write_text(_ep_text(labels), encoding="utf-8")
    dates = [_ep_row("0000010000000001", "C", "2022-01-05"),
             _ep_row("0000010000000001", "G", "29991231"),
             _ep_row("0000010000000002", "E", "20201345"),
             _ep_row("0000010000000002", "B", "20190101"),
             _ep_row("0000010000000003", "A", "")]
    (folder / "bad_dates.csv").write_text(_ep_text(dates), encoding="utf-8")
    idx = [_ep_row("0000010000000001", "C", "20220105", "1.23"),
           _ep_row("0000010000000002", "E", "20200311", "2,01"),
           _ep_row("0000010000000003", "A", "20230420", "n.v.t."),
           _ep_row("0000010000000004", "B", "20230420", "-7,5")]
    (folder / "decimal_point.csv").write_text(_ep_text(idx), encoding="utf-8")
    rng = random.Random(SEED)
    (folder / "binary.csv").write_bytes(bytes(rng.randrange(256) for _ in range(2000)))
    (folder / "nul_bytes.csv").write_bytes(good.replace(b"20220105", b"2022\x00\x0005"))
    ties = [_ep_row("0000010000000001", "C", "20220105"),
            _ep_row("0000010000000001", "E", "20220105")]
    (folder / "duplicate_registrations.csv").write_text(_ep_text(ties), encoding="utf-8")
    quoted = [_ep_row("0000010000000001", "C", "20220105", Projectnaam='"Blok A; fase 2"')]
    (folder / "quoted_fields.csv").write_text(_ep_text(quoted), encoding="utf-8")
    ids = [_ep_row("00000100000000011234", "C", "20220105"),
           _ep_row("abc", "E", "20200311"),
           _ep_row("0000010000000003", "A", "20230420")]
    (folder / "malformed_ids.csv").write_text(_ep_text(ids), encoding="utf-8")
    _zip(folder / "zip_two_csv.zip", {"a.csv": good, "b.csv": good})
    _zip(folder / "zip_no_csv.zip", {"readme.txt": b"no labels here"})
    full = _zip(folder / "_full.zip", {"v20231101_v5_csv.csv": good * 20})
    _damaged_copy(full, folder / "zip_truncated.zip", lambda d: d[: len(d) // 2])

    def flip(d: bytearray) -> bytearray:
        start = d.find(b"v20231101_v5_csv.csv") + len("v20231101_v5_csv.csv") + 40
        for i in range(start, start + 8):
            d[i] ^= 0xFF
        return d

    _damaged_copy(full, folder / "zip_crc_error.zip", flip)
    full.unlink()
    _zip(folder / "zip_slip.zip", {"../../evil/v20231101_v5_csv.csv": good})
    _zip(folder / "zip_absolute.zip", {"/tmp/evil/v20231101_v5_csv.csv": good})
    # a bomb: 64 MB of the same row, compressed about 280 times
    row = (";".join(_EP_ROWS[0]) + "\r\n").encode()
    body = good + row * (64 * 2**20 // len(row))
    with zipfile.ZipFile(folder / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED,
                         compresslevel=9) as zf:
        zf.writestr(zipfile.ZipInfo("v20231101_v5_csv.csv", date_time=(2023, 11, 1, 0, 0, 0)),
                    body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    del body
    enc = _zip(folder / "zip_encrypted.zip", {"v20231101_v5_csv.csv": good})
    _set_encrypted_flag(enc)


# --------------------------------------------------------------------------------------------
# GeoJSON pages (PDOK OGC API Features)


def _feature(fid: str, props: dict | None, geom: dict | str | None = "pand") -> dict:
    if geom == "pand":
        geom = shapely.geometry.mapping(_box(0, 0, 5, 9))
    elif geom == "vbo":
        geom = {"type": "Point", "coordinates": [X0 + 2.5, Y0 + 4.5]}
    f = {"type": "Feature", "id": fid, "properties": props}
    if geom != "absent":
        f["geometry"] = geom
    return f


def _pand_props(i: int, **extra: object) -> dict:
    return {"identificatie": f"00001000000000{i:02d}", "bouwjaar": 1950,
            "status": "Pand in gebruik", **extra}


def _fc(features: list) -> dict:
    return {"type": "FeatureCollection", "features": features, "links": [],
            "numberReturned": len(features) if isinstance(features, list) else 0}


def make_geojson(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pages = {
        "missing_geometry": _fc([_feature("u1", _pand_props(1), "absent"),
                                 _feature("u2", _pand_props(2), None),
                                 _feature("u3", _pand_props(3))]),
        "null_properties": _fc([_feature("u1", None), _feature("u2", _pand_props(2))]),
        "properties_not_object": _fc([_feature("u1", ["identificatie", 1]),  # type: ignore[arg-type]
                                      _feature("u2", _pand_props(2))]),
        "extra_fields": _fc([_feature("u1", _pand_props(1, onbekend_veld="x", nested={"a": 1})),
                             _feature("u2", _pand_props(2))]),
        "invalid_coordinates": _fc([
            _feature("u1", _pand_props(1), {"type": "Polygon", "coordinates": [[[0, 0], [1]]]}),
            _feature("u2", _pand_props(2), {"type": "Polygon"}),
            _feature("u3", _pand_props(3), {"type": "Blob", "coordinates": [1, 2]}),
            _feature("u4", _pand_props(4), {"type": "Point", "coordinates": ["x", None]}),
            _feature("u5", _pand_props(5))]),
        "not_feature_collection": {"type": "Feature", "properties": {}, "geometry": None},
        "features_not_list": {"type": "FeatureCollection", "features": {"a": 1}, "links": []},
        "feature_not_object": _fc(["just a string", 42, _feature("u2", _pand_props(2))]),
        "degrees_coordinates": _fc([_feature("u1", _pand_props(1), {
            "type": "Polygon", "coordinates": [[[6.9, 52.78], [6.9001, 52.78],
                                                [6.9001, 52.7801], [6.9, 52.78]]]})]),
        "duplicate_ids": _fc([_feature("u1", _pand_props(1)), _feature("u1", _pand_props(9)),
                              _feature("u2", _pand_props(1))]),
        "string_numbers": _fc([_feature("u1", _pand_props(1, bouwjaar="1950")),
                               _feature("u2", _pand_props(2, bouwjaar="onbekend")),
                               _feature("u3", _pand_props(3, bouwjaar=9999))]),
        "invalid_polygon": _fc([_feature("u1", _pand_props(1),
                                         shapely.geometry.mapping(_bowtie(0, 0, 5)))]),
    }
    for name, page in pages.items():
        (folder / f"{name}.json").write_text(json.dumps(page, indent=1) + "\n",
                                             encoding="utf-8")
    (folder / "truncated.json").write_text(json.dumps(pages["extra_fields"])[:150],
                                           encoding="utf-8")


def main() -> None:
    for sub, make in (("bag", make_bag), ("cbs", make_cbs), ("kerncijfers", make_kerncijfers),
                      ("ep", make_ep), ("geojson", make_geojson)):
        folder = HERE / sub
        if folder.exists():
            shutil.rmtree(folder)
        make(folder)
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    n = sum(1 for p in HERE.rglob("*") if p.is_file() and p.parent != HERE)
    print(f"{n} files, {total / 1e6:.2f} MB in {HERE}")


if __name__ == "__main__":
    main()
