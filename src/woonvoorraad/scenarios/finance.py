"""Loans, subsidies and income groups of the scenarios.

* :func:`annuity` — the monthly payment of an annuity loan (the Warmtefonds
  Energiebespaarlening and the SVn Blijverslening are both annuity loans).
* :func:`warmtefonds_terms` / :func:`blijverslening_terms` — rate and term for a loan amount
  and a household income, from ``[warmtefonds]`` / ``[blijverslening]`` of the settings.
* :func:`income_share_below` / :func:`income_group_shares` — owners' gross household income as
  a log-normal per buurt with the MEAN ``m`` and log-sd ``σ`` (column contract): ``μ = ln m −
  σ²/2`` and ``P(I < x) = Φ((ln x − μ)/σ)``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.special import ndtr

logger = logging.getLogger(__name__)

#: Income groups (Dutch names of the output tables).
GROEPEN: tuple[str, ...] = ("onder_daeb", "midden", "boven")
GROEP_NAMEN: dict[str, str] = {"onder_daeb": "onder DAEB-grens", "midden": "midden",
                               "boven": "boven middengrens", "doelgroep": "doelgroep"}


def annuity(principal: Any, rate: Any, years: Any) -> np.ndarray:
    """Monthly payment of an annuity loan (euro per month).

    ``payment = P·r/(1 − (1 + r)^−n)`` with the monthly rate ``r = rate/12`` and ``n = 12 ·
    years`` months; ``P/n`` at 0 %. Principal 0 (or below) pays 0.

    Examples
    --------
    >>> float(annuity(10000, 0.0, 10))  # the Warmtefonds 0 % example: 10,000 over 10 years
    83.33333333333333
    >>> round(float(annuity(15000, 0.0435, 10)), 2)  # nominal 4.35 %/yr, paid monthly
    154.38
    """
    p = np.maximum(np.asarray(principal, dtype=float), 0.0)
    r = np.asarray(rate, dtype=float) / 12.0
    n = np.asarray(years, dtype=float) * 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        pay = np.where(r > 0, p * r / (1.0 - (1.0 + r) ** (-n)), p / n)
    return np.where(p > 0, pay, 0.0)


def present_value(monthly: Any, rate: Any, years: Any) -> np.ndarray:
    """The loan principal a monthly payment pays off (inverse of :func:`annuity`)."""
    m = np.asarray(monthly, dtype=float)
    r = np.asarray(rate, dtype=float) / 12.0
    n = np.asarray(years, dtype=float) * 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r > 0, m * (1.0 - (1.0 + r) ** (-n)) / r, m * n)


def nulrente(income: Any, settings: Mapping[str, Any]) -> np.ndarray:
    """Whether a household income qualifies for the Warmtefonds 0 % rate (income-limited).

    Examples
    --------
    >>> nulrente([40000, 60000, 60001], {"warmtefonds": {"nulrente_inkomensgrens": 60000}}).tolist()
    [True, True, False]
    """
    limit = float(settings["warmtefonds"]["nulrente_inkomensgrens"])
    return np.asarray(income, dtype=float) <= limit


def warmtefonds_terms(amount: Any, *, zero_rate: Any,
                      settings: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loan, rate and term of a Warmtefonds Energiebespaarlening for ``amount`` (euro).

    The loan is the amount capped at ``max_lening`` (nothing below ``min_lening``: such small
    amounts are paid at once and count as a loan of 0 at no cost here); the term is the longest
    the amount allows.

    Returns
    -------
    (lening, rente, looptijd_jaren)
    """
    w = settings["warmtefonds"]
    a = np.maximum(np.asarray(amount, dtype=float), 0.0)
    loan = np.minimum(a, float(w["max_lening"]))
    loan = np.where(loan >= float(w["min_lening"]), loan, 0.0)
    rate = np.where(np.asarray(zero_rate, dtype=bool), 0.0, float(w["rente"]))
    years = np.where(a <= float(w["looptijd_grens"]), float(w["looptijd_jaren_tot_grens"]),
                     float(w["looptijd_jaren_boven_grens"]))
    return loan, np.broadcast_to(rate, loan.shape).astype(float), years


def blijverslening_terms(amount: Any, *, settings: Mapping[str, Any]
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loan, rate and term of an SVn Blijverslening for ``amount`` (euro).

    Returns
    -------
    (lening, rente, looptijd_jaren)
    """
    b = settings["blijverslening"]
    a = np.maximum(np.asarray(amount, dtype=float), 0.0)
    loan = np.minimum(a, float(b["max_lening"]))
    small = a <= float(b["grens"])
    rate = np.where(small, float(b["rente_tot_grens"]), float(b["rente_boven_grens"]))
    years = np.where(small, float(b["looptijd_jaren_tot_grens"]),
                     float(b["looptijd_jaren_boven_grens"]))
    return loan, rate, years


def lognormal_mu(mean: Any, sigma: Any) -> np.ndarray:
    """``μ`` of a log-normal with the given mean and log-sd."""
    return np.log(np.asarray(mean, dtype=float)) - np.asarray(sigma, dtype=float) ** 2 / 2.0


def income_share_below(x: Any, mean: Any, sigma: Any) -> np.ndarray:
    """``P(I < x)`` for owners' income ``I`` log-normal with ``mean`` and log-sd ``sigma``.

    Examples
    --------
    >>> round(float(income_share_below(50000, 50000 * math.exp(0.125), 0.5)), 4)  # the median
    0.5
    """
    x = np.asarray(x, dtype=float)
    s = np.asarray(sigma, dtype=float)
    mu = lognormal_mu(mean, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.where(x > 0, x, np.nan)) - mu) / s
    out = ndtr(z)
    return np.where(x <= 0, 0.0, out)


def income_group_shares(mean: Any, sigma: Any, daeb: Any, midden_boven: float
                        ) -> dict[str, np.ndarray]:
    """Shares of owner households below the DAEB limit, middle and above (sum 1)."""
    p_daeb = income_share_below(daeb, mean, sigma)
    p_mid = np.maximum(income_share_below(np.maximum(midden_boven, daeb), mean, sigma), p_daeb)
    return {"onder_daeb": p_daeb, "midden": p_mid - p_daeb, "boven": 1.0 - p_mid}


def share_between(lo: Any, hi: Any, mean: Any, sigma: Any) -> np.ndarray:
    """``P(lo ≤ I < hi)`` (0 when hi ≤ lo)."""
    a = income_share_below(lo, mean, sigma)
    b = income_share_below(hi, mean, sigma)
    return np.maximum(b - a, 0.0)


def zero_rate_share(lo: Any, hi: Any, mean: Any, sigma: Any,
                    settings: Mapping[str, Any]) -> np.ndarray:
    """Share of the owners of income group ``[lo, hi)`` eligible for the 0 % rate."""
    limit = float(settings["warmtefonds"]["nulrente_inkomensgrens"])
    total = share_between(lo, hi, mean, sigma)
    eligible = share_between(lo, np.minimum(hi, limit), mean, sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(total > 0, eligible / total, np.where(np.asarray(hi) <= limit, 1.0, 0.0))
    return np.clip(out, 0.0, 1.0)


def group_bounds(daeb: float, midden_boven: float) -> dict[str, tuple[float, float]]:
    """Income bounds per group (the target group is the group below the DAEB limit)."""
    mb = max(float(midden_boven), float(daeb))
    return {"onder_daeb": (0.0, float(daeb)), "midden": (float(daeb), mb),
            "boven": (mb, math.inf), "doelgroep": (0.0, float(daeb))}
