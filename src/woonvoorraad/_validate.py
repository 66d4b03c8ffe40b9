"""Input validation shared by the readers, with precise errors and logged repairs.

Layers, columns and CRS are checked before anything is read (:func:`layer_info`,
:func:`require_columns`, :func:`require_rd_new`); the values are checked after reading
(:func:`parse_numbers`, :func:`check_statistics`, :func:`check_range`, :func:`check_years`,
:func:`check_codes`, :func:`check_unique`, :func:`check_geometries`). A check either raises an
:class:`~woonvoorraad.errors.InputError` that names the file, layer, column and values at
fault, or repairs the data in a documented way (a value becomes NaN, a polygon is made valid)
and logs a warning that says what was repaired and how often. ``docs/reliability.md`` lists
what each reader does with each kind of bad input.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio

from woonvoorraad.errors import (
    CRSError,
    EmptyInputError,
    InputError,
    MissingColumnError,
    MissingLayerError,
)

logger = logging.getLogger(__name__)

RD_NEW = "EPSG:28992"

#: The RD New grid over the Netherlands (metres), with a margin of some kilometres.
RD_EXTENT = (-25_000.0, 280_000.0, 310_000.0, 640_000.0)

#: Values at or below this are CBS missing-value codes
#: (the one definition: the CBS readers and the OData download use it).
CBS_MISSING_MAX = -99990

#: Longitude/latitude box of the Netherlands: RD-labelled data inside it is in degrees.
_NL_DEGREES = (2.5, 50.5, 7.6, 53.8)

#: Geometry kind each known layer must have, by the ``what`` the readers pass.
EXPECTED_GEOMETRY: dict[str, str] = {
    "BAG panden": "polygon",
    "BAG verblijfsobjecten": "point",
    "CBS buurten": "polygon",
}

#: Layers that must not be empty, by the ``what`` the readers pass.
NON_EMPTY_LAYERS = frozenset({"BAG panden", "BAG verblijfsobjecten"})


def check_file(path: str | Path) -> Path:
    """Return ``path`` as a Path, raising :class:`InputError` if it is missing or empty."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", path=p)
    if p.is_dir():
        raise InputError("is a folder, expected a file", path=p)
    if p.stat().st_size == 0:
        raise EmptyInputError("file is empty (0 bytes)", path=p)
    return p


def _gdal_reason(exc: BaseException) -> str:
    """A short, plain reason for a GDAL/SQLite failure (the raw message in brackets)."""
    text = str(exc).strip()
    low = text.lower()
    if "malformed" in low or "disk image" in low or "database corrupt" in low:
        reason = "the file is damaged or truncated (SQLite: database disk image is malformed)"
    elif "not recognized as being in a supported file format" in low or "not a database" in low:
        reason = "it is not a GeoPackage or other vector file GDAL can read"
    elif "permission denied" in low:
        reason = "permission denied"
    else:
        reason = text.splitlines()[0][:300] if text else type(exc).__name__
        return reason
    return reason


#: GeoPackages up to this size get an SQLite integrity check (about 5 s per GB) when first
#: opened; GDAL reads a damaged page as "no more features" and would silently drop rows.
QUICK_CHECK_MAX_BYTES: int = 1 << 30

_checked: set[tuple[str, int, int]] = set()


