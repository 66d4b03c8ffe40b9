"""HTML building blocks of a report: the report CSS, tables, figures, "niet beschikbaar".

Every value taken from the data is escaped (:func:`woonvoorraad.report.format.esc`); the
blocks return :class:`woonvoorraad.report.format.Html`, which Jupyter shows as HTML.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from woonvoorraad.report.format import Html, describe_column, esc, fmt_waarde

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

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


def _format_cell(value: Any, formaat: str) -> tuple[str, bool]:
    numeric = formaat not in ("tekst", "html")
    if formaat == "html":
        return str(value), False
    return esc(fmt_waarde(value, formaat)), numeric


def html_table(
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
    >>> t = html_table(pd.DataFrame({"buurtnaam": ["<b>"], "n_woningen": [1234]}),
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
            info = describe_column(item)
            specs.append((item, info.label, info.formaat))
    head = "".join(
        f'<th class="{"wv-num" if fmt not in ("tekst", "html") else ""}">{esc(label)}</th>'
        for _, label, fmt in specs)
    rows = []
    flags = list(nadruk) if nadruk is not None else [False] * len(frame)
    for flag, rec in zip(flags, frame.to_dict("records"), strict=True):
        cells = []
        for col, _label, fmt in specs:
            text, numeric = _format_cell(rec.get(col), fmt)
            cells.append(f'<td class="wv-num">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append(f'<tr class="wv-nadruk">{"".join(cells)}</tr>' if flag
                    else f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Html(f'<div class="wv-tabel-kader"><table class="wv-tabel">{cap}<thead><tr>{head}'
                f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def not_available(reden: str) -> Html:
    """A clear "niet beschikbaar" line (the reason is escaped)."""
    return Html(f'<p class="wv-nb"><strong>Niet beschikbaar:</strong> {esc(reden)}</p>')


def html_paragraph(text: str) -> str:
    """A ``<p>`` around ``text``, which must be escaped HTML already."""
    return f"<p>{text}</p>"


def html_figure(fig: Figure, *, alt: str, bijschrift: str | None = None, dpi: int = 130) -> Html:
    """Embed a matplotlib figure as a PNG data URI (self-contained HTML)."""
    from woonvoorraad.report.charts import fig_to_png

    data = base64.b64encode(fig_to_png(fig, dpi=dpi)).decode("ascii")
    cap = f"<figcaption>{esc(bijschrift)}</figcaption>" if bijschrift else ""
    return Html(f'<figure class="wv-figuur"><img alt="{esc(alt)}" '
                f'src="data:image/png;base64,{data}">{cap}</figure>')
