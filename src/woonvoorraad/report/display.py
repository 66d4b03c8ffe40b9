"""Tables and the demo banner in notebooks, formatted like the reports.

:func:`table` turns any DataFrame or Series (a selection, a crosstab, a pivot, a groupby
result) into the report table: Dutch labels from the column catalogue
(:func:`woonvoorraad.report.format.describe_column`), Dutch numbers (``61.916``, ``12,5%``,
``€ 215.000``), booleans as ``ja``/``nee``, ranks as whole numbers, text left-aligned and never
cut off. :func:`banner` shows the red SYNTHETISCHE DEMODATA banner as in the reports. Both
carry the report CSS, so they look the same in JupyterLab, in VS Code and in an exported page.

Examples
--------
>>> import pandas as pd
>>> t = table(pd.DataFrame({"n_woningen": [61916], "rang": [3.0], "kortlijst": [True]}))
>>> "61.916" in t and ">3<" in t and ">ja<" in t
True
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from woonvoorraad.report.format import (
    FORMATEN,
    KOLOMMEN,
    Html,
    describe_column,
    esc,
    fmt_aantal,
    fmt_datum,
    is_missing,
)
from woonvoorraad.report.html import RAPPORT_CSS, html_table

if TYPE_CHECKING:
    from woonvoorraad.report.run import Run

logger = logging.getLogger(__name__)

#: Rows shown by default; a longer frame shows its first rows and says how many there are.
MAX_RIJEN = 60

#: Value formats by (part of) a column name, for columns not in the catalogue; first match wins.
_NAAM_FORMATEN: tuple[tuple[str, str], ...] = (
    (r"(^|_)rang($|_)", "getal0"),
    (r"(^|_)(k|cluster|prioriteit)$", "getal0"),
    (r"jaar", "jaar"),
    (r"^(aandeel|stabiliteit)|^p_", "aandeel"),
    (r"euro|maandlast|investering|besparing|subsidie|lening|woz", "euro"),
    (r"^n_|^aantal", "aantal"),
)

_TOTAAL = {"totaal", "Totaal", "All", "all"}

#: Labels of frequent columns that are not in the report catalogue.
_LABELS = {"n_buurten": "Buurten", "rang": "Rang", "eenheid_naam": "Eenheid",
           "niveau": "Niveau", "reden": "Reden", "naam": "Naam", "variant": "Variant",
           "scenario": "Pakket", "inkomensgroep": "Inkomensgroep", "status": "Status"}


def _is_bool_column(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s):
        return True
    if s.dtype == object:
        values = s.dropna()
        return len(values) > 0 and all(isinstance(v, bool | np.bool_) for v in values)
    return False


def _readable_values(s: pd.Series) -> pd.Series:
    """Booleans as ``ja``/``nee`` and dates as Dutch dates; other columns unchanged."""
    if _is_bool_column(s):
        return s.map(lambda v: "" if is_missing(v) else ("ja" if v else "nee"))
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.map(lambda v: "" if is_missing(v) else fmt_datum(v.to_pydatetime()))
    return s


def _infer_format(naam: str, s: pd.Series) -> str:
    """The value format of a column that is not in the catalogue."""
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return "tekst"
    for pattern, formaat in _NAAM_FORMATEN:
        if re.search(pattern, naam):
            return formaat
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0 or np.all(values == np.round(values)):
        return "aantal"
    return "score" if np.nanmax(np.abs(values)) < 10 else "getal"


def readable(text: Any) -> str:
    """A column name in a value made readable: its Dutch label without "(score)".

    Examples
    --------
    >>> readable("financiele_ruimte +20%"), readable("energiebehoefte"), readable("iets")
    ('Financiële ruimte +20%', 'Energiebehoefte', 'iets')
    """
    if is_missing(text):
        return ""
    word, sep, rest = str(text).partition(" ")
    if word in KOLOMMEN or (word.startswith("score_") and word[6:] in KOLOMMEN):
        label = describe_column(word).label.removesuffix(" (score)")
        return label + sep + rest
    return str(text)


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Index levels become columns; column tuples (a pivot) become ``a · b`` strings."""
    out = frame.copy()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = [" · ".join(str(p) for p in col if str(p) != "") for col in out.columns]
    out.columns = [str(c) for c in out.columns]
    named = any(n is not None for n in out.index.names)
    if named or not isinstance(out.index, pd.RangeIndex):
        names = [n if n is not None else ("" if out.index.nlevels == 1 else f"niveau_{i}")
                 for i, n in enumerate(out.index.names)]
        out.index = out.index.set_names(names)
        out = out.reset_index()
    return out