def check_sqlite(path: Path) -> None:
    """Run SQLite's ``PRAGMA quick_check`` on a GeoPackage; raise if the file is damaged.

    GDAL logs ``ERROR 1: database disk image is malformed`` on a damaged data page and then
    returns the features it could read, so a truncated or corrupted GeoPackage would give
    silently wrong counts. Files over :data:`QUICK_CHECK_MAX_BYTES` (the national
    ``bag-light.gpkg``) are not checked; a file is checked once per size and modification time.
    """
    import sqlite3

    try:
        st = path.stat()
        with path.open("rb") as fh:
            magic = fh.read(16)
    except OSError:
        return
    if magic != b"SQLite format 3\x00":
        return
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _checked:
        return
    if st.st_size > QUICK_CHECK_MAX_BYTES:
        logger.debug("%s: %.1f GB, too large for the integrity check; not checked", path.name,
                     st.st_size / 1e9)
        return
    problem = None
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
        if [r[0] for r in rows] != ["ok"]:
            problem = str(rows[0][0]).strip().splitlines()[-1] if rows else "no answer"
            if len(rows) > 1:
                problem = str(rows[-1][0])
    except sqlite3.DatabaseError as exc:
        text = str(exc).lower()
        if any(w in text for w in ("malformed", "not a database", "corrupt", "disk i/o")):
            problem = str(exc)
        else:  # cannot open it read-only here (locks, WAL): let GDAL try
            logger.debug("%s: integrity check skipped: %s", path.name, exc)
            return
    if problem:
        raise InputError(f"the file is damaged or truncated (SQLite integrity check: {problem}); "
                         f"download or export it again", path=path)
    _checked.add(key)


def list_layers(path: Path) -> list[str]:
    """Layer names of a vector file, with a clear error when GDAL cannot open it.

    A GeoPackage is first checked for damage (:func:`check_sqlite`).
    """
    check_sqlite(path)
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(
            f"cannot be opened as a vector file (GeoPackage expected): {_gdal_reason(exc)}; "
            f"download or export it again", path=path
        ) from None


@contextlib.contextmanager
def gdal_errors(path: str | Path, *, layer: str | None = None,
                what: str = "read") -> Iterator[None]:
    """Turn a failure while reading a damaged file into an :class:`InputError`.

    A GeoPackage whose pages are intact can still hold damaged values: text that is not
    UTF-8, a geometry blob that is not WKB. GDAL, Arrow or GEOS then fail deep inside the
    reader; inside this block such a failure names the file and layer and says what is
    wrong, instead of ending in a traceback (which stays available at ``-vv``).

    Examples
    --------
    >>> with gdal_errors("x.gpkg", layer="pand"):  # doctest: +ELLIPSIS
    ...     b"\\xff".decode("utf-8")
    Traceback (most recent call last):
    ...
    woonvoorraad.errors.InputError: x.gpkg: layer 'pand' cannot be read: ... not valid UTF-8 ...
    """
    import pyarrow as pa
    import shapely

    try:
        yield
    except InputError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, UnicodeDecodeError,
            pa.ArrowException, shapely.errors.ShapelyError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            reason = f"it holds text that is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        elif isinstance(exc, pa.ArrowException):
            reason = f"it holds values Arrow cannot read ({_first_line(exc)})"
        elif isinstance(exc, shapely.errors.ShapelyError):
            reason = f"it holds a damaged geometry ({_first_line(exc)})"
        else:
            reason = _gdal_reason(exc)
        logger.debug("reading %s failed", path, exc_info=exc)
        where = f"layer {layer!r} " if layer else ""
        raise InputError(f"{where}cannot be {what}: {reason}; the file is damaged, download or "
                         f"export it again", path=path) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def layer_info(path: Path, layer: str, *, what: str) -> dict[str, Any]:
    """Return :func:`pyogrio.read_info` for ``layer``, checking that the layer exists.

    Parameters
    ----------
    path
        The vector file.
    layer
        Layer name.
    what
        What the layer is, for the error message (e.g. ``"BAG pand layer"``).
    """
    layers = list_layers(path)
    if layer not in layers:
        raise MissingLayerError(
            f"has no layer {layer!r} ({what}); layers present: {', '.join(layers) or 'none'}",
            path=path,
        )
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:
        raise InputError(f"layer {layer!r} cannot be read: {_gdal_reason(exc)}",
                         path=path) from None
    _check_layer_shape(info, path=path, layer=layer, what=what)
    return info


