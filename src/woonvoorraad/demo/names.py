"""Invented names of the demo region: gemeenten, dorpen, wijken, street themes, postcodes.

Any likeness to a real place is coincidental.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Names (invented; any likeness to a real place is coincidental)
# --------------------------------------------------------------------------------------------

GEMEENTEN = ("Veldermond", "Zuiderhaar", "Oldervenne", "Esselwolde", "Brakkeveen", "Hunzelo")
DORPEN = (
    "Aldervoort", "Drieschot", "Ellenhorst", "Marwolde", "Stroebelo", "Hesselveen",
    "Diepenloo", "Anserveld", "Wolvenbroek", "Heidemond", "Spijkerveen", "Hanenborg",
    "Tjalmerveen", "Zegelo", "Rensewolde", "Oldermaat", "Venneloo", "Gaasterveld",
    "Duiverwolde", "Kraanloo", "Esmerhorst", "Plaggenveen", "Schuttelo", "Bremerdiep",
    "Harmsveen", "Koppelwolde", "Barsloo", "Wijnerveld", "Lammerdiep", "Ossewolde",
)  # fmt: skip
#: Hamlets (gehuchten): woonplaatsen of their own inside a village's rural buurt, as CBS
#: buurten like "Verspreide huizen Sleen" hold addresses in Sleen and in a hamlet like Diphoorn.
GEHUCHTEN = (
    "Brunsloo", "Kibbelhorst", "Amsveld", "Tiendeveen", "Lutterhoek", "Zwinderhorst",
    "Padhuizen", "Ekkelveld", "Holtebroek", "Geesterhoek", "Wezeloo", "Noordeinde",
)  # fmt: skip
PC4_BASE = (7741, 7781, 7821, 7861, 9431, 9471)  # one block of postcodes per gemeente
DIRECTIONS = ("Oost", "Noordoost", "Noord", "Noordwest", "West", "Zuidwest", "Zuid", "Zuidoost")
OUTER_WIJKEN = ("De Velden", "Het Holt", "Esakkers", "De Maten", "Hooilanden", "Het Broek")

# Street themes: (buurt name, stems, suffixes); a theme without suffixes lists whole names.
THEMES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "centrum": ("Centrum", (
        "Brink", "Kerkstraat", "Marktplein", "Hoofdstraat", "Molenstraat", "Torenstraat",
        "Stationsstraat", "Raadhuisstraat", "Schoolstraat", "Nieuwstraat", "Kerkplein",
        "Achterstraat", "Wilhelminastraat", "Julianastraat", "Grote Kerkstraat", "Markt"), ()),
    "oranje": ("Oranjebuurt", (
        "Julianalaan", "Beatrixstraat", "Irenestraat", "Margrietstraat", "Bernhardlaan",
        "Oranjestraat", "Nassaulaan", "Emmastraat", "Prins Hendrikstraat", "Christinastraat",
        "Mauritslaan", "Frisolaan", "Willem-Alexanderstraat", "Amalialaan"), ()),
    "bloemen": ("Bloemenbuurt", (
        "Rozen", "Tulpen", "Narcissen", "Anjer", "Lelie", "Seringen", "Dahlia", "Krokus",
        "Iris", "Margrieten", "Klaproos", "Korenbloem"), ("straat", "laan", "hof", "pad")),
    "vogels": ("Vogelbuurt", (
        "Merel", "Lijster", "Spreeuwen", "Vinken", "Mezen", "Kieviet", "Reiger", "Zwaluw",
        "Specht", "Wielewaal", "Grutto", "Buizerd"), ("straat", "laan", "hof", "pad")),
    "bomen": ("Bomenbuurt", (
        "Eiken", "Beuken", "Berken", "Linden", "Essen", "Iepen", "Populieren", "Wilgen",
        "Elzen", "Kastanje", "Esdoorn", "Hazelaar"), ("laan", "straat", "hof", "dreef")),
    "schilders": ("Schildersbuurt", (
        "Rembrandt", "Vermeer", "Jan Steen", "Frans Hals", "Van Gogh", "Mesdag", "Israëls",
        "Mondriaan", "Breitner", "Ruisdael", "Potter", "Maris"), ("straat", "laan", "hof")),
    "componisten": ("Componistenbuurt", (
        "Mozart", "Bach", "Händel", "Haydn", "Chopin", "Schubert", "Verdi", "Grieg",
        "Beethoven", "Sweelinck", "Vivaldi", "Ravel"), ("straat", "laan", "hof")),
    "sterren": ("Sterrenbuurt", (
        "Orion", "Pegasus", "Andromeda", "Sirius", "Mercurius", "Venus", "Jupiter", "Saturnus",
        "Neptunus", "Pluto", "Vega", "Castor"), ("straat", "laan", "hof")),
    "rivieren": ("Rivierenbuurt", (
        "Maas", "Rijn", "Vecht", "IJssel", "Dinkel", "Regge", "Berkel", "Schelde", "Lauwers",
        "Linge", "Waal", "Eem"), ("straat", "laan", "kade")),
    "veld": ("De Horsten", (
        "Esakker", "Veldkamp", "Hooiland", "Weidegang", "Hoefslag", "Zandakker",
        "Schapendrift", "Heidegang", "Bouwland", "Kampakker", "Grasland", "Hessel"),
        ("", "weg", "hof")),
    "water": ("Het Ven", (
        "Ven", "Beek", "Sloot", "Wijk", "Vaart", "Kolk", "Poel", "Meer", "Bron", "Plas",
        "Dobbe", "Wetering"), ("straat", "weg", "hof", "kade")),
    "natuur": ("Nieuwe Es", (
        "Heide", "Duin", "Dennen", "Vlinder", "Hei", "Zonnedauw", "Gagel", "Veenpluis",
        "Wollegras", "Jeneverbes", "Brem", "Lijsterbes"), ("laan", "hof", "pad", "veld")),
    "bedrijf": ("Bedrijvenpark De Vaart", (
        "Industrieweg", "Handelsweg", "Ambachtsweg", "Nijverheidsweg", "Transportweg",
        "Edisonstraat", "Energieweg", "Havenweg", "Fabrieksweg", "Expeditieweg",
        "Magazijnweg", "Loswal"), ()),
    "dorp": ("", (
        "Brink", "Hoofdstraat", "Kerkweg", "Schoolstraat", "Esweg", "Molenweg", "Dorpsstraat",
        "Eshof", "Kampweg", "Achterweg", "Bosweg", "Veldweg", "Julianastraat", "Brinkstraat"),
        ()),
    "landelijk": ("", (
        "Hoofdweg", "Esweg", "Veenweg", "Dijkweg", "Zandweg", "Middenweg", "Broekweg",
        "Achterweg", "Kanaalweg", "Zuidersloot", "Noorderweg", "Heideweg", "Boerweg",
        "Oude Postweg", "Drift"), ()),
}  # fmt: skip
TYPE_THEMES: dict[str, tuple[str, ...]] = {
    "centrum": ("centrum",),
    "oude_schil": ("oranje",),
    "wederopbouw": ("bloemen", "vogels", "bomen"),
    "naoorlogs_laat": ("schilders", "componisten", "sterren", "rivieren"),
    "jaren80": ("veld", "water"),
    "nieuwbouw": ("natuur", "water", "veld"),
    "bedrijventerrein": ("bedrijf",),
}
BEDRIJVENTERREINEN = ("Bedrijvenpark De Vaart", "Industrieterrein Zuid", "Bedrijventerrein Kanaal")
NEW_NAMES = ("Nieuwe Es", "De Hooiakker", "Parkrijk", "De Weiden", "Waterrijk", "Het Veld")
OLD_NAMES = ("De Horsten", "Het Ven", "Zonnehof", "De Gaarden", "Esweide", "Hofstede")
POSTCODE_LETTERS = [
    a + b
    for a in "ABCDEGHJKLMNPRSTVWXZ"
    for b in "ABCDEGHJKLMNPRSTVWXZ"
    if a + b not in ("SA", "SD", "SS")
]
