// Data written by the original Python app (tests/data/legacy-mychat): its users log in, their
// history shows with the stored HH:MM (those rows have no created_at) under an "Earlier
// messages" separator, receipts and unread counts carry over, and a legacy quote (no id)
// still jumps to the message it quotes.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  assertNoProblems, entry, eventually, expectCount, expectHidden, expectText, expectVisible, message,
  openPerson, send, signIn,
  startSession, stopSession,
} from './helpers/browser.mjs';

const LEGACY = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'legacy-mychat');

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession({ seed: LEGACY }));
});

after(() => stopSession({ server, browser }));

test('history written by the original app reads as before', { timeout: 60_000 }, async () => {
  const { context, page, problems } = await openPerson(browser, server);
  await signIn(page, 'alice', 'alice-pass-1');

  // Unread counts carried over: two from Bob.
  await expectText(entry(page, 'user', 'bob').locator('.badge'), '2');
  await expectVisible(entry(page, 'room', 'Garden'));
  await expectText(entry(page, 'room', 'Garden').locator('.item-sub'), 'carol: Seed swap on Saturday?');
  // Rooms and the people talked with (not every user), newest first: legacy messages carry no
  // date, so the room sorts by when it was made, and the people by their latest message.
  assert.deepEqual(await page.locator('#chat-list .item-name').allTextContents(), ['Garden', 'carol', 'bob']);

  await entry(page, 'user', 'bob').click();
  await expectCount(page.locator('#message-list .msg'), 6);
  assert.deepEqual(await page.locator('#message-list .msg .text').allTextContents(), [
    'Hi Bob!', 'Hi Alice! How are you?', 'Good, thanks. Lunch tomorrow?', 'Sure, 12:30 at the usual place?',
    'Perfect, see you there.', 'Bring the tomato seeds 🍅',
  ]);
  await expectText(page.locator('#message-list .day-separator').first(), 'Earlier messages');
  assert.deepEqual([...new Set(await page.locator('#message-list .msg time').allTextContents())], ['22:32']);
  // Bob read up to message 3 back then.
  assert.deepEqual(await page.locator('#message-list .msg.own .receipt').allTextContents(), ['✓✓', '✓✓', '✓', '✓']);
  await expectHidden(entry(page, 'user', 'bob').locator('.badge'));

  // A new message is dated: it opens a "Today" section after the legacy ones.
  await send(page, 'Still on for lunch?');
  await expectVisible(message(page, 'Still on for lunch?'));
  assert.deepEqual(await page.locator('#message-list .day-separator').allTextContents(), ['Earlier messages', 'Today']);

  // The room, with its one legacy reply: the quote has no id, but finds its original.
  await entry(page, 'room', 'Garden').click();
  await expectText(page.locator('#chat-subtitle'), '3 members · Tomatoes and such');
  await expectCount(page.locator('#message-list .msg'), 6);
  const reply = message(page, 'Good tip, will do!');
  await expectText(reply.locator('.quote-name'), 'alice');
  await expectText(reply.locator('.quote-text'), 'Try copper spray early in the season.');
  await expectText(message(page, 'Mine got blight last year 😞').locator('.sender'), 'carol');
  await reply.locator('.quote').click();
  const original = message(page, 'Try copper spray early in the season.');
  await eventually(async () => assert.ok(await original.evaluate((n) => n.classList.contains('highlight'))));

  assertNoProblems(problems);
  await context.close();
});
