"""Upgrade cost: investment to bring every dwelling below label B to B, and below C to C.

Steps and key figures
---------------------
For a dwelling whose current label is ``X`` the building-shell investment of the step
``X → B`` (X in C, D, E, F, G) and ``X → C`` (X in D, E, F, G) is::

    investering = asl + opp × oppervlakte

with ``asl`` (euro per dwelling) and ``opp`` (euro per m²) from the key-figure row of the
dwelling's woningtype and build period. Source: "PBL Vesta MAIS kentallen 2024"
(``woonvoorraad/reference/pbl_kentallen.csv``). PBL gives the ``→ B`` steps as a low (``min``)
and a high (``max``) variant, reported as ``_laag``/``_hoog``. The ``→ C`` steps have
``min = max`` in every row of the PBL table: they are reported as ONE figure
(``investering_naar_c``), not as a range of zero width; :func:`read_kentallen` refuses a table
in which they differ, so that a future range is not silently collapsed.

Expected costs
--------------
A dwelling's current label is uncertain where none is registered. With the class
probabilities ``p_label_A`` … ``p_label_G`` of the dwelling table (``docs/schema.md``; one-hot
for a registered label or a PBL default) the costs are expectations over the classes::

    investering_naar_b = Σ_{X in C..G} p_label_X × kosten(X → B)
    investering_naar_c = Σ_{X in D..G} p_label_X × kosten(X → C)

and the dwelling counts are expected counts (``n_onder_b_verwacht = Σ p_label_C..G``). A
build without the probability columns (older builds) uses the single ``energielabel`` as a
one-hot vector; the notes say so. Beside the all-below-B figure the E/F/G-only figure
(``[labels] slecht``, the target of the national programmes) is kept:
``investering_efg_naar_b_laag/_hoog`` and ``investering_efg_naar_c``.

Rules
-----
* Build period from ``bouwjaar`` with the ``bouwjaar_van``/``bouwjaar_tot`` bounds of the
  key figures: the "voor 1930" row (empty ``bouwjaar_van``) takes everything before 1930, and a
  build year after the last period (2020) takes the last row. Without ``bouwjaar`` the
  ``bouwperiode`` column is used when it names a key-figure period.
* Floor areas outside ``[kosten] oppervlakte_min``–``oppervlakte_max`` or missing are replaced
  by the median floor area of the same woningtype in the input (counted, never silent).
* The key figures hold a few negative fixed parts (a regression artefact for small dwellings);
  an investment below 0 is set to 0. For very small areas a few rows give a high variant
  below the low one; per dwelling the lower of the two is ``_laag``, the higher ``_hoog``.
* A step marked 999999 ("not applicable") or a dwelling without woningtype/period gives no
  estimate; such dwellings are counted (expected) in ``n_onder_b_zonder_kentallen``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.errors import ConfigError, MissingColumnError
from woonvoorraad.stock.kentallen import ATTRIBUTION, read_pbl_kentallen

logger = logging.getLogger(__name__)

#: Attribution of the key figures.
BRON = ATTRIBUTION
#: Target labels of the cost estimate.
DOELLABELS: tuple[str, ...] = ("B", "C")
#: Label classes of the probability columns, best first ("A" holds A and every A+ class).
KLASSEN: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G")
#: Probability column per class (``docs/schema.md``).
P_KOLOMMEN: tuple[str, ...] = tuple(f"p_label_{k}" for k in KLASSEN)
#: Classes below B (step → B) and below C (step → C).
ONDER_B: tuple[str, ...] = ("C", "D", "E", "F", "G")
ONDER_C: tuple[str, ...] = ("D", "E", "F", "G")
_NVT = 999999
_REQUIRED = ("buurtcode", "woningtype", "bouwjaar", "oppervlakte", "energielabel")
#: Per-dwelling cost columns (expected euro).
_DW_KOSTEN = ("kosten_b_laag", "kosten_b_hoog", "kosten_c",
              "kosten_efg_b_laag", "kosten_efg_b_hoog", "kosten_efg_c")
#: Per-dwelling cost column → buurt/gemeente column.
_NAAR_BUURT = {"kosten_b_laag": "investering_naar_b_laag",
               "kosten_b_hoog": "investering_naar_b_hoog",
               "kosten_c": "investering_naar_c",
               "kosten_efg_b_laag": "investering_efg_naar_b_laag",
               "kosten_efg_b_hoog": "investering_efg_naar_b_hoog",
               "kosten_efg_c": "investering_efg_naar_c"}
#: Expected counts per buurt: (column, per-dwelling probability column).
_AANTALLEN = (("n_onder_b_verwacht", "p_onder_b"), ("n_onder_c_verwacht", "p_onder_c"),
              ("n_efg_verwacht", "p_efg"))
INVESTERING: tuple[str, ...] = tuple(_NAAR_BUURT.values())


def read_kentallen() -> pd.DataFrame:
    """Read the packaged PBL key figures (999999 → NaN).

    Raises
    ------
    ConfigError
        When a ``→ C`` step has ``min ≠ max`` somewhere (the reports show one figure for it).

    Returns
    -------
    pandas.DataFrame
        One row per woningtype × build period, in file order.

    Examples
    --------
    >>> k = read_kentallen()
    >>> sorted(k["woningtype"].unique())[:2]
    ['hoekwoning', 'meergezins_hoog']
    >>> int(k.loc[0, "ki_gb_min_asl"]), int(k.loc[0, "ki_cb_max_asl"])
    (11738, 11342)
    """
    frame = read_pbl_kentallen()
    ki = [c for c in frame.columns if c.startswith("ki_")]
    frame[ki] = frame[ki].astype(float).where(frame[ki] != _NVT)
    check_c_steps(frame)
    return frame


def check_c_steps(kentallen: pd.DataFrame) -> None:
    """Refuse key figures whose ``→ C`` steps have a low–high range (reported as one figure)."""
    for lab in ONDER_C:
        for part in ("asl", "opp"):
            lo = kentallen.get(f"ki_{lab.lower()}c_min_{part}")
            hi = kentallen.get(f"ki_{lab.lower()}c_max_{part}")
            if lo is None or hi is None:
                continue
            differ = ~((lo == hi) | (lo.isna() & hi.isna()))
            if differ.any():
                raise ConfigError(f"PBL key figures: step {lab}→C has min ≠ max "
                                  f"({part}); the cost columns report one figure for → C")


def _periode_index(kentallen: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Upper bounds and names of the periods (same for every woningtype)."""
    per_type = {
        t: (tuple(g["bouwjaar_tot"].astype(int)), tuple(g["pbl_periode"]))
        for t, g in kentallen.groupby("woningtype", sort=True)
    }
    first = next(iter(per_type.values()))
    if any(v != first for v in per_type.values()):
        raise ConfigError("PBL key figures: build periods differ between woningtypes")
    return np.asarray(first[0], dtype=float), list(first[1])


