"""Reports per gemeente: data access for the report notebook, Dutch formatting, batch rendering.

Three layers, all used by ``notebooks/templates/gemeente_rapport.ipynb`` and the ``woonvoorraad
report`` command:

Formatting
    Dutch number formats (``1.234``, ``12,5%``, ``€ 215.000``), Dutch column labels
    (:data:`KOLOMMEN`) and HTML escaping of every value taken from the data (:func:`esc`).
Data access and report sections
    :func:`load_run` reads a build folder (``manifest.json``, ``buurten.parquet`` and, when the
    classification ran, its tables); :func:`gemeente_summary` gives the key figures of a gemeente
    or of the whole run; the ``sectie_*`` functions return the HTML of each report section, so the
    notebook only loads data and calls the library.
Batch rendering
    :func:`render_reports` executes the template once per gemeente with papermill, each in its
    own process (N at a time), with a per-report timeout, one retry and failure isolation, exports
    HTML without code cells, writes a standalone map per gemeente, ``run.json`` and
    ``index.html``. :func:`register_cli` adds the ``report`` subcommand.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import html
import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from woonvoorraad import __version__
from woonvoorraad._io import FolderLock, remove_temp_files, write_json_atomic, write_text_atomic
from woonvoorraad.errors import InputError, WoonvoorraadError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

#: Text shown for a value that is not available.
NA = "n.b."

#: Name of the Jupyter kernel the reports run in (``make`` installs it).
KERNEL_NAME = "woonvoorraad"

#: Lock file of a report folder while :func:`render_reports` writes into it.
REPORT_LOCK_NAME = ".woonvoorraad-report.lock"

#: The runner's per-gemeente copy of the buurt polygons, in the report folder while it runs.
POLYGONS_NAME = ".buurtvlakken.parquet"

_NO_POLYGONS = "-"  # a gemeentecode that matches no buurt: load_run reads no polygons

#: Parameters of the report template, with their meaning (the template's ``parameters`` cell).
TEMPLATE_PARAMETERS: dict[str, str] = {
    "gemeente_code": "CBS gemeentecode, e.g. GM0114",
    "data_dir": "processed data folder of a build (with manifest.json)",
    "jaar": "CBS year the report describes (None: the year of the data)",
    "regio_naam": "name of the comparison region (None: all gemeenten of the build)",
    "kaart": "embed the interactive map",
    "kaart_bestand": "file name of the standalone map beside the report (link), or ''",
    "max_kandidaten": "number of proeftuin candidates shown",
    "offline": "inline Leaflet (True) or load it from a CDN (False)",
}

_MAANDEN = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
            "september", "oktober", "november", "december")


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """True for None, NA, NaN and infinite numbers.

    Examples
    --------
    >>> is_missing(float("nan")), is_missing(None), is_missing(0), is_missing("x")
    (True, True, False, False)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return not math.isfinite(float(value))
    return False


def _groepeer(digits: str) -> str:
    """Insert Dutch thousands separators (``.``) in a string of digits."""
    out = []
    for i, ch in enumerate(reversed(digits)):
        if i and i % 3 == 0:
            out.append(".")
        out.append(ch)
    return "".join(reversed(out))


def fmt_getal(value: Any, decimalen: int = 1, *, na: str = NA, teken: bool = False) -> str:
    """Format a number the Dutch way: ``.`` for thousands, ``,`` for decimals.

    Parameters
    ----------
    value
        The number.
    decimalen
        Number of decimals.
    na
        Text for a missing value.
    teken
        Always show the sign (``+1,2``).

    Examples
    --------
    >>> fmt_getal(1234.56), fmt_getal(-0.04, 1), fmt_getal(2.5, 0), fmt_getal(None)
    ('1.234,6', '0,0', '2', 'n.b.')
    >>> fmt_getal(0.015, 1, teken=True)
    '+0,0'
    """
    if is_missing(value):
        return na
    x = round(float(value), decimalen)
    if x == 0:
        x = 0.0  # no "-0,0"
    text = f"{abs(x):.{decimalen}f}"
    whole, _, frac = text.partition(".")
    sign = "-" if x < 0 else ("+" if teken else "")
    return sign + _groepeer(whole) + ("," + frac if frac else "")


def fmt_aantal(value: Any, *, na: str = NA) -> str:
    """Format a count: rounded to a whole number, with thousands separators.

    Examples
    --------
    >>> fmt_aantal(1234), fmt_aantal(1234567.4), fmt_aantal(float("nan"))
    ('1.234', '1.234.567', 'n.b.')
    """
    return fmt_getal(value, 0, na=na)


def fmt_pct(value: Any, decimalen: int = 1, *, na: str = NA, teken: bool = False) -> str:
    """Format a fraction (0–1) as a Dutch percentage.

    Examples
    --------
    >>> fmt_pct(0.125), fmt_pct(1), fmt_pct(0.0449, 0), fmt_pct(None)
    ('12,5%', '100,0%', '4%', 'n.b.')
    """
    if is_missing(value):
        return na
    return fmt_getal(float(value) * 100, decimalen, teken=teken) + "%"


def fmt_euro(value: Any, decimalen: int = 0, *, na: str = NA) -> str:
    """Format an amount in euro.

    Examples
    --------
    >>> fmt_euro(215000), fmt_euro(-1234.5, 2), fmt_euro(None)
    ('€ 215.000', '€ -1.234,50', 'n.b.')
    """
    if is_missing(value):
        return na
    return "€ " + fmt_getal(value, decimalen)


def fmt_euro_kort(value: Any, *, na: str = NA) -> str:
    """Format a large amount compactly: ``€ 12,3 mln``, ``€ 1,2 mld``.

    Examples
    --------
    >>> fmt_euro_kort(12_345_678), fmt_euro_kort(2.5e9), fmt_euro_kort(86_000)
    ('€ 12,3 mln', '€ 2,5 mld', '€ 86.000')
    """
    if is_missing(value):
        return na
    x = float(value)
    if abs(x) >= 1e9:
        return f"€ {fmt_getal(x / 1e9, 1)} mld"
    if abs(x) >= 1e6:
        return f"€ {fmt_getal(x / 1e6, 1)} mln"
    return fmt_euro(x)


def fmt_score(value: Any, *, na: str = NA) -> str:
    """Format a 0–1 score with two decimals.

    Examples
    --------
    >>> fmt_score(0.615), fmt_score(None)
    ('0,61', 'n.b.')
    """
    return fmt_getal(value, 2, na=na)


def fmt_jaar(value: Any, *, na: str = NA) -> str:
    """Format a year (no thousands separator).

    Examples
    --------
    >>> fmt_jaar(1962.0), fmt_jaar(None)
    ('1962', 'n.b.')
    """
    if is_missing(value):
        return na
    return str(round(float(value)))


def fmt_datum(value: Any) -> str:
    """Format a date or ISO timestamp as a Dutch date (``28 november 2026``).

    Examples
    --------
    >>> fmt_datum("2026-11-28T22:58:03+00:00")
    '28 november 2026'
    """
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return NA
    return f"{value.day} {_MAANDEN[value.month - 1]} {value.year}"


#: Value formats understood by :func:`fmt_waarde`.
FORMATEN: dict[str, Callable[..., str]] = {
    "aantal": fmt_aantal,
    "aandeel": fmt_pct,
    "euro": fmt_euro,
    "euro_kort": fmt_euro_kort,
    "score": fmt_score,
    "jaar": fmt_jaar,
    "getal": lambda v, na=NA: fmt_getal(v, 1, na=na),
    "getal0": lambda v, na=NA: fmt_getal(v, 0, na=na),
    "trend": lambda v, na=NA: fmt_pct(v, 1, na=na, teken=True),
    "tekst": lambda v, na=NA: na if is_missing(v) or v == "" else str(v),
}


def fmt_waarde(value: Any, formaat: str, *, na: str = NA) -> str:
    """Format ``value`` in one of the :data:`FORMATEN` (``aantal``, ``aandeel``, ``euro`` ...).

    Examples
    --------
    >>> fmt_waarde(0.5, "aandeel"), fmt_waarde(3, "tekst"), fmt_waarde(None, "euro", na="-")
    ('50,0%', '3', '-')
    """
    try:
        func = FORMATEN[formaat]
    except KeyError:
        raise ValueError(f"unknown format {formaat!r}; known: {', '.join(FORMATEN)}") from None
    return func(value, na=na)


def esc(value: Any) -> str:
    """HTML-escape a value taken from the data (quotes included).

    Examples
    --------
    A space after ``€`` becomes a no-break space, so an amount never breaks over two lines.

    >>> esc("<script>alert('x')</script>")
    '&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True).replace("€ ", "€\u00a0")


class Html(str):
    """A string of HTML that Jupyter displays as HTML (``_repr_html_``)."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"<Html: {len(self)} tekens>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


@dataclass(frozen=True)
class Kolom:
    """How a column is shown: Dutch label, value format, colour map for maps.

    Attributes
    ----------
    naam
        Column name.
    label
        Dutch label.
    formaat
        Key of :data:`FORMATEN`.
    cmap
        Matplotlib colour map for choropleths (sequential; higher = darker).
    uitleg
        One-line explanation for legends and tooltips.
    """

    naam: str
    label: str
    formaat: str
    cmap: str = "YlOrRd"
    uitleg: str = ""


def _k(naam: str, label: str, formaat: str, cmap: str = "YlOrRd", uitleg: str = "") -> Kolom:
    return Kolom(naam, label, formaat, cmap, uitleg)


#: Dutch labels and formats of the columns the reports and maps show.
KOLOMMEN: dict[str, Kolom] = {k.naam: k for k in (
    _k("buurtcode", "Buurtcode", "tekst"),
    _k("buurtnaam", "Buurt", "tekst"),
    _k("wijkcode", "Wijkcode", "tekst"),
    _k("wijknaam", "Wijk", "tekst"),
    _k("gemeentecode", "Gemeentecode", "tekst"),
    _k("gemeentenaam", "Gemeente", "tekst"),
    _k("n_woningen", "Woningen (BAG)", "aantal", "Greys"),
    _k("n_naoorlogs", "Naoorlogse woningen", "aantal", "Oranges"),
    _k("n_naoorlogs_1945_1964", "Woningen 1945–1964", "aantal", "Oranges"),
    _k("n_naoorlogs_1965_1974", "Woningen 1965–1974", "aantal", "Oranges"),
    _k("aandeel_naoorlogs", "Aandeel naoorlogs", "aandeel", "Oranges",
       "woningen gebouwd in de naoorlogse periode / alle woningen"),
    _k("n_eengezins", "Eengezinswoningen", "aantal", "Greys"),
    _k("n_eengezins_voor_1975", "Eengezinswoningen vóór 1975", "aantal", "Greys"),
    _k("aandeel_eengezins_voor_1975", "Aandeel eengezins vóór 1975", "aandeel", "Purples"),
    _k("n_meergezins", "Meergezinswoningen", "aantal", "Greys"),
    _k("n_bouwjaar_onbekend", "Bouwjaar onbekend", "aantal", "Greys"),
    _k("mediaan_bouwjaar", "Mediaan bouwjaar", "jaar", "viridis"),
    _k("gemiddelde_oppervlakte", "Gem. oppervlakte (m²)", "getal0", "Greys"),
    _k("n_label_geregistreerd", "Geregistreerde labels", "aantal", "Greens"),
    _k("label_dekking", "Labeldekking (geregistreerd)", "aandeel", "Greens",
       "aandeel woningen met een geregistreerd energielabel (EP-Online)"),
    _k("n_label_efg", "Woningen label E/F/G", "aantal", "YlOrRd"),
    _k("aandeel_label_efg", "Aandeel label E/F/G", "aandeel", "YlOrRd",
       "geregistreerd of geschat label E, F of G"),
    _k("aandeel_label_efg_geregistreerd", "Aandeel E/F/G (alleen geregistreerd)", "aandeel",
       "YlOrRd"),
    _k("aantal_inwoners", "Inwoners", "aantal", "Greys"),
    _k("aantal_huishoudens", "Huishoudens", "aantal", "Greys"),
    _k("gemiddelde_huishoudsgrootte", "Gem. huishoudensgrootte", "getal", "Greys"),
    _k("aandeel_65plus", "Aandeel 65-plussers", "aandeel", "PuRd"),
    _k("woningvoorraad_cbs", "Woningvoorraad (CBS)", "aantal", "Greys"),
    _k("woz_gemiddeld", "Gemiddelde WOZ-waarde", "euro", "Blues"),
    _k("aandeel_koop", "Aandeel koopwoningen", "aandeel", "Blues"),
    _k("aandeel_huur", "Aandeel huurwoningen", "aandeel", "Blues"),
    _k("aandeel_corporatie", "Aandeel corporatiewoningen", "aandeel", "Blues"),
    _k("aandeel_eengezins_cbs", "Aandeel eengezins (CBS)", "aandeel", "Blues"),
    _k("gasverbruik_gemiddeld", "Gem. gasverbruik (m³)", "getal0", "YlOrRd"),
    _k("inkomen_per_inwoner", "Inkomen per inwoner", "euro", "Blues"),
    _k("inkomen_huishouden_geschat", "Inkomen per huishouden (geschat)", "euro", "Blues"),
    _k("aandeel_laag_inkomen", "Huishoudens met laag inkomen", "aandeel", "PuRd"),
    _k("aandeel_sociaal_minimum", "Huishoudens rond sociaal minimum", "aandeel", "PuRd"),
    _k("cbs_jaar", "CBS-jaar", "jaar"),
    _k("trend_inwoners", "Trend inwoners (per jaar)", "trend", "RdBu"),
    _k("trend_huishoudens", "Trend huishoudens (per jaar)", "trend", "RdBu"),
    _k("trend_65plus", "Trend aandeel 65+ (per jaar)", "trend", "PuRd"),
    _k("n_doelgroep", "Doelgroep (geschat aantal)", "aantal", "Purples",
       "naoorlogse koopwoningen met een WOZ onder de grens (schatting)"),
    _k("aandeel_doelgroep", "Aandeel doelgroep", "aandeel", "Purples",
       "doelgroepwoningen / alle woningen"),
    _k("woz_t_o_v_mediaan", "WOZ t.o.v. mediaan gemeente", "getal", "Blues"),
    _k("inkomen_t_o_v_daeb", "Inkomen t.o.v. DAEB-grens", "getal", "Blues"),
    _k("energiebehoefte", "Energiebehoefte (score)", "score", "YlOrRd",
       "0 = geen, 1 = grote opgave: labels E/F/G, naoorlogse bouw, gasverbruik"),
    _k("levensloopbehoefte", "Levensloopbehoefte (score)", "score", "PuRd",
       "0 = geen, 1 = grote opgave: 65-plussers, oude eengezinswoningen, kleine huishoudens"),
    _k("financiele_ruimte", "Financiële ruimte (score)", "score", "Blues",
       "0 = weinig, 1 = veel ruimte: WOZ, inkomen, weinig lage inkomens"),
    _k("doelgroepconcentratie", "Doelgroepconcentratie (score)", "score", "Purples",
       "0 = geen, 1 = veel doelgroepwoningen"),
    _k("demografische_druk", "Demografische druk (score)", "score", "Oranges",
       "0 = geen, 1 = sterke krimp en vergrijzing"),
    _k("proeftuinscore", "Proeftuinscore", "score", "YlOrBr",
       "gewogen combinatie van de scores; hoger = betere proeftuinkandidaat"),
    _k("typologie_naam", "Buurttype", "tekst"),
    _k("typologie_cluster", "Buurttype (nr.)", "getal0"),
    _k("kosten_b_min", "Kosten naar label B (min.)", "euro_kort", "Reds"),
    _k("kosten_b_max", "Kosten naar label B (max.)", "euro_kort", "Reds"),
    _k("kosten_c_min", "Kosten naar label C (min.)", "euro_kort", "Reds"),
    _k("kosten_c_max", "Kosten naar label C (max.)", "euro_kort", "Reds"),
)}

#: The five scores in reporting order (the names used by :mod:`woonvoorraad.classify.scores`).
SCORES: tuple[str, ...] = ("energiebehoefte", "levensloopbehoefte", "financiele_ruimte",
                           "doelgroepconcentratie", "demografische_druk")


def kolom(naam: str) -> Kolom:
    """Return how column ``naam`` is shown (a generic entry for unknown columns).

    Examples
    --------
    >>> kolom("woz_gemiddeld").label, kolom("iets_anders").label
    ('Gemiddelde WOZ-waarde', 'Iets anders')
    """
    if naam in KOLOMMEN:
        return KOLOMMEN[naam]
    if naam.startswith("score_") and naam[6:] in KOLOMMEN:
        base = KOLOMMEN[naam[6:]]
        return Kolom(naam, base.label, base.formaat, base.cmap, base.uitleg)
    label = naam.replace("_", " ").strip().capitalize()
    fmt = "aandeel" if naam.startswith("aandeel_") else "aantal" if naam.startswith("n_") else (
        "getal")
    return Kolom(naam, label, fmt)


