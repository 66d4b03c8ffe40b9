"""What a package costs, saves and asks of the owner: per dwelling, per buurt, per income group.

Per dwelling and per possible current label ``X`` (weight ``p_label_X``; a label scenario acts
only on the labels in its ``van`` list) the model computes, in three investment variants
(``laag``, ``midden`` = the mean of low and high, ``hoog``)::

    investering = max(0, asl + opp × oppervlakte)        PBL step X → doel (low / high)
    isde        = aandeel × investering                  15 % one class step, 30 % more
    gemeente    = min(bijdrage_aandeel × investering, bijdrage_max) + collectief_per_woning
    eigen_deel  = max(0, investering − isde − gemeente)
    gas_m3      = max(0, Vrv_X − Vrv_doel) / warmte_gj_per_m3_gas      (PBL heat demand)
    besparing   = gas_m3 × gasprijs (euro/yr);   co2 = gas_m3 × co2_kg_per_m3_gas
    lening      = min(eigen_deel, max_lening)    (Warmtefonds; Blijverslening for levensloop)
    maandlast   = annuity(lening, rente, looptijd)
    netto       = maandlast − besparing / 12
    gat         = max(0, eigen_deel − min(PV(besparing / 12), max_lening))

``gat`` is the lump sum an instrument would have to add so that the loan is paid by the
savings alone (``PV`` at the loan's rate and term): the package is cash-flow neutral or
better exactly when ``gat`` is 0. The rate is 0 % for incomes up to the Warmtefonds limit
(terms ``nul``), else the regular rate (``regulier``); income groups mix the two with the
share of the group under the limit (:func:`woonvoorraad.scenarios.finance.zero_rate_share`).
A levensloop package saves nothing: its ``gat`` is its full own part.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.classify.kosten import KLASSEN, label_probabilities, read_kentallen
from woonvoorraad.errors import MissingColumnError
from woonvoorraad.scenarios import finance
from woonvoorraad.scenarios.warmtevraag import heat_demand, period_index, read_warmtevraag, rows_for

logger = logging.getLogger(__name__)

VARIANTEN: tuple[str, ...] = ("laag", "midden", "hoog")
TERMEN: tuple[str, ...] = ("nul", "regulier")
_REQUIRED = ("buurtcode", "woningtype", "oppervlakte")
#: Floor areas outside this range are replaced by the median of the woningtype (as the costs).
OPP_MIN, OPP_MAX = 15.0, 1000.0


@dataclass
class Prepared:
    """Dwellings in scope with their key-figure inputs."""

    buurtcode: np.ndarray
    woningtype: np.ndarray
    pidx: np.ndarray
    area: np.ndarray
    prob: np.ndarray  # n × 7, NaN rows where nothing is known
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.buurtcode)


def prepare_dwellings(dwellings: pd.DataFrame, *, alleen_naoorlogs: bool = True,
                      buurtcodes: Any = None) -> Prepared:
    """Select the dwellings in scope and derive period, floor area and label probabilities.

    Raises
    ------
    MissingColumnError
        A needed column is absent (named).
    """
    missing = [c for c in _REQUIRED if c not in dwellings.columns]
    if "bouwjaar" not in dwellings.columns and "bouwperiode" not in dwellings.columns:
        missing.append("bouwjaar")
    if missing:
        raise MissingColumnError(f"dwellings lacks column(s) {missing} needed for the scenarios")
    d = dwellings
    notes: list[str] = []
    if buurtcodes is not None:
        d = d[d["buurtcode"].isin(list(buurtcodes))]
    if alleen_naoorlogs:
        if "naoorlogs" in d.columns:
            d = d[d["naoorlogs"].astype("boolean").fillna(False).to_numpy()]
        else:
            notes.append("scenario's: de woningtabel heeft geen kolom naoorlogs; alle woningen "
                         "zijn meegenomen")
    d = d.reset_index(drop=True)
    area = pd.to_numeric(d["oppervlakte"], errors="coerce").astype(float)
    bad = area.isna() | (area < OPP_MIN) | (area > OPP_MAX)
    typ = d["woningtype"].astype("string")
    med = area.where(~bad).groupby(typ).median()
    area = area.mask(bad, typ.map(med).astype(float))
    if int(bad.sum()):
        notes.append(f"scenario's: oppervlakte van {int(bad.sum())} woningen vervangen door de "
                     "mediaan van hun woningtype")
    prob, from_model = label_probabilities(d)
    if not from_model:
        notes.append("scenario's: geen labelkansen (p_label_A..G) in de build; het enkele "
                     "energielabel per woning is gebruikt")
    return Prepared(buurtcode=d["buurtcode"].astype("string").to_numpy(dtype=object),
                    woningtype=typ.to_numpy(dtype=object), pidx=period_index(d),
                    area=area.to_numpy(dtype=float), prob=prob, notes=notes)


@dataclass
class Outcomes:
    """Per dwelling (rows) and label class (columns) results of one package."""

    w: np.ndarray                       # weight: probability of the class and of the package
    inv: dict[str, np.ndarray]          # per variant
    isde: dict[str, np.ndarray]
    gemeente: dict[str, np.ndarray]
    eigen: dict[str, np.ndarray]
    gas_m3: np.ndarray
    euro: np.ndarray
    co2_kg: np.ndarray
    maandlast: dict[tuple[str, str], np.ndarray]   # (terms, variant)
    netto: dict[tuple[str, str], np.ndarray]
    gat: dict[tuple[str, str], np.ndarray]


def _finance(eigen: np.ndarray, euro: np.ndarray, scenario: Mapping[str, Any],
             settings: Mapping[str, Any], zero: bool) -> tuple[np.ndarray, ...]:
    if scenario["financiering"] == "blijverslening":
        loan, rate, years = finance.blijverslening_terms(eigen, settings=settings)
        cap = float(settings["blijverslening"]["max_lening"])
    else:
        loan, rate, years = finance.warmtefonds_terms(eigen, zero_rate=zero, settings=settings)
        cap = float(settings["warmtefonds"]["max_lening"])
    pay = finance.annuity(loan, rate, years)
    netto = pay - euro / 12.0
    carried = np.minimum(finance.present_value(euro / 12.0, rate, years), cap)
    gat = np.maximum(eigen - carried, 0.0)
    gat = np.where(gat < 0.5, 0.0, gat)
    return pay, netto, gat


def _contributions(inv: np.ndarray, share: np.ndarray | float,
                   settings: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = settings["gemeente"]
    isde = inv * share
    gem = np.minimum(inv * float(g["bijdrage_aandeel"]), float(g["bijdrage_max"]))
    gem = np.minimum(gem + float(g["collectief_per_woning"]), np.maximum(inv - isde, 0.0))
    return isde, gem, np.maximum(inv - isde - gem, 0.0)


def dwelling_outcomes(prep: Prepared, scenario: Mapping[str, Any],
                      settings: Mapping[str, Any]) -> Outcomes:
    """Investment, subsidies, savings, loan and net monthly cost per dwelling and class."""
    n = len(prep)
    pr = settings["prijzen"]
    if scenario["soort"] == "label":
        doel = scenario["doel"]
        van = [x for x in KLASSEN if x in scenario["van"]]
        k = read_kentallen()
        krow = rows_for(k.drop(columns=["pbl_type", "bouwjaar_van", "bouwjaar_tot",
                                        "default_label"]), prep.woningtype, prep.pidx)
        hrow = rows_for(read_warmtevraag(), prep.woningtype, prep.pidx)
        gj = heat_demand(hrow, prep.area)
        j_doel = KLASSEN.index(doel)
        p = np.nan_to_num(prep.prob, nan=0.0)
        w = np.zeros((n, len(KLASSEN)))
        lo = np.zeros((n, len(KLASSEN)))
        hi = np.zeros((n, len(KLASSEN)))
        share = np.zeros((n, len(KLASSEN)))
        saved = np.zeros((n, len(KLASSEN)))
        isde = settings["isde"]
        for x in van:
            j = KLASSEN.index(x)
            cost = {}
            for v in ("min", "max"):
                asl = krow[f"ki_{x.lower()}{doel.lower()}_{v}_asl"].to_numpy(dtype=float)
                opp = krow[f"ki_{x.lower()}{doel.lower()}_{v}_opp"].to_numpy(dtype=float)
                cost[v] = np.maximum(asl + opp * prep.area, 0.0)
            ok = np.isfinite(cost["min"]) & np.isfinite(cost["max"]) & np.isfinite(gj[:, j])
            w[:, j] = np.where(ok, p[:, j], 0.0)
            lo[:, j] = np.where(ok, np.minimum(cost["min"], cost["max"]), 0.0)
            hi[:, j] = np.where(ok, np.maximum(cost["min"], cost["max"]), 0.0)
            share[:, j] = (float(isde["aandeel_een_maatregel"]) if j - j_doel == 1
                           else float(isde["aandeel_meer_maatregelen"]))
            saved[:, j] = np.where(ok, np.maximum(gj[:, j] - gj[:, j_doel], 0.0), 0.0)
        gas = saved / float(pr["warmte_gj_per_m3_gas"])
    else:
        lo = np.zeros((n, 1))
        hi = np.zeros((n, 1))
        for cl, ch, types in zip(scenario["kosten_laag"], scenario["kosten_hoog"],
                                 scenario["woningtypen"], strict=True):
            applies = np.isin(prep.woningtype.astype(str), [str(t) for t in types])
            lo[:, 0] += np.where(applies, float(cl), 0.0)
            hi[:, 0] += np.where(applies, float(ch), 0.0)
        w = (hi[:, 0] > 0).astype(float)[:, None]
        share = np.zeros((n, 1))
        gas = np.zeros((n, 1))
    euro = gas * float(pr["gasprijs"])
    inv = {"laag": lo, "midden": (lo + hi) / 2.0, "hoog": hi}
    out = Outcomes(w=w, inv=inv, isde={}, gemeente={}, eigen={}, gas_m3=gas, euro=euro,
                   co2_kg=gas * float(pr["co2_kg_per_m3_gas"]), maandlast={}, netto={}, gat={})
    for v in VARIANTEN:
        out.isde[v], out.gemeente[v], out.eigen[v] = _contributions(inv[v], share, settings)
        for t in TERMEN:
            pay, net, gat = _finance(out.eigen[v], euro, scenario, settings, zero=(t == "nul"))
            out.maandlast[(t, v)], out.netto[(t, v)], out.gat[(t, v)] = pay, net, gat
    return out


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of ``values`` with ``weights`` (NaN when the weights sum to 0).

    Examples
    --------
    >>> weighted_median(np.array([1.0, 2.0, 10.0]), np.array([1.0, 1.0, 3.0]))
    10.0
    """
    v = np.asarray(values, dtype=float).ravel()
    wt = np.asarray(weights, dtype=float).ravel()
    keep = (wt > 0) & np.isfinite(v)
    if not keep.any():
        return float("nan")
    v, wt = v[keep], wt[keep]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(wt[order])
    return float(v[order][np.searchsorted(cum, cum[-1] / 2.0)])


