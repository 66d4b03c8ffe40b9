"""Fuzz ZIP handling: streaming the CSV member and extracting never escape the folder."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness

with atheris.instrument_imports(include=["woonvoorraad"]):
    from woonvoorraad import _archive
    from woonvoorraad.errors import InputError


def test_one_input(data: bytes) -> None:
    path = _harness.temp_file(data, ".zip")
    root = Path(tempfile.mkdtemp(prefix="fuzz-zip-"))
    dest = root / "dest"
    try:
        try:
            with _archive.open_zip_member(path) as fh:
                fh.read()
        except InputError:
            pass
        try:
            written = _archive.safe_extract_zip(path, dest, max_bytes=8 << 20)
        except InputError:
            written = []
        for p in written:
            assert dest.resolve() in p.resolve().parents
        stray = [p for p in root.rglob("*") if dest.resolve() not in p.resolve().parents
                 and p != dest]
        assert not stray, stray
    finally:
        path.unlink()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    _harness.main(test_one_input, sorted((_harness.BAD / "ep").glob("*.zip")))
