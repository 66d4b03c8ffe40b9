"""The demo's woonplaatsen (villages, hamlets) and its dwelling-level truth for the target group."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from woonvoorraad.demo import build_demo, region
from woonvoorraad.demo.names import GEHUCHTEN

SCALE = 0.05
SENTINEL = -99990


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("demo_truth")
    out = build_demo(root, scale=SCALE)
    return root / "raw" / f"demo-scale{SCALE}", out


def test_truth_file_one_row_per_dwelling_of_the_build(built: tuple[Path, Path]) -> None:
    raw, out = built
    truth = region.read_true_dwellings(raw)
    dwell = pd.read_parquet(out / "dwellings.parquet", columns=["vbo_id"])
    assert len(truth) == len(dwell) and set(truth["vbo_id"]) == set(dwell["vbo_id"])
    assert truth["vbo_id"].is_unique
    assert list(truth.columns) == ["vbo_id", "eigendom", "woz", "bewoond", "huishoudgrootte",
                                   "inkomen_huishouden"]
    assert set(truth["eigendom"].cat.categories) == {"koop", "corporatie", "particulier"}
    occ = truth["bewoond"]
    assert 0.9 < occ.mean() < 1
    assert truth.loc[occ, "huishoudgrootte"].min() >= 1
    assert truth.loc[~occ, ["huishoudgrootte", "inkomen_huishouden"]].isna().all().all()
    assert (truth.loc[occ, "inkomen_huishouden"] > 0).all()
    # owners earn more than tenants, as the CBS statistics of the demo have it
    med = truth.loc[occ].groupby("eigendom", observed=True)["inkomen_huishouden"].median()
    assert med["koop"] > med["corporatie"]


def test_truth_matches_the_cbs_figures_per_buurt(built: tuple[Path, Path]) -> None:
    raw, out = built
    truth = region.read_true_dwellings(raw)
    dwell = pd.read_parquet(out / "dwellings.parquet", columns=["vbo_id", "buurtcode"])
    m = truth.merge(dwell, on="vbo_id")
    cbs = pyogrio.read_dataframe(raw / "wijkenbuurten_2023.gpkg", layer="buurten",
                                 read_geometry=False).set_index("buurtcode")
    occ = m.loc[m["bewoond"]]
    per_buurt = occ.groupby("buurtcode").agg(inkomen=("inkomen_huishouden", "sum"),
                                             personen=("huishoudgrootte", "sum"))
    per_inwoner = per_buurt["inkomen"] / per_buurt["personen"].astype(float) / 1000
    published = cbs["gemiddeld_inkomen_per_inwoner"].reindex(per_inwoner.index)
    ok = published > SENTINEL
    assert ok.sum() >= 5
    rel = (per_inwoner[ok] / published[ok] - 1).abs()
    assert rel.max() < 0.03, rel.sort_values().tail()
    # the WOZ is that behind the CBS average of the same year (in € 1000, rounded)
    woz = m.groupby("buurtcode")["woz"].mean() / 1000
    cbs_woz = cbs["gemiddelde_woningwaarde"].reindex(woz.index)
    ok = cbs_woz > SENTINEL
    assert ((woz[ok] / cbs_woz[ok] - 1).abs() < 0.03).all()
    # households: sizes around the CBS average household size (CBS 2023 counts the dwellings
    # finished before 2023)
    counted = occ.merge(pd.read_parquet(out / "dwellings.parquet", columns=["vbo_id", "bouwjaar"]),
                        on="vbo_id")
    counted = counted.loc[counted["bouwjaar"] <= 2022]
    size = counted.groupby("buurtcode")["huishoudgrootte"].mean().astype(float)
    cbs_size = cbs["gemiddelde_huishoudsgrootte"].reindex(size.index)
    big = (cbs_size > SENTINEL) & (counted.groupby("buurtcode").size() >= 100)
    assert big.sum() >= 3
    assert ((size[big] - cbs_size[big]).abs() < 0.35).all()


def test_every_address_has_a_woonplaats_and_hamlets_share_buurten(
        built: tuple[Path, Path]) -> None:
    raw, _ = built
    vbo = pyogrio.read_dataframe(raw / "bag-light.gpkg", layer="verblijfsobject")
    assert vbo["woonplaats_naam"].notna().all()
    buurten = pyogrio.read_dataframe(raw / "wijkenbuurten_2023.gpkg", layer="buurten")
    joined = gpd.sjoin(vbo.drop_duplicates("identificatie"),
                       buurten[["buurtcode", "buurtnaam", "geometry"]], predicate="within")
    places = joined.groupby(["buurtcode", "buurtnaam"])["woonplaats_naam"].agg(set)
    places.index = places.index.get_level_values("buurtnaam")
    spanning = places[places.map(len) > 1]
    assert len(spanning) >= 1
    for name, found in spanning.items():
        # a rural buurt of a village: the village and one hamlet
        village = name.removeprefix("Verspreide huizen ")
        assert name.startswith("Verspreide huizen ") and village in found
        (hamlet,) = found - {village}
        assert hamlet in GEHUCHTEN
    # the rural buurten of villages carry the village's woonplaats
    rural = places[places.index.str.startswith("Verspreide huizen ")]
    assert all(n.removeprefix("Verspreide huizen ") in f for n, f in rural.items())
    assert np.isin(list(GEHUCHTEN), vbo["woonplaats_naam"].unique()).any()