def table(
    data: pd.DataFrame | pd.Series,
    kolommen: Sequence[str | tuple[str, str, str]] | None = None,
    *,
    caption: str | None = None,
    labels: Mapping[str, str] | None = None,
    formaten: Mapping[str, str] | str | None = None,
    max_rijen: int | None = MAX_RIJEN,
    totaal: bool | None = None,
) -> Html:
    """Show a DataFrame or Series as a report table (Dutch labels and numbers).

    Parameters
    ----------
    data
        The rows; a named or non-default index (a crosstab, pivot or groupby) is shown as the
        first column(s).
    kolommen
        Columns to show, in order: names, or ``(column, label, format)`` as in
        :func:`woonvoorraad.report.html.html_table`; default all columns.
    caption
        Table caption.
    labels
        Label per column name (overrides the catalogue).
    formaten
        Format per column name (a key of :data:`woonvoorraad.report.format.FORMATEN`), or one
        format for every numeric column (``"getal0"`` for a pivot of ranks).
    max_rijen
        Show at most this many rows (``None``: all) and say how many there are.
    totaal
        Show the last row as a total; default: when its first value is "totaal" (a crosstab
        with ``margins_name="totaal"``).

    Returns
    -------
    Html
        The table with the report CSS; Jupyter displays it as HTML.

    Raises
    ------
    ValueError
        For a column that is not in ``data`` or an unknown format.
    """
    frame = _flatten(data.to_frame() if isinstance(data, pd.Series) else data)
    labels = dict(labels or {})
    specs: list[tuple[str, str, str]] = []
    for item in kolommen if kolommen is not None else list(frame.columns):
        if isinstance(item, tuple):
            if item[0] in frame.columns:
                frame[item[0]] = _readable_values(frame[item[0]])
            specs.append(item)
            continue
        if item not in frame.columns:
            raise ValueError(f"column {item!r} is not in the table; columns: "
                             f"{', '.join(map(str, frame.columns))}")
        s = frame[item]
        if isinstance(formaten, str):
            formaat = formaten if pd.api.types.is_numeric_dtype(s) and not (
                pd.api.types.is_bool_dtype(s)) else "tekst"
        elif formaten and item in formaten:
            formaat = formaten[item]
        elif item in KOLOMMEN or (item.startswith("score_") and item[6:] in KOLOMMEN):
            formaat = describe_column(item).formaat
        else:
            formaat = _infer_format(item, s)
        if formaat not in FORMATEN and formaat != "html":
            raise ValueError(f"unknown format {formaat!r} for column {item!r}; known: "
                             f"{', '.join(FORMATEN)}")
        if _is_bool_column(s) or pd.api.types.is_datetime64_any_dtype(s):
            frame[item] = _readable_values(s)
            formaat = "tekst"
        elif formaat == "tekst":
            frame[item] = s.map(lambda v: v if is_missing(v) else str(v))
        label = labels.get(item) or _LABELS.get(item) or (
            describe_column(item).label if item else "")
        specs.append((item, label, formaat))
    n = len(frame)
    if totaal is None:
        first = frame.iloc[-1, 0] if n and frame.shape[1] else None
        totaal = isinstance(first, str) and first in _TOTAAL
    shown = frame.head(max_rijen) if max_rijen is not None else frame
    if len(shown) < n:
        totaal = False
    html = html_table(shown, specs, caption=caption, totaal=bool(totaal))
    more = (f'<p class="wv-voetnoot">Eerste {fmt_aantal(len(shown))} van {fmt_aantal(n)} '
            "rijen.</p>" if len(shown) < n else "")
    return Html(f"<style>{RAPPORT_CSS}</style><div class=\"wv-notebook\">{html}{more}</div>")


def banner(run: Run) -> Html:
    """The red SYNTHETISCHE DEMODATA banner of a demo build, styled as in the reports.

    Empty for a build of real data.
    """
    from woonvoorraad.report.sections import synthetic_banner

    inner = synthetic_banner(run)
    if not inner:
        return Html("")
    return Html(f"<style>{RAPPORT_CSS}</style>{inner}")


def text(template: str, /, **waarden: Any) -> Html:
    """A line of text with Dutch numbers: counts get thousands separators.

    Parameters
    ----------
    template
        Text with ``{name}`` fields.
    **waarden
        Values; whole numbers are shown as counts (``67.936``), other values as text.

    Examples
    --------
    >>> str(text("{n} panden in {plaats}", n=67936, plaats="<Emmen>"))
    '<p>67.936 panden in &lt;Emmen&gt;</p>'
    """
    shown = {k: fmt_aantal(v) if isinstance(v, int | np.integer) and not isinstance(v, bool)
             else str(v) for k, v in waarden.items()}
    return Html(f"<p>{esc(template.format(**shown))}</p>")
