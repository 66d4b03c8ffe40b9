"""The answer per buurt: for how many target-group owners does a package close, and the gap.

From the sums of :func:`woonvoorraad.scenarios.model.sums_per_buurt` and the buurt columns of
the build (column contract: ``n_doelgroep``, ``n_doelgroep_laag``/``_hoog``, ``daeb_grens``,
``inkomen_eigenaren_geschat``, ``inkomen_eigenaren_sigma``, ``aandeel_koop``, ``n_naoorlogs``):

* ``aandeel_pakket`` — expected share of the dwellings in scope the package applies to;
  ``n_doelgroep_pakket = n_doelgroep × aandeel_pakket`` (the target group is assumed to live in
  the buurt's post-war dwellings like everyone else: tenure and WOZ per dwelling are unknown).
* ``aandeel_neutraal`` — share of those owners for whom the package is cash-flow neutral or
  better at the target group's terms; its range takes the high investment (``_laag``) and the
  low one (``_hoog``), the counts also the range of ``n_doelgroep``.
* ``n_verzilverlening`` / ``n_extra_subsidie`` — the others, split by the share of owners old
  enough for a Verzilverlening (proxy column, ``[verzilverlening] aandeel_oud_genoeg_kolom``).
* ``gat_euro`` — the sum an instrument would have to add for all of them to break even.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.scenarios import finance
from woonvoorraad.scenarios.model import TERMEN, VARIANTEN, Outcomes, Prepared, weighted_median

logger = logging.getLogger(__name__)

_IDS = ("buurtcode", "buurtnaam", "gemeentecode", "gemeentenaam")


def _col(b: pd.DataFrame, name: str) -> pd.Series:
    if name in b.columns:
        return pd.to_numeric(b[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=b.index, dtype=float)


def _share(x: pd.Series | np.ndarray, n: pd.Series | np.ndarray) -> np.ndarray:
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 1e-9, x / n, np.nan)


def zero_shares(b: pd.DataFrame, settings: Mapping[str, Any]
                ) -> tuple[dict[str, np.ndarray], bool]:
    """Share under the Warmtefonds 0 % limit per income group and buurt; whether incomes known.

    A group wholly below the limit (the target group while the DAEB limit is lower) gets 1, one
    wholly above 0, without an income distribution; the others need it (NaN without).
    """
    mean, sigma = income_distribution(b, settings)
    known = np.isfinite(mean) & np.isfinite(sigma) & (mean > 0)
    daeb = _col(b, "daeb_grens").to_numpy()
    mb = float(settings["inkomen"]["midden_bovengrens"])
    limit = float(settings["warmtefonds"]["nulrente_inkomensgrens"])
    out: dict[str, np.ndarray] = {}
    for g in (*finance.GROEPEN, "doelgroep"):
        zero = np.zeros_like(daeb)
        lo, hi = {"onder_daeb": (zero, daeb), "doelgroep": (zero, daeb),
                  "midden": (daeb, np.maximum(mb, daeb)),
                  "boven": (np.maximum(mb, daeb), np.full_like(daeb, np.inf))}[g]
        z = finance.zero_rate_share(lo, hi, np.where(known, mean, 1.0),
                                    np.where(known, sigma, 1.0), settings)
        certain = np.where(hi <= limit, 1.0, np.where(lo >= limit, 0.0, np.nan))
        out[g] = np.where(np.isfinite(certain), certain, np.where(known, z, np.nan))
    return out, bool(known.any())


def income_distribution(b: pd.DataFrame, settings: Mapping[str, Any]
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and log-sd of owners' income per buurt (NaN where the build has none)."""
    mean = _col(b, "inkomen_eigenaren_geschat").to_numpy()
    sigma = _col(b, "inkomen_eigenaren_sigma").to_numpy()
    if "inkomen_eigenaren_sigma" not in b.columns:
        sigma = np.where(np.isfinite(mean), float(settings["inkomen"]["sigma_standaard"]), np.nan)
    return mean, sigma


