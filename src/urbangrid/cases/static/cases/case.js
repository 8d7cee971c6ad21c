// The case page's small map: the case point on a plain background (tiles only when configured).
(function () {
  "use strict";
  const el = document.getElementById("case-map");
  if (!el || !window.L) return;
  const at = UGCoords.toMap(parseFloat(el.dataset.lat), parseFloat(el.dataset.lon));
  const map = L.map(el, { zoomControl: true, attributionControl: !!el.dataset.tileUrl }).setView(at, 16);
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
  L.circleMarker(at, { radius: 9, color: "#b00020", weight: 3, fillOpacity: 0.6 }).addTo(map);
  el.dataset.shown = `${at.lng.toFixed(7)},${at.lat.toFixed(7)}`;  // where it is drawn (GCJ-02 tiles shift it)
  el.dataset.ready = "1";
})();
