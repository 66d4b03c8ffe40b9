"""Gemeenten: find one by name or code, and the study-area presets.

A gemeente can be given as its CBS code (``GM0114``), the bare number (``0114``, ``114``) or
its name (``Emmen``), case-insensitively. The six gemeenten of the Regio Deal Zuid- en
Oost-Drenthe are built in, so the region preset works offline; any other gemeente is looked up
in the list of the PDOK CBS wijken-en-buurten OGC API ``gemeenten`` collection (downloaded once
through the HTTP cache). A name that is not found raises
:class:`~woonvoorraad.errors.GemeenteNotFoundError` listing the closest names.

Region presets are versioned because the Regio Deal changed: the first deal (2019–2023) had six
gemeenten; the second, signed 1 November 2023, has five (Aa en Hunze is not part of it).
Sources: regiodealzuidoostdrenthe.nl/artikel/ and
coevorden.nl/verlenging-regiodeal-gelijke-kansen-in-zuid-en-oost-drenthe (research notes §4).
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from woonvoorraad import settings
from woonvoorraad.errors import DownloadError, GemeenteNotFoundError, OfflineError
from woonvoorraad.sources import _http

logger = logging.getLogger(__name__)

#: Vintage of the CBS wijken en buurten whose ``gemeenten`` collection is the lookup list.
LIST_YEAR = 2024

#: Licence of the PDOK CBS wijken en buurten services (CBS open data, CC BY 4.0).
CBS_LICENCE = "CC BY 4.0 (CBS)"


@dataclass(frozen=True)
class Gemeente:
    """A gemeente: CBS code (``GM`` + 4 digits) and name."""

    code: str
    naam: str
    provincie: str | None = None

    @property
    def nummer(self) -> str:
        """The four digits of the code (``"0114"``), as used in BAG identifiers."""
        return self.code[2:]

    def __str__(self) -> str:
        return f"{self.naam} ({self.code})"


#: The gemeenten of the Regio Deal Zuid- en Oost-Drenthe (CBS codes; research notes §4.2).
BUILTIN_GEMEENTEN: tuple[Gemeente, ...] = (
    Gemeente("GM1680", "Aa en Hunze", "Drenthe"),
    Gemeente("GM1681", "Borger-Odoorn", "Drenthe"),
    Gemeente("GM0109", "Coevorden", "Drenthe"),
    Gemeente("GM0114", "Emmen", "Drenthe"),
    Gemeente("GM0160", "Hardenberg", "Overijssel"),
    Gemeente("GM0118", "Hoogeveen", "Drenthe"),
)


@dataclass(frozen=True)
class Region:
    """A named, dated set of gemeenten."""

    name: str
    title: str
    codes: tuple[str, ...]
    period: str
    source: str


#: Study-area presets by name.
REGIONS: dict[str, Region] = {
    "regiodeal-zuid-oost-drenthe": Region(
        name="regiodeal-zuid-oost-drenthe",
        title="Regio Deal Zuid- en Oost-Drenthe (first deal, 2019-2023)",
        codes=("GM1680", "GM1681", "GM0109", "GM0114", "GM0160", "GM0118"),
        period="2019-2023",
        source="https://www.regiodealzuidoostdrenthe.nl/artikel/",
    ),
    "regiodeal-zuid-oost-drenthe-2023": Region(
        name="regiodeal-zuid-oost-drenthe-2023",
        title="Regio Deal Zuid- en Oost-Drenthe (second deal, signed 1 November 2023)",
        codes=("GM1681", "GM0109", "GM0114", "GM0160", "GM0118"),
        period="2023-",
        source="https://www.coevorden.nl/verlenging-regiodeal-gelijke-kansen-in-zuid-en-oost-drenthe",
    ),
}

_CODE = re.compile(r"^\s*(?:GM)?\s*(\d{1,4})\s*$", re.IGNORECASE)
_memo: dict[tuple[str, int], tuple[Gemeente, ...]] = {}


def normalise_code(text: str) -> str | None:
    """Return ``GM`` + four digits for a code-like text, else None.

    Examples
    --------
    >>> [normalise_code(t) for t in ("GM0114", "gm114", "0114", "114", "Emmen")]
    ['GM0114', 'GM0114', 'GM0114', 'GM0114', None]
    """
    match = _CODE.match(str(text))
    return f"GM{int(match.group(1)):04d}" if match else None


def _fold(text: str) -> str:
    """Case-, accent-, hyphen- and space-insensitive form of a name."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-'’.]+", "", text).casefold()


