"""Derive ``src/woonvoorraad/reference/pbl_warmtevraag.csv`` from the PBL Vesta MAIS key figures.

Usage::

    python tools/derive_pbl_warmtevraag.py /path/to/pbl_vesta_woningen_kentallen_20241112.csv

The source is the dwelling key-figure table of PBL's Vesta MAIS model, version 2024-11-12
(``data/20241112_Woningen_BAG.csv`` of pbl-nl/model-vesta-public, GPL-3.0). Only the
space-heating demand per label (``Vrv_<label>_asl`` in GJ per dwelling and ``Vrv_<label>_opp``
in GJ per m2 floor area, labels A..G; the no-label baseline ``N`` is left out) is kept, per
dwelling type x build period, with the type renamed to woonvoorraad's ``woningtype`` (the
mapping of ``reference/pbl_kentallen.csv``). Values are rounded to 6 significant decimals.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

TYPES = {
    "vrijstaand": "vrijstaand",
    "2 onder 1 kap": "twee_onder_een_kap",
    "rijwoning hoek": "hoekwoning",
    "rijwoning tussen": "tussenwoning",
    "meergezins: laag en midden": "meergezins_laag",
    "meergezins: hoog": "meergezins_hoog",
}
LABELS = ("A", "B", "C", "D", "E", "F", "G")
HEADER = """\
# Space-heating demand per energy label, derived from PBL Vesta MAIS kentallen 2024 (version
# 2024-11-12), file data/20241112_Woningen_BAG.csv of pbl-nl/model-vesta-public (GPL-3.0), PBL
# Netherlands Environmental Assessment Agency. Attribution: "PBL Vesta MAIS kentallen 2024".
# Subset and renamed columns: per dwelling type x build period the columns Vrv_<label>_asl
# (GJ per dwelling per year) and Vrv_<label>_opp (GJ per m2 floor area per year) for labels A..G,
# renamed vrv_<label>_asl / vrv_<label>_opp; heat demand = asl + opp x floor area. Derived with
# tools/derive_pbl_warmtevraag.py (values rounded to 6 decimals); nothing else changed.
"""


def derive(source: Path, target: Path) -> int:
    """Write the subset; return the number of rows."""
    with source.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    cols = [f"vrv_{lab.lower()}_{part}" for lab in LABELS for part in ("asl", "opp")]
    out = []
    for r in rows:
        typ = TYPES[r["type_str"].strip()]
        vals = [f"{float(r[f'Vrv_{lab}_{part}']):.6f}" for lab in LABELS for part in ("asl", "opp")]
        out.append([typ, r["bouwjaar_str"].strip(), *vals])
    with target.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["woningtype", "pbl_periode", *cols])
        w.writerows(out)
    return len(out)


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1
               else "/work/shared/reference/pbl_vesta_woningen_kentallen_20241112.csv")
    dst = Path(__file__).resolve().parents[1] / "src/woonvoorraad/reference/pbl_warmtevraag.csv"
    print(f"{derive(src, dst)} rows -> {dst}")
