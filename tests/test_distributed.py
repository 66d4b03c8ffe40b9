"""The dask engine gives exactly the in-memory result, also across tile edges."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from woonvoorraad.pipeline import BuildResult, build
from woonvoorraad.stock import distributed

pytest.importorskip("dask_geopandas")
pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]


def write_layer(path: Path, layer: str, gdf: gpd.GeoDataFrame) -> Path:
    """Write one layer to a GeoPackage (appending layers to an existing file)."""
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A small LocalCluster (two workers, threads) shared by the tests of this module."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0", memory_limit=0) as c:
        yield c.scheduler_address


def _generated(tmp_path: Path, scale: float = 0.0005) -> tuple[Path, Path]:
    """A small input from the benchmark generator (a town, its buurten, all BAG statuses)."""
    spec = importlib.util.spec_from_file_location("bench_generate",
                                                  ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # dataclasses look their module up while it loads
    spec.loader.exec_module(gen)
    meta = gen.generate(scale, out=tmp_path / "gen", seed=7)
    return Path(meta["bag"]), Path(meta["buurten"])


def _both(bag: Path, buurten: Path, tmp_path: Path, scheduler: str
          ) -> tuple[BuildResult, BuildResult]:
    mem = build(bag_path=bag, buurten_path=buurten, out=tmp_path / "mem", analyse=False)
    dsk = build(bag_path=bag, buurten_path=buurten, out=tmp_path / "dask", analyse=False,
                engine="dask", scheduler=scheduler)
    return mem, dsk


def _assert_equal(mem: BuildResult, dsk: BuildResult, tmp_path: Path) -> None:
    pd.testing.assert_frame_equal(mem.buurten, dsk.buurten, check_exact=True)
    a = mem.dwellings.sort_values("vbo_id").reset_index(drop=True)
    b = dsk.dwellings.compute().sort_values("vbo_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    on_disk = gpd.read_parquet(tmp_path / "mem" / "dwellings.parquet")
    pd.testing.assert_frame_equal(on_disk.sort_values("vbo_id").reset_index(drop=True), b,
                                  check_exact=True)
    assert mem.manifest["dwellings"] == dsk.manifest["dwellings"]
    assert dsk.manifest["engine"]["name"] == "dask"
    assert not list((tmp_path / "dask").glob(".dask-parts-*"))  # parts cleaned up


def test_generated_input_equals_in_memory(tmp_path: Path, cluster: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bag, buurten = _generated(tmp_path)
    monkeypatch.setattr(distributed, "UNITS_PER_TILE", 400)  # many tiles, many edges
    mem, dsk = _both(bag, buurten, tmp_path, cluster)
    assert dsk.manifest["engine"]["tiles"] > 10
    assert len(mem.dwellings) > 2000
    _assert_equal(mem, dsk, tmp_path)


def test_tiny_fixture_equals_in_memory(tiny_bag_light: Path, tiny_buurten: Path,
                                       tmp_path: Path, cluster: str) -> None:
    mem, dsk = _both(tiny_bag_light, tiny_buurten, tmp_path, cluster)
    _assert_equal(mem, dsk, tmp_path)


def test_neighbours_across_tile_edges(tmp_path: Path, cluster: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    """Terraces, a semi-detached pair and a 40 m block cut by tile edges every ~10 m.

    The halo is made tiny (1 m), so every pand near an edge must be classified again with a
    larger area; the types must still be exact, including the one-neighbour-of-a-neighbour
    rule (twee-onder-een-kap vs hoekwoning) and a 0.3 m gap that counts as touching.
    """
    houses = [shapely.box(x, 0, x + 5.5, 9) for x in np.arange(12) * 5.5]  # 66 m terrace
    pair = [shapely.box(80, 0, 86, 9), shapely.box(86.3, 0, 92, 9)]          # 0.3 m gap
    block = [shapely.box(100, 0, 140, 12)]                                   # 8 flats
    corner = [shapely.box(150, 0, 156, 9), shapely.box(156, 0, 162, 9),
              shapely.box(162, 0, 168, 9)]                                    # row of three
    geoms = houses + pair + block + corner
    ids = [f"0000100000{i:06d}" for i in range(len(geoms))]
    pand = gpd.GeoDataFrame({"identificatie": ids, "bouwjaar": [1955] * len(geoms),
                             "status": ["Pand in gebruik"] * len(geoms)},
                            geometry=geoms, crs=28992)
    rows = []
    for i, g in enumerate(geoms):
        n = 8 if g.area > 400 else 1
        pt = g.representative_point()
        for k in range(n):
            rows.append((f"0000010000{i:04d}{k:02d}", ids[i], "woonfunctie", 70 + k,
                         "Verblijfsobject in gebruik", pt))
    vbo = gpd.GeoDataFrame({"identificatie": [r[0] for r in rows],
                            "pand_identificatie": [r[1] for r in rows],
                            "gebruiksdoel": [r[2] for r in rows],
                            "oppervlakte": [r[3] for r in rows], "status": [r[4] for r in rows]},
                           geometry=[r[5] for r in rows], crs=28992)
    bag = write_layer(write_layer(tmp_path / "edge.gpkg", "pand", pand), "verblijfsobject", vbo)
    buurten = gpd.GeoDataFrame(
        {"buurtcode": ["BU99020001", "BU99020002"], "buurtnaam": ["West", "Oost"],
         "wijkcode": ["WK990200"] * 2, "gemeentecode": ["GM9902"] * 2,
         "gemeentenaam": ["Randdorp"] * 2},
        geometry=[shapely.box(-10, -10, 95, 30), shapely.box(95, -10, 200, 30)], crs=28992)
    b_path = write_layer(tmp_path / "wb.gpkg", "buurten", buurten)
    monkeypatch.setattr(distributed, "UNITS_PER_TILE", 1)
    monkeypatch.setattr(distributed, "HALO_M", 1.0)
    with caplog.at_level("INFO", logger="woonvoorraad.stock.distributed"):
        mem, dsk = _both(bag, b_path, tmp_path, cluster)
    assert "need a larger halo" in caplog.text
    _assert_equal(mem, dsk, tmp_path)
    types = dsk.dwellings.compute().set_index("pand_id")["woningtype"].astype(str)
    assert types.loc[ids[0]] == "hoekwoning" and types.loc[ids[11]] == "hoekwoning"
    assert (types.loc[ids[1:11]] == "tussenwoning").all()
    assert (types.loc[ids[12:14]] == "twee_onder_een_kap").all()
    assert (types.loc[[ids[14]]] == "meergezins_laag").all()
    assert types.loc[ids[15]] == "hoekwoning" and types.loc[ids[16]] == "tussenwoning"


def test_tiles_own_every_point_once() -> None:
    tiles = distributed.make_tiles((0.0, 0.0, 100.0, 50.0), 8)
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(0, 100, 500), [0, 100, 100, 50, 25]])
    y = np.concatenate([rng.uniform(0, 50, 500), [0, 50, 0, 25, 50]])
    owned = np.sum([t.owns(x, y) for t in tiles], axis=0)
    assert (owned == 1).all()
    far_x, far_y = np.array([-1e6, 1e6, 50.0]), np.array([-5.0, 1e6, -1e9])
    assert (np.sum([t.owns(far_x, far_y, unbounded=True) for t in tiles], axis=0) == 1).all()
    assert (np.sum([t.owns(far_x, far_y) for t in tiles], axis=0) == 0).all()


@pytest.mark.realdata
def test_real_sample_equals_in_memory(realdata: Path, tmp_path: Path, cluster: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "UNITS_PER_TILE", 2000)
    mem, dsk = _both(realdata, realdata, tmp_path, cluster)
    _assert_equal(mem, dsk, tmp_path)


def test_command_line_engine_dask(tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
                                  cluster: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from woonvoorraad.cli import main

    out = tmp_path / "out"
    code = main(["build", "--bag", str(tiny_bag_light), "--buurten", str(tiny_buurten),
                 "--out", str(out), "--no-analyse", "-q", "--engine", "dask",
                 "--scheduler", cluster])
    assert code == 0
    assert "2 buurten, 13 woningen" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"]["name"] == "dask"
    assert manifest["parameters"]["engine"] == "dask"
