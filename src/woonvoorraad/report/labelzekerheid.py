"""Report section "Hoe zeker zijn de geschatte labels?".

Where EP-Online has no label the build estimates one: with the label model (class
probabilities from a model fitted on the area's registered labels) or, where the model did not
beat the baseline or too few labels exist, the PBL default label of the dwelling's type and
period. This section shows, for one gemeente, how much rests on estimates, how well the model
did on held-out registered labels beside the PBL baseline (``manifest.json["label_model"]``,
``label_model.csv``), whether the build fell back to PBL and why, the selection-bias caveat,
and the expected E/F/G share of the post-war stock with its 90 % interval.

The interval is the Poisson-binomial spread of the count given the probabilities (normal
approximation: mean Σp, variance Σp(1−p)) plus, when the model was used, its validated
per-buurt error: each buurt's estimated dwellings share an error with standard deviation
``√(π/2) · MAE · n_model`` (MAE = the cross-validated per-buurt E/F/G error), the buurten's
errors taken as independent — the same variance as the buurt intervals of
:mod:`woonvoorraad.stock.indicators`, summed. It does not cover registered labels that no
longer describe the home (a renovation after the registration); for a synthetic run the
demo's truth check (``manifest["waarheid"]``) shows how large that is.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.report.format import Html, esc, fmt_aantal, fmt_getal, fmt_pct, is_missing
from woonvoorraad.report.html import html_paragraph, html_table, not_available
from woonvoorraad.report.run import Run, gemeente_summary

logger = logging.getLogger(__name__)

#: z of a two-sided 90 % interval.
Z90 = 1.6449
#: Validation metrics: key in ``manifest["label_model"]["validatie"]``, Dutch label, format,
#: whether higher is better.
MATEN: tuple[tuple[str, str, str, bool], ...] = (
    ("nauwkeurigheid", "Nauwkeurigheid (juiste klasse)", "pct", True),
    ("log_loss", "Log loss", "getal3", False),
    ("brier", "Brier-score", "getal3", False),
    ("mae_buurt_efg", "Gem. fout E/F/G-aandeel per buurt", "pp", False),
)
_P_EFG = ("p_label_E", "p_label_F", "p_label_G")


def label_model_info(run: Run) -> tuple[dict[str, Any] | None, str | None]:
    """The build's label-model facts, or None and the reason they are missing.

    Prefers ``manifest.json["label_model"]``; falls back to ``label_model.csv``.
    """
    info = run.manifest.get("label_model")
    if isinstance(info, dict) and info:
        return info, None
    tabel = run.read_table("label_model")
    if tabel is not None and len(tabel) and "maat" in tabel.columns:
        out: dict[str, Any] = {"validatie": {}}
        for _, r in tabel.iterrows():
            maat = str(r["maat"])
            if not is_missing(r.get("model")) or not is_missing(r.get("pbl_standaard")):
                out["validatie"][maat] = {"model": r.get("model"), "pbl": r.get("pbl_standaard")}
            elif not is_missing(r.get("waarde")):
                out[maat] = r.get("waarde")
        return out, None
    return None, ("deze build heeft geen gegevens over het labelmodel (manifest.json zonder "
                  "'label_model' en geen label_model.csv; gemaakt met een oudere versie)")


def efg_interval(run: Run, code: str, *, naoorlogs: bool = True
                 ) -> tuple[dict[str, float] | None, str | None]:
    """Expected E/F/G share of the gemeente's (post-war) dwellings with a 90 % interval.

    Returns
    -------
    (dict or None, reason or None)
        ``n``, ``verwacht`` (expected count), ``aandeel``, ``p05``, ``p95``,
        ``n_geregistreerd``, ``aandeel_geregistreerd`` (E/F/G among the registered labels).
    """
    cols = [*_P_EFG, "naoorlogs", "label_bron", "energielabel", "buurtcode"]
    w = run.dwellings(code, cols)
    if w is None:
        return None, "dwellings.parquet ontbreekt in de build"
    if not all(c in w.columns for c in _P_EFG):
        return None, "deze build heeft geen labelkansen per woning (gemaakt zonder labelmodel)"
    if naoorlogs:
        if "naoorlogs" not in w.columns:
            return None, "de woningtabel heeft geen kolom naoorlogs"
        w = w[w["naoorlogs"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    p = w[list(_P_EFG)].to_numpy(dtype=float, na_value=np.nan).sum(axis=1)
    ok = np.isfinite(p)
    w, p = w[ok], p[ok]
    n = len(p)
    if n == 0:
        return None, "geen naoorlogse woningen met een label of labelkans" if naoorlogs \
            else "geen woningen met een label of labelkans"
    e, var = float(p.sum()), float((p * (1 - p)).sum())
    mae = _model_mae(run)
    if mae and "label_bron" in w.columns and "buurtcode" in w.columns:
        model = (w["label_bron"].astype("string") == "model").fillna(False).to_numpy()
        per_buurt = pd.Series(model).groupby(w["buurtcode"].astype("string").to_numpy()).sum()
        var += float(((math.sqrt(math.pi / 2) * mae * per_buurt.to_numpy(dtype=float)) ** 2
                      ).sum())
    sd = math.sqrt(max(var, 0.0))
    out = {"n": float(n), "verwacht": e, "aandeel": e / n,
           "p05": min(max((e - Z90 * sd) / n, 0.0), 1.0),
           "p95": min(max((e + Z90 * sd) / n, 0.0), 1.0),
           "n_geregistreerd": 0.0, "aandeel_geregistreerd": float("nan")}
    if "label_bron" in w.columns:
        reg = (w["label_bron"].astype("string") == "geregistreerd").fillna(False).to_numpy()
        lab = w.loc[reg, "energielabel"].astype("string")
        out["n_geregistreerd"] = float(reg.sum())
        if reg.any():
            out["aandeel_geregistreerd"] = float(lab.isin(["E", "F", "G"]).mean())
    return out, None


def _model_mae(run: Run) -> float | None:
    """The model's validated per-buurt E/F/G error, when the build used the model."""
    info = run.manifest.get("label_model")
    if not isinstance(info, dict) or info.get("methode") != "model":
        return None
    m = (info.get("validatie") or {}).get("mae_buurt_efg")
    value = m.get("model") if isinstance(m, dict) else None
    return None if is_missing(value) else float(value)


