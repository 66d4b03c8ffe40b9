"""EP-Online API v5: the national bulk file of energy labels, cut to one gemeente.

:func:`fetch_labels` asks for the bulk file's ``DownloadInfo`` (needs the API key in
``$EP_ONLINE_API_KEY``), downloads the ZIP into the cache (checked by
:func:`check_bulk_zip`) and keeps the rows of the gemeente's verblijfsobjecten
(:func:`extract_labels`). Reading the labels is :mod:`woonvoorraad.sources.eponline`.

* **EP-Online** — API v5 (``settings.ep_online_url``), header ``Authorization: <key>`` (raw
  key, no "Bearer"), ``GET Mutatiebestand/DownloadInfo?fileType=csv`` → JSON
  ``{"bestandsnaam": "v20250101_v4_csv.zip", "downloadUrl": <pre-signed URL, about 24 h>,
  "geldigTotEnMet": …}`` (medium-high confidence: third-party documentation of verified
  responses). The ZIP holds one ``;``-separated CSV (UTF-8 with BOM, decimal commas, two
  preamble lines). The signed URL is never stored: the cached DownloadInfo is kept without it
  and the ZIP is cached under its ``bestandsnaam``.
"""

from __future__ import annotations

import csv
import logging
import os
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from woonvoorraad import settings
from woonvoorraad._archive import open_zip_member, zip_members
from woonvoorraad._io import atomic_path
from woonvoorraad._log import progress
from woonvoorraad.errors import DownloadError, HTTPStatusError, InputError
from woonvoorraad.sources import _cache, _http
from woonvoorraad.sources._fetchjob import LICENCES, SOURCES, FetchJob

logger = logging.getLogger(__name__)


#: Seconds a cached EP-Online DownloadInfo is trusted (the bulk file is monthly).
DOWNLOAD_INFO_MAX_AGE = 12 * 3600.0


def _without_download_url(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: v for k, v in doc.items() if k.lower() != "downloadurl"}
    return doc


def check_bulk_zip(path: Path) -> None:
    """Check a downloaded bulk ZIP: safe members, one CSV, every CRC right (ValueError if not).

    An unsafe archive (zip-slip names, encryption, a zip bomb) is as unusable as a damaged
    one: :class:`~woonvoorraad.errors.UnsafeArchiveError` is a ValueError, so the download
    layer discards the file and tries again, then gives up with the reason.
    """
    infos = zip_members(path)
    members = [m for m in infos if m.filename.lower().endswith(".csv")]
    if len(members) != 1:
        raise ValueError(f"expected one .csv in the ZIP, found {len(members)}")
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ValueError(f"not a valid ZIP file: {exc}") from None
    if bad is not None:
        raise ValueError(f"CRC error in {bad}")


_ID_COLUMNS = ("BAGVerblijfsobjectID", "Pand_bagverblijfsobjectid")


def extract_labels(zip_path: str | Path, vbo_ids: Iterable[str], out: str | Path) -> int:
    """Copy the rows of an EP-Online bulk file that belong to ``vbo_ids`` into ``out``.

    The output keeps the bulk file's exact format (byte-order mark, the two preamble lines,
    the header, ``;`` separators, decimal commas and line endings), so the EP-Online reader
    reads it unchanged. The national file is streamed, never held in memory.

    Returns
    -------
    int
        Number of rows written (the file is not written when there are none).
    """
    wanted = {str(i).strip().zfill(16) for i in vbo_ids}
    path = Path(zip_path)
    with open_zip_member(path, suffix=".csv") as raw:
        head: list[bytes] = []
        index = None
        for _ in range(10):
            line = raw.readline()
            if not line:
                break
            head.append(line)
            text = line.decode("utf-8-sig", errors="replace").rstrip("\r\n")
            fields = next(csv.reader([text], delimiter=";"))
            found = [c for c in _ID_COLUMNS if c in fields]
            if found:
                index = fields.index(found[0])
                break
        if index is None:
            raise InputError("no EP-Online header with BAGVerblijfsobjectID found in the "
                             "first lines", path=path)
        kept: list[bytes] = []
        for line in progress(raw, desc="EP-Online rows", unit="row"):
            if index == 0:
                value = line.split(b";", 1)[0]
            else:
                row = next(csv.reader([line.decode("utf-8", errors="replace")],
                                      delimiter=";"), [])
                value = row[index].encode() if len(row) > index else b""
            vid = value.strip().strip(b'"').decode("ascii", errors="ignore").zfill(16)
            if vid in wanted:
                kept.append(line)
    if kept:
        with atomic_path(out) as tmp, tmp.open("wb") as fh:
            fh.writelines(head)
            fh.writelines(kept)
    return len(kept)


