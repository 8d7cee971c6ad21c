// Address search over the gazetteer: an <input data-geocode-url="…" data-lon-field="id" data-lat-field="id">
// asks the geocoder as the user types and lists the candidates; choosing one fills the point fields and
// announces it with a "ug:place" event ({lon, lat, label}) so the page's map can move its marker.
// Texts come from the input's data-empty-text / data-error-text / data-picked-text (translated by the template).
(function () {
  "use strict";
  function init(input) {
    const url = input.dataset.geocodeUrl;
    const lon = input.dataset.lonField ? document.getElementById(input.dataset.lonField) : null;
    const lat = input.dataset.latField ? document.getElementById(input.dataset.latField) : null;
    const list = document.createElement("ul");
    list.className = "ug-geocode-list";
    list.id = (input.id || "address") + "-candidates";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    const status = document.createElement("p");
    status.className = "ug-geocode-status muted m-hint";
    status.setAttribute("aria-live", "polite");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-controls", list.id);
    input.insertAdjacentElement("afterend", status);
    input.insertAdjacentElement("afterend", list);
    let timer = null, seq = 0;

    function clear() { list.innerHTML = ""; list.hidden = true; }
    function pick(c) {
      input.value = c.label;
      if (lon) lon.value = Number(c.lon).toFixed(7);
      if (lat) lat.value = Number(c.lat).toFixed(7);
      input.dataset.pickedLon = String(c.lon);
      input.dataset.pickedLat = String(c.lat);
      clear();
      status.textContent = (input.dataset.pickedText || "") + c.label + (c.responsibility_grid ? " · " + c.responsibility_grid : "");
      input.dispatchEvent(new CustomEvent("ug:place", { bubbles: true, detail: { lon: Number(c.lon), lat: Number(c.lat), label: c.label } }));
    }
    function render(candidates) {
      list.innerHTML = "";
      if (!candidates.length) {
        const li = document.createElement("li");
        li.className = "ug-geocode-empty";
        li.textContent = input.dataset.emptyText || "—";
        list.append(li);
      }
      candidates.forEach((c) => {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "ug-candidate";
        b.setAttribute("role", "option");
        b.dataset.precision = c.precision;
        b.dataset.confident = c.confident ? "1" : "0";
        b.textContent = c.label + (c.community ? " · " + c.community : "");
        b.addEventListener("click", () => pick(c));
        li.append(b);
        list.append(li);
      });
      list.hidden = false;
    }
    async function search() {
      const q = input.value.trim();
      const mine = ++seq;
      if (q.length < 2) { clear(); return; }
      try {
        const r = await fetch(url + "?" + new URLSearchParams({ q, limit: "5" }),
          { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (mine !== seq) return;
        if (!r.ok) { clear(); status.textContent = input.dataset.errorText || ""; return; }
        const body = await r.json();
        if (mine !== seq) return;
        status.textContent = "";
        render(body.candidates || []);
      } catch (e) {
        if (mine === seq) { clear(); status.textContent = input.dataset.errorText || ""; }
      }
    }
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 250); });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") clear();
      if (ev.key === "Enter" && !list.hidden) {  // Enter picks the first candidate instead of sending the form
        const first = list.querySelector(".ug-candidate");
        if (first) { ev.preventDefault(); first.click(); }
      }
    });
  }
  function start() { document.querySelectorAll("input[data-geocode-url]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
