"""Reader for EP-Online (RVO) registered energy labels, bulk CSV.

The bulk file (``Mutatiebestand``, a ZIP holding one CSV of about 1 GB) is ``;``-separated,
UTF-8 with a byte-order mark, uses decimal commas and ``YYYYMMDD`` dates, and starts with two
preamble lines (``PublicatieDatum;…``, ``LaatstVerwerkteMutatievolgnummer;…``) before the
header. Two header styles exist: the current one (``BAGVerblijfsobjectID``, ``Energieklasse``,
``Registratiedatum``, …) and the older ``Pand_*`` one (``Pand_bagverblijfsobjectid``,
``Pand_energieklasse``, ``Pand_registratiedatum``, …). Both map onto one schema; a unit with
several registrations keeps the latest by registration date.

Damaged or unusual files get a specific error or a logged repair (``docs/reliability.md``):
a ZIP is read through :func:`woonvoorraad._archive.open_zip_member` (damaged, encrypted, unsafe
or oversized archives are refused); UTF-16 files are read as such; bytes that are not UTF-8
are replaced and counted; rows with more fields than the header are skipped and counted;
registration dates that cannot be read or lie before 1995 or in the future are treated as
unknown (such a registration never wins over a dated one); unit ids that are not 16 digits
are skipped and counted.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from woonvoorraad import _validate
from woonvoorraad._archive import open_zip_member
from woonvoorraad.errors import EmptyInputError, InputError, MissingColumnError

logger = logging.getLogger(__name__)

#: Energy label classes, best first.
LABELS: tuple[str, ...] = ("A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F",
                           "G")
LABEL_DTYPE = pd.CategoricalDtype(list(LABELS), ordered=True)

#: The 42 columns of the current (v5) bulk CSV, in file order.
V5_COLUMNS: tuple[str, ...] = (
    "BAGVerblijfsobjectID", "BAGLigplaatsID", "BAGStandplaatsID", "BAGPandIDs", "Postcode",
    "Huisnummer", "Huisletter", "Huisnummertoevoeging", "Detailaanduiding", "Energieklasse",
    "Registratiedatum", "GeldigTot", "Opnamedatum", "Berekeningstype", "SoortOpname", "Status",
    "OpBasisVanReferentiegebouw", "Gebouwklasse", "Gebouwtype", "Gebouwsubtype", "Bouwjaar",
    "Projectnaam", "Projectobject", "SBICode", "GebruiksoppervlakteThermischeZone",
    "Compactheid", "Energiebehoefte", "Warmtebehoefte", "PrimaireFossieleEnergie",
    "AandeelHernieuwbareEnergie", "BerekendeCO2Emissie", "BerekendeEnergieverbruik",
    "EnergieIndex", "EnergieIndexEMGForfaitair", "PrimaireFossieleEnergieEMGForfaitair",
    "AandeelHernieuwbareEnergieEMGForfaitair", "Temperatuuroverschrijding",
    "EisEnergiebehoefte", "EisPrimaireFossieleEnergie", "EisAandeelHernieuwbareEnergie",
    "EisTemperatuuroverschrijding", "Certificaathouder",
)  # fmt: skip

#: canonical column -> (current header, older ``Pand_*`` header)
COLUMNS: dict[str, tuple[str, str]] = {
    "vbo_id": ("BAGVerblijfsobjectID", "Pand_bagverblijfsobjectid"),
    "energielabel": ("Energieklasse", "Pand_energieklasse"),
    "registratiedatum": ("Registratiedatum", "Pand_registratiedatum"),
    "opnamedatum": ("Opnamedatum", "Pand_opnamedatum"),
    "gebouwklasse": ("Gebouwklasse", "Pand_gebouwklasse"),
    "energieindex": ("EnergieIndex", "Pand_energieindex"),
    "geldig_tot": ("GeldigTot", "Meting_geldig_tot"),
    "berekeningstype": ("Berekeningstype", "Pand_berekeningstype"),
}
_REQUIRED = ("vbo_id", "energielabel", "registratiedatum")
_MAX_PREAMBLE = 10


#: Registrations before this date are implausible (EP-Online labels start in 2008).
EARLIEST_REGISTRATION = pd.Timestamp("1995-01-01")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

_replaced = threading.local()


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _replaced.n = getattr(_replaced, "n", 0) + (exc.end - exc.start)
    return "\ufffd", exc.end


codecs.register_error("woonvoorraad-count", _count_and_replace)


@contextmanager
def _open_text(path: Path) -> Iterator[IO[str]]:
    """Open the CSV, or the single CSV inside a ZIP, as text (BOM stripped).

    UTF-8 unless a UTF-16 byte-order mark says otherwise; bytes that are not valid are
    replaced by U+FFFD and counted in ``_replaced.n`` (reset here).
    """
    with path.open("rb") as fh:
        magic = fh.read(4)
    _replaced.n = 0
    if magic in _ZIP_MAGIC:
        with open_zip_member(path, suffix=".csv") as raw:
            yield _text(raw, path)
        return
    with path.open("rb") as fh:
        yield _text(io.BufferedReader(fh), path)  # type: ignore[arg-type]


def _text(raw: IO[bytes], path: Path) -> IO[str]:
    head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
    encoding = "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
        logger.warning("%s: UTF-16 text (EP-Online publishes UTF-8); read as UTF-16",
                       path.name)
    return io.TextIOWrapper(raw, encoding=encoding, errors="woonvoorraad-count", newline="")


class _RowFilter(io.TextIOBase):
    """Pass through only the lines with as many ``;``-separated fields as the header.

    A row with an unquoted ``;`` in a text field (or a truncated last line) has its columns
    shifted; pandas would read it without complaint. Such rows are dropped and counted in
    :attr:`dropped`. Lines are counted with :meth:`str.count` (fast); lines with quotes go
    through :mod:`csv`, and a quoted field that spans lines is joined first.
    """

    def __init__(self, fh: IO[str], n_fields: int) -> None:
        super().__init__()
        self._fh, self._n = fh, n_fields
        self._pending = ""
        self._out = ""
        self._eof = False
        self.dropped = 0
        self.examples: list[int] = []
        self._line = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        while not self._out and not self._eof:
            chunk = self._fh.read(1 << 20)
            if not chunk:
                self._eof = True
                data, self._pending = self._pending, ""
            else:
                data = self._pending + chunk
                cut = data.rfind("\n")
                if cut < 0:
                    self._pending = data
                    continue
                data, self._pending = data[:cut + 1], data[cut + 1:]
            self._out = self._filter(data)
        if size is None or size < 0:
            out, self._out = self._out, ""
        else:
            out, self._out = self._out[:size], self._out[size:]
        return out

    def _filter(self, data: str) -> str:
        lines = data.split("\n")
        if data.endswith("\n"):
            lines.pop()  # the empty string after the last newline
        want = self._n - 1
        if '"' not in data:
            ok = [ln.count(";") == want or not ln.strip("\r") for ln in lines]
            keep = [ln for ln, good in zip(lines, ok, strict=True) if good]
            bad_at = [i for i, good in enumerate(ok) if not good]
        else:
            keep, bad_at = self._quoted(lines)
        for i in bad_at[:max(0, 3 - len(self.examples))]:
            self.examples.append(self._line + i + 1)
        self._line += len(lines)
        self.dropped += len(bad_at)
        return "".join(ln + "\n" for ln in keep)

    def _quoted(self, lines: list[str]) -> tuple[list[str], list[int]]:
        keep: list[str] = []
        bad_at: list[int] = []
        record, first = "", 0
        for i, ln in enumerate(lines):
            if not record:
                first = i
            record = f"{record}\n{ln}" if record else ln
            if record.count('"') % 2:
                continue  # a quoted field goes on on the next line
            fields = next(csv.reader([record.rstrip("\r")], delimiter=";"), [])
            if len(fields) == self._n or not record.strip("\r"):
                keep.append(record)
            else:
                bad_at.append(first)
            record = ""
        if record:
            keep.append(record)
        return keep, bad_at


def _find_header(fh: IO[str], path: Path) -> tuple[list[str], str, int]:
    """Skip the preamble; return the header fields, the style and the preamble length."""
    lines = []
    for n in range(_MAX_PREAMBLE):
        line = fh.readline()
        if not line:
            break
        lines.append(line)
        fields = next(csv.reader([line.rstrip("\r\n")], delimiter=";"))
        if COLUMNS["energielabel"][0] in fields:
            return fields, "v5", n
        if COLUMNS["energielabel"][1] in fields:
            return fields, "v2", n
    text = "".join(lines)
    if "\x00" in text or getattr(_replaced, "n", 0) > max(16, len(text) // 20):
        raise InputError("is a binary or damaged file, not an EP-Online CSV (UTF-8 text with "
                         "';' separators expected)", path=path)
    for sep, name in ((",", "','"), ("\t", "tab"), ("|", "'|'")):
        for line in lines:
            fields = next(csv.reader([line.rstrip("\r\n")], delimiter=sep))
            if any(c in fields for c in ("Energieklasse", "Pand_energieklasse")):
                raise MissingColumnError(
                    f"the EP-Online header is {name}-separated; the RVO files use ';' (was the "
                    f"file re-saved by a spreadsheet program? Use the original download)",
                    path=path)
    raise MissingColumnError(
        f"no EP-Online header found in the first {_MAX_PREAMBLE} lines: expected a "
        f"';'-separated header with 'Energieklasse' (current) or 'Pand_energieklasse' (older)",
        path=path,
    )


def read_ep_online(
    path: str | Path,
    *,
    vbo_ids: Collection[str] | None = None,
    chunksize: int = 500_000,
) -> pd.DataFrame:
    """Read registered energy labels from an EP-Online bulk CSV (or its ZIP).

    Parameters
    ----------
    path
        The bulk CSV, or the ZIP that holds it.
    vbo_ids
        Keep only these verblijfsobject ids (16 digits; a set, list, array or Series); reading
        streams in chunks so the national file never sits in memory whole. The ids are held
        as 64-bit integers (80 MB for the 10 million of the country, where a set of strings
        takes about 1 GB).
    chunksize
        Rows per chunk.

    Returns
    -------
    pandas.DataFrame
        One row per verblijfsobject: ``vbo_id``, ``energielabel`` (ordered categorical
        A+++++ … G), ``registratiedatum`` (datetime), plus ``gebouwklasse`` and
        ``energieindex``, ``geldig_tot`` (datetime, NaT when unreadable) and
        ``berekeningstype`` (text, e.g. ``NTA 8800:2022 (basisopname woningbouw)``,
        ``NEN 7120``, ``ISSO 82.3``) where the file has them. ``attrs`` holds the file name
        (``source``) and its number of rows with a unit id before the ``vbo_ids`` filter
        (``rows_with_id``), for :func:`woonvoorraad.stock.dwellings.check_label_match`.

    Raises
    ------
    InputError
        On a missing header or required column, naming the file and the column.
    """
    p = _validate.check_file(path)
    # an Index builds its hash table once, for every chunk
    wanted = pd.Index(_id_numbers(vbo_ids)) if vbo_ids is not None else None
    stats = {"bad_ids": 0, "with_id": 0}
    with _open_text(p) as fh:
        header, style, preamble = _find_header(fh, p)
        col = 0 if style == "v5" else 1
        names = {canon: cols[col] for canon, cols in COLUMNS.items() if cols[col] in header}
        missing = [COLUMNS[c][col] for c in _REQUIRED if c not in names]
        if missing:
            raise MissingColumnError(
                f"EP-Online CSV ({style} header) lacks column(s) {', '.join(map(repr, missing))}",
                path=p)
        rows = _RowFilter(fh, len(header))
        usecols = list(names.values())
        parts = []
        n_rows = 0
        try:
            reader = pd.read_csv(rows, sep=";", names=_unique_names(header), header=None,
                                 usecols=usecols, dtype=str, chunksize=chunksize,
                                 keep_default_na=False, na_values=[""], on_bad_lines="error")
            for raw in reader:
                n_rows += len(raw)
                part = raw.rename(columns={v: k for k, v in names.items()})
                ids = part["vbo_id"].str.strip()
                part["vbo_id"] = ids.str.zfill(16)
                keep = part["vbo_id"].str.fullmatch(r"\d{16}", na=False)
                stats["bad_ids"] += int((~keep & ids.notna() & (ids != "")).sum())
                stats["with_id"] += int(keep.sum())
                if wanted is not None:
                    # only 16-digit ids are left in ``keep``: exact as int64, never via float
                    numbers = part.loc[keep, "vbo_id"].astype("int64").to_numpy()
                    keep.loc[keep] = wanted.get_indexer(numbers) >= 0
                parts.append(part.loc[keep])
        except InputError:
            raise
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            raise InputError(f"EP-Online CSV cannot be parsed after line "
                             f"{preamble + 1 + n_rows}: {_short(exc)}", path=p) from None
        n_replaced = getattr(_replaced, "n", 0)
        n_dropped, examples = rows.dropped, rows.examples
    if n_replaced:
        logger.warning("%s: %d byte(s) are not UTF-8 (a re-saved file?) and were replaced; the "
                       "columns read (unit id, class, dates) are plain ASCII", p.name,
                       n_replaced)
    if n_dropped:
        where = (f" (data line {', '.join(map(str, examples))}{', …' if n_dropped > 3 else ''})"
                 if examples else "")
        if n_rows == 0:
            raise InputError(f"EP-Online CSV cannot be parsed: none of its {n_dropped} rows has "
                             f"the {len(header)} fields of the header{where}", path=p)
        logger.warning("%s: %d row(s) do not have the %d fields of the header%s (an unquoted "
                       "';' or a cut-off line?); their columns cannot be trusted and they were "
                       "skipped", p.name, n_dropped, len(header), where)
    if stats["bad_ids"]:
        logger.warning("%s: %d row(s) with a BAGVerblijfsobjectID that is not a 16-digit id "
                       "were skipped", p.name, stats["bad_ids"])
    if n_rows == 0:
        raise EmptyInputError("EP-Online CSV has a header but no rows", path=p)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(names))
    out = _clean(table, p, style=style)
    # for the check that the labels belong to the dwellings of the build (the unit filter
    # may leave none of a file of another region): the file and its rows with a unit id
    out.attrs.update(source=p.name, rows_with_id=stats["with_id"])
    return out


def _id_numbers(ids: Collection[str]) -> np.ndarray:
    """Unique 16-digit ids as int64 (ids that are not all digits cannot match and are left out).

    Examples
    --------
    >>> _id_numbers(["0014010000000001", "14010000000001", "x"]).tolist()
    [14010000000001]
    """
    values = pd.Series(list(ids) if not isinstance(ids, pd.Series | np.ndarray) else ids,
                       dtype="string").str.strip()
    digits = values.str.fullmatch(r"\d{1,18}", na=False)
    return pd.unique(values[digits].astype("int64").to_numpy())


def _unique_names(header: list[str]) -> list[str]:
    """Header fields made unique (a trailing ';' gives an empty name; duplicates get a suffix)."""
    seen: dict[str, int] = {}
    out = []
    for i, field in enumerate(header):
        name = field.strip() or f"__empty_{i}__"
        if name in seen:
            seen[name] += 1
            name = f"{name}__{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _dates(values: pd.Series, path: Path) -> pd.Series:
    """``YYYYMMDD`` (or ISO ``YYYY-MM-DD``) dates; unreadable or implausible ones → NaT."""
    text = values.astype("string").str.strip()
    dates = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    iso = dates.isna() & text.str.fullmatch(r"\d{4}-\d{2}-\d{2}", na=False)
    if iso.any():
        dates[iso] = pd.to_datetime(text[iso], format="%Y-%m-%d", errors="coerce")
    latest = pd.Timestamp(dt.date.today()) + pd.Timedelta(days=366)
    implausible = dates.notna() & ((dates < EARLIEST_REGISTRATION) | (dates > latest))
    unreadable = dates.isna() & text.notna() & (text != "")
    if implausible.any() or unreadable.any():
        examples = ", ".join(repr(v) for v in text[implausible | unreadable].unique()[:3])
        logger.warning("%s: %d registration date(s) unreadable and %d outside %s – %s (e.g. %s); "
                       "treated as unknown, so they never win over a dated registration",
                       path.name, int(unreadable.sum()), int(implausible.sum()),
                       EARLIEST_REGISTRATION.date(), latest.date(), examples)
    return dates.mask(implausible)


def _clean(table: pd.DataFrame, path: Path, *, style: str) -> pd.DataFrame:
    labels = table["energielabel"].astype("string").str.strip().str.upper()
    bad = labels.notna() & ~labels.isin(LABELS)
    if bad.any():
        logger.warning("%s: %d rows with an unknown energy class (e.g. %s) ignored", path.name,
                       int(bad.sum()), ", ".join(labels[bad].unique()[:5]))
    table = table.assign(energielabel=labels.mask(bad))
    table = table.dropna(subset=["energielabel"])
    table["registratiedatum"] = _dates(table["registratiedatum"], path)
    if "energieindex" in table.columns:
        raw = table["energieindex"]
        table["energieindex"] = pd.to_numeric(
            raw.str.replace(",", ".", regex=False).str.strip(), errors="coerce")
        bad = table["energieindex"].isna() & raw.notna() & (raw.str.strip() != "")
        if bad.any():
            logger.warning("%s: %d EnergieIndex value(s) are not numbers (e.g. %s); treated as "
                           "missing", path.name, int(bad.sum()),
                           ", ".join(repr(v) for v in raw[bad].unique()[:3]))
    if "geldig_tot" in table.columns:
        # a validity end lies in the future (labels hold ten years): no plausibility window
        text = table["geldig_tot"].astype("string").str.strip()
        table["geldig_tot"] = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
        iso = table["geldig_tot"].isna() & text.str.fullmatch(r"\d{4}-\d{2}-\d{2}", na=False)
        if iso.any():
            table.loc[iso, "geldig_tot"] = pd.to_datetime(text[iso], format="%Y-%m-%d",
                                                          errors="coerce")
    if "berekeningstype" in table.columns:
        table["berekeningstype"] = table["berekeningstype"].astype("string").str.strip()
    # latest registration per unit; ties broken by label order for determinism
    table = table.sort_values(["vbo_id", "registratiedatum", "energielabel"],
                              na_position="first", kind="mergesort")
    n_before = len(table)
    table = table.drop_duplicates("vbo_id", keep="last")
    if n_before > len(table):
        logger.info("%s: kept the latest of %d registrations for %d units", path.name,
                    n_before, len(table))
    table["energielabel"] = table["energielabel"].astype(LABEL_DTYPE)
    logger.info("read %d registered labels from %s (%s header)", len(table), path.name, style)
    return table.reset_index(drop=True)
