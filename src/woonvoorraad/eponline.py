"""Reader for EP-Online (RVO) registered energy labels, bulk CSV.

The bulk file (``Mutatiebestand``, a ZIP holding one CSV of about 1 GB) is ``;``-separated,
UTF-8 with a byte-order mark, uses decimal commas and ``YYYYMMDD`` dates, and starts with two
preamble lines (``PublicatieDatum;…``, ``LaatstVerwerkteMutatievolgnummer;…``) before the
header. Two header styles exist: the current one (``BAGVerblijfsobjectID``, ``Energieklasse``,
``Registratiedatum``, …) and the older ``Pand_*`` one (``Pand_bagverblijfsobjectid``,
``Pand_energieklasse``, ``Pand_registratiedatum``, …). Both map onto one schema; a unit with
several registrations keeps the latest by registration date.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pandas as pd

from . import _validate
from ._errors import EmptyInputError, InputError, MissingColumnError

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
}
_REQUIRED = ("vbo_id", "energielabel", "registratiedatum")
_MAX_PREAMBLE = 10


@contextmanager
def _open_text(path: Path) -> Iterator[IO[str]]:
    """Open the CSV, or the single CSV inside a ZIP, as UTF-8 text (BOM stripped)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.infolist() if m.filename.lower().endswith(".csv")
                       and not m.is_dir()]
            if len(members) != 1:
                raise InputError(f"ZIP must hold exactly one .csv file, found {len(members)}",
                                 path=path)
            with zf.open(members[0]) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        return
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        yield fh


def _find_header(fh: IO[str], path: Path) -> tuple[list[str], str, int]:
    """Skip the preamble; return the header fields, the style and the preamble length."""
    for n in range(_MAX_PREAMBLE):
        line = fh.readline()
        if not line:
            break
        fields = next(csv.reader([line.rstrip("\r\n")], delimiter=";"))
        if COLUMNS["energielabel"][0] in fields:
            return fields, "v5", n
        if COLUMNS["energielabel"][1] in fields:
            return fields, "v2", n
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
        Keep only these verblijfsobject ids (16 digits); reading streams in chunks so the
        national file never sits in memory whole.
    chunksize
        Rows per chunk.

    Returns
    -------
    pandas.DataFrame
        One row per verblijfsobject: ``vbo_id``, ``energielabel`` (ordered categorical
        A+++++ … G), ``registratiedatum`` (datetime), plus ``gebouwklasse`` and
        ``energieindex`` where the file has them.

    Raises
    ------
    InputError
        On a missing header or required column, naming the file and the column.
    """
    p = _validate.check_file(path)
    wanted = set(vbo_ids) if vbo_ids is not None else None
    with _open_text(p) as fh:
        header, style, preamble = _find_header(fh, p)
        col = 0 if style == "v5" else 1
        names = {canon: cols[col] for canon, cols in COLUMNS.items() if cols[col] in header}
        missing = [COLUMNS[c][col] for c in _REQUIRED if c not in names]
        if missing:
            raise MissingColumnError(
                f"EP-Online CSV ({style} header) lacks column(s) {', '.join(map(repr, missing))}",
                path=p)
        usecols = list(names.values())
        parts = []
        n_rows = 0
        try:
            reader = pd.read_csv(fh, sep=";", names=header, header=None, usecols=usecols,
                                 dtype=str, chunksize=chunksize, keep_default_na=False,
                                 na_values=[""], on_bad_lines="error")
            for raw in reader:
                n_rows += len(raw)
                part = raw.rename(columns={v: k for k, v in names.items()})
                part["vbo_id"] = part["vbo_id"].str.strip().str.zfill(16)
                keep = part["vbo_id"].str.fullmatch(r"\d{16}", na=False)
                if wanted is not None:
                    keep &= part["vbo_id"].isin(wanted)
                parts.append(part.loc[keep])
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"EP-Online CSV cannot be parsed after line "
                             f"{preamble + 1 + n_rows}: {exc}", path=p) from None
    if n_rows == 0:
        raise EmptyInputError("EP-Online CSV has a header but no rows", path=p)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(names))
    return _clean(table, p, style=style)


def _clean(table: pd.DataFrame, path: Path, *, style: str) -> pd.DataFrame:
    labels = table["energielabel"].astype("string").str.strip().str.upper()
    bad = labels.notna() & ~labels.isin(LABELS)
    if bad.any():
        logger.warning("%s: %d rows with an unknown energy class (e.g. %s) ignored", path.name,
                       int(bad.sum()), ", ".join(labels[bad].unique()[:5]))
    table = table.assign(energielabel=labels.mask(bad))
    table = table.dropna(subset=["energielabel"])
    table["registratiedatum"] = pd.to_datetime(table["registratiedatum"].str.strip(),
                                               format="%Y%m%d", errors="coerce")
    if "energieindex" in table.columns:
        table["energieindex"] = pd.to_numeric(
            table["energieindex"].str.replace(",", ".", regex=False), errors="coerce")
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
