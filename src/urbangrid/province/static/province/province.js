// 省级驾驶舱: the cities on a map (configured positions; red ring when the sync is late) and the daily trend.
(function () {
  "use strict";
  const root = document.getElementById("province-dashboard");
  if (!root || !document.getElementById("province-chart")) return;
  const chartData = JSON.parse(document.getElementById("province-chart").textContent);
  const points = JSON.parse(document.getElementById("province-points").textContent);
  const L10N = JSON.parse(document.getElementById("province-labels").textContent);
  const GRADE = { green: "#2e7d32", blue: "#1565c0", yellow: "#f9a825", red: "#c62828", black: "#111", "": "#607d8b" };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // ---- map ----
  const mapEl = document.getElementById("province-map");
  const map = L.map(mapEl, { zoomControl: true, maxZoom: 18 });
  UGBasemap.add(map, { tileUrl: root.dataset.tileUrl, attribution: root.dataset.tileAttribution }).catch(() => {});
  const markers = points.map((p) => L.circleMarker(UGCoords.toMap(p.lat, p.lon), {
    radius: 11, color: p.late ? "#d32f2f" : "#fff", weight: p.late ? 4 : 2, fillColor: GRADE[p.color] || GRADE[""],
    fillOpacity: 0.9, className: "ug-city" + (p.late ? " ug-city-late" : ""),
  }).bindTooltip(esc(p.name)).bindPopup(
    `<strong>${esc(p.name)}</strong> ${esc(p.code)}<br>` +
    `${esc(L10N.reported)}: ${p.reported} · ${esc(L10N.closed)}: ${p.closed}<br>` +
    `${esc(L10N.ontime_rate)}: ${esc(p.ontime_rate)} · ${esc(L10N.overdue_open)}: ${p.overdue_open}<br>` +
    `${esc(L10N.grade)}: ${esc(p.grade || "—")} · ${esc(L10N.lag)}: ${esc(p.lag)}<br>` +
    `<a href="${esc(p.url)}">${esc(L10N.cases)}</a>`).addTo(map));
  if (markers.length) {
    const bounds = L.featureGroup(markers).getBounds();
    map.fitBounds(bounds.pad(0.3), { maxZoom: 9 });
  } else {
    map.setView(UGCoords.toMap(31.86, 117.25), 7);
  }
  mapEl.dataset.markers = String(markers.length);

  // ---- trend ----
  const el = document.getElementById("province-trend");
  const chart = echarts.init(el, null, { renderer: "canvas" });
  const measure = document.getElementById("trend-measure");
  function draw() {
    const key = measure.value;
    const many = chartData.days.length > 40;
    chart.setOption({
      animation: false, grid: { left: 8, right: 28, top: 36, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", confine: true },
      legend: { type: "scroll", top: 0, data: chartData.cities.map((c) => c.name) },
      xAxis: { type: "category", data: chartData.days, boundaryGap: false },
      yAxis: { type: "value", minInterval: 1, name: chartData.labels[key] },
      dataZoom: many ? [{ type: "inside" }] : [],
      series: chartData.cities.map((c) => ({ name: c.name, type: "line", data: c[key], showSymbol: !many })),
      graphic: chartData.cities.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: chartData.labels.no_data, fill: "#999" } }],
    }, true);
  }
  measure.addEventListener("change", draw);
  draw();
  window.addEventListener("resize", () => chart.resize());
  el.dataset.series = String(chartData.cities.length);
})();
