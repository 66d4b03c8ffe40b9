"""Instrument rules: grammar, three-valued logic, packaged rules on hand-made buurten."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest_analysis import config
from woonvoorraad.classify.instrumenten import (
    Groep,
    Voorwaarde,
    candidate_counts,
    evaluate_rule,
    parse_rules,
    read_rules,
    rule_margin,
    select_instruments,
    short_list,
    summarize,
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
                   "corporatie_aankoop_herstructurering", "svn_toekomstbestendig_wonen"):
        assert needed in codes
    assert all(r.url.startswith("https://") and r.bron and r.toelichting for r in regels)
    # every threshold of ours is marked as a project choice
    assert all("keuze" in r.toelichting.lower() or "keuzes" in r.toelichting.lower()
               for r in regels)
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


#: a buurt in no segment: post-war stock with good labels, young, owners with room, mid WOZ
QUIET = {
    "buurtcode": "BU1", "buurtnaam": "Noord", "gemeentecode": "GM1", "gemeentenaam": "Een",
    "n_woningen": 400, "n_naoorlogs": 200, "n_meergezins": 0,
    "aandeel_label_efg_verwacht_naoorlogs": 0.30, "aandeel_label_efg_verwacht": 0.20,
    "aandeel_koop": 0.7, "aandeel_corporatie": 0.05,
    "inkomen_eigenaren_geschat": 80000.0, "aandeel_eigenaren_onder_daeb": 0.30,
    "aandeel_laag_inkomen": 0.05, "aandeel_65plus": 0.15, "trend_65plus": 0.0,
    "aandeel_eengezins_voor_1975": 0.2, "woz_gemiddeld": 250000.0, "woz_grens": 250000.0,
    "woz_t_o_v_mediaan": 1.0, "n_doelgroep": 20.0, "aandeel_doelgroep_naoorlogs": 0.1,
}
#: the segments of the packaged rules (see config/instrumenten.toml)
ENERGIE = {"aandeel_label_efg_verwacht_naoorlogs": 0.6}
LEVENSLOOP = {"aandeel_65plus": 0.30, "aandeel_eengezins_voor_1975": 0.6}
ZONDER_LEENRUIMTE = {"inkomen_eigenaren_geschat": 50000.0, "aandeel_eigenaren_onder_daeb": 0.5}


def profile(**cols) -> pd.DataFrame:
    """One buurt with every column the packaged rules use."""
    return pd.DataFrame({k: [v] for k, v in {**QUIET, **cols}.items()})


def matched(frame: pd.DataFrame, cfg=CFG) -> dict[str, str]:
    out = select_instruments(frame, config=cfg)
    return dict(zip(out["instrument"], out["status"], strict=True))


def past(**cols) -> set[str]:
    return {k for k, v in matched(profile(**cols)).items() if v == "past"}


def test_quiet_buurt_gets_nothing():
    assert matched(profile()) == {}


def test_energy_with_room_to_borrow():
    assert past(**ENERGIE) == {"warmtefonds_energiebespaarlening", "isde_isolatie"}


def test_energy_with_lower_owner_incomes_gets_the_zero_interest_loan_only():
    assert past(**ENERGIE, inkomen_eigenaren_geschat=55000.0,
                aandeel_eigenaren_onder_daeb=0.40) == {"warmtefonds_nulrente"}
    # the limit from [beleid] is inclusive; one euro above it the ordinary loan fits instead
    # (ISDE asks only that most owners are above the DAEB limit: 30% below it here)
    assert past(**ENERGIE, inkomen_eigenaren_geschat=60000.0) == {"warmtefonds_nulrente",
                                                                  "isde_isolatie"}
    assert past(**ENERGIE, inkomen_eigenaren_geschat=60001.0) == {
        "warmtefonds_energiebespaarlening", "isde_isolatie"}


def test_energy_without_room_and_a_concentrated_target_group():
    got = past(**ENERGIE, **ZONDER_LEENRUIMTE, aandeel_65plus=0.26, aandeel_laag_inkomen=0.12,
               aandeel_label_efg_verwacht=0.5, n_doelgroep=120.0,
               aandeel_doelgroep_naoorlogs=0.4, woz_gemiddeld=200000.0)
    assert got == {"warmtefonds_nulrente", "warmtefonds_energiebespaarhypotheek",
                   "collectieve_wijkaanpak_isolatie", "energiecoach_laagdrempelig"}
    # WOZ above the target group's limit: no collective approach with SpUk
    assert "collectieve_wijkaanpak_isolatie" not in past(
        **ENERGIE, **ZONDER_LEENRUIMTE, aandeel_laag_inkomen=0.12, n_doelgroep=120.0,
        aandeel_doelgroep_naoorlogs=0.4, woz_gemiddeld=260000.0)


def test_buy_back_only_in_the_cheapest_segment_with_a_corporation():
    cheap = {**ZONDER_LEENRUIMTE, "woz_t_o_v_mediaan": 0.8, "woz_gemiddeld": 200000.0,
             "aandeel_corporatie": 0.2, "aandeel_eengezins_voor_1975": 0.65,
             "aandeel_label_efg_verwacht_naoorlogs": 0.65}
    assert past(**cheap) == {"corporatie_aankoop_herstructurering", "warmtefonds_nulrente"}
    assert past(**{**cheap, "aandeel_corporatie": 0.05}) == {"warmtefonds_nulrente"}
    assert "corporatie_aankoop_herstructurering" not in past(**{**cheap, "woz_t_o_v_mediaan": 0.9})
    assert "corporatie_aankoop_herstructurering" not in past(
        **{**cheap, "aandeel_eigenaren_onder_daeb": 0.40})
    # above the WOZ limit of the target group (woz_t_o_v_grens = 260000/250000 > 1)
    assert "corporatie_aankoop_herstructurering" not in past(
        **{**cheap, "woz_gemiddeld": 260000.0})


def test_lifecycle_with_room_gets_the_blijverslening():
    assert past(**LEVENSLOOP) == {"svn_blijverslening"}


def test_both_needs_get_the_svn_toekomstbestendig_wonen_loan_ranked_first():
    out = select_instruments(profile(**LEVENSLOOP, **ENERGIE), config=CFG).set_index("instrument")
    assert set(out.index) == {"svn_toekomstbestendig_wonen", "svn_blijverslening",
                              "warmtefonds_energiebespaarlening", "isde_isolatie"}
    # margins by hand: TW min(label 0.15/0.45, eengezins 0.1/0.5, koop 0.2/0.5,
    # any(65+ 0.05/0.25, trend -1)) = 0.2; blijverslening min(..., DAEB 0.05/0.35) = 0.1429
    assert out.loc["svn_toekomstbestendig_wonen", "marge"] == pytest.approx(0.2)
    assert out.loc["svn_blijverslening", "marge"] == pytest.approx(0.05 / 0.35)
    assert out.loc["warmtefonds_energiebespaarlening", "marge"] == pytest.approx(0.05 / 0.35)
    assert out["rang"].to_dict() == {"warmtefonds_energiebespaarlening": 3, "isde_isolatie": 4,
                                     "svn_toekomstbestendig_wonen": 1, "svn_blijverslening": 2}
    assert out["kortlijst"].to_dict() == {"warmtefonds_energiebespaarlening": True,
                                          "isde_isolatie": False,
                                          "svn_toekomstbestendig_wonen": True,
                                          "svn_blijverslening": True}
    assert short_list(out.reset_index()).to_dict() == {
        "BU1": "svn_toekomstbestendig_wonen,svn_blijverslening,warmtefonds_energiebespaarlening"}
    one = select_instruments(profile(**LEVENSLOOP, **ENERGIE),
                             config=config(instrumenten={"kortlijst_n": 1}))
    assert one.loc[one["kortlijst"], "instrument"].tolist() == ["svn_toekomstbestendig_wonen"]


def test_svn_toekomstbestendig_wonen_needs_both_needs():
    assert "svn_toekomstbestendig_wonen" not in past(**ENERGIE)
    assert "svn_toekomstbestendig_wonen" not in past(**LEVENSLOOP)
    # ageing may also be a rising share of 65-plussers
    assert "svn_toekomstbestendig_wonen" in past(**ENERGIE, aandeel_eengezins_voor_1975=0.6,
                                                 trend_65plus=0.012)


def test_verzilverlening_for_old_owners_with_little_income_and_some_equity():
    old_poor = {**LEVENSLOOP, "aandeel_65plus": 0.35, "inkomen_eigenaren_geschat": 55000.0,
                "aandeel_eigenaren_onder_daeb": 0.45, "woz_gemiddeld": 180000.0}
    assert past(**old_poor) == {"svn_verzilverlening"}
    assert past(**{**old_poor, "woz_gemiddeld": 140000.0}) == set()  # too little equity
    assert past(**{**old_poor, "aandeel_65plus": 0.28}) == set()  # not old enough


def test_vve_approach_where_flats_are_many():
    flats = {**ENERGIE, "n_meergezins": 150}
    assert past(**flats) == {"vve_aanpak_meergezins", "warmtefonds_energiebespaarlening",
                             "isde_isolatie"}
    # 100 flats among 600 dwellings is under a fifth
    assert "vve_aanpak_meergezins" not in past(**{**flats, "n_meergezins": 100,
                                                   "n_woningen": 600})


def demo_like_grid() -> pd.DataFrame:
    """Every combination of low/middle/high values in the demo's ranges (issue #13)."""
    levels = {
        "aandeel_label_efg_verwacht_naoorlogs": [0.36, 0.53, 0.70],
        "aandeel_eengezins_voor_1975": [0.0, 0.73, 0.92],
        "aandeel_65plus": [0.19, 0.27, 0.36],
        "aandeel_eigenaren_onder_daeb": [0.20, 0.39, 0.57],
        "woz_t_o_v_mediaan": [0.79, 1.07, 1.84],
        "aandeel_corporatie": [0.01, 0.17, 0.46],
        "aandeel_koop": [0.45, 0.72, 0.95],
    }
    idx = pd.MultiIndex.from_product(list(levels.values()), names=list(levels))
    g = idx.to_frame(index=False)
    n = len(g)
    g["buurtcode"] = [f"BU{i:05d}" for i in range(n)]
    g["n_woningen"] = 450.0
    g["n_naoorlogs"] = 200.0
    g["n_meergezins"] = 50.0
    g["woz_gemiddeld"] = 245000.0 * g["woz_t_o_v_mediaan"]
    g["woz_grens"] = 250000.0
    g["inkomen_eigenaren_geschat"] = 100000.0 - 90000.0 * g["aandeel_eigenaren_onder_daeb"]
    g["aandeel_laag_inkomen"] = 0.02 + 0.2 * g["aandeel_eigenaren_onder_daeb"]
    g["aandeel_label_efg_verwacht"] = 0.9 * g["aandeel_label_efg_verwacht_naoorlogs"]
    g["trend_65plus"] = 0.005
    g["n_doelgroep"] = 200.0 * g["aandeel_koop"] * g["aandeel_eigenaren_onder_daeb"] * (
        g["woz_t_o_v_mediaan"] < 1.2)
    g["aandeel_doelgroep_naoorlogs"] = g["n_doelgroep"] / g["n_naoorlogs"]
    return g


