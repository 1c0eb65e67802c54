// A server restart: both tabs show the connection banner, reconnect on their own (backoff),
// and catch up from history. Alice's tab is kept offline for a while so that a message is
// sent while she has no socket: it must arrive exactly once, through ?after= catch-up.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, expectCount, expectHidden, expectText, expectVisible, message, newUser, openChat, send,
  startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

/** What a page logs while its server is away: failed connections and requests. */
const OUTAGE = [/WebSocket connection to .* failed/, /Failed to load resource/, /ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/];

async function texts(page) {
  return page.locator('#message-list .msg .text').allTextContents();
}

async function assertNoDuplicates(page) {
  const ids = await page.locator('#message-list .msg').evaluateAll((nodes) => nodes.map((n) => n.dataset.id));
  assert.equal(new Set(ids).size, ids.length, `duplicate message ids: ${ids}`);
  const sorted = [...ids].sort((x, y) => Number(x) - Number(y));
  assert.deepEqual(ids, sorted, 'messages are in id order');
}

test('after a server restart both tabs reconnect and catch up without gaps or duplicates', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  const a = alice.page;
  const b = bob.page;
  await openChat(a, 'bob');
  await openChat(b, 'alice');
  await send(a, 'before the restart');
  await expectVisible(message(b, 'before the restart'));
  await expectHidden(a.locator('#connection-banner'));

  // Alice's tab loses the network; then the server restarts on the same port and data.
  await alice.context.setOffline(true);
  await server.stop();
  for (const page of [a, b]) {
    await expectVisible(page.locator('#connection-banner'));
    await expectText(page.locator('#connection-banner'), 'Connection lost. Reconnecting…');
  }
  await server.start();

  // Bob comes back by himself; Alice cannot yet.
  await expectHidden(b.locator('#connection-banner'), { timeout: 20_000 });
  await send(b, 'sent while Alice was offline');
  await expectVisible(message(b, 'sent while Alice was offline'));
  assert.equal(await a.locator('#connection-banner').isVisible(), true, 'Alice is still disconnected');
  assert.equal(await message(a, 'sent while Alice was offline').count(), 0);

  // Alice's network returns: her sockets reconnect and the missed message is fetched.
  await alice.context.setOffline(false);
  await expectHidden(a.locator('#connection-banner'), { timeout: 20_000 });
  await expectVisible(message(a, 'sent while Alice was offline'));
  // She is looking at the conversation, so Bob learns it was read.
  await expectText(message(b, 'sent while Alice was offline').locator('.receipt'), '✓✓');

  // Live delivery works again in both directions.
  await send(b, 'after the reconnect');
  await expectVisible(message(a, 'after the reconnect'));
  await send(a, 'and back');
  await expectVisible(message(b, 'and back'));

  const expected = ['before the restart', 'sent while Alice was offline', 'after the reconnect', 'and back'];
  for (const page of [a, b]) {
    assert.deepEqual(await texts(page), expected);
    await assertNoDuplicates(page);
  }
  // The lists came back too (presence was fetched again).
  await expectCount(entry(a, 'user', 'bob').locator('.presence-dot.online'), 1);
  await expectCount(entry(b, 'user', 'alice').locator('.presence-dot.online'), 1);
  await expectText(a.locator('#chat-subtitle'), 'online');

  // A reload shows the same conversation: nothing was stored twice.
  await a.reload();
  await expectVisible(message(a, 'and back'));
  assert.deepEqual(await texts(a), expected);
  assertNoProblems(alice.problems, OUTAGE);
  assertNoProblems(bob.problems, OUTAGE);
});
