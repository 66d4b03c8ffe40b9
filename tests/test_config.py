"""Run configuration: defaults, user file, overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from woonvoorraad.config import config_digest, default_config, load_config
from woonvoorraad.errors import ConfigError


def test_defaults_have_sources_and_bounds() -> None:
    cfg = default_config()
    assert cfg["periods"]["naoorlogs_start"] == 1945
    assert cfg["periods"]["naoorlogs_end"] == 1974
    assert "Verblijfsobject in gebruik" in cfg["dwellings"]["statuses"]


def test_user_file_and_overrides(tmp_path: Path) -> None:
    p = tmp_path / "my.toml"
    p.write_text("[periods]\nnaoorlogs_end = 1970\n[doelgroep]\nwoz_grens = 300000\n")
    cfg = load_config(p, overrides=["doelgroep.woz_variatiecoefficient=0.25"])
    assert cfg["periods"]["naoorlogs_end"] == 1970
    assert cfg["doelgroep"]["woz_grens"] == 300000
    assert cfg["doelgroep"]["woz_variatiecoefficient"] == 0.25
    assert config_digest(cfg) != config_digest(default_config())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("periods.naoorlogs_einde=1970", "unknown configuration key 'periods.naoorlogs_einde'"),
        ("periods.naoorlogs_end=zeventig", "'periods.naoorlogs_end' must be of type int"),
        ("periods=1", "'periods' must be a table"),
        ("periods.naoorlogs_end=1900", "naoorlogs_start < naoorlogs_split <= naoorlogs_end"),
        ("no_equals_sign", "must look like section.key=value"),
    ],
)
def test_bad_overrides(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_bad_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[periods\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
