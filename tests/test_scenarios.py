"""Scenarios (issue #15): hand-computed dwellings, monotonicity, settings, end to end."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from woonvoorraad.classify.kosten import read_kentallen
from woonvoorraad.cli import main
from woonvoorraad.errors import ConfigError, InputError
from woonvoorraad.scenarios import finance
from woonvoorraad.scenarios.answer import buurt_answer, income_groups, zero_shares
from woonvoorraad.scenarios.config import load_scenario_config
from woonvoorraad.scenarios.model import (
    dwelling_outcomes,
    prepare_dwellings,
    sums_per_buurt,
    weighted_median,
)
from woonvoorraad.scenarios.warmtevraag import read_warmtevraag

CFG = load_scenario_config()
GJ_M3 = 0.031486
GAS = 1.33


def _dwelling(woningtype: str, bouwjaar: int, opp: float, label: str, **extra) -> pd.DataFrame:
    probs = {f"p_label_{k}": float(k == label) for k in "ABCDEFG"}
    return pd.DataFrame({"buurtcode": ["BU1"], "woningtype": [woningtype], "bouwjaar": [bouwjaar],
                         "oppervlakte": [opp], "naoorlogs": [True], "energielabel": [label],
                         **{k: [v] for k, v in {**probs, **extra}.items()}})


def _one(frame: pd.DataFrame, scenario: str, cfg=CFG):
    prep = prepare_dwellings(frame)
    return prep, dwelling_outcomes(prep, cfg["scenario"][scenario], cfg)


def test_hand_computed_terraced_house_f_to_c() -> None:
    """Tussenwoning 1960, 100 m2, label F -> C (PBL row 'rijwoning tussen', 1946-1964)."""
    _, out = _one(_dwelling("tussenwoning", 1960, 100.0, "F"), "naar_label_c")
    j = "ABCDEFG".index("F")
    inv = 2550 + 100 * 100                       # ki_fc_min_asl + ki_fc_min_opp x area
    assert out.inv["midden"][0, j] == pytest.approx(inv)
    isde = 0.30 * inv                            # F -> C is a step of three classes
    assert out.isde["midden"][0, j] == pytest.approx(isde)
    eigen = inv - isde                           # 8785
    gj = (18.423490 + 0.186019 * 100) - (12.462456 + 0.176962 * 100)
    m3 = gj / GJ_M3
    assert out.gas_m3[0, j] == pytest.approx(m3, rel=1e-5)          # about 218 m3
    assert out.euro[0, j] == pytest.approx(m3 * GAS, rel=1e-5)     # about 290 euro/yr
    assert out.co2_kg[0, j] == pytest.approx(m3 * 1.78, rel=1e-5)
    pay0 = eigen / 180                           # 0 %, 15 years (loan below 15,000)
    assert out.maandlast[("nul", "midden")][0, j] == pytest.approx(pay0)
    assert out.netto[("nul", "midden")][0, j] == pytest.approx(pay0 - m3 * GAS / 12, rel=1e-5)
    assert out.gat[("nul", "midden")][0, j] == pytest.approx(eigen - m3 * GAS / 12 * 180,
                                                             rel=1e-5)
    r = 0.0435 / 12
    payr = eigen * r / (1 - (1 + r) ** -180)
    assert out.maandlast[("regulier", "midden")][0, j] == pytest.approx(payr)
    assert out.w[0].tolist() == [0, 0, 0, 0, 0, 1, 0]


def test_hand_computed_flat_e_to_c_and_one_step_isde() -> None:
    """Meergezins laag 1970, 60 m2: E -> C (two steps, 30 %), D -> C (one step, 15 %)."""
    _, out = _one(_dwelling("meergezins_laag", 1970, 60.0, "E"), "naar_label_c")
    inv = 1140 + 90 * 60
    assert out.inv["laag"][0, 4] == pytest.approx(inv)
    assert out.isde["laag"][0, 4] == pytest.approx(0.30 * inv)
    gj = (15.785222 + 0.165287 * 60) - (11.325488 + 0.166954 * 60)
    assert out.gas_m3[0, 4] == pytest.approx(gj / GJ_M3, rel=1e-5)
    _, out_d = _one(_dwelling("meergezins_laag", 1970, 60.0, "D"), "naar_label_c")
    assert out_d.isde["laag"][0, 3] == pytest.approx(0.15 * out_d.inv["laag"][0, 3])


def test_label_b_has_low_and_high_investment() -> None:
    _, out = _one(_dwelling("tussenwoning", 1960, 100.0, "F"), "naar_label_b")
    assert out.inv["laag"][0, 5] == pytest.approx(11738 + 102 * 100)
    assert out.inv["hoog"][0, 5] == pytest.approx(17094 + 146 * 100)
    assert out.inv["midden"][0, 5] == pytest.approx((21938 + 31694) / 2)


@pytest.mark.parametrize("woningtype", ["vrijstaand", "twee_onder_een_kap", "hoekwoning",
                                        "tussenwoning", "meergezins_laag", "meergezins_hoog"])
def test_one_dwelling_per_type_follows_the_reference_rows(woningtype: str) -> None:
    """G -> B for one 1965-1974 dwelling of every type, 90 m2, against the packaged rows."""
    _, out = _one(_dwelling(woningtype, 1970, 90.0, "G"), "naar_label_b")
    k = read_kentallen().set_index(["woningtype", "pbl_periode"]).loc[(woningtype, "1965 - 1974")]
    h = read_warmtevraag().set_index(["woningtype", "pbl_periode"]).loc[(woningtype,
                                                                         "1965 - 1974")]
    lo = max(k["ki_gb_min_asl"] + k["ki_gb_min_opp"] * 90, 0)
    hi = max(k["ki_gb_max_asl"] + k["ki_gb_max_opp"] * 90, 0)
    assert out.inv["laag"][0, 6] == pytest.approx(min(lo, hi))
    assert out.inv["hoog"][0, 6] == pytest.approx(max(lo, hi))
    saved = max((h["vrv_g_asl"] + h["vrv_g_opp"] * 90) - (h["vrv_b_asl"] + h["vrv_b_opp"] * 90), 0)
    assert out.gas_m3[0, 6] == pytest.approx(saved / GJ_M3)
    eigen = out.eigen["laag"][0, 6]
    assert eigen == pytest.approx(0.7 * min(lo, hi))
    loan = min(eigen, 27000)
    years = 15 if eigen <= 15000 else 20
    assert out.maandlast[("nul", "laag")][0, 6] == pytest.approx(loan / (12 * years))
    assert out.netto[("nul", "laag")][0, 6] == pytest.approx(
        loan / (12 * years) - out.euro[0, 6] / 12)


def test_lifecycle_package_per_type() -> None:
    _, out = _one(_dwelling("tussenwoning", 1960, 100.0, "F"), "levensloopbestendig")
    assert out.inv["laag"][0, 0] == 25000 + 4000 + 500
    assert out.inv["hoog"][0, 0] == 55000 + 12000 + 2000
    mid = (29500 + 69000) / 2
    r = 0.017 / 12                               # Blijverslening hypothecair, 20 years
    assert out.maandlast[("nul", "midden")][0, 0] == pytest.approx(mid * r / (1 - (1 + r) ** -240))
    assert out.gat[("nul", "midden")][0, 0] == pytest.approx(mid)  # saves no energy
    _, flat = _one(_dwelling("meergezins_hoog", 1960, 70.0, "C"), "levensloopbestendig")
    assert flat.inv["midden"][0, 0] == 1250      # thresholds only
    r = 0.023 / 12                               # persoonlijke lening, 10 years
    assert flat.maandlast[("nul", "midden")][0, 0] == pytest.approx(
        1250 * r / (1 - (1 + r) ** -120))


def test_dwelling_already_at_target_needs_nothing() -> None:
    _, out = _one(_dwelling("tussenwoning", 1960, 100.0, "B"), "naar_label_c")
    assert out.w.sum() == 0


def test_higher_gas_price_never_lowers_savings() -> None:
    rng = np.random.default_rng(1)
    n = 200
    types = ["vrijstaand", "twee_onder_een_kap", "hoekwoning", "tussenwoning",
             "meergezins_laag", "meergezins_hoog"]
    p = rng.dirichlet(np.ones(7), size=n)
    frame = pd.DataFrame({"buurtcode": "BU1", "woningtype": rng.choice(types, n),
                          "bouwjaar": rng.integers(1900, 2024, n),
                          "oppervlakte": rng.uniform(30, 250, n), "naoorlogs": True,
                          "energielabel": "G",
                          **{f"p_label_{k}": p[:, i] for i, k in enumerate("ABCDEFG")}})
    prep = prepare_dwellings(frame)
    prev = None
    for price in (0.5, 1.0, 1.33, 2.0, 3.0):
        cfg = load_scenario_config(overrides=[f"prijzen.gasprijs={price}"])
        out = dwelling_outcomes(prep, cfg["scenario"]["naar_label_b"], cfg)
        if prev is not None:
            assert (out.euro >= prev.euro - 1e-9).all()
            for key in out.netto:
                assert (out.netto[key] <= prev.netto[key] + 1e-9).all()
                assert (out.gat[key] <= prev.gat[key] + 1e-6).all()
        assert (out.euro >= 0).all()
        prev = out


def test_higher_income_never_raises_eligibility_for_income_limited_terms() -> None:
    incomes = np.linspace(0, 150000, 3001)
    elig = finance.nulrente(incomes, CFG)
    assert elig[0] and not elig[-1]
    assert (np.diff(elig.astype(int)) <= 0).all()
    # the share of an income group under the 0 % limit falls as the group's incomes rise
    shares = [float(finance.zero_rate_share(lo, lo + 20000, 50000, 0.5, CFG))
              for lo in range(0, 120000, 5000)]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(shares))
    # ... and as the buurt's mean owner income rises
    by_mean = [float(finance.zero_rate_share(45000, 85000, m, 0.5, CFG))
               for m in (30000, 50000, 70000, 90000)]
    assert by_mean == sorted(by_mean, reverse=True)


def test_annuity_and_present_value_are_inverse() -> None:
    assert float(finance.annuity(10000, 0.0, 10)) == pytest.approx(83.3333, rel=1e-5)
    pay = finance.annuity(20000, 0.0435, 20)
    assert float(finance.present_value(pay, 0.0435, 20)) == pytest.approx(20000)
    assert float(finance.annuity(0, 0.05, 10)) == 0.0


def test_income_groups_sum_to_one_and_median_bound() -> None:
    sh = finance.income_group_shares(np.array([50000.0]), np.array([0.6]), np.array([45014.0]),
                                     85000)
    assert sum(v[0] for v in sh.values()) == pytest.approx(1.0)
    mu = np.log(50000) - 0.18
    assert float(finance.income_share_below(np.exp(mu), 50000, 0.6)) == pytest.approx(0.5)


def test_weighted_median() -> None:
    assert weighted_median(np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0])) == 2.0
    assert np.isnan(weighted_median(np.array([1.0]), np.array([0.0])))


def _buurt(**cols) -> pd.DataFrame:
    base = {"buurtcode": ["BU1"], "buurtnaam": ["Een"], "gemeentecode": ["GM1"],
            "n_naoorlogs": [10.0], "n_woningen": [12.0], "aandeel_koop": [0.8],
            "daeb_grens": [45014.0], "aandeel_65plus": [0.25], "n_doelgroep": [4.0]}
    base.update({k: [v] for k, v in cols.items()})
    return pd.DataFrame(base)


def _frame(n: int, label: str = "F") -> pd.DataFrame:
    return pd.concat([_dwelling("tussenwoning", 1960, 100.0, label)] * n, ignore_index=True)


def test_buurt_answer_with_contract_columns() -> None:
    prep = prepare_dwellings(_frame(10))
    out = dwelling_outcomes(prep, CFG["scenario"]["naar_label_c"], CFG)
    sums = sums_per_buurt(prep, out)
    b = _buurt(n_doelgroep_laag=3.0, n_doelgroep_hoog=6.0, inkomen_eigenaren_geschat=55000.0,
               inkomen_eigenaren_sigma=0.5)
    notes: list[str] = []
    a = buurt_answer(sums, b, scenario="naar_label_c", settings=CFG, notes=notes).iloc[0]
    assert a["n_pakket"] == 10 and a["aandeel_pakket"] == 1.0
    assert a["n_doelgroep_pakket"] == 4.0 and a["n_doelgroep_pakket_hoog"] == 6.0
    gap = out.gat[("nul", "midden")][0, 5]                  # about 4,434 euro
    assert gap > 0 and a["aandeel_neutraal"] == 0.0
    assert a["gat_euro"] == pytest.approx(4 * gap)
    assert a["n_verzilverlening"] == pytest.approx(4 * 0.25)
    assert a["n_extra_subsidie"] == pytest.approx(4 * 0.75)
    assert a["gat_euro_laag"] <= a["gat_euro"] <= a["gat_euro_hoog"]
    assert not notes
    g = income_groups(sums, b, scenario="naar_label_c", settings=CFG, alleen_naoorlogs=True,
                      notes=notes).set_index("inkomensgroep")
    assert g["n_eigenaren"][["onder_daeb", "midden", "boven"]].sum() == pytest.approx(8.0)
    assert g.loc["onder_daeb", "aandeel_nulrente"] == 1.0
    assert g.loc["boven", "aandeel_nulrente"] == 0.0
    assert 0 < g.loc["midden", "aandeel_nulrente"] < 1
    assert g.loc["boven", "netto_maandlast"] > g.loc["onder_daeb", "netto_maandlast"]


def test_gemeente_contribution_closes_the_gap() -> None:
    cfg = load_scenario_config(overrides=["gemeente.bijdrage_aandeel=1.0",
                                          "gemeente.bijdrage_max=1000000"])
    prep = prepare_dwellings(_frame(3))
    out = dwelling_outcomes(prep, cfg["scenario"]["naar_label_c"], cfg)
    a = buurt_answer(sums_per_buurt(prep, out), _buurt(), scenario="x", settings=cfg,
                     notes=[]).iloc[0]
    assert a["aandeel_neutraal"] == 1.0 and a["gat_euro"] == 0.0


def test_missing_income_columns_are_said_not_invented() -> None:
    prep = prepare_dwellings(_frame(2))
    out = dwelling_outcomes(prep, CFG["scenario"]["naar_label_c"], CFG)
    notes: list[str] = []
    g = income_groups(sums_per_buurt(prep, out), _buurt(), scenario="x", settings=CFG,
                      alleen_naoorlogs=True, notes=notes).set_index("inkomensgroep")
    assert g["n_eigenaren"][["onder_daeb", "midden", "boven"]].isna().all()
    assert np.isnan(g.loc["midden", "netto_maandlast"])
    assert g.loc["onder_daeb", "aandeel_nulrente"] == 1.0   # known without a distribution
    assert any("inkomen_eigenaren_geschat" in n for n in notes)
    z, known = zero_shares(_buurt().set_index("buurtcode", drop=False), CFG)
    assert not known and z["doelgroep"][0] == 1.0


def test_bad_settings_are_named() -> None:
    with pytest.raises(ConfigError, match=r"prijzen\.gasprijz"):
        load_scenario_config(overrides=["prijzen.gasprijz=1"])
    with pytest.raises(ConfigError, match=r"warmtefonds\.rente"):
        load_scenario_config(overrides=["warmtefonds.rente=4.35"])
    with pytest.raises(ConfigError, match="doel"):
        load_scenario_config(overrides={"scenario": {"x": {"soort": "label", "doel": "A",
                                                           "van": ["G"],
                                                           "financiering": "warmtefonds"}}})
    with pytest.raises(InputError, match="dwellings lacks"):
        prepare_dwellings(pd.DataFrame({"buurtcode": ["BU1"]}))


def _snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file()}


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from woonvoorraad.demo import build_demo

    return build_demo(tmp_path_factory.mktemp("scen-demo"), scale=0.1)


def test_demo_end_to_end_through_the_cli(demo_build: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(demo_build)
    out = tmp_path / "scen"
    assert main(["scenario", "--build", str(demo_build), "--out", str(out), "--kandidaten",
                 "-q"]) == 0
    assert _snapshot(demo_build) == before                  # the build is only read
    printed = capsys.readouterr().out
    assert "SYNTHETISCHE DEMODATA" in printed
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["synthetic"] and man["data_notice"].startswith("SYNTHETISCHE")
    assert man["instellingen"]["prijzen"]["gasprijs"] == 1.33
    assert "gasprijs_bron" in man["instellingen"]["prijzen"]
    assert {o["path"] for o in man["outputs"]} >= {
        "scenario_buurten.csv", "scenario_inkomensgroepen.csv", "scenario_samenvatting.csv",
        "scenario_kandidaten.csv", "maandlast_per_inkomensgroep.png",
        "financieringsgat_per_buurt.png"}
    b = pd.read_csv(out / "scenario_buurten.csv")
    assert (b["data"] == "SYNTHETISCHE DEMODATA").all()
    assert set(b["scenario"]) == {"naar_label_b", "naar_label_c", "isolatie_efg_naar_c",
                                  "levensloopbestendig"}
    for s, group in b.groupby("scenario"):
        part = group[group["n_doelgroep_pakket"] > 0]
        assert part["aandeel_neutraal"].notna().all(), s
        assert (part["aandeel_neutraal_laag"] <= part["aandeel_neutraal_hoog"] + 1e-9).all(), s
        assert (part["gat_euro_laag"] <= part["gat_euro_hoog"] + 1e-6).all(), s
        assert (part["n_pakket"] <= part["n_woningen_scope"] + 1e-9).all(), s
    lev = b[b["scenario"] == "levensloopbestendig"]
    assert (lev["aandeel_neutraal"].dropna() == 0).all()    # saves no energy
    k = pd.read_csv(out / "scenario_kandidaten.csv")
    assert k["rang"].min() == 1
    # totals and candidates: low <= central <= high for the cash-flow-neutral share
    for table in (k, pd.read_csv(out / "scenario_samenvatting.csv")):
        t = table.dropna(subset=["aandeel_neutraal"])
        assert (t["aandeel_neutraal_laag"] <= t["aandeel_neutraal"] + 1e-12).all()
        assert (t["aandeel_neutraal"] <= t["aandeel_neutraal_hoog"] + 1e-12).all()
    # a second run with a higher gas price: savings up, gap down
    out2 = tmp_path / "scen2"
    assert main(["scenario", "--build", str(demo_build), "--out", str(out2), "--scenario",
                 "naar_label_c", "--set", "prijzen.gasprijs=2.5", "-q"]) == 0
    s1 = pd.read_csv(out / "scenario_samenvatting.csv").set_index("scenario")
    s2 = pd.read_csv(out2 / "scenario_samenvatting.csv").set_index("scenario")
    assert s2.loc["naar_label_c", "besparing_euro_jaar"] > s1.loc["naar_label_c",
                                                                  "besparing_euro_jaar"]
    assert s2.loc["naar_label_c", "gat_euro"] <= s1.loc["naar_label_c", "gat_euro"]


def test_cli_refuses_unknown_buurt_and_the_build_folder(demo_build: Path,
                                                        tmp_path: Path) -> None:
    assert main(["scenario", "--build", str(demo_build), "--out", str(tmp_path / "o"),
                 "--buurten", "BU00000000", "-q"]) == 2
    assert main(["scenario", "--build", str(demo_build), "--out", str(demo_build), "-q"]) == 2


@pytest.mark.realdata
def test_real_sample_end_to_end(realdata: Path, tmp_path: Path) -> None:
    from woonvoorraad.pipeline import build
    from woonvoorraad.scenarios import run_scenarios, write_scenarios

    out = tmp_path / "build"
    build(bag_path=realdata, buurten_path=realdata, out=out)
    res = run_scenarios(out)
    write_scenarios(res, tmp_path / "scen")
    assert not res.synthetic
    b = res.buurten
    assert len(b) and (b["n_pakket"] >= 0).all()
    lab = b[b["scenario"] == "naar_label_c"]
    assert lab["besparing_gas_m3_jaar"].sum() > 0
    man = json.loads((tmp_path / "scen" / "manifest.json").read_text(encoding="utf-8"))
    assert man["data_notice"] is None
