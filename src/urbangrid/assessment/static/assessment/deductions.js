// The assessor's phone page: pick an item, the place (GPS or the map), the target at that place, points,
// photos and a note; submitted once (an idempotency key per form fill makes a retry return the same record).
(function () {
  "use strict";
  function readJSON(id) {
    const el = document.getElementById(id);
    try { return el ? JSON.parse(el.textContent) : null; } catch (e) { return null; }
  }
  const S = readJSON("d-strings") || {}, C = readJSON("d-config") || {}, ITEMS = readJSON("d-items") || [];
  const t = (k) => S[k] || k;
  const $ = (sel) => document.querySelector(sel);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  function cookie(name) {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }
  function errorText(body, fallback) {
    if (!body) return fallback;
    const parts = [];
    if (body.detail) parts.push(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
    if (body.fields) for (const k of Object.keys(body.fields)) parts.push(`${k}: ${body.fields[k]}`);
    return parts.join("；") || fallback;
  }

  const form = $("#deduction-form");
  if (!form) return;
  const itemSel = $("#item"), typeSel = $("#target-type"), chips = $("#targets"), picked = $("#target-picked");
  const pointsEl = $("#points"), placeEl = $("#place"), errorEl = $("#form-error"), resultEl = $("#result");
  let key = uuid(), point = null, targets = null, seq = 0;

  function item() { return ITEMS.find((i) => i.code === itemSel.value) || null; }
  function fillTypes() {
    const it = item(), keep = typeSel.value;
    const allowed = (C.target_types || []).filter((o) => !it || it.target_types.includes(o.value));
    typeSel.innerHTML = allowed.map((o) => `<option value="${esc(o.value)}">${esc(o.label)}</option>`).join("");
    if (allowed.some((o) => o.value === keep)) typeSel.value = keep;
    drawTargets();
  }
  itemSel.addEventListener("change", () => {
    const it = item();
    $("#item-standard").textContent = it ? it.standard : "";
    if (it) {
      pointsEl.value = it.default_points;
      pointsEl.max = it.max_points;
      $("#points-hint").textContent = `≤ ${it.max_points} ${t("points")}`;
    }
    fillTypes();
  });
  typeSel.addEventListener("change", drawTargets);

  function pick(code, name) {
    picked.dataset.code = code || "";
    picked.textContent = code ? name : t("pick_target");
    chips.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", b.dataset.code === code ? "true" : "false"));
  }
  function drawTargets() {
    const list = (targets && targets[typeSel.value]) || [];
    chips.dataset.count = String(list.length);
    chips.innerHTML = list.length ? list.map((o, i) => `<button type="button" class="m-chip" data-i="${i}" data-code="${esc(o.code)}" aria-pressed="false">${esc(o.name)}</button>`).join("")
      : `<span class="m-hint">${esc(targets ? t("none_here") : t("pick_location"))}</span>`;
    chips.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => pick(b.dataset.code, list[Number(b.dataset.i)].name)));
    // The place decides the grid and (usually) the segment: preselect the first.
    if (list.length && (typeSel.value === "grid" || typeSel.value === "segment" || list.length === 1)) pick(list[0].code, list[0].name);
    else pick("", "");
  }

  // ---- the map: GPS first, then the pin can be dragged or the map tapped -------------------------
  const map = L.map($("#m-map"), { zoomControl: true, tap: true });
  UGBasemap.add(map, { tileUrl: C.tile_url, attribution: C.tile_attribution });
  map.setView(UGCoords.toMap(31.87, 117.24), 14);
  let gridsLayer = null;
  if ((C.my_grids || []).length) {
    gridsLayer = L.geoJSON({ type: "FeatureCollection", features: C.my_grids.filter((g) => g.geometry).map((g) => ({ type: "Feature", geometry: g.geometry, properties: g })) },
      { style: { color: "#0b63c5", weight: 2, fillOpacity: 0.08 }, coordsToLatLng: UGCoords.coordsToLatLng }).addTo(map);
    if (gridsLayer.getBounds().isValid()) map.fitBounds(gridsLayer.getBounds(), { padding: [10, 10] });
  }
  let marker = null;
  async function resolve() {
    const mine = ++seq;
    placeEl.textContent = t("locating");
    placeEl.className = "m-grid-result";
    try {
      const r = await fetch(`${C.candidates_url}?lon=${point.lon.toFixed(7)}&lat=${point.lat.toFixed(7)}`,
        { credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = await r.json();
      if (mine !== seq) return;
      if (r.ok) {
        const loc = body.location;
        targets = body.targets;
        placeEl.innerHTML = `<b>${esc(loc.responsibility_grid_code || "")} ${esc(loc.responsibility_grid_name || "")}</b>` +
          `<span class="m-hint">${esc(loc.community_name)}${loc.road_segment_name ? " · " + esc(loc.road_segment_name) : ""}</span>`;
        placeEl.dataset.grid = loc.responsibility_grid_code || "";
      } else {
        targets = null;
        placeEl.textContent = errorText(body, t("outside"));
        placeEl.className = "m-grid-result m-error";
        placeEl.dataset.grid = "";
      }
    } catch (e) {
      if (mine !== seq) return;
      targets = null;
      placeEl.textContent = t("send_failed");
    }
    drawTargets();
  }
  function place(lat, lon, pan) {
    point = { lat, lon };
    if (!marker) {
      marker = L.marker(UGCoords.toMap(lat, lon), { draggable: true, autoPan: true }).addTo(map);
      marker.on("dragend", () => { const ll = UGCoords.fromMap(marker.getLatLng()); place(ll.lat, ll.lng, false); });
    } else {
      marker.setLatLng(UGCoords.toMap(lat, lon));
    }
    if (pan) map.setView(UGCoords.toMap(lat, lon), Math.max(map.getZoom(), 16));
    $("#m-map").dataset.lat = lat.toFixed(6);
    $("#m-map").dataset.lon = lon.toFixed(6);
    resolve();
  }
  map.on("click", (e) => { const w = UGCoords.fromMap(e.latlng); place(w.lat, w.lng, false); });
  function fallback() {
    if (point) return;
    const c = UGCoords.fromMap(gridsLayer && gridsLayer.getBounds().isValid() ? gridsLayer.getBounds().getCenter() : map.getCenter());
    place(c.lat, c.lng, true);
  }
  const gps = $("#gps-state");
  if (navigator.geolocation) {
    gps.textContent = t("gps_locating");
    navigator.geolocation.getCurrentPosition((pos) => {
      gps.textContent = "";
      place(pos.coords.latitude, pos.coords.longitude, true);
    }, () => { gps.textContent = t("gps_unavailable"); fallback(); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  } else {
    gps.textContent = t("gps_unavailable");
    fallback();
  }

  // ---- photos (the server re-encodes and strips EXIF) -------------------------------------------
  const photosEl = $("#photos"), preview = $("#photos-preview");
  photosEl.addEventListener("change", () => {
    preview.innerHTML = "";
    Array.from(photosEl.files).forEach((f) => {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(f);
      img.alt = f.name;
      preview.appendChild(img);
    });
    preview.dataset.count = String(photosEl.files.length);
  });

  // ---- submit --------------------------------------------------------------------------------
  const submit = $("#submit-deduction");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errorEl.textContent = "";
    if (!item()) { errorEl.textContent = t("pick_item"); return; }
    if (!point) { errorEl.textContent = t("pick_location"); return; }
    if (!picked.dataset.code) { errorEl.textContent = t("pick_target"); return; }
    if (!photosEl.files.length) { errorEl.textContent = t("need_photo"); return; }
    const fd = new FormData();
    fd.append("item", itemSel.value);
    fd.append("lon", point.lon.toFixed(7));
    fd.append("lat", point.lat.toFixed(7));
    fd.append("target_type", typeSel.value);
    fd.append("target", picked.dataset.code);
    if (pointsEl.value) fd.append("points", pointsEl.value);
    fd.append("note", $("#note").value.trim());
    fd.append("open_case", $("#open-case").checked ? "true" : "false");
    fd.append("idempotency_key", key);
    Array.from(photosEl.files).forEach((f) => fd.append("photos", f, f.name));
    submit.disabled = true;
    resultEl.textContent = t("sending");
    try {
      const r = await fetch(C.api_url, { method: "POST", body: fd, credentials: "same-origin",
        headers: { "X-CSRFToken": cookie("csrftoken"), Accept: "application/json", "Idempotency-Key": key } });
      const body = await r.json().catch(() => null);
      if (r.ok) {
        resultEl.innerHTML = `${esc(t("sent"))} <a href="${esc(body.url)}">#${esc(body.id)}</a>` +
          (body.case_number ? ` · ${esc(body.case_number)}` : "");
        resultEl.dataset.id = String(body.id);
        key = uuid();  // the next fill is a new record
      } else {
        resultEl.textContent = "";
        errorEl.textContent = errorText(body, t("send_failed"));
      }
    } catch (e) {
      resultEl.textContent = "";
      errorEl.textContent = t("send_failed");  // the same key is kept, so a retry cannot record twice
    } finally {
      submit.disabled = false;
    }
  });
  fillTypes();
})();