def _check_layer_shape(info: dict[str, Any], *, path: Path, layer: str, what: str) -> None:
    """Cheap checks from the layer's metadata: geometry type, emptiness, plausible extent."""
    kind = EXPECTED_GEOMETRY.get(what)
    gtype = str(info.get("geometry_type") or "")
    base = gtype.replace(" Z", "").replace(" M", "").replace("Multi", "")
    if kind is not None and base in ("Point", "LineString", "Polygon") and base.lower() != kind:
        raise InputError(
            f"layer {layer!r} ({what}) holds {gtype} geometries; expected "
            f"{'polygons (footprints or areas)' if kind == 'polygon' else 'points'}",
            path=path)
    n = info.get("features")
    if what in NON_EMPTY_LAYERS and n == 0:
        raise EmptyInputError(f"layer {layer!r} ({what}) has no features", path=path)
    bounds = info.get("total_bounds")
    crs = info.get("crs")
    if bounds is None or not crs or not np.all(np.isfinite(np.asarray(bounds, dtype=float))):
        return
    if _epsg(crs) != 28992:
        return
    x0, y0, x1, y1 = (float(v) for v in bounds)
    lo_x, lo_y, hi_x, hi_y = _NL_DEGREES
    if lo_x <= x0 <= x1 <= hi_x and lo_y <= y0 <= y1 <= hi_y:
        raise CRSError(
            f"layer {layer!r} says EPSG:28992 (RD New, metres) but its coordinates "
            f"({x0:.4f}, {y0:.4f}) – ({x1:.4f}, {y1:.4f}) are longitude/latitude degrees; the "
            f"CRS label is wrong: assign EPSG:4326 and reproject, e.g. ogr2ogr -s_srs EPSG:4326 "
            f"-t_srs EPSG:28992 out.gpkg in.gpkg", path=path)
    ex0, ey0, ex1, ey1 = RD_EXTENT
    if x1 < ex0 or x0 > ex1 or y1 < ey0 or y0 > ey1:
        logger.warning("%s: layer %r lies outside the Netherlands in RD New (x %.0f–%.0f, "
                       "y %.0f–%.0f m); is its CRS right?", path.name, layer, x0, x1, y0, y1)


def _epsg(crs: Any) -> int | None:
    from pyproj import CRS

    try:
        return CRS.from_user_input(crs).to_epsg()
    except Exception:
        return None


def require_columns(
    available: Iterable[str], required: Sequence[str], *, path: Path, layer: str | None = None
) -> None:
    """Raise :class:`MissingColumnError` listing every required column that is absent."""
    have = set(available)
    missing = [c for c in required if c not in have]
    if missing:
        where = f"layer {layer!r} " if layer else ""
        raise MissingColumnError(
            f"{where}lacks required column(s) {', '.join(map(repr, missing))}; "
            f"columns present: {', '.join(sorted(have)) or 'none'}",
            path=path,
        )


def require_rd_new(crs: Any, *, path: Path, layer: str) -> None:
    """Raise :class:`CRSError` unless ``crs`` is EPSG:28992 (RD New)."""
    if crs is None or str(crs).strip() == "":
        raise CRSError(
            f"layer {layer!r} has no coordinate reference system; expected {RD_NEW} (RD New)",
            path=path,
        )
    epsg = _epsg(crs)
    if epsg != 28992:
        raise CRSError(
            f"layer {layer!r} is in {crs}, expected {RD_NEW} (RD New); reproject it first, "
            f"e.g. ogr2ogr -t_srs EPSG:28992 out.gpkg in.gpkg",
            path=path,
        )


def require_rows(n: int, *, path: Path, layer: str, what: str) -> None:
    """Raise :class:`EmptyInputError` if a layer has no features."""
    if n == 0:
        raise EmptyInputError(f"layer {layer!r} ({what}) has no features", path=path)


# --------------------------------------------------------------------------------------------
# tables: text files, numbers, ranges, codes


