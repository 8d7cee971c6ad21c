// City map: responsibility grids, road segments and components (部件, components_layer.js) from the API; a click asks
// the locator.
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el) return;
  const map = L.map(el, { preferCanvas: true });
  UGBasemap.add(map, { tileUrl: el.dataset.tileUrl, attribution: el.dataset.tileAttribution });
  const t = (s) => (window.gettext ? window.gettext(s) : s);

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await r.json();
    if (!r.ok) throw Object.assign(new Error(body.detail || r.statusText), { body });
    return body;
  }
  Promise.all([getJSON("/api/v1/grids?limit=5000"), getJSON("/api/v1/road-segments?limit=5000")]).then(([grids, roads]) => {
    const gl = L.geoJSON(grids, {
      coordsToLatLng: UGCoords.coordsToLatLng,
      style: { color: "#0b63c5", weight: 1.5, fillOpacity: 0.08 },
      onEachFeature: (f, layer) => layer.bindTooltip(esc(f.properties.code + " " + f.properties.name)),
    }).addTo(map);
    const rl = L.geoJSON(roads, { coordsToLatLng: UGCoords.coordsToLatLng, style: { color: "#e07b00", weight: 4, opacity: 0.7 },
      onEachFeature: (f, layer) => layer.bindTooltip(esc(f.properties.name)) }).addTo(map);
    // Components (部件) in view once zoomed in, on by default; the layer control turns each overlay off and on.
    const components = UGComponents.layer(map).addTo(map);
    const names = JSON.parse(document.getElementById("map-labels").textContent);
    L.control.layers(null, { [names.grids]: gl, [names.roads]: rl, [UGComponents.labels().layer]: components },
                     { collapsed: false }).addTo(map);
    if (gl.getBounds().isValid()) map.fitBounds(gl.getBounds());
    else map.setView(UGCoords.toMap(31.86, 117.25), 13);
    el.dataset.loaded = String(grids.features.length);
  });
  const out = document.getElementById("locate-result");
  let marker = null;
  map.on("click", async (e) => {
    const { lat, lng } = UGCoords.fromMap(e.latlng);  // the locator works in WGS-84
    if (marker) marker.remove();
    marker = L.marker(e.latlng).addTo(map);
    // Where the click was on the tiles, and the WGS-84 point asked for (read by the browser tests).
    el.dataset.clickedOnMap = `${e.latlng.lng.toFixed(7)},${e.latlng.lat.toFixed(7)}`;
    el.dataset.clicked = `${lng.toFixed(7)},${lat.toFixed(7)}`;
    try {
      const r = await getJSON(`/api/v1/locate?lon=${lng.toFixed(7)}&lat=${lat.toFixed(7)}`);
      out.innerHTML = `<strong>${esc(r.unit_grid_code)}</strong> · <a href="/grids/${encodeURIComponent(r.responsibility_grid_code)}/card/">${esc(r.responsibility_grid_code)} ${esc(r.responsibility_grid_name)}</a><br>` +
        `${esc(r.district_name)} ${esc(r.street_name)} ${esc(r.community_name)}` +
        (r.road_segment_name ? `<br>${esc(r.road_segment_name)} (${esc(r.road_distance_m)} m)` : "");
      out.dataset.grid = r.responsibility_grid_code;
    } catch (err) {
      out.textContent = err.message;
      out.dataset.grid = "";
    }
  });
})();
