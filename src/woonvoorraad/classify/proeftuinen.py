"""Proeftuin (pilot) candidates per gemeente, with Dutch reasons and a rank-stability check.

Every unit (buurt, wijk or woonplaats; :mod:`woonvoorraad.classify.proeftuin_eenheden`) gets a
*proeftuinscore*: the weighted mean of its scores with the weights of ``[proeftuin.gewichten]``
(a negative weight uses ``1 - score``, so less financial room ranks higher), rescaled over the
scores the unit has.

Post-war rule: the Regio Deal is about the post-war stock, so a unit can only be a candidate
(provisional ones included) when at least ``min_aandeel_naoorlogs`` of its dwellings and at least
``min_naoorlogs`` dwellings are post-war. A gemeente where no unit meets it gets no candidate but
a row saying so (``geen_kandidaat``), never a pre-war area.

Per gemeente the candidates are the ``top_n`` units that meet the post-war rule and have at least
``min_doelgroep`` target dwellings, ranked by that score; ties are broken by more target
dwellings, then by code, so the ranking does not depend on row order. A gemeente with target
dwellings but no unit of the minimum size still gets its best unit, marked "kleiner dan de
minimumomvang". A gemeente whose target group is unknown in every unit (the CBS input lacks
tenure or WOZ) gets its best post-war unit as one provisional candidate (``voorlopig``), ranked
on the scores it has (``[proeftuin] voorlopig_bij_onbekende_doelgroep``).

Levels: ``niveau = "auto"`` ranks both buurten and woonplaatsen and flags, per gemeente, the
primary level (``primair``): villages in rural gemeenten, buurten elsewhere
(:func:`~woonvoorraad.classify.proeftuin_eenheden.choose_levels`). A fixed level ranks that
level only.

Stability: every weight is multiplied by a factor drawn from ``U(1 - v, 1 + v)`` (fixed seed),
and each draw is ranked with the central, low and high target-group estimate
(``n_doelgroep``, ``_laag``, ``_hoog``: eligibility and the concentration score change with it);
``stabiliteit_top_n`` is the share of those rankings in which a candidate stays in its gemeente's
top N. The long table :attr:`ProeftuinResultaat.stabiliteit` holds its rank per one-at-a-time
variant (each weight ±v, and the low and high target group). When fewer than two scores drive
the ranking, or the gemeente has no more eligible units than places, stability is NaN with a
Dutch note (``stabiliteit_opmerking``): a 100 % there would mean nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.classify.proeftuin_eenheden import (
    KENGETALLEN,
    NIVEAUS,
    SCENARIOS,
    add_scenario_scores,
    assign_woonplaats,
    choose_levels,
    make_units,
    woonplaats_units,
)
from woonvoorraad.classify.proeftuin_tekst import (
    explain_candidate,
    geen_kandidaat_tekst,
    pct,
)
from woonvoorraad.classify.scores import SCORES
from woonvoorraad.errors import ConfigError

logger = logging.getLogger(__name__)

__all__ = ["KENGETALLEN", "NIVEAUS", "ProeftuinResultaat", "assign_woonplaats", "check_config",
           "compute_candidate_score", "explain_candidate", "make_units", "select_candidates"]

#: Columns of :attr:`ProeftuinResultaat.kandidaten` (``proeftuinen.csv``), in order.
KANDIDAAT_KOLOMMEN: tuple[str, ...] = (
    "gemeentecode", "gemeentenaam", "niveau", "primair", "rang", "geen_kandidaat",
    "eenheid_code", "eenheid_naam", "buurtcodes", "n_buurten", "n_doelgroep",
    "n_doelgroep_laag", "n_doelgroep_hoog", "n_woningen", "n_naoorlogs", "aandeel_naoorlogs",
    "mediaan_bouwjaar", "voldoet_minimum", "voorlopig", "proeftuinscore", *SCORES,
    "aandeel_label_efg", "aandeel_label_efg_verwacht", "aandeel_label_efg_verwacht_naoorlogs",
    "aandeel_label_geschat", "aandeel_65plus", "woz_t_o_v_mediaan", "aandeel_laag_inkomen",
    "stabiliteit_top_n", "stabiliteit_varianten", "stabiliteit_opmerking", "scores_ontbrekend",
    "reden",
)


_TEKST = ("gemeentecode", "gemeentenaam", "niveau", "eenheid_code", "eenheid_naam",
          "buurtcodes", "stabiliteit_opmerking", "scores_ontbrekend", "reden")


@dataclass
class ProeftuinResultaat:
    """Result of :func:`select_candidates`.

    Attributes
    ----------
    kandidaten
        One row per candidate per level, plus one ``geen_kandidaat`` row per gemeente and level
        where no unit meets the post-war rule (see :func:`select_candidates`).
    stabiliteit
        Long table: candidate × one-at-a-time variant → rank and ``in_top_n``.
    eenheden
        All units of every level with their proeftuinscore, rank within the gemeente,
        ``voldoet_naoorlogs`` and ``primair``.
    uitgesloten
        Units that could not be ranked, with the reason.
    niveaus
        Per gemeente: ``niveau_primair`` and, for ``niveau = "auto"``,
        ``woningen_per_km2_land``, ``n_woonplaatsen`` and ``landelijk``.
    notities
        Remarks (woonplaats source, gemeenten without target dwellings, ...).
    """

    kandidaten: pd.DataFrame
    stabiliteit: pd.DataFrame
    eenheden: pd.DataFrame
    uitgesloten: pd.DataFrame
    niveaus: pd.DataFrame = field(default_factory=pd.DataFrame)
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
    if not 0 <= float(p["min_aandeel_naoorlogs"]) <= 1:
        raise ConfigError("proeftuin.min_aandeel_naoorlogs must be in [0, 1]")
    if float(p["min_naoorlogs"]) < 0:
        raise ConfigError("proeftuin.min_naoorlogs must be >= 0")
    if not float(p["landelijk_max_woningen_per_km2"]) > 0:
        raise ConfigError("proeftuin.landelijk_max_woningen_per_km2 must be > 0")
    if int(p["landelijk_min_woonplaatsen"]) < 1:
        raise ConfigError("proeftuin.landelijk_min_woonplaatsen must be >= 1")
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


# -- scoring and ranking ----------------------------------------------------------------------

def _matrix(units: pd.DataFrame, gewichten: Mapping[str, float], suffix: str = "") -> tuple[
        np.ndarray, np.ndarray, list[str]]:
    """Oriented score matrix; ``suffix`` swaps in a target-group scenario of the concentration
    score where both it and the central score have a value."""
    names = [s for s in SCORES if float(gewichten.get(s, 0.0)) != 0.0]
    w = np.array([float(gewichten[s]) for s in names])
    cols = []
    for s in names:
        v = units[s].to_numpy(dtype=float)
        alt = f"{s}{suffix}"
        if suffix and alt in units.columns:
            a = units[alt].to_numpy(dtype=float)
            v = np.where(np.isfinite(a) & np.isfinite(v), a, v)
        cols.append(v)
    vals = np.column_stack(cols) if names else np.zeros((len(units), 0))
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


def _order(units: pd.DataFrame, score: np.ndarray | None) -> np.ndarray:
    """Position of each unit in the deterministic order (score ↓, n_doelgroep ↓, code ↑)."""
    n = units["n_doelgroep"].fillna(-1).to_numpy(dtype=float)
    keys = [units["eenheid_code"].astype(str).to_numpy(), -n]
    if score is not None:
        keys.append(-np.where(np.isfinite(score), score, -np.inf))
    order = np.lexsort(tuple(keys))
    pos = np.empty(len(units), dtype=np.int64)
    pos[order] = np.arange(len(units))
    return pos


def _ranks_in_pool(scores: np.ndarray, tie: np.ndarray, pool: np.ndarray,
                   cand: np.ndarray) -> np.ndarray:
    """Rank (1 = best) of each candidate within its pool, per column of ``scores``; a
    candidate outside the pool gets an infinite rank."""
    s = np.where(np.isfinite(scores), scores, -np.inf)
    sp, sc = s[pool], s[cand]
    better = (sp[None, :, :] > sc[:, None, :]) | (
        (sp[None, :, :] == sc[:, None, :]) & (tie[pool][None, :, None] < tie[cand][:, None, None])
    )
    ranks = (1 + better.sum(axis=1)).astype(float)
    ranks[~np.isin(cand, pool)] = np.inf
    return ranks


@dataclass
class _Stab:
    """Everything the stability check needs for one level."""

    scenarios: list[str]
    n_doel: dict[str, np.ndarray]
    s_draws: dict[str, np.ndarray]
    s_oat: np.ndarray
    oat_names: list[str]


def _stability_inputs(units: pd.DataFrame, gewichten: Mapping[str, float],
                      p: Mapping[str, Any]) -> _Stab:
    oriented, w, names = _matrix(units, gewichten)
    scenarios = [""] + [s for s in SCENARIOS if f"n_doelgroep{s}" in units.columns
                        and units[f"n_doelgroep{s}"].notna().any()]
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
    central = units["n_doelgroep"].to_numpy(dtype=float)
    n_doel, s_draws, oat = {}, {}, []
    for sc in scenarios:
        o = _matrix(units, gewichten, sc)[0] if sc else oriented
        n = units[f"n_doelgroep{sc}"].to_numpy(dtype=float) if sc else central
        n_doel[sc] = np.where(np.isfinite(n), n, central)
        s_draws[sc] = _composite(o, w_draws)
        if sc:
            oat.append(_composite(o, w)[:, None])
    blocks = [_composite(oriented, np.column_stack(oat_cols))] if oat_cols else []
    s_oat = np.column_stack([*blocks, *oat]) if blocks or oat else np.zeros((len(units), 0))
    oat_names += [SCENARIOS[sc] for sc in scenarios if sc]
    return _Stab(scenarios, n_doel, s_draws, s_oat, oat_names)


def _rank_level(
    units: pd.DataFrame,
    *,
    p: Mapping[str, Any],
    gewichten: Mapping[str, float],
    primair: Mapping[str, bool],
) -> tuple[list[dict], list[dict], list[str], pd.DataFrame]:
    """Candidates of one level: candidate rows, stability rows, notes and the scored units."""
    min_n, top_n = float(p["min_doelgroep"]), int(p["top_n"])
    min_share, min_post = float(p["min_aandeel_naoorlogs"]), float(p["min_naoorlogs"])
    niveau = str(units["niveau"].iloc[0]) if len(units) else "buurt"
    units = units.sort_values(["gemeentecode", "eenheid_code"], kind="mergesort")
    units = units.reset_index(drop=True)
    oriented, w, names = _matrix(units, gewichten)
    base = _composite(oriented, w)
    units["proeftuinscore"] = base
    share = units["aandeel_naoorlogs"].to_numpy(dtype=float)
    n_post = units["n_naoorlogs"].to_numpy(dtype=float)
    post_ok = (np.nan_to_num(share, nan=-1) >= min_share) & (
        np.nan_to_num(n_post, nan=-1) >= min_post)
    units["voldoet_naoorlogs"] = post_ok
    units["in_aanmerking"] = (units["n_doelgroep"].fillna(-1) >= min_n).to_numpy() & post_ok
    units["primair"] = units["gemeentecode"].astype(str).map(primair).fillna(False).astype(bool)
    pos = _order(units, base)
    tie = _order(units, None)
    gem_rank = pd.Series(pos, index=units.index).groupby(units["gemeentecode"]).rank(
        method="first")
    units["rang_in_gemeente"] = gem_rank.where(units["n_doelgroep"].notna()).astype("Int64")
    st = _stability_inputs(units, gewichten, p)

    provisional = bool(p["voorlopig_bij_onbekende_doelgroep"])
    cand, stab, none_post = [], [], []
    no_target, unknown_target = [], []
    for code, g in units.groupby("gemeentecode", sort=True):
        idx = g.index.to_numpy()
        known = idx[g["n_doelgroep"].notna().to_numpy()]
        has_target = known[units.loc[known, "n_doelgroep"].to_numpy() > 0]
        voorlopig, by_size = False, False
        if has_target.size:
            eligible = has_target[units.loc[has_target, "in_aanmerking"].to_numpy()]
            fallback = has_target[post_ok[has_target]]
            pool, n_top, by_size = (eligible, top_n, True) if eligible.size else (fallback, 1,
                                                                                   False)
        elif known.size:
            no_target.append(str(code))
            continue
        else:
            # target group unknown everywhere: the best post-war unit, provisional
            if not provisional or not np.isfinite(base[idx]).any():
                no_target.append(str(code))
                continue
            pool = idx[np.isfinite(base[idx]) & post_ok[idx]]
            n_top, voorlopig = 1, True
        if pool.size == 0:
            none_post.append(str(code))
            cand.append({"_u": int(idx[0]), "_leeg": True, "voorlopig": voorlopig})
            continue
        if voorlopig:
            unknown_target.append(str(code))
        chosen = pool[np.argsort(pos[pool], kind="stable")][:n_top]
        drivers = sum(bool(np.isfinite(oriented[pool, j]).any()) for j in range(len(names)))
        opmerking = ""
        if drivers < 2:
            opmerking = ("niet van toepassing: minder dan twee scores bepalen de rangorde "
                         f"({drivers})")
        elif pool.size <= n_top:
            opmerking = (f"niet van toepassing: niet meer geschikte eenheden ({pool.size}) "
                         f"dan kandidaatplaatsen ({n_top})")
        hits = np.zeros((len(chosen), 0), dtype=bool)
        for sc in st.scenarios:
            p_sc = pool
            if by_size:
                n_sc = st.n_doel[sc][pool]
                p_sc = pool[(n_sc >= min_n) & (n_sc > 0)]
            r = _ranks_in_pool(st.s_draws[sc], tie, p_sc, chosen)
            hits = np.hstack([hits, r <= n_top])
        r_oat = np.zeros((len(chosen), 0))
        if st.oat_names:
            cols = []
            n_w = st.s_oat.shape[1] - (len(st.scenarios) - 1)
            for j in range(st.s_oat.shape[1]):
                sc = "" if j < n_w else st.scenarios[1 + j - n_w]
                p_sc = pool
                if by_size:
                    n_sc = st.n_doel[sc][pool]
                    p_sc = pool[(n_sc >= min_n) & (n_sc > 0)]
                cols.append(_ranks_in_pool(st.s_oat[:, [j]], tie, p_sc, chosen)[:, 0])
            r_oat = np.column_stack(cols)
        for i, u in enumerate(chosen):
            row = units.loc[u]
            cand.append({
                "_u": int(u), "_leeg": False, "rang": i + 1,
                "stabiliteit_top_n": np.nan if opmerking else float(hits[i].mean()),
                "stabiliteit_varianten": np.nan if opmerking or not st.oat_names
                else float((r_oat[i] <= n_top).mean()),
                "stabiliteit_opmerking": opmerking,
                "voldoet_minimum": bool(row["n_doelgroep"] >= min_n),
                "voorlopig": voorlopig,
            })
            if opmerking:
                continue
            for j, name in enumerate(st.oat_names):
                rank = r_oat[i, j]
                stab.append({
                    "gemeentecode": code, "niveau": niveau, "eenheid_code": row["eenheid_code"],
                    "rang_basis": i + 1, "variant": name,
                    "rang": int(rank) if np.isfinite(rank) else pd.NA,
                    "in_top_n": bool(rank <= n_top),
                })
    notes = []
    if no_target:
        notes.append(f"{niveau}: geen doelgroepwoningen (dus geen kandidaat) in: "
                     f"{', '.join(no_target)}")
    if unknown_target:
        notes.append(f"{niveau}: doelgroep onbekend (koopaandeel of WOZ ontbreekt); een "
                     f"voorlopige kandidaat op de overige scores in: {', '.join(unknown_target)}")
    if none_post:
        notes.append(f"{niveau}: {geen_kandidaat_tekst(min_share, min_post)} in: "
                     f"{', '.join(none_post)}")
    return cand, stab, notes, units


def _candidate_frame(units: pd.DataFrame, cand: list[dict], *, p: Mapping[str, Any],
                     gewichten: Mapping[str, float], label_methode: str | None) -> pd.DataFrame:
    min_n = float(p["min_doelgroep"])
    min_share, min_post = float(p["min_aandeel_naoorlogs"]), float(p["min_naoorlogs"])
    names = [s for s in SCORES if float(gewichten.get(s, 0.0)) != 0.0]
    rows = []
    for m in cand:
        u = units.loc[m["_u"]]
        if m["_leeg"]:
            r = {"gemeentecode": u["gemeentecode"], "gemeentenaam": u["gemeentenaam"],
                 "niveau": u["niveau"], "primair": bool(u["primair"]), "rang": pd.NA,
                 "geen_kandidaat": True, "voldoet_minimum": False,
                 "voorlopig": bool(m["voorlopig"]), "stabiliteit_opmerking": "",
                 "scores_ontbrekend": "",
                 "reden": geen_kandidaat_tekst(min_share, min_post, hoofdletter=True)}
            rows.append(r)
            continue
        r = {c: u[c] for c in KANDIDAAT_KOLOMMEN if c in u.index}
        r.update({k: v for k, v in m.items() if not k.startswith("_")})
        r["geen_kandidaat"] = False
        r["primair"] = bool(u["primair"])
        r["scores_ontbrekend"] = ",".join(s for s in names if not np.isfinite(u[s]))
        r["reden"] = (("Voorlopig, want de doelgroep is onbekend (koopaandeel of WOZ ontbreekt "
                       "in de CBS-gegevens): " if m["voorlopig"] else "")
                      + explain_candidate(u, gewichten=gewichten, min_doelgroep=min_n,
                                          label_methode=label_methode))
        rows.append(r)
    out = pd.DataFrame(rows, columns=list(KANDIDAAT_KOLOMMEN))
    for col in ("n_doelgroep", "n_doelgroep_laag", "n_doelgroep_hoog"):
        out[col] = pd.to_numeric(out[col], errors="coerce").round().astype("Int64")
    out["rang"] = out["rang"].astype("Int64")
    for col in ("primair", "geen_kandidaat", "voldoet_minimum", "voorlopig"):
        out[col] = out[col].astype(bool)
    out["n_buurten"] = pd.to_numeric(out["n_buurten"], errors="coerce").astype("Int64")
    done = {"primair", "geen_kandidaat", "voldoet_minimum", "voorlopig", "rang", "n_buurten",
            "n_doelgroep", "n_doelgroep_laag", "n_doelgroep_hoog", *_TEKST}
    for col in KANDIDAAT_KOLOMMEN:
        if col not in done:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def select_candidates(
    buurten: pd.DataFrame,
    *,
    config: Mapping[str, Any],
    dwellings: pd.DataFrame | None = None,
    woonplaatsen: pd.DataFrame | None = None,
    prognose: pd.DataFrame | None = None,
    label_methode: str | None = None,
) -> ProeftuinResultaat:
    """Rank proeftuin candidates per gemeente.

    Parameters
    ----------
    buurten
        Scored buurten (the output of :func:`woonvoorraad.classify.scores.compute_scores`
        joined to the canonical ``buurten``); a GeoDataFrame for the rural rule of
        ``niveau = "auto"``.
    config
        Effective configuration (``[proeftuin]``, and ``[scores]`` for the woonplaatsen).
    dwellings
        Optional dwelling table, only for the woonplaats of a buurt when there is no
        ``woonplaatsen`` table.
    woonplaatsen
        The stock stage's village table (one row per gemeente × woonplaats); None: the
        woonplaats level is an aggregation of buurten and a note says so.
    prognose
        The gemeente forecast, for the scores of the woonplaatsen.
    label_methode
        ``"model"`` or ``"pbl"`` (the build's label estimate), for the reasons.

    Returns
    -------
    ProeftuinResultaat
        ``kandidaten`` has the columns :data:`KANDIDAAT_KOLOMMEN`: per gemeente the candidates
        of every ranked level (``niveau``; ``primair`` flags the gemeente's primary level),
        ``rang``, the unit and its counts (``n_doelgroep`` with its range ``_laag``/``_hoog``,
        ``n_naoorlogs``, ``aandeel_naoorlogs``), ``voldoet_minimum``, ``voorlopig``, the
        scores and figures, ``stabiliteit_top_n``, ``stabiliteit_varianten`` (NaN when not
        applicable, ``stabiliteit_opmerking`` says why), ``scores_ontbrekend`` and ``reden``.
        A row with ``geen_kandidaat`` true (no unit) says in ``reden`` that no buurt or
        village has enough post-war dwellings.
    """
    check_config(config)
    p = config["proeftuin"]
    gewichten = {s: float(v) for s, v in p["gewichten"].items()}
    niveau = str(p["niveau"])
    notes: list[str] = []
    b = add_scenario_scores(buurten, config=config)
    gemeenten = sorted(b["gemeentecode"].astype(str).unique())
    levels: dict[str, pd.DataFrame] = {}

    def villages() -> pd.DataFrame:
        if woonplaatsen is not None:
            u, n = woonplaats_units(woonplaatsen, config=config, prognose=prognose)
        else:
            u, n = make_units(b, niveau="woonplaats", dwellings=dwellings)
            n.append("geen tabel woonplaatsen gegeven (BAG zonder woonplaatsen): het "
                     "dorpsniveau is een benadering uit de buurten")
        notes.extend(n)
        return u

    niveaus = pd.DataFrame(index=pd.Index(gemeenten, name="gemeentecode"))
    if niveau == "auto":
        levels["buurt"] = make_units(b, niveau="buurt")[0]
        levels["woonplaats"] = villages()
        niveaus, more = choose_levels(b, levels["woonplaats"], config=config)
        notes += more
    else:
        if niveau == "woonplaats":
            levels[niveau] = villages()
        else:
            u, more = make_units(b, niveau=niveau, dwellings=dwellings)
            levels[niveau], notes = u, notes + more
        niveaus["niveau_primair"] = niveau
    primary = niveaus["niveau_primair"]

    kand_parts, stab_rows, unit_parts, uit_parts = [], [], [], []
    for lvl, units in levels.items():
        prim = {g: primary.get(g) == lvl for g in gemeenten}
        cand, stab, more, scored = _rank_level(units, p=p, gewichten=gewichten, primair=prim)
        notes += more
        stab_rows += stab
        unit_parts.append(scored)
        kand_parts.append(_candidate_frame(scored, cand, p=p, gewichten=gewichten,
                                           label_methode=label_methode))
        uit = scored.loc[scored["n_doelgroep"].isna(), ["gemeentecode", "niveau",
                                                        "eenheid_code"]]
        uit_parts.append(uit.assign(reden="proeftuin: n_doelgroep onbekend"))
    kand = pd.concat([k for k in kand_parts if len(k)], ignore_index=True) \
        if any(len(k) for k in kand_parts) else kand_parts[0]
    if len(kand):
        kand = kand.assign(_p=~kand["primair"], _r=kand["rang"].fillna(0))
        kand = kand.sort_values(["gemeentecode", "_p", "niveau", "_r"], kind="mergesort")
        kand = kand.drop(columns=["_p", "_r"]).reset_index(drop=True)
    real = kand[~kand["geen_kandidaat"] & kand["primair"]] if len(kand) else kand
    small = real.loc[~real["voldoet_minimum"] & ~real["voorlopig"], "gemeentecode"]
    if len(small):
        notes.append("kandidaat kleiner dan de minimumomvang in: "
                     + ", ".join(sorted(small.astype(str).unique())))
    na = real.loc[real["stabiliteit_top_n"].isna(), "gemeentecode"] if len(real) else []
    if len(na):
        notes.append("stabiliteit niet van toepassing (te weinig scores of geschikte "
                     "eenheden) in: " + ", ".join(sorted(pd.Series(na).astype(str).unique())))
    for note in notes:
        logger.info(note)
    stab = pd.DataFrame(stab_rows, columns=["gemeentecode", "niveau", "eenheid_code",
                                            "rang_basis", "variant", "rang", "in_top_n"])
    stab["rang"] = stab["rang"].astype("Int64")
    return ProeftuinResultaat(
        kandidaten=kand, stabiliteit=stab,
        eenheden=pd.concat(unit_parts, ignore_index=True),
        uitgesloten=pd.concat(uit_parts, ignore_index=True),
        niveaus=niveaus, notities=notes)


def describe_minimum(config: Mapping[str, Any]) -> str:
    """Dutch one-liner of the post-war rule, for reports.

    Examples
    --------
    >>> describe_minimum({"proeftuin": {"min_aandeel_naoorlogs": 0.3, "min_naoorlogs": 50}})
    'minimaal 30% en 50 naoorlogse woningen'
    """
    p = config["proeftuin"]
    return (f"minimaal {pct(float(p['min_aandeel_naoorlogs']))} en "
            f"{round(float(p['min_naoorlogs'])):d} naoorlogse woningen")
