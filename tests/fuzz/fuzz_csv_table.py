"""Fuzz the text-table reader and number parsing used for Kerncijfers tables."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness

with atheris.instrument_imports(include=["woonvoorraad"]):
    import numpy as np

    from woonvoorraad import _validate
    from woonvoorraad.errors import InputError


def test_one_input(data: bytes) -> None:
    path = _harness.temp_file(data, ".csv")
    try:
        table = _validate.read_csv_table(path)
        _validate.parse_numbers(table, list(table.columns), path=path)
        _validate.check_statistics(table, path=path)
    except InputError:
        return
    finally:
        path.unlink()
    for col in table.columns:
        values = table[col].dropna()
        assert np.isfinite(values[~np.isinf(values)]).all()


if __name__ == "__main__":
    _harness.main(test_one_input, sorted((_harness.BAD / "kerncijfers").iterdir()))
