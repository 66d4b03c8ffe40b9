"""Download the open data of any gemeente: BAG, CBS wijken en buurten, Kerncijfers, EP-Online.

``fetch`` writes, per gemeente, the files ``woonvoorraad build`` reads, under
``<data_dir>/raw/``::

    bag/GM0114/bag.gpkg                      BAG in the PDOK bag-light layout
    cbs/GM0114/wijkenbuurten_2024.gpkg       CBS wijk- en buurtkaart (buurten, wijken, gemeenten)
    cbs/GM0114/kerncijfers.parquet           CBS Kerncijfers wijken en buurten, 2019-2024
    cbs/GM0114/prognose.parquet              PBL/CBS regional forecast for the gemeente
    cbs/GM0114/inkomen.parquet               CBS income by tenure (gemeente, provincie, NL)
    ep-online/GM0114/labels.csv              EP-Online registered labels (needs an API key)
    manifests/GM0114/fetch-manifest.json     sources, URLs, times, sizes, SHA-256, licences

This module orchestrates: it resolves the gemeenten, runs the steps of each source
(:mod:`~woonvoorraad.sources.pdok` for the BAG and the wijken en buurten,
:mod:`~woonvoorraad.sources.odata` for the Kerncijfers and the forecast,
:mod:`~woonvoorraad.sources.inkomen` for the income of owners and all households,
:mod:`~woonvoorraad.sources.eponline_api` for the energy labels), writes the fetch manifest and
finds the fetched inputs again for the build (:func:`find_fetched_inputs`,
:func:`build_inputs_for`).
The ``woonvoorraad fetch`` command is in :mod:`woonvoorraad.cli`.

Every request goes through :mod:`woonvoorraad.sources._http` (cache, retries, provenance), so a
second fetch of the same gemeente makes no network request at all, and ``offline=True`` works from
the cache alone. Parts that came out incomplete (a Kerncijfers year or a forecast table that
answered 404, labels refused) are listed in the manifest's ``incomplete``; the next plain fetch
asks again for exactly those instead of saying "up to date". One fetch of a gemeente runs at a
time (the lock ``raw/.fetch-<code>.lock``); it first removes the temporary files (``.*.part*``) a
killed run of the same gemeente left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from woonvoorraad import __version__, layout, settings
from woonvoorraad._io import FolderLock, sha256_file, write_json_atomic
from woonvoorraad.errors import ConfigError, GemeenteNotFoundError, InputError
from woonvoorraad.sources import _cache, _redact
from woonvoorraad.sources._fetchjob import LICENCES, FetchJob, describe_output
from woonvoorraad.sources.eponline_api import fetch_labels
from woonvoorraad.sources.gemeenten import Gemeente, gemeenten_from_queries, normalise_code
from woonvoorraad.sources.inkomen import INKOMEN_FILE, INKOMEN_TABLES, fetch_inkomen
from woonvoorraad.sources.odata import FIRST_TREND_YEAR, fetch_forecast, fetch_kerncijfers
from woonvoorraad.sources.pdok import (
    build_cbs_url,
    fetch_bag,
    fetch_boundaries,
    find_buurt_code_changes,
)

logger = logging.getLogger(__name__)


#: Default vintage of the CBS wijken en buurten (boundaries and latest Kerncijfers). 2024 is
#: the latest vintage whose Kerncijfers were complete when this was written (the first release
#: of a year lacks income and energy figures).
DEFAULT_YEAR = 2024


@dataclass
class GemeenteFetch:
    """What :func:`fetch` did for one gemeente."""

    gemeente: Gemeente
    inputs: dict[str, Any]
    manifest: Path
    skipped: bool = False
    warnings: list[str] = field(default_factory=list)
    #: Every request, from the cache or sent.
    requests: int = 0
    #: Requests sent to a service, whatever the answer (a 404 or a retried 503 too).
    downloads: int = 0
    #: Of those, the ones answered with an error (or no answer at all).
    errors: int = 0
    #: Parts the manifest lists as incomplete (see :func:`fetch`).
    incomplete: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FetchResult:
    """The result of :func:`fetch`: one :class:`GemeenteFetch` per gemeente."""

    gemeenten: list[GemeenteFetch]
    data_dir: Path

    def __iter__(self) -> Iterator[GemeenteFetch]:
        return iter(self.gemeenten)

    def __len__(self) -> int:
        return len(self.gemeenten)

    def __getitem__(self, key: str | int) -> GemeenteFetch:
        if isinstance(key, int):
            return self.gemeenten[key]
        code = normalise_code(key)
        for g in self.gemeenten:
            if g.gemeente.code == code or g.gemeente.naam.casefold() == str(key).casefold():
                return g
        raise KeyError(key)

    @property
    def downloads(self) -> int:
        """Number of requests sent to a service (not served from the cache), any answer."""
        return sum(g.downloads for g in self.gemeenten)


@contextlib.contextmanager
def _settings(**values: Any) -> Iterator[None]:
    """Set settings temporarily (values of None are left alone)."""
    old = {}
    for name, value in values.items():
        if value is not None:
            old[name] = getattr(settings, name)
            setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(settings, name, value)


def _manifest_path(root: Path, code: str) -> Path:
    return layout.raw_dir(root, layout.MANIFESTS) / code / "fetch-manifest.json"


def _read_manifest_state(path: Path, root: Path,
                         parameters: Mapping[str, Any]) -> tuple[bool, frozenset[str]]:
    """Whether the manifest is current, and the parts it lists as incomplete.

    Current: it exists, has the same parameters, lists no incomplete part and every output it
    lists is intact.
    """
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False, frozenset()
    if not isinstance(manifest, dict) or manifest.get("parameters") != dict(parameters):
        return False, frozenset()
    retry = frozenset(str(i.get("id")) for i in manifest.get("incomplete") or ()
                      if isinstance(i, dict) and i.get("id"))
    if retry:
        return False, retry
    for out in manifest.get("outputs", []):
        p = root / out["path"]
        if not p.is_file() or p.stat().st_size != out["size"] or sha256_file(p) != out["sha256"]:
            return False, retry
    return bool(manifest.get("outputs")), retry


def _summarise_requests(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per source: requests, sent (any answer), downloaded, errors, from the cache, bytes."""
    by_source: dict[str, dict[str, Any]] = {}
    for r in records:
        s = by_source.setdefault(str(r.get("source")), {
            "requests": 0, "sent": 0, "downloaded": 0, "errors": 0, "from_cache": 0,
            "bytes": 0})
        s["requests"] += 1
        if r.get("from_cache"):
            s["from_cache"] += 1
        else:
            s["sent"] += 1
            s["errors" if _is_error(r) else "downloaded"] += 1
        s["bytes"] += int(r.get("size") or 0)
    return by_source


