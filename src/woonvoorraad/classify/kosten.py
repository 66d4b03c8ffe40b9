"""Upgrade cost: investment to bring dwellings with a poor label to label B and to label C.

For every dwelling whose label is in ``[labels] slecht`` (E, F, G by default) the building-shell
investment of the step ``<label> → B`` and ``<label> → C`` is::

    investering = asl + opp × oppervlakte

with ``asl`` (euro per dwelling) and ``opp`` (euro per m²) from the key-figure row of the
dwelling's woningtype and build period, in a low (``min``) and a high (``max``) variant.
Source: "PBL Vesta MAIS kentallen 2024" (``woonvoorraad/reference/pbl_kentallen.csv``).

Rules
-----
* Build period from ``bouwjaar`` with the ``bouwjaar_van``/``bouwjaar_tot`` bounds of the
  key figures: the "voor 1930" row (empty ``bouwjaar_van``) takes everything before 1930, and a
  build year after the last period (2020) takes the last row. Without ``bouwjaar`` the
  ``bouwperiode`` column is used when it names a key-figure period.
* Floor areas outside ``[kosten] oppervlakte_min``–``oppervlakte_max`` or missing are replaced
  by the median floor area of the same woningtype in the input (counted, never silent).
* The key figures hold a few negative fixed parts (a regression artefact for small dwellings);
  an investment below 0 is set to 0.
* A step marked 999999 ("not applicable") or a dwelling without woningtype/period gives no
  estimate; such dwellings are counted in ``n_efg_zonder_kentallen``.
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
_NVT = 999999
_REQUIRED = ("buurtcode", "woningtype", "bouwjaar", "oppervlakte", "energielabel")


def read_kentallen() -> pd.DataFrame:
    """Read the packaged PBL key figures (999999 → NaN).

    Returns
    -------
    pandas.DataFrame
        One row per woningtype × build period, in file order.

    Examples
    --------
    >>> k = read_kentallen()
    >>> sorted(k["woningtype"].unique())[:2]
    ['hoekwoning', 'meergezins_hoog']
    >>> int(k.loc[0, "ki_gb_min_asl"])
    11738
    """
    frame = read_pbl_kentallen()
    ki = [c for c in frame.columns if c.startswith("ki_")]
    frame[ki] = frame[ki].astype(float).where(frame[ki] != _NVT)
    return frame


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


def _stap_kolommen(label: str, doel: str) -> dict[str, str]:
    step = f"ki_{label.lower()}{doel.lower()}"
    return {f"{v}_{p}": f"{step}_{v}_{p}" for v in ("min", "max") for p in ("asl", "opp")}


def compute_dwelling_costs(
    dwellings: pd.DataFrame,
    *,
    config: Mapping[str, Any],
    kentallen: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Estimate the investment per dwelling with a poor label.

    Parameters
    ----------
    dwellings
        The canonical dwelling table (``docs/schema.md``); needs ``buurtcode``,
        ``woningtype``, ``bouwjaar``, ``oppervlakte``, ``energielabel``; uses ``naoorlogs``,
        ``label_bron``, ``bouwperiode`` and ``gemeentecode`` when present.
    config
        Effective configuration (``[labels] slecht`` and ``[kosten]``).
    kentallen
        Key figures (default: :func:`read_kentallen`).

    Returns
    -------
    pandas.DataFrame
        One row per dwelling with a poor label: ``buurtcode``, ``energielabel``,
        ``woningtype``, ``pbl_periode``, ``oppervlakte_gebruikt``, ``oppervlakte_geimputeerd``,
        ``naoorlogs``, ``label_geschat``, ``kosten_b_min``, ``kosten_b_max``, ``kosten_c_min``,
        ``kosten_c_max`` (euro; NaN without key figures).

    Examples
    --------
    >>> from woonvoorraad.config import default_config
    >>> d = pd.DataFrame({"buurtcode": ["BU1"], "woningtype": ["tussenwoning"],
    ...                   "bouwjaar": [1960], "oppervlakte": [100.0], "energielabel": ["F"]})
    >>> k = compute_dwelling_costs(d, config=default_config())
    >>> float(k.loc[0, "kosten_b_min"])  # 11738 + 102 * 100
    21938.0
    """
    missing = [c for c in _REQUIRED if c not in dwellings.columns]
    if missing:
        raise MissingColumnError(f"dwellings lacks column(s) {missing} needed for the costs")
    slecht = [str(x) for x in config["labels"]["slecht"]]
    if kentallen is None:
        kentallen = read_kentallen()
    for lab in slecht:
        for doel in DOELLABELS:
            for col in _stap_kolommen(lab, doel).values():
                if col not in kentallen.columns:
                    raise ConfigError(
                        f"labels.slecht contains {lab!r}: the key figures have no step "
                        f"{lab}→{doel} ({col})"
                    )
    kc = config.get("kosten", {})
    opp_min = float(kc.get("oppervlakte_min", 15.0))
    opp_max = float(kc.get("oppervlakte_max", 1000.0))

    label = dwellings["energielabel"].astype("string")
    d = dwellings.loc[label.isin(slecht).fillna(False).to_numpy()].copy()
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
    lab = d["energielabel"].to_numpy()
    area = d["oppervlakte_gebruikt"].to_numpy()
    for doel in DOELLABELS:
        for variant in ("min", "max"):
            asl = np.full(len(d), np.nan)
            per_m2 = np.full(len(d), np.nan)
            for l_ in slecht:
                cols = _stap_kolommen(l_, doel)
                sel = lab == l_
                asl[sel] = merged.loc[sel, cols[f"{variant}_asl"]].to_numpy()
                per_m2[sel] = merged.loc[sel, cols[f"{variant}_opp"]].to_numpy()
            d[f"kosten_{doel.lower()}_{variant}"] = np.maximum(asl + per_m2 * area, 0.0)
    d["naoorlogs"] = (
        d["naoorlogs"].astype("boolean").fillna(False).to_numpy()
        if "naoorlogs" in d.columns else False
    )
    d["label_geschat"] = (
        (d["label_bron"].astype("string") == "geschat").fillna(False).to_numpy()
        if "label_bron" in d.columns else False
    )
    keep = ["buurtcode", "energielabel", "woningtype", "pbl_periode", "oppervlakte_gebruikt",
            "oppervlakte_geimputeerd", "naoorlogs", "label_geschat",
            "kosten_b_min", "kosten_b_max", "kosten_c_min", "kosten_c_max"]
    for extra in ("gemeentecode", "vbo_id"):
        if extra in d.columns:
            keep.insert(0, extra)
    return d[keep]


