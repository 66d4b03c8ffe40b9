"""The BAG woonplaats of each unit, in each of the three BAG layouts.

``bag-light`` and ``ogc``
    ``verblijfsobject.woonplaats_naam`` holds the name (PDOK bag-light GeoPackage; the PDOK OGC
    API v2 properties, kept by our fetch).
``lvbag``
    GDAL's LVBAG driver (``ogr/ogrsf_frmts/lvbag/ogrlvbaglayer.cpp``) writes one layer per
    object type; lower-cased, the chain is ``verblijfsobject.hoofdadresnummeraanduidingref`` →
    ``nummeraanduiding.identificatie``; ``nummeraanduiding.openbareruimteref`` →
    ``openbareruimte.identificatie``; ``openbareruimte.woonplaatsref`` →
    ``woonplaats.identificatie``; ``woonplaats.naam``. A nummeraanduiding that lies in another
    woonplaats than its street carries ``woonplaatsref`` itself (BAG allows it); that one wins.

When a link layer or column is missing (the real LVBAG sample has ``nummeraanduiding`` but no
``openbareruimte`` or ``woonplaats``), the column is all NA and :class:`WoonplaatsBron` says
exactly what is missing; :mod:`woonvoorraad.sources.bag` logs that once per read. The link
layers are read without geometry, only the needed columns, in Arrow batches that become int64
ids at once, so a national file costs about 16 bytes per address.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio

from woonvoorraad import _validate

logger = logging.getLogger(__name__)

#: Name of the unit column (pandas categorical of strings; NA when unknown).
COLUMN = "woonplaats"
#: bag-light / OGC field with the woonplaats name.
NAAM_FIELD = "woonplaats_naam"
#: LVBAG unit field with the main address (GDAL: ``hoofdadresNummeraanduidingRef``).
HOOFDADRES_FIELD = "hoofdadresnummeraanduidingref"
NUM_LAYER, OPR_LAYER, WPL_LAYER = "nummeraanduiding", "openbareruimte", "woonplaats"
#: GDAL LVBAG field names, lower-cased as lvbag-style loads and our readers use them.
_ID, _OPR_REF, _WPL_REF, _NAAM = "identificatie", "openbareruimteref", "woonplaatsref", "naam"
_HISTORY = ("eindgeldigheid", "voorkomenidentificatie")
_BATCH = 262_144


@dataclass(frozen=True)
class WoonplaatsBron:
    """Where the ``woonplaats`` of the units comes from, and what is missing for it.

    Attributes
    ----------
    methode
        ``"woonplaats_naam"`` (bag-light, OGC), ``"lvbag"`` (the nummeraanduiding →
        openbareruimte → woonplaats chain) or ``"geen"`` (not available).
    ontbrekende_lagen
        Layers the chain needs that the file lacks.
    ontbrekende_kolommen
        ``layer.column`` the chain needs that the file lacks.
    n_eenheden, n_zonder_woonplaats
        Units read, and those without a woonplaats (set after a read).
    """

    methode: str
    ontbrekende_lagen: tuple[str, ...] = ()
    ontbrekende_kolommen: tuple[str, ...] = ()
    n_eenheden: int = 0
    n_zonder_woonplaats: int = 0
    bron_kolom: str | None = field(default=None, repr=False)

    @property
    def beschikbaar(self) -> bool:
        """Whether the file gives a woonplaats at all."""
        return self.methode != "geen"

    @property
    def opmerking(self) -> str:
        """One line for the log and the manifest (English, like the other log lines)."""
        if self.beschikbaar:
            return (f"BAG woonplaats from {self.methode}: {self.n_zonder_woonplaats} of "
                    f"{self.n_eenheden} units without a woonplaats")
        parts = []
        if self.ontbrekende_lagen:
            parts.append(f"layer(s) {', '.join(self.ontbrekende_lagen)} missing")
        if self.ontbrekende_kolommen:
            parts.append(f"column(s) {', '.join(self.ontbrekende_kolommen)} missing")
        return ("BAG woonplaats unavailable (" + "; ".join(parts) + "): every unit's woonplaats "
                "is NA and village-level (woonplaats) figures are unavailable")

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the manifest (``beschikbaar`` and ``opmerking`` included)."""
        d = asdict(self)
        d.pop("bron_kolom")
        d["ontbrekende_lagen"] = list(self.ontbrekende_lagen)
        d["ontbrekende_kolommen"] = list(self.ontbrekende_kolommen)
        return {"beschikbaar": self.beschikbaar, **d, "opmerking": self.opmerking}


