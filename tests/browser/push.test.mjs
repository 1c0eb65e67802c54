// The installable app and Web Push in Chromium: the manifest and its icons, the service
// worker (registered, the offline page when the server is gone), a push delivered through
// the DevTools protocol (ServiceWorker.deliverPushMessage) becoming a notification whose
// click opens the conversation, the settings when push cannot work, and the switch and test
// button going through the real server to a fake push service in this process, which
// decrypts the push with the subscription's private key.

import assert from 'node:assert/strict';
import { createDecipheriv, createECDH, hkdfSync } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, expectHidden, expectText, expectVisible, eventually, newUser, screenshot, signIn,
  startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  // The fake push service is plain http on 127.0.0.1: allowed by this option only.
  ({ server, browser } = await startSession({ args: ['--push-private-endpoints', 'on'] }));
});

after(() => stopSession({ server, browser }));

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(bytes) {
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

/** The page's service worker registration is active and controls the page. */
async function serviceWorkerReady(page) {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) await page.reload();
  await eventually(async () => assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller)));
}

/**
 * Counts, in the page's service worker, the notifications whose showNotification() has
 * resolved; returns the count so far. Once it moves on, the notification is on display and
 * may be read: Chromium's getNotifications() deletes a notification it reads between its
 * being stored and its being displayed (see sw.js), so the tests never read while a push is
 * being shown — they wait for this count instead of polling the notifications.
 */
async function countShows(worker) {
  return worker.evaluate(() => {
    if (self.testShows === undefined) {
      self.testShows = 0;
      const show = self.registration.showNotification.bind(self.registration);
      self.registration.showNotification = async (...args) => {
        const shown = await show(...args);
        self.testShows += 1;
        return shown;
      };
    }
    return self.testShows;
  });
}

/**
 * Delivers `payload` to the page's service worker as a push message, through DevTools, and
 * waits until the worker has shown its notification.
 */
async function deliverPush(person, payload) {
  const worker = person.context.serviceWorkers().find((w) => new URL(w.url()).pathname === '/sw.js')
    ?? await person.context.waitForEvent('serviceworker');
  const shownBefore = await countShows(worker);
  const cdp = await person.context.newCDPSession(person.page);
  const registrations = [];
  const versions = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => registrations.push(...list));
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions: list }) => versions.push(...list));
  await cdp.send('ServiceWorker.enable');
  await eventually(() => assert.ok(registrations.some((r) => !r.isDeleted)));
  const { registrationId, scopeURL } = registrations.find((r) => !r.isDeleted);
  // A push reaches only an activated worker (a page is controlled already while its worker is
  // still activating): one delivered before is dropped.
  await eventually(() => assert.ok(
    versions.some((v) => v.registrationId === registrationId && v.status === 'activated'),
    `a version of ${registrationId} is activated: ${JSON.stringify(versions)}`,
  ));
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: new URL(scopeURL).origin,
    registrationId,
    data: JSON.stringify(payload),
  });
  await cdp.detach();
  await eventually(async () => assert.equal(await countShows(worker), shownBefore + 1, 'the worker showed the push'), { timeout: 30_000 });
}

async function notifications(page) {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
  });
}

test('the manifest, its icons and the install metadata are served', { timeout: 60_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const page = alice.page;
  assert.equal(await page.locator('link[rel="manifest"]').getAttribute('href'), '/manifest.webmanifest');
  const response = await page.request.get('/manifest.webmanifest');
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'], /^application\/manifest\+json/);
  const manifest = await response.json();
  assert.equal(manifest.name, 'MyChat');
  assert.equal(manifest.short_name, 'MyChat');
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, '/index');
  assert.ok(manifest.theme_color && manifest.background_color);
  const sizes = new Set();
  for (const icon of manifest.icons) {
    const image = await page.request.get(icon.src);
    assert.equal(image.status(), 200, icon.src);
    assert.equal(image.headers()['content-type'], 'image/png');
    assert.equal(pngSize(await image.body()), icon.sizes, icon.src);
    sizes.add(`${icon.sizes} ${icon.purpose}`);
  }
  for (const wanted of ['192x192 any', '512x512 any', '512x512 maskable']) assert.ok(sizes.has(wanted), wanted);
  const apple = await page.locator('link[rel="apple-touch-icon"]').getAttribute('href');
  assert.equal(pngSize(await (await page.request.get(apple)).body()), '180x180');
  assert.equal(await page.locator('meta[name="theme-color"]').count(), 2, 'light and dark');
  assertNoProblems(alice.problems);
  await alice.context.close();
});

