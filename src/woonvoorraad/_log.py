"""Logging and progress helpers (one logger per module: ``logging.getLogger(__name__)``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.std import tqdm  # not tqdm.auto: without ipywidgets it warns in notebooks

from woonvoorraad import settings
from woonvoorraad._text import printable

T = TypeVar("T")

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class SafeFormatter(logging.Formatter):
    """A formatter that escapes control characters (:func:`woonvoorraad._text.printable`).

    Log messages carry names from the data; a name with a carriage return, a line feed or a
    terminal escape sequence must not move the cursor, retitle the terminal or fake a log
    line. The message line is escaped entirely (one record is one line); a traceback or stack
    that follows keeps its line breaks, with every other control character escaped.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging API
        return printable(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        head, sep, tail = text.partition("\n")  # the message line has no raw line feed
        return head + sep + printable(tail, keep_newlines=True) if sep else head


def configure_logging(verbosity: int = 0) -> None:
    """Configure the ``woonvoorraad`` logger for command-line use.

    Parameters
    ----------
    verbosity
        ``-1`` quiet (warnings only), ``0`` info, ``1`` or more debug.
    """
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    logger = logging.getLogger("woonvoorraad")
    logger.setLevel(level)
    if not any(getattr(h, "_woonvoorraad", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(SafeFormatter(_FORMAT, datefmt="%H:%M:%S"))
        handler._woonvoorraad = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    for h in logger.handlers:
        h.setLevel(level)
    settings.show_progress = settings.show_progress and verbosity >= 0


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None,
             unit: str = "it") -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm progress bar unless progress is switched off."""
    if not settings.show_progress:
        yield from iterable
        return
    yield from tqdm(iterable, desc=printable(desc), total=total, unit=unit, leave=False,
                    file=sys.stderr)
