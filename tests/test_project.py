"""The project files agree with each other: conda's environment.yml and pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

#: pip name -> conda-forge name(s) where they differ
CONDA_NAMES = {"matplotlib": ["matplotlib-base"], "dask[distributed]": ["dask", "distributed"]}


def _split(spec: str) -> tuple[str, str]:
    """("name", "lower bound") of a requirement such as ``"pandas>=2.2; marker"``."""
    spec = spec.split(";", maxsplit=1)[0].strip()
    m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(?:>=\s*([^,\s]+))?", spec)
    assert m, spec
    return m.group(1).lower().replace("_", "-"), m.group(2) or ""


def test_environment_yml_has_the_dependencies_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section  # the package itself
    pip = dict(_split(d) for d in pip_section if not d.startswith("-e"))
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    for req in wanted:
        name, bound = _split(req)
        names = CONDA_NAMES.get(name, [name])
        for conda_name in names:
            got = conda.get(conda_name, pip.get(conda_name))
            assert got is not None, f"{req} is missing from environment.yml"
            assert got == bound, f"{conda_name}: environment.yml >= {got!r}, pyproject >= {bound!r}"
    assert conda["python"] == project["requires-python"].removeprefix(">=")
