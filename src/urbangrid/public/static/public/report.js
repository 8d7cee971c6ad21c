// Public report page: pick the place on a map (or from GPS); a submission id makes resubmits safe.
(function () {
  "use strict";
  const el = document.getElementById("pick-map");
  const sid = document.getElementById("submission_id");
  if (sid && !sid.value) sid.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  if (!el || !window.L) return;
  const lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat");
  // The form holds WGS-84; the map shows tile coordinates (UGCoords converts both ways).
  const start = lat.value && lon.value ? [parseFloat(lat.value), parseFloat(lon.value)]
    : (el.dataset.lat ? [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)] : [31.865, 117.25]);
  const startOnMap = UGCoords.toMap(start[0], start[1]);
  const map = L.map(el).setView(startOnMap, el.dataset.lat ? 17 : 14);
  UGBasemap.add(map, { tileUrl: el.dataset.tileUrl, scope: "public" });
  fetch("/public/grids.json").then((r) => r.ok ? r.json() : null).then((g) => {
    if (g) L.geoJSON(g, { coordsToLatLng: UGCoords.coordsToLatLng, style: { color: "#0b63c5", weight: 1, fillOpacity: 0.05 }, interactive: false }).addTo(map);
  }).catch(() => {});
  let marker = null;
  function place(onMap) {  // a point on the map; the form gets it back in WGS-84
    if (marker) marker.setLatLng(onMap); else marker = L.marker(onMap, { draggable: true }).addTo(map).on("dragend", (e) => place(e.target.getLatLng()));
    const w = UGCoords.fromMap(onMap);
    lat.value = w.lat.toFixed(7);
    lon.value = w.lng.toFixed(7);
  }
  if ((lat.value && lon.value) || el.dataset.lat) place(startOnMap);
  map.on("click", (e) => place(e.latlng));
  // A candidate picked in the address search box (urbangrid/address_search.js) moves the marker there.
  document.addEventListener("ug:place", (e) => { const ll = UGCoords.toMap(e.detail.lat, e.detail.lon); place(ll); map.setView(ll, 17); });
  const gps = document.getElementById("use-gps");
  if (gps) gps.addEventListener("click", () => navigator.geolocation && navigator.geolocation.getCurrentPosition(
    (p) => { const ll = UGCoords.toMap(p.coords.latitude, p.coords.longitude); place(ll); map.setView(ll, 17); }));
})();
