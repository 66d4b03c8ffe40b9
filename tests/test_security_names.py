"""Issue 17: Ctrl-C stops ``report`` cleanly; control characters in names from the data.

* SIGINT/SIGTERM to a running ``woonvoorraad report``: no report starts after the signal, the
  running workers and their kernels are stopped within seconds, ``run.json`` gets a final
  state and the command exits with 130 (SIGINT) or 143 (SIGTERM).
* A gemeentenaam or buurtnaam with CR, LF or terminal escape sequences: every CSV of the build
  reads back with the rows that were written, the report of that gemeente renders, and nothing
  the tool prints or logs carries a raw ESC (or other control) byte to the terminal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from test_reports import quick_template, write_tiny_build
from woonvoorraad._log import configure_logging

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

EVIL_GEMEENTE = "Leidschendam\r-Voorburg\x1b[31m"
EVIL_BUURT = "Oranje\nbuurt\x1b]0;title\x07"


def _alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line contains ``text`` (the report workers of one run)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def several_gemeenten(out: Path, n: int = 6) -> Path:
    """The tiny build of test_reports with gemeenten GM0004.. added (copies of GM0001)."""
    write_tiny_build(out)
    b = gpd.read_parquet(out / "buurten.parquet")
    d = pd.read_parquet(out / "dwellings.parquet")
    bs, ds = [b], [d]
    for k in range(4, n + 1):
        code, num = f"GM{k:04d}", f"{k:04d}"
        nb = b[b["gemeentecode"] == "GM0001"].copy()
        nb["gemeentecode"], nb["gemeentenaam"] = code, f"Gemeente {k}"
        nb["buurtcode"] = nb["buurtcode"].str.replace("BU0001", f"BU{num}")
        nb["wijkcode"] = f"WK{num}00"
        nb["buurtnaam"] = [f"Buurt {k}-{i}" for i in range(len(nb))]
        nd = d[d["gemeentecode"] == "GM0001"].copy()
        nd["gemeentecode"] = code
        nd["buurtcode"] = nd["buurtcode"].str.replace("BU0001", f"BU{num}")
        bs.append(nb)
        ds.append(nd)
    gpd.GeoDataFrame(pd.concat(bs, ignore_index=True), crs=b.crs).to_parquet(
        out / "buurten.parquet", index=False)
    pd.concat(ds, ignore_index=True).to_parquet(out / "dwellings.parquet", index=False)
    return out


# ---------------------------------------------------------------------------------------------
# Defect 4: SIGINT / SIGTERM stop the report run
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_report_run(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    build = several_gemeenten(tmp_path / "build")
    markers = tmp_path / "gestart"
    markers.mkdir()
    tpl = quick_template(tmp_path / "traag.ipynb", f"""
