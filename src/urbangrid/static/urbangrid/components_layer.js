// The component layer (部件) of the staff maps (the city map, the leaders' dashboard): once the map is zoomed in to
// MIN_ZOOM or more, the components in view come from /api/v1/components/map (a bounded box, a bounded count) after
// every move, one point per asset coloured by its state, with a link to its page. Zoomed out it holds nothing and
// says so. The page's texts come as JSON in #component-layer-labels (catalog/components.py: layer_labels).
// Tests read el.dataset.components on the map's container: a count, "zoom" (zoomed out), "off" or "error"; and
// el.ugComponents, the layer (its markers may be drawn on a canvas).
(function () {
  "use strict";
  const MIN_ZOOM = 16;  // about 0.04° across a wide screen; the server refuses boxes over 0.1°
  const COLORS = { intact: "#2e7d32", damaged: "#ef6c00", lost: "#c62828", abandoned: "#8a8f94", removed: "#546e7a" };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function labels() {
    const el = document.getElementById("component-layer-labels");
    return el ? JSON.parse(el.textContent) : { layer: "部件", zoom_in: "放大地图以显示部件", truncated: "", load_error: "" };
  }

  function marker(f) {
    const p = f.properties;
    const [lon, lat] = f.geometry.coordinates;
    return L.circleMarker(UGCoords.toMap(lat, lon), {
      radius: 5, color: "#fff", weight: 1.2, fillColor: COLORS[p.state] || COLORS.removed, fillOpacity: 0.95,
      className: `ug-component ug-component-${p.state}`,
      bubblingMouseEvents: false,  // a click opens the asset's popup, not the map's own click (the city map's lookup)
    }).bindPopup(`<a href="/components/${encodeURIComponent(p.identifier)}/">${esc(p.identifier)}</a><br>` +
                 `${esc(p.class_code)} ${esc(p.name || p.class_name)} · ${esc(p.state_label)}`);
  }

  // An L.LayerGroup for ``map``: it loads what is in view while it is on the map.
  function layer(map) {
    const L10N = labels();
    const group = L.layerGroup();
    const el = map.getContainer();
    let seq = 0, pending = null;
    const Note = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd() { const div = L.DomUtil.create("div", "ug-component-note leaflet-bar"); div.hidden = true; return div; },
    });
    const note = new Note();
    function say(text) {
      const div = note.getContainer();
      if (!div) return;
      div.textContent = text || "";
      div.hidden = !text;
    }
    async function refresh() {
      if (!map.hasLayer(group)) return;
      const mine = ++seq;
      if (pending) pending.abort();
      pending = null;
      if (map.getZoom() < MIN_ZOOM) {
        group.clearLayers();
        el.dataset.components = "zoom";
        say(L10N.zoom_in);
        return;
      }
      const b = map.getBounds();
      const sw = UGCoords.fromMap(b.getSouthWest()), ne = UGCoords.fromMap(b.getNorthEast());
      const bbox = [sw.lng, sw.lat, ne.lng, ne.lat].map((v) => v.toFixed(6)).join(",");
      pending = new AbortController();
      try {
        const r = await fetch(`/api/v1/components/map?bbox=${bbox}`, { credentials: "same-origin", signal: pending.signal,
                                                                         headers: { Accept: "application/json" } });
        const body = await r.json();
        if (mine !== seq) return;
        if (!r.ok) throw new Error(body && body.detail ? body.detail : r.statusText);
        group.clearLayers();
        body.features.forEach((f) => group.addLayer(marker(f)));
        el.dataset.components = String(body.features.length);
        say(body.truncated ? L10N.truncated : "");
      } catch (err) {
        if (err.name === "AbortError" || mine !== seq) return;
        group.clearLayers();
        el.dataset.components = "error";
        say(`${L10N.load_error} ${err.message || ""}`.trim());
      }
    }
    map.on("moveend", refresh);  // a zoom ends with a moveend too
    group.on("add", () => { note.addTo(map); refresh(); });
    group.on("remove", () => {
      seq++;
      if (pending) pending.abort();
      group.clearLayers();
      note.remove();
      el.dataset.components = "off";
    });
    el.dataset.components = "off";
    el.ugComponents = group;
    return group;
  }

  window.UGComponents = { layer, labels, COLORS, MIN_ZOOM };
})();
