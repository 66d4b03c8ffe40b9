"""Generate a national-size SYNTHETIC BAG + CBS input for the benchmarks.

Writes, under ``benchmarks/data/scale-<s>/``:

``bag-light.gpkg``
    The PDOK *bag-light* layout (section 1.5 of the research notes): layer ``pand``
    (``identificatie``, ``bouwjaar``, ``status``, ``gebruiksdoel``, ``oppervlakte_min``,
    ``oppervlakte_max``, ``aantal_verblijfsobjecten``, ``rdf_seealso``, geometry ``geom``) and
    layer ``verblijfsobject`` with the v1-demo / bag-light field set (``identificatie``,
    ``pand_identificatie``, ``gebruiksdoel`` comma-joined, ``oppervlakte``, ``status``, the
    address fields, ``bouwjaar``, ``pandstatus``, ``rdf_seealso``, ...). A unit in two panden
    is listed once per pand, as in bag-light. EPSG:28992, spatial index on.
``wijkenbuurten_2023.gpkg``
    The CBS wijk- en buurtkaart layout (section 2.6): layer ``buurten`` with the snake_case
    identification columns and about fifty key figures, CBS missing-value codes (``-99997``)
    where CBS would suppress a figure, MultiPolygons in EPSG:28992.
``meta.json``
    Seed, scale, counts and timings.

How the country is made (all vectorised numpy/shapely, no loop over buildings): the region is a
box of the Netherlands' RD extent (shrunk by ``sqrt(scale)`` per side, so every size is
proportional to ``scale``); 342 × scale gemeenten, each with a main town, plus smaller towns
with lognormal sizes; buurten are the Voronoi cells of seeds that are dense in towns and sparse
in the countryside, each buurt belongs to the gemeente of the nearest main town, and buurt
edges are densified to 20 m (real CBS buurten are not generalised). Buildings stand on an
80 × 40 m plot lattice; towns claim plots around their centre (core, middle ring, outskirts),
the countryside gets scattered farms. A plot holds one structure: a terrace of 3-10 houses
(some with a 0.3 m or 1 m gap), semi-detached pairs (some with a touching garage), detached
houses, a walk-up flat, a high-rise, a shopping street with flats above, a non-residential
building (sometimes a care home with units that are both care and dwelling), a row of garage
boxes, or a farm with barns. Garden sheds and garages have no units. Build years follow the
zone (old cores, post-war middle rings, newer outskirts). Units get the realistic BAG status
mix (in gebruik, niet ingemeten, buiten gebruik, verbouwing, gevormd, ingetrokken, niet
gerealiseerd, ten onrechte opgevoerd), some are multi-use (``winkelfunctie,woonfunctie``), a
few lie in two panden, and a few panden carry BAG placeholder build years (1005, 9999).

Everything is fictional and marked: layer metadata ``woonvoorraad_synthetic = "true"``.

Usage::

    python benchmarks/generate.py --scale 0.01          # ~100,000 units, seconds
    python benchmarks/generate.py --scale 1             # ~10 million units, minutes
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from scipy.spatial import cKDTree

logger = logging.getLogger("benchmarks.generate")

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
GENERATOR_VERSION = 5

#: Full national size (scale 1.0).
FULL_UNITS = 10_000_000
FULL_GEMEENTEN = 342
FULL_BUURTEN = 14_500
FULL_TOWNS = 2_500
#: RD New extent of the Netherlands (x0, y0, x1, y1).
REGION = (13_000.0, 306_000.0, 278_000.0, 619_000.0)
PLOT_W, PLOT_H = 80.0, 40.0
BUURT_SEGMENT_M = 20.0
SHARE_RURAL_UNITS = 0.05
UNIT_CALIBRATION = 1.04

LAYER_METADATA = {
    "woonvoorraad_synthetic": "true",
    "woonvoorraad_description": "SYNTHETISCHE BENCHMARKDATA van woonvoorraad (benchmarks/"
                                "generate.py): verzonnen gebouwen, adressen en statistieken.",
}

# plot types
TERRACE, SEMI, DETACHED, FLAT, HIGHRISE, SHOPS, OTHER, GARAGES, FARM = range(9)
# zones
CORE, MIDDLE, OUTER, RURAL = range(4)
#: probability of each plot type (columns) per town zone (rows: core, middle, outskirts).
TYPE_P = np.array([
    # terr  semi   det   flat  high  shops other garag farm
    [0.30, 0.03, 0.02, 0.25, 0.03, 0.24, 0.10, 0.03, 0.0],
    [0.50, 0.15, 0.07, 0.13, 0.01, 0.03, 0.06, 0.05, 0.0],
    [0.27, 0.28, 0.32, 0.04, 0.00, 0.01, 0.05, 0.03, 0.0],
])
#: build-year bins and their probabilities per zone (core, middle, outskirts, rural).
YEAR_BINS = np.array([[1600, 1899], [1900, 1929], [1930, 1944], [1945, 1964], [1965, 1974],
                      [1975, 1991], [1992, 2005], [2006, 2023]])
YEAR_P = np.array([
    [0.15, 0.25, 0.10, 0.15, 0.10, 0.10, 0.08, 0.07],
    [0.02, 0.06, 0.07, 0.30, 0.25, 0.18, 0.07, 0.05],
    [0.01, 0.02, 0.03, 0.08, 0.14, 0.30, 0.22, 0.20],
    [0.15, 0.10, 0.05, 0.12, 0.12, 0.18, 0.14, 0.14],
])

DOELEN = np.array([
    "woonfunctie", "winkelfunctie", "kantoorfunctie", "industriefunctie", "bijeenkomstfunctie",
    "gezondheidszorgfunctie", "onderwijsfunctie", "sportfunctie", "logiesfunctie",
    "overige gebruiksfunctie", "celfunctie", "winkelfunctie,woonfunctie",
    "gezondheidszorgfunctie,woonfunctie", "kantoorfunctie,woonfunctie",
])
WOON, WINKEL, KANTOOR, INDUSTRIE, BIJEENKOMST, ZORG = 0, 1, 2, 3, 4, 5
WINKEL_WOON, ZORG_WOON, KANTOOR_WOON = 11, 12, 13
#: non-residential uses of OTHER buildings and their probabilities
OTHER_DOELEN = np.array([2, 3, 4, 5, 6, 7, 8, 9, 10])
OTHER_DOELEN_P = np.array([0.35, 0.25, 0.10, 0.08, 0.07, 0.05, 0.05, 0.049, 0.001])

VBO_STATUS = np.array([
    "Verblijfsobject in gebruik", "Verblijfsobject in gebruik (niet ingemeten)",
    "Verblijfsobject buiten gebruik", "Verbouwing verblijfsobject", "Verblijfsobject gevormd",
    "Verblijfsobject ingetrokken", "Niet gerealiseerd verblijfsobject",
    "Verblijfsobject ten onrechte opgevoerd",
])
VBO_STATUS_P = np.array([0.9445, 0.02, 0.005, 0.003, 0.015, 0.008, 0.003, 0.0015])
PAND_STATUS = np.array(["Pand in gebruik", "Pand in gebruik (niet ingemeten)", "Verbouwing pand",
                        "Bouw gestart", "Pand buiten gebruik"])
PAND_STATUS_P = np.array([0.965, 0.02, 0.005, 0.007, 0.003])
STREETS = np.array([
    "Dorpsstraat", "Kerkstraat", "Molenweg", "Schoolstraat", "Hoofdstraat", "Stationsweg",
    "Julianastraat", "Beatrixlaan", "Wilhelminastraat", "Nieuwstraat", "Brink", "Markt",
    "Esweg", "Beukenlaan", "Eikenlaan", "Berkenlaan", "Lindelaan", "Populierenlaan",
    "Merelstraat", "Lijsterlaan", "Spreeuwenstraat", "Zwaluwstraat", "Rozenstraat",
    "Tulpstraat", "Narcissenstraat", "Seringenlaan", "Vondelstraat", "Bilderdijkstraat",
    "Rembrandtlaan", "Vermeerstraat", "Industrieweg", "Handelsweg", "Energieweg",
    "Havenstraat", "Kanaalweg Noord", "Kanaalweg Zuid", "Burgemeester de Vriesstraat",
    "Parallelweg", "Slingerweg", "Esakker",
])


@dataclass
class Geography:
    """Gemeenten, towns and buurt seeds of the synthetic country."""

    region: tuple[float, float, float, float]
    gem_codes: np.ndarray  # int, per gemeente
    gem_xy: np.ndarray
    town_xy: np.ndarray
    town_sigma: np.ndarray
    town_gem: np.ndarray
    buurt_xy: np.ndarray
    buurt_gem: np.ndarray


@dataclass
class Plots:
    """One row per occupied plot."""

    x: np.ndarray  # lower-left corner
    y: np.ndarray
    zone: np.ndarray
    kind: np.ndarray
    town: np.ndarray  # -1 for rural
    year: np.ndarray


@dataclass
class Buildings:
    """Panden and units as flat arrays (filled block type by block type)."""

    pand: dict[str, list[np.ndarray]] = field(default_factory=lambda: {
        k: [] for k in ("plot", "x0", "y0", "x1", "y1", "dyear")})
    unit: dict[str, list[np.ndarray]] = field(default_factory=lambda: {
        k: [] for k in ("pand", "x", "y", "doel", "opp", "floor")})
    n_panden: int = 0
    multi: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    _coords: np.ndarray | None = None

    def add_panden(self, plot: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray,
                   y1: np.ndarray, *, dyear: np.ndarray | int = 0) -> np.ndarray:
        """Append rectangles; return their global pand numbers."""
        n = len(plot)
        idx = np.arange(self.n_panden, self.n_panden + n)
        self.n_panden += n
        self._coords = None
        for k, v in (("plot", plot), ("x0", x0), ("y0", y0), ("x1", x1), ("y1", y1),
                     ("dyear", np.broadcast_to(np.asarray(dyear, dtype=np.int64), (n,)))):
            self.pand[k].append(np.asarray(v))
        return idx

    def add_units(self, rng: np.random.Generator, pand: np.ndarray, doel: np.ndarray | int,
                  opp: np.ndarray, floor: np.ndarray | int = 0) -> None:
        """Append units placed at a random point inside their pand (0.5 m inset)."""
        if self._coords is None:
            self._coords = np.vstack([np.concatenate(self.pand[k])
                                      for k in ("x0", "y0", "x1", "y1")])
        x0, y0, x1, y1 = self._coords[:, pand]
        n = len(pand)
        x = x0 + 0.5 + rng.random(n) * (x1 - x0 - 1.0)
        y = y0 + 0.5 + rng.random(n) * (y1 - y0 - 1.0)
        for k, v in (("pand", pand), ("x", x), ("y", y),
                     ("doel", np.broadcast_to(np.asarray(doel, dtype=np.int64), (n,))),
                     ("opp", opp), ("floor", np.broadcast_to(np.asarray(floor, dtype=np.int64),
                                                             (n,)))):
            self.unit[k].append(np.asarray(v))

    def flat(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Concatenated pand and unit arrays."""
        return ({k: np.concatenate(v) for k, v in self.pand.items()},
                {k: np.concatenate(v) for k, v in self.unit.items()})


