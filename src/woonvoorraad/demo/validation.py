"""A demo build checked against the generator's dwelling-level truth (SYNTHETIC figures).

The demo generator knows what no real input does: every dwelling's current energy
performance, labelled or not (``waarheid_labels.parquet``), and, where the generator writes
it, each dwelling's tenure, WOZ value and household income (``waarheid_woningen.parquet``).
:func:`check_build` compares a build's estimates with that truth and returns the figures the
demo build records in ``manifest.json["waarheid"]`` and the reports show.

These figures validate the *method* on synthetic data; they say nothing about a real
municipality.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.config import Config, default_config, policy_value
from woonvoorraad.demo.region import TRUTH_DWELLINGS_FILE, TRUTH_FILE

logger = logging.getLogger(__name__)

_EFG = ("E", "F", "G")
_P_EFG = ["p_label_E", "p_label_F", "p_label_G"]
#: Buurten with fewer dwellings in a comparison are left out of per-buurt errors.
MIN_BUURT = 10


def _round(value: float, digits: int = 4) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def _coverage(share: pd.Series, lo: pd.Series, hi: pd.Series) -> float:
    ok = share.notna() & lo.notna() & hi.notna()
    inside = (share[ok] >= lo[ok] - 1e-9) & (share[ok] <= hi[ok] + 1e-9)
    return float(inside.mean()) if ok.any() else float("nan")


def check_labels(dwellings: pd.DataFrame, buurten: pd.DataFrame, truth: pd.DataFrame
                 ) -> dict[str, Any]:
    """Label estimates against the true labels of the demo's dwellings.

    Parameters
    ----------
    dwellings
        The build's dwellings (``vbo_id``, ``buurtcode``, ``naoorlogs``, ``label_bron``,
        ``energielabel``, ``p_label_*``).
    buurten
        The build's buurt table (``aandeel_label_efg`` and its 90 % interval, also post-war).
    truth
        :func:`woonvoorraad.demo.region.read_true_labels`.

    Returns
    -------
    dict
        ``onbekend_*``: the dwellings without a registered label (estimated): per-buurt mean
        absolute error and bias of their E/F/G share, and the post-war ones' share against the
        truth; ``geregistreerd_*``: how far the registered labels themselves are from the
        current truth (labels registered before a later renovation); ``dekking_*``: the share
        of buurten whose true E/F/G share lies in the 90 % interval, against the current truth
        and against the truth the interval describes (registered labels as registered,
        estimated ones as they truly are).
    """
    cols = ["vbo_id", "buurtcode", "naoorlogs", "label_bron", "energielabel", *_P_EFG]
    d = dwellings[cols].merge(truth[["vbo_id", "energielabel_waar"]], on="vbo_id", how="left")
    missing = int(d["energielabel_waar"].isna().sum())
    d = d[d["energielabel_waar"].notna()]
    reg = (d["label_bron"].astype("string") == "geregistreerd").fillna(False).to_numpy()
    waar = d["energielabel_waar"].isin(_EFG).to_numpy()
    est = d[_P_EFG].sum(axis=1).to_numpy(dtype=float)
    registered = d["energielabel"].astype("string").str[0].isin(_EFG).fillna(False).to_numpy()
    # the truth the interval describes: registered labels hold, estimated ones are drawn
    as_described = np.where(reg, registered, waar)
    frame = pd.DataFrame({"buurtcode": d["buurtcode"].to_numpy(), "waar": waar, "est": est,
                          "beschreven": as_described,
                          "naoorlogs": d["naoorlogs"].fillna(False).to_numpy(dtype=bool),
                          "reg": reg})
    un = frame[~frame["reg"]]
    g = un.groupby("buurtcode").agg(n=("waar", "size"), waar=("waar", "mean"),
                                    est=("est", "mean"))
    g = g[g["n"] >= MIN_BUURT]
    un_post = un[un["naoorlogs"]]
    out: dict[str, Any] = {
        "n_woningen": len(frame), "n_zonder_waarheid": missing,
        "onbekend_n": len(un), "onbekend_buurten": len(g),
        "onbekend_mae_buurt_efg": _round((g["est"] - g["waar"]).abs().mean()),
        "onbekend_bias_buurt_efg": _round((g["est"] - g["waar"]).mean()),
        "onbekend_naoorlogs_efg_geschat": _round(un_post["est"].mean()),
        "onbekend_naoorlogs_efg_waar": _round(un_post["waar"].mean()),
        "naoorlogs_efg_geschat": _round(frame.loc[frame["naoorlogs"], "est"].sum(), 1),
        "naoorlogs_efg_waar": int(frame.loc[frame["naoorlogs"], "waar"].sum()),
        "geregistreerd_efg": _round(frame.loc[frame["reg"], "est"].mean()),
        "geregistreerd_efg_waar": _round(frame.loc[frame["reg"], "waar"].mean()),
        "geregistreerd_anders_dan_waar": _round(float(np.mean(
            d.loc[reg, "energielabel"].astype("string").str[0].to_numpy()
            != d.loc[reg, "energielabel_waar"].to_numpy())) if reg.any() else float("nan")),
    }
    b = buurten.set_index("buurtcode")
    for suffix, rows, share, lo, hi in (
            ("", frame, "aandeel_label_efg", "aandeel_label_efg_p05", "aandeel_label_efg_p95"),
            ("_naoorlogs", frame[frame["naoorlogs"]], "aandeel_label_efg_verwacht_naoorlogs",
             "aandeel_label_efg_naoorlogs_p05", "aandeel_label_efg_naoorlogs_p95")):
        if not {share, lo, hi} <= set(b.columns):
            continue
        per = rows.groupby("buurtcode").agg(n=("waar", "size"), waar=("waar", "mean"),
                                            beschreven=("beschreven", "mean"))
        per = per[per["n"] >= MIN_BUURT].join(b[[share, lo, hi]], how="inner")
        out[f"dekking_90{suffix}"] = _round(_coverage(per["waar"], per[lo], per[hi]), 3)
        out[f"dekking_90{suffix}_beschreven"] = _round(
            _coverage(per["beschreven"], per[lo], per[hi]), 3)
        out[f"dekking_buurten{suffix}"] = len(per)
    return out


def true_target_group(dwellings: pd.DataFrame, buurten: pd.DataFrame, truth: pd.DataFrame,
                      config: Config) -> pd.DataFrame:
    """Per buurt: the true cheap owner-occupied post-war dwellings and the true target group.

    A dwelling is in ``goedkoop_koop`` when it is post-war, owner-occupied and its WOZ is under
    the buurt's ``woz_grens``; in ``doelgroep`` when besides that it is occupied and its
    household's income is under the DAEB limit of ``[scores] daeb_jaar`` for its household
    size (the limit the estimate uses, so that the check tests the estimate, not the policy).
    """
    jaar = int(config["scores"]["daeb_jaar"])
    een = policy_value(config, "daeb_eenpersoons", jaar)
    meer = policy_value(config, "daeb_meerpersoons", jaar)
    d = dwellings[["vbo_id", "buurtcode", "naoorlogs"]].merge(truth, on="vbo_id", how="inner")
    grens = buurten.set_index("buurtcode")["woz_grens"].reindex(d["buurtcode"]).to_numpy()
    post = d["naoorlogs"].fillna(False).to_numpy(dtype=bool)
    cheap = post & (d["eigendom"].astype("string") == "koop").fillna(False).to_numpy() & (
        d["woz"].to_numpy(dtype=float) < grens)
    size = d["huishoudgrootte"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    limit = np.where(size <= 1, een, meer)
    income = d["inkomen_huishouden"].to_numpy(dtype=float)
    target = cheap & d["bewoond"].fillna(False).to_numpy(dtype=bool) & (income < limit)
    return (pd.DataFrame({"buurtcode": d["buurtcode"].to_numpy(), "goedkoop_koop": cheap,
                          "doelgroep": target})
            .groupby("buurtcode").sum().astype(float))


def check_target_group(dwellings: pd.DataFrame, buurten: pd.DataFrame, truth: pd.DataFrame,
                       config: Config) -> dict[str, Any]:
    """The target-group estimate against the demo's dwelling-level truth.

    Returns the totals (estimate, low, high, truth), the bias of the total
    (estimate / truth − 1), the Spearman rank correlation over buurten, and the share of
    buurten whose true count lies in the low–high range, for ``n_goedkoop_koop`` and
    ``n_doelgroep``.
    """
    true = true_target_group(dwellings, buurten, truth, config)
    b = buurten.set_index("buurtcode")
    out: dict[str, Any] = {"daeb_jaar": int(config["scores"]["daeb_jaar"])}
    for col, key in (("n_goedkoop_koop", "goedkoop_koop"), ("n_doelgroep", "doelgroep")):
        if col not in b.columns:
            out[col] = "niet in deze build"
            continue
        j = b[[col, f"{col}_laag", f"{col}_hoog"]].join(true[key], how="inner").dropna()
        est, lo, hi, tru = (j[c].to_numpy(float) for c in (col, f"{col}_laag", f"{col}_hoog",
                                                             key))
        total = float(tru.sum())
        out[col] = {
            "geschat": _round(est.sum(), 1), "laag": _round(lo.sum(), 1),
            "hoog": _round(hi.sum(), 1), "waar": total,
            "bias": _round(est.sum() / total - 1 if total else float("nan"), 3),
            "rangcorrelatie": _round(float(pd.Series(est).corr(pd.Series(tru),
                                                               method="spearman")), 3),
            "binnen_bereik_buurten": _round(float(np.mean((tru >= lo - 0.5)
                                                          & (tru <= hi + 0.5))), 3),
            "buurten": len(j)}
    return out


def check_build(raw_folder: str | Path, buurten: pd.DataFrame,
                dwellings: pd.DataFrame | None, *, config: Config | None = None
                ) -> dict[str, Any]:
    """Every truth check the demo's raw folder allows (``manifest["waarheid"]``).

    Examples
    --------
    >>> check_build("/nonexistent", pd.DataFrame(), None)["labels"]
    'geen waarheid: /nonexistent/waarheid_labels.parquet ontbreekt'
    """
    folder = Path(raw_folder)
    out: dict[str, Any] = {"let_op": "synthetische demodata: toetst de methode, niet een "
                                     "echte gemeente"}
    path = folder / TRUTH_FILE
    if dwellings is None or not path.is_file():
        out["labels"] = f"geen waarheid: {path} ontbreekt"
    else:
        out["labels"] = check_labels(dwellings, buurten, pd.read_parquet(path))
        logger.info("demo truth, labels: unlabelled per-buurt E/F/G error %.3f (bias %+.3f); "
                    "90%% interval covers %.0f%% of buurten (%.0f%% of the truth it describes)",
                    out["labels"]["onbekend_mae_buurt_efg"] or np.nan,
                    out["labels"]["onbekend_bias_buurt_efg"] or np.nan,
                    100 * (out["labels"].get("dekking_90") or np.nan),
                    100 * (out["labels"].get("dekking_90_beschreven") or np.nan))
    path = folder / TRUTH_DWELLINGS_FILE
    if dwellings is None or not path.is_file():
        out["doelgroep"] = f"geen waarheid: {path} ontbreekt"
    else:
        out["doelgroep"] = check_target_group(dwellings, buurten, pd.read_parquet(path),
                                              config or default_config())
        for col in ("n_goedkoop_koop", "n_doelgroep"):
            r = out["doelgroep"].get(col)
            if isinstance(r, dict):
                logger.info("demo truth, %s: estimate %.0f (%.0f-%.0f) vs true %.0f, bias %+.1f%%, "
                            "rank correlation %.2f", col, r["geschat"], r["laag"], r["hoog"],
                            r["waar"], 100 * (r["bias"] or np.nan), r["rangcorrelatie"] or np.nan)
    return out
