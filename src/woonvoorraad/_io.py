"""Crash-safe file output.

Everything woonvoorraad writes goes through :func:`atomic_path` or :class:`OutputTransaction`,
so a run killed at any moment leaves either the previous complete file or the new complete one,
never a truncated file with the final name. :class:`OutputTransaction` publishes a set of files
with a journal: a publish that is interrupted half-way is completed (rolled forward) by the
next run in the same folder, and leftovers of killed runs are removed then.

ZIP archives are read through :mod:`woonvoorraad._archive`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from woonvoorraad.errors import (
    OutputError,
    OutputLockedError,
    WoonvoorraadError,
)

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


# --------------------------------------------------------------------------------------------
# output folders: can they be written?

#: Hidden temporary files of :func:`atomic_path` (``.<name>.<8 random>.part<suffix>``).
_TEMP_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.part(\.[^.]+)?$")


def _reason(exc: BaseException) -> str:
    """The operating system's reason of an error, e.g. ``No space left on device``."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _not_a_folder(path: Path) -> str:
    """Why ``path``, which exists, cannot be used as a folder."""
    if path.is_symlink():
        target = path.readlink()
        try:
            path.stat()
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return (f"is a symbolic link to {target} that leads back to itself (a symlink "
                        f"loop), not a folder")
            return f"is a symbolic link to {target}, which does not exist"
        return f"is a symbolic link to {target}, which is not a folder"
    if path.is_file():
        return "is a file, not a folder"
    return "exists but is not a folder"


def _make_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents.

    Raises
    ------
    OutputError
        The folder (or a parent) exists but is not a folder (a file, a dangling or looping
        symbolic link), or it cannot be created (read-only, no permission, disk full).
    """
    missing: list[Path] = []
    p = folder
    while not os.path.lexists(p) and p != p.parent:
        missing.append(p)
        p = p.parent
    if os.path.lexists(p) and not p.is_dir():
        advice = "give an existing folder or a path that does not exist yet"
        raise OutputError(f"{_not_a_folder(p)}; {advice}" if p == folder
                          else f"cannot be made: {p} {_not_a_folder(p)}; {advice}", path=folder)
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            if not d.is_dir():
                raise OutputError(f"{_not_a_folder(d)}; give an existing folder or a path that "
                                  f"does not exist yet", path=d) from None
            # else made at the same moment by another run
        except OSError as exc:
            raise OutputError(f"cannot create this folder ({_reason(exc)})", path=d) from None


def _probe_writable(folder: Path) -> None:
    """Create and remove a file in ``folder``; OutputError when that fails.

    The file has the name of a temporary file of :func:`atomic_path`, so a run killed in
    between leaves nothing that the next :func:`recover` does not remove.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=".write-check.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write into this folder ({_reason(exc)})",
                          path=folder) from None
    os.close(fd)
    Path(name).unlink(missing_ok=True)  # (already gone if another run's recover took it)


def check_output_folder(folder: str | Path, *, name: str = ".woonvoorraad.lock",
                        what: str = "woonvoorraad run") -> None:
    """Raise now, before a long run, if the run could not write its outputs into ``folder``.

    Checks that ``folder`` is a folder or can be created, that a file can be created in it
    (a read-only file system or a missing permission fails here, also for root), that its
    lock file is not a link, and that no other process holds the lock
    (:func:`check_not_locked`). A missing folder is created (and stays: removing it again
    could pull it from under another run that started at the same moment).

    Raises
    ------
    OutputError
        ``folder`` is a file, a dangling or looping symbolic link, read-only, or cannot be
        created; or its lock file is a link.
    OutputLockedError
        Another process holds the folder's lock.
    """
    folder = Path(folder)
    _make_folder(folder)
    _probe_writable(folder)
    check_not_locked(folder, name=name, what=what)


# --------------------------------------------------------------------------------------------
# folder locks