def _decode_text(raw: bytes, path: Path) -> tuple[str, str]:
    """Decode a text file: BOM-marked UTF-8/UTF-16, else UTF-8, else Windows-1252 (logged)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(f"starts with a UTF-16 byte-order mark but is not valid UTF-16 "
                             f"({exc})", path=path) from None
    head = raw[:65536]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if b"\x00" in head or (head and controls / len(head) > 0.05):
        raise InputError("is a binary file, not a text table (CSV expected)", path=path)
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        logger.warning("%s: not UTF-8 (byte 0x%02x on line %d); read as Windows-1252 — save it "
                       "as UTF-8 to be sure of accented names", path.name, raw[exc.start], line)
        return raw.decode("cp1252", errors="replace"), "cp1252"


def _separator(header: str) -> str:
    """The most frequent of ``,``, ``;``, tab and ``|`` in the header line (``,`` if none)."""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else ","


def read_csv_table(path: str | Path, *, what: str = "table", require_rows: bool = True
                   ) -> pd.DataFrame:
    """Read a small delimited text table into strings, whatever its encoding and separator.

    The encoding is found from a byte-order mark (UTF-8, UTF-16), else UTF-8 is tried and
    Windows-1252 used when that fails (with a warning); the separator is the most frequent of
    ``,``, ``;``, tab and ``|`` in the header line. Every cell is returned as text (empty cells
    as missing), so numbers with decimal commas survive for :func:`parse_numbers`.

    Parameters
    ----------
    path
        The file.
    what
        What the table is, for messages.
    require_rows
        Raise :class:`EmptyInputError` when the table has a header but no rows.

    Raises
    ------
    InputError
        A binary file, rows with more fields than the header (naming the line), no rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "k.csv"
    >>> _ = p.write_bytes("jaar;regiocode;aandeel_koop\\n2022;BU1;0,58\\n".encode("cp1252"))
    >>> read_csv_table(p).to_dict("records")
    [{'jaar': '2022', 'regiocode': 'BU1', 'aandeel_koop': '0,58'}]
    """
    p = check_file(path)
    text, encoding = _decode_text(p.read_bytes(), p)
    header = text.split("\n", 1)[0]
    sep = _separator(header)
    try:
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_values=[""], engine="c", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise EmptyInputError(f"{what} has no header and no rows", path=p) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        detail = (f"line {match.group(2)} has {match.group(3)} fields, the header "
                  f"{match.group(1)}" if match else str(exc).strip())
        raise InputError(f"{what} cannot be parsed ({sep!r}-separated, {encoding}): {detail}",
                         path=p) from None
    table.columns = [str(c).strip().lstrip("\ufeff").strip() for c in table.columns]
    repeated = table.columns[table.columns.duplicated()].unique()
    if len(repeated):
        raise InputError(f"{what} has repeated column names: "
                         f"{', '.join(map(repr, repeated[:5]))}", path=p)
    if require_rows and len(table) == 0:
        raise EmptyInputError(f"{what} has a header but no rows", path=p)
    logger.debug("%s: %d rows, %r-separated, %s", p.name, len(table), sep, encoding)
    return table


def to_number(value: Any, *, decimal: str | None = None) -> float:
    """One cell as a float: decimal commas, Dutch thousands dots and blanks understood.

    Parameters
    ----------
    value
        The cell.
    decimal
        ``","`` (Dutch: dots group thousands), ``"."``, or None: a comma in the cell makes it
        Dutch, else the dot is the decimal sign. ``"1.000"`` is ambiguous on its own; the
        column decides (:func:`parse_numbers`).

    Returns NaN for an empty or unparsable cell.

    Examples
    --------
    >>> to_number("0,58"), to_number("1.234,5"), to_number(" 12 "), to_number("n.v.t.")
    (0.58, 1234.5, 12.0, nan)
    >>> to_number("1.000"), to_number("1.000", decimal=",")
    (1.0, 1000.0)
    """
    if value is None:
        return float("nan")
    if isinstance(value, int | float | np.number):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return float("nan")
    dutch = decimal == "," or (decimal is None and "," in text)
    if dutch:
        if not _DUTCH_NUMBER.match(text) and not re.fullmatch(r"[+-]?\d*(,\d+)?", text):
            return float("nan")
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return float("nan")


_DUTCH_NUMBER = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*(,\d+)?$")


def parse_numbers(df: pd.DataFrame, columns: Iterable[str], *, path: str | Path,
                  layer: str | None = None) -> dict[str, int]:
    """Convert text columns to float in place; decimal commas are read, the rest is logged.

    Numeric columns are left as they are. A column with a comma in any cell is read the Dutch
    way (``1.234,5``), else the dot is the decimal sign. Text cells that are not numbers
    become NaN, and each column with such cells gets one warning naming the column, the count
    and examples — never a silent NaN.

    Returns
    -------
    dict
        Unparsable cells per column (only columns that had any).

    Examples
    --------
    >>> t = pd.DataFrame({"a": ["28,4", "31", "geheim"]})
    >>> parse_numbers(t, ["a"], path="x.gpkg")
    {'a': 1}
    >>> t["a"].tolist()
    [28.4, 31.0, nan]
    """
    bad: dict[str, int] = {}
    where = f" layer {layer!r}" if layer else ""
    for col in columns:
        if col not in df.columns:
            continue
        values = df[col]
        if isinstance(values, pd.DataFrame):
            raise InputError(f"{where.strip() + ': ' if where else ''}column {col!r} occurs "
                             f"{values.shape[1]} times", path=path)
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            continue
        text = values.astype("string").str.strip()
        decimal = "," if text.str.contains(",", regex=False).fillna(False).any() else "."
        parsed = pd.Series([to_number(v, decimal=decimal) for v in text.fillna("")],
                           index=df.index, dtype=float)
        unparsable = text.notna() & (text != "") & parsed.isna()
        if unparsable.any():
            bad[col] = int(unparsable.sum())
            examples = ", ".join(repr(v) for v in text[unparsable].unique()[:3])
            logger.warning("%s%s: column %r has %d value(s) that are not numbers (e.g. %s); "
                           "treated as missing", Path(path).name, where, col, bad[col], examples)
        df[col] = parsed
    return bad


#: Plausible range of each canonical statistic (in canonical units); outside is absurd.
STATISTIC_RANGES: dict[str, tuple[float, float]] = {
    "aantal_inwoners": (0, 250_000),
    "aantal_65plus": (0, 100_000),
    "aantal_huishoudens": (0, 150_000),
    "gemiddelde_huishoudsgrootte": (0.5, 15),
    "woningvoorraad": (0, 150_000),
    "woz_gemiddeld": (0, 20_000_000),
    "gasverbruik_gemiddeld": (0, 100_000),
    "inkomen_per_inwoner": (0, 1_000_000),
}


def check_statistics(df: pd.DataFrame, *, path: str | Path, layer: str | None = None,
                     fractions: bool = False) -> dict[str, dict[str, int]]:
    """Set absurd values of canonical statistics to NaN, in place, with a warning each.

    * ``aandeel_*`` (fractions) outside 0–1 — a percentage over 100 in the source;
    * counts, money and gas use below 0 (CBS missing-value codes must already be NaN, see
      :func:`woonvoorraad.sources.cbs.mask_sentinels`) or above :data:`STATISTIC_RANGES`;
    * infinite values.

    Parameters
    ----------
    df
        A table with canonical statistic columns (others are ignored).
    path, layer
        Where the table came from, for messages.
    fractions
        The source itself stores fractions (a Kerncijfers table): a whole ``aandeel_*`` column
        of values between 0 and 100, mostly over 1, is then an error (percentages written
        where fractions belong) rather than a few bad cells.

    Returns
    -------
    dict
        ``{column: {reason: count}}`` of the values set to NaN.

    Raises
    ------
    InputError
        ``fractions=True`` and a column holds percentages.

    Examples
    --------
    >>> t = pd.DataFrame({"aandeel_koop": [0.6, 1.5], "woz_gemiddeld": [210e3, -3e3]})
    >>> check_statistics(t, path="b.gpkg")
    {'aandeel_koop': {'above 1 (over 100 %)': 1}, 'woz_gemiddeld': {'below 0': 1}}
    >>> t.isna().sum().tolist()
    [1, 1]
    """
    repairs: dict[str, dict[str, int]] = {}
    where = f" layer {layer!r}" if layer else ""
    name = Path(path).name
    repeated = df.columns[df.columns.duplicated()].unique()
    if len(repeated):
        raise InputError(f"repeated column names: {', '.join(map(repr, repeated[:5]))}",
                         path=path)
    for col in df.columns:
        is_fraction = str(col).startswith("aandeel_")
        if not (is_fraction or col in STATISTIC_RANGES):
            continue
        values = pd.to_numeric(df[col], errors="coerce").astype(float)
        reasons: dict[str, pd.Series] = {"infinite": np.isinf(values)}
        finite = values.where(~np.isinf(values))
        if is_fraction:
            if fractions:
                valid = finite.dropna()
                if (len(valid) and valid.max() > 1 and valid.between(0, 100).all()
                        and (valid > 1).mean() > 0.5):
                    raise InputError(
                        f"column {col!r} holds percentages (values up to {valid.max():g}); "
                        f"this table stores fractions 0–1: divide by 100", path=path)
            reasons["below 0"] = finite < 0
            reasons["above 1 (over 100 %)"] = finite > 1
        else:
            lo, hi = STATISTIC_RANGES[col]
            reasons["below 0" if lo == 0 else f"below {lo:g}"] = finite < lo
            reasons[f"above {hi:g}"] = finite > hi
        hits = {r: m.fillna(False).astype(bool) for r, m in reasons.items()}
        counts = {r: int(m.sum()) for r, m in hits.items() if m.any()}
        if not counts:
            continue
        drop = np.logical_or.reduce([m.to_numpy() for m in hits.values()])
        examples = ", ".join(f"{v:g}" for v in values[drop].unique()[:3])
        logger.warning("%s%s: %s has absurd values (%s; e.g. %s); set to missing (NaN)", name,
                       where, col, ", ".join(f"{n} {r}" for r, n in counts.items()), examples)
        df[col] = values.mask(drop)
        repairs[col] = counts
    return repairs


def check_range(values: pd.Series, *, lo: float, hi: float, path: str | Path, column: str,
                layer: str | None = None, unit: str = "") -> pd.Series:
    """Return ``values`` with those outside ``[lo, hi]`` (and infinities) as NaN, logged.

    Examples
    --------
    >>> check_range(pd.Series([85.0, -50.0, 5e7]), lo=1, hi=100_000, path="bag.gpkg",
    ...             column="oppervlakte", unit="m²").tolist()
    [85.0, nan, nan]
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    bad = (v < lo) | (v > hi) | np.isinf(v)
    if bad.any():
        where = f" layer {layer!r}" if layer else ""
        examples = ", ".join(f"{x:g}" for x in v[bad].unique()[:4])
        logger.warning("%s%s: %d value(s) of %s outside %g–%g%s (e.g. %s); treated as unknown",
                       Path(path).name, where, int(bad.sum()), column, lo, hi,
                       f" {unit}" if unit else "", examples)
    return v.mask(bad)