def buurt_answer(sums: pd.DataFrame, buurten: pd.DataFrame, *, scenario: str,
                 settings: Mapping[str, Any], notes: list[str]) -> pd.DataFrame:
    """One row per buurt: costs, savings, the target group's balance and the gap."""
    b = buurten.drop_duplicates("buurtcode").set_index("buurtcode", drop=False).sort_index()
    s = sums.reindex(b.index).fillna(0.0)
    out = pd.DataFrame({c: b[c].to_numpy() for c in _IDS if c in b.columns}, index=b.index)
    out.insert(0, "scenario", scenario)
    n_pk = s["n_pakket"].to_numpy()
    out["n_woningen_scope"] = s["n_woningen_scope"].to_numpy()
    out["n_pakket"] = n_pk
    out["aandeel_pakket"] = _share(n_pk, s["n_labels_bekend"])
    for v in ("laag", "hoog"):
        out[f"investering_{v}"] = s[f"inv_{v}"].to_numpy()
    out["investering_per_woning_laag"] = _share(s["inv_laag"], n_pk)
    out["investering_per_woning_hoog"] = _share(s["inv_hoog"], n_pk)
    out["subsidie_isde"] = s["isde_midden"].to_numpy()
    out["bijdrage_gemeente"] = s["gem_midden"].to_numpy()
    out["eigen_deel_per_woning"] = _share(s["eigen_midden"], n_pk)
    out["besparing_gas_m3_jaar"] = s["gas_m3"].to_numpy()
    out["besparing_euro_jaar"] = s["euro"].to_numpy()
    out["besparing_euro_jaar_per_woning"] = _share(s["euro"], n_pk)
    out["co2_ton_jaar"] = s["co2_kg"].to_numpy() / 1000.0
    z, _ = zero_shares(b, settings)
    zd = z["doelgroep"]
    per: dict[str, dict[str, np.ndarray]] = {}
    for v in VARIANTEN:
        per[v] = {key: _share(zd * s[f"{key}_nul_{v}"].to_numpy()
                              + (1 - zd) * s[f"{key}_regulier_{v}"].to_numpy(), n_pk)
                  for key in ("neutraal", "netto", "gat", "last")}
    out["maandlast_lening_doelgroep"] = per["midden"]["last"]
    out["netto_maandlast_doelgroep"] = per["midden"]["netto"]
    out["netto_maandlast_doelgroep_laag"] = per["laag"]["netto"]
    out["netto_maandlast_doelgroep_hoog"] = per["hoog"]["netto"]
    nd = _col(b, "n_doelgroep").to_numpy()
    nd_lo, nd_hi = _col(b, "n_doelgroep_laag").to_numpy(), _col(b, "n_doelgroep_hoog").to_numpy()
    if "n_doelgroep" not in b.columns:
        notes.append("scenario's: de build heeft geen n_doelgroep; de doelgroepcijfers ontbreken")
    if not {"n_doelgroep_laag", "n_doelgroep_hoog"} <= set(b.columns):
        notes.append("scenario's: de build heeft geen n_doelgroep_laag/_hoog; het bereik komt "
                     "alleen uit de investering (laag/hoog)")
        nd_lo, nd_hi = nd, nd
    nd_lo, nd_hi = np.where(np.isfinite(nd_lo), nd_lo, nd), np.where(np.isfinite(nd_hi), nd_hi, nd)
    ap = np.nan_to_num(out["aandeel_pakket"].to_numpy(), nan=0.0)
    ndp, ndp_lo, ndp_hi = nd * ap, nd_lo * ap, nd_hi * ap
    out["n_doelgroep"] = nd
    out["n_doelgroep_pakket"] = ndp
    out["n_doelgroep_pakket_laag"] = ndp_lo
    out["n_doelgroep_pakket_hoog"] = ndp_hi
    out["aandeel_neutraal"] = per["midden"]["neutraal"]
    out["aandeel_neutraal_laag"] = per["hoog"]["neutraal"]
    out["aandeel_neutraal_hoog"] = per["laag"]["neutraal"]
    out["n_neutraal"] = ndp * per["midden"]["neutraal"]
    out["n_neutraal_laag"] = ndp_lo * per["hoog"]["neutraal"]
    out["n_neutraal_hoog"] = ndp_hi * per["laag"]["neutraal"]
    kol = str(settings["verzilverlening"]["aandeel_oud_genoeg_kolom"])
    oud = _col(b, kol).clip(0, 1).to_numpy()
    if kol not in b.columns:
        notes.append(f"scenario's: kolom {kol} ontbreekt; wie een Verzilverlening kan krijgen "
                     "is onbekend")
    niet = ndp - out["n_neutraal"].to_numpy()
    niet_lo = ndp_lo * (1 - per["laag"]["neutraal"])
    niet_hi = ndp_hi * (1 - per["hoog"]["neutraal"])
    out["n_niet_neutraal"] = niet
    out["n_verzilverlening"] = niet * oud
    out["n_extra_subsidie"] = niet * (1 - oud)
    out["n_extra_subsidie_laag"] = niet_lo * (1 - oud)
    out["n_extra_subsidie_hoog"] = niet_hi * (1 - oud)
    out["gat_euro_per_woning"] = per["midden"]["gat"]
    out["gat_euro"] = ndp * per["midden"]["gat"]
    out["gat_euro_laag"] = ndp_lo * per["laag"]["gat"]
    out["gat_euro_hoog"] = ndp_hi * per["hoog"]["gat"]
    out["gat_euro_extra_subsidie"] = out["gat_euro"] * (1 - oud)
    out["rang"] = rank(out)
    return out.reset_index(drop=True)


