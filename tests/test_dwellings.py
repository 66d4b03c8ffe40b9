"""The dwelling table: CBS dwelling filter, build-year rule, types, buurten, labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from woonvoorraad.config import load_config
from woonvoorraad.sources import bag, cbs
from woonvoorraad.stock.dwellings import dwellings_from_bag, is_dwelling

STATUSES = load_config()["dwellings"]["statuses"]


@pytest.mark.parametrize(
    ("gebruiksdoel", "status", "expected"),
    [
        ("woonfunctie", "Verblijfsobject in gebruik", True),
        ("woonfunctie", "Verblijfsobject in gebruik (niet ingemeten)", True),
        ("woonfunctie", "Verblijfsobject buiten gebruik", True),
        ("woonfunctie", "Verbouwing verblijfsobject", True),
        ("woonfunctie", "Verblijfsobject gevormd", False),
        ("woonfunctie", "Verblijfsobject ingetrokken", False),
        ("woonfunctie", "Niet gerealiseerd verblijfsobject", False),
        ("woonfunctie", "Verblijfsobject ten onrechte opgevoerd", False),
        ("winkelfunctie,woonfunctie", "Verblijfsobject in gebruik", True),
        ("woonfunctie, kantoorfunctie", "Verblijfsobject in gebruik", True),
        ("winkelfunctie", "Verblijfsobject in gebruik", False),
        ("woonfunctieachtig", "Verblijfsobject in gebruik", False),
        (None, "Verblijfsobject in gebruik", False),
    ],
)
def test_dwelling_filter(gebruiksdoel: str | None, status: str, expected: bool) -> None:
    units = pd.DataFrame({"gebruiksdoel": [gebruiksdoel], "status": [status]})
    assert is_dwelling(units, statuses=STATUSES).tolist() == [expected]


def _build(bag_path: Path, buurten_path: Path, labels: pd.DataFrame | None = None
           ) -> pd.DataFrame:
    panden, vbo, _ = bag.read_bag(bag_path)
    buurten, _ = cbs.read_buurten(buurten_path)
    dwell, report = dwellings_from_bag(panden, vbo, buurten, labels=labels)
    return dwell.set_index("vbo_id"), report


def test_tiny_street(tiny_bag_light: Path, tiny_buurten: Path) -> None:
    d, report = _build(tiny_bag_light, tiny_buurten)
    assert report.n_dwellings == 13  # 7 houses + 6 flats; withdrawn and shop excluded
    assert report.excluded_by_status == {"Verblijfsobject ingetrokken": 1}
    # unit 1 spans the 1950 house and a 1930 shed: oldest year, largest pand
    assert d.loc["0000010000000001", "bouwjaar"] == 1930
    assert d.loc["0000010000000001", "pand_id"] == "0000100000000001"
    assert not d.loc["0000010000000001", "naoorlogs"]
    assert report.n_multi_pand == 1
    types = d["woningtype"].astype(str)
    assert types.loc[["0000010000000001", "0000010000000004"]].tolist() == ["hoekwoning"] * 2
    assert types.loc[["0000010000000002", "0000010000000003"]].tolist() == ["tussenwoning"] * 2
    assert types.loc[["0000010000000005", "0000010000000006"]].tolist() == [
        "twee_onder_een_kap"] * 2
    # the garage has no unit and does not count as a neighbour
    assert types.loc["0000010000000007"] == "vrijstaand"
    assert (types.loc[d["pand_id"] == "0000100000000009"] == "meergezins_laag").sum() == 6
    assert d["buurtcode"].value_counts().to_dict() == {"BU99010001": 6, "BU99010002": 7}
    assert d["naoorlogs"].sum() == 3 + 2 + 6


def test_labels_registered_else_estimated(tiny_bag_light: Path, tiny_buurten: Path) -> None:
    labels = pd.DataFrame({"vbo_id": ["0000010000000002", "0000010000000007"],
                           "energielabel": ["B", "A"]})
    d, report = _build(tiny_bag_light, tiny_buurten, labels=labels)
    assert d.loc["0000010000000002", "energielabel"] == "B"
    assert d.loc["0000010000000002", "label_bron"] == "geregistreerd"
    # tussenwoning 1946-1964: PBL default D; twee-onder-een-kap 1965-1974: D
    assert d.loc["0000010000000003", "energielabel"] == "D"
    assert d.loc["0000010000000003", "label_bron"] == "pbl"
    assert d.loc["0000010000000005", "energielabel"] == "D"
    assert report.n_label_registered == 2
    assert report.n_label_estimated == 11


def test_unit_outside_buurten_is_counted(tiny_bag_light: Path, tiny_buurten: Path) -> None:
    panden, vbo, _ = bag.read_bag(tiny_bag_light)
    buurten, _ = cbs.read_buurten(tiny_buurten)
    d, report = dwellings_from_bag(panden, vbo, buurten.iloc[:1])
    assert report.n_outside_buurten == 7
    assert d["buurtcode"].isna().sum() == 7
