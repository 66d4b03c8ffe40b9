"""Scenario settings: the packaged ``config/scenarios.toml``, a user file and overrides.

The packaged file documents every price, rate, subsidy and limit with its source and date. A
user file changes only the keys it names (a new ``[scenario.<name>]`` table adds a package);
``section.key=value`` overrides work as for the build configuration. Unknown keys outside
``[scenario]`` and values of the wrong type are errors naming the key.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from woonvoorraad.config import apply_settings
from woonvoorraad.errors import ConfigError

logger = logging.getLogger(__name__)

ScenarioConfig = dict[str, Any]

#: Package kinds and the financing each may use.
SOORTEN: dict[str, tuple[str, ...]] = {"label": ("warmtefonds",),
                                       "levensloop": ("blijverslening",)}
LABELS = ("A", "B", "C", "D", "E", "F", "G")
PACKAGED = "woonvoorraad/config/scenarios.toml"


def default_scenario_config() -> ScenarioConfig:
    """A fresh copy of the packaged scenario settings."""
    text = resources.files("woonvoorraad").joinpath("config/scenarios.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_scenario_config(path: str | Path | None = None, *,
                         overrides: Iterable[str] | Mapping[str, Any] = ()) -> ScenarioConfig:
    """Packaged scenario settings, updated by a user TOML file and overrides.

    Parameters
    ----------
    path
        Optional TOML file with only the keys to change (or new ``[scenario.<name>]`` tables).
    overrides
        ``"section.key=value"`` strings (value parsed as TOML) or a nested mapping.

    Returns
    -------
    dict
        The effective settings, validated.

    Examples
    --------
    >>> cfg = load_scenario_config(overrides=["prijzen.gasprijs=1.5"])
    >>> cfg["prijzen"]["gasprijs"]
    1.5
    """
    cfg = apply_settings(default_scenario_config(), path, overrides, what="scenario setting",
                         open_tables=frozenset({"scenario"}))
    validate_scenario_config(cfg)
    return cfg


def validate_scenario_config(cfg: ScenarioConfig) -> None:
    """Check values and package definitions; raise :class:`ConfigError` naming the key."""
    for sect, key in (("prijzen", "gasprijs"), ("prijzen", "warmte_gj_per_m3_gas"),
                      ("prijzen", "co2_kg_per_m3_gas"), ("warmtefonds", "max_lening"),
                      ("blijverslening", "max_lening"), ("inkomen", "sigma_standaard")):
        if not float(cfg[sect][key]) >= 0 or (key == "warmte_gj_per_m3_gas"
                                             and cfg[sect][key] <= 0):
            raise ConfigError(f"scenario setting {sect}.{key} must be positive, "
                              f"got {cfg[sect][key]!r}")
    for sect in ("warmtefonds", "blijverslening", "verzilverlening"):
        for key, value in cfg[sect].items():
            if key.startswith("rente") and not 0 <= float(value) < 1:
                raise ConfigError(f"scenario setting {sect}.{key} is a yearly rate as a "
                                  f"fraction (0.0435 = 4.35 %), got {value!r}")
    for key in ("aandeel_een_maatregel", "aandeel_meer_maatregelen"):
        if not 0 <= float(cfg["isde"][key]) <= 1:
            raise ConfigError(f"scenario setting isde.{key} must lie in [0, 1]")
    if not 0 <= float(cfg["gemeente"]["bijdrage_aandeel"]) <= 1:
        raise ConfigError("scenario setting gemeente.bijdrage_aandeel must lie in [0, 1]")
    scen = cfg.get("scenario", {})
    if not scen:
        raise ConfigError("the scenario settings define no [scenario.<name>] package")
    for name, s in scen.items():
        where = f"scenario.{name}"
        soort = s.get("soort")
        if soort not in SOORTEN:
            raise ConfigError(f"{where}.soort must be one of {sorted(SOORTEN)}, got {soort!r}")
        if s.get("financiering") not in SOORTEN[soort]:
            raise ConfigError(f"{where}.financiering must be one of {SOORTEN[soort]} for "
                              f"soort {soort!r}, got {s.get('financiering')!r}")
        if soort == "label":
            doel, van = s.get("doel"), list(s.get("van", []))
            if doel not in ("B", "C"):
                raise ConfigError(f"{where}.doel must be 'B' or 'C' (the PBL key figures have "
                                  f"steps to B and C only), got {doel!r}")
            bad = [x for x in van if x not in LABELS or LABELS.index(x) <= LABELS.index(doel)]
            if not van or bad:
                raise ConfigError(f"{where}.van must list labels below {doel}, got {van!r}")
        else:
            n = len(s.get("maatregelen", []))
            lens = {k: len(s.get(k, [])) for k in ("kosten_laag", "kosten_hoog", "woningtypen")}
            if n == 0 or any(v != n for v in lens.values()):
                raise ConfigError(f"{where}: maatregelen, kosten_laag, kosten_hoog and "
                                  f"woningtypen must be lists of the same length, got {n} "
                                  f"measures and {lens}")
            for lo, hi in zip(s["kosten_laag"], s["kosten_hoog"], strict=True):
                if not 0 <= lo <= hi:
                    raise ConfigError(f"{where}: need 0 <= kosten_laag <= kosten_hoog, got "
                                      f"{lo} and {hi}")


def scenario_names(cfg: ScenarioConfig, wanted: Iterable[str] | None = None) -> list[str]:
    """The packages to run: all, or ``wanted`` (unknown names are an error)."""
    names = list(cfg["scenario"])
    if not wanted:
        return names
    wanted = list(wanted)
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise ConfigError(f"unknown scenario(s) {unknown}; defined: {', '.join(names)}")
    return wanted