def _waarheid(run: Run) -> Html | None:
    """The synthetic demo's truth check of the labels, when the build recorded one."""
    check = (run.manifest.get("waarheid") or {}).get("labels")
    if not isinstance(check, dict) or not run.manifest.get("synthetic"):
        return None

    def pct(key: str) -> str:
        v = check.get(key)
        return "onbekend" if is_missing(v) else fmt_pct(v)

    def pp(key: str) -> str:
        v = check.get(key)
        return "onbekend" if is_missing(v) else _fmt_maat(v, "pp")

    return html_paragraph(
        "Toets tegen de waarheid (alleen bij SYNTHETISCHE DEMODATA: de generator kent het "
        "werkelijke label van elke woning). Voor de woningen zonder geregistreerd label zit het "
        f"geschatte E/F/G-aandeel per buurt gemiddeld {esc(pp('onbekend_mae_buurt_efg'))} naast "
        f"het werkelijke (gemiddelde afwijking {esc(pp('onbekend_bias_buurt_efg'))}); van de "
        f"naoorlogse is {esc(pct('onbekend_naoorlogs_efg_geschat'))} geschat tegen "
        f"{esc(pct('onbekend_naoorlogs_efg_waar'))} werkelijk. Het 90%-interval per buurt "
        f"bevat het werkelijke aandeel in {esc(pct('dekking_90'))} van de buurten; "
        f"{esc(pct('geregistreerd_anders_dan_waar'))} van de geregistreerde labels beschrijft de "
        "woning niet meer zoals ze nu is (verbouwd na de registratie), en dat deel valt buiten "
        f"het interval: tegen de labels zoals geregistreerd is de dekking "
        f"{esc(pct('dekking_90_beschreven'))}.")