test('the service worker registers, and the offline page shows while the server is gone or hangs', { timeout: 120_000 }, async () => {
  const alice = await newUser(browser, server, 'alice2');
  const page = alice.page;
  await serviceWorkerReady(page);
  const cached = await page.evaluate(async () => {
    const keys = await caches.keys();
    const cache = await caches.open(keys.find((k) => k.startsWith('mychat-')));
    return (await cache.keys()).map((r) => new URL(r.url).pathname);
  });
  // The offline page's own files, and the app's script and style as the page references them
  // (content-hashed URLs when the server serves its bundles, plain ones with --assets-dir).
  const script = new URL(await page.locator('script[type="module"]').first().getAttribute('src'), page.url()).pathname;
  const style = new URL(await page.locator('link[rel="stylesheet"]').first().getAttribute('href'), page.url()).pathname;
  assert.match(script, /^\/static\/js\/main(\.[0-9a-f]+)?\.js$/);
  for (const path of ['/static/offline.html', '/static/js/offline.js', script, style]) {
    assert.ok(cached.includes(path), `${path} in ${cached}`);
  }

  // A server that accepts but never answers (here: stopped with SIGSTOP) shows the offline
  // page too, after the worker's wait, instead of a blank page.
  server.child.kill('SIGSTOP');
  try {
    await page.reload({ timeout: 40_000 });
    await expectText(page.locator('#offline-title'), 'You are offline', { timeout: 30_000 });
  } finally {
    server.child.kill('SIGCONT');
  }
  await page.locator('#offline-retry').click();
  await expectVisible(page.locator('#chat-list > li').first());

  await server.stop();
  try {
    await page.reload();
    await expectText(page.locator('#offline-title'), 'You are offline');
    await expectVisible(page.locator('#offline-retry'));
    assert.match(page.url(), /\/index$/, 'the address stays, so Try again loads the app');
    await screenshot(page, 'push-offline');
  } finally {
    await server.start();
  }
  await page.locator('#offline-retry').click();
  // The app is back: its chat list is loaded (its entries, or the note that there are none).
  await expectVisible(page.locator('#chat-list > li').first());
  assertNoProblems(alice.problems, [/Failed to load resource|ERR_CONNECTION_REFUSED|ERR_FAILED/, /WebSocket connection to .* failed/]);
  await alice.context.close();
});

test('a pushed message becomes a notification, and its click opens the conversation', { timeout: 90_000 }, async () => {
  const bob = await newUser(browser, server, 'bob');
  const bobId = await bob.page.evaluate(() => document.body.dataset.userId);
  const alice = await newUser(browser, server, 'alice3');
  await alice.context.grantPermissions(['notifications'], { origin: server.url });
  const page = alice.page;
  await serviceWorkerReady(page);
  // The app is loaded (bob has not written to her, so he is not in her chat list yet).
  await expectVisible(page.locator('#chat-list > li').first());

  const payload = (body, id) => ({
    title: 'bob',
    body,
    tag: `user-${bobId}`,
    url: `/index#user/${encodeURIComponent(bobId)}`,
    sender: { id: bobId, name: 'bob' },
    conversation: { kind: 'private', id: bobId, name: 'bob' },
    message_id: id,
  });
  // The app badge, where the platform has one, counts the messages the notifications stand
  // for (recorded here in place of the platform's).
  const [sw] = alice.context.serviceWorkers();
  await sw.evaluate(() => {
    self.badges = [];
    self.navigator.setAppBadge = async (n) => { self.badges.push(n); };
    self.navigator.clearAppBadge = async () => { self.badges.push(0); };
  });
  await deliverPush(alice, payload('Are you coming?', 1));
  assert.deepEqual(
    (await notifications(page)).map(({ title, body, tag }) => ({ title, body, tag })),
    [{ title: 'bob', body: 'Are you coming?', tag: `user-${bobId}` }],
  );
  // A second message of the same conversation replaces the notification and counts on.
  await deliverPush(alice, payload('Hello?', 2));
  const shown = await notifications(page);
  assert.equal(shown.length, 1);
  assert.equal(shown[0].body, 'Hello?');
  assert.equal(shown[0].data.count, 2);
  assert.deepEqual(await sw.evaluate(() => self.badges), [1, 2]);

  // The click (dispatched in the service worker, as the browser would) opens bob's chat in
  // the open app.
  assert.equal(new URL(page.url()).hash, '');
  const [worker] = alice.context.serviceWorkers();
  await worker.evaluate(async () => {
    const [notification] = await self.registration.getNotifications();
    self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
  });
  await expectText(page.locator('#chat-title'), 'bob');
  assert.equal(new URL(page.url()).hash, `#user/${bobId}`);
  await eventually(async () => assert.deepEqual(await notifications(page), []));
  assertNoProblems(alice.problems);

  // With no window of the app open, the click opens one at the conversation. (Chromium lets
  // only a real click open a window, so the worker's openWindow is recorded instead.)
  await deliverPush(alice, payload('Still there?', 3));
  await page.close();
  const opened = await sw.evaluate(async () => {
    const calls = [];
    self.clients.openWindow = async (url) => { calls.push(url); return null; };
    const [notification] = await self.registration.getNotifications();
    self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
    while (calls.length === 0) await new Promise((resolve) => { setTimeout(resolve, 20); });
    return calls;
  });
  assert.deepEqual(opened, [`${server.url}/index#user/${encodeURIComponent(bobId)}`]);
  await alice.context.close();
  await bob.context.close();
});

