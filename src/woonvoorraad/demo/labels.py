"""Energy labels of the demo region: EP-Online rows and the zipped v5 bulk CSV."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from woonvoorraad._io import atomic_path
from woonvoorraad.demo.names import POSTCODE_LETTERS
from woonvoorraad.demo.statistics import EENGEZINS
from woonvoorraad.sources.eponline import V5_COLUMNS

logger = logging.getLogger(__name__)

_EP_MEMBER = "v20231101_v5_csv.csv"
_EP_PUBLICATION = "01-11-2023"

# NTA 8800 label classes (upper bounds of primary fossil energy, kWh/m2.yr); EP-Online also
# holds a few "A+++++", here for energy-positive homes.
_LABELS = ("A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")
_LABEL_BOUNDS = np.array([-25, 0, 50, 75, 105, 160, 190, 250, 290, 335, 380])
# NEN 7120 energy index bounds of the pre-2021 labels A++ .. G (A+++ and up never occurred)
_EI_BOUNDS = {
    "A++": (0.3, 0.5), "A+": (0.51, 0.7), "A": (0.71, 1.05), "B": (1.06, 1.3),
    "C": (1.31, 1.6), "D": (1.61, 2.0), "E": (2.01, 2.4), "F": (2.41, 2.9), "G": (2.91, 3.6),
}  # fmt: skip
_CERTIFICAATHOUDERS = (
    "Labelpunt Noord B.V.", "Esdorp Energieadvies", "Veenstreek Bouwadvies B.V.",
    "Drentse Maatwerk Labels", "EnergieCheck Oost V.O.F.", "Woonwijzer Advies B.V.",
)  # fmt: skip
_EP_SUBTYPE = {
    "portiek": "Portiekwoning", "galerij": "Galerijwoning", "appartement": "Flatwoning (overig)",
    "bovenwoning": "Maisonnette",
}  # fmt: skip
_EP_TYPE = {
    "tussen": "Rijwoning tussen", "hoek": "Rijwoning hoek", "twee_onder": "Twee-onder-één-kap",
    "vrijstaand": "Vrijstaande woning",
}  # fmt: skip
# ============================================================================================
# EP-Online bulk CSV
# ============================================================================================


def _format_decimal(values: np.ndarray, digits: int) -> np.ndarray:
    """Numbers with a decimal comma; NaN becomes an empty field."""
    values = np.asarray(values, dtype=float)
    text = np.full(values.shape, "", dtype=object)
    present = ~np.isnan(values)
    if present.any():
        text[present] = np.char.replace(np.char.mod(f"%.{digits}f", values[present]), ".", ",")
    return text


def _draw_dates(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Random days between ``first`` and ``last`` (datetime64[D] arrays, inclusive)."""
    span = (last - first).astype(int)
    return first + rng.integers(0, np.maximum(span, 0) + 1).astype("timedelta64[D]")


def _format_yyyymmdd(days: np.ndarray) -> np.ndarray:
    return np.char.replace(np.datetime_as_string(days, unit="D"), "-", "")


