"""Scores per buurt, each 0–1, with the inputs that drove them.

Five scores, each a weighted mean of *components*. A component maps one driver column to 0–1
on a fixed, anchored scale taken from the configuration (section ``[scores]``)::

    component = clip((x - nul) / (een - nul), 0, 1)

``nul < een`` means "more of the driver raises the score", ``nul > een`` the reverse.

energiebehoefte
    Energy-upgrade need: expected share of labels E/F/G (registered labels and, where none
    is registered, the label model's probabilities), post-war share, CBS gas use.
levensloopbehoefte
    Lifecycle need: share 65+, single-family homes built before 1975, small households.
financiele_ruimte
    Owners' financial room: WOZ against the gemeente median, estimated household income
    against the DAEB income limit, share of low-income households (downwards).
doelgroepconcentratie
    Concentration of the target group: ``n_doelgroep`` and ``aandeel_doelgroep``.
demografische_druk
    Pressure from shrinkage and ageing: trends in households, residents and the 65+ share,
    and the gemeente's household forecast.

Why fixed anchors and not ranks within the input: a rank-percentile changes when an
unrelated gemeente is added to the run, while an anchored scale gives each buurt the same
score whatever else is analysed; it is row-order invariant and monotone by construction. The
anchors are policy choices and live in the configuration, which the manifest records.

Missing values are never 0: a driver that is NaN for a buurt is left out and the weights of
the other components are rescaled; ``<score>_inputs`` lists the drivers used and
``<score>_ontbrekend`` the ones that were missing. With no driver at all the score is NaN.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.config import policy_value
from woonvoorraad.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

#: The scores, in reporting order.
SCORES: tuple[str, ...] = (
    "energiebehoefte",
    "levensloopbehoefte",
    "financiele_ruimte",
    "doelgroepconcentratie",
    "demografische_druk",
)

#: Dutch labels of the scores, for reasons and reports.
SCORE_LABELS: dict[str, str] = {
    "energiebehoefte": "energiebehoefte",
    "levensloopbehoefte": "levensloopbehoefte",
    "financiele_ruimte": "financiële ruimte",
    "doelgroepconcentratie": "doelgroepconcentratie",
    "demografische_druk": "demografische druk",
}

#: Driver columns computed here (not read from ``buurten``).
DERIVED_DRIVERS: tuple[str, ...] = (
    "woz_t_o_v_mediaan",
    "inkomen_t_o_v_daeb",
    "prognose_huishoudens",
)


@dataclass(frozen=True)
class Component:
    """One driver of a score on an anchored scale.

    Parameters
    ----------
    score
        Name of the score.
    kolom
        Driver column.
    nul, een
        Driver values at which the component is 0 and 1.
    gewicht
        Weight within the score (>= 0).
    """

    score: str
    kolom: str
    nul: float
    een: float
    gewicht: float

    @property
    def richting(self) -> str:
        """``"stijgend"`` when more of the driver raises the score, else ``"dalend"``."""
        return "stijgend" if self.een > self.nul else "dalend"


@dataclass
class ScoreResultaat:
    """Scores of a set of buurten.

    Attributes
    ----------
    frame
        One row per buurt (same index as the input): the derived driver columns, each score,
        ``<score>_inputs`` and ``<score>_ontbrekend``.
    componenten
        Long table: ``buurtcode``, ``score``, ``kolom``, ``waarde`` (the driver),
        ``component`` (0–1), ``gewicht``.
    notities
        Remarks for the log and manifest (missing columns, missing forecast, ...).
    """

    frame: pd.DataFrame
    componenten: pd.DataFrame
    notities: list[str] = field(default_factory=list)


def ramp(x: Any, *, nul: float, een: float) -> np.ndarray:
    """Map values to 0–1 on the anchored scale ``nul`` → 0, ``een`` → 1, clipped.

    NaN stays NaN.

    Examples
    --------
    >>> ramp([0.0, 0.3, 0.9, float("nan")], nul=0.0, een=0.6).tolist()
    [0.0, 0.5, 1.0, nan]
    >>> ramp([2.6, 2.2, 1.5], nul=2.6, een=1.8).round(2).tolist()
    [0.0, 0.5, 1.0]
    """
    if nul == een:
        raise ConfigError(f"anchored scale needs nul != een, got {nul}")
    arr = np.asarray(x, dtype=float)
    return np.clip((arr - nul) / (een - nul), 0.0, 1.0) + 0.0  # + 0.0 turns -0.0 into 0.0


def components_from_config(config: Mapping[str, Any]) -> dict[str, list[Component]]:
    """Read and check the components of every score from ``config["scores"]``.

    Raises
    ------
    ConfigError
        A score is missing, an anchor pair is degenerate, a weight is negative or all weights
        of a score are zero.
    """
    section = config.get("scores")
    if not isinstance(section, Mapping):
        raise ConfigError("configuration lacks the [scores] section")
    result: dict[str, list[Component]] = {}
    for score in SCORES:
        table = section.get(score)
        if not isinstance(table, Mapping) or not table:
            raise ConfigError(f"scores.{score}: missing or empty")
        comps = []
        for kolom, spec in table.items():
            where = f"scores.{score}.{kolom}"
            try:
                nul, een, gewicht = float(spec["nul"]), float(spec["een"]), float(spec["gewicht"])
            except (KeyError, TypeError, ValueError):
                raise ConfigError(f"{where}: needs numeric nul, een and gewicht") from None
            if nul == een:
                raise ConfigError(f"{where}: nul and een must differ, both are {nul}")
            if gewicht < 0 or not np.isfinite(gewicht):
                raise ConfigError(f"{where}.gewicht must be >= 0, got {gewicht}")
            comps.append(Component(score, kolom, nul, een, gewicht))
        if sum(c.gewicht for c in comps) <= 0:
            raise ConfigError(f"scores.{score}: all weights are zero")
        result[score] = comps
    return result


def weighted_median(values: Any, weights: Any = None) -> float:
    """Lower weighted median, ignoring NaN values; NaN when nothing is left.

    The lower weighted median is the smallest value whose cumulative weight reaches half of
    the total weight. Zero weights count as absent; if all weights are zero the plain lower
    median is returned.

    Examples
    --------
    >>> weighted_median([100, 200, 300], [1, 1, 5])
    300.0
    >>> weighted_median([100, 200, 300, 400])
    200.0
    """
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    ok = np.isfinite(v)
    v, w = v[ok], w[ok]
    if v.size == 0:
        return float("nan")
    if w.sum() <= 0:
        w = np.ones_like(v)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    idx = int(np.searchsorted(cum, cum[-1] / 2.0, side="left"))
    return float(v[min(idx, v.size - 1)])


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index, dtype=float)


def summarise_prognose(prognose: pd.DataFrame, *, eindjaar: int) -> pd.DataFrame:
    """Annual relative change of households and population per gemeente from a forecast.

    For each gemeente the change runs from the first forecast year to ``eindjaar`` (or the last
    year before it), as a compound rate per year: ``(end / start) ** (1 / years) - 1``.

    Parameters
    ----------
    prognose
        Columns ``gemeentecode``, ``jaar``, ``bevolking``, ``huishoudens``.
    eindjaar
        Last year used.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``gemeentecode``: ``prognose_huishoudens``, ``prognose_bevolking``,
        ``prognose_jaren`` (e.g. ``"2024-2035"``).

    Examples
    --------
    >>> p = pd.DataFrame({"gemeentecode": ["GM1"] * 2, "jaar": [2024, 2034],
    ...                   "bevolking": [1000, 1000], "huishoudens": [500, 450]})
    >>> float(round(summarise_prognose(p, eindjaar=2035).loc["GM1", "prognose_huishoudens"], 5))
    -0.01048
    """
    missing = {"gemeentecode", "jaar", "bevolking", "huishoudens"} - set(prognose.columns)
    if missing:
        raise InputError(f"prognose lacks column(s) {sorted(missing)}")
    p = prognose.copy()
    p["jaar"] = pd.to_numeric(p["jaar"], errors="coerce")
    p = p[p["jaar"].notna() & (p["jaar"] <= eindjaar)].sort_values(["gemeentecode", "jaar"])
    rows = {}
    for code, g in p.groupby("gemeentecode", sort=True):
        first, last = g.iloc[0], g.iloc[-1]
        years = float(last["jaar"] - first["jaar"])
        out = {"prognose_jaren": f"{int(first['jaar'])}-{int(last['jaar'])}"}
        for col, name in (("huishoudens", "prognose_huishoudens"),
                          ("bevolking", "prognose_bevolking")):
            a, b = float(first[col]), float(last[col])
            ok = years > 0 and np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0
            out[name] = (b / a) ** (1.0 / years) - 1.0 if ok else np.nan
        rows[code] = out
    result = pd.DataFrame.from_dict(
        rows, orient="index",
        columns=["prognose_huishoudens", "prognose_bevolking", "prognose_jaren"],
    )
    result.index.name = "gemeentecode"
    return result


def add_expected_label_shares(buurten: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Make sure the expected label shares the analysis reads are there.

    New builds carry ``aandeel_label_efg_verwacht`` (sum of the dwellings' E/F/G
    probabilities / dwellings) and ``aandeel_label_geschat``. A build without them (older
    builds: one label per dwelling) gets them from the single labels, which is what they are
    there: ``aandeel_label_efg`` and ``1 − label_dekking``; a note says so. Without those either
    nothing is added (the drivers then count as missing and are reported).

    Returns
    -------
    (pandas.DataFrame, list of str)
        A copy of ``buurten`` with the columns, and remarks.

    Examples
    --------
    >>> b = pd.DataFrame({"aandeel_label_efg": [0.4], "label_dekking": [0.25]})
    >>> out, notes = add_expected_label_shares(b)
    >>> out[["aandeel_label_efg_verwacht", "aandeel_label_geschat"]].iloc[0].tolist(), len(notes)
    ([0.4, 0.75], 1)
    """
    out = buurten.copy()
    notes: list[str] = []
    added = []
    if "aandeel_label_efg_verwacht" not in out.columns and "aandeel_label_efg" in out.columns:
        out["aandeel_label_efg_verwacht"] = pd.to_numeric(out["aandeel_label_efg"],
                                                          errors="coerce")
        added.append("aandeel_label_efg_verwacht = aandeel_label_efg")
    if "aandeel_label_geschat" not in out.columns and "label_dekking" in out.columns:
        out["aandeel_label_geschat"] = 1.0 - pd.to_numeric(out["label_dekking"], errors="coerce")
        added.append("aandeel_label_geschat = 1 − label_dekking")
    if added:
        notes.append("buurten heeft geen verwachte labelaandelen (build zonder labelmodel): "
                     + "; ".join(added) + " (één label per woning)")
        logger.info(notes[-1])
    return out, notes


