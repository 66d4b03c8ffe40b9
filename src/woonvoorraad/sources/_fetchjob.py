"""What every download step of one gemeente shares: the job, the licences, the source names.

:class:`FetchJob` carries the gemeente, the CBS vintage, the data folder, ``--refresh``, the
warnings gathered on the way and the parts that came out incomplete (a Kerncijfers year or a
forecast table that answered 404, labels refused): the manifest lists those, and the next
plain fetch asks again for exactly those parts (:attr:`FetchJob.retry`);
:mod:`~woonvoorraad.sources.pdok`, :mod:`~woonvoorraad.sources.odata` and
:mod:`~woonvoorraad.sources.eponline_api` take one, and :mod:`~woonvoorraad.sources.fetch` makes
one per gemeente and writes its manifest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from woonvoorraad import layout
from woonvoorraad._io import sha256_file
from woonvoorraad.sources.gemeenten import Gemeente

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Licence:
    """Licence of a source and how sure we are of it."""

    name: str
    url: str
    holder: str
    confidence: str

    def as_dict(self) -> dict[str, str]:
        """The licence as a JSON-ready dict (for manifests)."""
        return {"name": self.name, "url": self.url, "holder": self.holder,
                "confidence": self.confidence}


#: Licence of every source, by source family.
LICENCES: dict[str, Licence] = {
    "bag": Licence(
        "Public Domain Mark 1.0 (PDOK OGC API); CC0 1.0 (bag-light.gpkg)",
        "https://creativecommons.org/publicdomain/mark/1.0/", "Kadaster",
        "high for the OGC API (PDOK's BAG API page states Public Domain Mark 1.0); medium for "
        "CC0 of bag-light.gpkg (third-party references)"),
    "cbs": Licence(
        "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/",
        "Centraal Bureau voor de Statistiek",
        "high (CBS open data and the PDOK CBS services are published under CC BY 4.0)"),
    "forecast": Licence(
        "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/",
        "PBL Planbureau voor de Leefomgeving / CBS (StatLine)", "high (StatLine open data)"),
    "ep-online": Licence(
        "RVO terms of use of EP-Online", "https://www.ep-online.nl",
        "Rijksdienst voor Ondernemend Nederland (RVO)",
        "low: we found no explicit open-data licence for the bulk file; the registrations are "
        "public and RVO asks for an API key; check RVO's conditions before redistributing the "
        "raw file and cite 'EP-Online, RVO'"),
}

#: Cache sub-folder and provenance label of each source family.
SOURCES = {"bag": "pdok-bag", "cbs": "pdok-cbs", "odata": "cbs-odata", "ep": "ep-online"}


@dataclass
class FetchJob:
    """One gemeente's fetch: what to fetch, where to put it, and the warnings so far."""

    gemeente: Gemeente
    year: int
    root: Path
    refresh: bool
    warnings: list[str] = field(default_factory=list)
    #: Parts the previous fetch left incomplete (``"kerncijfers:2020"``, ``"labels"``, …).
    retry: frozenset[str] = frozenset()
    #: Ask again instead of using cached negative answers (set per part by :meth:`for_part`).
    retry_errors: bool = False
    incomplete: list[dict[str, Any]] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Log ``message`` as a warning about this gemeente and keep it for the manifest."""
        logger.warning("%s: %s", self.gemeente, message)
        self.warnings.append(message)

    def for_part(self, part: str) -> FetchJob:
        """This job for one part: negative answers are asked again when it was incomplete.

        The copy shares the warnings and the incomplete list with this job.
        """
        return replace(self, retry_errors=part in self.retry)

    def mark_incomplete(self, part: str, reason: str, **detail: Any) -> None:
        """Record that ``part`` is missing or degraded, for the manifest and the next fetch."""
        self.incomplete.append({"id": part, "part": part.split(":", 1)[0], **detail,
                                "reason": reason})

    @property
    def raw(self) -> Path:
        """The ``raw/`` folder under the data folder."""
        return layout.raw_dir(self.root)

    def path(self, *parts: str) -> Path:
        """A path under ``raw/``."""
        return self.raw.joinpath(*parts)


def describe_output(path: Path, root: Path, **extra: Any) -> dict[str, Any]:
    """A manifest entry of a written file: path relative to ``root``, size, SHA-256."""
    return {"path": str(path.relative_to(root)), "size": path.stat().st_size,
            "sha256": sha256_file(path), **extra}
