// Recently fixed problems as dots on the city map (positions and class names only).
(function () {
  "use strict";
  const el = document.getElementById("fixed-map");
  if (!el || !window.L) return;
  const data = JSON.parse(document.getElementById("fixed-data").textContent);
  const map = L.map(el, { preferCanvas: true });
  const layer = L.featureGroup(data.map(([lon, lat, name, day]) =>
    L.circleMarker(UGCoords.toMap(lat, lon), { radius: 4, color: "#2e7d32", fillOpacity: 0.7 }).bindTooltip(day + " " + name)));
  layer.addTo(map);
  fetch("/public/grids.json").then((r) => r.json()).then((g) => {
    const grids = L.geoJSON(g, { coordsToLatLng: UGCoords.coordsToLatLng, style: { color: "#0b63c5", weight: 1, fillOpacity: 0.03 }, interactive: false }).addTo(map);
    map.fitBounds(data.length ? layer.getBounds() : grids.getBounds());
    el.dataset.ready = String(data.length);
  });
})();
