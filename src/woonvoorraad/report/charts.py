"""Charts in one house style, with Dutch labels; every function returns a matplotlib Figure.

The figures are built with :class:`matplotlib.figure.Figure` directly, not with ``pyplot``: no
global figure state is created or leaked, nothing needs closing, and the functions work with any
backend (Agg included). The house style (:data:`HUISSTIJL`) is applied with
:func:`matplotlib.rc_context` while a figure is built, so it does not change the caller's
settings. Every chart has a title, an optional subtitle, a source line and, for demo data, a red
"synthetische demodata" mark.

Functions
---------
plot_bouwjaar
    Dwellings per build-year period, the post-war band shaded, optionally against the region.
plot_labels
    Energy labels, registered (EP-Online) versus estimated (PBL default label).
plot_score_profile
    The five scores of the proeftuin candidates as an annotated heat map.
plot_woz_inkomen
    Mean WOZ value against income per buurt, sized by dwellings, candidates marked.
plot_typologie
    Z-score profile of each typology cluster.
plot_costs
    Upgrade cost range (minimum–maximum) per buurt.
"""

from __future__ import annotations

import io
import logging
import re
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from woonvoorraad.classify.scores import SCORES
from woonvoorraad.report.format import (
    describe_column,
    fmt_euro,
    fmt_getal,
    fmt_pct,
    fmt_score,
    is_missing,
)

logger = logging.getLogger(__name__)

#: Colours of the house style.
KLEUREN: dict[str, str] = {
    "primair": "#1f4e79",
    "secundair": "#5b8db8",
    "accent": "#d9730d",
    "band": "#fbe3c4",
    "regio": "#7a7a7a",
    "licht": "#c9c9c9",
    "tekst": "#222222",
    "subtekst": "#5a5a5a",
    "waarschuwing": "#b00020",
}

#: EU energy-label colours (A+ and better share the A colour, darker).
LABEL_KLEUREN: dict[str, str] = {
    "A+ of beter": "#00773a", "A": "#00a651", "B": "#50b848", "C": "#bed630", "D": "#fff200",
    "E": "#fdb913", "F": "#f37021", "G": "#ed1c24", "onbekend": "#bdbdbd",
}
LABEL_VOLGORDE: tuple[str, ...] = tuple(LABEL_KLEUREN)

#: Matplotlib settings of the house style.
HUISSTIJL: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 9.5,
    "axes.titlelocation": "left",
    "axes.titlecolor": KLEUREN["subtekst"],
    "axes.labelcolor": KLEUREN["tekst"],
    "axes.labelsize": 9.5,
    "axes.edgecolor": "#9a9a9a",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
    # names come from the data: a buurt called "$\frac{$" must be text, not mathtext (which
    # would fail to parse and break the report)
    "text.parse_math": False,
}

BRON_BAG = "Bron: BAG (Kadaster); bewerking woonvoorraad"
BRON_LABELS = "Bron: EP-Online (RVO), PBL Vesta MAIS kentallen 2024, BAG; bewerking woonvoorraad"
BRON_CBS = "Bron: CBS Kerncijfers wijken en buurten (CC BY 4.0), BAG; bewerking woonvoorraad"
BRON_ANALYSE = "Bron: BAG, CBS, EP-Online; scores en selectie woonvoorraad"


@contextmanager
def use_house_style() -> Any:
    """Context in which new figures get the house style (restores the caller's settings)."""
    with mpl.rc_context(HUISSTIJL):
        yield


def _new_figure(breedte: float = 8.0, hoogte: float = 4.2) -> Figure:
    fig = Figure(figsize=(breedte, hoogte),
                 layout=ConstrainedLayoutEngine(rect=(0, 0.055, 1, 0.945), h_pad=0.04))
    return fig


