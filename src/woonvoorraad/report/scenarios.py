"""Report section "Kan de doelgroep het dragen?": the scenarios of issue #15 for one gemeente.

Per package (naar label B / C, isolatie E/F/G naar C, levensloopbestendig) the section shows
for the gemeente's buurten: the investment, subsidies, energy saved, the target group's net
monthly cost, the share for whom the package is cash-flow neutral (with its range), those who
need a Verzilverlening or extra subsidy, and the gap in euro; then the buurten ranked on it.
It reads the tables of a scenario run (``woonvoorraad scenario --out DIR``) when given its
folder, else it computes them for the gemeente with the packaged settings
(:func:`woonvoorraad.scenarios.run_scenarios`; a few seconds).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from woonvoorraad.errors import WoonvoorraadError
from woonvoorraad.report.format import Html, esc, fmt_aantal, fmt_bereik, fmt_euro, fmt_pct
from woonvoorraad.report.html import html_paragraph, html_table, not_available
from woonvoorraad.report.run import Run

logger = logging.getLogger(__name__)

_KOLOMMEN_BUURT = (
    ("buurtnaam", "Buurt", "tekst"),
    ("n_doelgroep_pakket", "Doelgroep met opgave", "aantal"),
    ("aandeel_neutraal", "Kostenneutraal", "aandeel"),
    ("netto_maandlast_doelgroep", "Netto maandlast (euro)", "euro"),
    ("n_extra_subsidie", "Extra subsidie nodig", "aantal"),
    ("n_verzilverlening", "Verzilverlening mogelijk", "aantal"),
    ("gat_euro", "Financieringsgat", "euro_kort"),
    ("rang", "Rang", "getal0"),
)


def scenario_tables(run: Run, code: str, scenario_dir: str | Path | None = None
                    ) -> tuple[pd.DataFrame | None, str | None]:
    """The scenario rows of the gemeente's buurten, or None and the reason."""
    if scenario_dir is not None:
        path = Path(scenario_dir) / "scenario_buurten.csv"
        if not path.is_file():
            return None, f"geen scenario_buurten.csv in {Path(scenario_dir).name}"
        b = pd.read_csv(path, dtype={"buurtcode": "string", "gemeentecode": "string"})
        return b[b["gemeentecode"] == code].reset_index(drop=True), None
    from woonvoorraad.scenarios import run_scenarios

    codes = run.buurten.loc[run.buurten["gemeentecode"] == code, "buurtcode"].tolist()
    try:
        res = run_scenarios(run.path, buurtcodes=codes)
    except WoonvoorraadError as exc:
        return None, f"de scenario's konden niet worden berekend ({exc})"
    return res.buurten, None


def section_scenarios(run: Run, code: str, *, scenario_dir: str | Path | None = None,
                      top: int = 8) -> Html:
    """"Kan de doelgroep het dragen?": per package the target group's balance and the gap."""
    b, reden = scenario_tables(run, code, scenario_dir)
    if b is None or b.empty:
        return not_available(f"de scenario's: {reden or 'geen buurten'}")
    naam = run.gemeentenaam(code)
    parts = []
    if run.synthetic:
        parts.append(html_paragraph("<strong>SYNTHETISCHE DEMODATA</strong> — fictieve "
                                    "buurten; de bedragen illustreren de methode."))
    parts.append(html_paragraph(
        f"Wat vraagt een verbeterpakket van de eigenaren in de doelgroep in {esc(naam)}? Per "
        "pakket: de investering volgens de PBL-kentallen, min ISDE-subsidie en een eventuele "
        "gemeentelijke bijdrage, geleend bij het Warmtefonds (0% rente onder de inkomensgrens) "
        "of met een Blijverslening, tegenover de besparing op gas volgens de PBL-warmtevraag per "
        "label. Kostenneutraal betekent: de besparing betaalt de lening. Het financieringsgat is "
        "het bedrag dat een instrument moet toevoegen opdat dat voor iedereen geldt."))
    for scen, part in b.groupby("scenario", sort=False):
        ndp = part["n_doelgroep_pakket"].sum()
        n_neu = part["n_neutraal"].sum()
        lo = part["n_neutraal_laag"].sum() / max(part["n_doelgroep_pakket_laag"].sum(), 1e-9)
        hi = part["n_neutraal_hoog"].sum() / max(part["n_doelgroep_pakket_hoog"].sum(), 1e-9)
        tekst = (f"<strong>{esc(str(scen).replace('_', ' '))}</strong>: van de naar verwachting "
                 f"{esc(fmt_aantal(ndp))} doelgroepwoningen met deze opgave is het pakket voor "
                 f"{esc(fmt_pct(n_neu / ndp if ndp > 0 else float('nan')))} kostenneutraal "
                 f"(bereik {esc(fmt_pct(lo))} – {esc(fmt_pct(hi))}); "
                 f"{esc(fmt_aantal(part['n_extra_subsidie'].sum()))} eigenaren hebben extra "
                 f"subsidie nodig en {esc(fmt_aantal(part['n_verzilverlening'].sum()))} komen "
                 "naar leeftijd mogelijk in aanmerking voor een Verzilverlening. Het "
                 f"financieringsgat is {esc(fmt_euro(part['gat_euro'].sum()))} "
                 f"({esc(fmt_bereik(part['gat_euro_laag'].sum(), part['gat_euro_hoog'].sum()))}).")
        parts.append(html_paragraph(tekst))
        rows = part[part["n_doelgroep_pakket"] > 0.5].sort_values("rang").head(top)
        parts.append(html_table(rows, list(_KOLOMMEN_BUURT),
                                caption=f"Buurten, best sluitend eerst ({esc(str(scen))})"))
    parts.append('<p class="wv-voetnoot">' + esc(
        "Bronnen: PBL Vesta MAIS kentallen 2024 (investering, warmtevraag per label); prijzen, "
        "rentes en subsidies met bron en datum in config/scenarios.toml. Grenzen: de besparing "
        "volgt uit gemiddelde warmtevraag per label, niet uit het werkelijke gasverbruik van "
        "een huishouden; eigendom, WOZ en inkomen per woning zijn onbekend (de doelgroep is "
        "over de naoorlogse woningen van de buurt verdeeld); de Verzilverlening is benaderd met "
        "het aandeel 65-plussers.") + "</p>")
    return Html('<div class="wv-sectie">' + "".join(parts) + "</div>")
