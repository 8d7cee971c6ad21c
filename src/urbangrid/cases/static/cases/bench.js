// Workbench keyboard: j / k move between rows (focus on the case link), Enter opens it,
// m merges the focused intake row into its first suggested master. Rows may be swapped by htmx.
(function () {
  "use strict";
  function rows() { return Array.from(document.querySelectorAll("#bench-table tbody tr[data-number]")); }
  function current() {
    const a = document.activeElement;
    return a && a.closest ? a.closest("#bench-table tbody tr[data-number]") : null;
  }
  function focusRow(tr) {
    if (!tr) return;
    const link = tr.querySelector("td a");
    if (link) { link.focus(); tr.scrollIntoView({ block: "nearest" }); }
  }
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (ev.ctrlKey || ev.metaKey || ev.altKey || tag === "input" || tag === "textarea" || tag === "select") return;
    const all = rows();
    if (!all.length) return;
    const i = all.indexOf(current());
    if (ev.key === "j") { focusRow(all[Math.min(all.length - 1, i + 1)]); ev.preventDefault(); }
    else if (ev.key === "k") { focusRow(all[Math.max(0, i - 1)]); ev.preventDefault(); }
    else if (ev.key === "m" && i >= 0) {
      const button = all[i].querySelector("form.merge button[type=submit]");
      if (button) { button.click(); ev.preventDefault(); }
    }
  });
})();
