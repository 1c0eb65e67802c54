// Two people in two browser contexts: the first contact through the search box, live
// delivery both ways, the chat list's entry with its badge and the tab title, read receipts
// (✓ then ✓✓), the single-conversation page, the server-rendered search page, and presence
// when one of them leaves.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, expectCount, expectHidden, expectText, expectVisible, message, newUser, openChat,
  screenshot, send,
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

test('messages arrive live both ways, with unread badges and read receipts', { timeout: 60_000 }, async () => {
  const a = alice.page;
  const b = bob.page;
  // Nobody has talked yet: the chat lists are empty (not every registered user).
  await expectText(a.locator('#chat-list .list-empty'), 'No chats yet. Find people with the search box, or create a room with +.');
  await expectCount(entry(b, 'user', 'alice'), 0);

  // Alice finds Bob with the search box; he is online.
  await openChat(a, 'bob');
  await expectText(a.locator('#chat-subtitle'), 'online');
  await send(a, 'Hello Bob!');
  const first = message(a, 'Hello Bob!');
  await expectVisible(first);
  // Stored and echoed with an id: one tick; Bob has not read it.
  await expectText(first.locator('.receipt'), '✓');
  assert.match(await first.getAttribute('data-id'), /^\d+$/);

  // Bob is not in the conversation: Alice appears in his list, online, with the message as
  // its preview; a badge and the tab title count it.
  await expectText(entry(b, 'user', 'alice').locator('.badge'), '1');
  await expectText(entry(b, 'user', 'alice').locator('.item-sub'), 'Hello Bob!');
  await expectCount(entry(b, 'user', 'alice').locator('.presence-dot.online'), 1);
  // Alice's own list has Bob, with her message as "You: …".
  await expectText(entry(a, 'user', 'bob').locator('.item-sub'), 'You: Hello Bob!');
  await eventuallyTitle(b, '(1) MyChat');
  await send(a, 'Are you there?');
  await expectText(entry(b, 'user', 'alice').locator('.badge'), '2');
  await eventuallyTitle(b, '(2) MyChat');
  await expectText(message(a, 'Are you there?').locator('.receipt'), '✓');

  // Bob opens the conversation: it is read, the badge goes, Alice sees two ticks.
  await entry(b, 'user', 'alice').click();
  await expectVisible(message(b, 'Hello Bob!'));
  await expectVisible(message(b, 'Are you there?'));
  await expectHidden(entry(b, 'user', 'alice').locator('.badge'));
  await eventuallyTitle(b, 'MyChat');
  await expectText(first.locator('.receipt'), '✓✓');
  await expectText(message(a, 'Are you there?').locator('.receipt'), '✓✓');

  // Bob answers (Shift+Enter makes a new line; Enter sends).
  const input = b.locator('#composer-input');
  await input.fill('Yes,');
  await input.press('Shift+Enter');
  await input.pressSequentially('I am here');
  await input.press('Enter');
  await expectText(message(a, 'I am here').locator('.text'), 'Yes,\nI am here');
  assert.equal(await input.inputValue(), '', 'the composer is cleared after sending');
  // Alice is looking at the conversation: no badge for Bob's message.
  assert.equal(await entry(a, 'user', 'bob').locator('.badge').count(), 0);

  // While both look, a new message is read at once.
  await send(a, 'Great, see you at 8');
  await expectVisible(message(b, 'Great, see you at 8'));
  await expectText(message(a, 'Great, see you at 8').locator('.receipt'), '✓✓');

  // Messages are in order, without duplicates, on both sides.
  const expected = ['Hello Bob!', 'Are you there?', 'Yes,\nI am here', 'Great, see you at 8'];
  for (const page of [a, b]) {
    assert.deepEqual(await page.locator('#message-list .msg .text').allTextContents(), expected);
  }
  // A day separator heads the conversation; times are local HH:MM.
  await expectText(a.locator('#message-list .day-separator').first(), 'Today');
  assert.match(await first.locator('time').textContent(), /^\d{1,2}:\d{2}( [AP]M)?$/);

  await screenshot(a, 'main-private-chat-desktop');
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
});

test('the single-conversation page and the server-rendered search work', { timeout: 60_000 }, async () => {
  const aliceId = await alice.page.evaluate(() => document.body.dataset.userId);
  const page = await bob.context.newPage();
  const { watchProblems } = await import('./helpers/browser.mjs');
  const problems = watchProblems(page);

  // The header's search link goes to the in-app search box (it is the /search page's link
  // for browsers without script).
  await page.goto('/index');
  assert.equal(await page.locator('#search-link').getAttribute('href'), '/search');
  await page.locator('#search-link').click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
  assert.equal(new URL(page.url()).pathname, '/index', 'no page change');

  // The server-rendered search page still works.
  await page.goto('/search');
  await page.locator('#q').fill('ali');
  await page.locator('#q').press('Enter');
  const result = page.locator('.search-result a', { hasText: 'alice' });
  await expectVisible(result);
  await expectCount(page.locator('.search-result'), 1);
  await screenshot(page, 'search-desktop');
  await result.click();
  await page.waitForURL(`**/chat/${aliceId}`);

  await expectText(page.locator('#chat-title'), 'alice');
  await expectVisible(message(page, 'Great, see you at 8'));
  await screenshot(page, 'chat-page-desktop');
  await send(page, 'Sent from the chat page');
  await expectVisible(message(alice.page, 'Sent from the chat page'));
  await expectText(message(page, 'Sent from the chat page').locator('.receipt'), '✓✓');
  // Its back button leads to the app.
  await page.locator('#back-button').click();
  await page.waitForURL('**/index');
  assertNoProblems(problems);
  await page.close();
});

test('presence follows people leaving', { timeout: 60_000 }, async () => {
  await expectCount(entry(alice.page, 'user', 'bob').locator('.presence-dot.online'), 1);
  await expectText(alice.page.locator('#chat-subtitle'), 'online');
  await bob.context.close();
  await expectCount(entry(alice.page, 'user', 'bob').locator('.presence-dot.online'), 0);
  await expectCount(entry(alice.page, 'user', 'bob').locator('.presence-dot'), 1);
  await expectText(alice.page.locator('#chat-subtitle'), 'offline');
  assertNoProblems(alice.problems);
});

async function eventuallyTitle(page, title) {
  await page.waitForFunction((want) => document.title === want, title, { timeout: 10_000 });
}
