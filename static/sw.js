// MyChat's service worker, served from the root (/sw.js) so its scope is the whole app.
//
// * App shell: files under /static/ are answered from a cache so the app starts without
//   waiting for the network. Content-hashed files (name.3f9a1c2b.js) never change, so the
//   cache answers them alone; other files are fetched first (revalidated with their ETag) and
//   the cache answers only when the server can't, so a new release is never mixed with old
//   scripts. Nothing here lists today's files: install reads what the app page references,
//   and everything else is cached as it is used.
// * Offline: a page load that cannot reach the server shows /static/offline.html.
// * Push: every push shows a visible notification (browsers revoke subscriptions whose
//   pushes show none), one per conversation (its tag); a click focuses the app and opens that
//   conversation, or opens the app there. The app badge counts the messages notified.

const CACHE = 'mychat-shell-v1';
const OFFLINE_PAGE = '/static/offline.html';
/** What the offline page needs; the rest of the shell comes from the app page's references. */
const PRECACHE = [OFFLINE_PAGE, '/static/js/offline.js', '/static/js/i18n.js', '/static/css/app.css',
  '/static/favicon.svg', '/static/icons/icon-192.png', '/manifest.webmanifest'];
const HASHED = /\.[0-9a-f]{8,}\.[a-z0-9]+$/i;
const ICON = '/static/icons/icon-192.png';

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('mychat-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

/** Caches the offline page's files and whatever the app page references under /static/. */
async function precache() {
  const cache = await caches.open(CACHE);
  const urls = new Set(PRECACHE);
  try {
    const page = await fetch('/index', { credentials: 'same-origin' });
    if (page.ok && !page.redirected) {
      for (const match of (await page.text()).matchAll(/(?:src|href)="(\/static\/[^"?#]+)"/g)) urls.add(match[1]);
    }
  } catch {
    // Offline or logged out: the shell fills up as it is used.
  }
  await Promise.all([...urls].map(async (url) => {
    try {
      const response = await fetch(url, { credentials: 'same-origin' });
      if (response.ok) await cache.put(url, response);
    } catch {
      // One missing file does not stop the rest.
    }
  }));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(pageOrOffline(request));
  } else if (url.pathname.startsWith('/static/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(HASHED.test(url.pathname) ? cacheFirst(request) : networkFirst(request));
  }
  // Everything else (the API, sockets, /sw.js) goes to the network untouched.
});

/** A page that has not started to arrive by then is taken as "server unreachable": a Pi that
 * hangs (or a tunnel that drops packets) must show the offline page, not a blank screen. */
const PAGE_WAIT_MS = 10_000;
/** A static file with a cached copy waits less for its headers: the copy is good enough. */
const STATIC_WAIT_MS = 3_000;

/** `promise`, or a rejection once `ms` have passed. (A navigation request cannot be copied
 * with an AbortSignal, hence a race rather than an aborted fetch.) */
function withDeadline(promise, ms) {
  let timer;
  const gaveUp = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no answer')), ms); });
  return Promise.race([promise, gaveUp]).finally(() => clearTimeout(timer));
}

async function pageOrOffline(request) {
  try {
    return await withDeadline(fetch(request), PAGE_WAIT_MS);
  } catch {
    return (await caches.match(OFFLINE_PAGE)) || new Response('MyChat is offline.', {
      status: 503, headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    });
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  return fetchAndCache(request);
}

async function networkFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (!cached) return fetchAndCache(request);
  try {
    return await withDeadline(fetchAndCache(request), STATIC_WAIT_MS);
  } catch {
    return cached;
  }
}

async function fetchAndCache(request) {
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy)).catch(() => {});
  }
  return response;
}

/** `event.waitUntil`, where the event allows it (events a test dispatches do not). */
function keepAlive(event, promise) {
  try {
    event.waitUntil(promise);
  } catch {
    // An untrusted event: the promise still runs.
  }
  return promise;
}

/**
 * Notification work, one task at a time. Chromium's getNotifications() deletes from its
 * store every notification that is written but not yet reported on display (unless created
 * after the read began); such a notification stays on screen, but its click finds nothing
 * and its count is lost. So no read of ours may overlap a show: a push for one chat
 * arriving while another's notification is being shown waits for it.
 */
let notificationWork = Promise.resolve();
function serially(task) {
  const run = notificationWork.then(task, task);
  notificationWork = run.catch(() => {});
  return run;
}

self.addEventListener('push', (event) => {
  keepAlive(event, serially(() => showPush(event.data)));
});

async function showPush(data) {
  let message = {};
  try {
    message = data ? data.json() : {};
  } catch {
    message = { body: data ? data.text() : '' };
  }
  const tag = message.tag || 'mychat';
  // One notification per conversation: the newest message replaces the one before, and the
  // count of messages it stands for goes on.
  const [previous] = await self.registration.getNotifications({ tag });
  const count = ((previous && previous.data && previous.data.count) || 0) + 1;
  await self.registration.showNotification(message.title || 'MyChat', {
    body: message.body || '',
    tag,
    renotify: true,
    icon: ICON,
    timestamp: Date.now(),
    data: { url: message.url || '/index', count, conversation: message.conversation || null },
  });
  await updateBadge();
}

/** The app badge: how many messages the notifications on screen stand for. */
async function updateBadge() {
  if (!('setAppBadge' in self.navigator)) return;
  const shown = await self.registration.getNotifications();
  const total = shown.reduce((sum, n) => sum + ((n.data && n.data.count) || 1), 0);
  try {
    if (total > 0) await self.navigator.setAppBadge(total);
    else await self.navigator.clearAppBadge();
  } catch {
    // Badging is a nicety; some platforms refuse it.
  }
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  keepAlive(event, serially(() => openConversation(event.notification)));
});

self.addEventListener('notificationclose', (event) => {
  keepAlive(event, serially(updateBadge));
});

/** Shows the notification's conversation: in an open app window if there is one. */
async function openConversation(notification) {
  const url = new URL((notification.data && notification.data.url) || '/index', self.location.origin);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const app = windows.find((w) => new URL(w.url).pathname === '/index') || windows[0];
  await updateBadge();
  if (!app) return self.clients.openWindow(url.href);
  try {
    await app.focus();
  } catch {
    // Focus needs a real click; the conversation still opens.
  }
  if (new URL(app.url).pathname === url.pathname) {
    app.postMessage({ type: 'open', hash: url.hash });
    return app;
  }
  return app.navigate(url.href);
}
