"""Proeftuin candidates: ranking, minimum size, reasons, levels and rank stability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest_analysis import config
from woonvoorraad.classify.proeftuinen import (
    assign_woonplaats,
    compute_candidate_score,
    explain_candidate,
    make_units,
    select_candidates,
)
from woonvoorraad.classify.scores import SCORES
from woonvoorraad.config import default_config
from woonvoorraad.errors import ConfigError

CFG = default_config()
#: The ranking tests below work on one level: buurten (the default "auto" adds villages).
BUURT = config(proeftuin={"niveau": "buurt"})


def bconfig(**proeftuin):
    """Config ranking buurten only, with ``[proeftuin]`` overrides."""
    return config(proeftuin={"niveau": "buurt", **proeftuin})


def scored(rows: list[dict]) -> pd.DataFrame:
    """Scored buurten; unspecified scores NaN, unspecified figures plausible."""
    out = []
    for i, r in enumerate(rows):
        base = {"buurtcode": f"BU{i:04d}", "buurtnaam": f"Buurt {i}",
                "wijkcode": f"WK{i // 2:04d}", "wijknaam": f"Wijk {i // 2}",
                "gemeentecode": "GM0001", "gemeentenaam": "Eenstad", "n_woningen": 200,
                "n_doelgroep": 100.0, "aandeel_naoorlogs": 0.6, "n_naoorlogs": 120.0,
                "aandeel_label_efg": 0.3, "aandeel_label_geschat": 0.2,
                "aandeel_65plus": 0.25,
                "woz_t_o_v_mediaan": 0.9, "aandeel_laag_inkomen": 0.1,
                **dict.fromkeys(SCORES, np.nan)}
        base.update(r)
        out.append(base)
    return pd.DataFrame(out)


def test_candidates_ranked_with_reasons():
    b = scored([
        {"energiebehoefte": 0.9, "levensloopbehoefte": 0.8, "n_doelgroep": 212},
        {"energiebehoefte": 0.5, "levensloopbehoefte": 0.5},
        {"energiebehoefte": 0.2, "levensloopbehoefte": 0.2},
        {"energiebehoefte": 0.7, "levensloopbehoefte": 0.6},
        {"energiebehoefte": 1.0, "levensloopbehoefte": 1.0, "n_doelgroep": 49},  # too small
    ])
    res = select_candidates(b, config=BUURT)
    k = res.kandidaten
    assert k["eenheid_code"].tolist() == ["BU0000", "BU0003", "BU0001"]
    assert k["rang"].tolist() == [1, 2, 3]
    assert k["voldoet_minimum"].all()
    assert k["reden"].iloc[0].startswith("Zeer hoge energiebehoefte (30% label E–G)")
    assert k["reden"].iloc[0].endswith(
        "; 212 doelgroepwoningen (zonder financiële ruimte, doelgroepconcentratie, "
        "demografische druk: geen gegevens)")
    assert (k["scores_ontbrekend"] ==
            "financiele_ruimte,doelgroepconcentratie,demografische_druk").all()


def test_gemeente_below_minimum_size_still_gets_one_candidate():
    b = scored([
        {"energiebehoefte": 0.3, "n_doelgroep": 20, "gemeentecode": "GM0002"},
        {"energiebehoefte": 0.8, "n_doelgroep": 12, "gemeentecode": "GM0002"},
        {"energiebehoefte": 0.9, "n_doelgroep": 0, "gemeentecode": "GM0002"},
        {"energiebehoefte": 0.9, "n_doelgroep": 0, "gemeentecode": "GM0003"},
    ])
    res = select_candidates(b, config=BUURT)
    k = res.kandidaten
    assert k["gemeentecode"].tolist() == ["GM0002"]  # GM0003 has no target dwellings
    assert k["eenheid_code"].tolist() == ["BU0001"]
    assert not k["voldoet_minimum"].iloc[0]
    assert "kleiner dan de minimumomvang (12 < 50)" in k["reden"].iloc[0]
    assert any("GM0003" in n for n in res.notities)


def test_unknown_target_group_is_excluded_with_reason():
    b = scored([{"energiebehoefte": 0.9, "n_doelgroep": np.nan}, {"energiebehoefte": 0.1}])
    res = select_candidates(b, config=BUURT)
    assert res.uitgesloten["eenheid_code"].tolist() == ["BU0000"]
    assert res.uitgesloten["reden"].iloc[0] == "proeftuin: n_doelgroep onbekend"
    assert res.kandidaten["eenheid_code"].tolist() == ["BU0001"]


def test_gemeente_with_unknown_target_group_gets_one_provisional_candidate():
    """No tenure or WOZ in the CBS input (the real Haaglanden sample): the best buurt with
    post-war dwellings on the other scores, marked provisional; none when switched off."""
    b = scored([
        {"energiebehoefte": 0.9, "aandeel_naoorlogs": 0.0},  # best score, but no post-war stock
        {"energiebehoefte": 0.6, "aandeel_naoorlogs": 0.5},
        {"energiebehoefte": 0.4, "aandeel_naoorlogs": 0.7},
    ]).assign(n_doelgroep=np.nan)
    res = select_candidates(b, config=BUURT)
    k = res.kandidaten
    assert k["eenheid_code"].tolist() == ["BU0001"] and k["voorlopig"].tolist() == [True]
    assert not k["voldoet_minimum"].iloc[0] and pd.isna(k["n_doelgroep"].iloc[0])
    assert k["reden"].iloc[0].startswith("Voorlopig, want de doelgroep is onbekend")
    assert any("voorlopige kandidaat" in n and "GM0001" in n for n in res.notities)
    off = bconfig(voorlopig_bij_onbekende_doelgroep=False)
    assert select_candidates(b, config=off).kandidaten.empty


def test_changing_a_weight_changes_the_ranking():
    b = scored([
        {"energiebehoefte": 1.0, "levensloopbehoefte": 0.0},
        {"energiebehoefte": 0.0, "levensloopbehoefte": 1.0},
    ])
    first = select_candidates(b, config=BUURT).kandidaten["eenheid_code"].tolist()
    cfg = bconfig(gewichten={"energiebehoefte": 0.1})
    second = select_candidates(b, config=cfg).kandidaten["eenheid_code"].tolist()
    assert first == ["BU0000", "BU0001"]
    assert second == ["BU0001", "BU0000"]


def test_negative_weight_prefers_less_financial_room():
    b = scored([{"financiele_ruimte": 0.8}, {"financiele_ruimte": 0.1}])
    k = select_candidates(b, config=BUURT).kandidaten
    assert k["eenheid_code"].tolist() == ["BU0001", "BU0000"]
    assert k["reden"].iloc[0].startswith("Zeer weinig financiële ruimte (WOZ 10% onder "
                                         "gemeentemediaan, 10% lage inkomens)")
    s = compute_candidate_score(b, CFG["proeftuin"]["gewichten"])
    assert s.tolist() == pytest.approx([0.2, 0.9])


def test_stability_dominant_and_near_tie():
    cfg = bconfig(top_n=1)
    dominant = scored([{"energiebehoefte": 1.0, "levensloopbehoefte": 1.0},
                       {"energiebehoefte": 0.1, "levensloopbehoefte": 0.1}])
    k = select_candidates(dominant, config=cfg).kandidaten
    assert k["stabiliteit_top_n"].iloc[0] == 1.0
    assert k["stabiliteit_varianten"].iloc[0] == 1.0
    # A: (0.3*0.8 + 0.2*0.5)/0.5 = 0.68; B: (0.3*0.5 + 0.2*0.94)/0.5 = 0.676
    tie = scored([{"energiebehoefte": 0.80, "levensloopbehoefte": 0.50},
                  {"energiebehoefte": 0.50, "levensloopbehoefte": 0.94}])
    res = select_candidates(tie, config=cfg)
    k = res.kandidaten
    assert k["eenheid_code"].tolist() == ["BU0000"]
    assert 0.0 < k["stabiliteit_top_n"].iloc[0] < 1.0
    st_ = res.stabiliteit.set_index("variant")
    assert len(st_) == 10  # five weights, each +-20%
    # energy weight -20%: 0.24 -> A 0.6636 < B 0.7, so A drops to rank 2
    assert st_.loc["energiebehoefte −20%", "rang"] == 2
    assert not st_.loc["energiebehoefte −20%", "in_top_n"]
    assert st_.loc["energiebehoefte +20%", "rang"] == 1
    # lifecycle weight +20%: 0.24 -> A 0.667 < B 0.696
    assert st_.loc["levensloopbehoefte +20%", "rang"] == 2
    assert st_.loc["levensloopbehoefte −20%", "rang"] == 1
    # the weights of scores without values change nothing: 8 of 10 variants keep A on top
    assert k["stabiliteit_varianten"].iloc[0] == pytest.approx(0.8)


def test_wijk_level_aggregates():
    b = scored([
        {"energiebehoefte": 1.0, "n_woningen": 300, "n_doelgroep": 30.0},
        {"energiebehoefte": 0.0, "n_woningen": 100, "n_doelgroep": 40.0},
        {"energiebehoefte": 0.5, "n_woningen": 100, "n_doelgroep": 10.0},
    ])
    units, _ = make_units(b, niveau="wijk")
    u = units.set_index("eenheid_code")
    assert u.loc["WK0000", "n_doelgroep"] == 70
    assert u.loc["WK0000", "n_woningen"] == 400
    assert u.loc["WK0000", "energiebehoefte"] == pytest.approx(0.75)  # dwelling-weighted
    assert u.loc["WK0000", "buurtcodes"] == "BU0000,BU0001"
    assert u.loc["WK0000", "aandeel_doelgroep"] == pytest.approx(70 / 400)
    k = select_candidates(b, config=config(proeftuin={"niveau": "wijk"})).kandidaten
    assert k["eenheid_code"].tolist() == ["WK0000"]  # WK0001 has only 10 target dwellings
    assert k["niveau"].iloc[0] == "wijk"


def test_woonplaats_sources():
    b = scored([{}, {}, {}])
    s, bron = assign_woonplaats(b)
    assert s.tolist() == ["Wijk 0", "Wijk 0", "Wijk 1"] and "wijknaam" in bron
    d = pd.DataFrame({"buurtcode": ["BU0000", "BU0000", "BU0000", "BU0001", "BU0002"],
                      "woonplaats": ["Sleen", "Sleen", "Emmen", "Erm", None]})
    s, bron = assign_woonplaats(b, d)
    assert s.tolist() == ["Sleen", "Erm", "Wijk 1"]
    assert "woningen" in bron and "1 buurt(en) zonder woonplaats" in bron
    b2 = b.assign(woonplaats=["A", "B", None])
    s, bron = assign_woonplaats(b2, d)
    assert s.tolist() == ["A", "B", "Wijk 1"] and bron.startswith("kolom woonplaats")
    res = select_candidates(b2, config=config(proeftuin={"niveau": "woonplaats"}))
    assert set(res.eenheden["eenheid_code"]) == {"A", "B", "Wijk 1"}
    assert any(n.startswith("woonplaats:") for n in res.notities)


def test_reason_formatting():
    g = CFG["proeftuin"]["gewichten"]
    row = {"energiebehoefte": 0.6, "aandeel_label_efg": 0.5, "n_doelgroep": 1234.0,
           "demografische_druk": 0.9, "trend_huishoudens": -0.012, "trend_65plus": 0.004}
    text = explain_candidate(row, gewichten=g, min_doelgroep=50)
    # no aandeel_label_geschat: the share is not quoted as if measured
    assert text.startswith("Hoge energiebehoefte (50% label E–G, geregistreerd of geschat), "
                           "zeer hoge demografische druk (huishoudens −1,2%/jaar, "
                           "65-plusaandeel +0,4 pp/jaar)")
    assert "; 1.234 doelgroepwoningen" in text
    mostly = {**row, "aandeel_label_efg_verwacht": 0.46, "aandeel_label_geschat": 0.6}
    # mostly estimated: the reason says how much (issue #13)
    assert explain_candidate(mostly, gewichten=g, min_doelgroep=50).startswith(
        "Hoge energiebehoefte (46% label E–G, 60% van de labels geschat)")
    allest = {**mostly, "aandeel_label_geschat": 1.0,
              "aandeel_label_efg_verwacht_naoorlogs": 0.52}
    assert "(46% label E–G, naoorlogs 52%, 100% van de labels geschat)" in explain_candidate(
        allest, gewichten=g, min_doelgroep=50)
    # PBL default labels only: not registered labels, and said so
    pbl = explain_candidate(allest, gewichten=g, min_doelgroep=50, label_methode="pbl")
    assert ("(46% label E–G, naoorlogs 52%, alle labels zijn PBL-standaardlabels per type en "
            "bouwperiode, geen geregistreerde labels)") in pbl
    assert "78% van de labels zijn PBL-standaardlabels per type en bouwperiode" in \
        explain_candidate({**mostly, "aandeel_label_geschat": 0.78}, gewichten=g,
                          min_doelgroep=50, label_methode="pbl")
    measured = {**mostly, "aandeel_label_geschat": 0.3}
    text = explain_candidate(measured, gewichten=g, min_doelgroep=50)
    assert "(46% label E–G)" in text and "geschat" not in text.split(";")[0]
    assert explain_candidate({"n_doelgroep": 1.0}, gewichten=g, min_doelgroep=0).startswith(
        "Geen scores beschikbaar")
    assert "; 1 doelgroepwoning " in explain_candidate({"n_doelgroep": 1.0}, gewichten=g,
                                                       min_doelgroep=0)


@pytest.mark.parametrize("key, value", [("niveau", "provincie"), ("top_n", 0),
                                        ("stabiliteit_variatie", 1.5)])
def test_config_checks(key, value):
    with pytest.raises(ConfigError, match=key):
        select_candidates(scored([{}]), config=config(proeftuin={key: value}))


# -- property-based -----------------------------------------------------------------------------

score_value = st.sampled_from([np.nan, 0.0, 0.25, 0.5, 1.0])  # ties on purpose


@st.composite
def random_buurten(draw):
    n = draw(st.integers(2, 12))
    rows = []
    for _ in range(n):
        rows.append({
            "gemeentecode": draw(st.sampled_from(["GM0001", "GM0002", "GM0003"])),
            "n_doelgroep": draw(st.sampled_from([np.nan, 0.0, 10.0, 50.0, 120.0])),
            "n_woningen": draw(st.integers(1, 500)),
            "aandeel_naoorlogs": draw(st.sampled_from([0.0, 0.4])),
            "wijkcode": f"WK{draw(st.integers(0, 3)):04d}",
            **{s: draw(score_value) for s in SCORES},
        })
        rows[-1]["wijknaam"] = rows[-1]["wijkcode"]
        rows[-1]["n_naoorlogs"] = rows[-1]["aandeel_naoorlogs"] * rows[-1]["n_woningen"]
    return scored(rows)


FAST = bconfig(stabiliteit_trekkingen=30)


ORDER_CFG = {niveau: config(proeftuin={"stabiliteit_trekkingen": 30, "niveau": niveau})
             for niveau in ("buurt", "wijk", "auto")}


@settings(max_examples=30, deadline=None)
@given(b=random_buurten(), data=st.data(), niveau=st.sampled_from(["buurt", "wijk", "auto"]))
def test_ranks_invariant_to_row_order(b, data, niveau):
    cfg = ORDER_CFG[niveau]
    perm = data.draw(st.permutations(range(len(b))))
    a = select_candidates(b, config=cfg)
    c = select_candidates(b.iloc[list(perm)], config=cfg)
    pd.testing.assert_frame_equal(a.kandidaten, c.kandidaten)
    pd.testing.assert_frame_equal(a.stabiliteit, c.stabiliteit)


@settings(max_examples=40, deadline=None)
@given(b=random_buurten())
def test_every_gemeente_with_target_dwellings_has_a_candidate(b):
    """A gemeente gets a candidate exactly when a unit meets the post-war rule (and has target
    dwellings, or the target group is unknown everywhere); otherwise a row saying why."""
    k = select_candidates(b, config=FAST).kandidaten
    post_ok = (b["aandeel_naoorlogs"] >= 0.3) & (b["n_naoorlogs"] >= 50)
    g = b.assign(post_ok=post_ok, target=b["n_doelgroep"] > 0,
                 scored=b[list(SCORES)].notna().any(axis=1))
    per = g.groupby("gemeentecode").apply(lambda x: pd.Series({
        "target": x["target"].any(),
        "target_post": (x["target"] & x["post_ok"]).any(),
        "unknown": x["n_doelgroep"].isna().all() and x["scored"].any(),
        "unknown_post": x["n_doelgroep"].isna().all() and (x["scored"] & x["post_ok"]).any(),
    }), include_groups=False)
    real, leeg = k[~k["geen_kandidaat"]], k[k["geen_kandidaat"]]
    assert set(real.loc[~real["voorlopig"], "gemeentecode"]) == set(per.index[per["target_post"]])
    assert set(real.loc[real["voorlopig"], "gemeentecode"]) == set(per.index[per["unknown_post"]])
    assert set(leeg["gemeentecode"]) == set(
        per.index[(per["target"] & ~per["target_post"]) | (per["unknown"] & ~per["unknown_post"])])
    # never a pre-war unit, provisional ones included
    assert (real["aandeel_naoorlogs"] >= 0.3).all() and (real["n_naoorlogs"] >= 50).all()
    assert leeg["reden"].str.startswith(
        "Geen kandidaat: geen buurt of dorp met genoeg naoorlogse woningen (minimaal 30%").all()
    assert leeg["rang"].isna().all() and leeg["eenheid_code"].isna().all()
    assert (real.loc[real["voorlopig"], "rang"] == 1).all()
    assert real.loc[real["voorlopig"], "reden"].str.startswith("Voorlopig").all()
    assert k["reden"].str.len().gt(0).all()
    assert (real.groupby("gemeentecode")["rang"].max() <= CFG["proeftuin"]["top_n"]).all()
    assert k["primair"].all()  # one fixed level: it is the primary one


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.just(np.nan), st.floats(0, 1)), min_size=5, max_size=5),
       which=st.sampled_from(SCORES), up=st.floats(0, 1))
def test_proeftuinscore_monotone_in_each_score(values, which, up):
    """More of a score never lowers the proeftuin score (never raises it for a negative weight)."""
    row = dict(zip(SCORES, values, strict=True))
    if np.isnan(row[which]):
        row[which] = 0.0
    higher = dict(row, **{which: min(row[which] + up, 1.0)})
    g = CFG["proeftuin"]["gewichten"]
    a, b = compute_candidate_score(pd.DataFrame([row, higher]), g).to_numpy()
    if g[which] > 0:
        assert b >= a - 1e-12
    else:
        assert b <= a + 1e-12