def check_years(values: pd.Series, *, path: str | Path, column: str = "jaar",
                lo: int = 1990, hi: int = 2100) -> pd.Series:
    """The years of a statistics table as integers; raise on text or implausible years.

    A statistics row for the wrong year would silently enter a trend, so any year that is
    not a whole number between ``lo`` and ``hi`` is an error naming the values.

    Examples
    --------
    >>> check_years(pd.Series(["2021", "2022.0", 2023]), path="k.csv").tolist()
    [2021, 2022, 2023]
    """
    years = pd.Series([to_number(v) for v in values], index=values.index, dtype=float)
    bad = years.isna() | (years != np.floor(years)) | (years < lo) | (years > hi)
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.Series(values[bad]).astype(str).unique()[:5])
        codes = int((years <= CBS_MISSING_MAX).sum())
        hint = (f"; {codes} of them are CBS missing-value codes (-99997 and the like), not "
                f"years: leave out those rows or fill in their year" if codes else "")
        raise InputError(f"column {column!r} has {int(bad.sum())} value(s) that are not a year "
                         f"between {lo} and {hi}: {examples}{hint}", path=path)
    return years.astype("int64")


_CODE_PATTERNS = {"BU": r"BU\d{8}", "WK": r"WK\d{6}", "GM": r"GM\d{4}"}