def plan(path: Path, layout: str, vbo_fields: list[str] | set[str]) -> WoonplaatsBron:
    """Which column of the unit layer gives the woonplaats, or what is missing.

    Parameters
    ----------
    path
        The BAG GeoPackage.
    layout
        Its layout (:func:`woonvoorraad.sources.bag.detect_layout`).
    vbo_fields
        Fields of its ``verblijfsobject`` layer.

    Returns
    -------
    WoonplaatsBron
        Without counts; ``bron_kolom`` is the unit column to read (None: read none).
    """
    fields = set(vbo_fields)
    if layout != "lvbag":
        if NAAM_FIELD in fields:
            return WoonplaatsBron("woonplaats_naam", bron_kolom=NAAM_FIELD)
        return WoonplaatsBron("geen", ontbrekende_kolommen=(f"verblijfsobject.{NAAM_FIELD}",))
    layers = set(_validate.list_layers(path))
    lacking_layers = [name for name in (NUM_LAYER, OPR_LAYER, WPL_LAYER) if name not in layers]
    lacking_cols = [] if HOOFDADRES_FIELD in fields else [f"verblijfsobject.{HOOFDADRES_FIELD}"]
    have = {name: set(pyogrio.read_info(path, layer=name)["fields"])
            for name in (NUM_LAYER, OPR_LAYER, WPL_LAYER) if name in layers}
    num_direct = _WPL_REF in have.get(NUM_LAYER, set())
    need = {NUM_LAYER: [_ID] if num_direct else [_ID, _OPR_REF], WPL_LAYER: [_ID, _NAAM]}
    if not num_direct or OPR_LAYER in have:
        need[OPR_LAYER] = [_ID, _WPL_REF]
    if num_direct and OPR_LAYER not in have:
        lacking_layers = [name for name in lacking_layers if name != OPR_LAYER]
    for name, cols in need.items():
        if name in have:
            lacking_cols += [f"{name}.{c}" for c in cols if c not in have[name]]
    if lacking_layers or lacking_cols:
        return WoonplaatsBron("geen", tuple(lacking_layers), tuple(lacking_cols))
    return WoonplaatsBron("lvbag", bron_kolom=HOOFDADRES_FIELD)


