"""A local HTTP server that replays recorded PDOK, CBS and EP-Online responses, with faults.

Used by the test-suite (and handy for demos without internet): it listens on 127.0.0.1 on a
free port and serves the files of a fixture folder (``tests/data/http``) described by its
``routes.json``:

``static``
    A list of routes ``{"path", "query", "contains", "file", "status", "content_type",
    "headers", "require_header", "range"}``. A route matches a GET on exactly ``path`` whose
    query has every ``query`` item (value ``"*"``: any value; ``null``: the parameter must be
    absent) and whose query values contain the ``contains`` substrings; the most specific
    match wins. Text bodies have ``{{base}}`` replaced by the server's base URL, so recorded
    ``next`` links point back at the server. ``require_header`` answers 401 unless the header
    has the value (``{{api_key}}`` is the server's API key). ``range`` serves ``Range``
    requests with ``206 Partial Content``.
``ogc``
    ``{"/…/collections/pand": "bag/pand.json", …}``: OGC API Features collections answered
    like PDOK's GoKoala does (``/items`` with ``bbox``, ``bbox-crs``, ``crs``, ``limit``, an
    opaque ``cursor`` and ``links`` with ``rel="next"``; ``/items/{id}``) from recorded
    features. Only EPSG:28992 is supported for ``bbox-crs`` and ``crs``.

Faults are injected per path prefix with :meth:`ReplayServer.inject`: ``status`` (e.g. a
503, or a 429 with ``Retry-After``), ``truncate`` (a lying ``Content-Length``, half the body,
then the connection is closed), ``invalid-json`` (half the body with a matching length),
``sleep`` (answer only after ``seconds``), ``drop`` (close without answering), ``endless``
(an OGC ``next`` link that never ends) and ``loop`` (the ``next`` link of every page after the
first points back at the page itself). :attr:`ReplayServer.odata_page_size` pages the
``value`` lists of the OData catalogue (``/ODataApi/``: ``DataProperties``, dimensions) with
``$skip`` and ``odata.nextLink``, as CBS does for long answers. Every request is counted in
:attr:`ReplayServer.hits` and logged in :attr:`ReplayServer.log` (without header values).
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import shapely
from shapely.geometry import shape

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
_TEXT_TYPES = ("json", "text", "xml", "csv")


@dataclass
class Fault:
    """One injected fault; see the module docstring for the kinds."""

    prefix: str
    kind: str
    times: int | None = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    used: int = 0

    def active(self) -> bool:
        return self.times is None or self.used < self.times


@dataclass
class _Collection:
    features: list[dict[str, Any]]
    bounds: list[tuple[float, float, float, float]]
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silence clients that went away (timeouts are part of the tests)."""


