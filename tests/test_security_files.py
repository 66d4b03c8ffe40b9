"""Output files are safe against interrupts, symbolic links and operating-system errors (issue 17).

* An interrupt (Ctrl-C) that lands while a build publishes its outputs never leaves old and
  new files mixed: the publish is completed, at once or by the next run (its journal is kept),
  and the next build never exits 0 with stale files beside its manifest.
* Symbolic (and hard) links planted in an output folder never make a run truncate, overwrite
  or delete a file outside that folder: lock files are not followed, stale outputs and
  published outputs are not reached through a linked subfolder.
* An output folder that is a file, a dangling or looping link, read-only, or a disk that is
  full or over the file-size limit gives a clear message naming the path with exit code 2 and
  no traceback, before the work starts where that can be known; previous outputs stay intact.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from test_crash_safety import ENV, _sha, check_folder, debris, visible
from woonvoorraad import _io, pipeline
from woonvoorraad._io import FolderLock, OutputTransaction
from woonvoorraad.cli import main
from woonvoorraad.report import render
from woonvoorraad.report.render import REPORT_LOCK_NAME

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _build(bag: Path, buurten: Path, out: Path, *, analyse: bool = True) -> int:
    args = ["build", "--bag", str(bag), "--buurten", str(buurten), "--out", str(out), "-q"]
    return main(args if analyse else [*args, "--no-analyse"])


def _snapshot(folder: Path) -> dict[str, str]:
    return {name: _sha(folder / name) for name in visible(folder)}


def _no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the build's first real step fail loudly: the check must come before it."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the build started its work on an unusable output folder")

    monkeypatch.setattr(pipeline.cbs, "read_buurten", boom)


def _interrupt_replaces_into(monkeypatch: pytest.MonkeyPatch, out: Path, *, after: int,
                             once: bool) -> None:
    """Raise KeyboardInterrupt from ``os.replace`` into ``out`` after ``after`` of them.

    Only replaces whose destination is a visible output of ``out`` count (not staging or
    temporary files), so the interrupt lands in the middle of the publish.
    """
    real = os.replace
    state = {"n": 0, "fired": False}

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        d = Path(dst)
        if d.parent == out and not d.name.startswith("."):
            state["n"] += 1
            if state["n"] > after and not (once and state["fired"]):
                state["fired"] = True
                raise KeyboardInterrupt
        real(src, dst, *args, **kwargs)

    monkeypatch.setattr(_io.os, "replace", replace)


def _generation_state(out: Path) -> tuple[str, set[str]]:
    """('manifest' or 'no manifest', generations of the visible files)."""
    state = check_folder(out)
    gens = {(out / n).read_text(encoding="utf-8").split(":", 1)[0] for n in visible(out)
            if n != "manifest.json"}
    return state, gens


GEN1 = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"]
GEN2 = ["a.txt", "b.txt", "f.txt"]  # c, d, e become stale


def _publish(out: Path, gen: str, files: list[str]) -> None:
    with OutputTransaction(out) as txn:
        for name in files:
            txn.path(name).write_text(f"{gen}:{name}:" + "x" * 100, encoding="utf-8")
        txn.commit({"generation": gen})


# --------------------------------------------------------------------------------------------
# 2. an interrupt during the publish


def test_interrupt_inside_the_publish_is_completed(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _publish(out, "g1", GEN1)
    _interrupt_replaces_into(monkeypatch, out, after=1, once=True)
    with pytest.raises(KeyboardInterrupt):
        _publish(out, "g2", GEN2)
    monkeypatch.undo()
    state, gens = _generation_state(out)
    assert state == "manifest" and gens == {"g2"}  # completed, not undone
    assert visible(out) == {*GEN2, "manifest.json"}
    assert not debris(out)


def test_interrupt_inside_the_publish_keeps_the_journal_for_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _publish(out, "g1", GEN1)
    _interrupt_replaces_into(monkeypatch, out, after=1, once=False)  # the retry fails too
    with pytest.raises(KeyboardInterrupt):
        _publish(out, "g2", GEN2)
    monkeypatch.undo()
    assert list(out.glob(".staging-*/" + OutputTransaction.JOURNAL_NAME))  # not deleted
    assert not (out / "manifest.json").exists()  # no manifest claims the mixed files
    done = _io.recover(out)
    assert any(d.startswith("completed") for d in done), done
    state, gens = _generation_state(out)
    assert state == "manifest" and gens == {"g2"}
    assert visible(out) == {*GEN2, "manifest.json"}
    assert not debris(out)


def test_build_interrupted_while_publishing_leaves_no_stale_files_for_the_next_build(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=True) == 0
    # the label model's tables belong to every build, with or without the analysis
    analysis_files = visible(out) - {"dwellings.parquet", "buurten.parquet", "build.log",
                                     "manifest.json", "label_model.csv", "label_selectie.csv"}
    assert analysis_files
    with monkeypatch.context() as m:
        _interrupt_replaces_into(m, out, after=1, once=False)
        assert _build(tiny_bag_light, tiny_buurten, out, analyse=False) == 130
    assert check_folder(out) in ("manifest", "no manifest")
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=False) == 0
    assert check_folder(out) == "manifest"  # every visible file is listed, none stale
    assert not visible(out) & analysis_files
    assert not debris(out)


def test_build_after_a_lost_publish_removes_its_own_stale_outputs(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path) -> None:
    """The state the old defect left: old and new files, no manifest, no journal."""
    out = tmp_path / "out"
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=True) == 0
    (out / "manifest.json").unlink()
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=False) == 0
    assert check_folder(out) == "manifest"


def test_every_build_output_name_is_known_to_the_pipeline(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=True) == 0
    assert visible(out) - {"manifest.json"} <= set(pipeline.BUILD_OUTPUTS)


_SIGINT_PUBLISH = """
    import os, signal, sys
    from pathlib import Path
    from woonvoorraad import _io

    out, gen, files = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    real_replace = os.replace
    count = 0

    def replace(src, dst, *args, **kwargs):
        global count
        d = Path(dst)
        if gen == "g2" and d.parent == out and not d.name.startswith("."):
            count += 1
            if count == 2:
                os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, in the middle
        real_replace(src, dst, *args, **kwargs)

    os.replace = replace
    with _io.OutputTransaction(out) as txn:
        for name in files:
            txn.path(name).write_text(f"{gen}:{name}:" + "x" * 100, encoding="utf-8")
        txn.commit({"generation": gen})
    print("done")
