"""Charts: one house style, Dutch labels, Figures without pyplot state, robust to gaps."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from woonvoorraad.report import charts


def texts(fig: Figure) -> str:
    """All text drawn in a figure (titles, labels, ticks, annotations)."""
    charts.fig_to_png(fig, dpi=30)  # tick labels exist only once the figure is drawn
    out = [t.get_text() for t in fig.findobj(mpl.text.Text)]
    return "\n".join(out)


@pytest.fixture
def woningen() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 2_000
    return pd.DataFrame({
        "bouwjaar": np.where(rng.random(n) < 0.02, np.nan, rng.integers(1880, 2024, n)),
        "energielabel": rng.choice(["A+++", "A", "B", "C", "D", "E", "F", "G", None], n),
        "label_bron": rng.choice(["geregistreerd", "geschat"], n),
    })


@pytest.fixture
def buurten() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 30
    frame = pd.DataFrame({
        "buurtcode": [f"BU0001{i:04d}" for i in range(n)],
        "buurtnaam": [f"Buurt {i}" for i in range(n)],
        "gemeentecode": ["GM0001"] * 15 + ["GM0002"] * 15,
        "n_woningen": rng.integers(50, 3000, n),
        "woz_gemiddeld": rng.normal(250_000, 60_000, n),
        "inkomen_per_inwoner": rng.normal(30_000, 5_000, n),
    })
    for s in charts.SCORES:
        frame[s] = rng.random(n)
    frame.loc[3, "financiele_ruimte"] = np.nan
    return frame


def all_charts(woningen: pd.DataFrame, buurten: pd.DataFrame) -> dict[str, Callable[[], Figure]]:
    profielen = pd.DataFrame({"cluster": [1, 2], "naam": ["vergrijsd", "jong"],
                              "n_buurten": [10, 20], "aandeel_65plus_z": [1.2, -0.6],
                              "woz_gemiddeld_z": [-0.3, np.nan]})
    kosten = pd.DataFrame({"buurtnaam": ["A", "B", "C"], "kosten_b_min": [1e6, 2e6, 0.0],
                           "kosten_b_max": [3e6, 2.5e6, 0.0]})
    return {
        "bouwjaar": lambda: charts.plot_bouwjaar(woningen["bouwjaar"],
                                                      vergelijking=woningen["bouwjaar"][::2]),
        "labels": lambda: charts.plot_labels(woningen, synthetisch=True),
        "scores": lambda: charts.plot_score_profile(buurten.head(4)),
        "woz": lambda: charts.plot_woz_inkomen(buurten, gemeentecode="GM0001",
                                          kandidaten=["BU00010001"], woz_grens=250_000),
        "typologie": lambda: charts.plot_typologie(profielen, markeer=[2]),
        "kosten": lambda: charts.plot_costs(kosten),
    }


def test_every_chart_is_a_figure_without_pyplot_state(woningen: pd.DataFrame,
                                                      buurten: pd.DataFrame) -> None:
    before = plt.get_fignums()
    rc_before = dict(mpl.rcParams)
    for name, make in all_charts(woningen, buurten).items():
        fig = make()
        assert isinstance(fig, Figure), name
        png = charts.fig_to_png(fig, dpi=60)
        assert png[:8] == b"\x89PNG\r\n\x1a\n", name
        text = texts(fig)
        assert "Bron:" in text, name
    assert plt.get_fignums() == before  # nothing registered with pyplot
    assert dict(mpl.rcParams) == rc_before  # the house style does not leak


def test_dutch_labels_and_number_formats(woningen: pd.DataFrame, buurten: pd.DataFrame) -> None:
    figs = {k: v() for k, v in all_charts(woningen, buurten).items()}
    t = texts(figs["bouwjaar"])
    assert "Woningen naar bouwjaar" in t and "naoorlogs 1945–1974" in t
    assert "vóór\n1900" in t and "onbekend: 45" in t
    t = texts(figs["labels"])
    assert "A+ of beter" in t and "geschat (PBL-standaardlabel)" in t
    assert "SYNTHETISCHE DEMODATA" in t and "%" in t and "," in t
    assert "€ 250.000" in texts(figs["woz"])
    t = texts(figs["scores"])
    assert "n.b." in texts(charts.plot_score_profile(buurten.iloc[2:5])) and "Energiebehoefte" in t
    assert "► 2. jong (20)" in texts(figs["typologie"])
    assert "mln" in texts(figs["kosten"])


def test_missing_data_gives_a_clear_figure(buurten: pd.DataFrame) -> None:
    cases = [
        charts.plot_bouwjaar(pd.Series([np.nan, np.nan])),
        charts.plot_labels(pd.DataFrame(columns=["energielabel", "label_bron"])),
        charts.plot_score_profile(pd.DataFrame()),
        charts.plot_woz_inkomen(buurten.assign(woz_gemiddeld=np.nan)),
        charts.plot_woz_inkomen(buurten.drop(columns="inkomen_per_inwoner")),
        charts.plot_typologie(pd.DataFrame()),
        charts.plot_costs(pd.DataFrame({"kosten_b_min": [0.0], "kosten_b_max": [0.0]})),
    ]
    for fig in cases:
        assert "Niet beschikbaar" in texts(fig)


def test_label_classes() -> None:
    assert [charts._label_class(x) for x in ("A++++", "a", "G", None, "", "X")] == [
        "A+ of beter", "A", "G", "onbekend", "onbekend", "onbekend"]


def test_costs_chart_reads_the_new_columns_and_older_builds() -> None:
    nieuw = pd.DataFrame({"buurtnaam": ["A", "B"], "investering_naar_b_laag": [1e6, 2e6],
                          "investering_naar_b_hoog": [3e6, 2.5e6],
                          "kosten_b_min": [0.0, 0.0], "kosten_b_max": [0.0, 0.0]})
    t = texts(charts.plot_costs(nieuw))
    assert "alle woningen onder label B" in t and "mln" in t
    oud = nieuw.drop(columns=["investering_naar_b_laag", "investering_naar_b_hoog"])
    oud[["kosten_b_min", "kosten_b_max"]] = [[1e6, 2e6], [2e6, 3e6]]
    assert "woningen met label E, F of G" in texts(charts.plot_costs(oud))


def test_labels_chart_shows_model_estimates_as_expected_counts() -> None:
    # two registered D labels; two model estimates, each 30 % E and 70 % G (most likely: G)
    w = pd.DataFrame({"energielabel": ["D", "D", "G", "G"],
                      "label_bron": ["geregistreerd", "geregistreerd", "model", "model"]})
    for k in "ABCDEFG":
        w[f"p_label_{k}"] = ([1.0 if k == "D" else 0.0] * 2
                             + [{"E": 0.3, "G": 0.7}.get(k, 0.0)] * 2)
    fig = charts.plot_labels(w)
    t = texts(fig)
    assert "labelmodel" in t
    # bar E holds 0.6 expected dwellings, G 1.4 (not G two, E none)
    assert "15,0%" in t and "35,0%" in t and "50,0%" in t


@pytest.mark.parametrize("long_row", ["A", "G"])
def test_labels_chart_legend_covers_no_percentage(long_row: str) -> None:
    """The legend used to sit on the G bar's percentage when that bar was long."""
    rng = np.random.default_rng(2)
    classes = list("ABCDEFG")
    p = np.full(7, 0.08)
    p[classes.index(long_row)] = 0.5
    lab = rng.choice(classes, size=2000, p=p / p.sum())
    w = pd.DataFrame({"energielabel": lab,
                      "label_bron": np.where(rng.random(2000) < 0.5, "geregistreerd", "pbl")})
    fig = charts.plot_labels(w)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    pct = [t for t in ax.texts if "%" in t.get_text()]
    assert len(pct) == 7
    for t in pct:
        assert not legend.overlaps(t.get_window_extent(renderer)), t.get_text()
