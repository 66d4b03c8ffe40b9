"""Buurt indicators and the target-group estimate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import lognorm

from woonvoorraad.sources import bag, cbs
from woonvoorraad.stock.dwellings import dwellings_from_bag
from woonvoorraad.stock.indicators import buurt_indicators, estimate_doelgroep


def test_doelgroep_against_scipy_lognormal() -> None:
    mean, cv, grens = 240_000 * 0.9, 0.3, 250_000
    sigma = np.sqrt(np.log1p(cv**2))
    mu = np.log(mean) - sigma**2 / 2
    p = lognorm(s=sigma, scale=np.exp(mu)).cdf(grens)
    got = estimate_doelgroep([200], [0.7], [240_000], woz_grens=grens, variatiecoefficient=cv,
                             naoorlogs_woz_factor=0.9)
    assert got[0] == pytest.approx(200 * 0.7 * p, abs=0.05)


def test_doelgroep_nan_without_inputs_and_monotone() -> None:
    got = estimate_doelgroep([100, 100, 100], [np.nan, 0.5, 0.5], [200_000, np.nan, 200_000],
                             woz_grens=250_000, variatiecoefficient=0.3, naoorlogs_woz_factor=1)
    assert np.isnan(got[:2]).all()
    assert got[2] > 0
    cheaper = estimate_doelgroep([100], [0.5], [150_000], woz_grens=250_000,
                                 variatiecoefficient=0.3, naoorlogs_woz_factor=1)
    assert cheaper[0] > got[2]


def test_tiny_indicators(tiny_bag_light: Path, tiny_buurten: Path) -> None:
    panden, vbo, _ = bag.read_bag(tiny_bag_light)
    buurten, _ = cbs.read_buurten(tiny_buurten)
    d, _ = dwellings_from_bag(panden, vbo, buurten)
    ind, missing = buurt_indicators(d, buurten)
    noord, zuid = ind.set_index("buurtcode").loc[["BU99010001", "BU99010002"]].to_dict("records")
    assert (noord["n_woningen"], noord["n_naoorlogs"]) == (6, 5)
    assert noord["n_naoorlogs_1945_1964"] == 3
    assert noord["n_naoorlogs_1965_1974"] == 2
    assert noord["aandeel_naoorlogs"] == pytest.approx(5 / 6)
    assert noord["n_eengezins_voor_1975"] == 6
    assert (zuid["n_woningen"], zuid["n_naoorlogs"], zuid["n_meergezins"]) == (7, 6, 6)
    assert noord["n_doelgroep"] > 0
    assert np.isnan(zuid["n_doelgroep"])  # WOZ and tenure suppressed in Zuid
    assert np.isnan(zuid["woz_gemiddeld"])
    assert "aandeel_laag_inkomen" in missing
    assert "trend_inwoners" in missing
    assert "n_doelgroep" not in missing  # available for part of the buurten
    # every input buurt is kept, in code order, with its geometry
    assert ind["buurtcode"].tolist() == ["BU99010001", "BU99010002"]
    assert ind.crs.to_epsg() == 28992
