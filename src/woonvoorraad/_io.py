"""Crash-safe file output: temporary file, fsync, atomic rename.

Everything woonvoorraad writes goes through :func:`atomic_path` or :class:`OutputTransaction`,
so a run killed at any moment leaves either the previous complete file or the new complete one,
never a truncated file with the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._errors import OutputLockedError

logger = logging.getLogger(__name__)


def sha256_file(path: str | Path, *, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    Parameters
    ----------
    path
        Final file name.
    suffix
        Suffix of the temporary file (default: that of ``path``, so writers that look at
        the extension, such as GDAL, pick the right format).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> target.read_text()
    'hello'
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    # hidden, marked ".part", and ending in the real suffix (GDAL picks the driver from it)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.", suffix=".part" + (suffix if suffix is not None else final.suffix),
        dir=final.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL refuse to overwrite; let them create it
    try:
        yield tmp
        if tmp.is_file():
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON to ``path`` atomically."""
    return write_text_atomic(
        path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n"
    )


class OutputTransaction:
    """Stage a set of output files and publish them together, manifest last.

    Files are written into a hidden staging folder inside ``out_dir``. :meth:`commit` moves
    them into place one by one with :func:`os.replace` and writes the manifest as the very last
    step, so the manifest present in ``out_dir`` always describes complete files. A lock file
    keeps two processes from publishing into the same folder at once.

    Parameters
    ----------
    out_dir
        The output folder.
    """

    LOCK_NAME = ".woonvoorraad.lock"

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.staging: Path | None = None
        self._lock_fd: int | None = None
        self.files: list[str] = []

    def __enter__(self) -> OutputTransaction:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out_dir))
        return self

    def _acquire_lock(self) -> None:
        import fcntl

        lock_path = self.out_dir / self.LOCK_NAME
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputLockedError(
                f"{self.out_dir}: another woonvoorraad run is writing to this folder "
                f"(lock file {lock_path}); wait for it to finish or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def path(self, name: str) -> Path:
        """Return the staging path for output ``name`` (a relative file name)."""
        assert self.staging is not None, "use OutputTransaction as a context manager"
        p = self.staging / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if name not in self.files:
            self.files.append(name)
        return p

    def commit(self, manifest: dict[str, Any], *, manifest_name: str = "manifest.json") -> None:
        """Publish the staged files, then write ``manifest`` with their sizes and hashes."""
        assert self.staging is not None
        outputs = []
        # remove the old manifest first: between here and the new manifest, no manifest
        # claims files that are being replaced
        (self.out_dir / manifest_name).unlink(missing_ok=True)
        for name in self.files:
            src = self.staging / name
            if not src.exists():
                continue
            dst = self.out_dir / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            entry = {"path": name, "size": src.stat().st_size, "sha256": sha256_file(src)}
            if dst.is_dir() and not src.is_dir():
                shutil.rmtree(dst)
            os.replace(src, dst)
            outputs.append(entry)
        _fsync_dir(self.out_dir)
        manifest = {**manifest, "outputs": outputs}
        write_json_atomic(self.out_dir / manifest_name, manifest)
        logger.info("wrote %d outputs and %s to %s", len(outputs), manifest_name, self.out_dir)

    def __exit__(self, *exc: object) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