def safe_filename(text: str, *, max_len: int = 60) -> str:
    """Turn a name from the data into a safe file-name part (ASCII, ``a-z0-9-``, no dots).

    Path separators, ``..``, control characters and markup all disappear, so a gemeente name
    can never lead outside the report folder.

    Examples
    --------
    >>> safe_filename("'s-Gravenhage"), safe_filename("Súdwest-Fryslân")
    ('s-gravenhage', 'sudwest-fryslan')
    >>> safe_filename("../../etc/passwd"), safe_filename("<script>"), safe_filename("...")
    ('etc-passwd', 'script', 'x')
    """
    norm = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    norm = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    norm = norm[:max_len].strip("-")
    return norm or "x"


# ---------------------------------------------------------------------------------------------
# Data access
# ---------------------------------------------------------------------------------------------

#: Tables of the classification step (name → file in the build folder).
ANALYSE_TABELLEN: dict[str, str] = {
    "proeftuinen": "proeftuinen.csv",
    "proeftuinen_stabiliteit": "proeftuinen_stabiliteit.csv",
    "instrumenten": "instrumenten.csv",
    "kosten_buurt": "kosten_buurt.csv",
    "kosten_gemeente": "kosten_gemeente.csv",
    "typologie_k": "typologie_k.csv",
    "typologie_profielen": "typologie_profielen.csv",
    "uitgesloten": "uitgesloten.csv",
    "score_componenten": "score_componenten.csv",
}

_TEXT_COLUMNS = ("buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode",
                 "gemeentenaam", "instrument", "naam", "reden", "regel", "status", "bron")


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a table of the build: ids as text, only empty cells as missing."""
    return pd.read_csv(path, dtype=dict.fromkeys(_TEXT_COLUMNS, str), keep_default_na=False,
                       na_values=[""], encoding="utf-8")


@dataclass
class Run:
    """A processed-data folder written by ``woonvoorraad build`` (or ``demo``).

    Attributes
    ----------
    path
        The folder.
    manifest
        ``manifest.json``.
    buurten
        One row per buurt (GeoDataFrame, EPSG:28992): ``analyse_buurten.parquet`` when the
        classification ran, else ``buurten.parquet``.
    tabellen
        The classification tables read so far (see :data:`ANALYSE_TABELLEN` and :meth:`tabel`).
    """

    path: Path
    manifest: dict[str, Any]
    buurten: gpd.GeoDataFrame
    tabellen: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def naam(self) -> str:
        """Name of the run: the folder name (e.g. ``demo``)."""
        return self.path.name

    @property
    def synthetic(self) -> bool:
        """True when the build was made from synthetic demo data."""
        return bool(self.manifest.get("synthetic"))

    @property
    def data_notice(self) -> str | None:
        """The build's data notice (set for synthetic data)."""
        notice = self.manifest.get("data_notice")
        if not notice and self.synthetic:
            notice = "SYNTHETISCHE DEMODATA - fictieve gemeenten, geen echte cijfers"
        return notice

    @property
    def config(self) -> dict[str, Any]:
        """The effective configuration of the build."""
        return (self.manifest.get("parameters") or {}).get("config") or {}

    @property
    def created(self) -> dt.datetime | None:
        """When the build was made (UTC)."""
        value = self.manifest.get("created")
        try:
            return dt.datetime.fromisoformat(value) if value else None
        except ValueError:
            return None

    @property
    def geanalyseerd(self) -> bool:
        """True when the build ran the classification step (its tables are present)."""
        return (self.path / ANALYSE_TABELLEN["proeftuinen"]).is_file()

    @property
    def cbs_jaar(self) -> int | None:
        """CBS year of the key figures (None when unknown)."""
        if "cbs_jaar" in self.buurten.columns:
            years = pd.to_numeric(self.buurten["cbs_jaar"], errors="coerce").dropna()
            if len(years):
                return int(years.max())
        for entry in self.manifest.get("inputs") or []:
            if entry.get("role") == "buurten" and entry.get("year"):
                return int(entry["year"])
        return None

    def tabel(self, naam: str) -> pd.DataFrame | None:
        """A classification table by name (read on first use), or None when the build has none.

        Raises
        ------
        InputError
            The file exists but cannot be read.
        """
        if naam not in self.tabellen:
            if naam not in ANALYSE_TABELLEN:
                raise KeyError(f"unknown table {naam!r}; known: {', '.join(ANALYSE_TABELLEN)}")
            p = self.path / ANALYSE_TABELLEN[naam]
            if not p.is_file():
                return None
            try:
                self.tabellen[naam] = _read_csv(p)
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise InputError(f"cannot read {p.name}: {exc}", path=self.path) from exc
        return self.tabellen[naam]

    def gemeenten(self) -> pd.DataFrame:
        """The gemeenten of the run: ``gemeentecode``, ``gemeentenaam``, ``n_buurten``."""
        b = self.buurten
        names = b["gemeentenaam"] if "gemeentenaam" in b.columns else b["gemeentecode"]
        g = (pd.DataFrame({"gemeentecode": b["gemeentecode"].astype(str),
                           "gemeentenaam": names.fillna(b["gemeentecode"]).astype(str)})
             .groupby("gemeentecode", sort=True)
             .agg(gemeentenaam=("gemeentenaam", "first"),
                  n_buurten=("gemeentenaam", "size"))
             .reset_index())
        return g

    def gemeentenaam(self, code: str) -> str:
        """Name of gemeente ``code`` (the code itself when the data has no name)."""
        g = self.gemeenten().set_index("gemeentecode")
        if code not in g.index:
            raise InputError(f"gemeente {code!r} is not in this build; it has "
                             f"{', '.join(g.index)}", path=self.path)
        return str(g.loc[code, "gemeentenaam"])

    def resolve_gemeente(self, query: str) -> str:
        """Return the code of a gemeente of the run given its code or name (case-insensitive).

        Raises
        ------
        InputError
            No gemeente of the run matches; the message lists them.
        """
        g = self.gemeenten()
        q = str(query).strip()
        by_code = {c.lower(): c for c in g["gemeentecode"]}
        if q.lower() in by_code:
            return by_code[q.lower()]
        digits = re.fullmatch(r"(?:gm)?\s*(\d{1,4})", q.lower())
        if digits and f"gm{int(digits.group(1)):04d}" in by_code:
            return by_code[f"gm{int(digits.group(1)):04d}"]
        by_name = {n.lower(): c for c, n in zip(g["gemeentecode"], g["gemeentenaam"],
                                                strict=True)}
        if q.lower() in by_name:
            return by_name[q.lower()]
        known = ", ".join(f"{n} ({c})" for c, n in zip(g["gemeentecode"], g["gemeentenaam"],
                                                        strict=True))
        raise InputError(f"gemeente {query!r} is not in this build; it has: {known}",
                         path=self.path)

    def buurten_van(self, code: str | None) -> gpd.GeoDataFrame:
        """The buurten of gemeente ``code`` (all buurten when None)."""
        if code is None:
            return self.buurten
        return self.buurten[self.buurten["gemeentecode"].astype(str) == code]

    def dwellings(self, gemeente: str | None = None,
                  columns: Sequence[str] | None = None) -> pd.DataFrame | None:
        """Read dwellings (optionally of one gemeente and some columns) without geometry.

        Returns None when the build folder has no ``dwellings.parquet``.
        """
        p = self.path / "dwellings.parquet"
        if not p.is_file():
            return None
        import pyarrow.parquet as pq

        available = set(pq.read_schema(p).names)
        cols = [c for c in (columns or available) if c in available and c != "geometry"]
        if gemeente is not None and "gemeentecode" not in cols and "gemeentecode" in available:
            cols.append("gemeentecode")
        filters = ([("gemeentecode", "==", gemeente)]
                   if gemeente is not None and "gemeentecode" in available else None)
        table = pq.read_table(p, columns=cols, filters=filters)
        return table.to_pandas()


#: Set by the report runner in each worker's environment (and so in its kernel's): the
#: gemeente the process renders, whose buurt polygons are the only ones it reads.
GEOMETRY_ENV = "WOONVOORRAAD_RAPPORT_GEMEENTE"

#: Set with :data:`GEOMETRY_ENV`: a copy of the buurt polygons with one row group per
#: gemeente (:func:`write_polygons_by_gemeente`), from which one gemeente is read cheaply.
GEOMETRY_FILE_ENV = "WOONVOORRAAD_RAPPORT_VLAKKEN"


def load_run(processed_dir: str | Path, *, geometry_for: str | None = None,
             polygons: str | Path | None = None) -> Run:
    """Load a processed-data folder: manifest and buurten (tables are read on first use).

    Parameters
    ----------
    processed_dir
        Output folder of ``woonvoorraad build`` or ``woonvoorraad demo``.
    geometry_for
        Read the buurt polygons of this gemeentecode only; every other column is read for all
        buurten (the comparisons need them), the other polygons stay empty. A report needs
        only its own gemeente's polygons, and for a national build (14,500 detailed buurten)
        this saves about 1 GB and half a minute per report process. Default: the environment
        variable ``WOONVOORRAAD_RAPPORT_GEMEENTE`` (which the report runner sets for its
        workers and their kernels), else every polygon is read.
    polygons
        With ``geometry_for``: a file of :func:`write_polygons_by_gemeente` to read the
        polygons from (default: ``WOONVOORRAAD_RAPPORT_VLAKKEN``, else the buurten file).

    Returns
    -------
    Run

    Raises
    ------
    InputError
        The folder lacks ``manifest.json`` or ``buurten.parquet``, or they cannot be read.
    """
    path = Path(processed_dir).expanduser().resolve()
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise InputError("not a woonvoorraad build folder (no manifest.json); run "
                         "'woonvoorraad build' or 'woonvoorraad demo' first", path=path)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read manifest.json: {exc}", path=path) from exc
    buurten_path = path / "analyse_buurten.parquet"
    if not buurten_path.is_file():
        buurten_path = path / "buurten.parquet"
    if not buurten_path.is_file():
        raise InputError("build folder has no buurten.parquet", path=path)
    geometry_for = geometry_for or os.environ.get(GEOMETRY_ENV) or None
    polygons = polygons or os.environ.get(GEOMETRY_FILE_ENV) or None
    try:
        buurten = (gpd.read_parquet(buurten_path) if geometry_for is None
                   else _read_buurten_for(buurten_path, geometry_for,
                                          Path(polygons) if polygons else None))
    except Exception as exc:  # pyarrow / geopandas raise many types
        raise InputError(f"cannot read {buurten_path.name}: {exc}", path=path) from exc
    for col in ("buurtcode", "gemeentecode"):
        if col not in buurten.columns:
            raise InputError(f"{buurten_path.name} lacks column {col!r}", path=path)
    logger.debug("loaded %s: %d buurten (polygons: %s)", path, len(buurten),
                 geometry_for or "all")
    return Run(path=path, manifest=manifest, buurten=buurten)


def _geo_column(path: Path) -> tuple[str, dict[str, Any], list[str]]:
    """Primary geometry column, its GeoParquet metadata and all column names of a file."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    geo = json.loads((schema.metadata or {}).get(b"geo", b"{}") or b"{}")
    geom_col = geo.get("primary_column", "geometry")
    return geom_col, geo, list(schema.names)


def write_polygons_by_gemeente(processed_dir: str | Path, out: str | Path) -> Path:
    """Copy the buurt polygons of a build into ``out``, one Parquet row group per gemeente.

    ``buurten.parquet`` is one row group: reading one gemeente's polygons from it decodes all
    of them (about 450 MB for a national build). From this copy a filter on ``gemeentecode``
    reads only the gemeente's row group. The report runner writes it once per run.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from woonvoorraad._io import atomic_path

    folder = Path(processed_dir)
    src = folder / "analyse_buurten.parquet"
    if not src.is_file():
        src = folder / "buurten.parquet"
    geom_col, geo, _ = _geo_column(src)
    table = pq.read_table(src, columns=["gemeentecode", "buurtcode", geom_col])
    table = table.sort_by([("gemeentecode", "ascending"), ("buurtcode", "ascending")])
    codes = np.asarray(table.column("gemeentecode").to_numpy(zero_copy_only=False), dtype=str)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else []
    ends = [*starts[1:], len(codes)] if len(codes) else []
    schema = table.schema.with_metadata({b"geo": json.dumps(geo).encode()})
    out = Path(out)
    with atomic_path(out) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for lo, hi in zip(starts, ends, strict=True):
            writer.write_table(pa.Table.from_batches(table.slice(lo, hi - lo).to_batches(),
                                                     schema=schema), row_group_size=hi - lo)
    return out


def build_snapshot(processed_dir: str | Path) -> dict[str, list[int]]:
    """Size and modification time of the files of a build that a report reads."""
    folder = Path(processed_dir)
    out = {}
    for name in ("manifest.json", "buurten.parquet", "analyse_buurten.parquet"):
        with contextlib.suppress(OSError):
            st = (folder / name).stat()
            out[name] = [st.st_size, st.st_mtime_ns]
    return out


def check_build_snapshot(processed_dir: str | Path,
                         snapshot: dict[str, list[int]] | None) -> None:
    """Raise :class:`InputError` when the build changed since ``snapshot`` was taken.

    A build that publishes into the folder while its reports are being made would give
    reports from two different builds in one run; a worker checks before it reads anything.
    """
    if snapshot is None:
        return
    now = build_snapshot(processed_dir)
    if now != snapshot:
        changed = sorted(set(now) ^ set(snapshot) | {n for n in now
                                                      if now[n] != snapshot.get(n)})
        raise InputError(f"the build changed while its reports were being made "
                         f"({', '.join(changed)} replaced by a new build); render the reports "
                         f"again", path=processed_dir)


def _write_polygons_apart(processed_dir: Path, out: Path) -> None:
    """:func:`write_polygons_by_gemeente` in a child process, so its memory (about 700 MB for a
    national build) is returned to the system before the workers start.

    A plain ``python -c`` child (not multiprocessing, which re-imports the caller's
    ``__main__``); if it fails, the file is written in this process instead.
    """
    code = ("import sys; from woonvoorraad.report.reports import write_polygons_by_gemeente as w; "
            "w(sys.argv[1], sys.argv[2])")
    done = subprocess.run([sys.executable, "-c", code, str(processed_dir), str(out)],
                          capture_output=True, text=True, env=_worker_env(), check=False)
    if done.returncode != 0 or not out.is_file():
        logger.warning("writing the polygons per gemeente in a child process failed (%s); "
                       "writing them here", (done.stderr or "").strip()[-300:])
        write_polygons_by_gemeente(processed_dir, out)


def _read_buurten_for(path: Path, gemeentecode: str, polygons: Path | None = None
                      ) -> gpd.GeoDataFrame:
    """The buurten GeoParquet with polygons decoded for one gemeente only (others None)."""
    import pyarrow.parquet as pq
    import shapely
    from pyproj import CRS

    geom_col, geo, names = _geo_column(path)
    if geom_col not in names or "gemeentecode" not in names:
        return gpd.read_parquet(path)
    attrs = pd.read_parquet(path, columns=[c for c in names if c != geom_col])
    mine = (attrs["gemeentecode"].astype(str) == str(gemeentecode)).to_numpy()
    geoms = np.full(len(attrs), None, dtype=object)
    if mine.any() and polygons is not None and polygons.is_file():
        part = pq.read_table(polygons, columns=["buurtcode", geom_col],
                             filters=[("gemeentecode", "==", str(gemeentecode))])
        by_code = dict(zip(part.column("buurtcode").to_pylist(),
                           part.column(geom_col).to_pylist(), strict=True))
        wkb = [by_code.get(c) for c in attrs.loc[mine, "buurtcode"].astype(str)]
        geoms[mine] = shapely.from_wkb(np.asarray(wkb, dtype=object))
    elif mine.any():
        wkb = pq.read_table(path, columns=[geom_col]).column(geom_col).combine_chunks()
        geoms[mine] = shapely.from_wkb(np.asarray(wkb.filter(mine).to_numpy(
            zero_copy_only=False), dtype=object))
        del wkb
    column_meta = geo.get("columns", {}).get(geom_col) or {}
    # GeoParquet: no "crs" key means OGC:CRS84, null means none, else PROJJSON (or a string)
    crs_value = column_meta.get("crs", "OGC:CRS84")
    crs = (None if crs_value is None else CRS.from_json_dict(crs_value)
           if isinstance(crs_value, dict) else CRS.from_user_input(crs_value))
    out = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index, crs=crs))
    return out.rename_geometry(geom_col) if geom_col != "geometry" else out


