// UrbanGrid inspector app (PWA): my grids and tasks, the report form with its offline queue, task pages.
(function () {
  "use strict";

  function readJSON(id) {
    const el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  const S = readJSON("m-strings") || {};
  const C = readJSON("m-config") || {};
  const t = (key) => S[key] || key;
  // Punctuation between a label and a value: full-width in Chinese, ASCII in English (as core/templatetags/punct.py).
  const P = /^zh/i.test(document.documentElement.lang || "zh")
    ? { colon: "：", open: "（", close: "）" } : { colon: ": ", open: " (", close: ")" };
  const $ = (sel) => document.querySelector(sel);

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function cookie(name) {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = null;
    try { body = await r.json(); } catch (e) { body = { detail: r.statusText }; }
    if (!r.ok) throw Object.assign(new Error((body && body.detail) || r.statusText), { status: r.status, body });
    return body;
  }
  function errorText(body, fallback) {
    if (!body) return fallback;
    const parts = [];
    if (body.detail) parts.push(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
    if (body.fields) for (const k of Object.keys(body.fields)) parts.push(body.fields[k]);
    return parts.join("；") || fallback;
  }
  let toastTimer = null;
  function toast(msg) {
    const el = $("#toast");
    if (!el) return;
    el.textContent = msg;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
  }

  // ---- photos: resized on the phone (JPEG, longest side at most 1600 px) -------------------------
  const MAX_SIDE = 1600;
  async function resizePhoto(file) {
    try {
      let source;
      if (window.createImageBitmap) {
        source = await createImageBitmap(file, { imageOrientation: "from-image" });
      } else {
        source = await new Promise((resolve, reject) => {
          const img = new Image();
          img.onload = () => resolve(img);
          img.onerror = reject;
          img.src = URL.createObjectURL(file);
        });
      }
      const w0 = source.width, h0 = source.height;
      const scale = Math.min(1, MAX_SIDE / Math.max(w0, h0));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w0 * scale));
      canvas.height = Math.max(1, Math.round(h0 * scale));
      canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
      if (source.close) source.close();
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      return blob || file;
    } catch (e) {
      return file; // the server re-encodes anyway
    }
  }

  // The server takes at most this many photos in one request (before and after photos together).
  function tooManyPhotos(count) {
    const most = C.max_photos || 6;
    return count > most ? t("too_many_photos").replace("%(n)s", most).replace("%(got)s", count) : "";
  }

  // A photo picker: resizes each chosen file, previews it, a tap on a thumbnail removes it.
  function photoPicker(input, preview) {
    const items = []; // {blob, url}
    let pending = Promise.resolve();
    function draw() {
      preview.innerHTML = "";
      items.forEach((it, i) => {
        const img = document.createElement("img");
        img.src = it.url;
        img.alt = "";
        img.addEventListener("click", () => { URL.revokeObjectURL(it.url); items.splice(i, 1); draw(); });
        preview.appendChild(img);
      });
      preview.dataset.count = String(items.length);
    }
    input.addEventListener("change", () => {
      const files = Array.from(input.files || []);
      input.value = "";
      if (!files.length) return;
      preview.dataset.busy = "1";
      pending = pending.then(async () => {
        for (const f of files) {
          const blob = await resizePhoto(f);
          items.push({ blob, url: URL.createObjectURL(blob) });
        }
        delete preview.dataset.busy;
        draw();
      });
    });
    draw();
    return {
      async blobs() { await pending; return items.map((it) => it.blob); },
      clear() { items.forEach((it) => URL.revokeObjectURL(it.url)); items.length = 0; draw(); },
    };
  }

  // ---- offline queue in IndexedDB ------------------------------------------------------------
  const DB_NAME = "ug-mobile", STORE = "outbox";
  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }
  async function tx(mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const transaction = d.transaction(STORE, mode);
      const store = transaction.objectStore(STORE);
      let result;
      const req = fn(store);
      if (req) req.onsuccess = () => { result = req.result; };
      transaction.oncomplete = () => resolve(result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }
  const queue = {
    // Only this login's reports: a phone handed over to a colleague must not send them under his name.
    all: () => tx("readonly", (s) => s.getAll()).then((rows) => (rows || []).filter((r) => r.user === C.user)
      .sort((a, b) => a.created - b.created)),
    put: (item) => tx("readwrite", (s) => s.put(item)),
    remove: (key) => tx("readwrite", (s) => s.delete(key)),
  };

  function reportForm(item) {
    const fd = new FormData();
    for (const [k, v] of Object.entries(item.fields)) fd.append(k, v);
    fd.append("idempotency_key", item.key);
    // When it was observed (the form was submitted), not when the queue finally sends it.
    if (item.created) fd.append("observed_at", new Date(item.created).toISOString());
    (item.photos || []).forEach((b, i) => fd.append("photos", b, `photo-${i + 1}.jpg`));
    (item.after_photos || []).forEach((b, i) => fd.append("after_photos", b, `after-${i + 1}.jpg`));
    return fd;
  }
  // Sends one report; throws TypeError when the network is down (the caller queues it then).
  async function sendReport(item) {
    const r = await fetch("/api/v1/cases", {
      method: "POST", body: reportForm(item), credentials: "same-origin",
      headers: { "X-CSRFToken": cookie("csrftoken"), Accept: "application/json", "Idempotency-Key": item.key },
    });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    return { status: r.status, ok: r.ok, body };
  }

  async function refreshQueueView() {
    let items = [];
    try { items = await queue.all(); } catch (e) { items = []; }
    const badge = $("#queue-count");
    if (badge) {
      badge.dataset.count = String(items.length);
      badge.querySelector("b").textContent = String(items.length);
      badge.hidden = items.length === 0;
    }
    const card = $("#queue-card"), list = $("#queue-list");
    if (card && list) {
      card.hidden = items.length === 0;
      list.innerHTML = items.map((it) => `<li data-key="${esc(it.key)}"><b>${esc(it.label || "")}</b>` +
        `<span class="m-hint">${esc(new Date(it.created).toLocaleString())}</span>` +
        (it.error ? `<span class="m-error">${esc(it.error)}</span> <button type="button" class="m-link" data-del="${esc(it.key)}">${esc(t("delete"))}</button>`
          : `<span class="m-tag">${esc(t("queued"))}</span>`) + "</li>").join("");
    }
    return items.length;
  }

  // Sends every queued report once; concurrent calls share one run, so nothing is sent twice from this page
  // (and a repeat from elsewhere is harmless: the idempotency key makes the server answer with the same case).
  let flushing = null;
  function flushQueue(force) {
    if (flushing) return flushing;
    flushing = (async () => {
      const tried = new Set();
      for (;;) {
        const items = (await queue.all()).filter((it) => !tried.has(it.key) && (force || !it.error));
        if (!items.length) break;
        const item = items[0];
        tried.add(item.key);
        let res;
        try {
          res = await sendReport(item);
        } catch (e) {
          break; // still offline: try again on the next 'online' event or page load
        }
        if (res.ok) {
          await queue.remove(item.key);
          toast(`${t("sent_from_queue")} ${res.body ? res.body.number : ""}`);
        } else if (res.status === 401 || res.status === 403 || res.status >= 500) {
          toast(`${t("send_failed")}${P.colon}${errorText(res.body, String(res.status))}`);
          break; // not this report's fault: keep it for a later retry
        } else {
          await queue.put(Object.assign({}, item, { error: errorText(res.body, t("send_failed")) }));
        }
        await refreshQueueView();
      }
    })().catch(() => {}).finally(async () => {
      flushing = null;
      await refreshQueueView();
      // how many sending runs this page finished (the queue's badge starts at 0 before any run)
      document.body.dataset.queueRuns = String((Number(document.body.dataset.queueRuns) || 0) + 1);
    });
    return flushing;
  }

  function showNetState() {
    const el = $("#net-state");
    if (!el) return;
    el.textContent = navigator.onLine ? t("online") : t("offline");
    el.dataset.online = navigator.onLine ? "1" : "0";
  }
  window.addEventListener("online", () => { showNetState(); flushQueue(); });
  window.addEventListener("offline", showNetState);

  // ---- maps ---------------------------------------------------------------------------------
  function makeMap(el) {
    const map = L.map(el, { zoomControl: true, tap: true });
    UGBasemap.add(map, { tileUrl: C.tile_url, attribution: C.tile_attribution });
    map.setView(UGCoords.toMap(31.87, 117.24), 14);
    return map;
  }
  async function drawMyGrids(map) {
    try {
      const fc = await getJSON(C.grids_url);
      const layer = L.geoJSON(fc, {
        coordsToLatLng: UGCoords.coordsToLatLng,  // GeoJSON is WGS-84; the tiles may be GCJ-02
        style: { color: "#0b63c5", weight: 2, fillOpacity: 0.1 },
        onEachFeature: (f, l) => l.bindTooltip(esc(`${f.properties.code} ${f.properties.name}`)),
      }).addTo(map);
      if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
      map.getContainer().dataset.grids = String(fc.features.length);
      return { fc, layer };
    } catch (e) {
      return { fc: { features: [] }, layer: null };
    }
  }
  function gpsError(err) {
    return err && err.code === 1 ? t("gps_denied") : t("gps_unavailable");
  }

  // A deadline in the centre's time zone (the phone's own may differ): "12-03 10:30".
  const DEADLINE_FORMAT = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit",
                                                              hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function shanghaiTime(iso) {
    const p = Object.fromEntries(DEADLINE_FORMAT.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
    return `${p.month}-${p.day} ${p.hour}:${p.minute}`;
  }
  function deadlineLine(c) {
    if (!c.stage_deadline) return "";
    // 期限待确认: the deadline rests on days no holiday notice confirms yet (as on the case page and the benches)
    const badge = c.deadline_unconfirmed ? ` <span class="tag tag-unconfirmed" data-unconfirmed="1" ` +
      `title="${esc(t("deadline_unconfirmed_tip"))}">${esc(t("deadline_unconfirmed"))}</span>` : "";
    return `<span class="m-hint m-deadline">${esc(t("deadline"))} ${esc(shanghaiTime(c.stage_deadline))}${badge}</span>`;
  }

  async function loadTasks(list, state) {
    try {
      const page = await getJSON("/api/v1/cases/todo?limit=100");
      list.innerHTML = page.items.map((c) => {
        const kind = c.state === "verifying" ? t("verify_task") : c.state === "checking" ? t("check_task") : c.state_label;
        return `<li class="m-light-${esc(c.light)}" data-number="${esc(c.number)}"><a href="${esc(C.scope)}tasks/${encodeURIComponent(c.number)}/">` +
          `<span class="m-tag">${esc(kind)}</span> <b>${esc(c.class_name)}</b> <span class="m-hint">${esc(c.number)}</span>` +
          `<span class="m-desc">${esc(c.description)}</span>` + deadlineLine(c) +
          (c.address ? `<span class="m-hint m-addr">${esc(c.address)}</span>` : "") + `</a></li>`;
      }).join("");
      state.textContent = page.items.length ? "" : t("no_tasks");
      list.dataset.loaded = String(page.items.length);
      if (!navigator.onLine) state.textContent = t("tasks_offline");
    } catch (e) {
      state.textContent = navigator.onLine ? errorText(e.body, t("send_failed")) : t("tasks_offline");
    }
  }

  // ---- home: my grids, my position, my tasks ---------------------------------------------------
  async function initHome() {
    const el = $("#m-map");
    const map = makeMap(el);
    drawMyGrids(map).then(({ fc }) => {
      const names = $("#grid-names");
      if (names) names.textContent = fc.features.map((f) => `${f.properties.code} ${f.properties.name}`).join("、");
    });
    const gps = $("#gps-state");
    if (navigator.geolocation) {
      let me = null, ring = null;
      gps.textContent = t("gps_locating");
      navigator.geolocation.watchPosition((pos) => {
        const ll = UGCoords.toMap(pos.coords.latitude, pos.coords.longitude);
        if (!me) {
          me = L.circleMarker(ll, { radius: 8, color: "#fff", weight: 2, fillColor: "#e65014", fillOpacity: 1 }).addTo(map).bindTooltip(t("my_position"));
          ring = L.circle(ll, { radius: pos.coords.accuracy || 0, color: "#e65014", weight: 1, fillOpacity: 0.08 }).addTo(map);
        } else {
          me.setLatLng(ll);
          ring.setLatLng(ll).setRadius(pos.coords.accuracy || 0);
        }
        gps.textContent = t("gps_accuracy").replace("%(m)s", Math.round(pos.coords.accuracy || 0));
        el.dataset.gps = "1";
      }, (err) => { gps.textContent = gpsError(err); el.dataset.gps = "0"; }, { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
    } else {
      gps.textContent = t("gps_unavailable");
    }
    const list = $("#task-list"), state = $("#tasks-state");
    // The status follows the network: back online, the list is loaded again and the offline note goes.
    window.addEventListener("online", () => loadTasks(list, state));
    window.addEventListener("offline", () => { state.textContent = t("tasks_offline"); });
    await loadTasks(list, state);
    const qlist = $("#queue-list");
    if (qlist) qlist.addEventListener("click", async (ev) => {
      const key = ev.target.dataset && ev.target.dataset.del;
      if (key && window.confirm(t("confirm_delete"))) { await queue.remove(key); refreshQueueView(); }
    });
    const again = $("#queue-send");
    if (again) again.addEventListener("click", () => flushQueue(true));
  }

  // ---- report form -------------------------------------------------------------------------
  async function initReport() {
    const form = $("#report-form");
    let picked = null;
    const pickedEl = $("#class-picked");
    // A component's identifier (部件标识码) goes with component classes only; the server checks it against the
    // standard and the inventory (a 422 names the field).
    const componentBlock = $("#component-block"), componentInput = $("#component-identifier");
    function pick(c) {
      picked = c;
      pickedEl.innerHTML = `<b>${esc(c.name)}</b> <span class="m-hint">${esc(c.code)} · ${esc(t(c.kind))}</span>`;
      pickedEl.dataset.code = c.code;
      pickedEl.dataset.version = c.version;
      componentBlock.hidden = c.kind !== "component";
      $("#class-results").innerHTML = "";
      $("#class-search").value = "";
    }
    // A link from a component's page fills in its class, identifier and point (?version&code&kind&component_identifier&lon&lat).
    const given = new URLSearchParams(window.location.search);
    const givenPoint = { lon: parseFloat(given.get("lon")), lat: parseFloat(given.get("lat")) };
    const hasGivenPoint = Number.isFinite(givenPoint.lon) && Number.isFinite(givenPoint.lat);
    if (given.get("component_identifier")) componentInput.value = given.get("component_identifier");
    // The two current lists are small: load them whole (the service worker keeps them for offline use), search here.
    let classes = [];
    Promise.all((C.versions || []).map((v) => getJSON(`/api/v1/catalog/classes?version=${encodeURIComponent(v.version)}&kind=${v.kind}&limit=500`)
      .then((p) => p.items).catch(() => []))).then((lists) => {
      classes = [].concat(...lists);
      $("#class-search").dataset.loaded = String(classes.length);
      if (given.get("code") && !picked) {
        const c = classes.find((x) => x.code === given.get("code") && (!given.get("version") || x.version === given.get("version"))
                                      && (!given.get("kind") || x.kind === given.get("kind")));
        if (c) pick(c);
      }
    });
    const results = $("#class-results");
    function search() {
      const q = $("#class-search").value.trim().toLowerCase();
      if (!q) { results.innerHTML = ""; return; }
      const found = classes.filter((c) => c.code.startsWith(q) || c.name.toLowerCase().includes(q) ||
        (c.plain_name || "").toLowerCase().includes(q) || (c.major_name || "").toLowerCase().includes(q)).slice(0, 40);
      results.innerHTML = found.length ? found.map((c, i) => `<li><button type="button" data-i="${i}" data-code="${esc(c.code)}">` +
        `<b>${esc(c.name)}</b> <span class="m-hint">${esc(c.code)} · ${esc(t(c.kind))} · ${esc(c.major_name)}</span></button></li>`).join("")
        : `<li class="m-hint">${esc(t("no_match"))}</li>`;
      results.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => pick(found[Number(b.dataset.i)])));
    }
    $("#class-search").addEventListener("input", search);
    getJSON(C.top_classes_url).then((data) => {
      const box = $("#top-classes");
      box.innerHTML = data.items.map((c, i) => `<button type="button" class="m-chip" data-i="${i}" data-code="${esc(c.code)}">` +
        `${esc(c.name)} <small>${esc(c.count)}</small></button>`).join("");
      box.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => pick(data.items[Number(b.dataset.i)])));
    }).catch(() => {});

    // Location: GPS first, the pin can be dragged (or the map tapped); the grid is resolved live.
    const map = makeMap($("#m-map"));
    const gridsReady = drawMyGrids(map);
    const gridOut = $("#grid-result"), gps = $("#gps-state");
    let marker = null, point = null, locateSeq = 0, pickedAddress = "";
    async function resolveGrid() {
      const seq = ++locateSeq;
      gridOut.textContent = t("locating_grid");
      gridOut.className = "m-grid-result";
      try {
        const r = await fetch(`/api/v1/locate?lon=${point.lon.toFixed(7)}&lat=${point.lat.toFixed(7)}`,
          { credentials: "same-origin", headers: { Accept: "application/json" } });
        const body = await r.json();
        if (seq !== locateSeq) return;
        if (r.ok) {
          gridOut.innerHTML = `<b>${esc(body.responsibility_grid_code || "")} ${esc(body.responsibility_grid_name || "")}</b>` +
            `<span class="m-hint">${esc(body.community_name)}${body.road_segment_name ? " · " + esc(body.road_segment_name) : ""}</span>`;
          gridOut.dataset.grid = body.responsibility_grid_code || "";
        } else {
          gridOut.textContent = body && body.code === "outside_managed_area" ? (body.detail || t("outside")) : errorText(body, t("outside"));
          gridOut.className = "m-grid-result m-error";
          gridOut.dataset.grid = "";
        }
      } catch (e) {
        if (seq !== locateSeq) return;
        gridOut.textContent = t("grid_offline");
        gridOut.dataset.grid = "?";
      }
    }
    function place(lat, lon, pan, address) {
      point = { lat, lon };
      pickedAddress = address || "";  // the words of a picked address hold only until the pin moves
      if (!marker) {
        marker = L.marker(UGCoords.toMap(lat, lon), { draggable: true, autoPan: true }).addTo(map);
        marker.on("dragend", () => { const ll = UGCoords.fromMap(marker.getLatLng()); place(ll.lat, ll.lng, false); });
      } else {
        marker.setLatLng(UGCoords.toMap(lat, lon));
      }
      if (pan) map.setView(UGCoords.toMap(lat, lon), Math.max(map.getZoom(), 16));
      $("#m-map").dataset.lat = lat.toFixed(6);
      $("#m-map").dataset.lon = lon.toFixed(6);
      resolveGrid();
    }
    map.on("click", (e) => { const w = UGCoords.fromMap(e.latlng); place(w.lat, w.lng, false); });
    // A candidate picked in the address search box (urbangrid/address_search.js) places the pin there.
    form.addEventListener("ug:place", (e) => place(e.detail.lat, e.detail.lon, true, e.detail.label));
    function fallbackPlace() {
      gridsReady.then(({ layer }) => {
        if (point) return;
        const c = UGCoords.fromMap(layer && layer.getBounds().isValid() ? layer.getBounds().getCenter() : map.getCenter());
        place(c.lat, c.lng, true);
      });
    }
    if (hasGivenPoint) {
      place(givenPoint.lat, givenPoint.lon, true);
    } else if (navigator.geolocation) {
      gps.textContent = t("gps_locating");
      navigator.geolocation.getCurrentPosition((pos) => {
        gps.textContent = t("gps_accuracy").replace("%(m)s", Math.round(pos.coords.accuracy || 0));
        place(pos.coords.latitude, pos.coords.longitude, true);
      }, (err) => { gps.textContent = gpsError(err); fallbackPlace(); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    } else {
      gps.textContent = t("gps_unavailable");
      fallbackPlace();
    }

    const photos = photoPicker($("#photos"), $("#photos-preview"));
    const after = photoPicker($("#after-photos"), $("#after-preview"));
    const selfHandled = $("#self-handled");
    selfHandled.addEventListener("change", () => { $("#after-block").hidden = !selfHandled.checked; });

    const errorEl = $("#form-error"), resultEl = $("#report-result"), submit = $("#submit-report");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      errorEl.textContent = "";
      const description = $("#description").value.trim();
      const before = await photos.blobs();
      const afterBlobs = selfHandled.checked ? await after.blobs() : [];
      const missing = !picked ? t("pick_class") : !point ? t("pick_location") : !before.length ? t("need_photo")
        : !description ? t("need_description") : selfHandled.checked && !afterBlobs.length ? t("need_after_photo")
        : tooManyPhotos(before.length + afterBlobs.length);
      if (missing) { errorEl.textContent = missing; return; }
      const item = {
        key: uuid(), created: Date.now(), user: C.user, label: `${picked.name} · ${description.slice(0, 30)}`,
        fields: { catalog_version: picked.version, class_code: picked.code, kind: picked.kind, lon: point.lon.toFixed(7),
                  lat: point.lat.toFixed(7), description, source: "inspector", self_handled: selfHandled.checked ? "true" : "false",
                  address: pickedAddress,
                  component_identifier: picked.kind === "component" ? componentInput.value.trim() : "" },
        photos: before, after_photos: afterBlobs, error: "",
      };
      submit.disabled = true;
      resultEl.textContent = t("sending");
      resultEl.dataset.number = "";
      resultEl.dataset.queued = "";
      const reset = () => {
        photos.clear(); after.clear();
        $("#description").value = ""; selfHandled.checked = false; $("#after-block").hidden = true;
        componentInput.value = "";
      };
      try {
        let res = null;
        if (navigator.onLine) {
          try { res = await sendReport(item); } catch (e) { res = null; }
        }
        if (!res) {
          await queue.put(item);
          resultEl.textContent = t("queued_saved");
          resultEl.dataset.queued = item.key;
          reset();
        } else if (res.ok) {
          resultEl.innerHTML = `${esc(t("sent"))} <b>${esc(res.body.number)}</b> · ${esc(res.body.responsibility_grid_code || "")}`;
          resultEl.dataset.number = res.body.number;
          reset();
        } else {
          resultEl.textContent = "";
          errorEl.textContent = errorText(res.body, t("send_failed"));
        }
      } finally {
        submit.disabled = false;
        refreshQueueView();
      }
    });
  }

  // ---- task page: verify / check ------------------------------------------------------------
  function initTask() {
    const mapEl = $("#m-map");
    if (mapEl && window.L) {  // where the task is, over the base layer; its light's colour (grey once ended)
      const at = UGCoords.toMap(parseFloat(mapEl.dataset.lat), parseFloat(mapEl.dataset.lon));
      const map = makeMap(mapEl);
      map.setView(at, 17);
      const color = mapEl.dataset.ended ? "#8a8f94" : ({ red: "#d32f2f", yellow: "#f9a825", green: "#2e7d32" }[mapEl.dataset.light] || "#546e7a");
      L.circleMarker(at, { radius: 10, color: "#fff", weight: 3, fillColor: color, fillOpacity: 0.95 }).addTo(map);
      mapEl.dataset.markerColor = color;
    }
    const form = $("#task-form");
    if (!form) return;
    const box = $("#task");
    const photos = photoPicker($("#photos"), $("#photos-preview"));
    const errorEl = $("#form-error"), resultEl = $("#task-result");
    form.querySelectorAll("button[data-action]").forEach((btn) => btn.addEventListener("click", async () => {
      errorEl.textContent = "";
      const opinion = $("#opinion").value.trim();
      if (!opinion) { errorEl.textContent = t("need_opinion"); return; }
      const blobs = await photos.blobs();
      if (!blobs.length) { errorEl.textContent = t("need_photo"); return; }
      if (tooManyPhotos(blobs.length)) { errorEl.textContent = tooManyPhotos(blobs.length); return; }
      const fd = new FormData();
      fd.append("opinion", opinion);
      fd.append("reason", opinion);
      if (btn.dataset.confirmed) fd.append("confirmed", btn.dataset.confirmed);
      fd.append("expected_version", box.dataset.version);
      blobs.forEach((b, i) => fd.append("photos", b, `photo-${i + 1}.jpg`));
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      resultEl.textContent = t("sending");
      try {
        const r = await fetch(`/api/v1/cases/${encodeURIComponent(box.dataset.number)}/actions/${btn.dataset.action}`, {
          method: "POST", body: fd, credentials: "same-origin", headers: { "X-CSRFToken": cookie("csrftoken"), Accept: "application/json" },
        });
        const body = await r.json().catch(() => null);
        if (r.ok) {
          resultEl.textContent = `${t("done")}${P.colon}${body.state_label}`;
          resultEl.dataset.state = body.state;
          box.dataset.state = body.state;
          const tag = $("#task-state");
          if (tag) tag.textContent = body.state_label;
          box.dataset.version = String(body.version);
          photos.clear();
          return;
        }
        resultEl.textContent = "";
        errorEl.textContent = errorText(body, t("send_failed"));
      } catch (e) {
        resultEl.textContent = "";
        errorEl.textContent = `${t("send_failed")}${P.open}${t("offline")}${P.close}`;
      }
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }));
  }

  // ---- start -------------------------------------------------------------------------------
  showNetState();
  if ("serviceWorker" in navigator && C.sw_url) {
    navigator.serviceWorker.register(C.sw_url, { scope: C.scope }).catch(() => {});
  }
  const page = document.body.dataset.page;
  if (page === "home") initHome();
  else if (page === "report") initReport();
  else if (page === "task") initTask();
  if (window.indexedDB && C.scope) {
    refreshQueueView().then(() => { if (navigator.onLine) flushQueue(); });
  }
  window.UGMobile = { flushQueue, refreshQueueView, queue };
})();