def _stap(label: str, doel: str, variant: str, part: str) -> str:
    return f"ki_{label.lower()}{doel.lower()}_{variant}_{part}"


def label_probabilities(dwellings: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """Class probabilities A..G per dwelling (rows of NaN where nothing is known).

    Uses ``p_label_A`` … ``p_label_G`` when all are present, else a one-hot vector of
    ``energielabel`` (A+ classes count as A); the flag says which.

    Examples
    --------
    >>> p, from_model = label_probabilities(pd.DataFrame({"energielabel": ["A++", "D", None]}))
    >>> p[:, 0].tolist()[:2], float(p[1, 3]), from_model, bool(np.isnan(p[2]).all())
    ([1.0, 0.0], 1.0, False, True)
    """
    if all(c in dwellings.columns for c in P_KOLOMMEN):
        p = dwellings[list(P_KOLOMMEN)].to_numpy(dtype=float, na_value=np.nan)
        return p, True
    lab = dwellings["energielabel"].astype("string").str.upper()
    lab = lab.mask(lab.str.startswith("A").fillna(False), "A")
    code = lab.map({k: i for i, k in enumerate(KLASSEN)}).astype(float).to_numpy()
    p = np.full((len(dwellings), len(KLASSEN)), np.nan)
    ok = np.isfinite(code)
    p[ok] = 0.0
    p[np.flatnonzero(ok), code[ok].astype(int)] = 1.0
    return p, False


def compute_dwelling_costs(
    dwellings: pd.DataFrame,
    *,
    config: Mapping[str, Any],
    kentallen: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Estimate the expected investment per dwelling that may be below label B.

    Parameters
    ----------
    dwellings
        The canonical dwelling table (``docs/schema.md``); needs ``buurtcode``,
        ``woningtype``, ``bouwjaar``, ``oppervlakte``, ``energielabel``; uses
        ``p_label_A`` … ``p_label_G``, ``naoorlogs``, ``label_bron``, ``bouwperiode`` and
        ``gemeentecode`` when present.
    config
        Effective configuration (``[labels] slecht`` and ``[kosten]``).
    kentallen
        Key figures (default: :func:`read_kentallen`).

    Returns
    -------
    pandas.DataFrame
        One row per dwelling with a probability above 0 of a label below B: ``buurtcode``,
        ``energielabel``, ``woningtype``, ``pbl_periode``, ``oppervlakte_gebruikt``,
        ``oppervlakte_geimputeerd``, ``naoorlogs``, ``label_geschat``, ``p_onder_b``,
        ``p_onder_c``, ``p_efg`` (probabilities), ``kosten_b_laag``, ``kosten_b_hoog``,
        ``kosten_c``, ``kosten_efg_b_laag``, ``kosten_efg_b_hoog``, ``kosten_efg_c``
        (expected euro; NaN without key figures).

    Examples
    --------
    >>> from woonvoorraad.config import default_config
    >>> d = pd.DataFrame({"buurtcode": ["BU1"], "woningtype": ["tussenwoning"],
    ...                   "bouwjaar": [1960], "oppervlakte": [100.0], "energielabel": ["F"]})
    >>> k = compute_dwelling_costs(d, config=default_config())
    >>> float(k.loc[0, "kosten_b_laag"])  # 11738 + 102 * 100
    21938.0
    """
    missing = [c for c in _REQUIRED if c not in dwellings.columns]
    if missing:
        raise MissingColumnError(f"dwellings lacks column(s) {missing} needed for the costs")
    slecht = [str(x) for x in config["labels"]["slecht"]]
    bad_slecht = [s for s in slecht if s not in ONDER_C]
    if bad_slecht:
        raise ConfigError(f"labels.slecht contains {bad_slecht}: the key figures have steps "
                          f"→ B and → C only from {', '.join(ONDER_C)}")
    if kentallen is None:
        kentallen = read_kentallen()
    for lab in ONDER_B:
        for doel in DOELLABELS:
            if lab == doel or (doel == "C" and lab not in ONDER_C):
                continue
            for v in ("min", "max"):
                for part in ("asl", "opp"):
                    if _stap(lab, doel, v, part) not in kentallen.columns:
                        raise ConfigError(f"the key figures have no step {lab}→{doel} "
                                          f"({_stap(lab, doel, v, part)})")
    kc = config.get("kosten", {})
    opp_min = float(kc.get("oppervlakte_min", 15.0))
    opp_max = float(kc.get("oppervlakte_max", 1000.0))

    prob, _ = label_probabilities(dwellings)
    ib = [KLASSEN.index(k) for k in ONDER_B]
    p_onder_b = prob[:, ib].sum(axis=1)
    keep = np.isfinite(p_onder_b) & (p_onder_b > 0)
    prob = prob[keep]
    d = dwellings.loc[keep].copy()
    d["energielabel"] = d["energielabel"].astype("string")
    d["woningtype"] = d["woningtype"].astype("string")

    tots, namen = _periode_index(kentallen)
    bj = pd.to_numeric(d["bouwjaar"], errors="coerce").astype(float).to_numpy()
    idx = np.searchsorted(tots, bj, side="left").astype(float)
    idx = np.minimum(idx, len(tots) - 1)  # after the last period: the last row
    idx[~np.isfinite(bj)] = np.nan
    if "bouwperiode" in d.columns:
        by_name = d["bouwperiode"].astype("string").map(
            {n: i for i, n in enumerate(namen)}).astype(float).to_numpy()
        idx = np.where(np.isnan(idx), by_name, idx)
    d["_pidx"] = idx
    codes = np.where(np.isfinite(idx), idx, -1).astype(int)
    d["pbl_periode"] = pd.Series(pd.Categorical.from_codes(codes, categories=namen),
                                 index=d.index).astype("string")

    opp = pd.to_numeric(d["oppervlakte"], errors="coerce").astype(float)
    bad = opp.isna() | (opp < opp_min) | (opp > opp_max)
    all_opp = pd.to_numeric(dwellings["oppervlakte"], errors="coerce").astype(float)
    plausible = all_opp.where((all_opp >= opp_min) & (all_opp <= opp_max))
    med = plausible.groupby(dwellings["woningtype"].astype("string")).median()
    opp = opp.mask(bad, d["woningtype"].map(med).astype(float))
    d["oppervlakte_gebruikt"] = opp
    d["oppervlakte_geimputeerd"] = bad.to_numpy()

    k = kentallen.copy()
    k["_pidx"] = k.groupby("woningtype", sort=False).cumcount().astype(float)
    k["woningtype"] = k["woningtype"].astype("string")
    d = d.reset_index(drop=True)
    merged = d[["woningtype", "_pidx"]].merge(
        k, on=["woningtype", "_pidx"], how="left", validate="many_to_one"
    )
    area = d["oppervlakte_gebruikt"].to_numpy()

    def step(lab: str, doel: str, variant: str) -> np.ndarray:
        asl = merged[_stap(lab, doel, variant, "asl")].to_numpy(dtype=float)
        per_m2 = merged[_stap(lab, doel, variant, "opp")].to_numpy(dtype=float)
        return np.maximum(asl + per_m2 * area, 0.0)

    def expect(labels: tuple[str, ...] | list[str], doel: str, variant: str) -> np.ndarray:
        total = np.zeros(len(d))
        for lab in labels:
            p = prob[:, KLASSEN.index(lab)]
            lo, hi = step(lab, doel, "min"), step(lab, doel, "max")
            # the variants ordered per dwelling: for very small areas a few PBL rows give
            # max < min (the per-m2 part of max is larger, its fixed part smaller)
            cost = np.fmin(lo, hi) if variant == "min" else np.fmax(lo, hi)
            cost[np.isnan(lo) | np.isnan(hi)] = np.nan
            # a class with probability 0 never needs its key figure (0 × NaN stays 0)
            total += np.where(p > 0, p * cost, 0.0)
        return total

    efg = [s for s in ONDER_B if s in slecht]
    d["p_onder_b"] = prob[:, ib].sum(axis=1)
    d["p_onder_c"] = prob[:, [KLASSEN.index(x) for x in ONDER_C]].sum(axis=1)
    d["p_efg"] = prob[:, [KLASSEN.index(x) for x in efg]].sum(axis=1)
    d["kosten_b_laag"] = expect(ONDER_B, "B", "min")
    d["kosten_b_hoog"] = expect(ONDER_B, "B", "max")
    d["kosten_c"] = expect(ONDER_C, "C", "min")
    d["kosten_efg_b_laag"] = expect(efg, "B", "min")
    d["kosten_efg_b_hoog"] = expect(efg, "B", "max")
    d["kosten_efg_c"] = expect(efg, "C", "min")
    # no key-figure row (woningtype/period unknown, or a step not applicable): no estimate
    rowless = merged["ki_gb_min_asl"].isna().to_numpy() | ~np.isfinite(area)
    for col in _DW_KOSTEN:
        d.loc[rowless, col] = np.nan
    d["naoorlogs"] = (
        d["naoorlogs"].astype("boolean").fillna(False).to_numpy()
        if "naoorlogs" in d.columns else False
    )
    d["label_geschat"] = (
        (d["label_bron"].astype("string") != "geregistreerd").fillna(True).to_numpy()
        if "label_bron" in d.columns else False
    )
    keep_cols = ["buurtcode", "energielabel", "woningtype", "pbl_periode",
                 "oppervlakte_gebruikt", "oppervlakte_geimputeerd", "naoorlogs",
                 "label_geschat", "p_onder_b", "p_onder_c", "p_efg", *_DW_KOSTEN]
    for extra in ("gemeentecode", "vbo_id"):
        if extra in d.columns:
            keep_cols.insert(0, extra)
    return d[keep_cols]


#: Per-dwelling column → (expected-count column whose computed part is its denominator).
_NOEMER = {"kosten_b_laag": "p_onder_b", "kosten_b_hoog": "p_onder_b", "kosten_c": "p_onder_c",
           "kosten_efg_b_laag": "p_efg", "kosten_efg_b_hoog": "p_efg", "kosten_efg_c": "p_efg"}
_PER_WONING = ("investering_naar_b_laag", "investering_naar_b_hoog", "investering_naar_c",
               "investering_efg_naar_b_laag", "investering_efg_naar_b_hoog",
               "investering_efg_naar_c")
_BEREKEND = {"p_onder_b": "n_onder_b_berekend", "p_onder_c": "n_onder_c_berekend",
             "p_efg": "n_efg_berekend"}


def _sums(w: pd.DataFrame, keys: pd.Series | list[pd.Series]) -> pd.DataFrame:
    """Expected counts and costs of dwelling rows ``w`` summed by ``keys``."""
    cols: dict[str, pd.Series] = {}
    finite_b = w["kosten_b_laag"].notna() & w["kosten_b_hoog"].notna()
    for naam, p in _AANTALLEN:
        cols[naam] = w[p]
    for p, naam in _BEREKEND.items():
        ok = {"p_onder_b": finite_b, "p_onder_c": w["kosten_c"].notna(),
              "p_efg": w["kosten_efg_b_laag"].notna() & w["kosten_efg_b_hoog"].notna()}[p]
        cols[naam] = w[p].where(ok, 0.0)
    cols["n_onder_b_zonder_kentallen"] = w["p_onder_b"].where(~finite_b, 0.0)
    cols["n_oppervlakte_geimputeerd"] = w["oppervlakte_geimputeerd"].astype(int)
    cols["n_onder_b_geschat_verwacht"] = w["p_onder_b"].where(w["label_geschat"].astype(bool),
                                                              0.0)
    for dw_col, out_col in _NAAR_BUURT.items():
        cols[out_col] = w[dw_col].fillna(0.0)
    frame = pd.DataFrame(cols, index=w.index)
    return frame.groupby(keys, sort=True).sum()


def _finish(out: pd.DataFrame, suffix: str = "") -> None:
    """NaN totals where nothing was computable; averages per (expected) dwelling; in place."""
    for dw_col, out_col in _NAAR_BUURT.items():
        p = _NOEMER[dw_col]
        n = out[f"{_count_name(p)}{suffix}"]
        berekend = out[f"{_BEREKEND[p]}{suffix}"]
        none = (n > 1e-9) & (berekend <= 1e-9)
        out.loc[none, f"{out_col}{suffix}"] = np.nan
        if not suffix:
            out[f"{out_col}_per_woning"] = out[out_col] / berekend.where(berekend > 1e-9)


def _count_name(p: str) -> str:
    return next(naam for naam, q in _AANTALLEN if q == p)


_SOM = [*(n for n, _ in _AANTALLEN), *_BEREKEND.values(), "n_onder_b_zonder_kentallen",
        "n_oppervlakte_geimputeerd", "n_onder_b_geschat_verwacht", *INVESTERING]
_NAOORLOGS = [*(n for n, _ in _AANTALLEN), *_BEREKEND.values(), *INVESTERING]


def sum_costs_per_buurt(woningkosten: pd.DataFrame, buurten: pd.DataFrame) -> pd.DataFrame:
    """Sum the expected dwelling estimates per buurt, also for the post-war dwellings.

    Every buurt of ``buurten`` gets a row (no dwelling below B → 0). Totals cover the
    dwellings with an estimate; ``n_onder_b_zonder_kentallen`` counts the others (expected).

    Returns
    -------
    pandas.DataFrame
        ``buurtcode``, ``buurtnaam``, ``gemeentecode``, ``gemeentenaam`` (when present);
        expected counts ``n_onder_b_verwacht`` (C–G), ``n_onder_c_verwacht`` (D–G),
        ``n_efg_verwacht`` (``[labels] slecht``), their computed parts ``n_*_berekend``,
        ``n_onder_b_zonder_kentallen``, ``n_oppervlakte_geimputeerd`` (dwellings),
        ``n_onder_b_geschat_verwacht`` (expected count below B whose label is estimated);
        ``investering_naar_b_laag``/``_hoog``, ``investering_naar_c`` (one figure),
        ``investering_efg_naar_b_laag``/``_hoog``, ``investering_efg_naar_c`` (euro),
        the same per expected dwelling (``..._per_woning``), the counts and investments of the
        post-war dwellings (``..._naoorlogs``) and ``bron``.
    """
    w = woningkosten
    g = _sums(w, w["buurtcode"])
    no = w[w["naoorlogs"].astype(bool)]
    g_no = _sums(no, no["buurtcode"])[_NAOORLOGS].add_suffix("_naoorlogs")
    ids = [c for c in ("buurtcode", "buurtnaam", "gemeentecode", "gemeentenaam")
           if c in buurten.columns]
    out = buurten[ids].drop_duplicates("buurtcode").sort_values("buurtcode")
    out = out.merge(g, left_on="buurtcode", right_index=True, how="left")
    out = out.merge(g_no, left_on="buurtcode", right_index=True, how="left")
    som = [*_SOM, *g_no.columns]
    out[som] = out[som].fillna(0.0)
    out["n_oppervlakte_geimputeerd"] = out["n_oppervlakte_geimputeerd"].astype("int64")
    _finish(out)
    _finish(out, "_naoorlogs")
    out["bron"] = BRON
    order = [*ids, *_SOM, *[f"{c}_per_woning" for c in _PER_WONING], *g_no.columns, "bron"]
    return out[order].reset_index(drop=True)


def sum_costs_per_gemeente(kosten_buurt: pd.DataFrame) -> pd.DataFrame:
    """Totals per gemeente of :func:`sum_costs_per_buurt`.

    Returns
    -------
    pandas.DataFrame
        ``gemeentecode``, ``gemeentenaam`` (when present), the summed counts and costs (all
        and post-war), per-dwelling averages and ``bron``.
    """
    keys = [c for c in ("gemeentecode", "gemeentenaam") if c in kosten_buurt.columns]
    sums = [*_SOM, *[f"{c}_naoorlogs" for c in _NAOORLOGS]]
    g = kosten_buurt.groupby(keys, sort=True, dropna=False)[sums].sum(min_count=1)
    g = g.reset_index()
    g[sums] = g[sums].fillna(0.0)
    _finish(g)
    _finish(g, "_naoorlogs")
    g["bron"] = BRON
    order = [*keys, *_SOM, *[f"{c}_per_woning" for c in _PER_WONING],
             *[f"{c}_naoorlogs" for c in _NAOORLOGS], "bron"]
    return g[order]


def compute_costs(
    dwellings: pd.DataFrame,
    buurten: pd.DataFrame,
    *,
    config: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Costs per buurt and per gemeente, with remarks.

    Returns
    -------
    (kosten_buurt, kosten_gemeente, notities)
    """
    notes: list[str] = []
    _, from_model = label_probabilities(dwellings.head(0))
    if not from_model:
        notes.append("kosten: de woningtabel heeft geen labelkansen (p_label_A..G, oudere "
                      "build): verwachte kosten uit het enkele energielabel per woning")
    per_woning = compute_dwelling_costs(dwellings, config=config)
    no_buurt = int(per_woning["buurtcode"].isna().sum())
    if no_buurt:
        notes.append(f"kosten: {no_buurt} woningen met mogelijk label onder B liggen buiten "
                     "elke buurt")
    known = set(buurten["buurtcode"])
    outside = int((~per_woning["buurtcode"].isin(known) & per_woning["buurtcode"].notna()).sum())
    if outside:
        notes.append(f"kosten: {outside} woningen met mogelijk label onder B in buurten buiten "
                     "de analyse")
    kb = sum_costs_per_buurt(per_woning[per_woning["buurtcode"].isin(known)], buurten)
    n_zonder = float(kb["n_onder_b_zonder_kentallen"].sum())
    if n_zonder > 0.5:
        notes.append(f"kosten: naar verwachting {n_zonder:.0f} woningen onder label B zonder "
                     "kentallen (woningtype of bouwperiode onbekend)")
    n_imp = int(kb["n_oppervlakte_geimputeerd"].sum())
    if n_imp:
        notes.append(f"kosten: oppervlakte van {n_imp} woningen vervangen door de mediaan "
                     "van hun woningtype")
    for note in notes:
        logger.info(note)
    return kb, sum_costs_per_gemeente(kb), notes