def test_demo_like_grid_separates_the_segments():
    g = demo_like_grid()
    out = select_instruments(g, config=CFG)
    assert (out["status"] == "past").all()  # every column has a value
    sets = out.groupby("buurtcode")["instrument"].agg(set).reindex(g["buurtcode"]).apply(
        lambda s: s if isinstance(s, set) else set())
    both = sets.apply(lambda s: {"svn_blijverslening",
                                 "corporatie_aankoop_herstructurering"} <= s)
    assert not both.any()
    assert not sets.apply(lambda s: {"warmtefonds_energiebespaarlening",
                                     "warmtefonds_nulrente"} <= s).any()
    # the SVn loan exactly where both needs (and owners, ageing) are present
    g2 = g.set_index("buurtcode")
    both_needs = ((g2["aandeel_label_efg_verwacht_naoorlogs"] >= 0.45)
                  & (g2["aandeel_eengezins_voor_1975"] >= 0.5) & (g2["aandeel_koop"] >= 0.5)
                  & (g2["aandeel_65plus"] >= 0.25))
    tw = sets.apply(lambda s: "svn_toekomstbestendig_wonen" in s)
    assert (tw.to_numpy() == both_needs.to_numpy()).all()
    n = sets.apply(len)
    # 9 or more of 11 instruments never fit one buurt; the short list holds at most 3
    assert n.max() <= 8
    assert out.groupby("buurtcode")["kortlijst"].sum().max() == 3
    s = summarize(out, buurtcodes=g["buurtcode"], config=CFG)
    assert s["mediaan_passend_per_buurt"] == float(n.median())
    assert s["n_blijverslening_en_opkoop"] == 0


