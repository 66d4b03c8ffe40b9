"""The on-disk response cache: keys, verified entries, provenance sidecars and the index.

A response is stored under ``layout.cache_dir()`` as ``<source>/<kk>/<key>.<ext>``,
where ``key`` is the SHA-256 of the method, the URL and the sorted query parameters (see
:func:`make_cache_key`), next to a provenance sidecar ``<key>.provenance.json`` (URL and parameters
with secrets removed, time, size, SHA-256, licence). Every stored entry is also appended to
``provenance-index.jsonl`` in the cache folder. A body is written atomically and before its
sidecar; on read its size and SHA-256 are checked against the sidecar, and an entry that fails
the check is deleted (the caller fetches it again). :func:`collect` gathers a provenance
record of every request, served from here or downloaded, for a fetch manifest. Offline mode
and the network itself live in :mod:`woonvoorraad.sources._http`.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from woonvoorraad import __version__, layout
from woonvoorraad._io import atomic_path, sha256_file, write_json_atomic
from woonvoorraad.sources._redact import collect_secret_headers, is_secret_param, list_param_items

logger = logging.getLogger(__name__)

#: Name of the append-only provenance index in the cache folder.
INDEX_NAME = "provenance-index.jsonl"

_SIDECAR_SUFFIX = ".provenance.json"

_collectors: contextvars.ContextVar[tuple[list[dict[str, Any]], ...]] = contextvars.ContextVar(
    "woonvoorraad_http_collectors", default=()
)


def split_url(url: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> tuple[
        str, list[tuple[str, str]]]:
    """Base URL (no query, no fragment) and all query parameters (URL's own plus ``params``)."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))
    items = parse_qsl(parts.query, keep_blank_values=True) + list_param_items(params)
    return base, sorted(items)


def make_cache_key(
    method: str,
    url: str,
    params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """Return the cache key of a request: SHA-256 of method, URL and sorted parameters.

    Secret parameter values and secret headers (``Authorization``) enter the key material only
    as a SHA-256 of themselves, so requests that differ in a secret get different keys while
    nothing that is stored reveals the secret.

    Examples
    --------
    >>> a = make_cache_key("GET", "https://x.nl/items", {"b": 2, "a": 1})
    >>> a == make_cache_key("get", "https://x.nl/items?a=1", {"b": "2"})
    True
    >>> len(a)
    64
    """
    base, items = split_url(url, params)
    lines = [method.upper(), base]
    for name, value in items:
        shown = ("sha256:" + hashlib.sha256(value.encode()).hexdigest()
                 if is_secret_param(name) else value)
        lines.append(f"{name}={shown}")
    for name, value in sorted(collect_secret_headers(headers).items()):
        lines.append(f"header:{name}=sha256:" + hashlib.sha256(value.encode()).hexdigest())
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """A verified cache entry: the body file and its provenance sidecar."""

    key: str
    body: Path
    sidecar: Path
    meta: dict[str, Any]


def _cache_dir() -> Path:
    return layout.cache_dir()


def _slug(source: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", source).strip("-") or "misc"


def locate_entry(source: str, key: str) -> Path:
    """The folder that holds (or will hold) cache entry ``key`` of ``source``."""
    return _cache_dir() / _slug(source) / key[:2]


def _sidecar_path(source: str, key: str) -> Path:
    return locate_entry(source, key) / f"{key}{_SIDECAR_SUFFIX}"


def _remove_entry(sidecar: Path, body: Path | None) -> None:
    for p in (sidecar, body):
        if p is not None:
            with contextlib.suppress(OSError):
                p.unlink()


def lookup(source: str, key: str, *, verify: bool = True) -> CacheEntry | None:
    """Return the verified cache entry ``key`` of ``source``, or None.

    An entry whose body is missing, or whose size or SHA-256 differs from its sidecar, is
    deleted (with a warning) and None is returned.
    """
    sidecar = _sidecar_path(source, key)
    if not sidecar.is_file():
        return None
    try:
        meta = json.loads(sidecar.read_text("utf-8"))
        body = sidecar.parent / meta["file"]
        size, digest = int(meta["size"]), str(meta["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("cache: unreadable provenance file %s; discarding the entry", sidecar)
        _remove_entry(sidecar, None)
        return None
    problem = None
    if not body.is_file():
        problem = "body file is missing"
    elif body.stat().st_size != size:
        problem = f"size {body.stat().st_size} differs from the recorded {size}"
    elif verify and sha256_file(body) != digest:
        problem = "SHA-256 differs from the recorded one"
    if problem:
        logger.warning("cache: %s of %s; discarding the entry and downloading again", problem,
                       body)
        _remove_entry(sidecar, body)
        return None
    return CacheEntry(key=key, body=body, sidecar=sidecar, meta=meta)


def format_utc_now() -> str:
    """The current UTC time as ISO 8601 to the second (the provenance time stamps)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _append_index(record: dict[str, Any]) -> None:
    index = _cache_dir() / INDEX_NAME
    index.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    fd = os.open(index, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))  # a log: no fsync; entries are self-describing
    finally:
        os.close(fd)


def store(source: str, key: str, *, body: bytes | Path, suffix: str,
           meta: dict[str, Any]) -> CacheEntry:
    """Write a body (bytes, or a finished file to move) and then its sidecar, atomically."""
    folder = locate_entry(source, key)
    folder.mkdir(parents=True, exist_ok=True)
    body_path = folder / f"{key}{suffix}"
    if isinstance(body, Path):
        digest, size = sha256_file(body), body.stat().st_size
        os.replace(body, body_path)
    else:
        digest, size = hashlib.sha256(body).hexdigest(), len(body)
        with atomic_path(body_path) as tmp:
            tmp.write_bytes(body)
    record = {
        "key": key,
        "source": source,
        **meta,
        "file": body_path.name,
        "size": size,
        "sha256": digest,
        "tool": "woonvoorraad",
        "version": __version__,
    }
    sidecar = folder / f"{key}{_SIDECAR_SUFFIX}"
    previous = _read_body_name(sidecar)
    write_json_atomic(sidecar, record)
    if previous and previous != body_path.name:  # e.g. a cached 404 replaced by an answer
        with contextlib.suppress(OSError):
            (folder / previous).unlink()
    _append_index({**record, "cache_file": str(body_path.relative_to(_cache_dir()))})
    return CacheEntry(key=key, body=body_path, sidecar=sidecar, meta=record)


def _read_body_name(sidecar: Path) -> str | None:
    try:
        return str(json.loads(sidecar.read_text("utf-8"))["file"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discard(source: str, key: str) -> None:
    """Remove cache entry ``key`` of ``source`` (body and sidecar), if there is one.

    For an answer that turned out to be unusable after it was stored, such as the page of a
    paging loop: the next request downloads it again.
    """
    sidecar = _sidecar_path(source, key)
    name = _read_body_name(sidecar)
    _remove_entry(sidecar, sidecar.parent / name if name else None)
    if name:
        logger.info("cache: discarded %s/%s", _slug(source), name)


def verify_cache() -> dict[str, list[str]]:
    """Check every entry of the cache folder.

    Returns
    -------
    dict
        ``ok`` (verified bodies), ``corrupt`` (size or SHA-256 mismatch, or sidecar without
        body), ``orphans`` (bodies without a sidecar: a write that was interrupted) and
        ``partials`` (hidden ``.part`` files of interrupted streamed downloads, kept for
        resuming; they never carry a final name). Paths are relative to the cache folder.
    """
    root = _cache_dir()
    report: dict[str, list[str]] = {"ok": [], "corrupt": [], "orphans": [], "partials": []}
    if not root.is_dir():
        return report
    claimed: set[Path] = set()
    for sidecar in sorted(root.rglob(f"*{_SIDECAR_SUFFIX}")):
        try:
            meta = json.loads(sidecar.read_text("utf-8"))
            body = sidecar.parent / meta["file"]
        except (OSError, ValueError, KeyError, TypeError):
            report["corrupt"].append(str(sidecar.relative_to(root)))
            continue
        claimed.add(body)
        ok = (body.is_file() and body.stat().st_size == int(meta.get("size", -1))
              and sha256_file(body) == meta.get("sha256"))
        report["ok" if ok else "corrupt"].append(str(body.relative_to(root)))
    for path in sorted(root.rglob("*")):
        if (not path.is_file() or path.name == INDEX_NAME or path.name.endswith(_SIDECAR_SUFFIX)
                or (path.name.startswith(".") and path.name.endswith(".lock"))):
            continue
        rel = str(path.relative_to(root))
        if path.name.startswith(".") and path.name.endswith(".part"):
            report["partials"].append(rel)
        elif path not in claimed:
            report["orphans"].append(rel)
    return report




# --------------------------------------------------------------------------------------------
# provenance collection


@contextlib.contextmanager
def collect() -> Iterator[list[dict[str, Any]]]:
    """Collect a provenance record of every request made inside the ``with`` block.

    Yields
    ------
    list of dict
        Filled as requests are made: ``source``, ``url`` and ``params`` (secrets removed),
        ``fetched_at``, ``size``, ``sha256``, ``licence``, ``from_cache`` and ``cache_file``;
        a request answered with an error (a 404, a retried 503, a truncated body, no answer)
        also has ``status`` and ``error``, and has no ``cache_file`` unless it is a cached 404
        or 410.
    """
    records: list[dict[str, Any]] = []
    token = _collectors.set((*_collectors.get(), records))
    try:
        yield records
    finally:
        _collectors.reset(token)


def record_request(entry: CacheEntry | None, meta: dict[str, Any], *, from_cache: bool) -> None:
    """Add a provenance record of one request to every open :func:`collect` list."""
    collectors = _collectors.get()
    if not collectors:
        return
    source = entry.meta if entry is not None else meta
    record = {k: source.get(k) for k in ("source", "method", "url", "params", "cache_id",
                                          "fetched_at", "size", "sha256", "licence")}
    for k in ("status", "error"):  # an error answer says so (a 200 needs no mention)
        if source.get(k) is not None and (k == "error" or source.get(k) != 200):
            record[k] = source[k]
    record["from_cache"] = from_cache
    if entry is not None:
        record["cache_file"] = str(entry.body.relative_to(_cache_dir()))
    for records in collectors:
        records.append(dict(record))


def make_download_key(cache_id: str) -> str:
    """The cache key of a streamed download identified by ``cache_id`` (not by its URL)."""
    return hashlib.sha256(f"GET\nid:{cache_id}".encode()).hexdigest()


def find_cached_download(source: str, cache_id: str) -> Path | None:
    """The verified cached file of download ``cache_id``, or None (no network)."""
    entry = lookup(source, make_download_key(cache_id))
    if entry is None:
        return None
    logger.debug("cache hit [%s] %s", source, cache_id)
    record_request(entry, {}, from_cache=True)
    return entry.body