def rank(frame: pd.DataFrame) -> pd.Series:
    """Rank (1 = best) on the share cash-flow neutral, then the smaller gap per dwelling.

    Units without target-group dwellings that need the package get no rank.
    """
    ok = frame["n_doelgroep_pakket"].fillna(0) > 0.5
    order = frame[ok].sort_values(["aandeel_neutraal", "gat_euro_per_woning"],
                                  ascending=[False, True], na_position="last", kind="stable")
    r = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    r.loc[order.index] = np.arange(1, len(order) + 1)
    return r


def income_groups(sums: pd.DataFrame, buurten: pd.DataFrame, *, scenario: str,
                  settings: Mapping[str, Any], alleen_naoorlogs: bool,
                  notes: list[str]) -> pd.DataFrame:
    """One row per buurt × income group (and the target group): owners, balance, share neutral."""
    b = buurten.drop_duplicates("buurtcode").set_index("buurtcode", drop=False).sort_index()
    s = sums.reindex(b.index).fillna(0.0)
    n_pk = s["n_pakket"].to_numpy()
    z, known = zero_shares(b, settings)
    if not known:
        notes.append("scenario's: de build heeft geen inkomen_eigenaren_geschat; aantallen per "
                     "inkomensgroep en de middengroep zijn onbekend (niet geschat)")
    mean, sigma = income_distribution(b, settings)
    shares = finance.income_group_shares(np.where(np.isfinite(mean), mean, np.nan), sigma,
                                         _col(b, "daeb_grens").to_numpy(),
                                         float(settings["inkomen"]["midden_bovengrens"]))
    base = _col(b, "n_naoorlogs" if alleen_naoorlogs else "n_woningen").to_numpy()
    koop = _col(b, "aandeel_koop").to_numpy()
    koop = np.where(koop > 1.0, koop / 100.0, koop)
    ap = _share(n_pk, s["n_labels_bekend"])
    rows = []
    for g in (*finance.GROEPEN, "doelgroep"):
        zg = z[g]
        frame = pd.DataFrame({c: b[c].to_numpy() for c in _IDS if c in b.columns})
        frame.insert(0, "scenario", scenario)
        frame["inkomensgroep"] = g
        if g == "doelgroep":
            frame["aandeel_eigenaren"] = np.nan
            frame["n_eigenaren"] = _col(b, "n_doelgroep").to_numpy()
        else:
            frame["aandeel_eigenaren"] = shares[g]
            frame["n_eigenaren"] = base * koop * shares[g]
        frame["n_eigenaren_pakket"] = frame["n_eigenaren"].to_numpy() * ap
        frame["aandeel_nulrente"] = zg
        for v in VARIANTEN:
            for key, naam in (("netto", "netto_maandlast"), ("neutraal", "aandeel_neutraal"),
                              ("gat", "gat_euro_per_woning")):
                val = _share(zg * s[f"{key}_nul_{v}"].to_numpy()
                             + (1 - zg) * s[f"{key}_regulier_{v}"].to_numpy(), n_pk)
                col = naam if v == "midden" else f"{naam}_{'inv_' + v}"
                frame[col] = val
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def target_median(prep: Prepared, out: Outcomes, buurt: pd.DataFrame,
                  zd: pd.Series, variant: str = "midden") -> float:
    """Weighted median net monthly cost of the target-group owners a package applies to."""
    b = buurt.set_index("buurtcode")
    per = (b["n_doelgroep"] / b["n_woningen_scope"].where(b["n_woningen_scope"] > 0)).fillna(0.0)
    wb = pd.Series(prep.buurtcode).map(per).fillna(0.0).to_numpy()
    z = pd.Series(prep.buurtcode).map(zd).astype(float).fillna(1.0).to_numpy()[:, None]
    net = z * out.netto[("nul", variant)] + (1 - z) * out.netto[("regulier", variant)]
    return weighted_median(net, out.w * wb[:, None])


