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


def _group_sums(group: np.ndarray, k: int, lab: _Labels) -> tuple[np.ndarray, ...]:
    """Per row: count, E/F/G sum and rank sum of the registered labels of its group,
    without the labels of the row's own encoding fold (for a registered row)."""
    reg, fold, n_folds, efg, rank = lab
    ok = reg & (group >= 0)
    cell = group[ok] * n_folds + fold[ok]
    safe_g = np.clip(group, 0, None)
    key = safe_g * n_folds + np.clip(fold, 0, None)
    own = reg & (group >= 0)
    out = []
    for w in (None, efg[ok], rank[ok]):
        per = np.bincount(cell, weights=w, minlength=k * n_folds).astype(float)
        tot = per.reshape(k, n_folds).sum(axis=1)
        v = tot[safe_g]
        v[own] -= per[key[own]]
        v[group < 0] = 0.0
        out.append(v)
    return tuple(out)


def _block_sums(x: np.ndarray, y: np.ndarray, cell: float, lab: _Labels
                ) -> tuple[np.ndarray, ...]:
    """Like :func:`_group_sums` over the 3 × 3 block of grid cells around each dwelling."""
    reg, fold, n_folds, efg, rank = lab
    n = len(x)
    has = np.isfinite(x) & np.isfinite(y)
    cx = np.where(has, np.floor(np.nan_to_num(x) / cell), 0).astype(np.int64)
    cy = np.where(has, np.floor(np.nan_to_num(y) / cell), 0).astype(np.int64)
    shift = np.int64(1) << np.int64(31)
    key = (cx + shift // 2) * shift + (cy + shift // 2)
    cells, cell_of = np.unique(key, return_inverse=True)
    k = len(cells)
    ok = reg & has
    sums = []
    for w in (None, efg[ok], rank[ok]):
        tot = np.bincount(cell_of[ok], weights=w, minlength=k)
        per = np.bincount(cell_of[ok] * n_folds + fold[ok], weights=w, minlength=k * n_folds)
        sums.append((tot, per.reshape(k, n_folds)))
    block = [np.zeros(k) for _ in sums]
    block_f = [np.zeros((k, n_folds)) for _ in sums]
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            nb = cells + dx * shift + dy
            pos = np.searchsorted(cells, nb)
            pos_c = np.minimum(pos, k - 1)
            found = cells[pos_c] == nb
            for j, (tot, per) in enumerate(sums):
                block[j][found] += tot[pos_c[found]]
                block_f[j][found] += per[pos_c[found]]
    out = []
    f = np.clip(fold, 0, None)
    for j in range(3):
        v = block[j][cell_of] - np.where(reg, block_f[j][cell_of, f], 0.0)
        out.append(np.where(has, v, 0.0))
    del n
    return tuple(out)


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

    feats: dict[str, np.ndarray] = {}
    feats["bouwjaar"] = dwellings["bouwjaar"].astype("Float64").to_numpy(float, na_value=np.nan)
    wt = pd.Series(dwellings["woningtype"]).cat.codes.to_numpy().astype(float)
    feats["woningtype"] = np.where(wt < 0, np.nan, wt)
    opp = dwellings["oppervlakte"].to_numpy(dtype=float)
    feats["oppervlakte"] = opp
    safe = np.clip(pand, 0, None)
    n_in_pand = np.bincount(pand[pand >= 0], minlength=k_pand)
    feats["woningen_in_pand"] = np.where(pand >= 0, n_in_pand[safe], np.nan)
    area = np.asarray(pand_oppervlak, dtype=float)
    feats["pand_oppervlak"] = area
    with np.errstate(invalid="ignore", divide="ignore"):
        feats["pand_compactheid"] = np.asarray(pand_omtrek, dtype=float) / (
            2 * np.sqrt(np.pi * area))
        floor = np.bincount(pand[pand >= 0], weights=np.nan_to_num(opp[pand >= 0]),
                            minlength=k_pand)
        feats["bouwlagen"] = np.where(pand >= 0, 1.2 * floor[safe] / area, np.nan)
    feats["bouwlagen"] = np.where(np.isfinite(feats["bouwlagen"]), feats["bouwlagen"], np.nan)
    feats["pbl_rang"] = np.where(pbl_class >= 0, pbl_class, np.nan).astype(float)
    feats["label_jaar"] = reference_years(label_jaar, reg)

    p_n, p_e, p_r = _group_sums(pand, k_pand, lab)
    feats["pand_n"] = p_n
    feats["pand_efg"] = _share(p_e, p_n)
    feats["pand_rang"] = _share(p_r, p_n)
    b_n, b_e, b_r = _block_sums(np.asarray(x, float), np.asarray(y, float), radius_m, lab)
    # the same pand out of the block (units of a pand larger than a cell: clipped at 0)
    o_n = np.clip(b_n - p_n, 0, None)
    feats["omgeving_n"] = o_n
    feats["omgeving_efg"] = _share(np.clip(b_e - p_e, 0, None), o_n)
    feats["omgeving_rang"] = _share(np.clip(b_r - p_r, 0, None), o_n)

    # gemeente shares shrunk to the region's, buurt shares shrunk to the gemeente's
    # the region's shares, also without the own fold (every row is in the one "group" 0)
    r_n, r_e, r_r = _group_sums(np.zeros(n, dtype=np.int64), 1, lab)
    prior_e, prior_r = _share(r_e, r_n), _share(r_r, r_n)
    g_n, g_e, g_r = _group_sums(gem, k_gem, lab)
    m = float(smoothing)
    feats["gemeente_efg"] = np.where(gem >= 0, (g_e + m * prior_e) / (g_n + m), np.nan)
    feats["gemeente_rang"] = np.where(gem >= 0, (g_r + m * prior_r) / (g_n + m), np.nan)
    u_n, u_e, u_r = _group_sums(buurt, k_buurt, lab)
    ge = np.where(gem >= 0, feats["gemeente_efg"], prior_e)
    gr = np.where(gem >= 0, feats["gemeente_rang"], prior_r)
    feats["buurt_n"] = u_n
    feats["buurt_efg"] = np.where(buurt >= 0, (u_e + m * ge) / (u_n + m), np.nan)
    feats["buurt_rang"] = np.where(buurt >= 0, (u_r + m * gr) / (u_n + m), np.nan)
    # one float32 block, filled column by column (no copy when the frame is made)
    block = np.empty((n, len(FEATURES)), dtype=np.float32)
    for j, name in enumerate(FEATURES):
        block[:, j] = feats.pop(name)
    return pd.DataFrame(block, columns=list(FEATURES), copy=False), fold