def check_codes(df: pd.DataFrame, column: str, *, prefix: str, path: str | Path,
                layer: str | None = None) -> None:
    """Raise when CBS codes in ``column`` are missing; warn when they are not well-formed.

    A missing buurtcode cannot be joined to anything, so it is an error; a code that is not
    ``BU`` + 8 digits (``WK`` + 6, ``GM`` + 4) is kept but named in a warning (with
    ``repr``, so markup or control characters show as what they are).

    Examples
    --------
    >>> check_codes(pd.DataFrame({"buurtcode": ["BU00140101", None]}), "buurtcode",
    ...             prefix="BU", path="b.gpkg")
    Traceback (most recent call last):
    ...
    woonvoorraad.errors.InputError: b.gpkg: column 'buurtcode' is empty in 1 row(s) (of 2)
    """
    if column not in df.columns:
        return
    codes = df[column]
    missing = codes.isna() | (codes.astype("string").str.strip() == "")
    if missing.any():
        raise InputError(f"column {column!r} is empty in {int(missing.sum())} row(s) "
                         f"(of {len(df)})", path=path)
    pattern = _CODE_PATTERNS.get(prefix, re.escape(prefix) + r".+")
    odd = ~codes.astype("string").str.fullmatch(pattern).fillna(False).astype(bool)
    if odd.any():
        where = f" layer {layer!r}" if layer else ""
        examples = ", ".join(repr(c) for c in codes[odd].astype(str).unique()[:3])
        logger.warning("%s%s: %d value(s) of %s are not CBS codes (%s): %s", Path(path).name,
                       where, int(odd.sum()), column, pattern.replace("\\d", "digit "),
                       examples)


