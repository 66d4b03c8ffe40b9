"""Hamlets of the demo region: woonplaatsen that lie inside a village's rural CBS buurt.

In BAG every address has a woonplaats, also the farms in the countryside; CBS buurten do not
follow woonplaats borders. A buurt "Verspreide huizen <dorp>" therefore often holds the farms
of its village and those of a hamlet with a woonplaats of its own (in Drenthe e.g. Sleen and
Diphoorn). :func:`assign_hamlets` gives about half of the villages' rural buurten (at least one
in the region) such a hamlet: the rural streets in one direction from the village, a quarter
or more of the buurt's addresses. Village figures are then not simply sums of buurten.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from woonvoorraad.demo.names import DORPEN, GEHUCHTEN, GEMEENTEN

logger = logging.getLogger(__name__)

#: A hamlet takes at least this share of its rural buurt's addresses (whole streets).
HAMLET_SHARE = 0.25


def assign_hamlets(
    rng: np.random.Generator, units: pd.DataFrame, buurten: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Move the outlying streets of some villages' rural buurten into a hamlet woonplaats.

    A street (one ``openbare_ruimte_naam`` in one buurt) goes to the hamlet as a whole, so an
    openbare ruimte keeps one woonplaats: seen from the village centre, the streets nearest a
    drawn direction, until the hamlet holds :data:`HAMLET_SHARE` of the buurt's addresses.

    Parameters
    ----------
    rng
        Random stream of this stage (its own child stream: the other draws stay the same).
    units
        Addressed units (:func:`woonvoorraad.demo.identifiers.assign_addresses`).
    buurten
        The buurten (:func:`woonvoorraad.demo.geography.lay_out_buurten`).

    Returns
    -------
    pandas.DataFrame
        ``units`` with ``woonplaats_naam`` changed for the hamlets' addresses.
    """
    btype = buurten["btype"].to_numpy()
    place = buurten["woonplaats"].to_numpy()
    villages = set(place[buurten["setting"].to_numpy() == "dorp"])
    rural = [b for b in np.flatnonzero(btype == "buitengebied") if place[b] in villages]
    if not rural:
        return units
    sizes = np.bincount(units["buurt"].to_numpy(), minlength=len(buurten))
    chosen = [b for b in rural if rng.random() < 0.5]
    biggest = max(rural, key=lambda b: sizes[b])
    if biggest not in chosen:
        chosen.append(biggest)
    taken = set(DORPEN) | set(GEMEENTEN) | set(place)
    names = iter([n for n in rng.permutation(GEHUCHTEN).tolist() if n not in taken])
    xy = shapely.get_coordinates(units["geometry"].to_numpy())
    out = units["woonplaats_naam"].to_numpy().copy()
    geoms = buurten.geometry.to_numpy()
    for b in sorted(chosen):
        core = shapely.union_all(geoms[(place == place[b]) & (btype != "buitengebied")])
        cx, cy = shapely.get_coordinates(shapely.centroid(core))[0]
        rows = np.flatnonzero(units["buurt"].to_numpy() == b)
        if rows.size == 0:
            continue
        streets = pd.DataFrame({"street": units["openbare_ruimte_naam"].to_numpy()[rows],
                                "x": xy[rows, 0] - cx, "y": xy[rows, 1] - cy})
        mean = streets.groupby("street", sort=True)[["x", "y"]].mean()
        if len(mean) < 2:
            continue
        bearing = np.arctan2(mean["y"].to_numpy(), mean["x"].to_numpy())
        direction = rng.uniform(-np.pi, np.pi)
        off = np.abs((bearing - direction + np.pi) % (2 * np.pi) - np.pi)
        count = streets.groupby("street", sort=True).size().to_numpy()
        order = np.argsort(off, kind="stable")  # the streets nearest the direction first
        enough = np.cumsum(count[order]) >= HAMLET_SHARE * rows.size
        last = int(np.argmax(enough)) if enough.any() else len(order) - 1
        pick = np.zeros(len(mean), dtype=bool)
        pick[order[: min(last + 1, len(order) - 1)]] = True  # the village keeps a street
        name = next(names, None)
        if name is None:
            break
        hamlet = streets["street"].isin(mean.index[pick]).to_numpy()
        out[rows[hamlet]] = name
        logger.debug("hamlet %s in buurt %s: %d addresses of %d", name,
                     buurten["buurtnaam"].iloc[b], int(hamlet.sum()), rows.size)
    return units.assign(woonplaats_naam=out)
