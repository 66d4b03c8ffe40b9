"""Instrument rules: grammar, three-valued logic, packaged rules on hand-made buurten."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest_analysis import config
from woonvoorraad.classify.instrumenten import (
    Groep,
    Voorwaarde,
    evaluate_rule,
    parse_rules,
    read_rules,
    select_instruments,
)
from woonvoorraad.config import default_config
from woonvoorraad.errors import ConfigError

CFG = default_config()

HEAD = """
[[instrument]]
code = "x"
naam = "X"
omschrijving = "o"
bron = "b"
url = "https://example.org"
"""


def rules(body: str, cfg=CFG):
    return parse_rules(HEAD + body, config=cfg)


def test_packaged_rules_parse_with_sources():
    regels, meta = read_rules(CFG)
    codes = [r.code for r in regels]
    for needed in ("warmtefonds_energiebespaarlening", "svn_blijverslening",
                   "svn_verzilverlening", "collectieve_wijkaanpak_isolatie",
                   "corporatie_aankoop_herstructurering"):
        assert needed in codes
    assert all(r.url.startswith("https://") and r.bron and r.toelichting for r in regels)
    assert meta["bestand"].endswith("instrumenten.toml") and len(meta["sha256"]) == 64


def test_rule_text_and_nesting():
    (r,) = rules('all = [{column = "a", op = ">=", value = 0.5}, '
                 '{any = [{column = "b", op = "<", value = 1}, '
                 '{column = "c", op = "in", value = ["x", "y"]}]}]')
    assert r.regel_tekst == "a >= 0.5 en (b < 1 of c in ['x', 'y'])"
    assert r.regel.kolommen() == ["a", "b", "c"]


def test_value_from_policy_table():
    (r,) = rules('all = [{column = "inkomen", op = "<=", '
                 'value_from = "beleid.warmtefonds_nulrente_inkomensgrens"}]')
    assert r.regel.leden[0].waarde == 60000
    assert "beleid.warmtefonds_nulrente_inkomensgrens (60000)" in r.regel_tekst
    (r2,) = rules('all = [{column = "woz", op = "<", value_from = "beleid.nhg_grens"}]',
                  cfg=config(beleid={"jaar": 2024}))
    assert r2.regel.leden[0].waarde == 435000


@pytest.mark.parametrize("body, match", [
    ('all = [{column = "a", op = "=~", value = 1}]', "op"),
    ('all = [{column = "a", op = ">", value = 1, value_from = "beleid.jaar"}]', "exactly one"),
    ('all = [{column = "a", op = ">"}]', "exactly one"),
    ('all = [{column = "a", op = ">", value = 1, extra = 2}]', "unknown key"),
    ('all = [{column = "a", op = "in", value = 1}]', "list"),
    ('all = [{column = "a", op = ">", value_from = "os.system"}]', "beleid"),
    ('all = []', "non-empty"),
    ('all = [{column = "a", op = ">", value = 1}]\nany = [{column = "a", op = ">", value = 1}]',
     "exactly one"),
    ('when = "__import__(\'os\')"', "unknown key"),
])
def test_grammar_errors(body, match):
    with pytest.raises(ConfigError, match=match):
        rules(body)


def test_duplicate_codes_and_bad_toml():
    with pytest.raises(ConfigError, match="duplicate"):
        parse_rules(HEAD + 'all = [{column = "a", op = ">", value = 1}]\n' + HEAD
                     + 'all = [{column = "a", op = ">", value = 1}]', config=CFG)
    with pytest.raises(ConfigError, match="TOML"):
        parse_rules("[[instrument", config=CFG)


def test_strings_are_data_not_code():
    (r,) = rules('all = [{column = "naam", op = "==", value = "__import__(\'os\').getcwd()"}]')
    frame = pd.DataFrame({"naam": ["__import__('os').getcwd()", "x"]})
    assert evaluate_rule(r.regel, frame).tolist() == [True, False]


def test_kleene_logic():
    a = Voorwaarde("a", ">=", 0.5)
    b = Voorwaarde("b", ">=", 0.5)
    frame = pd.DataFrame({"a": [1.0, 1.0, 0.0, np.nan, np.nan],
                          "b": [1.0, np.nan, np.nan, 1.0, 0.0]})
    assert evaluate_rule(Groep("all", (a, b)), frame).tolist() == [True, pd.NA, False, pd.NA, False]
    assert evaluate_rule(Groep("any", (a, b)), frame).tolist() == [True, True, pd.NA, True, pd.NA]


def test_unknown_column_is_an_error():
    (r,) = rules('all = [{column = "bestaat_niet", op = ">", value = 1}]')
    with pytest.raises(ConfigError, match="bestaat_niet"):
        select_instruments(pd.DataFrame({"buurtcode": ["BU1"]}), config=CFG, regels=[r])


def profile(**cols) -> pd.DataFrame:
    """One buurt with every column the packaged rules use."""
    base = {
        "buurtcode": ["BU1"], "buurtnaam": ["Noord"], "gemeentecode": ["GM1"],
        "gemeentenaam": ["Een"], "energiebehoefte": [0.2], "levensloopbehoefte": [0.2],
        "financiele_ruimte": [0.5], "demografische_druk": [0.2], "aandeel_koop": [0.7],
        "aandeel_65plus": [0.15], "aandeel_laag_inkomen": [0.05], "n_label_efg": [10],
        "woz_gemiddeld": [250000.0], "woz_t_o_v_mediaan": [1.0],
        "aandeel_eengezins_voor_1975": [0.2], "inkomen_huishouden_geschat": [70000.0],
    }
    base.update({k: [v] for k, v in cols.items()})
    return pd.DataFrame(base)


def matched(frame: pd.DataFrame) -> dict[str, str]:
    out = select_instruments(frame, config=CFG)
    return dict(zip(out["instrument"], out["status"], strict=True))


def test_quiet_buurt_gets_nothing():
    assert matched(profile()) == {}


def test_energy_loan_where_owners_have_room():
    m = matched(profile(energiebehoefte=0.45, financiele_ruimte=0.6))
    assert m == {"warmtefonds_energiebespaarlening": "past", "isde_isolatie": "past"}


def test_zero_interest_loan_below_income_limit():
    m = matched(profile(energiebehoefte=0.45, inkomen_huishouden_geschat=60000.0))
    assert m["warmtefonds_nulrente"] == "past"
    m2 = matched(profile(energiebehoefte=0.45, inkomen_huishouden_geschat=60001.0))
    assert "warmtefonds_nulrente" not in m2


def test_collective_approach_where_incomes_are_lowest():
    m = matched(profile(energiebehoefte=0.7, financiele_ruimte=0.2, n_label_efg=40,
                        aandeel_laag_inkomen=0.15))
    assert m["collectieve_wijkaanpak_isolatie"] == "past"
    assert m["warmtefonds_energiebespaarhypotheek"] == "past"
    assert m["energiecoach_laagdrempelig"] == "past"
    assert "warmtefonds_energiebespaarlening" not in m  # too little room
    # too few poor labels for a collective approach
    assert "collectieve_wijkaanpak_isolatie" not in matched(
        profile(energiebehoefte=0.7, financiele_ruimte=0.2, n_label_efg=19))


def test_lifecycle_loans_where_ageing_is_high():
    m = matched(profile(levensloopbehoefte=0.6, aandeel_65plus=0.30, financiele_ruimte=0.35,
                        woz_gemiddeld=180000.0))
    assert m == {"svn_blijverslening": "past", "svn_verzilverlening": "past"}
    # little equity: no verzilverlening; no room: no blijverslening
    m2 = matched(profile(levensloopbehoefte=0.6, aandeel_65plus=0.30, financiele_ruimte=0.2,
                         woz_gemiddeld=140000.0))
    assert m2 == {}


def test_buy_back_where_values_lowest_and_demand_shrinks():
    m = matched(profile(woz_t_o_v_mediaan=0.8, demografische_druk=0.6,
                        aandeel_eengezins_voor_1975=0.5))
    assert m == {"corporatie_aankoop_herstructurering": "past"}
    assert matched(profile(woz_t_o_v_mediaan=0.9, demografische_druk=0.6,
                           aandeel_eengezins_voor_1975=0.5)) == {}


def test_missing_data_gives_onbekend_with_columns():
    out = select_instruments(profile(energiebehoefte=0.45, financiele_ruimte=np.nan), config=CFG)
    row = out.set_index("instrument").loc["warmtefonds_energiebespaarlening"]
    assert row["status"] == "onbekend"
    assert row["ontbrekend"] == "financiele_ruimte"
    assert "financiele_ruimte=onbekend" in row["onderbouwing"]
    assert row["regel"] == ("energiebehoefte >= 0.4 en aandeel_koop >= 0.4 en "
                            "financiele_ruimte >= 0.4")


def test_output_columns_and_order():
    frame = pd.concat([profile(buurtcode="BU2", energiebehoefte=0.45, financiele_ruimte=0.6),
                       profile(energiebehoefte=0.45, financiele_ruimte=0.6)])
    out = select_instruments(frame, config=CFG)
    assert list(out.columns) == ["buurtcode", "buurtnaam", "gemeentecode", "gemeentenaam",
                                 "instrument", "naam", "status", "regel", "onderbouwing",
                                 "ontbrekend", "toelichting", "bron", "url"]
    assert out["buurtcode"].tolist() == ["BU1", "BU1", "BU2", "BU2"]
    assert out["instrument"].tolist()[:2] == ["warmtefonds_energiebespaarlening",
                                              "isde_isolatie"]


def test_user_rules_file_replaces_packaged_rules(tmp_path):
    path = tmp_path / "mijn_regels.toml"
    path.write_text(HEAD + 'all = [{column = "gemeentecode", op = "in", value = ["GM1"]}]\n',
                    encoding="utf-8")
    cfg = config(instrumenten={"regels": str(path)})
    out = select_instruments(profile(), config=cfg)
    assert out["instrument"].tolist() == ["x"]
    _, meta = read_rules(cfg)
    assert meta["bestand"] == str(path)
    with pytest.raises(ConfigError, match="not found"):
        read_rules(config(instrumenten={"regels": str(tmp_path / "weg.toml")}))
