"""Folium elements that keep text from the data inert, and the vendored Leaflet.

Tooltips and legends are built with ``textContent`` from JSON embedded by :func:`js_json`
(which escapes ``<``, ``>``, ``&``, ``'``, ``{`` and ``}`` inside strings), so a buurt named
``<script>`` is shown as text. Layer names, which Leaflet inserts as HTML, are escaped
(:func:`html_tekst`). No name is ever Jinja source: branca renders a map in two passes (the
output of every ``MacroElement`` macro becomes a new ``branca.element.Element`` *template* and
is rendered again), so a buurt named ``{{ cycler.__init__.__globals__.os.system(…) }}`` would
run. The elements of this module, including the GeoJSON layers, hand their finished text to
the page without that second pass (:class:`_EenmaalGerenderd`), and the embedded JSON contains
no Jinja delimiter either, so the finished page renders to itself.

Leaflet 1.9.4 is shipped in ``woonvoorraad/static/leaflet``; :func:`read_leaflet_assets`
returns it ready to inline, so a map works offline.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import re
from importlib import resources
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

logger = logging.getLogger(__name__)

#: Version of the vendored Leaflet (``static/leaflet``).
LEAFLET_VERSION = "1.9.4"
LEAFLET_CDN_JS = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CDN_CSS = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"

#: Environment variable with the default background of :func:`map_from_buurten` (the report
#: runner sets it for its workers and kernels: ``render_reports(achtergrond=…)``).
ACHTERGROND_ENV = "WOONVOORRAAD_ACHTERGROND"

#: Background layers by name. PDOK BRT-Achtergrondkaart, grey variant, WMTS in Web Mercator
#: (EPSG:3857) as XYZ tiles: URL template of PDOK's ``brt/achtergrondkaart/wmts/v2_0`` service
#: (layers standaard, grijs, pastel, water; zoom 0-19), as documented by PDOK (pdok.nl,
#: "BRT Achtergrondkaart"; checked 6 December 2026). Licence CC BY 4.0, Kadaster.
ACHTERGRONDEN: dict[str, dict[str, Any]] = {
    "pdok": {
        "url": "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/"
               "{z}/{x}/{y}.png",
        "naam": "Achtergrond: BRT-Achtergrondkaart grijs (PDOK)",
        "attributie": 'Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a> '
                      "(BRT-Achtergrondkaart, CC BY 4.0, via PDOK)",
        "max_native_zoom": 19,
    },
}
#: Class the map script puts on a map container that is small (a phone, a small notebook
#: frame): controls fold and shrink (:data:`SMAL_BREEDTE`, :data:`SMAL_HOOGTE` in pixels).
SMAL_KLASSE = "wv-smal"
SMAL_BREEDTE = 700
SMAL_HOOGTE = 560
_TILE_URL = re.compile(r"https://[^\s\"'<>]+")


def resolve_achtergrond(achtergrond: str | None) -> dict[str, Any] | None:
    """The background layer for ``achtergrond``: None for no background.

    Parameters
    ----------
    achtergrond
        None, ``""`` or ``"geen"``: none; a name of :data:`ACHTERGRONDEN` (``"pdok"``); or an
        ``https://`` tile URL template with ``{z}``, ``{x}`` and ``{y}`` (your own tile server).

    Raises
    ------
    ValueError
        Naming the value and the choices.
    """
    if achtergrond is None or achtergrond.strip().lower() in ("", "geen", "none"):
        return None
    key = achtergrond.strip().lower()
    if key in ACHTERGRONDEN:
        return dict(ACHTERGRONDEN[key])
    url = achtergrond.strip()
    if _TILE_URL.fullmatch(url) and all(p in url for p in ("{z}", "{x}", "{y}")):
        return {"url": url, "naam": "Achtergrondkaart", "max_native_zoom": 19,
                "attributie": html_tekst(url.split("/")[2])}
    raise ValueError(f"unknown map background {achtergrond!r}: choose geen, "
                     f"{', '.join(ACHTERGRONDEN)} or an https:// tile URL with {{z}}, {{x}}, {{y}}")


@functools.cache
def read_leaflet_assets() -> tuple[str, str]:
    """Return the vendored Leaflet JavaScript and CSS, ready to inline.

    The ``sourceMappingURL`` comment is dropped and the CSS images become data URIs, so an
    inlined map makes no request at all.
    """
    base = resources.files("woonvoorraad").joinpath("static/leaflet")
    js = base.joinpath("leaflet.js").read_text("utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js.rstrip())
    css = base.joinpath("leaflet.css").read_text("utf-8")

    def data_uri(match: re.Match[str]) -> str:
        data = base.joinpath("images", match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover - vendored file
        raise RuntimeError("vendored Leaflet contains a closing script/style tag")
    return js, css


#: Characters escaped inside the JSON strings of a page: ``<``, ``>``, ``&`` and ``'`` so a
#: string cannot end the ``<script>`` or start markup (as jinja's ``tojson``); ``{`` and ``}``
#: so no string holds a Jinja delimiter (``{{``, ``{%``, ``{#``); U+2028/U+2029 for old
#: JavaScript parsers. ``JSON.parse``/JavaScript read the escapes back as the original text.
_JS_ESCAPES = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&'{}\u2028\u2029"})
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


def js_json(value: Any) -> str:
    r"""JSON to embed in a ``<script>``, inert for HTML and for Jinja.

    Like jinja's ``tojson``, plus ``{`` and ``}`` inside strings as ``\u007b`` and ``\u007d``:
    the text has no ``</script>``, no markup and no Jinja delimiter, whatever the strings hold,
    and evaluates to ``value``. (Between its strings, JSON never has ``{{``, ``{%`` or ``{#``.)

    Examples
    --------
    >>> js_json({"n": "{{7*7}} </script>"})
    '{"n": "\\u007b\\u007b7*7\\u007d\\u007d \\u003c/script\\u003e"}'
    >>> json.loads(js_json({"n": "{{7*7}} </script>"}))
    {'n': '{{7*7}} </script>'}
    """
    text = json.dumps(value, ensure_ascii=False)
    return _JSON_STRING.sub(lambda m: m.group(0).translate(_JS_ESCAPES), text)


def html_tekst(text: str) -> str:
    """Text for HTML (a ``<title>``, a layer name Leaflet inserts as HTML): escaped, with ``{``
    and ``}`` as character references so it holds no Jinja delimiter either.

    Examples
    --------
    >>> html_tekst("<b>{{7*7}}</b>")
    '&lt;b&gt;&#123;&#123;7*7&#125;&#125;&lt;/b&gt;'
    """
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


class _Tekst(Element):
    """Finished HTML or JavaScript, put in the page as it is: never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Tekst"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _EenmaalGerenderd(MacroElement):
    """A ``MacroElement`` whose macros are rendered once, and only once.

    branca's ``MacroElement.render`` wraps the output of the ``header``, ``html`` and
    ``script`` macros in ``Element(<output>)``, which compiles that output as a new Jinja
    template and renders it again in the ``Figure``: every string the first pass embedded
    (a buurt name in the GeoJSON, the title) would be Jinja source. This replacement adds the
    output as :class:`_Tekst`. As the last base of a folium class (``class X(folium.GeoJson,
    _EenmaalGerenderd)``) it sits just before ``MacroElement`` in the MRO, so folium's own
    ``render`` steps (layer ``addTo``, includes) still run.
    """

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"{type(self).__name__} can only be rendered inside a Figure")
        module = self._template.module
        for deel in ("header", "html", "script"):
            macro = getattr(module, deel, None)
            if macro is not None:
                getattr(figure, deel).add_child(_Tekst(str(macro(self, kwargs))),
                                                name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _GeoJson(folium.GeoJson, _EenmaalGerenderd):
    """A ``folium.GeoJson`` layer (``.data`` as usual) whose data is embedded with
    :func:`js_json` in a template of its own, rendered once.

    Supports what this module uses: ``smooth_factor`` and Leaflet options such as
    ``interactive``; every feature is styled with its ``properties.style`` (like folium
    without a ``style_function``) until a script sets another style.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJson(null, {{ this.opties_js() }});
{{ this.get_name() }}.addData({{ this.data_js() }});
{%- if this.stijl_uit_data %}
{{ this.get_name() }}.setStyle(function (f) { return f.properties.style; });
{%- endif %}
{% endmacro %}
""")

    def __init__(self, data: dict[str, Any], *, stijl_uit_data: bool = False,
                 **kwargs: Any) -> None:
        if kwargs.get("style_function") or kwargs.get("highlight_function") or kwargs.get(
                "tooltip") or kwargs.get("popup") or kwargs.get("marker"):
            raise TypeError("_GeoJson supports no style/highlight function, tooltip, popup "
                            "or marker")
        super().__init__(data, **kwargs)
        self.stijl_uit_data = stijl_uit_data

    def opties_js(self) -> str:
        opties = dict(self.options)
        if self.smooth_factor is not None:
            opties["smoothFactor"] = self.smooth_factor
        return js_json(opties)

    def data_js(self) -> str:
        return js_json(self.data)


class _FeatureGroup(folium.FeatureGroup, _EenmaalGerenderd):
    """``folium.FeatureGroup``, rendered once."""


class _LayerControl(folium.LayerControl, _EenmaalGerenderd):
    """``folium.LayerControl`` (the layer names come from indicator labels), rendered once.

    ``collapsed="auto"`` decides in the browser, when the map opens and when it is resized:
    the list is open for good when there is room for it (no :data:`SMAL_KLASSE` on the map
    container, and the open list ends above the legend and needs no scroll bar); otherwise
    it is folded into Leaflet's layer button, opens on a tap or hover and closes again after
    the reader picks an indicator, so the map and its legend show at once.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var kaart = {{ this._parent.get_name() }};
  var opties = {{ this.opties_js() }};
  var auto = {{ "true" if this.auto else "false" }};
  var basislagen = {
    {%- for key, val in this.base_layers.items() %}
    {{ key|tojson }}: {{ val }},
    {%- endfor %}
  };
  var overlays = {
    {%- for key, val in this.overlays.items() %}
    {{ key|tojson }}: {{ val }},
    {%- endfor %}
  };
  var lagen = L.control.layers(basislagen, overlays, opties);
  var vast = false;  // open for good: there is room
  var inklappen = lagen.collapse;
  lagen.collapse = function () { return vast ? this : inklappen.call(this); };
  // Leaflet 1.9 swallows the first click after a hover opens the list; an open list needs
  // no opening (the hover would otherwise eat a click on an indicator)
  var openen = lagen._expandSafely;
  if (typeof openen === "function") {
    lagen._expandSafely = function () { return vast ? this : openen.call(this); };
  }
  lagen.addTo(kaart);
  var doos = kaart.getContainer(), lijst = lagen.getContainer();
  var knop = lijst.querySelector(".leaflet-control-layers-toggle");
  if (knop) {
    knop.title = {{ this.knop_tekst }};
    knop.setAttribute("aria-label", {{ this.knop_tekst }});
  }
  var wasSmal = null;
  function kies() {
    var smal = L.DomUtil.hasClass(doos, {{ this.smal_klasse }});
    if (smal && wasSmal) { return; }  // still small: leave the list as the reader left it
    wasSmal = smal;
    vast = false;
    inklappen.call(lagen);
    if (smal) { return; }
    lagen.expand();
    var legenda = doos.querySelector(".wv-legenda");
    var onder = (legenda || doos).getBoundingClientRect()[legenda ? "top" : "bottom"];
    var sectie = lijst.querySelector(".leaflet-control-layers-list");
    vast = lijst.getBoundingClientRect().bottom + 8 <= onder
      && !L.DomUtil.hasClass(sectie, "leaflet-control-layers-scrollbar");
    if (!vast) { inklappen.call(lagen); }
  }
  if (auto) {
    kies();
    kaart.on("resize", kies);
    kaart.on("baselayerchange", function () { lagen.collapse(); });
  }
})();
{% endmacro %}
""")

    def __init__(self, *, collapsed: bool | str = True, position: str = "topright",
                 knop_tekst: str = "Kaartlagen") -> None:
        if collapsed not in (True, False, "auto"):
            raise ValueError(f"collapsed must be True, False or 'auto', not {collapsed!r}")
        super().__init__(position=position, collapsed=collapsed is not False)
        self.auto = collapsed == "auto"
        self.smal_klasse = js_json(SMAL_KLASSE)
        self.knop_tekst = js_json(knop_tekst)

    def opties_js(self) -> str:
        return js_json(self.options)


class _TileLayer(folium.TileLayer, _EenmaalGerenderd):
    """``folium.TileLayer`` (a background map), rendered once: its URL template holds
    ``{z}``, ``{x}`` and ``{y}`` and is never template source."""