def _weighted_share(buurt: pd.DataFrame, col: str) -> float:
    """Mean of a per-buurt share weighted by the buurten's central ``n_doelgroep_pakket``."""
    w = pd.to_numeric(buurt["n_doelgroep_pakket"], errors="coerce").fillna(0.0)
    v = pd.to_numeric(buurt[col], errors="coerce")
    ok = v.notna() & (w > 0)
    return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")


def summary_row(buurt: pd.DataFrame, *, scenario: str, naam: str, median: float) -> dict:
    """Totals of one scenario over the selected buurten."""
    def tot(c: str) -> float:
        return float(pd.to_numeric(buurt[c], errors="coerce").sum(min_count=1))

    ndp = tot("n_doelgroep_pakket")
    return {
        "scenario": scenario, "naam": naam, "n_buurten": len(buurt),
        "n_pakket": tot("n_pakket"), "investering_laag": tot("investering_laag"),
        "investering_hoog": tot("investering_hoog"), "subsidie_isde": tot("subsidie_isde"),
        "besparing_gas_m3_jaar": tot("besparing_gas_m3_jaar"),
        "besparing_euro_jaar": tot("besparing_euro_jaar"), "co2_ton_jaar": tot("co2_ton_jaar"),
        "n_doelgroep_pakket": ndp,
        "n_doelgroep_pakket_laag": tot("n_doelgroep_pakket_laag"),
        "n_doelgroep_pakket_hoog": tot("n_doelgroep_pakket_hoog"),
        "aandeel_neutraal": tot("n_neutraal") / ndp if ndp > 0 else np.nan,
        # the share's range over the investment range, buurten weighted by their central
        # count (weights from the low/high counts could put "laag" above the central share)
        "aandeel_neutraal_laag": _weighted_share(buurt, "aandeel_neutraal_laag"),
        "aandeel_neutraal_hoog": _weighted_share(buurt, "aandeel_neutraal_hoog"),
        "n_neutraal": tot("n_neutraal"), "n_verzilverlening": tot("n_verzilverlening"),
        "n_extra_subsidie": tot("n_extra_subsidie"),
        "mediaan_netto_maandlast_doelgroep": median,
        "gat_euro": tot("gat_euro"), "gat_euro_laag": tot("gat_euro_laag"),
        "gat_euro_hoog": tot("gat_euro_hoog"),
        "gat_euro_extra_subsidie": tot("gat_euro_extra_subsidie"),
    }


_SUM_COLS = ("n_woningen_scope", "n_pakket", "investering_laag", "investering_hoog",
             "subsidie_isde", "besparing_gas_m3_jaar", "besparing_euro_jaar", "co2_ton_jaar",
             "n_doelgroep", "n_doelgroep_pakket", "n_doelgroep_pakket_laag",
             "n_doelgroep_pakket_hoog", "n_neutraal", "n_neutraal_laag", "n_neutraal_hoog",
             "n_verzilverlening", "n_extra_subsidie", "gat_euro", "gat_euro_laag",
             "gat_euro_hoog", "gat_euro_extra_subsidie")


def candidate_answer(buurt: pd.DataFrame, kandidaten: pd.DataFrame) -> pd.DataFrame:
    """The buurt answer summed per candidate unit of ``proeftuinen.csv``, ranked."""
    rows = []
    for _, k in kandidaten.iterrows():
        codes = [c.strip() for c in str(k["buurtcodes"]).split(",") if c.strip()]
        part = buurt[buurt["buurtcode"].isin(codes)]
        row = {"scenario": buurt["scenario"].iloc[0] if len(buurt) else "",
               **{c: k.get(c) for c in ("gemeentecode", "gemeentenaam", "niveau",
                                        "eenheid_code", "eenheid_naam", "rang")},
               "buurtcodes": ",".join(codes)}
        row["proeftuin_rang"] = row.pop("rang")
        for c in _SUM_COLS:
            row[c] = float(pd.to_numeric(part[c], errors="coerce").sum(min_count=1))
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["aandeel_neutraal"] = _share(out["n_neutraal"], out["n_doelgroep_pakket"])
    for col in ("aandeel_neutraal_laag", "aandeel_neutraal_hoog"):
        out[col] = [_weighted_share(buurt[buurt["buurtcode"].isin(c.split(","))], col)
                    for c in out["buurtcodes"]]
    out["gat_euro_per_woning"] = _share(out["gat_euro"], out["n_doelgroep_pakket"])
    out["rang"] = rank(out)
    return out.sort_values("rang", na_position="last", kind="stable").reset_index(drop=True)


__all__ = ["TERMEN", "buurt_answer", "candidate_answer", "income_groups", "rank",
           "summary_row", "target_median", "zero_shares"]
