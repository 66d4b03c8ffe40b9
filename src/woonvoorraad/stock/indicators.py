"""Per-buurt indicators: dwelling counts from BAG, key figures from CBS, the target group.

Counts come from the dwelling table (BAG), so they are exact for the inputs; shares of tenure,
WOZ, income and age come from CBS at buurt level, because dwelling-level tenure and value are
not open data. The estimated target group combines the two (:mod:`woonvoorraad.stock.doelgroep`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from woonvoorraad.config import Config, default_config
from woonvoorraad.sources.cbs import STATISTICS
from woonvoorraad.stock import doelgroep

logger = logging.getLogger(__name__)

ID_COLUMNS = ("buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam")

#: CBS statistics renamed where a BAG-based column of the same meaning exists.
_CBS_RENAME = {"woningvoorraad": "woningvoorraad_cbs", "aandeel_eengezins": "aandeel_eengezins_cbs"}


@dataclass
class PartialCounts:
    """Per-buurt sums of part of the dwelling table; :func:`combine_counts` merges them.

    Every part is exact and order-free, so the buurt figures do not depend on how the
    dwellings are split (the distributed engine) or ordered.

    Attributes
    ----------
    sums
        Indexed by buurtcode: the ``n_*`` counts, ``_opp_n`` (dwellings with a floor area)
        and ``_opp_int`` (sum of the whole-number floor areas, int64: BAG areas are whole m²).
    fractions
        ``buurtcode``, ``oppervlakte`` of the (rare) floor areas that are not whole numbers.
    years
        ``buurtcode``, ``bouwjaar``, ``n``: build-year histogram, for the exact median.
    """

    sums: pd.DataFrame
    fractions: pd.DataFrame
    years: pd.DataFrame


def partial_counts(dwellings: pd.DataFrame, config: Config | None = None) -> PartialCounts:
    """Per-buurt sums of (part of) the dwelling table, dwellings with a buurt only.

    Vectorised: the buurtcode is factorised once and every count is one ``np.bincount``.
    """
    cfg = config or default_config()
    per = cfg["periods"]
    start, split, end = per["naoorlogs_start"], per["naoorlogs_split"], per["naoorlogs_end"]
    codes, uniques = pd.factorize(dwellings["buurtcode"], sort=True)
    ok = codes >= 0
    c = codes[ok]
    k = len(uniques)
    bj = dwellings["bouwjaar"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)[ok]
    slecht = list(cfg["labels"]["slecht"])
    eengezins = dwellings["eengezins"].to_numpy(dtype=bool)[ok]
    efg = np.asarray(dwellings["energielabel"].isin(slecht), dtype=bool)[ok]
    geregistreerd = np.asarray(dwellings["label_bron"] == "geregistreerd", dtype=bool)[ok]
    meergezins = np.asarray(dwellings["woningtype"].isin(["meergezins_laag", "meergezins_hoog"]),
                            dtype=bool)[ok]
    opp = dwellings["oppervlakte"].to_numpy(dtype=float)[ok]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(c[mask], minlength=k).astype(np.int64)

    with np.errstate(invalid="ignore"):
        columns = {
            "n_woningen": np.bincount(c, minlength=k).astype(np.int64),
            "n_naoorlogs": count(dwellings["naoorlogs"].to_numpy(dtype=bool)[ok]),
            f"n_naoorlogs_{start}_{split - 1}": count((bj >= start) & (bj < split)),
            f"n_naoorlogs_{split}_{end}": count((bj >= split) & (bj <= end)),
            "n_eengezins": count(eengezins),
            "n_naoorlogs_eengezins": count(eengezins
                                           & dwellings["naoorlogs"].to_numpy(dtype=bool)[ok]),
            f"n_eengezins_voor_{per['eengezins_voor']}": count(eengezins
                                                               & (bj < per["eengezins_voor"])),
            "n_meergezins": count(meergezins),
            "n_bouwjaar_onbekend": count(np.isnan(bj)),
            "n_label_geregistreerd": count(geregistreerd),
            "n_label_efg": count(efg),
            "n_label_efg_geregistreerd": count(efg & geregistreerd),
            "n_label_geschat": count(np.asarray(dwellings["label_bron"].isin(["model", "pbl"]),
                                                dtype=bool)[ok]),
            "n_label_model": count(np.asarray(dwellings["label_bron"] == "model",
                                              dtype=bool)[ok]),
        }
    columns.update(_expected_counts(dwellings, ok, c, k,
                                    dwellings["naoorlogs"].to_numpy(dtype=bool)[ok]))
    index = pd.Index(np.asarray(uniques, dtype=object), name="buurtcode")
    sums = pd.DataFrame(columns, index=index)
    has_opp = ~np.isnan(opp)
    whole = has_opp & (np.abs(opp) < 2.0**52) & (opp == np.round(opp))
    sums["_opp_n"] = count(has_opp)
    sums["_opp_int"] = _int_sums(c[whole], opp[whole].astype(np.int64), k)
    frac = has_opp & ~whole
    fractions = pd.DataFrame({"buurtcode": index.to_numpy()[c[frac]], "oppervlakte": opp[frac]})
    known = ~np.isnan(bj)
    hist = pd.DataFrame({"code": c[known], "bouwjaar": bj[known].astype(np.int64)})
    hist = hist.groupby(["code", "bouwjaar"], sort=True).size().rename("n").reset_index()
    years = pd.DataFrame({"buurtcode": index.to_numpy()[hist["code"].to_numpy()],
                          "bouwjaar": hist["bouwjaar"].to_numpy(),
                          "n": hist["n"].to_numpy(dtype=np.int64)})
    return PartialCounts(sums=sums, fractions=fractions, years=years)


#: Label classes of the probability columns (``p_label_A`` … ``p_label_G``).
_CLASSES = ("A", "B", "C", "D", "E", "F", "G")


def _expected_counts(dwellings: pd.DataFrame, ok: np.ndarray, c: np.ndarray, k: int,
                     naoorlogs: np.ndarray) -> dict[str, np.ndarray]:
    """Per buurt: expected count of each label class (sum of the class probabilities), of
    E/F/G, and the variance sum ``Σ p(1-p)`` of E/F/G (Poisson-binomial), all and post-war.

    Dwellings without probabilities (no registered label and no estimate) add nothing.
    """
    cols = [f"p_label_{x}" for x in _CLASSES]
    if all(col in dwellings.columns for col in cols):
        prob = np.column_stack([dwellings[col].to_numpy(dtype=np.float64)[ok] for col in cols])
    else:  # an older dwelling table: one-hot on the label column
        lab = dwellings["energielabel"].astype("string").str.replace(r"\+", "", regex=True)
        prob = np.column_stack([(lab == x).fillna(False).to_numpy(dtype=float)[ok]
                                for x in _CLASSES])
    prob = np.nan_to_num(prob)
    out = {f"n_label_{x}_verwacht": np.bincount(c, weights=prob[:, j], minlength=k)
           for j, x in enumerate(_CLASSES)}
    efg = prob[:, 4:].sum(axis=1)
    var = efg * (1.0 - efg)
    out["n_label_efg_verwacht"] = np.bincount(c, weights=efg, minlength=k)
    out["_var_label_efg"] = np.bincount(c, weights=var, minlength=k)
    out["n_label_efg_verwacht_naoorlogs"] = np.bincount(c[naoorlogs], weights=efg[naoorlogs],
                                                        minlength=k)
    out["_var_label_efg_naoorlogs"] = np.bincount(c[naoorlogs], weights=var[naoorlogs],
                                                  minlength=k)
    return out


def expected_share_interval(expected: pd.Series | np.ndarray, variance: pd.Series | np.ndarray,
                            n: pd.Series | np.ndarray, *, z: float = 1.6449
                            ) -> tuple[np.ndarray, np.ndarray]:
    """90 % interval of a share of dwellings whose label classes are independent draws.

    The count is Poisson-binomial (mean Σp, variance Σp(1-p)); the interval is its normal
    approximation ``(Σp ± z·√Σp(1-p)) / n``, clipped to [0, 1]. Registered labels have
    p = 0 or 1 and add no variance. NaN where ``n`` is 0.

    Examples
    --------
    >>> lo, hi = expected_share_interval([30.0], [9.0], [100])
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.251, 0.349)
    """
    e = np.asarray(expected, dtype=float)
    sd = np.sqrt(np.clip(np.asarray(variance, dtype=float), 0, None))
    nn = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        nn = np.where(nn > 0, nn, np.nan)
        return np.clip((e - z * sd) / nn, 0, 1), np.clip((e + z * sd) / nn, 0, 1)


def _int_sums(codes: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Exact int64 sums of ``values`` per code (``np.bincount`` would go through float)."""
    out = np.zeros(k, dtype=np.int64)
    np.add.at(out, codes, values)
    return out


