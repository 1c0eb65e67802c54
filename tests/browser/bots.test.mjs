// Bots: the room's creator creates one in the members dialog and sees its token once, with the
// URL to paste into each tool; a member sees no bots section; a bot's messages show its mark,
// title, priority, tags, link and state, and an alert turns "resolved" live when its recovery
// arrives; revoking and rotating take effect.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, expectHidden, expectText, expectVisible, message, newUser, screenshot,
  startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;
let alice;
let bob;

before(async () => {
  ({ server, browser } = await startSession());
  alice = await newUser(browser, server, 'alice');
  bob = await newUser(browser, server, 'bob');
});

after(() => stopSession({ server, browser }));

/** Posts as a tool would: no session, the token in the URL. */
async function hook(token, body, query = '') {
  const response = await fetch(`${server.url}/hooks/${token}${query}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return response.status;
}

const kuma = (status, msg) => ({
  heartbeat: { monitorID: 7, status, msg, time: '2026-12-01 04:10:11' },
  monitor: { id: 7, name: 'Router', url: 'http://192.168.1.1', type: 'http' },
  msg: `[Router] ${msg}`,
});

test('the creator manages bots; bot messages show their alert and its resolution', { timeout: 90_000 }, async () => {
  const a = alice.page;
  const b = bob.page;
  await a.locator('#new-room').click();
  await a.locator('#room-name').fill('Home lab');
  await a.locator('#room-create').click();
  await expectText(a.locator('#chat-title'), 'Home lab');
  // The members dialog opens at once for a new room: people first, then its bots.
  await expectVisible(a.locator('#members-dialog[open]'));
  await a.getByRole('button', { name: 'Add bob to the room' }).click();
  await expectVisible(a.locator('#member-list .member').nth(1));

  // The bots section: empty, then a bot with its token and the URLs for each tool.
  const bots = a.locator('#room-bots');
  await expectVisible(bots);
  await expectText(bots.locator('.bot-list'), 'No bots yet.');
  await a.locator('#bot-name').fill('Uptime');
  await bots.getByRole('button', { name: 'Create bot' }).click();
  const token = (await bots.locator('.bot-token').textContent()).trim();
  assert.match(token, /^mcb_[A-Za-z0-9_-]{43}$/);
  const urls = await bots.locator('.tool-url').allTextContents();
  assert.ok(urls.includes(`${server.url}/hooks/${token}`), urls.join('\n'));
  assert.ok(urls.includes(`${server.url}/hooks/ntfy`), urls.join('\n'));
  await expectText(bots.locator('.bot-row .item-name'), 'Uptime');
  await screenshot(a, 'bots-dialog');
  await a.keyboard.press('Escape');
  await expectHidden(a.locator('#members-dialog'));

  // Bob, a member, sees the members but no bots section.
  await entry(b, 'room', 'Home lab').click();
  await b.locator('#members-button').click();
  await expectVisible(b.locator('#member-list .member').nth(1));
  await expectHidden(b.locator('#room-bots'));
  await b.keyboard.press('Escape');
  await expectHidden(b.locator('#members-dialog'));

  // An alert, then its recovery: a reply, and the alert turns resolved in place.
  assert.equal(await hook(token, kuma(0, '[🔴 Down] timeout'), '?tags=rotating_light'), 200);
  const down = message(b, '[Router] [🔴 Down] timeout');
  await expectVisible(down);
  await expectText(down.locator('.bot-mark'), 'BOT');
  await expectText(down.locator('.alert-title'), 'Router');
  await expectText(down.locator('.alert-state'), 'firing');
  await expectText(down.locator('.alert-priority'), 'priority 4');
  await expectText(down.locator('.alert-tags'), '🔴🚨');
  assert.equal(await down.locator('.alert-link').getAttribute('href'), 'http://192.168.1.1');
  await expectText(down.locator('.sender'), 'Uptime');
  assert.equal(await hook(token, kuma(1, '[✅ Up] 200 - OK')), 200);
  const up = message(b, '[Router] [✅ Up] 200 - OK');
  await expectVisible(up.locator('.quote'));
  await expectText(up.locator('.quote-text'), '[Router] [🔴 Down] timeout');
  await expectText(down.locator('.alert-state'), '✓ resolved');
  await screenshot(b, 'bot-messages');

  // A bot message can't smuggle markup or a script link into the page.
  assert.equal(await hook(token, { text: '<img src=x onerror=alert(1)>' }, '?title=%3Cb%3Ex%3C%2Fb%3E'), 200);
  await expectVisible(message(b, '<img src=x onerror=alert(1)>'));
  assert.equal(await b.locator('#message-list img, #message-list b').count(), 0);
  assert.equal(await hook(token, { text: 'x' }, '?click=javascript:alert(1)'), 400);

  // Revoke: the token stops working. Rotate: a new one is shown, and works.
  await a.locator('#members-button').click();
  await bots.getByRole('button', { name: 'Revoke: Uptime' }).click();
  await expectText(bots.locator('.bot-row .item-sub'), 'revoked: rotate to give it a new token');
  assert.equal(await hook(token, { text: 'after revoke' }), 401);
  await bots.getByRole('button', { name: 'New token: Uptime' }).click();
  await expectVisible(bots.locator('.bot-token'));
  const rotated = (await bots.locator('.bot-token').textContent()).trim();
  assert.notEqual(rotated, token);
  assert.equal(await hook(token, { text: 'old token' }), 401);
  assert.equal(await hook(rotated, { text: 'new token works' }), 200);
  await expectVisible(message(b, 'new token works'));
  assert.equal(await message(b, 'old token').count(), 0);
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
});
