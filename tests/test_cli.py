"""The command line: help on every command, a build, errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from woonvoorraad.cli import build_parser, main


def test_help_on_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"demo", "build"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        assert "usage: woonvoorraad " + name in capsys.readouterr().out


def test_python_m_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "woonvoorraad", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("woonvoorraad ")


def test_build_command(tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["build", "--bag", str(tiny_bag_light), "--buurten", str(tiny_buurten),
                 "--out", str(out), "--set", "periods.naoorlogs_end=1966", "--no-analyse", "-q"])
    assert code == 0
    assert "2 buurten, 13 woningen, 9 naoorlogs" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["config"]["periods"]["naoorlogs_end"] == 1966
    assert manifest["parameters"]["overrides"] == ["periods.naoorlogs_end=1966"]


def test_bad_input_exit_code(tiny_buurten: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["build", "--bag", str(tmp_path / "missing.gpkg"), "--buurten", str(tiny_buurten),
                 "--out", str(tmp_path / "o"), "-q"])
    assert code == 2
    assert "missing.gpkg: file not found" in capsys.readouterr().err
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_bad_config_exit_code(tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["build", "--bag", str(tiny_bag_light), "--buurten", str(tiny_buurten),
                 "--out", str(tmp_path / "o"), "--set", "periods.bogus=1", "-q"])
    assert code == 2
    assert "unknown configuration key 'periods.bogus'" in capsys.readouterr().err


def test_demo_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`woonvoorraad demo`: generate, read through the real readers, build, analyse."""
    import pandas as pd

    data = tmp_path / "data"
    assert main(["demo", "--data-dir", str(data), "--scale", "0.05", "--no-reports", "-q"]) == 0
    assert "[SYNTHETISCHE DEMODATA]" in capsys.readouterr().out
    out = data / "processed" / "demo"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["synthetic"] is True
    assert "SYNTHETISCHE DEMODATA" in manifest["data_notice"]
    assert [i["role"] for i in manifest["inputs"]] == ["bag", "buurten", "labels", "cbs", "cbs"]
    assert manifest["inputs"][0]["layout"] == "bag-light"
    assert 0.3 < manifest["summary"]["label_dekking"] < 0.7
    buurten = pd.read_parquet(out / "buurten.parquet")
    assert buurten["trend_inwoners"].notna().any()
    assert buurten["gemeentecode"].str.startswith("GM99").all()  # fictional codes only
    candidates = pd.read_csv(out / "proeftuinen.csv")
    with_target = buurten.groupby("gemeentecode")["n_doelgroep"].sum()
    assert set(candidates["gemeentecode"]) == set(with_target[with_target > 0].index)
    assert candidates["reden"].str.len().gt(20).all()
    # a second run reuses the generated inputs
    assert main(["demo", "--data-dir", str(data), "--scale", "0.05", "--no-reports", "-q"]) == 0


@pytest.mark.parametrize("returns", [0, 2])
def test_a_ctrl_c_after_the_command_finished_keeps_its_exit_code(
        monkeypatch: pytest.MonkeyPatch, returns: int) -> None:
    """The SIGINT lands inside ``signal.signal`` after ``main`` returned: the exit code stays
    ``main``'s and SIGINT ends up ignored (CI saw exit -2 and a traceback from this race)."""
    import signal

    from woonvoorraad import cli

    calls: list[Any] = []
    real = signal.signal

    def flaky_signal(signum: int, handler: Any) -> Any:
        calls.append(handler)
        if len(calls) == 1:
            raise KeyboardInterrupt  # delivered before the new handler took effect
        return real(signum, signal.default_int_handler)  # leave the test process as it was

    monkeypatch.setattr(cli, "main", lambda: returns)
    monkeypatch.setattr(signal, "signal", flaky_signal)
    try:
        cli.run()
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:  # caught here: it would stop pytest itself
        pytest.fail("the Ctrl-C escaped run() as a KeyboardInterrupt")
    assert code == returns
    assert calls == [signal.SIG_IGN, signal.SIG_IGN]
