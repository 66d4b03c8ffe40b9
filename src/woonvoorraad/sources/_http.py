"""One HTTP layer for every download: session, retries, redirects, offline mode, streaming.

Every request woonvoorraad makes to PDOK, CBS or EP-Online goes through this module, so the
rules below hold for all of them:

* **Timeouts and retries.** Connect and read time out after ``settings.requests_timeout``
  seconds. Connection errors, timeouts, truncated bodies, ``429`` and ``5xx`` answers are
  retried up to ``settings.max_retries`` times with exponential backoff
  (``settings.backoff_factor * 2**attempt`` seconds), or after the server's ``Retry-After``
  (seconds or an HTTP date, parsed by urllib3's ``Retry``), capped at :data:`retry_after_cap`.
* **Cache.** Responses are cached with provenance sidecars by
  :mod:`woonvoorraad.sources._cache` (keys, verification, the provenance index). A body that
  is truncated (``Content-Length`` mismatch), is not valid JSON where JSON was asked for, or
  fails the caller's validation is never cached. Negative answers (``404``, ``410``) are cached
  with their provenance for ``settings.negative_cache_max_age`` seconds (offline: whatever
  their age), so an offline or cache-only refetch meets the same answer without a request;
  ``retry_errors=True`` asks again for exactly those.
* **Counting.** Every request sent is recorded for the fetch manifest
  (:func:`woonvoorraad.sources._cache.record_request`), whatever its answer: a retried 503, a
  truncated body and a 404 count as much as a 200.
* **Offline.** With ``settings.offline`` a request missing from the cache raises
  :class:`~woonvoorraad.errors.OfflineError` naming the URL.
* **Redirects** are followed only to the hosts of the configured base URLs
  (``settings.pdok_bag_url`` and friends) or ``settings.allowed_redirect_hosts``; the same rule
  applies to the ``next`` links of paged responses.
* **Secrets** (:mod:`woonvoorraad.sources._redact`). Header values such as
  ``Authorization`` and query parameters that look like keys, tokens or signatures never
  reach a log line, a cache file name, a sidecar, the provenance index or an error message:
  they are replaced by ``***``. The cache key still separates requests that differ only in a
  secret, through a one-way hash of the secret; the secret itself is never stored.
* **Large files** (the EP-Online bulk ZIP) are streamed to a hidden ``.part`` file with a
  progress bar, resumed with an HTTP ``Range`` request after an interruption, checked against
  ``Content-Length`` (and an optional validator) and only then moved into place.
* **Paged downloads** (:func:`iter_pages`) cache every page under its own URL, so a killed run
  resumes where it stopped; a ``next`` link that repeats or never ends stops with an error after
  ``settings.max_pages`` pages. The page that closed the loop (or went past the limit) is
  removed from the cache, so the pages before it are kept and the next plain fetch asks for it
  again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests
from tqdm.auto import tqdm
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from woonvoorraad import layout, settings
from woonvoorraad._io import FolderLock
from woonvoorraad._log import progress
from woonvoorraad.errors import DownloadError, HTTPStatusError, OfflineError
from woonvoorraad.sources import _cache
from woonvoorraad.sources._redact import (
    SECRET_HEADERS,
    list_param_items,
    redact_params,
    redact_text,
    redact_url,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Longest wait, in seconds, honoured from a ``Retry-After`` header.
retry_after_cap: float = 120.0

#: Bytes per read of a streamed download.
CHUNK_SIZE = 1 << 20

_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10

_local = threading.local()

#: Parses ``Retry-After`` headers (the retry loop itself is :func:`_attempts`).
_RETRY_AFTER = Retry(total=0)

#: Statuses cached as negative answers (a resource that does not exist).
NEGATIVE_STATUSES = frozenset({404, 410})


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


def list_allowed_hosts() -> set[str]:
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
    allowed = list_allowed_hosts() | {h.lower() for h in extra_hosts}
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
    """Seconds the server asks to wait (``Retry-After``: seconds or an HTTP date), capped.

    The header is parsed by urllib3 (:meth:`urllib3.util.Retry.parse_retry_after`); a value
    it refuses counts as absent, so the exponential backoff applies.
    """
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = _RETRY_AFTER.parse_retry_after(value)
    except InvalidHeader:
        return None
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
            hdrs = {k: v for k, v in hdrs.items() if k.lower() not in SECRET_HEADERS}
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


def _attempts(what: str, attempt: Callable[[], T],
              on_failure: Callable[[int | None, str], None] | None = None) -> T:
    """Run ``attempt`` until it succeeds, retrying :class:`_RetryableError` with backoff.

    ``on_failure`` is told (status, reason) of every attempt that failed, so that every request
    sent is counted whatever its answer.
    """
    n = max(int(settings.max_retries), 0) + 1
    for i in range(n):
        try:
            return attempt()
        except HTTPStatusError as exc:
            if on_failure is not None:
                on_failure(exc.status, str(exc))
            raise
        except _RetryableError as exc:
            if on_failure is not None:
                on_failure(exc.status, exc.reason)
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
                want_json: bool, validate: Callable[[Any], None] | None = None,
                on_failure: Callable[[int | None, str], None] | None = None,
                ) -> tuple[bytes, requests.Response]:
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
                    doc = json.loads(body)
                except ValueError as exc:
                    raise _RetryableError(
                        f"response is not valid JSON ({exc}); truncated?") from None
                if validate is not None:
                    try:
                        validate(doc)
                    except ValueError as exc:
                        raise _RetryableError(f"unusable answer: {exc}") from None
            return body, resp

    return _attempts(what, attempt, on_failure)


def _failure_recorder(source: str, url: str, params: Any, licence: str | None,
                      cache_id: str | None = None, *, skip: frozenset[int] = frozenset(),
                      ) -> Callable[[int | None, str], None]:
    """A callback that records a failed request (for :func:`_attempts`) in the provenance."""

    def note(status: int | None, reason: str) -> None:
        if status in skip:
            return
        _cache.record_request(None, {
            "source": source, "method": "GET", "url": redact_url(url.split("?", 1)[0]),
            "params": redact_params(_cache.split_url(url, params)[1]), "cache_id": cache_id,
            "fetched_at": _cache.format_utc_now(), "size": 0, "sha256": None,
            "licence": licence, "status": status, "error": redact_text(reason)[:300],
        }, from_cache=False)

    return note


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
    validate: Callable[[Any], None] | None = None,
    retry_errors: bool = False,
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
    validate
        Called with the parsed document before it is cached; a :class:`ValueError` means the
        answer is unusable: it is retried and never cached.
    retry_errors
        Ask again instead of using a cached negative answer (404, 410), e.g. for the parts a
        previous fetch recorded as incomplete.

    Returns
    -------
    Any
        The parsed JSON.

    Raises
    ------
    OfflineError
        Offline mode is on and the response is not cached.
    HTTPStatusError
        The service answered with an error status (after retries for 429 and 5xx), now or, for
        404 and 410, in a cached negative answer.
    DownloadError
        The request failed after all retries.
    """
    key = _cache.make_cache_key("GET", url, params, headers)
    shown = redact_url(_join(url, params))
    use_cache = settings.use_cache
    if use_cache and not refresh:
        entry = _cache.lookup(source, key)
        if entry is not None and entry.meta.get("negative"):
            _raise_cached_negative(entry, shown, source, retry_errors=retry_errors)
            entry = None
        if entry is not None:
            stale = max_age is not None and _age_seconds(entry.meta) > max_age
            if not stale or settings.offline:
                if stale:
                    logger.warning("offline: using a cached response older than %.0f s for %s",
                                   max_age, shown)
                logger.debug("cache hit [%s] %s", source, shown)
                _cache.record_request(entry, {}, from_cache=True)
                return json.loads(entry.body.read_bytes())
            logger.debug("cache entry expired [%s] %s", source, shown)
    if settings.offline:
        raise OfflineError(
            f"offline mode: {shown} is not in the cache ({layout.cache_dir()}); "
            f"run the same command without --offline (or with woonvoorraad.settings.offline = "
            f"False) to download it"
        )
    logger.debug("cache miss [%s] %s: downloading", source, shown)
    note = _failure_recorder(source, url, params, licence, skip=NEGATIVE_STATUSES)
    try:
        body, resp = _fetch_body(url, params=params, headers=headers, what=shown,
                                 want_json=True, validate=validate, on_failure=note)
    except HTTPStatusError as exc:
        if exc.status in NEGATIVE_STATUSES:
            _store_negative(source, key, url=url, params=params, licence=licence, exc=exc)
        raise
    data = json.loads(body)
    meta = {
        "method": "GET",
        "url": redact_url(url.split("?", 1)[0]),
        "params": redact_params(_cache.split_url(url, params)[1]),
        "final_url": redact_url(resp.url),
        "fetched_at": _cache.format_utc_now(),
        "status": resp.status_code,
        "content_type": resp.headers.get("Content-Type"),
        "licence": licence,
        "sanitized": sanitize is not None,
    }
    if use_cache:
        stored = body if sanitize is None else json.dumps(
            sanitize(json.loads(body)), ensure_ascii=False).encode("utf-8")
        entry = _cache.store(source, key, body=stored, suffix=".json", meta=meta)
        _cache.record_request(entry, meta, from_cache=False)
    else:
        _cache.record_request(None, {**meta, "source": source, "size": len(body),
                       "sha256": hashlib.sha256(body).hexdigest()}, from_cache=False)
    return data


