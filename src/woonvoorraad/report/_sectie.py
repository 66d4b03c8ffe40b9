"""Helpers shared by the report sections: missing-value reasons, config look-ups."""

from __future__ import annotations

import logging
import re
from typing import Any

from woonvoorraad.report.format import (
    Html,
    describe_column,
)
from woonvoorraad.report.html import not_available
from woonvoorraad.report.run import (
    Run,
    as_numeric,
)

logger = logging.getLogger(__name__)

_REDENEN_NL = {
    "not in the CBS input": "ontbreekt in de CBS-gegevens",
    "needs CBS statistics of at least two years (--cbs)":
        "vraagt CBS-cijfers van minstens twee jaren",
    "the CBS statistics given cover fewer than two years":
        "de CBS-cijfers beslaan minder dan twee jaren",
}


def _lowercase_first(label: str) -> str:
    """Lower-case the first letter of a label, unless it starts an abbreviation (WOZ)."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _translate_reason(reason: str) -> str:
    if reason in _REDENEN_NL:
        return _REDENEN_NL[reason]
    m = re.fullmatch(r"needs (.+) from CBS", reason)
    if m:
        cols = [_lowercase_first(describe_column(c.strip()).label)
                for c in re.split(r"\band\b|,", m.group(1)) if c.strip()]
        return "vraagt " + " en ".join(cols) + " van CBS"
    return reason


def _missing_reason(run: Run, col: str) -> str | None:
    """Dutch reason why ``col`` is unavailable in the build (None when it has values)."""
    reason = (run.manifest.get("missing_statistics") or {}).get(col)
    if reason:
        return _translate_reason(str(reason))
    if col not in run.buurten.columns:
        return "niet in deze build"
    if as_numeric(run.buurten, col).isna().all():
        return "geen waarden in deze build"
    return None


def _config_value(run: Run, sectie: str, sleutel: str, default: Any = None) -> Any:
    return (run.config.get(sectie) or {}).get(sleutel, default)


def _naoorlogs_period(run: Run) -> tuple[int, int]:
    return (int(_config_value(run, "periods", "naoorlogs_start", 1945)),
            int(_config_value(run, "periods", "naoorlogs_end", 1974)))


def _no_analysis() -> Html:
    return not_available("deze build is gemaakt zonder classificatiestap "
                         "(woonvoorraad build --no-analyse); scores, proeftuinkandidaten, "
                         "instrumenten, kosten en typologie ontbreken.")