def _json_safe(value: Any) -> Any:
    """Convert numpy scalars and NaN to plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if value is pd.NA or value is None:
        return None
    return value


def demo_build(data_dir: str | Path | None = None, *, scale: float = 1.0,
               overwrite: bool = False) -> Path:
    """Make the synthetic demo region and build it, unless that was done already.

    The same as ``woonvoorraad demo --data-dir DATA_DIR`` (raw files in
    ``<data_dir>/raw/demo``, the build in ``<data_dir>/processed/demo``); used by the notebooks
    so each of them runs on its own.

    Parameters
    ----------
    data_dir
        Data folder (default ``settings.data_dir``).
    scale
        Size of the demo region, in (0, 1]; tests use about 0.1.
    overwrite
        Regenerate and rebuild even when a build exists.

    Returns
    -------
    pathlib.Path
        The build folder (``<data_dir>/processed/demo``).
    """
    from woonvoorraad import settings
    from woonvoorraad.demo import region as datasets
    from woonvoorraad.pipeline import build

    root = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    out = root / "processed" / "demo"
    if not overwrite and (out / "manifest.json").is_file():
        logger.info("demo build present in %s; reusing it", out)
        return out
    paths = datasets.make_demo(root / "raw" / "demo", scale=scale, overwrite=overwrite)
    build(bag_path=paths["bag"], buurten_path=paths["buurten"], out=out,
          cbs_paths=[paths["cbs_2021"], paths["cbs_2022"]], labels_path=paths["labels"],
          synthetic=True, extra_parameters={"command": "demo", "scale": scale})
    return out


# ---------------------------------------------------------------------------------------------
# Key figures
# ---------------------------------------------------------------------------------------------


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def _som(frame: pd.DataFrame, col: str) -> float:
    return float(_num(frame, col).sum(min_count=1))


def _gewogen(frame: pd.DataFrame, col: str, *gewichten: str) -> float:
    """Weighted mean of ``col`` over rows where it is known, by the first weight column that
    has values (unweighted when none has)."""
    x = _num(frame, col)
    for w_col in gewichten:
        w = _num(frame, w_col)
        ok = x.notna() & w.notna() & (w > 0)
        if ok.any():
            return float((x[ok] * w[ok]).sum() / w[ok].sum())
    return float(x.mean()) if x.notna().any() else float("nan")


def _deel(a: float, b: float) -> float:
    return a / b if b and math.isfinite(a) and math.isfinite(b) and b > 0 else float("nan")


def kandidaten(run: Run, code: str | None = None) -> pd.DataFrame | None:
    """Proeftuin candidates of gemeente ``code`` (all when None), in rank order.

    Returns None when the build has no classification (``--no-analyse``).
    """
    p = run.tabel("proeftuinen")
    if p is None:
        return None
    if code is not None:
        p = p[p["gemeentecode"].astype(str) == code]
    sort = [c for c in ("gemeentecode", "rang") if c in p.columns]
    return p.sort_values(sort, kind="mergesort").reset_index(drop=True) if sort else p


def kandidaat_buurten(run: Run, code: str | None = None) -> pd.DataFrame:
    """One row per buurt of a candidate: ``buurtcode``, ``rang``, ``naam``, ``reden``.

    Candidates at wijk or woonplaats level cover several buurten (``buurtcodes``).
    """
    k = kandidaten(run, code)
    cols = ["buurtcode", "rang", "naam", "reden"]
    if k is None or k.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for r in k.to_dict("records"):
        codes = str(r.get("buurtcodes") or r.get("eenheid_code") or r.get("buurtcode") or "")
        for bc in [c.strip() for c in codes.split(",") if c.strip()]:
            rows.append({"buurtcode": bc, "rang": r.get("rang"),
                         "naam": r.get("eenheid_naam") or r.get("buurtnaam"),
                         "reden": r.get("reden")})
    return pd.DataFrame(rows, columns=cols).drop_duplicates("buurtcode")


def gemeente_summary(run: Run, code: str | None = None) -> dict[str, Any]:
    """Key figures of gemeente ``code``, or of the whole build when ``code`` is None.

    Counts are sums over the buurten; shares of dwellings are ratios of sums; CBS averages
    are weighted (WOZ and tenure by dwellings, age and income by residents, low incomes by
    households). A figure no buurt has is NaN.

    Parameters
    ----------
    run
        The build (:func:`load_run`).
    code
        Gemeentecode, or None for all gemeenten of the build.

    Returns
    -------
    dict
        ``gemeentecode``, ``gemeentenaam``, ``n_buurten``, ``n_woningen``, ``n_naoorlogs``,
        ``aandeel_naoorlogs``, ``n_doelgroep``, ``aandeel_doelgroep``,
        ``n_buurten_doelgroep_onbekend``, ``n_label_geregistreerd``, ``label_dekking``,
        ``n_label_efg``, ``aandeel_label_efg``, ``aantal_inwoners``, ``aandeel_65plus``,
        ``woz_gemiddeld``, ``aandeel_koop``, ``inkomen_per_inwoner``, ``aandeel_laag_inkomen``,
        ``n_kandidaten`` (None without classification), ``n_kandidaten_voorlopig`` (chosen
        without a known target group), ``kosten_b_min``, ``kosten_b_max``,
        ``kosten_c_min``, ``kosten_c_max``, ``n_efg`` (None without classification).
    """
    b = run.buurten_van(code)
    if code is not None and b.empty:
        run.gemeentenaam(code)  # raises with the list of gemeenten
    n_won = _som(b, "n_woningen")
    n_no = _som(b, "n_naoorlogs")
    doel = _num(b, "n_doelgroep")
    n_doel = float(doel.sum(min_count=1))
    won_doel = float(_num(b, "n_woningen")[doel.notna()].sum())
    out: dict[str, Any] = {
        "gemeentecode": code,
        "gemeentenaam": run.gemeentenaam(code) if code is not None else None,
        "n_buurten": len(b),
        "n_woningen": n_won,
        "n_naoorlogs": n_no,
        "aandeel_naoorlogs": _deel(n_no, n_won),
        "n_doelgroep": n_doel,
        "aandeel_doelgroep": _deel(n_doel, won_doel),
        "n_buurten_doelgroep_onbekend": int(doel.isna().sum()),
        "n_label_geregistreerd": _som(b, "n_label_geregistreerd"),
        "label_dekking": _deel(_som(b, "n_label_geregistreerd"), n_won),
        "n_label_efg": _som(b, "n_label_efg"),
        "aandeel_label_efg": _deel(_som(b, "n_label_efg"), n_won),
        "aantal_inwoners": _som(b, "aantal_inwoners"),
        "aandeel_65plus": _gewogen(b, "aandeel_65plus", "aantal_inwoners", "n_woningen"),
        "woz_gemiddeld": _gewogen(b, "woz_gemiddeld", "woningvoorraad_cbs", "n_woningen"),
        "aandeel_koop": _gewogen(b, "aandeel_koop", "woningvoorraad_cbs", "n_woningen"),
        "inkomen_per_inwoner": _gewogen(b, "inkomen_per_inwoner", "aantal_inwoners",
                                        "n_woningen"),
        "aandeel_laag_inkomen": _gewogen(b, "aandeel_laag_inkomen", "aantal_huishoudens",
                                         "n_woningen"),
        "n_kandidaten": None,
        "n_efg": None,
    }
    k = kandidaten(run, code)
    if k is not None:
        out["n_kandidaten"] = len(k)
        out["n_kandidaten_voorlopig"] = (int(k["voorlopig"].astype(str).str.lower()
                                            .isin(["true", "1"]).sum())
                                        if "voorlopig" in k.columns else 0)
    kg = run.tabel("kosten_gemeente")
    if kg is not None:
        sel = kg if code is None else kg[kg["gemeentecode"].astype(str) == code]
        for col in ("kosten_b_min", "kosten_b_max", "kosten_c_min", "kosten_c_max", "n_efg",
                    "kosten_b_min_naoorlogs", "kosten_b_max_naoorlogs", "n_efg_naoorlogs"):
            out[col] = _som(sel, col) if col in sel.columns else float("nan")
    return out


# ---------------------------------------------------------------------------------------------
# HTML building blocks
# ---------------------------------------------------------------------------------------------

#: Styles of the report (used in the title block and in the exported page).
RAPPORT_CSS = """
.wv-rapport, .wv-sectie { font-family: "Segoe UI", system-ui, -apple-system, Roboto, Helvetica,
  Arial, sans-serif; color: #1d1d1d; line-height: 1.5; }
.wv-banner-synth { background: #b00020; color: #fff; padding: 10px 16px; border-radius: 4px;
  font-size: 15px; margin: 0 0 18px 0; }
.wv-banner-synth strong { letter-spacing: .04em; }
.wv-titel { border-top: 6px solid #1f4e79; padding: 18px 0 6px 0; margin-bottom: 8px; }
.wv-reeks { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: #5a5a5a; }
.wv-titel h1 { font-size: 30px; margin: 4px 0 2px 0; color: #1f4e79; border: 0; }
.wv-sub { font-size: 16px; color: #444; margin: 0 0 14px 0; }
.wv-meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 0;
  font-size: 13.5px; }
.wv-meta dt { color: #5a5a5a; } .wv-meta dd { margin: 0; }
.wv-notice { margin-top: 12px; font-size: 13px; color: #5a5a5a; border-left: 3px solid #c9c9c9;
  padding-left: 10px; }
.wv-kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 6px 0; }
.wv-kpi { flex: 1 1 150px; background: #f3f6fa; border-radius: 4px; padding: 10px 12px; }
.wv-kpi b { display: block; font-size: 22px; color: #1f4e79; font-variant-numeric: tabular-nums; }
.wv-kpi span { font-size: 12.5px; color: #444; }
.wv-tabel-kader { overflow-x: auto; margin: 10px 0 4px 0; }
table.wv-tabel { border-collapse: collapse; font-size: 13.5px; width: 100%; }
table.wv-tabel caption { caption-side: top; text-align: left; font-weight: 600;
  padding-bottom: 4px; color: #1d1d1d; }
table.wv-tabel th { text-align: left; border-bottom: 2px solid #1f4e79; padding: 4px 8px;
  font-weight: 600; vertical-align: bottom; }
table.wv-tabel td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; vertical-align: top; }
table.wv-tabel td.wv-num, table.wv-tabel th.wv-num { text-align: right;
  font-variant-numeric: tabular-nums; }
table.wv-tabel td.wv-num { white-space: nowrap; }
table.wv-tabel .wv-klein { display: block; font-size: 11.5px; color: #5a5a5a; }
table.wv-tabel tr.wv-nadruk td { background: #fdf3e6; }
table.wv-tabel tr.wv-totaal td { border-top: 2px solid #1f4e79; font-weight: 600; }
.wv-voetnoot, .wv-bron { font-size: 12px; color: #5a5a5a; margin: 2px 0 14px 0; }
.wv-nb { background: #f6f6f6; border-left: 4px solid #9a9a9a; padding: 8px 12px;
  color: #333; }
.wv-figuur { margin: 14px 0 18px 0; }
.wv-figuur img { max-width: 100%; height: auto; }
.wv-figuur figcaption { font-size: 12px; color: #5a5a5a; }
.wv-regel { font-family: ui-monospace, Consolas, monospace; font-size: 11.5px; color: #444; }
.wv-kandidaat { border: 1px solid #d9d9d9; border-left: 5px solid #d9730d; border-radius: 4px;
  padding: 10px 14px; margin: 10px 0; }
.wv-kandidaat h4 { margin: 0 0 4px 0; font-size: 16px; }
.wv-kandidaat p { margin: 4px 0; }
.wv-label { display: inline-block; background: #eef2f7; border-radius: 3px; padding: 0 6px;
  margin: 1px 4px 1px 0; font-size: 12.5px; }
"""


def _cel(value: Any, formaat: str) -> tuple[str, bool]:
    numeric = formaat not in ("tekst", "html")
    if formaat == "html":
        return str(value), False
    return esc(fmt_waarde(value, formaat)), numeric


def tabel(
    frame: pd.DataFrame,
    kolommen: Sequence[str | tuple[str, str, str]],
    *,
    caption: str | None = None,
    nadruk: pd.Series | None = None,
    leeg: str = "Geen gegevens.",
) -> Html:
    """Render a table with Dutch labels and number formats; every value is escaped.

    Parameters
    ----------
    frame
        The rows to show.
    kolommen
        Column names (label and format from :data:`KOLOMMEN`) or ``(column, label, format)``;
        format ``"html"`` inserts the value as trusted HTML (only for values built here).
    caption
        Table caption.
    nadruk
        Boolean per row: rows to highlight.
    leeg
        Text when ``frame`` has no rows.

    Examples
    --------
    >>> t = tabel(pd.DataFrame({"buurtnaam": ["<b>"], "n_woningen": [1234]}),
    ...           ["buurtnaam", "n_woningen"])
    >>> "&lt;b&gt;" in t and "1.234" in t
    True
    """
    if frame is None or len(frame) == 0:
        return Html(f'<p class="wv-nb">{esc(leeg)}</p>')
    specs = []
    for item in kolommen:
        if isinstance(item, tuple):
            specs.append(item)
        else:
            info = kolom(item)
            specs.append((item, info.label, info.formaat))
    head = "".join(
        f'<th class="{"wv-num" if fmt not in ("tekst", "html") else ""}">{esc(label)}</th>'
        for _, label, fmt in specs)
    rows = []
    flags = list(nadruk) if nadruk is not None else [False] * len(frame)
    for flag, rec in zip(flags, frame.to_dict("records"), strict=True):
        cells = []
        for col, _label, fmt in specs:
            text, numeric = _cel(rec.get(col), fmt)
            cells.append(f'<td class="wv-num">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append(f'<tr class="wv-nadruk">{"".join(cells)}</tr>' if flag
                    else f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Html(f'<div class="wv-tabel-kader"><table class="wv-tabel">{cap}<thead><tr>{head}'
                f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def niet_beschikbaar(reden: str) -> Html:
    """A clear "niet beschikbaar" line (the reason is escaped)."""
    return Html(f'<p class="wv-nb"><strong>Niet beschikbaar:</strong> {esc(reden)}</p>')


def _p(text: str) -> str:
    return f"<p>{text}</p>"


def figuur(fig: Figure, *, alt: str, bijschrift: str | None = None, dpi: int = 130) -> Html:
    """Embed a matplotlib figure as a PNG data URI (self-contained HTML)."""
    from woonvoorraad.report.charts import fig_to_png

    data = base64.b64encode(fig_to_png(fig, dpi=dpi)).decode("ascii")
    cap = f"<figcaption>{esc(bijschrift)}</figcaption>" if bijschrift else ""
    return Html(f'<figure class="wv-figuur"><img alt="{esc(alt)}" '
                f'src="data:image/png;base64,{data}">{cap}</figure>')


_REDENEN_NL = {
    "not in the CBS input": "ontbreekt in de CBS-gegevens",
    "needs CBS statistics of at least two years (--cbs)":
        "vraagt CBS-cijfers van minstens twee jaren",
    "the CBS statistics given cover fewer than two years":
        "de CBS-cijfers beslaan minder dan twee jaren",
}


def _klein(label: str) -> str:
    """Lower-case the first letter of a label, unless it starts an abbreviation (WOZ)."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _reden_nl(reason: str) -> str:
    if reason in _REDENEN_NL:
        return _REDENEN_NL[reason]
    m = re.fullmatch(r"needs (.+) from CBS", reason)
    if m:
        cols = [_klein(kolom(c.strip()).label) for c in re.split(r"\band\b|,", m.group(1))
                if c.strip()]
        return "vraagt " + " en ".join(cols) + " van CBS"
    return reason


def _ontbreekt(run: Run, col: str) -> str | None:
    """Dutch reason why ``col`` is unavailable in the build (None when it has values)."""
    reason = (run.manifest.get("missing_statistics") or {}).get(col)
    if reason:
        return _reden_nl(str(reason))
    if col not in run.buurten.columns:
        return "niet in deze build"
    if _num(run.buurten, col).isna().all():
        return "geen waarden in deze build"
    return None


def fmt_bereik(laag: Any, hoog: Any, formaat: str = "euro_kort") -> str:
    """Format a range ``laag – hoog``; a single value when both are the same.

    Examples
    --------
    >>> fmt_bereik(1.2e6, 3.4e6), fmt_bereik(5e6, 5e6)
    ('€ 1,2 mln – € 3,4 mln', '€ 5,0 mln')
    """
    a, b = fmt_waarde(laag, formaat), fmt_waarde(hoog, formaat)
    return a if a == b else f"{a} – {b}"


def _config_waarde(run: Run, sectie: str, sleutel: str, default: Any = None) -> Any:
    return (run.config.get(sectie) or {}).get(sleutel, default)


def _naoorlogs(run: Run) -> tuple[int, int]:
    return (int(_config_waarde(run, "periods", "naoorlogs_start", 1945)),
            int(_config_waarde(run, "periods", "naoorlogs_end", 1974)))


def _geen_analyse() -> Html:
    return niet_beschikbaar("deze build is gemaakt zonder classificatiestap "
                            "(woonvoorraad build --no-analyse); scores, proeftuinkandidaten, "
                            "instrumenten, kosten en typologie ontbreken.")


# ---------------------------------------------------------------------------------------------
# Report sections (called by the report template)
# ---------------------------------------------------------------------------------------------


def controleer_parameters(run: Run, gemeente_code: str, *, jaar: int | None = None,
                          max_kandidaten: int = 5) -> str:
    """Validate the report parameters; return the gemeentecode (a name is resolved too).

    Raises
    ------
    InputError
        The gemeente is not in the build, ``jaar`` is not the CBS year of the data, or
        ``max_kandidaten`` is not positive.
    """
    code = run.resolve_gemeente(str(gemeente_code))
    if jaar is not None and run.cbs_jaar is not None and int(jaar) != run.cbs_jaar:
        raise InputError(f"jaar={jaar}, but this build holds CBS figures of {run.cbs_jaar}; "
                         "build the year you want or leave jaar = None", path=run.path)
    if int(max_kandidaten) < 1:
        raise InputError(f"max_kandidaten must be at least 1, got {max_kandidaten}")
    return code


def synthetisch_banner(run: Run) -> Html:
    """Red banner for builds made from synthetic demo data (empty otherwise)."""
    if not run.synthetic:
        return Html("")
    return Html('<div class="wv-banner-synth" role="alert" id="synthetische-demodata">'
                "<strong>SYNTHETISCHE DEMODATA</strong> — fictieve gemeenten, buurten en "
                "cijfers, gemaakt om de werkwijze te tonen. Niet gebruiken voor beleid.</div>")


def titelblok(run: Run, code: str, *, jaar: int | None = None,
              regio_naam: str | None = None) -> Html:
    """Title block: gemeente, comparison area, data year, dates, data notice, banner."""
    naam = run.gemeentenaam(code)
    n_gem = len(run.gemeenten())
    regio = regio_naam or ("alle gemeenten in deze build" if n_gem > 1 else "—")
    cbs = jaar or run.cbs_jaar
    created = run.created
    rows = [
        ("Gemeentecode", esc(code)),
        ("Vergelijkingsgebied", f"{esc(regio)} ({n_gem} gemeente{'n' if n_gem != 1 else ''})"),
        ("Gegevens", f"CBS Kerncijfers wijken en buurten {esc(cbs or NA)}, BAG, EP-Online; "
                     f"build van {esc(fmt_datum(created) if created else NA)}"),
        ("Rapport gemaakt", esc(fmt_datum(dt.datetime.now(dt.UTC)))),
        ("Versie", f"woonvoorraad {esc(run.manifest.get('version') or __version__)}"),
    ]
    meta = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    notice = run.data_notice
    notice_html = (f'<p class="wv-notice">{esc(notice)}</p>' if notice else
                   '<p class="wv-notice">Bronnen: BAG (Kadaster, CC0), CBS (CC BY 4.0), '
                   "EP-Online (RVO), PBL Vesta MAIS kentallen 2024. Schattingen zijn "
                   "indicatief; zie hoofdstuk Bronnen en aannames.</p>")
    return Html(
        f"<style>{RAPPORT_CSS}</style><div class=\"wv-rapport\">{synthetisch_banner(run)}"
        '<header class="wv-titel"><div class="wv-reeks">Woningvoorraad · naoorlogse '
        f"koopwoningen</div><h1>Gemeente {esc(naam)}</h1>"
        '<p class="wv-sub">Waar hebben goedkope naoorlogse koopwoningen hulp nodig, en waar '
        "beginnen we?</p>"
        f'<dl class="wv-meta">{meta}</dl>{notice_html}</header></div>')


def sectie_kerncijfers(run: Run, code: str) -> Html:
    """Key figures of the gemeente next to those of the whole build."""
    g = gemeente_summary(run, code)
    r = gemeente_summary(run, None)
    start, end = _naoorlogs(run)
    woz_grens = _config_waarde(run, "doelgroep", "woz_grens")
    kpis = [
        (fmt_aantal(g["n_woningen"]), "woningen (BAG)"),
        (fmt_pct(g["aandeel_naoorlogs"]), f"gebouwd in {start}–{end}"),
        (fmt_aantal(g["n_doelgroep"]), "doelgroepwoningen (geschat)"),
        (fmt_pct(g["aandeel_label_efg"]), "met label E, F of G"),
    ]
    kpi_html = "".join(f'<div class="wv-kpi"><b>{esc(v)}</b><span>{esc(t)}</span></div>'
                       for v, t in kpis)
    rows = [
        ("Buurten", "aantal", "n_buurten"),
        ("Woningen (BAG)", "aantal", "n_woningen"),
        (f"Naoorlogse woningen ({start}–{end})", "aantal", "n_naoorlogs"),
        ("  aandeel van de woningen", "aandeel", "aandeel_naoorlogs"),
        ("Doelgroep: goedkope naoorlogse koopwoningen (geschat)", "aantal", "n_doelgroep"),
        ("  aandeel van de woningen", "aandeel", "aandeel_doelgroep"),
        ("Woningen met geregistreerd energielabel", "aandeel", "label_dekking"),
        ("Woningen met label E, F of G (geregistreerd of geschat)", "aandeel",
         "aandeel_label_efg"),
        ("Inwoners", "aantal", "aantal_inwoners"),
        ("Aandeel 65-plussers", "aandeel", "aandeel_65plus"),
        ("Gemiddelde WOZ-waarde", "euro", "woz_gemiddeld"),
        ("Aandeel koopwoningen", "aandeel", "aandeel_koop"),
        ("Inkomen per inwoner", "euro", "inkomen_per_inwoner"),
        ("Huishoudens met een laag inkomen", "aandeel", "aandeel_laag_inkomen"),
        ("Proeftuinkandidaten", "aantal", "n_kandidaten"),
        ("Investering naar label B, minimum", "euro_kort", "kosten_b_min"),
        ("Investering naar label B, maximum", "euro_kort", "kosten_b_max"),
    ]
    frame = pd.DataFrame([{"indicator": label, "gemeente": g.get(key), "regio": r.get(key),
                           "fmt": fmt} for label, fmt, key in rows])
    body = "".join(
        f"<tr><td>{esc(rec['indicator']).replace('  ', '&emsp;')}</td>"
        f'<td class="wv-num">{esc(fmt_waarde(rec["gemeente"], rec["fmt"]))}</td>'
        f'<td class="wv-num">{esc(fmt_waarde(rec["regio"], rec["fmt"]))}</td></tr>'
        for rec in frame.to_dict("records"))
    naam = esc(g["gemeentenaam"])
    table = ('<table class="wv-tabel"><thead><tr><th>Indicator</th>'
             f'<th class="wv-num">{naam}</th><th class="wv-num">Vergelijkingsgebied</th></tr>'
             f"</thead><tbody>{body}</tbody></table>")
    tekst = (f"{naam} telt {esc(fmt_aantal(g['n_woningen']))} woningen in "
             f"{esc(fmt_aantal(g['n_buurten']))} buurten. Daarvan zijn er "
             f"{esc(fmt_aantal(g['n_naoorlogs']))} ({esc(fmt_pct(g['aandeel_naoorlogs']))}) "
             f"gebouwd in {start}–{end}")
    if not is_missing(g["n_doelgroep"]):
        tekst += (f"; naar schatting {esc(fmt_aantal(g['n_doelgroep']))} daarvan zijn "
                  "goedkope koopwoningen (de doelgroep"
                  + (f", WOZ onder {esc(fmt_euro(woz_grens))}" if woz_grens else "") + ").")
    else:
        tekst += (". De doelgroep kan niet worden geschat: "
                  f"{esc(_ontbreekt(run, 'n_doelgroep') or 'gegevens ontbreken')}.")
    voet = ("Vergelijkingsgebied: alle gemeenten in deze build. Aandelen van woningen zijn "
            "verhoudingen van totalen; WOZ en aandeel koop zijn gewogen naar woningen, "
            f"leeftijd en inkomen naar inwoners. {NA} = niet beschikbaar.")
    return Html(f'<div class="wv-sectie"><div class="wv-kpis">{kpi_html}</div>{_p(tekst)}'
                f'{table}<p class="wv-voetnoot">{esc(voet)}</p></div>')


def sectie_doelgroep(run: Run, code: str, *, max_rijen: int = 15) -> Html:
    """Post-war owner-occupied stock and the target group per buurt."""
    b = run.buurten_van(code).copy()
    start, end = _naoorlogs(run)
    dg = run.config.get("doelgroep") or {}
    reden = _ontbreekt(run, "n_doelgroep")
    parts = []
    methode = ("De doelgroep is per buurt geschat als naoorlogse woningen × aandeel "
               "koopwoningen × de kans dat de WOZ-waarde onder "
               f"{fmt_euro(dg.get('woz_grens'))} ligt (WOZ-waarden van de naoorlogse voorraad "
               f"lognormaal rond {fmt_getal(dg.get('naoorlogs_woz_factor'), 2)} × het "
               "buurtgemiddelde, variatiecoëfficiënt "
               f"{fmt_getal(dg.get('woz_variatiecoefficient'), 2)}). Eigendom en WOZ per woning "
               "zijn geen open data; het is dus een schatting per buurt.")
    parts.append(_p(esc(methode)))
    if reden:
        parts.append(niet_beschikbaar(f"geschatte doelgroep: {reden}."))
        sort_col = "n_naoorlogs"
    else:
        sort_col = "n_doelgroep"
    b["_sort"] = _num(b, sort_col)
    b = b.sort_values(["_sort", "buurtcode"], ascending=[False, True], na_position="last")
    cols = [("buurtnaam", "Buurt", "tekst"), ("n_woningen", "Woningen", "aantal"),
            ("n_naoorlogs", "Naoorlogs", "aantal"), ("aandeel_naoorlogs", "% naoorlogs", "aandeel"),
            ("aandeel_koop", "% koop", "aandeel"), ("woz_gemiddeld", "Gem. WOZ", "euro"),
            ("n_doelgroep", "Doelgroep", "aantal"), ("aandeel_doelgroep", "% doelgroep",
                                                     "aandeel")]
    kb = kandidaat_buurten(run, code)
    shown = b.head(max_rijen)
    wat = "naoorlogse woningen" if reden else "doelgroepwoningen"
    parts.append(tabel(shown, cols, nadruk=shown["buurtcode"].isin(kb["buurtcode"]),
                       caption=f"Buurten met de meeste {wat} ({min(max_rijen, len(b))} van "
                               f"{len(b)})"))
    voet = (f"Naoorlogs = bouwjaar {start}–{end} (BAG). Gemarkeerd: buurten van een "
            "proeftuinkandidaat. WOZ en aandeel koop: CBS.")
    parts.append(f'<p class="wv-voetnoot">{esc(voet)}</p>')
    return Html(f'<div class="wv-sectie">{"".join(parts)}</div>')


def grafiek_bouwjaar(run: Run, code: str) -> Html:
    """Build-year distribution of the gemeente against the whole build."""
    from woonvoorraad.report.charts import bouwjaar_verdeling
    from woonvoorraad.report.charts import niet_beschikbaar as nb_fig

    naam = run.gemeentenaam(code)
    eigen = run.dwellings(code, ["bouwjaar"])
    if eigen is None:
        fig = nb_fig("Woningen naar bouwjaar", "dwellings.parquet ontbreekt in de build",
                     synthetisch=run.synthetic)
        return figuur(fig, alt="Bouwjaarverdeling niet beschikbaar")
    alle = run.dwellings(None, ["bouwjaar"]) if len(run.gemeenten()) > 1 else None
    fig = bouwjaar_verdeling(eigen["bouwjaar"],
                             vergelijking=None if alle is None else alle["bouwjaar"],
                             naoorlogs=_naoorlogs(run), naam=naam,
                             naam_vergelijking="vergelijkingsgebied",
                             titel=f"Woningen naar bouwjaar, {naam}", synthetisch=run.synthetic)
    return figuur(fig, alt=f"Verdeling van de woningen in {naam} naar bouwjaar")


def sectie_labels(run: Run, code: str, *, max_rijen: int = 10) -> Html:
    """Energy labels: registered versus estimated, coverage, poor labels per buurt."""
    g = gemeente_summary(run, code)
    slecht = "/".join(_config_waarde(run, "labels", "slecht", ["E", "F", "G"]))
    n_reg, n = g["n_label_geregistreerd"], g["n_woningen"]
    tekst = (f"Van de {esc(fmt_aantal(n))} woningen heeft {esc(fmt_aantal(n_reg))} "
             f"({esc(fmt_pct(g['label_dekking']))}) een geregistreerd energielabel in "
             "EP-Online. Voor de overige woningen is het label geschat met het "
             "PBL-standaardlabel voor hun woningtype en bouwperiode (PBL Vesta MAIS kentallen "
             f"2024). In totaal heeft {esc(fmt_pct(g['aandeel_label_efg']))} van de woningen "
             f"label {esc(slecht)}, geregistreerd of geschat. Een geschat label is een "
             "gemiddelde voor het type; de werkelijke staat van een woning kan afwijken.")
    b = run.buurten_van(code).copy()
    b["_sort"] = _num(b, "aandeel_label_efg")
    b = b.sort_values(["_sort", "buurtcode"], ascending=[False, True], na_position="last")
    cols = [("buurtnaam", "Buurt", "tekst"), ("n_woningen", "Woningen", "aantal"),
            ("label_dekking", "Labeldekking", "aandeel"),
            ("n_label_efg", f"Woningen {slecht}", "aantal"),
            ("aandeel_label_efg", f"% {slecht}", "aandeel"),
            ("aandeel_label_efg_geregistreerd", f"% {slecht} (alleen geregistreerd)",
             "aandeel")]
    t = tabel(b.head(max_rijen), cols,
              caption=f"Buurten met het grootste aandeel label {slecht} "
                      f"({min(max_rijen, len(b))} van {len(b)})")
    voet = ("Labeldekking = woningen met een geregistreerd label / alle woningen. "
            f"'% {slecht} (alleen geregistreerd)' is het aandeel onder de geregistreerde labels.")
    return Html(f'<div class="wv-sectie">{_p(tekst)}{t}'
                f'<p class="wv-voetnoot">{esc(voet)}</p></div>')


def grafiek_labels(run: Run, code: str) -> Html:
    """Label distribution of the gemeente (registered vs estimated)."""
    from woonvoorraad.report.charts import label_verdeling
    from woonvoorraad.report.charts import niet_beschikbaar as nb_fig

    naam = run.gemeentenaam(code)
    w = run.dwellings(code, ["energielabel", "label_bron"])
    if w is None:
        fig = nb_fig("Energielabels", "dwellings.parquet ontbreekt in de build",
                     synthetisch=run.synthetic)
    else:
        fig = label_verdeling(w, titel=f"Energielabels van de woningen, {naam}",
                              synthetisch=run.synthetic)
    return figuur(fig, alt=f"Energielabels van de woningen in {naam}")


def _scores_aanwezig(run: Run) -> list[str]:
    return [s for s in SCORES if s in run.buurten.columns]


def sectie_scores(run: Run, code: str) -> Html:
    """The five scores per buurt, with lifecycle need and financial room explained."""
    scores = _scores_aanwezig(run)
    if not scores:
        return _geen_analyse()
    uitleg = [
        ("Energiebehoefte", "aandeel woningen met label E/F/G, aandeel naoorlogse woningen en "
                            "gemiddeld gasverbruik."),
        ("Levensloopbehoefte", "aandeel 65-plussers, eengezinswoningen van vóór 1975 (trappen, "
                               "geen slaapkamer beneden) en kleine huishoudens."),
        ("Financiële ruimte", "WOZ-waarde ten opzichte van de mediaan in de gemeente, geschat "
                              "huishoudinkomen ten opzichte van de DAEB-inkomensgrens en het "
                              "aandeel lage inkomens (omlaag). Hoog = veel ruimte om zelf te "
                              "investeren."),
        ("Doelgroepconcentratie", "aantal en aandeel geschatte doelgroepwoningen."),
        ("Demografische druk", "krimp van huishoudens en inwoners en toename van het aandeel "
                               "65-plussers."),
    ]
    lijst = "".join(f"<li><strong>{esc(a)}</strong>: {esc(b)}</li>" for a, b in uitleg)
    tekst = ("Elke score loopt van 0 tot 1 op een vaste schaal uit de configuratie (niet "
             "gerangschikt binnen de regio), zodat een buurt dezelfde score houdt welke andere "
             "buurten er ook in de analyse zitten. Ontbreekt een gegeven, dan tellen de andere "
             "onderdelen zwaarder mee; ontbreken ze alle, dan is de score n.b.")
    b = run.buurten_van(code).copy()
    sort = "proeftuinscore" if "proeftuinscore" in b.columns else scores[0]
    b["_sort"] = _num(b, sort)
    b = b.sort_values(["_sort", "buurtcode"], ascending=[False, True], na_position="last")
    kb = kandidaat_buurten(run, code)
    kort = {"energiebehoefte": "Energie", "levensloopbehoefte": "Levensloop",
            "financiele_ruimte": "Fin. ruimte", "doelgroepconcentratie": "Doelgroep",
            "demografische_druk": "Demografie"}
    cols: list[str | tuple[str, str, str]] = [("buurtnaam", "Buurt", "tekst")]
    cols += [(s, kort.get(s, kolom(s).label), "score") for s in scores]
    if "proeftuinscore" in b.columns:
        cols.append(("proeftuinscore", "Proeftuinscore", "score"))
    t = tabel(b, cols, nadruk=b["buurtcode"].isin(kb["buurtcode"]),
              caption="Scores per buurt, 0–1 (gesorteerd op proeftuinscore)")
    return Html(f'<div class="wv-sectie">{_p(esc(tekst))}<ul>{lijst}</ul>{t}'
                '<p class="wv-voetnoot">Gemarkeerd: buurten van een proeftuinkandidaat. '
                "Bron: BAG, CBS, EP-Online; scores woonvoorraad.</p></div>")


def grafiek_woz_inkomen(run: Run, code: str) -> Html:
    """WOZ value against income per buurt, the gemeente highlighted."""
    from woonvoorraad.report.charts import woz_inkomen

    naam = run.gemeentenaam(code)
    eigen = run.buurten_van(code)
    if _num(eigen, "woz_gemiddeld").isna().all() or (
            _num(eigen, "inkomen_per_inwoner").isna().all()
            and _num(eigen, "inkomen_huishouden_geschat").isna().all()):
        return niet_beschikbaar("grafiek van WOZ-waarde en inkomen: "
                                + (_ontbreekt(run, "woz_gemiddeld")
                                   or _ontbreekt(run, "inkomen_per_inwoner")
                                   or "WOZ-waarde of inkomen ontbreekt") + ".")
    inkomen = ("inkomen_huishouden_geschat"
               if _num(run.buurten, "inkomen_huishouden_geschat").notna().any()
               else "inkomen_per_inwoner")
    fig = woz_inkomen(run.buurten, gemeentecode=code,
                      kandidaten=kandidaat_buurten(run, code)["buurtcode"],
                      inkomen_kolom=inkomen,
                      woz_grens=_config_waarde(run, "doelgroep", "woz_grens"),
                      titel=f"WOZ-waarde en inkomen per buurt, {naam}",
                      synthetisch=run.synthetic)
    return figuur(fig, alt=f"WOZ-waarde tegen inkomen per buurt in {naam}")


def sectie_proeftuinen(run: Run, code: str, *, max_kandidaten: int = 5) -> Html:
    """Proeftuin candidates with their reasons."""
    k = kandidaten(run, code)
    if k is None:
        return _geen_analyse()
    pt = run.config.get("proeftuin") or {}
    gew = pt.get("gewichten") or {}
    gew_tekst = ", ".join(f"{_klein(kolom(s).label.replace(' (score)', ''))} "
                          f"{fmt_getal(v, 2)}" for s, v in gew.items())
    intro = ("Kandidaten zijn de buurten (of wijken/woonplaatsen, zie configuratie) met de "
             "hoogste proeftuinscore: een gewogen gemiddelde van de scores "
             f"(gewichten: {gew_tekst}; een negatief gewicht telt 1 − score, dus minder "
             "financiële ruimte weegt zwaarder). Een kandidaat heeft minimaal "
             f"{fmt_aantal(pt.get('min_doelgroep'))} doelgroepwoningen; stabiliteit is het "
             "aandeel van de variaties in de gewichten (±"
             f"{fmt_pct(pt.get('stabiliteit_variatie'), 0)}) waarin de kandidaat in de top "
             "blijft.")
    if k.empty:
        nb = niet_beschikbaar("geen kandidaat in deze gemeente: geen buurt met "
                              "doelgroepwoningen, of de doelgroep is onbekend.")
        return Html(f'<div class="wv-sectie">{_p(esc(intro))}{nb}</div>')
    cards = []
    inst = run.tabel("instrumenten")
    for rec in k.head(max_kandidaten).to_dict("records"):
        naam = rec.get("eenheid_naam") or rec.get("buurtnaam") or rec.get("eenheid_code")
        feiten = [
            ("Doelgroep", fmt_aantal(rec.get("n_doelgroep"))),
            ("Woningen", fmt_aantal(rec.get("n_woningen"))),
            ("Proeftuinscore", fmt_score(rec.get("proeftuinscore"))),
            ("Stabiliteit", fmt_pct(rec.get("stabiliteit_top_n"), 0)),
        ]
        feit_html = " · ".join(f"{esc(a)}: <strong>{esc(b)}</strong>" for a, b in feiten)
        extra = ""
        if str(rec.get("voorlopig")).lower() in ("true", "1"):
            extra += ('<p class="wv-voetnoot"><strong>Voorlopige kandidaat.</strong> Het aantal '
                      "doelgroepwoningen is onbekend: de CBS-gegevens missen het aandeel "
                      "koopwoningen of de WOZ-waarde. De buurt is gekozen op de andere scores; "
                      "vul die gegevens aan voordat u een proeftuin kiest.</p>")
        elif str(rec.get("voldoet_minimum")).lower() in ("false", "0"):
            extra += ('<p class="wv-voetnoot">Kleiner dan de minimumomvang: de beste buurt '
                      "van de gemeente, maar met minder doelgroepwoningen dan het minimum.</p>")
        if inst is not None:
            codes = {c.strip() for c in str(rec.get("buurtcodes") or "").split(",")}
            fit = inst[inst["buurtcode"].astype(str).isin(codes)
                       & (inst["status"].astype(str) == "past")]
            if len(fit):
                labels = "".join(f'<span class="wv-label">{esc(n)}</span>'
                                 for n in sorted(fit["naam"].astype(str).unique()))
                extra += f"<p>Passende instrumenten: {labels}</p>"
        cards.append(
            f'<div class="wv-kandidaat"><h4>{esc(rec.get("rang"))}. {esc(naam)}</h4>'
            f"<p>{feit_html}</p><p>{esc(rec.get('reden') or '')}</p>{extra}</div>")
    meer = ""
    if len(k) > max_kandidaten:
        meer = (f'<p class="wv-voetnoot">{len(k) - max_kandidaten} kandidaten meer staan in '
                "proeftuinen.csv van de build.</p>")
    return Html(f'<div class="wv-sectie">{_p(esc(intro))}{"".join(cards)}{meer}</div>')


def grafiek_scoreprofiel(run: Run, code: str, *, max_kandidaten: int = 5) -> Html:
    """Score profile of the gemeente's candidates."""
    from woonvoorraad.report.charts import score_profiel

    k = kandidaten(run, code)
    if k is None or k.empty:
        return Html("")
    k = k.head(max_kandidaten).copy()
    k["_naam"] = k.get("eenheid_naam", k.get("buurtnaam"))
    fig = score_profiel(k, naam_kolom="_naam",
                        titel=f"Scoreprofiel van de proeftuinkandidaten, "
                              f"{run.gemeentenaam(code)}",
                        synthetisch=run.synthetic)
    return figuur(fig, alt="Scores van de proeftuinkandidaten")


def sectie_instrumenten(run: Run, code: str) -> Html:
    """Instruments that fit the buurten, with the rule that chose them."""
    inst = run.tabel("instrumenten")
    if inst is None:
        return _geen_analyse()
    intro = ("Per buurt is nagegaan welke instrumenten passen bij het profiel, met vaste "
             "regels uit de configuratie (instrumenten.toml). 'Past' betekent: het instrument "
             "is het overwegen waard in deze buurt; of een huishouden in aanmerking komt, "
             "beslist de aanbieder. 'Onbekend': een gegeven voor de regel ontbreekt.")
    sel = inst[inst["gemeentecode"].astype(str) == code]
    if sel.empty:
        return Html(f'<div class="wv-sectie">{_p(esc(intro))}'
                    f"{niet_beschikbaar('geen instrument past in een buurt van deze gemeente.')}"
                    "</div>")
    kb = set(kandidaat_buurten(run, code)["buurtcode"])
    rows = []
    for (_code, naam), g in sel.groupby(["instrument", "naam"], sort=False):
        past = g[g["status"].astype(str) == "past"]
        bron = str(g["bron"].iloc[0]) if "bron" in g.columns and g["bron"].notna().any() else ""
        rows.append({
            "naam": f"{esc(naam)}" + (f'<span class="wv-klein">{esc(bron)}</span>' if bron
                                      else ""),
            "n_past": len(past),
            "n_kandidaat": int(past["buurtcode"].astype(str).isin(kb).sum()),
            "n_onbekend": int((g["status"].astype(str) == "onbekend").sum()),
            "regel": f'<span class="wv-regel">{esc(g["regel"].iloc[0])}</span>',
            "_sort": str(naam),
        })
    frame = pd.DataFrame(rows).sort_values(["n_past", "_sort"], ascending=[False, True])
    t = tabel(frame, [("naam", "Instrument (aanbieder)", "html"),
                      ("n_past", "Past in buurten", "aantal"),
                      ("n_kandidaat", "waarvan kandidaat", "aantal"),
                      ("n_onbekend", "Onbekend", "aantal"), ("regel", "Regel", "html")],
              caption="Instrumenten en het aantal buurten waar ze passen")
    return Html(f'<div class="wv-sectie">{_p(esc(intro))}{t}</div>')


def sectie_kosten(run: Run, code: str, *, max_rijen: int = 10) -> Html:
    """Upgrade cost range of the dwellings with a poor label."""
    kb = run.tabel("kosten_buurt")
    if kb is None:
        return _geen_analyse()
    g = gemeente_summary(run, code)
    tekst = (f"Voor de {esc(fmt_aantal(g.get('n_efg')))} woningen met label E, F of G "
             "kost verbetering naar label B naar schatting "
             f"{esc(fmt_bereik(g.get('kosten_b_min'), g.get('kosten_b_max')))}, naar label C "
             f"{esc(fmt_bereik(g.get('kosten_c_min'), g.get('kosten_c_max')))}.")
    if not is_missing(g.get("n_efg_naoorlogs")):
        bereik = fmt_bereik(g.get("kosten_b_min_naoorlogs"), g.get("kosten_b_max_naoorlogs"))
        tekst += (f" Daarvan zijn {esc(fmt_aantal(g.get('n_efg_naoorlogs')))} woningen "
                  f"naoorlogs, met een investering naar label B van {esc(bereik)}.")
    methode = ("Kentallen: PBL Vesta MAIS kentallen 2024 (vast bedrag per woning plus een "
               "bedrag per m², lage en hoge variant) naar woningtype en bouwperiode; het "
               "huidige label is geregistreerd of geschat. Het is een bandbreedte voor "
               "schilverbetering, geen offerte.")
    sel = kb[kb["gemeentecode"].astype(str) == code].copy()
    sel["_sort"] = _num(sel, "kosten_b_max")
    sel = sel.sort_values(["_sort", "buurtcode"], ascending=[False, True], na_position="last")
    t = tabel(sel.head(max_rijen),
              ["buurtnaam", ("n_efg", "Woningen E/F/G", "aantal"),
               ("kosten_b_min", "Naar B, min.", "euro_kort"),
               ("kosten_b_max", "Naar B, max.", "euro_kort"),
               ("kosten_b_min_per_woning", "Per woning, min.", "euro"),
               ("kosten_b_max_per_woning", "Per woning, max.", "euro")],
              caption=f"Buurten met de hoogste raming ({min(max_rijen, len(sel))} van "
                      f"{len(sel)})")
    return Html(f'<div class="wv-sectie">{_p(tekst)}{_p(esc(methode))}{t}</div>')


def grafiek_kosten(run: Run, code: str) -> Html:
    """Cost range per buurt."""
    from woonvoorraad.report.charts import kosten_bandbreedte

    kb = run.tabel("kosten_buurt")
    if kb is None:
        return Html("")
    sel = kb[kb["gemeentecode"].astype(str) == code]
    fig = kosten_bandbreedte(sel, titel=f"Investering naar label B per buurt, "
                                        f"{run.gemeentenaam(code)}",
                             synthetisch=run.synthetic)
    return figuur(fig, alt="Bandbreedte van de investering per buurt")


def sectie_typologie(run: Run, code: str) -> Html:
    """The buurt typology: which types occur in the gemeente."""
    prof = run.tabel("typologie_profielen")
    if prof is None or "typologie_cluster" not in run.buurten.columns:
        return _geen_analyse()
    ty = (run.manifest.get("analysis") or {}).get("typologie") or {}
    kenmerken = ", ".join(kolom(k).label for k in ty.get("kenmerken", []))
    methode = {"kmeans": "k-means", "gmm": "een Gaussisch mengmodel",
               "ward": "hiërarchische clustering (Ward)"}.get(str(ty.get("methode")),
                                                              str(ty.get("methode", "k-means")))
    intro = (f"Alle buurten van de build zijn met {esc(methode)} in "
             f"{esc(ty.get('k', len(prof)))} buurttypen verdeeld op: {esc(kenmerken)}. "
             "De namen volgen uit de kenmerken waarin een type het meest afwijkt van het "
             "gemiddelde. Gemiddelde silhouetwaarde "
             f"{esc(fmt_score(ty.get('silhouette')))} (−1 tot 1; hoger = scherper "
             "onderscheiden types).")
    b = run.buurten_van(code)
    cl = _num(b, "typologie_cluster")
    per = pd.DataFrame({"cluster": cl, "n_woningen": _num(b, "n_woningen")}).dropna(
        subset=["cluster"]).groupby("cluster").agg(n_gem=("n_woningen", "size"),
                                                   w_gem=("n_woningen", "sum"))
    p = prof.copy()
    p["cluster"] = pd.to_numeric(p["cluster"], errors="coerce")
    p = p.merge(per, left_on="cluster", right_index=True, how="left")
    p[["n_gem", "w_gem"]] = p[["n_gem", "w_gem"]].fillna(0)
    t = tabel(p, [("cluster", "Nr.", "getal0"), ("naam", "Buurttype", "tekst"),
                  ("n_gem", "Buurten in gemeente", "aantal"),
                  ("w_gem", "Woningen in gemeente", "aantal"),
                  ("n_buurten", "Buurten in vergelijkingsgebied", "aantal")],
              nadruk=p["n_gem"] > 0, caption="Buurttypen")
    n_uit = int(cl.isna().sum())
    voet = ("Gemarkeerd: typen die in de gemeente voorkomen."
            + (f" {n_uit} buurt(en) zonder type (te weinig woningen of gegevens; zie "
               "uitgesloten.csv)." if n_uit else ""))
    return Html(f'<div class="wv-sectie">{_p(intro)}{t}'
                f'<p class="wv-voetnoot">{esc(voet)}</p></div>')


def grafiek_typologie(run: Run, code: str) -> Html:
    """Z-score profiles of the buurt types, those in the gemeente marked."""
    from woonvoorraad.report.charts import typologie_profielen

    prof = run.tabel("typologie_profielen")
    if prof is None:
        return Html("")
    present = set(_num(run.buurten_van(code), "typologie_cluster").dropna().astype(int))
    fig = typologie_profielen(prof, markeer=present, synthetisch=run.synthetic)
    return figuur(fig, alt="Profielen van de buurttypen")


def kaart(run: Run, code: str, *, offline: bool = True) -> Any:
    """The folium map of gemeente ``code`` (indicators, candidates outlined)."""
    from woonvoorraad.report.maps import map_from_buurten

    b = run.buurten_van(code)
    kb = kandidaat_buurten(run, code).rename(columns={"naam": "eenheid_naam"})
    sub = "Woningvoorraad per buurt" + (f" · CBS {run.cbs_jaar}" if run.cbs_jaar else "")
    return map_from_buurten(b, candidates=kb if len(kb) else None,
                            title=f"Gemeente {run.gemeentenaam(code)}", subtitle=sub,
                            synthetic=run.synthetic, offline=offline,
                            tooltip=[c for c in ("typologie_naam",) if c in b.columns])


def sectie_kaart(run: Run, code: str, *, kaart_bestand: str = "", offline: bool = True,
                 hoogte: int = 640) -> Html:
    """The interactive map embedded in the report, with a link to the standalone file."""
    from woonvoorraad.report.maps import map_iframe

    m = kaart(run, code, offline=offline)
    uitleg = ("Kies rechtsboven de indicator waarmee de buurten gekleurd worden; beweeg over "
              "een buurt voor de cijfers. Proeftuinkandidaten hebben een dikke rand. De kaart "
              "werkt zonder internetverbinding.")
    link = ""
    if kaart_bestand:
        safe = esc(Path(kaart_bestand).name)
        link = (f'<p class="wv-voetnoot">Kaart op volledig scherm: <a href="{safe}">'
                f"{safe}</a></p>")
    return Html(f'<div class="wv-sectie">{_p(esc(uitleg))}'
                f"{map_iframe(m, height=hoogte, title='Kaart ' + run.gemeentenaam(code))}"
                f"{link}</div>")


def sectie_bronnen(run: Run) -> Html:
    """Data sources, licences, assumptions, missing statistics and the date stamp."""
    m = run.manifest
    bronnen = m.get("attribution") or []
    inputs = m.get("inputs") or []
    rol = {"bag": "BAG", "buurten": "CBS wijk- en buurtkaart", "cbs": "CBS kerncijfers",
           "labels": "EP-Online", "prognose": "Prognose"}
    inp_rows = pd.DataFrame([{
        "rol": rol.get(str(e.get("role")), str(e.get("role"))),
        "bestand": Path(str(e.get("path", ""))).name,
        "jaar": str(e.get("year")) if e.get("year") else "–",
        "sha": str(e.get("sha256", ""))[:12],
    } for e in inputs])
    start, end = _naoorlogs(run)
    dg = run.config.get("doelgroep") or {}
    pt = run.config.get("proeftuin") or {}
    aannames = [
        f"Naoorlogs: bouwjaar {start}–{end} (oudste bouwjaar van de panden van een woning, "
        "CBS-regel).",
        "Woning: verblijfsobject met woonfunctie en status in gebruik, buiten gebruik of "
        "verbouwing (CBS-definitie).",
        "Woningtype: PBL Vesta-regel van aangrenzende panden.",
        f"Doelgroep: WOZ-grens {fmt_euro(dg.get('woz_grens'))}, variatiecoëfficiënt "
        f"{fmt_getal(dg.get('woz_variatiecoefficient'), 2)}, naoorlogse woningen "
        f"{fmt_getal(dg.get('naoorlogs_woz_factor'), 2)} × buurtgemiddelde WOZ; er is geen "
        "landelijke definitie van een goedkope koopwoning.",
        "Energielabel: laatst geregistreerde label (EP-Online), anders het PBL-standaardlabel "
        "voor woningtype en bouwperiode.",
        f"Proeftuinen: niveau {pt.get('niveau', 'buurt')}, minimaal "
        f"{fmt_aantal(pt.get('min_doelgroep'))} doelgroepwoningen, {pt.get('top_n', 3)} "
        "kandidaten per gemeente." if pt else "Proeftuinen: niet berekend.",
        "Ontbrekende cijfers blijven ontbrekend (n.b.); ze worden nooit als 0 geteld.",
    ]
    missing = m.get("missing_statistics") or {}
    miss_html = ("".join(f"<li>{esc(kolom(c).label)}: {esc(_reden_nl(str(r)))}</li>"
                         for c, r in missing.items())
                 or "<li>Geen: alle indicatoren hebben waarden.</li>")
    notities = ((m.get("analysis") or {}).get("notities") or [])
    not_html = "".join(f"<li>{esc(n)}</li>" for n in notities)
    created = run.created
    stempel = (f"Build gemaakt op {fmt_datum(created)} om {created:%H:%M} UTC"
               if created else "Builddatum onbekend")
    stempel += (f"; rapport gemaakt op {fmt_datum(dt.datetime.now(dt.UTC))} met woonvoorraad "
                f"{__version__}.")
    digest = (m.get("analysis") or {}).get("config_digest")
    if digest:
        stempel += f" Configuratie-digest {digest}."
    parts = [
        "<h3>Bronnen en licenties</h3><ul>"
        + "".join(f"<li>{esc(b)}</li>" for b in bronnen) + "</ul>",
        "<h3>Invoerbestanden</h3>",
        tabel(inp_rows, [("rol", "Bron", "tekst"), ("bestand", "Bestand", "tekst"),
                         ("jaar", "Jaar", "tekst"), ("sha", "SHA-256 (begin)", "tekst")],
              leeg="Geen invoer vastgelegd in manifest.json."),
        "<h3>Aannames</h3><ul>" + "".join(f"<li>{esc(a)}</li>" for a in aannames) + "</ul>",
        f"<h3>Niet beschikbare indicatoren</h3><ul>{miss_html}</ul>",
    ]
    if not_html:
        parts.append(f"<h3>Opmerkingen bij de analyse</h3><ul>{not_html}</ul>")
    if run.synthetic:
        parts.append(f'<p class="wv-nb">{esc(run.data_notice or "")}</p>')
    parts.append(f'<p class="wv-bron" id="datumstempel">{esc(stempel)}</p>')
    return Html(f'<div class="wv-sectie">{"".join(parts)}</div>')


# ---------------------------------------------------------------------------------------------
# HTML export
# ---------------------------------------------------------------------------------------------

_PAGINA_CSS = """
html { background: #eceff3; }
body { margin: 0; }
main.wv-pagina { max-width: 1000px; margin: 24px auto; background: #fff; padding: 28px 44px 36px;
  box-shadow: 0 1px 6px rgba(0,0,0,.12); font-family: "Segoe UI", system-ui, -apple-system,
  Roboto, Helvetica, Arial, sans-serif; color: #1d1d1d; line-height: 1.5; font-size: 15px; }
main.wv-pagina h2 { color: #1f4e79; border-bottom: 1px solid #d5dde8; padding-bottom: 4px;
  margin-top: 34px; font-size: 22px; }
main.wv-pagina h3 { font-size: 17px; margin-bottom: 4px; }
main.wv-pagina a.anchor-link { display: none; }
main.wv-pagina .cell, main.wv-pagina .output_area, main.wv-pagina .output_subarea { padding: 0;
  margin: 0; }
main.wv-pagina .prompt { display: none; }
footer.wv-voet { max-width: 1000px; margin: 0 auto 30px; font: 12px system-ui, sans-serif;
  color: #5a5a5a; padding: 0 44px; }
@media print {
  html { background: #fff; }
  main.wv-pagina { box-shadow: none; margin: 0; max-width: none; padding: 0; }
  main.wv-pagina h2 { break-after: avoid; }
  .wv-figuur, table.wv-tabel, .wv-kandidaat { break-inside: avoid; }
  iframe.wv-kaart { display: none; }
}
"""


def _pagina(titel: str, body: str, *, voet: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="woonvoorraad {esc(__version__)}">'
            f"<title>{esc(titel)}</title><style>{_PAGINA_CSS}{RAPPORT_CSS}</style></head>"
            f'<body><main class="wv-pagina">{body}</main>'
            f'<footer class="wv-voet">{voet}</footer></body></html>\n')


def export_html(notebook: str | Path | Any, *, titel: str) -> str:
    """Export an executed notebook to a standalone HTML page without code cells.

    Uses nbconvert's ``basic`` template with ``exclude_input=True`` (no input cells, no
    prompts) inside a page of our own: no JavaScript and nothing loaded from the network
    (the lab template would load require.js and MathJax from CDNs). Warnings the kernel wrote
    to stderr are left out of the page (they stay in the executed notebook).

    Parameters
    ----------
    notebook
        Path of an ``.ipynb`` file or a notebook node.
    titel
        Page title.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = (nbformat.read(str(notebook), as_version=4) if isinstance(notebook, str | Path)
          else nbformat.from_dict(notebook))
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream"
                                       and o.get("name") == "stderr")]
    exporter = HTMLExporter(template_name="basic", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    voet = ("Gemaakt met woonvoorraad — open source, "
            f"{esc(fmt_datum(dt.datetime.now(dt.UTC)))}")
    return _pagina(titel, body, voet=voet)


# ---------------------------------------------------------------------------------------------
# Batch rendering
# ---------------------------------------------------------------------------------------------


class ReportParameterError(WoonvoorraadError, ValueError):
    """A parameter is not in the report template's ``parameters`` cell."""


class KernelNotFoundError(WoonvoorraadError, LookupError):
    """The Jupyter kernel for the reports is not installed."""


@dataclass
class ReportStatus:
    """Outcome of one gemeente's report.

    Attributes
    ----------
    gemeentecode, gemeentenaam
        The gemeente.
    status
        ``ok``, ``failed`` or ``timeout``; ``pending`` and ``running`` while the run goes on;
        after Ctrl-C or SIGTERM ``interrupted`` (its worker was stopped) or ``cancelled``
        (never started).
    attempts
        Attempts made (at most 1 + retries).
    started, finished
        When the report started and ended (ISO 8601, UTC), None when it did not.
    duration_seconds
        Wall time of all attempts.
    error, error_type
        Last error message and its kind (``notebook`` for an error in a cell, ``timeout``,
        ``worker`` for a crash, or the exception name).
    html, notebook, kaart, log
        Output files relative to the report folder (None when not written).
    kerncijfers
        Key figures of the gemeente (:func:`gemeente_summary`), for the index.
    peak_rss_mb, kernel_peak_rss_mb
        Peak resident memory of the worker process and of its notebook kernel (last attempt).
    """

    gemeentecode: str
    gemeentenaam: str
    status: str = "pending"
    attempts: int = 0
    duration_seconds: float = 0.0
    error: str | None = None
    error_type: str | None = None
    html: str | None = None
    notebook: str | None = None
    kaart: str | None = None
    log: str | None = None
    kerncijfers: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float | None = None
    kernel_peak_rss_mb: float | None = None
    started: str | None = None
    finished: str | None = None


@dataclass
class RunResult:
    """Outcome of :func:`render_reports`.

    Attributes
    ----------
    out_dir
        The report folder.
    index, run_json
        ``index.html`` and ``run.json``.
    reports
        One :class:`ReportStatus` per gemeente.
    elapsed_seconds
        Wall time.
    """

    out_dir: Path
    index: Path
    run_json: Path
    reports: list[ReportStatus]
    elapsed_seconds: float

    @property
    def failed(self) -> list[ReportStatus]:
        """The reports that did not succeed."""
        return [r for r in self.reports if r.status != "ok"]

    @property
    def ok(self) -> bool:
        """True when every report succeeded."""
        return not self.failed


def _install_data_dirs() -> list[str]:
    """Where pip puts a wheel's data files: the environment's prefix, then the user base."""
    import site
    import sysconfig

    dirs = [sysconfig.get_path("data")]
    user = getattr(site, "USER_BASE", None)
    if user and user not in dirs:
        dirs.append(user)
    return dirs


def default_template() -> Path:
    """The report template ``notebooks/templates/gemeente_rapport.ipynb``.

    Looked up as ``$WOONVOORRAAD_TEMPLATE``, else beside the package in a source checkout or
    editable install, else where a wheel installs it (``<prefix>/share/woonvoorraad/templates``,
    also for ``pip install --user``).

    Raises
    ------
    InputError
        The template cannot be found (pass ``template=`` / ``--template``).
    """
    env = os.environ.get("WOONVOORRAAD_TEMPLATE")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "notebooks" / "templates"
                      / "gemeente_rapport.ipynb")
    candidates += [Path(base) / "share" / "woonvoorraad" / "templates" / "gemeente_rapport.ipynb"
                   for base in _install_data_dirs()]
    for c in candidates:
        if c.is_file():
            return c
    raise InputError("report template gemeente_rapport.ipynb not found (looked in "
                     f"{', '.join(str(c) for c in candidates)}); pass --template FILE")


def template_parameters(template: str | Path) -> dict[str, Any]:
    """Names and defaults of the template's ``parameters`` cell (papermill's inspection).

    Raises
    ------
    ReportParameterError
        The template has no cell tagged ``parameters``.
    """
    import papermill as pm

    params = pm.inspect_notebook(str(template))
    if not params:
        raise ReportParameterError(f"{template}: no cell tagged 'parameters'")
    return {name: info.get("default") for name, info in params.items()}


def check_parameters(template: str | Path, parameters: Mapping[str, Any]) -> None:
    """Reject parameters the template does not declare (an error, not papermill's warning).

    Raises
    ------
    ReportParameterError
        Naming the unknown parameters and the known ones.
    """
    known = template_parameters(template)
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ReportParameterError(
            f"unknown report parameter(s) {', '.join(unknown)}; the template "
            f"{Path(template).name} accepts: {', '.join(sorted(known))}")


def ensure_kernel(name: str = KERNEL_NAME, *, install: bool = True) -> str:
    """Make sure the Jupyter kernel ``name`` exists; install the project kernel if missing.

    The project kernel (``woonvoorraad``) is installed into this environment
    (``python -m ipykernel install --sys-prefix --name woonvoorraad``, what ``make`` does);
    other names must exist already.

    Returns
    -------
    str
        The kernel name.

    Raises
    ------
    KernelNotFoundError
        The kernel does not exist and cannot be installed.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec(name)
    except NoSuchKernel:
        spec = None
    if spec is not None:
        exe = spec.argv[0] if spec.argv else ""
        # a bare "python" is looked up on PATH (the runner puts this Python first)
        if not Path(exe).is_absolute() or Path(exe).is_file():
            if (name == KERNEL_NAME and Path(exe).is_absolute()
                    and Path(exe).resolve() != Path(sys.executable).resolve()):
                logger.warning("kernel %s runs %s, not this Python (%s)", name, exe,
                               sys.executable)
            return name
        if name != KERNEL_NAME or not install:
            raise KernelNotFoundError(f"Jupyter kernel {name!r} points to a missing Python "
                                      f"({exe}); reinstall it")
        logger.warning("kernel %s points to a missing Python (%s); reinstalling", name, exe)
    elif name != KERNEL_NAME or not install:
        raise KernelNotFoundError(
            f"Jupyter kernel {name!r} is not installed; install it with "
            f"'{sys.executable} -m ipykernel install --sys-prefix --name {name}' or pass "
            f"--kernel with one of: {', '.join(sorted(ksm.find_kernel_specs()))}")
    from ipykernel.kernelspec import install as install_kernel

    path = install_kernel(kernel_name=name, display_name="woonvoorraad", prefix=sys.prefix)
    logger.info("installed Jupyter kernel %s in %s", name, path)
    return name


def _select(run: Run, gemeenten: Sequence[str] | str | None,
            region: str | None) -> tuple[list[str], str | None]:
    """Resolve the selection to gemeentecodes of the run (and a region name)."""
    if isinstance(gemeenten, str):
        if gemeenten.lower() in ("all", "alle"):
            gemeenten = None
        else:
            from woonvoorraad.sources.gemeenten import REGIONS

            if gemeenten.lower() in REGIONS and region is None:
                region, gemeenten = gemeenten, None
            else:
                gemeenten = [gemeenten]
    codes: list[str] = []
    if region is not None:
        from woonvoorraad.sources.gemeenten import gemeenten_from_region

        wanted = [g.code for g in gemeenten_from_region(region)]
        have = set(run.gemeenten()["gemeentecode"])
        missing = [c for c in wanted if c not in have]
        if missing:
            raise InputError(f"region {region!r}: gemeente(n) {', '.join(missing)} are not in "
                             "this build; build them first", path=run.path)
        codes = wanted
    if gemeenten:
        codes += [run.resolve_gemeente(q) for q in gemeenten]
    if not codes:
        codes = list(run.gemeenten()["gemeentecode"])
    return list(dict.fromkeys(codes)), region


def _stems(run: Run, codes: Sequence[str]) -> dict[str, str]:
    stems: dict[str, str] = {}
    used: set[str] = set()
    for code in codes:
        code_part = re.sub(r"[^A-Za-z0-9]", "", code)[:12] or "x"
        stem = f"{code_part}-{safe_filename(run.gemeentenaam(code))}"
        base, i = stem, 2
        while stem.lower() in used:
            stem, i = f"{base}-{i}", i + 1
        used.add(stem.lower())
        stems[code] = stem
    return stems


def _worker_env() -> dict[str, str]:
    """Environment of a report worker: this Python first on PATH, one thread, no secrets.

    The reports never download anything, so the EP-Online API key (and anything else that
    looks like a key or token) is not passed on: a notebook can then never print it.
    """
    from woonvoorraad import settings

    secret = re.compile(r"(?i)(api[-_]?key|token|secret|password|passwd|credential)")
    env = {k: v for k, v in os.environ.items()
           if k != settings.ep_online_api_key_env and not secret.search(k)}
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env["WOONVOORRAAD_PROGRESS"] = "0"
    # one thread per worker (the workers are the parallelism) and few malloc arenas: no
    # oversubscription of the cores, and a small address space, so that a memory limit
    # (RLIMIT_AS) measures what a report really uses
    for name, value in (("OMP_NUM_THREADS", "1"), ("OPENBLAS_NUM_THREADS", "1"),
                        ("MKL_NUM_THREADS", "1"), ("MALLOC_ARENA_MAX", "2")):
        env.setdefault(name, value)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


#: Seconds a worker and its kernel get after SIGTERM before SIGKILL when the run is stopped
#: (Ctrl-C, SIGTERM); a report that hangs gets the longer grace of :func:`_kill_group`.
_STOP_GRACE = 3.0


class _Stopped(SystemExit):
    """Raised in the runner's main thread by SIGTERM: stop, record, exit with 128 + 15."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class _RunControl:
    """Shared by the runner's threads: once stopped, no worker process starts any more.

    ``start_lock`` is held from the check of ``stopped`` to the start of a worker, so a worker
    either starts before :meth:`stop` (and is then stopped by its thread) or not at all.
    """

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.start_lock = threading.Lock()
        self.reason: str | None = None

    def stop(self, reason: str) -> None:
        with self.start_lock:
            if self.reason is None:
                self.reason = reason
            self.stopped.set()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _proc_table() -> dict[int, tuple[int, int, str]] | None:
    """pid → (ppid, pgid, state) of every process, from /proc; None without /proc."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").is_file():
        return None
    table = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()  # after "pid (comm)": state ppid pgrp ...
        with contextlib.suppress(IndexError, ValueError):
            table[int(entry.name)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def _child_groups(pid: int) -> set[int]:
    """Process groups of the descendants of ``pid`` (a notebook kernel has a session of its
    own, so the worker's process group does not hold it)."""
    table = _proc_table()
    if table is None:  # pragma: no cover - no /proc (macOS): psutil comes with ipykernel
        try:
            import psutil

            kids = [c.pid for c in psutil.Process(pid).children(recursive=True)]
        except Exception:  # best effort: the worker's own group is still killed
            return set()
        groups = set()
        for kid in kids:
            with contextlib.suppress(OSError):
                groups.add(os.getpgid(kid))
        return groups
    children: dict[int, list[int]] = {}
    for p, (ppid, _pgid, _state) in table.items():
        children.setdefault(ppid, []).append(p)
    groups, todo = set(), list(children.get(pid, []))
    while todo:
        p = todo.pop()
        groups.add(table[p][1])
        todo.extend(children.get(p, []))
    return groups


def _group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` runs (zombies, which init reaps, do not count)."""
    table = _proc_table()
    if table is None:  # pragma: no cover - no /proc
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    return any(g == pgid and state not in ("Z", "X") for _pp, g, state in table.values())


def _kill_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Terminate a worker, its process group and the groups of its children (the notebook
    kernel): SIGTERM, then SIGKILL to whatever still runs after ``grace`` seconds."""
    if not hasattr(os, "killpg"):  # pragma: no cover - Windows
        proc.kill()
        proc.wait()
        return
    own = os.getpgrp()  # never the runner's own group
    groups = ({proc.pid} | _child_groups(proc.pid)) - {own}
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for pgid in sorted(groups):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
        if sig == signal.SIGTERM:  # a kernel the worker started while it was being found
            for pgid in _child_groups(proc.pid) - groups - {own}:
                groups.add(pgid)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
        others = groups - {proc.pid}
        while others and time.monotonic() < deadline:
            others = {g for g in others if _group_alive(g)}
            if others:
                time.sleep(0.05)
        if proc.returncode is not None and not others:
            return


def _wait(proc: subprocess.Popen[bytes], timeout: float, stopped: threading.Event) -> int | None:
    """Wait for a worker; its exit code, or None as soon as the run is stopped.

    Raises :class:`subprocess.TimeoutExpired` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not stopped.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            return proc.wait(timeout=min(0.1, left))
    return None


def _attempt(job: dict[str, Any], *, timeout: float, log_path: Path, attempt: int,
             control: _RunControl | None = None) -> dict[str, Any]:
    """Run one worker process for one gemeente; return its result dict.

    ``{"status": "cancelled"}`` when the run was stopped before the worker started;
    ``{"status": "interrupted", …}`` when it was stopped while the worker ran (the worker and
    its kernel are then stopped within :data:`_STOP_GRACE` seconds, plus 5 for SIGKILL).
    """
    control = control or _RunControl()
    job_file = log_path.with_suffix(f".job{attempt}.json")
    result_file = log_path.with_suffix(f".result{attempt}.json")
    result_file.unlink(missing_ok=True)
    write_json_atomic(job_file, {**job, "result": str(result_file)})
    cmd = [sys.executable, "-m", "woonvoorraad.report.reports", "--worker", str(job_file)]
    try:
        with log_path.open("a", encoding="utf-8") as log:
            with control.start_lock:
                if control.stopped.is_set():
                    return {"status": "cancelled", "error_type": "interrupted",
                            "error": f"not started: run stopped by {control.reason}"}
                log.write(f"\n=== attempt {attempt} "
                          f"({dt.datetime.now().isoformat(timespec='seconds')})\n")
                log.flush()
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=_worker_env(),
                                        start_new_session=True)
            try:
                code = _wait(proc, timeout, control.stopped)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return {"status": "timeout", "error_type": "timeout",
                        "error": f"report not finished within {fmt_getal(timeout, 0)} s; "
                                 "stopped"}
            except BaseException:
                _kill_group(proc, grace=2.0)
                raise
            if code is None:
                _kill_group(proc, grace=_STOP_GRACE)
                log.write(f"\n=== stopped: run stopped by {control.reason}\n")
                return {"status": "interrupted", "error_type": "interrupted",
                        "error": f"stopped by {control.reason}"}
        if result_file.is_file():
            return json.loads(result_file.read_text(encoding="utf-8"))
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        return {"status": "failed", "error_type": "worker",
                "error": f"worker exited with code {code}: " + " | ".join(tail)}
    finally:
        job_file.unlink(missing_ok=True)
        result_file.unlink(missing_ok=True)


def _render_one(job: dict[str, Any], status: ReportStatus, *, out_dir: Path, timeout: float,
                retries: int, control: _RunControl | None = None,
                on_start: Callable[[], None] | None = None) -> ReportStatus:
    control = control or _RunControl()
    with control.start_lock:
        if control.stopped.is_set():
            status.status = "cancelled"
            return status
        status.status, status.started = "running", _now()
    log_path = out_dir / "logs" / f"{job['stem']}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("", encoding="utf-8")
    status.log = log_path.relative_to(out_dir).as_posix()
    if on_start is not None:
        on_start()
    started = time.perf_counter()
    res: dict[str, Any] = {}
    for attempt in range(1, retries + 2):
        got = _attempt(job, timeout=timeout, log_path=log_path, attempt=attempt,
                       control=control)
        if got.get("status") == "cancelled":  # stopped before this attempt's worker started
            if attempt == 1:  # no worker ran: as if it never started
                log_path.unlink(missing_ok=True)
                status.status, status.started, status.log = "cancelled", None, None
                return status
            res = {**res, "status": "interrupted", "error_type": "interrupted",
                   "error": f"{got['error']} (attempt {attempt}); attempt {attempt - 1}: "
                            f"{res.get('error')}"}
            break
        res = got
        status.attempts = attempt
        if res.get("status") in ("ok", "interrupted"):
            break
        logger.warning("report %s (%s) attempt %d failed: %s", status.gemeentecode,
                       status.gemeentenaam, attempt, res.get("error"))
    status.duration_seconds = round(time.perf_counter() - started, 2)
    status.finished = _now()
    status.status = res.get("status", "failed")
    status.error = res.get("error")
    status.error_type = res.get("error_type")
    status.peak_rss_mb = res.get("peak_rss_mb")
    status.kernel_peak_rss_mb = res.get("kernel_peak_rss_mb")
    for key in ("html", "notebook", "kaart"):
        p = out_dir / job[key]
        setattr(status, key, job[key] if p.is_file() and (key != "html" or status.status == "ok")
                else None)
    return status


def _write_run_json(path: Path, meta: dict[str, Any], statuses: Sequence[ReportStatus],
                    lock: threading.Lock, *, stopped_by: str | None = None) -> None:
    with lock:
        n_ok = sum(s.status == "ok" for s in statuses)
        done = all(s.status not in ("pending", "running") for s in statuses)
        if stopped_by is not None:
            status = "interrupted"
        else:
            status = ("ok" if n_ok == len(statuses) else "failed") if done else "running"
        data = {**meta, "status": status,
                **({"interrupted_by": stopped_by} if stopped_by is not None else {}),
                "n_reports": len(statuses), "n_ok": n_ok,
                "n_failed": sum(s.status in ("failed", "timeout") for s in statuses),
                "n_interrupted": sum(s.status == "interrupted" for s in statuses),
                "n_cancelled": sum(s.status == "cancelled" for s in statuses),
                "reports": [_json_safe(asdict(s)) for s in statuses]}
        write_json_atomic(path, data)


class _RunState:
    """``run.json`` of a running report run; once the final state is written (after a stop),
    later writes from worker threads are ignored."""

    def __init__(self, path: Path, meta: dict[str, Any], statuses: list[ReportStatus]) -> None:
        self.path, self.meta, self.statuses = path, meta, statuses
        self.lock = threading.Lock()
        self._closed = threading.Event()

    def write(self) -> None:
        if not self._closed.is_set():
            _write_run_json(self.path, self.meta, self.statuses, self.lock)

    def write_stopped(self, reason: str) -> None:
        self._closed.set()
        _write_run_json(self.path, self.meta, self.statuses, self.lock, stopped_by=reason)


def _stop_reason(exc: BaseException) -> str:
    if isinstance(exc, _Stopped):
        return signal.Signals(exc.signum).name
    return "SIGINT" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__


@contextlib.contextmanager
def _signal_handlers(handlers: Mapping[int, Any]) -> Any:
    """Set signal handlers for a block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    try:
        for sig, handler in handlers.items():
            previous[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _on_sigterm(signum: int, _frame: Any) -> None:
    raise _Stopped(signum)


def _stop_handlers() -> dict[int, Any]:
    """SIGTERM stops a report run as Ctrl-C does (unless someone else handles SIGTERM)."""
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        return {signal.SIGTERM: _on_sigterm}
    return {}


def _stop_run(exc: BaseException, control: _RunControl, pool: ThreadPoolExecutor,
              futures: Mapping[Any, ReportStatus], state: _RunState) -> None:
    """Ctrl-C or SIGTERM: start no report, stop the running ones, record the final state."""
    from concurrent.futures import wait

    reason = _stop_reason(exc)

    def again(signum: int, _frame: Any) -> None:
        logger.warning("%s: already stopping", signal.Signals(signum).name)

    with _signal_handlers({signal.SIGINT: again, signal.SIGTERM: again}):
        control.stop(reason)
        running = [st for st in state.statuses if st.status == "running"]
        logger.warning("%s: stopping the report run: no new reports; stopping %d running "
                       "worker(s)", reason, len(running))
        pool.shutdown(wait=False, cancel_futures=True)
        # the threads stop their workers at once: SIGTERM, SIGKILL after the grace (a
        # cancelled future never completes, so wait for the others only)
        wait([f for f in futures if not f.cancelled()], timeout=_STOP_GRACE + 10.0)
        for st in state.statuses:
            if st.status == "pending":
                st.status = "cancelled"
            elif st.status == "running":  # its thread did not return in time
                st.status, st.error_type = "interrupted", "interrupted"
                st.error, st.finished = f"stopped by {reason}", _now()
        state.write_stopped(reason)
        for left in remove_temp_files(state.path.parent):
            logger.debug("removed %s of a stopped report", left)
        n_int = sum(st.status == "interrupted" for st in state.statuses)
        n_can = sum(st.status == "cancelled" for st in state.statuses)
        logger.warning("%s: report run stopped: %d report(s) interrupted, %d not started; "
                       "see %s", reason, n_int, n_can, state.path)


def render_reports(
    processed_dir: str | Path,
    *,
    gemeenten: Sequence[str] | str | None = None,
    region: str | None = None,
    out_dir: str | Path | None = None,
    workers: int = 2,
    timeout: float = 900.0,
    retries: int = 1,
    kernel_name: str | None = None,
    template: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    offline: bool = True,
    start_timeout: float = 120.0,
    memory_limit_mb: float | None = None,
) -> RunResult:
    """Render one report and one map per gemeente, each in its own process.

    Every gemeente runs in a separate worker process (``python -m woonvoorraad.report.reports
    --worker``) that writes the standalone map, executes the template with papermill in its
    own kernel and exports HTML without code cells. At most ``workers`` run at once. A report
    that fails or exceeds ``timeout`` is retried ``retries`` times; a gemeente that still fails
    is recorded and the others go on. ``run.json`` is rewritten (atomically) after every
    report, and ``index.html`` lists every report with its key figures and status.

    Parameters
    ----------
    processed_dir
        Build folder (``manifest.json``, ``buurten.parquet``, …).
    gemeenten
        Codes or names of gemeenten of the build, ``"all"``, or a region preset name; None:
        all gemeenten of the build.
    region
        Region preset (:data:`woonvoorraad.sources.gemeenten.REGIONS`); its gemeenten must be in
        the build.
    out_dir
        Report folder; default ``reports/<region or build folder name>``.
    workers
        Reports rendered at the same time.
    timeout
        Seconds per report (per attempt) before its process group is stopped.
    retries
        Extra attempts for a failed report.
    kernel_name
        Jupyter kernel; default ``woonvoorraad`` (installed into this environment if missing).
    template
        Report template; default :func:`default_template`.
    parameters
        Extra template parameters (e.g. ``{"max_kandidaten": 3}``); unknown names are an error.
    offline
        Inline Leaflet in maps and reports (True) or load it from a CDN.
    start_timeout
        Seconds to wait for a kernel to start.
    memory_limit_mb
        Address-space limit (``RLIMIT_AS``) of each worker and of its kernel, in MiB; a report
        that needs more fails with a ``MemoryError`` (recorded in ``run.json``) and the others
        go on. None: no limit.

    Returns
    -------
    RunResult

    Raises
    ------
    InputError
        The build folder is unusable or a gemeente is not in it.
    ReportParameterError
        A parameter is not declared by the template.
    KernelNotFoundError
        The kernel is missing.
    KeyboardInterrupt, SystemExit
        Ctrl-C (``KeyboardInterrupt``) or, when called in the main thread, SIGTERM
        (``SystemExit(143)``): no report starts any more, the running workers and their
        kernels are stopped (SIGTERM, SIGKILL after a few seconds), ``run.json`` records the
        run as ``interrupted`` (each report ``interrupted`` or ``cancelled``), then the
        exception goes on; ``index.html`` is left as it was.
    """
    started = time.perf_counter()
    run = load_run(processed_dir, geometry_for=_NO_POLYGONS)  # the runner needs no polygons
    codes, region = _select(run, gemeenten, region)
    tpl = Path(template) if template is not None else default_template()
    if not tpl.is_file():
        raise InputError("report template not found", path=tpl)
    extra = dict(parameters or {})
    reserved = {"gemeente_code", "data_dir", "kaart_bestand"} & set(extra)
    if reserved:
        raise ReportParameterError(f"parameter(s) {', '.join(sorted(reserved))} are set by "
                                   "the runner")
    check_parameters(tpl, {"gemeente_code": "", "data_dir": "", "kaart_bestand": "",
                           "offline": offline, **extra})
    kernel = ensure_kernel(kernel_name or KERNEL_NAME)
    folder = Path(out_dir) if out_dir is not None else Path("reports") / safe_filename(
        region or run.naam)
    # two report runs into one folder would overwrite each other's notebooks, logs and
    # run.json: the second one stops at once with a clear message. The lock is taken on the
    # folder as given, before any work: it makes the folder, and a file or a dangling or
    # looping link there, a read-only folder or a symlinked lock file stop with OutputError
    folder_lock = FolderLock(folder, name=REPORT_LOCK_NAME, what="woonvoorraad report run")
    folder_lock.acquire()
    folder = folder.resolve()
    polygons = folder / POLYGONS_NAME
    try:
        for left in remove_temp_files(folder):  # of a report run that was killed
            logger.info("removed %s, left by an interrupted report run", left)
        snapshot = build_snapshot(run.path)
        _write_polygons_apart(run.path, polygons)
        workers = max(1, int(workers))
        stems = _stems(run, codes)
        statuses = []
        jobs = []
        for code in codes:
            stem = stems[code]
            st = ReportStatus(gemeentecode=code, gemeentenaam=run.gemeentenaam(code),
                              kerncijfers=_json_safe(gemeente_summary(run, code)))
            statuses.append(st)
            job = {
                "code": code, "naam": st.gemeentenaam, "stem": stem, "data_dir": str(run.path),
                "template": str(tpl.resolve()), "kernel": kernel, "out_dir": str(folder),
                "html": f"{stem}.html", "notebook": f"{stem}.ipynb", "kaart": f"{stem}-kaart.html",
                "parameters": {"gemeente_code": code, "data_dir": str(run.path),
                               "kaart_bestand": f"{stem}-kaart.html", "offline": offline, **extra},
                "cell_timeout": timeout, "start_timeout": start_timeout, "offline": offline,
                "memory_limit_mb": memory_limit_mb, "polygons": str(polygons),
                "build_snapshot": snapshot,
            }
            for key in ("html", "notebook", "kaart"):  # no way out of the report folder
                target = (folder / job[key]).resolve()
                if target.parent != folder:
                    raise InputError(f"unsafe output name {job[key]!r}")
            jobs.append(job)
        meta = {
            "tool": "woonvoorraad", "version": __version__,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "processed_dir": str(run.path), "synthetic": run.synthetic, "region": region,
            "template": str(tpl.resolve()), "kernel": kernel, "workers": workers,
            "timeout_seconds": timeout, "retries": retries, "offline": offline,
        "memory_limit_mb": memory_limit_mb,
            "parameters": _json_safe(extra),
        }
        run_json = folder / "run.json"
        state = _RunState(run_json, meta, statuses)
        # Ctrl-C (KeyboardInterrupt) or SIGTERM: no report starts any more, the running
        # workers and their kernels are stopped, run.json gets its final state; then the
        # exception goes on (the command exits with 130, or 143 for SIGTERM)
        control = _RunControl()
        with _signal_handlers(_stop_handlers()):
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rapport")
            futures: dict[Any, ReportStatus] = {}
            try:
                state.write()
                logger.info("rendering %d report(s) into %s with %d worker(s)", len(jobs),
                            folder, workers)
                for job, st in zip(jobs, statuses, strict=True):
                    futures[pool.submit(_render_one, job, st, out_dir=folder, timeout=timeout,
                                        retries=retries, control=control,
                                        on_start=state.write)] = st
                for fut in as_completed(futures):
                    st = futures[fut]
                    try:
                        fut.result()
                    except Exception as exc:  # the runner itself failed for this gemeente
                        logger.exception("report %s: runner error", st.gemeentecode)
                        st.status, st.error, st.error_type = ("failed", str(exc),
                                                              type(exc).__name__)
                    logger.info("report %s (%s): %s in %.1f s", st.gemeentecode,
                                st.gemeentenaam, st.status, st.duration_seconds)
                    state.write()
            except (KeyboardInterrupt, SystemExit) as exc:
                meta["elapsed_seconds"] = round(time.perf_counter() - started, 2)
                _stop_run(exc, control, pool, futures, state)
                raise
            finally:
                pool.shutdown(wait=True)
        elapsed = round(time.perf_counter() - started, 2)
        meta["elapsed_seconds"] = elapsed
        state.write()
        index = write_text_atomic(folder / "index.html",
                                  index_html(run, statuses, region=region, created=meta["created"]))
        result = RunResult(out_dir=folder, index=index, run_json=run_json, reports=statuses,
                           elapsed_seconds=elapsed)
        logger.info("%d of %d report(s) ok in %.1f s; index: %s",
                    len(statuses) - len(result.failed), len(statuses), elapsed, index)
        return result
    finally:
        polygons.unlink(missing_ok=True)
        folder_lock.release()


def index_html(run: Run, statuses: Sequence[ReportStatus], *, region: str | None = None,
               created: str | None = None) -> str:
    """The index page: every report with its key figures and status."""
    status_nl = {"ok": "gereed", "failed": "mislukt", "timeout": "te lang", "pending": "bezig"}
    rows = []
    for st in statuses:
        k = st.kerncijfers
        naam = esc(st.gemeentenaam)
        if st.html:
            naam = f'<a href="{esc(st.html)}">{naam}</a>'
        links = []
        if st.kaart:
            links.append(f'<a href="{esc(st.kaart)}">kaart</a>')
        if st.notebook:
            links.append(f'<a href="{esc(st.notebook)}">notebook</a>')
        if st.log and st.status != "ok":
            links.append(f'<a href="{esc(st.log)}">log</a>')
        stat = esc(status_nl.get(st.status, st.status))
        if st.status != "ok" and st.error:
            stat += f'<br><span class="wv-voetnoot">{esc(st.error[:300])}</span>'
        cls = "" if st.status == "ok" else ' class="wv-nadruk"'
        rows.append(
            f"<tr{cls}><td>{naam}<br><span class=\"wv-voetnoot\">{esc(st.gemeentecode)}"
            f"</span></td>"
            f'<td class="wv-num">{esc(fmt_aantal(k.get("n_woningen")))}</td>'
            f'<td class="wv-num">{esc(fmt_aantal(k.get("n_naoorlogs")))}</td>'
            f'<td class="wv-num">{esc(fmt_pct(k.get("aandeel_naoorlogs")))}</td>'
            f'<td class="wv-num">{esc(fmt_aantal(k.get("n_doelgroep")))}</td>'
            f'<td class="wv-num">{esc(fmt_pct(k.get("aandeel_label_efg")))}</td>'
            f'<td class="wv-num">{esc(fmt_aantal(k.get("n_kandidaten")))}'
            f'{" (voorlopig)" if k.get("n_kandidaten_voorlopig") else ""}</td>'
            f"<td>{stat}</td><td>{' · '.join(links)}</td></tr>")
    if len(statuses) > 1:
        tot = _json_safe(gemeente_summary(run, None))
        label = ("Alle gemeenten in de build" if len(statuses) < len(run.gemeenten())
                 else "Totaal")
        rows.append(
            f'<tr class="wv-totaal"><td><strong>{esc(label)}</strong></td>'
            f'<td class="wv-num">{esc(fmt_aantal(tot.get("n_woningen")))}</td>'
            f'<td class="wv-num">{esc(fmt_aantal(tot.get("n_naoorlogs")))}</td>'
            f'<td class="wv-num">{esc(fmt_pct(tot.get("aandeel_naoorlogs")))}</td>'
            f'<td class="wv-num">{esc(fmt_aantal(tot.get("n_doelgroep")))}</td>'
            f'<td class="wv-num">{esc(fmt_pct(tot.get("aandeel_label_efg")))}</td>'
            f'<td class="wv-num">{esc(fmt_aantal(tot.get("n_kandidaten")))}</td>'
            "<td></td><td></td></tr>")
    n_ok = sum(s.status == "ok" for s in statuses)
    titel = "Rapporten woningvoorraad" + (f" — {region}" if region else f" — {run.naam}")
    head = ("<tr><th>Gemeente</th><th class=\"wv-num\">Woningen</th>"
            "<th class=\"wv-num\">Naoorlogs</th><th class=\"wv-num\">% naoorlogs</th>"
            "<th class=\"wv-num\">Doelgroep (geschat)</th><th class=\"wv-num\">% label E/F/G</th>"
            "<th class=\"wv-num\">Kandidaten</th><th>Status</th><th>Ook</th></tr>")
    when = fmt_datum(created) if created else fmt_datum(dt.datetime.now(dt.UTC))
    body = (f"{synthetisch_banner(run)}<header class=\"wv-titel\"><div class=\"wv-reeks\">"
            "Woningvoorraad · naoorlogse koopwoningen</div>"
            f"<h1>{esc(titel)}</h1><p class=\"wv-sub\">{n_ok} van {len(statuses)} rapporten "
            f"gereed · gemaakt op {esc(when)}</p></header>"
            f'<table class="wv-tabel"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
            "</table>"
            '<p class="wv-voetnoot">Elk rapport is een losse HTML-pagina die zonder '
            "internetverbinding werkt; de kaart staat erin en ook als apart bestand. Status en "
            "foutmeldingen per gemeente staan in run.json. Bronnen: BAG (Kadaster), CBS "
            "(CC BY 4.0), EP-Online (RVO), PBL Vesta MAIS kentallen 2024. "
            f"{NA} = niet beschikbaar.</p>")
    return _pagina(titel, body, voet=f"woonvoorraad {esc(__version__)} · build "
                                     f"{esc(str(run.path))}")


# ---------------------------------------------------------------------------------------------
# Worker (one gemeente, in its own process)
# ---------------------------------------------------------------------------------------------


def _publish_notebook(tmp: Path, final: Path) -> None:
    """Move an executed notebook into place if it is a complete notebook, else drop it.

    A failed run still publishes its notebook (it shows the error in the failing cell); a
    notebook that papermill did not finish writing never gets the final name.
    """
    if not tmp.is_file():
        return
    try:
        complete = isinstance(json.loads(tmp.read_text(encoding="utf-8"))["cells"], list)
    except (OSError, ValueError, KeyError, TypeError):
        complete = False
    if not complete:
        tmp.unlink(missing_ok=True)
        return
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


def _worker(job_file: str | Path) -> int:
    """Render the map and the report of one gemeente; write a result JSON. Exit code 0 = ok."""
    from woonvoorraad._log import configure_logging

    configure_logging(0)
    logging.getLogger("papermill").setLevel(logging.INFO)
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    out = Path(job["out_dir"])
    result: dict[str, Any] = {"status": "failed"}
    t0 = time.perf_counter()
    _limit_memory(job.get("memory_limit_mb"))
    try:
        from woonvoorraad.report.maps import save_map

        check_build_snapshot(job["data_dir"], job.get("build_snapshot"))
        # this process and the kernel it starts read the polygons of this gemeente only
        os.environ[GEOMETRY_ENV] = job["code"]
        if job.get("polygons"):
            os.environ[GEOMETRY_FILE_ENV] = job["polygons"]
        run = load_run(job["data_dir"], geometry_for=job["code"], polygons=job.get("polygons"))
        m = kaart(run, job["code"], offline=bool(job.get("offline", True)))
        save_map(m, out / job["kaart"])
        result["kaart_bytes"] = (out / job["kaart"]).stat().st_size

        import papermill as pm

        nb_final = out / job["notebook"]
        fd, tmp_name = tempfile.mkstemp(prefix=f".{job['notebook']}.", suffix=".part.ipynb",
                                        dir=out)
        os.close(fd)
        nb_tmp = Path(tmp_name)
        nb_tmp.unlink()  # a unique hidden name; papermill creates the file
        with tempfile.TemporaryDirectory(prefix="woonvoorraad-rapport-") as cwd:
            try:
                pm.execute_notebook(
                    job["template"], str(nb_tmp), parameters=job["parameters"],
                    kernel_name=job["kernel"], progress_bar=False, log_output=False,
                    start_timeout=int(job.get("start_timeout", 120)),
                    execution_timeout=int(job["cell_timeout"]), cwd=cwd, report_mode=True)
            finally:
                _publish_notebook(nb_tmp, nb_final)
        page = export_html(nb_final, titel=f"Woningvoorraad gemeente {job['naam']}")
        write_text_atomic(out / job["html"], page)
        result = {"status": "ok", "kaart_bytes": result["kaart_bytes"],
                  "html_bytes": (out / job["html"]).stat().st_size}
    except Exception as exc:
        ename = type(exc).__name__
        if ename == "PapermillExecutionError":
            result = {"status": "failed", "error_type": "notebook",
                      "error": f"{exc.ename}: {exc.evalue} (cel {exc.exec_count})"}  # type: ignore[attr-defined]
        else:
            result = {"status": "failed", "error_type": ename, "error": str(exc) or ename}
        logger.error("report %s failed: %s", job.get("code"), result["error"])
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result.update(_peak_rss())
    write_json_atomic(job["result"], result)
    return 0 if result["status"] == "ok" else 1


def _limit_memory(limit_mb: float | None) -> None:
    """Cap this process's address space (the kernel it starts inherits the cap)."""
    if not limit_mb:
        return
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        logger.warning("memory limit ignored: no resource module on this platform")
        return
    limit = int(float(limit_mb) * 2**20)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    logger.info("memory limit of this report: %.0f MiB (address space)", limit / 2**20)


def _peak_rss() -> dict[str, float]:
    """Peak resident memory (MiB) of this worker and of its finished children (the kernel).

    The worker's own peak is ``VmHWM`` (``ru_maxrss`` would include the runner's memory, which
    a freshly forked process counts until it execs); the kernel's is ``ru_maxrss`` of the
    children, an upper bound for the same reason (at least the worker's size when it forked).
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return {}
    unit = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
    return {"peak_rss_mb": round(own, 1),
            "kernel_peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * unit, 1)}


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip(), parsed


def _cmd_report(args: argparse.Namespace) -> int:
    from woonvoorraad import settings

    data = args.data or Path(settings.data_dir) / "processed" / "demo"
    if args.all and (args.gemeente or args.region):
        raise SystemExit("woonvoorraad report: --all cannot be combined with --gemeente or "
                         "--region")
    if not (args.all or args.gemeente or args.region):
        raise SystemExit("woonvoorraad report: choose --gemeente NAME|CODE, --region NAME or "
                         "--all")
    result = render_reports(
        data, gemeenten=args.gemeente or None, region=args.region, out_dir=args.out,
        workers=args.workers, timeout=args.timeout, retries=args.retries,
        kernel_name=args.kernel, template=args.template, parameters=dict(args.param),
        offline=not args.cdn, memory_limit_mb=args.memory_limit,
    )
    from woonvoorraad._text import printable

    for st in result.reports:  # names and errors come from the data: no control characters
        mark = "ok " if st.status == "ok" else "FOUT"
        line = f"  {mark} {st.gemeentecode} {st.gemeentenaam} ({st.duration_seconds:.0f} s)"
        if st.status != "ok":
            line += f": {st.error}"
        print(printable(line))
    n_fail = len(result.failed)
    print(printable(f"{len(result.reports) - n_fail} of {len(result.reports)} report(s) ok; "
                    f"index: {result.index}"))
    return 1 if n_fail else 0


def register_cli(subparsers: Any) -> None:
    """Add the ``report`` subcommand to the ``woonvoorraad`` command."""
    from woonvoorraad.cli import _add_common

    p = subparsers.add_parser(
        "report", help="render a Dutch HTML report and map per gemeente",
        description="Render one HTML report (without code) and one offline map per gemeente "
                    "from a build folder, each in its own process, plus index.html and "
                    "run.json. Exits with 1 if any report failed, 2 on bad input.")
    sel = p.add_argument_group("which gemeenten")
    sel.add_argument("--gemeente", action="append", default=[], metavar="NAME|CODE",
                     help="gemeente of the build (repeatable)")
    sel.add_argument("--region", metavar="NAME",
                     help="region preset, e.g. regiodeal-zuid-oost-drenthe")
    sel.add_argument("--all", action="store_true", help="every gemeente of the build")
    p.add_argument("--data", type=Path, metavar="DIR",
                   help="build folder (default: <data-dir>/processed/demo)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report folder (default: reports/<region or build name>)")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="reports rendered in parallel (default 2)")
    p.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS",
                   help="time limit per report and attempt (default 900)")
    p.add_argument("--retries", type=int, default=1, metavar="N",
                   help="extra attempts for a failed report (default 1)")
    p.add_argument("--kernel", metavar="NAME", help=f"Jupyter kernel (default {KERNEL_NAME})")
    p.add_argument("--template", type=Path, metavar="FILE", help="report template notebook")
    p.add_argument("-p", "--param", action="append", default=[], type=_parse_param,
                   metavar="KEY=VALUE",
                   help="template parameter (JSON value or text); unknown names are an error")
    p.add_argument("--memory-limit", type=float, default=None, metavar="MIB",
                   help="address-space limit per report worker and its kernel, in MiB; a "
                        "report over it fails alone (default: none)")
    p.add_argument("--cdn", action="store_true",
                   help="load Leaflet from a CDN instead of inlining it (smaller files, "
                        "needs internet)")
    _add_common(p)
    p.set_defaults(func=_cmd_report)


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m woonvoorraad.report.reports")
    parser.add_argument("--worker", metavar="JOB", required=True,
                        help="render one report from a job file (used by render_reports)")
    args = parser.parse_args(argv)
    return _worker(args.worker)


if __name__ == "__main__":  # pragma: no cover - worker entry point
    sys.exit(_main())
