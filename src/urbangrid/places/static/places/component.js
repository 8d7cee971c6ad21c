// The component page's small map: the asset's point, coloured by its state, over the base layer, and the other
// components around it (components_layer.js).
(function () {
  "use strict";
  const el = document.getElementById("component-map");
  if (!el || !window.L) return;
  const data = JSON.parse(document.getElementById("component-map-data").textContent);
  const at = UGCoords.toMap(data.lat, data.lon);
  const map = L.map(el, { zoomControl: true, maxZoom: 19, attributionControl: !!el.dataset.tileUrl }).setView(at, 18);
  UGComponents.layer(map).addTo(map);
  const marker = L.circleMarker(at, { radius: 10, color: "#0b63c5", weight: 3, fillColor: UGComponents.COLORS[data.state] || "#546e7a",
                                      fillOpacity: 0.95, className: "ug-this-component" }).addTo(map);
  el.ugMarker = marker;
  UGBasemap.add(map, { tileUrl: el.dataset.tileUrl, attribution: el.dataset.tileAttribution }).finally(() => {
    el.dataset.ready = "1";
  });
})();
