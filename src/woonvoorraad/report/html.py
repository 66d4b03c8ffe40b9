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
.wv-tabel-kader { overflow-x: auto; margin: 10px 0 4px 0; max-width: 100%;
  -webkit-overflow-scrolling: touch; }
/* scroll shadows: a grey edge shows on the side where a wide table has more columns */
.wv-tabel-kader, .wv-rapport table.wv-tabel, main.wv-pagina table.wv-tabel {
  background: linear-gradient(to right, var(--jp-layout-color0, #fff) 30%, transparent) left center
    / 40px 100% no-repeat local,
  linear-gradient(to left, var(--jp-layout-color0, #fff) 30%, transparent) right center
    / 40px 100% no-repeat local,
  radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.35), rgba(0,0,0,0)) left center / 16px 100%
    no-repeat scroll,
  radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.35), rgba(0,0,0,0)) right center /
    16px 100% no-repeat scroll;
  background-color: var(--jp-layout-color0, #fff); }
.wv-tabel-kader table.wv-tabel, .wv-rapport .wv-tabel-kader table.wv-tabel,
main.wv-pagina .wv-tabel-kader table.wv-tabel { background: none; }
/* JupyterLab right-aligns every cell of an output table and fixes the column widths
   (:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td); these rules are more specific, so
   text stays left-aligned, numbers right-aligned and columns as wide as their content */
.jp-RenderedHTMLCommon table.wv-tabel { table-layout: auto; margin: 0; }
.jp-RenderedHTMLCommon table.wv-tabel th, .jp-RenderedHTMLCommon table.wv-tabel td {
  text-align: left; }
.jp-RenderedHTMLCommon table.wv-tabel .wv-num { text-align: right; }
.wv-schuif { display: none; font-size: 12px; color: #5a5a5a; margin: 0 0 2px 0; }
table.wv-tabel { border-collapse: collapse; font-size: 13.5px; width: 100%; }
table.wv-tabel caption { caption-side: top; text-align: left; font-weight: 600;
  padding-bottom: 4px; color: #1d1d1d; }
table.wv-tabel th { text-align: left; border-bottom: 2px solid #1f4e79; padding: 4px 8px;
  font-weight: 600; vertical-align: bottom; }
table.wv-tabel td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; vertical-align: top; }
table.wv-tabel td.wv-num, table.wv-tabel th.wv-num { text-align: right;
  font-variant-numeric: tabular-nums; }
table.wv-tabel td.wv-num, table.wv-tabel td .wv-getal { white-space: nowrap; }
table.wv-tabel .wv-klein { display: block; font-size: 11.5px; color: #5a5a5a; }
table.wv-tabel tr.wv-nadruk td { background: #fdf3e6; }
table.wv-tabel tr.wv-totaal td { border-top: 2px solid #1f4e79; font-weight: 600; }
.wv-voetnoot, .wv-bron { font-size: 12px; color: #5a5a5a; margin: 2px 0 14px 0; }
.wv-nb { background: #f6f6f6; border-left: 4px solid #9a9a9a; padding: 8px 12px;
  color: #333; }
.wv-figuur { margin: 14px 0 18px 0; }
.wv-figuur img { max-width: 100%; height: auto; }
.wv-figuur-kader { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
.wv-figuur figcaption { font-size: 12px; color: #5a5a5a; }
.wv-regel { font-family: ui-monospace, Consolas, monospace; font-size: 11.5px; color: #444; }
.wv-kandidaat { border: 1px solid #d9d9d9; border-left: 5px solid #d9730d; border-radius: 4px;
  padding: 10px 14px; margin: 10px 0; }
.wv-kandidaat h4 { margin: 0 0 4px 0; font-size: 16px; }
.wv-kandidaat p { margin: 4px 0; }
.wv-label { display: inline-block; background: #eef2f7; border-radius: 3px; padding: 0 6px;
  margin: 1px 4px 1px 0; font-size: 12.5px; }
.wv-rapport img, main.wv-pagina img, main.wv-pagina iframe, main.wv-pagina svg {
  max-width: 100%; }
main.wv-pagina img { height: auto; }
/* phones and narrow windows: less page padding; a table wider than the screen scrolls inside
   its own box (with the hint above it), so the page itself never scrolls sideways */
@media (max-width: 700px) {
  main.wv-pagina { margin: 0; padding: 14px 12px 24px; box-shadow: none; }
  footer.wv-voet { padding: 0 12px; }
  .wv-titel h1 { font-size: 24px; }
  .wv-meta { grid-template-columns: 1fr; gap: 0; }
  .wv-meta dd { margin-bottom: 4px; }
  .wv-schuif { display: block; }
  .wv-rapport table.wv-tabel, main.wv-pagina table.wv-tabel { display: block; overflow-x: auto;
    max-width: 100%; width: auto; }
  .wv-tabel-kader table.wv-tabel, .wv-rapport .wv-tabel-kader table.wv-tabel,
  main.wv-pagina .wv-tabel-kader table.wv-tabel { display: table; overflow: visible;
    width: 100%; }
  main.wv-pagina table.wv-tabel:not(.wv-tabel-kader table):has(tr > :nth-child(3))::before {
    content: "Schuif de tabel opzij voor alle kolommen \2192"; display: block;
    font-size: 12px; color: #5a5a5a; }
  main.wv-pagina pre { white-space: pre-wrap; word-break: break-word; }
  .wv-figuur .wv-schuif { display: none; }
}
/* phones: a figure keeps 60 % of its pixel size (10 px text) and scrolls in its own box */
@media (max-width: 640px) {
  .wv-rapport .wv-figuur-kader img, main.wv-pagina .wv-figuur-kader img, .wv-figuur-kader img {
    max-width: none; width: max(100%, var(--wv-telefoon, 100%)); }
  .wv-figuur .wv-schuif { display: block; }
}
"""


#: Hint above a wide table on a narrow screen (shown by the CSS below 700 px only).
SCHUIF_HINT = "Schuif de tabel opzij voor alle kolommen →"
#: Hint above a figure on a narrow screen.
SCHUIF_HINT_FIGUUR = "Schuif de figuur opzij →"
#: Display size of a report figure on a narrow screen, as a share of its pixel size (at the
#: reports' 130 dpi the charts' 9.5 pt text is then 10 px high).
FIGUUR_SCHAAL_TELEFOON = 0.6
#: Tables with at least this many columns get the hint.
SCHUIF_KOLOMMEN = 4


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
    totaal: bool = False,
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
    totaal
        Show the last row as a total (a line above it, bold).

    Notes
    -----
    The table sits in a box that scrolls sideways when the table is wider than the page (a
    grey edge shows where more columns are); a table of four or more columns also gets a
    "schuif opzij" hint that only shows on narrow screens. Numeric cells never wrap.

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
    last = len(frame) - 1
    for i, (flag, rec) in enumerate(zip(flags, frame.to_dict("records"), strict=True)):
        cells = []
        for col, _label, fmt in specs:
            text, numeric = _format_cell(rec.get(col), fmt)
            cells.append(f'<td class="wv-num">{text}</td>' if numeric else f"<td>{text}</td>")
        classes = " ".join(c for c, on in (("wv-nadruk", flag), ("wv-totaal", totaal and i == last))
                           if on)
        rows.append(f'<tr class="{classes}">{"".join(cells)}</tr>' if classes
                    else f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    hint = (f'<p class="wv-schuif">{SCHUIF_HINT}</p>' if len(specs) >= SCHUIF_KOLOMMEN else "")
    return Html(f'{hint}<div class="wv-tabel-kader"><table class="wv-tabel">{cap}<thead><tr>'
                f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def not_available(reden: str) -> Html:
    """A clear "niet beschikbaar" line (the reason is escaped)."""
    return Html(f'<p class="wv-nb"><strong>Niet beschikbaar:</strong> {esc(reden)}</p>')


def html_paragraph(text: str) -> str:
    """A ``<p>`` around ``text``, which must be escaped HTML already."""
    return f"<p>{text}</p>"


def html_figure(fig: Figure, *, alt: str, bijschrift: str | None = None, dpi: int = 130) -> Html:
    """Embed a matplotlib figure as a PNG data URI (self-contained HTML).

    On a wide screen the figure shrinks to the page. On a narrow one (≤ 700 px) it is shown
    at :data:`FIGUUR_SCHAAL_TELEFOON` of its pixel size, so its 9.5 pt text stays about 10 px
    high, and scrolls sideways in its own box under a hint when that is wider than the screen.
    The hint is ``hidden`` until the report CSS shows it (a notebook without it shows none).
    """
    from woonvoorraad.report.charts import fig_to_png

    png = fig_to_png(fig, dpi=dpi)
    breedte = int.from_bytes(png[16:20], "big")  # the PNG's IHDR width
    telefoon = round(breedte * FIGUUR_SCHAAL_TELEFOON)
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{esc(bijschrift)}</figcaption>" if bijschrift else ""
    return Html(f'<figure class="wv-figuur"><p class="wv-schuif" hidden>{SCHUIF_HINT_FIGUUR}</p>'
                f'<div class="wv-figuur-kader" style="--wv-telefoon: {telefoon}px">'
                f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}"></div>{cap}</figure>')
