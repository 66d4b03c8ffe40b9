"""Upgrade cost from the PBL key figures, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest_analysis import config
from woonvoorraad.classify.kosten import (
    BRON,
    check_c_steps,
    compute_costs,
    compute_dwelling_costs,
    read_kentallen,
    sum_costs_per_buurt,
    sum_costs_per_gemeente,
)
from woonvoorraad.config import default_config
from woonvoorraad.errors import ConfigError, MissingColumnError

CFG = default_config()


def dw(**cols) -> pd.DataFrame:
    base = {"buurtcode": ["BU1"], "woningtype": ["tussenwoning"], "bouwjaar": [1960],
            "oppervlakte": [100.0], "energielabel": ["F"]}
    base.update(cols)
    return pd.DataFrame(base)


def one(**cols) -> pd.Series:
    return compute_dwelling_costs(dw(**cols), config=CFG).iloc[0]


def test_key_figures_are_read():
    k = read_kentallen()
    assert len(k) == 66
    assert k["ki_gb_min_asl"].notna().all()
    assert k.loc[k["pbl_periode"] == "voor 1930", "bouwjaar_van"].isna().all()


def test_tussenwoning_1960_f_to_b_and_c():
    r = one()
    # row tussenwoning 1946-1964: ki_fb min 11738 + 102/m2, max 17094 + 146/m2;
    # ki_fc 2550 + 100/m2 (min = max)
    assert r["pbl_periode"] == "1946 - 1964"
    assert r["kosten_b_laag"] == pytest.approx(11738 + 102 * 100)
    assert r["kosten_b_hoog"] == pytest.approx(17094 + 146 * 100)
    assert r["kosten_c"] == pytest.approx(2550 + 100 * 100)
    # F is below B, below C and in E/F/G: all three figures are the same steps
    assert r["kosten_efg_b_laag"] == r["kosten_b_laag"] and r["kosten_efg_c"] == r["kosten_c"]


def test_before_1930_uses_the_row_without_lower_bound():
    r = one(woningtype=["vrijstaand"], bouwjaar=[1890], energielabel=["G"], oppervlakte=[150.0])
    assert r["pbl_periode"] == "voor 1930"
    # vrijstaand voor 1930: ki_gc 15696 + 109/m2; ki_gb min 11738 + 102/m2
    assert r["kosten_c"] == pytest.approx(15696 + 109 * 150)
    assert r["kosten_b_laag"] == pytest.approx(11738 + 102 * 150)


def test_after_2020_uses_the_last_row():
    r = one(woningtype=["hoekwoning"], bouwjaar=[2023], energielabel=["E"], oppervlakte=[80.0])
    assert r["pbl_periode"] == "2015 - 2020"
    # hoekwoning 2015-2020: ki_ec 6450 + 28/m2, ki_eb max 14449 + 117/m2
    assert r["kosten_c"] == pytest.approx(6450 + 28 * 80)
    assert r["kosten_b_hoog"] == pytest.approx(14449 + 117 * 80)


def test_period_boundaries():
    assert one(bouwjaar=[1929])["pbl_periode"] == "voor 1930"
    assert one(bouwjaar=[1930])["pbl_periode"] == "1930 - 1945"
    assert one(bouwjaar=[1945])["pbl_periode"] == "1930 - 1945"
    assert one(bouwjaar=[1946])["pbl_periode"] == "1946 - 1964"
    assert one(bouwjaar=[1974])["pbl_periode"] == "1965 - 1974"
    assert one(bouwjaar=[2020])["pbl_periode"] == "2015 - 2020"


def test_unknown_year_falls_back_to_bouwperiode_else_no_estimate():
    r = one(bouwjaar=pd.array([pd.NA], dtype="Int16"), bouwperiode=["1965 - 1974"])
    assert r["pbl_periode"] == "1965 - 1974"
    assert r["kosten_b_laag"] == pytest.approx(11675 + 109 * 100)
    r2 = one(bouwjaar=pd.array([pd.NA], dtype="Int16"))
    assert pd.isna(r2["pbl_periode"]) and np.isnan(r2["kosten_b_laag"])


def test_floor_area_imputed_from_same_type_median():
    d = dw(buurtcode=["BU1"] * 4, woningtype=["tussenwoning"] * 3 + ["vrijstaand"],
           bouwjaar=[1960] * 4, oppervlakte=[np.nan, 80.0, 120.0, 5000.0],
           energielabel=["F", "A", "A", "F"])
    k = compute_dwelling_costs(d, config=CFG)
    assert len(k) == 2  # only the F-labels
    first = k.iloc[0]
    assert first["oppervlakte_geimputeerd"]
    assert first["oppervlakte_gebruikt"] == pytest.approx(100.0)  # median of 80 and 120
    assert first["kosten_b_laag"] == pytest.approx(11738 + 102 * 100)
    # the implausible 5000 m2 villa has no plausible same-type area: no estimate
    assert k.iloc[1]["oppervlakte_geimputeerd"] and np.isnan(k.iloc[1]["kosten_b_laag"])


def test_negative_and_not_applicable_key_figures():
    k = read_kentallen()
    sel = (k["woningtype"] == "tussenwoning") & (k["pbl_periode"] == "1946 - 1964")
    k.loc[sel, "ki_fb_min_asl"] = -5000.0
    k.loc[sel, "ki_fc_min_asl"] = np.nan  # 999999 in the file = not applicable
    r = compute_dwelling_costs(dw(oppervlakte=[20.0]), config=CFG, kentallen=k).iloc[0]
    assert r["kosten_b_laag"] == 0.0  # -5000 + 102 * 20 < 0 -> 0
    assert np.isnan(r["kosten_c"])


def test_per_buurt_and_per_gemeente_totals():
    d = pd.DataFrame({
        "buurtcode": ["BU1", "BU1", "BU2", "BU2"],
        "woningtype": ["tussenwoning", "tussenwoning", "vrijstaand", None],
        "bouwjaar": [1960, 1960, 1890, 1960],
        "oppervlakte": [100.0, 50.0, 150.0, 90.0],
        "energielabel": ["F", "B", "G", "E"],
        "naoorlogs": [True, True, False, True],
        "label_bron": ["pbl", "geregistreerd", "geregistreerd", "model"],
    })
    buurten = pd.DataFrame({"buurtcode": ["BU1", "BU2", "BU3"],
                            "gemeentecode": ["GM1", "GM1", "GM2"],
                            "gemeentenaam": ["Een", "Een", "Twee"]})
    kb, kg, notes = compute_costs(d, buurten, config=CFG)
    kb = kb.set_index("buurtcode")
    assert kb.loc["BU1", "n_efg_verwacht"] == 1
    assert kb.loc["BU1", "n_onder_b_geschat_verwacht"] == 1
    assert kb.loc["BU1", "investering_naar_b_laag"] == pytest.approx(21938)
    assert kb.loc["BU1", "investering_naar_b_laag_naoorlogs"] == pytest.approx(21938)
    assert kb.loc["BU2", "n_onder_b_verwacht"] == 2
    assert kb.loc["BU2", "n_onder_b_zonder_kentallen"] == 1
    assert kb.loc["BU2", "investering_naar_b_laag"] == pytest.approx(11738 + 102 * 150)
    assert kb.loc["BU2", "investering_naar_b_laag_per_woning"] == pytest.approx(
        11738 + 102 * 150)
    # the only post-war dwelling of BU2 has no key figures: no estimate, not 0
    assert np.isnan(kb.loc["BU2", "investering_naar_b_laag_naoorlogs"])
    assert kb.loc["BU3", "n_onder_b_verwacht"] == 0
    assert kb.loc["BU3", "investering_naar_b_laag"] == 0
    assert (kb["bron"] == BRON).all()
    kg = kg.set_index("gemeentecode")
    assert kg.loc["GM1", "investering_naar_b_laag"] == pytest.approx(21938 + 11738 + 102 * 150)
    assert kg.loc["GM1", "investering_naar_b_hoog"] == pytest.approx(
        17094 + 146 * 100 + 17094 + 146 * 150)
    assert kg.loc["GM2", "n_onder_b_verwacht"] == 0
    assert any("zonder kentallen" in n for n in notes)
    assert any("geen labelkansen" in n for n in notes)  # old build: one label per dwelling


def test_buurt_without_any_computable_dwelling_has_nan_cost():
    d = dw(woningtype=[None])
    kb = sum_costs_per_buurt(compute_dwelling_costs(d, config=CFG),
                          pd.DataFrame({"buurtcode": ["BU1"], "gemeentecode": ["GM1"]}))
    assert kb.loc[0, "n_onder_b_verwacht"] == 1
    assert np.isnan(kb.loc[0, "investering_naar_b_laag"])
    kg = sum_costs_per_gemeente(kb)
    assert kg.loc[0, "n_onder_b_zonder_kentallen"] == 1


def test_d_and_c_are_in_the_need_to_b_beside_the_efg_figure():
    # tussenwoning 1946-1964, 100 m2: ki_db 8542 + 50/m2 .. 11025 + 83/m2; ki_dc 1508 + 16/m2;
    # ki_cb 7736 + 52/m2 .. 10141 + 86/m2 (from the PBL table)
    k = read_kentallen()
    row = k[(k["woningtype"] == "tussenwoning") & (k["pbl_periode"] == "1946 - 1964")].iloc[0]
    cb_min = row["ki_cb_min_asl"] + row["ki_cb_min_opp"] * 100
    r = compute_dwelling_costs(dw(energielabel=["D", "C"], buurtcode=["BU1"] * 2,
                                  woningtype=["tussenwoning"] * 2, bouwjaar=[1960] * 2,
                                  oppervlakte=[100.0] * 2), config=CFG)
    d_, c_ = r.iloc[0], r.iloc[1]
    assert d_["kosten_b_laag"] == pytest.approx(8542 + 50 * 100)
    assert d_["kosten_b_hoog"] == pytest.approx(11025 + 83 * 100)
    assert d_["kosten_c"] == pytest.approx(1508 + 16 * 100)
    assert d_["kosten_efg_b_laag"] == 0 and d_["p_efg"] == 0  # D is not E/F/G
    assert c_["kosten_b_laag"] == pytest.approx(cb_min) and cb_min > 0
    assert c_["kosten_c"] == 0 and c_["p_onder_c"] == 0  # C needs nothing to reach C
    # A and B dwellings are not in the table at all
    none = compute_dwelling_costs(dw(energielabel=["B"]), config=CFG)
    assert none.empty


def test_costs_with_probabilities_are_the_expectation():
    # one tussenwoning 1946-1964 of 100 m2: p(B)=0.2, p(D)=0.5, p(F)=0.3
    probs = {f"p_label_{x}": [0.0] for x in "ABCDEFG"}
    probs.update(p_label_B=[0.2], p_label_D=[0.5], p_label_F=[0.3])
    r = compute_dwelling_costs(dw(energielabel=["D"], **probs), config=CFG).iloc[0]
    db_min, db_max, dc = 8542 + 50 * 100, 11025 + 83 * 100, 1508 + 16 * 100
    fb_min, fb_max, fc = 11738 + 102 * 100, 17094 + 146 * 100, 2550 + 100 * 100
    assert r["p_onder_b"] == pytest.approx(0.8) and r["p_efg"] == pytest.approx(0.3)
    assert r["kosten_b_laag"] == pytest.approx(0.5 * db_min + 0.3 * fb_min)
    assert r["kosten_b_hoog"] == pytest.approx(0.5 * db_max + 0.3 * fb_max)
    assert r["kosten_c"] == pytest.approx(0.5 * dc + 0.3 * fc)
    assert r["kosten_efg_b_laag"] == pytest.approx(0.3 * fb_min)
    assert r["kosten_efg_c"] == pytest.approx(0.3 * fc)
    kb = sum_costs_per_buurt(compute_dwelling_costs(dw(energielabel=["D"], **probs),
                                                    config=CFG),
                             pd.DataFrame({"buurtcode": ["BU1"], "gemeentecode": ["GM1"]}))
    assert kb.loc[0, "n_onder_b_verwacht"] == pytest.approx(0.8)
    assert kb.loc[0, "n_onder_c_verwacht"] == pytest.approx(0.8)
    assert kb.loc[0, "n_efg_verwacht"] == pytest.approx(0.3)
    # per expected dwelling below B
    assert kb.loc[0, "investering_naar_b_laag_per_woning"] == pytest.approx(
        (0.5 * db_min + 0.3 * fb_min) / 0.8)
    # a registered label (one-hot) gives the plain step
    one_hot = {f"p_label_{x}": [1.0 if x == "F" else 0.0] for x in "ABCDEFG"}
    r2 = compute_dwelling_costs(dw(**one_hot), config=CFG).iloc[0]
    assert r2["kosten_b_laag"] == pytest.approx(fb_min)


def test_c_steps_are_one_figure_and_a_range_is_refused():
    k = read_kentallen()
    for lab in "defg":
        assert (k[f"ki_{lab}c_min_asl"] == k[f"ki_{lab}c_max_asl"]).all()
    # → B is a real range: at 100 m2 the high variant lies above the low one everywhere
    assert ((k["ki_cb_max_asl"] + 100 * k["ki_cb_max_opp"])
            > (k["ki_cb_min_asl"] + 100 * k["ki_cb_min_opp"])).all()
    _kb, kg, _ = compute_costs(dw(), pd.DataFrame({"buurtcode": ["BU1"],
                                                  "gemeentecode": ["GM1"]}), config=CFG)
    assert "investering_naar_c" in kg.columns
    assert not any(c.startswith("investering_naar_c_") and c.endswith(("laag", "hoog"))
                   for c in kg.columns)
    k.loc[0, "ki_fc_max_opp"] += 1
    with pytest.raises(ConfigError, match="min ≠ max"):
        check_c_steps(k)


def test_slecht_labels_setting_is_respected_and_checked():
    cfg = config(labels={"slecht": ["D", "E", "F", "G"]})
    r = compute_dwelling_costs(dw(energielabel=["D"]), config=cfg).iloc[0]
    assert r["kosten_efg_b_laag"] == pytest.approx(8542 + 50 * 100)  # tussenwoning 1946-64
    with pytest.raises(ConfigError, match="B"):
        compute_dwelling_costs(dw(), config=config(labels={"slecht": ["B", "E"]}))


def test_missing_columns_raise():
    with pytest.raises(MissingColumnError, match="oppervlakte"):
        compute_dwelling_costs(dw().drop(columns="oppervlakte"), config=CFG)
