"""Plots of the demo region: the building mix per buurt type and one plot per structure."""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Building mix per buurt type: (structure kind, weight, first bouwjaar, last bouwjaar).
# Every plot of a buurt gets one entry; "leeg" plots (parks, sports fields, water, wide
# roads) are drawn in clusters.
# --------------------------------------------------------------------------------------------

_MIX: dict[str, tuple[tuple[str, float, int, int], ...]] = {
    "centrum": (
        ("winkel_wonen", 30, 1870, 1939), ("winkel_wonen", 6, 1955, 1975),
        ("oud_rij", 16, 1880, 1935), ("vrijstaand", 5, 1880, 1930),
        ("appartement", 5, 1978, 2018), ("portiek", 3, 1955, 1968),
        ("voorziening", 14, 1900, 2010), ("leeg", 30, 0, 0)),
    "oude_schil": (
        ("oud_rij", 34, 1905, 1939), ("twee_onder", 12, 1920, 1939),
        ("vrijstaand", 12, 1900, 1939), ("rij", 8, 1946, 1958), ("portiek", 4, 1950, 1960),
        ("appartement", 2, 1985, 2015), ("voorziening", 8, 1910, 1990), ("leeg", 65, 0, 0)),
    "wederopbouw": (
        ("rij", 42, 1948, 1964), ("portiek", 10, 1952, 1964), ("twee_onder", 10, 1948, 1962),
        ("rij", 5, 1985, 2015), ("garages", 5, 1955, 1965), ("voorziening", 6, 1955, 1980),
        ("leeg", 70, 0, 0)),
    "naoorlogs_laat": (
        ("rij", 40, 1965, 1974), ("portiek", 5, 1964, 1972), ("hoogbouw", 1.2, 1966, 1973),
        ("twee_onder", 15, 1965, 1975), ("vrijstaand", 4, 1968, 1976),
        ("garages", 5, 1966, 1975), ("voorziening", 5, 1968, 1985), ("leeg", 75, 0, 0)),
    "jaren80": (
        ("rij", 46, 1975, 1994), ("twee_onder", 18, 1976, 1995), ("vrijstaand", 10, 1978, 1995),
        ("appartement", 2, 1980, 1995), ("voorziening", 4, 1980, 2000), ("leeg", 80, 0, 0)),
    "nieuwbouw": (
        ("rij", 28, 1996, 2024), ("twee_onder", 22, 1997, 2024), ("vrijstaand", 20, 1998, 2024),
        ("appartement", 4, 1996, 2023), ("voorziening", 3, 2000, 2020), ("leeg", 75, 0, 0)),
    "bedrijventerrein": (
        ("bedrijf", 70, 1965, 2021), ("bedrijf_woning", 4, 1965, 2000), ("leeg", 35, 0, 0)),
    "dorp": (
        ("vrijstaand", 24, 1880, 1940), ("oud_rij", 6, 1900, 1935), ("rij", 20, 1952, 1974),
        ("twee_onder", 18, 1955, 1990), ("vrijstaand", 14, 1970, 2015),
        ("voorziening", 5, 1920, 2000), ("leeg", 60, 0, 0)),
    "dorpskern": (
        ("vrijstaand", 30, 1880, 1940), ("oud_rij", 8, 1900, 1939),
        ("twee_onder", 10, 1925, 1960), ("rij", 10, 1950, 1970),
        ("winkel_wonen", 6, 1900, 1965), ("voorziening", 8, 1900, 2000),
        ("vrijstaand", 10, 1975, 2015), ("appartement", 2, 1990, 2015), ("leeg", 60, 0, 0)),
    "dorp_naoorlogs": (
        ("rij", 42, 1950, 1974), ("twee_onder", 20, 1955, 1975), ("portiek", 4, 1958, 1970),
        ("vrijstaand", 10, 1955, 1975), ("rij", 4, 1980, 2010), ("garages", 3, 1960, 1975),
        ("leeg", 60, 0, 0)),
    "dorp_nieuw": (
        ("rij", 25, 1978, 2022), ("twee_onder", 28, 1978, 2023), ("vrijstaand", 30, 1980, 2024),
        ("leeg", 60, 0, 0)),
    "buitengebied": (
        ("boerderij", 52, 1850, 1939), ("boerderij", 12, 1946, 1970),
        ("vrijstaand", 20, 1900, 2020), ("vrijstaand", 8, 1950, 1974), ("bedrijf", 8, 1960, 2015)),
}  # fmt: skip
_PLOT_SIZE: dict[str, tuple[float, float]] = {
    "bedrijventerrein": (90.0, 70.0),
    "buitengebied": (90.0, 90.0),
}
DEFAULT_PLOT = (64.0, 46.0)
# average dwellings per plot of each kind (for sizing buurten; the generators decide)
_DWELLINGS_PER_PLOT = {
    "rij": 5.5, "oud_rij": 5.5, "twee_onder": 4.0, "vrijstaand": 2.0, "portiek": 13.0,
    "hoogbouw": 40.0, "appartement": 15.0, "winkel_wonen": 4.5, "bedrijf_woning": 1.0,
}  # fmt: skip
PACKING = 0.75  # share of a buurt's area covered by whole plots
_RURAL_SPACING = 250.0  # scatter grid of the countryside (m)