import os, pathlib, time
pathlib.Path({str(markers)!r}, gemeente_code).write_text(str(os.getpid()))
time.sleep(300)
""")
    out = tmp_path / "rapporten"
    env = {**os.environ, "WOONVOORRAAD_PROGRESS": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "woonvoorraad", "report", "--data", str(build), "--all",
         "--out", str(out), "--template", str(tpl), "--workers", "2", "--timeout", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
        start_new_session=True)  # its own process group, as a shell job has
    kernels: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while not any(markers.iterdir()):  # the first report's notebook is running
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no report started"
            time.sleep(0.1)
        signalled = dt.datetime.now(dt.UTC)
        os.killpg(proc.pid, sig)  # what Ctrl-C (or kill of the job) does
        t0 = time.monotonic()
        try:
            _stdout, stderr = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"report still running 15 s after {sig.name}")
        took = time.monotonic() - t0
        assert proc.returncode == code, (proc.returncode, stderr.decode(errors="replace"))
        assert took < 8, f"{took:.1f} s to stop"  # SIGTERM, and SIGKILL 3 s later
        kernels = [int(p.read_text()) for p in markers.iterdir()]
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        assert run["status"] == "interrupted" and run["interrupted_by"] == sig.name
        states = {r["gemeentecode"]: r for r in run["reports"]}
        assert len(states) == 6
        assert not [c for c, r in states.items() if r["status"] in ("running", "pending")]
        started = {c for c, r in states.items() if r["started"]}
        # at most the two workers that ran when the signal came; the others never started
        assert 1 <= len(started) <= 2
        for c, r in states.items():
            if c in started:
                assert r["status"] == "interrupted", r
                assert dt.datetime.fromisoformat(r["started"]) <= signalled, r
                assert r["finished"] and r["html"] is None
            else:
                assert r["status"] == "cancelled" and r["attempts"] == 0, r
                assert r["log"] is None
        assert {p.name for p in markers.iterdir()} <= started
        assert run["n_interrupted"] == len(started) and run["n_cancelled"] == 6 - len(started)
        # no worker and no kernel outlives the command
        assert not _pids_mentioning(str(out)), "report worker still running"
        assert kernels and not [pid for pid in kernels if _alive(pid)], "kernel still running"
        assert not list(out.glob(".*.part*")) and not list((out / "logs").glob("*.job*.json"))
        assert not (out / ".woonvoorraad-report.lock").exists() or _lock_free(out)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        _kill(_pids_mentioning(str(out)))
        _kill([int(p.read_text()) for p in markers.iterdir() if p.read_text().isdigit()])


def _lock_free(folder: Path) -> bool:
    from woonvoorraad._io import FolderLock
    from woonvoorraad.report.render import REPORT_LOCK_NAME

    lock = FolderLock(folder, name=REPORT_LOCK_NAME, what="test")
    lock.acquire()
    lock.release()
    return True


# ---------------------------------------------------------------------------------------------
# Defect 5: control characters in names
# ---------------------------------------------------------------------------------------------


def test_printable_escapes_control_characters() -> None:
    from woonvoorraad._text import printable

    assert printable(EVIL_GEMEENTE) == "Leidschendam\\r-Voorburg\\x1b[31m"
    assert printable("a\x9bb\x7f\tc") == "a\\x9bb\\x7f\\tc"
    assert printable("'s-Hertogenbosch Súdwest-Fryslân €") == "'s-Hertogenbosch Súdwest-Fryslân €"
    assert printable("twee\nregels", keep_newlines=True) == "twee\nregels"
    assert printable(None) == "None" and printable(12) == "12"


def test_log_lines_carry_no_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(0)
    log = logging.getLogger("woonvoorraad.test")
    log.warning("gemeente %s (%r)", EVIL_GEMEENTE, EVIL_BUURT)
    try:
        raise ValueError(f"kapot: {EVIL_BUURT}")
    except ValueError:
        log.exception("buurt %s", EVIL_BUURT)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err and "\x07" not in err
    assert "Leidschendam\\r-Voorburg\\x1b[31m" in err and "Oranje\\nbuurt" in err
    assert "Traceback" in err  # a traceback keeps its lines
    # one record is one line, plus the lines of its traceback
    lines = err.splitlines()
    assert sum(line.startswith(("0", "1", "2")) and " woonvoorraad.test: " in line
               for line in lines) == 2
    from woonvoorraad._log import SafeFormatter

    handlers = [h for h in logging.getLogger("woonvoorraad").handlers
                if getattr(h, "_woonvoorraad", False)]
    assert handlers and all(isinstance(h.formatter, SafeFormatter) for h in handlers)


def _evil_demo(root: Path) -> dict[str, Path]:
    """The demo inputs at scale 0.1 with a gemeente and a buurt renamed to hostile names."""
    import pyogrio

    from woonvoorraad.demo import region as datasets

    paths = datasets.make_demo(root / "raw", scale=0.1)
    for key in ("buurten", "cbs_2022", "cbs_2021"):
        src = paths[key]
        tmp = src.with_name(src.stem + ".nieuw.gpkg")
        for layer in pyogrio.list_layers(src)[:, 0]:
            g = gpd.read_file(src, layer=layer)
            if "gemeentenaam" in g.columns:
                g["gemeentenaam"] = g["gemeentenaam"].replace("Veldermond", EVIL_GEMEENTE)
            if "buurtnaam" in g.columns:
                g["buurtnaam"] = g["buurtnaam"].replace("Oranjebuurt", EVIL_BUURT)
            g.to_file(tmp, layer=layer, driver="GPKG")
        os.replace(tmp, src)
    return paths


@pytest.mark.slow
def test_control_characters_in_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from woonvoorraad.pipeline import build
    from woonvoorraad.report.run import ANALYSE_TABELLEN, load_run

    paths = _evil_demo(tmp_path)
    out = tmp_path / "build"
    configure_logging(0)
    result = build(bag_path=paths["bag"], buurten_path=paths["buurten"], out=out,
                   cbs_paths=[paths["cbs_2021"], paths["cbs_2022"]],
                   labels_path=paths["labels"], synthetic=True)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    # every CSV of the build reads back as written
    assert result.analysis is not None
    for name, table in result.analysis.tables().items():
        if not name.endswith(".csv"):
            continue
        back = pd.read_csv(out / name, keep_default_na=False, na_values=[""])
        assert len(back) == len(table), name
        assert list(back.columns) == [c for c in table.columns if c != "geometry"], name
        for col in ("gemeentenaam", "buurtnaam"):
            if col in table.columns:
                assert back[col].fillna("").astype(str).tolist() == \
                    table[col].fillna("").astype(str).tolist(), (name, col)
    run = load_run(out)
    codes = set(run.gemeenten()["gemeentecode"])
    for key in ANALYSE_TABELLEN:  # as the reports read them: no rows split by a CR
        tab = run.read_table(key)
        if tab is not None and "gemeentecode" in tab.columns:
            assert tab["gemeentecode"].isin(codes).all(), key
    kand = run.read_table("proeftuinen")
    assert kand is not None and EVIL_GEMEENTE in set(kand["gemeentenaam"])
    code = run.gemeenten().set_index("gemeentenaam").loc[EVIL_GEMEENTE, "gemeentecode"]

    # the report of that gemeente renders, and the terminal sees no control characters
    reports = tmp_path / "rapporten"
    done = subprocess.run(
        [sys.executable, "-m", "woonvoorraad", "report", "--data", str(out), "--gemeente",
         code, "--out", str(reports), "--timeout", "300", "--retries", "0"],
        capture_output=True, stdin=subprocess.DEVNULL, timeout=600, check=False,
        env={**os.environ, "WOONVOORRAAD_PROGRESS": "0"})
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed.decode(errors="replace")
    for byte in (b"\x1b", b"\x07", b"\r"):
        assert byte not in printed, (byte, printed.decode(errors="replace"))
    assert b"Leidschendam\\r-Voorburg\\x1b[31m" in done.stdout
    meta = json.loads((reports / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "ok" and meta["reports"][0]["gemeentenaam"] == EVIL_GEMEENTE
    page = (reports / meta["reports"][0]["html"]).read_text(encoding="utf-8")
    assert "5. Proeftuinkandidaten" in page and "Leidschendam" in page
