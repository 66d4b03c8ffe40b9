"""The built-in synthetic demo region.

:func:`make_demo` invents a region of a few gemeenten with Drenthe-like towns, villages and
countryside, and writes it to disk in the layouts of the real open data, so that
``woonvoorraad demo`` runs the project's real readers:

* BAG: the PDOK *bag-light* GeoPackage (layers ``pand`` and ``verblijfsobject``);
* CBS: the *wijk- en buurtkaart* GeoPackage of 2021, 2022 and 2023 (layers ``gemeenten``,
  ``wijken``, ``buurten``), with CBS rounding and missing-value codes;
* EP-Online: the v5 bulk CSV, zipped.

Everything is fictional: the names are invented and the codes (``GM9901`` …) lie outside the
range CBS uses, so demo data can never be mistaken for a real area. Every GeoPackage layer
carries the layer metadata ``woonvoorraad_synthetic = "true"``.

How the region is made
----------------------
Gemeenten are Voronoi cells of a few relaxed seed points inside an irregular outline. Each
gemeente has a main town and some villages; a town grows in rings around its old centre
(pre-war fringe and wederopbouw, late post-war, 1980s-90s with a business park, new builds on
one side), a village has a core, a post-war extension and sometimes new builds. Each ring is cut
into sectors, one per buurt; what is left of the settlement's territory is its rural buurt.
Buurten are filled with a grid of plots, each holding one structure (a terrace, two
semi-detached pairs, detached houses with a garage, a walk-up flat, a high-rise block, shops
with flats above, a school, garage boxes, a business hall, ...); the countryside gets scattered
farms. Ownership, WOZ value, energy use, households and energy labels are drawn per dwelling
from its type, age and location, and the CBS statistics are the sums of those draws.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from woonvoorraad import __version__, settings
from woonvoorraad._io import atomic_path, write_text_atomic
from woonvoorraad.sources.eponline import V5_COLUMNS

logger = logging.getLogger(__name__)

DEMO_SEED: int = 20261128

_FILES: dict[str, str] = {
    "bag": "bag-light.gpkg",
    "buurten": "wijkenbuurten_2023.gpkg",
    "cbs_2022": "wijkenbuurten_2022.gpkg",
    "cbs_2021": "wijkenbuurten_2021.gpkg",
    "labels": "ep-online/v20231101_v5_csv.zip",
    "readme": "README.md",
}
_CBS_KEYS: dict[int, str] = {2023: "buurten", 2022: "cbs_2022", 2021: "cbs_2021"}
_EP_MEMBER = "v20231101_v5_csv.csv"
_EP_PUBLICATION = "01-11-2023"

_LAYER_METADATA: dict[str, str] = {
    "woonvoorraad_synthetic": "true",
    "woonvoorraad_description": (
        "SYNTHETISCHE DEMODATA van woonvoorraad: een verzonnen regio met fictieve namen en "
        "codes (GM9901 en hoger); geen echte gebouwen, adressen of statistieken."
    ),
}

_RD_CENTRE = (250_000.0, 540_000.0)  # the Drenthe part of the RD grid
_GRID = 0.01  # precision of the CBS polygons (m)
_MARGIN = 2.5  # free strip inside each plot (m)
_CBS_STATUSES = (  # CBS definition of the housing stock (table 82550NED)
    "Verblijfsobject in gebruik",
    "Verblijfsobject in gebruik (niet ingemeten)",
    "Verblijfsobject buiten gebruik",
    "Verbouwing verblijfsobject",
)
_SECRET = -99997  # CBS: "waarde geheim of niet aanwezig"
_LATER = -99995  # CBS: "onderwerp wordt in een latere versie gepubliceerd"

# --------------------------------------------------------------------------------------------
# Names (invented; any likeness to a real place is coincidental)
# --------------------------------------------------------------------------------------------

_GEMEENTEN = ("Veldermond", "Zuiderhaar", "Oldervenne", "Esselwolde", "Brakkeveen", "Hunzelo")
_DORPEN = (
    "Aldervoort", "Drieschot", "Ellenhorst", "Marwolde", "Stroebelo", "Hesselveen",
    "Diepenloo", "Anserveld", "Wolvenbroek", "Heidemond", "Spijkerveen", "Hanenborg",
    "Tjalmerveen", "Zegelo", "Rensewolde", "Oldermaat", "Venneloo", "Gaasterveld",
    "Duiverwolde", "Kraanloo", "Esmerhorst", "Plaggenveen", "Schuttelo", "Bremerdiep",
    "Harmsveen", "Koppelwolde", "Barsloo", "Wijnerveld", "Lammerdiep", "Ossewolde",
)  # fmt: skip
_PC4_BASE = (7741, 7781, 7821, 7861, 9431, 9471)  # one block of postcodes per gemeente
_DIRECTIONS = ("Oost", "Noordoost", "Noord", "Noordwest", "West", "Zuidwest", "Zuid", "Zuidoost")
_OUTER_WIJKEN = ("De Velden", "Het Holt", "Esakkers", "De Maten", "Hooilanden", "Het Broek")

# Street themes: (buurt name, stems, suffixes); a theme without suffixes lists whole names.
_THEMES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "centrum": ("Centrum", (
        "Brink", "Kerkstraat", "Marktplein", "Hoofdstraat", "Molenstraat", "Torenstraat",
        "Stationsstraat", "Raadhuisstraat", "Schoolstraat", "Nieuwstraat", "Kerkplein",
        "Achterstraat", "Wilhelminastraat", "Julianastraat", "Grote Kerkstraat", "Markt"), ()),
    "oranje": ("Oranjebuurt", (
        "Julianalaan", "Beatrixstraat", "Irenestraat", "Margrietstraat", "Bernhardlaan",
        "Oranjestraat", "Nassaulaan", "Emmastraat", "Prins Hendrikstraat", "Christinastraat",
        "Mauritslaan", "Frisolaan", "Willem-Alexanderstraat", "Amalialaan"), ()),
    "bloemen": ("Bloemenbuurt", (
        "Rozen", "Tulpen", "Narcissen", "Anjer", "Lelie", "Seringen", "Dahlia", "Krokus",
        "Iris", "Margrieten", "Klaproos", "Korenbloem"), ("straat", "laan", "hof", "pad")),
    "vogels": ("Vogelbuurt", (
        "Merel", "Lijster", "Spreeuwen", "Vinken", "Mezen", "Kieviet", "Reiger", "Zwaluw",
        "Specht", "Wielewaal", "Grutto", "Buizerd"), ("straat", "laan", "hof", "pad")),
    "bomen": ("Bomenbuurt", (
        "Eiken", "Beuken", "Berken", "Linden", "Essen", "Iepen", "Populieren", "Wilgen",
        "Elzen", "Kastanje", "Esdoorn", "Hazelaar"), ("laan", "straat", "hof", "dreef")),
    "schilders": ("Schildersbuurt", (
        "Rembrandt", "Vermeer", "Jan Steen", "Frans Hals", "Van Gogh", "Mesdag", "Israëls",
        "Mondriaan", "Breitner", "Ruisdael", "Potter", "Maris"), ("straat", "laan", "hof")),
    "componisten": ("Componistenbuurt", (
        "Mozart", "Bach", "Händel", "Haydn", "Chopin", "Schubert", "Verdi", "Grieg",
        "Beethoven", "Sweelinck", "Vivaldi", "Ravel"), ("straat", "laan", "hof")),
    "sterren": ("Sterrenbuurt", (
        "Orion", "Pegasus", "Andromeda", "Sirius", "Mercurius", "Venus", "Jupiter", "Saturnus",
        "Neptunus", "Pluto", "Vega", "Castor"), ("straat", "laan", "hof")),
    "rivieren": ("Rivierenbuurt", (
        "Maas", "Rijn", "Vecht", "IJssel", "Dinkel", "Regge", "Berkel", "Schelde", "Lauwers",
        "Linge", "Waal", "Eem"), ("straat", "laan", "kade")),
    "veld": ("De Horsten", (
        "Esakker", "Veldkamp", "Hooiland", "Weidegang", "Hoefslag", "Zandakker",
        "Schapendrift", "Heidegang", "Bouwland", "Kampakker", "Grasland", "Hessel"),
        ("", "weg", "hof")),
    "water": ("Het Ven", (
        "Ven", "Beek", "Sloot", "Wijk", "Vaart", "Kolk", "Poel", "Meer", "Bron", "Plas",
        "Dobbe", "Wetering"), ("straat", "weg", "hof", "kade")),
    "natuur": ("Nieuwe Es", (
        "Heide", "Duin", "Dennen", "Vlinder", "Hei", "Zonnedauw", "Gagel", "Veenpluis",
        "Wollegras", "Jeneverbes", "Brem", "Lijsterbes"), ("laan", "hof", "pad", "veld")),
    "bedrijf": ("Bedrijvenpark De Vaart", (
        "Industrieweg", "Handelsweg", "Ambachtsweg", "Nijverheidsweg", "Transportweg",
        "Edisonstraat", "Energieweg", "Havenweg", "Fabrieksweg", "Expeditieweg",
        "Magazijnweg", "Loswal"), ()),
    "dorp": ("", (
        "Brink", "Hoofdstraat", "Kerkweg", "Schoolstraat", "Esweg", "Molenweg", "Dorpsstraat",
        "Eshof", "Kampweg", "Achterweg", "Bosweg", "Veldweg", "Julianastraat", "Brinkstraat"),
        ()),
    "landelijk": ("", (
        "Hoofdweg", "Esweg", "Veenweg", "Dijkweg", "Zandweg", "Middenweg", "Broekweg",
        "Achterweg", "Kanaalweg", "Zuidersloot", "Noorderweg", "Heideweg", "Boerweg",
        "Oude Postweg", "Drift"), ()),
}  # fmt: skip
_TYPE_THEMES: dict[str, tuple[str, ...]] = {
    "centrum": ("centrum",),
    "oude_schil": ("oranje",),
    "wederopbouw": ("bloemen", "vogels", "bomen"),
    "naoorlogs_laat": ("schilders", "componisten", "sterren", "rivieren"),
    "jaren80": ("veld", "water"),
    "nieuwbouw": ("natuur", "water", "veld"),
    "bedrijventerrein": ("bedrijf",),
}
_BEDRIJVENTERREINEN = ("Bedrijvenpark De Vaart", "Industrieterrein Zuid", "Bedrijventerrein Kanaal")
_NEW_NAMES = ("Nieuwe Es", "De Hooiakker", "Parkrijk", "De Weiden", "Waterrijk", "Het Veld")
_OLD_NAMES = ("De Horsten", "Het Ven", "Zonnehof", "De Gaarden", "Esweide", "Hofstede")

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
_DEFAULT_PLOT = (64.0, 46.0)
# average dwellings per plot of each kind (for sizing buurten; the generators decide)
_DWELLINGS_PER_PLOT = {
    "rij": 5.5, "oud_rij": 5.5, "twee_onder": 4.0, "vrijstaand": 2.0, "portiek": 13.0,
    "hoogbouw": 40.0, "appartement": 15.0, "winkel_wonen": 4.5, "bedrijf_woning": 1.0,
}  # fmt: skip
_PACKING = 0.75  # share of a buurt's area covered by whole plots
_RURAL_SPACING = 250.0  # scatter grid of the countryside (m)

# NTA 8800 label classes (upper bounds of primary fossil energy, kWh/m2.yr); EP-Online also
# holds a few "A+++++", here for energy-positive homes.
_LABELS = ("A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")
_LABEL_BOUNDS = np.array([-25, 0, 50, 75, 105, 160, 190, 250, 290, 335, 380])
# NEN 7120 energy index bounds of the pre-2021 labels A++ .. G (A+++ and up never occurred)
_EI_BOUNDS = {
    "A++": (0.3, 0.5), "A+": (0.51, 0.7), "A": (0.71, 1.05), "B": (1.06, 1.3),
    "C": (1.31, 1.6), "D": (1.61, 2.0), "E": (2.01, 2.4), "F": (2.41, 2.9), "G": (2.91, 3.6),
}  # fmt: skip
_CERTIFICAATHOUDERS = (
    "Labelpunt Noord B.V.", "Esdorp Energieadvies", "Veenstreek Bouwadvies B.V.",
    "Drentse Maatwerk Labels", "EnergieCheck Oost V.O.F.", "Woonwijzer Advies B.V.",
)  # fmt: skip
_EP_SUBTYPE = {
    "portiek": "Portiekwoning", "galerij": "Galerijwoning", "appartement": "Flatwoning (overig)",
    "bovenwoning": "Maisonnette",
}  # fmt: skip
_EP_TYPE = {
    "tussen": "Rijwoning tussen", "hoek": "Rijwoning hoek", "twee_onder": "Twee-onder-één-kap",
    "vrijstaand": "Vrijstaande woning",
}  # fmt: skip
_EENGEZINS = ("tussen", "hoek", "twee_onder", "vrijstaand")


# ============================================================================================
# Public API
# ============================================================================================


def demo_paths(out_dir: str | Path | None = None) -> dict[str, Path]:
    """Return the paths :func:`make_demo` writes, without writing anything.

    Parameters
    ----------
    out_dir
        Folder of the demo data (default ``settings.data_dir / "raw" / "demo"``, read at call
        time).

    Returns
    -------
    dict of str to Path
        ``bag`` (bag-light GeoPackage), ``buurten`` (CBS wijk- en buurtkaart 2023),
        ``cbs_2022``, ``cbs_2021`` (the two earlier years), ``labels`` (zipped EP-Online CSV)
        and ``readme``.

    Examples
    --------
    >>> sorted(demo_paths("/tmp/demo"))
    ['bag', 'buurten', 'cbs_2021', 'cbs_2022', 'labels', 'readme']
    """
    folder = Path(out_dir) if out_dir is not None else Path(settings.data_dir) / "raw" / "demo"
    return {key: folder / name for key, name in _FILES.items()}


def make_demo(
    out_dir: str | Path | None = None,
    *,
    seed: int = DEMO_SEED,
    scale: float = 1.0,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Generate the synthetic demo region and write it in the real file layouts.

    At ``scale=1`` the region has five gemeenten, about 130 buurten and 60 000 dwellings and
    takes some seconds to make. Every file is written atomically, the README last, so an
    interrupted run never leaves a truncated file and is simply redone by the next call.

    Parameters
    ----------
    out_dir
        Destination folder (default ``settings.data_dir / "raw" / "demo"``).
    seed
        Seed of the random generator; the same seed and scale give the same data.
    scale
        Size of the region relative to the default, in (0, 1]: the number of dwellings and
        buurten shrink proportionally (at least two gemeenten with a handful of buurten each
        remain). Tests use e.g. ``0.05``.
    overwrite
        Regenerate even when all files exist. Without it, a complete existing set is reused.

    Returns
    -------
    dict of str to Path
        The files, keyed as in :func:`demo_paths`.

    Raises
    ------
    ValueError
        If ``scale`` is not in (0, 1].

    Examples
    --------
    >>> import tempfile
    >>> paths = make_demo(tempfile.mkdtemp(), scale=0.05)  # doctest: +SKIP
    >>> paths["bag"].name  # doctest: +SKIP
    'bag-light.gpkg'
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale!r}")
    paths = demo_paths(out_dir)
    if not overwrite and all(path.is_file() for path in paths.values()):
        logger.info(
            "demo data already present in %s; reusing it (pass overwrite=True to regenerate; "
            "the README there records the seed and scale it was made with)",
            paths["readme"].parent,
        )
        return paths
    started = time.perf_counter()
    demo = _build(seed=seed, scale=scale)
    _write_gpkg(paths["bag"], {"pand": demo.panden, "verblijfsobject": demo.vbo_rows})
    for year, layers in demo.cbs.items():
        _write_gpkg(paths[_CBS_KEYS[year]], layers, promote_to_multi=True)
    _write_ep_online(paths["labels"], demo.labels, demo.mutatievolgnummer)
    write_text_atomic(paths["readme"], _readme(demo, seed=seed, scale=scale))
    logger.info(
        "wrote synthetic demo region to %s in %.1f s: %s",
        paths["readme"].parent,
        time.perf_counter() - started,
        ", ".join(f"{k} {v}" for k, v in demo.summary.items()),
    )
    return paths


# ============================================================================================
# The region in memory
# ============================================================================================


@dataclass
class _Demo:
    """Everything :func:`make_demo` writes, as tables."""

    panden: gpd.GeoDataFrame
    vbo_rows: gpd.GeoDataFrame
    cbs: dict[int, dict[str, gpd.GeoDataFrame]]
    labels: pd.DataFrame
    mutatievolgnummer: int
    summary: dict[str, int | float] = field(default_factory=dict)


def _build(*, seed: int, scale: float) -> _Demo:
    """Make the whole region in memory; deterministic for a given seed and scale."""
    layout_rng, plot_rng, build_rng, trait_rng, cbs_rng, label_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )
    buurten = _layout(layout_rng, scale)
    plots = _plots(plot_rng, buurten)
    panden, units = _Builder(build_rng).build(plots)
    panden, units = _place(panden, units, plots)
    panden, units = _identify(build_rng, panden, units, plots, buurten)
    units = _addresses(build_rng, units, plots, buurten)
    dwellings = _dwelling_traits(trait_rng, units, panden, buurten)
    shapes = _dissolve(buurten)
    cbs = {
        year: _cbs_layers(cbs_rng, year, dwellings, units, buurten, shapes=shapes)
        for year in _CBS_KEYS
    }
    labels = _ep_online_rows(label_rng, dwellings, units, panden)
    panden_out, vbo_rows = _bag_tables(panden, units)
    summary = {
        "gemeenten": int(buurten["gemeentecode"].nunique()),
        "wijken": int(buurten["wijkcode"].nunique()),
        "buurten": len(buurten),
        "panden": len(panden_out),
        "verblijfsobjecten": int(units["vbo_id"].nunique()),
        "woningen": int(dwellings["in_stock"].sum()),
        "aandeel_naoorlogs": round(
            float(dwellings.loc[dwellings["in_stock"], "bouwjaar"].between(1945, 1974).mean()), 3
        ),
        "label_dekking": round(
            float(
                dwellings.loc[dwellings["in_stock"], "vbo_id"]
                .isin(labels["BAGVerblijfsobjectID"])
                .mean()
            ),
            3,
        ),
    }
    return _Demo(
        panden=panden_out,
        vbo_rows=vbo_rows,
        cbs=cbs,
        labels=labels,
        mutatievolgnummer=int(label_rng.integers(8_000_000, 9_000_000)),
        summary=summary,
    )


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


def _density(btype: str) -> float:
    """Expected dwellings per m² of a buurt of type ``btype``."""
    width, depth = _PLOT_SIZE.get(btype, _DEFAULT_PLOT)
    mix = _MIX[btype]
    per_plot = sum(w * _DWELLINGS_PER_PLOT.get(kind, 0.0) for kind, w, _, _ in mix)
    return per_plot / sum(w for _, w, _, _ in mix) / (width * depth) * _PACKING


def _split(rng: np.random.Generator, btype: str, dwellings: float, size: float) -> list[_Sector]:
    """Cut ``dwellings`` into buurten of about ``size`` dwellings."""
    k = max(1, round(dwellings / size))
    parts = dwellings * rng.dirichlet(np.full(k, 8.0))
    smallest = 6 * math.prod(_DEFAULT_PLOT) / _PACKING  # room for a few plots at least
    return [_Sector(btype, d, max(d / _density(btype), smallest)) for d in parts]


def _town(
    rng: np.random.Generator, name: str, dwellings: float, rural: float, prosperity: float
) -> _Settlement:
    n, p = dwellings, prosperity
    ring1 = _split(rng, "oude_schil", 0.07 * n, math.inf) + _split(
        rng, "wederopbouw", 0.19 * (1 - 0.15 * p) * n, 650
    )
    n_business = 2 if n > 9000 else 1
    business = [
        _Sector("bedrijventerrein", 0.0, max(80_000.0, 80.0 * n / n_business))
        for _ in range(n_business)
    ]
    rings = [
        _Ring(_split(rng, "centrum", 0.08 * n, 900)),
        _Ring([ring1[i] for i in rng.permutation(len(ring1))]),
        _Ring(_split(rng, "naoorlogs_laat", 0.21 * (1 - 0.1 * p) * n, 650)),
        _Ring(_split(rng, "jaren80", 0.25 * n, 650) + business, rng.uniform(0.65, 0.85)),
        _Ring(
            _split(rng, "nieuwbouw", 0.2 * (1 + 0.25 * p) * n, 650),
            rng.uniform(0.5, 0.9),
            inside=True,
        ),
    ]
    return _Settlement(name, True, False, rural, rings, prosperity)


def _village(
    rng: np.random.Generator, name: str, dwellings: float, rural: float, prosperity: float
) -> _Settlement:
    n = dwellings
    if n < 450:
        rings = [_Ring(_split(rng, "dorp", n, math.inf))]
    elif n < 1200:
        rings = [
            _Ring(_split(rng, "dorpskern", 0.5 * n, math.inf)),
            _Ring(_split(rng, "dorp_naoorlogs", 0.5 * n, math.inf), rng.uniform(0.55, 1.0)),
        ]
    else:
        rings = [
            _Ring(_split(rng, "dorpskern", 0.4 * n, math.inf)),
            _Ring(_split(rng, "dorp_naoorlogs", 0.4 * n, math.inf), rng.uniform(0.6, 1.0)),
            _Ring(_split(rng, "dorp_nieuw", 0.2 * n, math.inf), rng.uniform(0.4, 0.8), True),
        ]
    shrinking = bool(rng.random() < 0.4 - 0.3 * prosperity)
    return _Settlement(name, False, shrinking, rural, rings, prosperity)


def _plan(rng: np.random.Generator, scale: float) -> list[list[_Settlement]]:
    """Settlements per gemeente: a town, villages, and their rural dwellings."""
    n_gemeenten = max(2, round(5 * scale))
    shares = rng.dirichlet(np.full(n_gemeenten, 6.0))
    village_names = iter(rng.permutation(_DORPEN).tolist())
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
            [_town(rng, _GEMEENTEN[g], town, rural_parts[0], prosperity)]
            + [
                _village(rng, next(village_names), size, part, prosperity)
                for size, part in zip(sizes, rural_parts[1:], strict=True)
            ]
        )
    return plan


def _random_points(rng: np.random.Generator, polygon: shapely.Geometry, n: int) -> np.ndarray:
    """``n`` uniformly random points inside ``polygon`` as an (n, 2) array."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    found = np.empty((0, 2))
    while len(found) < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n + 16, 2))
        found = np.vstack([found, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return found[:n]


def _gemeente_polygons(rng: np.random.Generator, n: int) -> list[shapely.Geometry]:
    """``n`` compact, non-overlapping gemeenten tiling an irregular outline."""
    theta = np.linspace(0, 2 * np.pi, 241)[:-1]
    k = np.arange(2, 6)[:, None]
    wobble = 1 + (rng.uniform(0.0, 0.035, (4, 1)) * np.cos(k * theta + rng.uniform(0, 7, (4, 1))))
    radius = 17_500 * math.sqrt(n / 5) * wobble.prod(axis=0)
    outline = shapely.Polygon(
        np.c_[_RD_CENTRE[0] + radius * np.cos(theta), _RD_CENTRE[1] + radius * np.sin(theta)]
    )
    seeds = _random_points(rng, outline, n)
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
    cells = shapely.set_precision(cells, _GRID)
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
        candidates = _random_points(rng, inner if not inner.is_empty else gemeente, 400)
        placed = np.array(centres)
        distance = np.linalg.norm(candidates[:, None, :] - placed[None, :, :], axis=2)
        gap = (distance - radii[: len(placed)]).min(axis=1)  # to the edge of each settlement
        centres.append(candidates[np.argmax(gap)])
    return np.array(centres)


def _sectors(
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


def _direction(angle: float) -> str:
    """Compass name (8 directions) of a mathematical angle."""
    return _DIRECTIONS[round(angle / (np.pi / 4)) % 8]


def _layout(rng: np.random.Generator, scale: float) -> gpd.GeoDataFrame:
    """The buurten of the region with codes, names, type and context."""
    plan = _plan(rng, scale)
    records: list[dict[str, object]] = []
    for g, (gemeente, settlements) in enumerate(
        zip(_gemeente_polygons(rng, len(plan)), plan, strict=True)
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
                for sector, polygon, ring, mid in _sectors(rng, centre, settlement.rings)
            ]  # fmt: skip
            # the countryside: for now the whole territory; _tile leaves it what the rest leaves
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
            grouping = _town_wijken if settlement.town else _village_wijk
            wijken.extend(grouping(rng, settlement.name, built, names))
        gm = 9901 + g
        for w, (wijknaam, members) in enumerate(wijken):
            for b, record in enumerate(sorted(members, key=lambda r: (r["ring"], r["mid"]))):
                record.update(
                    buurtcode=f"BU{gm}{w:02d}{b:02d}",
                    wijkcode=f"WK{gm}{w:02d}",
                    wijknaam=wijknaam,
                    gemeentecode=f"GM{gm}",
                    gemeentenaam=_GEMEENTEN[g],
                    gemeente=g,
                )
                if record["btype"] == "buitengebied":
                    record["setting"] = "buitengebied"
                records.append(record)
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:28992")
    frame["geometry"] = _tile(
        frame.geometry.to_numpy(), (frame["btype"] == "buitengebied").to_numpy()
    )
    first = ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam"]
    return frame[first + [c for c in frame.columns if c not in first]]


def _tile(shapes: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Turn overlapping shapes into a tiling with exactly shared edges.

    All boundaries are noded together on a 1 cm grid and polygonized; each face goes to the
    shape that contains it, a ``background`` shape (a settlement's whole territory) only when
    no other shape does. Separate overlays would leave slivers where borders meet.
    """
    lines = shapely.union_all(shapely.boundary(shapes), grid_size=_GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    face, shape = shapely.STRtree(shapes).query(shapely.point_on_surface(faces), "within")
    first = np.lexsort((background[shape], face))  # per face, foreground shapes first
    face, shape = face[first], shape[first]
    keep = np.r_[True, face[1:] != face[:-1]]
    owner = np.full(faces.size, -1)
    owner[face[keep]] = shape[keep]
    assert (owner >= 0).all(), "a face of the tiling belongs to no buurt"
    return np.array(
        [shapely.union_all(faces[owner == i], grid_size=_GRID) for i in range(shapes.size)]
    )


def _unique(name: str, names: set[str], mid: float) -> str:
    """``name``, or a variant of it not yet in ``names`` (which is updated)."""
    candidate = name
    if candidate in names:
        candidate = f"{name}-{_direction(mid)}"
    number = 2
    while candidate in names:
        candidate, number = f"{name} {number}", number + 1
    names.add(candidate)
    return candidate


def _town_wijken(
    rng: np.random.Generator, town: str, built: list[dict[str, object]], names: set[str]
) -> list[tuple[str, list[dict[str, object]]]]:
    """Group a town's buurten into wijken and name them."""
    themes = {btype: itertools.cycle(rng.permutation(keys)) for btype, keys in _TYPE_THEMES.items()}
    pools = {
        "jaren80": itertools.cycle(rng.permutation(_OLD_NAMES)),
        "nieuwbouw": itertools.cycle(rng.permutation(_NEW_NAMES)),
        "bedrijventerrein": itertools.cycle(rng.permutation(_BEDRIJVENTERREINEN)),
    }
    centrum, postwar, outer, buiten = [], [], [], []
    for b in built:
        btype = str(b["btype"])
        if btype == "buitengebied":
            b["theme"], name = "landelijk", f"Verspreide huizen {town}"
        else:
            b["theme"] = str(next(themes[btype]))
            name = str(next(pools[btype])) if btype in pools else _THEMES[b["theme"]][0]
        b["buurtnaam"] = _unique(name, names, float(b["mid"]))
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
        name = f"{town}-{_direction(float(mean))}" if len(parts) > 1 else f"{town}-Midden"
        wijken.append((name, members))
    # the 1980s-90s sectors in angular order, each with the new-build sectors beyond it,
    # packed into wijken of at most five buurten
    ring3 = sorted((b for b in outer if b["btype"] == "jaren80"), key=lambda b: float(b["mid"]))
    beyond: list[list[dict[str, object]]] = [[b] for b in ring3]
    for b in outer:
        if b["btype"] == "nieuwbouw":
            nearest = min(range(len(ring3)), key=lambda i: _angle_gap(ring3[i], b))
            beyond[nearest].append(b)
    wijk_names = iter(rng.permutation(_OUTER_WIJKEN).tolist())
    packed: list[list[dict[str, object]]] = []
    for group in beyond:
        if packed and len(packed[-1]) + len(group) <= 5:
            packed[-1].extend(group)
        else:
            packed.append(list(group))
    wijken.extend((next(wijk_names), members) for members in packed)
    wijken.append((f"Buitengebied {town}", buiten))
    return wijken


def _angle_gap(a: dict[str, object], b: dict[str, object]) -> float:
    gap = abs(float(a["mid"]) - float(b["mid"])) % (2 * np.pi)
    return min(gap, 2 * np.pi - gap)


def _village_wijk(
    rng: np.random.Generator, village: str, built: list[dict[str, object]], names: set[str]
) -> list[tuple[str, list[dict[str, object]]]]:
    """A village is one wijk: its core, extensions and countryside."""
    for b in built:
        btype, mid = str(b["btype"]), float(b["mid"])
        if btype in ("dorp", "dorpskern"):
            b["theme"], name = "dorp", village
        elif btype == "dorp_naoorlogs":
            b["theme"] = str(rng.choice(_TYPE_THEMES["wederopbouw"]))
            name = f"{village}-{_direction(mid)}"
        elif btype == "dorp_nieuw":
            b["theme"], name = "natuur", str(rng.choice(_NEW_NAMES))
        else:
            b["theme"], name = "landelijk", f"Verspreide huizen {village}"
        b["buurtnaam"] = _unique(name, names, mid)
    return [(village, built)]


# ============================================================================================
# Plots: one structure each
# ============================================================================================


def _plots(rng: np.random.Generator, buurten: gpd.GeoDataFrame) -> pd.DataFrame:
    """Plots of all buurten with their structure kind and bouwjaar.

    A plot is a rectangle of ``width`` × ``depth`` in a local frame: ``(px, py)`` is its corner
    in the frame of its buurt (or of itself, in the countryside), which is rotated by ``angle``
    around the world point ``(ox, oy)``.
    """
    frames = []
    for b in buurten.itertuples():
        width, depth = _PLOT_SIZE.get(b.btype, _DEFAULT_PLOT)
        if b.btype == "buitengebied":
            plots = _scatter_plots(rng, b.geometry, b.target, b.angle, width=width, depth=depth)
        else:
            plots = _grid_plots(rng, b.geometry, b.angle, width=width, depth=depth)
        mix = _MIX[b.btype]
        weights = np.array([w for _, w, _, _ in mix])
        green = np.array([kind == "leeg" for kind, _, _, _ in mix])
        entry = rng.choice(
            len(mix), size=len(plots), p=np.where(green, 0, weights) / weights[~green].sum()
        )
        if green.any():  # parks, green strips and gaps: where a random field is lowest
            field = _smooth_field(rng, plots["px"] + width / 2, plots["py"] + depth / 2)
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


def _smooth_field(rng: np.random.Generator, x: pd.Series, y: pd.Series) -> np.ndarray:
    """A random field at the points ``(x, y)``: a few plane waves of 200-500 m, plus noise."""
    angle = rng.uniform(0, np.pi, 4)
    wavenumber = 2 * np.pi / rng.uniform(200, 500, 4)
    phase = rng.uniform(0, 2 * np.pi, 4)
    xy = np.c_[x.to_numpy(), y.to_numpy()]
    direction = np.c_[np.cos(angle), np.sin(angle)] * wavenumber[:, None]
    return np.cos(xy @ direction.T + phase).sum(axis=1) + rng.normal(0, 0.8, len(xy))


def _grid_plots(
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


# ============================================================================================
# Structures: footprints (boxes in plot coordinates) and units
# ============================================================================================


def _ranks(sizes: np.ndarray) -> np.ndarray:
    """Position of each element within its group, for consecutive groups of ``sizes``."""
    return np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _group_cumsum(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
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


def _row_boxes(
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
    pos = _ranks(count)
    cum = _group_cumsum(widths, count)
    begin = np.where(pos == 0, 0.0, np.roll(cum, 1))  # the same floats as the previous ends
    length = cum[np.cumsum(count) - 1]
    free = plot_width - 2 * _MARGIN - np.bincount(row_plot, weights=length, minlength=rows.size)
    assert (free >= 0).all(), "a row of boxes is wider than its plot"
    row_rank = _ranks(rows)
    start = (
        _MARGIN
        + free[row_plot] / (rows[row_plot] + 1) * (row_rank + 1)
        + _group_cumsum(length, rows)
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


class _Builder:
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
        boxes = _row_boxes(
            self.width[sel], np.ones(n, int), count, widths,
            depth=rng.uniform(8.0, 10.0, n), setback=rng.uniform(2.0, 5.0, n),
        )  # fmt: skip
        self._houses(sel, boxes, rng.uniform(1.9, 2.4, n)[boxes.plot], sheds=0.12)

    def _oud_rij(self, sel: np.ndarray) -> None:
        """Pre-war rows of houses of uneven width, built over a few years."""
        rng, n = self.rng, sel.size
        count = rng.integers(4, 8, n)
        boxes = _row_boxes(
            self.width[sel], np.ones(n, int), count, rng.uniform(4.6, 6.5, count.sum()),
            depth=rng.uniform(8.5, 11.0, n), setback=rng.uniform(0.5, 3.0, n),
        )  # fmt: skip
        self._houses(sel, boxes, rng.uniform(1.6, 2.2, n)[boxes.plot], sheds=0.1, year_spread=6)

    def _twee_onder(self, sel: np.ndarray) -> None:
        """Two semi-detached pairs per plot."""
        rng, n = self.rng, sel.size
        widths = np.repeat(rng.uniform(7.0, 9.0, 2 * n), 2)
        boxes = _row_boxes(
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
        boxes = _row_boxes(
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
        unit = _ranks(n_units)
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
        boxes = _row_boxes(
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
            wtype="bovenwoning", scheme="letter", floor=1 + _ranks(flats),
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
        boxes = _row_boxes(
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
        slot = _ranks(n_units)
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
            boxes = _row_boxes(
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


def _place(
    panden: pd.DataFrame, units: pd.DataFrame, plots: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add world geometries (RD, mm precision) to panden and units.

    Every other row of town plots is mirrored, so that rows face each other across a street
    and lie back to back across their gardens. Shared walls stay shared: the same plot
    coordinates always give the same world coordinates.
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


def _sequence_ids(gemeente: np.ndarray, code: str, rng: np.random.Generator) -> np.ndarray:
    """16-digit BAG identifiers: gemeente code, object type code, 10-digit number."""
    ids = np.empty(gemeente.size, dtype=object)
    for gm in np.unique(gemeente):
        mask = gemeente == gm
        start = int(rng.integers(100_000, 2_000_000))
        ids[mask] = [f"{gm}{code}{n:010d}" for n in range(start, start + int(mask.sum()))]
    return ids


def _identify(
    rng: np.random.Generator,
    panden: pd.DataFrame,
    units: pd.DataFrame,
    plots: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Identifiers, BAG statuses, and a few dwellings that span two panden."""
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
    panden["pand_id"] = _sequence_ids(gm, "10", rng)
    units["buurt"] = plots["buurt"].to_numpy()[units["plot"].to_numpy()]
    units["vbo_id"] = _sequence_ids(gm[units["pand"].to_numpy()], "01", rng)

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


_POSTCODE_LETTERS = [
    a + b
    for a in "ABCDEGHJKLMNPRSTVWXZ"
    for b in "ABCDEGHJKLMNPRSTVWXZ"
    if a + b not in ("SA", "SD", "SS")
]


def _street_name(theme: str, k: int) -> str:
    """The ``k``-th street name of a theme."""
    _, stems, suffixes = _THEMES[theme]
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


def _addresses(
    rng: np.random.Generator, units: pd.DataFrame, plots: pd.DataFrame, buurten: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Street names, house numbers (odd and even sides), letters, toevoegingen, postcodes."""
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
            name = _street_name(theme[b], k)
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
        np.array(_PC4_BASE)[gemeente]
        + pd.Series(area_start).groupby(gemeente).cumsum().to_numpy()
        - 1
    )
    frame["postcode"] = pc4.astype(str) + np.array(_POSTCODE_LETTERS)[in_wijk % 200]
    frame["woonplaats_naam"] = woonplaats[frame["buurt"].to_numpy()]
    columns = ["huisnummer", "huisletter", "toevoeging", "postcode", "openbare_ruimte_naam",
               "woonplaats_naam"]  # fmt: skip
    return units.join(frame[columns])


# ============================================================================================
# Dwellings: ownership, value, energy, households
# ============================================================================================


def _by_type(wtype: np.ndarray, values: dict[str, float], default: float = 1.0) -> np.ndarray:
    """Look up a number per dwelling type."""
    return np.array([values.get(t, default) for t in wtype.tolist()])


def _dwelling_traits(
    rng: np.random.Generator,
    units: pd.DataFrame,
    panden: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """One row per dwelling (unit with a woonfunctie) with the draws behind CBS and EP-Online.

    Ownership is drawn per plot (a terrace or a block of flats has one owner, with a few units
    sold off), WOZ value from floor area, type, age and location, the energy performance from
    the build year, type and an eventual renovation, households from type and age.
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
    eengezins = np.isin(wtype, _EENGEZINS)
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
    shape = _by_type(wtype, {"tussen": 0.9, "twee_onder": 1.05, "vrijstaand": 1.12,
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
        * _by_type(wtype, {"vrijstaand": 1.15, "twee_onder": 1.05, "tussen": 0.97,
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


def _address_density(xy: np.ndarray) -> np.ndarray:
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


def _cbs_sums(year: int, d: pd.DataFrame, units: pd.DataFrame, n_buurten: int) -> pd.DataFrame:
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
    density = _address_density(shapely.get_coordinates(addresses["geometry"].to_numpy()))
    sums["adressen"] = np.bincount(addresses["buurt"], minlength=n_buurten)
    sums["dichtheid"] = np.bincount(addresses["buurt"], weights=density, minlength=n_buurten)
    return sums


def _cbs_figures(rng: np.random.Generator, s: pd.DataFrame, *, exact: bool) -> pd.DataFrame:
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


def _dissolve(buurten: gpd.GeoDataFrame) -> dict[str, pd.Series]:
    """Geometry of each CBS layer, by code: buurten as they are, wijken and gemeenten merged."""
    shapes = {}
    for layer, keys in _CBS_LEVELS.items():
        code = buurten[keys[0]].to_numpy()
        if layer == "buurten":
            shapes[layer] = pd.Series(buurten.geometry.to_numpy(), index=code).sort_index()
        else:
            geoms = buurten.geometry.to_numpy()
            shapes[layer] = pd.Series(
                {c: shapely.union_all(geoms[code == c], grid_size=_GRID) for c in np.unique(code)}
            )
    return shapes


def _cbs_layers(
    rng: np.random.Generator,
    year: int,
    d: pd.DataFrame,
    units: pd.DataFrame,
    buurten: gpd.GeoDataFrame,
    *,
    shapes: dict[str, pd.Series],
) -> dict[str, gpd.GeoDataFrame]:
    """The layers ``gemeenten``, ``wijken`` and ``buurten`` of the wijk- en buurtkaart."""
    sums = _cbs_sums(year, d, units, len(buurten))
    sums["oppervlakte"] = buurten.area.to_numpy()
    postcodes = units.assign(pc4=units["postcode"].str[:4])[["buurt", "pc4"]]
    layers = {}
    for layer, keys in _CBS_LEVELS.items():
        code = buurten[keys[0]].to_numpy()
        totals = sums.groupby(code, sort=True).sum()
        figures = _cbs_figures(rng, totals, exact=layer == "gemeenten")
        if layer == "buurten":
            # a few income figures are confidential; the latest year's come later for some
            secret = rng.random(len(figures)) < 0.03
            figures.loc[secret, list(_INCOME_COLUMNS)] = _SECRET
            if year == max(_CBS_KEYS):
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


# ============================================================================================
# EP-Online bulk CSV
# ============================================================================================


def _decimal(values: np.ndarray, digits: int) -> np.ndarray:
    """Numbers with a decimal comma; NaN becomes an empty field."""
    values = np.asarray(values, dtype=float)
    text = np.full(values.shape, "", dtype=object)
    present = ~np.isnan(values)
    if present.any():
        text[present] = np.char.replace(np.char.mod(f"%.{digits}f", values[present]), ".", ",")
    return text


def _dates(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Random days between ``first`` and ``last`` (datetime64[D] arrays, inclusive)."""
    span = (last - first).astype(int)
    return first + rng.integers(0, np.maximum(span, 0) + 1).astype("timedelta64[D]")


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    return np.char.replace(np.datetime_as_string(days, unit="D"), "-", "")


def _label_rows(
    rng: np.random.Generator,
    pe: np.ndarray,
    day: np.ndarray,
    gebouwklasse: str,
    new: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The label columns of registrations made on ``day`` for energy performance ``pe``.

    Before 2021 labels were NEN 7120 labels with an energy index (and no class above A++);
    later ones are NTA 8800 labels with their energy figures. ``new`` marks labels of new
    buildings, which come with the requirements of the building code.
    """
    n = pe.size
    nta = day >= np.datetime64("2021-01-01")
    label = np.searchsorted(_LABEL_BOUNDS, pe, side="left")
    label = np.where(nta, label, np.maximum(label, _LABELS.index("A++")))
    klasse = np.array(_LABELS)[label]
    ei_low = np.array([_EI_BOUNDS.get(k, (0.0, 0.0))[0] for k in klasse])
    ei_high = np.array([_EI_BOUNDS.get(k, (0.0, 0.0))[1] for k in klasse])
    energy_index = np.where(nta, np.nan, rng.uniform(ei_low, ei_high))
    renewable = np.clip(
        np.interp(pe, [-50, 50, 150, 400], [85, 55, 15, 2]) + rng.normal(0, 4, n), 0, 100
    )
    demand = np.where(nta, np.maximum(pe, 15) * rng.uniform(0.5, 0.7, n) + 20, np.nan)
    new = np.zeros(n, bool) if new is None else new & nta
    return {
        "Energieklasse": klasse,
        "Registratiedatum": _yyyymmdd(day),
        "GeldigTot": _yyyymmdd(day + np.timedelta64(3652, "D")),
        "Opnamedatum": _yyyymmdd(day - rng.integers(1, 60, n).astype("timedelta64[D]")),
        "Berekeningstype": np.where(
            nta,
            np.where(
                day < np.datetime64("2022-07-01"),
                "NTA 8800:2020 (basisopname woningbouw)",
                "NTA 8800:2022 (basisopname woningbouw)",
            ),
            rng.choice(["ISSO 82.3", "NEN 7120"], n),
        )
        if gebouwklasse == "W"
        else np.where(nta, "NTA 8800:2022 (utiliteitsbouw)", "NEN 7120"),
        "SoortOpname": np.where(
            nta, np.where(new | (rng.random(n) < 0.15), "Detailopname", "Basisopname"), ""
        ),
        "Status": np.where(new, "Nieuwbouw", "Bestaand"),
        "OpBasisVanReferentiegebouw": np.where(rng.random(n) < 0.12, "true", "false"),
        "Gebouwklasse": np.full(n, gebouwklasse),
        "Energiebehoefte": _decimal(demand, 1),
        "Warmtebehoefte": _decimal(demand * rng.uniform(0.6, 0.8, n), 1),
        "PrimaireFossieleEnergie": _decimal(np.where(nta, pe, np.nan), 1),
        "AandeelHernieuwbareEnergie": _decimal(np.where(nta, renewable, np.nan), 1),
        "BerekendeCO2Emissie": _decimal(np.where(nta, np.maximum(pe, 0) * 0.18, np.nan), 1),
        "BerekendeEnergieverbruik": _decimal(
            np.where(nta, np.maximum(pe, 0) * 0.85 + 25, np.nan), 1
        ),
        "EnergieIndex": _decimal(energy_index, 2),
        "PrimaireFossieleEnergieEMGForfaitair": _decimal(
            np.where(nta, pe * rng.uniform(1.0, 1.15, n), np.nan), 1
        ),
        "AandeelHernieuwbareEnergieEMGForfaitair": _decimal(
            np.where(nta, renewable * 0.9, np.nan), 1
        ),
        "Temperatuuroverschrijding": _decimal(np.where(new, rng.uniform(0, 1.1, n), np.nan), 2),
        "EisEnergiebehoefte": _decimal(np.where(new, rng.uniform(55, 70, n), np.nan), 1),
        "EisPrimaireFossieleEnergie": _decimal(np.where(new, 30.0, np.nan), 1),
        "EisAandeelHernieuwbareEnergie": _decimal(np.where(new, 40.0, np.nan), 1),
        "EisTemperatuuroverschrijding": _decimal(np.where(new, 1.2, np.nan), 2),
        "Certificaathouder": rng.choice(_CERTIFICAATHOUDERS, n),
    }


_SBI = {
    "winkelfunctie": "4711", "kantoorfunctie": "6920", "onderwijsfunctie": "8520",
    "gezondheidszorgfunctie": "8621", "logiesfunctie": "5510", "sportfunctie": "9311",
    "bijeenkomstfunctie": "5630", "industriefunctie": "2511", "overige gebruiksfunctie": "5210",
}  # fmt: skip


def _day(text: str, n: int) -> np.ndarray:
    """``n`` copies of the date ``text`` (YYYY-MM-DD)."""
    return np.full(n, np.datetime64(text, "D"))


def _year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[Y]").astype(int) + 1970


def _ep_online_rows(
    rng: np.random.Generator, d: pd.DataFrame, units: pd.DataFrame, panden: pd.DataFrame
) -> pd.DataFrame:
    """Registrations in the EP-Online v5 CSV layout (all values as text).

    About half of the dwellings have a label: most new and corporation homes, few old
    owner-occupied detached houses. Some dwellings were labelled twice (the older label worse),
    some utility buildings are labelled, and some rows concern objects outside the region.
    """
    stock = d[d["in_stock"]]
    bouwjaar, eigendom = stock["bouwjaar"].to_numpy(), stock["eigendom"].to_numpy()
    old_detached = (stock["wtype"].to_numpy() == "vrijstaand") & (bouwjaar < 1945)
    p = np.select(
        [bouwjaar >= 2021, eigendom == "corporatie", bouwjaar >= 1990, eigendom == "particulier",
         old_detached],
        [0.95, 0.75, 0.62, 0.45, 0.15],
        0.33,
    )  # fmt: skip
    reg = stock[rng.random(len(stock)) < p]
    n = len(reg)
    built = reg["bouwjaar"].to_numpy()

    # registration day: new homes on completion, most others since the 2021 label rules
    new_home = built >= 2021
    recent = new_home | (rng.random(n) < 0.55)
    completed = (built - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 30
    first = np.where(
        new_home, completed, np.where(recent, _day("2021-01-01", n), _day("2014-01-01", n))
    )
    day = _dates(rng, first, np.where(recent, _day("2023-10-31", n), _day("2020-12-31", n)))
    pe_orig, pe_now = reg["pe_orig"].to_numpy(), reg["pe"].to_numpy()
    renovated = reg["renovated"].to_numpy()
    pe = np.where(renovated & (_year(day) < reg["reno_year"].to_numpy()), pe_orig, pe_now)

    # ~3% of dwellings were labelled twice: an old label before improvements, a newer one after
    older = np.flatnonzero(built < 1992)
    twice = np.sort(rng.choice(older, min(older.size, round(0.03 * len(stock))), replace=False))
    first_day = _dates(rng, _day("2014-01-01", twice.size), _day("2019-12-31", twice.size))
    day[twice] = _dates(rng, _day("2020-06-01", twice.size), _day("2023-10-31", twice.size))
    improvement = np.where(renovated[twice], 1.0, rng.uniform(0.75, 0.92, twice.size))
    pe[twice] = np.where(renovated[twice], pe_now[twice], pe_orig[twice]) * improvement
    first_pe = np.maximum(pe_orig[twice], pe[twice] + 30)

    rows = pd.concat([reg, reg.iloc[twice]], ignore_index=True)
    days = np.r_[day, first_day]
    wtypes = rows["wtype"].to_numpy()
    flat = ~np.isin(wtypes, _EENGEZINS)
    dwelling_frame = pd.DataFrame({
        **_address_fields(rows, panden),
        **_label_rows(rng, np.r_[pe, first_pe], days, "W",
                      new=_year(days) <= rows["bouwjaar"].to_numpy() + 1),
        "Gebouwtype": np.where(flat, "Appartement", [_EP_TYPE.get(t, "") for t in wtypes]),
        "Gebouwsubtype": [_EP_SUBTYPE.get(t, "") for t in wtypes],
        "Bouwjaar": rows["bouwjaar"].astype(str).to_numpy(),
        "GebruiksoppervlakteThermischeZone": _decimal(
            rows["area"].to_numpy() * rng.uniform(0.95, 1.05, len(rows)), 1
        ),
        "Compactheid": _decimal(
            np.where(flat, rng.uniform(0.5, 1.3, len(rows)), rng.uniform(1.4, 2.8, len(rows))), 2
        ),
    })  # fmt: skip

    # utility buildings
    in_use = units["status"] == "Verblijfsobject in gebruik"
    utility = units[~units["doel"].str.contains("woonfunctie") & in_use]
    utility = utility[rng.random(len(utility)) < 0.35]
    k = len(utility)
    utility_frame = pd.DataFrame({
        **_address_fields(utility, panden),
        **_label_rows(rng, rng.lognormal(np.log(210), 0.45, k),
                      _dates(rng, _day("2014-01-01", k), _day("2023-10-31", k)), "U"),
        "SBICode": [_SBI.get(doel, "") for doel in utility["doel"].to_numpy()],
        "Bouwjaar": panden["year"].to_numpy()[utility["pand"].to_numpy()].astype(str),
        "GebruiksoppervlakteThermischeZone": _decimal(utility["area"].to_numpy(), 1),
        "Compactheid": _decimal(rng.uniform(0.3, 1.2, k), 2),
    })  # fmt: skip

    # objects outside the region: dwellings elsewhere (01), houseboats (02) and caravans (03)
    k = max(10, round(0.01 * len(dwelling_frame)))
    kind = rng.choice(["01", "02", "03"], k, p=[0.8, 0.12, 0.08])
    ids = np.array([
        f"{gm}{code}{number:010d}"
        for gm, code, number in zip(rng.integers(9911, 9916, k), kind, rng.integers(1, 10**9, k),
                                    strict=True)
    ])  # fmt: skip
    outside_frame = pd.DataFrame({
        "BAGVerblijfsobjectID": np.where(kind == "01", ids, ""),
        "BAGLigplaatsID": np.where(kind == "02", ids, ""),
        "BAGStandplaatsID": np.where(kind == "03", ids, ""),
        "Postcode": rng.integers(7900, 7999, k).astype(str)
        + np.array(_POSTCODE_LETTERS)[rng.integers(0, 200, k)],
        "Huisnummer": rng.integers(1, 200, k).astype(str),
        **_label_rows(rng, rng.lognormal(np.log(250), 0.35, k),
                      _dates(rng, _day("2014-01-01", k), _day("2023-10-31", k)), "W"),
        "Gebouwtype": np.select([kind == "02", kind == "03"], ["Woonboot", "Woonwagen"],
                                "Rijwoning tussen"),
        "Bouwjaar": rng.integers(1930, 2020, k).astype(str),
        "GebruiksoppervlakteThermischeZone": _decimal(rng.uniform(40, 140, k), 1),
    })  # fmt: skip

    table = pd.concat([dwelling_frame, utility_frame, outside_frame], ignore_index=True)
    table = table.reindex(columns=list(V5_COLUMNS), fill_value="").fillna("")
    return table.iloc[rng.permutation(len(table))].reset_index(drop=True)


def _address_fields(frame: pd.DataFrame, panden: pd.DataFrame) -> dict[str, np.ndarray]:
    """The BAG identification and address columns of EP-Online for some units."""
    pand_id = panden["pand_id"].to_numpy()
    first = pand_id[frame["pand"].to_numpy()]
    second = frame["pand2"].to_numpy()
    return {
        "BAGVerblijfsobjectID": frame["vbo_id"].to_numpy(),
        "BAGPandIDs": np.where(second >= 0, first + "," + pand_id[np.maximum(second, 0)], first),
        "Postcode": frame["postcode"].to_numpy(),
        "Huisnummer": frame["huisnummer"].astype(str).to_numpy(),
        "Huisletter": frame["huisletter"].fillna("").to_numpy(),
        "Huisnummertoevoeging": frame["toevoeging"].fillna("").to_numpy(),
    }


# ============================================================================================
# BAG tables and writing
# ============================================================================================


def _bag_tables(
    panden: pd.DataFrame, units: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ``pand`` and ``verblijfsobject`` layers of bag-light.

    A unit in two panden has one ``verblijfsobject`` row per pand, with the same identificatie.
    """
    pand_id = panden["pand_id"].to_numpy()
    spanning = units[units["pand2"] >= 0].assign(pand=lambda u: u["pand2"])
    rows = pd.concat([units, spanning]).sort_values(["vbo_id", "pand"], kind="stable")
    pand = rows["pand"].to_numpy()
    vbo = gpd.GeoDataFrame(
        {
            "identificatie": rows["vbo_id"].to_numpy(),
            "pand_identificatie": pand_id[pand],
            "gebruiksdoel": rows["doel"].to_numpy(),
            "oppervlakte": rows["area"].astype(np.int64).to_numpy(),
            "status": rows["status"].to_numpy(),
            "huisnummer": rows["huisnummer"].astype(np.int64).to_numpy(),
            "huisletter": rows["huisletter"].to_numpy(),
            "toevoeging": rows["toevoeging"].to_numpy(),
            "postcode": rows["postcode"].to_numpy(),
            "openbare_ruimte_naam": rows["openbare_ruimte_naam"].to_numpy(),
            "woonplaats_naam": rows["woonplaats_naam"].to_numpy(),
            "bouwjaar": panden["year"].to_numpy()[pand],
            "pandstatus": panden["status"].to_numpy()[pand],
            "rdf_seealso": "http://bag.basisregistraties.overheid.nl/bag/id/verblijfsobject/"
            + rows["vbo_id"],
        },
        geometry=rows["geometry"].to_numpy(),
        crs="EPSG:28992",
    )
    current = rows[rows["status"] != "Verblijfsobject ingetrokken"]
    uses = (
        current.assign(doel=current["doel"].str.split(","))[["pand", "doel"]]
        .explode("doel").drop_duplicates().sort_values(["pand", "doel"])
    )  # fmt: skip
    uses = (uses["doel"] + ",").groupby(uses["pand"]).sum().str[:-1]  # joined with commas
    area = current.groupby("pand")["area"].agg(["min", "max", "size"])
    index = panden["pand"]
    pand_layer = gpd.GeoDataFrame(
        {
            "identificatie": pand_id,
            "bouwjaar": panden["year"].to_numpy(),
            "status": panden["status"].to_numpy(),
            "gebruiksdoel": uses.reindex(index).to_numpy(),
            "oppervlakte_min": area["min"].reindex(index).astype("Int64").to_numpy(),
            "oppervlakte_max": area["max"].reindex(index).astype("Int64").to_numpy(),
            "aantal_verblijfsobjecten": area["size"]
            .reindex(index)
            .fillna(0)
            .astype(np.int64)
            .to_numpy(),
            "rdf_seealso": "http://bag.basisregistraties.overheid.nl/bag/id/pand/"
            + panden["pand_id"],
        },
        geometry=panden["geometry"].to_numpy(),
        crs="EPSG:28992",
    )
    return pand_layer, vbo


def _write_gpkg(
    path: Path, layers: dict[str, gpd.GeoDataFrame], *, promote_to_multi: bool = False
) -> None:
    """Write layers into one GeoPackage atomically, each with the synthetic-data metadata."""
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            pyogrio.write_dataframe(
                frame,
                tmp,
                layer=name,
                driver="GPKG",
                promote_to_multi=promote_to_multi,
                layer_options={"GEOMETRY_NAME": "geom"},
                layer_metadata=_LAYER_METADATA,
            )
    logger.debug("wrote %s (%s)", path, ", ".join(f"{k}: {len(v)}" for k, v in layers.items()))


def _write_ep_online(path: Path, rows: pd.DataFrame, mutatievolgnummer: int) -> None:
    """Write the EP-Online CSV (UTF-8 with BOM, two preamble lines, ``;``) zipped, atomically."""
    text = io.StringIO()
    text.write(f"PublicatieDatum;{_EP_PUBLICATION}\n")
    text.write(f"LaatstVerwerkteMutatievolgnummer;{mutatievolgnummer}\n")
    rows.to_csv(text, sep=";", index=False, lineterminator="\n")
    member = zipfile.ZipInfo(_EP_MEMBER, date_time=(2023, 11, 1, 0, 0, 0))
    member.external_attr = 0o644 << 16
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr(
            member, text.getvalue().encode("utf-8-sig"), compress_type=zipfile.ZIP_DEFLATED
        )


def _readme(demo: _Demo, *, seed: int, scale: float) -> str:
    counts = "\n".join(f"| {key} | {value} |" for key, value in demo.summary.items())
    return f"""# SYNTHETIC demo data of woonvoorraad

**Everything in this folder is SYNTHETIC (SYNTHETISCHE DEMODATA).** The region, its
gemeenten, wijken, buurten, streets, buildings, addresses, statistics and energy labels are
invented. Names are fictional (any likeness to a real place is coincidental) and the codes lie
outside the ranges of the real registers: gemeenten `GM9901` and up, BAG identifiers starting
with `99`. Do not use these files for anything but trying out and testing woonvoorraad.

Every GeoPackage layer carries the layer metadata `woonvoorraad_synthetic = true`; outputs
built from these files are labelled synthetic.

## How it was made

`woonvoorraad.demo.region.make_demo(seed={seed}, scale={scale})` of woonvoorraad {__version__};
the same seed and scale give the same data. Gemeenten are cells of an irregular outline in
the Drenthe part of the RD grid (EPSG:28992). Each has a town that grows in rings around its
old centre (pre-war, wederopbouw, late post-war, 1980s-90s with a business park, new builds)
and villages with a core and a post-war extension; the rest is countryside with scattered
farms. Buurten are filled with terraces, semi-detached and detached houses,
walk-up and high-rise flats, shops with flats above, public buildings, garage boxes, business
halls and farms. Ownership, WOZ value, energy use, households and labels are drawn per
dwelling from its type, age and location; the CBS figures are their sums, rounded and
suppressed as CBS does.

## Files (real layouts)

* `bag-light.gpkg`: PDOK BAG GeoPackage "bag-light", layers `pand` and `verblijfsobject`
  (one row per unit and pand: a few dwellings span two panden).
* `wijkenbuurten_2023.gpkg`, `wijkenbuurten_2022.gpkg`, `wijkenbuurten_2021.gpkg`: CBS wijk- en
  buurtkaart, layers `gemeenten`, `wijken`, `buurten`; -99997 = secret, -99995 = published
  later.
* `ep-online/v20231101_v5_csv.zip`: EP-Online bulk download, v5 CSV with two preamble lines.

## Contents

| what | count |
|---|---|
{counts}
"""