def derive_drivers(
    buurten: pd.DataFrame,
    *,
    config: Mapping[str, Any],
    prognose: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Compute the derived driver columns.

    Adds ``woz_mediaan_gemeente``, ``woz_t_o_v_mediaan``, ``inkomen_huishouden_geschat``,
    ``daeb_grens``, ``inkomen_t_o_v_daeb``, ``prognose_huishoudens``,
    ``prognose_bevolking`` and ``prognose_jaren``.

    ``inkomen_huishouden_geschat = inkomen_per_inwoner × gemiddelde_huishoudsgrootte``
    (total income of the buurt per household); ``daeb_grens`` is the DAEB limit of
    ``scores.daeb_jaar`` for a household of the buurt's average size, interpolated linearly
    between the one-person limit (size 1) and the multi-person limit (size 2 and more).

    Returns
    -------
    (pandas.DataFrame, list of str)
        The new columns (same index as ``buurten``) and remarks.
    """
    notes: list[str] = []
    out = pd.DataFrame(index=buurten.index)
    s = config["scores"]

    woz = _column(buurten, "woz_gemiddeld")
    weights = _column(buurten, "n_woningen") if s.get("woz_mediaan_gewogen", True) else None
    gem = buurten["gemeentecode"]
    medians = {}
    for code, idx in gem.groupby(gem, sort=True).groups.items():
        w = None if weights is None else weights.loc[idx]
        medians[code] = weighted_median(woz.loc[idx], w)
    out["woz_mediaan_gemeente"] = gem.map(medians).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = woz / out["woz_mediaan_gemeente"]
    out["woz_t_o_v_mediaan"] = ratio.where(out["woz_mediaan_gemeente"] > 0)

    jaar = int(s["daeb_jaar"])
    een = policy_value(config, "daeb_eenpersoons", jaar)
    meer = policy_value(config, "daeb_meerpersoons", jaar)
    hh = _column(buurten, "gemiddelde_huishoudsgrootte")
    ipi = _column(buurten, "inkomen_per_inwoner")
    out["inkomen_huishouden_geschat"] = ipi * hh
    out["daeb_grens"] = een + (meer - een) * np.clip(hh - 1.0, 0.0, 1.0)
    out["inkomen_t_o_v_daeb"] = out["inkomen_huishouden_geschat"] / out["daeb_grens"]

    if prognose is None:
        out["prognose_huishoudens"] = np.nan
        out["prognose_bevolking"] = np.nan
        out["prognose_jaren"] = pd.Series(pd.NA, index=buurten.index, dtype="string")
        notes.append(
            "geen gemeenteprognose gegeven: demografische druk gebruikt alleen de "
            "buurttrends (prognose_huishoudens = NaN)"
        )
    else:
        prog = summarise_prognose(prognose, eindjaar=int(s["prognose_eindjaar"]))
        for col in ("prognose_huishoudens", "prognose_bevolking"):
            out[col] = gem.map(prog[col]).astype(float)
        out["prognose_jaren"] = gem.map(prog["prognose_jaren"]).astype("string")
        lacking = sorted(set(gem.dropna()) - set(prog.index))
        if lacking:
            notes.append(f"geen prognose voor gemeente(n) {', '.join(lacking)}")
    return out, notes


def compute_score(
    frame: pd.DataFrame, componenten: list[Component], *, sleutel: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute one score from its components.

    Parameters
    ----------
    frame
        Holds the driver columns (missing columns count as NaN everywhere).
    componenten
        Components of one score.
    sleutel
        Identifier per row for the long component table (default: the index).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Per row ``<score>``, ``<score>_inputs`` and ``<score>_ontbrekend``; and the long table
        of components.

    Examples
    --------
    >>> comps = [Component("e", "a", 0.0, 1.0, 3.0), Component("e", "b", 0.0, 1.0, 1.0)]
    >>> df = pd.DataFrame({"a": [0.5, np.nan], "b": [1.0, 0.2]})
    >>> out, _ = compute_score(df, comps)
    >>> out["e"].round(3).tolist(), out["e_inputs"].tolist()
    ([0.625, 0.2], ['a,b', 'b'])
    """
    score = componenten[0].score
    keys = frame.index.to_series() if sleutel is None else sleutel
    num = np.zeros(len(frame))
    den = np.zeros(len(frame))
    used: list[np.ndarray] = []
    names: list[str] = []
    long_parts = []
    for c in componenten:
        x = _column(frame, c.kolom).to_numpy()
        comp = ramp(x, nul=c.nul, een=c.een)
        ok = np.isfinite(comp)
        if c.gewicht > 0:  # a zero-weight component is reported in the long table only
            num += np.where(ok, comp * c.gewicht, 0.0)
            den += np.where(ok, c.gewicht, 0.0)
            used.append(ok)
            names.append(c.kolom)
        long_parts.append(pd.DataFrame({
            "buurtcode": keys.to_numpy(), "score": score, "kolom": c.kolom,
            "waarde": x, "component": comp, "gewicht": c.gewicht,
        }))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    used_m = np.column_stack(used) if used else np.zeros((len(frame), 0), dtype=bool)
    inputs = [",".join(n for n, u in zip(names, row, strict=True) if u) for row in used_m]
    missing = [",".join(n for n, u in zip(names, row, strict=True) if not u) for row in used_m]
    out = pd.DataFrame(
        {score: value, f"{score}_inputs": inputs, f"{score}_ontbrekend": missing},
        index=frame.index,
    )
    return out, pd.concat(long_parts, ignore_index=True)


def compute_scores(
    buurten: pd.DataFrame,
    *,
    config: Mapping[str, Any],
    prognose: pd.DataFrame | None = None,
) -> ScoreResultaat:
    """Compute all scores per buurt.

    Parameters
    ----------
    buurten
        The canonical ``buurten`` table (``docs/schema.md``); at least ``buurtcode`` and
        ``gemeentecode``. Driver columns that are absent count as NaN and are reported.
    config
        Effective configuration (``[scores]`` and ``[beleid]`` are used).
    prognose
        Optional gemeente forecast (``gemeentecode``, ``jaar``, ``bevolking``,
        ``huishoudens``).

    Returns
    -------
    ScoreResultaat

    Examples
    --------
    >>> from woonvoorraad.config import default_config
    >>> b = pd.DataFrame({"buurtcode": ["BU1", "BU2"], "gemeentecode": ["GM1", "GM1"],
    ...                   "aandeel_label_efg_verwacht": [0.6, 0.0],
    ...                   "aandeel_naoorlogs": [0.8, 0.0]})
    >>> res = compute_scores(b, config=default_config())
    >>> res.frame["energiebehoefte"].tolist()
    [1.0, 0.0]
    >>> res.frame["energiebehoefte_inputs"].tolist()[0]
    'aandeel_label_efg_verwacht,aandeel_naoorlogs'
    """
    for col in ("buurtcode", "gemeentecode"):
        if col not in buurten.columns:
            raise InputError(f"buurten lacks column {col!r}")
    comps = components_from_config(config)
    buurten, notes = add_expected_label_shares(buurten)
    derived, more = derive_drivers(buurten, config=config, prognose=prognose)
    notes += more
    work = pd.concat([buurten.drop(columns=derived.columns, errors="ignore"), derived], axis=1)
    absent = sorted({
        c.kolom for cs in comps.values() for c in cs
        if c.kolom not in work.columns
    })
    if absent:
        notes.append(f"kolom(men) ontbreken in buurten, als NaN behandeld: {', '.join(absent)}")
    parts = [derived]
    long_parts = []
    for score in SCORES:
        out, long = compute_score(work, comps[score], sleutel=buurten["buurtcode"])
        parts.append(out)
        long_parts.append(long)
        n_nan = int(out[score].isna().sum())
        if n_nan:
            notes.append(f"{score}: {n_nan} buurt(en) zonder enige invoer (score NaN)")
    for note in notes:
        logger.info(note)
    return ScoreResultaat(
        frame=pd.concat(parts, axis=1),
        componenten=pd.concat(long_parts, ignore_index=True),
        notities=notes,
    )
