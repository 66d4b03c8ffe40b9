"""The PBL Vesta touching-neighbours rule on hand-made footprints."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from woonvoorraad.stock.woningtype import count_neighbours, woningtype_from_panden


def _classify(geoms: list, n_woningen: list[int], **kw: object) -> list:
    gdf = gpd.GeoDataFrame(geometry=geoms, crs=28992)
    return woningtype_from_panden(gdf, n_woningen=np.array(n_woningen), **kw).tolist()


def test_terrace_of_five() -> None:
    houses = [shapely.box(x, 0, x + 5.4, 9) for x in np.arange(5) * 5.4]
    assert _classify(houses, [1] * 5) == [
        "hoekwoning", "tussenwoning", "tussenwoning", "tussenwoning", "hoekwoning"]


def test_semi_detached_pair_and_detached() -> None:
    geoms = [shapely.box(0, 0, 6, 9), shapely.box(6, 0, 12, 9), shapely.box(30, 0, 40, 10)]
    assert _classify(geoms, [1, 1, 1]) == ["twee_onder_een_kap", "twee_onder_een_kap",
                                           "vrijstaand"]


def test_gap_within_buffer_counts_as_touching() -> None:
    # 0.3 m apart: the 0.2 m buffers overlap (0.4 m); 0.5 m apart they do not
    close = [shapely.box(0, 0, 5, 9), shapely.box(5.3, 0, 10, 9)]
    far = [shapely.box(0, 0, 5, 9), shapely.box(5.5, 0, 10, 9)]
    assert _classify(close, [1, 1]) == ["twee_onder_een_kap"] * 2
    assert _classify(far, [1, 1]) == ["vrijstaand"] * 2


def test_end_house_touching_a_pair_is_hoekwoning() -> None:
    # A-B-C in a row: A has one neighbour (B) but B has two, so A is a corner house
    row = [shapely.box(0, 0, 5, 9), shapely.box(5, 0, 10, 9), shapely.box(10, 0, 15, 9)]
    assert _classify(row, [1, 1, 1])[0] == "hoekwoning"


def test_multi_family_low_and_high() -> None:
    flat = shapely.box(0, 0, 20, 10)      # 200 m² footprint
    tower = shapely.box(100, 0, 120, 10)  # 200 m²
    result = _classify([flat, tower], [8, 40], vloeroppervlak=np.array([8 * 60.0, 40 * 60.0]))
    # flat: 480 * 1.2 / 200 = 2.9 storeys; tower: 2400 * 1.2 / 200 = 14.4 storeys
    assert result == ["meergezins_laag", "meergezins_hoog"]


def test_non_residential_buildings_get_no_type_but_count_as_neighbours() -> None:
    house = shapely.box(0, 0, 6, 9)
    shop = shapely.box(6, 0, 12, 9)
    result = _classify([house, shop], [1, 0])
    assert result[0] == "twee_onder_een_kap"
    assert pd.isna(result[1])


def test_count_neighbours_empty() -> None:
    assert count_neighbours(np.array([], dtype=object)).tolist() == []