def sums_per_buurt(prep: Prepared, out: Outcomes) -> pd.DataFrame:
    """Sums per buurt of the weighted dwelling results (the basis of every buurt figure).

    Columns: ``n_woningen_scope``, ``n_pakket`` (expected dwellings the package applies to),
    ``n_labels_bekend``, and Σw·x for investment, subsidies, own part, gas, euro, CO₂ and, per
    terms × variant, net monthly cost, gap and the weight of the neutral cases.
    """
    cols: dict[str, np.ndarray] = {
        "n_woningen_scope": np.ones(len(prep)),
        "n_labels_bekend": np.isfinite(prep.prob).all(axis=1).astype(float)
        if out.w.shape[1] > 1 else np.ones(len(prep)),
        "n_pakket": out.w.sum(axis=1),
        "gas_m3": (out.w * out.gas_m3).sum(axis=1),
        "euro": (out.w * out.euro).sum(axis=1),
        "co2_kg": (out.w * out.co2_kg).sum(axis=1),
    }
    for v in VARIANTEN:
        cols[f"inv_{v}"] = (out.w * out.inv[v]).sum(axis=1)
        cols[f"isde_{v}"] = (out.w * out.isde[v]).sum(axis=1)
        cols[f"gem_{v}"] = (out.w * out.gemeente[v]).sum(axis=1)
        cols[f"eigen_{v}"] = (out.w * out.eigen[v]).sum(axis=1)
        for t in TERMEN:
            cols[f"last_{t}_{v}"] = (out.w * out.maandlast[(t, v)]).sum(axis=1)
            cols[f"netto_{t}_{v}"] = (out.w * out.netto[(t, v)]).sum(axis=1)
            cols[f"gat_{t}_{v}"] = (out.w * out.gat[(t, v)]).sum(axis=1)
            cols[f"neutraal_{t}_{v}"] = (out.w * (out.gat[(t, v)] <= 0)).sum(axis=1)
    frame = pd.DataFrame(cols)
    frame["buurtcode"] = prep.buurtcode
    return frame.groupby("buurtcode", sort=True).sum()
