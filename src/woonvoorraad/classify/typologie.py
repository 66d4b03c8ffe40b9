"""Buurt typology with scikit-learn: one fitted Pipeline, diagnostics and Dutch cluster names.

The typology follows geosnap's ``cluster``/``find_k``/``ModelResults`` shape (research notes
A2), with these differences:

* one :class:`~sklearn.pipeline.Pipeline` ``impute → scale → model`` is fitted once and its
  fitted transform is reused for every diagnostic (no refitting of the scaler);
* no silent row drops: buurten with too few dwellings or too many missing features are
  excluded *with a reason*; the remaining gaps are imputed (median) and listed per buurt;
* no silent switch of algorithm: KMeans stays KMeans at 14,500 buurten, and Ward (O(n²)
  memory) is refused above ``typologie.ward_max_n`` with an error saying why;
* k is chosen from a table of silhouette, Calinski–Harabasz, Davies–Bouldin, BIC and the
  adjusted Rand index between seeds, which is kept;
* clusters are numbered stably (descending centroid on ``volgorde_kenmerk``, ties broken by
  the other features, then size) and named in Dutch from their z-scored centroids.

Rows are sorted by ``buurtcode`` before fitting, so the result does not depend on row order.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from woonvoorraad.classify.scores import add_expected_label_shares
from woonvoorraad.errors import ConfigError, InputError

logger = logging.getLogger(__name__)


class TypologieNietMogelijkError(InputError):
    """The inputs are too small for a typology (too few buurten or features with values)."""

METHODES: tuple[str, ...] = ("kmeans", "gmm", "ward")
CRITERIA: tuple[str, ...] = ("silhouette", "calinski_harabasz", "davies_bouldin", "bic")
_HIGHER_IS_BETTER = {"silhouette": True, "calinski_harabasz": True,
                     "davies_bouldin": False, "bic": False}

#: Dutch words for a high and a low centroid per feature (unknown features: "hoog/laag <naam>").
#: Each must read unambiguously on its own in a name: "jonge bewoners" (age of the residents)
#: versus "jonge bebouwing" (build year); "WOZ onder gemeentemediaan" (relative) versus
#: "lage WOZ-waarde" (absolute).
WOORDEN: dict[str, tuple[str, str]] = {
    "aandeel_naoorlogs": ("veel naoorlogse woningen", "weinig naoorlogse woningen"),
    "aandeel_koop": ("veel koop", "veel huur"),
    "aandeel_huur": ("veel huur", "veel koop"),
    "aandeel_corporatie": ("veel corporatiebezit", "weinig corporatiebezit"),
    # about the residents, not the buildings (see mediaan_bouwjaar)
    "aandeel_65plus": ("vergrijsd", "jonge bewoners"),
    "trend_65plus": ("snel vergrijzend", "weinig vergrijzing"),
    "woz_gemiddeld": ("hoge WOZ-waarde", "lage WOZ-waarde"),
    "woz_t_o_v_mediaan": ("WOZ boven gemeentemediaan", "WOZ onder gemeentemediaan"),
    "aandeel_label_efg": ("veel E–G-labels", "weinig E–G-labels"),
    "aandeel_label_efg_verwacht": ("veel E–G-labels", "weinig E–G-labels"),
    "aandeel_label_efg_verwacht_naoorlogs": ("veel naoorlogse E–G-labels",
                                             "weinig naoorlogse E–G-labels"),
    "aandeel_eengezins_voor_1975": ("veel eengezinswoningen van voor 1975",
                                    "weinig eengezinswoningen van voor 1975"),
    "gemiddelde_huishoudsgrootte": ("grote huishoudens", "kleine huishoudens"),
    "inkomen_per_inwoner": ("hoge inkomens", "lage inkomens"),
    "inkomen_huishouden_geschat": ("hoge huishoudinkomens", "lage huishoudinkomens"),
    "inkomen_eigenaren_geschat": ("eigenaren met hoge inkomens", "eigenaren met lage inkomens"),
    "aandeel_eigenaren_onder_daeb": ("veel eigenaren onder de DAEB-grens",
                                     "weinig eigenaren onder de DAEB-grens"),
    "aandeel_laag_inkomen": ("veel lage inkomens", "weinig lage inkomens"),
    "gasverbruik_gemiddeld": ("hoog gasverbruik", "laag gasverbruik"),
    "trend_huishoudens": ("groeiend aantal huishoudens", "krimpend aantal huishoudens"),
    "trend_inwoners": ("groeiende bevolking", "krimpende bevolking"),
    "aandeel_doelgroep": ("grote Regio Deal-doelgroep", "kleine Regio Deal-doelgroep"),
    "aandeel_doelgroep_naoorlogs": ("grote Regio Deal-doelgroep", "kleine Regio Deal-doelgroep"),
    # about the buildings, not the residents (see aandeel_65plus)
    "mediaan_bouwjaar": ("jonge bebouwing", "oude bebouwing"),
    "gemiddelde_oppervlakte": ("grote woningen", "kleine woningen"),
}


@dataclass
class TypologieResultaat:
    """A fitted buurt typology.

    Attributes
    ----------
    methode, k, seed, kenmerken
        Model, number of clusters, seed and features used.
    pipeline
        The fitted ``Pipeline([("impute", ...), ("scale", ...), ("model", ...)])``.
    labels
        Cluster number 1..k per buurt (index ``buurtcode``), in the stable order.
    namen
        Dutch name per cluster number.
    silhouette
        Silhouette value per buurt (all buurten, not a sample).
    volgende_cluster
        Next-best cluster per buurt: the nearest other cluster centroid in the scaled space.
    geimputeerd
        Per buurt the comma-joined features that were imputed ("" when none).
    k_tabel
        Per k: ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``, ``bic``, ``ari_seeds``,
        ``geldig``, ``opmerking``, ``gekozen``.
    profielen
        Per cluster: ``cluster``, ``naam``, ``n_buurten``, ``n_woningen``, ``silhouette``, and
        per feature the mean (``<kenmerk>``) and the z-score mean (``<kenmerk>_z``).
    imputatie
        Per feature: ``n_ontbrekend`` and ``imputatiewaarde``.
    uitgesloten
        ``buurtcode``, ``reden`` of the buurten left out.
    notities
        Remarks (convergence, constant features, silhouette sample, ...).
    """

    methode: str
    k: int
    seed: int
    kenmerken: list[str]
    pipeline: Pipeline
    labels: pd.Series
    namen: dict[int, str]
    silhouette: pd.Series
    volgende_cluster: pd.Series
    geimputeerd: pd.Series
    k_tabel: pd.DataFrame
    profielen: pd.DataFrame
    imputatie: pd.DataFrame
    uitgesloten: pd.DataFrame
    notities: list[str] = field(default_factory=list)

    @classmethod
    def niet_mogelijk(cls, buurtcodes: pd.Index, *, methode: str, seed: int,
                      kenmerken: list[str], reden: str) -> TypologieResultaat:
        """A result for inputs too small to cluster: no clusters, every buurt listed as excluded.

        A single small gemeente (a handful of buurten) can still be analysed; only the typology
        is then left out, and the reason is recorded instead of failing the whole run.
        """
        empty = pd.Series(dtype="Int64", index=pd.Index([], name="buurtcode"))
        return cls(
            methode=methode, k=0, seed=seed, kenmerken=kenmerken, pipeline=None,  # type: ignore[arg-type]
            labels=empty, namen={}, silhouette=empty.astype(float),
            volgende_cluster=empty, geimputeerd=empty.astype(object),
            k_tabel=pd.DataFrame(columns=["k", "silhouette", "calinski_harabasz",
                                          "davies_bouldin", "bic", "ari_seeds", "geldig",
                                          "opmerking", "gekozen"]),
            profielen=pd.DataFrame(columns=["cluster", "naam", "n_buurten", "n_woningen",
                                            "silhouette"]),
            imputatie=pd.DataFrame(columns=["kenmerk", "n_ontbrekend", "imputatiewaarde"]),
            uitgesloten=pd.DataFrame({"buurtcode": list(buurtcodes),
                                      "reden": [f"typologie niet mogelijk: {reden}"]
                                      * len(buurtcodes)}),
            notities=[f"typologie niet mogelijk: {reden}"],
        )

    @property
    def silhouette_gemiddeld(self) -> float:
        """Mean silhouette over all clustered buurten."""
        return float(self.silhouette.mean()) if len(self.silhouette) else float("nan")

    def buurt_tabel(self) -> pd.DataFrame:
        """Per clustered buurt: cluster, name, silhouette, next-best cluster, imputed features."""
        out = pd.DataFrame({
            "buurtcode": self.labels.index.to_numpy(),
            "typologie_cluster": self.labels.to_numpy(),
            "typologie_naam": self.labels.map(self.namen).to_numpy(),
            "typologie_silhouette": self.silhouette.reindex(self.labels.index).to_numpy(),
            "typologie_volgende": self.volgende_cluster.reindex(self.labels.index).to_numpy(),
        })
        out["typologie_volgende_naam"] = out["typologie_volgende"].map(self.namen)
        out["typologie_geimputeerd"] = self.geimputeerd.reindex(self.labels.index).to_numpy()
        return out


def make_pipeline(
    methode: str,
    k: int,
    *,
    seed: int,
    n_init: int = 10,
    gmm_n_init: int = 3,
    gmm_covariance: str = "full",
    max_iter: int = 500,
    indicator: bool = False,
) -> Pipeline:
    """Build the (unfitted) typology pipeline.

    Examples
    --------
    >>> make_pipeline("kmeans", 4, seed=1).named_steps["model"].n_clusters
    4
    """
    if methode == "kmeans":
        model: Any = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=seed)
    elif methode == "gmm":
        model = GaussianMixture(n_components=k, covariance_type=gmm_covariance,
                                n_init=gmm_n_init, max_iter=max_iter, random_state=seed)
    elif methode == "ward":
        model = AgglomerativeClustering(n_clusters=k, linkage="ward")
    else:
        raise ConfigError(f"typologie.methode must be one of {METHODES}, got {methode!r}")
    return Pipeline([
        ("impute", SimpleImputer(strategy="median", add_indicator=indicator)),
        ("scale", StandardScaler()),
        ("model", model),
    ])


def _fit_predict(pipe: Pipeline, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Fit and predict, turning sklearn ConvergenceWarnings into remarks; others pass on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = pipe.fit_predict(X)
    remarks = []
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            remarks.append(str(w.message).strip())
        else:  # not ours to handle: re-emit unchanged
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return np.asarray(labels), remarks


def bic_hard_partition(Xs: np.ndarray, labels: np.ndarray) -> float:
    """BIC of a hard partition under a spherical Gaussian mixture with one shared variance.

    ``ll = Σ_c n_c log(n_c/n) − n·d/2·log(2πσ²) − n·d/2`` with the MLE ``σ² = SSE/(n·d)``;
    parameters ``(k−1) + k·d + 1``; ``BIC = −2·ll + p·log n`` (lower is better), the X-means
    criterion of Pelleg & Moore (2000). Used for KMeans and Ward; GaussianMixture uses its own
    :meth:`~sklearn.mixture.GaussianMixture.bic`.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> bic_hard_partition(X, np.array([0, 0, 1, 1])) < bic_hard_partition(X, np.zeros(4, int))
    True
    """
    n, d = Xs.shape
    ks, counts = np.unique(labels, return_counts=True)
    sse = 0.0
    for lab in ks:
        part = Xs[labels == lab]
        sse += float(((part - part.mean(axis=0)) ** 2).sum())
    sigma2 = max(sse / (n * d), 1e-12)
    ll = float((counts * np.log(counts / n)).sum()) - n * d / 2 * np.log(2 * np.pi * sigma2) \
        - n * d / 2
    p = (len(ks) - 1) + len(ks) * d + 1
    return float(-2 * ll + p * np.log(n))


def _centroids(Xs: np.ndarray, labels: np.ndarray, ks: Sequence[int]) -> np.ndarray:
    return np.vstack([Xs[labels == c].mean(axis=0) for c in ks])


def _kies_k(tabel: pd.DataFrame, criterium: str) -> int:
    valid = tabel[tabel["geldig"]]
    if valid.empty:
        raise InputError("typology: no k in the range gave a valid clustering "
                         f"(see remarks: {tabel['opmerking'].tolist()})")
    if criterium != "stemming":
        if criterium not in CRITERIA:
            raise ConfigError(f"typologie.k_criterium must be 'stemming' or one of {CRITERIA}")
        col = valid[criterium]
        if col.isna().all():
            raise ConfigError(f"typologie.k_criterium={criterium!r} is not available "
                              "for this method/data")
        best = col.max() if _HIGHER_IS_BETTER[criterium] else col.min()
        return int(valid.loc[col == best, "k"].min())
    ranks = []
    for crit in CRITERIA:
        col = valid[crit]
        if col.notna().any():
            ranks.append(col.rank(ascending=not _HIGHER_IS_BETTER[crit], method="min"))
    mean_rank = pd.concat(ranks, axis=1).mean(axis=1)
    best = mean_rank.min()
    return int(valid.loc[mean_rank == best, "k"].min())


def _cluster_order(z: pd.DataFrame, sizes: pd.Series, first_code: pd.Series,
                   volgorde: str) -> list[int]:
    """Old labels in their new order (stable, deterministic)."""
    cols = [volgorde] + [c for c in z.columns if c != volgorde]
    keys = pd.DataFrame({f"k{i}": -z[c].round(9) for i, c in enumerate(cols)})
    keys["size"] = -sizes
    keys["code"] = first_code
    return list(keys.sort_values(list(keys.columns), kind="mergesort").index)


def _descriptor(feature: str, z: float) -> str:
    hoog, laag = WOORDEN.get(feature, (f"hoog {feature}", f"laag {feature}"))
    return hoog if z > 0 else laag


def name_clusters(z: pd.DataFrame, *, drempel: float = 0.5, max_kenmerken: int = 3) -> dict:
    """Dutch names from z-scored centroids (index: cluster number; columns: features).

    The head is a period adjective ("naoorlogse" when ``aandeel_naoorlogs`` is high) and a
    tenure noun ("koopwijk", "huurwijk", "gemengde wijk"; "wijk" without ``aandeel_koop``);
    then up to ``max_kenmerken`` other features whose |z| ≥ ``drempel``, most extreme first.
    Duplicate names get more features, and as a last resort "(type n)".

    Examples
    --------
    >>> z = pd.DataFrame({"aandeel_naoorlogs": [1.2, -0.8], "aandeel_koop": [0.9, -1.0],
    ...                   "aandeel_65plus": [0.7, -0.2], "woz_gemiddeld": [-1.1, 0.6]},
    ...                  index=[1, 2])
    >>> name_clusters(z)
    {1: 'naoorlogse koopwijk, lage WOZ-waarde, vergrijsd', 2: 'huurwijk, hoge WOZ-waarde'}
    """
    def name(row: pd.Series, n_extra: int, thr: float) -> str:
        head = ""
        if "aandeel_naoorlogs" in row.index and row["aandeel_naoorlogs"] >= drempel:
            head = "naoorlogse "
        if "aandeel_koop" in row.index:
            zk = row["aandeel_koop"]
            noun = ("koopwijk" if zk >= drempel
                    else "huurwijk" if zk <= -drempel else "gemengde wijk")
        else:
            noun = "wijk"
        rest = row.drop([c for c in ("aandeel_naoorlogs", "aandeel_koop") if c in row.index])
        order = rest.abs().sort_values(ascending=False, kind="mergesort")
        chosen = [f for f in order.index if abs(rest[f]) >= thr][:n_extra]
        # two features can share words (label share with/without estimates): say it once
        words = list(dict.fromkeys(_descriptor(f, float(rest[f])) for f in chosen))
        if not words and not head and noun in ("gemengde wijk", "wijk"):
            words = ["gemiddeld profiel"]
        return ", ".join([head + noun, *words])

    names = {int(c): name(z.loc[c], max_kenmerken, drempel) for c in z.index}
    extra, thr = max_kenmerken, drempel
    for _ in range(len(z.columns) + 1):
        dup = pd.Series(names).duplicated(keep=False)
        if not dup.any():
            return names
        extra, thr = extra + 1, thr / 2
        for c in dup[dup].index:
            names[c] = name(z.loc[c], extra, thr)
    dup = pd.Series(names).duplicated(keep=False)
    return {c: f"{v} (type {c})" if dup[c] else v for c, v in names.items()}


def _check_config(t: Mapping[str, Any]) -> None:
    if t["methode"] not in METHODES:
        raise ConfigError(f"typologie.methode must be one of {METHODES}, got {t['methode']!r}")
    if not 2 <= int(t["k_min"]) <= int(t["k_max"]):
        raise ConfigError("typologie: need 2 <= k_min <= k_max")
    if int(t["min_buurten_per_cluster"]) < 1:
        raise ConfigError("typologie.min_buurten_per_cluster must be at least 1")
    if int(t["k"]) == 1 or int(t["k"]) < 0:
        raise ConfigError("typologie.k must be 0 (choose) or >= 2")
    if not t["kenmerken"]:
        raise ConfigError("typologie.kenmerken is empty")
    if t["volgorde_kenmerk"] not in t["kenmerken"]:
        raise ConfigError("typologie.volgorde_kenmerk must be one of typologie.kenmerken")
    if not 0 <= float(t["max_ontbrekend"]) < 1:
        raise ConfigError("typologie.max_ontbrekend must be in [0, 1)")
    if t["k_criterium"] != "stemming" and t["k_criterium"] not in CRITERIA:
        raise ConfigError(f"typologie.k_criterium must be 'stemming' or one of {CRITERIA}")


def fit_typologie(buurten: pd.DataFrame, *, config: Mapping[str, Any]) -> TypologieResultaat:
    """Fit the buurt typology configured in ``config["typologie"]``.

    Parameters
    ----------
    buurten
        Buurten with ``buurtcode``, ``n_woningen`` and the feature columns.
    config
        Effective configuration.

    Returns
    -------
    TypologieResultaat

    Raises
    ------
    ConfigError
        Invalid settings, or Ward above ``ward_max_n`` buurten.
    InputError
        Too few buurten left to cluster.
    """
    t = config["typologie"]
    _check_config(t)
    methode, seed = str(t["methode"]), int(t["seed"])
    excluded: list[tuple[str, str]] = []

    buurten, notes = add_expected_label_shares(buurten)
    frame = buurten.sort_values("buurtcode", kind="mergesort")
    codes = frame["buurtcode"].astype(str)
    feats = list(t["kenmerken"])
    X = pd.DataFrame(index=codes.to_numpy())
    for f in feats:
        X[f] = (pd.to_numeric(frame[f], errors="coerce").astype(float).to_numpy()
                if f in frame.columns else np.nan)
    X.index.name = "buurtcode"

    n_won = (pd.to_numeric(frame["n_woningen"], errors="coerce").to_numpy()
             if "n_woningen" in frame.columns else np.full(len(frame), np.nan))
    few = ~(n_won >= int(t["min_woningen"]))
    for code, n in zip(X.index[few], n_won[few], strict=True):
        what = "onbekend aantal woningen" if np.isnan(n) else f"{int(n)} woningen"
        excluded.append((code, f"typologie: {what} (minder dan {int(t['min_woningen'])})"))
    X = X[~few]

    empty = [f for f in feats if X[f].isna().all()]
    if empty:
        # e.g. income published later by CBS (-99995): cluster on what the inputs do have and
        # say so, rather than refusing to run or imputing a whole column
        notes.append(f"typologie: kenmerk(en) {', '.join(empty)} ontbreken in alle buurten en "
                     "zijn weggelaten")
        logger.warning("typology features without any values left out: %s", ", ".join(empty))
        feats = [f for f in feats if f not in empty]
        X = X[feats]
        if len(feats) < 2:
            raise TypologieNietMogelijkError(
                f"typology: fewer than two features with values (missing: {', '.join(empty)})")
    nan_share = X.isna().mean(axis=1)
    too_many = nan_share > float(t["max_ontbrekend"])
    for code in X.index[too_many]:
        gone = [f for f in feats if np.isnan(X.at[code, f])]
        excluded.append((code, f"typologie: {len(gone)} van {len(feats)} kenmerken ontbreken "
                               f"({', '.join(gone)})"))
    X = X[~too_many]
    n = len(X)
    if n < int(t["k_min"]) + 1:
        raise TypologieNietMogelijkError(
            f"typology: only {n} buurten left to cluster (need at least {int(t['k_min']) + 1})")
    if methode == "ward" and n > int(t["ward_max_n"]):
        gb = n * (n - 1) / 2 * 8 / 1e9
        raise ConfigError(
            f"typologie.methode='ward' on {n} buurten needs O(n²) memory (≥ {gb:.1f} GB for the "
            f"distances alone); the limit is typologie.ward_max_n={int(t['ward_max_n'])}. "
            "Use 'kmeans' or 'gmm', or raise ward_max_n deliberately."
        )

    geimputeerd = X.isna().apply(lambda r: ",".join(X.columns[r.to_numpy()]), axis=1)
    const = [f for f in feats if X[f].nunique(dropna=True) <= 1]
    if const:
        notes.append(f"typologie: kenmerk(en) {', '.join(const)} constant; dragen niet bij")
        logger.info(notes[-1])

    opts = {
        "seed": seed, "n_init": int(t["n_init"]), "gmm_n_init": int(t["gmm_n_init"]),
        "gmm_covariance": str(t["gmm_covariance"]), "max_iter": int(t["max_iter"]),
        "indicator": bool(t["imputatie_indicator"]),
    }
    sample = int(t["silhouette_steekproef"])
    sample_size = sample if n > sample else None
    if sample_size:
        notes.append(f"typologie: silhouette bij de keuze van k op een steekproef van "
                     f"{sample_size} buurten (seed {seed}); per buurt op alle {n}")
        logger.info(notes[-1])
    n_seeds = max(int(t["stabiliteit_seeds"]), 1)

    k_fixed = int(t["k"])
    ks = [k_fixed] if k_fixed else list(range(int(t["k_min"]), int(t["k_max"]) + 1))
    ks = [k for k in ks if k < n]
    if not k_fixed:
        per = int(t["min_buurten_per_cluster"])
        enough = [k for k in ks if k * per <= n] or ks[:1]
        if len(enough) < len(ks):
            notes.append(f"typologie: k tot en met {max(enough)} geprobeerd (minstens {per} "
                         f"buurten per type gemiddeld bij {n} buurten)")
            logger.info(notes[-1])
        ks = enough
    rows = []
    fits: dict[int, tuple[Pipeline, np.ndarray, list[str]]] = {}
    for k in ks:
        pipe = make_pipeline(methode, k, **opts)
        labels, remarks = _fit_predict(pipe, X)
        Xs = pipe[:-1].transform(X)
        n_found = len(np.unique(labels))
        row: dict[str, Any] = {"k": k, "n_clusters_gevonden": n_found}
        valid = n_found == k and not remarks
        if n_found >= 2:
            row["silhouette"] = float(silhouette_score(
                Xs, labels, sample_size=sample_size, random_state=seed))
            row["calinski_harabasz"] = float(calinski_harabasz_score(Xs, labels))
            row["davies_bouldin"] = float(davies_bouldin_score(Xs, labels))
        if methode == "gmm":
            row["bic"] = float(pipe.named_steps["model"].bic(Xs))
        else:
            row["bic"] = bic_hard_partition(Xs, labels)
        aris = []
        if methode != "ward" and n_seeds > 1:
            runs = [labels]
            for s in range(1, n_seeds):
                other, r2 = _fit_predict(make_pipeline(methode, k, **{**opts, "seed": seed + s}),
                                         X)
                remarks += r2
                runs.append(other)
            aris = [adjusted_rand_score(a, b) for i, a in enumerate(runs) for b in runs[i + 1:]]
        row["ari_seeds"] = float(np.mean(aris)) if aris else np.nan
        if n_found != k:
            remarks.append(f"{n_found} clusters gevonden in plaats van {k}")
        row["geldig"] = valid
        row["opmerking"] = "; ".join(dict.fromkeys(remarks))
        rows.append(row)
        fits[k] = (pipe, labels, remarks)
    tabel = pd.DataFrame(rows, columns=["k", "n_clusters_gevonden", *CRITERIA, "ari_seeds",
                                        "geldig", "opmerking"])
    if k_fixed:
        k_best = k_fixed
        if not bool(tabel["geldig"].iloc[0]):
            notes.append(f"typologie: k={k_fixed} gaf een waarschuwing: "
                         f"{tabel['opmerking'].iloc[0]}")
            logger.warning(notes[-1])
    else:
        k_best = _kies_k(tabel, str(t["k_criterium"]))
    tabel["gekozen"] = tabel["k"] == k_best
    pipe, raw_labels, _ = fits[k_best]

    Xs = pipe[:-1].transform(X)
    d = len(feats)
    Xz = pd.DataFrame(Xs[:, :d], index=X.index, columns=feats)
    old = sorted(np.unique(raw_labels).tolist())
    lab_s = pd.Series(raw_labels, index=X.index)
    z = Xz.groupby(lab_s).mean().loc[old]
    sizes = lab_s.value_counts().reindex(old)
    first_code = pd.Series({c: lab_s.index[lab_s.to_numpy() == c].min() for c in old})
    order = _cluster_order(z, sizes, first_code, str(t["volgorde_kenmerk"]))
    remap = {old_c: i + 1 for i, old_c in enumerate(order)}
    labels = lab_s.map(remap).astype(int)
    labels.name = "typologie_cluster"
    z = z.rename(index=remap).sort_index()
    namen = name_clusters(z, drempel=float(t["naam_drempel_z"]),
                          max_kenmerken=int(t["naam_max_kenmerken"]))

    lab_arr = labels.to_numpy()
    ks_new = sorted(remap.values())
    if len(ks_new) >= 2:
        sil = pd.Series(silhouette_samples(Xs, lab_arr), index=X.index, name="silhouette")
        cents = _centroids(Xs, lab_arr, ks_new)
        dist = ((Xs[:, None, :] - cents[None, :, :]) ** 2).sum(axis=2)
        dist[np.arange(n), lab_arr - 1] = np.inf
        nxt = pd.Series(np.asarray(ks_new)[dist.argmin(axis=1)], index=X.index)
    else:
        sil = pd.Series(np.nan, index=X.index)
        nxt = pd.Series(pd.NA, index=X.index, dtype="Int64")

    imp = pipe.named_steps["impute"]
    imputatie = pd.DataFrame({
        "kenmerk": feats,
        "n_ontbrekend": [int(X[f].isna().sum()) for f in feats],
        "imputatiewaarde": imp.statistics_[:d],
    })
    raw_means = X.groupby(labels).mean()
    prof = pd.DataFrame({
        "cluster": ks_new,
        "naam": [namen[c] for c in ks_new],
        "n_buurten": labels.value_counts().reindex(ks_new).to_numpy(),
    })
    nw = pd.Series(n_won[~few], index=codes.to_numpy()[~few]).reindex(X.index)
    prof["n_woningen"] = nw.groupby(labels).sum().reindex(ks_new).to_numpy()
    prof["silhouette"] = sil.groupby(labels).mean().reindex(ks_new).to_numpy()
    for f in feats:
        prof[f] = raw_means[f].reindex(ks_new).to_numpy()
        prof[f"{f}_z"] = z[f].reindex(ks_new).to_numpy()
    uit = pd.DataFrame(excluded, columns=["buurtcode", "reden"])
    logger.info("typologie: %s, k=%d, %d buurten, %d uitgesloten, silhouette %.3f",
                methode, k_best, n, len(uit), float(sil.mean()))
    return TypologieResultaat(
        methode=methode, k=k_best, seed=seed, kenmerken=feats, pipeline=pipe,
        labels=labels, namen=namen, silhouette=sil, volgende_cluster=nxt,
        geimputeerd=geimputeerd, k_tabel=tabel, profielen=prof, imputatie=imputatie,
        uitgesloten=uit, notities=notes,
    )
