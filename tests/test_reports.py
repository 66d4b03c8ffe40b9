"""Reports: Dutch formatting, data access, report sections, batch rendering and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import nbformat
import numpy as np
import pandas as pd
import pytest
import shapely
from nbformat.v4 import new_code_cell, new_notebook, new_output

import woonvoorraad.report.template as report_template
from woonvoorraad.cli import main
from woonvoorraad.demo import build_demo
from woonvoorraad.errors import InputError
from woonvoorraad.report.export import export_html
from woonvoorraad.report.format import (
    esc,
    fmt_aantal,
    fmt_datum,
    fmt_euro,
    fmt_euro_kort,
    fmt_getal,
    fmt_jaar,
    fmt_pct,
    fmt_score,
    fmt_waarde,
    safe_filename,
)
from woonvoorraad.report.html import html_table
from woonvoorraad.report.render import RunResult, render_reports
from woonvoorraad.report.run import (
    Run,
    candidate_buurten,
    candidates_of,
    gemeente_summary,
    load_run,
)
from woonvoorraad.report.sections import (
    chart_woz_inkomen,
    check_report_parameters,
    section_bronnen,
    section_doelgroep,
    section_instrumenten,
    section_kaart,
    section_kerncijfers,
    section_kosten,
    section_label_zekerheid,
    section_labels,
    section_proeftuinen,
    section_scores,
    section_typologie,
    title_block,
)
from woonvoorraad.report.template import KernelNotFoundError, ReportParameterError, find_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "notebooks" / "templates" / "gemeente_rapport.ipynb"
KERNELSPEC = {"kernelspec": {"name": "woonvoorraad", "display_name": "woonvoorraad",
                             "language": "python"}}
CODE_CELL_MARKERS = ('class="input"', "jp-InputArea", "input_area", "sections.section_",
                     "load_run")
REMOTE_SCRIPT = re.compile(r"""<(script|link)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", re.I)


# ---------------------------------------------------------------------------------------------
# Fixtures: a tiny hand-made build, the demo build and its rendered reports
# ---------------------------------------------------------------------------------------------

EVIL_BUURT = "<script>alert('buurt')</script>"
EVIL_GEMEENTE = "../../etc/passwd"