def _open_lock_file(path: Path) -> int:
    """Open (create) a lock file without following a symbolic link; return its descriptor.

    The lock file is written (the holder's pid), so it must be a plain file of its own: a
    symbolic link, a hard link to another file or something that is not a regular file is
    refused, never truncated.
    """
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            target = path.readlink() if path.is_symlink() else "?"
            raise OutputError(f"the lock file is a symbolic link (to {target}); woonvoorraad "
                              f"does not follow it, as writing the lock would overwrite what "
                              f"it points to; remove the link", path=path) from None
        raise OutputError(f"cannot open the lock file ({_reason(exc)})", path=path) from None
    st = os.fstat(fd)
    problem = ("is not a regular file" if not stat.S_ISREG(st.st_mode) else
               f"has {st.st_nlink} hard links (it is also another file)"
               if st.st_nlink != 1 else None)
    if problem:
        os.close(fd)
        raise OutputError(f"the lock file {problem}; woonvoorraad does not write into it; "
                          f"remove it", path=path)
    return fd


class FolderLock:
    """An exclusive, advisory lock on a folder (``fcntl.flock`` on a hidden lock file).

    The lock is released when the process ends, however it ends (a killed run never leaves
    a stale lock behind). The lock file holds the pid of the holder, for the error message.

    Parameters
    ----------
    folder
        The folder to lock (created if missing).
    name
        Name of the lock file inside the folder.
    what
        What holds the lock, for the error message (e.g. ``"woonvoorraad run"``).
    wait
        Seconds to wait for the lock before giving up (0: fail at once).

    Raises
    ------
    OutputLockedError
        When another process holds the lock (after ``wait`` seconds).
    OutputError
        When the folder cannot be made or written, or the lock file is a symbolic link, a hard
        link or not a regular file (it is never followed or truncated then).
    """

    def __init__(self, folder: str | Path, *, name: str = ".woonvoorraad.lock",
                 what: str = "woonvoorraad run", wait: float = 0.0) -> None:
        self.folder = Path(folder)
        self.path = self.folder / name
        self.what = what
        self.wait = float(wait)
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the lock; see the class docstring."""
        import fcntl

        _make_folder(self.folder)
        fd = _open_lock_file(self.path)
        try:
            _probe_writable(self.folder)  # also when the lock file was there already
        except BaseException:
            os.close(fd)
            raise
        deadline = time.monotonic() + self.wait
        logged = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _lock_holder(fd)
                    os.close(fd)
                    raise OutputLockedError(
                        f"{self.folder}: another {self.what} is writing to this folder"
                        f"{f' (pid {holder})' if holder else ''}; lock file {self.path}; wait "
                        f"for it to finish or choose another output folder") from None
                if not logged:
                    logger.warning("%s: waiting up to %.0f s for another %s to finish",
                                   self.folder, self.wait, self.what)
                    logged = True
                time.sleep(0.2)
        with contextlib.suppress(OSError):  # the pid is for messages only (disk full: none)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Release the lock (closing the file releases the ``flock``)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock_holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", "ignore").strip()
        return text if text.isdigit() else ""
    return ""


def check_not_locked(folder: str | Path, *, name: str = ".woonvoorraad.lock",
                     what: str = "woonvoorraad run") -> None:
    """Raise :class:`OutputLockedError` now if another process holds ``folder``'s lock.

    A run calls this before its (long) work, so that it fails at once with a clear message
    instead of after computing everything. It takes the lock and releases it at once; the
    publish itself takes the lock again (:class:`OutputTransaction`).
    """
    folder = Path(folder)
    if not os.path.lexists(folder / name):  # a link is refused by FolderLock
        return
    with FolderLock(folder, name=name, what=what):
        pass


# --------------------------------------------------------------------------------------------
# publishing a set of outputs


class OutputTransaction:
    """Stage a set of output files and publish them together, manifest last.

    Files are written into a hidden staging folder inside ``out_dir``. :meth:`commit` first
    writes a journal (the new manifest and the outputs it replaces) into the staging folder,
    then moves the files into place one by one with :func:`os.replace`, removes outputs of the
    previous manifest that this run did not produce, and writes the manifest as the very last
    step. So the manifest present in ``out_dir`` always describes complete files; during the
    publish there is no manifest at all.

    A run killed during the publish leaves its journal behind; the next transaction in the
    same folder finishes that publish (rolls it forward) before it starts, so the folder ends
    with the complete new outputs. Staging folders of runs killed before their publish, and
    temporary files of :func:`atomic_path`, are removed then. A :class:`FolderLock` keeps two
    processes from publishing into the same folder at once.

    Once the journal is written the publish is never undone: SIGINT and SIGTERM are held back
    until it has finished (a few milliseconds of renames), and when an exception still stops
    it, leaving the ``with`` block completes it, or, if that fails too, keeps the journal for
    the next run. No output is written or removed through a symbolic link that leads out of
    ``out_dir``. Operating-system errors (disk full, file too large, read-only folder) come out
    as :class:`~woonvoorraad.errors.OutputError` naming the output and the reason.

    Parameters
    ----------
    out_dir
        The output folder.
    lock_wait
        Seconds to wait for another run's publish to finish before giving up with
        :class:`OutputLockedError` (default: fail at once).
    """

    LOCK_NAME = ".woonvoorraad.lock"
    JOURNAL_NAME = ".commit.json"

    def __init__(self, out_dir: str | Path, *, lock_wait: float = 0.0) -> None:
        self.out_dir = Path(out_dir)
        self.staging: Path | None = None
        self._lock = FolderLock(self.out_dir, name=self.LOCK_NAME, what="woonvoorraad run",
                                wait=lock_wait)
        self.files: list[str] = []
        self.recovered: list[str] = []
        self._published = False
        self._journal_kept = False
        self._used_before = False

    def __enter__(self) -> OutputTransaction:
        _make_folder(self.out_dir)
        # the lock file stays after every run: its presence tells a folder woonvoorraad wrote
        self._used_before = os.path.lexists(self.out_dir / self.LOCK_NAME)
        self._lock.acquire()
        try:
            self.recovered = recover(self.out_dir, _locked=True)
            self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out_dir))
        except BaseException as exc:
            self._lock.release()
            if isinstance(exc, OSError) and not isinstance(exc, WoonvoorraadError):
                raise OutputError(f"cannot prepare the output folder ({_reason(exc)})",
                                  path=self.out_dir) from exc
            raise
        return self

    def path(self, name: str) -> Path:
        """Return the staging path for output ``name`` (a relative file name)."""
        assert self.staging is not None, "use OutputTransaction as a context manager"
        _check_relative(name)
        p = self.staging / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if name not in self.files:
            self.files.append(name)
        return p

    def commit(self, manifest: dict[str, Any], *, manifest_name: str = "manifest.json",
               known_outputs: Sequence[str] = ()) -> None:
        """Publish the staged files, then write ``manifest`` with their sizes and hashes.

        Outputs of the previous manifest that this run did not produce are removed.
        ``known_outputs`` are the names this kind of run may write: when the folder has no
        manifest although a woonvoorraad run wrote it before (a publish was lost, e.g. by an
        older version), those present that this run did not produce are removed too, so no
        stale file is left beside the new manifest.

        Raises
        ------
        OutputError
            An output would be written through a symbolic link (or into a file) inside
            ``out_dir``; nothing is published then.
        """
        assert self.staging is not None
        outputs = []
        for name in self.files:
            src = self.staging / name
            if not src.is_file():
                continue
            _fsync_file(src)  # the data is on disk before any rename makes it visible
            outputs.append({"path": name, "size": src.stat().st_size,
                            "sha256": sha256_file(src)})
        new = {o["path"] for o in outputs}
        for name in [*new, manifest_name]:  # refuse now, while the old outputs are intact
            problem = _obstacle(self.out_dir, _check_relative(name))
            if problem:
                raise OutputError(problem, path=self.out_dir)
        previous = self.out_dir / manifest_name
        stale = [p for p in _manifest_outputs(previous) if p not in new and p != manifest_name]
        if self._used_before and not previous.is_file():
            stale += [name for name in known_outputs if name not in new and name not in stale
                      and name != manifest_name and os.path.lexists(self.out_dir / name)]
        journal = {"manifest_name": manifest_name, "manifest": {**manifest, "outputs": outputs},
                   "remove": stale, "pid": os.getpid(),
                   "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        # from the journal on, the publish is completed, never undone: an interrupt waits
        with _signals_deferred():
            write_json_atomic(self.staging / self.JOURNAL_NAME, journal)
            _fsync_dir(self.staging)
            _publish(self.out_dir, self.staging, _read_journal(self.staging / self.JOURNAL_NAME))
            shutil.rmtree(self.staging, ignore_errors=True)
            self._published = True
        logger.info("wrote %d outputs and %s to %s", len(outputs), manifest_name, self.out_dir)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        try:
            if self.staging is not None and not self._published:
                if (self.staging / self.JOURNAL_NAME).is_file():
                    self._complete_publish(exc)
                else:  # stopped before its publish: the previous outputs are untouched
                    shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            self._lock.release()
        if isinstance(exc, OSError) and not isinstance(exc, WoonvoorraadError):
            raise self._output_error(exc) from exc

    def _complete_publish(self, exc: BaseException | None) -> None:
        """Finish a publish that an exception stopped half-way; else keep its journal."""
        assert self.staging is not None
        completed = False
        try:
            with _signals_deferred():
                _publish(self.out_dir, self.staging,
                         _read_journal(self.staging / self.JOURNAL_NAME))
                shutil.rmtree(self.staging, ignore_errors=True)
                completed = self._published = True
        except BaseException as err:  # the first exception is the one to report
            if not completed:
                self._journal_kept = True
                logger.error("%s: the publish of the new outputs was stopped (%s) and cannot "
                             "be completed now (%s); the folder has no manifest, and the next "
                             "woonvoorraad run in it completes the publish", self.out_dir,
                             type(exc).__name__ if exc else "error", _reason(err))
        if completed:
            logger.warning("%s: the publish of the new outputs was stopped (%s) and has been "
                           "completed", self.out_dir, type(exc).__name__ if exc else "error")

    def _output_error(self, exc: OSError) -> OutputError:
        """``exc``, raised while writing the outputs, as an OutputError naming the output."""
        where = "the outputs"
        if exc.filename:
            name = Path(os.fsdecode(exc.filename))
            for base in (self.staging, self.out_dir):
                if base is not None and base in name.parents:
                    where = name.relative_to(base).as_posix()
                    break
            else:
                where = str(name)
        if self._journal_kept:
            state = ("the new outputs are partly published and the folder has no manifest; "
                     "the next woonvoorraad run in this folder completes the publish")
        elif self._published:
            state = "the new outputs are published"
        else:
            state = "the previous outputs are unchanged"
        return OutputError(f"cannot write {where} ({_reason(exc)}); {state}", path=self.out_dir)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM inside the block; deliver them when it ends.

    For the publish, a few milliseconds of renames that must not stop half-way. Only in the
    main thread (signal handlers are set there) and for signals whose handler Python set.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous: dict[int, Any] = {}

    def hold(signum: int, frame: object) -> None:
        received.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler is None or handler == signal.SIG_IGN:
            continue  # set outside Python, or ignored: leave it
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, hold)
            previous[signum] = handler
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)  # e.g. KeyboardInterrupt, now that the publish is done


def _check_relative(name: str) -> PurePosixPath:
    rel = PurePosixPath(str(name).replace("\\", "/"))
    if rel.is_absolute() or not rel.parts or ".." in rel.parts or rel.parts[0].endswith(":"):
        raise ValueError(f"output name {name!r} must be a relative path inside the folder")
    return rel


def _obstacle(out_dir: Path, rel: PurePosixPath) -> str | None:
    """Why ``out_dir / rel`` must not be written or removed, or None.

    A folder on the way (below ``out_dir``) that is a symbolic link could lead out of the
    output folder, and one that is a file cannot hold the output. The last part may be a
    link: :func:`os.replace` and :meth:`Path.unlink` act on the link itself.
    """
    p = out_dir
    for part in rel.parts[:-1]:
        p = p / part
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return None  # made by the publish
        if stat.S_ISLNK(st.st_mode):
            return (f"{rel.as_posix()}: {p.relative_to(out_dir).as_posix()} is a symbolic link "
                    f"(to {p.readlink()}); woonvoorraad does not write or remove files "
                    f"through links out of its output folder; remove the link")
        if not stat.S_ISDIR(st.st_mode):
            return (f"{rel.as_posix()}: {p.relative_to(out_dir).as_posix()} is a file, not a "
                    f"folder")
    return None


def _fsync_file(path: Path) -> None:
    with contextlib.suppress(OSError), path.open("rb") as fh:
        os.fsync(fh.fileno())


def _manifest_outputs(path: Path) -> list[str]:
    """Output paths listed by an existing manifest (empty when absent or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [str(o["path"]) for o in data.get("outputs", []) if isinstance(o, dict)]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def _read_journal(path: Path) -> dict[str, Any]:
    journal = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(journal, dict) or "manifest" not in journal:
        raise ValueError(f"{path}: not a woonvoorraad commit journal")
    return journal


def _publish(out_dir: Path, staging: Path, journal: dict[str, Any]) -> None:
    """Move the staged outputs of ``journal`` into ``out_dir``; write its manifest last.

    Idempotent: an output already moved (by an earlier, interrupted call) is left in place, so
    the same journal can be published again after a crash.
    """
    manifest = journal["manifest"]
    manifest_name = str(journal.get("manifest_name") or "manifest.json")
    # nothing is written through a link out of the folder; checked before anything changes
    for rel in [_check_relative(manifest_name),
                *(_check_relative(e["path"]) for e in manifest.get("outputs", []))]:
        problem = _obstacle(out_dir, rel)
        if problem:
            raise OutputError(problem, path=out_dir)
    # no manifest while files are being replaced: none can claim a half-replaced set
    (out_dir / manifest_name).unlink(missing_ok=True)
    _fsync_dir(out_dir)
    for entry in manifest.get("outputs", []):
        rel = _check_relative(entry["path"])
        src, dst = staging / rel, out_dir / rel
        if not src.exists():
            continue  # moved by an earlier attempt
        problem = _obstacle(out_dir, rel)  # again: the folder may have changed since
        if problem:
            raise OutputError(problem, path=out_dir)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.is_dir() and not dst.is_symlink() and not src.is_dir():
            shutil.rmtree(dst)
        os.replace(src, dst)  # a link at dst is replaced itself, its target is not touched
    for name in journal.get("remove", []):
        try:
            rel = _check_relative(name)
        except ValueError:
            continue
        problem = _obstacle(out_dir, rel)
        if problem:
            logger.warning("%s: not removing %s, an output of the previous run: %s", out_dir,
                           rel, problem)
            continue
        target = out_dir / rel
        if target.is_symlink() or target.is_file():
            target.unlink()  # a link itself, never what it points to
            logger.info("%s: removed %s, an output of the previous run that this run "
                        "does not produce", out_dir, rel)
    _fsync_dir(out_dir)
    for entry in manifest.get("outputs", []):
        dst = out_dir / entry["path"]
        if not dst.is_file() or dst.stat().st_size != entry["size"]:
            raise OSError(f"{dst}: missing or of the wrong size after publishing; the "
                          f"manifest is not written")
    write_json_atomic(out_dir / manifest_name, manifest)


#: Prefix of hidden work folders that a run owns while it lives (the dask engine's dwelling
#: parts); :func:`recover` removes those whose owner has died.
WORK_DIR_PREFIX = ".dask-parts-"
_OWNER_LOCK = ".owner.lock"


def owned_work_dir(out_dir: str | Path, *, prefix: str = WORK_DIR_PREFIX
                   ) -> tuple[Path, FolderLock]:
    """Make a hidden work folder in ``out_dir`` and hold its owner lock.

    The folder may be written by other processes (dask workers); the lock says that its owner
    still lives. When the owner is killed the kernel frees the lock, and the next
    :func:`recover` of ``out_dir`` removes the folder. Release the lock after removing the
    folder.
    """
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir))
    lock = FolderLock(folder, name=_OWNER_LOCK, what="woonvoorraad build").acquire()
    return folder, lock


