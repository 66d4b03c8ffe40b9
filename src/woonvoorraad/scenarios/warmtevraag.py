"""PBL heat demand per label and the key-figure rows of dwellings.

``reference/pbl_warmtevraag.csv`` is a derived subset of "PBL Vesta MAIS kentallen 2024"
(``tools/derive_pbl_warmtevraag.py``): per woningtype × build period the space-heating demand
at each label as ``vrv_<label>_asl`` (GJ per dwelling per year) + ``vrv_<label>_opp`` (GJ per m²
per year) × floor area.
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from woonvoorraad.errors import ConfigError
from woonvoorraad.stock.kentallen import PERIOD_LABELS, bouwperiode_from_bouwjaar

logger = logging.getLogger(__name__)

BRON = "PBL Vesta MAIS kentallen 2024 (warmtevraag per label)"
LABELS: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G")


@functools.cache
def _table() -> pd.DataFrame:
    with resources.files("woonvoorraad").joinpath("reference/pbl_warmtevraag.csv").open(
            "r", encoding="utf-8") as fh:
        return pd.read_csv(fh, comment="#")


def read_warmtevraag() -> pd.DataFrame:
    """The packaged heat-demand table (a copy), checked for its columns and periods.

    Examples
    --------
    >>> t = read_warmtevraag()
    >>> row = t[(t.woningtype == "tussenwoning") & (t.pbl_periode == "1946 - 1964")].iloc[0]
    >>> round(float(row.vrv_g_asl + 100 * row.vrv_g_opp), 2)  # GJ/yr, 100 m2, label G
    36.57
    """
    t = _table().copy()
    need = [f"vrv_{lab.lower()}_{p}" for lab in LABELS for p in ("asl", "opp")]
    missing = [c for c in ("woningtype", "pbl_periode", *need) if c not in t.columns]
    if missing:
        raise ConfigError(f"reference/pbl_warmtevraag.csv lacks column(s) {missing}")
    bad = sorted(set(t["pbl_periode"]) - set(PERIOD_LABELS))
    if bad:
        raise ConfigError(f"reference/pbl_warmtevraag.csv has unknown build period(s) {bad}")
    return t


def period_index(dwellings: pd.DataFrame) -> np.ndarray:
    """PBL build-period index per dwelling (float, NaN when unknown).

    From ``bouwjaar`` (years after 2020 take the last period, as in the cost estimate), else
    from a ``bouwperiode`` column that names a PBL period.
    """
    idx = np.full(len(dwellings), np.nan)
    if "bouwjaar" in dwellings.columns:
        per = bouwperiode_from_bouwjaar(dwellings["bouwjaar"].reset_index(drop=True))
        codes = per.cat.codes.to_numpy().astype(float)
        idx = np.where(codes >= 0, codes, np.nan)
    if "bouwperiode" in dwellings.columns:
        by_name = (dwellings["bouwperiode"].astype("string").reset_index(drop=True)
                   .map({n: float(i) for i, n in enumerate(PERIOD_LABELS)})
                   .astype(float).to_numpy())
        idx = np.where(np.isnan(idx), by_name, idx)
    return idx


def rows_for(table: pd.DataFrame, woningtype: Any, pidx: np.ndarray) -> pd.DataFrame:
    """The row of ``table`` (woningtype × ``pbl_periode``) for each dwelling, in order.

    Dwellings without a matching row get a row of NaN.
    """
    key = pd.DataFrame({"woningtype": pd.Series(woningtype).astype("string").to_numpy(),
                        "_p": pidx})
    t = table.copy()
    t["woningtype"] = t["woningtype"].astype("string")
    t["_p"] = t["pbl_periode"].map({n: float(i) for i, n in enumerate(PERIOD_LABELS)})
    out = key.merge(t.drop(columns="pbl_periode"), on=["woningtype", "_p"], how="left",
                    validate="many_to_one")
    return out.reset_index(drop=True)


def heat_demand(rows: pd.DataFrame, area: np.ndarray) -> np.ndarray:
    """Heat demand (GJ/yr) per dwelling (rows) and label (columns A..G)."""
    out = np.empty((len(rows), len(LABELS)))
    for j, lab in enumerate(LABELS):
        asl = rows[f"vrv_{lab.lower()}_asl"].to_numpy(dtype=float)
        opp = rows[f"vrv_{lab.lower()}_opp"].to_numpy(dtype=float)
        out[:, j] = asl + opp * area
    return out
