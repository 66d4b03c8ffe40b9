"""The index page of a report run: every report with its key figures and status.

The table scrolls inside its own box on a phone (the page stays as wide as the screen).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from woonvoorraad import __version__
from woonvoorraad.report.export import page
from woonvoorraad.report.format import NA, esc, fmt_aantal, fmt_datum, fmt_pct
from woonvoorraad.report.html import SCHUIF_HINT
from woonvoorraad.report.run import Run, gemeente_summary, make_json_safe
from woonvoorraad.report.sections import synthetic_banner

if TYPE_CHECKING:
    from woonvoorraad.report.render import ReportStatus

logger = logging.getLogger(__name__)


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
        tot = make_json_safe(gemeente_summary(run, None))
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
    body = (f"{synthetic_banner(run)}<header class=\"wv-titel\"><div class=\"wv-reeks\">"
            "Woningvoorraad · naoorlogse koopwoningen</div>"
            f"<h1>{esc(titel)}</h1><p class=\"wv-sub\">{n_ok} van {len(statuses)} rapporten "
            f"gereed · gemaakt op {esc(when)}</p></header>"
            f'<p class="wv-schuif">{SCHUIF_HINT}</p><div class="wv-tabel-kader">'
            f'<table class="wv-tabel"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
            "</table></div>"
            '<p class="wv-voetnoot">Elk rapport is een losse HTML-pagina die zonder '
            "internetverbinding werkt; de kaart staat erin en ook als apart bestand. Status en "
            "foutmeldingen per gemeente staan in run.json. Bronnen: BAG (Kadaster), CBS "
            "(CC BY 4.0), EP-Online (RVO), PBL Vesta MAIS kentallen 2024. "
            f"{NA} = niet beschikbaar.</p>")
    # the build folder's name only: a shared index must not carry the analyst's local path
    return page(titel, body, voet=f"woonvoorraad {esc(__version__)} · build "
                f"{esc(run.path.name)}")
