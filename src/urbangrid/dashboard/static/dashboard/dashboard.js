// 领导驾驶舱: map (grids shaded by open cases, clustered lights, heatmap, components) and ECharts charts from data.json.
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  if (!root) return;
  const L10N = JSON.parse(document.getElementById("dash-labels").textContent);
  const COLORS = { red: "#d32f2f", yellow: "#f9a825", green: "#2e7d32", "": "#607d8b" };
  const charts = {};
  let data = null;

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await r.json();
    if (!r.ok) throw new Error(body.detail || r.statusText);
    return body;
  }

  // Picking a date makes the period custom.
  const period = document.getElementById("dash-period");
  root.querySelectorAll(".dash-filters input[type=date]").forEach((i) => i.addEventListener("change", () => { period.value = "custom"; }));

  // ---- map ----
  const mapEl = document.getElementById("dash-map");
  const map = L.map(mapEl, { zoomControl: true, maxZoom: 19 });
  UGBasemap.add(map, { tileUrl: root.dataset.tileUrl, attribution: root.dataset.tileAttribution });
  map.setView(UGCoords.toMap(31.86, 117.25), 13);

  function shade(n, max) {
    if (!n) return { color: "#0b63c5", weight: 1, fillColor: "#0b63c5", fillOpacity: 0.04 };
    const t = Math.min(1, n / Math.max(1, max));
    return { color: "#b71c1c", weight: 1, fillColor: "#e53935", fillOpacity: 0.15 + 0.5 * t };
  }

  function drawMap(grids, d) {
    const counts = d.map.grid_open || {};
    const max = Math.max(0, ...Object.values(counts));
    const gridLayer = L.geoJSON(grids, {
      coordsToLatLng: UGCoords.coordsToLatLng,  // GeoJSON is WGS-84; the tiles may be GCJ-02
      style: (f) => shade(counts[f.properties.code] || 0, max),
      onEachFeature: (f, layer) => layer.bindTooltip(
        `${esc(f.properties.code)} ${esc(f.properties.name)}<br>${esc(L10N.open_in_grid)}: ${counts[f.properties.code] || 0}`),
    }).addTo(map);
    if (gridLayer.getBounds().isValid()) map.fitBounds(gridLayer.getBounds());

    // A cluster takes the colour of its worst light, so a red case is never hidden in a green bubble.
    const cluster = L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 40, chunkedLoading: true,
      iconCreateFunction: (c) => {
        const lights = c.getAllChildMarkers().map((m) => m.options.light);
        const worst = lights.includes("red") ? "red" : lights.includes("yellow") ? "yellow" : "green";
        return L.divIcon({ html: `<div><span>${c.getChildCount()}</span></div>`, iconSize: L.point(40, 40),
                           className: `marker-cluster ug-cluster ug-cluster-${worst}` });
      },
    });
    const markers = d.map.cases.map(([lon, lat, light, number]) => L.circleMarker(UGCoords.toMap(lat, lon), {
      light, radius: 7, color: "#fff", weight: 1.5, fillColor: COLORS[light] || COLORS[""], fillOpacity: 0.95,
      className: `ug-case ug-${light || "none"}`,
    }).bindPopup(`${esc(L10N.case)} <a href="/cases/${encodeURIComponent(number)}/">${esc(number)}</a>`));
    cluster.addLayers(markers);
    cluster.addTo(map);

    const heatMax = Math.max(1, ...d.map.heat.map((p) => p[2]));
    // Legible over the base layer: wide, soft spots that never fade below 45 % and turn deep red where reports pile up.
    const heat = L.heatLayer(d.map.heat.map(([lon, lat, n]) => { const p = UGCoords.toMap(lat, lon); return [p.lat, p.lng, 0.35 + 0.65 * (n / heatMax)]; }),
                             { radius: 32, blur: 22, maxZoom: 15, max: 1, minOpacity: 0.45,
                               gradient: { 0.15: "#4575b4", 0.35: "#fee090", 0.55: "#fc8d59", 0.8: "#d73027", 1.0: "#a50026" } });
    // leaflet.heat draws on an animation frame; if the map has no size at that moment (layout
    // not settled, page unloading) getImageData throws on a 0-wide canvas. Skip such frames:
    // the next move/resize redraws.
    const heatRedraw = heat._redraw;
    heat._redraw = function () {
      const size = this._map && this._map.getSize();
      if (!size || size.x < 1 || size.y < 1 || !this._heat || this._heat._width < 1 || this._heat._height < 1) {
        this._frame = null;
        return;
      }
      heatRedraw.call(this);
    };
    const overlays = {};
    overlays[L10N.grids] = gridLayer;
    overlays[L10N.open_cases] = cluster;
    overlays[L10N.heat] = heat;
    // Components (部件) in view once zoomed in (components_layer.js): off until ticked in the layer control.
    overlays[L10N.components] = UGComponents.layer(map);
    L.control.layers(null, overlays, { collapsed: true }).addTo(map);
    const toggle = document.getElementById("heat-toggle");
    toggle.addEventListener("change", () => { if (toggle.checked) heat.addTo(map); else map.removeLayer(heat); });
    map.on("overlayadd overlayremove", (e) => { if (e.layer === heat) toggle.checked = e.type === "overlayadd"; });

    const note = document.getElementById("map-note");
    note.textContent = `${L10N.open_cases}: ${d.map.total}` + (d.map.truncated ? ` · ${L10N.truncated}` : "");
    mapEl.dataset.markers = String(markers.length);
    mapEl.dataset.grids = String(grids.features.length);
  }

  // ---- charts ----
  function chart(id) {
    const el = document.getElementById(id);
    charts[id] = charts[id] || echarts.init(el, null, { renderer: "canvas" });
    return charts[id];
  }
  const base = { animation: false, grid: { left: 8, right: 28, top: 36, bottom: 8, containLabel: true },
                 tooltip: { trigger: "axis", confine: true } };

  function drawTrend(t) {
    chart("chart-trend").setOption({
      ...base,
      legend: { data: [L10N.received, L10N.closed], top: 0 },
      xAxis: { type: "category", data: t.labels, boundaryGap: false },
      yAxis: { type: "value", minInterval: 1 },
      dataZoom: t.labels.length > 40 ? [{ type: "inside" }] : [],
      series: [
        { name: L10N.received, type: "line", data: t.received, showSymbol: t.labels.length <= 40, itemStyle: { color: "#0b63c5" } },
        { name: L10N.closed, type: "line", data: t.closed, showSymbol: t.labels.length <= 40, itemStyle: { color: "#2e7d32" } },
      ],
    }, true);
  }

  function drawClasses(rows) {
    const items = rows.slice().reverse();
    chart("chart-classes").setOption({
      ...base, grid: { ...base.grid, top: 8, right: 48 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: items.map((r) => r.name || r.code), axisLabel: { width: 110, overflow: "truncate" } },
      series: [{ name: L10N.cases, type: "bar", data: items.map((r) => r.n), itemStyle: { color: "#e07b00" },
                 label: { show: true, position: "right" } }],
      graphic: rows.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: L10N.no_data, fill: "#999" } }],
    }, true);
  }

  function drawRank() {
    const dim = document.getElementById("rank-dim").value;
    const measure = document.getElementById("rank-measure").value;
    let rows = (data.rankings[dim] || []).slice();
    if (measure === "ontime_rate") rows = rows.filter((r) => r.ontime_rate !== null);
    rows.sort((a, b) => (b[measure] - a[measure]) || (b.closed - a.closed) || (a.code < b.code ? -1 : 1));
    rows = rows.slice(0, 10).reverse();
    const pct = measure === "ontime_rate";
    chart("chart-rank").setOption({
      ...base, grid: { ...base.grid, top: 8, right: 48 },
      xAxis: pct ? { type: "value", max: 100, axisLabel: { formatter: "{value}%" } } : { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map((r) => r.name || r.code), axisLabel: { width: 120, overflow: "truncate" } },
      series: [{ name: L10N[measure], type: "bar", itemStyle: { color: pct ? "#2e7d32" : "#0b63c5" },
                 data: rows.map((r) => (pct ? Math.round(r.ontime_rate * 1000) / 10 : r[measure])),
                 label: { show: true, position: "right", formatter: pct ? "{c}%" : "{c}" } }],
      graphic: rows.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: L10N.no_data, fill: "#999" } }],
    }, true);
  }
  document.getElementById("rank-dim").addEventListener("change", drawRank);
  document.getElementById("rank-measure").addEventListener("change", drawRank);
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

  Promise.all([getJSON("/api/v1/grids?limit=5000"), getJSON(root.dataset.dataUrl)]).then(([grids, d]) => {
    data = d;
    drawTrend(d.trend);
    drawClasses(d.top_classes);
    drawRank();
    drawMap(grids, d);
    root.dataset.ready = "1";
  }).catch((err) => {
    root.dataset.ready = "error";
    if (window.console) console.error(err);
    const p = document.createElement("p");
    p.className = "errorlist";
    p.textContent = `${L10N.load_error}: ${err && err.message ? err.message : err}`;
    root.insertBefore(p, root.querySelector(".kpis"));
  });
})();