def _orphaned(folder: Path) -> bool:
    """Whether a work folder's owner has died (its lock file exists and is free)."""
    lock = folder / _OWNER_LOCK
    if lock.is_symlink() or not lock.is_file():
        return False  # being created, or not ours: leave it
    try:
        with FolderLock(folder, name=_OWNER_LOCK):
            return True
    except (OutputLockedError, OutputError):
        return False


def recover(out_dir: str | Path, *, _locked: bool = False) -> list[str]:
    """Finish or clean up what killed runs left in ``out_dir``; return what was done.

    * A staging folder with a commit journal is a publish that was interrupted: it is
      completed (the remaining files are moved, the manifest is written).
    * A staging folder without a journal belongs to a run killed before its publish: it is
      removed, and so are hidden temporary files of :func:`atomic_path`.
    * A work folder of :func:`owned_work_dir` whose owner has died is removed.

    Takes the folder lock unless the caller holds it.
    """
    out = Path(out_dir)
    if not out.is_dir():
        return []
    if not _locked:
        with FolderLock(out, name=OutputTransaction.LOCK_NAME):
            return recover(out, _locked=True)
    done: list[str] = []
    stagings = sorted((p for p in out.iterdir() if p.name.startswith(".staging-")
                       and p.is_dir() and not p.is_symlink()),
                      key=lambda p: p.stat().st_mtime)
    for staging in stagings:
        journal_path = staging / OutputTransaction.JOURNAL_NAME
        journal = None
        if journal_path.is_file():
            try:
                journal = _read_journal(journal_path)
            except (OSError, ValueError):
                journal = None
        if journal is not None:
            logger.warning("%s: completing the publish of an interrupted run (pid %s, %s)",
                           out, journal.get("pid"), journal.get("created"))
            try:
                _publish(out, staging, journal)
                done.append(f"completed {staging.name}")
            except (OSError, KeyError, TypeError, ValueError) as exc:
                # the folder holds no manifest now: nothing claims the mixed files
                logger.error("%s: cannot complete the interrupted publish (%s); the folder "
                             "has no manifest until the next successful run", out, exc)
                done.append(f"abandoned {staging.name}")
        else:
            logger.info("%s: removing %s, left by a run that was stopped before it published",
                        out, staging.name)
            done.append(f"removed {staging.name}")
        shutil.rmtree(staging, ignore_errors=True)
    done.extend(f"removed {name}" for name in remove_temp_files(out))
    for work in sorted(out.glob(WORK_DIR_PREFIX + "*")):
        if work.is_dir() and not work.is_symlink() and _orphaned(work):
            logger.info("%s: removing %s, left by a build that was stopped", out, work.name)
            shutil.rmtree(work, ignore_errors=True)
            done.append(f"removed {work.name}")
    return done


def remove_temp_files(folder: str | Path) -> list[str]:
    """Remove the hidden temporary files of :func:`atomic_path` (and of report notebooks)
    that killed processes left in ``folder``; return their names.

    Only call this while holding the folder's lock: a running writer's temporary file looks
    the same.
    """
    removed = []
    for p in Path(folder).iterdir():
        if p.is_file() and _TEMP_FILE.match(p.name):
            p.unlink(missing_ok=True)
            removed.append(p.name)
    return removed
