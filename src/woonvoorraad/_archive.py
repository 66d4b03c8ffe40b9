"""Safe reading of ZIP archives (the EP-Online bulk file).

ZIP archives are only read through :func:`open_zip_member` or extracted through
:func:`safe_extract_zip`: member names that leave the folder (zip-slip), encrypted members,
damaged data and members that are too large or too compressed (zip bombs) are refused with
:class:`~woonvoorraad.errors.UnsafeArchiveError`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from woonvoorraad._io import atomic_path
from woonvoorraad.errors import UnsafeArchiveError

logger = logging.getLogger(__name__)

#: Largest uncompressed size of one ZIP member that is read (the EP-Online bulk CSV is 1–2 GB).
MAX_ZIP_MEMBER_BYTES: int = 16 * 2**30

#: Largest compression ratio (uncompressed / compressed) of a member over 10 MB; real CSVs
#: compress 5–15 times, a zip bomb a thousand times.
MAX_ZIP_RATIO: float = 100.0

_READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                               zipfile.ZIP_LZMA})

#: Members smaller than this are not checked for their compression ratio.
_RATIO_MIN_BYTES = 10 * 2**20


def zip_member_problem(info: zipfile.ZipInfo, *, max_bytes: int | None = None,
                       max_ratio: float | None = None) -> str | None:
    """Why a ZIP member must not be read or extracted, or None when it is fine.

    Parameters
    ----------
    info
        The member.
    max_bytes, max_ratio
        Limits (default :data:`MAX_ZIP_MEMBER_BYTES`, :data:`MAX_ZIP_RATIO`).

    Examples
    --------
    >>> zip_member_problem(zipfile.ZipInfo("../../etc/passwd"))
    "member name '../../etc/passwd' leads outside the folder"
    >>> zip_member_problem(zipfile.ZipInfo("labels/v5.csv")) is None
    True
    """
    name = info.filename
    max_bytes = MAX_ZIP_MEMBER_BYTES if max_bytes is None else max_bytes
    max_ratio = MAX_ZIP_RATIO if max_ratio is None else max_ratio
    parts = PurePosixPath(name.replace("\\", "/")).parts
    ratio = info.file_size / max(info.compress_size, 1)
    checks = (
        (not name or "\x00" in name or name.startswith(("/", "\\")) or ".." in parts
         or bool(re.match(r"^[A-Za-z]:", name)),
         f"member name {name!r} leads outside the folder"),
        (stat.S_ISLNK(info.external_attr >> 16), f"member {name!r} is a symbolic link"),
        (bool(info.flag_bits & (0x1 | 0x40)), f"member {name!r} is encrypted"),
        (bool(info.flag_bits & 0x20) or info.compress_type not in _READABLE_METHODS,
         f"member {name!r} uses a ZIP feature that cannot be read (compression method "
         f"{info.compress_type}, flags 0x{info.flag_bits:x})"),
        (info.file_size > max_bytes,
         f"member {name!r} would unpack to {info.file_size / 2**30:.1f} GiB, over the limit "
         f"of {max_bytes / 2**30:.1f} GiB"),
        (info.file_size >= _RATIO_MIN_BYTES and ratio > max_ratio,
         f"member {name!r} is compressed {ratio:.0f} times (limit {max_ratio:.0f}); a zip "
         f"bomb?"),
    )
    return next((message for bad, message in checks if bad), None)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError,
            NotImplementedError, RuntimeError) as exc:
        raise UnsafeArchiveError(f"damaged or truncated ZIP file ({exc}); download it again",
                                 path=path) from None


class _GuardedReader(io.RawIOBase):
    """A ZIP member stream whose read errors become :class:`UnsafeArchiveError`."""

    def __init__(self, raw: IO[bytes], *, path: Path, name: str, limit: int) -> None:
        super().__init__()
        self._raw, self._path, self._name, self._limit = raw, path, name, limit
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        try:
            data = self._raw.read(len(b))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise UnsafeArchiveError(f"ZIP member {self._name!r} is damaged after byte "
                                     f"{self.bytes_read} ({exc}); download it again",
                                     path=self._path) from None
        self.bytes_read += len(data)
        if self.bytes_read > self._limit:
            raise UnsafeArchiveError(f"ZIP member {self._name!r} unpacks to more than "
                                     f"{self._limit} bytes", path=self._path)
        b[:len(data)] = data
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()
        super().close()


def zip_members(path: str | Path, *, max_bytes: int | None = None,
                max_ratio: float | None = None) -> list[zipfile.ZipInfo]:
    """The members of a ZIP file, after checking every one with :func:`zip_member_problem`.

    Raises
    ------
    UnsafeArchiveError
        The file is not a readable ZIP, or a member is unsafe.
    """
    p = Path(path)
    with _open_zip(p) as zf:
        infos = zf.infolist()
    for info in infos:
        problem = zip_member_problem(info, max_bytes=max_bytes, max_ratio=max_ratio)
        if problem:
            raise UnsafeArchiveError(f"refusing this ZIP: {problem}", path=p)
    return infos


@contextlib.contextmanager
def open_zip_member(path: str | Path, *, suffix: str = ".csv", max_bytes: int | None = None,
                    max_ratio: float | None = None) -> Iterator[IO[bytes]]:
    """Open the one member of a ZIP whose name ends in ``suffix``, as a checked byte stream.

    Nothing is extracted to disk. Every member is checked first (:func:`zip_members`); while
    reading, damaged data (CRC or deflate errors, truncation) raises
    :class:`UnsafeArchiveError` naming the file instead of a ``zlib`` or ``zipfile`` error.

    Raises
    ------
    UnsafeArchiveError
        Damaged, encrypted, unsafe or oversized archive.
    InputError
        Not exactly one member ends in ``suffix``.
    """
    from woonvoorraad.errors import InputError

    p = Path(path)
    infos = zip_members(p, max_bytes=max_bytes, max_ratio=max_ratio)
    members = [m for m in infos if m.filename.lower().endswith(suffix) and not m.is_dir()]
    if len(members) != 1:
        raise InputError(f"ZIP must hold exactly one {suffix} file, found {len(members)}"
                         + (f" ({', '.join(m.filename for m in members[:5])})" if members else ""),
                         path=p)
    member = members[0]
    limit = MAX_ZIP_MEMBER_BYTES if max_bytes is None else max_bytes
    with _open_zip(p) as zf:
        try:
            raw = zf.open(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
                ValueError, OSError) as exc:
            raise UnsafeArchiveError(f"cannot read ZIP member {member.filename!r}: {exc}",
                                     path=p) from None
        stream = io.BufferedReader(_GuardedReader(raw, path=p, name=member.filename,
                                                  limit=limit), buffer_size=1 << 20)
        try:
            yield stream
        finally:
            stream.close()


def safe_extract_zip(path: str | Path, dest: str | Path, *, max_bytes: int | None = None,
                     max_ratio: float | None = None, max_members: int = 10_000) -> list[Path]:
    """Extract a ZIP into ``dest`` safely; return the files written.

    Every member is checked first (no path outside ``dest``, no links, no encryption, size
    and compression-ratio limits, at most ``max_members`` members and ``max_bytes`` in
    total); each file is written atomically, so an interrupted extraction leaves no
    truncated file. woonvoorraad itself never needs this (it streams the CSV out of the
    EP-Online ZIP with :func:`open_zip_member`); it is here for callers who do.

    Raises
    ------
    UnsafeArchiveError
        The archive is damaged or unsafe; nothing is written then.
    """
    p, root = Path(path), Path(dest).resolve()
    infos = zip_members(p, max_bytes=max_bytes, max_ratio=max_ratio)
    total_limit = MAX_ZIP_MEMBER_BYTES if max_bytes is None else max_bytes
    if len(infos) > max_members:
        raise UnsafeArchiveError(f"refusing this ZIP: {len(infos)} members (limit "
                                 f"{max_members})", path=p)
    if sum(i.file_size for i in infos) > total_limit:
        raise UnsafeArchiveError("refusing this ZIP: its members unpack to more than "
                                 f"{total_limit} bytes together", path=p)
    for info in infos:
        target = (root / info.filename).resolve()
        if root not in target.parents and not (info.is_dir() and target == root):
            raise UnsafeArchiveError(f"refusing this ZIP: member {info.filename!r} is not a "
                                     f"file inside {root}", path=p)
    files = {(root / i.filename).resolve() for i in infos if not i.is_dir()}
    folders = {q for i in infos for q in (root / i.filename).resolve().parents} | {
        (root / i.filename).resolve() for i in infos if i.is_dir()}
    clash = sorted(files & folders)
    if clash:
        raise UnsafeArchiveError(f"refusing this ZIP: {clash[0].relative_to(root)} is both a "
                                 f"file and a folder in it", path=p)
    written: list[Path] = []
    with _open_zip(p) as zf:
        for info in infos:
            target = (root / info.filename).resolve()
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if target.is_dir():
                raise UnsafeArchiveError(f"member {info.filename!r} would replace the folder "
                                         f"{target}", path=p)
            with atomic_path(target) as tmp, tmp.open("wb") as out:
                try:
                    with zf.open(info) as src:
                        shutil.copyfileobj(_GuardedReader(src, path=p, name=info.filename,
                                                          limit=info.file_size), out,
                                           1 << 20)
                except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError,
                        NotImplementedError, ValueError, OSError) as exc:
                    if isinstance(exc, UnsafeArchiveError):
                        raise
                    raise UnsafeArchiveError(f"ZIP member {info.filename!r} is damaged "
                                             f"({exc})", path=p) from None
            written.append(target)
    return written
