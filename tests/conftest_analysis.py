"""Fixtures for the analysis tests: small hand-made frames and one realistic generated region.

Not a pytest conftest (the lead owns ``tests/conftest.py``): test modules import these helpers
and wrap them in fixtures. Everything follows ``docs/schema.md``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

from woonvoorraad.config import load_config

GEMEENTEN = [
    ("GM0114", "Emmen", 48, 1.00),
    ("GM0109", "Coevorden", 36, 0.95),
    ("GM0118", "Hoogeveen", 34, 1.05),
    ("GM0160", "Hardenberg", 30, 1.10),
    ("GM1681", "Borger-Odoorn", 26, 0.90),
    # every buurt small: no unit reaches the minimum size
    ("GM1680", "Aa en Hunze", 6, 1.25),
    # only recent stock: no target dwellings at all
    ("GM0106", "Assen", 5, 1.40),
]
TYPES = ["vrijstaand", "twee_onder_een_kap", "hoekwoning", "tussenwoning", "meergezins_laag",
         "meergezins_hoog"]
LABELS = ["A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G"]
PBL_PERIODS = [(None, 1929, "voor 1930"), (1930, 1945, "1930 - 1945"),
               (1946, 1964, "1946 - 1964"), (1965, 1974, "1965 - 1974"),
               (1975, 1991, "1975 - 1991"), (1992, 1995, "1992 - 1995"),
               (1996, 1999, "1996 - 1999"), (2000, 2005, "2000 - 2005"),
               (2006, 2010, "2006 - 2010"), (2011, 2014, "2011 - 2014"),
               (2015, 2020, "2015 - 2020")]
#: PBL default label per type for the periods above (from pbl_kentallen.csv)
DEFAULT_LABEL = {
    "vrijstaand": "FFFDCBBBAAA", "twee_onder_een_kap": "FFEDCBBAAAA",
    "hoekwoning": "EEEDCBBAAAA", "tussenwoning": "EEDCCBBAAAA",
    "meergezins_laag": "EEDDCBBBAAA", "meergezins_hoog": "EEDDCBBBAAA",
}


def config(**overrides):
    """Effective config with overrides given as a nested mapping."""
    return load_config(overrides=overrides)


def fast_config(**overrides):
    """Config with a small k range and few draws, for quick tests."""
    base = {
        "typologie": {"k_min": 3, "k_max": 5, "n_init": 4, "stabiliteit_seeds": 2},
        "proeftuin": {"stabiliteit_trekkingen": 100},
    }
    for section, values in overrides.items():
        base.setdefault(section, {}).update(values)
    return load_config(overrides=base)


def _period_index(years: np.ndarray) -> np.ndarray:
    tots = np.array([p[1] for p in PBL_PERIODS])
    return np.minimum(np.searchsorted(tots, years, side="left"), len(tots) - 1)


def _norm_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _doelgroep(n_naoorlogs: int, koop: float, woz: float, *, grens=250000, cv=0.30,
               factor=0.90) -> float:
    if not (np.isfinite(koop) and np.isfinite(woz)) or woz <= 0:
        return np.nan
    sigma = math.sqrt(math.log(1 + cv**2))
    mu = math.log(woz * factor) - sigma**2 / 2
    p = _norm_cdf((math.log(grens) - mu) / sigma)
    return n_naoorlogs * koop * p


@lru_cache(maxsize=4)
def _region(seed: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    buurt_rows, dw_parts = [], []
    x0, y0 = 240000.0, 520000.0
    for gi, (gcode, gnaam, n_b, woz_level) in enumerate(GEMEENTEN):
        for bi in range(n_b):
            code_num = f"{gcode[2:]}{bi // 5:02d}{bi % 5:02d}"
            bcode, wcode = f"BU{code_num}", f"WK{code_num[:6]}"
            village = f"{gnaam}-dorp{bi // 5 + 1}"
            cx, cy = x0 + gi * 20000 + (bi % 8) * 1000, y0 + (bi // 8) * 1000
            geom = box(cx, cy, cx + 900, cy + 900)
            if gcode == "GM1680":
                n = int(rng.integers(15, 60))
            elif gcode == "GM0106":
                n = int(rng.integers(40, 200))
            elif bi % 17 == 16:
                n = int(rng.integers(2, 9))  # a tiny buurt (few dwellings, CBS suppressed)
            else:
                n = int(np.clip(rng.lognormal(math.log(180), 0.7), 20, 1500))
            if gcode == "GM0106":
                years = rng.integers(1980, 2023, n)
            else:
                p_post = rng.beta(2, 2)
                kind = rng.choice(3, size=n, p=[0.15 * (1 - p_post), p_post,
                                                 1 - p_post - 0.15 * (1 - p_post)])
                years = np.where(kind == 0, rng.integers(1880, 1945, n),
                                 np.where(kind == 1, rng.integers(1945, 1975, n),
                                          rng.integers(1975, 2024, n)))
            tp = rng.dirichlet([3, 3, 2, 4, 1.5, 0.3])
            wt = rng.choice(TYPES, size=n, p=tp)
            area = np.clip(rng.normal(np.select(
                [wt == "vrijstaand", wt == "twee_onder_een_kap", np.isin(wt, ["hoekwoning",
                                                                             "tussenwoning"])],
                [150, 125, 105], 75), 20), 25, 400)
            pidx = _period_index(years)
            default = np.array([DEFAULT_LABEL[t][i] for t, i in zip(wt, pidx, strict=True)])
            registered = rng.random(n) < 0.55
            improve = rng.integers(0, 4, n) * registered
            lab_i = np.array([LABELS.index(d) for d in default]) - improve
            labels = np.array(LABELS)[np.clip(lab_i, 0, len(LABELS) - 1)]
            bj = pd.array(years, dtype="Int16")
            if n > 30:  # a few unknown build years and floor areas
                bj[0] = pd.NA
                area[1] = np.nan
            xs = rng.uniform(cx + 10, cx + 890, n)
            ys = rng.uniform(cy + 10, cy + 890, n)
            dw_parts.append(pd.DataFrame({
                "vbo_id": [f"{code_num}{i:06d}" for i in range(n)],
                "pand_id": [f"{code_num}{i:06d}" for i in range(n)],
                "bouwjaar": bj,
                "woningtype": wt, "oppervlakte": area, "buurtcode": bcode,
                "wijkcode": wcode, "gemeentecode": gcode, "energielabel": labels,
                "label_bron": np.where(registered, "geregistreerd", "geschat"),
                "woonplaats": village,
                "geometry": [Point(x, y) for x, y in zip(xs, ys, strict=True)],
            }))
            buurt_rows.append({
                "buurtcode": bcode, "buurtnaam": f"{village} buurt {bi % 5 + 1}",
                "wijkcode": wcode, "wijknaam": village, "gemeentecode": gcode,
                "gemeentenaam": gnaam, "geometry": geom, "_woz_level": woz_level,
            })
    dw = pd.concat(dw_parts, ignore_index=True)
    jaar = dw["bouwjaar"].astype("Float64")
    dw["naoorlogs"] = ((jaar >= 1945) & (jaar <= 1974)).fillna(False).astype(bool)
    dw["eengezins"] = dw["woningtype"].isin(TYPES[:4])
    periods = pd.cut(jaar.astype(float), [-np.inf] + [p[1] for p in PBL_PERIODS[:-1]] + [np.inf],
                     labels=[p[2] for p in PBL_PERIODS])
    dw["bouwperiode"] = periods
    for col in ("woningtype", "energielabel", "label_bron"):
        dw[col] = dw[col].astype("category")

    b = pd.DataFrame(buurt_rows)
    g = dw.groupby("buurtcode")
    j = dw["bouwjaar"].astype("Float64")
    stats = pd.DataFrame({
        "n_woningen": g.size(),
        "n_naoorlogs": g["naoorlogs"].sum(),
        "n_naoorlogs_1945_1964": ((j >= 1945) & (j <= 1964)).fillna(False).groupby(
            dw["buurtcode"]).sum(),
        "n_naoorlogs_1965_1974": ((j >= 1965) & (j <= 1974)).fillna(False).groupby(
            dw["buurtcode"]).sum(),
        "n_eengezins": g["eengezins"].sum(),
        "n_eengezins_voor_1975": (dw["eengezins"] & (j < 1975).fillna(False)).groupby(
            dw["buurtcode"]).sum(),
        "n_bouwjaar_onbekend": j.isna().groupby(dw["buurtcode"]).sum(),
        "mediaan_bouwjaar": j.astype(float).groupby(dw["buurtcode"]).median(),
        "gemiddelde_oppervlakte": g["oppervlakte"].mean(),
        "n_label_geregistreerd": (dw["label_bron"] == "geregistreerd").groupby(
            dw["buurtcode"]).sum(),
        "n_label_efg": dw["energielabel"].isin(["E", "F", "G"]).groupby(dw["buurtcode"]).sum(),
    })
    b = b.merge(stats, left_on="buurtcode", right_index=True)
    b["n_meergezins"] = b["n_woningen"] - b["n_eengezins"]
    b["aandeel_naoorlogs"] = b["n_naoorlogs"] / b["n_woningen"]
    b["aandeel_eengezins_voor_1975"] = b["n_eengezins_voor_1975"] / b["n_woningen"]
    b["label_dekking"] = b["n_label_geregistreerd"] / b["n_woningen"]
    b["aandeel_label_efg"] = b["n_label_efg"] / b["n_woningen"]
    reg = dw[dw["label_bron"] == "geregistreerd"]
    b["aandeel_label_efg_geregistreerd"] = b["buurtcode"].map(
        reg["energielabel"].isin(["E", "F", "G"]).groupby(reg["buurtcode"]).mean())

    n = len(b)
    post = b["aandeel_naoorlogs"].to_numpy()
    hh = np.clip(rng.normal(2.3 - 0.3 * post, 0.2), 1.6, 3.0)
    b["gemiddelde_huishoudsgrootte"] = hh.round(1)
    b["aantal_huishoudens"] = (b["n_woningen"] * 0.97).round().astype(int)
    b["aantal_inwoners"] = (b["aantal_huishoudens"] * hh).round().astype(int)
    b["aandeel_65plus"] = np.clip(rng.normal(0.18 + 0.15 * post, 0.05), 0.05, 0.5).round(3)
    b["woningvoorraad_cbs"] = b["n_woningen"]
    woz = b["_woz_level"].to_numpy() * np.exp(rng.normal(math.log(230000) - 0.3 * post, 0.2))
    b["woz_gemiddeld"] = woz.round(-3)
    b["aandeel_koop"] = np.clip(rng.normal(0.70, 0.12, n), 0.25, 0.95).round(3)
    b["aandeel_huur"] = 1 - b["aandeel_koop"]
    b["aandeel_corporatie"] = (b["aandeel_huur"] * rng.uniform(0.5, 0.9, n)).round(3)
    b["aandeel_eengezins_cbs"] = b["n_eengezins"] / b["n_woningen"]
    b["gasverbruik_gemiddeld"] = np.clip(rng.normal(1100 + 500 * b["aandeel_label_efg"], 150),
                                         500, 2500).round(-1)
    b["inkomen_per_inwoner"] = np.clip(rng.normal(30000 * woz / 230000, 3000), 18000,
                                       60000).round(-2)
    b["aandeel_laag_inkomen"] = np.clip(rng.normal(0.16 - 0.3 * (woz / 230000 - 1), 0.03),
                                        0.02, 0.35).round(3)
    b["aandeel_sociaal_minimum"] = (b["aandeel_laag_inkomen"] * 0.8).round(3)
    b["cbs_jaar"] = 2023
    b["trend_inwoners"] = rng.normal(-0.004, 0.008, n).round(4)
    b["trend_huishoudens"] = (b["trend_inwoners"] + rng.normal(0.003, 0.003, n)).round(4)
    b["trend_65plus"] = np.clip(rng.normal(0.005, 0.003, n), -0.01, 0.02).round(4)
    b["trend_jaren"] = "2021-2023"
    # CBS suppression: small buurten have no statistics; a few others lack WOZ or gas
    small = b["n_woningen"] < 10
    cbs_cols = ["gemiddelde_huishoudsgrootte", "aandeel_65plus", "woz_gemiddeld",
                "aandeel_koop", "aandeel_huur", "aandeel_corporatie", "gasverbruik_gemiddeld",
                "inkomen_per_inwoner", "aandeel_laag_inkomen", "aandeel_sociaal_minimum",
                "trend_inwoners", "trend_huishoudens", "trend_65plus"]
    b.loc[small, cbs_cols] = np.nan
    pick = rng.random(n)
    b.loc[(pick < 0.04) & ~small, "woz_gemiddeld"] = np.nan
    b.loc[(pick > 0.92) & ~small, "gasverbruik_gemiddeld"] = np.nan
    b["n_doelgroep"] = [
        _doelgroep(int(nn), k, w) for nn, k, w in
        zip(b["n_naoorlogs"], b["aandeel_koop"], b["woz_gemiddeld"], strict=True)
    ]
    b["aandeel_doelgroep"] = b["n_doelgroep"] / b["n_woningen"]
    # columns of the stock-stage contract (issue #13) the instrument rules read
    post_dw = dw[dw["naoorlogs"]]
    b["aandeel_label_efg_verwacht_naoorlogs"] = b["buurtcode"].map(
        post_dw["energielabel"].isin(["E", "F", "G"]).groupby(post_dw["buurtcode"]).mean())
    b["aandeel_doelgroep_naoorlogs"] = b["n_doelgroep"] / b["n_naoorlogs"].where(
        b["n_naoorlogs"] > 0)
    b["woz_grens"] = 250000.0
    b["inkomen_eigenaren_geschat"] = (1.3 * b["inkomen_per_inwoner"] * hh).round(-2)
    sigma = 0.55  # log-normal owners' income around that mean, DAEB limit 56,910 (2026)
    mu = np.log(b["inkomen_eigenaren_geschat"]) - sigma ** 2 / 2
    b["aandeel_eigenaren_onder_daeb"] = [_norm_cdf(x) for x in
                                         (math.log(56910) - mu) / sigma]
    b = b.drop(columns="_woz_level")
    buurten = gpd.GeoDataFrame(b, geometry="geometry", crs="EPSG:28992")
    dwellings = gpd.GeoDataFrame(dw, geometry="geometry", crs="EPSG:28992")
    years = np.arange(2024, 2041)
    prog = []
    for gi, (gcode, *_rest) in enumerate(GEMEENTEN):
        rate = -0.006 + 0.002 * gi
        prog.append(pd.DataFrame({
            "gemeentecode": gcode, "jaar": years,
            "bevolking": (50000 * (1 + rate) ** (years - 2024)).round(),
            "huishoudens": (22000 * (1 + rate + 0.002) ** (years - 2024)).round(),
        }))
    return buurten, dwellings, pd.concat(prog, ignore_index=True)


def region(seed: int = 7) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Realistic generated demo region: (buurten, dwellings, prognose), fresh copies."""
    b, d, p = _region(seed)
    return b.copy(), d.copy(), p.copy()