def test_missing_data_gives_onbekend_with_columns():
    out = select_instruments(profile(**ENERGIE, aandeel_eigenaren_onder_daeb=np.nan), config=CFG)
    row = out.set_index("instrument").loc["warmtefonds_energiebespaarlening"]
    assert row["status"] == "onbekend"
    assert row["ontbrekend"] == "aandeel_eigenaren_onder_daeb"
    assert "aandeel_eigenaren_onder_daeb=onbekend" in row["onderbouwing"]
    assert pd.isna(row["marge"]) and pd.isna(row["rang"]) and not row["kortlijst"]
    assert row["regel"] == (
        "n_naoorlogs >= 25 en aandeel_label_efg_verwacht_naoorlogs >= 0.45 en aandeel_koop >= 0.5"
        " en inkomen_eigenaren_geschat > beleid.warmtefonds_nulrente_inkomensgrens (60000) en "
        "aandeel_eigenaren_onder_daeb < 0.35")


def test_contract_columns_missing_from_a_build_give_onbekend():
    """A build made before the stock stage had the owners' income columns: no error."""
    frame = profile(**ENERGIE).drop(columns=["inkomen_eigenaren_geschat",
                                             "aandeel_eigenaren_onder_daeb", "woz_grens",
                                             "aandeel_doelgroep_naoorlogs"])
    m = matched(frame)
    assert m["warmtefonds_energiebespaarlening"] == "onbekend"
    assert m["warmtefonds_nulrente"] == "onbekend"
    assert m["isde_isolatie"] == "onbekend"
    # rules that fail on a column the build has are still false, not unknown
    assert "svn_blijverslening" not in m and "corporatie_aankoop_herstructurering" not in m
    out = select_instruments(frame, config=CFG).set_index("instrument")
    assert out.loc["isde_isolatie", "ontbrekend"] == "aandeel_eigenaren_onder_daeb"
    cheap = profile(woz_t_o_v_mediaan=0.8, aandeel_corporatie=0.2,
                    aandeel_eigenaren_onder_daeb=0.5, aandeel_eengezins_voor_1975=0.7
                    ).drop(columns=["woz_grens"])
    out = select_instruments(cheap, config=CFG).set_index("instrument")
    assert out.loc["corporatie_aankoop_herstructurering", "status"] == "onbekend"
    assert out.loc["corporatie_aankoop_herstructurering", "ontbrekend"] == "woz_t_o_v_grens"


