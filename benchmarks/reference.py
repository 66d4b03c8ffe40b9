"""The straightforward reference implementation of ``woonvoorraad build``, for the benchmark.

This is how an analyst fluent in geopandas would write the build without thinking about
scale: read every layer whole with :func:`geopandas.read_file` (all columns, default engine),
join with :func:`geopandas.sjoin` and pandas merges, and aggregate per buurt with
``groupby().apply``. It is honest, idiomatic code, not a straw man: it uses the spatial index
that ``sjoin`` builds (``within`` for point in polygon, ``dwithin`` for the touching-neighbours
rule, as geopandas 1.x recommends), vectorised string tests and no loops over rows.

It applies the same rules as the real build (``docs/schema.md``; the same configuration
values): the CBS dwelling definition, the oldest linked pand's build year with implausible
years as unknown, the main pand as the largest linked footprint (ties: lowest id), the PBL Vesta
touching-neighbours rule over panden holding an existing unit, point in polygon for the buurt,
the PBL default label per type and period, and the per-buurt counts. ``benchmarks/run.py``
checks that its per-buurt ``n_woningen`` and ``n_naoorlogs`` (and the type counts) equal the
real build's.

Usage::

    python benchmarks/reference.py --bag bag-light.gpkg --buurten wijkenbuurten.gpkg --out DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from woonvoorraad.config import default_config
from woonvoorraad.stock.kentallen import read_pbl_kentallen

NOT_EXISTING = ["Verblijfsobject ingetrokken", "Niet gerealiseerd verblijfsobject",
                "Verblijfsobject ten onrechte opgevoerd"]
PERIOD_EDGES = [-np.inf, 1929, 1945, 1964, 1974, 1991, 1995, 1999, 2005, 2010, 2014, np.inf]
PERIOD_LABELS = ["voor 1930", "1930 - 1945", "1946 - 1964", "1965 - 1974", "1975 - 1991",
                 "1992 - 1995", "1996 - 1999", "2000 - 2005", "2006 - 2010", "2011 - 2014",
                 "2015 - 2020"]


def reference_build(bag_path: str | Path, buurten_path: str | Path, out: str | Path
                    ) -> dict[str, float]:
    """Run the reference build and write ``dwellings.parquet`` and ``buurten.parquet``.

    Parameters
    ----------
    bag_path
        BAG GeoPackage in the PDOK bag-light layout.
    buurten_path
        CBS wijk- en buurtkaart GeoPackage (layer ``buurten``).
    out
        Output folder.

    Returns
    -------
    dict
        Seconds per step.
    """
    cfg = default_config()
    statuses = cfg["dwellings"]["statuses"]
    lo, hi = cfg["dwellings"]["bouwjaar_min"], cfg["dwellings"]["bouwjaar_max"]
    per = cfg["periods"]
    wt = cfg["woningtype"]
    steps: dict[str, float] = {}
    t = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps[name] = round(now - t, 2)
        t = now

    pand = gpd.read_file(bag_path, layer="pand")
    vbo = gpd.read_file(bag_path, layer="verblijfsobject")
    buurten = gpd.read_file(buurten_path, layer="buurten")
    step("read")

    # CBS missing-value codes -> NaN; implausible build years -> unknown
    numeric = buurten.select_dtypes("number").columns
    buurten[numeric] = buurten[numeric].where(buurten[numeric] > -99990)
    pand["bouwjaar"] = pand["bouwjaar"].where(pand["bouwjaar"].between(lo, hi))
    pand["footprint"] = pand.geometry.area

    # unit -> pand links of existing units (bag-light lists a multi-pand unit once per pand)
    vbo = vbo[~vbo["status"].isin(NOT_EXISTING)]
    links = vbo[["identificatie", "pand_identificatie"]].merge(
        pand[["identificatie", "bouwjaar", "footprint"]].rename(
            columns={"identificatie": "pand_identificatie"}),
        on="pand_identificatie", how="left")
    main = (links.sort_values(["identificatie", "footprint", "pand_identificatie"],
                              ascending=[True, False, True])
            .drop_duplicates("identificatie").set_index("identificatie")["pand_identificatie"])
    oldest = links.groupby("identificatie")["bouwjaar"].min()
    units = vbo.drop_duplicates("identificatie").set_index("identificatie")
    units["pand"] = main
    units["bouwjaar"] = oldest
    units["woon"] = units["gebruiksdoel"].str.replace(" ", "").str.split(",").map(
        lambda doelen: "woonfunctie" in doelen)
    units["dwelling"] = units["woon"] & units["status"].isin(statuses)
    step("units")

    # woningtype: PBL Vesta touching-neighbours rule on panden holding an existing unit
    linked = pand.loc[pand["identificatie"].isin(links["pand_identificatie"]),
                      ["identificatie", "footprint", "geometry"]]
    pairs = gpd.sjoin(linked, linked, predicate="dwithin", distance=2 * wt["buffer_m"])
    pairs = pairs[pairs["identificatie_left"] != pairs["identificatie_right"]]
    n_nb = pairs.groupby("identificatie_left").size().reindex(linked["identificatie"],
                                                              fill_value=0)
    pairs["nb_of_nb"] = pairs["identificatie_right"].map(n_nb)
    nb_of_nb = pairs.groupby("identificatie_left")["nb_of_nb"].first()
    panden = linked.set_index("identificatie")
    panden["n_nb"] = n_nb
    panden["nb_of_nb"] = nb_of_nb
    panden["n_won"] = units[units["dwelling"]].groupby("pand").size()
    panden["n_won"] = panden["n_won"].fillna(0)
    panden["vloer"] = units.groupby("pand")["oppervlakte"].sum()
    lagen = panden["vloer"].fillna(0) * wt["bruto_netto_factor"] / panden["footprint"]
    panden["woningtype"] = np.select(
        [(panden["n_won"] == 1) & (panden["n_nb"] == 0),
         (panden["n_won"] == 1) & (panden["n_nb"] == 1) & (panden["nb_of_nb"] == 1),
         (panden["n_won"] == 1) & (panden["n_nb"] == 1),
         (panden["n_won"] == 1) & (panden["n_nb"] >= 2),
         (panden["n_won"] > 1) & (lagen >= wt["meergezins_hoog_min_lagen"]),
         panden["n_won"] > 1],
        ["vrijstaand", "twee_onder_een_kap", "hoekwoning", "tussenwoning", "meergezins_hoog",
         "meergezins_laag"], default=None)
    step("woningtype")

    # the dwelling table
    dwell = units[units["dwelling"]].reset_index()
    dwell = dwell.merge(panden[["woningtype"]], left_on="pand", right_index=True, how="left")
    dwell["naoorlogs"] = dwell["bouwjaar"].between(per["naoorlogs_start"], per["naoorlogs_end"])
    dwell["bouwperiode"] = pd.cut(dwell["bouwjaar"], PERIOD_EDGES, labels=PERIOD_LABELS)
    defaults = read_pbl_kentallen()[["woningtype", "pbl_periode", "default_label"]]
    dwell = dwell.merge(defaults, left_on=["woningtype", "bouwperiode"],
                        right_on=["woningtype", "pbl_periode"], how="left")
    dwell = dwell.rename(columns={"default_label": "energielabel"})
    dwell = gpd.GeoDataFrame(dwell, geometry="geometry", crs=vbo.crs)
    dwell = gpd.sjoin(dwell, buurten[["buurtcode", "wijkcode", "gemeentecode", "geometry"]],
                      how="left", predicate="within")
    step("dwellings")

    # per-buurt indicators
    slecht = cfg["labels"]["slecht"]
    split, eg_voor = per["naoorlogs_split"], per["eengezins_voor"]

    def indicators(g: pd.DataFrame) -> pd.Series:
        eengezins = g["woningtype"].isin(["vrijstaand", "twee_onder_een_kap", "hoekwoning",
                                          "tussenwoning"])
        return pd.Series({
            "n_woningen": len(g),
            "n_naoorlogs": int(g["naoorlogs"].sum()),
            "n_naoorlogs_vroeg": int(g["bouwjaar"].between(per["naoorlogs_start"],
                                                           split - 1).sum()),
            "n_naoorlogs_laat": int(g["bouwjaar"].between(split, per["naoorlogs_end"]).sum()),
            "n_eengezins": int(eengezins.sum()),
            "n_eengezins_voor": int((eengezins & (g["bouwjaar"] < eg_voor)).sum()),
            "n_meergezins": int(g["woningtype"].isin(["meergezins_laag",
                                                      "meergezins_hoog"]).sum()),
            "n_bouwjaar_onbekend": int(g["bouwjaar"].isna().sum()),
            "n_label_efg": int(g["energielabel"].isin(slecht).sum()),
            "mediaan_bouwjaar": g["bouwjaar"].median(),
            "gemiddelde_oppervlakte": g["oppervlakte"].mean(),
        })

    per_buurt = dwell.groupby("buurtcode").apply(indicators)
    result = buurten.merge(per_buurt, left_on="buurtcode", right_index=True, how="left")
    counts = [c for c in per_buurt.columns if c.startswith("n_")]
    result[counts] = result[counts].fillna(0).astype("int64")
    result["aandeel_naoorlogs"] = result["n_naoorlogs"] / result["n_woningen"]
    step("indicators")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dwell.drop(columns=["index_right"]).to_parquet(out / "dwellings.parquet")
    result.to_parquet(out / "buurten.parquet")
    step("write")
    return steps


def main(argv: list[str] | None = None) -> int:
    """Command line used by ``benchmarks/run.py``."""
    ap = argparse.ArgumentParser(description="Reference (straightforward geopandas) build.")
    ap.add_argument("--bag", required=True, type=Path)
    ap.add_argument("--buurten", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    steps = reference_build(args.bag, args.buurten, args.out)
    print(json.dumps({"steps": steps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
