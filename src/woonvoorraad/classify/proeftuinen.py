"""Proeftuin (pilot) candidates per gemeente, with Dutch reasons and a rank-stability check.

Every unit (buurt, wijk or woonplaats; ``[proeftuin] niveau``) gets a *proeftuinscore*: the
weighted mean of its scores with the weights of ``[proeftuin.gewichten]`` (a negative weight
uses ``1 - score``, so less financial room ranks higher), rescaled over the scores the unit
has. Per gemeente the candidates are the ``top_n`` units with at least ``min_doelgroep`` target
dwellings, ranked by that score; ties are broken by more target dwellings, then by code, so
the ranking does not depend on row order. A gemeente with target dwellings but no unit of the
minimum size still gets its best unit, marked "kleiner dan de minimumomvang". A gemeente whose
target group is unknown in every unit (the CBS input lacks tenure or WOZ) gets its best unit with
post-war dwellings as one provisional candidate (``voorlopig``), ranked on the scores it has
(``[proeftuin] voorlopig_bij_onbekende_doelgroep``).

Aggregated levels: counts are summed, scores and figures are dwelling-weighted means of the
buurten (``n_woningen``). The woonplaats of a buurt is, in order of preference, the
``woonplaats`` column of ``buurten``, the modal ``woonplaats`` of its dwellings, or its CBS
wijk (``wijknaam``; in rural Drenthe a wijk is usually one village).

Stability: every weight is multiplied by a factor drawn from ``U(1 - v, 1 + v)`` (fixed seed),
and separately moved ``±v`` one weight at a time; ``stabiliteit_top_n`` is the share of random
draws in which a candidate stays in its gemeente's top N, the long table
:attr:`ProeftuinResultaat.stabiliteit` holds its rank per one-at-a-time variant.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.classify.scores import SCORE_LABELS, SCORES
from woonvoorraad.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

NIVEAUS: tuple[str, ...] = ("buurt", "wijk", "woonplaats")

#: Figures carried to the units for the reasons (dwelling-weighted at aggregated levels).
KENGETALLEN: tuple[str, ...] = (
    "aandeel_label_efg", "aandeel_label_efg_verwacht", "aandeel_label_efg_verwacht_naoorlogs",
    "aandeel_label_geschat", "aandeel_naoorlogs", "aandeel_65plus", "aandeel_eengezins_voor_1975",
    "woz_t_o_v_mediaan", "aandeel_laag_inkomen", "inkomen_t_o_v_daeb", "trend_huishoudens",
    "trend_65plus", "prognose_huishoudens",
)


@dataclass
class ProeftuinResultaat:
    """Result of :func:`select_candidates`.

    Attributes
    ----------
    kandidaten
        One row per candidate (see :func:`select_candidates`).
    stabiliteit
        Long table: candidate × one-at-a-time weight variant → rank and ``in_top_n``.
    eenheden
        All units with their proeftuinscore and rank within the gemeente.
    uitgesloten
        Units that could not be ranked, with the reason.
    notities
        Remarks (woonplaats source, gemeenten without target dwellings, ...).
    """

    kandidaten: pd.DataFrame
    stabiliteit: pd.DataFrame
    eenheden: pd.DataFrame
    uitgesloten: pd.DataFrame
    notities: list[str] = field(default_factory=list)


def check_config(config: Mapping[str, Any]) -> None:
    """Check ``[proeftuin]``; raise :class:`ConfigError` naming the key."""
    p = config["proeftuin"]
    if p["niveau"] not in NIVEAUS:
        raise ConfigError(f"proeftuin.niveau must be one of {NIVEAUS}, got {p['niveau']!r}")
    if int(p["top_n"]) < 1:
        raise ConfigError("proeftuin.top_n must be >= 1")
    if float(p["min_doelgroep"]) < 0:
        raise ConfigError("proeftuin.min_doelgroep must be >= 0")
    if not 0 <= float(p["stabiliteit_variatie"]) < 1:
        raise ConfigError("proeftuin.stabiliteit_variatie must be in [0, 1)")
    if int(p["stabiliteit_trekkingen"]) < 1:
        raise ConfigError("proeftuin.stabiliteit_trekkingen must be >= 1")
    w = p["gewichten"]
    unknown = set(w) - set(SCORES)
    if unknown:
        raise ConfigError(f"proeftuin.gewichten: unknown score(s) {sorted(unknown)}")
    if sum(abs(float(v)) for v in w.values()) <= 0:
        raise ConfigError("proeftuin.gewichten: all weights are zero")


# -- Dutch formatting -------------------------------------------------------------------------

def _pct(x: float) -> str:
    return f"{round(100 * x):d}%"


def _num(n: float) -> str:
    return f"{round(n):,d}".replace(",", ".")


def _signed(x: float, nd: int = 1) -> str:
    text = f"{x:+.{nd}f}".replace(".", ",")
    return text.replace("-", "−")


def _niveau_woord(v: float) -> str:
    return "zeer hoge" if v >= 0.75 else "hoge" if v >= 0.5 else "matige" if v >= 0.25 else "lage"


def _ok(x: Any) -> bool:
    return x is not None and x is not pd.NA and bool(np.isfinite(float(x)))


def _label_tekst(row: Mapping[str, Any]) -> str:
    """The expected E–G share (post-war beside it), saying when it is mostly estimated.

    Examples
    --------
    >>> _label_tekst({"aandeel_label_efg_verwacht": 0.46, "aandeel_label_geschat": 0.8})
    ' (46% label E–G, grotendeels geschat)'
    >>> _label_tekst({"aandeel_label_efg_verwacht": 0.3, "aandeel_label_geschat": 1.0,
    ...               "aandeel_label_efg_verwacht_naoorlogs": 0.52})
    ' (30% label E–G, naoorlogs 52%, geheel geschat)'
    >>> _label_tekst({"aandeel_label_efg": 0.2, "aandeel_label_geschat": 0.1})
    ' (20% label E–G)'
    """
    efg = row.get("aandeel_label_efg_verwacht")
    if not _ok(efg):
        efg = row.get("aandeel_label_efg")
    if not _ok(efg):
        return ""
    parts = [f"{_pct(efg)} label E–G"]
    naoorlogs = row.get("aandeel_label_efg_verwacht_naoorlogs")
    if _ok(naoorlogs):
        parts.append(f"naoorlogs {_pct(naoorlogs)}")
    geschat = row.get("aandeel_label_geschat")
    if not _ok(geschat):
        parts.append("geregistreerd of geschat")
    elif float(geschat) >= 0.995:
        parts.append("geheel geschat")
    elif float(geschat) > 0.5:
        parts.append("grotendeels geschat")
    return f" ({', '.join(parts)})"


def _zin(score: str, row: Mapping[str, Any]) -> str:
    v = float(row[score])
    if score == "energiebehoefte":
        return f"{_niveau_woord(v)} energiebehoefte{_label_tekst(row)}"
    if score == "levensloopbehoefte":
        parts = []
        if _ok(row.get("aandeel_65plus")):
            parts.append(f"{_pct(row['aandeel_65plus'])} 65-plus")
        if _ok(row.get("aandeel_eengezins_voor_1975")):
            parts.append(f"{_pct(row['aandeel_eengezins_voor_1975'])} eengezinswoningen "
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
            parts.append(f"WOZ {_pct(1 - r)} onder gemeentemediaan" if r < 0.995
                         else f"WOZ {_pct(r - 1)} boven gemeentemediaan" if r > 1.005
                         else "WOZ gelijk aan gemeentemediaan")
        if _ok(row.get("aandeel_laag_inkomen")):
            parts.append(f"{_pct(row['aandeel_laag_inkomen'])} lage inkomens")
        extra = f" ({', '.join(parts)})" if parts else ""
        return f"{word} financiële ruimte{extra}"
    if score == "doelgroepconcentratie":
        a = row.get("aandeel_doelgroep")
        extra = f" ({_pct(a)} van de woningen)" if _ok(a) else ""
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


def explain_candidate(
    row: Mapping[str, Any],
    *,
    gewichten: Mapping[str, float],
    min_doelgroep: float,
    max_onderdelen: int = 3,
) -> str:
    """One-line Dutch reason: the scores and figures that put a unit on the list.

    The scores are ordered by their contribution (``|weight| × oriented score``); those with an
    oriented score ≥ 0.5 are named (at least one, at most ``max_onderdelen``), followed by the
    number of target dwellings and, where it applies, the minimum-size remark and the scores
    that had no data.

    Examples
    --------
    >>> row = {"energiebehoefte": 0.9, "aandeel_label_efg_verwacht": 0.68,
    ...        "aandeel_label_geschat": 0.7, "levensloopbehoefte": 0.7,
    ...        "aandeel_65plus": 0.41, "financiele_ruimte": 0.2, "woz_t_o_v_mediaan": 0.82,
    ...        "doelgroepconcentratie": 0.3, "demografische_druk": float("nan"),
    ...        "n_doelgroep": 212}
    >>> explain_candidate(row, gewichten={"energiebehoefte": 0.3, "levensloopbehoefte": 0.2,
    ...                       "financiele_ruimte": -0.15, "doelgroepconcentratie": 0.25,
    ...                       "demografische_druk": 0.1}, min_doelgroep=50)
    'Zeer hoge energiebehoefte (68% label E–G, grotendeels geschat), \
hoge levensloopbehoefte (41% 65-plus), zeer weinig financiële ruimte \
(WOZ 18% onder gemeentemediaan); 212 doelgroepwoningen (zonder demografische druk: geen gegevens)'
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
    n = row.get("n_doelgroep")
    if chosen:
        text = ", ".join(_zin(s, row) for s in chosen)
        text = text[0].upper() + text[1:]
    else:
        text = "Geen scores beschikbaar; gekozen op het aantal doelgroepwoningen"
    if _ok(n):
        text += f"; {_num(float(n))} doelgroepwoning{'' if round(float(n)) == 1 else 'en'}"
        if float(n) < min_doelgroep:
            text += f" — kleiner dan de minimumomvang ({_num(float(n))} < {_num(min_doelgroep)})"
    if missing:
        text += f" (zonder {', '.join(missing)}: geen gegevens)"
    return text


