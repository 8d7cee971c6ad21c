// The base layer of every map. With a tile URL configured (Tianditu, AMap/Tencent in GCJ-02 — coords.js shifts
// what we draw —, OpenStreetMap) it is those tiles, as before. Without one it is the city's own data from
// /basemap.json (grids/basemap.py): unit-grid outlines, roads and district borders, drawn on a canvas in a pane
// below everything else, so a case point sits among the grids and roads around it instead of on a blank
// rectangle. The citizens' pages ask for the public scope (no internal codes).
// Tests read the drawn layers from the container: el.ugMap (the L.Map) and el.ugBase (grids, roads, districts).
(function () {
  "use strict";
  const loads = {};
  const ROAD_WIDTH = { trunk: 12, secondary: 10, branch: 8, lane: 6 };  // pixels at zoom 17; narrower further out
  function roadWidth(f, zoom) {
    const scale = Math.max(0.3, Math.min(1.4, Math.pow(2, (zoom - 17) / 2)));
    return Math.max(1.5, (ROAD_WIDTH[f.properties.road_class] || 6) * scale);
  }

  function load(scope) {
    const url = "/basemap.json" + (scope ? "?scope=" + encodeURIComponent(scope) : "");
    if (!loads[url]) {
      loads[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
        .then((r) => { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.json(); })
        .catch((err) => { delete loads[url]; throw err; });
    }
    return loads[url];
  }

  function byLayer(fc, name) {
    return { type: "FeatureCollection", features: fc.features.filter((f) => f.properties && f.properties.layer === name) };
  }

  // Adds the base layer to ``map``; resolves to { grids, roads, districts } (L.GeoJSON layers) or null for tiles.
  function add(map, opts) {
    const o = opts || {};
    const el = map.getContainer();
    el.ugMap = map;
    if (o.tileUrl) {
      L.tileLayer(o.tileUrl, { attribution: o.attribution || "", maxZoom: 19 }).addTo(map);
      el.dataset.basemap = "tiles";
      return Promise.resolve(null);
    }
    el.classList.add("ug-basemap");
    el.style.background = "#f2efe9";
    if (!map.getPane("ugBase")) {
      const pane = map.createPane("ugBase");
      pane.style.zIndex = "250"; // under the overlays (400) and markers (600)
      pane.style.pointerEvents = "none";
    }
    const renderer = L.canvas({ pane: "ugBase", padding: 0.3 });
    const common = { pane: "ugBase", renderer, interactive: false, coordsToLatLng: UGCoords.coordsToLatLng };
    return load(o.scope).then((fc) => {
      // Unit grids (about 100 m) fade out as the map zooms out, so a whole city is not a dense mesh.
      const gridStyle = () => { const z = map.getZoom();
        return { color: "#a7b3bd", weight: z >= 16 ? 0.9 : 0.6, opacity: z >= 16 ? 0.9 : z >= 14 ? 0.5 : 0.3,
                 fillColor: "#fbfaf7", fillOpacity: 0.6 }; };
      const grids = L.geoJSON(byLayer(fc, "grid"), Object.assign({}, common, { style: gridStyle })).addTo(map);
      const casingStyle = (f) => ({ color: "#a48f6c", weight: roadWidth(f, map.getZoom()) + 2.5, opacity: 1, lineCap: "round" });
      const roadStyle = (f) => ({ color: f.properties.road_class === "trunk" ? "#ffd98a" : "#ffffff",
                                  weight: roadWidth(f, map.getZoom()), opacity: 1, lineCap: "round" });
      const casing = L.geoJSON(byLayer(fc, "road"), Object.assign({}, common, { style: casingStyle })).addTo(map);
      const roads = L.geoJSON(byLayer(fc, "road"), Object.assign({}, common, { style: roadStyle })).addTo(map);
      map.on("zoomend", () => { grids.setStyle(gridStyle); casing.setStyle(casingStyle); roads.setStyle(roadStyle); });
      const districts = L.geoJSON(byLayer(fc, "district"), Object.assign({}, common, {
        style: { color: "#8e6c8a", weight: 2.5, opacity: 0.85, dashArray: "10 5", fill: false } })).addTo(map);
      el.ugBase = { grids, roads, casing, districts };
      el.dataset.basemap = "city";
      return el.ugBase;
    }).catch((err) => {
      el.dataset.basemap = "error";
      if (window.console) console.warn("basemap:", err);
      return null;
    });
  }

  window.UGBasemap = { add, load };
})();