def _fmt_maat(value: Any, formaat: str) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "niet beschikbaar"
    if not np.isfinite(x):
        return "niet beschikbaar"
    if formaat == "pct":
        return fmt_pct(x)
    if formaat == "pp":
        return f"{fmt_getal(100 * x, 1)} procentpunt"
    return fmt_getal(x, 3)


def _beter(model: Any, pbl: Any, hoger_beter: bool) -> str:
    try:
        m, b = float(model), float(pbl)
    except (TypeError, ValueError):
        return ""
    if not (np.isfinite(m) and np.isfinite(b)):
        return ""
    if m == b:
        return "gelijk"
    return "model" if (m > b) == hoger_beter else "PBL-standaardlabel"


def _validatie_tabel(info: dict[str, Any]) -> Html | None:
    val = info.get("validatie") or {}
    rows = []
    for key, label, formaat, hoger in MATEN:
        m = val.get(key)
        if not isinstance(m, dict):
            continue
        rows.append({"maat": label, "model": _fmt_maat(m.get("model"), formaat),
                     "pbl": _fmt_maat(m.get("pbl"), formaat),
                     "beter": _beter(m.get("model"), m.get("pbl"), hoger)})
    if not rows:
        return None
    return html_table(pd.DataFrame(rows), [("maat", "Maat", "tekst"),
                                           ("model", "Labelmodel", "tekst"),
                                           ("pbl", "PBL-standaardlabel", "tekst"),
                                           ("beter", "Beter", "tekst")],
                      caption="Toets op achtergehouden geregistreerde labels")


