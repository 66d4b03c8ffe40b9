"""Scores: anchored scales, NaN handling, derived drivers, monotonicity and order invariance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest_analysis import config, tiny_buurten
from woonvoorraad.classify.scores import (
    SCORES,
    Component,
    components_from_config,
    compute_score,
    compute_scores,
    derive_drivers,
    policy_value,
    ramp,
    summarise_prognose,
    weighted_median,
)
from woonvoorraad.config import default_config, load_config
from woonvoorraad.errors import ConfigError, InputError

CFG = default_config()
COMPS = components_from_config(CFG)


def test_ramp_up_down_and_nan():
    assert ramp([0.0, 0.3, 0.6, 0.9], nul=0.0, een=0.6).tolist() == [0.0, 0.5, 1.0, 1.0]
    assert ramp([2.6, 2.2, 1.8, 1.0], nul=2.6, een=1.8).round(6).tolist() == [0, 0.5, 1, 1]
    assert np.isnan(ramp([np.nan], nul=0, een=1)[0])
    with pytest.raises(ConfigError):
        ramp([1.0], nul=1.0, een=1.0)


def test_weighted_median():
    assert weighted_median([100, 200, 300], [1, 1, 5]) == 300
    assert weighted_median([100, 200, 300], [5, 1, 1]) == 100
    assert weighted_median([100, np.nan, 300, 200]) == 200
    assert weighted_median([100, 200], [0, 0]) == 100  # all zero weights: plain lower median
    assert math.isnan(weighted_median([np.nan, np.nan]))


def test_hand_computed_scores():
    b = tiny_buurten()
    res = compute_scores(b, config=CFG)
    f = res.frame
    # buurt 1 is at every "one" anchor of energy and lifecycle need
    assert f.loc[0, "energiebehoefte"] == pytest.approx(1.0)
    assert f.loc[0, "levensloopbehoefte"] == pytest.approx(1.0)
    assert f.loc[2, "energiebehoefte"] == pytest.approx(0.0)
    # buurt 2: efg 0.3/0.6 = 0.5 (w .6), naoorlogs 0.4/0.8 = 0.5 (w .2), gas 500/1000 (w .2)
    assert f.loc[1, "energiebehoefte"] == pytest.approx(0.5)
    # lifecycle buurt 2: 65+ (0.25-0.1)/0.3 = .5; eg75 .3/.6 = .5; hh (2.6-2.2)/.8 = .5
    assert f.loc[1, "levensloopbehoefte"] == pytest.approx(0.5)
    # doelgroep buurt 1: 300/300 = 1 (w .6), 0.75/0.5 -> 1 (w .4)
    assert f.loc[0, "doelgroepconcentratie"] == pytest.approx(1.0)
    # pressure buurt 1: all trends at the "one" anchor; no forecast -> 3 of 4 drivers used
    assert f.loc[0, "demografische_druk"] == pytest.approx(1.0)
    assert f.loc[0, "demografische_druk_ontbrekend"] == "prognose_huishoudens"
    assert any("geen gemeenteprognose" in n for n in res.notities)


def test_financial_room_hand_computed():
    b = tiny_buurten()
    res = compute_scores(b, config=CFG)
    f = res.frame
    # GM0001: WOZ 180k (400 dw), 240k (300 dw): lower weighted median = 180k
    assert f.loc[0, "woz_mediaan_gemeente"] == 180000
    assert f.loc[1, "woz_t_o_v_mediaan"] == pytest.approx(240 / 180)
    # household income buurt 2: 28000 * 2.2; DAEB 2022 limit at size 2.2 = multi-person
    assert f.loc[1, "inkomen_huishouden_geschat"] == pytest.approx(61600)
    assert f.loc[1, "daeb_grens"] == pytest.approx(45014)
    # size 1.8: 40765 + 0.8 * (45014 - 40765)
    assert f.loc[0, "daeb_grens"] == pytest.approx(40765 + 0.8 * 4249)
    ratio = 61600 / 45014
    woz_c = (240 / 180 - 0.7) / 0.6
    inc_c = (ratio - 0.8) / 0.8
    low_c = (0.10 - 0.20) / (0.04 - 0.20)
    expected = (0.4 * min(woz_c, 1) + 0.4 * inc_c + 0.2 * low_c) / 1.0
    assert f.loc[1, "financiele_ruimte"] == pytest.approx(expected)


def test_nan_drivers_are_skipped_and_reported_never_zero():
    b = tiny_buurten(woz_gemiddeld=[np.nan, 240000.0, 300000.0],
                     inkomen_per_inwoner=[np.nan, 28000.0, 40000.0],
                     aandeel_laag_inkomen=[np.nan, 0.1, 0.04])
    f = compute_scores(b, config=CFG).frame
    assert np.isnan(f.loc[0, "financiele_ruimte"])
    assert f.loc[0, "financiele_ruimte_inputs"] == ""
    assert f.loc[0, "financiele_ruimte_ontbrekend"] == (
        "woz_t_o_v_mediaan,inkomen_t_o_v_daeb,aandeel_laag_inkomen")
    # with only some drivers: weights are rescaled over the ones present
    b2 = tiny_buurten(gasverbruik_gemiddeld=[np.nan, np.nan, np.nan])
    f2 = compute_scores(b2, config=CFG).frame
    # buurt 2: (0.6 * .5 + 0.2 * .5) / 0.8 = 0.5
    assert f2.loc[1, "energiebehoefte"] == pytest.approx(0.5)
    assert f2.loc[1, "energiebehoefte_inputs"] == "aandeel_label_efg_verwacht,aandeel_naoorlogs"


def test_absent_columns_are_reported():
    b = tiny_buurten().drop(columns=["gasverbruik_gemiddeld", "trend_65plus"])
    res = compute_scores(b, config=CFG)
    assert any("gasverbruik_gemiddeld" in n and "trend_65plus" in n for n in res.notities)
    assert (res.frame["energiebehoefte_ontbrekend"].str.contains("gasverbruik")).all()


def test_prognose_is_used_and_missing_gemeente_reported():
    p = pd.DataFrame({"gemeentecode": ["GM0001"] * 3, "jaar": [2024, 2030, 2050],
                      "bevolking": [1000, 950, 700], "huishoudens": [500, 470, 300]})
    res = compute_scores(tiny_buurten(), config=CFG, prognose=p)
    f = res.frame
    expected = (470 / 500) ** (1 / 6) - 1  # 2050 lies beyond prognose_eindjaar 2035
    assert f.loc[0, "prognose_huishoudens"] == pytest.approx(expected)
    assert f.loc[0, "prognose_jaren"] == "2024-2030"
    assert np.isnan(f.loc[2, "prognose_huishoudens"])
    assert any("GM0002" in n for n in res.notities)
    with pytest.raises(InputError):
        summarise_prognose(p.drop(columns="huishoudens"), eindjaar=2035)


def test_policy_lookup_and_errors():
    assert policy_value(CFG, "daeb_meerpersoons", 2025) == 54847
    assert policy_value(CFG, "nhg_grens") == 470000  # beleid.jaar = 2026
    assert policy_value(CFG, "daeb_eenpersoons", 2026) == 51537
    assert policy_value(CFG, "koopgrens_betaalbaar", 2024) == 390000
    with pytest.raises(ConfigError, match="2021"):
        policy_value(CFG, "daeb_eenpersoons", 2021)
    with pytest.raises(ConfigError):
        policy_value(CFG, "bestaat_niet")


def test_config_validation_of_components():
    bad = load_config(overrides={"scores": {"energiebehoefte": {
        "aandeel_label_efg_verwacht": {"nul": 0.5, "een": 0.5}}}})
    with pytest.raises(ConfigError, match="nul and een"):
        components_from_config(bad)
    neg = load_config(overrides={"scores": {"energiebehoefte": {
        "aandeel_label_efg_verwacht": {"gewicht": -1.0}}}})
    with pytest.raises(ConfigError, match="gewicht"):
        components_from_config(neg)


def test_anchor_override_changes_score():
    b = tiny_buurten()
    base = compute_scores(b, config=CFG).frame.loc[1, "energiebehoefte"]
    cfg = config(scores={"energiebehoefte": {"aandeel_label_efg_verwacht": {"een": 0.3}}})
    changed = compute_scores(b, config=cfg).frame.loc[1, "energiebehoefte"]
    assert changed > base


def test_unrelated_gemeente_does_not_change_scores():
    b = tiny_buurten()
    alone = compute_scores(b.iloc[:2], config=CFG).frame
    extra = tiny_buurten(buurtcode=["BU0001", "BU0002", "BU0009"],
                         gemeentecode=["GM0001", "GM0001", "GM0009"],
                         woz_gemiddeld=[180000.0, 240000.0, 900000.0])
    with_other = compute_scores(extra, config=CFG).frame.iloc[:2]
    cols = [*SCORES, "woz_t_o_v_mediaan"]
    pd.testing.assert_frame_equal(alone[cols], with_other[cols])


def test_long_component_table():
    res = compute_scores(tiny_buurten(), config=CFG)
    long = res.componenten
    assert set(long["score"]) == set(SCORES)
    row = long[(long["buurtcode"] == "BU0002") & (long["kolom"] == "aandeel_label_efg_verwacht")]
    assert row["component"].iloc[0] == pytest.approx(0.5)
    assert row["gewicht"].iloc[0] == pytest.approx(0.6)


# -- property-based -----------------------------------------------------------------------------

unit = st.floats(0.0, 1.0, allow_nan=False)
maybe = st.one_of(st.just(np.nan), st.floats(-5e5, 5e5, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(score=st.sampled_from(SCORES), data=st.data())
def test_each_score_is_monotone_in_each_driver(score, data):
    """Moving one driver in its documented direction never lowers the score."""
    comps = COMPS[score]
    comp = data.draw(st.sampled_from(comps))
    values = {c.kolom: data.draw(maybe, label=c.kolom) for c in comps}
    lo = data.draw(st.floats(-5e5, 5e5, allow_nan=False), label="lo")
    step = data.draw(st.floats(0, 5e5, allow_nan=False), label="step")
    hi = lo + step if comp.een > comp.nul else lo - step
    rows = [dict(values, **{comp.kolom: lo}), dict(values, **{comp.kolom: hi})]
    out, _ = compute_score(pd.DataFrame(rows), comps)
    a, b = out[score].to_numpy()
    if np.isnan(a):
        assert np.isnan(b)
    else:
        assert b >= a - 1e-12
        assert 0.0 <= a <= 1.0 and 0.0 <= b <= 1.0


@settings(max_examples=40, deadline=None)
@given(
    woz=st.lists(st.floats(50_000, 900_000), min_size=2, max_size=8),
    n=st.lists(st.integers(0, 2000), min_size=8, max_size=8),
    who=st.integers(0, 7), up=st.floats(0, 400_000),
)
def test_financial_room_monotone_in_woz_through_the_gemeente_median(woz, n, who, up):
    """Raising a buurt's WOZ also moves the gemeente median; its room still never falls."""
    k = len(woz)
    who %= k
    b = pd.DataFrame({"buurtcode": [f"BU{i}" for i in range(k)], "gemeentecode": "GM1",
                      "n_woningen": n[:k], "woz_gemiddeld": woz})
    before = compute_scores(b, config=CFG).frame.loc[who, "financiele_ruimte"]
    b.loc[who, "woz_gemiddeld"] += up
    after = compute_scores(b, config=CFG).frame.loc[who, "financiele_ruimte"]
    assert after >= before - 1e-12


