// Rooms: creating one in its dialog, adding a member (who sees it appear live), sender
// colours, older pages on scrolling up, replying with a quote that jumps to the original
// (loading older pages as needed), the member list with presence, removal and deletion.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, flood, DESKTOP, entry, eventually, expectCount, expectHidden, expectText, expectVisible,
  message, MOBILE, newUser, screenshot, send,
  startSession, stopSession,
} from './helpers/browser.mjs';

const PAGE = 50;
const FILLERS = 55;

let server;
let browser;
let alice;
let bob;
let roomId;

before(async () => {
  ({ server, browser } = await startSession());
  alice = await newUser(browser, server, 'alice');
  bob = await newUser(browser, server, 'bob');
});

after(() => stopSession({ server, browser }));

/** The colour (one of 8) static/js/dom.js derives from an id (FNV-1a), to check colours are per sender. */
function colorOf(id) {
  let hash = 2166136261;
  for (const ch of id) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash % 8;
}

test('a room is created, a member added live, and replies quote and jump', { timeout: 60_000 }, async () => {
  const a = alice.page;
  const b = bob.page;

  // Alice creates a room in the dialog; it opens.
  await a.locator('#new-room').click();
  await expectVisible(a.locator('#room-dialog'));
  await a.locator('#room-name').fill('Book club');
  await a.locator('#room-description').fill('Monthly reads');
  await a.locator('#room-create').click();
  await expectHidden(a.locator('#room-dialog'));
  await expectText(a.locator('#chat-title'), 'Book club');
  await expectText(a.locator('#chat-subtitle'), '1 member · Monthly reads');
  await expectVisible(entry(a, 'room', 'Book club'));
  roomId = decodeURIComponent(new URL(a.url()).hash.replace('#room/', ''));
  assert.ok(roomId.length > 10, `the room's id is in the address: ${a.url()}`);
  assert.equal(await entry(b, 'room', 'Book club').count(), 0);

  // Alice adds Bob from the members dialog; the room appears in Bob's list without a reload.
  await a.locator('#members-button').click();
  await expectVisible(a.locator('#members-dialog'));
  await a.getByRole('button', { name: 'Add bob to the room' }).click();
  await expectVisible(a.locator('#member-list .member', { hasText: 'bob' }));
  await expectText(a.locator('#candidate-list .list-empty'), 'Everyone is already a member.');
  await a.keyboard.press('Escape');
  await expectHidden(a.locator('#members-dialog'));
  await expectVisible(entry(b, 'room', 'Book club'));
  await expectText(entry(b, 'room', 'Book club').locator('.item-sub'), '2 members');
  await expectText(a.locator('#chat-subtitle'), '2 members · Monthly reads');

  // A question, then more than a page of chatter after it.
  await send(a, 'Which book next?');
  await expectVisible(message(a, 'Which book next?'));
  await expectText(entry(b, 'room', 'Book club').locator('.badge'), '1');
  await flood(a, roomId, FILLERS);
  await expectVisible(message(a, `filler ${FILLERS}`));
  await expectText(entry(b, 'room', 'Book club').locator('.badge'), String(FILLERS + 1));

  // Bob opens the room: the newest page only, the unread badge gone.
  await entry(b, 'room', 'Book club').click();
  await expectVisible(message(b, `filler ${FILLERS}`));
  await expectHidden(entry(b, 'room', 'Book club').locator('.badge'));
  await expectCount(b.locator('#message-list .msg'), PAGE);
  assert.equal(await message(b, 'Which book next?').count(), 0);

  // Each sender has one colour, derived from their id.
  const aliceId = await a.evaluate(() => document.body.dataset.userId);
  const colors = await b.locator('#message-list .msg.other').evaluateAll((nodes) => nodes.map((n) => n.dataset.color));
  assert.deepEqual([...new Set(colors)], [String(colorOf(aliceId))]);
  const tinted = await b.locator('#message-list .msg.other .bubble').first()
    .evaluate((n) => getComputedStyle(n).borderLeftColor);
  assert.notEqual(tinted, 'rgba(0, 0, 0, 0)', 'room bubbles of others carry the sender colour');

  // Scrolling up loads the older page, the question among it.
  await b.locator('#messages').evaluate((n) => { n.scrollTop = 0; });
  await expectVisible(message(b, 'Which book next?'));
  await expectCount(b.locator('#message-list .msg'), FILLERS + 1);
  await expectText(b.locator('#message-list .list-note'), 'This is the beginning of the conversation.');

  // Away from the bottom: the scroll-to-bottom button shows and counts what arrives.
  await expectVisible(b.locator('#scroll-bottom'));
  await send(a, 'while Bob reads back');
  await expectText(b.locator('#scroll-bottom-count'), '1');
  await b.locator('#scroll-bottom').click();
  await expectHidden(b.locator('#scroll-bottom'));
  await eventually(async () => assert.ok(await message(b, 'while Bob reads back').isVisible()));
  await eventually(async () => {
    const atBottom = await b.locator('#messages').evaluate((n) => n.scrollHeight - n.scrollTop - n.clientHeight < 2);
    assert.ok(atBottom, 'scrolled to the newest message');
  });

  // Bob replies to it: the reply indicator shows, Escape cancels, the button picks again.
  const question = message(b, 'Which book next?');
  await question.hover();
  await question.locator('.reply-button').click();
  await expectVisible(b.locator('#reply-bar'));
  await expectText(b.locator('#reply-bar .quote-name'), 'Replying to alice');
  await b.locator('#composer-input').press('Escape');
  await expectHidden(b.locator('#reply-bar'));
  await question.hover();
  await question.locator('.reply-button').click();
  await expectText(b.locator('#reply-bar .quote-text'), 'Which book next?');
  await send(b, 'Dune, obviously');
  await expectHidden(b.locator('#reply-bar'));

  // Both see the quote inside the reply.
  for (const page of [a, b]) {
    const reply = message(page, 'Dune, obviously');
    await expectVisible(reply);
    await expectText(reply.locator('.quote .quote-name'), 'alice');
    await expectText(reply.locator('.quote .quote-text'), 'Which book next?');
  }
  await b.locator('#messages').evaluate((n) => { n.scrollTop = n.scrollHeight; });
  await screenshot(b, 'room-reply-desktop');

  // After a reload only the newest page is there; the quote still finds the original.
  await b.reload();
  await expectVisible(message(b, 'Dune, obviously'));
  assert.equal(await message(b, 'Which book next?').count(), 0);
  await message(b, 'Dune, obviously').locator('.quote').click();
  const original = message(b, 'Which book next?');
  await expectVisible(original);
  await eventually(async () => assert.ok(await original.evaluate((n) => n.classList.contains('highlight'))));
  await eventually(async () => {
    const box = await original.boundingBox();
    const view = await b.locator('#messages').boundingBox();
    assert.ok(box && box.y >= view.y && box.y + box.height <= view.y + view.height, 'the original is scrolled into view');
  });

  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
});