def _raise_cached_negative(entry: _cache.CacheEntry, shown: str, source: str, *,
                           retry_errors: bool) -> None:
    """Raise the cached 404/410 of ``entry`` unless it has expired or must be asked again."""
    if retry_errors and not settings.offline:
        logger.debug("asking again after a cached HTTP %s [%s] %s", entry.meta.get("status"),
                     source, shown)
        return
    if not settings.offline and _age_seconds(entry.meta) > settings.negative_cache_max_age:
        logger.debug("cached negative answer expired [%s] %s", source, shown)
        return
    status = int(entry.meta.get("status") or 404)
    logger.debug("cache hit (HTTP %d) [%s] %s", status, source, shown)
    _cache.record_request(entry, {}, from_cache=True)
    raise HTTPStatusError(f"{entry.meta.get('error') or f'{shown}: HTTP {status}'} (cached "
                          f"answer of {entry.meta.get('fetched_at')}; --refresh asks again)",
                          status=status)


def _store_negative(source: str, key: str, *, url: str, params: Any, licence: str | None,
                    exc: HTTPStatusError) -> None:
    """Cache (and record) a 404/410 answer with its provenance."""
    meta = {
        "method": "GET",
        "url": redact_url(url.split("?", 1)[0]),
        "params": redact_params(_cache.split_url(url, params)[1]),
        "fetched_at": _cache.format_utc_now(),
        "status": exc.status,
        "negative": True,
        "error": redact_text(str(exc))[:500],
        "licence": licence,
    }
    if settings.use_cache:
        entry = _cache.store(source, key, body=meta["error"].encode("utf-8"), suffix=".error.txt",
                             meta=meta)
        _cache.record_request(entry, meta, from_cache=False)
    else:
        _cache.record_request(None, {**meta, "source": source, "size": 0, "sha256": None},
                              from_cache=False)


