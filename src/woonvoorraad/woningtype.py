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
search is one vectorised ``dwithin`` query on an STRtree. Multi-family buildings are split
into ``meergezins_laag`` and ``meergezins_hoog`` (PBL's "laag en midden" / "hoog") by an
estimated storey count: gross floor area of the units / footprint area.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

logger = logging.getLogger(__name__)

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
    n = len(geoms)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=2 * buffer_m)
    keep = left != right
    return np.bincount(left[keep], minlength=n)


def neighbour_pairs(geometries: gpd.GeoSeries | np.ndarray, *, buffer_m: float = 0.2
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Return index pairs ``(i, j)``, ``i != j``, of footprints within ``2 * buffer_m``."""
    geoms = np.asarray(getattr(geometries, "values", geometries))
    if len(geoms) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=2 * buffer_m)
    keep = left != right
    return left[keep], right[keep]


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

    result = np.full(n, None, dtype=object)
    eengezins = n_won == 1
    result[eengezins & (n_nb == 0)] = "vrijstaand"
    result[eengezins & (n_nb == 1) & (nb_of_nb == 1)] = "twee_onder_een_kap"
    result[eengezins & (n_nb == 1) & (nb_of_nb != 1)] = "hoekwoning"
    result[eengezins & (n_nb >= 2)] = "tussenwoning"

    multi = n_won > 1
    if multi.any():
        hoog = np.zeros(n, dtype=bool)
        if vloeroppervlak is not None:
            floor = np.asarray(vloeroppervlak, dtype=float)
            footprint = shapely.area(geoms)
            with np.errstate(divide="ignore", invalid="ignore"):
                lagen = floor * bruto_netto_factor / footprint
            hoog = np.nan_to_num(lagen, nan=0.0) >= hoog_min_lagen
        result[multi & ~hoog] = "meergezins_laag"
        result[multi & hoog] = "meergezins_hoog"
    counts = pd.Series(result).value_counts()
    logger.debug("woningtypes: %s", counts.to_dict())
    return pd.Series(pd.Categorical(result, dtype=WONINGTYPE_DTYPE), index=panden.index,
                     name="woningtype")