def section_label_zekerheid(run: Run, code: str) -> Html:
    """"Hoe zeker zijn de geschatte labels?": coverage, validation, fallback, bias, interval."""
    g = gemeente_summary(run, code)
    naam = run.gemeentenaam(code)
    parts = [html_paragraph(
        f"In {esc(naam)} heeft {esc(fmt_pct(g['label_dekking']))} van de "
        f"{esc(fmt_aantal(g['n_woningen']))} woningen een geregistreerd energielabel "
        f"(EP-Online). Voor de overige {esc(fmt_pct(g['aandeel_label_geschat']))} is het label "
        "geschat; alle cijfers over labels, de energiebehoefte en de kosten rusten voor dat "
        "deel op de schatting.")]

    info, reden = label_model_info(run)
    if info is None:
        parts.append(not_available(f"de toets van de geschatte labels: {reden}. De geschatte "
                                   "labels zijn dan PBL-standaardlabels per woningtype en "
                                   "bouwperiode, niet getoetst"))
    else:
        methode = str(info.get("methode") or "")
        n_reg = info.get("n_geregistreerd")
        folds = info.get("folds")
        if methode == "model":
            tekst = ("De labels zonder registratie zijn geschat met een labelmodel dat in deze "
                     "build is getraind op de geregistreerde labels van het hele gebied"
                     + (f" ({esc(fmt_aantal(n_reg))} labels)" if not is_missing(n_reg) else "")
                     + ": per woning een kans op elk label, uit bouwjaar, woningtype, "
                     "oppervlakte, het pand en de labels in de buurt. Het model is getoetst "
                     "op geregistreerde labels die het bij het trainen niet zag, per buurt "
                     "achtergehouden"
                     + (f" ({esc(folds)} delen)" if not is_missing(folds) else "")
                     + ", naast het PBL-standaardlabel voor type en bouwperiode. Het model "
                     "deed het beter dan het PBL-standaardlabel, daarom gebruikt de build het.")
        else:
            waarom = info.get("reden_nl") or info.get("reden") or "geen reden vastgelegd"
            tekst = ("Deze build gebruikt voor woningen zonder registratie het "
                     "PBL-standaardlabel voor hun woningtype en bouwperiode (PBL Vesta MAIS "
                     f"kentallen 2024), niet het labelmodel. Reden: {esc(waarom)}.")
        parts.append(html_paragraph(tekst))
        tabel = _validatie_tabel(info)
        parts.append(tabel if tabel is not None else not_available(
            "toetsmaten van het labelmodel (niet berekend in deze build)"))

    model = info is not None and info.get("methode") == "model"
    parts.append(html_paragraph(
        "Let op de selectie: geregistreerde labels zijn geen aselecte steekproef. Verkochte, "
        "verhuurde en gerenoveerde woningen en nieuwbouw hebben vaker een label; oude "
        "koopwoningen die lang dezelfde eigenaar hebben vaker niet. Een model dat op de "
        "geregistreerde labels is getraind kan de ongelabelde woningen daardoor iets te "
        "gunstig inschatten"
        + ("; de build weegt de geregistreerde labels naar hoe ongelabelde woningen eruitzien "
           "om dat te beperken" if model and run.config.get("labels", {}).get("weging", False)
           else "")
        + (". De toetsmaten gelden voor woningen zoals de gelabelde." if model else ".")))

    iv, reden_iv = efg_interval(run, code, naoorlogs=True)
    if iv is None:
        parts.append(not_available(f"het verwachte aandeel E/F/G van de naoorlogse woningen "
                                   f"met onzekerheidsmarge: {reden_iv}"))
    elif iv["p95"] - iv["p05"] < 1e-9 and iv["n_geregistreerd"] < iv["n"]:
        # one label per dwelling (PBL defaults): no probabilities, so no interval; a zero-width
        # interval would claim a certainty nobody has checked
        parts.append(html_paragraph(
            f"Van de {esc(fmt_aantal(iv['n']))} naoorlogse woningen heeft "
            f"{esc(fmt_pct(iv['aandeel']))} label E, F of G volgens de geregistreerde labels en "
            "de PBL-standaardlabels. Een onzekerheidsmarge is er niet: een standaardlabel is één "
            "label per woningtype en bouwperiode, zonder kansen, en hoe ver het ernaast zit is "
            "in deze build niet getoetst. Behandel dit aandeel als een aanname, niet als een "
            "meting."))
    else:
        tekst = (f"Van de {esc(fmt_aantal(iv['n']))} naoorlogse woningen heeft naar "
                 f"verwachting {esc(fmt_pct(iv['aandeel']))} label E, F of G "
                 f"(90%-interval {esc(fmt_pct(iv['p05']))} – {esc(fmt_pct(iv['p95']))}, "
                 f"ongeveer {esc(fmt_aantal(iv['verwacht']))} woningen).")
        if not is_missing(iv["aandeel_geregistreerd"]):
            tekst += (f" Onder de {esc(fmt_aantal(iv['n_geregistreerd']))} naoorlogse "
                      "woningen met een geregistreerd label is dat "
                      f"{esc(fmt_pct(iv['aandeel_geregistreerd']))}.")
        parts.append(html_paragraph(tekst))
        mae = _model_mae(run)
        if mae is not None:
            voet = ("Het interval bevat de toevalsspreiding van het aantal bij de geschatte "
                    "kansen en de fout van het model zoals die in de toets is gemeten: per "
                    f"buurt zat het model gemiddeld {_fmt_maat(mae, 'pp')} naast het "
                    "werkelijke aandeel E/F/G (de buurten onafhankelijk genomen).")
        else:
            voet = ("Het interval geeft alleen de toevalsspreiding van het aantal bij de "
                    "geschatte kansen (woningen onafhankelijk); de fout van de schatting zelf "
                    "zit er niet in, dus de werkelijke onzekerheid is groter.")
        voet += (" Een geregistreerd label beschrijft de woning bij de registratie; na een "
                 "verbouwing kan het achterlopen, en dat zit niet in het interval.")
        parts.append('<p class="wv-voetnoot">' + esc(voet) + "</p>")
    waarheid = _waarheid(run)
    if waarheid is not None:
        parts.append(waarheid)
    return Html('<div class="wv-sectie">' + "".join(parts) + "</div>")
