"""Export of an executed report notebook to a standalone HTML page (no code, no JavaScript)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from woonvoorraad import __version__
from woonvoorraad.report.format import esc, fmt_datum
from woonvoorraad.report.html import RAPPORT_CSS

logger = logging.getLogger(__name__)

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


def page(titel: str, body: str, *, voet: str = "") -> str:
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
    return page(titel, body, voet=voet)
