// WGS-84 ↔ GCJ-02 for every map (火星坐标). Data is WGS-84 everywhere (API, forms, GPS); when the tile
// layer is drawn in GCJ-02 (AMap, Tencent) we shift what we draw onto it and shift clicked or dragged
// points back before they are sent. The datum comes from the script tag: data-crs="wgs84|gcj02".
// Python twin: urbangrid/grids/coords.py (same constants and iteration).
(function () {
  "use strict";
  // Every map of ours loads this file right after leaflet.js: Leaflet 1.9's attribution prefix carries a flag
  // before "Leaflet"; keep a plain link to Leaflet (the tile licence attribution is added by each layer).
  if (window.L && L.Control && L.Control.Attribution) {
    L.Control.Attribution.prototype.options.prefix = '<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>';
  }
  const script = document.currentScript;
  const crs = (script && script.dataset.crs) === "gcj02" ? "gcj02" : "wgs84";
  const A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;

  function outOfChina(lon, lat) { return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271); }
  function tLat(x, y) {
    let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLon(x, y) {
    let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
  }
  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    let dLat = tLat(lon - 105.0, lat - 35.0), dLon = tLon(lon - 105.0, lat - 35.0);
    const rad = lat / 180.0 * PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sq) * PI);
    dLon = (dLon * 180.0) / (A / sq * Math.cos(rad) * PI);
    return [lon + dLon, lat + dLat];
  }
  function gcj02ToWgs84(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    let wLon = lon, wLat = lat;
    for (let i = 0; i < 30; i++) {
      const g = wgs84ToGcj02(wLon, wLat), eLon = lon - g[0], eLat = lat - g[1];
      wLon += eLon; wLat += eLat;
      if (Math.abs(eLon) < 1e-9 && Math.abs(eLat) < 1e-9) break;
    }
    return [wLon, wLat];
  }
  const gcj = crs === "gcj02";
  // Display position (an L.LatLng on the tiles) of a WGS-84 point, and back.
  function toMap(lat, lon) {
    if (!gcj) return L.latLng(lat, lon);
    const p = wgs84ToGcj02(lon, lat);
    return L.latLng(p[1], p[0]);
  }
  function fromMap(latlng) {
    const ll = L.latLng(latlng);
    if (!gcj) return ll;
    const p = gcj02ToWgs84(ll.lng, ll.lat);
    return L.latLng(p[1], p[0]);
  }
  window.UGCoords = {
    crs, wgs84ToGcj02, gcj02ToWgs84, toMap, fromMap,
    // For L.geoJSON(data, { coordsToLatLng: UGCoords.coordsToLatLng }): GeoJSON is [lon, lat] in WGS-84.
    coordsToLatLng: (c) => toMap(c[1], c[0]),
  };
})();