def combine_counts(parts: Sequence[PartialCounts]) -> pd.DataFrame:
    """Merge :class:`PartialCounts` into the per-buurt counts :func:`buurt_indicators` joins.

    Counts add up exactly; the floor-area sum is exact for whole numbers and otherwise sums
    the values in sorted order; the median build year comes from the merged histogram (for
    an even count the mean of the two middle years, as :meth:`pandas.Series.median`).
    """
    sums = pd.concat([p.sums for p in parts])
    sums = sums.groupby(level=0, sort=True).sum() if len(parts) > 1 else sums.sort_index()
    frac = pd.concat([p.fractions for p in parts], ignore_index=True)
    opp = sums["_opp_int"].astype(float)
    if len(frac):
        frac = frac.sort_values(["buurtcode", "oppervlakte"], kind="mergesort")
        extra = frac.groupby("buurtcode", sort=False)["oppervlakte"].agg(
            lambda v: float(np.add.reduce(v.to_numpy())))
        opp = opp.add(extra.reindex(opp.index).fillna(0.0))
    sums["_opp_som"] = opp
    years = pd.concat([p.years for p in parts], ignore_index=True)
    if len(parts) > 1 and len(years):
        years = years.groupby(["buurtcode", "bouwjaar"], sort=True)["n"].sum().reset_index()
    sums["mediaan_bouwjaar"] = _median_from_histogram(years).reindex(sums.index)
    sums.index.name = "buurtcode"
    return sums.drop(columns=["_opp_int"])


