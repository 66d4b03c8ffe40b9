"""Upgrade cost from the PBL key figures, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest_analysis import config
from woonvoorraad.classify.kosten import (
    BRON,
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
    assert r["kosten_b_min"] == pytest.approx(11738 + 102 * 100)
    assert r["kosten_b_max"] == pytest.approx(17094 + 146 * 100)
    assert r["kosten_c_min"] == pytest.approx(2550 + 100 * 100)
    assert r["kosten_c_max"] == pytest.approx(2550 + 100 * 100)


def test_before_1930_uses_the_row_without_lower_bound():
    r = one(woningtype=["vrijstaand"], bouwjaar=[1890], energielabel=["G"], oppervlakte=[150.0])
    assert r["pbl_periode"] == "voor 1930"
    # vrijstaand voor 1930: ki_gc 15696 + 109/m2; ki_gb min 11738 + 102/m2
    assert r["kosten_c_min"] == pytest.approx(15696 + 109 * 150)
    assert r["kosten_b_min"] == pytest.approx(11738 + 102 * 150)


def test_after_2020_uses_the_last_row():
    r = one(woningtype=["hoekwoning"], bouwjaar=[2023], energielabel=["E"], oppervlakte=[80.0])
    assert r["pbl_periode"] == "2015 - 2020"
    # hoekwoning 2015-2020: ki_ec 6450 + 28/m2, ki_eb max 14449 + 117/m2
    assert r["kosten_c_min"] == pytest.approx(6450 + 28 * 80)
    assert r["kosten_b_max"] == pytest.approx(14449 + 117 * 80)


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
    assert r["kosten_b_min"] == pytest.approx(11675 + 109 * 100)
    r2 = one(bouwjaar=pd.array([pd.NA], dtype="Int16"))
    assert pd.isna(r2["pbl_periode"]) and np.isnan(r2["kosten_b_min"])


def test_floor_area_imputed_from_same_type_median():
    d = dw(buurtcode=["BU1"] * 4, woningtype=["tussenwoning"] * 3 + ["vrijstaand"],
           bouwjaar=[1960] * 4, oppervlakte=[np.nan, 80.0, 120.0, 5000.0],
           energielabel=["F", "A", "A", "F"])
    k = compute_dwelling_costs(d, config=CFG)
    assert len(k) == 2  # only the F-labels
    first = k.iloc[0]
    assert first["oppervlakte_geimputeerd"]
    assert first["oppervlakte_gebruikt"] == pytest.approx(100.0)  # median of 80 and 120
    assert first["kosten_b_min"] == pytest.approx(11738 + 102 * 100)
    # the implausible 5000 m2 villa has no plausible same-type area: no estimate
    assert k.iloc[1]["oppervlakte_geimputeerd"] and np.isnan(k.iloc[1]["kosten_b_min"])


def test_negative_and_not_applicable_key_figures():
    k = read_kentallen()
    sel = (k["woningtype"] == "tussenwoning") & (k["pbl_periode"] == "1946 - 1964")
    k.loc[sel, "ki_fb_min_asl"] = -5000.0
    k.loc[sel, "ki_fc_min_asl"] = np.nan  # 999999 in the file = not applicable
    r = compute_dwelling_costs(dw(oppervlakte=[20.0]), config=CFG, kentallen=k).iloc[0]
    assert r["kosten_b_min"] == 0.0  # -5000 + 102 * 20 < 0 -> 0
    assert np.isnan(r["kosten_c_min"])


def test_per_buurt_and_per_gemeente_totals():
    d = pd.DataFrame({
        "buurtcode": ["BU1", "BU1", "BU2", "BU2"],
        "woningtype": ["tussenwoning", "tussenwoning", "vrijstaand", None],
        "bouwjaar": [1960, 1960, 1890, 1960],
        "oppervlakte": [100.0, 50.0, 150.0, 90.0],
        "energielabel": ["F", "B", "G", "E"],
        "naoorlogs": [True, True, False, True],
        "label_bron": ["geschat", "geregistreerd", "geregistreerd", "geschat"],
    })
    buurten = pd.DataFrame({"buurtcode": ["BU1", "BU2", "BU3"],
                            "gemeentecode": ["GM1", "GM1", "GM2"],
                            "gemeentenaam": ["Een", "Een", "Twee"]})
    kb, kg, notes = compute_costs(d, buurten, config=CFG)
    kb = kb.set_index("buurtcode")
    assert kb.loc["BU1", "n_efg"] == 1 and kb.loc["BU1", "n_label_geschat"] == 1
    assert kb.loc["BU1", "kosten_b_min"] == pytest.approx(21938)
    assert kb.loc["BU1", "kosten_b_min_naoorlogs"] == pytest.approx(21938)
    assert kb.loc["BU2", "n_efg"] == 2 and kb.loc["BU2", "n_efg_zonder_kentallen"] == 1
    assert kb.loc["BU2", "kosten_b_min"] == pytest.approx(11738 + 102 * 150)
    assert kb.loc["BU2", "kosten_b_min_per_woning"] == pytest.approx(11738 + 102 * 150)
    assert kb.loc["BU3", "n_efg"] == 0 and kb.loc["BU3", "kosten_b_min"] == 0
    assert (kb["bron"] == BRON).all()
    kg = kg.set_index("gemeentecode")
    assert kg.loc["GM1", "kosten_b_min"] == pytest.approx(21938 + 11738 + 102 * 150)
    assert kg.loc["GM1", "kosten_b_max"] == pytest.approx(
        17094 + 146 * 100 + 17094 + 146 * 150)
    assert kg.loc["GM2", "n_efg"] == 0
    assert any("zonder kentallen" in n for n in notes)


def test_buurt_without_any_computable_dwelling_has_nan_cost():
    d = dw(woningtype=[None])
    kb = sum_costs_per_buurt(compute_dwelling_costs(d, config=CFG),
                          pd.DataFrame({"buurtcode": ["BU1"], "gemeentecode": ["GM1"]}))
    assert kb.loc[0, "n_efg"] == 1 and np.isnan(kb.loc[0, "kosten_b_min"])
    kg = sum_costs_per_gemeente(kb)
    assert kg.loc[0, "n_efg_zonder_kentallen"] == 1


def test_slecht_labels_setting_is_respected_and_checked():
    cfg = config(labels={"slecht": ["D", "E", "F", "G"]})
    r = compute_dwelling_costs(dw(energielabel=["D"]), config=cfg).iloc[0]
    assert r["kosten_b_min"] == pytest.approx(8542 + 50 * 100)  # tussenwoning 1946-64 ki_db
    with pytest.raises(ConfigError, match="B"):
        compute_dwelling_costs(dw(), config=config(labels={"slecht": ["B", "E"]}))


def test_missing_columns_raise():
    with pytest.raises(MissingColumnError, match="oppervlakte"):
        compute_dwelling_costs(dw().drop(columns="oppervlakte"), config=CFG)
