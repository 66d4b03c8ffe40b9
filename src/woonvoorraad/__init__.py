"""woonvoorraad: where do cheap, owner-occupied, post-war Dutch homes need help?

The package is split into rooms, one per stage of the chain (``docs/architecture.md``):

sources
    Input: readers for BAG (:func:`read_bag`), the CBS wijk- en buurtkaart
    (:func:`read_buurten`) and EP-Online labels (:func:`read_ep_online`), and the download of
    one gemeente's inputs (:func:`fetch`).
stock
    The dwelling stock: dwellings (:func:`dwellings_from_bag`), woningtype, PBL kentallen and
    the indicators per buurt (:func:`buurt_indicators`); the distributed (dask) engine.
classify
    Scores, proeftuin candidates, instruments, upgrade costs and typology (:func:`analyse`).
report
    Reading a build (:func:`load_run`), charts, maps and the gemeente reports
    (:func:`render_reports`).
demo
    The built-in synthetic demo region (:func:`make_demo`, :func:`build_demo`).

:func:`build` (:mod:`woonvoorraad.pipeline`) runs the chain from input files to
``dwellings.parquet``, ``buurten.parquet`` and ``manifest.json``; :mod:`woonvoorraad.cli` is the
command line, :mod:`woonvoorraad.config` and :mod:`woonvoorraad.settings` the run configuration
and global settings.

The functions above are importable from the package itself (``from woonvoorraad import
build``); they are imported on first use (PEP 562), so ``import woonvoorraad`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it (imported on first access).
_LAZY: dict[str, str] = {
    "build": "woonvoorraad.pipeline",
    "analyse": "woonvoorraad.classify.analysis",
    "load_run": "woonvoorraad.report.run",
    "render_reports": "woonvoorraad.report.render",
    "fetch": "woonvoorraad.sources.fetch",
    "make_demo": "woonvoorraad.demo.region",
    "build_demo": "woonvoorraad.demo.build",
    "read_bag": "woonvoorraad.sources.bag",
    "read_buurten": "woonvoorraad.sources.cbs",
    "read_ep_online": "woonvoorraad.sources.eponline",
    "dwellings_from_bag": "woonvoorraad.stock.dwellings",
    "buurt_indicators": "woonvoorraad.stock.indicators",
}

__all__ = ["__version__", "analyse", "build", "build_demo", "buurt_indicators",
           "dwellings_from_bag", "fetch", "load_run", "make_demo", "read_bag", "read_buurten",
           "read_ep_online", "render_reports"]


def __getattr__(name: str) -> Any:
    """Import a public function from its module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
