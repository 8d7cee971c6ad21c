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
  if (el.dataset.unlocated) {
    // 待定位: the gazetteer's candidates on the map; a click on the map fills the 定位 form's point.
    const point = document.getElementById("locate-point");
    const candidate = document.getElementById("locate-candidate");
    document.querySelectorAll("#candidates li[data-lon]").forEach(function (li) {
      const p = UGCoords.toMap(parseFloat(li.dataset.lat), parseFloat(li.dataset.lon));
      L.circleMarker(p, { radius: 8, color: "#1565c0", weight: 2, fillOpacity: 0.5 })
        .bindTooltip(`${li.dataset.rank}. ${li.dataset.label}`).addTo(map)
        .on("click", function () {
          if (point) point.value = `${li.dataset.lon},${li.dataset.lat}`;
          if (candidate) candidate.value = li.dataset.label;
        });
    });
    let picked = null;
    map.on("click", function (ev) {
      const w = UGCoords.fromMap(ev.latlng);
      if (point) point.value = `${w.lng.toFixed(7)},${w.lat.toFixed(7)}`;
      if (candidate) candidate.value = "";
      if (picked) picked.remove();
      picked = L.circleMarker(ev.latlng, { radius: 9, color: "#b00020", weight: 3, fillOpacity: 0.6 }).addTo(map);
    });
    map.setZoom(14);
  } else {
    const color = el.dataset.ended ? ENDED : COLORS[el.dataset.light] || NO_CLOCK;
    const marker = L.circleMarker(at, { radius: 9, color: "#fff", weight: 3, fillColor: color, fillOpacity: 0.95,
                                        className: "ug-case-marker" }).addTo(map);
    el.dataset.markerColor = color;
    el.ugMarker = marker;
  }
  el.dataset.shown = `${at.lng.toFixed(7)},${at.lat.toFixed(7)}`;  // where it is drawn (GCJ-02 tiles shift it)
  UGBasemap.add(map, { tileUrl: el.dataset.tileUrl, attribution: el.dataset.tileAttribution }).finally(() => {
    el.dataset.ready = "1";
  });
})();

// 派遣: a unit or a district's sub-centre, never both (the server refuses both): choosing one clears the other.
(function () {
  "use strict";
  document.querySelectorAll('form.action-form[data-action="dispatch"]').forEach(function (form) {
    const unit = form.querySelector('select[name="unit"]');
    const district = form.querySelector('select[name="district"]');
    if (!unit || !district) return;
    unit.addEventListener("change", function () { if (unit.value) district.value = ""; });
    district.addEventListener("change", function () { if (district.value) unit.value = ""; });
  });
})();