def estimate_density(btype: str) -> float:
    """Expected dwellings per m² of a buurt of type ``btype``.

    Parameters
    ----------
    btype
        Buurt type, a key of the building mix (e.g. ``"wederopbouw"``).

    Returns
    -------
    float
        Dwellings per m², with the packing of plots taken into account.
    """
    width, depth = _PLOT_SIZE.get(btype, DEFAULT_PLOT)
    mix = _MIX[btype]
    per_plot = sum(w * _DWELLINGS_PER_PLOT.get(kind, 0.0) for kind, w, _, _ in mix)
    return per_plot / sum(w for _, w, _, _ in mix) / (width * depth) * PACKING


# ============================================================================================
# Plots: one structure each
# ============================================================================================


def plan_plots(rng: np.random.Generator, buurten: gpd.GeoDataFrame) -> pd.DataFrame:
    """Plots of all buurten with their structure kind and bouwjaar.

    A plot is a rectangle of ``width`` × ``depth`` in a local frame: ``(px, py)`` is its corner
    in the frame of its buurt (or of itself, in the countryside), which is rotated by ``angle``
    around the world point ``(ox, oy)``.

    Parameters
    ----------
    rng
        Random stream of this stage.
    buurten
        The buurten of :func:`woonvoorraad.demo.geography.lay_out_buurten`.

    Returns
    -------
    pandas.DataFrame
        One row per plot that holds a structure (empty plots are dropped).
    """
    frames = []
    for b in buurten.itertuples():
        width, depth = _PLOT_SIZE.get(b.btype, DEFAULT_PLOT)
        if b.btype == "buitengebied":
            plots = _scatter_plots(rng, b.geometry, b.target, b.angle, width=width, depth=depth)
        else:
            plots = _lay_out_grid_plots(rng, b.geometry, b.angle, width=width, depth=depth)
        mix = _MIX[b.btype]
        weights = np.array([w for _, w, _, _ in mix])
        green = np.array([kind == "leeg" for kind, _, _, _ in mix])
        entry = rng.choice(
            len(mix), size=len(plots), p=np.where(green, 0, weights) / weights[~green].sum()
        )
        if green.any():  # parks, green strips and gaps: where a random field is lowest
            field = _draw_smooth_field(rng, plots["px"] + width / 2, plots["py"] + depth / 2)
            share = weights[green].sum() / weights.sum()
            entry[field <= np.quantile(field, share)] = np.flatnonzero(green)[0]
        first = np.array([e[2] for e in mix])[entry]
        last = np.array([e[3] for e in mix])[entry]
        plots = plots.assign(
            buurt=b.Index,
            kind=np.array([e[0] for e in mix])[entry],
            first=first,
            last=last,
            year=rng.integers(first, last + 1),
            width=width,
            depth=depth,
            rural=b.btype == "buitengebied",
        )
        frames.append(plots)
    plots = pd.concat(frames, ignore_index=True)
    return plots[plots["kind"] != "leeg"].reset_index(drop=True)


