"""Features of the label model (:mod:`woonvoorraad.stock.labels`), per dwelling, vectorised.

Two kinds:

* **Dwelling and building**: build year, woningtype, floor area, dwellings in the main pand,
  its footprint area and compactness, an estimate of its storeys, and the PBL default label.
* **Registered labels around the dwelling**: the E/F/G share, the mean label rank (A = 0 …
  G = 6) and the number of registered labels in the same pand (the dwelling itself left out),
  in the surrounding block of grid cells (cells of ``straal_m``, the 3 × 3 block around the
  dwelling's cell, same pand left out), in the buurt and in the gemeente (shrunk towards the
  gemeente and the region with ``smoothing`` pseudo-labels).

No leakage: registered labels are split at random (seeded) into ``n_folds`` encoding folds;
the label features of a registered dwelling are computed from the labels of the *other*
folds only, so its own label never enters its features, and neither does a fixed share of
its neighbours' (which is what a model fitted on leave-one-out encodings would otherwise
exploit). Dwellings without a registered label see every registered label. Every step is a
``np.bincount`` over factorised keys, O(n).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Feature columns, in model order; ``woningtype`` is categorical (codes, NaN = unknown).
INTRINSIC = ("bouwjaar", "woningtype", "oppervlakte", "woningen_in_pand", "pand_oppervlak",
             "pand_compactheid", "bouwlagen", "pbl_rang")
#: Year of the label: the registration year of a registered label, the reference year (the
#: latest registration in the input) for a dwelling without one, so that the model predicts
#: the label a dwelling would get *now* (a label registered before a later renovation is
#: worse than the home is today). Not in :data:`INTRINSIC`: it is not a property of the home.
TIME = ("label_jaar",)
AREA = ("pand_n", "pand_efg", "pand_rang", "omgeving_n", "omgeving_efg", "omgeving_rang",
        "buurt_n", "buurt_efg", "buurt_rang", "gemeente_efg", "gemeente_rang")
FEATURES = INTRINSIC + TIME + AREA


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Group codes (-1 for missing) and their count, without Python string objects
    (Arrow strings are dictionary-encoded by Arrow, categoricals keep their codes)."""
    values = pd.Series(values)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), len(values.cat.categories)
    codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.int64), len(uniques)


class _Labels(NamedTuple):
    """The registered labels: mask, encoding fold, fold count, E/F/G flag and rank."""

    reg: np.ndarray
    fold: np.ndarray
    n_folds: int
    efg: np.ndarray
    rank: np.ndarray