def _is_error(record: Mapping[str, Any]) -> bool:
    status = record.get("status")
    return bool(record.get("error")) or (isinstance(status, int) and status >= 400)


#: Temporary files of :func:`woonvoorraad._io.atomic_path` (``.<name>.<random>.part<suffix>``)
#: and the SQLite side files GDAL makes beside them (``-journal``, ``-wal``, ``-shm``).
_STALE_PART = re.compile(
    r"^\.(?P<name>bag\.gpkg|wijkenbuurten_\d{4}\.gpkg|kerncijfers\.parquet|prognose\.parquet"
    r"|inkomen\.parquet|labels\.csv|fetch-manifest\.json)\.[a-z0-9_]{8}\.part(\.[A-Za-z0-9]+)?"
    r"(-journal|-wal|-shm)?$")


def remove_stale_parts(root: Path, code: str) -> list[Path]:
    """Remove the temporary files a killed fetch of gemeente ``code`` left in its folders.

    Only names the fetch itself makes (see :data:`_STALE_PART`) in the gemeente's own output
    folders are touched; call it while holding the gemeente's fetch lock, so no running fetch
    is writing them. The resumable ``.part`` files of bulk downloads in the cache are kept.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    removed = []
    for folder in ("bag", "cbs", "ep-online", layout.MANIFESTS):
        where = layout.raw_dir(root, folder) / code
        if not where.is_dir():
            continue
        for p in sorted(where.iterdir()):
            if _STALE_PART.match(p.name) and p.is_file() and not p.is_symlink():
                with contextlib.suppress(OSError):
                    size = p.stat().st_size
                    p.unlink()
                    removed.append(p)
                    logger.info("removed %s (%.1f MB), left by an interrupted fetch", p,
                                size / 1e6)
    return removed


def _key_id(key: str) -> str | None:
    """A short one-way fingerprint of the API key, so that a changed key is a change."""
    if not key:
        return None
    return hashlib.sha256(f"woonvoorraad ep-online key\n{key}".encode()).hexdigest()[:12]


def _fetch_one(gem: Gemeente, *, year: int, root: Path, bag_file: Path | None,
               refresh: bool) -> GemeenteFetch:
    manifest_path = _manifest_path(root, gem.code)
    # one fetch of a gemeente at a time; a second one waits, then finds the manifest current
    with FolderLock(layout.raw_dir(root), name=f".fetch-{gem.code}.lock",
                    what=f"fetch of {gem.code}", wait=math.inf):
        remove_stale_parts(root, gem.code)
        return _fetch_locked(gem, year=year, root=root, bag_file=bag_file, refresh=refresh,
                             manifest_path=manifest_path)


def _fetch_locked(gem: Gemeente, *, year: int, root: Path, bag_file: Path | None,
                  refresh: bool, manifest_path: Path) -> GemeenteFetch:
    key = (os.environ.get(settings.ep_online_api_key_env) or "").strip()
    parameters = {"year": year, "bag_file": str(bag_file) if bag_file else None,
                  "ep_online_key": bool(key), "ep_online_key_id": _key_id(key),
                  "first_trend_year": FIRST_TREND_YEAR,
                  # a fetch made before the income table existed is not current: the next
                  # plain fetch adds inkomen.parquet (the rest comes from the cache)
                  "inkomen_tables": [t for t, _ in INKOMEN_TABLES]}
    current, retry = _read_manifest_state(manifest_path, root, parameters)
    if not refresh and current:
        logger.info("%s: already fetched with these parameters (%s); nothing to do "
                    "(use --refresh to download again)", gem, manifest_path)
        return GemeenteFetch(gemeente=gem,
                             inputs=find_fetched_inputs(gem.code, data_dir=root, year=year),
                             manifest=manifest_path, skipped=True)
    if retry and not refresh:
        logger.info("%s: the last fetch left %s incomplete; asking again for those", gem,
                    ", ".join(sorted(retry)))
    ctx = FetchJob(gemeente=gem, year=year, root=root, refresh=refresh, retry=retry)
    started = _cache.format_utc_now()
    logger.info("%s: fetching (CBS vintage %d)", gem, year)
    with _cache.collect() as records:
        buurten_path, boundary, boundary_info = fetch_boundaries(ctx)
        bag_path, vbo_ids, bag_info = fetch_bag(ctx, boundary, bag_file)
        kc_path, kc_table, kc_info = fetch_kerncijfers(ctx)
        changes = find_buurt_code_changes(ctx, kc_table)
        forecast_path, forecast_info = fetch_forecast(ctx)
        inkomen_path, _, inkomen_info = fetch_inkomen(ctx)
        labels_path, labels_info = fetch_labels(ctx, vbo_ids)
    outputs = [
        describe_output(buurten_path, root, source="cbs", layers=boundary_info),
        describe_output(bag_path, root, source="bag", layers={
            "pand": bag_info["panden"], "verblijfsobject": bag_info["verblijfsobject_rows"]}),
    ]
    if kc_path is not None:
        outputs.append(describe_output(kc_path, root, source="cbs"))
    if forecast_path is not None:
        outputs.append(describe_output(forecast_path, root, source="forecast"))
    if inkomen_path is not None:
        outputs.append(describe_output(inkomen_path, root, source="cbs"))
    if labels_path is not None:
        outputs.append(describe_output(labels_path, root, source="ep-online"))
    if bag_file is not None:
        bag_info["file_sha256"] = None  # a national file of ~8 GB is not hashed here
    manifest = {
        "tool": "woonvoorraad",
        "version": __version__,
        "created": _cache.format_utc_now(),
        "started": started,
        "gemeente": {"code": gem.code, "naam": gem.naam},
        "parameters": parameters,
        "licences": {k: v.as_dict() for k, v in LICENCES.items()},
        "sources": {
            "bag": {**bag_info, "licence": "bag",
                    "base_url": None if bag_file else _redact.redact_url(settings.pdok_bag_url)},
            "wijken_en_buurten": {"year": year, "base_url": _redact.redact_url(build_cbs_url(year)),
                                  "licence": "cbs", **boundary_info},
            "kerncijfers": {**kc_info, "licence": "cbs",
                            "base_url": _redact.redact_url(settings.cbs_odata_feed_url)},
            "prognose": {**forecast_info, "licence": "forecast"},
            "inkomen": {**inkomen_info, "licence": "cbs",
                        "base_url": _redact.redact_url(settings.cbs_odata_feed_url)},
            "ep_online": {**labels_info, "licence": "ep-online"},
        },
        "buurt_code_changes": changes,
        "requests_summary": _summarise_requests(records),
        "requests": records,
        "warnings": ctx.warnings,
        "incomplete": ctx.incomplete,
        "outputs": outputs,
    }
    write_json_atomic(manifest_path, manifest)
    sent = [r for r in records if not r.get("from_cache")]
    errors = sum(1 for r in sent if _is_error(r))
    logger.info("%s: done: %d requests (%d sent to the services, %d of them answered with an "
                "error; %d from the cache); manifest %s", gem, len(records), len(sent), errors,
                len(records) - len(sent), manifest_path)
    if ctx.incomplete:
        logger.warning("%s: incomplete: %s; the next fetch asks again for these parts", gem,
                       ", ".join(i["id"] for i in ctx.incomplete))
    return GemeenteFetch(gemeente=gem,
                         inputs=find_fetched_inputs(gem.code, data_dir=root, year=year),
                         manifest=manifest_path, warnings=ctx.warnings, requests=len(records),
                         downloads=len(sent), errors=errors, incomplete=ctx.incomplete)


def fetch(
    gemeenten: str | Iterable[str] = (),
    *,
    region: str | None = None,
    year: int | None = None,
    bag_file: str | Path | None = None,
    offline: bool | None = None,
    data_dir: str | Path | None = None,
    refresh: bool = False,
) -> FetchResult:
    """Download BAG, CBS and EP-Online data for gemeenten into ``<data_dir>/raw/``.

    Parameters
    ----------
    gemeenten
        Names or codes (``"Emmen"``, ``"GM0114"``, ``"114"``), case-insensitive.
    region
        A preset of :data:`woonvoorraad.sources.gemeenten.REGIONS`, e.g.
        ``"regiodeal-zuid-oost-drenthe"``; added to ``gemeenten``.
    year
        Vintage of the CBS wijken en buurten (default :data:`DEFAULT_YEAR`); Kerncijfers of
        :data:`FIRST_TREND_YEAR` up to this year are fetched for the trends.
    bag_file
        PDOK's national ``bag-light.gpkg``: read by the gemeente's boundary instead of using
        the BAG API.
    offline
        Use only the cache (default ``settings.offline``); a missing response raises
        :class:`~woonvoorraad.errors.OfflineError` naming it.
    data_dir
        Root of ``raw/`` (default ``settings.data_dir``). The HTTP cache is
        ``settings.cache_dir`` or ``<data_dir>/raw/cache``.
    refresh
        Download again, ignoring the cache and an up-to-date fetch manifest.

    Returns
    -------
    FetchResult
        Per gemeente the written inputs (see :func:`find_fetched_inputs`), the manifest path and the
        warnings.

    Raises
    ------
    GemeenteNotFoundError
        A name or code is unknown (the message lists the closest names).
    OfflineError
        Offline and a needed response is not cached.
    DownloadError
        A service failed after all retries.

    Examples
    --------
    >>> result = fetch("Emmen")  # doctest: +SKIP
    >>> result["Emmen"].inputs["bag"]  # doctest: +SKIP
    PosixPath('data/raw/bag/GM0114/bag.gpkg')
    """
    queries = [gemeenten] if isinstance(gemeenten, str) else list(gemeenten)
    year = int(year if year is not None else DEFAULT_YEAR)
    if not 2010 <= year <= 2100:
        raise ConfigError(f"year {year} is not a CBS wijken-en-buurten vintage")
    root = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    with _settings(offline=offline, data_dir=root):
        targets = gemeenten_from_queries(queries, region=region,
                                         known=_fetched_gemeenten(root))
        if not targets:
            raise ConfigError("nothing to fetch: give one or more gemeenten or a region")
        results = [_fetch_one(g, year=year, root=root,
                              bag_file=Path(bag_file) if bag_file else None, refresh=refresh)
                   for g in targets]
    return FetchResult(gemeenten=results, data_dir=root)


def _fetched_gemeenten(root: Path) -> list[Gemeente]:
    out = []
    for path in sorted(layout.raw_dir(root, layout.MANIFESTS).glob("*/fetch-manifest.json")):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            g = json.loads(path.read_text("utf-8"))["gemeente"]
            out.append(Gemeente(str(g["code"]), str(g["naam"])))
    return out


def find_fetched_inputs(gemeentecode: str, *, data_dir: str | Path | None = None,
                   year: int | None = None) -> dict[str, Any]:
    """Paths of the fetched inputs of one gemeente, for the build step.

    Parameters
    ----------
    gemeentecode
        ``GM0114`` (or ``0114``/``114``).
    data_dir
        Root of ``raw/`` (default ``settings.data_dir``).
    year
        Vintage of the wijken en buurten (default: the latest fetched).

    Returns
    -------
    dict
        ``{"bag": Path, "buurten": Path, "cbs": list[Path], "labels": Path | None,
        "forecast": Path | None, "inkomen": Path | None, "gemeentecode": "GM0114"}``;
        ``inkomen`` is read with :func:`woonvoorraad.sources.inkomen.read_inkomen`.

    Raises
    ------
    InputError
        Something needed has not been fetched; the message says which command fetches it.
    """
    code = normalise_code(gemeentecode)
    if code is None:
        raise InputError(f"{gemeentecode!r} is not a gemeentecode (GM + 4 digits)")
    root = layout.data_root(data_dir)
    raw = layout.raw_dir(root)
    bag = raw / "bag" / code / "bag.gpkg"
    cbs_dir = raw / "cbs" / code
    if year is not None:
        buurten: Path | None = cbs_dir / f"wijkenbuurten_{int(year)}.gpkg"
    else:
        vintages = sorted(cbs_dir.glob("wijkenbuurten_*.gpkg"))
        buurten = vintages[-1] if vintages else None
    missing = [str(p) for p in (bag, buurten) if p is None or not p.is_file()]
    if buurten is None:
        missing = [str(cbs_dir / "wijkenbuurten_<year>.gpkg"), *missing]
    if missing:
        hint = f" --year {year}" if year is not None else ""
        raise InputError(f"no fetched data for {code} in {raw} (missing: {', '.join(missing)}); "
                         f"run `woonvoorraad fetch --gemeente {code}{hint}` first")
    kc = cbs_dir / "kerncijfers.parquet"
    labels = raw / "ep-online" / code / "labels.csv"
    forecast = cbs_dir / "prognose.parquet"
    inkomen = cbs_dir / INKOMEN_FILE
    return {
        "bag": bag,
        "buurten": buurten,
        "cbs": [kc] if kc.is_file() else [],
        "labels": labels if labels.is_file() else None,
        "forecast": forecast if forecast.is_file() else None,
        "inkomen": inkomen if inkomen.is_file() else None,
        "gemeentecode": code,
    }


def build_inputs_for(gemeente: str, *, data_dir: str | Path | None = None,
                     year: int | None = None) -> dict[str, Any]:
    """Resolve a gemeente name or code without network and return its fetched inputs.

    For ``woonvoorraad build --gemeente``: looks the gemeente up among the built-in and the
    already fetched ones (and the cached list of all gemeenten), then returns
    :func:`find_fetched_inputs`.

    Raises
    ------
    GemeenteNotFoundError
        The name is unknown here.
    InputError
        The gemeente has not been fetched; the message says to run ``woonvoorraad fetch``.
    """
    root = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    known = _fetched_gemeenten(root)
    code = normalise_code(gemeente)
    if code is None:
        from woonvoorraad.sources.gemeenten import gemeente_from_query

        with _settings(offline=True, data_dir=root):
            try:
                code = gemeente_from_query(gemeente, known=known).code
            except GemeenteNotFoundError as exc:
                raise GemeenteNotFoundError(
                    f"{exc}; run `woonvoorraad fetch --gemeente {gemeente}` first") from None
    return find_fetched_inputs(code, data_dir=root, year=year)


__all__ = [
    "DEFAULT_YEAR",
    "FetchResult",
    "GemeenteFetch",
    "build_inputs_for",
    "fetch",
    "find_fetched_inputs",
]
