"""The fetched BAG keeps the woonplaats of the PDOK OGC API, and the readers return it."""

from __future__ import annotations

import pyogrio

from test_fetch import data_dir, emmen, server, srv  # noqa: F401 - the replay fixtures
from woonvoorraad.sources import bag, pdok


def test_fetched_bag_keeps_woonplaats(emmen) -> None:  # noqa: F811
    path = emmen.inputs["bag"]
    raw = pyogrio.read_dataframe(path, layer="verblijfsobject", read_geometry=False)
    assert {"woonplaats_naam", "woonplaats_identificatie"} <= set(pdok.VBO_COLUMNS)
    assert set(raw["woonplaats_naam"]) == {"Emmen"}
    assert set(raw["woonplaats_identificatie"]) == {"1234"}
    _, units, layout = bag.read_bag_for_build(path)
    assert layout == "bag-light"
    assert set(units["woonplaats"].astype(object)) == {"Emmen"}
    assert units.attrs["woonplaats"]["n_zonder_woonplaats"] == 0
