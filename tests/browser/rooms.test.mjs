// Rooms: creating one in its dialog and adding people at once (who see it appear live), opening
// at the first unread message with only what was on screen read, the jump button, sender
// colours, older pages on scrolling up, replying with a quote that jumps to the original
// (loading the history around it), the member list with presence, the conversation menu,
// removal, leaving (with a confirmation; the creator is told to delete instead) and deletion.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, flood, DESKTOP, entry, eventually, expectCount, expectHidden, expectText, expectVisible,
  message, MOBILE, newUser, screenshot, send, socketFrames,
  startSession, stopSession, userId,
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

/**
 * Sends a private message from `from` to `to` over a socket of its own, and waits until `to`'s
 * chat list shows it: what `to`'s global socket told before it has been handled.
 */
async function globalSocketPassed(from, to, text) {
  const [sent] = await socketFrames(from, { user: await userId(to) }, [{ type: 'message', text }]);
  assert.equal(sent.type, 'message', JSON.stringify(sent));
  const name = await from.evaluate(() => document.body.dataset.userName);
  await expectText(entry(to, 'user', name).locator('.item-sub'), new RegExp(`${text}$`));
}

/** The colour (one of 8) static/js/dom.js derives from an id (FNV-1a), to check colours are per sender. */
function colorOf(id) {
  let hash = 2166136261;
  for (const ch of id) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash % 8;
}

