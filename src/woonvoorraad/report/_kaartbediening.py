"""The controls of a buurt map: title, synthetic-data banner, legend, tooltips, attribution.

Used by :func:`woonvoorraad.report.maps.map_from_buurten`. Every text from the data reaches the
page through :func:`~woonvoorraad.report._folium.js_json` and ``textContent`` (never as markup
or template source).

Small screens
    A map container narrower than :data:`~woonvoorraad.report._folium.SMAL_BREEDTE` or lower
    than :data:`~woonvoorraad.report._folium.SMAL_HOOGTE` pixels (a phone, a small notebook
    frame) gets the class ``wv-smal``, checked again when the map is resized. Then the layer
    list is folded into its button (:class:`~woonvoorraad.report._folium._LayerControl`),
    the title and legend are set smaller, and the whole of the controls leaves at least 75 %
    of a 390×844 phone screen to the map (measured in ``tests/test_browser_maps_phone.py``).
    On every screen the legend folds and unfolds with its heading, the attribution is one
    line that opens in full when tapped, and the banner is a strip along the top edge that
    the other controls sit below.
"""

from __future__ import annotations

from typing import Any

import folium
from jinja2 import Template

from woonvoorraad.report._folium import (
    SMAL_BREEDTE,
    SMAL_HOOGTE,
    SMAL_KLASSE,
    _EenmaalGerenderd,
    js_json,
)

CSS = """
.leaflet-container { background: #f3f3ef; font: 13px/1.4 system-ui, "Segoe UI", Roboto,
  Helvetica, Arial, sans-serif; }
.wv-tooltip { padding: 6px 9px; max-width: 440px; white-space: normal; font-size: 12px; }
.wv-tt-titel { font-weight: 600; font-size: 14px; margin-bottom: 3px; }
.wv-tooltip table { border-collapse: collapse; }
.wv-tooltip th { text-align: left; font-weight: normal; color: #555; padding: 0 12px 0 0;
  white-space: nowrap; }
.wv-tooltip td { text-align: right; padding: 0; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.wv-tooltip td.wv-tt-lang { white-space: normal; text-align: left; min-width: 200px; }
.wv-tooltip tr.wv-tt-actief th, .wv-tooltip tr.wv-tt-actief td { font-weight: 600;
  color: #111; }
.wv-tt-kandidaat { margin-top: 4px; padding-top: 4px; border-top: 1px solid #ddd;
  color: #7a2e00; font-weight: 600; max-width: 400px; }
.wv-legenda, .wv-titel { background: rgba(255,255,255,.94); padding: 8px 10px;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.wv-legenda { max-width: 260px; }
.wv-legenda-kop { display: flex; align-items: flex-start; gap: 8px; width: 100%;
  margin: 0 0 2px; padding: 0; border: 0; background: none; font: inherit; color: inherit;
  text-align: left; cursor: pointer; }
.wv-legenda.wv-dicht .wv-legenda-kop { margin: 0; }
.wv-legenda-titel { font-weight: 600; }
.wv-legenda-pijl { margin-left: auto; color: #555; }
.wv-legenda-uitleg { color: #555; font-size: 11px; margin-bottom: 4px; display: -webkit-box;
  -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; cursor: pointer; }
.wv-legenda-uitleg.wv-open { display: block; }
.wv-legenda-rij { display: flex; align-items: center; margin: 1px 0; }
.wv-legenda-vak { width: 18px; height: 12px; margin-right: 6px; flex: none;
  border: 1px solid rgba(0,0,0,.2); }
.wv-legenda-kandidaat { background: transparent; border: 3px solid #111; height: 8px;
  width: 14px; }
.wv-legenda-dorp { width: 10px; height: 10px; margin: 0 10px 0 4px; border-radius: 50%;
  background: #fff; border: 1.5px solid #444; }
.wv-legenda-rij span + .wv-legenda-dorp { margin-left: 12px; }
.wv-legenda-dorp.wv-legenda-kandidaat { background: #f4a300; border: 3px solid #111;
  width: 8px; height: 8px; }
.wv-titel { font-size: 15px; font-weight: 600; max-width: min(420px, 45vw); max-height: 30vh;
  overflow-y: auto; overflow-wrap: anywhere; }
.wv-titel small { display: block; font-weight: normal; font-size: 11px; color: #555; }
.wv-banner { position: absolute; z-index: 1000; top: 0; left: 0; right: 0;
  background: #b00020; color: #fff; font-weight: 700; font-size: 12px; line-height: 1.4;
  padding: 3px 8px; text-align: center; letter-spacing: .03em; pointer-events: none;
  box-shadow: 0 1px 3px rgba(0,0,0,.35); overflow-wrap: anywhere; }
.leaflet-control-layers-expanded { padding: 4px 10px 4px 6px; }
.leaflet-control-layers label { font-size: 12.5px; line-height: 1.3; margin: 0; }
.leaflet-control-layers-separator { margin: 3px -10px 3px -6px; }
.leaflet-control-attribution.wv-attributie { white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; cursor: pointer; }
.leaflet-control-attribution.wv-attributie.wv-open { white-space: normal; }
.wv-smal .wv-titel { font-size: 13px; padding: 5px 8px; max-width: 55vw; }
.wv-smal .wv-banner { font-size: 11px; letter-spacing: 0; padding: 2px 6px; }
.wv-smal .wv-titel small { font-size: 10px; }
.wv-smal .wv-legenda { max-width: min(58vw, 240px); padding: 5px 8px; font-size: 11px;
  line-height: 1.3; }
.wv-smal .wv-legenda-uitleg { font-size: 10px; -webkit-line-clamp: 1; width: 0; min-width: 100%; }
.wv-smal .wv-legenda-uitleg.wv-open { display: block; width: auto; }
.wv-smal .wv-legenda-vak { width: 14px; height: 10px; }
.wv-smal .wv-legenda-rij { margin: 0; }
"""