test('the settings say plainly when push cannot work, and offer forwarding', { timeout: 60_000 }, async () => {
  // An iPhone's Safari outside the installed app: no switch, the way to install instead.
  const iphone = await newUser(browser, server, 'ios');
  await iphone.context.close();
  const context = await browser.newContext({
    baseURL: server.url,
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    viewport: { width: 390, height: 844 },
  });
  const page = await context.newPage();
  await signIn(page, 'ios');
  await page.locator('#push-button').click();
  await expectVisible(page.locator('#push-dialog'));
  await expectText(page.locator('#push-state'), /installed app .*Add to Home Screen/);
  await expectHidden(page.locator('#push-toggle-row'));
  await expectHidden(page.locator('#push-test'));
  await expectText(page.locator('#install-text'), /Share, then “Add to Home Screen”.*sign in once more/);
  await expectVisible(page.locator('#forward-form'));
  await screenshot(page, 'push-settings-ios');
  await context.close();

  // A browser without the Push API.
  const plain = await newUser(browser, server, 'nopush');
  await plain.context.addInitScript(() => { delete window.PushManager; });
  await plain.page.reload();
  await plain.page.locator('#push-button').click();
  await expectText(plain.page.locator('#push-state'), /cannot receive push notifications/);
  await expectHidden(plain.page.locator('#push-toggle-row'));
  await expectVisible(plain.page.locator('#forward-url'));
  await plain.context.close();

  // Blocked notifications.
  const blocked = await newUser(browser, server, 'blocked');
  const cdp = await blocked.context.newCDPSession(blocked.page);
  const { targetInfo } = await cdp.send('Target.getTargetInfo');
  await cdp.send('Browser.setPermission', {
    permission: { name: 'notifications' }, setting: 'denied', origin: server.url, browserContextId: targetInfo.browserContextId,
  });
  await blocked.page.reload();
  assert.equal(await blocked.page.evaluate(() => Notification.permission), 'denied');
  await blocked.page.locator('#push-button').click();
  await expectText(blocked.page.locator('#push-state'), /blocked for this site/);
  await expectHidden(blocked.page.locator('#push-toggle-row'));
  await blocked.context.close();
});

/** A push service on 127.0.0.1 that records what it receives. */
function fakePushService() {
  const received = [];
  const service = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url, headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(201).end();
    });
  });
  return new Promise((resolve) => service.listen(0, '127.0.0.1', () => resolve({ service, received, url: `http://127.0.0.1:${service.address().port}` })));
}

/**
 * Runs in the page: Chromium's real subscribe() needs Google's push service, which a test
 * machine can't reach; this one makes the subscription a browser would (a P-256 key pair
 * and an auth secret from WebCrypto) for the fake service's endpoint, and keeps the private
 * key where the test can read it.
 */
function fakeSubscribe(endpoint) {
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  let current = null;
  PushManager.prototype.getSubscription = async function getSubscription() { return current; };
  PushManager.prototype.subscribe = async function subscribe(options) {
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const publicKey = await crypto.subtle.exportKey('raw', pair.publicKey);
    const auth = crypto.getRandomValues(new Uint8Array(16));
    window.__push = { jwk: await crypto.subtle.exportKey('jwk', pair.privateKey), serverKey: b64(options.applicationServerKey) };
    current = {
      endpoint,
      options: { applicationServerKey: options.applicationServerKey },
      toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: b64(publicKey), auth: b64(auth) } }),
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
}

