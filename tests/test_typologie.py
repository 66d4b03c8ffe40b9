"""Typology: determinism, stable order and names, visible exclusions/imputation, limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.mixture import GaussianMixture

from conftest_analysis import fast_config
from woonvoorraad.classify.typologie import bic_hard_partition, fit_typologie, name_clusters
from woonvoorraad.errors import ConfigError, InputError

FEATURES = ["aandeel_naoorlogs", "aandeel_koop", "aandeel_65plus", "woz_gemiddeld",
            "aandeel_label_efg_verwacht", "aandeel_eengezins_voor_1975",
            "gemiddelde_huishoudsgrootte",
            "inkomen_per_inwoner"]
#: three recognisable buurt types (feature means)
TYPES = np.array([
    [0.75, 0.80, 0.32, 190000, 0.35, 0.60, 2.0, 25000],  # naoorlogse koopwijk, vergrijsd
    [0.10, 0.35, 0.15, 210000, 0.10, 0.10, 1.8, 24000],  # recent, huur
    [0.30, 0.85, 0.20, 380000, 0.10, 0.25, 2.7, 42000],  # welvarend, gezinnen
])
SPREAD = np.array([0.05, 0.05, 0.03, 15000, 0.04, 0.05, 0.1, 1500])


def blobs(n_per: int = 40, seed: int = 3, n_types: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for t in range(n_types):
        x = TYPES[t] + rng.normal(0, 1, (n_per, len(FEATURES))) * SPREAD
        parts.append(pd.DataFrame(x, columns=FEATURES))
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "buurtcode", [f"BU{i:06d}" for i in rng.permutation(len(df))])
    df["n_woningen"] = rng.integers(20, 800, len(df))
    return df


@pytest.fixture(scope="module")
def base_result():
    return fit_typologie(blobs(), config=fast_config())


def test_three_types_found_and_table_kept(base_result):
    r = base_result
    assert r.k == 3 and r.methode == "kmeans"
    assert list(r.k_tabel["k"]) == [3, 4, 5]
    for col in ("silhouette", "calinski_harabasz", "davies_bouldin", "bic", "ari_seeds"):
        assert r.k_tabel[col].notna().all(), col
    assert r.k_tabel["gekozen"].sum() == 1
    assert r.k_tabel.loc[r.k_tabel["gekozen"], "k"].item() == 3
    assert isinstance(r.pipeline.named_steps["model"], KMeans)
    assert list(r.pipeline.named_steps) == ["impute", "scale", "model"]


def test_identical_across_two_runs(base_result):
    again = fit_typologie(blobs(), config=fast_config())
    pd.testing.assert_series_equal(base_result.labels, again.labels)
    assert base_result.namen == again.namen
    pd.testing.assert_frame_equal(base_result.k_tabel, again.k_tabel)
    pd.testing.assert_frame_equal(base_result.profielen, again.profielen)


def test_row_order_does_not_matter(base_result):
    shuffled = blobs().sample(frac=1.0, random_state=11)
    other = fit_typologie(shuffled, config=fast_config())
    pd.testing.assert_series_equal(base_result.labels, other.labels)
    assert base_result.namen == other.namen


def test_stable_order_and_dutch_names(base_result):
    prof = base_result.profielen
    z = prof["aandeel_naoorlogs_z"].to_numpy()
    assert (np.diff(z) <= 0).all()  # numbered by descending post-war centroid
    assert prof["naam"].iloc[0].startswith("naoorlogse koopwijk")
    assert "vergrijsd" in prof["naam"].iloc[0]
    assert prof["naam"].is_unique
    assert prof["n_buurten"].sum() == 120
    # the type planted first holds 40 buurten and is cluster 1
    assert prof["n_buurten"].tolist()[0] == 40


def test_per_buurt_diagnostics(base_result):
    t = base_result.buurt_tabel()
    assert len(t) == 120
    assert t["typologie_silhouette"].between(-1, 1).all()
    assert (t["typologie_volgende"] != t["typologie_cluster"]).all()
    assert t["typologie_volgende_naam"].notna().all()
    assert base_result.silhouette_gemiddeld > 0.5


def test_exclusions_and_imputation_are_visible():
    df = blobs()
    df.loc[0, "n_woningen"] = 5
    df.loc[1, ["woz_gemiddeld", "inkomen_per_inwoner", "aandeel_65plus"]] = np.nan
    df.loc[2, "woz_gemiddeld"] = np.nan
    r = fit_typologie(df, config=fast_config())
    uit = r.uitgesloten.set_index("buurtcode")["reden"]
    assert "5 woningen (minder dan 10)" in uit[df.loc[0, "buurtcode"]]
    assert "3 van 8 kenmerken ontbreken" in uit[df.loc[1, "buurtcode"]]
    assert len(r.labels) == 118
    assert r.geimputeerd[df.loc[2, "buurtcode"]] == "woz_gemiddeld"
    imp = r.imputatie.set_index("kenmerk")
    assert imp.loc["woz_gemiddeld", "n_ontbrekend"] == 1
    assert imp.loc["aandeel_koop", "n_ontbrekend"] == 0


def test_empty_feature_is_left_out_visibly_not_silently(caplog):
    # CBS publishes some figures later (-99995 in a first release): a feature without any
    # value is left out of the model, and the result and the log say so
    df = blobs().assign(aandeel_koop=np.nan)
    r = fit_typologie(df, config=fast_config())
    assert "aandeel_koop" not in r.kenmerken
    assert any("aandeel_koop" in n and "weggelaten" in n for n in r.notities)
    assert "typology features without any values left out: aandeel_koop" in caplog.text
    assert len(r.labels) == len(df)


def test_too_few_features_with_values_is_an_error():
    feats = fast_config()["typologie"]["kenmerken"]
    df = blobs().assign(**dict.fromkeys(feats[1:], np.nan))
    with pytest.raises(InputError, match="fewer than two features"):
        fit_typologie(df, config=fast_config())


def test_ward_is_refused_above_the_limit_and_works_below():
    df = blobs()
    with pytest.raises(ConfigError, match="ward_max_n"):
        fit_typologie(df, config=fast_config(typologie={"methode": "ward", "ward_max_n": 100}))
    r = fit_typologie(df, config=fast_config(typologie={"methode": "ward"}))
    assert r.k == 3 and r.k_tabel["ari_seeds"].isna().all()  # deterministic: no seed check


def test_gaussian_mixture_uses_its_own_bic():
    r = fit_typologie(blobs(), config=fast_config(typologie={"methode": "gmm", "k": 3}))
    model = r.pipeline.named_steps["model"]
    assert isinstance(model, GaussianMixture)
    Xs = r.pipeline[:-1].transform(blobs().sort_values("buurtcode").set_index("buurtcode")[
        FEATURES])
    assert r.k_tabel["bic"].iloc[0] == pytest.approx(model.bic(Xs))


def test_convergence_warning_is_recorded_not_raised():
    df = blobs(n_per=10)
    # only three distinct points: KMeans with k > 3 warns that it found fewer clusters
    df[FEATURES] = np.repeat(TYPES, 10, axis=0)
    r = fit_typologie(df, config=fast_config(typologie={"k_min": 3, "k_max": 4,
                                                    "stabiliteit_seeds": 1}))
    tab = r.k_tabel.set_index("k")
    assert r.k == 3
    assert not tab.loc[4, "geldig"]
    assert "3" in tab.loc[4, "opmerking"]


def test_names_are_unique_even_for_similar_centroids():
    z = pd.DataFrame({"aandeel_naoorlogs": [1.0, 1.0], "aandeel_koop": [1.0, 1.0],
                      "aandeel_65plus": [0.8, 0.8], "woz_gemiddeld": [0.1, -0.3]},
                     index=[1, 2])
    names = name_clusters(z)
    assert len(set(names.values())) == 2
    assert names[1].startswith("naoorlogse koopwijk, vergrijsd")


def test_bic_prefers_the_true_partition():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(8, 1, (50, 2))])
    good = np.repeat([0, 1], 50)
    assert bic_hard_partition(X, good) < bic_hard_partition(X, rng.integers(0, 2, 100))


def test_few_buurten_get_few_types():
    """14 buurten (the real Haaglanden sample's size) give k = 3 only, not 7 types of two
    buurten each; a fixed k is the user's choice and is kept."""
    small = blobs(n_per=5)[:14]
    r = fit_typologie(small, config=fast_config(typologie={"k_max": 8}))
    assert list(r.k_tabel["k"]) == [3] and r.k == 3
    assert any("minstens 4 buurten per type" in n for n in r.notities)
    assert r.labels.value_counts().min() >= 2
    fixed = fit_typologie(small, config=fast_config(typologie={"k": 5}))
    assert fixed.k == 5 and list(fixed.k_tabel["k"]) == [5]


@pytest.mark.parametrize("key, value", [("methode", "dbscan"), ("k", 1), ("k_min", 1),
                                        ("volgorde_kenmerk", "bestaat_niet"),
                                        ("min_buurten_per_cluster", 0)])
def test_config_checks(key, value):
    with pytest.raises(ConfigError):
        fit_typologie(blobs(), config=fast_config(typologie={key: value}))


@pytest.mark.slow
def test_national_size_keeps_kmeans():
    """~14,500 buurten: still KMeans (no silent MiniBatch), per-buurt silhouette for all."""
    rng = np.random.default_rng(5)
    n_per = 14500 // 5
    parts = [TYPES[i % 3] * (1 + 0.15 * (i // 3)) + rng.normal(0, 1, (n_per, 8)) * SPREAD * 3
             for i in range(5)]
    df = pd.DataFrame(np.vstack(parts), columns=FEATURES)
    df.insert(0, "buurtcode", [f"BU{i:08d}" for i in range(len(df))])
    df["n_woningen"] = rng.integers(10, 2000, len(df))
    cfg = fast_config(typologie={"k_min": 4, "k_max": 6, "n_init": 3})
    r = fit_typologie(df, config=cfg)
    model = r.pipeline.named_steps["model"]
    assert type(model) is KMeans and not isinstance(model, MiniBatchKMeans)
    assert len(r.silhouette) == len(df) == 14500
    assert any("steekproef van 5000" in n for n in r.notities)
    with pytest.raises(ConfigError, match="ward_max_n"):
        fit_typologie(df, config=fast_config(typologie={"methode": "ward"}))


def test_names_say_whether_young_means_residents_or_buildings():
    """'jong' alone was read as young buildings (issue #13): age of the residents and build
    year now have their own words."""
    z = pd.DataFrame({"aandeel_naoorlogs": [0.0, 0.0], "aandeel_koop": [1.0, 1.0],
                      "aandeel_65plus": [-1.5, 1.5], "mediaan_bouwjaar": [1.2, -1.2]},
                     index=[1, 2])
    names = name_clusters(z)
    assert names == {1: "koopwijk, jonge bewoners, jonge bebouwing",
                     2: "koopwijk, vergrijsd, oude bebouwing"}
    for name in names.values():
        assert "jong" not in [w.strip() for w in name.split(",")]


def test_every_descriptor_is_unambiguous():
    from woonvoorraad.classify.typologie import WOORDEN

    for feature, (hoog, laag) in WOORDEN.items():
        assert hoog != laag, feature
        for word in (hoog, laag):
            assert word not in ("jong", "oud", "groeiend", "krimpend", "hoog", "laag"), feature
    # one word for two different features only where they describe the same thing
    seen: dict[str, str] = {}
    same = {frozenset({"aandeel_label_efg", "aandeel_label_efg_verwacht"}),
            frozenset({"aandeel_koop", "aandeel_huur"}),
            frozenset({"aandeel_doelgroep", "aandeel_doelgroep_naoorlogs"})}
    for feature, words in WOORDEN.items():
        for word in words:
            if word in seen:
                assert frozenset({seen[word], feature}) in same, (word, seen[word], feature)
            seen.setdefault(word, feature)


def test_shared_words_appear_once_in_a_name():
    z = pd.DataFrame({"aandeel_koop": [1.0, -1.0], "aandeel_label_efg": [1.5, -0.1],
                      "aandeel_label_efg_verwacht": [1.4, 0.0]}, index=[1, 2])
    assert name_clusters(z)[1] == "koopwijk, veel E–G-labels"
