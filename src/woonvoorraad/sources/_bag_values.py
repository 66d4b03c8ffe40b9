"""BAG values of units: gebruiksdoel and status spellings, and unit locations, with warnings.

Spellings that would silently drop dwellings (``WOONFUNCTIE``, ``verblijfsobject in gebruik ``)
are normalised and counted in a warning; unknown statuses are named; units stored as another
geometry than a point, without a location or far outside the Netherlands are reported. Used by
the unit reader of :mod:`woonvoorraad.sources.bag`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from woonvoorraad import _validate
from woonvoorraad.errors import InputError

logger = logging.getLogger(__name__)


#: Unit statuses of the BAG (catalogus BAG 2.0), in their official spelling.
VBO_STATUSES: tuple[str, ...] = (
    "Verblijfsobject gevormd",
    "Niet gerealiseerd verblijfsobject",
    "Verblijfsobject in gebruik (niet ingemeten)",
    "Verblijfsobject in gebruik",
    "Verbouwing verblijfsobject",
    "Verblijfsobject ingetrokken",
    "Verblijfsobject buiten gebruik",
    "Verblijfsobject ten onrechte opgevoerd",
)


def _recode(values: pd.Series) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Distinct values of a text column: row codes (-1 for missing), the distinct values (Arrow
    strings) and the number of rows of each; text functions then run once per distinct value.
    """
    codes, uniques = pd.factorize(values.astype("str"))
    codes = np.asarray(codes, dtype=np.int64)
    distinct = pa.array(np.asarray(uniques, dtype=object), type=pa.string())
    counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
    return codes, distinct, counts


def _categorical(codes: np.ndarray, new_values: list[Any], index: pd.Index) -> pd.Series:
    """Rows as a categorical of their (possibly merged) new distinct values."""
    new_codes, cats = pd.factorize(pd.Series(new_values, dtype=object), sort=True)
    row_codes = np.where(codes >= 0, new_codes[np.clip(codes, 0, None)] if len(new_codes)
                         else -1, -1)
    return pd.Series(pd.Categorical.from_codes(row_codes, categories=pd.Index(cats, dtype="str")),
                     index=index)


def _examples(old: list[Any], new: list[Any], counts: np.ndarray, which: np.ndarray,
              n: int = 3) -> str:
    """The most frequent changed values as ``'old' → 'new'``."""
    order = np.argsort(-counts[which], kind="stable")[:n]
    rows = np.flatnonzero(which)[order]
    return ", ".join(f"{old[i]!r} → {new[i]!r}" for i in rows)


def normalise_gebruiksdoel(values: pd.Series, *, path: Path, layer: str,
                           column: str = "gebruiksdoel") -> pd.Series:
    """Uses of the units in one spelling: lower case, without whitespace, comma-joined.

    ``WOONFUNCTIE``, ``Woonfunctie`` and `` woonfunctie`` would not be dwellings; they become
    ``woonfunctie`` and are counted in a warning naming the file, column and examples. Spaces
    around the commas of a list and inside a use (``overige gebruiksfunctie``) are ordinary
    spellings and removed silently, as before.

    Returns
    -------
    pandas.Series
        A categorical.
    """
    codes, distinct, counts = _recode(values)
    old = distinct.to_pylist()
    new_arr = pc.utf8_lower(pc.replace_substring_regex(distinct, r"\s+", ""))
    new = new_arr.to_pylist()
    trimmed = pc.utf8_trim_whitespace(distinct)
    changed = np.asarray(pc.or_(pc.or_(
        pc.not_equal(trimmed, distinct),  # surrounding whitespace
        pc.not_equal(pc.utf8_lower(distinct), distinct)),  # case
        pc.match_substring_regex(distinct, r"[^\S ]")),  # tabs, line breaks
        dtype=bool) if len(distinct) else np.zeros(0, dtype=bool)
    if changed.any():
        logger.warning("%s: layer %r column %r: %d value(s) in another case or with "
                       "surrounding whitespace were normalised (e.g. %s)", path.name, layer,
                       column, int(counts[changed].sum()), _examples(old, new, counts, changed))
    return _categorical(codes, new, values.index)


def _status_key(values: pa.Array) -> pa.Array:
    collapsed = pc.replace_substring_regex(pc.utf8_trim_whitespace(values), r"\s+", " ")
    return pc.utf8_lower(collapsed)


