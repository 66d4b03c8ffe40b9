"""The label model: validated against the PBL defaults, checked against the demo's truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from woonvoorraad.config import default_config, load_config
from woonvoorraad.demo import make_demo
from woonvoorraad.demo.region import read_true_labels
from woonvoorraad.demo.validation import check_labels
from woonvoorraad.pipeline import BuildResult, build
from woonvoorraad.sources.eponline import read_ep_online
from woonvoorraad.stock import labels
from woonvoorraad.stock._label_features import FEATURES, compute_label_features
from woonvoorraad.stock.dwellings import _registration_year

SCALE = 0.2
P_COLS = list(labels.P_COLUMNS)
EFG = ["p_label_E", "p_label_F", "p_label_G"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_demo(tmp_path_factory.mktemp("demo"), scale=SCALE)


def _build(demo: dict[str, Path], out: Path, *, model: str = "hgb",
           with_labels: bool = True) -> BuildResult:
    cfg = load_config(overrides=[f'labels.model="{model}"'])
    return build(bag_path=demo["bag"], buurten_path=demo["buurten"], out=out,
                 labels_path=demo["labels"] if with_labels else None, analyse=False,
                 synthetic=True, config=cfg)


@pytest.fixture(scope="module")
def built(demo: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, BuildResult]:
    root = tmp_path_factory.mktemp("builds")
    return {m: _build(demo, root / m, model=m) for m in ("hgb", "pbl")}


def test_model_beats_pbl_on_held_out_labels(built: dict[str, BuildResult]) -> None:
    entry = built["hgb"].manifest["label_model"]
    assert entry["methode"] == "model" and entry["reden"] is None
    val = entry["validatie"]
    assert val["log_loss"]["model"] < val["log_loss"]["pbl"]
    assert val["mae_buurt_efg"]["model"] < val["mae_buurt_efg"]["pbl"]
    assert val["brier"]["model"] < val["brier"]["pbl"]
    assert entry["folds"] == 5 and val["n_buurten_mae"] >= 10
    table = pd.read_csv(built["hgb"].out_dir / "label_model.csv")
    row = table.set_index("maat").loc["log_loss"]
    assert row["model"] == pytest.approx(val["log_loss"]["model"])
    assert table.set_index("maat").loc["methode", "waarde"] == "model"


def test_probabilities_sum_to_one_and_match_the_label(built: dict[str, BuildResult]) -> None:
    d = built["hgb"].dwellings
    p = d[P_COLS].to_numpy(dtype=float)
    assert d[P_COLS].dtypes.eq(np.float32).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert set(d["label_bron"].dropna().unique()) == {"geregistreerd", "model"}
    reg = (d["label_bron"] == "geregistreerd").to_numpy()
    assert set(np.unique(p[reg])) <= {0.0, 1.0}  # one-hot
    lab = d["energielabel"].astype(str).str.replace("+", "", regex=False).to_numpy()
    assert (np.array(labels.CLASSES)[p.argmax(axis=1)] == lab).all()
    # registered labels keep their validity date and method
    assert d.loc[reg, "label_geldig_tot"].notna().all()
    assert d.loc[~reg, "label_geldig_tot"].isna().all()
    assert set(d.loc[reg, "label_berekeningstype"].unique()) == {"NTA 8800", "voor NTA 8800"}


def test_truth_model_clearly_closer_than_pbl(demo: dict[str, Path],
                                             built: dict[str, BuildResult]) -> None:
    """Per-buurt E/F/G share of the UNLABELLED dwellings against the generator's truth."""
    truth = read_true_labels(demo["readme"].parent)
    d = built["hgb"].dwellings.merge(truth, on="vbo_id", how="left")
    assert d["energielabel_waar"].notna().all()
    pbl = built["pbl"].dwellings.set_index("vbo_id").loc[d["vbo_id"], EFG].sum(axis=1)
    d = d.assign(waar=d["energielabel_waar"].isin(["E", "F", "G"]),
                 model=d[EFG].sum(axis=1), pbl=pbl.to_numpy())
    un = d[d["label_bron"] != "geregistreerd"]
    g = un.groupby("buurtcode").agg(n=("waar", "size"), waar=("waar", "mean"),
                                    model=("model", "mean"), pbl=("pbl", "mean"))
    g = g[g["n"] >= 10]
    assert len(g) >= 20
    mae_model = (g["waar"] - g["model"]).abs().mean()
    mae_pbl = (g["waar"] - g["pbl"]).abs().mean()
    assert mae_model < 0.6 * mae_pbl, (mae_model, mae_pbl)