def _add_title_and_source(fig: Figure, titel: str, bron: str | None, synthetisch: bool) -> None:
    fig.suptitle(titel, x=0.01, ha="left", fontsize=12.5, fontweight="bold",
                 color=KLEUREN["tekst"])
    if bron:
        fig.text(0.01, 0.012, bron, fontsize=7.5, color=KLEUREN["subtekst"], ha="left",
                 va="bottom")
    if synthetisch:
        fig.text(0.99, 0.012, "SYNTHETISCHE DEMODATA", fontsize=7.5, ha="right", va="bottom",
                 color=KLEUREN["waarschuwing"], fontweight="bold")


def _add_subtitle(ax: Any, text: str, *, pad: float = 6.0, breedte: float | None = None) -> None:
    """Subtitle above the axes, wrapped to (about) the width of the axes."""
    fig = ax.get_figure()
    inch = breedte if breedte is not None else fig.get_figwidth() * 0.72
    ax.set_title("\n".join(_wrap(text, max(int(inch * 12.5), 30))), pad=pad)


def _format_thousands(x: float, _pos: Any = None) -> str:
    return fmt_getal(x, 0)


def _format_percent(x: float, _pos: Any = None) -> str:
    return fmt_getal(x * 100, 0) + "%"


def plot_not_available(titel: str, reden: str, *, synthetisch: bool = False) -> Figure:
    """A small figure that says a chart cannot be drawn, and why."""
    with use_house_style():
        fig = _new_figure(8.0, 1.6)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.0, 0.5, "Niet beschikbaar: " + reden, fontsize=10, color=KLEUREN["subtekst"],
                va="center", ha="left", wrap=True)
        _add_title_and_source(fig, titel, None, synthetisch)
    return fig


