"""The two scenario charts: monthly balance per income group, funding gap per buurt.

Plain matplotlib (Agg), Dutch labels; a synthetic build says SYNTHETISCHE DEMODATA on every chart.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

_GROEPEN = (("onder_daeb", "onder DAEB"), ("midden", "midden"), ("boven", "boven midden"),
            ("doelgroep", "doelgroep"))
BANNER = "SYNTHETISCHE DEMODATA"


def _banner(fig: Figure, synthetic: bool) -> None:
    if synthetic:
        fig.get_layout_engine().set(rect=(0, 0, 1, 0.95))
        fig.text(0.01, 0.995, BANNER, fontsize=8, ha="left", va="top", color="#b00020",
                 fontweight="bold")


def _weighted(frame: pd.DataFrame, col: str, weight: str) -> float:
    v = pd.to_numeric(frame[col], errors="coerce")
    w = pd.to_numeric(frame[weight], errors="coerce").fillna(0.0)
    ok = v.notna() & (w > 0)
    return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")


def balance_chart(groepen: pd.DataFrame, namen: dict[str, str], path: Path, *,
                  synthetic: bool) -> Path:
    """Bars: mean net monthly cost per income group and scenario (whiskers: investment range).

    The mean is weighted by the owners the package applies to (``n_eigenaren_pakket``); groups
    without owner counts (no income distribution in the build) are weighted by dwellings.
    """
    with mpl.rc_context({"font.size": 9}):
        fig = Figure(figsize=(8.0, 4.2), layout="constrained")
        _banner(fig, synthetic)
        ax = fig.add_subplot()
        scen = list(dict.fromkeys(groepen["scenario"]))
        width = 0.8 / max(len(scen), 1)
        x = np.arange(len(_GROEPEN))
        for i, s in enumerate(scen):
            part = groepen[groepen["scenario"] == s]
            mid, lo, hi = [], [], []
            for g, _ in _GROEPEN:
                gp = part[part["inkomensgroep"] == g].copy()
                w = "n_eigenaren_pakket"
                if gp[w].fillna(0).sum() <= 0:
                    gp[w] = 1.0
                mid.append(_weighted(gp, "netto_maandlast", w))
                lo.append(_weighted(gp, "netto_maandlast_inv_laag", w))
                hi.append(_weighted(gp, "netto_maandlast_inv_hoog", w))
            mid_a, lo_a, hi_a = np.array(mid), np.array(lo), np.array(hi)
            err = np.vstack([np.nan_to_num(mid_a - lo_a), np.nan_to_num(hi_a - mid_a)])
            ax.bar(x + (i - (len(scen) - 1) / 2) * width, mid_a, width, yerr=np.abs(err),
                   capsize=2, label=namen.get(s, s))
            for j in np.flatnonzero(~np.isfinite(mid_a)):
                if i == 0:
                    ax.text(x[j], 0, "onbekend", ha="center", va="bottom", fontsize=8)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, [lab for _, lab in _GROEPEN])
        ax.set_ylabel("netto maandlast (euro/maand)\nlening − energiebesparing")
        ax.set_title("Maandelijkse balans per inkomensgroep (onder 0: houdt geld over)")
        ax.legend(fontsize=8, frameon=False)
        fig.savefig(path, dpi=130)
    return path


def gap_chart(buurt: pd.DataFrame, namen: dict[str, str], path: Path, *, synthetic: bool,
              top: int = 12) -> Path:
    """Horizontal bars: the funding gap per buurt (central, with its range), largest first."""
    with mpl.rc_context({"font.size": 9}):
        scen = list(dict.fromkeys(buurt["scenario"]))
        fig = Figure(figsize=(8.0, 1.0 + (0.6 + 0.2 * top) * max(len(scen), 1)),
                     layout="constrained")
        _banner(fig, synthetic)
        axes = fig.subplots(max(len(scen), 1), 1, squeeze=False)[:, 0]
        for ax, s in zip(axes, scen, strict=True):
            part = buurt[buurt["scenario"] == s].sort_values("gat_euro", ascending=False)
            part = part[part["gat_euro"].fillna(0) > 0].head(top).iloc[::-1]
            naam = part.get("buurtnaam", part["buurtcode"]).fillna(part["buurtcode"]).astype(str)
            y = np.arange(len(part))
            mid = part["gat_euro"].to_numpy(dtype=float) / 1e6
            lo = part["gat_euro_laag"].to_numpy(dtype=float) / 1e6
            hi = part["gat_euro_hoog"].to_numpy(dtype=float) / 1e6
            ax.barh(y, mid, color="#c0504d",
                    xerr=np.abs(np.vstack([np.nan_to_num(mid - lo), np.nan_to_num(hi - mid)])),
                    capsize=2)
            ax.set_yticks(y, [t[:28] for t in naam], fontsize=7)
            ax.set_xlabel("financieringsgat (mln euro)")
            ax.set_title(namen.get(s, s), fontsize=9)
            if not len(part):
                ax.text(0.5, 0.5, "geen gat", ha="center", transform=ax.transAxes)
        fig.suptitle("Financieringsgat van de doelgroep per buurt (met bereik)")
        fig.savefig(path, dpi=130)
    return path
