"""BAG identifiers: prefixes stripped, leading zeros restored, collisions refused, fast ids.

BAG ids are 16-digit strings. Files spell them as ``NL.IMBAG.Pand.0518…`` (lvbag), lose a
leading zero (integer columns) or join several in one value (a unit in more panden);
:func:`normalise_ids` / :func:`normalise_ids_arrow` turn every spelling into the bare id,
:func:`check_id_collisions` refuses a file where padding would merge two different objects,
and :func:`parse_int_ids` gives int64 ids for fast joins and duplicate checks. Used by the BAG
readers (:mod:`woonvoorraad.sources.bag`) and the build.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from woonvoorraad.errors import InputError

logger = logging.getLogger(__name__)


_ID_PREFIX = re.compile(r"NL\.IMBAG\.[A-Za-z]+\.")


def normalise_ids(values: pd.Series) -> pd.Series:
    """Normalise BAG identifiers to bare 16-digit strings.

    Strips ``NL.IMBAG.<Type>.`` prefixes (also inside comma-joined lists) and left-pads
    numeric ids read as integers.

    Examples
    --------
    >>> normalise_ids(pd.Series(["NL.IMBAG.Pand.0518100000212345", "518100000212346"])).tolist()
    ['0518100000212345', '0518100000212346']
    """
    arr = normalise_ids_arrow(pa.array(values.astype(object).where(values.notna(), None),
                                        type=pa.string(), from_pandas=True))
    return pd.Series(arr.to_pylist(), index=values.index, dtype=object, name=values.name)


def normalise_ids_arrow(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`normalise_ids` in Arrow: no Python string objects, fast when nothing changes."""
    s = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    if _all_plain(s):
        return s  # the national files: every id is already 16 digits
    s = _clean_ids(s)
    return pc.if_else(_single(s), pc.utf8_lpad(s, 16, "0"), s)


def _all_plain(s: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every id (nulls aside) is a bare 16-digit id (nothing to normalise)."""
    plain = pc.and_(pc.equal(pc.utf8_length(s), 16), pc.utf8_is_digit(s))
    return pc.all(plain).as_py() is not False


def _clean_ids(s: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Ids without ``NL.IMBAG.<Type>.`` prefixes and whitespace, not yet padded."""
    s = pc.utf8_trim_whitespace(s)
    s = pc.replace_substring_regex(s, _ID_PREFIX.pattern, "")
    return pc.replace_substring_regex(s, r"\s+", "")


def _single(s: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Which values hold one id (not a comma-joined list); nulls count as single."""
    return pc.fill_null(pc.invert(pc.match_substring(s, ",")), True)


def check_id_collisions(values: pa.Array | pa.ChunkedArray, *, path: Path, layer: str,
                        column: str) -> None:
    """Raise when two different ids of a layer become the same id once left-padded.

    BAG ids have 16 digits; a file that lost a leading zero (a spreadsheet, an integer
    column) holds 15-digit ids, which :func:`normalise_ids` pads. If the same file also holds
    the padded form as the id of *another* row, padding would merge two different objects
    into one, so that is an error naming both ids. Prefix and whitespace variants of one id
    (``NL.IMBAG.Pand.0518…`` and ``0518…``) are the same id, not a collision; a unit listed
    once per pand under one id is not a collision either.

    Free when every id is already a bare 16-digit id (the national files).
    """
    normalise_row_ids(values, path=path, layer=layer, column=column)


def normalise_row_ids(values: pa.Array | pa.ChunkedArray, *, path: Path, layer: str,
                       column: str) -> pa.Array | pa.ChunkedArray:
    """:func:`normalise_ids_arrow` of the ids that name a layer's rows, refusing collisions
    (:func:`check_id_collisions`); the ids are cleaned once for both."""
    s = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    if isinstance(s, pa.ChunkedArray):
        s = s.combine_chunks()
    if not len(s) or _all_plain(s):
        return s
    cleaned = _clean_ids(s)
    single = _single(cleaned)
    padded = pc.if_else(single, pc.utf8_lpad(cleaned, 16, "0"), cleaned)
    short = pc.and_(single, pc.less(pc.utf8_length(cleaned), 16))
    if pc.any(pc.fill_null(short, False)).as_py():
        _refuse_collisions(s, cleaned, padded, single, path=path, layer=layer, column=column)
    return padded


def _refuse_collisions(raw: pa.Array, cleaned: pa.Array, padded: pa.Array, single: pa.Array,
                       *, path: Path, layer: str, column: str) -> None:
    """Raise when different cleaned ids share a padded id, naming the raw ids."""
    distinct = pc.drop_null(pc.unique(pc.filter(cleaned, single)))
    as_padded = pd.Index(pc.utf8_lpad(distinct, 16, "0").to_pylist(), dtype=object)
    clash = as_padded[as_padded.duplicated(keep=False)].unique()
    if not len(clash):
        return
    hits = pc.fill_null(pc.is_in(padded, value_set=pa.array(list(clash), type=pa.string())),
                        False)
    rows = pc.filter(pa.table({"raw": raw, "id": padded}), hits).to_pandas()
    groups = rows.drop_duplicates("raw").groupby("id", sort=True)["raw"].agg(list)
    shown = "; ".join(" and ".join(repr(r) for r in raws[:3]) + f" (both {ident!r})"
                      for ident, raws in list(groups.items())[:3])
    raise InputError(
        f"layer {layer!r} column {column!r}: {len(groups)} group(s) of different ids become "
        f"the same 16-digit id once a leading zero is added: {shown}; they would be merged "
        f"into one object. Fix the ids (BAG ids have 16 digits; was a leading zero lost?)",
        path=path)


def parse_int_ids(values: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """16-digit ids as int64 (a one-to-one mapping), or None when any id is not like that."""
    s = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    if s.null_count:
        return None
    plain = pc.all(pc.and_(pc.equal(pc.utf8_length(s), 16), pc.utf8_is_digit(s))).as_py()
    if plain is False:
        return None
    return np.asarray(pc.cast(s, pa.int64()))


def make_str_series(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (no copy into Python objects)."""
    return values.to_pandas() if isinstance(values, pa.ChunkedArray) else pa.chunked_array(
        [values]).to_pandas()


def find_duplicates(ids: pd.Series, keep: Literal["first", False] = "first") -> pd.Series:
    """``ids.duplicated(keep)``, on int64 when the ids are plain 16-digit numbers (fast)."""
    as_int = parse_int_ids(pa.array(ids.astype("str").array)) if len(ids) else None
    if as_int is None:
        return ids.duplicated(keep=keep)
    return pd.Series(pd.Index(as_int).duplicated(keep=keep), index=ids.index)


def parse_href_uuids(value: Any) -> str | None:
    """Turn a ``pand.href`` value (list or JSON list of URLs) into comma-joined uuids."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    items: list[str]
    if isinstance(value, list | tuple | np.ndarray):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        try:
            parsed = json.loads(text)
            items = [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]
        except json.JSONDecodeError:
            items = text.split(",")
    uuids = [i.rstrip("/").rsplit("/", 1)[-1].split("?")[0] for i in items if i]
    return ",".join(uuids) or None