def _join(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    query = urlencode(list_param_items(params))
    return f"{url}{'&' if '?' in url else '?'}{query}"


def find_next_link_ogc(page: Any) -> str | None:
    """The ``href`` of the ``rel="next"`` link of an OGC API Features page, or None."""
    if not isinstance(page, dict):
        return None
    for link in page.get("links") or ():
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None


def find_next_link_odata(page: Any) -> str | None:
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
    next_link: Callable[[Any], str | None] = find_next_link_ogc,
    desc: str = "pages",
    refresh: bool = False,
    validate: Callable[[Any], None] | None = None,
    retry_errors: bool = False,
) -> Iterator[Any]:
    """Yield the pages of a paged JSON resource, following its ``next`` links.

    Every page is cached under its own URL, so an interrupted run resumes from the cache.
    ``refresh`` downloads every page again; ``validate`` and ``retry_errors`` are passed to
    :func:`get_json` for every page.

    Raises
    ------
    DownloadError
        A ``next`` link repeats, leaves the configured hosts, or the paging goes on past
        ``settings.max_pages`` pages. The page whose link closed the loop (or went past the
        limit) is removed from the cache, the pages before it are kept: the next plain run
        asks again for that page only.
    """

    def pages() -> Iterator[Any]:
        page_url: str = url
        page_params = params
        key = _cache.make_cache_key("GET", page_url, page_params)
        seen: set[str] = {key}
        count = 0
        while True:
            page = get_json(page_url, params=page_params, source=source, licence=licence,
                            refresh=refresh, validate=validate, retry_errors=retry_errors)
            count += 1
            nxt = next_link(page)
            if nxt:
                nxt = urljoin(page_url, nxt)
                try:
                    check_host(nxt, what="next link", origin=page_url)
                except DownloadError:
                    _cache.discard(source, key)  # never keep a page that leads astray
                    raise
                nxt_key = _cache.make_cache_key("GET", nxt)
                problem = None
                if nxt_key in seen:
                    problem = (f"paging loop: the next link {redact_url(nxt)} of page {count} "
                               f"was already visited")
                elif count >= settings.max_pages:
                    problem = (f"still a next link after {count} pages (settings.max_pages); "
                               f"the service's paging does not end")
                if problem:
                    _cache.discard(source, key)  # the bad page; the good ones stay cached
                    raise DownloadError(
                        f"{redact_url(_join(url, params))}: {problem}. The {count - 1} pages "
                        f"before it are kept in the cache, the last one is not: the next fetch "
                        f"asks for it again (--refresh downloads every page again)")
            yield page
            if not nxt:
                return
            seen.add(nxt_key)
            page_url, page_params, key = nxt, None, nxt_key

    yield from progress(pages(), desc=desc, unit="page")



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
    key = _cache.make_download_key(cache_id)
    if settings.use_cache and not refresh:
        hit = _cache.find_cached_download(source, cache_id)
        if hit is not None:
            return hit
    shown = redact_url(url)
    if settings.offline:
        raise OfflineError(f"offline mode: {cache_id} ({shown}) is not in the cache "
                           f"({layout.cache_dir()}); run without --offline to "
                           f"download it")
    folder = _cache.locate_entry(source, key)
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{key}{suffix}.part"
    check_host(url, extra_hosts=extra_hosts, what="download")
    # one download per file at a time: a second process waits, then finds it in the cache
    with _download_lock(folder / f".{key}{suffix}.lock", cache_id):
        if settings.use_cache and not refresh:
            hit = _cache.find_cached_download(source, cache_id)
            if hit is not None:
                return hit
        return _download_locked(url, part=part, source=source, key=key, cache_id=cache_id,
                                licence=licence, headers=headers, suffix=suffix,
                                extra_hosts=extra_hosts, validate=validate, desc=desc,
                                shown=shown)


def _download_lock(path: Path, cache_id: str) -> FolderLock:
    """An exclusive lock on ``path`` that waits as long as another process downloads.

    The one lock of the package (:class:`woonvoorraad._io.FolderLock`): ``flock``, released
    when the process ends however it ends, and a lock file that is a symbolic link is refused.
    """
    return FolderLock(path.parent, name=path.name, what=f"download of {cache_id}",
                      wait=math.inf)


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

    resp = _attempts(shown, attempt, _failure_recorder(source, url, None, licence, cache_id))
    meta = {
        "method": "GET",
        "url": redact_url(url.split("?", 1)[0]),
        "params": redact_params(parse_qsl(urlsplit(url).query, keep_blank_values=True)),
        "cache_id": cache_id,
        "final_url": redact_url(resp.url),
        "fetched_at": _cache.format_utc_now(),
        "status": resp.status_code,
        "content_type": resp.headers.get("Content-Type"),
        "licence": licence,
    }
    entry = _cache.store(source, key, body=part, suffix=suffix, meta=meta)
    logger.info("downloaded %s (%.1f MB) into the cache", cache_id, entry.meta["size"] / 1e6)
    _cache.record_request(entry, meta, from_cache=False)
    return entry.body