@settings(max_examples=40, deadline=None)
@given(ipi=st.floats(10_000, 80_000), up=st.floats(0, 30_000), hh=st.floats(1.0, 4.0),
       low=st.floats(0, 0.5), more_low=st.floats(0, 0.5))
def test_financial_room_monotone_in_income_and_low_income_share(ipi, up, hh, low, more_low):
    b = tiny_buurten(inkomen_per_inwoner=[ipi, ipi + up, 30000.0],
                     gemiddelde_huishoudsgrootte=[hh, hh, 2.0],
                     aandeel_laag_inkomen=[low, low, 0.1],
                     woz_gemiddeld=[200000.0, 200000.0, 200000.0])
    f = compute_scores(b, config=CFG).frame
    assert f.loc[1, "financiele_ruimte"] >= f.loc[0, "financiele_ruimte"] - 1e-12
    b2 = b.copy()
    b2.loc[0, "aandeel_laag_inkomen"] = low + more_low
    f2 = compute_scores(b2, config=CFG).frame
    assert f2.loc[0, "financiele_ruimte"] <= f.loc[0, "financiele_ruimte"] + 1e-12


@settings(max_examples=25, deadline=None)
@given(perm=st.permutations(range(3)))
def test_scores_invariant_to_row_order(perm):
    b = tiny_buurten()
    base = compute_scores(b, config=CFG).frame.set_index(b["buurtcode"])
    shuffled = b.iloc[list(perm)]
    other = compute_scores(shuffled, config=CFG).frame.set_index(shuffled["buurtcode"])
    pd.testing.assert_frame_equal(base.sort_index(), other.sort_index())


def test_component_direction_labels():
    assert Component("x", "a", 0, 1, 1).richting == "stijgend"
    assert Component("x", "a", 1, 0, 1).richting == "dalend"


def test_derived_columns_have_buurt_index():
    b = tiny_buurten().set_index(pd.Index([10, 20, 30]))
    out, _ = derive_drivers(b, config=CFG)
    assert list(out.index) == [10, 20, 30]
