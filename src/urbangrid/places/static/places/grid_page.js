// The grid page's map: the grid's outline and its open cases (coloured by light) over the base layer.
(function () {
  "use strict";
  const el = document.getElementById("grid-map");
  if (!el || !window.L) return;
  const data = JSON.parse(document.getElementById("grid-map-data").textContent);
  const COLORS = { red: "#d32f2f", yellow: "#f9a825", green: "#2e7d32" };
  const map = L.map(el, { zoomControl: true, maxZoom: 19 });
  const outline = data.grid ? L.geoJSON(data.grid, { coordsToLatLng: UGCoords.coordsToLatLng, interactive: false,
                                                     style: { color: "#0b63c5", weight: 3, fillOpacity: 0.06 } }).addTo(map) : null;
  const cases = L.featureGroup(data.cases.map(([lon, lat, light, number]) => L.circleMarker(UGCoords.toMap(lat, lon), {
    radius: 7, color: "#fff", weight: 1.5, fillColor: COLORS[light] || "#546e7a", fillOpacity: 0.95,
  }).bindTooltip(number))).addTo(map);
  const bounds = outline && outline.getBounds().isValid() ? outline.getBounds() : cases.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
  else map.setView(UGCoords.toMap(31.86, 117.25), 14);
  UGBasemap.add(map, { tileUrl: el.dataset.tileUrl, attribution: el.dataset.tileAttribution }).finally(() => {
    el.dataset.ready = String(data.cases.length);
  });
})();