test('everyone sees the members with presence; only the creator manages them', { timeout: 60_000 }, async () => {
  const a = alice.page;
  const b = bob.page;
  await b.locator('#members-button').click();
  const list = b.locator('#member-list');
  await expectText(list.locator('.member', { hasText: 'alice' }).locator('.item-sub'), 'creator · online');
  await expectText(list.locator('.member', { hasText: 'bob' }).locator('.item-sub'), 'you · online');
  assert.equal(await b.locator('#members-dialog').getByRole('button', { name: /Remove/ }).count(), 0);
  assert.equal(await b.locator('#add-members').isVisible(), false);
  assert.equal(await b.locator('#delete-room-button').isVisible(), false, 'only the creator may delete');
  await b.locator('#members-dialog [data-close]').click();
  await expectHidden(b.locator('#members-dialog'));

  // A third person registers: the creator can add them; they show as offline once gone.
  const carol = await newUser(browser, server, 'carol');
  await a.locator('#members-button').click();
  await expectVisible(a.locator('#candidate-list .member', { hasText: 'carol' }));
  await expectText(a.locator('#candidate-list .member', { hasText: 'carol' }).locator('.item-sub'), 'online');
  await carol.context.close();
  await expectText(a.locator('#candidate-list .member', { hasText: 'carol' }).locator('.item-sub'), 'offline');
  await expectVisible(a.getByRole('button', { name: 'Remove bob from the room' }));
  await screenshot(a, 'members-modal-desktop');

  // Phone-sized screenshots of the same views.
  await a.setViewportSize(MOBILE);
  await screenshot(a, 'members-modal-mobile');
  await a.keyboard.press('Escape');
  await b.setViewportSize(MOBILE);
  await b.locator('#messages').evaluate((n) => { n.scrollTop = n.scrollHeight; });
  await screenshot(b, 'room-reply-mobile');
  await a.setViewportSize(DESKTOP);
  await b.setViewportSize(DESKTOP);

  // Removed: Bob's view of the room closes with a notice, and the room leaves his list.
  await a.locator('#members-button').click();
  await a.getByRole('button', { name: 'Remove bob from the room' }).click();
  await expectHidden(a.locator('#member-list .member', { hasText: 'bob' }));
  await expectVisible(b.locator('.notice', { hasText: 'You were removed from the room “Book club”.' }));
  await expectHidden(b.locator('#conversation'));
  await expectCount(entry(b, 'room', 'Book club'), 0);
  await a.keyboard.press('Escape');
  await expectText(a.locator('#chat-subtitle'), '1 member · Monthly reads');
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
});

test('deleting a room closes it for every member', { timeout: 60_000 }, async () => {
  const a = alice.page;
  const b = bob.page;
  await a.locator('#new-room').click();
  await a.locator('#room-name').fill('Short-lived');
  await a.locator('#room-name').press('Enter');
  await expectText(a.locator('#chat-title'), 'Short-lived');
  await a.locator('#members-button').click();
  await a.getByRole('button', { name: 'Add bob to the room' }).click();
  await a.keyboard.press('Escape');
  await entry(b, 'room', 'Short-lived').click();
  await expectText(b.locator('#chat-title'), 'Short-lived');

  await a.locator('#delete-room-button').click();
  await expectVisible(a.locator('#delete-dialog'));
  await expectText(a.locator('#delete-room-name'), 'Short-lived');
  await a.locator('#delete-confirm').click();
  for (const page of [a, b]) {
    await expectVisible(page.locator('.notice', { hasText: 'The room “Short-lived” was deleted.' }));
    await expectHidden(page.locator('#conversation'));
    await expectCount(entry(page, 'room', 'Short-lived'), 0);
    // One notice, though the room socket and the global socket both told.
    await expectCount(page.locator('.notice', { hasText: 'Short-lived' }), 1);
  }
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
});
