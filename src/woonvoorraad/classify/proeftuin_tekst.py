"""Dutch reasons for proeftuin candidates (:mod:`woonvoorraad.classify.proeftuinen`).

A reason names the scores that put a unit on the list with the figures behind them, the
post-war stock and the number of target dwellings (with its range when the stock stage gives
one). Label shares say how much of them is estimated, and that they are PBL default labels per
type and build period when the build had no label model (``label_methode == "pbl"``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.classify.scores import SCORE_LABELS, SCORES

logger = logging.getLogger(__name__)

#: How the reasons describe PBL default labels.
PBL_TEKST = "PBL-standaardlabels per type en bouwperiode"


def pct(x: float) -> str:
    """A fraction as a whole Dutch percentage.

    Examples
    --------
    >>> pct(0.456)
    '46%'
    """
    return f"{round(100 * x):d}%"


def _num(n: float) -> str:
    return f"{round(n):,d}".replace(",", ".")


def _signed(x: float, nd: int = 1) -> str:
    text = f"{x:+.{nd}f}".replace(".", ",")
    return text.replace("-", "−")


def _niveau_woord(v: float) -> str:
    return "zeer hoge" if v >= 0.75 else "hoge" if v >= 0.5 else "matige" if v >= 0.25 else "lage"


def _ok(x: Any) -> bool:
    if x is None or x is pd.NA:
        return False
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def geen_kandidaat_tekst(min_aandeel: float, min_n: float, *, hoofdletter: bool = False) -> str:
    """The Dutch remark for a gemeente without a unit that meets the post-war rule.

    Examples
    --------
    >>> geen_kandidaat_tekst(0.3, 50)
    'geen buurt of dorp met genoeg naoorlogse woningen (minimaal 30% en 50 woningen)'
    """
    text = (f"geen buurt of dorp met genoeg naoorlogse woningen (minimaal {pct(min_aandeel)} "
            f"en {_num(min_n)} woningen)")
    return f"Geen kandidaat: {text}" if hoofdletter else text


def _label_tekst(row: Mapping[str, Any], label_methode: str | None = None) -> str:
    """The expected E–G share (post-war beside it), saying how much of it is estimated.

    Examples
    --------
    >>> _label_tekst({"aandeel_label_efg_verwacht": 0.46, "aandeel_label_geschat": 0.78})
    ' (46% label E–G, 78% van de labels geschat)'
    >>> _label_tekst({"aandeel_label_efg_verwacht": 0.87, "aandeel_label_geschat": 1.0},
    ...              label_methode="pbl")
    ' (87% label E–G, alle labels zijn PBL-standaardlabels per type en bouwperiode, \
geen geregistreerde labels)'
    >>> _label_tekst({"aandeel_label_efg": 0.2, "aandeel_label_geschat": 0.1})
    ' (20% label E–G)'
    """
    efg = row.get("aandeel_label_efg_verwacht")
    if not _ok(efg):
        efg = row.get("aandeel_label_efg")
    if not _ok(efg):
        return ""
    parts = [f"{pct(efg)} label E–G"]
    naoorlogs = row.get("aandeel_label_efg_verwacht_naoorlogs")
    if _ok(naoorlogs):
        parts.append(f"naoorlogs {pct(naoorlogs)}")
    geschat = row.get("aandeel_label_geschat")
    if not _ok(geschat):
        parts.append("geregistreerd of geschat")
    elif label_methode == "pbl" and float(geschat) >= 0.995:
        parts.append(f"alle labels zijn {PBL_TEKST}, geen geregistreerde labels")
    elif label_methode == "pbl" and float(geschat) > 0.5:
        parts.append(f"{pct(geschat)} van de labels zijn {PBL_TEKST}, "
                     "geen geregistreerde labels")
    elif float(geschat) > 0.5:
        parts.append(f"{pct(geschat)} van de labels geschat")
    return f" ({', '.join(parts)})"


def _zin(score: str, row: Mapping[str, Any], label_methode: str | None) -> str:
    v = float(row[score])
    if score == "energiebehoefte":
        return f"{_niveau_woord(v)} energiebehoefte{_label_tekst(row, label_methode)}"
    if score == "levensloopbehoefte":
        parts = []
        if _ok(row.get("aandeel_65plus")):
            parts.append(f"{pct(row['aandeel_65plus'])} 65-plus")
        if _ok(row.get("aandeel_eengezins_voor_1975")):
            parts.append(f"{pct(row['aandeel_eengezins_voor_1975'])} eengezinswoningen "
                         "van vóór 1975")
        extra = f" ({', '.join(parts)})" if parts else ""
        return f"{_niveau_woord(v)} levensloopbehoefte{extra}"
    if score == "financiele_ruimte":
        word = ("zeer weinig" if v < 0.25 else "weinig" if v < 0.5
                else "redelijke" if v < 0.75 else "veel")
        parts = []
        r = row.get("woz_t_o_v_mediaan")
        if _ok(r):
            r = float(r)
            parts.append(f"WOZ {pct(1 - r)} onder gemeentemediaan" if r < 0.995
                         else f"WOZ {pct(r - 1)} boven gemeentemediaan" if r > 1.005
                         else "WOZ gelijk aan gemeentemediaan")
        if _ok(row.get("aandeel_laag_inkomen")):
            parts.append(f"{pct(row['aandeel_laag_inkomen'])} lage inkomens")
        extra = f" ({', '.join(parts)})" if parts else ""
        return f"{word} financiële ruimte{extra}"
    if score == "doelgroepconcentratie":
        a = row.get("aandeel_doelgroep")
        extra = f" ({pct(a)} van de woningen)" if _ok(a) else ""
        return f"{_niveau_woord(v)} concentratie doelgroepwoningen{extra}"
    parts = []
    if _ok(row.get("trend_huishoudens")):
        parts.append(f"huishoudens {_signed(100 * row['trend_huishoudens'])}%/jaar")
    if _ok(row.get("prognose_huishoudens")):
        parts.append(f"prognose gemeente {_signed(100 * row['prognose_huishoudens'])}%/jaar")
    if _ok(row.get("trend_65plus")):
        parts.append(f"65-plusaandeel {_signed(100 * row['trend_65plus'])} pp/jaar")
    extra = f" ({', '.join(parts)})" if parts else ""
    return f"{_niveau_woord(v)} demografische druk{extra}"


def doelgroep_tekst(row: Mapping[str, Any]) -> str:
    """The number of target dwellings, with its range when there is one.

    Examples
    --------
    >>> doelgroep_tekst({"n_doelgroep": 120.4, "n_doelgroep_laag": 80, "n_doelgroep_hoog": 160})
    'naar schatting 120 (80–160) doelgroepwoningen'
    >>> doelgroep_tekst({"n_doelgroep": 1.0})
    '1 doelgroepwoning'
    """
    n = row.get("n_doelgroep")
    if not _ok(n):
        return ""
    n = float(n)
    word = f"doelgroepwoning{'' if round(n) == 1 else 'en'}"
    lo, hi = row.get("n_doelgroep_laag"), row.get("n_doelgroep_hoog")
    if _ok(lo) and _ok(hi) and round(float(hi)) > round(float(lo)):
        return f"naar schatting {_num(n)} ({_num(float(lo))}–{_num(float(hi))}) doelgroepwoningen"
    return f"{_num(n)} {word}"


def explain_candidate(
    row: Mapping[str, Any],
    *,
    gewichten: Mapping[str, float],
    min_doelgroep: float,
    max_onderdelen: int = 3,
    label_methode: str | None = None,
) -> str:
    """One-line Dutch reason: the scores and figures that put a unit on the list.

    The scores are ordered by their contribution (``|weight| × oriented score``); those with an
    oriented score ≥ 0.5 are named (at least one, at most ``max_onderdelen``), followed by the
    post-war stock, the number of target dwellings (with its range) and, where it applies, the
    minimum-size remark and the scores that had no data.

    Examples
    --------
    >>> row = {"energiebehoefte": 0.9, "aandeel_label_efg_verwacht": 0.68,
    ...        "aandeel_label_geschat": 0.7, "levensloopbehoefte": 0.7,
    ...        "aandeel_65plus": 0.41, "financiele_ruimte": 0.2, "woz_t_o_v_mediaan": 0.82,
    ...        "doelgroepconcentratie": 0.3, "demografische_druk": float("nan"),
    ...        "n_doelgroep": 212, "n_naoorlogs": 300, "aandeel_naoorlogs": 0.6}
    >>> explain_candidate(row, gewichten={"energiebehoefte": 0.3, "levensloopbehoefte": 0.2,
    ...                       "financiele_ruimte": -0.15, "doelgroepconcentratie": 0.25,
    ...                       "demografische_druk": 0.1}, min_doelgroep=50)
    'Zeer hoge energiebehoefte (68% label E–G, 70% van de labels geschat), \
hoge levensloopbehoefte (41% 65-plus), zeer weinig financiële ruimte \
(WOZ 18% onder gemeentemediaan); 300 naoorlogse woningen (60%); 212 doelgroepwoningen \
(zonder demografische druk: geen gegevens)'
    """
    contrib = []
    missing = []
    for s, w_raw in gewichten.items():
        w = float(w_raw)
        if w == 0:
            continue
        v = row.get(s)
        if not _ok(v):
            missing.append(SCORE_LABELS[s])
            continue
        oriented = float(v) if w > 0 else 1.0 - float(v)
        contrib.append((abs(w) * oriented, oriented, s))
    contrib.sort(key=lambda t: (-t[0], SCORES.index(t[2])))
    chosen = [s for _, o, s in contrib if o >= 0.5][:max_onderdelen] or [
        s for _, _, s in contrib[:1]]
    if chosen:
        text = ", ".join(_zin(s, row, label_methode) for s in chosen)
        text = text[0].upper() + text[1:]
    else:
        text = "Geen scores beschikbaar; gekozen op het aantal doelgroepwoningen"
    post, share = row.get("n_naoorlogs"), row.get("aandeel_naoorlogs")
    if _ok(post):
        text += f"; {_num(float(post))} naoorlogse woningen"
        if _ok(share):
            text += f" ({pct(float(share))})"
    n = row.get("n_doelgroep")
    if _ok(n):
        text += f"; {doelgroep_tekst(row)}"
        if float(n) < min_doelgroep:
            text += f" — kleiner dan de minimumomvang ({_num(float(n))} < {_num(min_doelgroep)})"
    if missing:
        text += f" (zonder {', '.join(missing)}: geen gegevens)"
    return text
