"""Fuzz the GeoPackage readers with damaged copies of a valid file.

The fuzzer's bytes choose where a valid CBS buurten GeoPackage is overwritten or cut; the
reader must raise an InputError or return all of its rows (never silently fewer). The read
is wrapped in :func:`woonvoorraad._validate.gdal_errors`, as the readers are once wired.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness

with atheris.instrument_imports(include=["woonvoorraad"]):
    from woonvoorraad import _validate
    from woonvoorraad.errors import InputError
    from woonvoorraad.sources import cbs


def _valid_gpkg() -> bytes:
    spec = importlib.util.spec_from_file_location("make_corpus", _harness.BAD / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    mc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mc)
    path = Path(tempfile.mkdtemp()) / "buurten.gpkg"
    mc._gpkg(path, {"buurten": mc.buurten_table()})
    return path.read_bytes()


VALID = _valid_gpkg()


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    raw = bytearray(VALID)
    if fdp.ConsumeBool():
        raw = raw[:fdp.ConsumeIntInRange(1, len(raw))]
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        at = fdp.ConsumeIntInRange(0, len(raw) - 1)
        chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 64))
        raw[at:at + len(chunk)] = chunk
    path = _harness.temp_file(bytes(raw), ".gpkg")
    try:
        with _validate.gdal_errors(path):
            buurten, _ = cbs.read_buurten(path)
    except InputError:
        return
    finally:
        path.unlink()
    assert len(buurten) == 2


if __name__ == "__main__":
    _harness.main(test_one_input, [])
