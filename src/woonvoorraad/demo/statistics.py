"""Statistics of the demo region: dwelling traits (ownership, WOZ, energy, households) and
the CBS wijk- en buurtkaart layers with CBS rounding and missing-value codes.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from woonvoorraad.demo.geography import GRID

logger = logging.getLogger(__name__)

CBS_KEYS: dict[int, str] = {2023: "buurten", 2022: "cbs_2022", 2021: "cbs_2021"}
_CBS_STATUSES = (  # CBS definition of the housing stock (table 82550NED)
    "Verblijfsobject in gebruik",
    "Verblijfsobject in gebruik (niet ingemeten)",
    "Verblijfsobject buiten gebruik",
    "Verbouwing verblijfsobject",
)
_SECRET = -99997  # CBS: "waarde geheim of niet aanwezig"
_LATER = -99995  # CBS: "onderwerp wordt in een latere versie gepubliceerd"

EENGEZINS = ("tussen", "hoek", "twee_onder", "vrijstaand")
# ============================================================================================
# Dwellings: ownership, value, energy, households
# ============================================================================================


def _look_up_by_type(
    wtype: np.ndarray, values: dict[str, float], default: float = 1.0
) -> np.ndarray:
    """Look up a number per dwelling type."""
    return np.array([values.get(t, default) for t in wtype.tolist()])


def draw_dwelling_traits(
    rng: np.random.Generator,
    units: pd.DataFrame,
    panden: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """One row per dwelling (unit with a woonfunctie) with the draws behind CBS and EP-Online.

    Ownership is drawn per plot (a terrace or a block of flats has one owner, with a few units
    sold off), WOZ value from floor area, type, age and location, the energy performance from
    the build year, type and an eventual renovation, households from type and age.

    Parameters
    ----------
    rng
        Random stream of this stage.
    units, panden
        Addressed units and their panden.
    buurten
        The buurten (location effects).

    Returns
    -------
    pandas.DataFrame
        One row per dwelling with its drawn traits.
    """
    d = units[units["doel"].str.contains("woonfunctie")].copy()
    n = len(d)
    pand, pand2 = d["pand"].to_numpy(), d["pand2"].to_numpy()
    year = panden["year"].to_numpy()
    d["bouwjaar"] = np.where(
        pand2 >= 0, np.minimum(year[pand], year[np.maximum(pand2, 0)]), year[pand]
    )
    d["sloopjaar"] = panden["sloopjaar"].to_numpy()[pand]
    d["in_stock"] = d["status"].isin(_CBS_STATUSES)
    bouwjaar = d["bouwjaar"].to_numpy()
    wtype = d["wtype"].to_numpy()
    area = d["area"].to_numpy()
    setting = buurten["setting"].to_numpy()[d["buurt"].to_numpy()]
    village = setting != "stad"
    shrinking = buurten["shrinking"].to_numpy()[d["buurt"].to_numpy()].astype(bool)
    prosperity = buurten["prosperity"].to_numpy()[d["buurt"].to_numpy()]
    eengezins = np.isin(wtype, EENGEZINS)
    postwar = (bouwjaar >= 1945) & (bouwjaar <= 1974)
    d["eengezins"] = eengezins
    # draws per plot: one owner (and one renovation) for a terrace or a block of flats
    owner_draw, renovation_draw = rng.random((2, int(d["plot"].max()) + 1))[:, d["plot"].to_numpy()]

    # ownership: corporations own most walk-up flats and many post-war terraces
    row = np.isin(wtype, ["tussen", "hoek"])
    p_corp = np.select(
        [np.isin(wtype, ["portiek", "galerij"]), wtype == "appartement", wtype == "bovenwoning",
         row, wtype == "twee_onder"],
        [0.72, np.where(bouwjaar < 2000, 0.35, 0.25), 0.08,
         np.interp(bouwjaar, [1930, 1945, 1975, 1995, 2010], [0.1, 0.42, 0.36, 0.25, 0.12])
         * np.where(village, 0.8, 1.0),
         np.where(postwar, 0.15, 0.06)],
        0.01,
    )  # fmt: skip
    p_part = np.select(
        [np.isin(wtype, ["portiek", "galerij"]), wtype == "appartement", wtype == "bovenwoning",
         row, wtype == "twee_onder"],
        [0.12, 0.2, 0.55, np.where(bouwjaar < 1945, 0.25, 0.07), 0.05],
        0.04,
    )  # fmt: skip
    p_corp = p_corp * (1 - 0.3 * prosperity)
    draw = np.where(rng.random(n) < 0.85, owner_draw, rng.random(n))  # some units sold off
    eigendom = np.where(
        draw < p_corp, "corporatie", np.where(draw < p_corp + p_part, "particulier", "koop")
    )
    d["eigendom"] = eigendom
    koop, corp = eigendom == "koop", eigendom == "corporatie"

    # energy performance (primary fossil energy, kWh/m2.yr) before and after a renovation
    base = np.interp(
        bouwjaar,
        [1900, 1930, 1945, 1965, 1975, 1983, 1992, 2000, 2006, 2012, 2015, 2020],
        [400, 385, 365, 345, 290, 240, 200, 170, 145, 120, 95, 70],
    )
    shape = _look_up_by_type(wtype, {"tussen": 0.9, "twee_onder": 1.05, "vrijstaand": 1.12,
                             "portiek": 0.9, "galerij": 0.92, "appartement": 0.85})  # fmt: skip
    pe_orig = np.where(
        bouwjaar >= 2021, rng.normal(32, 24, n), base * shape * rng.lognormal(0, 0.15, n)
    )
    p_reno = np.where(bouwjaar < 1992, np.select([corp, koop], [0.5, 0.4], 0.2), 0.0)
    renovated = (
        np.where(corp, renovation_draw, rng.random(n)) < p_reno
    )  # corporations: whole blocks
    deep = rng.random(n) < 0.05
    pe_reno = pe_orig * np.where(deep, 0.3, rng.uniform(0.5, 0.8, n))
    d["renovated"] = renovated
    d["reno_year"] = np.where(renovated, rng.integers(2008, 2024, n), 0)
    d["pe_orig"] = pe_orig
    d["pe"] = np.where(renovated, pe_reno, pe_orig)

    # WOZ value 2023 (€); lower in shrinking villages and for post-war stock
    per_m2 = np.where(setting == "stad", 2800.0, 2600.0)
    buurt_effect = rng.lognormal(0, 0.08, len(buurten))[d["buurt"].to_numpy()]
    d["woz_growth"] = rng.uniform(0.05, 0.1, len(buurten))[d["buurt"].to_numpy()]  # a year
    d["woz"] = (
        area * per_m2 * np.where(shrinking, 0.88, 1.0) * (1 + 0.18 * prosperity)
        * _look_up_by_type(wtype, {"vrijstaand": 1.15, "twee_onder": 1.05, "tussen": 0.97,
                           "portiek": 0.78, "galerij": 0.78, "appartement": 0.95,
                           "bovenwoning": 0.82})
        * np.interp(bouwjaar, [1900, 1940, 1950, 1975, 1990, 2005, 2020],
                    [1.0, 0.95, 0.86, 0.88, 0.95, 1.05, 1.15])
        * np.where(renovated, 1.04, 1.0) * buurt_effect * rng.lognormal(0, 0.12, n)
    )  # fmt: skip

    # households: size by type and age, fewer and older in shrinking villages
    hh = np.select(
        [row, wtype == "twee_onder", wtype == "vrijstaand", np.isin(wtype, ["portiek", "galerij"])],
        [np.interp(bouwjaar, [1900, 1945, 1975, 1995, 2010], [2.2, 2.2, 2.3, 2.5, 2.75]), 2.5, 2.4,
         1.6],
        1.55,
    ) - 0.05 * village - 0.1 * shrinking  # fmt: skip
    d["hh"] = hh
    d["hh_trend"] = np.where(village, 0.009, 0.003)  # household size falls by this share a year
    d["occupied"] = (rng.random(n) < np.where(shrinking, 0.94, 0.965)) & (
        d["status"].to_numpy() != "Verblijfsobject buiten gebruik"
    )
    p65 = np.interp(
        bouwjaar, [1900, 1944, 1950, 1974, 1985, 2000, 2015, 2023],
        [0.2, 0.22, 0.28, 0.27, 0.22, 0.15, 0.1, 0.07],
    ) + np.select(
        [np.isin(wtype, ["portiek", "galerij"]), wtype == "appartement"],
        [0.08, 0.14 + 0.05 * village],
        0.0,
    ) + 0.04 * village + 0.06 * shrinking  # fmt: skip
    d["p65"] = np.clip(p65 * rng.lognormal(0, 0.1, len(buurten))[d["buurt"].to_numpy()], 0.02, 0.75)
    d["p0_15"] = np.where(
        eengezins,
        np.interp(bouwjaar, [1900, 1974, 1990, 2010, 2023], [0.14, 0.13, 0.17, 0.24, 0.28]),
        0.06,
    )
    # the rest of the people over 15-25, 25-45 and 45-65 years
    young = np.select([~eengezins, bouwjaar >= 1995, postwar], [0.2, 0.1, 0.16], 0.14)
    adult = np.select([~eengezins, bouwjaar >= 1995, postwar], [0.5, 0.6, 0.3], 0.38)
    rest = 1 - d["p65"].to_numpy() - d["p0_15"].to_numpy()
    d["p15_25"], d["p25_45"] = rest * young, rest * adult
    d["p45_65"] = rest * (1 - young - adult)
    # yearly rise of the 65+ share: fastest in post-war villages, reversed in new estates
    d["trend65"] = np.select(
        [postwar & village, postwar & eengezins, bouwjaar >= 2015], [0.012, 0.009, -0.003], 0.005
    )
    d["inkomen"] = np.select(
        [koop, corp],
        [18_000 + 12_000 * np.minimum(d["woz"].to_numpy() / 300_000, 3), 19_500],
        22_500,
    ) * (1 + 0.07 * prosperity)
    d["p_laag"] = np.select(
        [koop, corp], [0.03 + 0.05 * (d["woz"].to_numpy() < 200_000), 0.21], 0.14
    )
    d["p_minimum"] = np.select([koop, corp], [0.02, 0.15], 0.10)
    gasless = (bouwjaar >= 2021) | ((bouwjaar >= 2018) & (rng.random(n) < 0.7))
    d["gasless"] = gasless
    d["gas_factor"] = rng.uniform(0.85, 1.15, n)
    d["elektriciteit"] = (1500 + 420 * hh + 350 * eengezins + 900 * gasless) * rng.uniform(
        0.85, 1.15, n
    )
    return d


# ============================================================================================
# CBS wijk- en buurtkaart
# ============================================================================================

_INCOME_COLUMNS = (
    "gemiddeld_inkomen_per_inwoner",
    "percentage_huishoudens_met_laag_inkomen",
    "percentage_huishoudens_onder_of_rond_sociaal_minimum",
)
_AGE_GROUPS = (
    "0_tot_15_jaar",
    "15_tot_25_jaar",
    "25_tot_45_jaar",
    "45_tot_65_jaar",
    "65_jaar_en_ouder",
)


def _measure_address_density(xy: np.ndarray) -> np.ndarray:
    """Omgevingsadressendichtheid: addresses within 1 km of each address (100 m raster)."""
    cell, reach = 100.0, 10
    ij = ((xy - xy.min(0)) // cell).astype(int) + reach
    grid = np.zeros(ij.max(0) + reach + 1)
    np.add.at(grid, (ij[:, 0], ij[:, 1]), 1.0)
    ky, kx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    kernel = (kx**2 + ky**2 <= reach**2).astype(float)
    size = tuple(np.array(grid.shape) + kernel.shape)
    counts = np.fft.irfft2(np.fft.rfft2(grid, size) * np.fft.rfft2(kernel, size), size)
    return np.rint(counts[ij[:, 0] + reach, ij[:, 1] + reach])


def _sum_cbs(year: int, d: pd.DataFrame, units: pd.DataFrame, n_buurten: int) -> pd.DataFrame:
    """Exact per-buurt totals behind the CBS figures of ``year`` (peildatum 1 January)."""
    status = d["status"].to_numpy()
    stock = (d["bouwjaar"].to_numpy() <= year - 1) & (
        np.isin(status, _CBS_STATUSES) | (d["sloopjaar"].to_numpy() >= year)
    )
    occupied = stock & d["occupied"].to_numpy()
    back = 2023 - year
    persons = np.where(occupied, d["hh"].to_numpy() * (1 + d["hh_trend"].to_numpy()) ** back, 0.0)
    p65 = d["p65"].to_numpy() - d["trend65"].to_numpy() * back
    pe_then = np.where(
        d["renovated"].to_numpy() & (d["reno_year"].to_numpy() >= year),
        d["pe_orig"].to_numpy(),
        d["pe"].to_numpy(),
    )
    gas = np.where(
        d["gasless"].to_numpy(), 0.0,
        (250 + 0.035 * np.maximum(pe_then, 0) * d["area"].to_numpy()) * d["gas_factor"].to_numpy(),
    ) * {2021: 1.15, 2022: 1.06}.get(year, 1.0)  # fmt: skip
    eigendom = d["eigendom"].to_numpy()
    values = {
        "woningen": stock,
        "eengezins": stock & d["eengezins"].to_numpy(),
        "koop": stock & (eigendom == "koop"),
        "corporatie": stock & (eigendom == "corporatie"),
        "particulier": stock & (eigendom == "particulier"),
        "voor_2000": stock & (d["bouwjaar"].to_numpy() < 2000),
        "woz": np.where(stock, d["woz"].to_numpy() / (1 + d["woz_growth"].to_numpy()) ** back, 0.0),
        "huishoudens": occupied,
        "gas": np.where(occupied, gas, 0.0),
        "elektriciteit": np.where(
            occupied, d["elektriciteit"].to_numpy() * {2021: 1.04, 2022: 1.02}.get(year, 1.0), 0.0
        ),
        "inwoners": persons,
        "age_0_tot_15_jaar": persons * d["p0_15"].to_numpy(),
        "age_15_tot_25_jaar": persons * d["p15_25"].to_numpy(),
        "age_25_tot_45_jaar": persons * d["p25_45"].to_numpy(),
        "age_45_tot_65_jaar": persons * (d["p45_65"].to_numpy() + d["trend65"].to_numpy() * back),
        "age_65_jaar_en_ouder": persons * p65,
        "inkomen": persons * d["inkomen"].to_numpy() * 1.035**-back,
        "laag": np.where(occupied, d["p_laag"].to_numpy(), 0.0),
        "minimum": np.where(occupied, d["p_minimum"].to_numpy(), 0.0),
    }
    buurt = d["buurt"].to_numpy()
    sums = pd.DataFrame(
        {
            k: np.bincount(buurt, weights=v.astype(float), minlength=n_buurten)
            for k, v in values.items()
        }
    )
    addresses = units[
        ~units["status"].isin(["Verblijfsobject ingetrokken", "Verblijfsobject gevormd"])
    ]
    density = _measure_address_density(shapely.get_coordinates(addresses["geometry"].to_numpy()))
    sums["adressen"] = np.bincount(addresses["buurt"], minlength=n_buurten)
    sums["dichtheid"] = np.bincount(addresses["buurt"], weights=density, minlength=n_buurten)
    return sums


def _make_cbs_figures(rng: np.random.Generator, s: pd.DataFrame, *, exact: bool) -> pd.DataFrame:
    """CBS figures from totals: rounded as CBS does, with -99997 where CBS suppresses."""

    def count(x: pd.Series) -> np.ndarray:
        if exact:  # gemeente level: exact counts
            return np.rint(x.to_numpy()).astype(np.int64)
        low = np.floor(x.to_numpy() / 5)  # random rounding to a multiple of 5
        return (5 * (low + (rng.random(len(x)) < x.to_numpy() / 5 - low))).astype(np.int64)

    def share(part: str, whole: str, minimum: float) -> np.ndarray:
        ok = s[whole].to_numpy() >= max(minimum, 1e-9)
        pct = np.rint(100 * s[part].to_numpy() / np.where(ok, s[whole].to_numpy(), 1.0))
        return np.where(ok, pct, _SECRET).astype(np.int64)

    def mean(total: str, whole: str, minimum: float, step: float, scale: float = 1.0) -> np.ndarray:
        ok = s[whole].to_numpy() >= minimum
        value = s[total].to_numpy() / np.where(ok, s[whole].to_numpy(), 1.0) / scale
        return np.where(ok, np.round(np.round(value / step) * step, 1), _SECRET)

    woningen, inwoners = s["woningen"].to_numpy(), s["inwoners"].to_numpy()
    oad = np.rint(s["dichtheid"].to_numpy() / np.maximum(s["adressen"].to_numpy(), 1))
    land_ha = s["oppervlakte"].to_numpy() / 1e4
    out = {
        "omgevingsadressendichtheid": oad.astype(np.int64),
        "stedelijkheid_adressen_per_km2": 5
        - np.searchsorted([500, 1000, 1500, 2500], oad, "right"),
        "bevolkingsdichtheid_inwoners_per_km2": np.rint(inwoners / land_ha * 100).astype(np.int64),
        "aantal_inwoners": count(s["inwoners"]),
    }
    for group in _AGE_GROUPS:
        out[f"percentage_personen_{group}"] = share(f"age_{group}", "inwoners", 50)
    out |= {
        "aantal_huishoudens": count(s["huishoudens"]),
        "gemiddelde_huishoudsgrootte": mean("inwoners", "huishoudens", 10, 0.1),
        "woningvoorraad": count(s["woningen"]),
        "gemiddelde_woningwaarde": mean("woz", "woningen", 20, 1, 1000).astype(np.int64),
        "percentage_eengezinswoning": share("eengezins", "woningen", 5),
        "percentage_meergezinswoning": np.where(
            woningen >= 5, 100 - share("eengezins", "woningen", 5), _SECRET
        ),
        "percentage_koopwoningen": share("koop", "woningen", 20),
        "percentage_huurwoningen": np.where(
            woningen >= 20, 100 - share("koop", "woningen", 20), _SECRET
        ),
        "perc_huurwoningen_in_bezit_woningcorporaties": share("corporatie", "woningen", 20),
        "perc_huurwoningen_in_bezit_overige_verhuurders": share("particulier", "woningen", 20),
        "percentage_bouwjaarklasse_tot_2000": share("voor_2000", "woningen", 5),
        "percentage_bouwjaarklasse_vanaf_2000": np.where(
            woningen >= 5, 100 - share("voor_2000", "woningen", 5), _SECRET
        ),
        "gemiddeld_gasverbruik_totaal": mean("gas", "huishoudens", 10, 50).astype(np.int64),
        "gemiddeld_elektriciteitsverbruik_totaal": mean(
            "elektriciteit", "huishoudens", 10, 50
        ).astype(np.int64),
        "gemiddeld_inkomen_per_inwoner": mean("inkomen", "inwoners", 100, 0.1, 1000),
        "percentage_huishoudens_met_laag_inkomen": share("laag", "huishoudens", 50),
        "percentage_huishoudens_onder_of_rond_sociaal_minimum": share("minimum", "huishoudens", 50),
        "oppervlakte_totaal_in_ha": np.rint(land_ha).astype(np.int64),
        "oppervlakte_land_in_ha": np.rint(land_ha).astype(np.int64),
        "oppervlakte_water_in_ha": np.zeros(len(s), np.int64),
    }
    return pd.DataFrame(out, index=s.index)


_CBS_LEVELS = {
    "gemeenten": ["gemeentecode", "gemeentenaam"],
    "wijken": ["wijkcode", "wijknaam", "gemeentecode", "gemeentenaam"],
    "buurten": ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam"],
}


def dissolve_levels(buurten: gpd.GeoDataFrame) -> dict[str, pd.Series]:
    """Geometry of each CBS layer, by code: buurten as they are, wijken and gemeenten merged.

    Parameters
    ----------
    buurten
        The buurten of :func:`woonvoorraad.demo.geography.lay_out_buurten`.

    Returns
    -------
    dict of str to pandas.Series
        Per level (``gemeenten``, ``wijken``, ``buurten``) the geometries indexed by code.
    """
    shapes = {}
    for layer, keys in _CBS_LEVELS.items():
        code = buurten[keys[0]].to_numpy()
        if layer == "buurten":
            shapes[layer] = pd.Series(buurten.geometry.to_numpy(), index=code).sort_index()
        else:
            geoms = buurten.geometry.to_numpy()
            shapes[layer] = pd.Series(
                {c: shapely.union_all(geoms[code == c], grid_size=GRID) for c in np.unique(code)}
            )
    return shapes


def make_cbs_layers(
    rng: np.random.Generator,
    year: int,
    d: pd.DataFrame,
    units: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
    *,
    shapes: dict[str, pd.Series],
) -> dict[str, gpd.GeoDataFrame]:
    """The layers ``gemeenten``, ``wijken`` and ``buurten`` of the wijk- en buurtkaart.

    Parameters
    ----------
    rng
        Random stream of this stage.
    year
        CBS year of the layers; the latest year gets the full set of figures.
    d
        The dwellings of :func:`draw_dwelling_traits`.
    units, buurten
        All units and the buurten.
    shapes
        Geometry per level (:func:`dissolve_levels`).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        The three layers, with CBS rounding and missing-value codes.
    """
    sums = _sum_cbs(year, d, units, len(buurten))
    sums["oppervlakte"] = buurten.area.to_numpy()
    postcodes = units.assign(pc4=units["postcode"].str[:4])[["buurt", "pc4"]]
    layers = {}
    for layer, keys in _CBS_LEVELS.items():
        code = buurten[keys[0]].to_numpy()
        totals = sums.groupby(code, sort=True).sum()
        figures = _make_cbs_figures(rng, totals, exact=layer == "gemeenten")
        if layer == "buurten":
            # a few income figures are confidential; the latest year's come later for some
            secret = rng.random(len(figures)) < 0.03
            figures.loc[secret, list(_INCOME_COLUMNS)] = _SECRET
            if year == max(CBS_KEYS):
                later = rng.random(len(figures)) < 0.06
                later[rng.integers(len(figures))] = True
                figures.loc[later, list(_INCOME_COLUMNS)] = _LATER
        ident = buurten.drop_duplicates(keys[0]).set_index(keys[0])[keys[1:]]
        common = (
            postcodes.assign(code=code[postcodes["buurt"].to_numpy()])
            .groupby(["code", "pc4"]).size().reset_index()
            .sort_values(["code", 0, "pc4"], ascending=[True, False, True])
            .drop_duplicates("code").set_index("code")["pc4"]
        )  # fmt: skip
        frame = pd.DataFrame({keys[0]: totals.index}, index=totals.index).join(ident)
        frame["jaar"] = year
        frame["water"] = "NEE"
        frame["meest_voorkomende_postcode"] = common.reindex(totals.index).to_numpy()
        frame = frame.join(figures).reset_index(drop=True)
        layers[layer] = gpd.GeoDataFrame(
            frame, geometry=shapes[layer].reindex(totals.index).to_numpy(), crs="EPSG:28992"
        )
    return layers
