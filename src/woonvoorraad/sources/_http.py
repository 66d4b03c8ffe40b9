"""One HTTP layer for every download: session, retries, on-disk cache and provenance.

Every request woonvoorraad makes to PDOK, CBS or EP-Online goes through this module, so the
rules below hold for all of them:

* **Timeouts and retries.** Connect and read time out after ``settings.requests_timeout``
  seconds. Connection errors, timeouts, truncated bodies, ``429`` and ``5xx`` answers are
  retried up to ``settings.max_retries`` times with exponential backoff
  (``settings.backoff_factor * 2**attempt`` seconds), or after the server's ``Retry-After``
  (seconds or an HTTP date), capped at :data:`retry_after_cap`.
* **Cache.** A response is stored under ``settings.resolved_cache_dir()`` as
  ``<source>/<kk>/<key>.<ext>``, where ``key`` is the SHA-256 of the method, the URL and the
  sorted query parameters (see :func:`cache_key`), next to a provenance sidecar
  ``<key>.provenance.json`` (URL and parameters with secrets removed, time, size, SHA-256,
  licence). Every stored entry is also appended to ``provenance-index.jsonl`` in the cache
  folder. A body is written atomically and before its sidecar; on read its size and SHA-256
  are checked against the sidecar, and an entry that fails the check is deleted and fetched
  again. A body that is truncated (``Content-Length`` mismatch) or is not valid JSON where JSON
  was asked for is never cached.
* **Offline.** With ``settings.offline`` a request missing from the cache raises
  :class:`~woonvoorraad.errors.OfflineError` naming the URL.
* **Redirects** are followed only to the hosts of the configured base URLs
  (``settings.pdok_bag_url`` and friends) or ``settings.allowed_redirect_hosts``; the same rule
  applies to the ``next`` links of paged responses.
* **Secrets.** Header values such as ``Authorization`` and query parameters that look like
  keys, tokens or signatures (``apikey``, ``sig``, ``X-Amz-Signature``, …) never reach a log
  line, a cache file name, a sidecar, the provenance index or an error message: they are
  replaced by ``***``. The cache key still separates requests that differ only in a secret,
  through a one-way hash of the secret mixed into the key material; the secret itself is never
  stored.
* **Large files** (the EP-Online bulk ZIP) are streamed to a hidden ``.part`` file with a
  progress bar, resumed with an HTTP ``Range`` request after an interruption, checked against
  ``Content-Length`` (and an optional validator) and only then moved into place.
* **Paged downloads** (:func:`iter_pages`) cache every page under its own URL, so a killed run
  resumes where it stopped; a ``next`` link that repeats or never ends stops with an error after
  ``settings.max_pages`` pages.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import email.utils
import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urljoin, urlsplit, urlunsplit

import requests
from tqdm.auto import tqdm

from woonvoorraad import __version__, settings
from woonvoorraad._io import atomic_path, sha256_file, write_json_atomic
from woonvoorraad._log import progress
from woonvoorraad.errors import DownloadError, HTTPStatusError, OfflineError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Longest wait, in seconds, honoured from a ``Retry-After`` header.
retry_after_cap: float = 120.0

#: Bytes per read of a streamed download.
CHUNK_SIZE = 1 << 20

#: Replacement text of a secret.
REDACTED = "***"

#: Name of the append-only provenance index in the cache folder.
INDEX_NAME = "provenance-index.jsonl"

#: Query parameter names whose values are secrets.
_SECRET_PARAM = re.compile(
    r"(?i)^(api[-_]?key|apikey|access[-_]?key|key|token|access[-_]?token|auth|secret|"
    r"password|passwd|signature|sig|credential|x-amz-.*|code)$"
)
#: Header names whose values are secrets (compared lower-case).
_SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "api-key", "apikey", "cookie",
    "ocp-apim-subscription-key",
})
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
_SIDECAR_SUFFIX = ".provenance.json"

_known_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_local = threading.local()
_collectors: contextvars.ContextVar[tuple[list[dict[str, Any]], ...]] = contextvars.ContextVar(
    "woonvoorraad_http_collectors", default=()
)


# --------------------------------------------------------------------------------------------
# secrets and redaction


def _remember_secret(value: str) -> None:
    """Remember a secret, and the forms it takes in a URL (``+`` as ``%2B``, ``=`` as ``%3D``).

    urllib3 logs request lines with the query as sent, percent-encoded; the redacting log
    filter must recognise those forms too.
    """
    if value and len(value) >= 4:
        encoded = quote(value, safe="")
        forms = {value, encoded, quote(value), quote_plus(value),
                 re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)}
        with _secrets_lock:
            _known_secrets.update(f for f in forms if len(f) >= 4)


def _is_secret_param(name: str) -> bool:
    return bool(_SECRET_PARAM.match(name.strip()))


def redact_text(text: str) -> str:
    """Replace every secret seen so far (API keys, signatures) in ``text`` by ``***``.

    Examples
    --------
    >>> _remember_secret("s3cr3t-key")
    >>> redact_text("Authorization: s3cr3t-key")
    'Authorization: ***'
    """
    with _secrets_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _param_items(params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> list[
        tuple[str, str]]:
    if not params:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    out: list[tuple[str, str]] = []
    for name, value in items:
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out.extend((str(name), str(v)) for v in value)
        else:
            out.append((str(name), str(value)))
    return out


def redact_params(params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> dict[str, str]:
    """Return the query parameters sorted by name, secret values replaced by ``***``.

    Examples
    --------
    >>> redact_params({"fileType": "csv", "apikey": "abc123"})
    {'apikey': '***', 'fileType': 'csv'}
    """
    out: dict[str, str] = {}
    for name, value in sorted(_param_items(params)):
        if _is_secret_param(name):
            _remember_secret(value)
            out[name] = REDACTED
        else:
            out[name] = redact_text(value)
    return out


def redact_url(url: str) -> str:
    """Return ``url`` without user info and with secret query values replaced by ``***``.

    Examples
    --------
    >>> redact_url("https://blob.example/f.zip?sv=2022&sig=AbC%2Fd&se=2025")
    'https://blob.example/f.zip?se=2025&sig=%2A%2A%2A&sv=2022'
    """
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    redacted = urlencode(list(redact_params(query).items())) if query else ""
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, redacted, parts.fragment)))


def _secret_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    out = {}
    for name, value in (headers or {}).items():
        if name.lower() in _SECRET_HEADERS and value:
            _remember_secret(str(value))
            out[name.lower()] = str(value)
    return out


class _RedactingFilter(logging.Filter):
    """Replace known secrets in log records of the HTTP libraries (urllib3 logs full URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_redacting_filter = _RedactingFilter()
for _name in ("urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.response",
              "urllib3.util.retry", "requests"):
    logging.getLogger(_name).addFilter(_redacting_filter)


# --------------------------------------------------------------------------------------------
# cache keys and entries


def _split_url(url: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> tuple[
        str, list[tuple[str, str]]]:
    """Base URL (no query, no fragment) and all query parameters (URL's own plus ``params``)."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))
    items = parse_qsl(parts.query, keep_blank_values=True) + _param_items(params)
    return base, sorted(items)


def cache_key(
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
    >>> a = cache_key("GET", "https://x.nl/items", {"b": 2, "a": 1})
    >>> a == cache_key("get", "https://x.nl/items?a=1", {"b": "2"})
    True
    >>> len(a)
    64
    """
    base, items = _split_url(url, params)
    lines = [method.upper(), base]
    for name, value in items:
        shown = ("sha256:" + hashlib.sha256(value.encode()).hexdigest()
                 if _is_secret_param(name) else value)
        lines.append(f"{name}={shown}")
    for name, value in sorted(_secret_headers(headers).items()):
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
    return Path(settings.resolved_cache_dir())


def _slug(source: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", source).strip("-") or "misc"


def _entry_dir(source: str, key: str) -> Path:
    return _cache_dir() / _slug(source) / key[:2]


def _sidecar_path(source: str, key: str) -> Path:
    return _entry_dir(source, key) / f"{key}{_SIDECAR_SUFFIX}"


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


def _utcnow() -> str:
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


def _store(source: str, key: str, *, body: bytes | Path, suffix: str,
           meta: dict[str, Any]) -> CacheEntry:
    """Write a body (bytes, or a finished file to move) and then its sidecar, atomically."""
    folder = _entry_dir(source, key)
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
    write_json_atomic(sidecar, record)
    _append_index({**record, "cache_file": str(body_path.relative_to(_cache_dir()))})
    return CacheEntry(key=key, body=body_path, sidecar=sidecar, meta=record)


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
        ``fetched_at``, ``size``, ``sha256``, ``licence``, ``from_cache`` and ``cache_file``.
    """
    records: list[dict[str, Any]] = []
    token = _collectors.set((*_collectors.get(), records))
    try:
        yield records
    finally:
        _collectors.reset(token)


def _record(entry: CacheEntry | None, meta: dict[str, Any], *, from_cache: bool) -> None:
    collectors = _collectors.get()
    if not collectors:
        return
    source = entry.meta if entry is not None else meta
    record = {k: source.get(k) for k in ("source", "method", "url", "params", "cache_id",
                                          "fetched_at", "size", "sha256", "licence")}
    record["from_cache"] = from_cache
    if entry is not None:
        record["cache_file"] = str(entry.body.relative_to(_cache_dir()))
    for records in collectors:
        records.append(dict(record))


# --------------------------------------------------------------------------------------------
# sending


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = settings.user_agent
        _local.session = session
    return session


def close_session() -> None:
    """Close this thread's HTTP session (a new one is made on the next request)."""
    session = getattr(_local, "session", None)
    if session is not None:
        session.close()
        _local.session = None


def allowed_hosts() -> set[str]:
    """Hosts that requests, redirects and ``next`` links may go to.

    The hosts of ``settings.pdok_bag_url``, ``settings.pdok_cbs_url_template``,
    ``settings.cbs_odata_url``, ``settings.cbs_odata_feed_url``, ``settings.ep_online_url``,
    plus ``settings.allowed_redirect_hosts``.
    """
    urls = [settings.pdok_bag_url, settings.pdok_cbs_url_template.replace("{year}", "2024"),
            settings.cbs_odata_url, settings.cbs_odata_feed_url, settings.ep_online_url]
    hosts = {(urlsplit(u).hostname or "").lower() for u in urls}
    hosts |= {h.lower() for h in settings.allowed_redirect_hosts}
    hosts.discard("")
    return hosts


def check_host(url: str, *, extra_hosts: Iterable[str] = (), what: str = "link",
               origin: str | None = None) -> None:
    """Raise :class:`DownloadError` unless ``url`` is http(s) to an allowed host.

    With ``origin`` (the URL that pointed here), a step down from ``https`` to ``http`` is
    refused too: it would send the request (and a redirect's headers) in clear text.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise DownloadError(f"refusing to follow a {what} to {redact_url(url)}: only http and "
                            f"https are allowed, not {scheme or 'a relative URL'!r}")
    if origin is not None and urlsplit(origin).scheme.lower() == "https" and scheme == "http":
        raise DownloadError(f"refusing to follow a {what} from https to plain http: "
                            f"{redact_url(url)}")
    if parts.username or parts.password:
        raise DownloadError(f"refusing to follow a {what} with credentials in the URL: "
                            f"{redact_url(url)}")
    host = (parts.hostname or "").lower()
    allowed = allowed_hosts() | {h.lower() for h in extra_hosts}
    if host not in allowed:
        raise DownloadError(
            f"refusing to follow a {what} to {redact_url(url)}: host {host!r} is not one of the "
            f"configured services ({', '.join(sorted(allowed))}); add it to "
            f"woonvoorraad.settings.allowed_redirect_hosts if you trust it"
        )


class _RetryableError(Exception):
    """A failure worth another attempt."""

    def __init__(self, reason: str, *, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.status = status


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return min(max(seconds, 0.0), retry_after_cap)


def _send(method: str, url: str, *, params: Any, headers: Mapping[str, str] | None,
          stream: bool, extra_hosts: Iterable[str] = ()) -> requests.Response:
    """Send one request, following redirects only to allowed hosts."""
    session = _session()
    timeout = (settings.requests_timeout, settings.requests_timeout)
    current, current_params, current_method = url, params, method
    hdrs = dict(headers or {})
    for _ in range(_MAX_REDIRECTS + 1):
        resp = session.request(current_method, current, params=current_params, headers=hdrs,
                               timeout=timeout, allow_redirects=False, stream=stream)
        location = resp.headers.get("Location")
        if resp.status_code not in _REDIRECT_CODES or not location:
            return resp
        target = urljoin(resp.url, location)
        resp.close()
        check_host(target, extra_hosts=extra_hosts, what="redirect", origin=current)
        if urlsplit(target).hostname != urlsplit(current).hostname:
            hdrs = {k: v for k, v in hdrs.items() if k.lower() not in _SECRET_HEADERS}
        if resp.status_code == 303:
            current_method = "GET"
        logger.debug("redirect %s -> %s", redact_url(resp.url), redact_url(target))
        current, current_params = target, None
    raise DownloadError(f"{redact_url(url)}: more than {_MAX_REDIRECTS} redirects")


def _check_status(resp: requests.Response, what: str) -> None:
    status = resp.status_code
    if status == 429 or 500 <= status < 600:
        raise _RetryableError(f"HTTP {status}", retry_after=_retry_after(resp), status=status)
    if status >= 400:
        try:
            detail = redact_text(resp.text[:300].strip())
        except _TRANSIENT:
            detail = ""
        raise HTTPStatusError(f"{what}: HTTP {status} {resp.reason or ''}".rstrip()
                              + (f" ({detail})" if detail else ""), status=status)


def _attempts(what: str, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` until it succeeds, retrying :class:`_RetryableError` with backoff."""
    n = max(int(settings.max_retries), 0) + 1
    for i in range(n):
        try:
            return attempt()
        except _RetryableError as exc:
            if i + 1 >= n:
                message = (f"{what}: {exc.reason}; gave up after {n} attempt"
                           f"{'s' if n > 1 else ''}")
                if exc.status is not None:
                    raise HTTPStatusError(message, status=exc.status) from None
                raise DownloadError(message) from None
            wait = (exc.retry_after if exc.retry_after is not None
                    else settings.backoff_factor * 2 ** i)
            logger.warning("%s: %s; retry %d of %d in %.1f s", what, exc.reason, i + 1, n - 1,
                           wait)
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


_TRANSIENT = (requests.ConnectionError, requests.Timeout,
              requests.exceptions.ChunkedEncodingError,
              requests.exceptions.ContentDecodingError)


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    text = redact_text(str(exc))
    # drop the URL requests puts in its messages (it may carry parameters)
    text = re.sub(r"url: \S+", "url: …", text)
    return f"{name}: {text[:200]}"


def _fetch_body(url: str, *, params: Any, headers: Mapping[str, str] | None, what: str,
                want_json: bool) -> tuple[bytes, requests.Response]:
    def attempt() -> tuple[bytes, requests.Response]:
        try:
            resp = _send("GET", url, params=params, headers=headers, stream=False)
        except _TRANSIENT as exc:
            raise _RetryableError(_describe(exc)) from None
        with resp:
            _check_status(resp, what)
            body = resp.content
            expected = resp.headers.get("Content-Length")
            if (expected is not None and not resp.headers.get("Content-Encoding")
                    and expected.isdigit() and int(expected) != len(body)):
                raise _RetryableError(f"truncated body: {len(body)} of {expected} bytes")
            if want_json:
                try:
                    json.loads(body)
                except ValueError as exc:
                    raise _RetryableError(
                        f"response is not valid JSON ({exc}); truncated?") from None
            return body, resp

    return _attempts(what, attempt)


# --------------------------------------------------------------------------------------------
# public API


def _age_seconds(meta: Mapping[str, Any]) -> float:
    try:
        fetched = dt.datetime.fromisoformat(str(meta["fetched_at"]))
    except (KeyError, ValueError):
        return float("inf")
    return (dt.datetime.now(dt.UTC) - fetched).total_seconds()


def get_json(
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    source: str,
    licence: str | None = None,
    max_age: float | None = None,
    refresh: bool = False,
    sanitize: Callable[[Any], Any] | None = None,
) -> Any:
    """GET a JSON document through the cache.

    Parameters
    ----------
    url
        The URL (may already carry a query string).
    params
        Query parameters; sorted into the cache key.
    headers
        Extra headers; secret ones (``Authorization``) are never stored or logged.
    source
        Short source name (``pdok-bag``, ``cbs-odata``, …): the cache sub-folder and the
        provenance label.
    licence
        Licence of the source, recorded in the provenance sidecar.
    max_age
        Seconds after which a cached response is fetched again (when online).
    refresh
        Ignore a cached response and download again (the new one replaces it).
    sanitize
        Applied to the parsed document before it is cached (e.g. to drop a short-lived signed
        URL); the caller still gets the unsanitised document on a download.

    Returns
    -------
    Any
        The parsed JSON.

    Raises
    ------
    OfflineError
        Offline mode is on and the response is not cached.
    HTTPStatusError
        The service answered with an error status (after retries for 429 and 5xx).
    DownloadError
        The request failed after all retries.
    """
    key = cache_key("GET", url, params, headers)
    shown = redact_url(_join(url, params))
    use_cache = settings.use_cache
    if use_cache and not refresh:
        entry = lookup(source, key)
        if entry is not None:
            stale = max_age is not None and _age_seconds(entry.meta) > max_age
            if not stale or settings.offline:
                if stale:
                    logger.warning("offline: using a cached response older than %.0f s for %s",
                                   max_age, shown)
                logger.debug("cache hit [%s] %s", source, shown)
                _record(entry, {}, from_cache=True)
                return json.loads(entry.body.read_bytes())
            logger.debug("cache entry expired [%s] %s", source, shown)
    if settings.offline:
        raise OfflineError(
            f"offline mode: {shown} is not in the cache ({_cache_dir()}); run the same command "
            f"without --offline (or with woonvoorraad.settings.offline = False) to download it"
        )
    logger.debug("cache miss [%s] %s: downloading", source, shown)
    body, resp = _fetch_body(url, params=params, headers=headers, what=shown, want_json=True)
    data = json.loads(body)
    meta = {
        "method": "GET",
        "url": redact_url(url.split("?", 1)[0]),
        "params": redact_params(_split_url(url, params)[1]),
        "final_url": redact_url(resp.url),
        "fetched_at": _utcnow(),
        "status": resp.status_code,
        "content_type": resp.headers.get("Content-Type"),
        "licence": licence,
        "sanitized": sanitize is not None,
    }
    if use_cache:
        stored = body if sanitize is None else json.dumps(
            sanitize(json.loads(body)), ensure_ascii=False).encode("utf-8")
        entry = _store(source, key, body=stored, suffix=".json", meta=meta)
        _record(entry, meta, from_cache=False)
    else:
        _record(None, {**meta, "source": source, "size": len(body),
                       "sha256": hashlib.sha256(body).hexdigest()}, from_cache=False)
    return data


def _join(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    query = urlencode(_param_items(params))
    return f"{url}{'&' if '?' in url else '?'}{query}"


def next_link_ogc(page: Any) -> str | None:
    """The ``href`` of the ``rel="next"`` link of an OGC API Features page, or None."""
    if not isinstance(page, dict):
        return None
    for link in page.get("links") or ():
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None


def next_link_odata(page: Any) -> str | None:
    """The ``odata.nextLink`` (v3) or ``@odata.nextLink`` (v4) of an OData page, or None."""
    if not isinstance(page, dict):
        return None
    link = page.get("odata.nextLink") or page.get("@odata.nextLink")
    return str(link) if link else None


def iter_pages(
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    source: str,
    licence: str | None = None,
    next_link: Callable[[Any], str | None] = next_link_ogc,
    desc: str = "pages",
    refresh: bool = False,
) -> Iterator[Any]:
    """Yield the pages of a paged JSON resource, following its ``next`` links.

    Every page is cached under its own URL, so an interrupted run resumes from the cache.
    ``refresh`` downloads every page again.

    Raises
    ------
    DownloadError
        A ``next`` link repeats, leaves the configured hosts, or the paging goes on past
        ``settings.max_pages`` pages.
    """

    def pages() -> Iterator[Any]:
        seen: set[str] = set()
        page_url: str = url
        page_params = params
        count = 0
        while True:
            page = get_json(page_url, params=page_params, source=source, licence=licence,
                            refresh=refresh)
            count += 1
            yield page
            nxt = next_link(page)
            if not nxt:
                return
            nxt = urljoin(page_url, nxt)
            check_host(nxt, what="next link", origin=page_url)
            if nxt in seen:
                raise DownloadError(f"{redact_url(url)}: paging loop, the next link "
                                    f"{redact_url(nxt)} was already visited")
            if count >= settings.max_pages:
                raise DownloadError(
                    f"{redact_url(_join(url, params))}: still a next link after "
                    f"{count} pages (settings.max_pages); the service's paging does not end"
                )
            seen.add(nxt)
            page_url, page_params = nxt, None

    yield from progress(pages(), desc=desc, unit="page")


def download_key(cache_id: str) -> str:
    """The cache key of a streamed download identified by ``cache_id`` (not by its URL)."""
    return hashlib.sha256(f"GET\nid:{cache_id}".encode()).hexdigest()


def cached_download(source: str, cache_id: str) -> Path | None:
    """The verified cached file of download ``cache_id``, or None (no network)."""
    entry = lookup(source, download_key(cache_id))
    if entry is None:
        return None
    logger.debug("cache hit [%s] %s", source, cache_id)
    _record(entry, {}, from_cache=True)
    return entry.body


def download(
    url: str,
    *,
    source: str,
    cache_id: str,
    licence: str | None = None,
    headers: Mapping[str, str] | None = None,
    suffix: str = "",
    extra_hosts: Iterable[str] = (),
    validate: Callable[[Path], None] | None = None,
    desc: str | None = None,
    refresh: bool = False,
) -> Path:
    """Stream a large file into the cache and return its path.

    Parameters
    ----------
    url
        The file's URL (for example a pre-signed URL that changes with every request; its
        query is redacted in the provenance).
    source
        Cache sub-folder and provenance label.
    cache_id
        Stable identity of the file (e.g. ``"ep-online/v20250101_v4_csv.zip"``), used as the
        cache key instead of the URL.
    licence
        Licence recorded in the provenance.
    headers
        Extra request headers.
    suffix
        File suffix of the cached body (``".zip"``).
    extra_hosts
        Hosts this download and its redirects may use besides the configured services.
    validate
        Called with the finished temporary file; raise :class:`ValueError` when its content is
        unusable (the file is then discarded and downloaded again).
    desc
        Progress bar label.
    refresh
        Download again even when cached.

    Returns
    -------
    pathlib.Path
        The verified file in the cache.
    """
    key = download_key(cache_id)
    if settings.use_cache and not refresh:
        hit = cached_download(source, cache_id)
        if hit is not None:
            return hit
    shown = redact_url(url)
    if settings.offline:
        raise OfflineError(f"offline mode: {cache_id} ({shown}) is not in the cache "
                           f"({_cache_dir()}); run without --offline to download it")
    folder = _entry_dir(source, key)
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{key}{suffix}.part"
    check_host(url, extra_hosts=extra_hosts, what="download")
    # one download per file at a time: a second process waits, then finds it in the cache
    with _download_lock(folder / f".{key}{suffix}.lock", cache_id):
        if settings.use_cache and not refresh:
            hit = cached_download(source, cache_id)
            if hit is not None:
                return hit
        return _download_locked(url, part=part, source=source, key=key, cache_id=cache_id,
                                licence=licence, headers=headers, suffix=suffix,
                                extra_hosts=extra_hosts, validate=validate, desc=desc,
                                shown=shown)


@contextlib.contextmanager
def _download_lock(path: Path, cache_id: str) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (released when the process ends, however it ends)."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("waiting for another process that is downloading %s", cache_id)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _download_locked(url: str, *, part: Path, source: str, key: str, cache_id: str,
                     licence: str | None, headers: Mapping[str, str] | None, suffix: str,
                     extra_hosts: Iterable[str], validate: Callable[[Path], None] | None,
                     desc: str | None, shown: str) -> Path:
    """The body of :func:`download`, run while holding the file's download lock."""

    def attempt() -> requests.Response:
        offset = part.stat().st_size if part.exists() else 0
        hdrs = dict(headers or {})
        if offset:
            hdrs["Range"] = f"bytes={offset}-"
        try:
            resp = _send("GET", url, params=None, headers=hdrs, stream=True,
                         extra_hosts=extra_hosts)
        except _TRANSIENT as exc:
            raise _RetryableError(_describe(exc)) from None
        with resp:
            if resp.status_code == 416 and offset:
                part.unlink(missing_ok=True)
                raise _RetryableError("server refused to resume; starting again", retry_after=0)
            _check_status(resp, shown)
            mode = "wb"
            if offset and resp.status_code == 206 and resp.headers.get(
                    "Content-Range", "").startswith(f"bytes {offset}-"):
                mode = "ab"
                logger.info("resuming %s at byte %d", cache_id, offset)
            else:
                offset = 0
            length = resp.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() else None
            bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                       desc=desc or cache_id, leave=False, file=sys.stderr,
                       disable=not settings.show_progress)
            try:
                with part.open(mode) as fh:
                    for chunk in resp.iter_content(CHUNK_SIZE):
                        fh.write(chunk)
                        bar.update(len(chunk))
                    fh.flush()
                    os.fsync(fh.fileno())
            except _TRANSIENT as exc:
                raise _RetryableError(f"interrupted at byte {part.stat().st_size}: "
                                 f"{_describe(exc)}") from None
            finally:
                bar.close()
            size = part.stat().st_size
            if total is not None and size != total:
                raise _RetryableError(f"truncated download: {size} of {total} bytes")
            if validate is not None:
                try:
                    validate(part)
                except ValueError as exc:
                    part.unlink(missing_ok=True)
                    raise _RetryableError(f"downloaded file is invalid: {exc}") from None
            return resp

    resp = _attempts(shown, attempt)
    meta = {
        "method": "GET",
        "url": redact_url(url.split("?", 1)[0]),
        "params": redact_params(parse_qsl(urlsplit(url).query, keep_blank_values=True)),
        "cache_id": cache_id,
        "final_url": redact_url(resp.url),
        "fetched_at": _utcnow(),
        "status": resp.status_code,
        "content_type": resp.headers.get("Content-Type"),
        "licence": licence,
    }
    entry = _store(source, key, body=part, suffix=suffix, meta=meta)
    logger.info("downloaded %s (%.1f MB) into the cache", cache_id, entry.meta["size"] / 1e6)
    _record(entry, meta, from_cache=False)
    return entry.body