# -- units ------------------------------------------------------------------------------------

def assign_woonplaats(
    buurten: pd.DataFrame, dwellings: pd.DataFrame | None = None
) -> tuple[pd.Series, str]:
    """Woonplaats (village) of every buurt and a description of where it came from.

    Order of preference: ``buurten["woonplaats"]``; the modal ``woonplaats`` of the buurt's
    dwellings (ties: alphabetical); the CBS ``wijknaam`` (else ``wijkcode``). Gaps in a source
    are filled from the next one.

    Examples
    --------
    >>> b = pd.DataFrame({"buurtcode": ["BU1", "BU2"], "wijknaam": ["Sleen", "Sleen"]})
    >>> s, bron = assign_woonplaats(b)
    >>> s.tolist(), bron
    (['Sleen', 'Sleen'], 'CBS-wijk (wijknaam) als benadering van de woonplaats')
    """
    fallback_col = "wijknaam" if "wijknaam" in buurten.columns else "wijkcode"
    if fallback_col not in buurten.columns:
        raise InputError("buurten lacks wijknaam/wijkcode needed for the woonplaats level")
    fallback = buurten[fallback_col].astype("string")
    if "woonplaats" in buurten.columns and buurten["woonplaats"].notna().any():
        s = buurten["woonplaats"].astype("string")
        bron = "kolom woonplaats van buurten"
    elif dwellings is not None and "woonplaats" in dwellings.columns:
        d = dwellings[["buurtcode", "woonplaats"]].dropna()
        counts = d.groupby(["buurtcode", "woonplaats"], observed=True).size().rename("n")
        counts = counts.reset_index().sort_values(
            ["buurtcode", "n", "woonplaats"], ascending=[True, False, True], kind="mergesort")
        modal = counts.drop_duplicates("buurtcode").set_index("buurtcode")["woonplaats"]
        s = buurten["buurtcode"].map(modal).astype("string")
        bron = "meest voorkomende woonplaats van de woningen in de buurt"
    else:
        return fallback.fillna(buurten["buurtcode"].astype("string")), (
            f"CBS-wijk ({fallback_col}) als benadering van de woonplaats")
    n_fill = int(s.isna().sum())
    if n_fill:
        bron += f"; {n_fill} buurt(en) zonder woonplaats aangevuld met de {fallback_col}"
    return s.fillna(fallback).fillna(buurten["buurtcode"].astype("string")), bron


