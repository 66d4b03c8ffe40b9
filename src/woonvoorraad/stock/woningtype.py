"""Dwelling type from building footprints: the PBL Vesta touching-neighbours rule.

PBL's Vesta MAIS model (``AfleidingPandtype.dms``) derives the type of a residential building
from its footprint: buffer every building that holds at least one unit by 0.2 m, count the
buildings it then touches, and count its dwellings:

=====================================================  ======================
condition                                              type
=====================================================  ======================
more than one dwelling in the pand                     meergezins (laag/hoog)
no neighbours                                          vrijstaand
one neighbour, which itself has exactly one neighbour  twee_onder_een_kap
one neighbour otherwise                                hoekwoning
two or more neighbours                                 tussenwoning
=====================================================  ======================

Two buffers of 0.2 m touch when the footprints are at most 0.4 m apart, so the neighbour
search is a vectorised spatial join (a sort-and-sweep over bounding boxes, then an exact
``dwithin`` test; see :func:`neighbour_pairs`). Multi-family buildings are split
into ``meergezins_laag`` and ``meergezins_hoog`` (PBL's "laag en midden" / "hoog") by an
estimated storey count: gross floor area of the units / footprint area.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

logger = logging.getLogger(__name__)

T = TypeVar("T")

EENGEZINS = ("vrijstaand", "twee_onder_een_kap", "hoekwoning", "tussenwoning")
MEERGEZINS = ("meergezins_laag", "meergezins_hoog")
WONINGTYPES = (*EENGEZINS, *MEERGEZINS)
WONINGTYPE_DTYPE = pd.CategoricalDtype(list(WONINGTYPES), ordered=False)

#: Dutch labels for reports.
WONINGTYPE_LABELS = {
    "vrijstaand": "vrijstaand",
    "twee_onder_een_kap": "twee-onder-een-kap",
    "hoekwoning": "hoekwoning",
    "tussenwoning": "tussenwoning",
    "meergezins_laag": "meergezins laag/midden",
    "meergezins_hoog": "meergezins hoog",
}


def parallel_map(func: Callable[[Any], T], items: Sequence[Any], *,
                 threads: int | None = None) -> list[T]:
    """``[func(i) for i in items]`` on a thread pool: one thread per core, at most 8.

    For work that releases the GIL (shapely, GDAL, Arrow); runs inline for one item or core.
    """
    n = min(threads or min(os.cpu_count() or 1, 8), len(items))
    if n <= 1:
        return [func(i) for i in items]
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(func, items))


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def count_neighbours(
    geometries: gpd.GeoSeries | np.ndarray, *, buffer_m: float = 0.2
) -> np.ndarray:
    """Count, per footprint, the other footprints within ``2 * buffer_m``.

    Parameters
    ----------
    geometries
        Footprints in a metric CRS.
    buffer_m
        Buffer of the Vesta rule; two buffered footprints touch when the footprints are at
        most ``2 * buffer_m`` apart.

    Returns
    -------
    numpy.ndarray
        Neighbour count per input geometry (int).

    Examples
    --------
    >>> a, b, c = shapely.box(0, 0, 5, 8), shapely.box(5, 0, 10, 8), shapely.box(30, 0, 35, 8)
    >>> count_neighbours(np.array([a, b, c])).tolist()
    [1, 1, 0]
    """
    geoms = np.asarray(getattr(geometries, "values", geometries))
    left, _ = neighbour_pairs(geoms, buffer_m=buffer_m)
    return np.bincount(left, minlength=len(geoms))


def neighbour_pairs(geometries: gpd.GeoSeries | np.ndarray, *, buffer_m: float = 0.2,
                    strip_m: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    """Return index pairs ``(i, j)``, ``i != j``, of footprints within ``2 * buffer_m``.

    A spatial join in two stages, both vectorised:

    1. candidates: footprints whose bounding boxes, grown by ``buffer_m`` each, intersect,
       found by a sort-and-sweep over horizontal strips of ``strip_m`` metres (numpy only:
       sort by strip and left edge, ``searchsorted`` for the right edge, then test the
       vertical overlap). Being within the distance implies this, so nothing is missed.
    2. the exact test: :func:`shapely.dwithin` on the candidate pairs, in chunks spread over
       threads (shapely releases the GIL).

    The result equals ``STRtree.query(geoms, predicate="dwithin", distance=2 * buffer_m)``
    without self-pairs, sorted by ``(i, j)``, and costs about a third of it.

    Examples
    --------
    >>> a, b, c = shapely.box(0, 0, 5, 8), shapely.box(5.3, 0, 10, 8), shapely.box(30, 0, 35, 8)
    >>> [x.tolist() for x in neighbour_pairs(np.array([a, b, c]))]
    [[0, 1], [1, 0]]
    """
    geoms = np.asarray(getattr(geometries, "values", geometries))
    i, j = _box_candidates(shapely.bounds(geoms), grow=buffer_m, strip=strip_m)
    if len(i):
        chunks = _chunks(len(i), 500_000)
        hits = parallel_map(lambda c: shapely.dwithin(geoms[i[c[0]:c[1]]],
                                                      geoms[j[c[0]:c[1]]], 2 * buffer_m),
                            chunks)
        keep = np.concatenate(hits)
        i, j = i[keep], j[keep]
    left, right = np.concatenate([i, j]), np.concatenate([j, i])
    order = np.lexsort((right, left))
    return left[order].astype(np.int64), right[order].astype(np.int64)


def _box_candidates(bounds: np.ndarray, *, grow: float, strip: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``i < j`` (each once) whose boxes, grown by ``grow`` on every side, intersect."""
    valid = np.flatnonzero(np.isfinite(bounds).all(axis=1))
    if len(valid) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    x0, y0, x1, y1 = (bounds[valid, k] for k in range(4))
    x0, y0, x1, y1 = x0 - grow, y0 - grow, x1 + grow, y1 + grow
    ybase = y0.min()
    s0 = np.floor((y0 - ybase) / strip).astype(np.int64)
    s1 = np.floor((y1 - ybase) / strip).astype(np.int64)
    # a box is listed in every strip it touches
    n_rep = s1 - s0 + 1
    box, k = _group_ranks(n_rep)
    strip_of = s0[box] + k
    xbase = x0.min()
    span = float(x1.max() - xbase) + 1.0
    key = strip_of * span + (x0[box] - xbase)
    order = np.argsort(key, kind="stable")
    box, strip_of, key = box[order], strip_of[order], key[order]
    # within a strip, the boxes after this one whose left edge is left of its right edge
    # (a micrometre of slack against rounding in the key; the exact test follows)
    upper = np.searchsorted(key, strip_of * span + (x1[box] - xbase) + 1e-6, side="right")
    count = np.maximum(upper - np.arange(len(box)) - 1, 0)
    first, step = _group_ranks(count)
    a, b = box[first], box[first + 1 + step]
    where = strip_of[first]
    keep = (x0[b] <= x1[a]) & (x0[a] <= x1[b]) & (y0[b] <= y1[a]) & (y0[a] <= y1[b]) & (a != b)
    # a pair sharing several strips is kept in the first strip both boxes are in
    keep &= where == np.maximum(s0[a], s0[b])
    a, b = a[keep], b[keep]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return valid[lo], valid[hi]


