"""Run configuration: one TOML file of thresholds, weights and period bounds.

The packaged ``config/defaults.toml`` documents every key and its source. A run can
override keys from a user TOML file and from ``section.key=value`` strings; unknown keys and
values of the wrong type are errors, and the effective configuration goes into the manifest.
"""

from __future__ import annotations

import copy
import json
import logging
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from woonvoorraad.errors import ConfigError

logger = logging.getLogger(__name__)

Config = dict[str, Any]


def default_config() -> Config:
    """Return a fresh copy of the packaged default configuration."""
    text = resources.files("woonvoorraad").joinpath("config/defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], update: Mapping[str, Any], where: str, source: str, *,
           what: str = "configuration key", open_tables: frozenset[str] = frozenset()) -> None:
    """Merge ``update`` into ``base``: known keys only, same types; a table named in
    ``open_tables`` (dotted) may gain new sub-tables (e.g. new scenario packages)."""
    for key, value in update.items():
        dotted = f"{where}.{key}" if where else key
        if key not in base:
            if where in open_tables and isinstance(value, Mapping):
                base[key] = copy.deepcopy(dict(value))
                continue
            raise ConfigError(f"{source}: unknown {what} {dotted!r}")
        current = base[key]
        if isinstance(current, dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: {dotted!r} must be a table, got {value!r}")
            _merge(current, value, dotted, source, what=what, open_tables=open_tables)
            continue
        base[key] = _coerce(current, value, dotted, source)


def _coerce(current: Any, value: Any, dotted: str, source: str) -> Any:
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(current, int | float) and isinstance(value, int | float) and not isinstance(
        value, bool
    ):
        return type(current)(value) if isinstance(current, float) else value
    elif (isinstance(current, str) and isinstance(value, str)) or (
        isinstance(current, list) and isinstance(value, list)
    ):
        return value
    raise ConfigError(
        f"{source}: {dotted!r} must be of type {type(current).__name__}, got {value!r}"
    )


def _parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like section.key=value")
    key, raw = text.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip().split("."), value


def load_config(
    path: str | Path | None = None, *, overrides: Iterable[str] | Mapping[str, Any] = ()
) -> Config:
    """Load the default configuration, then apply a user file and overrides.

    Parameters
    ----------
    path
        Optional TOML file with only the keys to change.
    overrides
        ``"section.key=value"`` strings (the value is parsed as TOML, e.g. ``0.5`` or
        ``[1945, 1974]``) or a nested mapping.

    Returns
    -------
    dict
        The effective configuration.

    Examples
    --------
    >>> cfg = load_config(overrides=["periods.naoorlogs_end=1970"])
    >>> cfg["periods"]["naoorlogs_end"]
    1970
    """
    cfg = apply_settings(default_config(), path, overrides)
    validate_config(cfg)
    return cfg


def apply_settings(cfg: dict[str, Any], path: str | Path | None = None,
                   overrides: Iterable[str] | Mapping[str, Any] = (), *,
                   what: str = "configuration", open_tables: frozenset[str] = frozenset()
                   ) -> dict[str, Any]:
    """Merge a TOML file and ``section.key=value`` overrides into ``cfg`` (in place).

    Shared by :func:`load_config` and the scenario settings
    (:func:`woonvoorraad.scenarios.config.load_scenario_config`): unknown keys and wrong
    types raise :class:`ConfigError` naming the file or override and the key.
    """
    key_word = "configuration key" if what == "configuration" else what
    if path is not None:
        p = Path(path)
        try:
            user = tomllib.loads(p.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: {what} file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML ({exc})") from None
        _merge(cfg, user, "", str(p), what=key_word, open_tables=open_tables)
    if isinstance(overrides, Mapping):
        _merge(cfg, overrides, "", "overrides", what=key_word, open_tables=open_tables)
    else:
        for text in overrides:
            keys, value = _parse_override(text)
            nested: dict[str, Any] = {}
            cur = nested
            for k in keys[:-1]:
                cur = cur.setdefault(k, {})
            cur[keys[-1]] = value
            _merge(cfg, nested, "", f"override {text!r}", what=key_word,
                   open_tables=open_tables)
    return cfg


def validate_config(cfg: Config) -> None:
    """Check cross-key consistency, raising :class:`ConfigError` naming the key."""
    p = cfg["periods"]
    if not p["naoorlogs_start"] < p["naoorlogs_split"] <= p["naoorlogs_end"]:
        raise ConfigError(
            "periods: need naoorlogs_start < naoorlogs_split <= naoorlogs_end, got "
            f"{p['naoorlogs_start']}, {p['naoorlogs_split']}, {p['naoorlogs_end']}"
        )
    d = cfg["doelgroep"]
    if d["woz_grens"] <= 0 or d["woz_variatiecoefficient"] <= 0:
        raise ConfigError("doelgroep: woz_grens and woz_variatiecoefficient must be positive")


def config_digest(cfg: Config) -> str:
    """Return a short stable hash of a configuration (for manifests and caches)."""
    import hashlib

    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]


def copy_config(cfg: Config) -> Config:
    """Deep copy of a configuration."""
    return copy.deepcopy(cfg)


def policy_value(config: Mapping[str, Any], naam: str, jaar: int | None = None) -> float:
    """Look up a policy threshold of ``[beleid]``, per year where it is a list.

    A list ``X`` has its years in ``<first word of X>_jaren``; ``jaar`` defaults to
    ``beleid.jaar``.

    Examples
    --------
    >>> from woonvoorraad.config import default_config
    >>> policy_value(default_config(), "daeb_eenpersoons", 2024)
    47699.0
    >>> policy_value(default_config(), "warmtefonds_nulrente_inkomensgrens")
    60000.0
    """
    beleid = config.get("beleid", {})
    if naam not in beleid:
        raise ConfigError(f"beleid.{naam}: unknown policy value")
    value = beleid[naam]
    if not isinstance(value, list):
        return float(value)
    jaren_key = naam.split("_", maxsplit=1)[0] + "_jaren"
    jaren = beleid.get(jaren_key)
    if not isinstance(jaren, list) or len(jaren) != len(value):
        raise ConfigError(f"beleid.{jaren_key} must be a list as long as beleid.{naam}")
    jaar = int(beleid["jaar"] if jaar is None else jaar)
    if jaar not in jaren:
        raise ConfigError(
            f"beleid.{naam}: no value for year {jaar} (years in beleid.{jaren_key}: {jaren})"
        )
    return float(value[jaren.index(jaar)])
