"""Dwelling-level truth of the demo for the target group: owner, WOZ, household and income.

:func:`make_true_dwellings` draws, per dwelling of the housing stock, the household living in
it: whether it is occupied, its size (an integer around the dwelling's expected size ``hh``)
and its gross income (around ``inkomen`` per person, the figure behind CBS's "gemiddeld
inkomen per inwoner", with a low-income group of probability ``p_laag``). Per buurt the draws
are scaled so that income per inwoner equals the CBS figure the demo publishes for its latest
year before rounding. The draws come from their own random stream: the rest of the demo does
not change.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Gross yearly household income (€) below which a household counts as low-income, for one
#: person and for each further person (about the CBS low-income limit of a standardised
#: disposable income of some €14,000, made gross; demo assumption).
LAAG_EEN_PERSOON = 19_000.0
LAAG_PER_EXTRA_PERSOON = 7_000.0
#: Spread (sigma of the log) of the income of households that are not low-income.
SPREIDING = 0.35
EIGENDOM_DTYPE = pd.CategoricalDtype(["koop", "corporatie", "particulier"])


def make_true_dwellings(rng: np.random.Generator, dwellings: pd.DataFrame) -> pd.DataFrame:
    """One row per dwelling of the stock with its owner, WOZ, household and income.

    Parameters
    ----------
    rng
        Random stream of this stage.
    dwellings
        The dwellings of :func:`woonvoorraad.demo.statistics.draw_dwelling_traits`.

    Returns
    -------
    pandas.DataFrame
        ``vbo_id`` (str), ``eigendom`` (category koop/corporatie/particulier), ``woz`` (float,
        € of the demo's latest CBS year), ``bewoond`` (bool), ``huishoudgrootte`` (Int8,
        persons; NA when not occupied), ``inkomen_huishouden`` (float, gross € a year; NaN
        when not occupied).
    """
    d = dwellings.loc[dwellings["in_stock"].to_numpy()]
    n = len(d)
    hh = d["hh"].to_numpy(dtype=float)
    per_person = d["inkomen"].to_numpy(dtype=float)
    p_laag = d["p_laag"].to_numpy(dtype=float)
    bewoond = d["occupied"].to_numpy(dtype=bool)
    buurt = d["buurt"].to_numpy()
    size = _match_persons(rng, np.minimum(1 + rng.poisson(np.maximum(hh - 1, 0)), 8), hh,
                          buurt, bewoond)
    limit = LAAG_EEN_PERSOON + LAAG_PER_EXTRA_PERSOON * (size - 1)
    low = rng.random(n) < p_laag
    low_income = limit * rng.uniform(0.55, 1.0, n)
    # the others: their mean keeps the expected income per person of the dwelling
    rest = np.maximum(per_person * size - p_laag * limit * 0.775, limit * 1.05) / (1 - p_laag)
    high = np.maximum(rest * rng.lognormal(-SPREIDING**2 / 2, SPREIDING, n), limit * 1.05)
    income = np.where(low, low_income, high)
    # per buurt: income per inwoner as the CBS figure (expected persons and per-person income
    # of the occupied dwellings); the low-income households keep their income
    occ = bewoond.astype(float)
    k = int(buurt.max()) + 1 if n else 0
    target = np.bincount(buurt, hh * per_person * occ, k) / np.maximum(
        np.bincount(buurt, hh * occ, k), 1e-9)
    drawn_low = np.bincount(buurt, income * occ * low, k)
    drawn_high = np.bincount(buurt, income * occ * ~low, k)
    persons = np.bincount(buurt, size * occ, k)
    factor = np.where(drawn_high > 0, (target * persons - drawn_low) / np.maximum(drawn_high, 1e-9),
                      1.0)
    income = np.where(low, income, income * np.clip(factor, 0.5, 2.0)[buurt])
    out = pd.DataFrame({
        "vbo_id": d["vbo_id"].astype("str").to_numpy(),
        "eigendom": pd.Categorical(d["eigendom"].to_numpy(), dtype=EIGENDOM_DTYPE),
        "woz": np.round(d["woz"].to_numpy(dtype=float), -3),
        "bewoond": bewoond,
        "huishoudgrootte": pd.array(np.where(bewoond, size, 0), dtype="Int8"),
        "inkomen_huishouden": np.where(bewoond, np.round(income, -2), np.nan),
    })
    out.loc[~bewoond, "huishoudgrootte"] = pd.NA
    return out.sort_values("vbo_id", kind="stable").reset_index(drop=True)


def _match_persons(rng: np.random.Generator, size: np.ndarray, hh: np.ndarray,
                   buurt: np.ndarray, occupied: np.ndarray) -> np.ndarray:
    """Household sizes moved by one person here and there (random households) until each
    buurt's occupied dwellings hold the CBS number of inwoners, the sum of ``hh`` rounded."""
    size = size.copy()
    k = int(buurt.max()) + 1 if len(buurt) else 0
    target = np.rint(np.bincount(buurt, hh * occupied, k))
    for _ in range(50):
        excess = (np.bincount(buurt, size * occupied, k) - target)[buurt]
        if not excess.any():
            break
        movable = occupied & np.where(excess > 0, size > 1, (excess < 0) & (size < 8))
        order = rng.permutation(len(size))
        idx = order[movable[order]]
        rank = pd.Series(buurt[idx]).groupby(buurt[idx]).cumcount().to_numpy()
        chosen = idx[rank < np.abs(excess[idx])]
        size[chosen] -= np.sign(excess[chosen]).astype(size.dtype)
    return size
