"""The warm report runner (issue 16): one kernel per worker, reset between gemeenten.

A gemeente that leaves state behind (a global, a rebound library function, a changed
setting) does not change the next report; a gemeente that kills or hangs its kernel fails
alone, is retried once in a fresh kernel and is recorded in ``run.json``; the next gemeente in
the same worker renders normally.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from test_reports import quick_template, write_tiny_build
from woonvoorraad.report.render import render_reports


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_build(tmp_path_factory.mktemp("tiny-warm") / "tiny")


def _outputs(nb_path: Path) -> str:
    """All text/plain and stream output of an executed notebook."""
    nb = nbformat.read(str(nb_path), as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") or out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_state_left_behind_does_not_reach_the_next_report(tiny: Path, tmp_path: Path) -> None:
    # GM0001 leaves a global, rebinds a function of the package, changes a pandas option, the
    # working folder and an environment variable; GM0002 (same worker, same kernel: one
    # worker) prints what it sees
    tpl = quick_template(tmp_path / "rest.ipynb", """
import os, pandas as pd
import woonvoorraad.report.format as fmt
if gemeente_code == "GM0001":
    ACHTERGELATEN = "van GM0001"
    fmt.fmt_getal = lambda *a, **k: "VERVALST"
    pd.set_option("display.max_rows", 3)
    os.environ["WV_TEST_REST"] = "1"
    os.chdir("/")
print("global:", "ACHTERGELATEN" in globals())
print("getal:", fmt.fmt_getal(1234.5, 1))
print("max_rows:", pd.get_option("display.max_rows"))
print("env:", os.environ.get("WV_TEST_REST"))
print("cwd:", os.getcwd() != "/")
""")
    out = tmp_path / "r"
    result = render_reports(tiny, gemeenten=["GM0001", "GM0002", "GM0003"], out_dir=out,
                            template=tpl, workers=1, timeout=120, runner="warm")
    assert result.ok, [(r.gemeentecode, r.error) for r in result.failed]
    by_code = {r.gemeentecode: r for r in result.reports}
    first = _outputs(out / by_code["GM0001"].notebook)
    assert "global: True" in first and "getal: VERVALST" in first and "env: 1" in first
    for code in ("GM0002", "GM0003"):
        seen = _outputs(out / by_code[code].notebook)
        assert "global: False" in seen
        assert "getal: 1.234,5" in seen  # the package's own Dutch formatter is back
        assert "max_rows: 60" in seen and "env: None" in seen and "cwd: True" in seen
    # one kernel served all three (no restart): the reset, not a new kernel, isolated them
    assert not any(r.kernel_restarted for r in result.reports)
    nb = nbformat.read(str(out / by_code["GM0002"].notebook), as_version=4)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == [1, 2, 3]  # a new session: execution counts start at 1 again
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["runner"] == "warm"
    assert all(r["phases"]["cellen"] >= 0 and "reset" in r["phases"] for r in run["reports"])


def test_a_kernel_that_dies_or_hangs_fails_alone(tiny: Path, tmp_path: Path) -> None:
    tpl = quick_template(tmp_path / "kapot.ipynb", """
import os, time
if gemeente_code == "GM0001":
    os._exit(3)  # the kernel dies
if gemeente_code == "GM0002":
    time.sleep(900)  # the kernel hangs
print("gerenderd", gemeente_code)
""")
    out = tmp_path / "r"
    result = render_reports(tiny, gemeenten=["GM0001", "GM0002", "GM0003"], out_dir=out,
                            template=tpl, workers=1, timeout=30, retries=1, runner="warm")
    by_code = {r.gemeentecode: r for r in result.reports}
    dead, hung, ok = by_code["GM0001"], by_code["GM0002"], by_code["GM0003"]
    assert dead.status == "failed" and dead.attempts == 2 and dead.kernel_restarted
    assert len(dead.retry_errors) == 1 and "kernel" in dead.retry_errors[0].lower()
    assert hung.status == "timeout" and hung.attempts == 2 and "30 s" in hung.error
    assert hung.retry_errors and "30 s" in hung.retry_errors[0]
    assert ok.status == "ok" and ok.attempts == 1
    assert "gerenderd GM0003" in _outputs(out / ok.notebook)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    rec = {r["gemeentecode"]: r for r in run["reports"]}
    assert rec["GM0001"]["kernel_restarted"] is True and rec["GM0001"]["attempts"] == 2
    assert rec["GM0002"]["status"] == "timeout" and rec["GM0003"]["status"] == "ok"


def test_warm_and_proces_runners_make_the_same_reports(tiny: Path, tmp_path: Path) -> None:
    sizes = {}
    for runner in ("warm", "proces"):
        result = render_reports(tiny, gemeenten=["GM0001", "GM0003"], out_dir=tmp_path / runner,
                                workers=2, timeout=300, runner=runner)
        assert result.ok, [(r.gemeentecode, r.error) for r in result.failed]
        sizes[runner] = {(r.gemeentecode, k): (tmp_path / runner / getattr(r, k)).stat().st_size
                         for r in result.reports for k in ("html", "kaart")}
        assert json.loads((tmp_path / runner / "run.json").read_text())["runner"] == runner
    # same content: only the random element ids of folium and the cell ids differ, and those
    # have the same length
    assert sizes["warm"] == sizes["proces"]


def test_unknown_runner_and_background_are_errors(tiny: Path, tmp_path: Path) -> None:
    from woonvoorraad.errors import InputError

    with pytest.raises(InputError, match="runner"):
        render_reports(tiny, out_dir=tmp_path / "r", runner="draad")
    with pytest.raises(InputError, match="background"):
        render_reports(tiny, out_dir=tmp_path / "r", achtergrond="google")


@pytest.mark.parametrize("runner", ["warm", "proces"])
def test_background_reaches_the_report_and_the_map(tiny: Path, tmp_path: Path,
                                                   runner: str) -> None:
    url = "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/"
    result = render_reports(tiny, gemeenten=["GM0001"], out_dir=tmp_path / "r", workers=1,
                            timeout=300, runner=runner, achtergrond="pdok")
    assert result.ok, [(r.gemeentecode, r.error) for r in result.failed]
    rec = result.reports[0]
    kaart = (tmp_path / "r" / rec.kaart).read_text(encoding="utf-8")
    page = (tmp_path / "r" / rec.html).read_text(encoding="utf-8")
    assert url in kaart and kaart.count("L.tileLayer(") == 1
    assert url in page  # the map embedded in the report (drawn by the kernel) has it too
    assert json.loads((tmp_path / "r" / "run.json").read_text())["achtergrond"] == "pdok"