def _make_label_rows(
    rng: np.random.Generator,
    pe: np.ndarray,
    day: np.ndarray,
    gebouwklasse: str,
    new: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The label columns of registrations made on ``day`` for energy performance ``pe``.

    Before 2021 labels were NEN 7120 labels with an energy index (and no class above A++);
    later ones are NTA 8800 labels with their energy figures. ``new`` marks labels of new
    buildings, which come with the requirements of the building code.
    """
    n = pe.size
    nta = day >= np.datetime64("2021-01-01")
    label = np.searchsorted(_LABEL_BOUNDS, pe, side="left")
    label = np.where(nta, label, np.maximum(label, _LABELS.index("A++")))
    klasse = np.array(_LABELS)[label]
    ei_low = np.array([_EI_BOUNDS.get(k, (0.0, 0.0))[0] for k in klasse])
    ei_high = np.array([_EI_BOUNDS.get(k, (0.0, 0.0))[1] for k in klasse])
    energy_index = np.where(nta, np.nan, rng.uniform(ei_low, ei_high))
    renewable = np.clip(
        np.interp(pe, [-50, 50, 150, 400], [85, 55, 15, 2]) + rng.normal(0, 4, n), 0, 100
    )
    demand = np.where(nta, np.maximum(pe, 15) * rng.uniform(0.5, 0.7, n) + 20, np.nan)
    new = np.zeros(n, bool) if new is None else new & nta
    return {
        "Energieklasse": klasse,
        "Registratiedatum": _format_yyyymmdd(day),
        "GeldigTot": _format_yyyymmdd(day + np.timedelta64(3652, "D")),
        "Opnamedatum": _format_yyyymmdd(day - rng.integers(1, 60, n).astype("timedelta64[D]")),
        "Berekeningstype": np.where(
            nta,
            np.where(
                day < np.datetime64("2022-07-01"),
                "NTA 8800:2020 (basisopname woningbouw)",
                "NTA 8800:2022 (basisopname woningbouw)",
            ),
            rng.choice(["ISSO 82.3", "NEN 7120"], n),
        )
        if gebouwklasse == "W"
        else np.where(nta, "NTA 8800:2022 (utiliteitsbouw)", "NEN 7120"),
        "SoortOpname": np.where(
            nta, np.where(new | (rng.random(n) < 0.15), "Detailopname", "Basisopname"), ""
        ),
        "Status": np.where(new, "Nieuwbouw", "Bestaand"),
        "OpBasisVanReferentiegebouw": np.where(rng.random(n) < 0.12, "true", "false"),
        "Gebouwklasse": np.full(n, gebouwklasse),
        "Energiebehoefte": _format_decimal(demand, 1),
        "Warmtebehoefte": _format_decimal(demand * rng.uniform(0.6, 0.8, n), 1),
        "PrimaireFossieleEnergie": _format_decimal(np.where(nta, pe, np.nan), 1),
        "AandeelHernieuwbareEnergie": _format_decimal(np.where(nta, renewable, np.nan), 1),
        "BerekendeCO2Emissie": _format_decimal(np.where(nta, np.maximum(pe, 0) * 0.18, np.nan), 1),
        "BerekendeEnergieverbruik": _format_decimal(
            np.where(nta, np.maximum(pe, 0) * 0.85 + 25, np.nan), 1
        ),
        "EnergieIndex": _format_decimal(energy_index, 2),
        "PrimaireFossieleEnergieEMGForfaitair": _format_decimal(
            np.where(nta, pe * rng.uniform(1.0, 1.15, n), np.nan), 1
        ),
        "AandeelHernieuwbareEnergieEMGForfaitair": _format_decimal(
            np.where(nta, renewable * 0.9, np.nan), 1
        ),
        "Temperatuuroverschrijding": _format_decimal(
            np.where(new, rng.uniform(0, 1.1, n), np.nan), 2
        ),
        "EisEnergiebehoefte": _format_decimal(np.where(new, rng.uniform(55, 70, n), np.nan), 1),
        "EisPrimaireFossieleEnergie": _format_decimal(np.where(new, 30.0, np.nan), 1),
        "EisAandeelHernieuwbareEnergie": _format_decimal(np.where(new, 40.0, np.nan), 1),
        "EisTemperatuuroverschrijding": _format_decimal(np.where(new, 1.2, np.nan), 2),
        "Certificaathouder": rng.choice(_CERTIFICAATHOUDERS, n),
    }


_SBI = {
    "winkelfunctie": "4711", "kantoorfunctie": "6920", "onderwijsfunctie": "8520",
    "gezondheidszorgfunctie": "8621", "logiesfunctie": "5510", "sportfunctie": "9311",
    "bijeenkomstfunctie": "5630", "industriefunctie": "2511", "overige gebruiksfunctie": "5210",
}  # fmt: skip


def _parse_day(text: str, n: int) -> np.ndarray:
    """``n`` copies of the date ``text`` (YYYY-MM-DD)."""
    return np.full(n, np.datetime64(text, "D"))


def _get_year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[Y]").astype(int) + 1970


def make_ep_online_rows(
    rng: np.random.Generator, d: pd.DataFrame, units: pd.DataFrame, panden: pd.DataFrame
) -> pd.DataFrame:
    """Registrations in the EP-Online v5 CSV layout (all values as text).

    About half of the dwellings have a label: most new and corporation homes, few old
    owner-occupied detached houses. Some dwellings were labelled twice (the older label worse),
    some utility buildings are labelled, and some rows concern objects outside the region.

    Parameters
    ----------
    rng
        Random stream of this stage.
    d
        The dwellings of :func:`woonvoorraad.demo.statistics.draw_dwelling_traits`.
    units, panden
        All units and panden (utility buildings, addresses).

    Returns
    -------
    pandas.DataFrame
        The rows in random order, columns as ``V5_COLUMNS``.
    """
    stock = d[d["in_stock"]]
    bouwjaar, eigendom = stock["bouwjaar"].to_numpy(), stock["eigendom"].to_numpy()
    old_detached = (stock["wtype"].to_numpy() == "vrijstaand") & (bouwjaar < 1945)
    p = np.select(
        [bouwjaar >= 2021, eigendom == "corporatie", bouwjaar >= 1990, eigendom == "particulier",
         old_detached],
        [0.95, 0.75, 0.62, 0.45, 0.15],
        0.33,
    )  # fmt: skip
    reg = stock[rng.random(len(stock)) < p]
    n = len(reg)
    built = reg["bouwjaar"].to_numpy()

    # registration day: new homes on completion, most others since the 2021 label rules
    new_home = built >= 2021
    recent = new_home | (rng.random(n) < 0.55)
    completed = (built - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 30
    first = np.where(
        new_home,
        completed,
        np.where(recent, _parse_day("2021-01-01", n), _parse_day("2014-01-01", n)),
    )
    day = _draw_dates(
        rng, first, np.where(recent, _parse_day("2023-10-31", n), _parse_day("2020-12-31", n))
    )
    pe_orig, pe_now = reg["pe_orig"].to_numpy(), reg["pe"].to_numpy()
    renovated = reg["renovated"].to_numpy()
    pe = np.where(renovated & (_get_year(day) < reg["reno_year"].to_numpy()), pe_orig, pe_now)

    # ~3% of dwellings were labelled twice: an old label before improvements, a newer one after
    older = np.flatnonzero(built < 1992)
    twice = np.sort(rng.choice(older, min(older.size, round(0.03 * len(stock))), replace=False))
    first_day = _draw_dates(
        rng, _parse_day("2014-01-01", twice.size), _parse_day("2019-12-31", twice.size)
    )
    day[twice] = _draw_dates(
        rng, _parse_day("2020-06-01", twice.size), _parse_day("2023-10-31", twice.size)
    )
    improvement = np.where(renovated[twice], 1.0, rng.uniform(0.75, 0.92, twice.size))
    pe[twice] = np.where(renovated[twice], pe_now[twice], pe_orig[twice]) * improvement
    first_pe = np.maximum(pe_orig[twice], pe[twice] + 30)

    rows = pd.concat([reg, reg.iloc[twice]], ignore_index=True)
    days = np.r_[day, first_day]
    wtypes = rows["wtype"].to_numpy()
    flat = ~np.isin(wtypes, EENGEZINS)
    dwelling_frame = pd.DataFrame({
        **_make_address_fields(rows, panden),
        **_make_label_rows(rng, np.r_[pe, first_pe], days, "W",
                      new=_get_year(days) <= rows["bouwjaar"].to_numpy() + 1),
        "Gebouwtype": np.where(flat, "Appartement", [_EP_TYPE.get(t, "") for t in wtypes]),
        "Gebouwsubtype": [_EP_SUBTYPE.get(t, "") for t in wtypes],
        "Bouwjaar": rows["bouwjaar"].astype(str).to_numpy(),
        "GebruiksoppervlakteThermischeZone": _format_decimal(
            rows["area"].to_numpy() * rng.uniform(0.95, 1.05, len(rows)), 1
        ),
        "Compactheid": _format_decimal(
            np.where(flat, rng.uniform(0.5, 1.3, len(rows)), rng.uniform(1.4, 2.8, len(rows))), 2
        ),
    })  # fmt: skip

    # utility buildings
    in_use = units["status"] == "Verblijfsobject in gebruik"
    utility = units[~units["doel"].str.contains("woonfunctie") & in_use]
    utility = utility[rng.random(len(utility)) < 0.35]
    k = len(utility)
    utility_frame = pd.DataFrame({
        **_make_address_fields(utility, panden),
        **_make_label_rows(rng, rng.lognormal(np.log(210), 0.45, k),
                           _draw_dates(rng, _parse_day("2014-01-01", k),
                                       _parse_day("2023-10-31", k)), "U"),
        "SBICode": [_SBI.get(doel, "") for doel in utility["doel"].to_numpy()],
        "Bouwjaar": panden["year"].to_numpy()[utility["pand"].to_numpy()].astype(str),
        "GebruiksoppervlakteThermischeZone": _format_decimal(utility["area"].to_numpy(), 1),
        "Compactheid": _format_decimal(rng.uniform(0.3, 1.2, k), 2),
    })  # fmt: skip

    # objects outside the region: dwellings elsewhere (01), houseboats (02) and caravans (03)
    k = max(10, round(0.01 * len(dwelling_frame)))
    kind = rng.choice(["01", "02", "03"], k, p=[0.8, 0.12, 0.08])
    ids = np.array([
        f"{gm}{code}{number:010d}"
        for gm, code, number in zip(rng.integers(9911, 9916, k), kind, rng.integers(1, 10**9, k),
                                    strict=True)
    ])  # fmt: skip
    outside_frame = pd.DataFrame({
        "BAGVerblijfsobjectID": np.where(kind == "01", ids, ""),
        "BAGLigplaatsID": np.where(kind == "02", ids, ""),
        "BAGStandplaatsID": np.where(kind == "03", ids, ""),
        "Postcode": rng.integers(7900, 7999, k).astype(str)
        + np.array(POSTCODE_LETTERS)[rng.integers(0, 200, k)],
        "Huisnummer": rng.integers(1, 200, k).astype(str),
        **_make_label_rows(rng, rng.lognormal(np.log(250), 0.35, k),
                           _draw_dates(rng, _parse_day("2014-01-01", k),
                                       _parse_day("2023-10-31", k)), "W"),
        "Gebouwtype": np.select([kind == "02", kind == "03"], ["Woonboot", "Woonwagen"],
                                "Rijwoning tussen"),
        "Bouwjaar": rng.integers(1930, 2020, k).astype(str),
        "GebruiksoppervlakteThermischeZone": _format_decimal(rng.uniform(40, 140, k), 1),
    })  # fmt: skip

    table = pd.concat([dwelling_frame, utility_frame, outside_frame], ignore_index=True)
    table = table.reindex(columns=list(V5_COLUMNS), fill_value="").fillna("")
    return table.iloc[rng.permutation(len(table))].reset_index(drop=True)


def _make_address_fields(frame: pd.DataFrame, panden: pd.DataFrame) -> dict[str, np.ndarray]:
    """The BAG identification and address columns of EP-Online for some units."""
    pand_id = panden["pand_id"].to_numpy()
    first = pand_id[frame["pand"].to_numpy()]
    second = frame["pand2"].to_numpy()
    return {
        "BAGVerblijfsobjectID": frame["vbo_id"].to_numpy(),
        "BAGPandIDs": np.where(second >= 0, first + "," + pand_id[np.maximum(second, 0)], first),
        "Postcode": frame["postcode"].to_numpy(),
        "Huisnummer": frame["huisnummer"].astype(str).to_numpy(),
        "Huisletter": frame["huisletter"].fillna("").to_numpy(),
        "Huisnummertoevoeging": frame["toevoeging"].fillna("").to_numpy(),
    }


def make_true_labels(d: pd.DataFrame) -> pd.DataFrame:
    """The energy label every dwelling of the stock would get today: SYNTHETIC TRUTH.

    The generator draws a current energy performance (primary fossil energy, kWh/m².yr,
    after any renovation) for every dwelling, labelled or not; its NTA 8800 class is the
    truth against which estimated labels can be checked (A+ classes as "A"). Registered
    labels can differ from it: a label registered before a renovation, or a pre-2021
    NEN 7120 label.

    Parameters
    ----------
    d
        The dwellings of :func:`woonvoorraad.demo.statistics.draw_dwelling_traits`.

    Returns
    -------
    pandas.DataFrame
        ``vbo_id``, ``energielabel_waar`` (A … G), ``energieprestatie`` (kWh/m².yr), one
        row per dwelling in the stock, sorted by ``vbo_id``.
    """
    stock = d[d["in_stock"]]
    pe = stock["pe"].to_numpy(dtype=float)
    label = np.maximum(np.searchsorted(_LABEL_BOUNDS, pe, side="left"), _LABELS.index("A"))
    return pd.DataFrame({
        "vbo_id": stock["vbo_id"].astype(str).to_numpy(),
        "energielabel_waar": np.array(_LABELS)[label],
        "energieprestatie": np.round(pe, 1),
    }).sort_values("vbo_id", kind="mergesort").reset_index(drop=True)


def write_ep_online(path: Path, rows: pd.DataFrame, mutatievolgnummer: int) -> None:
    """Write the EP-Online CSV (UTF-8 with BOM, two preamble lines, ``;``) zipped, atomically.

    Parameters
    ----------
    path
        The ZIP file to write.
    rows
        The rows of :func:`make_ep_online_rows`.
    mutatievolgnummer
        Sequence number of the publication, written in the preamble.
    """
    text = io.StringIO()
    text.write(f"PublicatieDatum;{_EP_PUBLICATION}\n")
    text.write(f"LaatstVerwerkteMutatievolgnummer;{mutatievolgnummer}\n")
    rows.to_csv(text, sep=";", index=False, lineterminator="\n")
    member = zipfile.ZipInfo(_EP_MEMBER, date_time=(2023, 11, 1, 0, 0, 0))
    member.external_attr = 0o644 << 16
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr(
            member, text.getvalue().encode("utf-8-sig"), compress_type=zipfile.ZIP_DEFLATED
        )
