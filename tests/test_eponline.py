"""EP-Online bulk CSV reader: both header styles, preamble, BOM, ZIP, latest registration."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from woonvoorraad.errors import EmptyInputError, InputError, MissingColumnError
from woonvoorraad.sources.eponline import read_ep_online

V5_HEADER = (
    "BAGVerblijfsobjectID;BAGLigplaatsID;BAGStandplaatsID;BAGPandIDs;Postcode;Huisnummer;"
    "Huisletter;Huisnummertoevoeging;Detailaanduiding;Energieklasse;Registratiedatum;GeldigTot;"
    "Opnamedatum;Berekeningstype;SoortOpname;Status;OpBasisVanReferentiegebouw;Gebouwklasse;"
    "Gebouwtype;Gebouwsubtype;Bouwjaar;Projectnaam;Projectobject;SBICode;"
    "GebruiksoppervlakteThermischeZone;Compactheid;Energiebehoefte;Warmtebehoefte;"
    "PrimaireFossieleEnergie;AandeelHernieuwbareEnergie;BerekendeCO2Emissie;"
    "BerekendeEnergieverbruik;EnergieIndex;EnergieIndexEMGForfaitair;"
    "PrimaireFossieleEnergieEMGForfaitair;AandeelHernieuwbareEnergieEMGForfaitair;"
    "Temperatuuroverschrijding;EisEnergiebehoefte;EisPrimaireFossieleEnergie;"
    "EisAandeelHernieuwbareEnergie;EisTemperatuuroverschrijding;Certificaathouder"
)
N_COLS = len(V5_HEADER.split(";"))


def _row(vbo: str, klasse: str, datum: str, index: str = "1,23") -> str:
    fields = [""] * N_COLS
    names = V5_HEADER.split(";")
    fields[names.index("BAGVerblijfsobjectID")] = vbo
    fields[names.index("Energieklasse")] = klasse
    fields[names.index("Registratiedatum")] = datum
    fields[names.index("Gebouwklasse")] = "W"
    fields[names.index("EnergieIndex")] = index
    fields[names.index("GebruiksoppervlakteThermischeZone")] = "85,4"
    return ";".join(fields)


def _v5_text(rows: list[str]) -> str:
    return "\ufeff" + "\r\n".join(
        ["PublicatieDatum;01-11-2023", "LaatstVerwerkteMutatievolgnummer;123456", V5_HEADER,
         *rows]) + "\r\n"


def test_v5_csv(tmp_path: Path) -> None:
    p = tmp_path / "v5.csv"
    p.write_text(_v5_text([
        _row("0114010000000001", "E", "20190105"),
        _row("0114010000000001", "B", "20230301", "0,98"),  # later registration wins
        _row("0114010000000002", "A+++++", "20220101"),
        _row("114010000000003", "g", "20200101"),  # unpadded id, lower-case class
        _row("", "C", "20200101"),  # a ligplaats row without unit id
        _row("0114010000000004", "X", "20200101"),  # unknown class
    ]), encoding="utf-8")
    t = read_ep_online(p).set_index("vbo_id")
    assert t["energielabel"].astype(str).to_dict() == {
        "0114010000000001": "B", "0114010000000002": "A+++++", "0114010000000003": "G"}
    assert t.loc["0114010000000001", "energieindex"] == pytest.approx(0.98)
    assert str(t.loc["0114010000000001", "registratiedatum"].date()) == "2023-03-01"
    assert t["energielabel"].cat.ordered


def test_zip_and_filter(tmp_path: Path) -> None:
    p = tmp_path / "v20231101_v5_csv.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("v20231101_v5_csv.csv", _v5_text(
            [_row(f"01140100000000{i:02d}", "D", "20210101") for i in range(20)]))
    t = read_ep_online(p, vbo_ids={"0114010000000003", "0114010000000007"}, chunksize=4)
    assert sorted(t["vbo_id"]) == ["0114010000000003", "0114010000000007"]


def test_filter_by_a_series_of_ids_with_gaps(tmp_path: Path) -> None:
    """The build passes the units' id column as it is: missing ids and text ids are ignored."""
    p = tmp_path / "labels.csv"
    p.write_text(_v5_text([_row(f"01140100000000{i:02d}", "C", "20220101") for i in range(10)]),
                 encoding="utf-8")
    ids = pd.Series(["0114010000000002", None, "NL.IMBAG.x", "0114010000000009", "9999"])
    t = read_ep_online(p, vbo_ids=ids, chunksize=3)
    assert sorted(t["vbo_id"]) == ["0114010000000002", "0114010000000009"]


def test_filter_is_exact_for_ids_beyond_float_precision(tmp_path: Path) -> None:
    """Ids above 2**53 differ in their last digit only; a float comparison would mix them."""
    p = tmp_path / "labels.csv"
    p.write_text(_v5_text([_row(f"999901000000000{i}", "C", "20220101") for i in (2, 3)]),
                 encoding="utf-8")
    assert read_ep_online(p, vbo_ids=["9999010000000001"]).empty
    t = read_ep_online(p, vbo_ids=["9999010000000003"])
    assert t["vbo_id"].tolist() == ["9999010000000003"]


def test_older_pand_header(tmp_path: Path) -> None:
    header = ("Pand_opnamedatum;Pand_opnametype;Pand_status;Pand_berekeningstype;"
              "Pand_energieindex;Pand_energieklasse;Pand_energielabel_is_prive;"
              "Pand_is_op_basis_van_referentie_gebouw;Pand_gebouwklasse;Meting_geldig_tot;"
              "Pand_registratiedatum;Pand_postcode;Pand_huisnummer;Pand_huisnummer_toev;"
              "Pand_detailaanduiding;Pand_bagverblijfsobjectid")
    row = "20180101;;;;1,8;F;;;W;20280101;20180102;7811AA;1;;;0114010000000009"
    p = tmp_path / "v2.csv"
    p.write_text(header + "\n" + row + "\n", encoding="utf-8")
    t = read_ep_online(p)
    assert t[["vbo_id", "energielabel"]].astype(str).values.tolist() == [
        ["0114010000000009", "F"]]
    assert t.loc[0, "energieindex"] == pytest.approx(1.8)


def test_no_header(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="no EP-Online header"):
        read_ep_online(p)


def test_header_without_required_column(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("BAGVerblijfsobjectID;Energieklasse\n0114010000000001;B\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="'Registratiedatum'"):
        read_ep_online(p)


def test_header_only(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text(_v5_text([]), encoding="utf-8")
    with pytest.raises(EmptyInputError, match="no rows"):
        read_ep_online(p)


def test_zip_with_two_csvs(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(InputError, match=r"exactly one \.csv file, found 2"):
        read_ep_online(p)


def test_ragged_row(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text(_v5_text([_row("0114010000000001", "B", "20200101") + ";extra;fields"]),
                 encoding="utf-8")
    with pytest.raises(InputError, match="cannot be parsed"):
        read_ep_online(p)


def test_v5_column_constant_matches_the_published_header() -> None:
    from woonvoorraad.sources.eponline import V5_COLUMNS

    assert ";".join(V5_COLUMNS) == V5_HEADER
    assert len(V5_COLUMNS) == 42
