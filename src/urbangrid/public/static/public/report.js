// Public report page: pick the place on a map (or from GPS); a submission id makes resubmits safe.
(function () {
  "use strict";
  const el = document.getElementById("pick-map");
  const sid = document.getElementById("submission_id");
  if (sid && !sid.value) sid.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  if (!el || !window.L) return;
  const lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat");
  const start = lat.value && lon.value ? [parseFloat(lat.value), parseFloat(lon.value)]
    : (el.dataset.lat ? [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)] : [31.865, 117.25]);
  const map = L.map(el).setView(start, el.dataset.lat ? 17 : 14);
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  fetch("/public/grids.json").then((r) => r.ok ? r.json() : null).then((g) => {
    if (g) L.geoJSON(g, { style: { color: "#0b63c5", weight: 1, fillOpacity: 0.05 }, interactive: false }).addTo(map);
  }).catch(() => {});
  let marker = null;
  function place(latlng) {
    if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng, { draggable: true }).addTo(map).on("dragend", (e) => place(e.target.getLatLng()));
    lat.value = latlng.lat.toFixed(7);
    lon.value = latlng.lng.toFixed(7);
  }
  if (lat.value && lon.value) place(L.latLng(start[0], start[1]));
  else if (el.dataset.lat) place(L.latLng(start[0], start[1]));
  map.on("click", (e) => place(e.latlng));
  const gps = document.getElementById("use-gps");
  if (gps) gps.addEventListener("click", () => navigator.geolocation && navigator.geolocation.getCurrentPosition(
    (p) => { const ll = L.latLng(p.coords.latitude, p.coords.longitude); place(ll); map.setView(ll, 17); }));
})();
