// Recently fixed problems on the city map (positions and class names only), over the city's own base layer
// (public scope) or the configured tiles. Nearby points gather into clusters that show how many they hold, so
// at city zoom the map reads as where problems were fixed rather than a wall of overlapping dots.
(function () {
  "use strict";
  const el = document.getElementById("fixed-map");
  if (!el || !window.L) return;
  const data = JSON.parse(document.getElementById("fixed-data").textContent);
  const map = L.map(el, { preferCanvas: false, maxZoom: 19 });
  UGBasemap.add(map, { tileUrl: el.dataset.tileUrl, attribution: el.dataset.tileAttribution, scope: "public" });
  const markers = data.map(([lon, lat, name, day]) =>
    L.circleMarker(UGCoords.toMap(lat, lon), { radius: 6, color: "#fff", weight: 1.5, fillColor: "#2e7d32", fillOpacity: 0.9 })
      .bindTooltip(day + " " + name));
  const cluster = window.L.markerClusterGroup ? L.markerClusterGroup({
    showCoverageOnHover: false, maxClusterRadius: 45, spiderfyOnMaxZoom: true, disableClusteringAtZoom: 18,
    iconCreateFunction: (c) => {
      const n = c.getChildCount();
      const size = n < 10 ? 34 : n < 50 ? 40 : 48;
      return L.divIcon({ html: `<div><span>${n}</span></div>`, iconSize: L.point(size, size),
                         className: "marker-cluster ug-fixed-cluster" });
    },
  }) : L.featureGroup();
  if (cluster.addLayers) cluster.addLayers(markers); else markers.forEach((m) => cluster.addLayer(m));
  cluster.addTo(map);
  el.ugCluster = cluster;
  fetch("/public/grids.json").then((r) => r.json()).then((g) => {
    const grids = L.geoJSON(g, { coordsToLatLng: UGCoords.coordsToLatLng, style: { color: "#0b63c5", weight: 1.2, fill: false }, interactive: false }).addTo(map);
    const bounds = markers.length ? L.featureGroup(markers).getBounds() : grids.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
    else map.setView(UGCoords.toMap(31.86, 117.25), 13);
    el.dataset.ready = String(data.length);
  });
})();
