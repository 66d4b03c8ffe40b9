"""Buildings of the demo region: structures on their plots (panden and units) placed in the
world.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

logger = logging.getLogger(__name__)

_MARGIN = 2.5  # free strip inside each plot (m)
# ============================================================================================
# Structures: footprints (boxes in plot coordinates) and units
# ============================================================================================


def _rank(sizes: np.ndarray) -> np.ndarray:
    """Position of each element within its group, for consecutive groups of ``sizes``."""
    return np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _cumsum_by_group(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum of ``values`` within consecutive groups of ``sizes``."""
    total = np.r_[0.0, np.cumsum(values)]
    return total[1:] - np.repeat(total[np.cumsum(sizes) - sizes], sizes)


@dataclass
class _Boxes:
    """Rows of adjoining boxes: neighbours in a row share their wall coordinates exactly."""

    plot: np.ndarray  # position in the selection of plots
    pos: np.ndarray  # position in the row
    count: np.ndarray  # boxes in the row
    last: np.ndarray  # last box of the last row of its plot
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.x0, self.y0, self.x1, self.y1


def _make_row_boxes(
    plot_width: np.ndarray,
    rows: np.ndarray,
    count: np.ndarray,
    widths: np.ndarray,
    *,
    depth: np.ndarray,
    setback: np.ndarray,
) -> _Boxes:
    """Place ``rows`` rows per plot side by side, with equal gaps, each of ``count`` boxes.

    ``widths`` has one value per box; ``depth`` and ``setback`` (distance from the street edge
    of the plot) one per row. A box ends exactly where the next one in its row begins.
    """
    row_plot = np.repeat(np.arange(plot_width.size), rows)
    box_row = np.repeat(np.arange(row_plot.size), count)
    pos = _rank(count)
    cum = _cumsum_by_group(widths, count)
    begin = np.where(pos == 0, 0.0, np.roll(cum, 1))  # the same floats as the previous ends
    length = cum[np.cumsum(count) - 1]
    free = plot_width - 2 * _MARGIN - np.bincount(row_plot, weights=length, minlength=rows.size)
    assert (free >= 0).all(), "a row of boxes is wider than its plot"
    row_rank = _rank(rows)
    start = (
        _MARGIN
        + free[row_plot] / (rows[row_plot] + 1) * (row_rank + 1)
        + _cumsum_by_group(length, rows)
        - length
    )
    y0 = _MARGIN + setback
    return _Boxes(
        plot=row_plot[box_row],
        pos=pos,
        count=count[box_row],
        last=((pos == count[box_row] - 1) & (row_rank == rows[row_plot] - 1)[box_row]),
        x0=start[box_row] + begin,
        x1=start[box_row] + cum,
        y0=y0[box_row],
        y1=(y0 + depth)[box_row],
    )


# kind, probability, width, depth and storeys ranges of public buildings
_VOORZIENINGEN = (
    ("onderwijsfunctie", 0.25, (30, 44), (14, 24), (1, 2)),
    ("sportfunctie", 0.12, (32, 44), (20, 28), (1, 1)),
    ("gezondheidszorgfunctie", 0.15, (18, 36), (12, 20), (2, 3)),
    ("bijeenkomstfunctie", 0.18, (14, 30), (10, 20), (1, 1)),
    ("winkelfunctie", 0.15, (30, 45), (20, 28), (1, 1)),
    ("kantoorfunctie", 0.10, (16, 30), (10, 16), (2, 4)),
    ("logiesfunctie", 0.05, (16, 30), (10, 16), (2, 3)),
)


