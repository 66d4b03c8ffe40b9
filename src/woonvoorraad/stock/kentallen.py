"""PBL Vesta MAIS dwelling key figures: default energy label and shell-upgrade investment.

Source: PBL Netherlands Environmental Assessment Agency, Vesta MAIS model, dwelling key-figure
table of 2024-11-12 (``data/20241112_Woningen_BAG.csv`` in ``pbl-nl/model-vesta-public``,
GPL-3.0). Attribution in every output that uses it: "PBL Vesta MAIS kentallen 2024". The
packaged ``reference/pbl_kentallen.csv`` holds the subset woonvoorraad needs, with renamed
columns (see its header).
"""

from __future__ import annotations

import functools
import logging
from importlib import resources

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

ATTRIBUTION = "PBL Vesta MAIS kentallen 2024"

#: PBL build periods: (label, first year, last year). The first has no lower bound; years
#: after the last period use the last row.
PERIODS: tuple[tuple[str, int | None, int], ...] = (
    ("voor 1930", None, 1929),
    ("1930 - 1945", 1930, 1945),
    ("1946 - 1964", 1946, 1964),
    ("1965 - 1974", 1965, 1974),
    ("1975 - 1991", 1975, 1991),
    ("1992 - 1995", 1992, 1995),
    ("1996 - 1999", 1996, 1999),
    ("2000 - 2005", 2000, 2005),
    ("2006 - 2010", 2006, 2010),
    ("2011 - 2014", 2011, 2014),
    ("2015 - 2020", 2015, 2020),
)
PERIOD_LABELS = tuple(p[0] for p in PERIODS)
PERIOD_DTYPE = pd.CategoricalDtype(list(PERIOD_LABELS), ordered=True)


@functools.cache
def _table() -> pd.DataFrame:
    with resources.files("woonvoorraad").joinpath("reference/pbl_kentallen.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        return pd.read_csv(fh, comment="#", dtype={"bouwjaar_van": "Int64",
                                                    "bouwjaar_tot": "Int64"})


def read_pbl_kentallen() -> pd.DataFrame:
    """Return the PBL key-figure table (a copy): one row per woningtype × build period."""
    return _table().copy()


def bouwperiode_from_bouwjaar(bouwjaar: pd.Series) -> pd.Series:
    """Map build years to PBL build periods (ordered categorical; NA stays NA).

    Examples
    --------
    >>> bouwperiode_from_bouwjaar(pd.Series([1900, 1950, 1974, 2024, None], dtype="Int16")).tolist()
    ['voor 1930', '1946 - 1964', '1965 - 1974', '2015 - 2020', nan]
    """
    years = pd.to_numeric(bouwjaar, errors="coerce").astype(float).to_numpy()
    edges = np.array([p[2] for p in PERIODS[:-1]], dtype=float)  # upper bounds
    codes = np.searchsorted(edges, years, side="left")
    codes = np.where(np.isnan(years), -1, codes)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=PERIOD_DTYPE), index=bouwjaar.index)