def tiny_buurten(**columns) -> pd.DataFrame:
    """Three hand-made buurten in two gemeenten with every score driver set."""
    base = {
        "buurtcode": ["BU0001", "BU0002", "BU0003"],
        "buurtnaam": ["Noord", "Zuid", "Dorp"],
        "wijkcode": ["WK0001", "WK0001", "WK0002"],
        "wijknaam": ["Stad", "Stad", "Dorp"],
        "gemeentecode": ["GM0001", "GM0001", "GM0002"],
        "gemeentenaam": ["Eenstad", "Eenstad", "Tweedorp"],
        "n_woningen": [400, 300, 200],
        "aandeel_label_efg": [0.6, 0.3, 0.0],
        "n_label_efg": [240, 90, 0],
        "aandeel_naoorlogs": [0.8, 0.4, 0.0],
        "gasverbruik_gemiddeld": [1800.0, 1300.0, 800.0],
        "aandeel_65plus": [0.40, 0.25, 0.10],
        "aandeel_eengezins_voor_1975": [0.6, 0.3, 0.0],
        "gemiddelde_huishoudsgrootte": [1.8, 2.2, 2.6],
        "woz_gemiddeld": [180000.0, 240000.0, 300000.0],
        "inkomen_per_inwoner": [20000.0, 28000.0, 40000.0],
        "aandeel_laag_inkomen": [0.20, 0.10, 0.04],
        "aandeel_koop": [0.7, 0.6, 0.9],
        "n_doelgroep": [300.0, 100.0, 0.0],
        "aandeel_doelgroep": [0.75, 0.333, 0.0],
        "trend_huishoudens": [-0.01, 0.0, 0.01],
        "trend_inwoners": [-0.01, 0.0, 0.01],
        "trend_65plus": [0.01, 0.005, 0.0],
    }
    base.update(columns)
    return pd.DataFrame(base)