class StructureBuilder:
    """Generate the panden and units of every plot, kind by kind, fully vectorised."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._panden: list[pd.DataFrame] = []
        self._units: list[pd.DataFrame] = []
        self._count = 0

    def build(self, plots: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return ``panden`` (boxes in plot coordinates) and ``units`` (points, use, area)."""
        self.width = plots["width"].to_numpy()
        self.depth = plots["depth"].to_numpy()
        self.year = plots["year"].to_numpy()
        self.first = plots["first"].to_numpy()
        self.last = plots["last"].to_numpy()
        self.rural = plots["rural"].to_numpy()
        kinds = plots["kind"].to_numpy()
        for kind in (
            "rij", "oud_rij", "twee_onder", "vrijstaand", "portiek", "hoogbouw", "appartement",
            "winkel_wonen", "voorziening", "garages", "bedrijf", "bedrijf_woning", "boerderij",
        ):  # fmt: skip
            selection = np.flatnonzero(kinds == kind)
            if selection.size:
                getattr(self, f"_{kind}")(selection)
        return pd.concat(self._panden, ignore_index=True), pd.concat(self._units, ignore_index=True)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _add_panden(
        self,
        plot: np.ndarray,
        bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        year: np.ndarray,
        kind: str,
        *,
        pos: np.ndarray | int = 0,
        count: np.ndarray | int = 1,
        against: np.ndarray | int = -1,
    ) -> np.ndarray:
        """Add boxes ``bounds`` = (x0, y0, x1, y1) on ``plot``; return their pand numbers.

        ``against`` is the pand a box is built against, sharing part of a wall (a garage
        against its house); neighbours in a row share whole walls and need no such link.
        """
        ids = np.arange(self._count, self._count + plot.size)
        self._count += plot.size
        x0, y0, x1, y1 = bounds
        self._panden.append(pd.DataFrame(
            {"pand": ids, "plot": plot, "x0": x0, "y0": y0, "x1": x1, "y1": y1,
             "year": np.minimum(year, 2024), "kind": kind, "row_pos": pos, "row_len": count,
             "against": against}
        ))  # fmt: skip
        return ids

    def _add_units(
        self,
        pand: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        *,
        doel: np.ndarray | str,
        area: np.ndarray,
        wtype: np.ndarray | str = "",
        scheme: str = "own",
        floor: np.ndarray | int = 0,
        portiek: np.ndarray | int = 0,
    ) -> None:
        """Add units at ``(x, y)``; ``wtype`` is the dwelling type ("" for other uses).

        With ``scheme`` "letter" or "toev" the units of one portiek of a pand share a
        huisnummer and differ by huisletter or toevoeging.
        """
        self._units.append(pd.DataFrame(
            {"pand": pand, "x": x, "y": y, "doel": doel, "area": np.maximum(np.round(area), 12),
             "wtype": wtype, "scheme": scheme, "floor": floor, "portiek": portiek}
        ))  # fmt: skip

    def _jitter_years(self, plot: np.ndarray, spread: int) -> np.ndarray:
        years = self.year[plot] + self.rng.integers(-spread, spread + 1, plot.size)
        return np.clip(years, self.first[plot], self.last[plot])

    def _houses(
        self,
        selection: np.ndarray,
        boxes: _Boxes,
        storeys: np.ndarray,
        *,
        wtype: str | None = None,
        garages: float = 0.0,
        garage_every_house: bool = False,
        sheds: float = 0.0,
        year_spread: int = 0,
    ) -> np.ndarray:
        """Single-family houses, one unit each, with optional garages and garden sheds.

        Without ``wtype`` the houses are terraced: corner houses at the ends of a row. Returns
        the pand numbers of the houses.
        """
        rng = self.rng
        plot = selection[boxes.plot]
        year = self._jitter_years(plot, year_spread) if year_spread else self.year[plot]
        ids = self._add_panden(plot, boxes.bounds, year, "woning", pos=boxes.pos, count=boxes.count)
        end = (boxes.pos == 0) | (boxes.pos == boxes.count - 1)
        floor_area = (boxes.x1 - boxes.x0) * (boxes.y1 - boxes.y0) * storeys * 0.82
        self._add_units(
            ids, (boxes.x0 + boxes.x1) / 2, (boxes.y0 + boxes.y1) / 2, doel="woonfunctie",
            area=floor_area * rng.uniform(0.95, 1.05, ids.size),
            wtype=wtype if wtype is not None else np.where(end, "hoek", "tussen"),
        )  # fmt: skip
        # a garage against the side wall, flush with the front
        g = rng.random(ids.size) < garages
        if not garage_every_house:
            g &= boxes.last
        garage = (boxes.x1[g], boxes.y0[g] + 1.0, boxes.x1[g] + 3.2, boxes.y0[g] + 7.0)
        later = np.minimum(year[g] + rng.integers(0, 30, g.sum()), 2022)
        self._add_panden(plot[g], garage, later, "bijgebouw", against=ids[g])
        # a shed at the back of the garden, free from everything
        s = rng.random(ids.size) < sheds
        mid = (boxes.x0[s] + boxes.x1[s]) / 2
        shed = (mid - 1.25, boxes.y1[s] + 4.0, mid + 1.25, boxes.y1[s] + 7.0)
        later = np.minimum(year[s] + rng.integers(0, 40, s.sum()), 2022)
        self._add_panden(plot[s], shed, later, "bijgebouw")
        return ids

    # -- single-family houses ----------------------------------------------------------------

    def _rij(self, sel: np.ndarray) -> None:
        """Post-war and later terraces of 3-8 identical houses."""
        rng, n = self.rng, sel.size
        count = rng.integers(3, 9, n)
        widths = np.repeat(rng.uniform(5.0, 5.8, n), count)
        boxes = _make_row_boxes(
            self.width[sel], np.ones(n, int), count, widths,
            depth=rng.uniform(8.0, 10.0, n), setback=rng.uniform(2.0, 5.0, n),
        )  # fmt: skip
        self._houses(sel, boxes, rng.uniform(1.9, 2.4, n)[boxes.plot], sheds=0.12)

    def _oud_rij(self, sel: np.ndarray) -> None:
        """Pre-war rows of houses of uneven width, built over a few years."""
        rng, n = self.rng, sel.size
        count = rng.integers(4, 8, n)
        boxes = _make_row_boxes(
            self.width[sel], np.ones(n, int), count, rng.uniform(4.6, 6.5, count.sum()),
            depth=rng.uniform(8.5, 11.0, n), setback=rng.uniform(0.5, 3.0, n),
        )  # fmt: skip
        self._houses(sel, boxes, rng.uniform(1.6, 2.2, n)[boxes.plot], sheds=0.1, year_spread=6)

    def _twee_onder(self, sel: np.ndarray) -> None:
        """Two semi-detached pairs per plot."""
        rng, n = self.rng, sel.size
        widths = np.repeat(rng.uniform(7.0, 9.0, 2 * n), 2)
        boxes = _make_row_boxes(
            self.width[sel], np.full(n, 2), np.full(2 * n, 2), widths,
            depth=rng.uniform(9.0, 11.0, 2 * n), setback=rng.uniform(3.0, 6.0, 2 * n),
        )  # fmt: skip
        storeys = rng.uniform(1.7, 2.2, n)[boxes.plot]
        self._houses(sel, boxes, storeys, wtype="twee_onder", garages=0.4, sheds=0.1)

    def _vrijstaand(self, sel: np.ndarray) -> None:
        """Detached houses, two per town plot or one in the countryside, often with a garage."""
        rng = self.rng
        rows = np.where(self.rural[sel], 1, 2)
        n = rows.sum()
        setback = np.where(np.repeat(self.rural[sel], rows), rng.uniform(15, 30, n), 0)
        boxes = _make_row_boxes(
            self.width[sel], rows, np.ones(n, int), rng.uniform(9.0, 13.0, n),
            depth=rng.uniform(9.0, 12.0, n), setback=setback + rng.uniform(4.0, 8.0, n),
        )  # fmt: skip
        self._houses(
            sel, boxes, rng.uniform(1.3, 1.9, n), wtype="vrijstaand", garages=0.5,
            garage_every_house=True,
        )  # fmt: skip

    # -- multi-family buildings ----------------------------------------------------------------

    def _flats(
        self,
        sel: np.ndarray,
        *,
        per_floor: np.ndarray,
        storeys: np.ndarray,
        area: np.ndarray,
        depth: np.ndarray,
        wtype: str,
        scheme: str,
        portiek_size: np.ndarray,
    ) -> None:
        """One block of flats per plot; the footprint follows from the floor area per storey,
        so that the floor area of the units over the footprint is about the storey count."""
        rng = self.rng
        room = self.width[sel] - 2 * _MARGIN - 1.0
        per_floor = np.maximum(1, np.minimum(per_floor, (room * depth / (area * 1.1)).astype(int)))
        per_floor -= per_floor % np.minimum(portiek_size, per_floor)  # whole portieken
        width = per_floor * area * 1.1 / depth
        x0 = _MARGIN + rng.random(sel.size) * (room - width)
        y0 = _MARGIN + rng.uniform(2.0, 5.0, sel.size)
        ids = self._add_panden(sel, (x0, y0, x0 + width, y0 + depth), self.year[sel], "meergezins")
        n_units = per_floor * storeys
        unit = _rank(n_units)
        columns = np.repeat(per_floor, n_units)
        slot = unit % columns
        self._add_units(
            np.repeat(ids, n_units),
            np.repeat(x0, n_units) + (slot + 0.5) / columns * np.repeat(width, n_units),
            np.repeat(y0 + depth / 2, n_units),
            doel="woonfunctie",
            area=np.repeat(area, n_units) * rng.uniform(0.92, 1.08, unit.size),
            wtype=wtype,
            scheme=scheme,
            floor=unit // columns,
            portiek=slot // np.repeat(np.minimum(portiek_size, per_floor), n_units),
        )

    def _portiek(self, sel: np.ndarray) -> None:
        """Walk-up flats ("portiekflats"): 1-3 stairwells, 2 flats per landing, 3-4 storeys."""
        rng, n = self.rng, sel.size
        self._flats(
            sel,
            per_floor=2 * rng.choice([1, 2, 3], n, p=[0.2, 0.45, 0.35]),
            storeys=rng.choice([3, 4], n, p=[0.45, 0.55]),
            area=rng.uniform(52, 78, n),
            depth=rng.uniform(9.5, 11.0, n),
            wtype="portiek",
            scheme="letter",
            portiek_size=np.full(n, 2),
        )

    def _hoogbouw(self, sel: np.ndarray) -> None:
        """Gallery flats of 6-11 storeys."""
        rng, n = self.rng, sel.size
        self._flats(
            sel,
            per_floor=rng.integers(4, 7, n),
            storeys=rng.integers(6, 12, n),
            area=rng.uniform(55, 85, n),
            depth=rng.uniform(12.0, 14.0, n),
            wtype="galerij",
            scheme="own",
            portiek_size=np.ones(n, int),
        )

    def _appartement(self, sel: np.ndarray) -> None:
        """Later apartment buildings of 3-5 storeys, numbered with a toevoeging."""
        rng, n = self.rng, sel.size
        per_floor = rng.integers(3, 7, n)
        self._flats(
            sel,
            per_floor=per_floor,
            storeys=rng.choice([3, 4, 5], n, p=[0.5, 0.4, 0.1]),
            area=rng.uniform(70, 115, n),
            depth=rng.uniform(14.0, 17.0, n),
            wtype="appartement",
            scheme="toev",
            portiek_size=per_floor,
        )

    def _winkel_wonen(self, sel: np.ndarray) -> None:
        """Rows of shops (or offices, cafés) with flats above; some shop-houses in one unit."""
        rng, n = self.rng, sel.size
        count = rng.integers(3, 7, n)
        boxes = _make_row_boxes(
            self.width[sel], np.ones(n, int), count, rng.uniform(5.5, 7.5, count.sum()),
            depth=rng.uniform(13.0, 17.0, n), setback=rng.uniform(0.0, 1.5, n),
        )  # fmt: skip
        plot = sel[boxes.plot]
        ids = self._add_panden(
            plot, boxes.bounds, self._jitter_years(plot, 8), "winkel_wonen",
            pos=boxes.pos, count=boxes.count,
        )  # fmt: skip
        footprint = (boxes.x1 - boxes.x0) * (boxes.y1 - boxes.y0)
        ground = rng.choice(
            ["winkelfunctie", "kantoorfunctie", "bijeenkomstfunctie", "woonfunctie,winkelfunctie"],
            ids.size,
            p=[0.68, 0.12, 0.1, 0.1],
        )
        combined = ground == "woonfunctie,winkelfunctie"  # a shop with the house behind it
        end = (boxes.pos == 0) | (boxes.pos == boxes.count - 1)
        x, y = (boxes.x0 + boxes.x1) / 2, (boxes.y0 + boxes.y1) / 2
        self._add_units(
            ids, x, y, doel=ground,
            area=footprint * np.where(combined, 1.6, rng.uniform(0.75, 0.9, ids.size)),
            wtype=np.where(combined, np.where(end, "hoek", "tussen"), ""), scheme="letter",
        )  # fmt: skip
        flats = np.where(combined, 0, rng.choice([0, 1, 2], ids.size, p=[0.2, 0.5, 0.3]))
        above = np.repeat(np.arange(ids.size), flats)
        self._add_units(
            ids[above], x[above], y[above], doel="woonfunctie",
            area=np.minimum(rng.uniform(55, 90, above.size), 0.9 * footprint[above]),
            wtype="bovenwoning", scheme="letter", floor=1 + _rank(flats),
        )  # fmt: skip

    # -- other buildings -----------------------------------------------------------------------

    def _voorziening(self, sel: np.ndarray) -> None:
        """A school, sports hall, health centre, church, supermarket, office or hotel."""
        rng, n = self.rng, sel.size
        which = rng.choice(len(_VOORZIENINGEN), n, p=[v[1] for v in _VOORZIENINGEN])
        widths, depths, storeys = (
            np.array([v[i] for v in _VOORZIENINGEN])[which] for i in (2, 3, 4)
        )
        width = rng.uniform(widths[:, 0], widths[:, 1])
        depth = rng.uniform(depths[:, 0], depths[:, 1])
        floors = rng.integers(storeys[:, 0], storeys[:, 1] + 1)
        x0 = _MARGIN + rng.random(n) * (self.width[sel] - 2 * _MARGIN - width)
        y0 = _MARGIN + rng.random(n) * (self.depth[sel] - 2 * _MARGIN - depth)
        ids = self._add_panden(sel, (x0, y0, x0 + width, y0 + depth), self.year[sel], "utiliteit")
        self._add_units(
            ids, x0 + width / 2, y0 + depth / 2,
            doel=np.array([v[0] for v in _VOORZIENINGEN])[which],
            area=width * depth * floors * 0.85,
        )  # fmt: skip

    def _garages(self, sel: np.ndarray) -> None:
        """A row of 5-12 garage boxes without units."""
        rng, n = self.rng, sel.size
        count = rng.integers(5, 13, n)
        boxes = _make_row_boxes(
            self.width[sel], np.ones(n, int), count, np.full(count.sum(), 3.0),
            depth=np.full(n, 5.5), setback=rng.uniform(3.0, 15.0, n),
        )  # fmt: skip
        self._add_panden(
            sel[boxes.plot], boxes.bounds, self.year[sel][boxes.plot], "bijgebouw",
            pos=boxes.pos, count=boxes.count,
        )  # fmt: skip

    def _bedrijf(self, sel: np.ndarray, *, with_house: bool = False) -> None:
        """A business hall of 1-4 units, sometimes with an office annex against its front."""
        rng, n = self.rng, sel.size
        left = 25.0 if with_house else _MARGIN + 3.0
        room_x = self.width[sel] - _MARGIN - 3.0 - left
        room_y = self.depth[sel] - 2 * _MARGIN - 14.0
        width = rng.uniform(20.0, np.minimum(70.0, room_x))
        depth = rng.uniform(15.0, np.minimum(45.0, room_y))
        x0 = left + rng.random(n) * (room_x - width)
        y0 = _MARGIN + 12.0 + rng.random(n) * (room_y - depth)
        ids = self._add_panden(sel, (x0, y0, x0 + width, y0 + depth), self.year[sel], "utiliteit")
        n_units = rng.choice([1, 2, 3, 4], n, p=[0.7, 0.15, 0.1, 0.05])
        slot = _rank(n_units)
        parts = np.repeat(n_units, n_units)
        self._add_units(
            np.repeat(ids, n_units),
            np.repeat(x0, n_units) + (slot + 0.5) / parts * np.repeat(width, n_units),
            np.repeat(y0 + depth / 2, n_units),
            doel=rng.choice(
                ["industriefunctie", "kantoorfunctie", "winkelfunctie", "overige gebruiksfunctie"],
                slot.size,
                p=[0.75, 0.1, 0.08, 0.07],
            ),
            area=np.repeat(width * depth * 0.95, n_units) / parts,
        )
        office = rng.random(n) < 0.35
        x1 = x0[office] + width[office] * rng.uniform(0.3, 0.5, office.sum())
        annex = (x0[office], y0[office] - 10.0, x1, y0[office])
        office_ids = self._add_panden(
            sel[office], annex, self.year[sel][office], "utiliteit", against=ids[office]
        )
        self._add_units(
            office_ids, (x0[office] + x1) / 2, y0[office] - 5.0, doel="kantoorfunctie",
            area=(x1 - x0[office]) * 10.0 * 1.8,
        )  # fmt: skip
        if with_house:
            boxes = _make_row_boxes(
                np.full(n, 2 * (_MARGIN + 9.0)), np.ones(n, int), np.ones(n, int),
                rng.uniform(9.0, 11.0, n), depth=rng.uniform(9.0, 11.0, n), setback=np.full(n, 5.0),
            )  # fmt: skip
            self._houses(sel, boxes, rng.uniform(1.4, 1.8, n), wtype="vrijstaand")

    def _bedrijf_woning(self, sel: np.ndarray) -> None:
        """A business hall with the owner's detached house ("bedrijfswoning")."""
        self._bedrijf(sel, with_house=True)

    def _boerderij(self, sel: np.ndarray) -> None:
        """A farmhouse with a barn against its back wall, sometimes a separate stable."""
        rng, n = self.rng, sel.size
        x0 = 20.0 + rng.uniform(0, 10, n)
        y0 = 10.0 + rng.uniform(0, 5, n)
        x1 = x0 + rng.uniform(11.0, 16.0, n)
        y1 = y0 + rng.uniform(10.0, 14.0, n)
        house = _Boxes(
            plot=np.arange(n), pos=np.zeros(n, int), count=np.ones(n, int),
            last=np.zeros(n, bool), x0=x0, y0=y0, x1=x1, y1=y1,
        )  # fmt: skip
        houses = self._houses(sel, house, rng.uniform(1.1, 1.5, n), wtype="vrijstaand")
        year = self.year[sel]
        barn_x0 = x0 - rng.uniform(0, 3, n)
        barn_x1 = barn_x0 + rng.uniform(16.0, 26.0, n)
        barn = (barn_x0, y1, barn_x1, y1 + rng.uniform(25.0, 45.0, n))
        barn_year = np.minimum(year + rng.integers(0, 60, n), 2015)
        self._add_panden(sel, barn, barn_year, "bijgebouw", against=houses)
        stable = rng.random(n) < 0.25
        k = stable.sum()
        s_x0 = barn_x1[stable] + 8.0
        s_x1 = s_x0 + rng.uniform(12.0, 20.0, k)
        s_y1 = y1[stable] + rng.uniform(30.0, 50.0, k)
        s_year = np.maximum(year[stable], rng.integers(1960, 2016, k))
        s_ids = self._add_panden(sel[stable], (s_x0, y1[stable], s_x1, s_y1), s_year, "utiliteit")
        used = rng.random(k) < 0.5  # an agricultural business unit, or just an empty shell
        self._add_units(
            s_ids[used], (s_x0 + s_x1)[used] / 2, (y1[stable] + s_y1)[used] / 2,
            doel="industriefunctie", area=((s_x1 - s_x0) * (s_y1 - y1[stable]))[used] * 0.95,
        )  # fmt: skip


