"""What the label model adds to a build: time and memory on a synthetic large input.

``python benchmarks/labels.py --n 1000000`` makes ``n`` synthetic dwellings (buurten of about
500 dwellings, panden of 1-20 units, build years, types, floor areas), draws a "true" energy
performance from them with buurt and pand effects, labels half of the dwellings with a bias
(new homes more often), and times :func:`woonvoorraad.stock.labels.estimate_labels` (features,
selection weights, grouped cross-validation, final fit, prediction for the unlabelled half).
Memory is the peak resident set size of the process above what it held before the call.
``benchmarks/run.py --labels N`` runs it as part of the benchmark.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.config import load_config
from woonvoorraad.stock import labels


def _rss_mb() -> float:
    with Path("/proc/self/status").open(encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_input(n: int, *, seed: int = 7) -> dict[str, Any]:
    """Synthetic dwellings with labels correlated with the features (half labelled)."""
    rng = np.random.default_rng(seed)
    n_buurt = max(n // 500, 2)
    buurt = np.sort(rng.integers(0, n_buurt, n))
    units = rng.choice([1, 1, 1, 2, 4, 8, 12, 20], size=n // 3 + 1)
    pand = np.repeat(np.arange(len(units)), units)[:n]
    pand = np.sort(pand)
    b_year = rng.integers(1900, 2023, n_buurt)
    year = np.clip(b_year[buurt] + rng.normal(0, 12, n), 1850, 2023).round()
    p_year = year[np.searchsorted(pand, pand)]  # one year per pand
    wt = np.where(units[pand] > 2, rng.choice([3, 4], n), rng.choice([0, 1, 2, 5], n))
    pe = (np.interp(p_year, [1900, 1945, 1975, 1992, 2010, 2023], [380, 350, 280, 200, 120, 40])
          * np.where(wt >= 3, 0.9, 1.05) * rng.lognormal(0, 0.08, n_buurt)[buurt]
          * rng.lognormal(0, 0.1, len(units))[pand] * rng.lognormal(0, 0.15, n))
    bounds = np.array([160, 190, 250, 290, 335, 380])
    true = np.searchsorted(bounds, pe)
    p_lab = np.clip(0.3 + 0.5 * (p_year > 1990) + 0.1 * (wt >= 3), 0, 0.95)
    labelled = rng.random(n) < p_lab * 0.5 / p_lab.mean()
    grid = np.ceil(np.sqrt(n_buurt))
    bx, by = (np.arange(n_buurt) % grid) * 800, (np.arange(n_buurt) // grid) * 800
    frame = pd.DataFrame({
        "bouwjaar": pd.array(p_year, dtype="Int16"),
        "woningtype": pd.Categorical.from_codes(wt, categories=[f"t{i}" for i in range(6)]),
        "oppervlakte": rng.uniform(40, 160, n).round(),
        # Arrow-backed strings, as the build's dwelling table has them
        "pand_id": pd.array(pand.astype(str), dtype="string[pyarrow]"),
        "buurtcode": pd.array("BU" + pd.Series(buurt).astype(str), dtype="string[pyarrow]"),
        "gemeentecode": pd.array("GM" + pd.Series(buurt // 40).astype(str),
                                 dtype="string[pyarrow]"),
    })
    pbl = np.searchsorted(bounds, np.interp(p_year, [1900, 1945, 1975, 1992, 2010, 2023],
                                            [380, 350, 280, 200, 120, 40]))
    return {"dwellings": frame, "label_class": np.where(labelled, true, -1),
            "pbl_class": pbl, "x": bx[buurt] + rng.uniform(0, 800, n),
            "y": by[buurt] + rng.uniform(0, 800, n), "pand_oppervlak": np.full(n, 90.0),
            "pand_omtrek": np.full(n, 40.0),
            # registration years of the registered labels (GeldigTot - 10 years in a build)
            "label_jaar": np.where(labelled, rng.uniform(2014, 2024, n), np.nan)}


def run(n: int, *, threads: int = 1) -> dict[str, Any]:
    """Time and peak memory of the label model on ``n`` synthetic dwellings."""
    data = make_input(n)
    cfg = load_config(overrides=[f"labels.threads={threads}"])
    before = _rss_mb()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = labels.estimate_labels(config=cfg, **data)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n_woningen": n, "n_geregistreerd": int((data["label_class"] >= 0).sum()),
            "threads": threads, "seconden": round(seconds, 1),
            "extra_geheugen_gb": round(max(peak - max(before, peak_before), 0) / 1024, 2),
            "methode": result.methode, **{k: v for k, v in result.info.items()
                                          if k.startswith("seconden")},
            "validatie": result.metrics}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    print(json.dumps(run(args.n, threads=args.threads), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