test('a room is created, people are added at once, and it opens at the first unread', { timeout: 90_000 }, async () => {
  const a = alice.page;
  const b = bob.page;

  // Alice creates a room in the dialog; it opens, and the dialog to add people comes at once.
  await a.locator('#new-room').click();
  await expectVisible(a.locator('#room-dialog'));
  await a.locator('#room-name').fill('Book club');
  await a.locator('#room-description').fill('Monthly reads');
  await a.locator('#room-create').click();
  await expectHidden(a.locator('#room-dialog'));
  await expectText(a.locator('#chat-title'), 'Book club');
  await expectText(a.locator('#chat-subtitle'), '1 member · Monthly reads');
  await expectVisible(a.locator('#members-dialog[open]'));
  await expectText(a.locator('#members-intro'), 'The room is ready. Add people now, or later from the members button.');
  assert.equal(await a.evaluate(() => document.activeElement.id), 'candidate-filter', 'finding people comes first');
  await expectVisible(a.locator('#candidate-list .member', { hasText: 'bob' }));
  await expectVisible(entry(a, 'room', 'Book club'));
  roomId = decodeURIComponent(new URL(a.url()).hash.replace('#room/', ''));
  assert.ok(roomId.length > 10, `the room's id is in the address: ${a.url()}`);
  assert.equal(await entry(b, 'room', 'Book club').count(), 0);

  // The filter narrows the people offered; Alice adds Bob, who sees the room appear live.
  await a.locator('#candidate-filter').fill('zz');
  await expectText(a.locator('#candidate-list .list-empty'), 'Nothing matches.');
  await a.locator('#candidate-filter').fill('bo');
  await a.getByRole('button', { name: 'Add bob to the room' }).click();
  await expectVisible(a.locator('#member-list .member', { hasText: 'bob' }));
  await expectText(a.locator('#candidate-list .list-empty'), 'Nothing matches.');
  await a.locator('#members-done button').click();
  await expectHidden(a.locator('#members-dialog'));
  await expectVisible(entry(b, 'room', 'Book club'));
  await expectText(entry(b, 'room', 'Book club').locator('.item-sub'), '2 members');
  await expectText(a.locator('#chat-subtitle'), '2 members · Monthly reads');

  // A question, then more than a page of chatter after it.
  await send(a, 'Which book next?');
  await expectVisible(message(a, 'Which book next?'));
  await expectText(entry(b, 'room', 'Book club').locator('.badge'), '1');
  await expectText(entry(b, 'room', 'Book club').locator('.item-sub'), 'alice: Which book next?');
  await flood(a, roomId, FILLERS);
  await expectVisible(message(a, `filler ${FILLERS}`));
  await expectText(entry(b, 'room', 'Book club').locator('.badge'), String(FILLERS + 1));

  // Bob opens the room at the first unread message, under the "unread messages" line, with
  // the jump button counting what is below. Only what was on screen is read.
  await entry(b, 'room', 'Book club').click();
  const divider = b.locator('#message-list .unread-divider');
  await expectVisible(divider);
  await expectText(divider, 'Unread messages');
  assert.equal(await b.locator('#message-list .unread-divider + .msg .text').textContent(), 'Which book next?');
  await eventually(async () => {
    const box = await divider.boundingBox();
    const view = await b.locator('#messages').boundingBox();
    assert.ok(box.y >= view.y && box.y < view.y + 60, `the divider is at the top of the view: ${box.y} in ${view.y}`);
  });
  await expectCount(b.locator('#message-list .msg'), FILLERS + 1);
  await expectVisible(b.locator('#scroll-bottom-count'));
  const unreadOnServer = async () => (await b.evaluate(async () => (await (await fetch('/api/chats')).json())))
    .find((c) => c.name === 'Book club').unread;
  await eventually(async () => {
    const left = await unreadOnServer();
    assert.ok(left > 0 && left < FILLERS + 1 - 5, `what was on screen is read, the rest is not: ${left} unread`);
    assert.equal(await entry(b, 'room', 'Book club').locator('.badge').textContent(), String(left));
    assert.equal(await b.locator('#scroll-bottom-count').textContent(), String(left));
  });
  await screenshot(b, 'room-unread-divider-desktop');

  // The jump button goes to the first unread below; pressed until the end, all is read.
  const before = await unreadOnServer();
  await b.locator('#scroll-bottom').click();
  await eventually(async () => assert.ok((await unreadOnServer()) < before, 'the next screenful was read'));
  await eventually(async () => {
    if (await b.locator('#scroll-bottom').isVisible()) await b.locator('#scroll-bottom').click();
    assert.equal(await unreadOnServer(), 0);
  });
  await expectHidden(entry(b, 'room', 'Book club').locator('.badge'));
  await expectHidden(b.locator('#scroll-bottom'));

  // Each sender has one colour, derived from their id.
  const aliceId = await a.evaluate(() => document.body.dataset.userId);
  const colors = await b.locator('#message-list .msg.other').evaluateAll((nodes) => nodes.map((n) => n.dataset.color));
  assert.deepEqual([...new Set(colors)], [String(colorOf(aliceId))]);
  const tinted = await b.locator('#message-list .msg.other .bubble').first()
    .evaluate((n) => getComputedStyle(n).borderLeftColor);
  assert.notEqual(tinted, 'rgba(0, 0, 0, 0)', 'room bubbles of others carry the sender colour');

  // Nothing unread: a reload opens at the end with the newest page only, and scrolling up
  // loads the older page, the question among it.
  await b.reload();
  await expectVisible(message(b, `filler ${FILLERS}`));
  await expectCount(b.locator('#message-list .msg'), PAGE);
  await expectCount(b.locator('#message-list .unread-divider'), 0);
  assert.equal(await message(b, 'Which book next?').count(), 0);
  await b.locator('#messages').evaluate((n) => { n.scrollTop = 0; });
  await expectVisible(message(b, 'Which book next?'));
  await expectCount(b.locator('#message-list .msg'), FILLERS + 1);
  await expectText(b.locator('#message-list .list-note'), 'This is the beginning of the conversation.');

  // Away from the bottom: the jump button shows and counts what arrives.
  await expectVisible(b.locator('#scroll-bottom'));
  await expectHidden(b.locator('#scroll-bottom-count'));
  await send(a, 'while Bob reads back');
  await expectText(b.locator('#scroll-bottom-count'), '1');
  assert.equal(await b.locator('#scroll-bottom').getAttribute('aria-label'), 'Jump to the unread messages: 1 unread message');
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

  // After a reload only the newest page is there; the quote still finds the original (the
  // history around it is loaded).
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
  // The view does not reach the end now: scrolling down loads the rest, once each.
  await b.locator('#messages').evaluate((n) => { n.scrollTop = n.scrollHeight; });
  await expectVisible(message(b, 'Dune, obviously'));
  await eventually(async () => {
    await b.locator('#messages').evaluate((n) => { n.scrollTop = n.scrollHeight; });
    const ids = await b.locator('#message-list .msg').evaluateAll((nodes) => nodes.map((n) => Number(n.dataset.id)));
    assert.equal(new Set(ids).size, ids.length, 'no message twice');
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'in order');
    assert.equal(await message(b, 'while Bob reads back').count(), 1);
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
  await b.locator('#members-dialog [data-close]').first().click();
  await expectHidden(b.locator('#members-dialog'));
  // The conversation menu: Bob may leave, not delete; Alice may do both.
  await b.locator('#chat-menu-button').click();
  await expectVisible(b.locator('#leave-room-button'));
  await expectCount(b.locator('#delete-room-button'), 0, 'only the creator may delete');
  await b.keyboard.press('Escape');
  await expectCount(b.locator('.popup-menu'), 0);
  assert.equal(await b.evaluate(() => document.activeElement.id), 'chat-menu-button', 'focus returns to the button');
  await a.locator('#chat-menu-button').click();
  await expectVisible(a.locator('#delete-room-button'));
  await a.keyboard.press('Escape');

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
  await createRoom(a, 'Short-lived', { members: ['bob'] });
  await entry(b, 'room', 'Short-lived').click();
  await expectText(b.locator('#chat-title'), 'Short-lived');

  await a.locator('#chat-menu-button').click();
  await a.locator('#delete-room-button').click();
  await expectVisible(a.locator('#delete-dialog'));
  await expectText(a.locator('#delete-room-name'), 'Short-lived');
  await a.locator('#delete-confirm').click();
  for (const page of [a, b]) {
    await expectVisible(page.locator('.notice', { hasText: 'The room “Short-lived” was deleted.' }));
    await expectHidden(page.locator('#conversation'));
    await expectCount(entry(page, 'room', 'Short-lived'), 0);
  }
  // One notice, though the room socket and the global socket both told (and Alice's own
  // request). Counted once a private message sent after the deletion reached each global
  // socket (its frames come in order), so the deletion's frame on it was handled.
  await globalSocketPassed(a, b, 'after the deletion');
  await globalSocketPassed(b, a, 'after the deletion, too');
  for (const page of [a, b]) assert.equal(await page.locator('.notice', { hasText: 'Short-lived' }).count(), 1);
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
});

test('a member leaves a room after confirming; its creator is told to delete it instead', { timeout: 60_000 }, async () => {
  const a = alice.page;
  const b = bob.page;
  await createRoom(a, 'Choir', { members: ['bob'] });
  await send(a, 'Rehearsal on Monday');
  await entry(b, 'room', 'Choir').click();
  await expectVisible(message(b, 'Rehearsal on Monday'));

  // Asked first; "Cancel" keeps him in.
  await b.locator('#chat-menu-button').click();
  await b.locator('#leave-room-button').click();
  await expectVisible(b.locator('#confirm-dialog[open]'));
  await expectText(b.locator('#confirm-text'), 'You will no longer see “Choir” or get its messages. Its creator can add you again.');
  await b.locator('#confirm-no').click();
  await expectHidden(b.locator('#confirm-dialog'));
  await expectText(b.locator('#chat-title'), 'Choir');
  await expectText(a.locator('#chat-subtitle'), '2 members');

  // Confirmed: the room closes with a notice and leaves his list; Alice sees one member.
  await b.locator('#chat-menu-button').click();
  await b.locator('#leave-room-button').click();
  await b.locator('#confirm-yes').click();
  await expectVisible(b.locator('.notice', { hasText: 'You left the room “Choir”.' }));
  await expectHidden(b.locator('#conversation'));
  await expectCount(entry(b, 'room', 'Choir'), 0);
  // One notice, though his request, the global socket and the room socket all told.
  await globalSocketPassed(a, b, 'after leaving');
  assert.equal(await b.locator('.notice', { hasText: 'Choir' }).count(), 1);
  await expectText(a.locator('#chat-subtitle'), '1 member');
  const status = await b.evaluate(async (id) => (await fetch(`/api/rooms/${id}`)).status, decodeURIComponent(new URL(a.url()).hash.replace('#room/', '')));
  assert.equal(status, 403, 'no longer a member');

  // The creator is told to delete the room instead, and offered to.
  await a.locator('#chat-menu-button').click();
  await a.locator('#leave-room-button').click();
  await expectText(a.locator('#confirm-text'), 'You created “Choir”, so you cannot leave it. You can delete it for everyone instead.');
  await a.locator('#confirm-yes').click();
  await expectVisible(a.locator('#delete-dialog[open]'));
  await a.keyboard.press('Escape');
  await expectText(a.locator('#chat-title'), 'Choir');
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems, [/status of 403/]);
});
