"""Identifiers and addresses of the demo region: BAG ids, statuses, streets, postcodes."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from woonvoorraad.demo.names import PC4_BASE, POSTCODE_LETTERS, THEMES

logger = logging.getLogger(__name__)


def _number_ids(gemeente: np.ndarray, code: str, rng: np.random.Generator) -> np.ndarray:
    """16-digit BAG identifiers: gemeente code, object type code, 10-digit number."""
    ids = np.empty(gemeente.size, dtype=object)
    for gm in np.unique(gemeente):
        mask = gemeente == gm
        start = int(rng.integers(100_000, 2_000_000))
        ids[mask] = [f"{gm}{code}{n:010d}" for n in range(start, start + int(mask.sum()))]
    return ids


def assign_ids(
    rng: np.random.Generator,
    panden: pd.DataFrame,
    units: pd.DataFrame,
    plots: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Identifiers, BAG statuses, and a few dwellings that span two panden.

    Parameters
    ----------
    rng
        Random stream of this stage.
    panden, units
        Panden and units placed in the world (:func:`woonvoorraad.demo.buildings.place_in_world`).
    plots
        The plots they stand on.
    buurten
        The buurten (for the gemeentecode of each id).

    Returns
    -------
    tuple of pandas.DataFrame
        The panden and units with BAG ids and statuses.
    """
    order = np.lexsort((panden["pand"].to_numpy(), panden["plot"].to_numpy()))
    panden = panden.iloc[order].reset_index(drop=True)
    renumber = np.empty(order.size, int)
    renumber[panden["pand"].to_numpy()] = np.arange(order.size)
    panden["pand"] = np.arange(order.size)
    units = units.assign(pand=renumber[units["pand"].to_numpy()])
    units = units.sort_values(["pand", "floor"], kind="stable").reset_index(drop=True)

    buurt = plots["buurt"].to_numpy()[panden["plot"].to_numpy()]
    gm = buurten["gemeentecode"].str[2:].to_numpy()[buurt]
    panden["buurt"] = buurt
    panden["pand_id"] = _number_ids(gm, "10", rng)
    units["buurt"] = plots["buurt"].to_numpy()[units["plot"].to_numpy()]
    units["vbo_id"] = _number_ids(gm[units["pand"].to_numpy()], "01", rng)

    # pand statuses: building permits and construction sites, demolition of some early
    # post-war walk-up flats (whole plots) and old detached houses, a few odd ones
    n = len(panden)
    year = panden["year"].to_numpy()
    kind = plots["kind"].to_numpy()[panden["plot"].to_numpy()]
    plot_draw = rng.random(len(plots))[panden["plot"].to_numpy()]
    draw = rng.random(n)
    status = np.full(n, "Pand in gebruik", dtype=object)
    flats_1950s = (kind == "portiek") & (year < 1965)
    status[flats_1950s & (plot_draw < 0.04)] = "Pand gesloopt"
    status[flats_1950s & (plot_draw > 0.96)] = "Sloopvergunning verleend"
    status[(kind == "vrijstaand") & (year < 1960) & (draw < 0.006)] = "Pand gesloopt"
    status[(status == "Pand in gebruik") & (draw > 0.994)] = "Pand in gebruik (niet ingemeten)"
    status[(status == "Pand in gebruik") & (draw > 0.992) & (draw <= 0.994)] = "Verbouwing pand"
    status[year == 2023] = np.where(
        plot_draw[year == 2023] < 0.5, "Bouw gestart", status[year == 2023]
    )
    status[year >= 2024] = "Bouwvergunning verleend"
    panden["status"] = status
    panden["sloopjaar"] = np.where(status == "Pand gesloopt", rng.integers(2021, 2023, n), 0)

    pstatus = status[units["pand"].to_numpy()]
    draw = rng.random(len(units))
    vstatus = np.select(
        [
            np.isin(pstatus, ["Bouwvergunning verleend", "Bouw gestart"]),
            pstatus == "Pand gesloopt",
            pstatus == "Sloopvergunning verleend",
            pstatus == "Pand in gebruik (niet ingemeten)",
            pstatus == "Verbouwing pand",
            draw < 0.009,
            draw < 0.013,
        ],
        [
            "Verblijfsobject gevormd",
            "Verblijfsobject ingetrokken",
            np.where(draw < 0.8, "Verblijfsobject buiten gebruik", "Verblijfsobject in gebruik"),
            "Verblijfsobject in gebruik (niet ingemeten)",
            "Verbouwing verblijfsobject",
            "Verblijfsobject buiten gebruik",
            "Verbouwing verblijfsobject",
        ],
        "Verblijfsobject in gebruik",
    )
    units["status"] = vstatus

    # two terraced houses merged into one dwelling: the unit spans both panden, the unit of the
    # second house is withdrawn
    pand = units["pand"].to_numpy()
    pos, length = panden["row_pos"].to_numpy()[pand], panden["row_len"].to_numpy()[pand]
    single = np.bincount(pand, minlength=n)[pand] == 1
    candidates = np.flatnonzero(
        (panden["kind"].to_numpy()[pand] == "woning")
        & (length >= 3)
        & (pos % 2 == 0)
        & (pos < length - 1)
        & (vstatus == "Verblijfsobject in gebruik")
        & single
    )
    merged = np.sort(
        rng.choice(candidates, min(candidates.size, round(0.003 * len(units))), replace=False)
    )
    partner = np.searchsorted(pand, pand[merged] + 1)  # the unit of the next house in the row
    keep = (partner < len(units)) & (pand[np.minimum(partner, len(units) - 1)] == pand[merged] + 1)
    merged, partner = merged[keep], partner[keep]
    units["pand2"] = -1
    units.loc[merged, "pand2"] = pand[merged] + 1
    units.loc[merged, "area"] += units["area"].to_numpy()[partner]
    units.loc[partner, "status"] = "Verblijfsobject ingetrokken"
    return panden, units