/** RFC 8291: decrypts an aes128gcm push body with the subscription's private key. */
function decrypt(body, jwk, subscription) {
  const fromB64 = (s) => Buffer.from(s, 'base64url');
  const salt = body.subarray(0, 16);
  const idLength = body[20];
  const senderKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(fromB64(jwk.d));
  const shared = ecdh.computeSecret(senderKey);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), fromB64(subscription.keys.p256dh), senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, fromB64(subscription.keys.auth), info, 32));
  const key = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', key, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end -= 1;
  assert.equal(plain[end - 1], 2, 'last-record delimiter');
  return JSON.parse(plain.subarray(0, end - 1).toString());
}

test('the switch subscribes, and the test button goes through the server to the push service', { timeout: 90_000 }, async () => {
  const push = await fakePushService();
  try {
    const carol = await newUser(browser, server, 'carol');
    const page = carol.page;
    await carol.context.grantPermissions(['notifications'], { origin: server.url });
    await carol.context.addInitScript(fakeSubscribe, `${push.url}/push/carol`);
    await page.reload();
    await serviceWorkerReady(page);
    await page.locator('#push-button').click();
    await expectText(page.locator('#push-state'), /^Off/);
    await expectHidden(page.locator('#push-test'));
    await page.locator('#push-toggle').check();
    await expectText(page.locator('#push-state'), /^On/);
    const subscription = await page.evaluate(async () => (await (await navigator.serviceWorker.ready).pushManager.getSubscription()).toJSON());
    const serverKey = await page.evaluate(() => window.__push.serverKey);
    assert.equal(serverKey, (await (await page.request.get('/api/push/key')).json()).key, 'subscribed with the server\'s VAPID key');
    await screenshot(page, 'push-settings-on');

    await page.locator('#push-test').click();
    await expectText(page.locator('#push-test-status'), /Sent/);
    await eventually(() => assert.equal(push.received.length, 1, server.logText().slice(-3000)), { timeout: 20_000 });
    const [request] = push.received;
    assert.equal(request.path, '/push/carol');
    assert.equal(request.headers['content-encoding'], 'aes128gcm');
    assert.match(request.headers.authorization, new RegExp(`^vapid t=[\\w-]+\\.[\\w-]+\\.[\\w-]+, k=${serverKey}$`));
    const payload = decrypt(request.body, await page.evaluate(() => window.__push.jwk), subscription);
    assert.equal(payload.conversation.kind, 'test');

    // What the push service would hand the browser: the same payload, shown by the worker.
    await deliverPush(carol, payload);
    const [shown] = await notifications(page);
    assert.equal(shown?.title, 'MyChat');
    assert.equal(shown?.tag, 'mychat-test');
    assert.match(shown?.body, /carol/);

    // The ntfy forward through the same form: saved (the token only as a hint), and its test
    // reaches the receiving server.
    await page.locator('#forward-url').fill(`${push.url}/ntfy/carol-topic`);
    await page.locator('#forward-token').fill('tk_browsertoken1');
    await page.locator('#forward-save').click();
    await expectText(page.locator('#forward-status'), 'Saved.');
    await expectText(page.locator('#forward-token-hint'), /…ken1/);
    assert.equal(await page.locator('#forward-token').inputValue(), '', 'the token is not shown again');
    await page.locator('#forward-test').click();
    await expectText(page.locator('#forward-status'), /Sent/);
    await eventually(() => assert.ok(push.received.some((r) => r.path === '/ntfy')));
    const forwarded = push.received.find((r) => r.path === '/ntfy');
    assert.equal(forwarded.headers.authorization, 'Bearer tk_browsertoken1');
    assert.equal(JSON.parse(forwarded.body.toString()).topic, 'carol-topic');

    // Off again: the server forgets the subscription.
    await page.locator('#push-toggle').uncheck();
    await expectText(page.locator('#push-state'), /^Off/);
    const refused = await page.request.post('/api/push/test', { headers: { Origin: server.url } });
    assert.equal(refused.status(), 404);
    assertNoProblems(carol.problems);
    await carol.context.close();
  } finally {
    push.service.close();
  }
});
