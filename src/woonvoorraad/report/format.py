"""Dutch formatting of the reports and maps, and the one column catalogue.

Dutch number, amount and date formats (``1.234``, ``12,5%``, ``€ 215.000``), HTML escaping of
every value taken from the data (:func:`esc`), safe file names, and :data:`KOLOMMEN`: how each
column of the buurten table is labelled, formatted and coloured (:class:`Kolom`), used by the
report sections, the charts and the maps alike.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Text shown for a value that is not available.
NA = "n.b."


_MAANDEN = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
            "september", "oktober", "november", "december")


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


def _group_thousands(digits: str) -> str:
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
    return sign + _group_thousands(whole) + ("," + frac if frac else "")


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


def fmt_schatting(waarde: Any, laag: Any, hoog: Any, formaat: str = "aantal", *,
                  na: str = NA) -> str:
    """An estimate with its low–high range, ``"168 (103–236)"``; the estimate alone when the
    range is unknown.

    Examples
    --------
    >>> fmt_schatting(168, 103.4, 236), fmt_schatting(168, None, 236)
    ('168 (103–236)', '168')
    >>> fmt_schatting(None, 1, 2, na="onbekend"), fmt_schatting(0.25, 0.2, 0.3, "aandeel")
    ('onbekend', '25,0% (20,0%–30,0%)')
    """
    if is_missing(waarde):
        return na
    tekst = fmt_waarde(waarde, formaat, na=na)
    if is_missing(laag) or is_missing(hoog):
        return tekst
    return f"{tekst} ({fmt_waarde(laag, formaat)}–{fmt_waarde(hoog, formaat)})"


def schattingen(frame: pd.DataFrame, kolom: str, formaat: str = "aantal", *,
                na: str = NA) -> list[str]:
    """:func:`fmt_schatting` for every row of ``kolom``, with ``<kolom>_laag`` and
    ``<kolom>_hoog`` as the range when the frame has them (all ``na`` without ``kolom``)."""
    if kolom not in frame.columns:
        return [na] * len(frame)
    geen = [None] * len(frame)
    laag = frame[f"{kolom}_laag"] if f"{kolom}_laag" in frame.columns else geen
    hoog = frame[f"{kolom}_hoog"] if f"{kolom}_hoog" in frame.columns else geen
    return [fmt_schatting(w, a, b, formaat, na=na)
            for w, a, b in zip(frame[kolom], laag, hoog, strict=True)]


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
    """How a column is shown: Dutch label, value format, colour map and classes for maps.

    The one catalogue of the reports, the charts and the maps (:data:`KOLOMMEN`); a map draws
    any :class:`Kolom` as a choropleth (:func:`woonvoorraad.report.maps.map_from_buurten`).

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
    schema
        How a map classifies the values: ``"fisherjenks"``, ``"quantiles"``,
        ``"equalinterval"`` or ``"vast"`` (fixed bins 0.2, 0.4, … 1.0, the default for scores,
        so maps of different gemeenten compare).
    k
        Number of map classes.
    """

    naam: str
    label: str
    formaat: str
    cmap: str = "YlOrRd"
    uitleg: str = ""
    schema: str = "fisherjenks"
    k: int = 5


def _kolom(naam: str, label: str, formaat: str, cmap: str = "YlOrRd", uitleg: str = "") -> Kolom:
    schema = "vast" if formaat == "score" else "fisherjenks"
    return Kolom(naam, label, formaat, cmap, uitleg, schema)


#: Dutch labels and formats of the columns the reports and maps show.
KOLOMMEN: dict[str, Kolom] = {k.naam: k for k in (
    _kolom("buurtcode", "Buurtcode", "tekst"),
    _kolom("buurtnaam", "Buurt", "tekst"),
    _kolom("wijkcode", "Wijkcode", "tekst"),
    _kolom("wijknaam", "Wijk", "tekst"),
    _kolom("gemeentecode", "Gemeentecode", "tekst"),
    _kolom("gemeentenaam", "Gemeente", "tekst"),
    _kolom("n_woningen", "Woningen (BAG)", "aantal", "Greys"),
    _kolom("n_naoorlogs", "Naoorlogse woningen", "aantal", "Oranges"),
    _kolom("n_naoorlogs_1945_1964", "Woningen 1945–1964", "aantal", "Oranges"),
    _kolom("n_naoorlogs_1965_1974", "Woningen 1965–1974", "aantal", "Oranges"),
    _kolom("aandeel_naoorlogs", "Aandeel naoorlogs", "aandeel", "Oranges",
           "woningen gebouwd in de naoorlogse periode / alle woningen"),
    _kolom("n_eengezins", "Eengezinswoningen", "aantal", "Greys"),
    _kolom("n_eengezins_voor_1975", "Eengezinswoningen vóór 1975", "aantal", "Greys"),
    _kolom("aandeel_eengezins_voor_1975", "Aandeel eengezins vóór 1975", "aandeel", "Purples"),
    _kolom("n_meergezins", "Meergezinswoningen", "aantal", "Greys"),
    _kolom("n_bouwjaar_onbekend", "Bouwjaar onbekend", "aantal", "Greys"),
    _kolom("mediaan_bouwjaar", "Mediaan bouwjaar", "jaar", "viridis"),
    _kolom("gemiddelde_oppervlakte", "Gem. oppervlakte (m²)", "getal0", "Greys"),
    _kolom("n_label_geregistreerd", "Geregistreerde labels", "aantal", "Greens"),
    _kolom("label_dekking", "Labeldekking (geregistreerd)", "aandeel", "Greens",
           "aandeel woningen met een geregistreerd energielabel (EP-Online)"),
    _kolom("n_label_efg", "Woningen label E/F/G", "aantal", "YlOrRd"),
    _kolom("aandeel_label_efg", "Aandeel label E/F/G", "aandeel", "YlOrRd",
           "verwacht aandeel: geregistreerde labels plus de kansen van de geschatte labels"),
    _kolom("aandeel_label_efg_geregistreerd", "Aandeel E/F/G (alleen geregistreerd)", "aandeel",
           "YlOrRd"),
    _kolom("aantal_inwoners", "Inwoners", "aantal", "Greys"),
    _kolom("aantal_huishoudens", "Huishoudens", "aantal", "Greys"),
    _kolom("gemiddelde_huishoudsgrootte", "Gem. huishoudensgrootte", "getal", "Greys"),
    _kolom("aandeel_65plus", "Aandeel 65-plussers", "aandeel", "PuRd"),
    _kolom("woningvoorraad_cbs", "Woningvoorraad (CBS)", "aantal", "Greys"),
    _kolom("woz_gemiddeld", "Gemiddelde WOZ-waarde", "euro", "Blues"),
    _kolom("aandeel_koop", "Aandeel koopwoningen", "aandeel", "Blues"),
    _kolom("aandeel_huur", "Aandeel huurwoningen", "aandeel", "Blues"),
    _kolom("aandeel_corporatie", "Aandeel corporatiewoningen", "aandeel", "Blues"),
    _kolom("aandeel_eengezins_cbs", "Aandeel eengezins (CBS)", "aandeel", "Blues"),
    _kolom("gasverbruik_gemiddeld", "Gem. gasverbruik (m³)", "getal0", "YlOrRd"),
    _kolom("inkomen_per_inwoner", "Inkomen per inwoner", "euro", "Blues"),
    _kolom("inkomen_huishouden_geschat", "Inkomen per huishouden (geschat)", "euro", "Blues"),
    _kolom("aandeel_laag_inkomen", "Huishoudens met laag inkomen", "aandeel", "PuRd"),
    _kolom("aandeel_sociaal_minimum", "Huishoudens rond sociaal minimum", "aandeel", "PuRd"),
    _kolom("cbs_jaar", "CBS-jaar", "jaar"),
    _kolom("trend_inwoners", "Trend inwoners (per jaar)", "trend", "RdBu"),
    _kolom("trend_huishoudens", "Trend huishoudens (per jaar)", "trend", "RdBu"),
    _kolom("trend_65plus", "Trend aandeel 65+ (per jaar)", "trend", "PuRd"),
    _kolom("n_doelgroep", "Doelgroep (geschat aantal)", "aantal", "Purples",
           "naoorlogse koopwoningen met een WOZ onder de grens waarvan de eigenaar een "
           "inkomen onder de DAEB-grens heeft (schatting, met bereik)"),
    _kolom("n_doelgroep_laag", "Doelgroep, laag", "aantal", "Purples"),
    _kolom("n_doelgroep_hoog", "Doelgroep, hoog", "aantal", "Purples"),
    _kolom("aandeel_doelgroep", "Aandeel doelgroep", "aandeel", "Purples",
           "doelgroepwoningen / alle woningen"),
    _kolom("aandeel_doelgroep_naoorlogs", "Doelgroep / naoorlogse woningen", "aandeel",
           "Purples"),
    _kolom("n_goedkoop_koop", "Goedkope naoorlogse koopwoningen", "aantal", "Purples",
           "naoorlogse koopwoningen met een WOZ onder de grens, elk inkomen (schatting)"),
    _kolom("n_goedkoop_koop_laag", "Goedkope koop, laag", "aantal", "Purples"),
    _kolom("n_goedkoop_koop_hoog", "Goedkope koop, hoog", "aantal", "Purples"),
    _kolom("inkomen_eigenaren_geschat", "Inkomen eigenaar-bewoners (geschat)", "euro",
           "Blues", "gemiddeld bruto huishoudinkomen van eigenaar-bewoners (schatting)"),
    _kolom("aandeel_eigenaren_onder_daeb", "Eigenaren onder DAEB-grens", "aandeel", "PuRd",
           "geschat aandeel eigenaar-bewoners met een inkomen onder de DAEB-grens"),
    _kolom("woz_grens", "WOZ-grens goedkoop", "euro"),
    _kolom("woonplaats", "Woonplaats", "tekst"),
    _kolom("woz_t_o_v_mediaan", "WOZ t.o.v. mediaan gemeente", "getal", "Blues"),
    _kolom("inkomen_t_o_v_daeb", "Inkomen t.o.v. DAEB-grens", "getal", "Blues"),
    _kolom("energiebehoefte", "Energiebehoefte (score)", "score", "YlOrRd",
           "0 = geen, 1 = grote opgave: labels E/F/G, naoorlogse bouw, gasverbruik"),
    _kolom("levensloopbehoefte", "Levensloopbehoefte (score)", "score", "PuRd",
           "0 = geen, 1 = grote opgave: 65-plussers, oude eengezinswoningen, kleine huishoudens"),
    _kolom("financiele_ruimte", "Financiële ruimte (score)", "score", "Blues",
           "0 = weinig, 1 = veel ruimte: WOZ, inkomen, weinig lage inkomens"),
    _kolom("doelgroepconcentratie", "Doelgroepconcentratie (score)", "score", "Purples",
           "0 = geen, 1 = veel doelgroepwoningen"),
    _kolom("demografische_druk", "Demografische druk (score)", "score", "Oranges",
           "0 = geen, 1 = sterke krimp en vergrijzing"),
    _kolom("proeftuinscore", "Proeftuinscore", "score", "YlOrBr",
           "gewogen combinatie van de scores; hoger = betere proeftuinkandidaat"),
    _kolom("typologie_naam", "Buurttype", "tekst"),
    _kolom("typologie_cluster", "Buurttype (nr.)", "getal0"),
    _kolom("investering_naar_b_laag", "Investering naar label B (laag)", "euro_kort", "Reds",
           "alle woningen onder B (C t/m G), verwachting over de labelkansen; PBL-kentallen"),
    _kolom("investering_naar_b_hoog", "Investering naar label B (hoog)", "euro_kort", "Reds",
           "alle woningen onder B (C t/m G), verwachting over de labelkansen; PBL-kentallen"),
    _kolom("investering_naar_c", "Investering naar label C", "euro_kort", "Reds",
           "woningen onder C (D t/m G); PBL geeft voor stappen naar C één bedrag"),
    _kolom("investering_efg_naar_b_laag", "Investering E/F/G naar B (laag)", "euro_kort",
           "Reds", "alleen woningen met label E, F of G (landelijke programma's)"),
    _kolom("investering_efg_naar_b_hoog", "Investering E/F/G naar B (hoog)", "euro_kort",
           "Reds", "alleen woningen met label E, F of G (landelijke programma's)"),
    _kolom("investering_efg_naar_c", "Investering E/F/G naar C", "euro_kort", "Reds"),
    _kolom("investering_naar_b_laag_naoorlogs", "Naoorlogs naar B (laag)", "euro_kort",
           "Reds"),
    _kolom("investering_naar_b_hoog_naoorlogs", "Naoorlogs naar B (hoog)", "euro_kort",
           "Reds"),
    _kolom("n_onder_b_verwacht", "Woningen onder label B (verwacht)", "getal0", "YlOrRd",
           "som van de kansen op label C t/m G"),
    _kolom("n_onder_c_verwacht", "Woningen onder label C (verwacht)", "getal0", "YlOrRd",
           "som van de kansen op label D t/m G"),
    _kolom("n_label_efg_verwacht", "Woningen E/F/G (verwacht)", "getal0", "YlOrRd",
           "som van de kansen op label E, F of G"),
    _kolom("aandeel_label_efg_verwacht", "Aandeel label E/F/G (verwacht)", "aandeel", "YlOrRd",
           "geregistreerde labels plus de kansen van de geschatte labels"),
    _kolom("aandeel_label_efg_verwacht_naoorlogs", "Aandeel E/F/G naoorlogs (verwacht)",
           "aandeel", "YlOrRd", "verwacht aandeel E/F/G onder de naoorlogse woningen"),
    _kolom("aandeel_label_efg_naoorlogs_p05", "E/F/G naoorlogs, ondergrens 90%", "aandeel",
           "YlOrRd"),
    _kolom("aandeel_label_efg_naoorlogs_p95", "E/F/G naoorlogs, bovengrens 90%", "aandeel",
           "YlOrRd"),
    _kolom("aandeel_label_geschat", "Aandeel geschatte labels", "aandeel", "Greys",
           "woningen zonder geregistreerd label (label geschat door model of PBL)"),
)}


def describe_column(naam: str) -> Kolom:
    """Return how column ``naam`` is shown (a generic entry for unknown columns).

    Examples
    --------
    >>> describe_column("woz_gemiddeld").label, describe_column("iets_anders").label
    ('Gemiddelde WOZ-waarde', 'Iets anders')
    """
    if naam in KOLOMMEN:
        return KOLOMMEN[naam]
    if naam.startswith("score_") and naam[6:] in KOLOMMEN:
        return replace(KOLOMMEN[naam[6:]], naam=naam)
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


def fmt_bereik(laag: Any, hoog: Any, formaat: str = "euro_kort") -> str:
    """Format a range ``laag – hoog``; a single value when both are the same.

    Examples
    --------
    >>> fmt_bereik(1.2e6, 3.4e6), fmt_bereik(5e6, 5e6)
    ('€ 1,2 mln – € 3,4 mln', '€ 5,0 mln')
    """
    a, b = fmt_waarde(laag, formaat), fmt_waarde(hoog, formaat)
    return a if a == b else f"{a} – {b}"
