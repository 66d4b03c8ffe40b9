"""The analysis step: scores, costs, typology, instruments and proeftuin candidates.

:func:`analyse` is the single entry point the build calls after ``buurten`` and ``dwellings``
exist. It writes nothing: :meth:`AnalysisResult.tables` maps output file names to tables, and
:meth:`AnalysisResult.summary` gives the key facts for the manifest and the log.

Examples
--------
>>> from woonvoorraad.config import load_config
>>> cfg = load_config(overrides=["proeftuin.niveau='wijk'"])  # doctest: +SKIP
>>> result = analyse(buurten, dwellings, config=cfg)          # doctest: +SKIP
>>> for name, table in result.tables().items():               # doctest: +SKIP
...     print(name, len(table))
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from woonvoorraad import __version__
from woonvoorraad.classify.instrumenten import (
    read_rules,
    select_instruments,
    short_list,
    summarize,
)
from woonvoorraad.classify.kosten import BRON as KOSTEN_BRON
from woonvoorraad.classify.kosten import INVESTERING, compute_costs
from woonvoorraad.classify.proeftuinen import (
    ProeftuinResultaat,
    check_config,
    compute_candidate_score,
    select_candidates,
)
from woonvoorraad.classify.scores import (
    SCORES,
    add_expected_label_shares,
    components_from_config,
    compute_scores,
)
from woonvoorraad.classify.typologie import (
    TypologieNietMogelijkError,
    TypologieResultaat,
    fit_typologie,
)
from woonvoorraad.config import config_digest
from woonvoorraad.errors import ConfigError, InputError, MissingColumnError

logger = logging.getLogger(__name__)

#: Configuration sections this step reads (their digest goes into the summary).
SECTIES: tuple[str, ...] = ("periods", "labels", "doelgroep", "scores", "proeftuin", "beleid",
                            "instrumenten", "kosten", "typologie")
_ID = ("buurtcode", "gemeentecode")


@dataclass
class AnalysisResult:
    """Everything :func:`analyse` produced.

    Attributes
    ----------
    buurten
        Per buurt (GeoDataFrame when the input was one): the input columns plus derived
        drivers, the five scores with ``<score>_inputs``/``<score>_ontbrekend``,
        ``proeftuinscore``, cost summary (``investering_*``), typology (``typologie_*``) and
        ``instrumenten`` (comma-joined codes that fit).
    proeftuinen
        Candidates per gemeente and level (``primair`` flags the primary level) with reason
        and stability, and a ``geen_kandidaat`` row where no unit meets the post-war rule.
    proeftuinen_stabiliteit
        Rank of each candidate per one-at-a-time weight variant.
    instrumenten
        One row per buurt × instrument, with the rule (``regel``) that chose it.
    kosten_buurt, kosten_gemeente
        Upgrade cost per buurt and per gemeente: every dwelling below B to B (low–high),
        below C to C (one figure), and the E/F/G-only figures beside them.
    typologie
        The fitted typology (:class:`~woonvoorraad.classify.typologie.TypologieResultaat`).
    uitgesloten
        ``buurtcode``, ``gemeentecode``, ``onderdeel``, ``reden``: everything left out of a step.
    score_componenten
        Long table of every score component (driver value, 0–1 component, weight).
    notities
        Remarks of all steps.
    regels_meta
        File, sha256 and version of the instrument rules used.
    config
        The configuration used.
    """

    buurten: pd.DataFrame
    proeftuinen: pd.DataFrame
    proeftuinen_stabiliteit: pd.DataFrame
    instrumenten: pd.DataFrame
    kosten_buurt: pd.DataFrame
    kosten_gemeente: pd.DataFrame
    typologie: TypologieResultaat
    uitgesloten: pd.DataFrame
    score_componenten: pd.DataFrame
    proeftuin_resultaat: ProeftuinResultaat
    notities: list[str] = field(default_factory=list)
    regels_meta: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame | gpd.GeoDataFrame]:
        """Output file name → table (CSV, no geometry). The caller writes them.

        The buurt table itself (:attr:`buurten`) is not among them: the build writes it as
        ``buurten.parquet``, the indicators together with the analysis columns.
        """
        t = self.typologie
        return {
            "proeftuinen.csv": self.proeftuinen,
            "proeftuinen_stabiliteit.csv": self.proeftuinen_stabiliteit,
            "instrumenten.csv": self.instrumenten,
            "kosten_buurt.csv": self.kosten_buurt,
            "kosten_gemeente.csv": self.kosten_gemeente,
            "typologie_k.csv": t.k_tabel,
            "typologie_profielen.csv": t.profielen,
            "typologie_imputatie.csv": t.imputatie,
            "score_componenten.csv": self.score_componenten,
            "uitgesloten.csv": self.uitgesloten,
        }

    def summary(self) -> dict[str, Any]:
        """Key facts for the manifest and the log (JSON-serialisable)."""
        b = self.buurten
        t = self.typologie
        kand = self.proeftuinen
        if len(kand) and "primair" in kand.columns:
            leeg = kand[kand["geen_kandidaat"].astype(bool) & kand["primair"].astype(bool)]
            kand = kand[~kand["geen_kandidaat"].astype(bool) & kand["primair"].astype(bool)]
        else:
            leeg = kand.iloc[0:0]
        niveaus = self.proeftuin_resultaat.niveaus
        gem_doel = b.groupby("gemeentecode")["n_doelgroep"].sum(min_count=1) \
            if "n_doelgroep" in b.columns else pd.Series(dtype=float)
        with_target = sorted(gem_doel[gem_doel > 0].index.astype(str))
        covered = set(kand["gemeentecode"].astype(str)) if len(kand) else set()
        kg = self.kosten_gemeente

        def _f(x: Any) -> float | None:
            return None if pd.isna(x) else float(x)

        return {
            "woonvoorraad_version": __version__,
            "config_digest": config_digest({k: self.config[k] for k in SECTIES
                                            if k in self.config}),
            "n_buurten": len(b),
            "n_gemeenten": int(b["gemeentecode"].nunique()),
            "n_doelgroep": _f(b["n_doelgroep"].sum(min_count=1))
            if "n_doelgroep" in b.columns else None,
            "scores": {s: {"gemiddeld": _f(b[s].mean()), "n_nan": int(b[s].isna().sum())}
                       for s in SCORES},
            "proeftuin": {
                "niveau": self.config["proeftuin"]["niveau"],
                "niveau_per_gemeente": {str(k): str(v) for k, v in
                                        niveaus["niveau_primair"].items()}
                if "niveau_primair" in niveaus.columns else {},
                "min_aandeel_naoorlogs": self.config["proeftuin"]["min_aandeel_naoorlogs"],
                "min_naoorlogs": self.config["proeftuin"]["min_naoorlogs"],
                "gemeenten_zonder_naoorlogse_eenheid": sorted(
                    leeg["gemeentecode"].astype(str).unique()),
                "gewichten": dict(self.config["proeftuin"]["gewichten"]),
                "min_doelgroep": self.config["proeftuin"]["min_doelgroep"],
                "top_n": self.config["proeftuin"]["top_n"],
                "n_kandidaten": len(kand),
                "gemeenten_met_doelgroep": with_target,
                "gemeenten_zonder_kandidaat": sorted(set(with_target) - covered),
                "n_kleiner_dan_minimum": int((~kand["voldoet_minimum"].astype(bool)
                                              & ~kand["voorlopig"].astype(bool)).sum())
                if len(kand) else 0,
                "gemeenten_voorlopig": sorted(kand.loc[kand["voorlopig"].astype(bool),
                                                       "gemeentecode"].astype(str).unique())
                if len(kand) else [],
            },
            "instrumenten": {
                **self.regels_meta,
                **summarize(self.instrumenten, buurtcodes=self.buurten["buurtcode"],
                            kandidaten=kand, config=self.config),
                "n_past": int((self.instrumenten["status"] == "past").sum()),
                "n_onbekend": int((self.instrumenten["status"] == "onbekend").sum()),
                "per_instrument": {
                    str(k): int(v) for k, v in self.instrumenten.loc[
                        self.instrumenten["status"] == "past", "instrument"
                    ].value_counts().sort_index().items()
                },
            },
            "kosten": {
                "bron": KOSTEN_BRON,
                **{c: _f(kg[c].sum()) for c in
                   ("n_onder_b_verwacht", "n_onder_c_verwacht", "n_efg_verwacht",
                    "n_onder_b_zonder_kentallen", *INVESTERING,
                    "n_onder_b_verwacht_naoorlogs", "investering_naar_b_laag_naoorlogs",
                    "investering_naar_b_hoog_naoorlogs", "investering_naar_c_naoorlogs")},
            },
            "typologie": {
                "methode": t.methode, "k": t.k, "seed": t.seed, "kenmerken": t.kenmerken,
                "silhouette": _f(t.silhouette_gemiddeld),
                "namen": {str(k): v for k, v in t.namen.items()},
                "n_uitgesloten": len(t.uitgesloten),
            },
            "uitgesloten": {str(k): int(v) for k, v in
                            self.uitgesloten["onderdeel"].value_counts().sort_index().items()},
            "notities": list(self.notities),
        }


def check_analysis_config(config: Mapping[str, Any]) -> None:
    """Validate the analysis sections of a configuration (beyond ``load_config``'s checks).

    Raises
    ------
    ConfigError
        Naming the key at fault.
    """
    for section in ("scores", "proeftuin", "beleid", "instrumenten", "kosten", "typologie",
                    "labels"):
        if section not in config:
            raise ConfigError(f"configuration lacks the [{section}] section")
    components_from_config(config)
    check_config(config)
    b = config["beleid"]
    for key, years in (("daeb_eenpersoons", "daeb_jaren"), ("daeb_meerpersoons", "daeb_jaren"),
                       ("nhg_grens", "nhg_jaren"), ("nhg_grens_energiebesparend", "nhg_jaren"),
                       ("koopgrens_betaalbaar", "koopgrens_jaren")):
        if len(b[key]) != len(b[years]):
            raise ConfigError(f"beleid.{key} and beleid.{years} must have the same length")
    if int(config["scores"]["daeb_jaar"]) not in b["daeb_jaren"]:
        raise ConfigError(f"scores.daeb_jaar={config['scores']['daeb_jaar']} is not in "
                          f"beleid.daeb_jaren {b['daeb_jaren']}")
    k = config["kosten"]
    if not 0 < float(k["oppervlakte_min"]) < float(k["oppervlakte_max"]):
        raise ConfigError("kosten: need 0 < oppervlakte_min < oppervlakte_max")


def analyse(
    buurten: gpd.GeoDataFrame,
    dwellings: pd.DataFrame,
    *,
    config: dict,
    prognose: pd.DataFrame | None = None,
    woonplaatsen: pd.DataFrame | None = None,
    label_methode: str | None = None,
) -> AnalysisResult:
    """Run the whole analysis on canonical ``buurten`` and ``dwellings`` tables.

    Parameters
    ----------
    buurten
        One row per buurt (``docs/schema.md``); ``buurtcode`` must be unique.
    dwellings
        One row per dwelling (``docs/schema.md``).
    config
        Effective configuration (:func:`woonvoorraad.config.load_config`).
    prognose
        Optional gemeente forecast with ``gemeentecode``, ``jaar``, ``bevolking``,
        ``huishoudens``; without it the forecast part of the demographic pressure is NaN and
        the notes say so.
    woonplaatsen
        The stock stage's village table (one row per gemeente × BAG woonplaats) for the
        proeftuin candidates at village level; None: villages are approximated from the
        buurten and a note says so.
    label_methode
        ``"model"`` or ``"pbl"`` (``manifest["label_model"]["methode"]``), for the candidate
        reasons; None: inferred from ``dwellings["label_bron"]`` when it is there.

    Returns
    -------
    AnalysisResult
    """
    check_analysis_config(config)
    missing = [c for c in _ID if c not in buurten.columns]
    if missing:
        raise MissingColumnError(f"buurten lacks column(s) {missing}")
    for col in _ID:
        if buurten[col].isna().any():
            raise InputError(f"buurten has rows without {col}")
    dup = buurten["buurtcode"][buurten["buurtcode"].duplicated()].unique().tolist()
    if dup:
        raise InputError(f"buurten has duplicate buurtcode(s) {dup[:5]}")
    notes: list[str] = []
    b = buurten.sort_values("buurtcode", kind="mergesort").reset_index(drop=True)
    if "n_doelgroep" not in b.columns:
        notes.append("buurten heeft geen n_doelgroep: geen proeftuinkandidaten mogelijk")
        logger.warning(notes[-1])
        b["n_doelgroep"] = np.nan

    b, lnotes = add_expected_label_shares(b)
    notes += lnotes

    # 1. scores
    sc = compute_scores(b, config=config, prognose=prognose)
    notes += sc.notities
    b = pd.concat([b.drop(columns=sc.frame.columns, errors="ignore"), sc.frame], axis=1)
    b["proeftuinscore"] = compute_candidate_score(b, config["proeftuin"]["gewichten"]).to_numpy()

    # 2. costs
    kb, kg, knotes = compute_costs(dwellings, b, config=config)
    notes += knotes
    # the expected label counts are indicators already; the costs add investments only
    cost_cols = [c for c in kb.columns
                 if c.startswith("investering_") or c == "n_onder_b_zonder_kentallen"]
    b = b.drop(columns=cost_cols, errors="ignore").merge(
        kb[["buurtcode", *cost_cols]], on="buurtcode", how="left")

    # 3. typology
    try:
        typ = fit_typologie(b, config=config)
    except TypologieNietMogelijkError as exc:
        logger.warning("%s; the analysis continues without a typology", exc)
        t = config["typologie"]
        typ = TypologieResultaat.niet_mogelijk(
            b["buurtcode"].astype(str), methode=str(t["methode"]), seed=int(t["seed"]),
            kenmerken=list(t["kenmerken"]), reden=str(exc).removeprefix("typology: "))
    notes += typ.notities
    tabel = typ.buurt_tabel()
    b = b.drop(columns=[c for c in tabel.columns if c != "buurtcode"], errors="ignore")
    b = b.merge(tabel, on="buurtcode", how="left")
    b["typologie_cluster"] = b["typologie_cluster"].astype("Int64")
    b["typologie_volgende"] = b["typologie_volgende"].astype("Int64")

    # 4. instruments
    regels, meta = read_rules(config)
    inst = select_instruments(b, config=config, regels=regels)
    fits = inst[inst["status"] == "past"].groupby("buurtcode", sort=True)["instrument"].agg(
        ",".join)
    # object first: with no match at all, the mapped column is float NaN
    b["instrumenten"] = b["buurtcode"].map(fits).astype(object).fillna("")
    b["instrumenten_kortlijst"] = b["buurtcode"].map(short_list(inst)).astype(object).fillna("")

    # 5. proeftuinen
    if label_methode is None and "label_bron" in dwellings.columns:
        bron = set(dwellings["label_bron"].dropna().astype(str).unique())
        label_methode = "pbl" if "pbl" in bron and "model" not in bron else \
            "model" if "model" in bron else None
    pt = select_candidates(b, config=config, dwellings=dwellings, woonplaatsen=woonplaatsen,
                           prognose=prognose, label_methode=label_methode)
    notes += pt.notities
    prim = pt.kandidaten
    if len(prim):
        prim = prim[prim["primair"] & ~prim["geen_kandidaat"]]
    on_buurt = prim[prim["niveau"] == "buurt"] if len(prim) else prim
    rank = on_buurt.set_index("eenheid_code")["rang"] if len(on_buurt) else pd.Series(
        dtype="Int64")
    b["proeftuin_rang"] = b["buurtcode"].map(rank).astype("Int64")
    member = {}
    for _, r in (prim[prim["niveau"] != "buurt"] if len(prim) else prim).iterrows():
        for code in str(r["buurtcodes"]).split(","):
            member.setdefault(code, str(r["eenheid_code"]))
    b["proeftuin_eenheid"] = b["buurtcode"].map(member).astype("string")

    # 6. exclusions, in one table
    gem = b.set_index("buurtcode")["gemeentecode"]
    parts = [typ.uitgesloten.assign(onderdeel="typologie")]
    for s in SCORES:
        nan = b.loc[b[s].isna(), ["buurtcode"]]
        parts.append(nan.assign(onderdeel="scores",
                                reden=f"{s}: geen van de invoerkolommen heeft een waarde"))
    levels = set(pt.uitgesloten["niveau"]) | set(pt.eenheden["niveau"])
    if "buurt" in levels:
        pu = pt.uitgesloten[pt.uitgesloten["niveau"] == "buurt"].rename(
            columns={"eenheid_code": "buurtcode"})
        parts.append(pu[["buurtcode", "reden"]].assign(onderdeel="proeftuin"))
    else:
        units = pt.uitgesloten
        for _, r in units.iterrows():
            codes = pt.eenheden.loc[
                (pt.eenheden["gemeentecode"] == r["gemeentecode"])
                & (pt.eenheden["eenheid_code"] == r["eenheid_code"]), "buurtcodes"]
            for code in ",".join(codes).split(","):
                parts.append(pd.DataFrame({"buurtcode": [code], "onderdeel": ["proeftuin"],
                                           "reden": [r["reden"]]}))
    uit = pd.concat(parts, ignore_index=True)
    uit["gemeentecode"] = uit["buurtcode"].map(gem)
    uit = uit[["buurtcode", "gemeentecode", "onderdeel", "reden"]].sort_values(
        ["onderdeel", "buurtcode", "reden"], kind="mergesort").reset_index(drop=True)

    if isinstance(buurten, gpd.GeoDataFrame):
        b = gpd.GeoDataFrame(b, geometry=buurten.geometry.name, crs=buurten.crs)
    # the steps log their own remarks; only the summary line is logged here
    logger.info("analyse: %d buurten, %d kandidaten, %d instrument-matches, typologie k=%d",
                len(b), len(prim), int((inst["status"] == "past").sum()), typ.k)
    return AnalysisResult(
        buurten=b, proeftuinen=pt.kandidaten, proeftuinen_stabiliteit=pt.stabiliteit,
        instrumenten=inst, kosten_buurt=kb, kosten_gemeente=kg, typologie=typ,
        uitgesloten=uit, score_componenten=sc.componenten, proeftuin_resultaat=pt,
        notities=list(dict.fromkeys(notes)), regels_meta=meta, config=dict(config),
    )