def _wmean(values: pd.Series, weights: pd.Series, groups: list[pd.Series]) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce").astype(float)
    w = pd.to_numeric(weights, errors="coerce").astype(float)
    w = w.where(w > 0, 0.0).fillna(0.0)
    ok = v.notna()
    df = pd.DataFrame({"vw": (v * w).where(ok, 0.0), "w": w.where(ok, 0.0),
                       "v": v, "one": ok.astype(float)})
    g = df.groupby(groups, sort=True)
    sums = g[["vw", "w", "one"]].sum()
    plain = g["v"].mean()
    out = sums["vw"] / sums["w"].where(sums["w"] > 0)
    return out.fillna(plain).where(sums["one"] > 0)


def make_units(
    buurten: pd.DataFrame,
    *,
    niveau: str,
    dwellings: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Build the ranking units (buurt, wijk or woonplaats) from scored buurten.

    Returns
    -------
    (pandas.DataFrame, list of str)
        Units with ``gemeentecode``, ``gemeentenaam``, ``niveau``, ``eenheid_code``,
        ``eenheid_naam``, ``buurtcodes``, ``n_buurten``, ``n_doelgroep``, ``n_woningen``,
        ``aandeel_doelgroep``, the scores and :data:`KENGETALLEN`; and remarks.
    """
    if niveau not in NIVEAUS:
        raise ConfigError(f"proeftuin.niveau must be one of {NIVEAUS}, got {niveau!r}")
    notes: list[str] = []
    b = buurten.sort_values("buurtcode", kind="mergesort").reset_index(drop=True)
    for col in ("gemeentenaam", "buurtnaam"):
        if col not in b.columns:
            b[col] = pd.NA
    cols = [*SCORES, *KENGETALLEN, "n_doelgroep", "n_woningen", "aandeel_doelgroep"]
    for col in cols:
        if col not in b.columns:
            b[col] = np.nan
    if niveau == "buurt":
        out = pd.DataFrame({
            "gemeentecode": b["gemeentecode"], "gemeentenaam": b["gemeentenaam"],
            "niveau": "buurt", "eenheid_code": b["buurtcode"], "eenheid_naam": b["buurtnaam"],
            "buurtcodes": b["buurtcode"], "n_buurten": 1,
        })
        for col in cols:
            out[col] = pd.to_numeric(b[col], errors="coerce").astype(float)
        return out, notes
    if niveau == "wijk":
        if "wijkcode" not in b.columns:
            raise InputError("buurten lacks wijkcode needed for proeftuin.niveau='wijk'")
        key = b["wijkcode"].astype("string").fillna("onbekend")
        naam = (b["wijknaam"] if "wijknaam" in b.columns else b["wijkcode"]).astype("string")
    else:
        key, bron = assign_woonplaats(b, dwellings)
        naam = key
        notes.append(f"woonplaats: {bron}")
    groups = [b["gemeentecode"].rename("gemeentecode"), key.rename("eenheid_code")]
    g = b.groupby(groups, sort=True)
    out = pd.DataFrame({
        "gemeentenaam": g["gemeentenaam"].first(),
        "eenheid_naam": naam.groupby(groups, sort=True).first(),
        "buurtcodes": g["buurtcode"].agg(lambda s: ",".join(sorted(s))),
        "n_buurten": g["buurtcode"].size(),
        "n_doelgroep": pd.to_numeric(b["n_doelgroep"], errors="coerce").groupby(
            groups, sort=True).sum(min_count=1),
        "n_woningen": pd.to_numeric(b["n_woningen"], errors="coerce").groupby(
            groups, sort=True).sum(min_count=1),
    })
    for col in [*SCORES, *KENGETALLEN]:
        out[col] = _wmean(b[col], b["n_woningen"], groups)
    out["aandeel_doelgroep"] = out["n_doelgroep"] / out["n_woningen"].where(out["n_woningen"] > 0)
    part_nan = pd.to_numeric(b["n_doelgroep"], errors="coerce").isna().groupby(
        groups, sort=True).any() & out["n_doelgroep"].notna()
    if part_nan.any():
        notes.append(f"{int(part_nan.sum())} {niveau}(en) met buurten zonder n_doelgroep: "
                     "som over de bekende buurten")
    out = out.reset_index()
    out.insert(2, "niveau", niveau)
    return out, notes


# -- scoring and ranking ----------------------------------------------------------------------

def _matrix(units: pd.DataFrame, gewichten: Mapping[str, float]) -> tuple[
        np.ndarray, np.ndarray, list[str]]:
    names = [s for s in SCORES if float(gewichten.get(s, 0.0)) != 0.0]
    w = np.array([float(gewichten[s]) for s in names])
    vals = np.column_stack([units[s].to_numpy(dtype=float) for s in names]) if names else \
        np.zeros((len(units), 0))
    oriented = np.where(w > 0, vals, 1.0 - vals)
    return oriented, np.abs(w), names


def _composite(oriented: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over available scores; ``weights`` is (m,) or (m, draws)."""
    avail = np.isfinite(oriented).astype(float)
    num = np.nan_to_num(oriented) @ weights
    den = avail @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def compute_candidate_score(units: pd.DataFrame, gewichten: Mapping[str, float]) -> pd.Series:
    """Weighted mean of the scores (negative weight → ``1 - score``), NaN scores skipped.

    Examples
    --------
    >>> u = pd.DataFrame({"energiebehoefte": [1.0, 0.0], "financiele_ruimte": [0.2, np.nan]})
    >>> compute_candidate_score(u, {"energiebehoefte": 0.5, "financiele_ruimte": -0.5}).tolist()
    [0.9, 0.0]
    """
    work = units.copy()
    for s in SCORES:
        if s not in work.columns:
            work[s] = np.nan
    oriented, w, _ = _matrix(work, gewichten)
    return pd.Series(_composite(oriented, w), index=units.index, name="proeftuinscore")


def _order_key(units: pd.DataFrame, score: np.ndarray) -> np.ndarray:
    """Position of each unit in the deterministic order (score ↓, n_doelgroep ↓, code ↑)."""
    s = np.where(np.isfinite(score), score, -np.inf)
    n = units["n_doelgroep"].fillna(-1).to_numpy(dtype=float)
    order = np.lexsort((units["eenheid_code"].astype(str).to_numpy(), -n, -s))
    pos = np.empty(len(units), dtype=np.int64)
    pos[order] = np.arange(len(units))
    return pos


def _tiebreak(units: pd.DataFrame) -> np.ndarray:
    n = units["n_doelgroep"].fillna(-1).to_numpy(dtype=float)
    order = np.lexsort((units["eenheid_code"].astype(str).to_numpy(), -n))
    pos = np.empty(len(units), dtype=np.int64)
    pos[order] = np.arange(len(units))
    return pos


def _ranks_in_pool(scores: np.ndarray, tie: np.ndarray, pool: np.ndarray,
                   cand: np.ndarray) -> np.ndarray:
    """Rank (1 = best) of each candidate within its pool, per column of ``scores``."""
    s = np.where(np.isfinite(scores), scores, -np.inf)
    sp, sc = s[pool], s[cand]
    better = (sp[None, :, :] > sc[:, None, :]) | (
        (sp[None, :, :] == sc[:, None, :]) & (tie[pool][None, :, None] < tie[cand][:, None, None])
    )
    return 1 + better.sum(axis=1)


def select_candidates(
    buurten: pd.DataFrame,
    *,
    config: Mapping[str, Any],
    dwellings: pd.DataFrame | None = None,
) -> ProeftuinResultaat:
    """Rank proeftuin candidates per gemeente.

    Parameters
    ----------
    buurten
        Scored buurten (the output of :func:`woonvoorraad.classify.scores.compute_scores`
        joined to the canonical ``buurten``).
    config
        Effective configuration (``[proeftuin]``).
    dwellings
        Optional dwelling table, only for the woonplaats of a buurt.

    Returns
    -------
    ProeftuinResultaat
        ``kandidaten`` has ``gemeentecode``, ``gemeentenaam``, ``niveau``, ``rang``,
        ``eenheid_code``, ``eenheid_naam``, ``buurtcodes``, ``n_buurten``, ``n_doelgroep``,
        ``n_woningen``, ``voldoet_minimum``, ``voorlopig`` (chosen without a known target
        group), ``proeftuinscore``, the five scores,
        ``aandeel_label_efg``, ``aandeel_label_efg_verwacht`` (and ``_naoorlogs``),
        ``aandeel_label_geschat``, ``aandeel_65plus``, ``woz_t_o_v_mediaan``,
        ``aandeel_laag_inkomen``, ``stabiliteit_top_n``, ``stabiliteit_varianten``,
        ``scores_ontbrekend`` and ``reden``.
    """
    check_config(config)
    p = config["proeftuin"]
    gewichten = {s: float(v) for s, v in p["gewichten"].items()}
    min_n, top_n = float(p["min_doelgroep"]), int(p["top_n"])
    units, notes = make_units(buurten, niveau=str(p["niveau"]), dwellings=dwellings)
    units = units.sort_values(["gemeentecode", "eenheid_code"], kind="mergesort")
    units = units.reset_index(drop=True)
    oriented, w, names = _matrix(units, gewichten)
    base = _composite(oriented, w)
    units["proeftuinscore"] = base
    units["in_aanmerking"] = units["n_doelgroep"].fillna(-1) >= min_n
    pos = _order_key(units, base)
    tie = _tiebreak(units)

    uit = units.loc[units["n_doelgroep"].isna(), ["gemeentecode", "niveau", "eenheid_code"]]
    uit = uit.assign(reden="proeftuin: n_doelgroep onbekend")
    gem_rank = pd.Series(pos, index=units.index).groupby(units["gemeentecode"]).rank(
        method="first")
    units["rang_in_gemeente"] = gem_rank.where(units["n_doelgroep"].notna()).astype("Int64")

    # draws for the stability check
    var = float(p["stabiliteit_variatie"])
    rng = np.random.default_rng(int(p["stabiliteit_seed"]))
    factors = rng.uniform(1 - var, 1 + var, size=(len(w), int(p["stabiliteit_trekkingen"])))
    w_draws = w[:, None] * factors
    oat_names, oat_cols = [], []
    for j, s in enumerate(names):
        for sign in (+1, -1):
            col = w.copy()
            col[j] *= 1 + sign * var
            oat_cols.append(col)
            oat_names.append(f"{s} {'+' if sign > 0 else '−'}{round(100 * var)}%")
    w_oat = np.column_stack(oat_cols) if oat_cols else np.zeros((0, 0))
    s_draws = _composite(oriented, w_draws)
    s_oat = _composite(oriented, w_oat) if oat_cols else np.zeros((len(units), 0))

    provisional = bool(p["voorlopig_bij_onbekende_doelgroep"])
    naoorlogs = pd.to_numeric(units["aandeel_naoorlogs"], errors="coerce").fillna(0).to_numpy()
    cand_rows, stab_rows = [], []
    no_target, unknown_target = [], []
    for code, g in units.groupby("gemeentecode", sort=True):
        idx = g.index.to_numpy()
        known = idx[g["n_doelgroep"].notna().to_numpy()]
        has_target = known[units.loc[known, "n_doelgroep"].to_numpy() > 0]
        voorlopig = False
        if has_target.size:
            eligible = known[units.loc[known, "in_aanmerking"].to_numpy()]
            eligible = eligible[units.loc[eligible, "n_doelgroep"].to_numpy() > 0]
            pool, n_top = (eligible, top_n) if eligible.size else (has_target, 1)
        else:
            # target group unknown everywhere: the best unit with post-war dwellings, provisional
            scored = idx[np.isfinite(base[idx]) & (naoorlogs[idx] > 0)]
            if known.size or not provisional or scored.size == 0:
                no_target.append(str(code))
                continue
            pool, n_top, voorlopig = scored, 1, True
            unknown_target.append(str(code))
        chosen = pool[np.argsort(pos[pool], kind="stable")][:n_top]
        r_draw = _ranks_in_pool(s_draws, tie, pool, chosen)
        r_oat = _ranks_in_pool(s_oat, tie, pool, chosen) if oat_cols else None
        for i, u in enumerate(chosen):
            row = units.loc[u]
            cand_rows.append({
                "_u": u, "rang": i + 1,
                "stabiliteit_top_n": float((r_draw[i] <= n_top).mean()),
                "stabiliteit_varianten": float((r_oat[i] <= n_top).mean())
                if r_oat is not None else np.nan,
                "voldoet_minimum": bool(row["n_doelgroep"] >= min_n),
                "voorlopig": voorlopig,
            })
            if r_oat is not None:
                for j, name in enumerate(oat_names):
                    stab_rows.append({
                        "gemeentecode": code, "eenheid_code": row["eenheid_code"],
                        "rang_basis": i + 1, "variant": name, "rang": int(r_oat[i, j]),
                        "in_top_n": bool(r_oat[i, j] <= n_top),
                    })
    if no_target:
        notes.append(f"geen doelgroepwoningen (dus geen kandidaat) in: {', '.join(no_target)}")
    if unknown_target:
        notes.append("doelgroep onbekend (koopaandeel of WOZ ontbreekt); een voorlopige "
                     f"kandidaat op de overige scores in: {', '.join(unknown_target)}")
    cols = ["gemeentecode", "gemeentenaam", "niveau", "rang", "eenheid_code", "eenheid_naam",
            "buurtcodes", "n_buurten", "n_doelgroep", "n_woningen", "voldoet_minimum",
            "voorlopig", "proeftuinscore", *SCORES, "aandeel_label_efg",
            "aandeel_label_efg_verwacht", "aandeel_label_efg_verwacht_naoorlogs",
            "aandeel_label_geschat", "aandeel_65plus",
            "woz_t_o_v_mediaan", "aandeel_laag_inkomen", "stabiliteit_top_n",
            "stabiliteit_varianten", "scores_ontbrekend", "reden"]
    if cand_rows:
        meta = pd.DataFrame(cand_rows).set_index("_u")
        kand = units.loc[meta.index].join(meta)
        kand["scores_ontbrekend"] = [
            ",".join(s for s in names if not np.isfinite(r[s])) for _, r in kand.iterrows()]
        kand["reden"] = [
            ("Voorlopig, want de doelgroep is onbekend (koopaandeel of WOZ ontbreekt in de "
             "CBS-gegevens): " if r["voorlopig"] else "")
            + explain_candidate(r, gewichten=gewichten, min_doelgroep=min_n)
            for _, r in kand.iterrows()]
        kand = kand[cols].reset_index(drop=True)
        kand["n_doelgroep"] = kand["n_doelgroep"].round().astype("Int64")
    else:
        kand = pd.DataFrame(columns=cols)
    small = kand.loc[~kand["voldoet_minimum"].astype(bool) & ~kand["voorlopig"].astype(bool),
                     "gemeentecode"].unique().tolist()
    if small:
        notes.append("kandidaat kleiner dan de minimumomvang in: " + ", ".join(small))
    for note in notes:
        logger.info(note)
    stab = pd.DataFrame(stab_rows, columns=["gemeentecode", "eenheid_code", "rang_basis",
                                            "variant", "rang", "in_top_n"])
    return ProeftuinResultaat(kandidaten=kand, stabiliteit=stab, eenheden=units,
                              uitgesloten=uit.reset_index(drop=True), notities=notes)