"""


def test_real_sigint_during_the_publish_is_deferred_until_it_is_done(tmp_path: Path) -> None:
    out = tmp_path / "out"

    def run(gen: str, files: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(_SIGINT_PUBLISH), str(out),
                               gen, *files], capture_output=True, text=True, timeout=60,
                              env=ENV, check=False)

    assert run("g1", GEN1).returncode == 0
    done = run("g2", GEN2)
    assert done.returncode in (1, -signal.SIGINT), done.stderr  # it was interrupted
    assert "KeyboardInterrupt" in done.stderr or done.returncode == -signal.SIGINT
    assert "done" not in done.stdout
    state, gens = _generation_state(out)
    assert state == "manifest" and gens == {"g2"}  # the publish finished first
    assert visible(out) == {*GEN2, "manifest.json"}
    assert not debris(out)


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from woonvoorraad.demo.region import make_demo

    return make_demo(tmp_path_factory.mktemp("raw") / "demo", scale=0.05)


@pytest.mark.slow
def test_real_build_interrupted_during_its_publish_keeps_a_complete_set(
        demo_inputs: dict[str, Path], tmp_path: Path) -> None:
    """SIGINT 0-12 ms after the commit journal appears (the window of issue 17)."""
    import random
    import time

    out = tmp_path / "out"

    def cmd(analyse: bool) -> list[str]:
        c = [sys.executable, "-m", "woonvoorraad", "build", "--bag", str(demo_inputs["bag"]),
             "--buurten", str(demo_inputs["buurten"]), "--labels", str(demo_inputs["labels"]),
             "--out", str(out), "-q"]
        return c if analyse else [*c, "--no-analyse"]

    first = subprocess.run(cmd(True), env=ENV, capture_output=True, text=True, timeout=300,
                           check=False)
    assert first.returncode == 0, first.stderr
    rng = random.Random(17)
    interrupted = 0
    for attempt in range(8):
        proc = subprocess.Popen(cmd(attempt % 2 == 1), env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        while proc.poll() is None and not any(out.glob(".staging-*/.commit.json")):
            time.sleep(0.0005)
        time.sleep(rng.uniform(0.0, 0.012))
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 130), err
        assert "Traceback" not in err
        interrupted += proc.returncode == 130
        assert check_folder(out) == "manifest"  # never a mix, never without a manifest
        if interrupted >= 4:
            break
    final = subprocess.run(cmd(False), env=ENV, capture_output=True, text=True, timeout=300,
                           check=False)
    assert final.returncode == 0, final.stderr
    assert check_folder(out) == "manifest"
    assert not debris(out)
    print(f"\n{interrupted} builds interrupted during their publish")


# --------------------------------------------------------------------------------------------
# 3. symbolic links


def test_symlinked_build_lock_leaves_its_target_alone(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".woonvoorraad.lock").symlink_to(victim)
    assert _build(tiny_bag_light, tiny_buurten, out) == 2
    err = capsys.readouterr().err
    assert ".woonvoorraad.lock" in err and "symbolic link" in err and "Traceback" not in err
    assert victim.read_text() == "precious"
    assert not (out / "manifest.json").exists()


def test_dangling_symlinked_lock_creates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "elsewhere.txt"
    (out / ".woonvoorraad.lock").symlink_to(target)
    with pytest.raises(OSError, match="symbolic link"):
        FolderLock(out).acquire()
    assert not target.exists()


def test_hard_linked_lock_leaves_the_other_name_alone(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    os.link(victim, out / ".woonvoorraad.lock")
    with pytest.raises(OSError, match="link"), OutputTransaction(out) as txn:
        txn.path("a.txt").write_text("A")
        txn.commit({})
    assert victim.read_text() == "precious"


def test_symlinked_report_lock_leaves_its_target_alone(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    processed = tmp_path / "processed"
    assert _build(tiny_bag_light, tiny_buurten, processed) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / REPORT_LOCK_NAME).symlink_to(victim)

    def no_rendering(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no rendering in this test")

    monkeypatch.setattr(render, "_render_one", no_rendering)
    rc = main(["report", "--all", "--data", str(processed), "--out", str(folder), "-q"])
    err = capsys.readouterr().err
    assert victim.read_text() == "precious"
    assert rc == 2, err
    assert REPORT_LOCK_NAME in err and "symbolic link" in err and "Traceback" not in err


def test_stale_output_behind_a_symlinked_folder_survives_the_next_build(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=False) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "victim.txt"
    victim.write_text("precious")
    (out / "lnk").symlink_to(elsewhere, target_is_directory=True)
    (out / "victim-link.txt").symlink_to(victim)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name in ("lnk/victim.txt", "victim-link.txt"):
        manifest["outputs"].append({"path": name, "size": 8, "sha256": _sha(victim)})
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=False) == 0
    assert victim.read_text() == "precious"
    assert not (out / "victim-link.txt").is_symlink()  # the link itself may go, not its target


def test_publish_never_writes_through_a_symlinked_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _publish(out, "g1", ["a.txt", "sub/b.txt"])
    before = _snapshot(out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.txt").write_text("precious")
    for p in (out / "sub").iterdir():
        p.unlink()
    (out / "sub").rmdir()
    (out / "sub").symlink_to(elsewhere, target_is_directory=True)
    del before["sub/b.txt"]
    with pytest.raises(OSError, match="symbolic link"):
        _publish(out, "g2", ["a.txt", "sub/b.txt"])
    assert (elsewhere / "b.txt").read_text() == "precious"
    assert json.loads((out / "manifest.json").read_text())["generation"] == "g1"
    assert {n: _sha(out / n) for n in before} == before
    assert not debris(out)


# --------------------------------------------------------------------------------------------
# 8. operating-system errors: exit 2, a clear message, previous outputs intact


def _unusable_out(kind: str, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("not a folder")
    elif kind == "dangling symlink":
        out.symlink_to(tmp_path / "nowhere" / "out", target_is_directory=True)
    elif kind == "symlink loop":
        out.symlink_to(tmp_path / "out2")
        (tmp_path / "out2").symlink_to(out)
    return out


@pytest.mark.parametrize(("kind", "reason"), [("file", "not a folder"),
                                               ("dangling symlink", "does not exist"),
                                               ("symlink loop", "loop")])
def test_build_into_an_unusable_out_stops_before_the_work(
        kind: str, reason: str, tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path, *,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = _unusable_out(kind, tmp_path)
    _no_work(monkeypatch)
    assert _build(tiny_bag_light, tiny_buurten, out) == 2
    err = capsys.readouterr().err
    assert str(out) in err and reason in err and "Traceback" not in err, err
    if kind == "file":
        assert out.read_text() == "not a folder"
    if kind == "dangling symlink":
        assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(("kind", "reason"), [("file", "not a folder"),
                                               ("dangling symlink", "does not exist"),
                                               ("symlink loop", "loop")])
def test_report_into_an_unusable_out_stops_with_exit_2(
        kind: str, reason: str, tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path, *,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    processed = tmp_path / "processed"
    assert _build(tiny_bag_light, tiny_buurten, processed) == 0
    capsys.readouterr()
    folder = _unusable_out(kind, tmp_path)

    def no_rendering(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("rendering started on an unusable report folder")

    monkeypatch.setattr(render, "_render_one", no_rendering)
    rc = main(["report", "--all", "--data", str(processed), "--out", str(folder), "-q"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert str(folder) in err and reason in err and "Traceback" not in err, err


def _simulate_read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Every attempt to create or write a file or folder inside ``folder`` fails with EROFS,
    as on a read-only mount (root is not stopped by file modes, so they cannot be used)."""
    real_open, real_mkdir = os.open, os.mkdir
    write = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC

    def inside(path: Any, dir_fd: int | None) -> bool:
        p = Path(os.fsdecode(path))
        return dir_fd is None and (p == folder or folder in p.parents)

    def fake_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if flags & write and inside(path, dir_fd):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    def fake_mkdir(path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        if inside(path, dir_fd):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        real_mkdir(path, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)


def test_build_into_a_read_only_folder_stops_before_the_work(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _build(tiny_bag_light, tiny_buurten, out) == 0
    before = _snapshot(out)
    capsys.readouterr()
    with monkeypatch.context() as m:
        _no_work(m)
        _simulate_read_only(m, out)
        assert _build(tiny_bag_light, tiny_buurten, out) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "Read-only file system" in err and "Traceback" not in err, err
    assert _snapshot(out) == before
    assert check_folder(out) == "manifest"


def test_build_into_a_new_folder_on_a_read_only_disk_stops_before_the_work(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    parent = tmp_path / "mnt"
    parent.mkdir()
    out = parent / "new" / "out"
    _no_work(monkeypatch)
    _simulate_read_only(monkeypatch, parent)
    assert _build(tiny_bag_light, tiny_buurten, out) == 2
    err = capsys.readouterr().err
    assert "Read-only file system" in err and "Traceback" not in err, err
    assert not (parent / "new").exists()


@pytest.mark.skipif(IS_ROOT, reason="root writes into a folder of mode 0o555")
def test_build_into_a_folder_without_write_permission_stops_before_the_work(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _build(tiny_bag_light, tiny_buurten, out) == 0
    before = _snapshot(out)
    capsys.readouterr()
    _no_work(monkeypatch)
    out.chmod(0o555)
    try:
        assert _build(tiny_bag_light, tiny_buurten, out) == 2
    finally:
        out.chmod(0o755)
    err = capsys.readouterr().err
    assert str(out) in err and "Permission denied" in err and "Traceback" not in err, err
    assert _snapshot(out) == before


def _failing_writer(code: int, target: str) -> Callable[..., Any]:
    real = pipeline.write_partitioned

    def write(table: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(path).name != target:
            return real(table, path, *args, **kwargs)
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError(code, os.strerror(code), str(path))

    return write


@pytest.mark.parametrize(("target", "code"), [("buurten.parquet", errno.ENOSPC),
                                              ("dwellings.parquet", errno.EFBIG)])
def test_disk_full_or_file_too_large_keeps_the_previous_outputs(
        target: str, code: int, tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path, *,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _build(tiny_bag_light, tiny_buurten, out) == 0
    before = _snapshot(out)
    capsys.readouterr()
    with monkeypatch.context() as m:
        m.setattr(pipeline, "write_partitioned", _failing_writer(code, target))
        assert _build(tiny_bag_light, tiny_buurten, out) == 2
    err = capsys.readouterr().err
    assert str(out) in err and os.strerror(code) in err and "Traceback" not in err, err
    assert ".parquet" in err  # which output could not be written
    assert _snapshot(out) == before
    assert check_folder(out) == "manifest"
    assert not debris(out)


def test_disk_full_while_writing_the_manifest_is_completed_by_the_next_build(
        tiny_bag_light: Path, tiny_buurten: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=True) == 0
    capsys.readouterr()
    real = _io.write_json_atomic

    def write_json_atomic(path: Any, data: Any) -> Path:
        if Path(path) == out / "manifest.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    with monkeypatch.context() as m:
        m.setattr(_io, "write_json_atomic", write_json_atomic)
        assert _build(tiny_bag_light, tiny_buurten, out, analyse=False) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "No space left on device" in err and "Traceback" not in err
    assert check_folder(out) == "no manifest"  # nothing claims the half-published set
    assert _build(tiny_bag_light, tiny_buurten, out, analyse=False) == 0
    assert check_folder(out) == "manifest"
    assert not debris(out)
