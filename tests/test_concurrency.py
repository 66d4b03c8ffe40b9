"""Concurrent runs on the same folder: never a corrupt output, a clear message when refused.

* A build whose output folder is being published by another process stops with exit code 2
  and says which process holds the folder; nothing of it is written.
* Two builds started together into one folder: each ends with exit 0, or exit 2 and the lock
  message; the folder always ends with one complete, manifest-described set.
* A report run refuses a report folder another report run is writing into.
* Two processes (or threads) downloading the same file fetch it once; concurrent requests of
  the same response leave one verified cache entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from _testserver import ReplayServer, fast_io, no_internet, replay_settings
from test_crash_safety import ENV, check_folder, debris, visible
from woonvoorraad import _io, layout
from woonvoorraad._io import FolderLock, OutputTransaction, check_not_locked
from woonvoorraad.cli import main
from woonvoorraad.errors import OutputLockedError
from woonvoorraad.report.render import REPORT_LOCK_NAME
from woonvoorraad.sources import _cache, _http

HTTP_DATA = Path(__file__).parent / "data" / "http"
ZIP = "/blob/ep-online/v20250101_v4_csv.zip"
PROPS = "/ODataApi/odata/85984NED/DataProperties"



@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from woonvoorraad.demo.region import make_demo

    return make_demo(tmp_path_factory.mktemp("raw") / "demo", scale=0.05)


def _build_args(inputs: dict[str, Path], out: Path, *, analyse: bool = False) -> list[str]:
    args = ["build", "--bag", str(inputs["bag"]), "--buurten", str(inputs["buurten"]),
            "--labels", str(inputs["labels"]), "--out", str(out), "-q"]
    return args if analyse else [*args, "--no-analyse"]


# --------------------------------------------------------------------------------------------
# builds


def test_folder_lock_names_the_holder(tmp_path: Path) -> None:
    with FolderLock(tmp_path, what="woonvoorraad run"):
        with pytest.raises(OutputLockedError, match=rf"\(pid {os.getpid()}\)"):
            FolderLock(tmp_path).acquire()
        with pytest.raises(OutputLockedError, match="another woonvoorraad run"):
            check_not_locked(tmp_path)
    check_not_locked(tmp_path)  # released: fine now
    with FolderLock(tmp_path), pytest.raises(OutputLockedError):
        OutputTransaction(tmp_path).__enter__()


def test_lock_of_a_killed_process_is_free(tmp_path: Path) -> None:
    code = ("import os, signal, sys; from woonvoorraad._io import FolderLock; "
            "FolderLock(sys.argv[1]).acquire(); os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=ENV, check=False)
    assert done.returncode == -9
    assert (tmp_path / ".woonvoorraad.lock").exists()  # the file stays, the lock does not
    with FolderLock(tmp_path):
        pass


def test_lock_wait_lets_a_short_publish_finish(tmp_path: Path) -> None:
    holder = FolderLock(tmp_path).acquire()
    threading.Timer(0.3, holder.release).start()
    with OutputTransaction(tmp_path, lock_wait=10) as txn:
        txn.path("a.txt").write_text("a")
        txn.commit({"run": "waited"})
    assert json.loads((tmp_path / "manifest.json").read_text())["run"] == "waited"


def test_build_into_a_locked_folder_stops_with_a_clear_message(
        demo_inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(_build_args(demo_inputs, out)) == 0
    before = {n: (out / n).read_bytes() for n in visible(out)}
    with FolderLock(out, name=OutputTransaction.LOCK_NAME):
        assert main(_build_args(demo_inputs, out, analyse=True)) == 2
    err = capsys.readouterr().err
    assert "another woonvoorraad run is writing to this folder" in err
    assert f"pid {os.getpid()}" in err and "Traceback" not in err
    assert {n: (out / n).read_bytes() for n in visible(out)} == before  # untouched
    assert not debris(out)
    assert main(_build_args(demo_inputs, out, analyse=True)) == 0  # free again
    assert check_folder(out) == "manifest"


def test_two_builds_at_once_never_corrupt_the_folder(demo_inputs: dict[str, Path],
                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    outcomes = []
    for round_ in range(3):
        procs = [subprocess.Popen([sys.executable, "-m", "woonvoorraad",
                                   *_build_args(demo_inputs, out, analyse=analyse)],
                                  env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
                 for analyse in (round_ % 2 == 0, round_ % 2 == 1)]
        results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
        for p in procs:
            if p.stderr:
                p.stderr.close()
        for rc, err in results:
            assert rc in (0, 2), err
            if rc == 2:
                assert "another woonvoorraad run is writing to this folder" in err, err
            assert "Traceback" not in err
        assert any(rc == 0 for rc, _ in results)
        assert check_folder(out) == "manifest"
        assert not debris(out)
        outcomes.append([rc for rc, _ in results])
    manifest = json.loads((out / "manifest.json").read_text())
    assert {o["path"] for o in manifest["outputs"]} | {"manifest.json"} == visible(out)


# --------------------------------------------------------------------------------------------
# reports


def test_report_run_into_a_busy_report_folder_is_refused(
        demo_inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    processed = tmp_path / "processed"
    assert main(_build_args(demo_inputs, processed)) == 0
    folder = tmp_path / "reports"
    with FolderLock(folder, name=REPORT_LOCK_NAME, what="woonvoorraad report run"):
        rc = main(["report", "--all", "--data", str(processed), "--out", str(folder), "-q"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "another woonvoorraad report run is writing to this folder" in err
    assert not visible(folder)  # nothing was rendered or overwritten


@pytest.mark.slow
def test_two_report_runs_at_once(demo_inputs: dict[str, Path], tmp_path: Path) -> None:
    processed = tmp_path / "processed"
    assert main(_build_args(demo_inputs, processed, analyse=True)) == 0
    folder = tmp_path / "reports"
    import pandas as pd

    gemeenten = sorted(pd.read_parquet(processed / "buurten.parquet")["gemeentecode"].unique())[:2]
    procs = [subprocess.Popen([sys.executable, "-m", "woonvoorraad", "report", "--gemeente", g,
                               "--data", str(processed), "--out", str(folder), "--workers", "1",
                               "-q"], env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for g in gemeenten]
    results = [(p.wait(timeout=600), p.stdout.read() if p.stdout else "") for p in procs]
    for p in procs:
        if p.stdout:
            p.stdout.close()
    codes = sorted(rc for rc, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    for rc, text in results:
        if rc == 2:
            assert "another woonvoorraad report run" in text
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "ok"
    for st in run["reports"]:
        for key in ("html", "notebook", "kaart"):
            assert (folder / st[key]).is_file()
    assert not [p.name for p in folder.iterdir() if ".part" in p.name]


# --------------------------------------------------------------------------------------------
# downloads and the cache


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[ReplayServer]:
    with no_internet(), ReplayServer(HTTP_DATA) as server, fast_io(), \
            replay_settings(server, cache_dir=tmp_path / "cache", data_dir=tmp_path / "data"):
        yield server


def test_concurrent_downloads_of_one_file_fetch_it_once(srv: ReplayServer) -> None:
    srv.inject(ZIP, "sleep", seconds=0.5, times=None)  # so the downloads overlap
    url = f"{srv.base_url}{ZIP}?sv=1&sig=abc"

    def get(_: int) -> Path:
        try:
            return _http.download(url, source="ep-online", cache_id="ep-online/same.zip",
                                  suffix=".zip")
        finally:
            _http.close_session()

    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(get, range(4)))
    assert len(set(paths)) == 1
    assert srv.hits[ZIP] == 1
    report = _cache.verify_cache()
    assert len(report["ok"]) == 1 and not report["corrupt"] and not report["orphans"]
    assert not report["partials"]


def test_concurrent_requests_leave_one_verified_cache_entry(srv: ReplayServer) -> None:
    srv.inject(PROPS, "sleep", seconds=0.3, times=None)
    url = f"{srv.base_url}{PROPS}"

    def get(_: int) -> Any:
        try:
            return _http.get_json(url, params={"$format": "json"}, source="cbs-odata")
        finally:
            _http.close_session()

    with ThreadPoolExecutor(4) as pool:
        docs = list(pool.map(get, range(4)))
    assert all(d == docs[0] for d in docs)
    report = _cache.verify_cache()
    assert len(report["ok"]) == 1 and not report["corrupt"] and not report["orphans"]
    index = (layout.cache_dir() / _cache.INDEX_NAME).read_text()
    lines = [json.loads(line) for line in index.splitlines()]
    assert lines and all(rec["sha256"] == lines[0]["sha256"] for rec in lines)


def test_recover_takes_the_lock(tmp_path: Path) -> None:
    (tmp_path / ".staging-x").mkdir()
    with FolderLock(tmp_path, name=OutputTransaction.LOCK_NAME), \
            pytest.raises(OutputLockedError):
        _io.recover(tmp_path)
    assert (tmp_path / ".staging-x").exists()  # a running writer's staging is left alone
    assert _io.recover(tmp_path) == ["removed .staging-x"]


# --------------------------------------------------------------------------------------------
# report workers read only their own gemeente's polygons (memory under load)


def test_report_workers_read_only_their_gemeentes_polygons(demo_inputs: dict[str, Path],
                                                           tmp_path: Path) -> None:
    import inspect

    from woonvoorraad.report import sections
    from woonvoorraad.report.run import load_run

    processed = tmp_path / "processed"
    assert main(_build_args(demo_inputs, processed, analyse=True)) == 0
    full = load_run(processed)
    for code in full.buurten["gemeentecode"].unique():
        lean = load_run(processed, gemeente=code)
        mine = lean.buurten["gemeentecode"] == code
        assert lean.buurten.geometry[~mine].isna().all()
        assert lean.buurten.geometry[mine].geom_equals(full.buurten.geometry[mine]).all()
        assert lean.buurten.crs == full.buurten.crs
        assert lean.buurten.drop(columns="geometry").equals(
            full.buurten.drop(columns="geometry"))
        # every section but the map renders the same from the lean run
        for name in sorted(n for n in dir(sections) if n.startswith("section_")
                           and n != "section_kaart"):
            func = getattr(sections, name)
            args = (full, code) if "code" in inspect.signature(func).parameters else (full,)
            lean_args = (lean, *args[1:])
            assert str(func(*lean_args)) == str(func(*args)), name
    assert not load_run(processed, polygons=False).buurten.geometry.notna().any()


def test_report_worker_notices_a_build_published_during_the_run(demo_inputs: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    from woonvoorraad.errors import InputError
    from woonvoorraad.report.run import check_build_snapshot, take_build_snapshot

    processed = tmp_path / "processed"
    assert main(_build_args(demo_inputs, processed)) == 0
    snapshot = take_build_snapshot(processed)
    assert set(snapshot) == {"manifest.json", "buurten.parquet"}
    check_build_snapshot(processed, snapshot)  # unchanged: fine
    assert main(_build_args(demo_inputs, processed)) == 0  # another build publishes
    with pytest.raises(InputError, match="the build changed while its reports were being made"):
        check_build_snapshot(processed, snapshot)


def test_report_runner_works_from_a_script_without_a_main_guard(demo_inputs: dict[str, Path],
                                                               tmp_path: Path) -> None:
    """The runner's helper process must not re-import the caller's ``__main__`` (a script fed
    on stdin, a notebook): multiprocessing's spawn would, and fail or recurse."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    processed = tmp_path / "processed"
    assert main(_build_args(demo_inputs, processed)) == 0
    params = new_code_cell('gemeente_code = ""\ndata_dir = ""\nkaart_bestand = ""\n'
                           "offline = True")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell("x = 1")], metadata={"kernelspec": {
        "name": "woonvoorraad", "display_name": "woonvoorraad", "language": "python"}})
    template = tmp_path / "t.ipynb"
    nbformat.write(nb, str(template))
    script = (f"from woonvoorraad.report.render import render_reports\n"
              f"r = render_reports({str(processed)!r}, gemeenten='all', out_dir="
              f"{str(tmp_path / 'r')!r}, template={str(template)!r}, workers=2, retries=0)\n"
              f"print('OK', len(r.reports), r.ok)\n")
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                          env=ENV, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith("OK") and done.stdout.strip().endswith("True")