def _group_ranks(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: group number and rank within the group per element."""
    group = np.repeat(np.arange(len(counts)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    return group, np.arange(len(group)) - start


def woningtype_from_panden(
    panden: gpd.GeoDataFrame,
    *,
    n_woningen: pd.Series | np.ndarray,
    vloeroppervlak: pd.Series | np.ndarray | None = None,
    buffer_m: float = 0.2,
    hoog_min_lagen: float = 5,
    bruto_netto_factor: float = 1.2,
) -> pd.Series:
    """Classify residential buildings with the Vesta touching-neighbours rule.

    Parameters
    ----------
    panden
        Footprints of the candidate neighbours: every building holding at least one unit
        (of any use), in a metric CRS. Buildings without units (sheds, garages) should be
        left out, as in Vesta.
    n_woningen
        Dwellings per row of ``panden`` (0 for non-residential buildings).
    vloeroppervlak
        Sum of the usable floor area (m²) of all units per building, for the storey estimate
        of multi-family buildings; without it every multi-family building is ``meergezins_laag``.
    buffer_m
        Buffer of the neighbour rule (Vesta: 0.2 m).
    hoog_min_lagen
        Estimated storeys from which a multi-family building is ``meergezins_hoog``.
    bruto_netto_factor
        Gross-to-usable floor area factor in the storey estimate.

    Returns
    -------
    pandas.Series
        Categorical woningtype per building (NA where ``n_woningen == 0``), indexed like
        ``panden``.

    Examples
    --------
    >>> terrace = [shapely.box(x, 0, x + 5, 9) for x in (0, 5, 10, 15)]
    >>> pair = [shapely.box(40, 0, 46, 9), shapely.box(46, 0, 52, 9)]
    >>> alone = [shapely.box(80, 0, 90, 10)]
    >>> gdf = gpd.GeoDataFrame(geometry=terrace + pair + alone, crs=28992)
    >>> types = woningtype_from_panden(gdf, n_woningen=np.ones(7, dtype=int))
    >>> types.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['hoekwoning', 'tussenwoning', 'tussenwoning', 'hoekwoning',
     'twee_onder_een_kap', 'twee_onder_een_kap', 'vrijstaand']
    """
    n_won = np.asarray(n_woningen, dtype=np.int64)
    if len(n_won) != len(panden):
        raise ValueError(f"n_woningen has {len(n_won)} values for {len(panden)} panden")
    geoms = panden.geometry.values
    n = len(panden)
    left, right = neighbour_pairs(geoms, buffer_m=buffer_m)
    n_nb = np.bincount(left, minlength=n)
    # for buildings with exactly one neighbour: how many neighbours does that neighbour have?
    only_nb = np.full(n, -1, dtype=np.int64)
    single = n_nb[left] == 1
    only_nb[left[single]] = right[single]
    nb_of_nb = np.where(only_nb >= 0, n_nb[np.clip(only_nb, 0, None)], -1)

    code = {name: i for i, name in enumerate(WONINGTYPES)}
    result = np.full(n, -1, dtype=np.int8)
    eengezins = n_won == 1
    result[eengezins & (n_nb == 0)] = code["vrijstaand"]
    result[eengezins & (n_nb == 1) & (nb_of_nb == 1)] = code["twee_onder_een_kap"]
    result[eengezins & (n_nb == 1) & (nb_of_nb != 1)] = code["hoekwoning"]
    result[eengezins & (n_nb >= 2)] = code["tussenwoning"]

    multi = n_won > 1
    if multi.any():
        hoog = np.zeros(n, dtype=bool)
        if vloeroppervlak is not None:
            floor = np.asarray(vloeroppervlak, dtype=float)
            footprint = shapely.area(np.asarray(geoms))
            with np.errstate(divide="ignore", invalid="ignore"):
                lagen = floor * bruto_netto_factor / footprint
            hoog = np.nan_to_num(lagen, nan=0.0) >= hoog_min_lagen
        result[multi & ~hoog] = code["meergezins_laag"]
        result[multi & hoog] = code["meergezins_hoog"]
    types = pd.Categorical.from_codes(result, dtype=WONINGTYPE_DTYPE)
    if logger.isEnabledFor(logging.DEBUG):
        counts = np.bincount(result[result >= 0], minlength=len(WONINGTYPES))
        logger.debug("woningtypes: %s", dict(zip(WONINGTYPES, counts.tolist(), strict=True)))
    return pd.Series(types, index=panden.index, name="woningtype")