def normalise_status(values: pd.Series, *, path: Path, layer: str, column: str = "status",
                     known: tuple[str, ...] = VBO_STATUSES) -> pd.Series:
    """Unit statuses in the BAG spelling; unknown statuses named in a warning.

    Case and whitespace do not matter (``verblijfsobject in gebruik `` is
    ``Verblijfsobject in gebruik``); such values are counted in a warning. A status that is
    not one of ``known`` is kept (without surrounding whitespace) and named with its count in
    a warning: the dwelling rule does not count it.

    Raises
    ------
    InputError
        When units are read but not one has a BAG status: then the column holds something
        else, and every count would be zero for a reason no later message could name.
    """
    codes, distinct, counts = _recode(values)
    old = distinct.to_pylist()
    key = _status_key(distinct)
    lookup = pa.array([s.lower() for s in known], type=pa.string())
    pos = np.asarray(pc.fill_null(pc.index_in(key, value_set=lookup), -1), dtype=np.int64)
    tidy = pc.replace_substring_regex(pc.utf8_trim_whitespace(distinct), r"\s+", " "
                                      ).to_pylist()
    new = [known[i] if i >= 0 else t for i, t in zip(pos, tidy, strict=True)]
    is_known = pos >= 0
    changed = np.array([a != b for a, b in zip(old, new, strict=True)], dtype=bool)
    n_rows = int(counts.sum())
    n_missing = int((codes < 0).sum())
    if len(values) and not is_known.any():
        found = ", ".join(f"{o!r} ×{c}" for o, c in zip(old, counts, strict=True)) if old \
            else "no values"
        raise InputError(f"layer {layer!r} column {column!r} holds no BAG status of a unit "
                         f"(found: {found[:300]}); expected values such as {known[3]!r}",
                         path=path)
    if (changed & is_known).any():
        which = changed & is_known
        logger.warning("%s: layer %r column %r: %d value(s) in another case or with extra "
                       "whitespace were normalised to the BAG spelling (e.g. %s)", path.name,
                       layer, column, int(counts[which].sum()),
                       _examples(old, new, counts, which))
    if (~is_known).any() or n_missing:
        unknown = np.flatnonzero(~is_known)
        shown = ", ".join(f"{old[i]!r} ×{counts[i]}"
                          for i in unknown[np.argsort(-counts[unknown], kind="stable")][:5])
        n_unknown = int(counts[~is_known].sum())
        parts = []
        if n_unknown:
            parts.append(f"{n_unknown} unit(s) of {n_rows + n_missing} have a status that is "
                         f"not a BAG status ({shown})")
        if n_missing:
            parts.append(f"{n_missing} unit(s) have no status")
        logger.warning("%s: layer %r column %r: %s; they are not counted as dwellings",
                       path.name, layer, column, "; ".join(parts))
    return _categorical(codes, new, values.index)


def warn_not_points(types: np.ndarray, ids: pd.Series, path: Path, *, layer: str) -> None:
    """Warn about units stored as another geometry than a point (they get a point inside)."""
    other = (types > 0)  # -1: missing; 0: point
    if not other.any():
        return
    names = {1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
             5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
    kinds, n_kind = np.unique(types[other], return_counts=True)
    per_kind = ", ".join(f"{n} {names.get(int(k), 'other')}" for k, n in
                         zip(kinds, n_kind, strict=True))
    examples = ", ".join(ids.to_numpy(dtype=object)[other][:3].astype(str))
    logger.warning("%s: layer %r: %d unit(s) are stored as another geometry than a point "
                   "(%s; e.g. %s); each is represented by a point inside it "
                   "(representative_point)", path.name, layer, int(other.sum()), per_kind,
                   examples)


def check_unit_locations(xy: np.ndarray, ids: pd.Series, path: Path, *, layer: str
                         ) -> np.ndarray:
    """Units without a usable location, named in one warning: coordinates that are not
    finite (returned, to become missing), far outside the Netherlands (kept) or no geometry.
    All of them end up outside every buurt, where the dwelling report counts them.

    Units outside the Netherlands are only reported when others lie inside: a layer that lies
    outside as a whole is already reported by :func:`woonvoorraad._validate.layer_info`.
    """
    missing = np.isnan(xy).all(axis=1)
    finite = np.isfinite(xy).all(axis=1)
    not_finite = ~missing & ~finite
    x0, y0, x1, y1 = _validate.RD_EXTENT
    with np.errstate(invalid="ignore"):
        outside = finite & ((xy[:, 0] < x0) | (xy[:, 0] > x1) | (xy[:, 1] < y0)
                            | (xy[:, 1] > y1))
    if outside.any() and outside[finite].all():
        outside[:] = False  # the whole layer: see the layer-level warning
    odd = outside | not_finite | missing
    if odd.any():
        parts = [f"{n} {what}" for n, what in (
            (int(outside.sum()), f"outside the Netherlands (RD New x {x0:.0f}–{x1:.0f}, "
                                 f"y {y0:.0f}–{y1:.0f} m)"),
            (int(not_finite.sum()), "with coordinates that are not finite"),
            (int(missing.sum()), "without geometry")) if n]
        names = ids.to_numpy(dtype=object)
        rows = np.concatenate([np.flatnonzero(outside | not_finite), np.flatnonzero(missing)])
        examples = ", ".join(f"{names[i]} at ({xy[i, 0]:g}, {xy[i, 1]:g})" if not missing[i]
                             else f"{names[i]} (no geometry)" for i in rows[:3])
        logger.warning("%s: layer %r: %d unit(s) have no usable location (%s; e.g. %s); they "
                       "are kept and counted as outside every buurt", path.name, layer,
                       int(odd.sum()), ", ".join(parts), examples)
    return not_finite
