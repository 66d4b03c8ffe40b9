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

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from woonvoorraad import __version__, layout
from woonvoorraad._io import atomic_path, write_text_atomic
from woonvoorraad.demo.buildings import StructureBuilder, place_in_world
from woonvoorraad.demo.geography import lay_out_buurten
from woonvoorraad.demo.hamlets import assign_hamlets
from woonvoorraad.demo.households import make_true_dwellings
from woonvoorraad.demo.identifiers import assign_addresses, assign_ids
from woonvoorraad.demo.labels import make_ep_online_rows, make_true_labels, write_ep_online
from woonvoorraad.demo.plots import plan_plots
from woonvoorraad.demo.statistics import (
    CBS_KEYS,
    dissolve_levels,
    draw_dwelling_traits,
    make_cbs_layers,
)

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

_LAYER_METADATA: dict[str, str] = {
    "woonvoorraad_synthetic": "true",
    "woonvoorraad_description": (
        "SYNTHETISCHE DEMODATA van woonvoorraad: een verzonnen regio met fictieve namen en "
        "codes (GM9901 en hoger); geen echte gebouwen, adressen of statistieken."
    ),
}


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
    folder = Path(out_dir) if out_dir is not None else layout.raw_dir(None, layout.DEMO)
    return {key: folder / name for key, name in _FILES.items()}


#: File beside the demo inputs with every dwelling's true label (synthetic truth for
#: validating estimated labels; not an input of the build).
TRUTH_FILE = "waarheid_labels.parquet"


def read_true_labels(folder: str | Path) -> pd.DataFrame:
    """The demo's true label of every dwelling (:func:`~woonvoorraad.demo.labels.make_true_labels`)
    from a folder written by :func:`make_demo`: SYNTHETIC truth, for validation only."""
    return pd.read_parquet(Path(folder) / TRUTH_FILE)


#: File beside the demo inputs with every dwelling's owner, WOZ, household and income
#: (synthetic truth for validating the target-group estimate; not an input of the build).
TRUTH_DWELLINGS_FILE = "waarheid_woningen.parquet"
#: The WOZ of :data:`TRUTH_DWELLINGS_FILE` is that behind ``gemiddelde_woningwaarde`` of the
#: demo's wijk- en buurtkaart of this (its latest) year.
TRUTH_WOZ_JAAR = 2023


def read_true_dwellings(folder: str | Path) -> pd.DataFrame:
    """The demo's true owner, WOZ, household and income of every dwelling of the stock
    (:func:`~woonvoorraad.demo.households.make_true_dwellings`) from a folder written by
    :func:`make_demo`: SYNTHETIC truth, for validation only.

    Returns
    -------
    pandas.DataFrame
        ``vbo_id``, ``eigendom``, ``woz`` (€, CBS year :data:`TRUTH_WOZ_JAAR`), ``bewoond``,
        ``huishoudgrootte``, ``inkomen_huishouden`` (gross € a year).
    """
    return pd.read_parquet(Path(folder) / TRUTH_DWELLINGS_FILE)


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
    truth = paths["readme"].parent / TRUTH_FILE
    truth_dwellings = paths["readme"].parent / TRUTH_DWELLINGS_FILE
    if not overwrite and truth.is_file() and truth_dwellings.is_file() and all(
            path.is_file() for path in paths.values()):
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
        _write_gpkg(paths[CBS_KEYS[year]], layers, promote_to_multi=True)
    write_ep_online(paths["labels"], demo.labels, demo.mutatievolgnummer)
    with atomic_path(truth) as tmp:
        demo.truth.to_parquet(tmp, index=False)
    with atomic_path(truth_dwellings) as tmp:
        demo.true_dwellings.to_parquet(tmp, index=False)
    write_text_atomic(paths["readme"], _make_readme(demo, seed=seed, scale=scale))
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
    truth: pd.DataFrame = field(default_factory=pd.DataFrame)
    true_dwellings: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict[str, int | float] = field(default_factory=dict)


def _build(*, seed: int, scale: float) -> _Demo:
    """Make the whole region in memory; deterministic for a given seed and scale."""
    # streams 7 and 8 were added later; spawning more children leaves the first six the same
    layout_rng, plot_rng, build_rng, trait_rng, cbs_rng, label_rng, hamlet_rng, household_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)
    )
    buurten = lay_out_buurten(layout_rng, scale)
    plots = plan_plots(plot_rng, buurten)
    panden, units = StructureBuilder(build_rng).build(plots)
    panden, units = place_in_world(panden, units, plots)
    panden, units = assign_ids(build_rng, panden, units, plots, buurten)
    units = assign_addresses(build_rng, units, plots, buurten)
    units = assign_hamlets(hamlet_rng, units, buurten)
    dwellings = draw_dwelling_traits(trait_rng, units, panden, buurten)
    shapes = dissolve_levels(buurten)
    cbs = {
        year: make_cbs_layers(cbs_rng, year, dwellings, units, buurten, shapes=shapes)
        for year in CBS_KEYS
    }
    labels = make_ep_online_rows(label_rng, dwellings, units, panden)
    panden_out, vbo_rows = _make_bag_tables(panden, units)
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
        "woonplaatsen": int(units["woonplaats_naam"].nunique()),
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
        truth=make_true_labels(dwellings),
        true_dwellings=make_true_dwellings(household_rng, dwellings),
        summary=summary,
    )


# ============================================================================================
# BAG tables and writing
# ============================================================================================


def _make_bag_tables(
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


def _make_readme(demo: _Demo, *, seed: int, scale: float) -> str:
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
suppressed as CBS does. Every address has a BAG woonplaats (`woonplaats_naam`): the town or
village, also for the farms of its rural buurt "Verspreide huizen <dorp>"; some of those buurten
also hold a hamlet (gehucht) with a woonplaats of its own, so a buurt can span two woonplaatsen.

## Files (real layouts)

* `bag-light.gpkg`: PDOK BAG GeoPackage "bag-light", layers `pand` and `verblijfsobject`
  (one row per unit and pand: a few dwellings span two panden).
* `wijkenbuurten_2023.gpkg`, `wijkenbuurten_2022.gpkg`, `wijkenbuurten_2021.gpkg`: CBS wijk- en
  buurtkaart, layers `gemeenten`, `wijken`, `buurten`; -99997 = secret, -99995 = published
  later.
* `ep-online/v20231101_v5_csv.zip`: EP-Online bulk download, v5 CSV with two preamble lines.
* `{TRUTH_FILE}` and `{TRUTH_DWELLINGS_FILE}`: SYNTHETIC truth for validation only, not inputs:
  the true energy label of every dwelling, and per dwelling of the stock its owner
  (`eigendom`), WOZ value (`woz`, € of the {TRUTH_WOZ_JAAR} CBS figures), whether it is
  occupied (`bewoond`), household size (`huishoudgrootte`) and gross household income
  (`inkomen_huishouden`, € a year; per buurt it gives the CBS income per inwoner).

## Contents

| what | count |
|---|---|
{counts}
"""
