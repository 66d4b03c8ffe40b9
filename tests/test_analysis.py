"""The analysis entry point on the generated demo region."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from conftest_analysis import fast_config, region
from woonvoorraad.classify.analysis import AnalysisResult, analyse
from woonvoorraad.classify.scores import SCORES
from woonvoorraad.config import load_config
from woonvoorraad.errors import InputError, MissingColumnError

FAST_OVERRIDES = ["typologie.k_min=3", "typologie.k_max=5", "typologie.n_init=4",
                  "typologie.stabiliteit_seeds=2", "proeftuin.stabiliteit_trekkingen=100"]


@pytest.fixture(scope="module")
def demo():
    return region()


@pytest.fixture(scope="module")
def result(demo) -> AnalysisResult:
    b, d, p = demo
    return analyse(b, d, config=fast_config(), prognose=p)


def test_every_gemeente_with_target_dwellings_has_a_candidate_with_reason(demo, result):
    b = demo[0]
    totals = b.groupby("gemeentecode")["n_doelgroep"].sum()
    with_target = set(totals[totals > 0].index)
    assert len(with_target) == 6  # GM0106 (Assen) has only recent stock
    # the primary level of each gemeente (the other level and "geen kandidaat" rows beside it)
    k = result.proeftuinen.query("primair and not geen_kandidaat")
    assert set(k["gemeentecode"]) == with_target
    assert k["reden"].str.len().gt(20).all()
    assert result.summary()["proeftuin"]["gemeenten_zonder_kandidaat"] == []
    small = k[k["gemeentecode"] == "GM1680"]
    assert len(small) == 1 and "kleiner dan de minimumomvang" in small["reden"].item()
    big = k[k["gemeentecode"] == "GM0114"]
    assert big["rang"].tolist() == [1, 2, 3] and big["voldoet_minimum"].all()


def test_tables_and_columns(result, tmp_path):
    tables = result.tables()
    assert set(tables) == {
        "proeftuinen.csv", "proeftuinen_stabiliteit.csv",
        "instrumenten.csv", "kosten_buurt.csv", "kosten_gemeente.csv", "typologie_k.csv",
        "typologie_profielen.csv", "typologie_imputatie.csv", "score_componenten.csv",
        "uitgesloten.csv",
    }
    b = result.buurten  # written by the build as buurten.parquet
    assert isinstance(b, gpd.GeoDataFrame) and b.crs.to_epsg() == 28992
    for col in [*SCORES, *(f"{s}_inputs" for s in SCORES), "proeftuinscore",
                "typologie_cluster", "typologie_naam", "typologie_silhouette",
                "investering_naar_b_laag", "investering_naar_c",
                "investering_efg_naar_b_hoog", "instrumenten", "proeftuin_rang",
                "woz_t_o_v_mediaan", "inkomen_t_o_v_daeb", "prognose_huishoudens"]:
        assert col in b.columns, col
    assert b["buurtcode"].is_monotonic_increasing
    assert (tables["instrumenten.csv"]["regel"].str.len() > 0).all()
    # the lead writes these inside the build's transaction: check they serialise
    b.to_parquet(tmp_path / "buurten.parquet")
    assert len(gpd.read_parquet(tmp_path / "buurten.parquet")) == len(b)
    for name, table in tables.items():
        path = tmp_path / name
        table.to_csv(path, index=False)
        assert len(pd.read_csv(path)) == len(table)


def test_summary_is_json_and_informative(result):
    s = result.summary()
    text = json.dumps(s, ensure_ascii=False)
    assert "PBL Vesta MAIS kentallen 2024" in text
    assert s["n_buurten"] == len(result.buurten)
    assert s["typologie"]["k"] == result.typologie.k
    assert s["instrumenten"]["sha256"] and s["instrumenten"]["n_past"] > 0
    k = s["kosten"]
    assert k["investering_naar_b_hoog"] >= k["investering_naar_b_laag"] > 0
    # D (and C) are in the need to B: at least the E/F/G-only figure
    assert k["investering_naar_b_laag"] >= k["investering_efg_naar_b_laag"] > 0
    assert k["n_onder_b_verwacht"] >= k["n_onder_c_verwacht"] >= k["n_efg_verwacht"] > 0
    assert s["uitgesloten"]["typologie"] >= 1


def test_costs_are_consistent(result):
    kb, kg = result.kosten_buurt, result.kosten_gemeente
    assert kb["n_onder_b_verwacht"].sum() == pytest.approx(kg["n_onder_b_verwacht"].sum())
    for col in ("investering_naar_b_laag", "investering_naar_c",
                "investering_efg_naar_b_hoog", "investering_naar_b_laag_naoorlogs"):
        assert kg[col].sum() == pytest.approx(kb[col].sum()), col
    assert (kb["investering_naar_b_hoog"].fillna(0)
            >= kb["investering_naar_b_laag"].fillna(0)).all()
    assert (kb["investering_naar_b_laag"].fillna(0)
            >= kb["investering_efg_naar_b_laag"].fillna(0) - 1e-6).all()
    assert (kb["investering_naar_b_laag"].fillna(0)
            >= kb["investering_naar_b_laag_naoorlogs"].fillna(0) - 1e-6).all()
    # the buurt table carries the investments, the expected counts stay indicators
    b = result.buurten.set_index("buurtcode")
    assert b["investering_naar_c"].fillna(0).to_numpy() == pytest.approx(
        kb.set_index("buurtcode").loc[b.index, "investering_naar_c"].fillna(0).to_numpy())


def test_no_silent_drops(result):
    b = result.buurten
    clustered = set(b.loc[b["typologie_cluster"].notna(), "buurtcode"])
    excluded = set(result.uitgesloten.query("onderdeel == 'typologie'")["buurtcode"])
    assert clustered | excluded == set(b["buurtcode"])
    assert not clustered & excluded
    assert result.uitgesloten["reden"].str.len().gt(0).all()
    nan_doel = set(b.loc[b["n_doelgroep"].isna(), "buurtcode"])
    assert nan_doel == set(result.uitgesloten.query("onderdeel == 'proeftuin'")["buurtcode"])


def test_typology_identical_across_runs(demo, result):
    b, d, p = demo
    again = analyse(b, d, config=fast_config(), prognose=p)
    pd.testing.assert_series_equal(result.typologie.labels, again.typologie.labels)
    assert result.typologie.namen == again.typologie.namen
    pd.testing.assert_frame_equal(result.proeftuinen, again.proeftuinen)


def test_changing_a_weight_changes_ranking_and_is_recorded(demo, result):
    b, d, p = demo
    cfg = load_config(overrides=[*FAST_OVERRIDES, "proeftuin.gewichten.levensloopbehoefte=0.9",
                                 "proeftuin.gewichten.doelgroepconcentratie=0.0"])
    other = analyse(b, d, config=cfg, prognose=p)
    key = ["gemeentecode", "rang", "eenheid_code"]
    assert not result.proeftuinen[key].equals(other.proeftuinen[key])
    s0, s1 = result.summary(), other.summary()
    assert s1["proeftuin"]["gewichten"]["levensloopbehoefte"] == 0.9
    assert s0["proeftuin"]["gewichten"]["levensloopbehoefte"] == 0.2
    assert s0["config_digest"] != s1["config_digest"]


def test_whole_analysis_invariant_to_row_order(demo, result):
    b, d, p = demo
    other = analyse(b.sample(frac=1.0, random_state=1), d.sample(frac=1.0, random_state=2),
                    config=fast_config(), prognose=p.sample(frac=1.0, random_state=3))
    for name in ("proeftuinen.csv", "instrumenten.csv", "kosten_buurt.csv",
                 "typologie_profielen.csv", "uitgesloten.csv"):
        pd.testing.assert_frame_equal(result.tables()[name], other.tables()[name],
                                      check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(pd.DataFrame(result.buurten.drop(columns="geometry")),
                                  pd.DataFrame(other.buurten.drop(columns="geometry")),
                                  check_exact=False, rtol=1e-9)


def test_without_forecast_the_notes_say_so(demo):
    b, d, _ = demo
    r = analyse(b, d, config=fast_config())
    assert r.buurten["prognose_huishoudens"].isna().all()
    assert any("geen gemeenteprognose" in n for n in r.summary()["notities"])


def test_woonplaats_level_uses_dwelling_villages(demo):
    b, d, p = demo
    r = analyse(b, d, config=fast_config(proeftuin={"niveau": "woonplaats"}), prognose=p)
    k = r.proeftuinen
    assert (k["niveau"] == "woonplaats").all()
    assert k["eenheid_code"].str.contains("-dorp").all()
    assert r.buurten["proeftuin_eenheid"].notna().any()
    assert any("woonplaats van de woningen" in n for n in r.notities)


def test_plain_dataframe_input_and_input_errors(demo):
    b, d, _ = demo
    r = analyse(pd.DataFrame(b.drop(columns="geometry")), pd.DataFrame(d),
                config=fast_config())
    assert not isinstance(r.buurten, gpd.GeoDataFrame)
    with pytest.raises(InputError, match="duplicate"):
        analyse(pd.concat([b, b.iloc[:1]]), d, config=fast_config())
    with pytest.raises(MissingColumnError):
        analyse(b.drop(columns="gemeentecode"), d, config=fast_config())


def test_missing_statistics_stay_nan(demo, result):
    b = demo[0]
    suppressed = b.loc[b["woz_gemiddeld"].isna(), "buurtcode"]
    out = result.buurten.set_index("buurtcode").loc[suppressed]
    assert out["woz_t_o_v_mediaan"].isna().all()
    assert not out["financiele_ruimte_inputs"].str.contains("woz_t_o_v_mediaan").any()
    assert np.isfinite(result.buurten["energiebehoefte"]).all()


def test_rerun_on_analysed_table_gives_same_columns(demo, result):
    _, d, p = demo
    again = analyse(result.buurten, d, config=fast_config(), prognose=p)
    assert sorted(again.buurten.columns) == sorted(result.buurten.columns)
    pd.testing.assert_frame_equal(again.proeftuinen, result.proeftuinen)


def test_buurt_without_gemeente_is_an_error(demo):
    b, d, _ = demo
    b = b.copy()
    b.loc[b.index[0], "gemeentecode"] = None
    with pytest.raises(InputError, match="gemeentecode"):
        analyse(b, d, config=fast_config())
