"""Crash-safe outputs: a run killed at any moment loses nothing and leaves nothing half-written.

* The publish of a set of outputs is killed (SIGKILL) before each of its file operations in
  turn; the folder must then hold the previous outputs or none claimed by a manifest, and the
  next run must finish the interrupted publish (roll forward) or discard it.
* ``woonvoorraad build`` is killed at random (seeded) moments, at least 20 times; after every
  kill the folder holds either no manifest, or a manifest whose files exist with the recorded
  size and SHA-256 and parse, and no visible file is partial; a final run succeeds and
  leaves no debris.
* Atomic single files, cache entries and report runs are killed the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from woonvoorraad import _io, settings
from woonvoorraad.sources import _cache

ENV = {**os.environ, "WOONVOORRAAD_PROGRESS": "0", "PYTHONUNBUFFERED": "1"}
SEED = 20261129


def _run(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=timeout, env=ENV, check=False)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def visible(folder: Path) -> set[str]:
    """Output files a user sees (hidden staging, temp and lock files excluded)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".")
                                       for part in p.relative_to(folder).parts)}


def debris(folder: Path) -> set[str]:
    """What killed runs leave behind: staging folders and temporary files."""
    return {p.name for p in folder.iterdir()
            if p.name.startswith(".staging-") or ".part" in p.name}


def parses(path: Path) -> None:
    """Raise unless the file is a complete file of its kind."""
    if path.suffix == ".parquet":
        pq.read_table(path)
    elif path.suffix == ".csv":
        pd.read_csv(path)
    elif path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix == ".ipynb":
        assert isinstance(json.loads(path.read_text(encoding="utf-8"))["cells"], list)
    elif path.suffix == ".html":
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
    else:
        path.read_text(encoding="utf-8")


def check_folder(folder: Path) -> str:
    """Assert the published state of an output folder; return 'manifest' or 'no manifest'."""
    seen = visible(folder) if folder.is_dir() else set()
    assert not [n for n in seen if ".part" in n], seen
    for name in seen:
        parses(folder / name)
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        return "no manifest"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    listed = {o["path"] for o in manifest["outputs"]}
    for o in manifest["outputs"]:
        p = folder / o["path"]
        assert p.is_file(), o["path"]
        assert p.stat().st_size == o["size"], o["path"]
        assert _sha(p) == o["sha256"], o["path"]
    assert seen == listed | {"manifest.json"}, (seen ^ (listed | {"manifest.json"}))
    return "manifest"


# --------------------------------------------------------------------------------------------
# the publish, killed before each of its file operations in turn

_PUBLISH = """
    import json, os, signal, sys
    from pathlib import Path
    from woonvoorraad import _io

    out, gen, kill_at, files = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    count = 0
    real_replace, real_unlink, real_rmtree = os.replace, Path.unlink, _io.shutil.rmtree

    def step():
        global count
        count += 1
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def replace(a, b):
        step(); real_replace(a, b)

    def unlink(self, missing_ok=False):
        step(); real_unlink(self, missing_ok=missing_ok)

    os.replace, Path.unlink = replace, unlink
    with _io.OutputTransaction(out) as txn:
        for name in files:
            txn.path(name).write_text(f"{gen}:{name}:" + "x" * 1000, encoding="utf-8")
        txn.commit({"generation": gen})
    print(count)
"""

GEN1 = ["dwellings.parquet.txt", "proeftuinen.csv.txt", "sub/typologie.txt", "build.log"]
GEN2 = ["dwellings.parquet.txt", "buurten.txt", "build.log"]  # two outputs become stale


def _publish(out: Path, gen: str, files: list[str], kill_at: int = 0) -> int | None:
    done = _run(_PUBLISH, str(out), gen, str(kill_at), *files)
    if done.returncode == -signal.SIGKILL:
        return None
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def _generation(out: Path) -> dict[str, str]:
    return {n: (out / n).read_text(encoding="utf-8").split(":", 1)[0] for n in visible(out)
            if n != "manifest.json"}


