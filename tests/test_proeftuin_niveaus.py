"""Proeftuin candidates that fit the mission (issue #13): post-war rule, village level in rural
gemeenten, stability over the target-group range, honest reasons, and the report section."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from conftest_analysis import config
from test_proeftuinen import scored
from woonvoorraad.classify.proeftuin_eenheden import land_density
from woonvoorraad.classify.proeftuinen import select_candidates
from woonvoorraad.classify.scores import compute_scores

FAST = {"stabiliteit_trekkingen": 40}


def _scored_geo(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    b = pd.DataFrame(rows)
    sc = compute_scores(b, config=config())
    b = pd.concat([b.drop(columns=sc.frame.columns, errors="ignore"), sc.frame], axis=1)
    return gpd.GeoDataFrame(b, geometry=geoms, crs="EPSG:28992")


def _buurt(code: str, gem: str, n: int, **kw) -> dict:
    return {"buurtcode": code, "buurtnaam": f"Buurt {code}", "wijkcode": f"WK{code[2:6]}",
            "wijknaam": f"Wijk {code[2:6]}", "gemeentecode": gem,
            "gemeentenaam": {"GM0001": "Dorpen", "GM0002": "Stad"}[gem], "n_woningen": n,
            "n_naoorlogs": 0.6 * n, "aandeel_naoorlogs": 0.6, "n_doelgroep": 0.3 * n,
            "aandeel_doelgroep": 0.3, "aandeel_label_efg_verwacht": 0.4, "aandeel_65plus": 0.3,
            "water": "NEE", **kw}


def _region() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    km = 1000.0
    rows = [  # rural: 1,600 dwellings on 4 x 25 km2 of land = 16 per km2
        _buurt("BU00010001", "GM0001", 300), _buurt("BU00010002", "GM0001", 400),
        _buurt("BU00010003", "GM0001", 500),  # spans the villages Bdorp and Cdorp
        _buurt("BU00010004", "GM0001", 400, n_naoorlogs=40.0, aandeel_naoorlogs=0.1),
        # urban: 8,000 dwellings on 4 km2 of land; the 100 km2 water buurt does not count
        *[_buurt(f"BU0002000{i}", "GM0002", 2000) for i in range(1, 5)],
        _buurt("BU00020009", "GM0002", 0, water="JA", n_naoorlogs=0.0, n_doelgroep=0.0),
    ]
    geoms = [box(i * 5 * km, 0, (i + 1) * 5 * km, 5 * km) for i in range(4)]
    geoms += [box(100 * km + i * km, 0, 100 * km + (i + 1) * km, km) for i in range(4)]
    geoms += [box(200 * km, 0, 210 * km, 10 * km)]
    b = _scored_geo(rows, geoms)

    def village(gem: str, naam: str, codes: str, n: int, *, efg: float, post: float) -> dict:
        return {"gemeentecode": gem, "gemeentenaam": "Dorpen" if gem == "GM0001" else "Stad",
                "woonplaats": naam, "buurtcodes": codes, "n_buurten": codes.count(",") + 1,
                "n_woningen": n, "n_naoorlogs": post * n, "aandeel_naoorlogs": post,
                "n_doelgroep": 0.3 * n, "n_doelgroep_laag": 0.2 * n, "n_doelgroep_hoog": 0.4 * n,
                "aandeel_label_efg_verwacht": efg, "aandeel_65plus": 0.3}

    wp = pd.DataFrame([
        village("GM0001", "Adorp", "BU00010001,BU00010004", 700, efg=0.6, post=0.8),
        village("GM0001", "Bdorp", "BU00010002,BU00010003", 650, efg=0.3, post=0.5),
        village("GM0001", "Cdorp", "BU00010003", 250, efg=0.45, post=0.05),  # pre-war village
        village("GM0002", "Stad", "BU00020001,BU00020002,BU00020003", 6000, efg=0.4, post=0.6),
        village("GM0002", "Buitenwijk", "BU00020004", 2000, efg=0.4, post=0.6),
    ])
    return b, wp


def test_land_density_leaves_out_water():
    b, _ = _region()
    dens, note = land_density(b)
    assert note is None
    assert dens["GM0001"] == pytest.approx(1600 / 100)
    assert dens["GM0002"] == pytest.approx(8000 / 4)  # not 8000 / 104


def test_rural_gemeente_gets_village_candidates_urban_one_buurten():
    b, wp = _region()
    res = select_candidates(b, config=config(proeftuin=FAST), woonplaatsen=wp)
    nv = res.niveaus
    assert nv.loc["GM0001", "niveau_primair"] == "woonplaats" and nv.loc["GM0001", "landelijk"]
    assert nv.loc["GM0001", "n_woonplaatsen"] == 3
    assert nv.loc["GM0002", "niveau_primair"] == "buurt" and not nv.loc["GM0002", "landelijk"]
    k = res.kandidaten
    rural = k[(k["gemeentecode"] == "GM0001") & k["primair"]]
    # Cdorp is pre-war (5 %): never a candidate; Adorp (E–G 60 %, 80 % post-war) ranks first
    assert rural["niveau"].eq("woonplaats").all()
    assert rural["eenheid_code"].tolist() == ["Adorp", "Bdorp"]
    assert rural["buurtcodes"].iloc[1] == "BU00010002,BU00010003"  # the shared buurt
    # the village is scored like a buurt: E–G 0.6 -> 1, post-war 0.8 -> 1 => 1.0
    assert rural["energiebehoefte"].iloc[0] == pytest.approx(1.0)
    assert "naar schatting 210 (140–280) doelgroepwoningen" in rural["reden"].iloc[0]
    # the other level is in the same table, flagged as not primary
    other = k[(k["gemeentecode"] == "GM0001") & ~k["primair"]]
    assert other["niveau"].eq("buurt").all() and len(other) == 3
    assert "BU00010004" not in set(other["eenheid_code"])  # 10 % post-war
    urban = k[(k["gemeentecode"] == "GM0002") & k["primair"]]
    assert urban["niveau"].eq("buurt").all() and len(urban) == 3
    assert set(k.loc[(k["gemeentecode"] == "GM0002") & ~k["primair"], "niveau"]) == {
        "woonplaats"}
    assert any("proeftuinniveau GM0001: woonplaats (16 woningen per km² land" in n
               for n in res.notities)


def test_without_woonplaatsen_table_the_village_level_is_approximated_and_said():
    b, _ = _region()
    res = select_candidates(b, config=config(proeftuin=FAST))
    assert any("geen tabel woonplaatsen" in n for n in res.notities)
    assert any(n.startswith("woonplaats: CBS-wijk (wijknaam)") for n in res.notities)
    # the four rural buurten share one CBS wijk: one approximate "village", so the rural
    # gemeente stays on the buurt level (at least 2 woonplaatsen needed)
    assert res.niveaus.loc["GM0001", "n_woonplaatsen"] == 1
    assert res.niveaus.loc["GM0001", "niveau_primair"] == "buurt"


def test_gemeente_without_post_war_unit_gets_a_row_saying_so():
    b = scored([{"energiebehoefte": 0.9, "aandeel_naoorlogs": 0.066, "n_naoorlogs": 352},
                {"energiebehoefte": 0.8, "aandeel_naoorlogs": 0.5, "n_naoorlogs": 30}])
    res = select_candidates(b, config=config(proeftuin={"niveau": "buurt", **FAST}))
    k = res.kandidaten
    assert len(k) == 1 and k["geen_kandidaat"].item() and pd.isna(k["eenheid_code"].item())
    assert k["reden"].item() == ("Geen kandidaat: geen buurt of dorp met genoeg naoorlogse "
                                 "woningen (minimaal 30% en 50 woningen)")
    assert any("geen buurt of dorp met genoeg naoorlogse woningen" in n and "GM0001" in n
               for n in res.notities)
    # the same with an unknown target group: no provisional pre-war buurt either
    res = select_candidates(b.assign(n_doelgroep=np.nan),
                            config=config(proeftuin={"niveau": "buurt", **FAST}))
    k = res.kandidaten
    assert k["geen_kandidaat"].all() and k["voorlopig"].all()


def test_stability_varies_the_target_group():
    """A ranks first on the scores but has only 40 target dwellings at the low estimate: in
    the low scenario it is not eligible, so it stays on top in 2 of 3 scenarios."""
    b = scored([
        {"energiebehoefte": 0.8, "levensloopbehoefte": 0.5, "n_doelgroep": 60.0,
         "n_doelgroep_laag": 40.0, "n_doelgroep_hoog": 80.0},
        {"energiebehoefte": 0.6, "levensloopbehoefte": 0.5, "n_doelgroep": 200.0,
         "n_doelgroep_laag": 150.0, "n_doelgroep_hoog": 250.0},
    ])
    res = select_candidates(b, config=config(proeftuin={"niveau": "buurt", "top_n": 1,
                                                        **FAST}))
    k = res.kandidaten
    assert k["eenheid_code"].tolist() == ["BU0000"]
    # weights +-20 % never change A > B (0.8 vs 0.6 on energy, equal on lifecycle)
    assert k["stabiliteit_top_n"].item() == pytest.approx(2 / 3)
    st = res.stabiliteit.set_index("variant")
    assert len(st) == 12  # 5 weights x 2, low and high target group
    assert pd.isna(st.loc["doelgroep laag", "rang"]) and not st.loc["doelgroep laag", "in_top_n"]
    assert st.loc["doelgroep hoog", "rang"] == 1
    assert k["stabiliteit_varianten"].item() == pytest.approx(11 / 12)
    assert "naar schatting 60 (40–80) doelgroepwoningen" in k["reden"].item()
    assert k[["n_doelgroep_laag", "n_doelgroep_hoog"]].iloc[0].tolist() == [40, 80]


def test_stability_not_applicable_is_nan_with_a_note():
    one_score = scored([{"energiebehoefte": 0.9}, {"energiebehoefte": 0.5},
                        {"energiebehoefte": 0.2}])
    k = select_candidates(one_score, config=config(
        proeftuin={"niveau": "buurt", "top_n": 1, **FAST})).kandidaten
    assert k["stabiliteit_top_n"].isna().all() and k["stabiliteit_varianten"].isna().all()
    assert k["stabiliteit_opmerking"].item().startswith(
        "niet van toepassing: minder dan twee scores bepalen de rangorde")
    few = scored([{"energiebehoefte": 0.9, "levensloopbehoefte": 0.1},
                  {"energiebehoefte": 0.5, "levensloopbehoefte": 0.7}])
    res = select_candidates(few, config=config(proeftuin={"niveau": "buurt", **FAST}))
    k = res.kandidaten
    assert len(k) == 2 and k["stabiliteit_top_n"].isna().all()
    assert (k["stabiliteit_opmerking"] == "niet van toepassing: niet meer geschikte eenheden "
            "(2) dan kandidaatplaatsen (3)").all()
    assert res.stabiliteit.empty
    assert any(n.startswith("stabiliteit niet van toepassing") for n in res.notities)


@pytest.mark.realdata
def test_real_sample_candidates_are_post_war(realdata: Path, tmp_path: Path) -> None:
    """Issue #13: the provisional candidates were the pre-war Bezuidenhout-Oost (6.6 %
    post-war, median 1929) and Voorburg Oud zuid (0.9 %, 1927)."""
    from woonvoorraad.pipeline import build

    out = tmp_path / "o"
    build(bag_path=realdata, buurten_path=realdata, out=out)
    k = pd.read_csv(out / "proeftuinen.csv")
    real = k[~k["geen_kandidaat"]]
    assert len(real) >= 2 and set(real.loc[real["primair"], "gemeentecode"]) == {
        "GM0518", "GM1916"}
    assert (real["aandeel_naoorlogs"] >= 0.30).all() and (real["n_naoorlogs"] >= 50).all()
    assert not set(real["buurtcodes"]) & {"BU05182666", "BU19161301"}
    assert (real["mediaan_bouwjaar"] >= 1945).all()
    # every label in the sample is a PBL default label: the reasons say so
    with_labels = real.loc[real["reden"].str.contains("label E–G"), "reden"]
    assert len(with_labels) and with_labels.str.contains(
        "alle labels zijn PBL-standaardlabels per type en bouwperiode").all()
    # urban: buurt level first, the (approximated) village level beside it
    assert set(real.loc[real["primair"], "niveau"]) == {"buurt"}
    summary = json.loads((out / "manifest.json").read_text())["analysis"]["proeftuin"]
    assert summary["niveau_per_gemeente"] == {"GM0518": "buurt", "GM1916": "buurt"}
    assert summary["gemeenten_zonder_naoorlogse_eenheid"] == []


def test_report_section_shows_both_levels_and_missing_candidates(tmp_path: Path) -> None:
    from woonvoorraad.report.run import candidate_buurten, candidates_of, load_run
    from woonvoorraad.report.sections import section_proeftuinen

    b, wp = _region()
    cfg = config(proeftuin=FAST)
    res = select_candidates(b, config=cfg, woonplaatsen=wp)
    extra = scored([{"energiebehoefte": 0.9, "aandeel_naoorlogs": 0.05, "n_naoorlogs": 10}])
    leeg = select_candidates(extra.assign(gemeentecode="GM0003"),
                             config=config(proeftuin={"niveau": "buurt", **FAST})).kandidaten
    pd.concat([res.kandidaten, leeg]).to_csv(tmp_path / "proeftuinen.csv", index=False)
    b.drop(columns=[c for c in b.columns if c.endswith(("_inputs", "_ontbrekend"))]).to_parquet(
        tmp_path / "buurten.parquet")
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"parameters": {"config": {"proeftuin": dict(cfg["proeftuin"])}}}))
    run = load_run(tmp_path)
    prim = candidates_of(run, "GM0001")
    assert prim["eenheid_code"].tolist() == ["Adorp", "Bdorp"]  # primary level only
    assert set(candidate_buurten(run, "GM0001")["buurtcode"]) == {
        "BU00010001", "BU00010004", "BU00010002", "BU00010003"}
    html = str(section_proeftuinen(run, "GM0001"))
    assert "Kandidaten zijn hier dorpen (woonplaatsen)" in html
    assert "Adorp" in html and "Ter vergelijking: kandidaten op het niveau van buurten" in html
    html = str(section_proeftuinen(run, "GM0003"))
    assert "geen buurt of dorp met genoeg naoorlogse woningen (minimaal 30% en 50 woningen)" \
        in html


def _woonplaatsen_from(b: pd.DataFrame, d: pd.DataFrame) -> pd.DataFrame:
    """A village table as the stock stage builds it: counts over the village's own dwellings,
    buurt counts split by its dwellings, buurt shares weighted by them."""
    per = d.groupby(["gemeentecode", "woonplaats", "buurtcode"]).agg(
        n=("vbo_id", "size"), post=("naoorlogs", "sum")).reset_index()
    per = per.merge(b[["buurtcode", "n_woningen", "n_doelgroep", "aandeel_65plus",
                       "aandeel_label_efg", "gemeentenaam"]], on="buurtcode")
    per["doel"] = per["n_doelgroep"] * per["n"] / per["n_woningen"]
    rows = []
    for (gem, wpl), g in per.groupby(["gemeentecode", "woonplaats"], sort=True):
        w = g["n"] / g["n"].sum()
        rows.append({"gemeentecode": gem, "gemeentenaam": g["gemeentenaam"].iloc[0],
                     "woonplaats": wpl, "buurtcodes": ",".join(sorted(g["buurtcode"])),
                     "n_buurten": len(g), "n_woningen": float(g["n"].sum()),
                     "n_naoorlogs": float(g["post"].sum()),
                     "n_doelgroep": g["doel"].sum(min_count=1),
                     "aandeel_65plus": float((w * g["aandeel_65plus"]).sum()),
                     "aandeel_label_efg_verwacht": float(
                         (w * g["aandeel_label_efg"]).sum())})
    return pd.DataFrame(rows)


def test_analyse_wires_the_village_table_and_the_label_method():
    from conftest_analysis import fast_config, region
    from woonvoorraad.classify.analysis import analyse

    b, d, p = region()
    wp = _woonplaatsen_from(b, d)
    r = analyse(b, d, config=fast_config(), prognose=p, woonplaatsen=wp, label_methode="pbl")
    s = r.summary()["proeftuin"]
    # Aa en Hunze: 52 dwellings per km2 of land and two villages; the others are denser
    assert s["niveau_per_gemeente"]["GM1680"] == "woonplaats"
    assert s["niveau_per_gemeente"]["GM0114"] == "buurt"
    k = r.proeftuinen
    prim = k[k["primair"] & ~k["geen_kandidaat"]]
    aa = prim[prim["gemeentecode"] == "GM1680"]
    assert len(aa) == 1 and aa["eenheid_code"].item() in set(wp["woonplaats"])
    assert (prim["aandeel_naoorlogs"] >= 0.3).all() and (prim["n_naoorlogs"] >= 50).all()
    # every member buurt of the village candidate points to it; buurt candidates get a rank
    members = aa["buurtcodes"].item().split(",")
    eenheid = r.buurten.set_index("buurtcode")["proeftuin_eenheid"]
    assert (eenheid.loc[members] == aa["eenheid_code"].item()).all()
    rang = r.buurten.set_index("buurtcode")["proeftuin_rang"]
    emmen = prim[prim["gemeentecode"] == "GM0114"]
    assert rang.loc[emmen["eenheid_code"]].tolist() == emmen["rang"].tolist() == [1, 2, 3]
    assert k["reden"].str.contains("PBL-standaardlabels").any()
    assert any("tabel woonplaatsen" in n for n in r.notities)
    assert s["n_kandidaten"] == len(prim)