def _make_street_name(theme: str, k: int) -> str:
    """The ``k``-th street name of a theme."""
    _, stems, suffixes = THEMES[theme]
    if suffixes:
        name = stems[k % len(stems)] + suffixes[k // len(stems) % len(suffixes)]
        cycle = len(stems) * len(suffixes)
    else:
        name = stems[k % len(stems)]
        cycle = len(stems)
    variants = ("", "-Noord", "-Zuid", "-Oost", "-West")
    lap = k // cycle
    return (
        name
        + variants[lap % len(variants)]
        + (f" {lap // len(variants) + 1}" if lap >= len(variants) else "")
    )


def assign_addresses(
    rng: np.random.Generator, units: pd.DataFrame, plots: pd.DataFrame, buurten: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Street names, house numbers (odd and even sides), letters, toevoegingen, postcodes.

    Parameters
    ----------
    rng
        Random stream of this stage.
    units
        Units with ids (:func:`assign_ids`).
    plots, buurten
        Their plots and buurten (street themes and postcode blocks).

    Returns
    -------
    pandas.DataFrame
        ``units`` with the address columns added.
    """
    plot = units["plot"].to_numpy()
    rural = plots["rural"].to_numpy()[plot]
    row, col = plots["row"].to_numpy()[plot], plots["col"].to_numpy()[plot]
    width = plots["width"].to_numpy()[plot]
    frame = pd.DataFrame({
        "buurt": units["buurt"].to_numpy(),
        # town: rows (2k-1, 2k) face each other across street k; a street is 8 plots long
        "street": np.where(rural, row // 3, ((row + 1) // 2) * 1000 + col // 8),
        "side": np.where(rural, col % 2, row % 2),
        "along": np.where(rural, col * 1000.0, col * width + units["x"].to_numpy()),
        "group": np.where(
            units["scheme"].to_numpy() == "own", -1 - np.arange(len(units)),
            units["pand"].to_numpy() * 100 + units["portiek"].to_numpy(),
        ),
        "floor": units["floor"].to_numpy(),
    })  # fmt: skip
    frame["anchor"] = frame.groupby("group")["along"].transform("min")  # one number per group
    frame = frame.sort_values(["buurt", "street", "side", "anchor", "group", "floor", "along"])
    keys = [frame["buurt"], frame["street"], frame["side"]]
    new_number = (frame["group"] != frame["group"].shift()).astype(int)
    number = new_number.groupby(keys).cumsum()
    frame["huisnummer"] = 2 * number - 1 + frame["side"]
    rank = frame.groupby("group").cumcount().to_numpy()
    scheme = units["scheme"].to_numpy()[frame.index]
    frame["huisletter"] = np.where(
        (scheme == "letter") & (rank > 0), np.array(list(" ABCDEFGHJK"))[np.minimum(rank, 10)], None
    )
    frame["toevoeging"] = np.where(scheme == "toev", (rank + 1).astype(str), None)

    # street names, unique within a woonplaats
    woonplaats = buurten["woonplaats"].to_numpy()
    theme = buurten["theme"].to_numpy()
    used: dict[str, set[str]] = {}
    counters: dict[tuple[str, str], int] = {}
    names = {}
    for b, street in frame[["buurt", "street"]].drop_duplicates().itertuples(index=False):
        place, key = woonplaats[b], (woonplaats[b], theme[b])
        while True:
            k = counters.get(key, 0)
            counters[key] = k + 1
            name = _make_street_name(theme[b], k)
            if name not in used.setdefault(place, set()):
                break
        used[place].add(name)
        names[b, street] = name
    frame["openbare_ruimte_naam"] = [
        names[k] for k in zip(frame["buurt"], frame["street"], strict=True)
    ]

    # postcodes: one per side of a street segment of up to 12 numbers; a wijk starts a new
    # PC4 area, and so does every 200th postcode
    wijk = buurten["wijkcode"].to_numpy()[frame["buurt"].to_numpy()]
    block = pd.Series(
        list(zip(frame["buurt"], frame["street"], frame["side"], (number - 1) // 12, strict=True)),
        index=frame.index,
    )
    in_wijk = (block != block.shift()).groupby(wijk).cumsum().to_numpy() - 1
    area_start = (in_wijk % 200 == 0) & (block != block.shift()).to_numpy()
    gemeente = buurten["gemeente"].to_numpy()[frame["buurt"].to_numpy()]
    pc4 = (
        np.array(PC4_BASE)[gemeente]
        + pd.Series(area_start).groupby(gemeente).cumsum().to_numpy()
        - 1
    )
    frame["postcode"] = pc4.astype(str) + np.array(POSTCODE_LETTERS)[in_wijk % 200]
    frame["woonplaats_naam"] = woonplaats[frame["buurt"].to_numpy()]
    columns = ["huisnummer", "huisletter", "toevoeging", "postcode", "openbare_ruimte_naam",
               "woonplaats_naam"]  # fmt: skip
    return units.join(frame[columns])