def check_unique(df: pd.DataFrame, columns: Sequence[str], *, path: str | Path,
                 what: str = "rows") -> None:
    """Raise :class:`InputError` when ``columns`` do not identify the rows uniquely.

    Examples
    --------
    >>> t = pd.DataFrame({"regiocode": ["BU1", "BU1"], "jaar": [2022, 2022]})
    >>> check_unique(t, ["regiocode", "jaar"], path="k.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    woonvoorraad.errors.InputError: k.csv: 2 rows share a regiocode + jaar ...: BU1/2022
    """
    cols = [c for c in columns if c in df.columns]
    if not cols:
        return
    dup = df.duplicated(cols, keep=False)
    if dup.any():
        keys = df.loc[dup, cols].astype(str).drop_duplicates().head(5)
        shown = ", ".join("/".join(r) for r in keys.itertuples(index=False))
        raise InputError(f"{int(dup.sum())} {what} share a {' + '.join(cols)} with another "
                         f"row: {shown}", path=path)


# --------------------------------------------------------------------------------------------
# geometries


def check_geometries(gdf: Any, *, path: str | Path, layer: str, kind: str = "polygon",
                     id_column: str | None = None) -> Any:
    """Check and repair the geometries of a layer; return the (possibly repaired) frame.

    * missing or empty geometries are counted in a warning and kept (the rows are reported
      by the step that needs a location: a unit without a point is "outside every buurt");
    * geometries of the wrong kind (a point in a polygon layer) raise :class:`InputError`;
    * invalid polygons (self-intersecting rings, bow-ties) are repaired with
      :func:`shapely.make_valid`, keeping only their polygonal parts, and logged with
      examples and the reason GEOS gives; a polygon that has no area left becomes empty.

    Parameters
    ----------
    gdf
        A GeoDataFrame.
    path, layer
        Where it came from, for messages.
    kind
        ``"polygon"`` or ``"point"``.
    id_column
        Column whose values name the rows in messages.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> bow = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> fixed = check_geometries(gpd.GeoDataFrame(geometry=[bow]), path="b.gpkg",
    ...                          layer="buurten")
    >>> float(fixed.geometry.area.iloc[0]), bool(fixed.geometry.is_valid.iloc[0])
    (2.0, True)
    """
    import shapely

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    where = f"{Path(path).name} layer {layer!r}"
    names = (gdf[id_column].astype(str).to_numpy() if id_column and id_column in gdf.columns
             else np.asarray([f"row {i}" for i in range(len(gdf))], dtype=object))
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        logger.warning("%s: %d feature(s) without geometry (e.g. %s)", where,
                       int(missing.sum()), ", ".join(names[missing][:3]))
    types = shapely.get_type_id(geoms)
    allowed = {"polygon": (3, 6), "point": (0, 4)}[kind]
    wrong = ~missing & ~np.isin(types, allowed)
    if kind == "polygon":
        wrong &= types != 7  # collections are reduced to their polygons below
    if wrong.any():
        names_of = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon",
                    4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}
        found = sorted({names_of.get(int(t), "other") for t in types[wrong]})
        raise InputError(f"layer {layer!r} holds {', '.join(found)} geometries where "
                         f"{kind}s belong (e.g. {', '.join(names[wrong][:3])})", path=path)
    if kind != "polygon":
        return gdf
    invalid = ~missing & ~shapely.is_valid(geoms)
    collection = ~missing & (types == 7)
    todo = invalid | collection
    if not todo.any():
        return gdf
    reasons = shapely.is_valid_reason(geoms[invalid][:3]) if invalid.any() else []
    fixed = geoms.copy()
    fixed[todo] = [_polygonal(g) for g in shapely.make_valid(geoms[todo])]
    out = gdf.copy()
    out[gdf.geometry.name] = type(gdf.geometry)(fixed, index=gdf.index, crs=gdf.crs)
    if invalid.any():
        logger.warning("%s: %d invalid polygon(s) repaired with make_valid (e.g. %s: %s)",
                       where, int(invalid.sum()), ", ".join(names[invalid][:3]),
                       "; ".join(map(str, reasons)))
    return out


def _polygonal(geom: Any) -> Any:
    """The polygons of a geometry (collections flattened); an empty polygon when none."""
    import shapely

    parts = shapely.get_parts(shapely.get_parts(geom))
    polys = [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def require_overlap(n_units: int, n_outside: int, *, bag_path: str | Path,
                    buurten_path: str | Path) -> None:
    """Raise when no dwelling of the BAG input lies inside a buurt of the buurten input.

    Then every count of the build would be zero: the two files cover different areas (another
    gemeente, a ``--gemeente`` filter that matches nothing near the BAG, a wrong CRS).

    Raises
    ------
    EmptyInputError
        No dwellings at all in the area of the buurten.
    InputError
        Dwellings, but none inside a buurt.
    """
    if n_units == 0:
        raise EmptyInputError(f"the BAG input has no dwellings in the area of the buurten of "
                              f"{Path(buurten_path).name}; do the files cover the same area?",
                              path=bag_path)
    if n_outside >= n_units:
        raise InputError(f"none of the {n_units} dwellings lies inside a buurt of "
                         f"{Path(buurten_path).name}: the files cover different areas (check "
                         f"the gemeente filter and that both are in EPSG:28992)", path=bag_path)