def write_tiny_build(out: Path) -> Path:
    """A build folder without classification: 3 gemeenten, 6 buurten, no WOZ or tenure."""
    out.mkdir(parents=True, exist_ok=True)
    names = {"GM0001": "Oostdorp", "GM0002": "'s-Gravenhage", "GM0003": EVIL_GEMEENTE}
    rows, geoms = [], []
    rng = np.random.default_rng(7)
    for g, (code, naam) in enumerate(names.items()):
        for b in range(2):
            x, y = 230_000 + g * 1_000 + b * 500, 520_000
            n = int(rng.integers(100, 900))
            no = int(n * 0.4)
            rows.append({
                "buurtcode": f"BU{code[2:]}00{b:02d}",
                "buurtnaam": EVIL_BUURT if (g, b) == (0, 0) else f"Buurt {g}-{b}",
                "wijkcode": f"WK{code[2:]}00", "wijknaam": "Centrum", "gemeentecode": code,
                "gemeentenaam": naam, "n_woningen": n, "n_naoorlogs": no,
                "aandeel_naoorlogs": no / n, "n_label_geregistreerd": n // 2,
                "label_dekking": (n // 2) / n, "n_label_efg": n // 4,
                "aandeel_label_efg": (n // 4) / n, "aandeel_label_efg_geregistreerd": 0.3,
                "aantal_inwoners": 2.1 * n, "aandeel_65plus": 0.2 + 0.01 * b,
                "woz_gemiddeld": np.nan, "aandeel_koop": np.nan, "inkomen_per_inwoner": np.nan,
                "n_doelgroep": np.nan, "aandeel_doelgroep": np.nan, "cbs_jaar": 2022,
            })
            geoms.append(shapely.box(x, y, x + 500, y + 500))
    buurten = gpd.GeoDataFrame(rows, geometry=geoms, crs=28992)
    buurten.to_parquet(out / "buurten.parquet", index=False)
    dw = []
    for r in rows:
        for i in range(r["n_woningen"]):
            dw.append({"buurtcode": r["buurtcode"], "gemeentecode": r["gemeentecode"],
                       "bouwjaar": 1900 + (i * 7) % 120,
                       "energielabel": "ABCDEFG"[i % 7],
                       "label_bron": "geregistreerd" if i % 2 else "geschat"})
    pd.DataFrame(dw).to_parquet(out / "dwellings.parquet", index=False)
    manifest = {
        "tool": "woonvoorraad", "version": "0.1.0", "created": "2026-01-15T10:00:00+00:00",
        "synthetic": True, "data_notice": "SYNTHETISCHE DEMODATA - testgegevens",
        "inputs": [{"role": "buurten", "path": "/x/buurten.gpkg", "sha256": "ab" * 32,
                    "year": 2022}],
        "parameters": {"config": {"periods": {"naoorlogs_start": 1945, "naoorlogs_end": 1974},
                                  "doelgroep": {"woz_grens": 250000}}},
        "missing_statistics": {"woz_gemiddeld": "not in the CBS input",
                               "n_doelgroep": "needs aandeel_koop and woz_gemiddeld from CBS"},
        "attribution": ["BAG: Kadaster (Public Domain / CC0)", "CBS: CC BY 4.0"],
    }
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_build(tmp_path_factory.mktemp("tiny") / "tiny")


def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo region at scale 0.1, built once per test session (shared via basetemp)."""
    return build_demo(tmp_path_factory.getbasetemp() / "woonvoorraad-demo", scale=0.1)


def rendered_demo(tmp_path_factory: pytest.TempPathFactory) -> RunResult | Path:
    """All demo reports rendered once per session; returns the report folder."""
    out = tmp_path_factory.getbasetemp() / "woonvoorraad-rapporten"
    run_json = out / "run.json"
    if run_json.is_file() and json.loads(run_json.read_text())["status"] == "ok":
        return out
    result = render_reports(demo_dir(tmp_path_factory), out_dir=out, workers=2, timeout=300)
    assert result.ok, [(r.gemeentecode, r.error) for r in result.failed]
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return load_run(demo_dir(tmp_path_factory))


def quick_template(path: Path, body: str) -> Path:
    """A small report template with the runner's parameters and ``body`` as its code."""
    params = new_code_cell('gemeente_code = "GM0001"\ndata_dir = ""\nkaart_bestand = ""\n'
                           "offline = True")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(body)], metadata=KERNELSPEC)
    nbformat.write(nb, str(path))
    return path


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def test_dutch_number_formats() -> None:
    assert fmt_aantal(1234) == "1.234" and fmt_aantal(1_234_567.6) == "1.234.568"
    assert fmt_pct(0.125) == "12,5%" and fmt_pct(0.0) == "0,0%"
    assert fmt_euro(215_000) == "€ 215.000"
    assert fmt_getal(-1234.56, 2) == "-1.234,56"
    assert fmt_euro_kort(3.45e6) == "€ 3,5 mln"
    assert fmt_jaar(1962.0) == "1962" and fmt_score(0.5) == "0,50"
    for missing in (None, np.nan, pd.NA, float("inf")):
        assert fmt_aantal(missing) == "n.b." and fmt_pct(missing) == "n.b."
    assert fmt_datum("2026-03-01T12:00:00+00:00") == "1 maart 2026"
    with pytest.raises(ValueError, match="unknown format"):
        fmt_waarde(1, "onzin")


def test_safe_filenames_cannot_leave_the_folder() -> None:
    for name in ("../../etc/passwd", "..\\..\\windows", "/abs/path", "a/../../b", ".", "..",
                 "<script>", "Súdwest-Fryslân", "'s-Hertogenbosch", "x" * 500, "\x00\n\t"):
        safe = safe_filename(name)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*|x", safe), (name, safe)
        assert len(safe) <= 60 and ".." not in safe and "/" not in safe
    assert safe_filename("Súdwest-Fryslân") == "sudwest-fryslan"


