// Search inside the app (issue 14): people, rooms and message text across my own
// conversations only, from the sidebar's search box, without leaving the page; matches are
// highlighted with <mark> (built as nodes, so markup in a message stays text); a person found
// opens a new chat; a message found opens its conversation at that message, highlighted,
// with the history around it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, entry, eventually, expectCount, expectText, expectVisible, flood, message, MOBILE,
  newUser, openChat, screenshot, send, startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

test('search finds people, rooms and my messages, and opens a message in place', { timeout: 120_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  const carol = await newUser(browser, server, 'carol');
  const dave = await newUser(browser, server, 'dave');
  const a = alice.page;
  await openChat(a, 'bob');
  await send(a, 'Plant the <b>tomatoes</b> on Friday');
  await openChat(carol.page, 'dave');
  await send(carol.page, 'Carol’s secret tomato recipe');
  const room = await createRoom(bob.page, 'Garden', { members: ['alice'] });
  await send(bob.page, 'the tomato harvest is big');
  await flood(bob.page, room, 55);
  await expectVisible(entry(a, 'room', 'Garden'));
  const href = a.url();
  await a.evaluate(() => { window.__sameDocument = true; });

  // Typing in the box: the chat list narrows, and messages are found — only my own.
  await a.locator('#search').fill('tomat');
  const hits = a.locator('#message-results .search-hit');
  await expectCount(hits, 2);
  const texts = await hits.locator('.hit-text').allTextContents();
  assert.ok(texts.every((t) => !t.includes('secret')), `never someone else's conversation: ${texts}`);
  assert.ok(texts.some((t) => t === 'You: Plant the <b>tomatoes</b> on Friday'), texts.join(' | '));
  // Each hit has its match marked, and only the match.
  for (const hit of await hits.all()) {
    const marks = await hit.locator('mark').allTextContents();
    assert.ok(marks.length >= 1, 'the match is marked');
    for (const mark of marks) assert.match(mark, /^tomat\w*$/i);
  }
  assert.equal(await a.locator('#search-results b').count(), 0, 'markup in a message stays text');
  await expectText(hits.filter({ hasText: 'harvest' }).locator('.item-name'), 'Garden');
  await screenshot(a, 'search-results-desktop');

  // Rooms by name narrow the chat list; people by name are offered to start a chat.
  await a.locator('#search').fill('gard');
  await expectCount(a.locator('#chat-list .list-item'), 1);
  await expectText(a.locator('#chat-list .item-name'), 'Garden');
  await a.locator('#search').fill('car');
  const person = a.locator('#people-results .list-item');
  await expectText(person.locator('.item-name'), 'carol');
  await expectText(person.locator('.item-sub'), 'online');
  await person.click();
  await expectText(a.locator('#chat-title'), 'carol');
  assert.equal(await a.locator('#message-list .msg').count(), 0, 'a new conversation');
  await expectText(a.locator('#message-list .list-note'), 'No messages yet. Say hello!');
  assert.equal(await a.evaluate(() => window.__sameDocument), true, 'no page change');

  // A message found: its conversation opens at it, highlighted, with the history around it
  // (the newest messages are not loaded yet).
  await a.locator('#search').fill('harvest');
  await a.locator('#message-results .search-hit').click();
  await expectText(a.locator('#chat-title'), 'Garden');
  const found = message(a, 'the tomato harvest is big');
  await expectVisible(found);
  await eventually(async () => assert.ok(await found.evaluate((n) => n.classList.contains('highlight'))));
  await eventually(async () => {
    const box = await found.boundingBox();
    const view = await a.locator('#messages').boundingBox();
    assert.ok(box.y >= view.y && box.y + box.height <= view.y + view.height, 'in view');
  });
  assert.equal(await message(a, 'filler 55').count(), 0, 'the end is not loaded');
  assert.equal(new URL(a.url()).pathname, new URL(href).pathname);
  assert.equal(await a.evaluate(() => window.__sameDocument), true, 'no page change');
  await screenshot(a, 'search-opened-desktop');
  // Down to the end: the rest loads, each message once.
  await eventually(async () => {
    await a.locator('#messages').evaluate((n) => { n.scrollTop = n.scrollHeight; });
    await expectCount(message(a, 'filler 55'), 1, { timeout: 1000 });
  });
  const ids = await a.locator('#message-list .msg').evaluateAll((nodes) => nodes.map((n) => Number(n.dataset.id)));
  assert.equal(new Set(ids).size, ids.length);
  // Escape empties the box.
  await a.locator('#search').press('Escape');
  assert.equal(await a.locator('#search').inputValue(), '');
  await expectCount(a.locator('#search-results:visible'), 0);
  for (const p of [alice, bob, carol, dave]) assertNoProblems(p.problems);
  for (const p of [alice, bob, carol, dave]) await p.context.close();
});

test('on a phone, a search result opens over the list and Back returns to the results', { timeout: 60_000 }, async () => {
  const alice = await newUser(browser, server, 'ann', { viewport: MOBILE, isMobile: true, hasTouch: true });
  const bob = await newUser(browser, server, 'ben');
  await openChat(bob.page, 'ann');
  await send(bob.page, 'the rhubarb is up');
  const p = alice.page;
  await p.locator('#search').fill('rhubarb');
  await p.locator('#message-results .search-hit').tap();
  await eventually(async () => assert.ok(await message(p, 'the rhubarb is up').evaluate((n) => n.classList.contains('highlight'))));
  await screenshot(p, 'search-opened-mobile');
  await p.locator('#back-button').tap();
  await expectVisible(p.locator('#message-results .search-hit'));
  assert.equal(await p.locator('#search').inputValue(), 'rhubarb');
  await screenshot(p, 'search-results-mobile');
  assertNoProblems(alice.problems);
  await alice.context.close();
  await bob.context.close();
});