class ReplayServer:
    """Serve recorded responses on ``http://127.0.0.1:<port>``.

    Parameters
    ----------
    root
        Folder with ``routes.json`` and the response files.
    api_key
        Value routes with ``require_header`` expect (``{{api_key}}``).

    Examples
    --------
    >>> with ReplayServer(root) as server:  # doctest: +SKIP
    ...     requests.get(server.base_url + "/ODataApi/odata/85984NED/DataProperties")
    """

    def __init__(self, root: str | Path, *, api_key: str = "test-api-key") -> None:
        self.root = Path(root)
        self.api_key = api_key
        self.routes = json.loads((self.root / "routes.json").read_text("utf-8"))
        self.hits: collections.Counter[str] = collections.Counter()
        self.log: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.disabled: set[str] = set()
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._collections: dict[str, _Collection] = {}
        #: Page size of the OData catalogue answers (None: one page, as recorded).
        self.odata_page_size: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayServer:
        """Start serving in a background thread."""
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        self._load_collections()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={
            "poll_interval": 0.05}, daemon=True, name="woonvoorraad-replay-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings_values(self) -> dict[str, Any]:
        """Values for :mod:`woonvoorraad.settings` that point every service at this server."""
        base = self.base_url
        return {
            "pdok_bag_url": f"{base}/kadaster/bag/ogc/v2",
            "pdok_cbs_url_template": f"{base}/cbs/wijken-en-buurten-{{year}}/ogc/v1",
            "cbs_odata_url": f"{base}/ODataApi/odata",
            "cbs_odata_feed_url": f"{base}/ODataFeed/odata",
            "ep_online_url": f"{base}/api/v5",
        }

    # -- faults and counters ---------------------------------------------------------------

    def inject(self, prefix: str, kind: str, **options: Any) -> Fault:
        """Inject a fault for requests whose path starts with ``prefix``."""
        fault = Fault(prefix=prefix, kind=kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove all faults, disabled paths and counters."""
        with self._lock:
            self.faults.clear()
            self.disabled.clear()
            self.hits.clear()
            self.odata_page_size = None
            self.log.clear()

    def add_route(self, route: dict[str, Any]) -> None:
        """Add a static route (same keys as in ``routes.json``; ``file`` may be omitted)."""
        with self._lock:
            self.routes.setdefault("static", []).append(route)

    def disable(self, prefix: str) -> None:
        """Answer 404 for every path starting with ``prefix`` (a withdrawn table)."""
        with self._lock:
            self.disabled.add(prefix)

    @property
    def total_hits(self) -> int:
        """Number of requests received."""
        return sum(self.hits.values())

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if (path.startswith(fault.prefix) and fault.active()
                        and fault.kind not in ("endless", "loop")):
                    fault.used += 1
                    return fault
        return None

    def _endless(self, path: str, kind: str = "endless") -> bool:
        with self._lock:
            return any(f.kind == kind and path.startswith(f.prefix) and f.active()
                       for f in self.faults)

    # -- content ---------------------------------------------------------------------------

    def _template(self, text: str) -> str:
        return text.replace("{{base}}", self.base_url).replace("{{api_key}}", self.api_key)

    def _load_collections(self) -> None:
        for prefix, rel in self.routes.get("ogc", {}).items():
            data = json.loads(self._template((self.root / rel).read_text("utf-8")))
            feats = data["features"]
            feats.sort(key=lambda f: str(f.get("id")))
            bounds = [tuple(shape(f["geometry"]).bounds) for f in feats]
            self._collections[prefix] = _Collection(
                features=feats, bounds=bounds, by_id={str(f["id"]): f for f in feats})

    def _static(self, path: str, query: dict[str, str]) -> dict[str, Any] | None:
        best, best_score = None, -1
        for route in self.routes.get("static", []):
            if route["path"] != path:
                continue
            ok = True
            for name, want in (route.get("query") or {}).items():
                have = query.get(name)
                if (want is None) != (have is None) or (want not in (None, "*") and have != want):
                    ok = False
            for name, part in (route.get("contains") or {}).items():
                if part not in query.get(name, ""):
                    ok = False
            score = len(route.get("query") or {}) + len(route.get("contains") or {})
            if ok and score > best_score:
                best, best_score = route, score
        return best

    def _ogc(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes] | None:
        for prefix, coll in self._collections.items():
            if path == f"{prefix}/items":
                return self._ogc_items(prefix, coll, query)
            if path.startswith(f"{prefix}/items/"):
                fid = path[len(prefix) + len("/items/"):]
                feat = coll.by_id.get(fid)
                if feat is None:
                    return _json(404, {"code": "Not Found", "description": f"no feature {fid}"})
                doc = {**feat, "links": [
                    {"rel": "self", "type": "application/geo+json", "title": "This document as "
                     "GeoJSON", "href": f"{self.base_url}{path}?f=json"},
                    {"rel": "collection", "type": "application/json", "title": "The collection "
                     "the feature belongs to", "href": f"{self.base_url}{prefix}?f=json"}]}
                crs_error = _check_crs(query.get("crs"))
                if crs_error:
                    return _json(400, {"code": "Bad Request", "description": crs_error})
                return _geojson(doc)
        return None

    def _ogc_items(self, prefix: str, coll: _Collection,  # noqa: PLR0911
                   query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if query.get("f", "json") != "json":
            return _json(400, {"code": "Bad Request", "description": "only f=json is recorded"})
        crs_error = _check_crs(query.get("crs"))
        if crs_error:
            return _json(400, {"code": "Bad Request", "description": crs_error})
        try:
            limit = min(max(int(query.get("limit", "10")), 1), 1000)
        except ValueError:
            return _json(400, {"code": "Bad Request", "description": "limit must be a number"})
        selected = list(range(len(coll.features)))
        if "bbox" in query:
            if query.get("bbox-crs") != RD_URI:
                return _json(400, {"code": "Bad Request", "description":
                                   f"this test server needs bbox-crs={RD_URI}"})
            try:
                xmin, ymin, xmax, ymax = (float(v) for v in query["bbox"].split(","))
            except ValueError:
                return _json(400, {"code": "Bad Request", "description": "bad bbox"})
            box = shapely.box(xmin, ymin, xmax, ymax)
            selected = [i for i in selected
                        if shapely.box(*coll.bounds[i]).intersects(box)
                        and shape(coll.features[i]["geometry"]).intersects(box)]
        offset, endless = 0, 0
        if "cursor" in query:
            try:
                state = json.loads(base64.urlsafe_b64decode(query["cursor"].encode()))
                offset, endless = int(state["o"]), int(state.get("e", 0))
            except (ValueError, KeyError, TypeError):
                return _json(400, {"code": "Bad Request", "description": "invalid cursor"})
        page = [coll.features[i] for i in selected[offset:offset + limit]]
        base_query = {k: v for k, v in query.items() if k != "cursor"}
        url = f"{self.base_url}{prefix}/items"
        links = [
            {"rel": "self", "title": "This document as GeoJSON", "type": "application/geo+json",
             "href": f"{url}?{urlencode(sorted(query.items()))}"},
            {"rel": "alternate", "title": "This document as HTML", "type": "text/html",
             "href": f"{url}?{urlencode(sorted({**query, 'f': 'html'}.items()))}"},
        ]
        next_state = None
        if "cursor" in query and self._endless(f"{prefix}/items", "loop"):
            links.append({"rel": "next", "title": "Next page", "type": "application/geo+json",
                          "href": f"{url}?{urlencode(sorted(query.items()))}"})
        elif self._endless(f"{prefix}/items"):
            next_state = {"o": offset, "e": endless + 1}
        elif offset + limit < len(selected):
            next_state = {"o": offset + limit}
        if next_state is not None and not any(link["rel"] == "next" for link in links):
            cursor = base64.urlsafe_b64encode(json.dumps(next_state).encode()).decode()
            next_query = urlencode(sorted({**base_query, "cursor": cursor}.items()))
            links.append({"rel": "next", "title": "Next page", "type": "application/geo+json",
                          "href": f"{url}?{next_query}"})
        doc = {"type": "FeatureCollection",
               "timeStamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "links": links, "features": page, "numberReturned": len(page)}
        return _geojson(doc)

    def respond(self, method: str, path: str, query: dict[str, str],  # noqa: PLR0911
                headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Build the response to one request (before faults are applied)."""
        with self._lock:
            disabled = any(path.startswith(p) for p in self.disabled)
        if disabled:
            return _json(404, {"odata.error": {"code": "", "message": {
                "lang": "nl-NL", "value": "Resource not found (withdrawn)"}}})
        if method != "GET":
            return _json(405, {"description": "only GET"})
        ogc = self._ogc(path, query)
        if ogc is not None:
            return ogc
        route = self._static(path, query)
        if route is None:
            return _json(404, {"code": "Not Found", "description": f"no recorded response for "
                               f"{path}?{urlencode(sorted(query.items()))}"})
        for name, want in (route.get("require_header") or {}).items():
            if headers.get(name.lower()) != self._template(want):
                return _json(401, {"status": 401, "title": "Unauthorized",
                                   "detail": "Valid API key required to access this resource."})
        content_type = route.get("content_type", "application/json")
        body = (self.root / route["file"]).read_bytes() if route.get("file") else b""
        if any(t in content_type for t in _TEXT_TYPES):
            body = self._template(body.decode("utf-8")).encode("utf-8")
        out_headers = {"Content-Type": content_type,
                       **{k: self._template(v) for k, v in (route.get("headers") or {}).items()}}
        status = int(route.get("status", 200))
        if self.odata_page_size and path.startswith("/ODataApi/") and status == 200:
            body = self._odata_page(path, query, body)
        if route.get("range"):
            out_headers["Accept-Ranges"] = "bytes"
            rng = headers.get("range", "")
            if rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[len("bytes="):-1])
                if start >= len(body):
                    return 416, {"Content-Range": f"bytes */{len(body)}"}, b""
                out_headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                return 206, out_headers, body[start:]
        return status, out_headers, body

    def _odata_page(self, path: str, query: dict[str, str], body: bytes) -> bytes:
        """One page of an OData v3 ``value`` list (``$skip``, ``odata.nextLink``)."""
        doc = json.loads(body)
        if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
            return body
        size = int(self.odata_page_size or 0)
        skip = int(query.get("$skip", "0") or 0)
        values = doc["value"]
        doc["value"] = values[skip:skip + size]
        if skip + size < len(values):
            nxt = urlencode(sorted({**query, "$skip": str(skip + size)}.items()))
            doc["odata.nextLink"] = f"{self.base_url}{path}?{nxt}"
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _check_crs(crs: str | None) -> str | None:
    if crs is not None and crs != RD_URI:
        return f"this test server only serves crs={RD_URI}, not {crs}"
    return None