def int_ids(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """BAG ids (``NL.IMBAG.<Type>.`` prefix or not, strings or integers) as int64; -1 for
    missing or malformed ones."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_integer(values.type):
        return np.asarray(pc.fill_null(pc.cast(values, pa.int64()), -1))
    s = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    s = pc.replace_substring_regex(pc.utf8_trim_whitespace(s), r"^NL\.IMBAG\.[A-Za-z]+\.", "")
    ok = pc.fill_null(pc.and_(pc.utf8_is_digit(s), pc.less_equal(pc.utf8_length(s), 18)), False)
    clean = pc.if_else(ok, s, pa.scalar(None, pa.string()))
    return np.asarray(pc.fill_null(pc.cast(clean, pa.int64()), -1))


def _read_links(path: Path, layer: str, columns: list[str],
                keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Current rows of a link layer as int64 id columns (-1 missing), in Arrow batches.

    With ``keep`` (sorted int64 ids) only rows whose ``identificatie`` is in it are kept.
    Rows with ``eindgeldigheid`` set are history and dropped; of several voorkomens of an id
    the last is kept.
    """
    fields = set(pyogrio.read_info(path, layer=layer)["fields"])
    cols = [c for c in columns if c in fields]
    hist = [c for c in _HISTORY if c in fields]
    parts: dict[str, list[np.ndarray]] = {c: [] for c in [*cols, "voorkomen"]}
    with pyogrio.open_arrow(path, layer=layer, columns=cols + hist, read_geometry=False,
                            use_pyarrow=True, batch_size=_BATCH) as (_, reader):
        for batch in reader:
            mask = np.ones(batch.num_rows, dtype=bool)
            if "eindgeldigheid" in hist:
                mask &= np.asarray(pc.is_null(batch.column("eindgeldigheid")))
            ids = int_ids(batch.column(_ID))
            if keep is not None:
                pos = np.searchsorted(keep, ids).clip(0, max(len(keep) - 1, 0))
                mask &= (keep[pos] == ids) if len(keep) else False
            for c in cols:
                parts[c].append(ids[mask] if c == _ID else int_ids(batch.column(c))[mask])
            voorkomen = (int_ids(batch.column("voorkomenidentificatie"))
                         if "voorkomenidentificatie" in hist else
                         np.zeros(batch.num_rows, dtype=np.int64))
            parts["voorkomen"].append(voorkomen[mask])
    out = {c: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for c, v in parts.items()}
    for c in columns:
        out.setdefault(c, np.full(len(out[_ID]), -1, dtype=np.int64))
    order = np.lexsort((out["voorkomen"], out[_ID]))
    ids = out[_ID][order]
    last = np.r_[ids[1:] != ids[:-1], True] if len(ids) else np.zeros(0, dtype=bool)
    rows = order[last]  # the last voorkomen of each id, sorted by id
    return {c: v[rows] for c, v in out.items()}


def _read_names(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Woonplaats ids (sorted int64) and their names (object array; None when empty)."""
    fields = set(pyogrio.read_info(path, layer=WPL_LAYER)["fields"])
    hist = [c for c in _HISTORY if c in fields]
    _, table = pyogrio.read_arrow(path, layer=WPL_LAYER, columns=[_ID, _NAAM, *hist],
                                  read_geometry=False)
    if "eindgeldigheid" in hist:
        table = table.filter(pc.is_null(table.column("eindgeldigheid")))
    ids = int_ids(table.column(_ID))
    voorkomen = (int_ids(table.column("voorkomenidentificatie"))
                 if "voorkomenidentificatie" in hist else np.zeros(len(ids), dtype=np.int64))
    names = _clean_names(table.column(_NAAM)).to_numpy(zero_copy_only=False)
    order = np.lexsort((voorkomen, ids))
    ids = ids[order]
    last = np.r_[ids[1:] != ids[:-1], True] if len(ids) else np.zeros(0, dtype=bool)
    return ids[last], names[order][last]


def _clean_names(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Names trimmed; empty ones null."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    s = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    s = pc.utf8_trim_whitespace(s)
    return pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)


def _lookup(path: Path, wanted: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nummeraanduiding ids (sorted), the code of their woonplaats name (-1 none), the names."""
    layers = set(_validate.list_layers(path))
    num = _read_links(path, NUM_LAYER, [_ID, _OPR_REF, _WPL_REF], keep=wanted)
    wpl = num[_WPL_REF].copy()
    via_street = wpl < 0
    if via_street.any() and OPR_LAYER in layers:
        streets = np.unique(num[_OPR_REF][via_street & (num[_OPR_REF] >= 0)])
        opr = _read_links(path, OPR_LAYER, [_ID, _WPL_REF], keep=streets)
        pos = np.searchsorted(opr[_ID], num[_OPR_REF]).clip(0, max(len(opr[_ID]) - 1, 0))
        found = via_street & (opr[_ID][pos] == num[_OPR_REF]) if len(opr[_ID]) else \
            np.zeros(len(wpl), dtype=bool)
        wpl[found] = opr[_WPL_REF][pos[found]]
    wpl_ids, names = _read_names(path)
    pos = np.searchsorted(wpl_ids, wpl).clip(0, max(len(wpl_ids) - 1, 0))
    ok = (wpl >= 0) & (wpl_ids[pos] == wpl) if len(wpl_ids) else np.zeros(len(wpl), bool)
    named = pd.array(names, dtype="string")
    cats, inverse = np.unique(np.asarray(named.fillna("")), return_inverse=True)
    codes = np.where(ok, inverse[pos] if len(wpl_ids) else -1, -1)
    if len(cats) and cats[0] == "":  # woonplaatsen without a name give no name
        codes = np.where(codes == 0, -1, codes - 1)
        cats = cats[1:]
    return num[_ID], codes.astype(np.int32), cats.astype(object)


_CACHE: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_LOCK = threading.Lock()


def _cached_lookup(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_lookup` of every address, kept for the next tile of the same file (one file
    per process: the dask engine reads a file tile by tile)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    with _LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = _lookup(path, None)
        return _CACHE[key]


def clear_cache() -> None:
    """Forget the cached address lookup (:func:`_cached_lookup`)."""
    with _LOCK:
        _CACHE.clear()


def resolve(table: pa.Table, path: Path, source: str, *, cache: bool) -> pa.Table:
    """Replace the unit table's woonplaats source column by a dictionary column of names.

    Parameters
    ----------
    table
        The unit layer as read (one row per unit and pand, history rows included).
    path
        The GeoPackage (for the LVBAG link layers).
    source
        :attr:`WoonplaatsBron.bron_kolom`: ``woonplaats_naam`` or the LVBAG main address.
    cache
        Keep the address lookup of the whole file for later calls (tiles); otherwise read only
        the addresses of these units.

    Returns
    -------
    pyarrow.Table
        ``table`` with ``source`` as a dictionary-encoded string column (null: unknown), which
        becomes a pandas categorical.
    """
    col = table.column(source)
    if source == NAAM_FIELD:
        names = pc.dictionary_encode(_clean_names(col))
    else:
        refs = int_ids(col)
        if cache:
            ids, codes, cats = _cached_lookup(path)
        else:
            ids, codes, cats = _lookup(path, np.unique(refs[refs >= 0]))
        pos = np.searchsorted(ids, refs).clip(0, max(len(ids) - 1, 0))
        hit = (refs >= 0) & (ids[pos] == refs) if len(ids) else np.zeros(len(refs), bool)
        code = np.where(hit, codes[pos] if len(ids) else -1, -1)
        names = pa.DictionaryArray.from_arrays(
            pa.array(code, type=pa.int32(), mask=code < 0),
            pa.array(cats.tolist(), type=pa.string()))
    return table.set_column(table.schema.get_field_index(source), source, names)


def finish(frame: pd.DataFrame, bron: WoonplaatsBron) -> tuple[pd.Series, WoonplaatsBron]:
    """The ``woonplaats`` column of canonical units (categorical, sorted categories, NA where
    unknown) and the source with its counts."""
    if COLUMN in frame.columns and bron.beschikbaar:
        values = frame[COLUMN]
        cat = values if isinstance(values.dtype, pd.CategoricalDtype) else \
            values.astype("string").astype("category")
        cat = cat.cat.remove_unused_categories()
        cats = [str(c) for c in cat.cat.categories]
        cat = cat.cat.rename_categories(cats).cat.reorder_categories(sorted(cats))
    else:
        cat = pd.Series(pd.Categorical([None] * len(frame), categories=pd.Index([], dtype=object)),
                        index=frame.index)
    n_na = int(cat.isna().sum())
    out = WoonplaatsBron(bron.methode, bron.ontbrekende_lagen, bron.ontbrekende_kolommen,
                         n_eenheden=len(frame), n_zonder_woonplaats=n_na,
                         bron_kolom=bron.bron_kolom)
    return cat.rename(COLUMN), out


def warn_if_unavailable(bron: WoonplaatsBron, path: Path) -> None:
    """The one warning of a read whose file gives no woonplaats (names what is missing)."""
    if not bron.beschikbaar:
        logger.warning("%s: %s", path.name, bron.opmerking)


def prepare(table: pa.Table, path: Path, layout: str, mapping: dict[str, str], *,
            cache: bool) -> tuple[pa.Table, WoonplaatsBron]:
    """The unit table with its woonplaats column resolved to names (:func:`resolve`), and
    where the woonplaats comes from (what is missing when it does not)."""
    source = mapping.get(COLUMN)
    if source is not None and source in table.column_names:
        bron = WoonplaatsBron("lvbag" if layout == "lvbag" else "woonplaats_naam",
                              bron_kolom=source)
        return resolve(table, path, source, cache=cache), bron
    bron = plan(path, layout, pyogrio.read_info(path, layer="verblijfsobject")["fields"])
    if bron.beschikbaar:  # the caller's column list left the column out
        bron = WoonplaatsBron("geen", ontbrekende_kolommen=(
            f"verblijfsobject.{bron.bron_kolom} (not read)",))
    return table, bron
