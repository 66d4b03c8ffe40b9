"""The notebook display helper: report formatting for any DataFrame (issue 18)."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pandas as pd
import pytest

from woonvoorraad.report.display import banner, readable, table, text
from woonvoorraad.report.html import SCHUIF_HINT, html_table


def cells(html: str) -> list[list[str]]:
    """The text of every row's cells (header included), tags stripped."""
    body = html.split("</style>", 1)[-1]
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


def test_numbers_booleans_ranks_and_labels_the_dutch_way() -> None:
    frame = pd.DataFrame({"gemeentenaam": ["Emmen", "Borger-Odoorn"],
                          "n_woningen": [61916, 12040], "rang": [3.0, 12.0],
                          "aandeel_koop": [0.625, 0.5], "woz_gemiddeld": [215000.0, 260000.0],
                          "kortlijst": [True, False], "oppervlakte": [1760.0, 96.0]})
    t = table(frame)
    rows = cells(t)
    assert rows[0] == ["Gemeente", "Woningen (BAG)", "Rang", "Aandeel koopwoningen",
                       "Gemiddelde WOZ-waarde", "Kortlijst", "Oppervlakte"]
    assert rows[1] == ["Emmen", "61.916", "3", "62,5%", "€\u00a0215.000", "ja", "1.760"]
    assert rows[2] == ["Borger-Odoorn", "12.040", "12", "50,0%", "€\u00a0260.000", "nee", "96"]
    assert t.startswith("<style>") and "table.wv-tabel" in t  # carries the report CSS


def test_text_is_left_aligned_and_never_cut() -> None:
    reden = "energiebehoefte >= 0.4 en aandeel_koop >= 0.4 " * 12  # 552 characters
    t = table(pd.DataFrame({"regel": [reden], "n_buurten": [3]}))
    assert html.unescape(cells(t)[1][0]) == reden and "…" not in t
    # the text cell has no numeric class (left-aligned); the count has one (right, nowrap)
    assert re.search(r"<td>energiebehoefte", t) and '<td class="wv-num">3</td>' in t
    # JupyterLab right-aligns output cells; the CSS overrides it with a more specific rule
    assert ".jp-RenderedHTMLCommon table.wv-tabel th, .jp-RenderedHTMLCommon table.wv-tabel td" \
        in t


def test_a_crosstab_shows_its_index_and_its_total_row() -> None:
    df = pd.DataFrame({"woningtype": ["hoek", "tussen", "hoek", "hoek"] * 20000,
                       "naoorlogs": [True, False, True, False] * 20000})
    ct = pd.crosstab(df["woningtype"], df["naoorlogs"].map({True: "naoorlogs", False: "overig"}),
                     margins=True, margins_name="totaal")
    t = table(ct)
    rows = cells(t)
    assert rows[0] == ["Woningtype", "Naoorlogs", "Overig", "Totaal"]
    assert rows[1] == ["hoek", "40.000", "20.000", "60.000"]
    assert rows[-1] == ["totaal", "40.000", "40.000", "80.000"]
    assert t.count('class="wv-totaal"') == 1


def test_a_pivot_of_ranks_with_readable_variants() -> None:
    long = pd.DataFrame({"variant": ["financiele_ruimte +20%", "financiele_ruimte +20%",
                                     "energiebehoefte −20%", "energiebehoefte −20%"],
                         "kandidaat": ["Noord", "Zuid", "Noord", "Zuid"],
                         "rang": [1, 2, 2, 1]})
    pivot = long.assign(variant=long["variant"].map(readable)).pivot_table(
        index="variant", columns="kandidaat", values="rang")  # mean -> float 1.0, 2.0
    rows = cells(table(pivot, formaten="getal0"))
    assert rows[0] == ["Variant", "Noord", "Zuid"]
    assert rows[1:] == [["Energiebehoefte −20%", "2", "1"], ["Financiële ruimte +20%", "1", "2"]]


def test_a_multiindex_groupby_and_dates() -> None:
    frame = pd.DataFrame({"gemeentenaam": ["A", "A"], "buurtnaam": ["x", "y"],
                          "registratiedatum": pd.to_datetime(["2015-04-03", "2020-12-31"])})
    grouped = frame.set_index(["gemeentenaam", "buurtnaam"])
    rows = cells(table(grouped))
    assert rows[0] == ["Gemeente", "Buurt", "Registratiedatum"]
    assert rows[1] == ["A", "x", "3 april 2015"] and rows[2] == ["A", "y", "31 december 2020"]


def test_long_tables_say_how_many_rows_and_values_are_escaped() -> None:
    frame = pd.DataFrame({"buurtnaam": ["<script>alert(1)</script>"] * 75})
    t = table(frame, max_rijen=10)
    assert len(cells(t)) == 11 and "Eerste 10 van 75 rijen." in t
    assert "<script>alert" not in t.split("</style>", 1)[-1]
    assert len(cells(table(frame, max_rijen=None))) == 76


def test_bad_columns_and_formats_are_named() -> None:
    frame = pd.DataFrame({"n_woningen": [1]})
    with pytest.raises(ValueError, match="'n_wonigen' is not in the table"):
        table(frame, ["n_wonigen"])
    with pytest.raises(ValueError, match="unknown format 'procent' for column 'n_woningen'"):
        table(frame, formaten={"n_woningen": "procent"})


def test_text_and_banner() -> None:
    assert str(text("{n} panden", n=67936)) == "<p>67.936 panden</p>"
    synthetic = banner(SimpleNamespace(synthetic=True))  # type: ignore[arg-type]
    assert synthetic.startswith("<style>") and ".wv-banner-synth {" in synthetic
    assert 'class="wv-banner-synth"' in synthetic and "SYNTHETISCHE DEMODATA" in synthetic
    assert banner(SimpleNamespace(synthetic=False)) == ""  # type: ignore[arg-type]


def test_wide_tables_get_a_scroll_hint() -> None:
    frame = pd.DataFrame({f"n_{i}": [i] for i in range(4)})
    assert f'<p class="wv-schuif">{SCHUIF_HINT}</p><div class="wv-tabel-kader">' in \
        html_table(frame, list(frame.columns))
    assert "wv-schuif" not in html_table(frame, list(frame.columns)[:3])