def test_rule_margin_by_hand():
    (r,) = rules('all = [{column = "a", op = ">=", value = 0.5}, '
                 '{any = [{column = "b", op = "<", value = 100}, '
                 '{column = "c", op = "in", value = ["x"]}]}]')
    frame = pd.DataFrame({"a": [0.6, 0.6, 1.5, 0.6, 0.4],
                          "b": [50.0, 150.0, 0.0, np.nan, 0.0],
                          "c": ["y", "x", "y", "y", "x"]})
    m = rule_margin(r.regel, frame)
    # min(0.1/0.5, 50/100); min(0.2, set holds = 1); min(2 -> 1, 1); unknown; fails
    assert m.tolist()[:3] == pytest.approx([0.2, 0.2, 1.0])
    assert np.isnan(m.iloc[3]) and np.isnan(m.iloc[4])


def test_priority_and_short_list_length_are_checked():
    with pytest.raises(ConfigError, match="prioriteit"):
        rules('prioriteit = 4\nall = [{column = "a", op = ">", value = 1}]')
    (r,) = rules('prioriteit = 3\nall = [{column = "a", op = ">", value = 1}]')
    assert r.prioriteit == 3
    with pytest.raises(ConfigError, match="kortlijst_n"):
        select_instruments(profile(), config=config(instrumenten={"kortlijst_n": 0}))


def test_summary_counts_per_buurt_and_candidate():
    inst = pd.DataFrame({
        "buurtcode": ["B1", "B1", "B1", "B2", "B3", "B3"],
        "instrument": ["x", "y", "z", "x", "svn_blijverslening",
                       "corporatie_aankoop_herstructurering"],
        "status": ["past", "past", "onbekend", "past", "past", "past"],
        "kortlijst": [True, True, False, True, True, True],
    })
    kand = pd.DataFrame({"buurtcodes": ["B1", "B1,B2", "B4"]})
    # candidates: B1 -> x, y (2); B1+B2 -> x in both, y in one of two (half) -> 2; B4 -> 0
    assert candidate_counts(inst, kand).tolist() == [2, 2, 0]
    s = summarize(inst, buurtcodes=["B1", "B2", "B3", "B4"], kandidaten=kand, config=CFG)
    assert s == {"kortlijst_n": 3, "mediaan_passend_per_buurt": 1.5,
                 "mediaan_passend_per_kandidaat": 2.0, "max_passend_per_kandidaat": 2,
                 "n_blijverslening_en_opkoop": 1, "n_kortlijst": 5}


def test_output_columns_and_order():
    frame = pd.concat([profile(buurtcode="BU2", **ENERGIE), profile(**ENERGIE)])
    out = select_instruments(frame, config=CFG)
    assert list(out.columns) == ["buurtcode", "buurtnaam", "gemeentecode", "gemeentenaam",
                                 "instrument", "naam", "status", "prioriteit", "marge", "rang",
                                 "kortlijst", "regel", "onderbouwing", "ontbrekend",
                                 "toelichting", "bron", "url"]
    assert out["buurtcode"].tolist() == ["BU1", "BU1", "BU2", "BU2"]
    assert out["instrument"].tolist()[:2] == ["warmtefonds_energiebespaarlening",
                                              "isde_isolatie"]
    assert out["rang"].tolist() == [1, 2, 1, 2]


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
