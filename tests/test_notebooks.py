"""The notebook suite: committed without outputs, and each runs top to bottom on the demo."""

from __future__ import annotations

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