def _json(status: int, doc: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(doc).encode("utf-8")


def _geojson(doc: Any) -> tuple[int, dict[str, str], bytes]:
    return (200, {"Content-Type": "application/geo+json", "Content-Crs": f"<{RD_URI}>"},
            json.dumps(doc, ensure_ascii=False).encode("utf-8"))


def _make_handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1  # headers and body in one send
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with server._lock:
                server.hits[path] += 1
                server.log.append({
                    "method": "GET", "path": path, "query": query,
                    "authorization": "authorization" in headers,
                    "range": headers.get("range"),
                })
            fault = server._take_fault(path)
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(2)
                return
            if fault is not None and fault.kind == "sleep":
                time.sleep(fault.seconds)
            if fault is not None and fault.kind == "status":
                hdrs = {"Content-Type": "application/json"}
                if fault.retry_after is not None:
                    hdrs["Retry-After"] = fault.retry_after
                self._send(fault.status, hdrs, json.dumps(
                    {"status": fault.status, "title": "injected fault"}).encode())
                return
            status, hdrs, body = server.respond("GET", path, query, headers)
            if fault is not None and fault.kind == "truncate":
                self._send(status, hdrs, body[: len(body) // 2], length=len(body), close=True)
                return
            if fault is not None and fault.kind == "invalid-json":
                self._send(status, hdrs, body[: len(body) // 2])
                return
            self._send(status, hdrs, body)

        def _send(self, status: int, headers: dict[str, str], body: bytes, *,
                  length: int | None = None, close: bool = False) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                if close:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                self.close_connection = True
                return
            if close:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(2)

    return Handler


@contextlib.contextmanager
def replay_settings(server: ReplayServer, **overrides: Any) -> Iterator[None]:
    """Point :mod:`woonvoorraad.settings` at ``server`` (fast retries, no progress bars).

    Every setting touched is restored afterwards, the HTTP session is closed and the in-memory
    list of gemeenten is forgotten. ``overrides`` set further settings (``data_dir=…``).
    """
    from woonvoorraad import settings
    from woonvoorraad.sources import _http, gemeenten

    values = {
        **server.settings_values(),
        "offline": False,
        "use_cache": True,
        "cache_dir": None,
        "backoff_factor": 0.01,
        "max_retries": 2,
        "requests_timeout": 2.0,
        "show_progress": False,
        "allowed_redirect_hosts": (),
        **overrides,
    }
    old = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    gemeenten._memo.clear()
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(settings, name, value)
        _http.close_session()
        gemeenten._memo.clear()


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # AF_UNIX and friends


@contextlib.contextmanager
def no_internet() -> Iterator[None]:
    """Refuse every socket connection that does not go to a loopback address."""
    original = socket.socket.connect
    original_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"tests must not reach the internet ({address!r})")
        return original(self, address)

    def guarded_ex(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"tests must not reach the internet ({address!r})")
        return original_ex(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
        socket.socket.connect_ex = original_ex  # type: ignore[method-assign]


@contextlib.contextmanager
def fast_io() -> Iterator[None]:
    """Skip ``fsync`` (Python's and SQLite's) for speed; atomic renames still happen.

    Durability against power loss cannot be tested anyway; what the tests check (a killed
    download leaves no complete-looking file) depends on the renames, not on ``fsync``.
    """
    import os

    import pyogrio

    original = os.fsync
    os.fsync = lambda fd: None  # type: ignore[assignment]
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        os.fsync = original
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": None})