def _median_from_histogram(years: pd.DataFrame) -> pd.Series:
    """Median per buurtcode of a (buurtcode, bouwjaar, n) histogram sorted by both."""
    if not len(years):
        return pd.Series(dtype=float)
    codes, uniques = pd.factorize(years["buurtcode"], sort=False)
    n = years["n"].to_numpy(dtype=np.int64)
    value = years["bouwjaar"].to_numpy(dtype=float)
    total = np.bincount(codes, weights=n).astype(np.int64)
    cum = np.cumsum(n)
    start = np.concatenate([[0], np.cumsum(total)[:-1]])
    # 1-based positions of the lower and upper middle element within each buurt
    lo = start + (total + 1) // 2
    hi = start + total // 2 + 1
    lo_v = value[np.searchsorted(cum, lo)]
    hi_v = value[np.searchsorted(cum, hi)]
    return pd.Series((lo_v + hi_v) / 2, index=pd.Index(uniques, name="buurtcode"))


def counts_from_dwellings(dwellings: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Sums per ``buurtcode`` of the whole dwelling table (only dwellings with one); a
    village table keys its dwellings by village in that column."""
    return combine_counts([partial_counts(dwellings, config)])


def buurt_indicators(
    dwellings: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
    *,
    trends: pd.DataFrame | None = None,
    config: Config | None = None,
    label_fout: float | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Aggregate dwellings to buurten and join the CBS key figures.

    Parameters
    ----------
    dwellings
        Dwelling table (:func:`woonvoorraad.stock.dwellings.dwellings_from_bag`).
    buurten
        Canonical buurten with CBS statistics (:func:`woonvoorraad.sources.cbs.read_buurten`).
    trends
        Optional per-buurt trends (:func:`woonvoorraad.sources.cbs.trends`), indexed by buurtcode.
    config
        Effective configuration.
    label_fout
        The label model's validated mean absolute error of a buurt's E/F/G share
        (``manifest["label_model"]``); widens the 90 % intervals by the model's systematic
        error (see :func:`expected_share_interval`). None: chance only.

    Returns
    -------
    tuple
        The indicator GeoDataFrame (one row per buurt, every buurt of the input, schema in
        ``docs/schema.md``) and ``missing``: indicator name → why it is NaN everywhere.
    """
    cfg = config or default_config()
    return buurt_indicators_from_counts(counts_from_dwellings(dwellings, cfg), buurten,
                                        trends=trends, config=cfg, label_fout=label_fout)


def buurt_indicators_from_counts(
    counts: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
    *,
    trends: pd.DataFrame | None = None,
    config: Config | None = None,
    label_fout: float | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """:func:`buurt_indicators` from per-buurt counts (:func:`combine_counts`).

    The distributed engine aggregates its partitions with :func:`partial_counts` and
    finishes here, so both engines share the indicator arithmetic.
    """
    cfg = config or default_config()
    out = buurten.reset_index(drop=True).copy()
    for col in ID_COLUMNS:
        if col not in out.columns:
            out[col] = None
    out = out.sort_values("buurtcode", kind="mergesort").reset_index(drop=True)
    joined = counts.reindex(out["buurtcode"].astype(object))
    count_cols = [c for c in counts.columns if c.startswith("n_")]
    for col in count_cols:
        if col.endswith(("_verwacht", "_verwacht_naoorlogs")):
            out[col] = joined[col].fillna(0.0).astype(float).to_numpy()
        else:
            out[col] = joined[col].fillna(0).astype("int64").to_numpy()
    n = add_shares(out, joined, cfg, label_fout=label_fout)
    out = out.rename(columns=_CBS_RENAME)
    if "jaar" in out.columns:
        out = out.rename(columns={"jaar": "cbs_jaar"})

    _target_group(out, cfg)
    out["aandeel_doelgroep"] = out["n_doelgroep"] / n
    out["aandeel_doelgroep_naoorlogs"] = out["n_doelgroep"] / out["n_naoorlogs"].where(
        out["n_naoorlogs"] > 0)

    trend_cols = ["trend_inwoners", "trend_huishoudens", "trend_65plus", "trend_jaren"]
    if trends is not None:
        t = trends.reindex(out["buurtcode"].astype(object))
        for col in trend_cols:
            out[col] = t[col].to_numpy()
    else:
        for col in trend_cols:
            out[col] = np.nan if col != "trend_jaren" else None

    missing = _missing_report(out, trends_given=trends is not None)
    front = [*ID_COLUMNS, "n_woningen"]
    rest = [c for c in out.columns if c not in front and c != "geometry"]
    ordered = out[[*front, *rest, *(["geometry"] if "geometry" in out.columns else [])]]
    return gpd.GeoDataFrame(ordered, geometry="geometry", crs=buurten.crs), missing


def add_shares(out: pd.DataFrame, counts: pd.DataFrame, config: Config, *,
               label_fout: float | None = None) -> pd.Series:
    """The shares, label figures, median build year and mean floor area of a table of counts
    (buurten or villages), in place.

    ``out`` holds the ``n_*`` counts, one row per row of ``counts`` in the same order;
    ``counts`` (:func:`combine_counts`) also gives the hidden sums (``_var_*``, ``_opp_*``)
    and ``mediaan_bouwjaar``. Returns the dwellings per row (NaN where there are none), the
    denominator of the shares.
    """
    eg = f"eengezins_voor_{config['periods']['eengezins_voor']}"
    n = out["n_woningen"].where(out["n_woningen"] > 0)
    out["aandeel_naoorlogs"] = out["n_naoorlogs"] / n
    out[f"aandeel_{eg}"] = out[f"n_{eg}"] / n
    out["label_dekking"] = out["n_label_geregistreerd"] / n
    _label_shares(out, counts, n, label_fout)
    out["aandeel_label_efg_geregistreerd"] = out["n_label_efg_geregistreerd"] / out[
        "n_label_geregistreerd"].where(out["n_label_geregistreerd"] > 0)
    out["mediaan_bouwjaar"] = counts["mediaan_bouwjaar"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gemiddelde_oppervlakte"] = (counts["_opp_som"] / counts["_opp_n"].where(
            counts["_opp_n"] > 0)).to_numpy()
    return n


def _label_shares(out: pd.DataFrame, joined: pd.DataFrame, n: pd.Series,
                  label_fout: float | None = None) -> None:
    """The expected label figures of a buurt (see ``docs/schema.md``), in place.

    The interval's variance is the chance part ``Σp(1-p)`` plus, with ``label_fout`` (the
    model's validated per-buurt E/F/G error, a mean absolute error), a systematic part
    ``(√(π/2) · label_fout · n_model)²``: the model's error is shared by a buurt's estimated
    dwellings, so it grows with their number, not its root (normal errors: sd = √(π/2) · MAE).
    """
    if "n_label_efg_verwacht" not in out.columns:  # counts of an older version
        out["aandeel_label_efg"] = out["n_label_efg"] / n
        return
    out["n_onder_b_verwacht"] = out[[f"n_label_{x}_verwacht" for x in "CDEFG"]].sum(axis=1)
    out["n_onder_c_verwacht"] = out[[f"n_label_{x}_verwacht" for x in "DEFG"]].sum(axis=1)
    out["aandeel_label_efg_verwacht"] = out["n_label_efg_verwacht"] / n
    # the expected share; the count of most-likely labels E/F/G stays in n_label_efg
    out["aandeel_label_efg"] = out["aandeel_label_efg_verwacht"]
    sys_sd = np.sqrt(np.pi / 2) * float(label_fout or 0.0)
    n_model = (joined["n_label_model"].fillna(0).to_numpy(dtype=float)
               if "n_label_model" in joined.columns else np.zeros(len(out)))
    out["aandeel_label_efg_p05"], out["aandeel_label_efg_p95"] = expected_share_interval(
        out["n_label_efg_verwacht"],
        joined["_var_label_efg"].fillna(0).to_numpy() + (sys_sd * n_model) ** 2, n)
    n_no = out["n_naoorlogs"].where(out["n_naoorlogs"] > 0)
    # the post-war dwellings' share of the buurt's model estimates (their count is not kept)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_model_no = np.nan_to_num(n_model * (out["n_naoorlogs"] / n).to_numpy(dtype=float))
    out["aandeel_label_efg_verwacht_naoorlogs"] = out["n_label_efg_verwacht_naoorlogs"] / n_no
    (out["aandeel_label_efg_naoorlogs_p05"],
     out["aandeel_label_efg_naoorlogs_p95"]) = expected_share_interval(
        out["n_label_efg_verwacht_naoorlogs"],
        joined["_var_label_efg_naoorlogs"].fillna(0).to_numpy() + (sys_sd * n_model_no) ** 2,
        n_no)
    if "n_label_geschat" in out.columns:
        out["aandeel_label_geschat"] = out["n_label_geschat"] / n


def _target_group(out: pd.DataFrame, cfg: Config) -> None:
    """The target-group columns of :mod:`woonvoorraad.stock.doelgroep`, in place."""
    params = doelgroep.buurt_parameters(out, cfg).set_axis(out["buurtcode"].to_numpy())
    n_eg = (out["n_naoorlogs_eengezins"] if "n_naoorlogs_eengezins" in out.columns
            else pd.Series(np.nan, index=out.index))  # counts of an older version: no split
    cells = pd.DataFrame({"buurtcode": out["buurtcode"].to_numpy(),
                          "n_eengezins": n_eg.to_numpy(dtype=float),
                          "n_overig": (out["n_naoorlogs"] - n_eg).to_numpy(dtype=float)})
    est = doelgroep.estimate_target_group(cells, params, cfg).reindex(out["buurtcode"])
    for col in est.columns:
        out[col] = est[col].to_numpy()
    out["woz_grens"] = params["woz_grens"].to_numpy()
    owners = doelgroep.owner_income_columns(params, cfg)
    for col in owners.columns:
        out[col] = owners[col].to_numpy()


def target_group_by(buurten: pd.DataFrame, config: Config, *, by: str = "gemeentecode"
                    ) -> pd.DataFrame:
    """The target group summed to ``by`` (e.g. gemeente), its range taken over the sums.

    A sum of the buurten's ``_laag`` figures would be wider than this: each assumption
    combination is applied to every buurt at once, so the bounds are those of the totals.
    """
    params = doelgroep.buurt_parameters(buurten, config).set_axis(
        buurten["buurtcode"].to_numpy())
    n_eg = buurten["n_naoorlogs_eengezins"].to_numpy(dtype=float)
    cells = pd.DataFrame({"buurtcode": buurten["buurtcode"].to_numpy(),
                          by: buurten[by].astype(str).to_numpy(), "n_eengezins": n_eg,
                          "n_overig": buurten["n_naoorlogs"].to_numpy(dtype=float) - n_eg})
    return doelgroep.estimate_target_group(cells, params, config, by=by)


def _missing_report(out: pd.DataFrame, *, trends_given: bool) -> dict[str, str]:
    missing: dict[str, str] = {}
    for stat in STATISTICS:
        col = _CBS_RENAME.get(stat, stat)
        if col in out.columns and out[col].isna().all():
            if stat == "aantal_65plus" and out["aandeel_65plus"].notna().any():
                continue  # only an alternative route to aandeel_65plus
            missing[col] = "not in the CBS input"
    needs = {"n_goedkoop_koop": ("aandeel_koop", "woz_gemiddeld"),
             "n_doelgroep": ("aandeel_koop", "woz_gemiddeld", "inkomen_per_inwoner",
                             "gemiddelde_huishoudsgrootte")}
    for col, inputs in needs.items():
        if out[col].isna().all():
            lacking = [c for c in inputs if c in missing] or list(inputs)
            missing[col] = f"needs {' and '.join(lacking)} from CBS"
            for other in (f"{col}_laag", f"{col}_hoog"):
                missing[other] = missing[col]
        elif out[col].isna().any():
            logger.info("%s is NaN for %d buurten lacking CBS figures (%s)", col,
                        int(out[col].isna().sum()), ", ".join(inputs))
    if "n_doelgroep" in missing:
        for col in ("aandeel_doelgroep", "aandeel_doelgroep_naoorlogs"):
            missing[col] = missing["n_doelgroep"]
    if not trends_given:
        for col in ("trend_inwoners", "trend_huishoudens", "trend_65plus"):
            missing[col] = "needs CBS statistics of at least two years (--cbs)"
    elif out["trend_inwoners"].isna().all():
        for col in ("trend_inwoners", "trend_huishoudens", "trend_65plus"):
            missing[col] = "the CBS statistics given cover fewer than two years"
    for name, reason in missing.items():
        logger.warning("indicator %s is unavailable: %s", name, reason)
    return missing


def summary(indicators: pd.DataFrame) -> dict[str, Any]:
    """Key totals of an indicator table (for manifests and logs)."""
    return {
        "n_buurten": len(indicators),
        "n_woningen": int(indicators["n_woningen"].sum()),
        "n_naoorlogs": int(indicators["n_naoorlogs"].sum()),
        "n_doelgroep": (None if indicators["n_doelgroep"].isna().all()
                        else round(float(indicators["n_doelgroep"].sum()), 1)),
        "label_dekking": (round(float(indicators["n_label_geregistreerd"].sum()
                                      / max(int(indicators["n_woningen"].sum()), 1)), 4)),
    }