def _fold_sums(codes: np.ndarray, k: int, lab: _Labels, ok: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per group and encoding fold: count, E/F/G sum and rank sum of the registered labels
    (``(k·n_folds, 3)``) and the keys ``code·n_folds + fold`` of the rows ``ok``."""
    key = codes[ok] * lab.n_folds + lab.fold[ok]
    per = np.empty((k * lab.n_folds, 3))
    per[:, 0] = np.bincount(key, minlength=k * lab.n_folds)
    per[:, 1] = np.bincount(key, weights=lab.efg[ok], minlength=k * lab.n_folds)
    per[:, 2] = np.bincount(key, weights=lab.rank[ok], minlength=k * lab.n_folds)
    return per, key


def _group_sums(group: np.ndarray, k: int, lab: _Labels) -> tuple[np.ndarray, ...]:
    """Per row: count, E/F/G sum and rank sum of the registered labels of its group,
    without the labels of the row's own encoding fold (for a registered row).

    One gather of three values per row (the groups can be millions of panden: random access
    into them is what costs)."""
    valid = group >= 0
    ok = lab.reg & valid
    per, key = _fold_sums(group, k, lab, ok)
    tot = per.reshape(k, lab.n_folds, 3).sum(axis=1)
    v = tot[np.where(valid, group, 0)]
    v[ok] -= per[key]
    v[~valid] = 0.0
    return v[:, 0], v[:, 1], v[:, 2]


def _block_sums(x: np.ndarray, y: np.ndarray, cell: float, lab: _Labels
                ) -> tuple[np.ndarray, ...]:
    """Like :func:`_group_sums` over the 3 × 3 block of grid cells around each dwelling."""
    has = np.isfinite(x) & np.isfinite(y)
    cx = np.where(has, np.floor(np.nan_to_num(x) / cell), 0).astype(np.int64)
    cy = np.where(has, np.floor(np.nan_to_num(y) / cell), 0).astype(np.int64)
    shift = np.int64(1) << np.int64(31)
    key = (cx + shift // 2) * shift + (cy + shift // 2)
    del cx, cy
    # hash-factorise (no sort of all rows), then number the few cells in sorted order
    codes, uniques = pd.factorize(key, sort=False)
    order = np.argsort(uniques, kind="stable")
    cells = uniques[order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    cell_of = rank[codes]
    del codes, key
    k = len(cells)
    ok = lab.reg & has
    per, _ = _fold_sums(cell_of, k, lab, ok)
    per = per.reshape(k, lab.n_folds, 3)
    tot = per.sum(axis=1)
    block = np.zeros((k, 3))
    block_f = np.zeros((k, lab.n_folds, 3))
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            nb = cells + dx * shift + dy
            pos = np.minimum(np.searchsorted(cells, nb), k - 1)
            found = cells[pos] == nb
            block[found] += tot[pos[found]]
            block_f[found] += per[pos[found]]
    v = block[cell_of]
    rows = np.flatnonzero(lab.reg)
    v[rows] -= block_f[cell_of[rows], lab.fold[rows]]
    v[~has] = 0.0
    return v[:, 0], v[:, 1], v[:, 2]


def reference_years(label_jaar: np.ndarray | None, reg: np.ndarray) -> np.ndarray:
    """The ``label_jaar`` feature: a registered label's year, else the latest year seen.

    Examples
    --------
    >>> reference_years(np.array([2015.5, np.nan, 2023.2]), np.array([True, False, True]))
    array([2015.5, 2023.2, 2023.2])
    """
    n = len(reg)
    if label_jaar is None:
        return np.full(n, np.nan)
    years = np.where(reg, np.asarray(label_jaar, dtype=float), np.nan)
    known = np.isfinite(years)
    if not known.any():
        return np.full(n, np.nan)
    return np.where(known, years, np.where(reg, np.nan, years[known].max()))


def _share(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)


def compute_label_features(
    dwellings: pd.DataFrame,
    *,
    label_class: np.ndarray,
    pbl_class: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    pand_oppervlak: np.ndarray,
    pand_omtrek: np.ndarray,
    radius_m: float,
    n_folds: int,
    smoothing: float,
    seed: int,
    label_jaar: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The feature table of the label model, one row per dwelling.

    Parameters
    ----------
    dwellings
        ``bouwjaar``, ``woningtype``, ``oppervlakte``, ``pand_id``, ``buurtcode``,
        ``gemeentecode``.
    label_class
        Registered class per dwelling, 0 (A and better) … 6 (G), -1 when none.
    pbl_class
        PBL default class per dwelling, -1 when none.
    x, y
        Location (NaN when unknown).
    pand_oppervlak, pand_omtrek
        Footprint area (m²) and perimeter (m) of the main pand (NaN when unknown).
    radius_m
        Grid cell size of the neighbourhood block.
    n_folds
        Encoding folds (see the module notes).
    smoothing
        Pseudo-labels of the buurt and gemeente shares.
    seed
        Seed of the fold draw.
    label_jaar
        Registration year (with fraction) of each registered label, NaN when none; None when
        unknown (the feature is then NaN everywhere and the model ignores it).

    Returns
    -------
    tuple
        The features (float32 columns :data:`FEATURES`) and the encoding fold of each
        dwelling (-1 when it has no registered label).
    """
    n = len(dwellings)
    reg = label_class >= 0
    rng = np.random.default_rng(seed)
    fold = np.where(reg, rng.integers(0, n_folds, n), -1).astype(np.int64)
    efg = (label_class >= 4).astype(float)
    rank = np.clip(label_class, 0, None).astype(float)
    lab = _Labels(reg, fold, n_folds, efg, rank)

    pand, k_pand = _codes(dwellings["pand_id"])
    buurt, k_buurt = _codes(dwellings["buurtcode"])
    gem, k_gem = _codes(dwellings["gemeentecode"])

    # one column-major float32 block, each feature written as soon as it is known (the
    # float64 intermediates of a national build would otherwise all be alive at once)
    block = np.empty((n, len(FEATURES)), dtype=np.float32, order="F")
    where = {name: j for j, name in enumerate(FEATURES)}

    def put(name: str, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=float)
        if n and np.isnan(values).all():
            # unknown for every dwelling (no label dates, no footprints, ...): a constant,
            # which the model ignores; an all-NaN column cannot be binned by scikit-learn
            logger.info("label feature %s is unknown for every dwelling; left out", name)
            values = np.zeros(n)
        block[:, where[name]] = values

    put("bouwjaar", dwellings["bouwjaar"].astype("Float64").to_numpy(float, na_value=np.nan))
    wt = pd.Series(dwellings["woningtype"]).cat.codes.to_numpy()
    put("woningtype", np.where(wt < 0, np.nan, wt))
    opp = dwellings["oppervlakte"].to_numpy(dtype=float)
    put("oppervlakte", opp)
    in_pand = pand >= 0
    safe = np.where(in_pand, pand, 0)
    n_in_pand = np.bincount(pand[in_pand], minlength=k_pand)
    put("woningen_in_pand", np.where(in_pand, n_in_pand[safe], np.nan))
    area = np.asarray(pand_oppervlak, dtype=float)
    put("pand_oppervlak", area)
    with np.errstate(invalid="ignore", divide="ignore"):
        put("pand_compactheid", np.asarray(pand_omtrek, dtype=float) / (2 * np.sqrt(np.pi * area)))
        floor = np.bincount(pand[in_pand], weights=np.nan_to_num(opp[in_pand]), minlength=k_pand)
        storeys = np.where(in_pand, 1.2 * floor[safe] / area, np.nan)
    put("bouwlagen", np.where(np.isfinite(storeys), storeys, np.nan))
    del storeys, floor, n_in_pand, safe
    put("pbl_rang", np.where(pbl_class >= 0, pbl_class, np.nan))
    put("label_jaar", reference_years(label_jaar, reg))

    p_n, p_e, p_r = _group_sums(pand, k_pand, lab)
    put("pand_n", p_n)
    put("pand_efg", _share(p_e, p_n))
    put("pand_rang", _share(p_r, p_n))
    b_n, b_e, b_r = _block_sums(np.asarray(x, float), np.asarray(y, float), radius_m, lab)
    # the same pand out of the block (units of a pand larger than a cell: clipped at 0)
    o_n = np.clip(b_n - p_n, 0, None)
    put("omgeving_n", o_n)
    put("omgeving_efg", _share(np.clip(b_e - p_e, 0, None), o_n))
    put("omgeving_rang", _share(np.clip(b_r - p_r, 0, None), o_n))
    del p_n, p_e, p_r, b_n, b_e, b_r, o_n

    # gemeente shares shrunk to the region's, buurt shares shrunk to the gemeente's
    # the region's shares, also without the own fold (every row is in the one "group" 0)
    per_fold = np.zeros((n_folds, 3))  # the region as one group: sums per encoding fold
    per_fold[:, 0] = np.bincount(fold[reg], minlength=n_folds)
    per_fold[:, 1] = np.bincount(fold[reg], weights=efg[reg], minlength=n_folds)
    per_fold[:, 2] = np.bincount(fold[reg], weights=rank[reg], minlength=n_folds)
    region = per_fold.sum(axis=0) - np.where(reg[:, None], per_fold[np.clip(fold, 0, None)], 0.0)
    prior_e, prior_r = _share(region[:, 1], region[:, 0]), _share(region[:, 2], region[:, 0])
    del region
    g_n, g_e, g_r = _group_sums(gem, k_gem, lab)
    m = float(smoothing)
    in_gem = gem >= 0
    gem_efg = np.where(in_gem, (g_e + m * prior_e) / (g_n + m), np.nan)
    gem_rang = np.where(in_gem, (g_r + m * prior_r) / (g_n + m), np.nan)
    put("gemeente_efg", gem_efg)
    put("gemeente_rang", gem_rang)
    del g_n, g_e, g_r
    u_n, u_e, u_r = _group_sums(buurt, k_buurt, lab)
    ge = np.where(in_gem, gem_efg, prior_e)
    gr = np.where(in_gem, gem_rang, prior_r)
    put("buurt_n", u_n)
    put("buurt_efg", np.where(buurt >= 0, (u_e + m * ge) / (u_n + m), np.nan))
    put("buurt_rang", np.where(buurt >= 0, (u_r + m * gr) / (u_n + m), np.nan))
    return pd.DataFrame(block, columns=list(FEATURES), copy=False), fold
