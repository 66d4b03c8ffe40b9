"""Energy labels where none is registered: a label model fitted and validated in the build.

About half of the Dutch dwellings have a registered EP-Online label; the other half decides
the picture. The single PBL Vesta default label of a woningtype × build period is a poor
stand-in (in the demo it equals the registered label for a fifth of the post-war homes), so
every build fits a model on the registered labels of the area it builds and estimates a
probability for each class A … G ("A" holds A and every A+ class) for every dwelling without
one.

Model
    One scikit-learn :class:`~sklearn.pipeline.Pipeline` around a
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (multinomial, seeded), fitted
    on all gemeenten of the run at once, with area features (buurt and gemeente label shares)
    rather than a hierarchy of separate fits: one model borrows strength across buurten with
    few labels, handles missing values (no build year, no footprint, no neighbours) natively,
    captures the interactions of build year × type × neighbourhood that a linear model
    misses, and fits 10⁵ rows in seconds. The features are in
    :mod:`woonvoorraad.stock._label_features`. Training rows are subsampled to
    ``max_train`` (seeded) for scale.

Selection bias
    Registered labels over-represent new, rented-out and sold homes. A second, binary
    gradient-boosting classifier (labelled vs not, on the dwelling and building features)
    gives each labelled dwelling the weight ``P(unlabelled | x) / P(labelled | x)`` (clipped
    to ``[1/gewicht_max, gewicht_max]``, normalised to mean 1): the model is fitted as if
    the labelled dwellings looked like the unlabelled ones (importance weighting, covariate
    shift). The standardised mean difference of each feature before and after weighting is
    written to ``label_selectie.csv``. Weighting cannot correct what the features do not see
    (a renovated home that was labelled *because* it was renovated).

Validation (always on)
    :class:`~sklearn.model_selection.GroupKFold` with the buurt as group (so a pand's units
    stay together and no held-out buurt's label pattern is learned) on the registered
    labels: accuracy, log loss, multiclass Brier score and the mean absolute error of the
    per-buurt E/F/G shares of the held-out dwellings, each beside the PBL default-label
    baseline. The baseline is one-hot on the default label for accuracy and the buurt shares;
    for log loss and Brier it is smoothed (``1 - pbl_spreiding`` on the default, the rest
    spread evenly over the other six classes), because a one-hot has infinite log loss on
    every miss. Dwellings without a default (unknown type or year) get a uniform baseline.
    The model is used only when it beats the baseline on log loss *and* per-buurt E/F/G
    error, and when at least ``min_geregistreerd`` labels exist; otherwise the build falls
    back to the PBL defaults and says why.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.config import Config
from woonvoorraad.stock._label_features import FEATURES, INTRINSIC, compute_label_features

logger = logging.getLogger(__name__)

#: The seven classes of the model; "A" aggregates A and every A+ class.
CLASSES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G")
P_COLUMNS: tuple[str, ...] = tuple(f"p_label_{c}" for c in CLASSES)
#: Class index of E (E, F and G are the "poor" labels).
EFG_FROM = 4


def class_from_codes(codes: np.ndarray) -> np.ndarray:
    """Class index 0 … 6 from :data:`woonvoorraad.sources.eponline.LABEL_DTYPE` codes.

    Examples
    --------
    >>> class_from_codes(np.array([0, 5, 6, 11, -1])).tolist()
    [0, 0, 1, 6, -1]
    """
    codes = np.asarray(codes, dtype=np.int64)
    return np.where(codes < 0, -1, np.clip(codes - 5, 0, None))


def one_hot(classes: np.ndarray) -> np.ndarray:
    """Probability rows (float32) that put 1 on the class; NaN rows for -1."""
    out = np.zeros((len(classes), len(CLASSES)), dtype=np.float32)
    ok = classes >= 0
    out[np.flatnonzero(ok), classes[ok]] = 1.0
    out[~ok] = np.nan
    return out


#: Columns of ``label_selectie.csv`` (written with its header also when it has no rows).
SELECTIE_COLUMNS = ["kenmerk", "gemiddelde_met_label", "gemiddelde_zonder_label", "smd",
                    "gemiddelde_met_label_gewogen", "smd_gewogen"]


def _empty_selection() -> pd.DataFrame:
    return pd.DataFrame(columns=SELECTIE_COLUMNS)


@dataclass
class LabelModelResult:
    """What the label model did: the decision, its validation and the selection table."""

    methode: str
    reden: str | None
    probabilities: np.ndarray | None = None  # rows of the unlabelled dwellings (model only)
    metrics: dict[str, Any] = field(default_factory=dict)
    selectie: pd.DataFrame = field(default_factory=_empty_selection)
    info: dict[str, Any] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """The entry ``manifest["label_model"]``."""
        sel = self.selectie
        return {"methode": self.methode, "reden": self.reden, **self.info,
                "validatie": self.metrics,
                "selectie_max_smd": (None if sel.empty else
                                     round(float(sel["smd"].abs().max()), 3)),
                "selectie_max_smd_gewogen": (None if sel.empty else
                                             round(float(sel["smd_gewogen"].abs().max()), 3))}

    def table(self) -> pd.DataFrame:
        """``label_model.csv``: one row per metric (model beside the PBL baseline), then the
        run's facts (``waarde``)."""
        rows = []
        for name in ("nauwkeurigheid", "log_loss", "brier", "mae_buurt_efg"):
            m = self.metrics.get(name) or {}
            rows.append({"maat": name, "model": m.get("model"), "pbl_standaard": m.get("pbl"),
                         "waarde": None})
        facts = {"methode": self.methode, "reden": self.reden or "",
                 **{k: v for k, v in self.info.items() if not isinstance(v, dict)},
                 **{k: v for k, v in self.metrics.items() if not isinstance(v, dict)}}
        for name, value in facts.items():
            rows.append({"maat": name, "model": None, "pbl_standaard": None,
                         "waarde": "" if value is None else str(value)})
        return pd.DataFrame(rows, columns=["maat", "model", "pbl_standaard", "waarde"])