_KOSTEN = ["kosten_b_min", "kosten_b_max", "kosten_c_min", "kosten_c_max"]


def sum_costs_per_buurt(woningkosten: pd.DataFrame, buurten: pd.DataFrame) -> pd.DataFrame:
    """Sum the dwelling estimates per buurt.

    Every buurt of ``buurten`` gets a row (0 poor-label dwellings → costs 0). Totals cover the
    dwellings with an estimate; ``n_efg_zonder_kentallen`` counts the others.

    Returns
    -------
    pandas.DataFrame
        ``buurtcode``, ``buurtnaam``, ``gemeentecode``, ``gemeentenaam`` (when present),
        ``n_efg``, ``n_efg_berekend``, ``n_efg_zonder_kentallen``, ``n_oppervlakte_geimputeerd``,
        ``n_label_geschat``, ``kosten_b_min``, ``kosten_b_max``, ``kosten_c_min``,
        ``kosten_c_max``, the same per dwelling (``..._per_woning``), ``n_efg_naoorlogs``,
        ``kosten_b_min_naoorlogs``, ``kosten_b_max_naoorlogs``, ``bron``.
    """
    w = woningkosten.copy()
    w["_berekend"] = w[_KOSTEN].notna().all(axis=1)
    w["_n"] = 1
    ok = w["_berekend"]
    for col in _KOSTEN:
        w[col] = w[col].where(ok, 0.0)
    naoorlogs = w["naoorlogs"].astype(bool) & ok
    w["_b_min_no"] = w["kosten_b_min"].where(naoorlogs, 0.0)
    w["_b_max_no"] = w["kosten_b_max"].where(naoorlogs, 0.0)
    w["_n_no"] = w["naoorlogs"].astype(bool).astype(int)
    g = w.groupby("buurtcode", sort=True).agg(
        n_efg=("_n", "sum"),
        n_efg_berekend=("_berekend", "sum"),
        n_oppervlakte_geimputeerd=("oppervlakte_geimputeerd", "sum"),
        n_label_geschat=("label_geschat", "sum"),
        kosten_b_min=("kosten_b_min", "sum"),
        kosten_b_max=("kosten_b_max", "sum"),
        kosten_c_min=("kosten_c_min", "sum"),
        kosten_c_max=("kosten_c_max", "sum"),
        n_efg_naoorlogs=("_n_no", "sum"),
        kosten_b_min_naoorlogs=("_b_min_no", "sum"),
        kosten_b_max_naoorlogs=("_b_max_no", "sum"),
    )
    ids = [c for c in ("buurtcode", "buurtnaam", "gemeentecode", "gemeentenaam")
           if c in buurten.columns]
    out = buurten[ids].drop_duplicates("buurtcode").sort_values("buurtcode")
    out = out.merge(g, left_on="buurtcode", right_index=True, how="left")
    counts = ["n_efg", "n_efg_berekend", "n_oppervlakte_geimputeerd", "n_label_geschat",
              "n_efg_naoorlogs"]
    out[counts] = out[counts].fillna(0).astype("int64")
    money = [*_KOSTEN, "kosten_b_min_naoorlogs", "kosten_b_max_naoorlogs"]
    out[money] = out[money].fillna(0.0)
    out["n_efg_zonder_kentallen"] = out["n_efg"] - out["n_efg_berekend"]
    none_computed = (out["n_efg"] > 0) & (out["n_efg_berekend"] == 0)
    out.loc[none_computed, _KOSTEN] = np.nan
    denom = out["n_efg_berekend"].where(out["n_efg_berekend"] > 0)
    for col in _KOSTEN:
        out[f"{col}_per_woning"] = out[col] / denom
    out["bron"] = BRON
    order = [*ids, "n_efg", "n_efg_berekend", "n_efg_zonder_kentallen",
                   "n_oppervlakte_geimputeerd", "n_label_geschat", *_KOSTEN,
                   *[f"{c}_per_woning" for c in _KOSTEN], "n_efg_naoorlogs",
                   "kosten_b_min_naoorlogs", "kosten_b_max_naoorlogs", "bron"]
    return out[order].reset_index(drop=True)