_SCRIPT = Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  "use strict";
  var kaart = {{ this.kaart.get_name() }};
  var laag = {{ this.laag.get_name() }};
  var cfg = {{ this.cfg_js }};
  var groepen = [
    {%- for g in this.groepen %}{{ g.get_name() }}{{ "," if not loop.last }}{% endfor -%}
  ];
  var actief = groepen.length ? 0 : -1;
  var legendaOpen = true;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function kleur(f) {
    if (actief < 0) { return cfg.leeg; }
    var k = f.properties.k[actief];
    return k < 0 ? cfg.na_kleur : cfg.indicatoren[actief].kleuren[k];
  }
  function stijl(f) {
    return {fillColor: kleur(f), fillOpacity: 0.78, color: "#ffffff", weight: 0.9, opacity: 1};
  }
  function zetStijl() { laag.options.style = stijl; laag.setStyle(stijl); }
  function tooltip(f) {
    var p = f.properties, div = el("div"), tbl = el("table");
    div.appendChild(el("div", p.n, "wv-tt-titel"));
    for (var i = 0; i < cfg.velden.length; i++) {
      var tr = el("tr", null, (i - cfg.n_vast) === actief ? "wv-tt-actief" : "");
      tr.appendChild(el("th", cfg.velden[i]));
      tr.appendChild(el("td", p.v[i], String(p.v[i]).length > 24 ? "wv-tt-lang" : ""));
      tbl.appendChild(tr);
    }
    div.appendChild(tbl);
    if (p.p) { div.appendChild(el("div", p.p, "wv-tt-kandidaat")); }
    return div;
  }
  laag.eachLayer(function (l) {
    l.bindTooltip(function () { return tooltip(l.feature); },
                  {sticky: true, direction: "auto", className: "wv-tooltip"});
    l.on("mouseover", function (e) { e.target.setStyle({weight: 3, color: "#1a1a1a"}); });
    l.on("mouseout", function (e) { laag.resetStyle(e.target); });
  });

  function wissel(e, klasse) {
    (L.DomUtil.hasClass(e, klasse) ? L.DomUtil.removeClass : L.DomUtil.addClass)(e, klasse);
  }
  function rij(div, kleur, tekst, vakKlasse) {
    var r = el("div", null, "wv-legenda-rij"), v = el("span", null, vakKlasse);
    if (kleur) { v.style.background = kleur; }
    r.appendChild(v); r.appendChild(el("span", tekst)); div.appendChild(r);
  }
  var legenda = L.control({position: "bottomright"});
  function vulLegenda(div) {
    div.textContent = "";
    var ind = cfg.indicatoren[actief];
    var kop = el("button", null, "wv-legenda-kop");
    kop.type = "button";
    kop.setAttribute("aria-expanded", legendaOpen ? "true" : "false");
    kop.title = legendaOpen ? cfg.legenda_dicht : cfg.legenda_open;
    kop.appendChild(el("span", ind ? ind.label : cfg.geen_indicator, "wv-legenda-titel"));
    kop.appendChild(el("span", legendaOpen ? "\\u25be" : "\\u25b8", "wv-legenda-pijl"));
    L.DomEvent.on(kop, "click", function () { legendaOpen = !legendaOpen; vulLegenda(div); });
    div.appendChild(kop);
    (legendaOpen ? L.DomUtil.removeClass : L.DomUtil.addClass)(div, "wv-dicht");
    if (!legendaOpen) { return; }
    var inhoud = el("div", null, "wv-legenda-inhoud");
    if (ind) {
      if (ind.uitleg) {
        var u = el("div", ind.uitleg, "wv-legenda-uitleg");
        u.title = ind.uitleg;  // two lines (one on a small screen); a tap shows all
        L.DomEvent.on(u, "click", function (e) { wissel(e.currentTarget, "wv-open"); });
        inhoud.appendChild(u);
      }
      for (var i = 0; i < ind.kleuren.length; i++) {
        rij(inhoud, ind.kleuren[i], ind.labels[i], "wv-legenda-vak");
      }
      if (ind.heeft_na) { rij(inhoud, cfg.na_kleur, cfg.na_tekst, "wv-legenda-vak"); }
    }
    if (cfg.kandidaten) {
      rij(inhoud, null, cfg.kandidaten, "wv-legenda-vak wv-legenda-kandidaat");
    }
    if (cfg.dorpen) {  // one row: a village, and a village candidate
      rij(inhoud, null, cfg.dorpen.label, "wv-legenda-dorp");
      var dorpRij = inhoud.lastChild;
      if (cfg.dorpen.kandidaat) {
        dorpRij.appendChild(el("span", null, "wv-legenda-dorp wv-legenda-kandidaat"));
        dorpRij.appendChild(el("span", cfg.dorpen.kandidaat));
      }
    }
    div.appendChild(inhoud);
  }
  legenda.onAdd = function () {
    var div = L.DomUtil.create("div", "wv-legenda");
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    vulLegenda(div);
    this._div = div;
    return div;
  };
  legenda.addTo(kaart);
  if (L.DomUtil.hasClass(kaart.getContainer(), cfg.smal_klasse)
      && legenda._div.offsetHeight > 0.25 * kaart.getSize().y) {  // low and small: folded
    legendaOpen = false; vulLegenda(legenda._div);
  }
  kaart.on("baselayerchange", function (e) {
    var i = groepen.indexOf(e.layer);
    if (i >= 0) { actief = i; zetStijl(); vulLegenda(legenda._div); }
  });
  zetStijl();
  L.control.scale({imperial: false}).addTo(kaart);
  var attributie = kaart.attributionControl;
  if (attributie) {
    {%- if this.attributie %}
    attributie.addAttribution({{ this.attributie_js }});
    {%- endif %}
    var a = attributie.getContainer();
    L.DomUtil.addClass(a, "wv-attributie");
    a.title = a.textContent;
    L.DomEvent.on(a, "click", function (e) {
      if (e.target.tagName !== "A") { wissel(a, "wv-open"); }
    });
  }
})();
{% endmacro %}
""")

_KADER = Template("""
{% macro script(this, kwargs) %}
(function () {
  "use strict";
  var cfg = {{ this.cfg_js }};
  var kaart = {{ this.kaart.get_name() }};
  var doos = kaart.getContainer();
  if (cfg.titel) {
    var titel = L.control({position: "topright"});
    titel.onAdd = function () {
      var div = L.DomUtil.create("div", "wv-titel");
      div.appendChild(document.createTextNode(cfg.titel));
      if (cfg.ondertitel) {
        var s = document.createElement("small"); s.textContent = cfg.ondertitel;
        div.appendChild(s);
      }
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    titel.addTo(kaart);
  }
  var banner = null;
  if (cfg.banner) {
    banner = document.createElement("div");
    banner.className = "wv-banner"; banner.textContent = cfg.banner;
    banner.setAttribute("role", "note");
    doos.appendChild(banner);
  }
  function pasAan() {
    var maat = kaart.getSize();
    var smal = maat.x < cfg.smal_breedte || maat.y < cfg.smal_hoogte;
    (smal ? L.DomUtil.addClass : L.DomUtil.removeClass)(doos, cfg.smal_klasse);
    var boven = banner ? banner.offsetHeight : 0;
    var hoeken = doos.querySelectorAll(".leaflet-top");
    for (var i = 0; i < hoeken.length; i++) { hoeken[i].style.top = boven + "px"; }
    var a = doos.querySelector(".leaflet-control-attribution");
    if (a) { a.style.maxWidth = Math.max(120, maat.x - 130) + "px"; }
  }
  pasAan();
  kaart.on("resize", pasAan);
})();
{% endmacro %}
""")


class Bediening(_EenmaalGerenderd):
    """Styling, tooltips, legend, indicator switching and attribution of the buurt layer."""

    _template = _SCRIPT

    def __init__(self, kaart: folium.Map, laag: folium.GeoJson, groepen: list[Any],
                 cfg: dict[str, Any], attributie: str | None) -> None:
        super().__init__()
        self._name = "WoonvoorraadKaart"
        self.kaart, self.laag, self.groepen = kaart, laag, groepen
        self.cfg = {"legenda_dicht": "Legenda inklappen", "legenda_open": "Legenda uitklappen",
                    "smal_klasse": SMAL_KLASSE, **cfg}
        self.cfg_js = js_json(self.cfg)
        self.css = CSS
        self.attributie = attributie
        self.attributie_js = js_json(attributie)


class Kader(_EenmaalGerenderd):
    """Title box, synthetic-data banner and the small-screen switch (add before the rest)."""

    _template = _KADER

    def __init__(self, kaart: folium.Map, *, titel: str | None, ondertitel: str | None,
                 banner: str | None) -> None:
        super().__init__()
        self._name = "WoonvoorraadKader"
        self.kaart = kaart
        self.cfg = {"titel": titel, "ondertitel": ondertitel, "banner": banner,
                    "smal_klasse": SMAL_KLASSE, "smal_breedte": SMAL_BREEDTE,
                    "smal_hoogte": SMAL_HOOGTE}
        self.cfg_js = js_json(self.cfg)


_DORPEN = Template("""
{% macro script(this, kwargs) %}
(function () {
  "use strict";
  var groep = {{ this.groep.get_name() }};
  var cfg = {{ this.cfg_js }};
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  cfg.punten.forEach(function (p) {
    var kandidaat = p.k !== null;
    var stip = L.circleMarker(p.ll, {
      radius: p.r, weight: kandidaat ? 3 : 1.5, color: kandidaat ? "#111111" : "#444444",
      fillColor: kandidaat ? "#f4a300" : "#ffffff", fillOpacity: 0.95,
      className: kandidaat ? "wv-dorp wv-dorp-kandidaat" : "wv-dorp"});
    stip.bindTooltip(function () {
      var div = el("div"), tbl = el("table");
      div.appendChild(el("div", p.n, "wv-tt-titel"));
      for (var i = 0; i < cfg.velden.length; i++) {
        var tr = el("tr");
        tr.appendChild(el("th", cfg.velden[i]));
        tr.appendChild(el("td", p.v[i]));
        tbl.appendChild(tr);
      }
      div.appendChild(tbl);
      if (p.t) { div.appendChild(el("div", p.t, "wv-tt-kandidaat")); }
      return div;
    }, {direction: "top", offset: [0, -p.r], className: "wv-tooltip"});
    groep.addLayer(stip);
  });
})();
{% endmacro %}
""")


class Dorpen(_EenmaalGerenderd):
    """Villages as circles in a layer of their own (a folium ``FeatureGroup``), with a
    tooltip each; village candidates filled orange with a thick ring.

    ``punten``: one dict per village: ``n`` (name), ``ll`` (``[lat, lon]``), ``r`` (radius in
    pixels), ``v`` (texts of ``velden``), ``k`` (rank, or None when not a candidate) and
    ``t`` (the candidate's tooltip line, or None).
    """

    _template = _DORPEN

    def __init__(self, groep: folium.FeatureGroup, *, velden: list[str],
                 punten: list[dict[str, Any]]) -> None:
        super().__init__()
        self._name = "WoonvoorraadDorpen"
        self.groep = groep
        self.cfg_js = js_json({"velden": velden, "punten": punten})
