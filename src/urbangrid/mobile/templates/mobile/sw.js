/* UrbanGrid inspector app service worker: the app shell offline; API reads network-first. */
"use strict";
const VERSION = {{ version|safe }};
const SCOPE = {{ scope|safe }};
const SHELL = {{ shell_json|safe }};
const SHELL_CACHE = "ug-mobile-shell-" + VERSION;
const DATA_CACHE = "ug-mobile-data";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // One by one: a page that fails (logged out, offline) must not fail the whole install.
    await Promise.all(SHELL.map(async (url) => {
      try {
        const r = await fetch(url, { credentials: "same-origin", redirect: "follow" });
        if (r.ok && !r.redirected) await cache.put(url, r);
      } catch (e) { /* cached later, on first use */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("ug-mobile-shell-") && n !== SHELL_CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

function isShellStatic(url) {
  return url.pathname.startsWith("/static/");
}
function isCachedRead(url) {
  return url.pathname.startsWith(SCOPE + "api/") || url.pathname === "/api/v1/cases/todo" ||
    url.pathname.startsWith("/api/v1/catalog/classes") || url.pathname === "/api/v1/grids" || url.pathname === "/basemap.json" ||
    url.pathname.startsWith("/cases/photos/");
}

async function networkFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) cache.put(request, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(request, { ignoreVary: true }) || await caches.match(request, { ignoreVary: true });
    if (hit) return hit;
    throw err;
  }
}

async function cacheFirst(request) {
  const hit = await caches.match(request, { ignoreSearch: false });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL_CACHE)).put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // reports and actions go to the network; the page queues them
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith(SCOPE)) {
    event.respondWith(networkFirst(request, SHELL_CACHE).catch(() => caches.match(SCOPE)));
    return;
  }
  if (isShellStatic(url)) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (isCachedRead(url)) event.respondWith(networkFirst(request, DATA_CACHE));
});