def sum_costs_per_gemeente(kosten_buurt: pd.DataFrame) -> pd.DataFrame:
    """Totals per gemeente of :func:`sum_costs_per_buurt`.

    Returns
    -------
    pandas.DataFrame
        ``gemeentecode``, ``gemeentenaam`` (when present), the summed counts and costs,
        per-dwelling averages and ``bron``.
    """
    keys = [c for c in ("gemeentecode", "gemeentenaam") if c in kosten_buurt.columns]
    sums = ["n_efg", "n_efg_berekend", "n_efg_zonder_kentallen", "n_oppervlakte_geimputeerd",
            "n_label_geschat", *_KOSTEN, "n_efg_naoorlogs", "kosten_b_min_naoorlogs",
            "kosten_b_max_naoorlogs"]
    g = kosten_buurt.groupby(keys, sort=True, dropna=False)[sums].sum(min_count=0)
    g = g.reset_index()
    denom = g["n_efg_berekend"].where(g["n_efg_berekend"] > 0)
    for col in _KOSTEN:
        g[f"{col}_per_woning"] = g[col] / denom
    g["bron"] = BRON
    return g


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
    per_woning = compute_dwelling_costs(dwellings, config=config)
    no_buurt = int(per_woning["buurtcode"].isna().sum())
    if no_buurt:
        notes.append(f"kosten: {no_buurt} woningen met slecht label liggen buiten elke buurt")
    known = set(buurten["buurtcode"])
    outside = int((~per_woning["buurtcode"].isin(known) & per_woning["buurtcode"].notna()).sum())
    if outside:
        notes.append(f"kosten: {outside} woningen met slecht label in buurten buiten de analyse")
    kb = sum_costs_per_buurt(per_woning[per_woning["buurtcode"].isin(known)], buurten)
    n_zonder = int(kb["n_efg_zonder_kentallen"].sum())
    if n_zonder:
        notes.append(f"kosten: {n_zonder} woningen met slecht label zonder kentallen "
                     "(woningtype of bouwperiode onbekend)")
    n_imp = int(kb["n_oppervlakte_geimputeerd"].sum())
    if n_imp:
        notes.append(f"kosten: oppervlakte van {n_imp} woningen vervangen door de mediaan "
                     "van hun woningtype")
    for note in notes:
        logger.info(note)
    return kb, sum_costs_per_gemeente(kb), notes
