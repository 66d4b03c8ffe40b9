"""Instruments (*instrumentarium*) per buurt from readable rules in a TOML file.

The rules live in ``woonvoorraad/config/instrumenten.toml`` (or the file named by
``[instrumenten] regels``); the file documents the grammar. A rule is a tree of conditions
``{column, op, value | value_from}`` combined with ``all`` / ``any``; nothing is evaluated as
code. A condition on a missing value is *unknown* (Kleene three-valued logic), so a buurt
lacking, say, income data is reported as ``status = "onbekend"`` with the missing columns,
never silently dropped or matched.

Each instrument also has a ``prioriteit`` (1 = aimed at a narrow segment, 2 = broad, 3 = the
national base). Per buurt the instruments that fit are ranked into a short list
(``[instrumenten] kortlijst_n``): first by ``prioriteit``, then by the *marge* of the rule, the
smallest relative margin by which the buurt passes its conditions (see :func:`rule_margin`).
"""

from __future__ import annotations

import hashlib
import logging
import operator
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from importlib import resources
from pathlib import Path
from typing import Any, Union

import numpy as np
import pandas as pd

from woonvoorraad.classify.scores import policy_value
from woonvoorraad.errors import ConfigError

logger = logging.getLogger(__name__)

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}
_SET_OPS = ("in", "not in")
_INSTRUMENT_KEYS = {"code", "naam", "omschrijving", "bron", "url", "toelichting", "prioriteit",
                    "all", "any"}
_PRIORITEITEN = (1, 2, 3)

#: Columns the stock stage provides from this version on (the column contract of issue #13).
#: A rule may refer to them before a build has them: the buurt's outcome is then "onbekend"
#: (every value missing), not a configuration error. Any other unknown column is an error.
CONTRACT_KOLOMMEN: tuple[str, ...] = (
    "n_goedkoop_koop", "n_goedkoop_koop_laag", "n_goedkoop_koop_hoog",
    "n_doelgroep_laag", "n_doelgroep_hoog", "aandeel_doelgroep_naoorlogs",
    "inkomen_eigenaren_geschat", "aandeel_eigenaren_onder_daeb", "woz_grens",
)
#: Buurt columns of docs/schema.md that older builds or thinner inputs lack (no label model,
#: no dwelling types, no CBS trends): treated like :data:`CONTRACT_KOLOMMEN`.
SCHEMA_KOLOMMEN: tuple[str, ...] = (
    "aandeel_label_efg_verwacht", "aandeel_label_efg_verwacht_naoorlogs", "n_meergezins",
    "aandeel_eengezins_voor_1975", "aandeel_corporatie", "trend_65plus", "n_doelgroep",
)
#: Columns derived here from others: name -> (numerator, denominator).
AFGELEIDE_KOLOMMEN: dict[str, tuple[str, str]] = {
    "woz_t_o_v_grens": ("woz_gemiddeld", "woz_grens"),
    "aandeel_meergezins": ("n_meergezins", "n_woningen"),
}


@dataclass(frozen=True)
class Voorwaarde:
    """One condition ``column op value``; ``bron_waarde`` names a ``[beleid]`` key if any."""

    kolom: str
    op: str
    waarde: Any
    bron_waarde: str | None = None

    def tekst(self) -> str:
        """Readable form, e.g. ``aandeel_65plus >= 0.25``."""
        if self.bron_waarde:
            return f"{self.kolom} {self.op} {self.bron_waarde} ({_fmt(self.waarde)})"
        return f"{self.kolom} {self.op} {_fmt(self.waarde)}"


@dataclass(frozen=True)
class Groep:
    """``all`` or ``any`` of conditions and groups."""

    soort: str
    leden: tuple[Union[Voorwaarde, Groep], ...]  # noqa: UP007 (forward reference)

    def tekst(self, *, top: bool = True) -> str:
        """Readable form: conditions joined by ``en``/``of``, nested groups in brackets."""
        join = " en " if self.soort == "all" else " of "
        text = join.join(
            m.tekst(top=False) if isinstance(m, Groep) else m.tekst() for m in self.leden
        )
        return text if top or len(self.leden) == 1 else f"({text})"

    def kolommen(self) -> list[str]:
        """All columns referenced, in order of appearance, without duplicates."""
        cols: list[str] = []
        for m in self.leden:
            cols += m.kolommen() if isinstance(m, Groep) else [m.kolom]
        return list(dict.fromkeys(cols))


