"""The fast paths of the national-scale build give the same answers as the plain ones."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from woonvoorraad._geoparquet import geoparquet_table, write_partitioned
from woonvoorraad.sources import _bag_ids, bag, cbs
from woonvoorraad.stock.dwellings import dwellings_from_bag
from woonvoorraad.stock.indicators import combine_counts, counts_from_dwellings, partial_counts
from woonvoorraad.stock.woningtype import neighbour_pairs


def _strtree_pairs(geoms: np.ndarray, d: float) -> tuple[np.ndarray, np.ndarray]:
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=d)
    keep = left != right
    order = np.lexsort((right[keep], left[keep]))
    return left[keep][order], right[keep][order]


def test_neighbour_sweep_equals_strtree() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    x, y = rng.uniform(0, 2000, n), rng.uniform(0, 1500, n)
    w, h = rng.uniform(3, 15, n), rng.uniform(3, 12, n)
    boxes = shapely.box(x, y, x + w, y + h)
    rotated = np.array([shapely.affinity.rotate(b, a) for b, a in
                        zip(boxes, rng.uniform(0, 90, n), strict=True)])
    # terraces with touching, 0.3 m (touching by the rule) and 0.5 m gaps, an L-shape, a
    # building longer than several sweep strips, exactly 0.4 m apart, and missing footprints
    row = [shapely.box(5000 + 6 * i, 0, 5006 + 6 * i, 9) for i in range(10)]
    gaps = [shapely.box(5100, 0, 5105, 9), shapely.box(5105.3, 0, 5110, 9),
            shapely.box(5110.5, 0, 5115, 9), shapely.box(5115.4, 0, 5120, 9)]
    ell = [shapely.Polygon([(5200, 0), (5230, 0), (5230, 5), (5205, 5), (5205, 40),
                            (5200, 40)]), shapely.box(5206, 6, 5212, 12)]
    tall = [shapely.box(5300, 0, 5305, 400), shapely.box(5305.2, 350, 5310, 360)]
    geoms = np.concatenate([rotated, row, gaps, ell, tall,
                            [None, shapely.Polygon(), shapely.box(5400, 0, 5405, 5)]])
    got = neighbour_pairs(geoms)
    expected = _strtree_pairs(geoms, 0.4)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    # the 0.3 m and the exactly 0.4 m gap touch, the 0.5 m gap does not
    k = len(rotated) + len(row)
    pairs = set(zip(got[0].tolist(), got[1].tolist(), strict=True))
    assert (k, k + 1) in pairs and (k + 2, k + 3) in pairs and (k + 1, k + 2) not in pairs


def _dwellings(tiny_bag_light: Path, tiny_buurten: Path) -> pd.DataFrame:
    panden, vbo, _ = bag.read_bag(tiny_bag_light)
    buurten, _ = cbs.read_buurten(tiny_buurten)
    return dwellings_from_bag(panden, vbo, buurten)[0]


def test_partial_counts_merge_exactly(tiny_bag_light: Path, tiny_buurten: Path) -> None:
    d = _dwellings(tiny_bag_light, tiny_buurten)
    d["oppervlakte"] = d["oppervlakte"] + np.where(np.arange(len(d)) % 3 == 0, 0.25, 0.0)
    whole = counts_from_dwellings(d, _cfg())
    rng = np.random.default_rng(5)
    for _ in range(5):
        part = rng.integers(0, 3, len(d))
        pieces = [partial_counts(d.iloc[np.flatnonzero(part == k)], _cfg()) for k in range(3)]
        pd.testing.assert_frame_equal(combine_counts(pieces[::-1]), whole, check_exact=True)
    # the median from the build-year histogram is pandas' median
    codes = d["buurtcode"].astype(object)
    expected = d["bouwjaar"].astype(float).groupby(codes).median()
    pd.testing.assert_series_equal(whole["mediaan_bouwjaar"], expected.rename(
        "mediaan_bouwjaar").rename_axis("buurtcode"), check_exact=True)


def _cfg() -> dict:
    from woonvoorraad.config import default_config

    return default_config()


def test_write_partitioned_one_row_group_per_gemeente(tiny_bag_light: Path, tiny_buurten: Path,
                                                    tmp_path: Path) -> None:
    d = _dwellings(tiny_bag_light, tiny_buurten)
    d.loc[d.index[:3], ["buurtcode", "wijkcode", "gemeentecode"]] = pd.NA
    d.loc[d.index[3:6], "gemeentecode"] = "GM0001"
    counts = write_partitioned(d, tmp_path / "d.parquet")
    assert counts == {"GM0001": 3, "GM9901": len(d) - 6, "": 3}
    f = pq.ParquetFile(tmp_path / "d.parquet")
    assert [f.metadata.row_group(i).num_rows for i in range(f.num_row_groups)] == [3, 7, 3]
    one = gpd.read_parquet(tmp_path / "d.parquet", filters=[("gemeentecode", "==", "GM0001")])
    assert len(one) == 3
    back = gpd.read_parquet(tmp_path / "d.parquet")
    pd.testing.assert_frame_equal(back.set_index("vbo_id").sort_index(),
                                  d.set_index("vbo_id").sort_index(), check_exact=True)


def test_geoparquet_table_other_geometries(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame({"a": [1, 2, 3]}, geometry=[shapely.box(0, 0, 1, 1), None,
                                                      shapely.Point(1, 2, 3)], crs=28992)
    pq.write_table(geoparquet_table(g), tmp_path / "g.parquet")
    back = gpd.read_parquet(tmp_path / "g.parquet")
    assert back.crs.to_epsg() == 28992
    assert back.geometry.iloc[0].equals(g.geometry.iloc[0]) and back.geometry.iloc[1] is None
    assert back.geometry.iloc[2].has_z


def test_lean_reader_equals_reader(tiny_bag_light: Path) -> None:
    panden, vbo, layout = bag.read_bag(tiny_bag_light)
    lean_p, lean_v, lean_layout = bag.read_bag_for_build(tiny_bag_light)
    assert layout == lean_layout
    assert set(lean_p["pand_id"]) == set(panden["pand_id"]) - {"0000100000000008"}  # garage
    pd.testing.assert_series_equal(lean_v["x"], shapely.get_x(vbo.geometry).rename("x"))
    pd.testing.assert_series_equal(lean_v["y"], shapely.get_y(vbo.geometry).rename("y"))
    for col in ("vbo_id", "pand_ids", "oppervlakte"):
        pd.testing.assert_series_equal(lean_v[col], vbo[col])
    assert lean_v["gebruiksdoel"].astype(str).tolist() == vbo["gebruiksdoel"].tolist()


@pytest.mark.parametrize("values", [["0518100000212345", "0518100000212346"],
                                    ["NL.IMBAG.Pand.0518100000212345", " 518100000212346"]])
def test_ids_int_path_only_for_plain_ids(values: list[str]) -> None:
    import pyarrow as pa

    arr = _bag_ids.normalise_ids_arrow(pa.array(values))
    assert arr.to_pylist() == ["0518100000212345", "0518100000212346"]
    assert _bag_ids.parse_int_ids(arr).tolist() == [518100000212345, 518100000212346]
    assert _bag_ids.parse_int_ids(pa.array(["123", "0518100000212346"])) is None
