"""Run every atheris harness of this folder briefly (seeded), when atheris is installed.

A harness exits non-zero when an input raises anything but the reader's documented error;
libFuzzer then writes the input into the temporary folder, and the test shows its output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RUNS = {"fuzz_eponline.py": 400, "fuzz_csv_table.py": 400, "fuzz_geojson.py": 400,
        "fuzz_zip.py": 300, "fuzz_gpkg.py": 150}


def test_every_harness_is_listed() -> None:
    assert {p.name for p in HERE.glob("fuzz_*.py")} == set(RUNS)


@pytest.mark.parametrize("harness", sorted(RUNS))
def test_harness_runs_clean(harness: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    env = {**os.environ, "WOONVOORRAAD_PROGRESS": "0"}
    done = subprocess.run(
        [sys.executable, str(HERE / harness), f"-runs={RUNS[harness]}", "-seed=1",
         f"-artifact_prefix={tmp_path}/", "-max_len=65536", "-timeout=60"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env, check=False)
    report = (done.stdout + done.stderr)[-3000:]
    assert done.returncode == 0, report
    assert f"Done {RUNS[harness]} runs" in report or "DONE" in report, report
    assert not list(tmp_path.glob("crash-*")), report