def test_buurt_expected_counts(built: dict[str, BuildResult]) -> None:
    b = built["hgb"].buurten
    classes = [f"n_label_{x}_verwacht" for x in labels.CLASSES]
    np.testing.assert_allclose(b[classes].sum(axis=1), b["n_woningen"], rtol=1e-5)
    n = b["n_woningen"].where(b["n_woningen"] > 0)
    np.testing.assert_allclose(b["aandeel_label_efg"], b["n_label_efg_verwacht"] / n)
    assert (b["aandeel_label_efg_p05"] <= b["aandeel_label_efg"] + 1e-9).all()
    assert (b["aandeel_label_efg_p95"] >= b["aandeel_label_efg"] - 1e-9).all()
    assert (b["aandeel_label_efg_p95"] > b["aandeel_label_efg_p05"]).any()
    np.testing.assert_allclose(b["n_onder_b_verwacht"],
                               b[[f"n_label_{x}_verwacht" for x in "CDEFG"]].sum(axis=1))
    np.testing.assert_allclose(b["n_onder_c_verwacht"],
                               b[[f"n_label_{x}_verwacht" for x in "DEFG"]].sum(axis=1))
    assert (b["n_label_efg_verwacht_naoorlogs"] <= b["n_label_efg_verwacht"] + 1e-6).all()
    post = b["n_naoorlogs"] > 0
    assert (b.loc[post, "aandeel_label_efg_naoorlogs_p05"]
            <= b.loc[post, "aandeel_label_efg_verwacht_naoorlogs"] + 1e-9).all()
    np.testing.assert_allclose(b["aandeel_label_geschat"] + b["label_dekking"], 1.0)


def test_selection_bias_reported_and_reduced(built: dict[str, BuildResult]) -> None:
    sel = pd.read_csv(built["hgb"].out_dir / "label_selectie.csv")
    assert {"bouwjaar", "oppervlakte"} <= set(sel["kenmerk"])
    assert sel["smd_gewogen"].abs().max() < sel["smd"].abs().max()
    entry = built["hgb"].manifest["label_model"]
    assert entry["selectie_max_smd_gewogen"] < entry["selectie_max_smd"]


def test_no_registered_labels_falls_back_to_pbl(demo: dict[str, Path], tmp_path: Path) -> None:
    result = _build(demo, tmp_path / "o", with_labels=False)
    entry = json.loads((tmp_path / "o" / "manifest.json").read_text())["label_model"]
    assert entry["methode"] == "pbl" and "fewer than" in entry["reden"]
    d = result.dwellings
    assert (d["label_bron"] == "pbl").all()
    p = d[P_COLS].to_numpy(dtype=float)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert set(np.unique(p)) <= {0.0, 1.0}
    table = pd.read_csv(tmp_path / "o" / "label_model.csv").set_index("maat")
    assert table.loc["methode", "waarde"] == "pbl"


def test_features_never_see_the_own_label() -> None:
    rng = np.random.default_rng(3)
    n = 400
    d = pd.DataFrame({
        "bouwjaar": pd.array(rng.integers(1900, 2020, n), dtype="Int16"),
        "woningtype": pd.Categorical(rng.choice(["a", "b"], n)),
        "oppervlakte": rng.uniform(40, 150, n),
        "pand_id": rng.integers(0, 60, n).astype(str),
        "buurtcode": rng.choice(["B1", "B2", "B3"], n),
        "gemeentecode": "GM1"})
    cls = np.where(rng.random(n) < 0.6, rng.integers(0, 7, n), -1)
    kw = {"pbl_class": np.full(n, 3), "x": rng.uniform(0, 500, n), "y": rng.uniform(0, 500, n),
          "pand_oppervlak": np.full(n, 80.0), "pand_omtrek": np.full(n, 36.0), "radius_m": 100.0,
          "n_folds": 5, "smoothing": 10.0, "seed": 1}
    feats, fold = compute_label_features(d, label_class=cls, **kw)
    assert list(feats.columns) == list(FEATURES)
    i = int(np.flatnonzero(cls >= 0)[0])
    changed = cls.copy()
    changed[i] = 6 if cls[i] != 6 else 0
    again, _ = compute_label_features(d, label_class=changed, **kw)
    pd.testing.assert_series_equal(feats.iloc[i], again.iloc[i])
    # the rows of another encoding fold do see it
    other = (fold >= 0) & (fold != fold[i]) & (d["buurtcode"] == d["buurtcode"][i]).to_numpy()
    assert not np.allclose(feats.loc[other, "buurt_efg"], again.loc[other, "buurt_efg"])


def test_estimate_labels_switched_off() -> None:
    cfg = load_config(overrides=['labels.model="pbl"'])
    n = 5
    result = labels.estimate_labels(
        pd.DataFrame(), label_class=np.zeros(n, int), pbl_class=np.zeros(n, int),
        x=np.zeros(n), y=np.zeros(n), pand_oppervlak=np.zeros(n), pand_omtrek=np.zeros(n),
        config=cfg)
    assert result.methode == "pbl" and "labels.model" in result.reden
    assert default_config()["labels"]["model"] == "hgb"


def test_ep_online_keeps_validity_and_method(demo: dict[str, Path]) -> None:
    lab = read_ep_online(demo["labels"])
    assert pd.api.types.is_datetime64_any_dtype(lab["geldig_tot"])
    assert lab["geldig_tot"].notna().all()
    assert lab["berekeningstype"].str.startswith("NTA 8800").any()
    assert lab["berekeningstype"].isin(["NEN 7120", "ISSO 82.3"]).any()