def _ranks(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: (group index, rank within group) per element."""
    group = np.repeat(np.arange(len(counts)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    return group, np.arange(group.size) - start


def make_geography(rng: np.random.Generator, scale: float) -> Geography:
    """Gemeenten, towns and buurt seeds for a region of ``scale`` times the country."""
    x0, y0, x1, y1 = REGION
    side = math.sqrt(scale)
    region = (x0, y0, x0 + (x1 - x0) * side, y0 + (y1 - y0) * side)
    w, h = region[2] - region[0], region[3] - region[1]
    n_gem = max(1, round(FULL_GEMEENTEN * scale))
    n_towns = max(n_gem, round(FULL_TOWNS * scale))
    n_buurten = max(2 * n_gem, round(FULL_BUURTEN * scale))

    def uniform(n: int, margin: float = 0.0) -> np.ndarray:
        return np.column_stack([region[0] + margin + rng.random(n) * (w - 2 * margin),
                                region[1] + margin + rng.random(n) * (h - 2 * margin)])

    gem_xy = uniform(n_gem, margin=min(w, h) * 0.03)
    gem_codes = np.sort(rng.choice(np.arange(1, 2000), size=n_gem, replace=False))
    town_xy = np.vstack([gem_xy, uniform(n_towns - n_gem, margin=500.0)])
    weight = rng.lognormal(0.0, 1.1, n_towns)
    weight[:n_gem] *= 4.0  # the main town of each gemeente is larger
    weight /= weight.sum()
    _, town_gem = cKDTree(gem_xy).query(town_xy)
    # buurten: one at each main town, many more in towns (by size), the rest rural
    n_town_seeds = round((n_buurten - n_gem) * 0.72)
    seed_town = rng.choice(n_towns, size=n_town_seeds, p=weight)
    town_units = weight * FULL_UNITS * scale * (1 - SHARE_RURAL_UNITS)
    town_sigma = np.sqrt(town_units / 9.0 * PLOT_W * PLOT_H / math.pi) * 0.75 + 150.0
    seed_xy = town_xy[seed_town] + rng.normal(0.0, 1.0, (n_town_seeds, 2)) * (
        town_sigma[seed_town, None] * 1.1)
    rural_xy = uniform(n_buurten - n_gem - n_town_seeds)
    buurt_xy = np.vstack([gem_xy, seed_xy, rural_xy])
    buurt_xy[:, 0] = np.clip(buurt_xy[:, 0], region[0] + 1, region[2] - 1)
    buurt_xy[:, 1] = np.clip(buurt_xy[:, 1], region[1] + 1, region[3] - 1)
    _, buurt_gem = cKDTree(gem_xy).query(buurt_xy)
    return Geography(region, gem_codes, gem_xy, town_xy, town_sigma, town_gem, buurt_xy,
                     buurt_gem)


def make_plots(rng: np.random.Generator, geo: Geography, target_units: int) -> Plots:
    """Occupied plots of the lattice: towns around their centres, farms in the countryside."""
    rx0, ry0, rx1, ry1 = geo.region
    nx, ny = int((rx1 - rx0) // PLOT_W), int((ry1 - ry0) // PLOT_H)
    n_towns = len(geo.town_xy)
    weight = (geo.town_sigma - 150.0) ** 2
    weight /= weight.sum()
    needed = int(target_units * (1 - SHARE_RURAL_UNITS) / 7.0) + 100
    key = np.zeros(0, dtype=np.int64)
    town = np.zeros(0, dtype=np.int64)
    dist = np.zeros(0)
    batch = int(needed * 1.6)
    for _ in range(20):  # dense town cores saturate: sample again until there are enough plots
        t = rng.choice(n_towns, size=batch, p=weight)
        xy = geo.town_xy[t] + rng.normal(0.0, 1.0, (batch, 2)) * geo.town_sigma[t, None]
        ix = np.floor((xy[:, 0] - rx0) / PLOT_W).astype(np.int64)
        iy = np.floor((xy[:, 1] - ry0) / PLOT_H).astype(np.int64)
        ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        key = np.concatenate([key, (ix * ny + iy)[ok]])
        town = np.concatenate([town, t[ok]])
        dist = np.concatenate([dist, np.hypot(*(xy[ok] - geo.town_xy[t[ok]]).T)
                               / geo.town_sigma[t[ok]]])
        key, first = np.unique(key, return_index=True)  # a plot claimed twice is built once
        town, dist = town[first], dist[first]
        if len(key) >= needed:
            break
        batch = int((needed - len(key)) * 2.5) + 100
    zone = np.where(dist < 0.6, CORE, np.where(dist < 1.4, MIDDLE, OUTER))
    n_rural = int(target_units * SHARE_RURAL_UNITS * 1.1) + 10
    rkey = rng.integers(0, nx * ny, n_rural)
    rkey = np.setdiff1d(np.unique(rkey), key)
    keys = np.concatenate([key, rkey])
    zone = np.concatenate([zone, np.full(len(rkey), RURAL)])
    town = np.concatenate([town, np.full(len(rkey), -1)])
    order = rng.permutation(len(keys))
    keys, zone, town = keys[order], zone[order], town[order]
    kind = np.full(len(keys), FARM)
    for z in (CORE, MIDDLE, OUTER):
        m = zone == z
        kind[m] = rng.choice(9, size=int(m.sum()), p=TYPE_P[z])
    b = np.zeros(len(keys), dtype=np.int64)
    for z in range(4):
        m = zone == z
        b[m] = rng.choice(len(YEAR_BINS), size=int(m.sum()), p=YEAR_P[z])
    year = rng.integers(YEAR_BINS[b, 0], YEAR_BINS[b, 1] + 1)
    # modern high-rise; garage boxes are post-war
    year = np.where(kind == HIGHRISE, np.maximum(year, rng.integers(1960, 2024, len(year))), year)
    year = np.where(kind == GARAGES, np.maximum(year, 1955), year)
    return Plots(x=rx0 + (keys // ny) * PLOT_W, y=ry0 + (keys % ny) * PLOT_H, zone=zone,
                 kind=kind, town=town, year=year)


def _expected_units(kind: np.ndarray) -> np.ndarray:
    """Rough units per plot type, to size the sample before building."""
    return np.array([6.5, 4.0, 1.5, 19.0, 70.0, 11.0, 4.0, 0.0, 1.1])[kind]


def build_plots(rng: np.random.Generator, plots: Plots, target_units: int) -> Buildings:
    """Fill plots with buildings until ``target_units`` units (rough) are placed."""
    cum = np.cumsum(_expected_units(plots.kind))
    # the rough per-type figures overestimate by about 4 % (statuses, fewer shops above)
    n_use = int(np.searchsorted(cum, target_units * UNIT_CALIBRATION)) + 1
    use = np.arange(min(n_use, len(plots.kind)))
    if n_use > len(plots.kind):
        logger.warning("not enough plots for %d units", target_units)
    b = Buildings()
    px, py, kind = plots.x, plots.y, plots.kind
    u = rng.random

    def plots_of(k: int) -> np.ndarray:
        return use[kind[use] == k]

    def sheds(owner: np.ndarray, hx0: np.ndarray, hx1: np.ndarray, hy1: np.ndarray,
              p: float) -> np.ndarray:
        """Garden sheds behind houses (no units); returns (house row, shed pand) pairs."""
        has = u(len(owner)) < p
        sx0 = hx0[has] + 1.0
        sx1 = sx0 + np.minimum(3.0, hx1[has] - hx0[has] - 2.0)
        sy0 = hy1[has] + 3.0
        dyear = rng.integers(0, 30, int(has.sum()))
        shed = b.add_panden(owner[has], sx0, sy0, sx1, sy0 + 2.5, dyear=dyear)
        return np.column_stack([np.flatnonzero(has), shed])

    multi_links: list[np.ndarray] = []

    # terraces: 3-10 houses, 5.1-6 m wide; some with a 0.3 m (touching by the rule) or 1 m gap
    p = plots_of(TERRACE)
    n = rng.choice(np.arange(3, 11), size=len(p), p=[.08, .14, .2, .2, .14, .1, .08, .06])
    w, d = 5.1 + u(len(p)) * 0.9, 8.5 + u(len(p)) * 2.0
    xs = 2.0 + u(len(p)) * (76.0 - n * w - 1.0)
    gap_at = np.where(u(len(p)) < 0.05, rng.integers(1, n), n)
    gap = np.where(u(len(p)) < 0.6, 0.3, 1.0)
    g, k = _ranks(n)
    hx0 = px[p][g] + xs[g] + k * w[g] + np.where(k >= gap_at[g], gap[g], 0.0)
    hy0 = py[p][g] + 4.0
    hx1, hy1 = hx0 + w[g], hy0 + d[g]
    houses = b.add_panden(p[g], hx0, hy0, hx1, hy1)
    b.add_units(rng, houses, WOON, 70 + u(len(houses)) * 70)
    sh = sheds(p[g], hx0, hx1, hy1, 0.6)
    multi_links.append(np.column_stack([houses[sh[:, 0]], sh[:, 1]]))

    # semi-detached pairs, 1-3 per plot; some pairs have a garage (no unit) touching one house
    p = plots_of(SEMI)
    n = rng.integers(1, 4, len(p))
    g, k = _ranks(n)
    w, d = 6.0 + u(len(g)) * 1.5, 9.0 + u(len(g)) * 2.0
    xs = px[p][g] + 2.0 + k * 25.0 + u(len(g)) * 3.0
    y0 = py[p][g] + 4.0
    left = b.add_panden(p[g], xs, y0, xs + w, y0 + d)
    right = b.add_panden(p[g], xs + w, y0, xs + 2 * w, y0 + d)
    pair = np.concatenate([left, right])
    b.add_units(rng, pair, WOON, 100 + u(len(pair)) * 60)
    gar = u(len(g)) < 0.15
    b.add_panden(p[g][gar], (xs + 2 * w)[gar], y0[gar], (xs + 2 * w + 3.0)[gar],
                 (y0 + 6.0)[gar], dyear=rng.integers(0, 20, int(gar.sum())))
    hx0 = np.concatenate([xs, xs + w])
    sh = sheds(np.concatenate([p[g], p[g]]), hx0, hx0 + np.concatenate([w, w]),
               np.concatenate([y0 + d, y0 + d]), 0.5)
    multi_links.append(np.column_stack([pair[sh[:, 0]], sh[:, 1]]))

    # detached houses, 1-2 per plot, a quarter with a touching garage, most with a shed
    p = plots_of(DETACHED)
    n = rng.integers(1, 3, len(p))
    g, k = _ranks(n)
    w, d = 8.0 + u(len(g)) * 4.0, 9.0 + u(len(g)) * 3.0
    xs = px[p][g] + 3.0 + k * 38.0 + u(len(g)) * 4.0
    y0 = py[p][g] + 4.0
    houses = b.add_panden(p[g], xs, y0, xs + w, y0 + d)
    b.add_units(rng, houses, WOON, 120 + u(len(houses)) * 110)
    gar = u(len(g)) < 0.25
    gap = np.where(u(len(g)) < 0.2, 0.3, 0.0)[gar]
    b.add_panden(p[g][gar], (xs + w)[gar] + gap, y0[gar], (xs + w + 3.5)[gar] + gap,
                 (y0 + 6.0)[gar], dyear=rng.integers(0, 25, int(gar.sum())))
    sh = sheds(p[g], xs, xs + w, y0 + d, 0.6)
    multi_links.append(np.column_stack([houses[sh[:, 0]], sh[:, 1]]))

    # walk-up flats (3-5 storeys), a quarter with a shop or office on the ground floor
    for k_type, storeys, per_m, opp in ((FLAT, (3, 6), 9.0, (45, 65)),
                                        (HIGHRISE, (8, 17), 8.0, (45, 55))):
        p = plots_of(k_type)
        length = (24.0 if k_type == FLAT else 30.0) + u(len(p)) * (36.0 if k_type == FLAT
                                                                   else 40.0)
        depth = (10.0 if k_type == FLAT else 12.0) + u(len(p)) * (4.0 if k_type == FLAT else 6.0)
        x0, y0 = px[p] + 3.0, py[p] + 5.0
        blocks = b.add_panden(p, x0, y0, x0 + length, y0 + np.minimum(depth, 32.0))
        s = rng.integers(*storeys, len(p))
        per_floor = np.maximum(2, (length // per_m).astype(np.int64))
        n_units = s * per_floor
        g, k = _ranks(n_units)
        b.add_units(rng, blocks[g], WOON, opp[0] + u(len(g)) * opp[1],
                    floor=k // per_floor[g] + 1)
        shop = u(len(p)) < 0.25
        b.add_units(rng, blocks[shop], rng.choice([WINKEL, KANTOOR, ZORG], int(shop.sum())),
                    80 + u(int(shop.sum())) * 300)

    # shopping streets: 2-7 narrow panden in a row, a shop below and 0-3 dwellings above;
    # some single upstairs dwellings are one unit with the shop (winkelfunctie,woonfunctie)
    p = plots_of(SHOPS)
    n = rng.integers(2, 8, len(p))
    g, k = _ranks(n)
    w = (6.0 + u(len(p)) * 3.0)[g]
    d = (12.0 + u(len(p)) * 4.0)[g]
    xs = px[p][g] + 2.0 + k * w
    y0 = py[p][g] + 3.0
    shops = b.add_panden(p[g], xs, y0, xs + w, y0 + d)
    above = rng.choice(4, size=len(shops), p=[0.2, 0.45, 0.25, 0.1])
    combined = (above == 1) & (u(len(shops)) < 0.12)
    n_shop = int((~combined).sum())
    b.add_units(rng, shops[~combined], rng.choice([WINKEL, BIJEENKOMST], n_shop, p=[0.8, 0.2]),
                60 + u(n_shop) * 200)
    b.add_units(rng, shops[combined], WINKEL_WOON, 120 + u(int(combined.sum())) * 80, floor=0)
    n_up = np.where(combined, 0, above)
    g2, k2 = _ranks(n_up)
    b.add_units(rng, shops[g2], np.where(u(len(g2)) < 0.03, KANTOOR_WOON, WOON),
                50 + u(len(g2)) * 60, floor=k2 + 1)

    # other buildings: offices, industry, schools...; 8 % are care homes with 20-60 units
    p = plots_of(OTHER)
    length, depth = 15.0 + u(len(p)) * 45.0, 10.0 + u(len(p)) * 20.0
    blocks = b.add_panden(p, px[p] + 4.0, py[p] + 4.0, px[p] + 4.0 + length,
                          py[p] + 4.0 + np.minimum(depth, 31.0))
    care = u(len(p)) < 0.08
    n_units = np.where(care, rng.integers(20, 61, len(p)), rng.integers(1, 7, len(p)))
    g, _ = _ranks(n_units)
    doel = np.where(care[g], ZORG_WOON, rng.choice(OTHER_DOELEN, size=len(g), p=OTHER_DOELEN_P))
    b.add_units(rng, blocks[g], doel, np.where(care[g], 30 + u(len(g)) * 30,
                                               50 + u(len(g)) * 900))

    # garage boxes: a row of 5-12 touching 3 x 6 m boxes without units
    p = plots_of(GARAGES)
    n = rng.integers(5, 13, len(p))
    g, k = _ranks(n)
    xs = px[p][g] + 3.0 + k * 3.0
    b.add_panden(p[g], xs, py[p][g] + 5.0, xs + 3.0, py[p][g] + 11.0)

    # farms: a house, 1-3 barns (one sometimes touching the house, some with a business unit)
    p = plots_of(FARM)
    w, d = 9.0 + u(len(p)) * 5.0, 10.0 + u(len(p)) * 4.0
    x0, y0 = px[p] + 3.0, py[p] + 3.0
    houses = b.add_panden(p, x0, y0, x0 + w, y0 + d)
    b.add_units(rng, houses, WOON, 110 + u(len(p)) * 150)
    touch = u(len(p)) < 0.1
    bx0 = x0 + w + np.where(touch, 0.0, 5.0)
    bl = 15.0 + u(len(p)) * (76.0 - (bx0 - px[p]) - 15.0)
    barn1 = b.add_panden(p, bx0, y0, bx0 + bl, y0 + 8.0 + u(len(p)) * 6.0,
                         dyear=rng.integers(-20, 40, len(p)))
    busy = u(len(p)) < 0.12
    b.add_units(rng, barn1[busy], INDUSTRIE, 100 + u(int(busy.sum())) * 600)
    second = u(len(p)) < 0.6
    b.add_panden(p[second], x0[second], (y0 + 18.0)[second],
                 (x0 + 12.0 + u(len(p)) * 40.0)[second], (y0 + 26.0 + u(len(p)) * 7.0)[second],
                 dyear=rng.integers(-10, 40, int(second.sum())))

    # multi-pand units: 1.5 % of houses with a shed are also linked to their shed
    links = np.vstack(multi_links)
    b.multi = links[u(len(links)) < 0.015]
    return b


def _pad_ids(values: np.ndarray) -> pa.Array:
    """16-digit zero-padded BAG identifiers from integers."""
    return pc.utf8_lpad(pc.cast(pa.array(values, type=pa.int64()), pa.string()), 16, "0")


def _dict_decode(codes: np.ndarray, labels: np.ndarray | list[str],
                 mask: np.ndarray | None = None) -> pa.Array:
    """Strings ``labels[codes]`` (null where ``mask``) without Python string objects."""
    return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32(), mask=mask),
                                          pa.array(list(labels))).dictionary_decode()


def _wkb_points(x: np.ndarray, y: np.ndarray) -> pa.Array:
    n = len(x)
    rec = np.zeros(n, dtype=np.dtype([("bo", "u1"), ("t", "<u4"), ("x", "<f8"), ("y", "<f8")]))
    rec["bo"], rec["t"], rec["x"], rec["y"] = 1, 1, x, y
    return _binary(rec.tobytes(), n, 21)


def _wkb_boxes(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> pa.Array:
    n = len(x0)
    rec = np.zeros(n, dtype=np.dtype([("bo", "u1"), ("t", "<u4"), ("nr", "<u4"), ("np", "<u4"),
                                      ("xy", "<f8", (10,))]))
    rec["bo"], rec["t"], rec["nr"], rec["np"] = 1, 3, 1, 5
    rec["xy"] = np.column_stack([x0, y0, x1, y0, x1, y1, x0, y1, x0, y0])
    return _binary(rec.tobytes(), n, 93)


def _binary(data: bytes, n: int, width: int) -> pa.Array:
    if n * width >= 2**31:
        raise ValueError("too many geometries for one binary array; use a smaller --scale")
    offsets = (np.arange(n + 1, dtype=np.int32) * width).astype(np.int32)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets.tobytes()),
                                                  pa.py_buffer(data)])


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*[pa.scalar(p) if isinstance(p, str) else p
                                         for p in parts], pa.scalar(""))


def bag_tables(rng: np.random.Generator, geo: Geography, plots: Plots, b: Buildings
               ) -> tuple[pa.RecordBatchReader, pa.RecordBatchReader, dict[str, Any]]:
    """Streams of the ``pand`` and ``verblijfsobject`` layers, plus per-unit facts."""
    pand, unit = b.flat()
    n_p, n_u = len(pand["plot"]), len(unit["pand"])
    rnd = lambda v: np.round(v, 3)  # noqa: E731  BAG coordinates are in mm
    pand["x0"], pand["y0"], pand["x1"], pand["y1"] = (rnd(pand[k]) for k in ("x0", "y0", "x1",
                                                                             "y1"))
    # which buurt (nearest seed = Voronoi cell) and gemeente each plot lies in
    cx, cy = plots.x + PLOT_W / 2, plots.y + PLOT_H / 2
    _, plot_buurt = cKDTree(geo.buurt_xy).query(np.column_stack([cx, cy]), workers=2)
    plot_gem = geo.buurt_gem[plot_buurt]
    # build years: per plot, sheds/garages/barns shifted; a few BAG placeholders
    year = plots.year[pand["plot"]] + pand["dyear"]
    year = np.minimum(year, 2023)
    ph = rng.random(n_p)
    year = np.where(ph < 0.0002, 1005, np.where(ph > 0.99995, 9999, year))
    # ids: GGGG + 10 (pand) / 01 (vbo) + 10-digit number, numbered within the gemeente
    pgem = geo.gem_codes[plot_gem[pand["plot"]]]
    porder = np.lexsort((rng.random(n_p), pgem))
    pseq = np.empty(n_p, dtype=np.int64)
    pseq[porder] = _ranks(np.bincount(np.searchsorted(np.unique(pgem), pgem)))[1] + 1
    pand_id = pgem * 10**12 + 10 * 10**10 + 100_000 + pseq
    ugem = pgem[unit["pand"]]
    uorder = np.lexsort((rng.random(n_u), ugem))
    useq = np.empty(n_u, dtype=np.int64)
    useq[uorder] = _ranks(np.bincount(np.searchsorted(np.unique(ugem), ugem)))[1] + 1
    vbo_id = ugem * 10**12 + 1 * 10**10 + 200_000 + useq

    ustatus = rng.choice(len(VBO_STATUS), size=n_u, p=VBO_STATUS_P)
    pstatus = rng.choice(len(PAND_STATUS), size=n_p, p=PAND_STATUS_P)
    existing = ustatus < 5  # not withdrawn / not realised / wrongly registered
    opp = np.maximum(np.round(unit["opp"]), 1).astype(np.int64)
    # pand attributes derived from its units (as in bag-light)
    n_vbo = np.bincount(unit["pand"], minlength=n_p)
    big = np.full(n_p, np.iinfo(np.int64).max)
    opp_min = big.copy()
    np.minimum.at(opp_min, unit["pand"], opp)
    opp_max = np.zeros(n_p, dtype=np.int64)
    np.maximum.at(opp_max, unit["pand"], opp)
    doel_first = np.full(n_p, -1)
    doel_first[unit["pand"][::-1]] = unit["doel"][::-1]

    # multi-pand units: the unit is listed again for the second pand (bag-light)
    multi = b.multi
    house_units = np.full(n_p, -1)
    house_units[unit["pand"]] = np.arange(n_u)
    mu = house_units[multi[:, 0]]
    keep = mu >= 0
    mu, mp = mu[keep], multi[keep, 1]
    n_vbo[mp] += 1
    doel_first[mp] = unit["doel"][mu]
    opp_min[mp] = np.minimum(opp_min[mp], opp[mu])
    opp_max[mp] = np.maximum(opp_max[mp], opp[mu])
    # some linked sheds are older than the house (the oldest-pand rule matters)
    older = plots.year[pand["plot"][mp]] - rng.integers(5, 40, len(mp))
    year[mp] = np.where(rng.random(len(mp)) < 0.4, older, year[mp])

    has_units = n_vbo > 0
    pand_order = np.argsort(pand_id, kind="stable")  # bag-light is ordered by identificatie

    def pand_batch(sel: np.ndarray) -> pa.RecordBatch:
        ids = _pad_ids(pand_id[sel])
        return pa.RecordBatch.from_pydict({
            "identificatie": ids,
            "bouwjaar": pa.array(year[sel].astype(np.int32)),
            "status": _dict_decode(pstatus[sel], PAND_STATUS),
            "gebruiksdoel": _dict_decode(np.maximum(doel_first[sel], 0), DOELEN,
                                         mask=~has_units[sel]),
            "oppervlakte_min": pa.array(np.where(has_units[sel], opp_min[sel], 0),
                                        mask=~has_units[sel]),
            "oppervlakte_max": pa.array(np.where(has_units[sel], opp_max[sel], 0),
                                        mask=~has_units[sel]),
            "aantal_verblijfsobjecten": pa.array(n_vbo[sel].astype(np.int32)),
            "rdf_seealso": _join("http://bag.basisregistraties.overheid.nl/bag/id/pand/", ids),
            "geom": _wkb_boxes(pand["x0"][sel], pand["y0"][sel], pand["x1"][sel],
                               pand["y1"][sel]),
        })

    # units, with the multi-pand rows appended (same id and point, other pand)
    rows = np.concatenate([np.arange(n_u), mu])
    upand = np.concatenate([unit["pand"], mp])
    uplot = pand["plot"][unit["pand"]][rows]
    town = plots.town[uplot]
    street = (np.where(town >= 0, town, uplot) * 7 + (uplot % 5)) % len(STREETS)
    pc4 = 1000 + (np.where(town >= 0, town, 3000 + uplot % 5000) * 37) % 9000
    letters = (uplot * 7919) % 676
    letter_names = [chr(65 + i // 26) + chr(65 + i % 26) for i in range(676)]
    by_plot = np.argsort(uplot, kind="stable")
    huisnr = np.empty(len(rows), dtype=np.int64)
    huisnr[by_plot] = 1 + _ranks(np.bincount(uplot)[np.unique(uplot)])[1]
    floor = unit["floor"][rows]
    gm = ugem[rows]
    woonplaats = np.where(town >= 0, town, geo.town_gem.size + plot_gem[uplot])
    opr_id = gm * 10**12 + 30 * 10**10 + street * 1000 + (uplot % 997)
    ux, uy = rnd(unit["x"][rows]), rnd(unit["y"][rows])
    vbo_order = np.lexsort((upand, vbo_id[rows]))  # ordered by identificatie

    def vbo_batch(sel: np.ndarray) -> pa.RecordBatch:
        k = len(sel)
        vid = _pad_ids(vbo_id[rows[sel]])
        gm_str = pc.utf8_lpad(pc.cast(pa.array(gm[sel]), pa.string()), 4, "0")
        zeros = np.zeros(k, dtype=np.int32)
        return pa.RecordBatch.from_pydict({
            "identificatie": vid,
            "oppervlakte": pa.array(opp[rows[sel]].astype(np.int32)),
            "status": _dict_decode(ustatus[rows[sel]], VBO_STATUS),
            "gebruiksdoel": _dict_decode(unit["doel"][rows[sel]], DOELEN),
            "hoofdadres_identificatie": _pad_ids(gm[sel] * 10**12 + 20 * 10**10 + 200_000
                                                 + useq[rows[sel]]),
            "huisnummer": pa.array(huisnr[sel].astype(np.int32)),
            "huisletter": pa.array(np.where(rows[sel] % 31 == 0, "A", ""),
                                   mask=rows[sel] % 31 != 0),
            "toevoeging": pa.array(np.maximum(floor[sel], 0).astype(str), mask=floor[sel] <= 0),
            "postcode": _join(pc.cast(pa.array(pc4[sel]), pa.string()),
                              _dict_decode(letters[sel], letter_names)),
            "hoofdadres_status": _dict_decode(zeros, ["Naamgeving uitgegeven"]),
            "openbare_ruimte_identificatie": _pad_ids(opr_id[sel]),
            "openbare_ruimte_naam": _dict_decode(street[sel], STREETS),
            "openbare_ruimte_naam_kort": _dict_decode(street[sel], STREETS),
            "openbare_ruimte_status": _dict_decode(zeros, ["Naamgeving uitgegeven"]),
            "woonplaats_identificatie": pc.utf8_lpad(pc.cast(pa.array(
                1000 + woonplaats[sel] % 8000), pa.string()), 4, "0"),
            "woonplaats_naam": _join("Synthdorp ", pc.cast(pa.array(woonplaats[sel]),
                                                           pa.string())),
            "woonplaats_status": _dict_decode(zeros, ["Woonplaats aangewezen"]),
            "bronhouder_identificatie": gm_str,
            "bronhouder_naam": _join("Synthetica ", gm_str),
            "pand_identificatie": _pad_ids(pand_id[upand[sel]]),
            "bouwjaar": pa.array(year[upand[sel]].astype(np.int32)),
            "pandstatus": _dict_decode(pstatus[upand[sel]], PAND_STATUS),
            "nevenadressen": pa.nulls(k, pa.string()),
            "rdf_seealso": _join(
                "http://bag.basisregistraties.overheid.nl/bag/id/verblijfsobject/", vid),
            "geom": _wkb_points(ux[sel], uy[sel]),
        })

    facts = {"unit_buurt": plot_buurt[pand["plot"][unit["pand"]]], "existing": existing,
             "ustatus": ustatus, "udoel": unit["doel"], "ukind": plots.kind[
                 pand["plot"][unit["pand"]]], "n_panden": n_p, "n_rows": len(rows)}
    return _reader(pand_batch, pand_order), _reader(vbo_batch, vbo_order), facts


def _reader(make: Any, order: np.ndarray, chunk: int = 500_000) -> pa.RecordBatchReader:
    """Stream the rows ``order`` as record batches made by ``make`` (low memory writes)."""
    first = make(order[:chunk])

    def batches() -> Any:
        yield first
        for lo in range(chunk, len(order), chunk):
            yield make(order[lo:lo + chunk])

    return pa.RecordBatchReader.from_batches(first.schema, batches())


def buurten_table(rng: np.random.Generator, geo: Geography, facts: dict[str, Any]
                  ) -> pa.Table:
    """The ``buurten`` layer: Voronoi cells of the buurt seeds, codes and key figures."""
    region = shapely.box(*geo.region)
    cells = shapely.voronoi_polygons(shapely.multipoints(geo.buurt_xy), extend_to=region,
                                     ordered=True)
    polys = shapely.intersection(shapely.get_parts(cells), region)
    polys = shapely.segmentize(shapely.set_precision(polys, 0.001), BUURT_SEGMENT_M)
    n = len(polys)
    gem = geo.buurt_gem
    gm_code = geo.gem_codes[gem]
    # wijken: buurten of a gemeente by distance from its centre, 10 per wijk
    dist = np.hypot(*(geo.buurt_xy - geo.gem_xy[gem]).T)
    order = np.lexsort((dist, gem))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = _ranks(np.bincount(gem, minlength=len(geo.gem_codes)))[1]
    wijk, bu = rank // 10, rank % 10
    if wijk.max() > 99:
        raise ValueError("a gemeente has more than 1000 buurten; CBS codes allow 100 wijken")
    gm_s = np.char.zfill(gm_code.astype(str), 4)
    wk_s = np.char.zfill(wijk.astype(str), 2)
    bu_s = np.char.zfill(bu.astype(str), 2)
    buurtcode = np.char.add(np.char.add(np.char.add("BU", gm_s), wk_s), bu_s)
    wijkcode = np.char.add(np.char.add("WK", gm_s), wk_s)
    # key figures consistent with the generated dwellings
    dwell = facts["existing"] & (facts["ustatus"] < 4) & np.isin(
        facts["udoel"], [WOON, WINKEL_WOON, ZORG_WOON, KANTOOR_WOON])
    n_won = np.bincount(facts["unit_buurt"][dwell], minlength=n).astype(float)
    eengezins_kind = np.isin(facts["ukind"], [TERRACE, SEMI, DETACHED, FARM])
    n_eg = np.bincount(facts["unit_buurt"][dwell & eengezins_kind], minlength=n)
    share_eg = np.where(n_won > 0, n_eg / np.maximum(n_won, 1), 0.5)
    r5 = lambda v: (np.round(np.asarray(v) / 5) * 5).astype(np.int64)  # noqa: E731
    woningen = r5(n_won)
    inwoners = r5(n_won * rng.uniform(1.8, 2.6, n))
    huishoudens = r5(n_won * rng.uniform(0.9, 1.0, n))
    koop = np.clip(15 + 70 * share_eg + rng.normal(0, 8, n), 0, 100).round()
    huur = np.clip(100 - koop - rng.uniform(0, 3, n), 0, 100).round()
    secret = -99997.0
    small = n_won < 20
    tiny = n_won < 6

    def hide(v: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask, secret, v)

    area_ha = shapely.area(polys) / 1e4
    water_ha = np.round(area_ha * rng.uniform(0, 0.1, n))
    cols: dict[str, pa.Array | np.ndarray] = {
        "buurtcode": buurtcode, "buurtnaam": np.char.add("Buurt ", np.char.add(wk_s, bu_s)),
        "wijkcode": wijkcode, "wijknaam": np.char.add("Wijk ", wk_s),
        "gemeentecode": np.char.add("GM", gm_s), "gemeentenaam": np.char.add("Synthetica ", gm_s),
        "indelingswijziging_wijken_en_buurten": np.full(n, 1), "water": np.full(n, "NEE"),
        "meest_voorkomende_postcode": np.char.add((1000 + (gem * 37) % 9000).astype(str), "AB"),
        "dekkingspercentage": np.full(n, 1), "omgevingsadressendichtheid": r5(
            n_won / np.maximum(area_ha, 1) * 100),
        "stedelijkheid_adressen_per_km2": np.clip(5 - np.log10(np.maximum(area_ha, 1)), 1,
                                                  5).astype(np.int64),
        "aantal_inwoners": inwoners, "mannen": r5(inwoners * 0.495),
        "vrouwen": r5(inwoners * 0.505),
        "percentage_personen_0_tot_15_jaar": hide(rng.uniform(8, 22, n).round(), tiny),
        "percentage_personen_15_tot_25_jaar": hide(rng.uniform(8, 16, n).round(), tiny),
        "percentage_personen_25_tot_45_jaar": hide(rng.uniform(18, 32, n).round(), tiny),
        "percentage_personen_45_tot_65_jaar": hide(rng.uniform(22, 32, n).round(), tiny),
        "percentage_personen_65_jaar_en_ouder": hide(np.clip(rng.normal(22, 7, n), 3, 60)
                                                     .round(), tiny),
        "bevolkingsdichtheid_inwoners_per_km2": r5(inwoners / np.maximum(area_ha, 1) * 100),
        "aantal_huishoudens": huishoudens,
        "percentage_eenpersoonshuishoudens": hide(rng.uniform(20, 50, n).round(), tiny),
        "percentage_huishoudens_zonder_kinderen": hide(rng.uniform(20, 35, n).round(), tiny),
        "percentage_huishoudens_met_kinderen": hide(rng.uniform(20, 45, n).round(), tiny),
        "gemiddelde_huishoudsgrootte": hide((inwoners / np.maximum(huishoudens, 1)).round(1),
                                            tiny | (huishoudens == 0)),
        "woningvoorraad": woningen,
        "gemiddelde_woningwaarde": hide(np.round(rng.lognormal(np.log(290), 0.3, n)), small),
        "percentage_eengezinswoning": hide(np.round(100 * share_eg), small),
        "percentage_meergezinswoning": hide(np.round(100 - 100 * share_eg), small),
        "percentage_bewoond": hide(rng.uniform(94, 99, n).round(), small),
        "percentage_leegstand_woningen": hide(rng.uniform(1, 6, n).round(), small),
        "percentage_koopwoningen": hide(koop, small),
        "percentage_huurwoningen": hide(huur, small),
        "perc_huurwoningen_in_bezit_woningcorporaties": hide(np.round(huur * rng.uniform(
            0.5, 0.9, n)), small),
        "perc_huurwoningen_in_bezit_overige_verhuurders": hide(np.round(huur * 0.2), small),
        "percentage_woningen_met_eigendom_onbekend": hide(np.full(n, 0.0), small),
        "percentage_bouwjaarklasse_tot_2000": hide(rng.uniform(60, 100, n).round(), small),
        "percentage_bouwjaarklasse_vanaf_2000": hide(rng.uniform(0, 40, n).round(), small),
        "gemiddeld_gasverbruik_totaal": hide(np.round((700 + 700 * share_eg + rng.normal(
            0, 150, n)) / 50) * 50, tiny),
        "gemiddeld_elektriciteitsverbruik_totaal": hide(np.round(rng.normal(2700, 400, n) / 50)
                                                        * 50, tiny),
        "percentage_woningen_met_stadsverwarming": hide(rng.uniform(0, 10, n).round(), tiny),
        "netto_arbeidsparticipatie": hide(rng.uniform(55, 75, n).round(1), small),
        "aantal_inkomensontvangers": r5(inwoners * 0.8),
        "gemiddeld_inkomen_per_inkomensontvanger": hide(rng.normal(40, 7, n).round(1), small),
        "gemiddeld_inkomen_per_inwoner": hide(rng.normal(32, 6, n).round(1), small),
        "percentage_personen_met_laag_inkomen": hide(np.clip(rng.normal(38, 8, n), 5, 80)
                                                     .round(1), small),
        "percentage_huishoudens_met_laag_inkomen": hide(np.clip(rng.normal(8, 3, n), 0, 40)
                                                        .round(1), small),
        "percentage_huishoudens_onder_of_rond_sociaal_minimum": hide(np.clip(rng.normal(
            7, 3, n), 0, 40).round(1), small),
        "percentage_huishoudens_met_hoog_inkomen": hide(rng.uniform(10, 40, n).round(1), small),
        "personenautos_per_huishouden": hide(rng.uniform(0.6, 1.6, n).round(1), tiny),
        "oppervlakte_totaal_in_ha": np.round(area_ha).astype(np.int64),
        "oppervlakte_land_in_ha": np.round(area_ha - water_ha).astype(np.int64),
        "oppervlakte_water_in_ha": water_ha.astype(np.int64),
        "jaar": np.full(n, 2023),
    }
    multi = np.array([shapely.MultiPolygon([p]) for p in polys], dtype=object)
    table = pa.table({k: pa.array(v) for k, v in cols.items()})
    table = table.append_column("geom", pa.array(shapely.to_wkb(multi), type=pa.binary()))
    return table.take(pa.array(np.argsort(buurtcode, kind="stable")))


def _write(table: pa.Table | pa.RecordBatchReader, path: Path, layer: str,
           geometry_type: str) -> None:
    pyogrio.write_arrow(table, path, layer=layer, driver="GPKG", geometry_name="geom",
                        geometry_type=geometry_type, crs="EPSG:28992",
                        layer_metadata=LAYER_METADATA, append=path.exists())


def generate(scale: float, *, out: Path | None = None, seed: int = 20240601,
             force: bool = False) -> dict[str, object]:
    """Generate the input of one scale; returns its ``meta.json`` content.

    Parameters
    ----------
    scale
        1.0 = national size (~10 million units, 342 gemeenten, ~14,500 buurten).
    out
        Folder (default ``benchmarks/data/scale-<scale>``).
    seed
        Random seed; the same seed and scale give the same files.
    force
        Regenerate even when a complete set for this seed and scale exists.
    """
    out = out or DATA_DIR / f"scale-{scale:g}"
    meta_path = out / "meta.json"
    if meta_path.exists() and not force:
        meta = json.loads(meta_path.read_text())
        if meta.get("seed") == seed and meta.get("version") == GENERATOR_VERSION:
            logger.info("reusing %s", out)
            return meta
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng([seed, round(scale * 1e6)])
    target = max(1000, round(FULL_UNITS * scale))
    geo = make_geography(rng, scale)
    plots = make_plots(rng, geo, target)
    b = build_plots(rng, plots, target)
    pand_tbl, vbo_tbl, facts = bag_tables(rng, geo, plots, b)
    buurt_tbl = buurten_table(rng, geo, facts)
    t_gen = time.perf_counter() - t0
    bag_path, buurten_path = out / "bag-light.gpkg", out / "wijkenbuurten_2023.gpkg"
    for p in (bag_path, buurten_path, meta_path):
        p.unlink(missing_ok=True)
    _write(buurt_tbl, buurten_path, "buurten", "MultiPolygon")
    _write(pand_tbl, bag_path, "pand", "Polygon")
    _write(vbo_tbl, bag_path, "verblijfsobject", "Point")
    meta = {
        "version": GENERATOR_VERSION, "seed": seed, "scale": scale,
        "bag": str(bag_path), "buurten": str(buurten_path),
        "n_panden": facts["n_panden"], "n_verblijfsobject_rows": facts["n_rows"],
        "n_units": len(facts["existing"]), "n_buurten": buurt_tbl.num_rows,
        "n_gemeenten": len(geo.gem_codes),
        "seconds_generate": round(t_gen, 1),
        "seconds_total": round(time.perf_counter() - t0, 1),
        "bytes": {p.name: p.stat().st_size for p in (bag_path, buurten_path)},
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    logger.info("generated %s in %.1f s: %d units, %d panden, %d buurten, %d gemeenten", out,
                meta["seconds_total"], meta["n_units"], meta["n_panden"], meta["n_buurten"],
                meta["n_gemeenten"])
    return meta


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python benchmarks/generate.py --scale 0.01``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.01,
                    help="1 = national size (~10 million units); default 0.01")
    ap.add_argument("--out", type=Path, help="output folder (default benchmarks/data/scale-S)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--force", action="store_true", help="regenerate existing files")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        stream=sys.stderr)
    meta = generate(args.scale, out=args.out, seed=args.seed, force=args.force)
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