def gemeenten_from_pdok(*, year: int | None = None) -> tuple[Gemeente, ...]:
    """Return all gemeenten of a CBS wijken-en-buurten vintage, from the PDOK OGC API.

    The ``gemeenten`` collection is downloaded once (it carries the boundaries, so the first
    call transfers some megabytes) and then read from the HTTP cache.

    Parameters
    ----------
    year
        Vintage (default :data:`LIST_YEAR`).

    Returns
    -------
    tuple of Gemeente
        Sorted by name, one per code.
    """
    year = int(year or LIST_YEAR)
    url = settings.pdok_cbs_url_template.format(year=year).rstrip("/")
    memo_key = (url, year)
    if memo_key in _memo:
        return _memo[memo_key]
    found: dict[str, Gemeente] = {}
    for page in _http.iter_pages(f"{url}/collections/gemeenten/items",
                                 params={"f": "json", "limit": 1000}, source="pdok-cbs",
                                 licence=CBS_LICENCE, desc=f"CBS gemeenten {year}"):
        for feature in page.get("features") or ():
            props = feature.get("properties") or {}
            code = normalise_code(str(props.get("gemeentecode", "")).strip())
            naam = str(props.get("gemeentenaam") or "").strip()
            if code and naam:
                found.setdefault(code, Gemeente(code, naam))
    if not found:
        raise DownloadError(f"{url}/collections/gemeenten/items returned no gemeenten")
    result = tuple(sorted(found.values(), key=lambda g: _fold(g.naam)))
    _memo[memo_key] = result
    logger.info("%d gemeenten in CBS wijken en buurten %d", len(result), year)
    return result


def _match(query: str, candidates: Iterable[Gemeente]) -> Gemeente | None:
    code = normalise_code(query)
    folded = _fold(query)
    for g in candidates:
        if (code is not None and g.code == code) or (code is None and _fold(g.naam) == folded):
            return g
    return None


def gemeente_from_query(
    query: str,
    *,
    year: int | None = None,
    known: Iterable[Gemeente] = (),
    allow_network: bool = True,
) -> Gemeente:
    """Find a gemeente by code or name.

    Parameters
    ----------
    query
        ``GM0114``, ``0114``, ``114`` or ``Emmen`` (any case; accents, hyphens and spaces in
        names are ignored: ``borger odoorn`` finds Borger-Odoorn).
    year
        Vintage of the gemeente list (default :data:`LIST_YEAR`).
    known
        Extra gemeenten to search first (e.g. those already fetched), without network.
    allow_network
        Look in the PDOK list when the built-in and ``known`` gemeenten do not match (through
        the cache; in offline mode only if it is cached).

    Returns
    -------
    Gemeente

    Raises
    ------
    GemeenteNotFoundError
        The gemeente does not exist; the message lists the closest names.

    Examples
    --------
    >>> gemeente_from_query("emmen")
    Gemeente(code='GM0114', naam='Emmen', provincie='Drenthe')
    >>> gemeente_from_query("114").naam
    'Emmen'
    """
    text = str(query).strip()
    if not text:
        raise GemeenteNotFoundError("empty gemeente name")
    local = [*BUILTIN_GEMEENTEN, *known]
    hit = _match(text, local)
    if hit is not None:
        return hit
    full: tuple[Gemeente, ...] = ()
    reason = ""
    if allow_network:
        try:
            full = gemeenten_from_pdok(year=year)
        except OfflineError:
            reason = ("the full list of gemeenten is not in the cache (offline mode); only the "
                      "built-in and already fetched gemeenten are known")
    else:
        reason = "only the built-in and already fetched gemeenten are known here"
    hit = _match(text, full)
    if hit is not None:
        return hit
    pool = {g.code: g for g in (*full, *local)}.values()
    code = normalise_code(text)
    if code is not None:
        message = f"gemeentecode {code} does not exist in the CBS {year or LIST_YEAR} list"
    else:
        by_fold = {_fold(g.naam): g.naam for g in pool}
        close = difflib.get_close_matches(_fold(text), list(by_fold), n=5, cutoff=0.6)
        names = [by_fold[c] for c in close]
        message = f"unknown gemeente {text!r}"
        message += f"; did you mean: {', '.join(names)}?" if names else "; no similar names"
    if reason:
        message += f" ({reason})"
    raise GemeenteNotFoundError(message)


def gemeenten_from_region(name: str) -> list[Gemeente]:
    """Return the gemeenten of a region preset (see :data:`REGIONS`); works offline.

    Raises
    ------
    GemeenteNotFoundError
        The preset does not exist; the message lists the presets.
    """
    region = REGIONS.get(str(name).strip().lower())
    if region is None:
        close = difflib.get_close_matches(str(name).lower(), list(REGIONS), n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise GemeenteNotFoundError(
            f"unknown region {name!r}{hint} (known: {', '.join(sorted(REGIONS))})")
    by_code = {g.code: g for g in BUILTIN_GEMEENTEN}
    return [by_code[c] for c in region.codes]


def gemeenten_from_queries(
    queries: Iterable[str] = (),
    *,
    region: str | None = None,
    year: int | None = None,
    known: Iterable[Gemeente] = (),
    allow_network: bool = True,
) -> list[Gemeente]:
    """Resolve names/codes and a region preset into a list without duplicates (order kept)."""
    out: dict[str, Gemeente] = {}
    if region:
        for g in gemeenten_from_region(region):
            out.setdefault(g.code, g)
    known = tuple(known)
    for q in queries:
        g = gemeente_from_query(q, year=year, known=known, allow_network=allow_network)
        out.setdefault(g.code, g)
    return list(out.values())