def _draw_smooth_field(rng: np.random.Generator, x: pd.Series, y: pd.Series) -> np.ndarray:
    """A random field at the points ``(x, y)``: a few plane waves of 200-500 m, plus noise."""
    angle = rng.uniform(0, np.pi, 4)
    wavenumber = 2 * np.pi / rng.uniform(200, 500, 4)
    phase = rng.uniform(0, 2 * np.pi, 4)
    xy = np.c_[x.to_numpy(), y.to_numpy()]
    direction = np.c_[np.cos(angle), np.sin(angle)] * wavenumber[:, None]
    return np.cos(xy @ direction.T + phase).sum(axis=1) + rng.normal(0, 0.8, len(xy))


def _lay_out_grid_plots(
    rng: np.random.Generator, polygon: shapely.Geometry, angle: float, *, width: float, depth: float
) -> pd.DataFrame:
    """The plots of a regular grid, turned by ``angle``, that lie wholly inside the buurt."""
    ox, oy = polygon.centroid.x, polygon.centroid.y
    c, s = math.cos(angle), math.sin(angle)
    local = shapely.affinity.affine_transform(
        polygon, [c, s, -s, c, -(ox * c + oy * s), ox * s - oy * c]
    )
    inner = local.buffer(-3.0)
    shapely.prepare(inner)
    minx, miny, maxx, maxy = local.bounds
    xs = np.arange(minx - rng.uniform(0, width), maxx, width)
    ys = np.arange(miny - rng.uniform(0, depth), maxy, depth)
    gx, gy = np.meshgrid(xs, ys)
    cols, rows = np.meshgrid(np.arange(xs.size), np.arange(ys.size))
    keep = shapely.contains(inner, shapely.box(gx, gy, gx + width, gy + depth))
    return pd.DataFrame(
        {
            "ox": ox,
            "oy": oy,
            "angle": angle,
            "px": gx[keep],
            "py": gy[keep],
            "col": cols[keep],
            "row": rows[keep],
        }
    )


def _scatter_plots(
    rng: np.random.Generator,
    polygon: shapely.Geometry,
    dwellings: float,
    angle: float,
    *,
    width: float,
    depth: float,
) -> pd.DataFrame:
    """Scattered farm plots: a jittered grid, thinned to about ``dwellings`` dwellings."""
    minx, miny, maxx, maxy = polygon.bounds
    xs = np.arange(minx + _RURAL_SPACING / 2, maxx, _RURAL_SPACING)
    ys = np.arange(miny + _RURAL_SPACING / 2, maxy, _RURAL_SPACING)
    gx, gy = np.meshgrid(xs, ys)
    cols, rows = np.meshgrid(np.arange(xs.size), np.arange(ys.size))
    x = (gx + rng.uniform(-55, 55, gx.shape)).ravel()
    y = (gy + rng.uniform(-55, 55, gy.shape)).ravel()
    inner = polygon.buffer(-70.0)
    candidates = np.flatnonzero(shapely.contains_xy(inner, x, y))
    mix = _MIX["buitengebied"]
    per_plot = sum(w for k, w, _, _ in mix if k != "bedrijf") / sum(w for _, w, _, _ in mix)
    n = min(candidates.size, round(dwellings / per_plot))
    chosen = np.sort(rng.choice(candidates, n, replace=False))
    turn = angle + rng.choice([0.0, np.pi / 2, np.pi, 3 * np.pi / 2], n) + rng.normal(0, 0.05, n)
    return pd.DataFrame(
        {
            "ox": x[chosen],
            "oy": y[chosen],
            "angle": turn,
            "px": -width / 2,
            "py": -depth / 2,
            "col": cols.ravel()[chosen],
            "row": rows.ravel()[chosen],
        }
    )
