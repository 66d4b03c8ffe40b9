"""Gemeente lookup by name or code, and the region presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from _testserver import ReplayServer, fast_io, no_internet, replay_settings
from woonvoorraad import settings
from woonvoorraad.errors import GemeenteNotFoundError
from woonvoorraad.sources.gemeenten import (
    REGIONS,
    Gemeente,
    gemeente_from_query,
    gemeenten_from_pdok,
    gemeenten_from_queries,
    gemeenten_from_region,
    normalise_code,
)

HTTP_DATA = Path(__file__).parent / "data" / "http"
LIST = "/cbs/wijken-en-buurten-2024/ogc/v1/collections/gemeenten/items"


@pytest.fixture(scope="module")
def server():
    with no_internet(), ReplayServer(HTTP_DATA) as srv:
        yield srv


@pytest.fixture
def srv(server, tmp_path):
    server.clear()
    with no_internet(), fast_io(), replay_settings(server, cache_dir=tmp_path / "cache"):
        yield server


@pytest.fixture
def offline(tmp_path):
    """No server at all: only the built-in table may be used."""
    with no_internet(), ReplayServer(HTTP_DATA) as srv, replay_settings(
            srv, cache_dir=tmp_path / "cache", offline=True):
        yield srv


@pytest.mark.parametrize("query", ["Emmen", "emmen", "EMMEN", " Emmen ", "GM0114", "gm0114",
                                   "0114", "114", "GM114"])
def test_emmen_by_name_or_code_offline(offline, query):
    assert gemeente_from_query(query).code == "GM0114"
    assert offline.total_hits == 0


@pytest.mark.parametrize(("query", "code"), [("borger odoorn", "GM1681"),
                                             ("Borger-Odoorn", "GM1681"),
                                             ("AA EN HUNZE", "GM1680"), ("hardenberg", "GM0160"),
                                             ("160", "GM0160"), ("Coevorden", "GM0109"),
                                             ("hoogeveen", "GM0118")])
def test_builtin_region_gemeenten(offline, query, code):
    assert gemeente_from_query(query).code == code


def test_normalise_code():
    assert [normalise_code(t) for t in ("GM0114", "gm114", "0114", "114", "Emmen", "GM12345")] \
        == ["GM0114", "GM0114", "GM0114", "GM0114", None, None]


def test_region_presets_are_versioned(offline):
    first = gemeenten_from_region("regiodeal-zuid-oost-drenthe")
    second = gemeenten_from_region("regiodeal-zuid-oost-drenthe-2023")
    assert [g.naam for g in first] == ["Aa en Hunze", "Borger-Odoorn", "Coevorden", "Emmen",
                                       "Hardenberg", "Hoogeveen"]
    assert {g.code for g in first} - {g.code for g in second} == {"GM1680"}
    assert len(second) == 5
    assert REGIONS["regiodeal-zuid-oost-drenthe"].period == "2019-2023"
    assert offline.total_hits == 0


def test_unknown_region_lists_the_presets():
    with pytest.raises(GemeenteNotFoundError, match="did you mean: regiodeal-zuid-oost-drenthe"):
        gemeenten_from_region("regiodeal-zuid-oost")


def test_other_gemeente_from_the_pdok_list(srv):
    assert gemeente_from_query("Assen") == Gemeente("GM0106", "Assen")
    assert gemeente_from_query("'s-gravenhage").code == "GM0518"
    assert srv.hits[LIST] == 1
    assert gemeente_from_query("GM0363").naam == "Amsterdam"
    assert srv.hits[LIST] == 1  # remembered


def test_list_is_read_from_the_cache_later(srv):
    gemeenten_from_pdok()
    from woonvoorraad.sources import gemeenten

    gemeenten._memo.clear()
    settings.offline = True
    names = [g.naam for g in gemeenten_from_pdok()]
    assert "Emmen" in names and "Midden-Drenthe" in names
    assert srv.hits[LIST] == 1


def test_typo_gives_the_closest_names(srv):
    with pytest.raises(GemeenteNotFoundError, match=r"unknown gemeente 'Emmn'; did you mean: "
                                                    r"Emmen") as info:
        gemeente_from_query("Emmn")
    assert isinstance(info.value, LookupError)
    with pytest.raises(GemeenteNotFoundError, match="Hoogeveen"):
        gemeente_from_query("Hogeveen")


def test_name_without_any_similar_name(srv):
    with pytest.raises(GemeenteNotFoundError, match="no similar names"):
        gemeente_from_query("Xyzzyville")


def test_unknown_code(srv):
    with pytest.raises(GemeenteNotFoundError, match="GM9999 does not exist"):
        gemeente_from_query("GM9999")


def test_offline_typo_says_the_list_is_not_cached(offline):
    with pytest.raises(GemeenteNotFoundError, match="not in the cache") as info:
        gemeente_from_query("Emmn")
    assert "Emmen" in str(info.value)  # still suggested from the built-in table


def test_known_gemeenten_are_searched_without_network(offline):
    known = [Gemeente("GM0106", "Assen")]
    assert gemeente_from_query("assen", known=known, allow_network=False).code == "GM0106"
    with pytest.raises(GemeenteNotFoundError, match="only the built-in"):
        gemeente_from_query("Zwolle", allow_network=False)


def test_queries_and_region_without_duplicates(offline):
    out = gemeenten_from_queries(["Emmen", "GM0114", "coevorden"],
                                 region="regiodeal-zuid-oost-drenthe-2023")
    assert [g.code for g in out] == ["GM1681", "GM0109", "GM0114", "GM0160", "GM0118"]
