"""Exception types raised by woonvoorraad.

Every error subclasses a builtin (mostly :class:`ValueError`) so callers that catch the
builtin keep working, and every message names the file, layer, column or value at fault.
"""

from __future__ import annotations

from pathlib import Path


class WoonvoorraadError(Exception):
    """Base class of all woonvoorraad errors."""


class InputError(WoonvoorraadError, ValueError):
    """An input file or table cannot be used as it is.

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    path
        The file concerned, if any; it is prefixed to the message.
    """

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class MissingLayerError(InputError):
    """A GeoPackage lacks a required layer."""


class MissingColumnError(InputError):
    """A table lacks a required column."""


class CRSError(InputError):
    """A layer has no CRS or one that cannot be used."""


class EmptyInputError(InputError):
    """An input holds no usable rows."""


class ConfigError(WoonvoorraadError, ValueError):
    """A configuration value is unknown or out of range."""


class GemeenteNotFoundError(WoonvoorraadError, LookupError):
    """A gemeente name or code is not known."""


class DownloadError(WoonvoorraadError, OSError):
    """A download failed after all retries, or its content is invalid."""


class OfflineError(DownloadError):
    """A request is not in the cache and offline mode is on."""


class OutputLockedError(WoonvoorraadError, RuntimeError):
    """Another woonvoorraad process is writing to the same output folder."""


class OutputError(WoonvoorraadError, OSError):
    """An output folder or file cannot be written: the folder is a file or a dangling link,
    it is read-only, the disk is full, a file is over the size limit, or a symbolic link would
    lead a write or a removal out of the output folder.

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    path
        The folder or file concerned, if any; it is prefixed to the message.
    """

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class HTTPStatusError(DownloadError):
    """A service answered with an HTTP error status (after retries, for 429 and 5xx).

    Parameters
    ----------
    message
        What failed, naming the (redacted) URL.
    status
        The HTTP status code, e.g. ``404`` for a table a service no longer publishes.
    """

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


class UnsafeArchiveError(InputError):
    """A ZIP archive is damaged, encrypted, too large, or names a path outside its folder."""
