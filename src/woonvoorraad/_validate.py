"""Input validation shared by the readers: layers, columns and CRS, with precise errors."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyogrio

from ._errors import CRSError, EmptyInputError, InputError, MissingColumnError, MissingLayerError

logger = logging.getLogger(__name__)

RD_NEW = "EPSG:28992"


def check_file(path: str | Path) -> Path:
    """Return ``path`` as a Path, raising :class:`InputError` if it is missing or empty."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", path=p)
    if p.is_dir():
        raise InputError("is a folder, expected a file", path=p)
    if p.stat().st_size == 0:
        raise EmptyInputError("file is empty (0 bytes)", path=p)
    return p


def list_layers(path: Path) -> list[str]:
    """Layer names of a vector file, with a clear error when GDAL cannot open it."""
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(
            f"cannot be opened as a vector file (GeoPackage expected): {exc}", path=path
        ) from None


def layer_info(path: Path, layer: str, *, what: str) -> dict[str, Any]:
    """Return :func:`pyogrio.read_info` for ``layer``, checking that the layer exists.

    Parameters
    ----------
    path
        The vector file.
    layer
        Layer name.
    what
        What the layer is, for the error message (e.g. ``"BAG pand layer"``).
    """
    layers = list_layers(path)
    if layer not in layers:
        raise MissingLayerError(
            f"has no layer {layer!r} ({what}); layers present: {', '.join(layers) or 'none'}",
            path=path,
        )
    try:
        return pyogrio.read_info(path, layer=layer)
    except Exception as exc:
        raise InputError(f"layer {layer!r} cannot be read: {exc}", path=path) from None


def require_columns(
    available: Iterable[str], required: Sequence[str], *, path: Path, layer: str | None = None
) -> None:
    """Raise :class:`MissingColumnError` listing every required column that is absent."""
    have = set(available)
    missing = [c for c in required if c not in have]
    if missing:
        where = f"layer {layer!r} " if layer else ""
        raise MissingColumnError(
            f"{where}lacks required column(s) {', '.join(map(repr, missing))}; "
            f"columns present: {', '.join(sorted(have)) or 'none'}",
            path=path,
        )


def require_rd_new(crs: Any, *, path: Path, layer: str) -> None:
    """Raise :class:`CRSError` unless ``crs`` is EPSG:28992 (RD New)."""
    if crs is None or str(crs).strip() == "":
        raise CRSError(
            f"layer {layer!r} has no coordinate reference system; expected {RD_NEW} (RD New)",
            path=path,
        )
    from pyproj import CRS

    try:
        epsg = CRS.from_user_input(crs).to_epsg()
    except Exception:
        epsg = None
    if epsg != 28992:
        raise CRSError(
            f"layer {layer!r} is in {crs}, expected {RD_NEW} (RD New); reproject it first, "
            f"e.g. ogr2ogr -t_srs EPSG:28992 out.gpkg in.gpkg",
            path=path,
        )


def require_rows(n: int, *, path: Path, layer: str, what: str) -> None:
    """Raise :class:`EmptyInputError` if a layer has no features."""
    if n == 0:
        raise EmptyInputError(f"layer {layer!r} ({what}) has no features", path=path)
