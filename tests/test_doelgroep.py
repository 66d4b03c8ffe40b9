"""The target group: owner chance by type and period, WOZ and owners' income, its range,
villages, and the check against the demo generator's dwelling-level truth."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import lognorm, multivariate_normal, norm

from woonvoorraad.config import default_config, load_config
from woonvoorraad.demo import make_demo
from woonvoorraad.demo.region import read_true_dwellings
from woonvoorraad.demo.validation import check_target_group
from woonvoorraad.pipeline import BuildResult, build
from woonvoorraad.stock import doelgroep
from woonvoorraad.stock.indicators import target_group_by


def _buurt(**kw: float) -> pd.DataFrame:
    row = {"buurtcode": "BU1", "gemeentecode": "GM1", "n_woningen": 200.0,
           "n_eengezins": 120.0, "n_naoorlogs": 100.0, "n_naoorlogs_eengezins": 60.0,
           "aandeel_koop": 0.6, "woz_gemiddeld": 240_000.0, "inkomen_per_inwoner": 25_000.0,
           "gemiddelde_huishoudsgrootte": 2.0, "aandeel_laag_inkomen": 0.08,
           "cbs_jaar": 2023.0}
    row.update(kw)
    return pd.DataFrame([row])


def _neutral(**kw: object) -> dict:
    """Settings without the type/period split or copula: the closed form is a product."""
    cfg = default_config()
    dg = cfg["doelgroep"]
    for key in ("koop_odds_eengezins", "koop_odds_naoorlogs"):
        for suffix in ("", "_laag", "_hoog"):
            dg[key + suffix] = 1.0
    for suffix in ("", "_laag", "_hoog"):
        dg["woz_inkomen_correlatie" + suffix] = 0.0
    dg.update(kw)
    return cfg


def _estimate(b: pd.DataFrame, cfg: dict) -> pd.Series:
    params = doelgroep.buurt_parameters(b, cfg).set_axis(b["buurtcode"].to_numpy())
    cells = pd.DataFrame({"buurtcode": b["buurtcode"], "n_eengezins": b["n_naoorlogs_eengezins"],
                          "n_overig": b["n_naoorlogs"] - b["n_naoorlogs_eengezins"]})
    return doelgroep.estimate_target_group(cells, params, cfg).iloc[0]


def test_target_group_by_hand() -> None:
    """Independence, no type split: n × s × P(WOZ < grens) × P(owner income < DAEB)."""
    cfg = _neutral()
    b = _buurt()
    got = _estimate(b, cfg)
    dg = cfg["doelgroep"]
    # WOZ: log-normal, mean 1.0 × 240k, cv 0.3; limit 250k in prices of 2023 = the CBS year
    s2 = np.log1p(0.3**2)
    p_woz = lognorm(s=np.sqrt(s2), scale=np.exp(np.log(240_000) - s2 / 2)).cdf(250_000)
    # income: all households 50k; owners 50k × 1.77 / (0.6·1.77 + 0.4)
    k, s = dg["inkomen_eigenaar_huurder"], 0.6
    m_own = 50_000 * k / (s * k + 1 - s)
    z = norm.ppf(0.08)
    sigma_all = z + np.sqrt(z * z + 2 * np.log(50_000 / 20_000))
    sigma = np.sqrt(sigma_all**2 - s * (1 - s) * np.log(k) ** 2)
    daeb = 45014.0  # [beleid] meerpersoons of scores.daeb_jaar 2022 (household size 2)
    p_ink = lognorm(s=sigma, scale=np.exp(np.log(m_own) - sigma**2 / 2)).cdf(daeb)
    assert got["n_goedkoop_koop"] == pytest.approx(100 * 0.6 * p_woz, abs=0.06)
    assert got["n_doelgroep"] == pytest.approx(100 * 0.6 * p_woz * p_ink, abs=0.06)
    owners = doelgroep.owner_income_columns(
        doelgroep.buurt_parameters(b, cfg), cfg).iloc[0]
    assert owners["inkomen_eigenaren_geschat"] == pytest.approx(m_own, abs=10)
    assert owners["aandeel_eigenaren_onder_daeb"] == pytest.approx(p_ink, abs=1e-9)


def test_owner_chance_keeps_the_buurt_share_and_follows_the_odds() -> None:
    rng = np.random.default_rng(3)
    n = 200
    ne, no = rng.integers(0, 300, n).astype(float), rng.integers(1, 300, n).astype(float)
    ne_pw, no_pw = np.floor(ne * rng.random(n)), np.floor(no * rng.random(n))
    s = rng.random(n)
    p = doelgroep.owner_chance_by_type(ne, no, s, odds=4.0, n_eengezins_naoorlogs=ne_pw,
                                       n_overig_naoorlogs=no_pw, odds_naoorlogs=0.6)
    owners = ne_pw * p[0] + no_pw * p[1] + (ne - ne_pw) * p[2] + (no - no_pw) * p[3]
    np.testing.assert_allclose(owners, s * (ne + no), rtol=1e-6, atol=1e-6)
    assert (p[0] >= p[1] - 1e-12).all() and (p[2] >= p[0] - 1e-12).all()
    # the odds ratio holds between the cells
    inner = (s > 0.05) & (s < 0.95)
    odds = (p[2] / (1 - p[2])) / (p[3] / (1 - p[3]))
    np.testing.assert_allclose(odds[inner], 4.0, rtol=1e-4)


def test_bivariate_normal_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    h, k = rng.normal(0, 1.5, 60), rng.normal(0, 1.5, 60)
    h[0], k[1] = 0.0, 0.0
    for rho in (-0.6, 0.3, 0.9):
        ref = [multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf([a, b])
               for a, b in zip(h, k, strict=True)]
        np.testing.assert_allclose(doelgroep.bivariate_normal_cdf(h, k, rho), ref, atol=1e-6)


def test_range_is_the_extremes_over_the_assumption_grid() -> None:
    cfg = default_config()
    b = pd.concat([_buurt(), _buurt(buurtcode="BU2", woz_gemiddeld=180_000.0,
                                    aandeel_koop=0.8, inkomen_per_inwoner=21_000.0)])
    params = doelgroep.buurt_parameters(b, cfg).set_axis(b["buurtcode"].to_numpy())
    cells = pd.DataFrame({"buurtcode": b["buurtcode"], "n_eengezins": b["n_naoorlogs_eengezins"],
                          "n_overig": b["n_naoorlogs"] - b["n_naoorlogs_eengezins"]})
    got = doelgroep.estimate_target_group(cells, params, cfg)
    dg = cfg["doelgroep"]
    brute = []
    for ends in itertools.product(*[(dg[lo], dg[hi]) for lo, hi in
                                    doelgroep.ASSUMPTIONS.values()]):
        c = load_config(overrides={"doelgroep": dict(zip(doelgroep.ASSUMPTIONS, ends,
                                                         strict=True))})
        brute.append(doelgroep.estimate_target_group(cells, params, c)["n_doelgroep"])
    brute = pd.concat(brute, axis=1)
    np.testing.assert_allclose(got["n_doelgroep_laag"], brute.min(axis=1), atol=0.06)
    np.testing.assert_allclose(got["n_doelgroep_hoog"], brute.max(axis=1), atol=0.06)
    for col in ("n_doelgroep", "n_goedkoop_koop"):
        assert (got[f"{col}_laag"] <= got[col]).all() and (got[col] <= got[f"{col}_hoog"]).all()
    assert (got["n_doelgroep"] <= got["n_goedkoop_koop"]).all()
    # the total's range is over the sums, inside the sum of the buurt ranges
    tot = target_group_by(b.assign(_a="x"), cfg, by="_a").iloc[0]
    assert got["n_doelgroep_laag"].sum() - 0.1 <= tot["n_doelgroep_laag"]
    assert tot["n_doelgroep_hoog"] <= got["n_doelgroep_hoog"].sum() + 0.1


def test_woz_limit_follows_the_cbs_year_and_missing_figures_give_nan() -> None:
    cfg = default_config()
    lim = doelgroep.woz_limit(np.array([2019.0, 2023.0, np.nan]), cfg)
    assert lim[0] == pytest.approx(250_000 * 248 / 361)
    assert lim[1] == 250_000 and lim[2] == 250_000
    got = _estimate(_buurt(woz_gemiddeld=np.nan), cfg)
    assert np.isnan(got["n_goedkoop_koop"]) and np.isnan(got["n_doelgroep_hoog"])
    # higher WOZ: fewer cheap homes; higher income: fewer owners under the DAEB limit
    base = _estimate(_buurt(), cfg)
    assert _estimate(_buurt(woz_gemiddeld=300_000.0), cfg)["n_goedkoop_koop"] < \
        base["n_goedkoop_koop"]
    assert _estimate(_buurt(inkomen_per_inwoner=35_000.0), cfg)["n_doelgroep"] < \
        base["n_doelgroep"]


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildResult, Path]:
    paths = make_demo(tmp_path_factory.mktemp("demo"), scale=0.3)
    out = tmp_path_factory.mktemp("build") / "o"
    result = build(bag_path=paths["bag"], buurten_path=paths["buurten"], out=out,
                   labels_path=paths["labels"], analyse=False, synthetic=True)
    return result, paths["readme"].parent


def test_target_group_against_the_demo_truth(demo_build: tuple[BuildResult, Path]) -> None:
    """|bias| ≤ 10 % and a high rank correlation, the truth mostly inside the range."""
    result, raw = demo_build
    check = check_target_group(result.dwellings, result.buurten, read_true_dwellings(raw),
                               default_config())
    for col in ("n_doelgroep", "n_goedkoop_koop"):
        c = check[col]
        assert abs(c["bias"]) <= 0.10, (col, c)
        assert c["rangcorrelatie"] >= 0.85, (col, c)
        assert c["laag"] <= c["waar"] <= c["hoog"], (col, c)
        assert c["binnen_bereik_buurten"] >= 0.7, (col, c)


def test_villages_add_up_and_split_buurten(demo_build: tuple[BuildResult, Path]) -> None:
    result, _ = demo_build
    from woonvoorraad.stock.woonplaatsen import woonplaats_indicators

    d, b = result.dwellings, result.buurten
    w = woonplaats_indicators(d, b, config=default_config())
    assert w is not None and w.attrs["n_zonder_woonplaats"] == 0
    assert int(w["n_woningen"].sum()) == len(d)
    assert int(w["n_naoorlogs"].sum()) == int(d["naoorlogs"].sum())
    assert w["n_doelgroep"].sum() == pytest.approx(b["n_doelgroep"].sum(), abs=0.1 * len(w))
    assert (w["n_doelgroep_laag"] <= w["n_doelgroep"] + 1e-9).all()
    assert (w["n_doelgroep"] <= w["n_doelgroep_hoog"] + 1e-9).all()
    # a buurt whose dwellings lie in two woonplaatsen: its target group is split between them
    per = d.groupby("buurtcode", observed=True)["woonplaats"].nunique()
    split = per[per > 1].index
    assert len(split) >= 1
    code = split[0]
    places = w[w["buurtcodes"].str.contains(code)]
    assert len(places) == 2 and set(places["woonplaats"]) == set(
        d.loc[d["buurtcode"] == code, "woonplaats"].astype(str))
    # CBS figures of a one-buurt village are its buurt's
    one = w[w["n_buurten"] == 1].iloc[0]
    src = b.set_index("buurtcode").loc[one["buurtcodes"]]
    assert one["aandeel_65plus"] == pytest.approx(src["aandeel_65plus"])


def test_a_village_is_placed_on_one_of_its_own_dwellings(
        demo_build: tuple[BuildResult, Path]) -> None:
    result, _ = demo_build
    from woonvoorraad.stock.woonplaatsen import woonplaats_indicators

    d = result.dwellings
    w = woonplaats_indicators(d, result.buurten, config=default_config())
    assert w is not None and w[["x_rd", "y_rd"]].notna().all().all()
    for _, row in w.iterrows():
        mine = d[(d["gemeentecode"] == row["gemeentecode"])
                 & (d["woonplaats"].astype(str) == row["woonplaats"])]
        xy = set(zip(mine.geometry.x.round(3), mine.geometry.y.round(3), strict=True))
        assert (round(row["x_rd"], 3), round(row["y_rd"], 3)) in xy, row["woonplaats"]


def test_a_spread_out_village_is_placed_in_a_cluster_not_between() -> None:
    import geopandas as gpd

    from woonvoorraad.stock.woonplaatsen import _village_points

    # two hamlets 2 km apart and a farm in between: the median point (200,802; 500,000) lies
    # in the fields, 800 m from any house; the village goes on the nearest dwelling, in the
    # west hamlet (the farm is as far along x, but 100 m off the road)
    xs = [200_000.0 + i for i in range(5)] + [201_600.0] + [202_000.0 + i for i in range(4)]
    ys = [500_000.0] * 5 + [500_100.0] + [500_000.0] * 4
    d = gpd.GeoDataFrame({"woonplaats": ["Dorp"] * 10},
                         geometry=gpd.points_from_xy(xs, ys), crs="EPSG:28992")
    key = pd.Series(["GM1/Dorp"] * 10)
    p = _village_points(d, key)
    assert (p.loc["GM1/Dorp", "x"], p.loc["GM1/Dorp", "y"]) == (200_004, 500_000)
    # a geographic input comes back in RD
    p4326 = _village_points(d.to_crs(4326), key)
    assert p4326.loc["GM1/Dorp", "x"] == pytest.approx(200_004, abs=0.01)
    assert p4326.loc["GM1/Dorp", "y"] == pytest.approx(500_000, abs=0.01)
    # no geometry at all: no points, no error
    assert _village_points(pd.DataFrame({"woonplaats": ["Dorp"]}), key[:1]).empty
