"""Crash-safe output: atomic files and the output transaction with its lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from woonvoorraad._io import OutputTransaction, atomic_path, sha256_file, write_json_atomic
from woonvoorraad.errors import OutputLockedError


def test_atomic_path_failure_leaves_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_transaction_publishes_all_with_manifest_last(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputTransaction(out) as txn:
        txn.path("a.txt").write_text("A")
        txn.path("sub/b.txt").write_text("B")
        assert not (out / "a.txt").exists()  # nothing visible before commit
        txn.commit({"tool": "test"})
    manifest = json.loads((out / "manifest.json").read_text())
    assert [o["path"] for o in manifest["outputs"]] == ["a.txt", "sub/b.txt"]
    assert manifest["outputs"][0]["sha256"] == sha256_file(out / "a.txt")
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_transaction_failure_keeps_previous_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputTransaction(out) as txn:
        txn.path("a.txt").write_text("first")
        txn.commit({"run": 1})
    with pytest.raises(ValueError), OutputTransaction(out) as txn:
        txn.path("a.txt").write_text("second, half")
        raise ValueError("crash before commit")
    assert (out / "a.txt").read_text() == "first"
    assert json.loads((out / "manifest.json").read_text())["run"] == 1


def test_concurrent_transaction_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputTransaction(out):
        with pytest.raises(OutputLockedError, match="another woonvoorraad run"):
            OutputTransaction(out).__enter__()
        assert (out / OutputTransaction.LOCK_NAME).exists()


def test_write_json_atomic(tmp_path: Path) -> None:
    p = write_json_atomic(tmp_path / "x.json", {"a": "é"})
    assert json.loads(p.read_text(encoding="utf-8")) == {"a": "é"}


def test_recover_removes_work_folders_of_dead_builds_only(tmp_path: Path) -> None:
    """A killed dask build leaves its parts folder; the next run removes it, a live one not."""
    import signal
    import subprocess
    import sys

    from woonvoorraad._io import owned_work_dir, recover

    code = ("import sys, time; from woonvoorraad._io import owned_work_dir; "
            "d, _ = owned_work_dir(sys.argv[1]); (d / 'part-0.parquet').write_bytes(b'x'); "
            "print(d.name, flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    dead = tmp_path / proc.stdout.readline().strip()
    live, owner = owned_work_dir(tmp_path)
    being_made = tmp_path / ".dask-parts-new"  # no owner lock yet: not touched
    being_made.mkdir()
    assert recover(tmp_path) == []  # the other process is still alive
    assert dead.is_dir()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert recover(tmp_path) == [f"removed {dead.name}"]
    assert not dead.exists() and live.is_dir() and being_made.is_dir()
    owner.release()
    assert recover(tmp_path) == [f"removed {live.name}"]