def fetch_labels(ctx: FetchJob, vbo_ids: set[str]) -> tuple[Path | None, dict[str, Any]]:
    """Write ``labels.csv``: the EP-Online registrations of the units ``vbo_ids``.

    Without an API key (or with one EP-Online refuses) nothing is downloaded and the build
    estimates labels; the reason is a warning and goes into the manifest (a refused key also
    into its ``incomplete`` parts, so the next plain fetch asks again).

    Returns
    -------
    tuple
        The file (None when the labels will be estimated) and its status for the manifest.
    """
    env = settings.ep_online_api_key_env
    key = (os.environ.get(env) or "").strip()
    out = ctx.path("ep-online", ctx.gemeente.code, "labels.csv")
    if not key:
        reason = (f"no EP-Online API key in ${env}: the build will use estimated labels "
                  f"(PBL defaults per dwelling type and period), not registered ones")
        ctx.warn(reason)
        out.unlink(missing_ok=True)  # an earlier file would contradict the manifest
        return None, {"status": "estimated", "reason": reason}
    licence = LICENCES["ep-online"].name
    url = f"{settings.ep_online_url.rstrip('/')}/Mutatiebestand/DownloadInfo"
    headers = {"Authorization": key}

    def info(refresh: bool) -> dict[str, Any]:
        doc = _http.get_json(url, params={"fileType": "csv"}, headers=headers,
                             source=SOURCES["ep"], licence=licence,
                             max_age=DOWNLOAD_INFO_MAX_AGE, sanitize=_without_download_url,
                             refresh=refresh)
        if not isinstance(doc, dict) or not str(doc.get("bestandsnaam", "")).endswith(".zip"):
            raise DownloadError("EP-Online DownloadInfo has no 'bestandsnaam' of a ZIP file")
        return doc

    try:
        doc = info(ctx.refresh)
    except HTTPStatusError as exc:
        if exc.status not in (401, 403):
            raise
        reason = (f"EP-Online refused the API key in ${env} (HTTP {exc.status}); the build "
                  f"will use estimated labels; the next fetch asks again")
        ctx.warn(reason)
        ctx.mark_incomplete("labels", reason)
        out.unlink(missing_ok=True)  # an earlier file would contradict the manifest
        return None, {"status": "estimated", "reason": reason}
    name = str(doc["bestandsnaam"])
    cache_id = f"ep-online/{name}"
    zip_path = None if ctx.refresh else _cache.find_cached_download(SOURCES["ep"], cache_id)
    if zip_path is None:
        link = doc.get("downloadUrl") or doc.get("downloadurl")
        if not link:  # the cached DownloadInfo is kept without its short-lived signed URL
            doc = info(True)
            link = doc.get("downloadUrl")
        if not link:
            raise DownloadError("EP-Online DownloadInfo has no downloadUrl")
        host = urlsplit(str(link)).hostname or ""
        zip_path = _http.download(str(link), source=SOURCES["ep"], cache_id=cache_id,
                                  licence=licence, suffix=".zip", extra_hosts=[host],
                                  validate=check_bulk_zip, desc=f"EP-Online {name}",
                                  refresh=ctx.refresh)
    n = extract_labels(zip_path, vbo_ids, out)
    if n == 0:
        out.unlink(missing_ok=True)
        reason = f"EP-Online {name} has no registrations for this gemeente's units"
        ctx.warn(reason)
        return None, {"status": "estimated", "reason": reason, "bulk_file": name}
    logger.info("%s: %d EP-Online registrations from %s -> %s", ctx.gemeente, n, name, out)
    return out, {"status": "registered", "bulk_file": name, "rows": n,
                 "published": doc.get("geldigTotEnMet")}