def test_publish_killed_before_every_file_operation(tmp_path: Path) -> None:
    assert _publish(tmp_path / "count", "g1", GEN1) is not None
    n_ops = _publish(tmp_path / "count", "g2", GEN2)  # the same publish, not killed
    assert n_ops is not None and n_ops >= len(GEN2) + 5  # incl. the two stale removals
    outcomes = []
    for k in range(1, n_ops + 1):
        out = tmp_path / f"k{k}"
        assert _publish(out, "g1", GEN1) is not None
        assert _publish(out, "g2", GEN2, kill_at=k) is None  # killed
        state = check_folder(out)
        gens = set(_generation(out).values())
        assert gens <= {"g1", "g2"}
        if state == "manifest":  # a complete set: all of one generation, exactly its files
            gen = json.loads((out / "manifest.json").read_text())["generation"]
            assert gens == {gen}
        # the next run finishes the interrupted publish or discards it
        done = _io.recover(out)
        assert check_folder(out) == "manifest"
        gen = json.loads((out / "manifest.json").read_text())["generation"]
        expected = GEN1 if gen == "g1" else GEN2
        assert visible(out) == {*expected, "manifest.json"}
        assert set(_generation(out).values()) == {gen}
        assert not debris(out), debris(out)
        outcomes.append((k, state, gen, done))
    # early kills leave the old set, kills after the journal give the new one
    assert outcomes[0][2] == "g1" and outcomes[-1][2] == "g2"
    assert any(state == "no manifest" for _, state, _, _ in outcomes)
    assert any("completed" in " ".join(d) for *_, d in outcomes)


def test_recover_removes_what_a_run_killed_before_its_publish_left(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert _publish(out, "g1", GEN1) is not None
    before = {n: _sha(out / n) for n in visible(out)}
    stale = out / ".staging-abc123"
    (stale / "sub").mkdir(parents=True)
    (stale / "dwellings.parquet.txt").write_text("half")
    temp = out / ".manifest.json.k2j3h4l5.part.json"
    temp.write_text("{")
    done = _io.recover(out)
    assert sorted(done) == ["removed .manifest.json.k2j3h4l5.part.json", "removed .staging-abc123"]
    assert {n: _sha(out / n) for n in visible(out)} == before
    assert not debris(out)


def test_outputs_a_new_run_does_not_produce_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert _publish(out, "g1", GEN1) is not None
    assert _publish(out, "g2", GEN2) is not None
    assert visible(out) == {*GEN2, "manifest.json"}
    assert check_folder(out) == "manifest"


# --------------------------------------------------------------------------------------------
# woonvoorraad build, killed at random moments


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from woonvoorraad.demo.region import make_demo

    return make_demo(tmp_path_factory.mktemp("raw") / "demo", scale=0.05)


def _build_cmd(inputs: dict[str, Path], out: Path, *, analyse: bool) -> list[str]:
    cmd = [sys.executable, "-m", "woonvoorraad", "build", "--bag", str(inputs["bag"]),
           "--buurten", str(inputs["buurten"]), "--cbs", str(inputs["cbs_2022"]),
           "--labels", str(inputs["labels"]), "--out", str(out), "-q"]
    return cmd if analyse else [*cmd, "--no-analyse"]


def _wait_for(proc: subprocess.Popen[bytes], condition: Any) -> None:
    """Poll (every millisecond) until ``condition()`` holds or the process ends."""
    while proc.poll() is None and not condition():
        time.sleep(0.001)


def _expected_outputs(analyse: bool) -> set[str]:
    base = {"dwellings.parquet", "buurten.parquet", "build.log", "manifest.json"}
    return base | ({"proeftuinen.csv", "instrumenten.csv"}
                   if analyse else set())


def test_build_killed_at_random_moments_loses_nothing(demo_inputs: dict[str, Path],
                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    rng = random.Random(SEED)
    # a first complete run, which also tells how long a run takes
    t0 = time.perf_counter()
    first = subprocess.run(_build_cmd(demo_inputs, out, analyse=True), env=ENV,
                           capture_output=True, text=True, timeout=300, check=False)
    duration = time.perf_counter() - t0
    assert first.returncode == 0, first.stderr
    assert check_folder(out) == "manifest"
    kills, finished, states = 0, 0, {"manifest": 0, "no manifest": 0, "debris": 0}
    attempt = 0
    while kills < 20:
        attempt += 1
        assert attempt <= 60, f"only {kills} kills in {attempt} attempts"
        analyse = attempt % 2 == 0  # alternate the output sets, so outputs become stale
        # a quarter of the kills at any moment of the run, a quarter while the outputs are
        # written (after the staging folder appears), half during the publish itself (after
        # its journal appears)
        anywhere, after_staging = rng.uniform(0.05, 1.0) * duration, rng.uniform(0.0, 0.4)
        in_publish = rng.uniform(0.0, 0.004)
        proc = subprocess.Popen(_build_cmd(demo_inputs, out, analyse=analyse), env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            if attempt % 4 == 0:
                proc.wait(timeout=anywhere)
            elif attempt % 4 == 1:
                _wait_for(proc, lambda: any(p.name.startswith(".staging-")
                                            for p in out.iterdir()))
                proc.wait(timeout=after_staging)
            else:
                _wait_for(proc, lambda: any(out.glob(".staging-*/.commit.json")))
                proc.wait(timeout=in_publish)
            finished += 1
            assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        finally:
            if proc.stderr:
                proc.stderr.close()
        state = check_folder(out)
        states[state] += 1
        states["debris"] += bool(debris(out))
    final = subprocess.run(_build_cmd(demo_inputs, out, analyse=True), env=ENV,
                           capture_output=True, text=True, timeout=300, check=False)
    assert final.returncode == 0, final.stderr
    assert check_folder(out) == "manifest"
    assert _expected_outputs(True) <= visible(out)
    assert not debris(out), debris(out)
    print(f"\nkill-and-resume: {kills} kills, {finished} runs finished, run {duration:.1f} s, "
          f"states after each attempt: {states}")
    assert kills >= 20


# --------------------------------------------------------------------------------------------
# a single atomic file, and cache entries

_ATOMIC = """
    import sys
    from woonvoorraad._io import atomic_path
    with atomic_path(sys.argv[1]) as tmp, open(tmp, "wb") as fh:
        for i in range(160):
            fh.write(bytes([65 + i % 26]) * 250_000)
            fh.flush()
"""


def test_atomic_file_killed_while_writing_is_old_or_new(tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    rng = random.Random(SEED)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_ATOMIC), str(target)],
                                env=ENV)
        try:
            proc.wait(timeout=rng.uniform(0.1, 1.0))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        data = target.read_bytes()
        assert data == b"old" or len(data) == 160 * 250_000
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "big.bin"]
    assert all(n.startswith(".big.bin.") and ".part" in n for n in leftovers)


