"""Shared driver of the atheris fuzz harnesses in this folder.

Each harness defines ``test_one_input(data: bytes)`` that feeds one input to a reader and
lets only the reader's documented error (an ``InputError``, or ``DownloadError`` for GeoJSON)
through; anything else is a crash that libFuzzer reports with the input that caused it.

Run one for as long as you like (here: 20 000 inputs, seeded, crash files into /tmp)::

    python tests/fuzz/fuzz_eponline.py -runs=20000 -seed=1 -artifact_prefix=/tmp/fuzz-

The seed corpus is copied from ``tests/data/bad`` into a temporary folder first, so libFuzzer
never writes into the repository; a ``<harness>.dict`` beside a harness is passed as its
libFuzzer dictionary. ``tests/fuzz/test_fuzz_smoke.py`` runs every harness for a
few hundred inputs in CI when atheris is installed.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


def quiet() -> None:
    """No log output while fuzzing (the readers log every repair)."""
    logging.disable(logging.CRITICAL)


def main(test_one_input: Callable[[bytes], None], seeds: Iterable[Path]) -> None:
    """Run libFuzzer on ``test_one_input`` with a temporary copy of ``seeds`` as corpus."""
    import atheris

    quiet()
    corpus = Path(tempfile.mkdtemp(prefix="woonvoorraad-fuzz-"))
    for i, seed in enumerate(seeds):
        if seed.is_file() and seed.stat().st_size < 256_000:
            shutil.copy(seed, corpus / f"{i:03d}-{seed.name}")
    argv = [a for a in sys.argv if not a.startswith("--")]
    dictionary = Path(argv[0]).with_suffix(".dict")
    if dictionary.is_file() and not any(a.startswith("-dict=") for a in argv):
        argv.append(f"-dict={dictionary}")
    if not any(not a.startswith("-") for a in argv[1:]):
        argv.append(str(corpus))
    atheris.Setup(argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        shutil.rmtree(corpus, ignore_errors=True)


def temp_file(data: bytes, suffix: str) -> Path:
    """Write one input to a temporary file (the readers take paths)."""
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="fuzz-")
    os.close(fd)
    path = Path(name)
    path.write_bytes(data)
    return path