# ============================================================================================
# From plot coordinates to the world; identifiers, statuses and addresses
# ============================================================================================


def place_in_world(
    panden: pd.DataFrame, units: pd.DataFrame, plots: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add world geometries (RD, mm precision) to panden and units.

    Every other row of town plots is mirrored, so that rows face each other across a street
    and lie back to back across their gardens. Shared walls stay shared: the same plot
    coordinates always give the same world coordinates.

    Parameters
    ----------
    panden, units
        The output of :meth:`StructureBuilder.build` (boxes in plot coordinates).
    plots
        The plots of :func:`woonvoorraad.demo.plots.plan_plots`.

    Returns
    -------
    tuple of pandas.DataFrame
        The panden and units with world geometries.
    """

    def to_world(plot: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p = {c: plots[c].to_numpy()[plot] for c in ("ox", "oy", "angle", "px", "py")}
        if x.ndim == 2:
            p = {c: v[:, None] for c, v in p.items()}
        lx, ly = p["px"] + x, p["py"] + y
        c, s = np.cos(p["angle"]), np.sin(p["angle"])
        return np.round(np.stack([p["ox"] + lx * c - ly * s, p["oy"] + lx * s + ly * c], -1), 3)

    flip = (~plots["rural"].to_numpy()) & (plots["row"].to_numpy() % 2 == 1)
    depth = plots["depth"].to_numpy()
    plot = panden["plot"].to_numpy()
    y0, y1 = panden["y0"].to_numpy(), panden["y1"].to_numpy()
    y0, y1 = np.where(flip[plot], depth[plot] - y1, y0), np.where(flip[plot], depth[plot] - y0, y1)
    x0, x1 = panden["x0"].to_numpy(), panden["x1"].to_numpy()
    ring_x = np.stack([x0, x1, x1, x0, x0], 1)
    ring_y = np.stack([y0, y0, y1, y1, y0], 1)
    footprints = shapely.polygons(to_world(plot, ring_x, ring_y))
    # a garage, barn or annex against part of a wall: give both the other's corners on that
    # wall, so that they share the wall exactly
    annex = np.flatnonzero(panden["against"].to_numpy() >= 0)
    host = panden["against"].to_numpy()[annex]
    footprints[host] = shapely.snap(footprints[host], footprints[annex], 0.01)
    footprints[annex] = shapely.snap(footprints[annex], footprints[host], 0.01)
    panden = panden.assign(geometry=footprints)
    unit_plot = plot[units["pand"].to_numpy()]
    y = units["y"].to_numpy()
    y = np.where(flip[unit_plot], depth[unit_plot] - y, y)
    units = units.assign(
        plot=unit_plot, geometry=shapely.points(to_world(unit_plot, units["x"].to_numpy(), y))
    )
    return panden, units
