"""The Regio Deal target group per buurt and per village: cheap owner-occupied post-war homes
whose owners' household income is under the DAEB limit, with a low–central–high range.

Dwelling-level tenure, WOZ value and income are not open data. The estimate combines the
exact BAG counts (post-war dwellings, single-family or not) with the buurt's CBS figures:

``n_goedkoop_koop``
    Σ over the buurt's post-war dwellings of P(owner-occupied | type, buurt) × P(WOZ < limit).
``n_doelgroep``
    Σ of P(owner-occupied | type, buurt) × P(WOZ < limit and owners' income < DAEB limit).

The pieces:

* **Owner share by type and period.** CBS gives the buurt's owner share ``aandeel_koop`` over
  all its dwellings. Single-family homes are far more often owner-occupied than flats, and
  post-war homes less often than others (corporations built much of the post-war stock), so
  a dwelling's owner chance is ``logistic(a + β·eengezins + γ·naoorlogs)`` with ``exp(β)`` =
  ``koop_odds_eengezins``, ``exp(γ)`` = ``koop_odds_naoorlogs`` and ``a`` solved per buurt so
  that the BAG dwellings reproduce ``aandeel_koop`` exactly.
* **WOZ.** Post-war WOZ values are log-normal around ``naoorlogs_woz_factor × woz_gemiddeld``
  with coefficient of variation ``woz_variatiecoefficient``. The limit ``woz_grens`` is given
  in prices of WOZ year ``woz_grens_jaar`` and indexed to each buurt's CBS year with the
  national mean WOZ (``woz_index``), so a count does not shrink just because prices rose.
* **Owners' income.** All households' mean gross income is ``inkomen_per_inwoner ×
  gemiddelde_huishoudsgrootte``. Owners earn ``k`` times what renters earn: the gemeente's
  figure of CBS's income-by-tenure table where it was fetched (a buurt column
  ``inkomen_eigenaar_huurder``, set by the build), else ``[doelgroep]
  inkomen_eigenaar_huurder``; so with owner share ``s`` the owners' mean is
  ``m · k / (s·k + 1 − s)``. The spread of all incomes is log-normal, fitted per buurt to its
  share of low-income households (``aandeel_laag_inkomen`` under ``laag_inkomen_grens``); the
  owners' own log-spread is that minus the between-group part ``s(1−s)(ln k)²``.
* **Cheap and low income together.** Among owners, a cheaper home goes with a lower income:
  the two are joined by a Gaussian copula with correlation ``woz_inkomen_correlatie``.

Range: every figure is computed for all combinations of the low and high ends of the six
assumptions (WOZ factor and spread, owner odds by type and by period, owner/renter income ratio,
WOZ–income correlation); ``_laag`` and ``_hoog`` are the smallest and largest result, the
central value uses the central settings. This is a bound over the stated assumption ranges,
not a statistical interval.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri, owens_t

from woonvoorraad.config import policy_value

logger = logging.getLogger(__name__)

#: The assumptions varied for the range: config key → (central, low, high) keys.
ASSUMPTIONS: dict[str, tuple[str, str]] = {
    "naoorlogs_woz_factor": ("naoorlogs_woz_factor_laag", "naoorlogs_woz_factor_hoog"),
    "woz_variatiecoefficient": ("woz_variatiecoefficient_laag", "woz_variatiecoefficient_hoog"),
    "koop_odds_eengezins": ("koop_odds_eengezins_laag", "koop_odds_eengezins_hoog"),
    "koop_odds_naoorlogs": ("koop_odds_naoorlogs_laag", "koop_odds_naoorlogs_hoog"),
    "inkomen_eigenaar_huurder": ("inkomen_eigenaar_huurder_laag",
                                 "inkomen_eigenaar_huurder_hoog"),
    "woz_inkomen_correlatie": ("woz_inkomen_correlatie_laag", "woz_inkomen_correlatie_hoog"),
}
#: Clip of the owners' income log-spread.
_SIGMA_MIN, _SIGMA_MAX = 0.25, 1.2


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """``P(X < h, Y < k)`` for standard normals with correlation ``rho`` (Owen's T).

    Examples
    --------
    >>> float(bivariate_normal_cdf(np.array([0.0]), np.array([0.0]), 0.0)[0])
    0.25
    >>> round(float(bivariate_normal_cdf(np.array([0.0]), np.array([0.0]), 0.5)[0]), 4)
    0.3333
    """
    h = np.asarray(h, dtype=float)
    k = np.asarray(k, dtype=float)
    if abs(rho) < 1e-12:
        return ndtr(h) * ndtr(k)
    nan = np.isnan(h) | np.isnan(k)
    # Owen (1956): Φ2 = ½Φ(h) + ½Φ(k) − T(h, a_h) − T(k, a_k) − c; zeros nudged off 0
    h = np.clip(np.nan_to_num(h), -40.0, 40.0)
    k = np.clip(np.nan_to_num(k), -40.0, 40.0)
    h = np.where(h == 0, 1e-12, h)
    k = np.where(k == 0, 1e-12, k)
    r = np.sqrt(1.0 - rho * rho)
    t = owens_t(h, (k - rho * h) / (h * r)) + owens_t(k, (h - rho * k) / (k * r))
    out = 0.5 * ndtr(h) + 0.5 * ndtr(k) - t - np.where(h * k < 0, 0.5, 0.0)
    out = np.clip(out, 0.0, np.minimum(ndtr(h), ndtr(k)))
    return np.where(nan, np.nan, out)


def owner_chance_by_type(n_eengezins: np.ndarray, n_overig: np.ndarray,
                         aandeel_koop: np.ndarray, *, odds: float,
                         n_eengezins_naoorlogs: np.ndarray | None = None,
                         n_overig_naoorlogs: np.ndarray | None = None,
                         odds_naoorlogs: float = 1.0
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Owner-occupied chance per buurt of a single-family and another dwelling, post-war and
    not.

    Solves ``Σ_cells n·σ(a + β·eengezins + γ·naoorlogs) = s·n_woningen`` for ``a`` (bisection,
    vectorised), ``β = ln(odds)``, ``γ = ln(odds_naoorlogs)``: the buurt's owner share is kept
    and split by type and period. ``n_eengezins`` / ``n_overig`` count all the buurt's
    dwellings, the ``_naoorlogs`` arguments the post-war ones among them.

    Returns
    -------
    tuple of numpy.ndarray
        Chance for: single-family post-war, other post-war, single-family not post-war,
        other not post-war.

    Examples
    --------
    >>> p = owner_chance_by_type(np.array([50.]), np.array([50.]), np.array([0.5]), odds=9)
    >>> [round(float(x[0]), 3) for x in p]
    [0.75, 0.25, 0.75, 0.25]
    >>> p = owner_chance_by_type(np.array([50.]), np.array([50.]), np.array([0.5]), odds=1,
    ...                          n_eengezins_naoorlogs=np.array([25.]),
    ...                          n_overig_naoorlogs=np.array([25.]), odds_naoorlogs=1 / 9)
    >>> [round(float(x[0]), 3) for x in p]
    [0.25, 0.25, 0.75, 0.75]
    """
    ne = np.asarray(n_eengezins, dtype=float)
    no = np.asarray(n_overig, dtype=float)
    s = np.clip(np.asarray(aandeel_koop, dtype=float), 0.0, 1.0)
    ne_pw = np.zeros_like(ne) if n_eengezins_naoorlogs is None else np.asarray(
        n_eengezins_naoorlogs, dtype=float)
    no_pw = np.zeros_like(no) if n_overig_naoorlogs is None else np.asarray(
        n_overig_naoorlogs, dtype=float)
    cells = [(ne_pw, True, True), (no_pw, False, True), (ne - ne_pw, True, False),
             (no - no_pw, False, False)]
    beta = float(np.log(max(odds, 1e-9)))
    gamma = float(np.log(max(odds_naoorlogs, 1e-9)))
    total = ne + no
    lo = np.full(s.shape, -40.0)
    hi = np.full(s.shape, 40.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        got = sum(np.nan_to_num(n) * _sigmoid(mid + beta * eg + gamma * pw)
                  for n, eg, pw in cells)
        high = got > s * total
        hi = np.where(high, mid, hi)
        lo = np.where(high, lo, mid)
    a = (lo + hi) / 2
    empty = total <= 0  # no dwellings: the buurt's share for every cell
    nan = np.isnan(s)
    out = []
    for _, eg, pw in cells:
        p = np.where(empty, s, _sigmoid(a + beta * eg + gamma * pw))
        out.append(np.where(nan, np.nan, p))
    return out[0], out[1], out[2], out[3]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def owner_income(inkomen_huishouden: np.ndarray, aandeel_laag_inkomen: np.ndarray,
                 aandeel_koop: np.ndarray, *, verhouding: float | np.ndarray,
                 laag_inkomen_grens: float,
                 sigma_standaard: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and log-spread of the owners' gross household income per buurt.

    The owners' mean is ``m·k / (s·k + 1 − s)`` (``k`` = owners' over renters' income). The
    log-spread of all households is fitted to the low-income share ``q`` under
    ``laag_inkomen_grens`` (log-normal with mean ``m``: ``σ = z_q + √(z_q² + 2 ln(m/L))``),
    ``sigma_standaard`` where ``q`` is unknown; the owners' log-spread removes the
    between-group part ``s(1−s)(ln k)²`` and is clipped to [0.25, 1.2].

    Examples
    --------
    >>> m, sd = owner_income(np.array([50_000.]), np.array([0.08]), np.array([0.5]),
    ...                      verhouding=1.8, laag_inkomen_grens=20_000, sigma_standaard=0.6)
    >>> round(float(m[0])), round(float(sd[0]), 3)
    (64286, 0.46)
    """
    m = np.asarray(inkomen_huishouden, dtype=float)
    q = np.asarray(aandeel_laag_inkomen, dtype=float)
    s = np.clip(np.asarray(aandeel_koop, dtype=float), 0.0, 1.0)
    k = np.asarray(verhouding, dtype=float)
    mean_owner = m * k / (s * k + 1.0 - s)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = ndtri(np.clip(q, 1e-4, 0.5))
        ratio = np.log(np.where(m > 0, m, np.nan) / laag_inkomen_grens)
        sigma_all = z + np.sqrt(z * z + 2.0 * np.clip(ratio, 0.0, None))
    sigma_all = np.where(np.isfinite(sigma_all) & (q > 0), sigma_all, sigma_standaard)
    within = sigma_all**2 - s * (1.0 - s) * np.log(k) ** 2
    sigma_owner = np.clip(np.sqrt(np.clip(within, 0.0, None)), _SIGMA_MIN, _SIGMA_MAX)
    return mean_owner, sigma_owner


def woz_limit(cbs_jaar: np.ndarray, config: Mapping[str, Any]) -> np.ndarray:
    """The WOZ limit in prices of each buurt's CBS year (national mean WOZ as the index).

    Years outside ``woz_index_jaren`` take the nearest year's index (and are logged once).
    """
    dg = config["doelgroep"]
    years = np.asarray(dg["woz_index_jaren"], dtype=float)
    index = np.asarray(dg["woz_index"], dtype=float)
    base = float(np.interp(float(dg["woz_grens_jaar"]), years, index))
    yr = np.asarray(cbs_jaar, dtype=float)
    known = np.isfinite(yr)
    outside = known & ((yr < years.min()) | (yr > years.max()))
    if outside.any():
        logger.warning("WOZ index: CBS year(s) %s outside doelgroep.woz_index_jaren (%d-%d); "
                       "the nearest year's index is used", sorted(set(yr[outside].astype(int))),
                       int(years.min()), int(years.max()))
    factor = np.where(known, np.interp(np.where(known, yr, years.max()), years, index) / base,
                      1.0)
    return float(dg["woz_grens"]) * factor


@dataclass(frozen=True)
class Settings:
    """One combination of the assumptions."""

    naoorlogs_woz_factor: float
    woz_variatiecoefficient: float
    koop_odds_eengezins: float
    koop_odds_naoorlogs: float
    inkomen_eigenaar_huurder: float
    woz_inkomen_correlatie: float


def settings_grid(config: Mapping[str, Any]) -> tuple[Settings, list[Settings]]:
    """The central settings and every low/high combination (2⁶ = 64)."""
    dg = config["doelgroep"]
    central = Settings(**{key: float(dg[key]) for key in ASSUMPTIONS})
    ends = [(float(dg[lo]), float(dg[hi])) for lo, hi in ASSUMPTIONS.values()]
    combos = [Settings(*values) for values in itertools.product(*ends)]
    return central, combos


def _chances(b: pd.DataFrame, st: Settings, dg: Mapping[str, Any]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per buurt: owner chance (single-family, other), P(cheap), P(cheap and low income)."""
    n_eg_pw = b["n_naoorlogs_eengezins"].to_numpy(float)
    pe, po, _, _ = owner_chance_by_type(
        b["n_eengezins"].to_numpy(float), (b["n_woningen"] - b["n_eengezins"]).to_numpy(float),
        b["aandeel_koop"].to_numpy(float), odds=st.koop_odds_eengezins,
        n_eengezins_naoorlogs=n_eg_pw,
        n_overig_naoorlogs=b["n_naoorlogs"].to_numpy(float) - n_eg_pw,
        odds_naoorlogs=st.koop_odds_naoorlogs)
    mean = b["woz_gemiddeld"].to_numpy(float) * st.naoorlogs_woz_factor
    s2 = np.log1p(st.woz_variatiecoefficient**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.log(np.where(mean > 0, mean, np.nan)) - s2 / 2
        z_woz = (np.log(b["woz_grens"].to_numpy(float)) - mu) / np.sqrt(s2)
    m_own, sd_own = owner_income(
        b["_inkomen_huishouden"].to_numpy(float), b["aandeel_laag_inkomen"].to_numpy(float),
        b["aandeel_koop"].to_numpy(float),
        verhouding=_ratio(b, st.inkomen_eigenaar_huurder, dg),
        laag_inkomen_grens=float(dg["laag_inkomen_grens"]),
        sigma_standaard=float(dg["inkomen_sigma_standaard"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        mu_i = np.log(np.where(m_own > 0, m_own, np.nan)) - sd_own**2 / 2
        z_ink = (np.log(b["daeb_grens"].to_numpy(float)) - mu_i) / sd_own
    p_cheap = ndtr(z_woz)
    p_both = bivariate_normal_cdf(z_woz, z_ink, st.woz_inkomen_correlatie)
    return pe, po, p_cheap, p_both


def _ratio(b: pd.DataFrame, setting: float, dg: Mapping[str, Any]) -> np.ndarray:
    """The owners/renters income ratio per buurt: the gemeente's CBS figure
    (``inkomen_eigenaar_huurder`` of the buurt table) where known, scaled like the setting
    between its central value and this end of the range; the setting elsewhere."""
    own = b["_k"].to_numpy(float) if "_k" in b.columns else np.full(len(b), np.nan)
    scale = setting / float(dg["inkomen_eigenaar_huurder"])
    return np.where(np.isfinite(own), own * scale, setting)


def buurt_parameters(buurten: pd.DataFrame, config: Mapping[str, Any]) -> pd.DataFrame:
    """The buurt inputs of the estimate: CBS figures, WOZ and DAEB limits, owner income.

    ``buurten`` needs ``n_woningen``, ``n_eengezins``, ``aandeel_koop``, ``woz_gemiddeld``,
    ``inkomen_per_inwoner``, ``gemiddelde_huishoudsgrootte``, ``aandeel_laag_inkomen`` and
    ``cbs_jaar`` (missing CBS columns make the figures NaN, never invented).
    """
    b = pd.DataFrame(index=buurten.index)
    for col in ("n_woningen", "n_eengezins", "n_naoorlogs", "n_naoorlogs_eengezins",
                "aandeel_koop", "woz_gemiddeld",
                "inkomen_per_inwoner", "gemiddelde_huishoudsgrootte", "aandeel_laag_inkomen",
                "cbs_jaar"):
        b[col] = (pd.to_numeric(buurten[col], errors="coerce").astype(float)
                  if col in buurten.columns else np.nan)
    b["woz_grens"] = woz_limit(b["cbs_jaar"].to_numpy(), config)
    jaar = int(config["scores"]["daeb_jaar"])
    een = policy_value(config, "daeb_eenpersoons", jaar)
    meer = policy_value(config, "daeb_meerpersoons", jaar)
    hh = b["gemiddelde_huishoudsgrootte"]
    b["daeb_grens"] = een + (meer - een) * np.clip(hh - 1.0, 0.0, 1.0)
    b["_inkomen_huishouden"] = b["inkomen_per_inwoner"] * hh
    b["_k"] = (pd.to_numeric(buurten["inkomen_eigenaar_huurder"], errors="coerce").astype(float)
               if "inkomen_eigenaar_huurder" in buurten.columns else np.nan)
    return b


def estimate_target_group(cells: pd.DataFrame, buurten: pd.DataFrame,
                          config: Mapping[str, Any], *, by: str = "buurtcode"
                          ) -> pd.DataFrame:
    """Expected cheap-owner and target-group counts with their range, per ``by``.

    Parameters
    ----------
    cells
        Post-war dwelling counts: ``buurtcode``, ``by`` (when not the buurt), ``n_eengezins``
        and ``n_overig`` (post-war single-family and other dwellings in that cell).
    buurten
        :func:`buurt_parameters` indexed by buurtcode.
    config
        Effective configuration (``[doelgroep]``, ``[scores] daeb_jaar``, ``[beleid]``).
    by
        Column of ``cells`` to sum to (``"buurtcode"`` or ``"woonplaats"``-like keys).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``: ``n_goedkoop_koop``, ``n_doelgroep`` and their ``_laag`` / ``_hoog``;
        NaN where a buurt lacks the CBS figures.
    """
    dg = config["doelgroep"]
    central, combos = settings_grid(config)
    b = buurten.reindex(cells["buurtcode"].astype(object).to_numpy())
    ne = cells["n_eengezins"].to_numpy(float)
    no = cells["n_overig"].to_numpy(float)
    keys = cells[by].astype(object).to_numpy()

    def run(st: Settings) -> tuple[np.ndarray, np.ndarray]:
        pe, po, p_cheap, p_both = _chances(b, st, dg)
        owners = ne * pe + no * po
        return owners * p_cheap, owners * p_both

    cheap_c, dg_c = run(central)
    frame = pd.DataFrame({"_k": keys, "n_goedkoop_koop": cheap_c, "n_doelgroep": dg_c})
    # the range is taken after summing to ``by``: the extremes of the sums, per combination
    sums = []
    for st in combos:
        cheap, target = run(st)
        sums.append(pd.DataFrame({"_k": keys, "c": cheap, "d": target})
                    .groupby("_k", sort=True, dropna=False)[["c", "d"]].sum(min_count=1))
    stacked_c = np.column_stack([s["c"].to_numpy() for s in sums])
    stacked_d = np.column_stack([s["d"].to_numpy() for s in sums])
    out = frame.groupby("_k", sort=True, dropna=False)[["n_goedkoop_koop", "n_doelgroep"]].sum(
        min_count=1)
    with np.errstate(invalid="ignore"):
        out["n_goedkoop_koop_laag"] = np.nanmin(stacked_c, axis=1, initial=np.inf)
        out["n_goedkoop_koop_hoog"] = np.nanmax(stacked_c, axis=1, initial=-np.inf)
        out["n_doelgroep_laag"] = np.nanmin(stacked_d, axis=1, initial=np.inf)
        out["n_doelgroep_hoog"] = np.nanmax(stacked_d, axis=1, initial=-np.inf)
    for col in ("n_goedkoop_koop", "n_doelgroep"):
        nan = out[col].isna()
        out.loc[nan, [f"{col}_laag", f"{col}_hoog"]] = np.nan
        # the central combination lies inside the grid's bounds up to rounding
        out[f"{col}_laag"] = np.minimum(out[f"{col}_laag"], out[col])
        out[f"{col}_hoog"] = np.maximum(out[f"{col}_hoog"], out[col])
    out.index.name = by
    return out.round(1)


def owner_income_columns(params: pd.DataFrame, config: Mapping[str, Any]) -> pd.DataFrame:
    """``inkomen_eigenaren_geschat``, ``inkomen_eigenaren_sigma`` and
    ``aandeel_eigenaren_onder_daeb`` per buurt at the central settings."""
    dg = config["doelgroep"]
    m, sd = owner_income(params["_inkomen_huishouden"].to_numpy(float),
                         params["aandeel_laag_inkomen"].to_numpy(float),
                         params["aandeel_koop"].to_numpy(float),
                         verhouding=_ratio(params, float(dg["inkomen_eigenaar_huurder"]), dg),
                         laag_inkomen_grens=float(dg["laag_inkomen_grens"]),
                         sigma_standaard=float(dg["inkomen_sigma_standaard"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.log(np.where(m > 0, m, np.nan)) - sd**2 / 2
        below = ndtr((np.log(params["daeb_grens"].to_numpy(float)) - mu) / sd)
    return pd.DataFrame({"inkomen_eigenaren_geschat": np.round(m, -1),
                         "inkomen_eigenaren_sigma": np.where(np.isfinite(m), sd, np.nan),
                         "aandeel_eigenaren_onder_daeb": below}, index=params.index)