@dataclass(frozen=True)
class Instrument:
    """An instrument and the rule that selects it."""

    code: str
    naam: str
    omschrijving: str
    bron: str
    url: str
    toelichting: str
    regel: Groep
    prioriteit: int = 2

    @property
    def regel_tekst(self) -> str:
        """The rule as readable text."""
        return self.regel.tekst()


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _parse_node(node: Any, where: str, config: Mapping[str, Any]) -> Voorwaarde | Groep:
    if not isinstance(node, Mapping):
        raise ConfigError(f"{where}: a condition must be a table, got {node!r}")
    groups = [k for k in ("all", "any") if k in node]
    if groups:
        if len(groups) > 1 or set(node) - {"all", "any"}:
            raise ConfigError(f"{where}: a group holds exactly one of 'all' or 'any'")
        return _parse_group(groups[0], node[groups[0]], where, config)
    unknown = set(node) - {"column", "op", "value", "value_from"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
    if "column" not in node or "op" not in node:
        raise ConfigError(f"{where}: a condition needs 'column' and 'op'")
    col, op = node["column"], node["op"]
    if not isinstance(col, str) or not col:
        raise ConfigError(f"{where}: 'column' must be a column name")
    if op not in _OPS and op not in _SET_OPS:
        raise ConfigError(f"{where}: op {op!r} is not one of {[*_OPS, *_SET_OPS]}")
    if ("value" in node) == ("value_from" in node):
        raise ConfigError(f"{where}: give exactly one of 'value' and 'value_from'")
    source = None
    if "value_from" in node:
        source = node["value_from"]
        if not isinstance(source, str) or not source.startswith("beleid."):
            raise ConfigError(f"{where}: value_from must name a key 'beleid.<naam>'")
        value: Any = policy_value(config, source.split(".", 1)[1])
    else:
        value = node["value"]
    if op in _SET_OPS:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: op {op!r} needs a list value")
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{where}: op {op!r} needs a number or text value, got {value!r}")
    return Voorwaarde(col, op, value, source)


def _parse_group(kind: str, members: Any, where: str, config: Mapping[str, Any]) -> Groep:
    if not isinstance(members, list) or not members:
        raise ConfigError(f"{where}.{kind}: must be a non-empty list of conditions")
    return Groep(kind, tuple(_parse_node(m, f"{where}.{kind}[{i}]", config)
                             for i, m in enumerate(members)))


def find_rules_file(config: Mapping[str, Any]) -> Path | None:
    """The user rules file from ``[instrumenten] regels``, or ``None`` for the packaged one."""
    value = str(config.get("instrumenten", {}).get("regels", "") or "")
    return Path(value) if value else None


def read_rules_text(config: Mapping[str, Any]) -> tuple[str, str]:
    """Return ``(text, name)`` of the rules file in effect."""
    path = find_rules_file(config)
    if path is None:
        res = resources.files("woonvoorraad").joinpath("config/instrumenten.toml")
        return res.read_text("utf-8"), "woonvoorraad/config/instrumenten.toml"
    try:
        return path.read_text("utf-8"), str(path)
    except FileNotFoundError:
        raise ConfigError(f"instrumenten.regels: file not found: {path}") from None


def parse_rules(text: str, *, config: Mapping[str, Any], naam: str = "<regels>") -> list[
        Instrument]:
    """Parse instrument rules from TOML text.

    Examples
    --------
    >>> from woonvoorraad.config import default_config
    >>> text = '''
    ... [[instrument]]
    ... code = "x"
    ... naam = "X"
    ... omschrijving = "o"
    ... bron = "b"
    ... url = "u"
    ... toelichting = "t"
    ... all = [{column = "a", op = ">=", value = 0.5},
    ...        {any = [{column = "b", op = "<", value = 1}, {column = "c", op = "==", value = 2}]}]
    ... '''
    >>> [r.regel_tekst for r in parse_rules(text, config=default_config())]
    ['a >= 0.5 en (b < 1 of c == 2)']
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{naam}: not valid TOML ({exc})") from None
    unknown_top = set(data) - {"versie", "instrument"}
    if unknown_top:
        raise ConfigError(f"{naam}: unknown top-level key(s) {sorted(unknown_top)}")
    items = data.get("instrument")
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{naam}: no [[instrument]] entries")
    out: list[Instrument] = []
    for i, item in enumerate(items):
        where = f"{naam}: instrument[{i}]"
        unknown = set(item) - _INSTRUMENT_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
        for key in ("code", "naam", "omschrijving", "bron", "url"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError(f"{where}: needs text '{key}'")
        where = f"{naam}: instrument {item['code']!r}"
        groups = [k for k in ("all", "any") if k in item]
        if len(groups) != 1:
            raise ConfigError(f"{where}: needs exactly one of 'all' or 'any'")
        regel = _parse_group(groups[0], item[groups[0]], where, config)
        prio = item.get("prioriteit", 2)
        if isinstance(prio, bool) or prio not in _PRIORITEITEN:
            raise ConfigError(f"{where}: prioriteit must be one of {_PRIORITEITEN}, got {prio!r}")
        out.append(Instrument(item["code"], item["naam"], item["omschrijving"], item["bron"],
                              item["url"], str(item.get("toelichting", "")), regel, int(prio)))
    codes = [r.code for r in out]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise ConfigError(f"{naam}: duplicate instrument code(s) {dup}")
    return out


def read_rules(config: Mapping[str, Any]) -> tuple[list[Instrument], dict[str, str]]:
    """Read the rules in effect; also return ``{"bestand", "sha256", "versie"}``."""
    text, naam = read_rules_text(config)
    regels = parse_rules(text, config=config, naam=naam)
    versie = str(tomllib.loads(text).get("versie", ""))
    meta = {"bestand": naam, "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "versie": versie}
    return regels, meta


def _evaluate(node: Voorwaarde | Groep, frame: pd.DataFrame) -> pd.Series:
    """Three-valued result (pandas ``boolean`` with NA) per row."""
    if isinstance(node, Groep):
        parts = [_evaluate(m, frame) for m in node.leden]
        return reduce(operator.and_ if node.soort == "all" else operator.or_, parts)
    col = frame[node.kolom]
    isna = col.isna().to_numpy()
    if node.op in _SET_OPS:
        res = col.isin(node.waarde).to_numpy()
        if node.op == "not in":
            res = ~res
    elif isinstance(node.waarde, str):
        res = _OPS[node.op](col.astype("string"), node.waarde).fillna(False).to_numpy(bool)
    else:
        num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        isna = isna | np.isnan(num)
        with np.errstate(invalid="ignore"):
            res = _OPS[node.op](num, float(node.waarde))
    out = pd.array(np.asarray(res, dtype=bool), dtype="boolean")
    out[isna] = pd.NA
    return pd.Series(out, index=frame.index)


def evaluate_rule(regel: Groep, frame: pd.DataFrame) -> pd.Series:
    """Evaluate a rule per row: ``True``, ``False`` or ``<NA>`` (unknown).

    Examples
    --------
    >>> g = Groep("all", (Voorwaarde("a", ">=", 0.5), Voorwaarde("b", "<", 1.0)))
    >>> evaluate_rule(g, pd.DataFrame({"a": [0.6, 0.6, 0.1], "b": [0.0, np.nan, np.nan]})).tolist()
    [True, <NA>, False]
    """
    missing = [c for c in regel.kolommen() if c not in frame.columns]
    if missing:
        raise ConfigError(f"instrument rule refers to unknown column(s) {missing}")
    return _evaluate(regel, frame)


def _margin(node: Voorwaarde | Groep, frame: pd.DataFrame) -> np.ndarray:
    if isinstance(node, Groep):
        parts = [_margin(m, frame) for m in node.leden]
        if node.soort == "all":
            return reduce(np.minimum, parts)
        with np.errstate(invalid="ignore"):
            return reduce(np.fmax, parts)  # NaN of an unknown member is ignored
    col = frame[node.kolom]
    if node.op in _SET_OPS or isinstance(node.waarde, str) or node.op in ("==", "!="):
        res = _evaluate(node, frame)
        out = np.where(res.fillna(False).to_numpy(bool), 1.0, -1.0)
        out[res.isna().to_numpy()] = np.nan
        return out
    x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    t = float(node.waarde)
    scale = abs(t) if t != 0 else 1.0
    return (x - t) / scale if node.op in (">", ">=") else (t - x) / scale


def rule_margin(regel: Groep, frame: pd.DataFrame) -> pd.Series:
    """The *marge* of a rule per row: how comfortably the row passes its conditions.

    A numeric condition's margin is the distance to its threshold relative to the threshold,
    ``(x − t)/|t|`` for ``>``/``>=`` and ``(t − x)/|t|`` for ``<``/``<=`` (``|t|`` = 1 when
    ``t`` is 0); a condition on text or a set counts 1 when it holds and −1 when not. ``all``
    takes the smallest margin of its members (the weakest condition decides), ``any`` the
    largest. The result is clipped to [0, 1] where the rule holds and NaN where it does not
    hold or is unknown.

    Examples
    --------
    >>> g = Groep("all", (Voorwaarde("a", ">=", 0.5), Voorwaarde("b", "<=", 100.0)))
    >>> rule_margin(g, pd.DataFrame({"a": [0.6, 0.6, 2.0, 0.1], "b": [90.0, 0.0, 0.0, 0.0]})
    ...             ).round(3).tolist()
    [0.1, 0.2, 1.0, nan]
    """
    hit = evaluate_rule(regel, frame).fillna(False).to_numpy(bool)
    m = np.clip(_margin(regel, frame), 0.0, 1.0)
    return pd.Series(np.where(hit, m, np.nan), index=frame.index, name="marge")


def prepare_frame(buurten: pd.DataFrame, regels: list[Instrument]) -> tuple[pd.DataFrame,
                                                                             list[str]]:
    """Add the derived columns and the contract columns a build lacks (as missing values).

    Returns the frame and the names of the columns that were absent (their rules give
    ``onbekend``). A rule on any other absent column is an error.

    Raises
    ------
    ConfigError
        A rule refers to a column that is neither in ``buurten``, nor derived, nor in
        :data:`CONTRACT_KOLOMMEN` or :data:`SCHEMA_KOLOMMEN`.
    """
    frame = buurten.copy()
    for naam, (teller, noemer) in AFGELEIDE_KOLOMMEN.items():
        if naam not in frame.columns and teller in frame.columns and noemer in frame.columns:
            den = pd.to_numeric(frame[noemer], errors="coerce").astype(float)
            frame[naam] = pd.to_numeric(frame[teller], errors="coerce").astype(float) \
                / den.where(den > 0)
    afwezig: list[str] = []
    for r in regels:
        for c in r.regel.kolommen():
            if c in frame.columns or c in afwezig:
                continue
            if c in CONTRACT_KOLOMMEN or c in SCHEMA_KOLOMMEN or c in AFGELEIDE_KOLOMMEN:
                afwezig.append(c)
            else:
                raise ConfigError(f"instrument {r.code!r}: rule refers to unknown column(s) "
                                  f"{[c]}")
    for c in afwezig:
        frame[c] = np.nan
    if afwezig:
        logger.warning("instrument rules: column(s) %s not in the buurten; rules using them "
                       "give 'onbekend'", ", ".join(afwezig))
    return frame, afwezig


def _value_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "onbekend"
    if isinstance(value, float | np.floating):
        v = float(value)
        return str(round(v)) if abs(v) >= 1000 else f"{v:.3g}"
    return str(value)


def select_instruments(
    buurten: pd.DataFrame,
    *,
    config: Mapping[str, Any],
    regels: list[Instrument] | None = None,
) -> pd.DataFrame:
    """Select the instruments that fit each buurt and rank them into a short list.

    Parameters
    ----------
    buurten
        Analysed buurten (scores and drivers as columns).
    config
        Effective configuration (``[instrumenten]`` and ``[beleid]``).
    regels
        Parsed rules (default: read from the configuration).

    Returns
    -------
    pandas.DataFrame
        One row per buurt × instrument that fits (``status = "past"``) or may fit but lacks
        data (``status = "onbekend"``): ``buurtcode``, ``buurtnaam``, ``gemeentecode``,
        ``gemeentenaam``, ``instrument``, ``naam``, ``status``, ``prioriteit``, ``marge``
        (:func:`rule_margin`; NaN when unknown), ``rang`` (1, 2, ... among the instruments that
        fit the buurt: by ``prioriteit``, then ``marge`` descending, then the order of the
        rules file; NA when unknown), ``kortlijst`` (``rang <= [instrumenten] kortlijst_n``),
        ``regel`` (the rule text), ``onderbouwing`` (the buurt's values of the columns in the
        rule), ``ontbrekend`` (columns without a value), ``toelichting``, ``bron``, ``url``.
        Rows are sorted by buurt, then the order of the rules file.

    Raises
    ------
    ConfigError
        A rule refers to a column the buurten do not have (other than the columns of
        :data:`CONTRACT_KOLOMMEN` and :data:`SCHEMA_KOLOMMEN`, which give ``onbekend``).
    """
    if regels is None:
        regels, _ = read_rules(config)
    top_n = kortlijst_n(config)
    frame, _ = prepare_frame(buurten.sort_values("buurtcode", kind="mergesort"), regels)
    ids = [c for c in ("buurtcode", "buurtnaam", "gemeentecode", "gemeentenaam")
           if c in frame.columns]
    rows = []
    for r in regels:
        res = evaluate_rule(r.regel, frame)
        hit = res.fillna(False).to_numpy(bool)
        unknown = res.isna().to_numpy()
        sel = hit | unknown
        if not sel.any():
            continue
        cols = r.regel.kolommen()
        sub = frame.loc[sel, ids].copy()
        vals = frame.loc[sel, cols]
        sub["instrument"] = r.code
        sub["naam"] = r.naam
        sub["status"] = np.where(hit[sel], "past", "onbekend")
        sub["prioriteit"] = r.prioriteit
        sub["marge"] = rule_margin(r.regel, frame).to_numpy()[sel]
        sub["regel"] = r.regel_tekst
        sub["onderbouwing"] = [
            ", ".join(f"{c}={_value_text(v)}" for c, v in zip(cols, row, strict=True))
            for row in vals.itertuples(index=False)
        ]
        sub["ontbrekend"] = [
            ",".join(c for c, v in zip(cols, row, strict=True) if pd.isna(v))
            for row in vals.itertuples(index=False)
        ]
        sub["toelichting"] = r.toelichting
        sub["bron"] = r.bron
        sub["url"] = r.url
        rows.append(sub)
    columns = [*ids, "instrument", "naam", "status", "prioriteit", "marge", "rang", "kortlijst",
               "regel", "onderbouwing", "ontbrekend", "toelichting", "bron", "url"]
    if not rows:
        return pd.DataFrame(columns=columns)
    order = {r.code: i for i, r in enumerate(regels)}
    out = pd.concat(rows, ignore_index=True)
    out["_o"] = out["instrument"].map(order)
    fit = out[out["status"] == "past"].sort_values(
        ["buurtcode", "prioriteit", "marge", "_o"], ascending=[True, True, False, True],
        kind="mergesort")
    out["rang"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out.loc[fit.index, "rang"] = fit.groupby("buurtcode", sort=False).cumcount().to_numpy() + 1
    out["kortlijst"] = (out["rang"] <= top_n).fillna(False).astype(bool)
    out = out.sort_values(["buurtcode", "_o"], kind="mergesort").drop(columns="_o")
    return out[columns].reset_index(drop=True)


def kortlijst_n(config: Mapping[str, Any]) -> int:
    """Length of the short list, ``[instrumenten] kortlijst_n`` (default 3)."""
    n = config.get("instrumenten", {}).get("kortlijst_n", 3)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"instrumenten.kortlijst_n must be a whole number >= 1, got {n!r}")
    return n


def short_list(instrumenten: pd.DataFrame) -> pd.Series:
    """Per buurt the short list as comma-joined codes in rank order (index ``buurtcode``).

    Examples
    --------
    >>> t = pd.DataFrame({"buurtcode": ["B1", "B1", "B1", "B2"], "instrument": ["x", "y", "z", "x"],
    ...                   "rang": pd.array([2, 1, pd.NA, 1], dtype="Int64"),
    ...                   "kortlijst": [True, True, False, True]})
    >>> short_list(t).to_dict()
    {'B1': 'y,x', 'B2': 'x'}
    """
    k = instrumenten[instrumenten["kortlijst"].astype(bool)]
    k = k.sort_values(["buurtcode", "rang"], kind="mergesort")
    return k.groupby("buurtcode", sort=True)["instrument"].agg(",".join).rename(
        "instrumenten_kortlijst")


def count_fitting(instrumenten: pd.DataFrame, buurtcodes: Iterable[str]) -> pd.Series:
    """Number of instruments that fit (``status == "past"``) per buurt, 0 included."""
    codes = pd.Index([str(c) for c in buurtcodes], name="buurtcode")
    past = instrumenten[instrumenten["status"] == "past"]
    return past.groupby(past["buurtcode"].astype(str)).size().reindex(codes, fill_value=0) \
        .astype(int).rename("n_passend")


def candidate_counts(instrumenten: pd.DataFrame, kandidaten: pd.DataFrame) -> pd.Series:
    """Number of fitting instruments per proeftuin candidate.

    A candidate of one buurt counts that buurt's instruments; a candidate of several buurten
    (``buurtcodes``, comma-joined) counts the instruments that fit in at least half of them.
    """
    past = instrumenten[instrumenten["status"] == "past"]
    per = past.groupby(past["buurtcode"].astype(str))["instrument"].agg(set).to_dict()
    out = []
    for codes_txt in kandidaten["buurtcodes"].astype(str):
        codes = [c for c in codes_txt.split(",") if c]
        counts: dict[str, int] = {}
        for c in codes:
            for inst in per.get(c, set()):
                counts[inst] = counts.get(inst, 0) + 1
        out.append(sum(1 for v in counts.values() if 2 * v >= len(codes)))
    return pd.Series(out, index=kandidaten.index, name="n_passend", dtype=int)


def summarize(
    instrumenten: pd.DataFrame,
    *,
    buurtcodes: Iterable[str],
    kandidaten: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Facts for the analysis summary (manifest), under ``summary["instrumenten"]``.

    Keys: ``kortlijst_n``, ``mediaan_passend_per_buurt`` (median number of fitting
    instruments over all buurten, 0 included), ``mediaan_passend_per_kandidaat`` (the same over
    the proeftuin candidates, :func:`candidate_counts`; None without candidates),
    ``max_passend_per_kandidaat``, ``n_blijverslening_en_opkoop`` (buurten where both
    ``svn_blijverslening`` and ``corporatie_aankoop_herstructurering`` fit) and
    ``n_kortlijst`` (rows on a short list).
    """
    n = count_fitting(instrumenten, buurtcodes)
    out: dict[str, Any] = {
        "kortlijst_n": kortlijst_n(config or {}),
        "mediaan_passend_per_buurt": float(n.median()) if len(n) else None,
        "mediaan_passend_per_kandidaat": None,
        "max_passend_per_kandidaat": None,
    }
    if kandidaten is not None and len(kandidaten):
        kc = candidate_counts(instrumenten, kandidaten)
        out["mediaan_passend_per_kandidaat"] = float(kc.median())
        out["max_passend_per_kandidaat"] = int(kc.max())
    past = instrumenten[instrumenten["status"] == "past"]
    sets = past.groupby("buurtcode")["instrument"].agg(set)
    both = {"svn_blijverslening", "corporatie_aankoop_herstructurering"}
    out["n_blijverslening_en_opkoop"] = int(sum(both <= s for s in sets))
    out["n_kortlijst"] = int(instrumenten["kortlijst"].astype(bool).sum()) \
        if "kortlijst" in instrumenten.columns else 0
    return out
