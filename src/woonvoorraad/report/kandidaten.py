"""Report sections on the proeftuin candidates and the instruments that fit them."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from woonvoorraad.report._sectie import _lowercase_first, _no_analysis
from woonvoorraad.report.format import (
    Html,
    describe_column,
    esc,
    fmt_aantal,
    fmt_getal,
    fmt_pct,
    fmt_score,
    is_missing,
)
from woonvoorraad.report.html import html_figure, html_paragraph, html_table, not_available
from woonvoorraad.report.run import (
    Run,
    candidate_buurten,
    candidates_of,
)

logger = logging.getLogger(__name__)

_NIVEAU_NL = {"buurt": "buurten", "wijk": "wijken", "woonplaats": "dorpen (woonplaatsen)"}


def _short_list(fit: pd.DataFrame, n: int) -> list[str]:
    """The candidate's short list: instruments on the short list of most of its buurten
    (``kortlijst`` of ``instrumenten.csv``), then by priority; at most ``n``."""
    if "kortlijst" in fit.columns:
        on = fit["kortlijst"].astype(str).str.lower().isin(["true", "1"])
        fit = fit[on] if on.any() else fit
    prio = (pd.to_numeric(fit["prioriteit"], errors="coerce") if "prioriteit" in fit.columns
            else pd.Series(0.0, index=fit.index))
    order = (fit.assign(_p=prio.fillna(9.0)).groupby(fit["naam"].astype(str))
             .agg(n=("buurtcode", "nunique"), p=("_p", "min"))
             .sort_values(["n", "p"], ascending=[False, True], kind="mergesort"))
    return list(order.index[:n])


def _is_true(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def section_proeftuinen(run: Run, code: str, *, max_kandidaten: int = 5) -> Html:
    """Proeftuin candidates with their reasons, at the primary level and the other one."""
    alle = candidates_of(run, code, alle=True)
    if alle is None:
        return _no_analysis()
    k = candidates_of(run, code)
    pt = run.config.get("proeftuin") or {}
    gew = pt.get("gewichten") or {}
    gew_tekst = ", ".join(f"{_lowercase_first(describe_column(s).label.replace(' (score)', ''))} "
                          f"{fmt_getal(v, 2)}" for s, v in gew.items())
    new = "primair" in alle.columns  # builds before issue #13 have one level, no flags
    prim_rows = alle[alle["primair"].map(_is_true)] if new else alle
    prim = str(prim_rows["niveau"].iloc[0]) if len(prim_rows) else None
    leeg = prim_rows[prim_rows["geen_kandidaat"].map(_is_true)] if new else alle.iloc[0:0]
    niveau_tekst = (f"Kandidaten zijn hier {_NIVEAU_NL.get(str(prim), str(prim))}"
                    if prim else "Kandidaten zijn buurten, wijken of dorpen (zie configuratie)")
    if pt.get("niveau") == "auto":
        niveau_tekst += (" (in een landelijke gemeente met weinig woningen per km² land en "
                         "meerdere dorpen: dorpen, elders buurten)")
    naoorlogs = ""
    if pt.get("min_aandeel_naoorlogs") is not None:
        naoorlogs = (f" en minimaal {fmt_pct(pt.get('min_aandeel_naoorlogs'), 0)} en "
                     f"{fmt_aantal(pt.get('min_naoorlogs'))} naoorlogse woningen")
    intro = (f"{niveau_tekst}, met de hoogste proeftuinscore: een gewogen gemiddelde van de "
             f"scores (gewichten: {gew_tekst}; een negatief gewicht telt 1 − score, dus minder "
             "financiële ruimte weegt zwaarder). Een kandidaat heeft minimaal "
             f"{fmt_aantal(pt.get('min_doelgroep'))} doelgroepwoningen{naoorlogs}; stabiliteit "
             "is het aandeel van de variaties in de gewichten (±"
             f"{fmt_pct(pt.get('stabiliteit_variatie'), 0)}) en in de schatting van de "
             "doelgroep (laag, midden, hoog) waarin de kandidaat in de top blijft.")
    if k.empty:
        nb = not_available(str(leeg["reden"].iloc[0]).removeprefix("Geen kandidaat: ") + "."
                           if len(leeg) else "geen kandidaat in deze gemeente: geen buurt met "
                           "doelgroepwoningen, of de doelgroep is onbekend.")
        return Html(f'<div class="wv-sectie">{html_paragraph(esc(intro))}{nb}'
                    f"{_other_level(alle)}</div>")
    cards = []
    inst = run.read_table("instrumenten")
    for rec in k.head(max_kandidaten).to_dict("records"):
        naam = rec.get("eenheid_naam") or rec.get("buurtnaam") or rec.get("eenheid_code")
        stab = fmt_pct(rec.get("stabiliteit_top_n"), 0, na="n.v.t.")
        feiten = [
            ("Doelgroep", fmt_aantal(rec.get("n_doelgroep"))),
            ("Woningen", fmt_aantal(rec.get("n_woningen"))),
            ("Naoorlogs", fmt_pct(rec.get("aandeel_naoorlogs"), 0)),
            ("Proeftuinscore", fmt_score(rec.get("proeftuinscore"))),
            ("Stabiliteit", stab),
        ]
        feit_html = " · ".join(f"{esc(a)}: <strong>{esc(b)}</strong>" for a, b in feiten)
        extra = ""
        if _is_true(rec.get("voorlopig")):
            extra += ('<p class="wv-voetnoot"><strong>Voorlopige kandidaat.</strong> Het aantal '
                      "doelgroepwoningen is onbekend: de CBS-gegevens missen het aandeel "
                      "koopwoningen of de WOZ-waarde. De buurt is gekozen op de andere scores; "
                      "vul die gegevens aan voordat u een proeftuin kiest.</p>")
        elif str(rec.get("voldoet_minimum")).lower() in ("false", "0"):
            extra += ('<p class="wv-voetnoot">Kleiner dan de minimumomvang: de beste buurt '
                      "van de gemeente, maar met minder doelgroepwoningen dan het minimum.</p>")
        opm = rec.get("stabiliteit_opmerking")
        if is_missing(rec.get("stabiliteit_top_n")) and not is_missing(opm) and str(opm):
            extra += f'<p class="wv-voetnoot">Stabiliteit {esc(str(opm))}.</p>'
        if inst is not None:
            codes = {c.strip() for c in str(rec.get("buurtcodes") or "").split(",")}
            fit = inst[inst["buurtcode"].astype(str).isin(codes)
                       & (inst["status"].astype(str) == "past")]
            if len(fit):
                kort = _short_list(fit, int((run.config.get("instrumenten") or {}).get(
                    "kortlijst_n", 3)))
                labels = "".join(f'<span class="wv-label">{esc(n)}</span>' for n in kort)
                rest = fit["naam"].astype(str).nunique() - len(kort)
                extra += (f"<p>Eerst te overwegen instrumenten: {labels}"
                          + (f" <span class=\"wv-voetnoot\">(nog {rest} passend, zie "
                             "Instrumenten)</span>" if rest > 0 else "") + "</p>")
        cards.append(
            f'<div class="wv-kandidaat"><h4>{esc(rec.get("rang"))}. {esc(naam)}</h4>'
            f"<p>{feit_html}</p><p>{esc(rec.get('reden') or '')}</p>{extra}</div>")
    meer = ""
    if len(k) > max_kandidaten:
        meer = (f'<p class="wv-voetnoot">{len(k) - max_kandidaten} kandidaten meer staan in '
                "proeftuinen.csv van de build.</p>")
    return Html(f'<div class="wv-sectie">{html_paragraph(esc(intro))}{"".join(cards)}{meer}'
                f"{_other_level(alle)}</div>")


def _other_level(alle: pd.DataFrame) -> str:
    """A small table of the candidates at the gemeente's other level, if the build has one."""
    if "primair" not in alle.columns:
        return ""
    rest = alle[~alle["primair"].map(_is_true)]
    if rest.empty:
        return ""
    niveau = str(rest["niveau"].iloc[0])
    if rest["geen_kandidaat"].map(_is_true).all():
        return html_paragraph(esc(f"Op het niveau van {_NIVEAU_NL.get(niveau, niveau)}: "
                                  + str(rest["reden"].iloc[0]).removeprefix(
                                      "Geen kandidaat: ") + "."))
    return str(html_table(rest[~rest["geen_kandidaat"].map(_is_true)], [
        ("rang", "Rang", "tekst"), ("eenheid_naam", "Naam", "tekst"),
        ("n_doelgroep", "Doelgroep", "aantal"), ("aandeel_naoorlogs", "Naoorlogs", "aandeel"),
        ("proeftuinscore", "Proeftuinscore", "score")],
        caption=f"Ter vergelijking: kandidaten op het niveau van {_NIVEAU_NL.get(niveau, niveau)}"))


