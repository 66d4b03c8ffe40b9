"""The sections of a gemeente report, called one by one by the report template.

``notebooks/templates/gemeente_rapport.ipynb`` loads the build (:func:`woonvoorraad.report.run.
load_run`), checks its parameters (:func:`check_report_parameters`) and calls a ``section_*``
or ``chart_*`` function per part of the report; each returns finished, escaped HTML.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from woonvoorraad import __version__
from woonvoorraad.classify.scores import SCORES
from woonvoorraad.errors import InputError
from woonvoorraad.report._sectie import (  # noqa: F401
    _REDENEN_NL,
    _config_value,
    _lowercase_first,
    _missing_reason,
    _naoorlogs_period,
    _no_analysis,
    _translate_reason,
)
from woonvoorraad.report.format import (
    NA,
    Html,
    describe_column,
    esc,
    fmt_aantal,
    fmt_bereik,
    fmt_datum,
    fmt_euro,
    fmt_euro_kort,
    fmt_getal,
    fmt_pct,
    fmt_score,
    fmt_waarde,
    is_missing,
    schattingen,
)
from woonvoorraad.report.html import (
    RAPPORT_CSS,
    SCHUIF_HINT,
    html_figure,
    html_paragraph,
    html_table,
    not_available,
)
from woonvoorraad.report.kandidaten import (  # noqa: F401  (re-exported for the template)
    chart_scoreprofiel,
    section_instrumenten,
    section_proeftuinen,
)
from woonvoorraad.report.labelzekerheid import section_label_zekerheid  # noqa: F401
from woonvoorraad.report.run import (
    Run,
    as_numeric,
    candidate_buurten,
    gemeente_summary,
    villages_of,
)

logger = logging.getLogger(__name__)

def check_report_parameters(run: Run, gemeente_code: str, *, jaar: int | None = None,
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


def synthetic_banner(run: Run) -> Html:
    """Red banner for builds made from synthetic demo data (empty otherwise)."""
    if not run.synthetic:
        return Html("")
    return Html('<div class="wv-banner-synth" role="alert" id="synthetische-demodata">'
                "<strong>SYNTHETISCHE DEMODATA</strong> — fictieve gemeenten, buurten en "
                "cijfers, gemaakt om de werkwijze te tonen. Niet gebruiken voor beleid.</div>")


def title_block(run: Run, code: str, *, jaar: int | None = None,
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
        f"<style>{RAPPORT_CSS}</style><div class=\"wv-rapport\">{synthetic_banner(run)}"
        '<header class="wv-titel"><div class="wv-reeks">Woningvoorraad · naoorlogse '
        f"koopwoningen</div><h1>Gemeente {esc(naam)}</h1>"
        '<p class="wv-sub">Waar hebben goedkope naoorlogse koopwoningen hulp nodig, en waar '
        "beginnen we?</p>"
        f'<dl class="wv-meta">{meta}</dl>{notice_html}</header></div>')


def section_kerncijfers(run: Run, code: str) -> Html:
    """Key figures of the gemeente next to those of the whole build."""
    g = gemeente_summary(run, code)
    r = gemeente_summary(run, None)
    start, end = _naoorlogs_period(run)
    woz_grens = _config_value(run, "doelgroep", "woz_grens")
    kpis = [
        (fmt_aantal(g["n_woningen"]), "woningen (BAG)"),
        (fmt_pct(g["aandeel_naoorlogs"]), f"gebouwd in {start}–{end}"),
        (fmt_aantal(g["n_doelgroep"]), "doelgroepwoningen (geschat, "
         + fmt_bereik(g["n_doelgroep_laag"], g["n_doelgroep_hoog"], "aantal") + ")"),
        (fmt_pct(g["aandeel_label_efg"]), "met label E, F of G"),
    ]
    kpi_html = "".join(f'<div class="wv-kpi"><b>{esc(v)}</b><span>{esc(t)}</span></div>'
                       for v, t in kpis)
    rows = [
        ("Buurten", "aantal", "n_buurten"),
        ("Woningen (BAG)", "aantal", "n_woningen"),
        (f"Naoorlogse woningen ({start}–{end})", "aantal", "n_naoorlogs"),
        ("  aandeel van de woningen", "aandeel", "aandeel_naoorlogs"),
        ("Goedkope naoorlogse koopwoningen (geschat)", "aantal", "n_goedkoop_koop"),
        ("Doelgroep: daarvan eigenaar met inkomen onder de DAEB-grens (geschat)", "aantal",
         "n_doelgroep"),
        ("  bereik, laag", "aantal", "n_doelgroep_laag"),
        ("  bereik, hoog", "aantal", "n_doelgroep_hoog"),
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
        ("Investering alle woningen onder B naar B, laag", "euro_kort",
         "investering_naar_b_laag"),
        ("Investering alle woningen onder B naar B, hoog", "euro_kort",
         "investering_naar_b_hoog"),
        ("  waarvan E/F/G naar B, laag", "euro_kort", "investering_efg_naar_b_laag"),
        ("  waarvan E/F/G naar B, hoog", "euro_kort", "investering_efg_naar_b_hoog"),
    ]
    frame = pd.DataFrame([{"indicator": label, "gemeente": g.get(key), "regio": r.get(key),
                           "fmt": fmt} for label, fmt, key in rows])
    body = "".join(
        f"<tr><td>{esc(rec['indicator']).replace('  ', '&emsp;')}</td>"
        f'<td class="wv-num">{esc(fmt_waarde(rec["gemeente"], rec["fmt"]))}</td>'
        f'<td class="wv-num">{esc(fmt_waarde(rec["regio"], rec["fmt"]))}</td></tr>'
        for rec in frame.to_dict("records"))
    naam = esc(g["gemeentenaam"])
    # in the same scroll box as every other table (a phone scrolls it, not the page)
    table = (f'<p class="wv-schuif">{SCHUIF_HINT}</p>'
             '<div class="wv-tabel-kader"><table class="wv-tabel"><thead><tr>'
             f'<th>Indicator</th><th class="wv-num">{naam}</th>'
             f'<th class="wv-num">Vergelijkingsgebied</th></tr>'
             f"</thead><tbody>{body}</tbody></table></div>")
    tekst = (f"{naam} telt {esc(fmt_aantal(g['n_woningen']))} woningen in "
             f"{esc(fmt_aantal(g['n_buurten']))} buurten. Daarvan zijn er "
             f"{esc(fmt_aantal(g['n_naoorlogs']))} ({esc(fmt_pct(g['aandeel_naoorlogs']))}) "
             f"gebouwd in {start}–{end}")
    if not is_missing(g["n_doelgroep"]):
        tekst += (f"; naar schatting {esc(fmt_aantal(g['n_goedkoop_koop']))} daarvan zijn "
                  "goedkope koopwoningen"
                  + (f" (WOZ onder {esc(fmt_euro(woz_grens))})" if woz_grens else "")
                  + f", en in {esc(fmt_aantal(g['n_doelgroep']))} daarvan (bereik "
                  f"{esc(fmt_bereik(g['n_doelgroep_laag'], g['n_doelgroep_hoog'], 'aantal'))})"
                  " woont een eigenaar met een inkomen onder de DAEB-grens: de doelgroep van de "
                  "Regio Deal.")
    else:
        tekst += (". De doelgroep kan niet worden geschat: "
                  f"{esc(_missing_reason(run, 'n_doelgroep') or 'gegevens ontbreken')}.")
    voet = ("Vergelijkingsgebied: alle gemeenten in deze build. Aandelen van woningen zijn "
            "verhoudingen van totalen; WOZ en aandeel koop zijn gewogen naar woningen, "
            f"leeftijd en inkomen naar inwoners. {NA} = niet beschikbaar.")
    return Html(f'<div class="wv-sectie"><div class="wv-kpis">{kpi_html}</div>'
                f"{html_paragraph(tekst)}"
                f'{table}<p class="wv-voetnoot">{esc(voet)}</p></div>')


def section_doelgroep(run: Run, code: str, *, max_rijen: int = 15) -> Html:
    """Post-war owner-occupied stock and the target group per buurt."""
    b = run.select_buurten(code).copy()
    start, end = _naoorlogs_period(run)
    dg = run.config.get("doelgroep") or {}
    reden = _missing_reason(run, "n_doelgroep")
    parts = []
    methode = (
        "De doelgroep van de Regio Deal is: eigenaar-bewoners met een inkomen onder de "
        "DAEB-grens in een goedkope naoorlogse koopwoning. Eigendom, WOZ-waarde en inkomen "
        "per woning zijn geen open data; de build schat per buurt uit de BAG (naoorlogse "
        "woningen, eengezins of niet) en de CBS-cijfers van de buurt: de kans dat een woning "
        "een koopwoning is (het aandeel koop van de buurt, verdeeld naar woningtype en "
        "bouwperiode), de kans dat de WOZ-waarde onder "
        f"{fmt_euro(dg.get('woz_grens'))} ligt (prijspeil WOZ-jaar "
        f"{esc(dg.get('woz_grens_jaar'))}, geïndexeerd naar het CBS-jaar van de buurt) en de "
        "kans dat het huishoudinkomen van de eigenaar onder de DAEB-grens ligt (inkomen van "
        "de buurt, eigenaren verdienen gemiddeld "
        f"{fmt_getal(dg.get('inkomen_eigenaar_huurder'), 2)} × zoveel als huurders, CBS). "
        "Het getal tussen haakjes is het bereik: de kleinste en grootste uitkomst als de "
        "aannames (WOZ-niveau en -spreiding, koopaandeel naar type en bouwperiode, "
        "inkomensverhouding, samenhang WOZ en inkomen) tussen hun lage en hoge waarde liggen. "
        "'Goedkope koop' telt dezelfde woningen zonder de inkomensgrens.")
    parts.append(html_paragraph(esc(methode)))
    if reden:
        parts.append(not_available(f"geschatte doelgroep: {reden}."))
        sort_col = "n_naoorlogs"
    else:
        sort_col = "n_doelgroep"
    b["_sort"] = as_numeric(b, sort_col)
    b = b.sort_values(["_sort", "buurtcode"], ascending=[False, True], na_position="last")
    cols = [("buurtnaam", "Buurt", "tekst"), ("n_woningen", "Woningen", "aantal"),
            ("n_naoorlogs", "Naoorlogs", "aantal"), ("aandeel_naoorlogs", "% naoorlogs", "aandeel"),
            ("aandeel_koop", "% koop", "aandeel"), ("woz_gemiddeld", "Gem. WOZ", "euro"),
            ("goedkoop_bereik", "Goedkope koop", "tekst"),
            ("doelgroep_bereik", "Doelgroep (bereik)", "tekst"),
            ("aandeel_doelgroep", "% doelgroep", "aandeel")]
    for col, naam in (("n_goedkoop_koop", "goedkoop_bereik"), ("n_doelgroep", "doelgroep_bereik")):
        b[naam] = schattingen(b, col, na="onbekend")
    kb = candidate_buurten(run, code)
    shown = b.head(max_rijen)
    wat = "naoorlogse woningen" if reden else "doelgroepwoningen"
    parts.append(html_table(shown, cols, nadruk=shown["buurtcode"].isin(kb["buurtcode"]),
                            caption=f"Buurten met de meeste {wat} ({min(max_rijen, len(b))} van "
                            f"{len(b)})"))
    voet = (f"Naoorlogs = bouwjaar {start}–{end} (BAG). Gemarkeerd: buurten van een "
            "proeftuinkandidaat. WOZ en aandeel koop: CBS.")
    parts.append(f'<p class="wv-voetnoot">{esc(voet)}</p>')
    return Html(f'<div class="wv-sectie">{"".join(parts)}</div>')


def chart_bouwjaar(run: Run, code: str) -> Html:
    """Build-year distribution of the gemeente against the whole build."""
    from woonvoorraad.report.charts import plot_bouwjaar, plot_not_available

    naam = run.gemeentenaam(code)
    eigen = run.dwellings(code, ["bouwjaar"])
    if eigen is None:
        fig = plot_not_available("Woningen naar bouwjaar",
                                 "dwellings.parquet ontbreekt in de build",
                                 synthetisch=run.synthetic)
        return html_figure(fig, alt="Bouwjaarverdeling niet beschikbaar")
    alle = run.dwellings(None, ["bouwjaar"]) if len(run.gemeenten()) > 1 else None
    fig = plot_bouwjaar(eigen["bouwjaar"],
                        vergelijking=None if alle is None else alle["bouwjaar"],
                        naoorlogs=_naoorlogs_period(run), naam=naam,
                        naam_vergelijking="vergelijkingsgebied",
                        titel=f"Woningen naar bouwjaar, {naam}", synthetisch=run.synthetic)
    return html_figure(fig, alt=f"Verdeling van de woningen in {naam} naar bouwjaar")


def section_labels(run: Run, code: str, *, max_rijen: int = 10) -> Html:
    """Energy labels: registered versus estimated, coverage, poor labels per buurt."""
    g = gemeente_summary(run, code)
    slecht = "/".join(_config_value(run, "labels", "slecht", ["E", "F", "G"]))
    n_reg, n = g["n_label_geregistreerd"], g["n_woningen"]
    methode = str((run.manifest.get("label_model") or {}).get("methode") or "pbl")
    schatting = ("met het labelmodel: per woning een kans op elk label, getraind op de "
                 "geregistreerde labels in het gebied (zie 'Hoe zeker zijn de geschatte "
                 "labels?')" if methode == "model" else
                 "met het PBL-standaardlabel voor hun woningtype en bouwperiode (PBL Vesta "
                 "MAIS kentallen 2024)")
    tekst = (f"Van de {esc(fmt_aantal(n))} woningen heeft {esc(fmt_aantal(n_reg))} "
             f"({esc(fmt_pct(g['label_dekking']))}) een geregistreerd energielabel in "
             f"EP-Online. Voor de overige woningen is het label geschat {esc(schatting)}. "
             f"Naar verwachting heeft {esc(fmt_pct(g['aandeel_label_efg']))} van de woningen "
             f"label {esc(slecht)}: de geregistreerde labels plus, voor de andere woningen, "
             "de geschatte kansen. Een geschat label zegt iets over woningen van dat soort; "
             "de werkelijke staat van één woning kan afwijken.")
    b = run.select_buurten(code).copy()
    b["_sort"] = as_numeric(b, "aandeel_label_efg")
    b = b.sort_values(["_sort", "buurtcode"], ascending=[False, True], na_position="last")
    cols = [("buurtnaam", "Buurt", "tekst"), ("n_woningen", "Woningen", "aantal"),
            ("label_dekking", "Labeldekking", "aandeel"),
            ("n_label_efg_verwacht" if "n_label_efg_verwacht" in b.columns else "n_label_efg",
             f"Woningen {slecht} (verwacht)", "getal0"),
            ("aandeel_label_efg", f"% {slecht} (verwacht)", "aandeel"),
            ("aandeel_label_efg_geregistreerd", f"% {slecht} (alleen geregistreerd)",
             "aandeel")]
    t = html_table(b.head(max_rijen), cols,
                   caption=f"Buurten met het grootste aandeel label {slecht} "
                   f"({min(max_rijen, len(b))} van {len(b)})")
    voet = ("Labeldekking = woningen met een geregistreerd label / alle woningen. "
            f"'% {slecht} (alleen geregistreerd)' is het aandeel onder de geregistreerde labels.")
    return Html(f'<div class="wv-sectie">{html_paragraph(tekst)}{t}'
                f'<p class="wv-voetnoot">{esc(voet)}</p></div>')


def chart_labels(run: Run, code: str) -> Html:
    """Label distribution of the gemeente (registered vs estimated)."""
    from woonvoorraad.report.charts import plot_labels, plot_not_available

    naam = run.gemeentenaam(code)
    w = run.dwellings(code, ["energielabel", "label_bron",
                             *(f"p_label_{k}" for k in "ABCDEFG")])
    if w is None:
        fig = plot_not_available("Energielabels", "dwellings.parquet ontbreekt in de build",
                                 synthetisch=run.synthetic)
    else:
        fig = plot_labels(w, titel=f"Energielabels van de woningen, {naam}",
                          synthetisch=run.synthetic)
    return html_figure(fig, alt=f"Energielabels van de woningen in {naam}")


def _present_scores(run: Run) -> list[str]:
    return [s for s in SCORES if s in run.buurten.columns]


def section_scores(run: Run, code: str) -> Html:
    """The five scores per buurt, with lifecycle need and financial room explained."""
    scores = _present_scores(run)
    if not scores:
        return _no_analysis()
    uitleg = [
        ("Energiebehoefte", "verwacht aandeel woningen met label E/F/G (geregistreerd, en "
         "voor de andere woningen de geschatte kansen), aandeel naoorlogse woningen en "
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
    b = run.select_buurten(code).copy()
    sort = "proeftuinscore" if "proeftuinscore" in b.columns else scores[0]
    b["_sort"] = as_numeric(b, sort)
    b = b.sort_values(["_sort", "buurtcode"], ascending=[False, True], na_position="last")
    kb = candidate_buurten(run, code)
    kort = {"energiebehoefte": "Energie", "levensloopbehoefte": "Levensloop",
            "financiele_ruimte": "Fin. ruimte", "doelgroepconcentratie": "Doelgroep",
            "demografische_druk": "Demografie"}
    cols: list[str | tuple[str, str, str]] = [("buurtnaam", "Buurt", "tekst")]
    cols += [(s, kort.get(s, describe_column(s).label), "score") for s in scores]
    if "proeftuinscore" in b.columns:
        cols.append(("proeftuinscore", "Proeftuinscore", "score"))
    t = html_table(b, cols, nadruk=b["buurtcode"].isin(kb["buurtcode"]),
                   caption="Scores per buurt, 0–1 (gesorteerd op proeftuinscore)")
    return Html(f'<div class="wv-sectie">{html_paragraph(esc(tekst))}<ul>{lijst}</ul>{t}'
                '<p class="wv-voetnoot">Gemarkeerd: buurten van een proeftuinkandidaat. '
                "Bron: BAG, CBS, EP-Online; scores woonvoorraad.</p></div>")


def chart_woz_inkomen(run: Run, code: str) -> Html:
    """WOZ value against income per buurt, the gemeente highlighted."""
    from woonvoorraad.report.charts import plot_woz_inkomen

    naam = run.gemeentenaam(code)
    eigen = run.select_buurten(code)
    if as_numeric(eigen, "woz_gemiddeld").isna().all() or (
            as_numeric(eigen, "inkomen_per_inwoner").isna().all()
            and as_numeric(eigen, "inkomen_huishouden_geschat").isna().all()):
        return not_available("grafiek van WOZ-waarde en inkomen: "
                             + (_missing_reason(run, "woz_gemiddeld")
                                or _missing_reason(run, "inkomen_per_inwoner")
                                or "WOZ-waarde of inkomen ontbreekt") + ".")
    inkomen = ("inkomen_huishouden_geschat"
               if as_numeric(run.buurten, "inkomen_huishouden_geschat").notna().any()
               else "inkomen_per_inwoner")
    fig = plot_woz_inkomen(run.buurten, gemeentecode=code,
                           kandidaten=candidate_buurten(run, code)["buurtcode"],
                           inkomen_kolom=inkomen,
                           woz_grens=_config_value(run, "doelgroep", "woz_grens"),
                           titel=f"WOZ-waarde en inkomen per buurt, {naam}",
                           synthetisch=run.synthetic)
    return html_figure(fig, alt=f"WOZ-waarde tegen inkomen per buurt in {naam}")


def section_kosten(run: Run, code: str, *, max_rijen: int = 10) -> Html:
    """Upgrade cost: every dwelling below B to B, below C to C, and E/F/G only beside it."""
    kb = run.read_table("kosten_buurt")
    if kb is None:
        return _no_analysis()
    g = gemeente_summary(run, code)

    def bereik(naam: str, suffix: str = "") -> str:
        return esc(fmt_bereik(g.get(f"{naam}_laag{suffix}"), g.get(f"{naam}_hoog{suffix}")))

    def aantal(naam: str) -> str:
        return esc(fmt_aantal(g.get(naam)))

    def euro(naam: str) -> str:
        return esc(fmt_euro_kort(g.get(naam)))

    efg = (f"Alleen de woningen met label E, F of G (naar verwachting {aantal('n_efg_verwacht')}"
           "; daarop richten de landelijke programma's zich): naar label B "
           f"{bereik('investering_efg_naar_b')}, naar label C {euro('investering_efg_naar_c')}.")
    if g.get("kosten_alleen_efg"):
        tekst = ("Deze build is gemaakt vóór de raming van alle woningen onder label B: "
                 "alleen woningen met label E, F of G zijn geraamd; woningen met label C of D "
                 f"ontbreken. {efg}")
    else:
        tekst = (f"Naar verwachting hebben {aantal('n_onder_b_verwacht')} woningen een label "
                 "onder B (C tot en met G). Ze naar label B brengen kost naar schatting "
                 f"{bereik('investering_naar_b')}. De {aantal('n_onder_c_verwacht')} woningen "
                 "onder label C (D tot en met G) naar label C brengen kost "
                 f"{euro('investering_naar_c')}; PBL geeft voor de stappen naar C één bedrag, "
                 "geen bandbreedte. " + efg)
        if not is_missing(g.get("n_onder_b_verwacht_naoorlogs")):
            tekst += (" Van de woningen onder B zijn er naar verwachting "
                      f"{aantal('n_onder_b_verwacht_naoorlogs')} naoorlogs; die naar label B "
                      f"brengen kost {bereik('investering_naar_b', '_naoorlogs')}.")
    zonder = g.get("n_onder_b_zonder_kentallen")
    if not is_missing(zonder) and float(zonder) >= 0.5:
        tekst += (f" Voor naar verwachting {esc(fmt_aantal(zonder))} woningen onder B "
                  "ontbreken kentallen (woningtype of bouwperiode onbekend); zij tellen niet "
                  "mee in de bedragen.")
    methode = ("Kentallen: PBL Vesta MAIS kentallen 2024 (vast bedrag per woning plus een "
               "bedrag per m²) naar woningtype en bouwperiode; naar B een lage en een hoge "
               "variant, naar C één bedrag. Waar het label niet geregistreerd is, is het "
               "bedrag een verwachting over de kansen op elk label (en het aantal woningen "
               "een verwacht aantal). Het is een raming voor schilverbetering, geen offerte.")
    sel = kb[kb["gemeentecode"].astype(str) == code].copy()
    nieuw = "investering_naar_b_hoog" in sel.columns
    sel["_sort"] = as_numeric(sel, "investering_naar_b_hoog" if nieuw else "kosten_b_max")
    sel = sel.sort_values(["_sort", "buurtcode"], ascending=[False, True], na_position="last")
    kolommen = (["buurtnaam", ("n_onder_b_verwacht", "Woningen onder B", "getal0"),
                 ("investering_naar_b_laag", "Naar B, laag", "euro_kort"),
                 ("investering_naar_b_hoog", "Naar B, hoog", "euro_kort"),
                 ("investering_naar_c", "Naar C", "euro_kort"),
                 ("n_efg_verwacht", "Waarvan E/F/G", "getal0"),
                 ("investering_efg_naar_b_laag", "E/F/G naar B, laag", "euro_kort"),
                 ("investering_efg_naar_b_hoog", "E/F/G naar B, hoog", "euro_kort")] if nieuw
                else ["buurtnaam", ("n_efg", "Woningen E/F/G", "aantal"),
                      ("kosten_b_min", "E/F/G naar B, laag", "euro_kort"),
                      ("kosten_b_max", "E/F/G naar B, hoog", "euro_kort")])
    t = html_table(sel.head(max_rijen), kolommen,
                   caption=f"Buurten met de hoogste raming ({min(max_rijen, len(sel))} van "
                           f"{len(sel)})")
    return Html(f'<div class="wv-sectie">{html_paragraph(tekst)}'
                f"{html_paragraph(esc(methode))}{t}</div>")


def chart_kosten(run: Run, code: str) -> Html:
    """Cost range per buurt (all dwellings below B; E/F/G only for older builds)."""
    from woonvoorraad.report.charts import plot_costs

    kb = run.read_table("kosten_buurt")
    if kb is None:
        return Html("")
    sel = kb[kb["gemeentecode"].astype(str) == code]
    fig = plot_costs(sel, titel=f"Investering naar label B per buurt, "
                                f"{run.gemeentenaam(code)}",
                     synthetisch=run.synthetic)
    return html_figure(fig, alt="Bandbreedte van de investering per buurt")


def section_typologie(run: Run, code: str) -> Html:
    """The buurt typology: which types occur in the gemeente."""
    prof = run.read_table("typologie_profielen")
    if prof is None or "typologie_cluster" not in run.buurten.columns:
        return _no_analysis()
    ty = (run.manifest.get("analysis") or {}).get("typologie") or {}
    kenmerken = ", ".join(describe_column(k).label for k in ty.get("kenmerken", []))
    methode = {"kmeans": "k-means", "gmm": "een Gaussisch mengmodel",
               "ward": "hiërarchische clustering (Ward)"}.get(str(ty.get("methode")),
                                                              str(ty.get("methode", "k-means")))
    intro = (f"Alle buurten van de build zijn met {esc(methode)} in "
             f"{esc(ty.get('k', len(prof)))} buurttypen verdeeld op: {esc(kenmerken)}. "
             "De namen volgen uit de kenmerken waarin een type het meest afwijkt van het "
             "gemiddelde. Gemiddelde silhouetwaarde "
             f"{esc(fmt_score(ty.get('silhouette')))} (−1 tot 1; hoger = scherper "
             "onderscheiden types).")
    b = run.select_buurten(code)
    cl = as_numeric(b, "typologie_cluster")
    per = pd.DataFrame({"cluster": cl, "n_woningen": as_numeric(b, "n_woningen")}).dropna(
        subset=["cluster"]).groupby("cluster").agg(n_gem=("n_woningen", "size"),
                                                   w_gem=("n_woningen", "sum"))
    p = prof.copy()
    p["cluster"] = pd.to_numeric(p["cluster"], errors="coerce")
    p = p.merge(per, left_on="cluster", right_index=True, how="left")
    p[["n_gem", "w_gem"]] = p[["n_gem", "w_gem"]].fillna(0)
    t = html_table(p, [("cluster", "Nr.", "getal0"), ("naam", "Buurttype", "tekst"),
                  ("n_gem", "Buurten in gemeente", "aantal"),
                  ("w_gem", "Woningen in gemeente", "aantal"),
                  ("n_buurten", "Buurten in vergelijkingsgebied", "aantal")],
                   nadruk=p["n_gem"] > 0, caption="Buurttypen")
    n_uit = int(cl.isna().sum())
    voet = ("Gemarkeerd: typen die in de gemeente voorkomen."
            + (f" {n_uit} buurt(en) zonder type (te weinig woningen of gegevens; zie "
               "uitgesloten.csv)." if n_uit else ""))
    return Html(f'<div class="wv-sectie">{html_paragraph(intro)}{t}'
                f'<p class="wv-voetnoot">{esc(voet)}</p></div>')


def chart_typologie(run: Run, code: str) -> Html:
    """Z-score profiles of the buurt types, those in the gemeente marked."""
    from woonvoorraad.report.charts import plot_typologie

    prof = run.read_table("typologie_profielen")
    if prof is None:
        return Html("")
    present = set(as_numeric(run.select_buurten(code), "typologie_cluster").dropna().astype(int))
    fig = plot_typologie(prof, markeer=present, synthetisch=run.synthetic)
    return html_figure(fig, alt="Profielen van de buurttypen")


def make_map(run: Run, code: str, *, offline: bool = True) -> Any:
    """The folium map of gemeente ``code`` (indicators, candidates outlined)."""
    from woonvoorraad.report.maps import map_from_buurten

    b = run.select_buurten(code)
    kb = candidate_buurten(run, code).rename(columns={"naam": "eenheid_naam"})
    sub = "Woningvoorraad per buurt" + (f" · CBS {run.cbs_jaar}" if run.cbs_jaar else "")
    return map_from_buurten(b, candidates=kb if len(kb) else None,
                            woonplaatsen=villages_of(run, code),
                            title=f"Gemeente {run.gemeentenaam(code)}", subtitle=sub,
                            synthetic=run.synthetic, offline=offline,
                            tooltip=[c for c in ("typologie_naam",) if c in b.columns])


def section_kaart(run: Run, code: str, *, kaart_bestand: str = "", offline: bool = True,
                  hoogte: int = 760) -> Html:
    """The interactive map embedded in the report, with a link to the standalone file."""
    from woonvoorraad.report.maps import map_iframe

    m = make_map(run, code, offline=offline)
    uitleg = ("Kies rechtsboven de indicator waarmee de buurten gekleurd worden; beweeg over "
              "een buurt voor de cijfers. Proeftuinkandidaten hebben een dikke rand. "
              + ("Dorpen (BAG-woonplaatsen) zijn cirkels, oranje als het dorp kandidaat is. "
                 if m.woonvoorraad_info["n_woonplaatsen"] else "")
              + "Op een telefoon zitten de indicatoren achter de knop rechtsboven en klapt de "
              "legenda in met een tik op de titel. De kaart werkt zonder internetverbinding.")
    link = ""
    if kaart_bestand:
        safe = esc(Path(kaart_bestand).name)
        link = (f'<p class="wv-voetnoot">Kaart op volledig scherm: <a href="{safe}">'
                f"{safe}</a></p>")
    return Html(f'<div class="wv-sectie">{html_paragraph(esc(uitleg))}'
                f"{map_iframe(m, height=hoogte, title='Kaart ' + run.gemeentenaam(code))}"
                f"{link}</div>")


def section_bronnen(run: Run) -> Html:
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
    start, end = _naoorlogs_period(run)
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
    miss_html = ("".join(f"<li>{esc(describe_column(c).label)}: "
                         f"{esc(_translate_reason(str(r)))}</li>" for c, r in missing.items())
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
        html_table(inp_rows, [("rol", "Bron", "tekst"), ("bestand", "Bestand", "tekst"),
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