def test_escaping_and_tables() -> None:
    assert esc("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#x27;"
    t = html_table(pd.DataFrame({"buurtnaam": [EVIL_BUURT], "woz_gemiddeld": [215_000.0],
                                    "aandeel_koop": [np.nan]}),
                      ["buurtnaam", "woz_gemiddeld", "aandeel_koop"], caption="<i>x</i>")
    assert "<script>" not in t and "&lt;script&gt;" in t and "&lt;i&gt;" in t
    assert "€\u00a0215.000" in t and "n.b." in t and "Gemiddelde WOZ-waarde" in t
    assert "Geen gegevens" in html_table(pd.DataFrame(), ["buurtnaam"])


# ---------------------------------------------------------------------------------------------
# Data access and sections
# ---------------------------------------------------------------------------------------------


def test_load_run_errors(tmp_path: Path, tiny: Path) -> None:
    with pytest.raises(InputError, match=r"no manifest\.json"):
        load_run(tmp_path)
    (tmp_path / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read manifest"):
        load_run(tmp_path)
    run = load_run(tiny)
    assert run.synthetic and not run.geanalyseerd and run.read_table("proeftuinen") is None
    assert run.cbs_jaar == 2022
    assert run.resolve_gemeente("oostdorp") == "GM0001" == run.resolve_gemeente("1")
    with pytest.raises(InputError, match="Oostdorp \\(GM0001\\)"):
        run.resolve_gemeente("Emmen")
    with pytest.raises(InputError, match="CBS figures of 2022"):
        check_report_parameters(run, "GM0001", jaar=2024)


def test_summary_of_gemeente_and_region(tiny: Path) -> None:
    run = load_run(tiny)
    g = gemeente_summary(run, "GM0001")
    b = run.select_buurten("GM0001")
    assert g["n_woningen"] == b["n_woningen"].sum() and g["n_buurten"] == 2
    assert g["aandeel_naoorlogs"] == pytest.approx(b["n_naoorlogs"].sum() / b["n_woningen"].sum())
    assert np.isnan(g["n_doelgroep"]) and np.isnan(g["woz_gemiddeld"])
    assert g["n_kandidaten"] is None  # no classification in this build
    w = b["aantal_inwoners"]
    assert g["aandeel_65plus"] == pytest.approx((b["aandeel_65plus"] * w).sum() / w.sum())
    r = gemeente_summary(run)
    assert r["n_woningen"] == run.buurten["n_woningen"].sum() and r["n_buurten"] == 6


def test_sections_escape_data_and_say_what_is_missing(tiny: Path) -> None:
    run = load_run(tiny)
    html = "".join(str(f(run, "GM0001")) for f in (
        title_block, section_kerncijfers, section_doelgroep,
        section_labels, section_scores, section_proeftuinen,
        section_instrumenten, section_kosten, section_typologie,
        chart_woz_inkomen, section_kaart))
    html += section_bronnen(run) + title_block(run, "GM0003")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "SYNTHETISCHE DEMODATA" in html
    assert html.count("Niet beschikbaar") >= 6
    assert "--no-analyse" in html
    assert "Gemiddelde WOZ-waarde: ontbreekt in de CBS-gegevens" in html
    assert "Gemeente ../../etc/passwd" in html  # shown as text, used nowhere as a path


def test_sections_with_classification(demo: Run) -> None:
    code = demo.gemeenten()["gemeentecode"].iloc[0]
    kand = candidates_of(demo, code)
    assert kand is not None and len(kand) >= 1
    html = str(section_proeftuinen(demo, code))
    for rec in kand.to_dict("records"):
        assert esc(rec["eenheid_naam"]) in html and esc(rec["reden"]) in html
    kern = str(section_kerncijfers(demo, code))
    assert fmt_aantal(gemeente_summary(demo, code)["n_woningen"]) in kern
    for f in (section_scores, section_instrumenten, section_kosten,
              section_typologie):
        assert "Niet beschikbaar" not in str(f(demo, code)), f.__name__
    kosten = str(section_kosten(demo, code))
    g = gemeente_summary(demo, code)
    # every dwelling below B, → C as one figure (said so), E/F/G only beside it
    assert "onder B (C tot en met G)" in kosten and "één bedrag" in kosten
    assert f"kost {esc(fmt_euro_kort(g['investering_naar_c']))};" in kosten
    assert "Alleen de woningen met label E, F of G" in kosten
    assert g["investering_naar_b_laag"] >= g["investering_efg_naar_b_laag"] > 0
    assert "Hoe zeker" not in kosten and "geen aselecte" in str(
        section_label_zekerheid(demo, code))
    kb = candidate_buurten(demo, code)
    assert set(kb["buurtcode"]) <= set(demo.buurten["buurtcode"])


def test_label_certainty_section_without_label_model_info(tiny: Path) -> None:
    # an older build: no manifest["label_model"], no label_model.csv, no probabilities
    html = str(section_label_zekerheid(load_run(tiny), "GM0001"))
    assert "geregistreerd energielabel" in html
    assert html.count("Niet beschikbaar") == 2
    assert "oudere versie" in html and "geen labelkansen" in html
    assert "geen aselecte steekproef" in html  # the selection-bias note is always there


def _with_label_model(src: Path, out: Path, info: dict, *, bron: str = "model") -> Run:
    """The tiny build with probabilities per dwelling and manifest["label_model"]."""
    import shutil

    shutil.copytree(src, out)
    dw = pd.read_parquet(out / "dwellings.parquet")
    dw["naoorlogs"] = dw["bouwjaar"].between(1945, 1974)
    reg = dw["label_bron"] == "geregistreerd"
    dw.loc[~reg, "label_bron"] = bron
    for k in "ABCDEFG":
        one_hot = (dw["energielabel"] == k).astype(float)
        dw[f"p_label_{k}"] = np.where(reg | (bron == "pbl"), one_hot, 0.4 if k == "D" else 0.1)
    dw.to_parquet(out / "dwellings.parquet", index=False)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["label_model"] = info
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return load_run(out)


def test_label_certainty_section_with_model_and_with_fallback(tiny: Path,
                                                              tmp_path: Path) -> None:
    val = {"nauwkeurigheid": {"model": 0.4123, "pbl": 0.2501},
           "log_loss": {"model": 1.4, "pbl": 2.9}, "brier": {"model": 0.7, "pbl": 0.95},
           "mae_buurt_efg": {"model": 0.052, "pbl": 0.181}}
    run = _with_label_model(tiny, tmp_path / "m", {
        "methode": "model", "reden": None, "n_geregistreerd": 1234, "folds": 5,
        "validatie": val})
    html = str(section_label_zekerheid(run, "GM0001"))
    assert "Niet beschikbaar" not in html
    assert "41,2%" in html and "25,0%" in html  # accuracy, Dutch format
    assert "5,2 procentpunt" in html and "18,1 procentpunt" in html
    assert "1.234 labels" in html and "labelmodel" in html
    assert "gemiddeld 5,2 procentpunt naast het werkelijke aandeel" in html
    assert "Toets tegen de waarheid" not in html  # not a synthetic run with a truth check
    # the 90 % interval of the post-war E/F/G share, by hand: chance plus the validated
    # per-buurt error (sd √(π/2)·MAE·n_model per buurt, buurten independent)
    dw = run.dwellings("GM0001", ["naoorlogs", "buurtcode", "label_bron", "p_label_E",
                                  "p_label_F", "p_label_G"])
    dw = dw[dw["naoorlogs"]]
    p = dw[["p_label_E", "p_label_F", "p_label_G"]].sum(axis=1)
    n_model = (dw["label_bron"] == "model").groupby(dw["buurtcode"]).sum()
    assert n_model.sum() > 0
    sys_var = ((np.sqrt(np.pi / 2) * 0.052 * n_model) ** 2).sum()
    e, sd, n = p.sum(), np.sqrt((p * (1 - p)).sum() + sys_var), len(p)
    assert f"{fmt_pct(e / n)} label E, F of G" in html
    assert f"90%-interval {fmt_pct((e - 1.6449 * sd) / n)} – {fmt_pct((e + 1.6449 * sd) / n)}" \
        in html
    fallback = _with_label_model(tiny, tmp_path / "p", {
        "methode": "pbl", "reden": "te weinig geregistreerde labels (12 < 200)",
        "validatie": {}}, bron="pbl")
    html = str(section_label_zekerheid(fallback, "GM0001"))
    assert "PBL-standaardlabel" in html and "te weinig geregistreerde labels (12 &lt; 200)" in html
    assert "niet het labelmodel" in html
    # one label per dwelling: no zero-width interval shown as if it were certain
    assert "90%-interval" not in html and "Een onzekerheidsmarge is er niet" in html


def test_label_certainty_section_shows_the_demo_truth(demo: Run) -> None:
    check = demo.manifest["waarheid"]["labels"]
    assert 0 < check["dekking_90"] <= 1 and check["onbekend_buurten"] > 0
    html = str(section_label_zekerheid(demo, demo.gemeenten()["gemeentecode"].iloc[0]))
    assert "Toets tegen de waarheid (alleen bij SYNTHETISCHE DEMODATA" in html
    assert fmt_pct(check["dekking_90"]) in html


def test_key_figures_costs_and_candidate_short_lists(demo: Run) -> None:
    """The key figures show the investment (all below B, and E/F/G), not "n.b."; a
    candidate lists at most [instrumenten] kortlijst_n instruments to consider first."""
    code = demo.gemeenten()["gemeentecode"].iloc[0]
    g = gemeente_summary(demo, code)
    kern = str(section_kerncijfers(demo, code))
    assert esc(fmt_euro_kort(g["investering_naar_b_laag"])) in kern
    assert esc(fmt_euro_kort(g["investering_efg_naar_b_hoog"])) in kern
    html = str(section_proeftuinen(demo, code))
    lists = re.findall(r"Eerst te overwegen instrumenten: (.*?)</p>", html)
    assert lists
    for found in lists:
        assert 1 <= found.count('class="wv-label"') <= 3


def test_export_html_drops_code_and_stderr() -> None:
    cell = new_code_cell("print('geheime code')")
    cell.outputs = [new_output("stream", name="stderr", text="FutureWarning: iets"),
                    new_output("display_data", data={"text/html": "<p>uitvoer</p>"})]
    page = export_html(new_notebook(cells=[cell], metadata=KERNELSPEC), titel="<t>")
    assert "<p>uitvoer</p>" in page and "geheime code" not in page
    assert "FutureWarning" not in page and "<title>&lt;t&gt;</title>" in page
    assert not REMOTE_SCRIPT.search(page) and "<script" not in page


# ---------------------------------------------------------------------------------------------
# Batch rendering
# ---------------------------------------------------------------------------------------------


def test_unknown_parameter_is_an_error(tiny: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ReportParameterError, match=r"bestaat_niet.*accepts: .*max_kandidaten"):
        render_reports(tiny, out_dir=tmp_path / "r", parameters={"bestaat_niet": 1})
    with pytest.raises(ReportParameterError, match="set by the runner"):
        render_reports(tiny, out_dir=tmp_path / "r", parameters={"data_dir": "/elders"})
    assert not (tmp_path / "r").exists()  # nothing started
    code = main(["report", "--data", str(tiny), "--all", "--out", str(tmp_path / "r"),
                 "-p", "bestaat_niet=1", "-q"])
    assert code == 2 and "unknown report parameter" in capsys.readouterr().err
    bare = tmp_path / "zonder.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")], metadata=KERNELSPEC), str(bare))
    with pytest.raises(ReportParameterError, match="no cell tagged 'parameters'"):
        render_reports(tiny, out_dir=tmp_path / "r", template=bare)
    with pytest.raises(InputError, match="not in this build"):
        render_reports(tiny, gemeenten=["Emmen"], out_dir=tmp_path / "r")
    with pytest.raises(InputError, match=r"GM0114.*not in this build"):
        render_reports(tiny, region="regiodeal-zuid-oost-drenthe", out_dir=tmp_path / "r")
    with pytest.raises(KernelNotFoundError, match="ipykernel install"):
        render_reports(tiny, kernel_name="bestaat-niet", out_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_a_broken_gemeente_fails_alone(tiny: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    tpl = quick_template(tmp_path / "rapport.ipynb", """
from woonvoorraad.report.run import load_run
from woonvoorraad.report.sections import title_block
run = load_run(data_dir)
if gemeente_code == "GM0002":
    raise RuntimeError("kapot: opzettelijk defecte gemeente")
title_block(run, gemeente_code)
""")
    out = tmp_path / "rapporten"
    code = main(["report", "--data", str(tiny), "--all", "--out", str(out), "--template",
                 str(tpl), "--workers", "2", "--timeout", "120", "-q"])
    assert code == 1
    printed = capsys.readouterr().out
    assert "FOUT GM0002" in printed and "2 of 3 report(s) ok" in printed
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "failed" and run["n_ok"] == 2 and run["n_failed"] == 1
    by_code = {r["gemeentecode"]: r for r in run["reports"]}
    broken = by_code["GM0002"]
    assert broken["status"] == "failed" and broken["attempts"] == 2  # one retry
    assert broken["error_type"] == "notebook" and "kapot" in broken["error"]
    assert broken["html"] is None and (out / broken["notebook"]).is_file()  # error notebook kept
    assert broken["duration_seconds"] > 0 and (out / broken["log"]).is_file()
    for ok in ("GM0001", "GM0003"):
        rec = by_code[ok]
        assert rec["status"] == "ok" and rec["attempts"] == 1 and rec["error"] is None
        assert (out / rec["html"]).is_file() and (out / rec["kaart"]).is_file()
        assert rec["kerncijfers"]["n_woningen"] > 0
    # file names are sanitised: the gemeente called "../../etc/passwd" stays inside
    assert by_code["GM0003"]["html"] == "GM0003-etc-passwd.html"
    assert by_code["GM0002"]["notebook"] == "GM0002-s-gravenhage.ipynb"
    for p in out.rglob("*"):
        assert p.resolve().is_relative_to(out.resolve())
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Oostdorp" in index and "&#x27;s-Gravenhage" in index and "etc/passwd" in index
    assert "mislukt" in index and "kapot" in index and index.count("gereed") >= 2
    assert 'href="GM0001-oostdorp.html"' in index and "GM0002-s-gravenhage.html" not in index
    assert "SYNTHETISCHE DEMODATA" in index


def test_a_report_that_hangs_is_stopped(tiny: Path, tmp_path: Path) -> None:
    tpl = quick_template(tmp_path / "traag.ipynb", """
import time
if gemeente_code == "GM0001":
    time.sleep(900)
""")
    # the timeout leaves room for a normal report on a loaded 2-core machine (pytest -n 2)
    result = render_reports(tiny, gemeenten=["GM0001", "GM0002"], out_dir=tmp_path / "r",
                            template=tpl, timeout=45, retries=0, workers=2)
    by_code = {r.gemeentecode: r for r in result.reports}
    assert by_code["GM0001"].status == "timeout" and by_code["GM0001"].attempts == 1
    assert "45 s" in by_code["GM0001"].error and by_code["GM0001"].duration_seconds < 120
    assert by_code["GM0002"].status == "ok"
    assert [r.gemeentecode for r in result.failed] == ["GM0001"]


def test_reports_of_the_demo(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = rendered_demo(tmp_path_factory)
    run = load_run(demo_dir(tmp_path_factory))
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "ok" and meta["synthetic"] is True
    assert {r["gemeentecode"] for r in meta["reports"]} == set(run.gemeenten()["gemeentecode"])
    index = (out / "index.html").read_text(encoding="utf-8")
    for rec in meta["reports"]:
        page = (out / rec["html"]).read_text(encoding="utf-8")
        for marker in CODE_CELL_MARKERS:
            assert marker not in page, (rec["html"], marker)
        assert 'id="synthetische-demodata"' in page and "SYNTHETISCHE DEMODATA" in page
        assert "<h1>Gemeente " + esc(rec["gemeentenaam"]) in page
        for heading in ("1. Kerncijfers", "5. Proeftuinkandidaten", "9. Kaart",
                        "10. Bronnen en aannames"):
            assert heading in page
        assert 'class="wv-kaart"' in page and "data:image/png;base64," in page
        assert not REMOTE_SCRIPT.search(page.split('srcdoc="')[0])
        assert 'id="datumstempel"' in page and "Niet beschikbaar: deze build" not in page
        kaart = out / rec["kaart"]
        assert kaart.stat().st_size < 3_000_000
        assert not REMOTE_SCRIPT.search(kaart.read_text(encoding="utf-8"))
        executed = nbformat.read(str(out / rec["notebook"]), as_version=4)
        assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
        assert f'href="{rec["html"]}"' in index and f'href="{rec["kaart"]}"' in index
        assert fmt_aantal(rec["kerncijfers"]["n_woningen"]) in index


def test_report_of_a_build_without_classification(tmp_path_factory: pytest.TempPathFactory,
                                                  tmp_path: Path) -> None:
    from woonvoorraad import layout
    from woonvoorraad.demo import make_demo
    from woonvoorraad.pipeline import build

    base = tmp_path_factory.getbasetemp() / "woonvoorraad-demo"
    raw = make_demo(layout.demo_raw_dir(base, scale=0.1), scale=0.1)  # reused when present
    processed = tmp_path / "zonder-analyse"
    build(bag_path=raw["bag"], buurten_path=raw["buurten"], out=processed,
          gemeenten=["GM9902"], analyse=False, synthetic=True)
    result = render_reports(processed, out_dir=tmp_path / "r", workers=1, timeout=300)
    assert result.ok, [(r.gemeentecode, r.error) for r in result.failed]
    page = (result.out_dir / result.reports[0].html).read_text(encoding="utf-8")
    assert "Niet beschikbaar: </strong>deze build is gemaakt zonder classificatiestap" in (
        page.replace("Niet beschikbaar:</strong> ", "Niet beschikbaar: </strong>"))
    assert "1. Kerncijfers" in page and 'class="wv-kaart"' in page


def test_template_is_found_where_a_wheel_installs_it(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed from a wheel (no source tree beside the package) the template comes from
    ``<prefix>/share/woonvoorraad/templates``; ``$WOONVOORRAAD_TEMPLATE`` wins."""
    monkeypatch.delenv("WOONVOORRAAD_TEMPLATE", raising=False)
    site = tmp_path / "prefix" / "lib" / "site-packages" / "woonvoorraad"
    monkeypatch.setattr(report_template, "__file__", str(site / "template.py"))
    monkeypatch.setattr(report_template, "_install_data_dirs", lambda: [str(tmp_path / "prefix")])
    with pytest.raises(InputError, match="pass --template FILE"):
        find_template()
    installed = tmp_path / "prefix" / "share" / "woonvoorraad" / "templates"
    installed.mkdir(parents=True)
    (installed / "gemeente_rapport.ipynb").write_text("{}", encoding="utf-8")
    assert find_template() == installed / "gemeente_rapport.ipynb"
    own = tmp_path / "mijn.ipynb"
    own.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("WOONVOORRAAD_TEMPLATE", str(own))
    assert find_template() == own


@pytest.mark.slow
def test_the_wheel_carries_the_report_template(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "src"  # a copy, so that the build leaves nothing in the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(root / name, src / name)
    shutil.copytree(root / "src", src / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(root / "notebooks" / "templates", src / "notebooks" / "templates")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q",
                           "-w", str(tmp_path / "dist")],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("woonvoorraad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = [n for n in names if n.endswith("share/woonvoorraad/templates/gemeente_rapport.ipynb")]
    assert data and ".data/data/" in data[0]
    template = (root / "notebooks" / "templates" / "gemeente_rapport.ipynb").read_bytes()
    assert zipfile.ZipFile(wheel).read(data[0]) == template


@pytest.mark.realdata
def test_reports_of_the_real_sample_are_not_marked_synthetic(realdata: Path,
                                                             tmp_path: Path) -> None:
    """Real BAG + CBS (Den Haag, Leidschendam-Voorburg): no demo banner, the missing CBS
    figures shown as unavailable, the provisional candidate explained."""
    import html

    from woonvoorraad.pipeline import build

    build(bag_path=realdata, buurten_path=realdata, out=tmp_path / "b")
    result = render_reports(tmp_path / "b", gemeenten="all", out_dir=tmp_path / "r",
                            workers=2, timeout=300)
    assert result.ok and {r.gemeentecode for r in result.reports} == {"GM0518", "GM1916"}
    for rec in result.reports:
        page = (tmp_path / "r" / rec.html).read_text(encoding="utf-8")
        assert "SYNTHETISCHE DEMODATA" not in page and 'id="synthetische-demodata"' not in page
        assert "<h1>Gemeente " + rec.gemeentenaam in html.unescape(page)
        assert "Voorlopige kandidaat." in page
        assert "ontbreekt in de CBS-gegevens" in page
    index = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "SYNTHETISCHE" not in index and "(voorlopig)" in index
