"""The folder layout of the data and report folders: the one place that knows their names.

Everything woonvoorraad reads or writes on its own initiative lives under a *data folder*
(``settings.data_dir`` unless a caller passes another one, read at call time)::

    <data_dir>/
        raw/<name>/          downloaded or generated inputs (raw/demo: the demo region,
                             raw/demo-scale0.3: the demo region at scale 0.3, raw/cache: HTTP)
        processed/<name>/    builds: dwellings.parquet, buurten.parquet, manifest.json
    reports/<name>/          rendered reports and maps (relative to the working folder)

Use these functions instead of joining ``"raw"``, ``"processed"`` or ``"demo"`` by hand.

Examples
--------
>>> raw_dir("/data", "demo").as_posix()
'/data/raw/demo'
>>> processed_dir("/data", DEMO).as_posix()
'/data/processed/demo'
>>> demo_raw_dir("/data", scale=0.3).as_posix()
'/data/raw/demo-scale0.3'
>>> reports_dir("demo").as_posix()
'reports/demo'
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from woonvoorraad import settings

logger = logging.getLogger(__name__)

RAW: str = "raw"
"""Subfolder of the data folder with the inputs."""
PROCESSED: str = "processed"
"""Subfolder of the data folder with the builds."""
REPORTS: str = "reports"
"""Folder of the rendered reports (relative to the working folder)."""
DEMO: str = "demo"
"""Name of the synthetic demo region: its raw, processed and reports subfolder."""
CACHE: str = "cache"
"""Subfolder of ``raw`` with the HTTP cache (unless ``settings.cache_dir`` is set)."""
MANIFESTS: str = "manifests"
"""Subfolder of ``raw`` with the fetch manifests, one folder per gemeentecode."""


def data_root(data_dir: str | Path | None = None) -> Path:
    """Return the data folder: ``data_dir``, or ``settings.data_dir`` when it is None.

    Parameters
    ----------
    data_dir
        Data folder; None for ``settings.data_dir`` (read at call time).

    Returns
    -------
    pathlib.Path
        The data folder.

    Examples
    --------
    >>> data_root("/data").as_posix()
    '/data'
    """
    return Path(data_dir) if data_dir is not None else Path(settings.data_dir)


def raw_dir(data_dir: str | Path | None = None, name: str | None = None) -> Path:
    """Return ``<data_dir>/raw`` or, with a name, ``<data_dir>/raw/<name>``.

    Parameters
    ----------
    data_dir
        Data folder; None for ``settings.data_dir``.
    name
        Subfolder of one data set (e.g. :data:`DEMO`, ``"manifests"``).

    Returns
    -------
    pathlib.Path
        The folder (not created).
    """
    folder = data_root(data_dir) / RAW
    return folder / name if name else folder


def processed_dir(data_dir: str | Path | None = None, name: str | None = None) -> Path:
    """Return ``<data_dir>/processed`` or, with a name, ``<data_dir>/processed/<name>``.

    Parameters
    ----------
    data_dir
        Data folder; None for ``settings.data_dir``.
    name
        Name of one build (e.g. :data:`DEMO` or a gemeentecode).

    Returns
    -------
    pathlib.Path
        The folder (not created).
    """
    folder = data_root(data_dir) / PROCESSED
    return folder / name if name else folder


def reports_dir(name: str | None = None, root: str | Path | None = None) -> Path:
    """Return ``reports`` or, with a name, ``reports/<name>``.

    Parameters
    ----------
    name
        Name of one set of reports (e.g. :data:`DEMO`).
    root
        Folder holding the reports folder; None for the working folder.

    Returns
    -------
    pathlib.Path
        The folder (not created; relative when ``root`` is None).
    """
    folder = Path(root) / REPORTS if root is not None else Path(REPORTS)
    return folder / name if name else folder


def demo_raw_dir(data_dir: str | Path | None = None, *, scale: float = 1.0) -> Path:
    """Return the folder of the generated demo inputs at a given scale.

    Parameters
    ----------
    data_dir
        Data folder; None for ``settings.data_dir``.
    scale
        Size of the demo region; 1 gives ``raw/demo``, any other scale its own folder
        ``raw/demo-scale<scale>`` so that regions of different sizes never mix.

    Returns
    -------
    pathlib.Path
        The folder (not created).
    """
    name = DEMO if scale == 1.0 else f"{DEMO}-scale{scale:g}"
    return raw_dir(data_dir, name)


def cache_dir() -> Path:
    """Return the HTTP cache folder: ``settings.cache_dir`` or ``<data_dir>/raw/cache``.

    Returns
    -------
    pathlib.Path
        The folder (not created).

    Examples
    --------
    >>> cache_dir().name
    'cache'
    """
    if settings.cache_dir is not None:
        return Path(settings.cache_dir)
    return raw_dir(None, CACHE)


def read_build_manifest(folder: str | Path) -> tuple[Path, dict[str, Any]]:
    """The resolved build folder and its ``manifest.json`` (the reports and the scenarios
    read a build through this).

    Raises
    ------
    InputError
        No ``manifest.json`` (not a build folder) or one that cannot be read.
    """
    from woonvoorraad.errors import InputError

    path = Path(folder).expanduser().resolve()
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise InputError("not a woonvoorraad build folder (no manifest.json); run "
                         "'woonvoorraad build' or 'woonvoorraad demo' first", path=path)
    try:
        return path, json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read manifest.json: {exc}", path=path) from exc
