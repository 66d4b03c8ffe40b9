"""The notebook suite: committed without outputs, and each runs top to bottom on the demo."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from woonvoorraad.demo import build_demo
from woonvoorraad.report.template import (
    KERNEL_NAME,
    TEMPLATE_PARAMETERS,
    ensure_kernel,
    read_template_parameters,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("01_data_ophalen", "02_woningvoorraad", "03_typologie", "04_proeftuinen",
             "05_instrumenten", "06_scenarios")
ALL = [ROOT / "notebooks" / f"{n}.ipynb" for n in NOTEBOOKS] + [
    ROOT / "notebooks" / "templates" / "gemeente_rapport.ipynb"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    if path.parent.name != "templates":
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# 0")


def test_template_parameters_match_the_runner() -> None:
    declared = read_template_parameters(ALL[-1])
    assert set(declared) == set(TEMPLATE_PARAMETERS)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo region at scale 0.1 (shared with the other test modules)."""
    base = tmp_path_factory.getbasetemp() / "woonvoorraad-demo"
    build_demo(base, scale=0.1)
    return base


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_demo(name: str, data_dir: Path, tmp_path: Path) -> None:
    import papermill as pm

    kernel = ensure_kernel()
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out),
                        parameters={"data_dir": str(data_dir), "schaal": 0.1},
                        kernel_name=kernel, progress_bar=False, cwd=str(ROOT / "notebooks"),
                        execution_timeout=300)
    nb = nbformat.read(str(out), as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs, "the notebook shows results"
    assert not [o for o in outputs if o.get("output_type") == "error"]
    stderr = [o.get("text", "") for o in outputs
              if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert not any("Warning" in t for t in stderr), stderr
    # no empty pink box (a cleared progress bar) and no raw pandas next to the report tables
    assert not [t for t in stderr if not t.strip()], stderr
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert not [h for h in html if 'class="dataframe"' in h], "raw pandas table in the notebook"
    plain = [o["data"]["text/plain"] for o in outputs
             if set(o.get("data", {})) == {"text/plain"}]
    assert not plain, plain
    assert any('<div class="wv-notebook">' in h for h in html), "tables come from display"


def test_notebooks_use_the_display_helper() -> None:
    """Every notebook shows its tables with report.display and the banner styled."""
    for name in NOTEBOOKS:
        nb = nbformat.read(str(ROOT / "notebooks" / f"{name}.ipynb"), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "from woonvoorraad.report.display import" in code, name
        assert "banner(run)" in code and "synthetic_banner" not in code, name
        assert "html_table(" not in code and ".head()\n" not in code + "\n", name


def test_a_build_in_a_kernel_leaves_no_stderr(data_dir: Path, tmp_path: Path) -> None:
    """Inside a Jupyter kernel the build shows no text progress bar (its cleared line would
    stay as an empty stderr box); ``settings.show_progress`` says so."""
    import papermill as pm
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(
        "from woonvoorraad import settings\nfrom woonvoorraad.demo import build_demo\n"
        f"build_demo({str(data_dir)!r}, scale=0.1, out={str(tmp_path / 'build')!r})\n"
        "print(settings.show_progress)")],
        metadata={"kernelspec": {"name": KERNEL_NAME, "display_name": KERNEL_NAME,
                                 "language": "python"}})
    src, out = tmp_path / "bouw.ipynb", tmp_path / "bouw-uit.ipynb"
    nbformat.write(nb, str(src))
    pm.execute_notebook(str(src), str(out), kernel_name=ensure_kernel(), progress_bar=False,
                        cwd=str(tmp_path), execution_timeout=300)
    outputs = nbformat.read(str(out), as_version=4).cells[0].outputs
    assert (tmp_path / "build" / "manifest.json").is_file()
    streams = [(o["name"], o["text"]) for o in outputs if o["output_type"] == "stream"]
    assert streams == [("stdout", "False\n")], streams


def test_make_lab_starts_jupyterlab_on_the_notebooks() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # run inside `make test` too: no "Entering directory" lines from the outer make
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run([make, "--no-print-directory", "-n", "lab", "VENV=.venv"], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60, env=env)
    lines = [line for line in done.stdout.splitlines() if not line.startswith("make")]
    assert lines[-1].strip() == ".venv/bin/jupyter lab --notebook-dir=notebooks", lines
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make lab" in readme
    assert "python -m ipykernel install --user --name woonvoorraad" in readme
    assert "source .venv/bin/activate" in readme