_STORE = """
    import os, signal, sys
    from pathlib import Path
    from woonvoorraad.sources import _cache
    from woonvoorraad import settings
    settings.cache_dir = Path(sys.argv[1])

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    _cache.write_json_atomic = die  # killed between the body and its sidecar
    _cache.store("pdok-bag", "ab" * 32, body=b'{"a": 1}', suffix=".json", meta={"url": "x"})
"""


def test_cache_entry_killed_between_body_and_sidecar(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    done = _run(_STORE, str(cache))
    assert done.returncode == -signal.SIGKILL
    monkeypatch.setattr(settings, "cache_dir", cache)
    assert _cache.lookup("pdok-bag", "ab" * 32) is None  # never served half-stored
    report = _cache.verify_cache()
    assert report["orphans"] and not report["ok"] and not report["corrupt"]
    entry = _cache.store("pdok-bag", "ab" * 32, body=b'{"a": 2}', suffix=".json",
                         meta={"url": "x"})
    assert json.loads(_cache.lookup("pdok-bag", "ab" * 32).body.read_bytes()) == {"a": 2}
    assert entry.meta["sha256"] == hashlib.sha256(b'{"a": 2}').hexdigest()


def test_damaged_cache_entry_is_discarded(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    entry = _cache.store("cbs-odata", "cd" * 32, body=b'{"value": [1, 2, 3]}', suffix=".json",
                         meta={"url": "x"})
    entry.body.write_bytes(b'{"value": [1, 2, 4]}')  # same size, other bytes
    assert _cache.lookup("cbs-odata", "cd" * 32) is None
    assert not entry.body.exists() and not entry.sidecar.exists()


# --------------------------------------------------------------------------------------------
# report runs, killed


@pytest.mark.slow
def test_report_run_killed_leaves_no_partial_report(demo_inputs: dict[str, Path],
                                                    tmp_path: Path) -> None:
    from woonvoorraad.pipeline import build

    processed = tmp_path / "processed"
    build(bag_path=demo_inputs["bag"], buurten_path=demo_inputs["buurten"], out=processed,
          synthetic=True)
    folder = tmp_path / "reports"
    cmd = [sys.executable, "-m", "woonvoorraad", "report", "--all", "--data", str(processed),
           "--out", str(folder), "--workers", "2", "-q"]
    rng = random.Random(SEED)
    for delay in (rng.uniform(4, 8), rng.uniform(8, 14), rng.uniform(14, 20)):
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers and kernels
            proc.wait()
        for name in visible(folder) if folder.is_dir() else ():
            parses(folder / name)  # every file with a final name is complete
    final = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600,
                           check=False)
    assert final.returncode == 0, final.stdout + final.stderr
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "ok" and run["n_ok"] == run["n_reports"] >= 2
    for name in visible(folder):
        parses(folder / name)
    assert not [p.name for p in folder.iterdir() if ".part" in p.name]
