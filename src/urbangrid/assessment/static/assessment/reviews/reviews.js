// 讲评与考核 charts: ECharts from the page's json_script "review-charts" (no inline script, CSP).
(function () {
  "use strict";
  const root = document.getElementById("review");
  const src = document.getElementById("review-charts");
  if (!root || !src || typeof echarts === "undefined") return;
  const specs = JSON.parse(src.textContent);
  const LIGHTS = { red: "#d32f2f", yellow: "#f9a825", green: "#2e7d32" };
  const charts = [];

  function option(spec) {
    if (spec.pie || (spec.data && !spec.series)) {
      return {
        tooltip: { trigger: "item" }, legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data: spec.data.map((d) => ({
          name: d.name, value: d.value, itemStyle: LIGHTS[d.color] ? { color: LIGHTS[d.color] } : undefined })) }],
      };
    }
    const type = spec.line ? "line" : "bar";
    return {
      tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" },
      grid: { left: 48, right: 16, top: 36, bottom: 60 },
      xAxis: { type: "category", data: spec.categories,
               axisLabel: { interval: spec.categories.length > 15 ? "auto" : 0, rotate: spec.categories.length > 8 ? 40 : 0 } },
      // scores sit close to 100: let the axis start near the lowest one so differences show
      yAxis: { type: "value", scale: !!spec.scale, max: spec.scale ? 100 : undefined,
               axisLabel: spec.percent ? { formatter: "{value}%" } : {} },
      series: spec.series.map((s) => ({ name: s.name, type, data: s.data, stack: spec.stack ? "all" : undefined,
                                          connectNulls: true })),
    };
  }

  root.querySelectorAll("[data-chart]").forEach((el) => {
    const spec = specs[el.dataset.chart];
    if (!spec) return;
    const c = echarts.init(el, null, { renderer: "canvas" });
    c.setOption(option(spec));
    charts.push(c);
  });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  root.dataset.ready = "1";
})();
