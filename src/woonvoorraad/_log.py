"""Logging and progress helpers (one logger per module: ``logging.getLogger(__name__)``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

from . import settings

T = TypeVar("T")

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


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
        handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
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
    yield from tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, file=sys.stderr)