def test_demo_truth_covers_every_dwelling(demo: dict[str, Path],
                                          built: dict[str, BuildResult]) -> None:
    truth = read_true_labels(demo["readme"].parent)
    assert set(truth["energielabel_waar"]) <= set(labels.CLASSES)
    assert set(built["hgb"].dwellings["vbo_id"]) <= set(truth["vbo_id"])


@pytest.mark.realdata
def test_real_sample_without_labels_builds(realdata: Path, tmp_path: Path) -> None:
    result = build(bag_path=realdata, buurten_path=realdata, out=tmp_path / "o", analyse=False)
    assert result.manifest["label_model"]["methode"] == "pbl"
    assert (tmp_path / "o" / "label_model.csv").is_file()
    np.testing.assert_allclose(result.dwellings[P_COLS].sum(axis=1), 1.0)
    assert result.buurten["aandeel_label_geschat"].eq(1.0).all()


def test_demo_truth_check(demo: dict[str, Path], built: dict[str, BuildResult]) -> None:
    """The figures the demo records in manifest["waarheid"]: the unlabelled dwellings' E/F/G
    shares, the interval's coverage and the registered labels' own staleness."""
    check = check_labels(built["hgb"].dwellings, built["hgb"].buurten,
                         read_true_labels(demo["readme"].parent))
    assert check["n_zonder_waarheid"] == 0 and check["onbekend_buurten"] >= 10
    assert abs(check["onbekend_bias_buurt_efg"]) < 0.04
    assert check["onbekend_mae_buurt_efg"] < 0.07
    # the interval describes registered labels as registered and estimated ones as drawn
    assert check["dekking_90_beschreven"] >= 0.75
    assert 0 <= check["dekking_90"] <= check["dekking_90_beschreven"] + 0.1
    # the generator renovates some homes after their registration: those labels are stale
    assert check["geregistreerd_anders_dan_waar"] > 0.02
    assert check["geregistreerd_efg"] > check["geregistreerd_efg_waar"]


def test_label_year_is_the_registration_year_and_now_for_the_unlabelled() -> None:
    geldig = np.array(["2031-01-01", "NaT", "2033-07-02"], dtype="datetime64[ns]")
    years = _registration_year(geldig)
    assert years[0] == pytest.approx(2021.0, abs=0.01)
    assert np.isnan(years[1]) and years[2] == pytest.approx(2023.5, abs=0.01)
    n = 6
    frame = pd.DataFrame({"bouwjaar": pd.array([1960] * n, dtype="Int16"),
                          "woningtype": pd.Categorical(["tussen"] * n),
                          "oppervlakte": np.full(n, 90.0), "pand_id": list("aabbcc"),
                          "buurtcode": ["B1"] * n, "gemeentecode": ["G1"] * n})
    label_class = np.array([3, -1, 5, -1, 2, -1])
    jaar = np.array([2015.5, np.nan, 2022.25, np.nan, 2019.0, np.nan])
    feats, _ = compute_label_features(
        frame, label_class=label_class, pbl_class=np.full(n, 3), x=np.zeros(n),
        y=np.zeros(n), pand_oppervlak=np.full(n, 60.0), pand_omtrek=np.full(n, 32.0),
        radius_m=100.0, n_folds=2, smoothing=1.0, seed=1, label_jaar=jaar)
    np.testing.assert_allclose(feats["label_jaar"], [2015.5, 2022.25, 2022.25, 2022.25,
                                                     2019.0, 2022.25])
    feats, _ = compute_label_features(
        frame, label_class=label_class, pbl_class=np.full(n, 3), x=np.zeros(n),
        y=np.zeros(n), pand_oppervlak=np.full(n, 60.0), pand_omtrek=np.full(n, 32.0),
        radius_m=100.0, n_folds=2, smoothing=1.0, seed=1)
    # unknown everywhere: a constant the model ignores (scikit-learn cannot bin all-NaN)
    assert (feats["label_jaar"] == 0).all()


def test_estimate_without_label_dates_or_footprints() -> None:
    """A feature unknown for every dwelling (no GeldigTot, no footprints) must not break the
    fit: scikit-learn cannot bin an all-NaN column (found by the 10 M benchmark)."""
    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame({"bouwjaar": pd.array(rng.integers(1920, 2020, n), dtype="Int16"),
                          "woningtype": pd.Categorical(rng.choice(["a", "b"], n)),
                          "oppervlakte": rng.uniform(50, 150, n),
                          "pand_id": (np.arange(n) // 3).astype(str),
                          "buurtcode": (np.arange(n) // 150).astype(str),
                          "gemeentecode": ["G1"] * n})
    truth = np.clip(((2020 - frame["bouwjaar"].to_numpy(dtype=float)) / 16).astype(int), 0, 6)
    label_class = np.where(rng.random(n) < 0.5, truth, -1)
    result = labels.estimate_labels(
        frame, label_class=label_class, pbl_class=np.full(n, 3), x=rng.uniform(0, 5000, n),
        y=rng.uniform(0, 5000, n), pand_oppervlak=np.full(n, np.nan),
        pand_omtrek=np.full(n, np.nan), config=default_config(), label_jaar=None)
    assert result.methode == "model", result.reden
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, rtol=1e-5)
