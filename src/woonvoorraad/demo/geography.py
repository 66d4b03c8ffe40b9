"""Geography of the demo region: gemeente polygons, settlements, rings, sectors, wijken
and buurten.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from woonvoorraad.demo.names import (
    BEDRIJVENTERREINEN,
    DIRECTIONS,
    DORPEN,
    GEMEENTEN,
    NEW_NAMES,
    OLD_NAMES,
    OUTER_WIJKEN,
    THEMES,
    TYPE_THEMES,
)
from woonvoorraad.demo.plots import DEFAULT_PLOT, PACKING, estimate_density

logger = logging.getLogger(__name__)

_RD_CENTRE = (250_000.0, 540_000.0)  # the Drenthe part of the RD grid
GRID = 0.01  # precision of the CBS polygons (m)
# ============================================================================================
# Layout: gemeenten, settlements and their buurten
# ============================================================================================


@dataclass
class _Sector:
    """A buurt to be: one sector of a ring around a settlement centre."""

    btype: str
    dwellings: float
    area: float


@dataclass
class _Ring:
    """Sectors around a settlement; a partial ring covers ``fraction`` of the circle, or, when
    ``inside`` is set, that fraction of the residential span of the ring before it."""

    sectors: list[_Sector]
    fraction: float = 1.0
    inside: bool = False


@dataclass
class _Settlement:
    """A town or village: its rings of buurten and its share of the countryside."""

    name: str
    town: bool
    shrinking: bool
    rural_dwellings: float
    rings: list[_Ring]
    prosperity: float  # -1 (poor, shrinking) .. 1 (well-off commuter gemeente)

    def radius(self) -> float:
        """Outer radius the rings will reach (m), with room for the wobble of the outline."""
        r2, span = 0.0, 1.0
        for ring in self.rings:
            fraction = ring.fraction * span if ring.inside else ring.fraction
            r2 += sum(s.area for s in ring.sectors) / (math.pi * fraction)
            span = fraction
        return 1.2 * math.sqrt(r2)


def _split_sectors(
    rng: np.random.Generator, btype: str, dwellings: float, size: float
) -> list[_Sector]:
    """Cut ``dwellings`` into buurten of about ``size`` dwellings."""
    k = max(1, round(dwellings / size))
    parts = dwellings * rng.dirichlet(np.full(k, 8.0))
    smallest = 6 * math.prod(DEFAULT_PLOT) / PACKING  # room for a few plots at least
    return [_Sector(btype, d, max(d / estimate_density(btype), smallest)) for d in parts]


def _plan_town(
    rng: np.random.Generator, name: str, dwellings: float, rural: float, prosperity: float
) -> _Settlement:
    n, p = dwellings, prosperity
    ring1 = _split_sectors(rng, "oude_schil", 0.07 * n, math.inf) + _split_sectors(
        rng, "wederopbouw", 0.19 * (1 - 0.15 * p) * n, 650
    )
    n_business = 2 if n > 9000 else 1
    business = [
        _Sector("bedrijventerrein", 0.0, max(80_000.0, 80.0 * n / n_business))
        for _ in range(n_business)
    ]
    rings = [
        _Ring(_split_sectors(rng, "centrum", 0.08 * n, 900)),
        _Ring([ring1[i] for i in rng.permutation(len(ring1))]),
        _Ring(_split_sectors(rng, "naoorlogs_laat", 0.21 * (1 - 0.1 * p) * n, 650)),
        _Ring(_split_sectors(rng, "jaren80", 0.25 * n, 650) + business, rng.uniform(0.65, 0.85)),
        _Ring(
            _split_sectors(rng, "nieuwbouw", 0.2 * (1 + 0.25 * p) * n, 650),
            rng.uniform(0.5, 0.9),
            inside=True,
        ),
    ]
    return _Settlement(name, True, False, rural, rings, prosperity)


def _plan_village(
    rng: np.random.Generator, name: str, dwellings: float, rural: float, prosperity: float
) -> _Settlement:
    n = dwellings
    if n < 450:
        rings = [_Ring(_split_sectors(rng, "dorp", n, math.inf))]
    elif n < 1200:
        rings = [
            _Ring(_split_sectors(rng, "dorpskern", 0.5 * n, math.inf)),
            _Ring(_split_sectors(rng, "dorp_naoorlogs", 0.5 * n, math.inf), rng.uniform(0.55, 1.0)),
        ]
    else:
        rings = [
            _Ring(_split_sectors(rng, "dorpskern", 0.4 * n, math.inf)),
            _Ring(_split_sectors(rng, "dorp_naoorlogs", 0.4 * n, math.inf), rng.uniform(0.6, 1.0)),
            _Ring(
                _split_sectors(rng, "dorp_nieuw", 0.2 * n, math.inf), rng.uniform(0.4, 0.8), True
            ),
        ]
    shrinking = bool(rng.random() < 0.4 - 0.3 * prosperity)
    return _Settlement(name, False, shrinking, rural, rings, prosperity)


def _plan_settlements(rng: np.random.Generator, scale: float) -> list[list[_Settlement]]:
    """Settlements per gemeente: a town, villages, and their rural dwellings."""
    n_gemeenten = max(2, round(5 * scale))
    shares = rng.dirichlet(np.full(n_gemeenten, 6.0))
    village_names = iter(rng.permutation(DORPEN).tolist())
    # gemeenten differ: from a shrinking, poorer one to a well-off commuter gemeente
    prosperities = rng.permutation(np.linspace(-0.9, 0.9, n_gemeenten)) + rng.normal(
        0, 0.1, n_gemeenten
    )
    plan = []
    for g, (share, prosperity) in enumerate(zip(shares, prosperities, strict=True)):
        total = 60_000 * scale * share
        town = total * rng.uniform(0.55, 0.7)
        rural = total * rng.uniform(0.05, 0.08)
        in_villages = total - town - rural
        n_villages = int(np.clip(round(in_villages / 900), 1, 5))
        sizes = in_villages * rng.dirichlet(np.full(n_villages, 4.0))
        rural_parts = rural * np.r_[1.5, np.ones(n_villages)] / (1.5 + n_villages)
        plan.append(
            [_plan_town(rng, GEMEENTEN[g], town, rural_parts[0], prosperity)]
            + [
                _plan_village(rng, next(village_names), size, part, prosperity)
                for size, part in zip(sizes, rural_parts[1:], strict=True)
            ]
        )
    return plan


def _draw_random_points(rng: np.random.Generator, polygon: shapely.Geometry, n: int) -> np.ndarray:
    """``n`` uniformly random points inside ``polygon`` as an (n, 2) array."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    found = np.empty((0, 2))
    while len(found) < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n + 16, 2))
        found = np.vstack([found, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return found[:n]


def _make_gemeente_polygons(rng: np.random.Generator, n: int) -> list[shapely.Geometry]:
    """``n`` compact, non-overlapping gemeenten tiling an irregular outline."""
    theta = np.linspace(0, 2 * np.pi, 241)[:-1]
    k = np.arange(2, 6)[:, None]
    wobble = 1 + (rng.uniform(0.0, 0.035, (4, 1)) * np.cos(k * theta + rng.uniform(0, 7, (4, 1))))
    radius = 17_500 * math.sqrt(n / 5) * wobble.prod(axis=0)
    outline = shapely.Polygon(
        np.c_[_RD_CENTRE[0] + radius * np.cos(theta), _RD_CENTRE[1] + radius * np.sin(theta)]
    )
    seeds = _draw_random_points(rng, outline, n)
    for _ in range(10):  # Lloyd relaxation: compact cells of similar size
        cells = shapely.intersection(
            shapely.get_parts(
                shapely.voronoi_polygons(
                    shapely.multipoints(seeds), extend_to=outline, ordered=True
                )
            ),
            outline,
        )
        seeds = shapely.get_coordinates(shapely.centroid(cells))
    cells = shapely.set_precision(cells, GRID)
    order = np.lexsort((seeds[:, 0], -np.round(seeds[:, 1], -3)))  # north-west first
    return [cells[i] for i in order]


def _place_settlements(
    rng: np.random.Generator, gemeente: shapely.Geometry, settlements: list[_Settlement]
) -> np.ndarray:
    """Centres of the settlements: the town in the middle, villages spread out."""
    radii = np.array([s.radius() for s in settlements])
    centre = shapely.get_coordinates(shapely.maximum_inscribed_circle(gemeente, 10.0))[0]
    centres = [centre]
    for r in radii[1:]:
        inner = gemeente.buffer(-(r + 900))
        candidates = _draw_random_points(rng, inner if not inner.is_empty else gemeente, 400)
        placed = np.array(centres)
        distance = np.linalg.norm(candidates[:, None, :] - placed[None, :, :], axis=2)
        gap = (distance - radii[: len(placed)]).min(axis=1)  # to the edge of each settlement
        centres.append(candidates[np.argmax(gap)])
    return np.array(centres)


def _cut_sectors(
    rng: np.random.Generator, centre: np.ndarray, rings: list[_Ring]
) -> list[tuple[_Sector, shapely.Geometry, int, float]]:
    """Polygons of the ring sectors: (sector, polygon, ring, middle angle).

    All rings share one wobbly outline shape, sampled at the same angles, so neighbouring
    sectors share their vertices exactly and the sectors tile the built-up area.
    """
    m = 720
    theta = 2 * np.pi * np.arange(m) / m
    k = np.arange(2, 5)[:, None]
    wobble = rng.uniform(0, 0.05, (3, 1)) * np.cos(k * theta + rng.uniform(0, 7, (3, 1)))
    shape = 1 + wobble.sum(axis=0)
    unit = np.c_[np.cos(theta), np.sin(theta)]
    inner = np.zeros(m)
    r2 = 0.0
    span_start, span_length = 0, m
    out = []
    for i, ring in enumerate(rings):
        if ring.inside:
            length = max(len(ring.sectors), round(span_length * ring.fraction))
            start = span_start + int(rng.integers(0, span_length - length + 1))
        else:
            length = round(m * ring.fraction)
            start = int(rng.integers(0, m))
        areas = np.array([s.area for s in ring.sectors])
        r2 += areas.sum() / (math.pi * length / m)
        outer = math.sqrt(r2) * shape
        cuts = start + np.round(np.r_[0, np.cumsum(areas)] / areas.sum() * length).astype(int)
        for j, sector in enumerate(ring.sectors):
            idx = np.arange(cuts[j], cuts[j + 1] + 1) % m
            if length == m and len(ring.sectors) == 1:
                shell = centre + outer[:, None] * unit
                polygon = shapely.Polygon(shell, [centre + inner[:, None] * unit] if i else None)
            else:
                arc = centre + outer[idx, None] * unit[idx]
                back = centre + (inner[idx, None] * unit[idx])[::-1] if i else centre[None, :]
                polygon = shapely.Polygon(np.vstack([arc, back]))
            mid = theta[idx[len(idx) // 2]]
            out.append((sector, polygon, i, float(mid)))
        residential = sum(s.btype != "bedrijventerrein" for s in ring.sectors)
        span_start, span_length = int(cuts[0]), int(cuts[residential] - cuts[0])
        inner = outer
    return out


def _name_direction(angle: float) -> str:
    """Compass name (8 directions) of a mathematical angle."""
    return DIRECTIONS[round(angle / (np.pi / 4)) % 8]


def lay_out_buurten(rng: np.random.Generator, scale: float) -> gpd.GeoDataFrame:
    """The buurten of the region with codes, names, type and context.

    Parameters
    ----------
    rng
        Random stream of this stage.
    scale
        Size of the region, in (0, 1].

    Returns
    -------
    geopandas.GeoDataFrame
        One row per buurt (RD polygons) with gemeente-, wijk- and buurtcode and -naam, the buurt
        type and its settlement context.
    """
    plan = _plan_settlements(rng, scale)
    records: list[dict[str, object]] = []
    for g, (gemeente, settlements) in enumerate(
        zip(_make_gemeente_polygons(rng, len(plan)), plan, strict=True)
    ):
        centres = _place_settlements(rng, gemeente, settlements)
        territories = shapely.intersection(
            shapely.get_parts(
                shapely.voronoi_polygons(
                    shapely.multipoints(centres), extend_to=gemeente, ordered=True
                )
            ),
            gemeente,
        )
        names: set[str] = set()
        wijken: list[tuple[str, list[dict[str, object]]]] = []
        for settlement, centre, territory in zip(settlements, centres, territories, strict=True):
            built = [
                {"btype": sector.btype, "target": sector.dwellings,
                 "geometry": shapely.intersection(polygon, territory),
                 "ring": ring, "mid": mid, "angle": mid + rng.uniform(-0.2, 0.2)}
                for sector, polygon, ring, mid in _cut_sectors(rng, centre, settlement.rings)
            ]  # fmt: skip
            # the countryside: for now the whole territory; _tile_shapes leaves it the rest
            built.append(
                {"btype": "buitengebied", "target": settlement.rural_dwellings,
                 "geometry": territory, "ring": len(settlement.rings), "mid": 0.0,
                 "angle": rng.uniform(0, np.pi)}
            )  # fmt: skip
            for b in built:
                b.update(
                    woonplaats=settlement.name,
                    shrinking=settlement.shrinking,
                    prosperity=settlement.prosperity,
                    setting="stad" if settlement.town else "dorp",
                )
            grouping = _group_town_wijken if settlement.town else _make_village_wijk
            wijken.extend(grouping(rng, settlement.name, built, names))
        gm = 9901 + g
        for w, (wijknaam, members) in enumerate(wijken):
            for b, record in enumerate(sorted(members, key=lambda r: (r["ring"], r["mid"]))):
                record.update(
                    buurtcode=f"BU{gm}{w:02d}{b:02d}",
                    wijkcode=f"WK{gm}{w:02d}",
                    wijknaam=wijknaam,
                    gemeentecode=f"GM{gm}",
                    gemeentenaam=GEMEENTEN[g],
                    gemeente=g,
                )
                if record["btype"] == "buitengebied":
                    record["setting"] = "buitengebied"
                records.append(record)
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:28992")
    frame["geometry"] = _tile_shapes(
        frame.geometry.to_numpy(), (frame["btype"] == "buitengebied").to_numpy()
    )
    first = ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam"]
    return frame[first + [c for c in frame.columns if c not in first]]


def _tile_shapes(shapes: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Turn overlapping shapes into a tiling with exactly shared edges.

    All boundaries are noded together on a 1 cm grid and polygonized; each face goes to the
    shape that contains it, a ``background`` shape (a settlement's whole territory) only when
    no other shape does. Separate overlays would leave slivers where borders meet.
    """
    lines = shapely.union_all(shapely.boundary(shapes), grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    face, shape = shapely.STRtree(shapes).query(shapely.point_on_surface(faces), "within")
    first = np.lexsort((background[shape], face))  # per face, foreground shapes first
    face, shape = face[first], shape[first]
    keep = np.r_[True, face[1:] != face[:-1]]
    owner = np.full(faces.size, -1)
    owner[face[keep]] = shape[keep]
    assert (owner >= 0).all(), "a face of the tiling belongs to no buurt"
    return np.array(
        [shapely.union_all(faces[owner == i], grid_size=GRID) for i in range(shapes.size)]
    )


def _make_unique(name: str, names: set[str], mid: float) -> str:
    """``name``, or a variant of it not yet in ``names`` (which is updated)."""
    candidate = name
    if candidate in names:
        candidate = f"{name}-{_name_direction(mid)}"
    number = 2
    while candidate in names:
        candidate, number = f"{name} {number}", number + 1
    names.add(candidate)
    return candidate


def _group_town_wijken(
    rng: np.random.Generator, town: str, built: list[dict[str, object]], names: set[str]
) -> list[tuple[str, list[dict[str, object]]]]:
    """Group a town's buurten into wijken and name them."""
    themes = {btype: itertools.cycle(rng.permutation(keys)) for btype, keys in TYPE_THEMES.items()}
    pools = {
        "jaren80": itertools.cycle(rng.permutation(OLD_NAMES)),
        "nieuwbouw": itertools.cycle(rng.permutation(NEW_NAMES)),
        "bedrijventerrein": itertools.cycle(rng.permutation(BEDRIJVENTERREINEN)),
    }
    centrum, postwar, outer, buiten = [], [], [], []
    for b in built:
        btype = str(b["btype"])
        if btype == "buitengebied":
            b["theme"], name = "landelijk", f"Verspreide huizen {town}"
        else:
            b["theme"] = str(next(themes[btype]))
            name = str(next(pools[btype])) if btype in pools else THEMES[b["theme"]][0]
        b["buurtnaam"] = _make_unique(name, names, float(b["mid"]))
        if btype in ("centrum", "oude_schil"):
            centrum.append(b)
        elif btype in ("bedrijventerrein", "buitengebied"):
            buiten.append(b)
        elif btype in ("wederopbouw", "naoorlogs_laat"):
            postwar.append(b)
        else:
            outer.append(b)
    wijken = [("Centrum", centrum)]
    # the post-war ring: 1-4 wijken of about three buurten, each a range of directions
    start = rng.uniform(0, 2 * np.pi)
    postwar.sort(key=lambda b: (float(b["mid"]) - start) % (2 * np.pi))
    parts = np.array_split(np.arange(len(postwar)), int(np.clip(round(len(postwar) / 3), 1, 4)))
    for part in parts:
        members = [postwar[i] for i in part]
        mean = np.angle(np.mean([np.exp(1j * float(b["mid"])) for b in members]))
        name = f"{town}-{_name_direction(float(mean))}" if len(parts) > 1 else f"{town}-Midden"
        wijken.append((name, members))
    # the 1980s-90s sectors in angular order, each with the new-build sectors beyond it,
    # packed into wijken of at most five buurten
    ring3 = sorted((b for b in outer if b["btype"] == "jaren80"), key=lambda b: float(b["mid"]))
    beyond: list[list[dict[str, object]]] = [[b] for b in ring3]
    for b in outer:
        if b["btype"] == "nieuwbouw":
            nearest = min(range(len(ring3)), key=lambda i: _measure_angle_gap(ring3[i], b))
            beyond[nearest].append(b)
    wijk_names = iter(rng.permutation(OUTER_WIJKEN).tolist())
    packed: list[list[dict[str, object]]] = []
    for group in beyond:
        if packed and len(packed[-1]) + len(group) <= 5:
            packed[-1].extend(group)
        else:
            packed.append(list(group))
    wijken.extend((next(wijk_names), members) for members in packed)
    wijken.append((f"Buitengebied {town}", buiten))
    return wijken


def _measure_angle_gap(a: dict[str, object], b: dict[str, object]) -> float:
    gap = abs(float(a["mid"]) - float(b["mid"])) % (2 * np.pi)
    return min(gap, 2 * np.pi - gap)


def _make_village_wijk(
    rng: np.random.Generator, village: str, built: list[dict[str, object]], names: set[str]
) -> list[tuple[str, list[dict[str, object]]]]:
    """A village is one wijk: its core, extensions and countryside."""
    for b in built:
        btype, mid = str(b["btype"]), float(b["mid"])
        if btype in ("dorp", "dorpskern"):
            b["theme"], name = "dorp", village
        elif btype == "dorp_naoorlogs":
            b["theme"] = str(rng.choice(TYPE_THEMES["wederopbouw"]))
            name = f"{village}-{_name_direction(mid)}"
        elif btype == "dorp_nieuw":
            b["theme"], name = "natuur", str(rng.choice(NEW_NAMES))
        else:
            b["theme"], name = "landelijk", f"Verspreide huizen {village}"
        b["buurtnaam"] = _make_unique(name, names, mid)
    return [(village, built)]
