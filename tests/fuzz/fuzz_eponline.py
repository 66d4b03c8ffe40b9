"""Fuzz the EP-Online reader: any bytes (as CSV, or as a ZIP) give labels or an InputError."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness

with atheris.instrument_imports(include=["woonvoorraad"]):
    from woonvoorraad.errors import InputError
    from woonvoorraad.sources import eponline


def test_one_input(data: bytes) -> None:
    path = _harness.temp_file(data, ".csv")
    try:
        table = eponline.read_ep_online(path)
    except InputError:
        return
    finally:
        path.unlink()
    assert table["vbo_id"].str.fullmatch(r"\d{16}").all()
    assert table["vbo_id"].is_unique
    assert set(table["energielabel"].astype(str)) <= set(eponline.LABELS)


if __name__ == "__main__":
    _harness.main(test_one_input, sorted((_harness.BAD / "ep").iterdir()))
