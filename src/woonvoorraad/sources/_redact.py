"""Secrets never leave memory: redaction of URLs, query parameters, headers and log lines.

Header values such as ``Authorization`` and query parameters that look like keys, tokens or
signatures (``apikey``, ``sig``, ``X-Amz-Signature``, …) are replaced by ``***`` wherever
they could be written down: a log line, a cache file name, a provenance sidecar, the
provenance index or an error message. Every secret seen is remembered (with its
percent-encoded forms), so a log filter on the HTTP libraries can take it out of their lines
too. Used by :mod:`woonvoorraad.sources._cache` and :mod:`woonvoorraad.sources._http`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

logger = logging.getLogger(__name__)

#: Replacement text of a secret.
REDACTED = "***"

#: Query parameter names whose values are secrets.
_SECRET_PARAM = re.compile(
    r"(?i)^(api[-_]?key|apikey|access[-_]?key|key|token|access[-_]?token|auth|secret|"
    r"password|passwd|signature|sig|credential|x-amz-.*|code)$"
)
#: Header names whose values are secrets (compared lower-case).
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "api-key", "apikey", "cookie",
    "ocp-apim-subscription-key",
})

_known_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def remember_secret(value: str) -> None:
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


def is_secret_param(name: str) -> bool:
    """Whether the query parameter ``name`` carries a secret (``apikey``, ``sig``, …)."""
    return bool(_SECRET_PARAM.match(name.strip()))


def redact_text(text: str) -> str:
    """Replace every secret seen so far (API keys, signatures) in ``text`` by ``***``.

    Examples
    --------
    >>> remember_secret("s3cr3t-key")
    >>> redact_text("Authorization: s3cr3t-key")
    'Authorization: ***'
    """
    with _secrets_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def list_param_items(params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> list[
        tuple[str, str]]:
    """Query parameters as ``(name, value)`` strings; list values repeat, None is left out."""
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
    for name, value in sorted(list_param_items(params)):
        if is_secret_param(name):
            remember_secret(value)
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


def collect_secret_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The secret headers of ``headers`` (names lower-case), each remembered for redaction."""
    out = {}
    for name, value in (headers or {}).items():
        if name.lower() in SECRET_HEADERS and value:
            remember_secret(str(value))
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

