// What a first visit costs: a cold load of /index after login (a fresh browser context, so an
// empty HTTP cache) counts the HTTP requests and sums the bytes on the wire (headers and
// encoded bodies), then a reload shows what the cache saves. It prints the figures; it asserts
// only facts that must hold, not sizes: one script, one stylesheet, compressed text, hashed
// URLs cached for a year, and nothing static fetched again on a reload. It weighs what the
// binary ships, so its server serves the built-in bundles even with MYCHAT_ASSETS_DIR.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertNoProblems, newUser, startSession, stopSession, watchProblems } from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession({ builtInAssets: true }));
});

after(() => stopSession({ server, browser }));

/** Loads `path` in `page`, recording every HTTP request until the network is quiet. */
async function measure(page, load) {
  const requests = [];
  const onRequest = (request) => requests.push(request);
  page.on('request', onRequest);
  await load();
  // The app's API calls follow the scripts; wait for the last of them.
  await page.waitForLoadState('networkidle');
  page.off('request', onRequest);
  const rows = [];
  for (const request of requests) {
    const response = await request.response();
    const sizes = await request.sizes();
    rows.push({
      url: new URL(request.url()).pathname,
      type: request.resourceType(),
      status: response ? response.status() : 0,
      encoding: response ? (await response.allHeaders())['content-encoding'] ?? '' : '',
      cacheControl: response ? (await response.allHeaders())['cache-control'] ?? '' : '',
      bytes: sizes.responseHeadersSize + sizes.responseBodySize,
      body: sizes.responseBodySize,
    });
  }
  return rows;
}

function report(label, rows) {
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  const cached = rows.filter((r) => r.bytes === 0).length;
  const byType = {};
  for (const r of rows) byType[r.type] = (byType[r.type] ?? 0) + 1;
  console.log(`# ${label}: ${rows.length} requests (${cached} answered by the browser's cache), ${total} bytes transferred`, JSON.stringify(byType));
  for (const r of rows) {
    console.log(`#   ${r.status} ${r.type.padEnd(10)} ${String(r.bytes).padStart(7)} B ${r.encoding.padEnd(5)} ${r.url}`);
  }
  return total;
}

test('first load of /index: requests and bytes', { timeout: 60_000 }, async () => {
  const person = await newUser(browser, server, 'wanda');
  const state = await person.context.storageState();
  await person.context.close();

  // A new context has an empty cache: the first visit after logging in elsewhere.
  const context = await browser.newContext({ storageState: state, baseURL: server.url });
  const page = await context.newPage();
  const problems = watchProblems(page);
  const cold = await measure(page, () => page.goto('/index'));
  report('cold load of /index', cold);
  const warm = await measure(page, () => page.reload());
  report('reload of /index', warm);

  const scripts = cold.filter((r) => r.type === 'script');
  const styles = cold.filter((r) => r.type === 'stylesheet');
  assert.equal(scripts.length, 1, 'one JS request');
  assert.equal(styles.length, 1, 'one stylesheet request');
  for (const r of [...scripts, ...styles]) {
    assert.equal(r.status, 200, r.url);
    assert.equal(r.encoding, 'gzip', `${r.url} is compressed`);
    assert.match(r.url, /\.[0-9a-f]{8,}\.(js|css)$/, `${r.url} has a content hash`);
    assert.match(r.cacheControl, /max-age=31536000/, `${r.url} is cached for a year`);
  }
  // A reload fetches the page and the API again; hashed static files come from the cache
  // without a byte on the wire (not even a revalidation).
  const hashed = warm.filter((r) => r.url.startsWith('/static/') && /\.[0-9a-f]{8,}\./.test(r.url));
  assert.ok(hashed.length >= 2, 'the reload uses the hashed files');
  assert.deepEqual(hashed.filter((r) => r.bytes > 0).map((r) => r.url), [], 'hashed files come from the cache');
  assertNoProblems(problems);
  await context.close();
});