def fig_to_png(fig: Figure, *, dpi: int = 144) -> bytes:
    """Render a figure to PNG bytes (Agg), without pyplot.

    Names from the data may hold characters the font lacks (an emoji in a buurt name): they
    are drawn as an empty box, and matplotlib's warning about each one is logged at debug
    level instead of reaching the report.
    """
    buf = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", message=r"Glyph \d+ .* missing from font",
                                category=UserWarning)
        fig.savefig(buf, format="png", dpi=dpi)
    for w in caught:
        if re.match(r"Glyph \d+ .* missing from font", str(w.message)):
            logger.debug("chart: %s", w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Build years
# ---------------------------------------------------------------------------------------------


def _bins(jaren: np.ndarray, van: int, tot: int, stap: int) -> tuple[np.ndarray, np.ndarray]:
    edges = np.arange(van, tot + stap, stap)
    counts = np.histogram(jaren[(jaren >= van) & (jaren < edges[-1])], bins=edges)[0]
    return edges, counts


def plot_bouwjaar(
    bouwjaar: pd.Series | Sequence[float],
    *,
    vergelijking: pd.Series | Sequence[float] | None = None,
    naoorlogs: tuple[int, int] = (1945, 1974),
    van: int = 1900,
    tot: int | None = None,
    stap: int = 5,
    titel: str = "Woningen naar bouwjaar",
    naam: str = "gemeente",
    naam_vergelijking: str = "regio",
    bron: str | None = BRON_BAG,
    synthetisch: bool = False,
) -> Figure:
    """Dwellings per build-year period with the post-war band shaded.

    Parameters
    ----------
    bouwjaar
        Build year per dwelling (NaN = unknown).
    vergelijking
        Build years of a comparison area (e.g. the region); then both are shown as a share of
        their stock.
    naoorlogs
        First and last year of the post-war period.
    van, tot, stap
        Range and width of the periods; older dwellings form one "vóór" bar.
    titel, naam, naam_vergelijking, bron, synthetisch
        Texts and the demo-data mark.

    Returns
    -------
    matplotlib.figure.Figure
    """
    jaren = pd.to_numeric(pd.Series(bouwjaar), errors="coerce").astype(float).to_numpy()
    bekend = jaren[np.isfinite(jaren)]
    if bekend.size == 0:
        return plot_not_available(titel, "geen woningen met een bekend bouwjaar",
                                  synthetisch=synthetisch)
    if tot is None:
        tot = int(max(bekend.max(), naoorlogs[1]) // stap * stap + stap)
    edges, counts = _bins(bekend, van, tot, stap)
    oud = int((bekend < van).sum())
    n = bekend.size
    aandeel = vergelijking is not None
    with use_house_style():
        fig = _new_figure(8.0, 4.0)
        ax = fig.add_subplot()
        ax.axvspan(naoorlogs[0], naoorlogs[1] + 1, color=KLEUREN["band"], zorder=0, lw=0)
        scale = 1.0 / n if aandeel else 1.0
        ax.bar(edges[:-1], counts * scale, width=stap * 0.88, align="edge",
               color=KLEUREN["primair"], label=naam, zorder=2)
        x_oud = van - stap * 1.6
        if oud:
            ax.bar([x_oud], [oud * scale], width=stap * 0.88, align="edge",
                   color=KLEUREN["secundair"], zorder=2)
        if aandeel:
            vj = pd.to_numeric(pd.Series(vergelijking), errors="coerce").astype(float).to_numpy()
            vj = vj[np.isfinite(vj)]
            if vj.size:
                _, vc = _bins(vj, van, tot, stap)
                ax.step(np.append(edges[:-1], edges[-1]), np.append(vc, vc[-1]) / vj.size,
                        where="post", color=KLEUREN["accent"], lw=1.6, label=naam_vergelijking,
                        zorder=3)
            ax.yaxis.set_major_formatter(FuncFormatter(_format_percent))
            ax.set_ylabel("aandeel van de woningen")
            ax.legend(loc="upper left")
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(_format_thousands))
            ax.set_ylabel("aantal woningen")
        in_band = ((bekend >= naoorlogs[0]) & (bekend <= naoorlogs[1])).sum()
        ymax = ax.get_ylim()[1] * 1.2
        ax.set_ylim(0, ymax)
        ax.text((naoorlogs[0] + naoorlogs[1] + 1) / 2, ymax * 0.97,
                f"naoorlogs {naoorlogs[0]}–{naoorlogs[1]}\n{fmt_pct(in_band / n)} van de woningen",
                ha="center", va="top", fontsize=8.5, color="#7a4a00")
        ticks = list(range(van, tot + 1, 10 if (tot - van) <= 130 else 20))
        ax.set_xticks(([x_oud + stap * 0.44] if oud else []) + ticks)
        ax.set_xticklabels(([f"vóór\n{van}"] if oud else []) + [str(t) for t in ticks])
        ax.set_xlim((x_oud - stap * 0.4) if oud else van - stap * 0.5, tot + stap * 0.5)
        ax.grid(axis="x", visible=False)
        onbekend = int(np.isnan(jaren).sum())
        sub = f"{naam}: {fmt_getal(n, 0)} woningen met bekend bouwjaar, per {stap} jaar"
        if onbekend:
            sub += f"; bouwjaar onbekend: {fmt_getal(onbekend, 0)}"
        _add_subtitle(ax, sub)
        _add_title_and_source(fig, titel, bron, synthetisch)
    return fig


# ---------------------------------------------------------------------------------------------
# Energy labels
# ---------------------------------------------------------------------------------------------


def _label_class(label: Any) -> str:
    if is_missing(label) or str(label).strip() == "":
        return "onbekend"
    text = str(label).strip().upper()
    if text.startswith("A+"):
        return "A+ of beter"
    return text if text in LABEL_KLEUREN else "onbekend"


def plot_labels(
    woningen: pd.DataFrame,
    *,
    titel: str = "Energielabels van de woningen",
    label_kolom: str = "energielabel",
    bron_kolom: str = "label_bron",
    bron: str | None = BRON_LABELS,
    synthetisch: bool = False,
) -> Figure:
    """Dwellings per energy label, split into registered and estimated labels.

    Parameters
    ----------
    woningen
        One row per dwelling with ``energielabel`` and ``label_bron`` (``geregistreerd``,
        ``model``, ``pbl``; older builds ``geschat``). With ``p_label_A`` … ``p_label_G`` and
        model estimates, the estimated part of each bar is the expected count (sum of the
        probabilities) instead of the count of most likely labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if len(woningen) == 0 or label_kolom not in woningen.columns:
        return plot_not_available(titel, "geen woningen met een energielabel",
                                  synthetisch=synthetisch)
    klasse = woningen[label_kolom].map(_label_class)
    bronnen = (woningen[bron_kolom].astype(object) if bron_kolom in woningen.columns
               else pd.Series("geschat", index=woningen.index))
    reg = bronnen.eq("geregistreerd")
    tab = pd.DataFrame({"klasse": klasse, "reg": reg}).groupby(["klasse", "reg"]).size()
    p_cols = [f"p_label_{k}" for k in "ABCDEFG"]
    model = bool(bronnen.eq("model").any()) and all(c in woningen.columns for c in p_cols)
    if model:  # estimated labels as expected counts (sum of probabilities), not the mode
        verwacht = woningen.loc[~reg.to_numpy(), p_cols].astype(float).sum()
        tab = tab.astype(float)
        for k in "ABCDEFG":
            tab[(k, False)] = float(verwacht[f"p_label_{k}"])
    present = {k for (k, _r), v in tab.items() if v > 0}
    volgorde = [k for k in LABEL_VOLGORDE if k in present]
    n = len(woningen)
    with use_house_style():
        fig = _new_figure(8.0, 0.45 * len(volgorde) + 1.6)
        ax = fig.add_subplot()
        y = np.arange(len(volgorde))[::-1]
        g = np.array([tab.get((k, True), 0) for k in volgorde], dtype=float)
        s = np.array([tab.get((k, False), 0) for k in volgorde], dtype=float)
        kleuren = [LABEL_KLEUREN[k] for k in volgorde]
        ax.barh(y, g, color=kleuren, edgecolor="#444444", lw=0.5, zorder=2)
        ax.barh(y, s, left=g, color=kleuren, alpha=0.45, hatch="////", edgecolor="#555555",
                lw=0.5, zorder=2)
        for yi, gi, si in zip(y, g, s, strict=True):
            ax.text(gi + si, yi, f"  {fmt_pct((gi + si) / n)}", va="center", fontsize=8.5,
                    color=KLEUREN["tekst"])
        ax.set_yticks(y)
        ax.set_yticklabels(volgorde)
        ax.xaxis.set_major_formatter(FuncFormatter(_format_thousands))
        ax.set_xlabel("aantal woningen")
        # room on the right for the legend, in the corner whose bars are shortest (it covered
        # the G bar's percentage when that bar was long)
        tot = g + s
        ax.set_xlim(0, max(tot.max() * 1.6, 1))
        half = max(len(tot) // 3, 1)
        corner = "upper right" if tot[:half].max() <= tot[-half:].max() else "lower right"
        ax.grid(axis="y", visible=False)
        ax.legend(handles=[Patch(facecolor="#9a9a9a", edgecolor="#444444", label="geregistreerd"),
                           Patch(facecolor="#9a9a9a", alpha=0.45, hatch="////",
                                 edgecolor="#555555",
                                 label="geschat (labelmodel, verwacht aantal)" if model
                                 else "geschat (PBL-standaardlabel)")],
                  loc=corner)
        _add_subtitle(ax, f"{fmt_getal(n, 0)} woningen; geregistreerd label (EP-Online) bij "
                      f"{fmt_pct(reg.sum() / n if n else np.nan)}, de rest geschat "
                      + ("met het labelmodel (som van de kansen per label)" if model
                         else "naar woningtype en bouwperiode"))
        _add_title_and_source(fig, titel, bron, synthetisch)
    return fig


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------


def _wrap(text: str, breedte: int) -> list[str]:
    return textwrap.wrap(str(text), breedte, break_long_words=False, break_on_hyphens=True)


def _shorten(text: str, breedte: int) -> str:
    return textwrap.shorten(str(text), width=breedte, placeholder="…")


def plot_score_profile(
    kandidaten: pd.DataFrame,
    *,
    scores: Sequence[str] = SCORES,
    naam_kolom: str = "buurtnaam",
    titel: str = "Scoreprofiel van de proeftuinkandidaten",
    bron: str | None = BRON_ANALYSE,
    synthetisch: bool = False,
    max_rijen: int = 12,
) -> Figure:
    """The scores (0–1) of the candidates as an annotated heat map, one row per buurt.

    Parameters
    ----------
    kandidaten
        One row per candidate, in rank order, with the score columns and ``naam_kolom``.
    scores
        Score columns (missing ones are skipped).
    """
    cols = [s for s in scores if s in kandidaten.columns]
    if len(kandidaten) == 0 or not cols:
        return plot_not_available(titel, "geen kandidaten met scores", synthetisch=synthetisch)
    data = kandidaten.head(max_rijen)
    waarden = data[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    namen = [
        f"{i}. {_shorten(n, 30)}" for i, n in enumerate(
            data[naam_kolom] if naam_kolom in data.columns else data.index, start=1)
    ]
    with use_house_style():
        fig = _new_figure(8.0, 0.42 * len(data) + 2.0)
        ax = fig.add_subplot()
        cmap = mpl.colormaps["YlOrBr"].with_extremes(bad="#eeeeee")
        ax.imshow(np.ma.masked_invalid(waarden), cmap=cmap, vmin=0, vmax=1, aspect="auto")
        for (i, j), v in np.ndenumerate(waarden):
            ax.text(j, i, fmt_score(v), ha="center", va="center", fontsize=8.5,
                    color="white" if np.isfinite(v) and v > 0.62 else KLEUREN["tekst"])
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels(["\n".join(_wrap(describe_column(c).label.replace(" (score)", ""), 14))
                            for c in cols])
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(data)))
        ax.set_yticklabels(namen)
        ax.grid(visible=False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        _add_subtitle(ax, "0 = laag, 1 = hoog; financiële ruimte: hoog = veel ruimte bij de "
                      "eigenaren", pad=34, breedte=fig.get_figwidth() * 0.6)
        _add_title_and_source(fig, titel, bron, synthetisch)
    return fig


# ---------------------------------------------------------------------------------------------
# WOZ and income
# ---------------------------------------------------------------------------------------------


def plot_woz_inkomen(
    buurten: pd.DataFrame,
    *,
    gemeentecode: str | None = None,
    kandidaten: Iterable[str] = (),
    inkomen_kolom: str = "inkomen_per_inwoner",
    woz_grens: float | None = None,
    titel: str = "WOZ-waarde en inkomen per buurt",
    bron: str | None = BRON_CBS,
    synthetisch: bool = False,
) -> Figure:
    """Mean WOZ value against income per buurt; the gemeente's buurten highlighted.

    Parameters
    ----------
    buurten
        Buurten with ``woz_gemiddeld``, ``inkomen_kolom``, ``n_woningen`` and ``gemeentecode``.
    gemeentecode
        Gemeente to highlight; the other buurten are drawn in grey as the comparison.
    kandidaten
        Buurtcodes of proeftuin candidates (black outline).
    woz_grens
        WOZ limit of the target group (dashed line).
    """
    need = {"woz_gemiddeld", inkomen_kolom}
    if not need <= set(buurten.columns):
        return plot_not_available(titel, "WOZ-waarde of inkomen ontbreekt in de CBS-gegevens",
                                  synthetisch=synthetisch)
    x = pd.to_numeric(buurten["woz_gemiddeld"], errors="coerce")
    y = pd.to_numeric(buurten[inkomen_kolom], errors="coerce")
    ok = x.notna() & y.notna()
    if gemeentecode is not None:
        eigen = buurten["gemeentecode"].astype(str).eq(gemeentecode)
    else:
        eigen = pd.Series(True, index=buurten.index)
    if not (ok & eigen).any():
        return plot_not_available(titel, "WOZ-waarde of inkomen ontbreekt in de CBS-gegevens",
                                  synthetisch=synthetisch)
    size = pd.to_numeric(buurten.get("n_woningen", pd.Series(100, index=buurten.index)),
                         errors="coerce").fillna(0)
    s = 12 + 160 * np.sqrt(size / max(size.max(), 1))
    kand = buurten["buurtcode"].astype(str).isin(set(map(str, kandidaten)))
    with use_house_style():
        fig = _new_figure(8.0, 4.6)
        ax = fig.add_subplot()
        rest = ok & ~eigen
        if rest.any():
            ax.scatter(x[rest], y[rest], s=s[rest], color=KLEUREN["licht"], alpha=0.7,
                       lw=0, label="overige buurten in de regio", zorder=2)
        mine = ok & eigen & ~kand
        ax.scatter(x[mine], y[mine], s=s[mine], color=KLEUREN["primair"], alpha=0.75,
                   edgecolor="white", lw=0.5, label="buurten in de gemeente", zorder=3)
        kk = ok & eigen & kand
        if kk.any():
            ax.scatter(x[kk], y[kk], s=s[kk], color=KLEUREN["accent"], edgecolor="black",
                       lw=1.2, label="proeftuinkandidaten", zorder=4)
        if woz_grens is not None and np.isfinite(woz_grens):
            ax.axvline(woz_grens, color=KLEUREN["waarschuwing"], ls="--", lw=1, zorder=1)
            ax.text(woz_grens, ax.get_ylim()[1], f" WOZ-grens doelgroep {fmt_euro(woz_grens)}",
                    color=KLEUREN["waarschuwing"], fontsize=8, va="top", ha="left")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_euro(v)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_euro(v)))
        ax.set_xlabel("gemiddelde WOZ-waarde van de woningen")
        ax.set_ylabel(describe_column(inkomen_kolom).label.lower())
        ax.legend(loc="upper left", markerscale=0.6)
        missing = int((eigen & ~ok).sum())
        sub = "grootte van de stip: aantal woningen"
        if missing:
            sub += f"; {missing} buurt(en) zonder WOZ of inkomen niet getoond"
        _add_subtitle(ax, sub)
        _add_title_and_source(fig, titel, bron, synthetisch)
    return fig


# ---------------------------------------------------------------------------------------------
# Typology
# ---------------------------------------------------------------------------------------------


def plot_typologie(
    profielen: pd.DataFrame,
    *,
    kenmerken: Sequence[str] | None = None,
    markeer: Iterable[int] = (),
    titel: str = "Profielen van de buurttypen",
    bron: str | None = BRON_ANALYSE,
    synthetisch: bool = False,
) -> Figure:
    """Z-score means of the typology features per cluster (diverging heat map).

    Parameters
    ----------
    profielen
        One row per cluster with ``cluster``, ``naam``, ``n_buurten`` and ``<kenmerk>_z``
        columns (:attr:`woonvoorraad.classify.typologie.TypologieResultaat.profielen`).
    kenmerken
        Features to show (default: every ``*_z`` column).
    markeer
        Cluster numbers to mark (e.g. those present in the gemeente).
    """
    if kenmerken is None:
        kenmerken = [c[:-2] for c in profielen.columns if c.endswith("_z")]
    kenmerken = [k for k in kenmerken if f"{k}_z" in profielen.columns]
    if len(profielen) == 0 or not kenmerken:
        return plot_not_available(titel, "geen typologie in deze build", synthetisch=synthetisch)
    z = profielen[[f"{k}_z" for k in kenmerken]].apply(pd.to_numeric, errors="coerce")
    z = z.to_numpy(dtype=float)
    markeer = set(markeer)
    rijen = []
    for row in profielen.itertuples(index=False):
        r = row._asdict()
        label = f"{r.get('cluster', '')}. {_shorten(r.get('naam', ''), 38)}"
        if "n_buurten" in r and not is_missing(r["n_buurten"]):
            label += f" ({int(r['n_buurten'])})"
        rijen.append(("► " if r.get("cluster") in markeer else "") + label)
    with use_house_style():
        fig = _new_figure(max(8.0, 0.75 * len(kenmerken) + 4.0), 0.48 * len(profielen) + 2.4)
        ax = fig.add_subplot()
        ax.imshow(np.clip(z, -2, 2), cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
        for (i, j), v in np.ndenumerate(z):
            ax.text(j, i, fmt_getal(v, 1, na="–"), ha="center", va="center", fontsize=8,
                    color="white" if np.isfinite(v) and abs(v) > 1.3 else KLEUREN["tekst"])
        ax.set_xticks(range(len(kenmerken)))
        ax.set_xticklabels(["\n".join(_wrap(describe_column(k).label, 13)) for k in kenmerken],
                           fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(rijen)))
        ax.set_yticklabels(rijen)
        ax.grid(visible=False)
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        _add_subtitle(ax, "gemiddelde z-score per kenmerk: rood = hoger, blauw = lager dan "
                      "gemiddeld; (n) = aantal buurten" + ("; ► = komt voor in de gemeente"
                                                           if markeer else ""), pad=40,
                      breedte=fig.get_figwidth() * 0.6)
        _add_title_and_source(fig, titel, bron, synthetisch)
    return fig


# ---------------------------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------------------------


def plot_costs(
    kosten: pd.DataFrame,
    *,
    min_kolom: str | None = None,
    max_kolom: str | None = None,
    naam_kolom: str = "buurtnaam",
    top: int = 12,
    doel: str = "B",
    titel: str | None = None,
    bron: str | None = "Bron: PBL Vesta MAIS kentallen 2024, BAG, EP-Online; bewerking "
                       "woonvoorraad",
    synthetisch: bool = False,
) -> Figure:
    """Upgrade cost range per buurt (horizontal range bars, the largest ``top`` buurten).

    Parameters
    ----------
    kosten
        Per buurt the low and high investment (``kosten_buurt.csv``).
    min_kolom, max_kolom
        The low and high columns; default ``investering_naar_b_laag``/``_hoog`` (every
        dwelling below B), or ``kosten_b_min``/``_max`` (E/F/G only) of an older build.
    """
    titel = titel or f"Investering naar label {doel} per buurt (bandbreedte)"
    alleen_efg = False
    if min_kolom is None or max_kolom is None:
        alleen_efg = "investering_naar_b_laag" not in kosten.columns
        min_kolom, max_kolom = (("kosten_b_min", "kosten_b_max") if alleen_efg
                                else ("investering_naar_b_laag", "investering_naar_b_hoog"))
    if not {min_kolom, max_kolom} <= set(kosten.columns):
        return plot_not_available(titel, "geen kostenraming in deze build",
                                  synthetisch=synthetisch)
    d = kosten.assign(_lo=pd.to_numeric(kosten[min_kolom], errors="coerce"),
                      _hi=pd.to_numeric(kosten[max_kolom], errors="coerce"))
    d = d[d["_hi"].notna() & (d["_hi"] > 0)].sort_values("_hi", ascending=False).head(top)
    if d.empty:
        return plot_not_available(titel, "geen woningen onder label B met een kostenraming",
                                  synthetisch=synthetisch)
    with use_house_style():
        fig = _new_figure(8.0, 0.38 * len(d) + 1.8)
        ax = fig.add_subplot()
        y = np.arange(len(d))[::-1]
        ax.hlines(y, d["_lo"] / 1e6, d["_hi"] / 1e6, color=KLEUREN["primair"], lw=6, zorder=2)
        ax.plot(d["_lo"] / 1e6, y, "|", color="black", ms=10, zorder=3)
        ax.plot(d["_hi"] / 1e6, y, "|", color="black", ms=10, zorder=3)
        names = d[naam_kolom] if naam_kolom in d.columns else d.get("buurtcode", d.index)
        ax.set_yticks(y)
        ax.set_yticklabels([_shorten(n, 34) for n in names])
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _p: "€ " + fmt_getal(v, 0 if float(v).is_integer() else 1) + " mln"))
        ax.set_xlabel("investering in miljoen euro")
        ax.set_xlim(left=0)
        ax.grid(axis="y", visible=False)
        wie = ("woningen met label E, F of G" if alleen_efg
               else "alle woningen onder label B (verwacht)")
        _add_subtitle(ax, f"{wie}; lage en hoge variant; de {len(d)} "
                      "buurten met de hoogste raming", breedte=fig.get_figwidth() * 0.6)
        _add_title_and_source(fig, titel, bron, synthetisch)
    return fig
