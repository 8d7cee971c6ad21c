// The case page's small map: the case point over the base layer (the city's grids and roads, or the configured
// tiles), coloured like its light; a case that has ended (closed, not filed, voided, merged) is grey.
(function () {
  "use strict";
  const el = document.getElementById("case-map");
  if (!el || !window.L) return;
  const COLORS = { red: "#d32f2f", yellow: "#f9a825", green: "#2e7d32" };
  const ENDED = "#8a8f94", NO_CLOCK = "#546e7a";
  const at = UGCoords.toMap(parseFloat(el.dataset.lat), parseFloat(el.dataset.lon));
  const map = L.map(el, { zoomControl: true, attributionControl: !!el.dataset.tileUrl }).setView(at, 17);
  const color = el.dataset.ended ? ENDED : COLORS[el.dataset.light] || NO_CLOCK;
  const marker = L.circleMarker(at, { radius: 9, color: "#fff", weight: 3, fillColor: color, fillOpacity: 0.95,
                                      className: "ug-case-marker" }).addTo(map);
  el.dataset.markerColor = color;
  el.ugMarker = marker;
  el.dataset.shown = `${at.lng.toFixed(7)},${at.lat.toFixed(7)}`;  // where it is drawn (GCJ-02 tiles shift it)
  UGBasemap.add(map, { tileUrl: el.dataset.tileUrl, attribution: el.dataset.tileAttribution }).finally(() => {
    el.dataset.ready = "1";
  });
})();