def _baseline(pbl_class: np.ndarray, spread: float) -> np.ndarray:
    """Smoothed PBL default probabilities (uniform where no default exists)."""
    k = len(CLASSES)
    out = np.full((len(pbl_class), k), spread / (k - 1))
    ok = pbl_class >= 0
    out[np.flatnonzero(ok), pbl_class[ok]] = 1.0 - spread
    out[~ok] = 1.0 / k
    return out


def _scores(prob: np.ndarray, truth: np.ndarray, buurt: np.ndarray, *, hard_efg: np.ndarray,
            min_buurt: int) -> dict[str, float]:
    """Accuracy, log loss, Brier score and per-buurt E/F/G share error of ``prob``."""
    k = len(CLASSES)
    onehot = np.zeros((len(truth), k))
    onehot[np.arange(len(truth)), truth] = 1.0
    p = np.clip(prob, 1e-15, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    codes, uniques = pd.factorize(pd.Series(buurt, dtype=object))
    ok = codes >= 0
    n_b = np.bincount(codes[ok], minlength=len(uniques))
    true_b = np.bincount(codes[ok], weights=(truth[ok] >= EFG_FROM), minlength=len(uniques))
    est_b = np.bincount(codes[ok], weights=hard_efg[ok], minlength=len(uniques))
    use = n_b >= min_buurt
    mae = (float(np.mean(np.abs(true_b[use] - est_b[use]) / n_b[use])) if use.any()
           else float("nan"))
    return {"nauwkeurigheid": float(np.mean(prob.argmax(axis=1) == truth)),
            "log_loss": float(-np.mean(np.log(p[np.arange(len(truth)), truth]))),
            "brier": float(np.mean(np.sum((prob - onehot) ** 2, axis=1))),
            "mae_buurt_efg": mae, "n_buurten": int(use.sum())}


def _classifier(lc: dict[str, Any], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    cat = np.array([name == "woningtype" for name in FEATURES])
    return Pipeline([("model", HistGradientBoostingClassifier(
        max_iter=int(lc["max_iter"]), learning_rate=float(lc["learning_rate"]),
        max_leaf_nodes=int(lc["max_leaf_nodes"]), min_samples_leaf=int(lc["min_samples_leaf"]),
        l2_regularization=1.0, categorical_features=cat, early_stopping=False,
        random_state=seed))])


def _predict(model: Any, x: pd.DataFrame, chunk: int = 1_000_000) -> np.ndarray:
    """Class probabilities in the order of :data:`CLASSES` (0 for a class never seen)."""
    out = np.zeros((len(x), len(CLASSES)), dtype=np.float32)
    seen = np.asarray(model.classes_, dtype=np.int64)
    for lo in range(0, len(x), chunk):
        out[lo:lo + chunk][:, seen] = model.predict_proba(x.iloc[lo:lo + chunk])
    return out


def _selection_weights(feats: pd.DataFrame, reg: np.ndarray, lc: dict[str, Any], seed: int,
                       sample: np.ndarray) -> np.ndarray:
    """Importance weights P(unlabelled|x)/P(labelled|x) of the labelled rows ``sample``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if reg.all() or not reg.any():
        return np.ones(len(sample))
    rng = np.random.default_rng(seed + 1)
    n_max = int(lc["max_train"])
    rows = np.flatnonzero(np.ones(len(reg), dtype=bool))
    if len(rows) > n_max:
        rows = np.sort(rng.choice(rows, n_max, replace=False))
    x = feats[list(INTRINSIC)]
    cat = np.array([name == "woningtype" for name in INTRINSIC])
    clf = HistGradientBoostingClassifier(max_iter=50, max_leaf_nodes=15, min_samples_leaf=100,
                                         categorical_features=cat, early_stopping=False,
                                         random_state=seed)
    clf.fit(x.iloc[rows], reg[rows].astype(int))
    p_lab = np.clip(clf.predict_proba(x.iloc[sample])[:, 1], 1e-6, 1 - 1e-6)
    prior = reg.mean() / (1 - reg.mean())
    w = (1 - p_lab) / p_lab * prior
    cap = float(lc["gewicht_max"])
    w = np.clip(w, 1 / cap, cap)
    return w / w.mean()


def _selection_table(feats: pd.DataFrame, reg: np.ndarray, rows: np.ndarray,
                     weights: np.ndarray) -> pd.DataFrame:
    """Standardised mean differences labelled vs unlabelled, before and after weighting."""
    if reg.all() or not reg.any():
        return _empty_selection()
    cols: dict[str, np.ndarray] = {}
    for name in INTRINSIC:
        v = feats[name].to_numpy(dtype=float)
        if name == "woningtype":
            for code in np.unique(v[np.isfinite(v)]).astype(int):
                cols[f"woningtype_{code}"] = (v == code).astype(float)
        else:
            cols[name] = v
    out = []
    for name, v in cols.items():
        lab, unl = v[rows], v[~reg]
        ok_l, ok_u = np.isfinite(lab), np.isfinite(unl)
        if ok_l.sum() < 2 or ok_u.sum() < 2:
            continue
        m_l, m_u = lab[ok_l].mean(), unl[ok_u].mean()
        sd = np.sqrt((lab[ok_l].var() + unl[ok_u].var()) / 2) or np.nan
        m_w = np.average(lab[ok_l], weights=weights[ok_l])
        out.append({"kenmerk": name, "gemiddelde_met_label": m_l, "gemiddelde_zonder_label": m_u,
                    "smd": (m_l - m_u) / sd, "gemiddelde_met_label_gewogen": m_w,
                    "smd_gewogen": (m_w - m_u) / sd})
    return pd.DataFrame(out, columns=SELECTIE_COLUMNS)


def estimate_labels(
    dwellings: pd.DataFrame,
    *,
    label_class: np.ndarray,
    pbl_class: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    pand_oppervlak: np.ndarray,
    pand_omtrek: np.ndarray,
    config: Config,
    label_jaar: np.ndarray | None = None,
) -> LabelModelResult:
    """Fit, validate and apply the label model (see the module notes).

    Parameters
    ----------
    dwellings
        The dwelling table so far (``bouwjaar``, ``woningtype``, ``oppervlakte``,
        ``pand_id``, ``buurtcode``, ``gemeentecode``).
    label_class
        Registered class index per dwelling (:func:`class_from_codes`), -1 when none.
    pbl_class
        PBL default class index per dwelling, -1 when none.
    x, y, pand_oppervlak, pand_omtrek
        Location and main-pand footprint area and perimeter (NaN when unknown).
    config
        Effective configuration (``[labels]``).
    label_jaar
        Registration year of each registered label (NaN when none; see
        :data:`woonvoorraad.stock._label_features.TIME`), or None.

    Returns
    -------
    LabelModelResult
        With ``probabilities`` for the dwellings without a registered label (in their
        order) when the model is used; ``methode`` ``"pbl"`` and ``reden`` otherwise.
    """
    lc = config["labels"]
    kw = {"label_class": label_class, "pbl_class": pbl_class, "x": x, "y": y,
          "pand_oppervlak": pand_oppervlak, "pand_omtrek": pand_omtrek, "config": config,
          "label_jaar": label_jaar if lc.get("label_jaar", True) else None}
    if lc["model"] != "hgb" or int((label_class >= 0).sum()) < int(lc["min_geregistreerd"]):
        return _estimate(dwellings, **kw)  # the PBL fallback: no model, no sklearn import
    import sklearn.ensemble  # noqa: F401  (loads OpenMP, so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(lc["threads"]) or None, user_api="openmp"):
        return _estimate(dwellings, **kw)


def _estimate(dwellings: pd.DataFrame, *, label_class: np.ndarray, pbl_class: np.ndarray,
              x: np.ndarray, y: np.ndarray, pand_oppervlak: np.ndarray,
              pand_omtrek: np.ndarray, config: Config,
              label_jaar: np.ndarray | None = None) -> LabelModelResult:
    started = time.perf_counter()
    lc = config["labels"]
    seed = int(lc["seed"])
    reg = label_class >= 0
    n_reg, n = int(reg.sum()), len(reg)
    info: dict[str, Any] = {"n_woningen": n, "n_geregistreerd": n_reg,
                            "n_zonder_label": n - n_reg}
    if lc["model"] != "hgb":
        info["reden_nl"] = f"het labelmodel staat uit (labels.model = {lc['model']!r})"
        return LabelModelResult("pbl", f"labels.model = {lc['model']!r}: PBL default labels",
                                info=info)
    if n_reg < int(lc["min_geregistreerd"]):
        info["reden_nl"] = (f"{n_reg} geregistreerde labels, minder dan de "
                            f"{lc['min_geregistreerd']} die het model nodig heeft")
        return LabelModelResult(
            "pbl", f"{n_reg} registered labels, fewer than labels.min_geregistreerd = "
            f"{lc['min_geregistreerd']}: PBL default labels", info=info)
    feats, _ = compute_label_features(
        dwellings, label_class=label_class, pbl_class=pbl_class, x=x, y=y,
        pand_oppervlak=pand_oppervlak, pand_omtrek=pand_omtrek, radius_m=float(lc["straal_m"]),
        n_folds=int(lc["folds"]), smoothing=float(lc["smoothing"]), seed=seed,
        label_jaar=label_jaar)
    info["seconden_alleen_kenmerken"] = round(time.perf_counter() - started, 2)
    rng = np.random.default_rng(seed)
    reg_rows = np.flatnonzero(reg)
    train = reg_rows
    if len(train) > int(lc["max_train"]):
        train = np.sort(rng.choice(reg_rows, int(lc["max_train"]), replace=False))
    weights = (_selection_weights(feats, reg, lc, seed, train) if lc["weging"]
               else np.ones(len(train)))
    selectie = _selection_table(feats, reg, train, weights)
    t_feat = time.perf_counter() - started

    # validation: grouped by buurt, on (a sample of) the registered labels
    from sklearn.model_selection import GroupKFold

    val = train
    if len(val) > int(lc["max_validatie"]):
        val = np.sort(rng.choice(train, int(lc["max_validatie"]), replace=False))
    buurt = dwellings["buurtcode"].astype(object).to_numpy()
    groups = pd.Series(buurt[val]).fillna("").to_numpy()
    n_groups = len(pd.unique(groups))
    folds = min(int(lc["folds"]), n_groups)
    info.update({"folds": folds, "n_train": len(train), "n_validatie": len(val),
                 "n_kenmerken": len(FEATURES)})
    if folds < 2:
        info["reden_nl"] = ("geregistreerde labels in minder dan twee buurten: het model is niet "
                            "te toetsen")
        return LabelModelResult("pbl", "registered labels in fewer than two buurten: the "
                                "model cannot be validated; PBL default labels", info=info,
                                selectie=selectie)
    w_val = pd.Series(weights, index=train).reindex(val).to_numpy()
    x_val = feats.iloc[val]
    truth = label_class[val]
    oof = np.zeros((len(val), len(CLASSES)), dtype=np.float32)
    for fit_idx, test_idx in GroupKFold(n_splits=folds).split(x_val, truth, groups):
        model = _classifier(lc, seed)
        model.fit(x_val.iloc[fit_idx], truth[fit_idx], model__sample_weight=w_val[fit_idx])
        oof[test_idx] = _predict(model, x_val.iloc[test_idx])
    min_b = int(lc["min_buurt_labels"])
    m = _scores(oof, truth, groups, hard_efg=oof[:, EFG_FROM:].sum(axis=1), min_buurt=min_b)
    pbl_val = pbl_class[val]
    b = _scores(_baseline(pbl_val, float(lc["pbl_spreiding"])), truth, groups,
                hard_efg=(pbl_val >= EFG_FROM).astype(float), min_buurt=min_b)
    b["nauwkeurigheid"] = float(np.mean(pbl_val == truth))
    metrics: dict[str, Any] = {
        name: {"model": round(m[name], 4), "pbl": round(b[name], 4)}
        for name in ("nauwkeurigheid", "log_loss", "brier", "mae_buurt_efg")}
    metrics["n_buurten_mae"] = m["n_buurten"]
    t_val = time.perf_counter() - started - t_feat

    beats_ll = m["log_loss"] < b["log_loss"]
    beats_mae = not np.isfinite(b["mae_buurt_efg"]) or m["mae_buurt_efg"] < b["mae_buurt_efg"]
    if not (beats_ll and beats_mae):
        worse = [name for name, ok in (("log loss", beats_ll),
                                       ("per-buurt E/F/G error", beats_mae)) if not ok]
        info["seconden"] = round(time.perf_counter() - started, 2)
        info["reden_nl"] = ("het model is in de kruisvalidatie niet beter dan de "
                            "PBL-standaardlabels op " + " en ".join({"log loss": "log loss",
                                                  "per-buurt E/F/G error": "de fout in het "
                                                  "E/F/G-aandeel per buurt"}[w] for w in worse))
        return LabelModelResult(
            "pbl", f"the model does not beat the PBL default labels on {' and '.join(worse)} "
            "in grouped cross-validation: PBL default labels", metrics=metrics,
            selectie=selectie, info=info)

    t0 = time.perf_counter()
    model = _classifier(lc, seed)
    model.fit(feats.iloc[train], label_class[train], model__sample_weight=weights)
    t1 = time.perf_counter()
    from threadpoolctl import threadpool_limits

    # one long parallel loop per tree: all cores pay off (``threads_voorspelling``)
    # (an explicit count: ``None`` would keep the outer limit of ``threads``)
    with threadpool_limits(limits=int(lc.get("threads_voorspelling", 0)) or os.cpu_count(),
                           user_api="openmp"):
        prob = _predict(model, feats.iloc[np.flatnonzero(~reg)])
    prob /= prob.sum(axis=1, keepdims=True)
    info.update({"seconden_kenmerken": round(t_feat, 2), "seconden_validatie": round(t_val, 2),
                 "seconden_fit": round(t1 - t0, 2),
                 "seconden_voorspelling": round(time.perf_counter() - t1, 2),
                 "seconden": round(time.perf_counter() - started, 2)})
    logger.info("label model: %d registered labels, validated on %d in %d buurt folds: log "
                "loss %.3f (PBL %.3f), per-buurt E/F/G error %.3f (PBL %.3f); estimates for %d "
                "dwellings", n_reg, len(val), folds, m["log_loss"], b["log_loss"],
                m["mae_buurt_efg"], b["mae_buurt_efg"], n - n_reg)
    return LabelModelResult("model", None, probabilities=prob, metrics=metrics,
                            selectie=selectie, info=info)