def chart_scoreprofiel(run: Run, code: str, *, max_kandidaten: int = 5) -> Html:
    """Score profile of the gemeente's candidates."""
    from woonvoorraad.report.charts import plot_score_profile

    k = candidates_of(run, code)
    if k is None or k.empty:
        return Html("")
    k = k.head(max_kandidaten).copy()
    k["_naam"] = k.get("eenheid_naam", k.get("buurtnaam"))
    fig = plot_score_profile(k, naam_kolom="_naam",
                             titel=f"Scoreprofiel van de proeftuinkandidaten, "
                                   f"{run.gemeentenaam(code)}",
                             synthetisch=run.synthetic)
    return html_figure(fig, alt="Scores van de proeftuinkandidaten")


def section_instrumenten(run: Run, code: str) -> Html:
    """Instruments that fit the buurten, with the rule that chose them."""
    inst = run.read_table("instrumenten")
    if inst is None:
        return _no_analysis()
    intro = ("Per buurt is nagegaan welke instrumenten passen bij het profiel, met vaste "
             "regels uit de configuratie (instrumenten.toml). 'Past' betekent: het instrument "
             "is het overwegen waard in deze buurt; of een huishouden in aanmerking komt, "
             "beslist de aanbieder. 'Onbekend': een gegeven voor de regel ontbreekt.")
    sel = inst[inst["gemeentecode"].astype(str) == code]
    if sel.empty:
        return Html(f'<div class="wv-sectie">{html_paragraph(esc(intro))}'
                    f"{not_available('geen instrument past in een buurt van deze gemeente.')}"
                    "</div>")
    kb = set(candidate_buurten(run, code)["buurtcode"])
    rows = []
    for (_code, naam), g in sel.groupby(["instrument", "naam"], sort=False):
        past = g[g["status"].astype(str) == "past"]
        bron = str(g["bron"].iloc[0]) if "bron" in g.columns and g["bron"].notna().any() else ""
        rows.append({
            "naam": f"{esc(naam)}" + (f'<span class="wv-klein">{esc(bron)}</span>' if bron
                                      else ""),
            "n_past": len(past),
            "n_kandidaat": int(past["buurtcode"].astype(str).isin(kb).sum()),
            "n_onbekend": int((g["status"].astype(str) == "onbekend").sum()),
            "regel": f'<span class="wv-regel">{esc(g["regel"].iloc[0])}</span>',
            "_sort": str(naam),
        })
    frame = pd.DataFrame(rows).sort_values(["n_past", "_sort"], ascending=[False, True])
    t = html_table(frame, [("naam", "Instrument (aanbieder)", "html"),
                      ("n_past", "Past in buurten", "aantal"),
                      ("n_kandidaat", "waarvan kandidaat", "aantal"),
                      ("n_onbekend", "Onbekend", "aantal"), ("regel", "Regel", "html")],
                   caption="Instrumenten en het aantal buurten waar ze passen")
    return Html(f'<div class="wv-sectie">{html_paragraph(esc(intro))}{t}</div>')


