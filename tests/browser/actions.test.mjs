// Acting on messages (issue 13), the same in private chats and rooms: editing in place (Up in
// an empty composer edits my last message; Escape cancels, Enter saves), deleting after a
// confirmation (a tombstone stays, and a reply to it shows its original as deleted),
// reactions from the picker or any emoji typed (toggled, counted, with who reacted), replies
// in a private chat, `@name` suggestions and the highlight of a message that mentions me,
// "… is typing", and on a phone the same through a long press and a swipe — no button beside
// each message.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, entry, eventually, expectCount, expectHidden, expectText, expectVisible, message,
  MOBILE, networkSwitch, newUser, openChat, openPerson, screenshot, send, signIn, socketFrames, startSession,
  stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

/** The stored conversation of `page`'s user with `other` (a user id), or a room's. */
function history(page, { user, room }) {
  return page.evaluate(async ({ user, room }) => {
    const me = document.body.dataset.userId;
    const url = room ? `/api/rooms/${room}/history?limit=200` : `/api/history/${me}/${user}?limit=200`;
    return (await fetch(url)).json();
  }, { user, room });
}

/** Opens a message's menu from its "more" button (shown on hover). */
async function openMenu(page, msg) {
  await msg.hover();
  await msg.locator('.msg-more').click();
  await expectVisible(page.locator('.popup-menu.message-menu'));
}

const menuItem = (page, name) => page.locator('.popup-menu').getByRole('menuitem', { name, exact: true });

test('edit in place, delete with a tombstone, reply in a private chat', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  const a = alice.page;
  const b = bob.page;
  const bobId = await b.evaluate(() => document.body.dataset.userId);
  await openChat(a, 'bob');
  await send(a, 'teh plan');
  await entry(b, 'user', 'alice').click();
  const typo = message(b, 'teh plan');
  await expectVisible(typo);
  const id = Number(await typo.getAttribute('data-id'));

  // Bob may reply to Alice's message, not edit or delete it.
  await openMenu(b, typo);
  await expectVisible(menuItem(b, 'Reply'));
  await expectCount(menuItem(b, 'Edit'), 0);
  await expectCount(menuItem(b, 'Delete'), 0);
  await b.keyboard.press('Escape');
  await expectCount(b.locator('.popup-menu'), 0);

  // Alice edits from the menu; Escape cancels and nothing changes.
  const mine = message(a, 'teh plan');
  await openMenu(a, mine);
  await menuItem(a, 'Edit').click();
  const editor = mine.locator('.edit-input');
  await expectVisible(editor);
  assert.equal(await editor.inputValue(), 'teh plan');
  assert.equal(await a.evaluate(() => document.activeElement.className), 'edit-input');
  await editor.fill('nothing to see');
  await editor.press('Escape');
  await expectCount(a.locator('.edit-box'), 0);
  await expectText(mine.locator('.text'), 'teh plan');
  assert.equal(await a.evaluate(() => document.activeElement.id), 'composer-input');

  // Up in the empty composer edits my last message; Enter saves it for both.
  await a.locator('#composer-input').press('ArrowUp');
  await expectVisible(mine.locator('.edit-input'));
  await mine.locator('.edit-input').fill('the plan');
  await mine.locator('.edit-input').press('Enter');
  for (const page of [a, b]) {
    const fixed = page.locator(`#message-list .msg[data-id="${id}"]`);
    await expectText(fixed.locator('.text'), 'the plan');
    await expectText(fixed.locator('.edited'), 'edited');
    assert.match(await fixed.locator('.edited').getAttribute('title'), /^Edited \w+/);
  }
  await expectCount(a.locator('.edit-box'), 0);
  assert.equal((await history(a, { user: bobId })).find((m) => m.id === id).text, 'the plan');
  await expectText(entry(b, 'user', 'alice').locator('.item-sub'), 'the plan');

  // Bob replies with the menu opened by a right click where he clicked.
  const fixed = message(b, 'the plan');
  const box = await fixed.locator('.bubble').boundingBox();
  await fixed.locator('.text').click({ button: 'right' });
  const menu = b.locator('.popup-menu.message-menu');
  await expectVisible(menu);
  const menuBox = await menu.boundingBox();
  assert.ok(Math.abs(menuBox.x - (box.x + box.width / 2)) < 40, 'the menu opens where the pointer is');
  await menuItem(b, 'Reply').click();
  await expectText(b.locator('#reply-bar .quote-text'), 'the plan');
  await send(b, 'sounds good');
  for (const page of [a, b]) {
    const reply = message(page, 'sounds good');
    await expectText(reply.locator('.quote .quote-name'), 'alice');
    await expectText(reply.locator('.quote .quote-text'), 'the plan');
  }
  const stored = (await history(b, { user: await a.evaluate(() => document.body.dataset.userId) })).at(-1);
  assert.equal(stored.reply_to.id, id, 'the reply points at the original by id');
  await message(a, 'sounds good').locator('.quote').click();
  await eventually(async () => assert.ok(await message(a, 'the plan').evaluate((n) => n.classList.contains('highlight'))));

  // Alice deletes it, after a confirmation; Cancel first keeps it.
  await openMenu(a, message(a, 'the plan'));
  await menuItem(a, 'Delete').click();
  await expectVisible(a.locator('#confirm-dialog[open]'));
  await expectText(a.locator('#confirm-title'), 'Delete the message?');
  await a.locator('#confirm-no').click();
  await expectHidden(a.locator('#confirm-dialog'));
  await expectVisible(message(a, 'the plan'));
  await openMenu(a, message(a, 'the plan'));
  await menuItem(a, 'Delete').click();
  await a.locator('#confirm-yes').click();
  for (const page of [a, b]) {
    const tombstone = page.locator(`#message-list .msg[data-id="${id}"]`);
    await expectText(tombstone.locator('.text'), 'Message deleted');
    await expectCount(tombstone.locator('.msg-actions, .reactions, .edited'), 0);
  }
  assert.equal(await message(b, 'the plan').count(), 0);
  // The reply shows its original as deleted: at once, and after a reload (from history).
  for (const page of [a, b]) await expectText(message(page, 'sounds good').locator('.quote-text'), 'Message deleted');
  await screenshot(a, 'actions-deleted-desktop');
  await b.reload();
  await expectText(message(b, 'sounds good').locator('.quote-text'), 'Message deleted');
  const deleted = (await history(a, { user: bobId })).find((m) => m.id === id);
  assert.equal(deleted.deleted, true);
  assert.equal(deleted.text, '');

  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
  await alice.context.close();
  await bob.context.close();
});

test('reactions: picked or typed, toggled, counted, with who reacted', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'ann');
  const bob = await newUser(browser, server, 'ben');
  const a = alice.page;
  const b = bob.page;
  const room = await createRoom(a, 'Kitchen', { members: ['ben'] });
  await send(a, 'Soup is ready');
  await entry(b, 'room', 'Kitchen').click();
  const soup = message(b, 'Soup is ready');
  await expectVisible(soup);

  // Ben picks 👍 from the smile button's picker.
  await soup.hover();
  await soup.locator('.msg-action').first().click();
  await expectVisible(b.locator('.popup-menu.reaction-picker'));
  await b.getByRole('menuitem', { name: 'React with 👍' }).click();
  for (const page of [a, b]) {
    const chip = message(page, 'Soup is ready').locator('.reaction[data-emoji="👍"]');
    await expectText(chip.locator('.count'), '1');
  }
  const chipOf = (page) => message(page, 'Soup is ready').locator('.reaction[data-emoji="👍"]');
  assert.equal(await chipOf(b).getAttribute('aria-pressed'), 'true');
  assert.equal(await chipOf(a).getAttribute('aria-pressed'), 'false');
  assert.equal(await chipOf(a).getAttribute('title'), 'ben');
  assert.equal(await chipOf(a).getAttribute('aria-label'), '👍 1, ben');

  // Ann clicks the chip: hers joins; clicked again, it goes.
  await chipOf(a).click();
  await expectText(chipOf(b).locator('.count'), '2');
  await eventually(async () => assert.equal(await chipOf(b).getAttribute('title'), 'You and ann'));
  assert.equal(await chipOf(a).getAttribute('title'), 'ben and You');
  assert.equal(await chipOf(a).getAttribute('aria-pressed'), 'true');
  // Who reacted, as a list (a right click on the chip; a long press on a phone).
  await chipOf(b).click({ button: 'right' });
  const panel = b.locator('.popup-panel');
  await expectVisible(panel);
  await expectText(panel.locator('.reactors li'), /👍\s*You and ann/);
  await b.keyboard.press('Escape');
  await chipOf(a).click();
  await expectText(chipOf(b).locator('.count'), '1');
  assert.equal(await chipOf(a).getAttribute('aria-pressed'), 'false');

  // Any emoji typed: refused if it is not one, else added.
  await openMenu(b, soup);
  await b.getByRole('menuitem', { name: 'Another emoji…' }).click();
  const input = b.locator('#emoji-input');
  await expectVisible(input);
  await input.fill('yum');
  await input.press('Enter');
  await expectText(b.locator('#emoji-error'), 'That is not one emoji.');
  await input.fill('🦄');
  await input.press('Enter');
  await expectText(message(a, 'Soup is ready').locator('.reaction[data-emoji="🦄"] .count'), '1');
  await screenshot(a, 'actions-reactions-desktop');
  const stored = (await history(a, { room })).find((m) => m.text === 'Soup is ready');
  assert.deepEqual(stored.reactions.map((r) => [r.emoji, r.count]), [['👍', 1], ['🦄', 1]]);

  // From the keyboard: the message's actions button, the picker's arrow keys.
  await message(a, 'Soup is ready').locator('.msg-more').focus();
  await a.keyboard.press('Enter');
  await expectVisible(a.locator('.popup-menu.message-menu'));
  assert.equal(await a.evaluate(() => document.activeElement.getAttribute('aria-label')), 'React with 👍');
  await a.keyboard.press('ArrowRight');
  assert.equal(await a.evaluate(() => document.activeElement.getAttribute('aria-label')), 'React with ❤️');
  await a.keyboard.press('Enter');
  await expectText(message(b, 'Soup is ready').locator('.reaction[data-emoji="❤️"] .count'), '1');
  assert.equal(await a.evaluate(() => document.activeElement.className), 'msg-action msg-more', 'focus returns to the message');

  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
  await alice.context.close();
  await bob.context.close();
});

test('@name suggestions, mentions highlighted, and who is typing', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'amy');
  const bob = await newUser(browser, server, 'bert');
  const carol = await newUser(browser, server, 'bella');
  const a = alice.page;
  const b = bob.page;
  const c = carol.page;
  await createRoom(a, 'Band', { members: ['bert', 'bella'] });
  await entry(b, 'room', 'Band').click();
  await entry(c, 'room', 'Band').click();

  // "@be" offers both b-names; Down and Enter pick the second; the list closes.
  const input = a.locator('#composer-input');
  await input.pressSequentially('see you @be');
  const options = a.locator('#mention-list .mention-option');
  await expectCount(options, 2);
  assert.deepEqual(await options.locator('.mention-name').allTextContents(), ['bert', 'bella']);
  assert.equal(await input.getAttribute('aria-activedescendant'), 'mention-0');
  await screenshot(a, 'actions-mentions-desktop');
  await input.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'mention-1');
  await input.press('Enter');
  await expectHidden(a.locator('#mention-list'));
  assert.equal(await input.inputValue(), 'see you @bella ');
  // Tab picks too; Escape closes without picking.
  await input.pressSequentially('and @ber');
  await expectCount(options, 1);
  await input.press('Tab');
  assert.equal(await input.inputValue(), 'see you @bella and @bert ');
  await input.pressSequentially('@x');
  await expectHidden(a.locator('#mention-list'));
  await input.press('Backspace');
  await expectVisible(a.locator('#mention-list'));
  await input.press('Escape');
  await expectHidden(a.locator('#mention-list'));
  assert.equal(await input.inputValue(), 'see you @bella and @bert @', 'Escape picked nothing');
  await input.press('Backspace');
  await input.press('Enter');

  // Both mentioned see it highlighted, and the chat list marks the mention; Amy does not.
  for (const page of [b, c]) {
    await expectVisible(page.locator('#message-list .msg.mentions-me', { hasText: 'see you' }));
  }
  await expectCount(a.locator('#message-list .msg.mentions-me'), 0);
  // (Ending with a name would leave the suggestions open, where Enter picks one.)
  await send(a, 'just for @bert, nobody else');
  await expectVisible(message(c, 'nobody else'));
  assert.equal(await message(c, 'nobody else').evaluate((n) => n.classList.contains('mentions-me')), false);
  await expectVisible(b.locator('#message-list .msg.mentions-me', { hasText: 'nobody else' }));
  const bg = await b.locator('#message-list .msg.mentions-me .bubble').first().evaluate((n) => getComputedStyle(n).backgroundColor);
  const plain = await c.locator('#message-list .msg:not(.mentions-me) .bubble').first().evaluate((n) => getComputedStyle(n).backgroundColor);
  assert.notEqual(bg, plain, 'a mention looks different');
  await screenshot(b, 'actions-mention-highlight-desktop');
  // Bella looks elsewhere: the list counts the unread mention.
  await c.locator('#new-room').focus();
  await openChat(c, 'amy');
  await send(a, 'hey @bella, one more');
  await expectText(entry(c, 'room', 'Band').locator('.mention-mark'), '@');
  assert.equal(await entry(c, 'room', 'Band').locator('.mention-mark').getAttribute('aria-label'), '1 mention of you');

  // Typing: Bert types, Amy's header says so; clearing the text says he stopped.
  await b.locator('#composer-input').pressSequentially('hmm');
  await expectText(a.locator('#chat-subtitle'), 'bert is typing…');
  await b.locator('#composer-input').fill('');
  await expectText(a.locator('#chat-subtitle'), '3 members');
  // Typing, then sending, ends it too.
  await b.locator('#composer-input').pressSequentially('ok');
  await expectText(a.locator('#chat-subtitle'), 'bert is typing…');
  await b.locator('#composer-input').press('Enter');
  await expectVisible(message(a, 'ok'));
  await expectText(a.locator('#chat-subtitle'), '3 members');
  // And leaving the room while typing.
  await b.locator('#composer-input').pressSequentially('wait');
  await expectText(a.locator('#chat-subtitle'), 'bert is typing…');
  await openChat(b, 'amy');
  await expectText(a.locator('#chat-subtitle'), '3 members');

  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
  assertNoProblems(carol.problems);
  for (const person of [alice, bob, carol]) await person.context.close();
});

/** A touch on the page at (x, y), held until `until` holds, through the DevTools protocol. */
async function touch(page) {
  const cdp = await page.context().newCDPSession(page);
  return {
    start: (x, y) => cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] }),
    move: (x, y) => cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y }] }),
    end: () => cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] }),
  };
}

/** An existing user, signed in in a browser of its own. */
async function signedIn(name, options) {
  const person = await openPerson(browser, server, options);
  await signIn(person.page, name);
  return person;
}

/** A long press on `target` (a message's part) with `finger`: the message's menu opens as a sheet. */
async function longPress(page, finger, target) {
  const box = await target.boundingBox();
  await finger.start(box.x + 10, box.y + box.height / 2);
  const sheet = page.locator('.popup-menu.message-menu');
  await expectVisible(sheet);
  await finger.end();
  return sheet;
}

test('on a phone: a long press opens the menu, a swipe replies', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'abe');
  const phone = await newUser(browser, server, 'bo', { viewport: MOBILE, isMobile: true, hasTouch: true });
  const a = alice.page;
  const p = phone.page;
  await openChat(a, 'bo');
  await send(a, 'Lunch at noon?');
  await entry(p, 'user', 'abe').tap();
  const lunch = message(p, 'Lunch at noon?');
  await expectVisible(lunch);
  const finger = await touch(p);

  // A long press: the menu as a sheet at the bottom of the screen.
  const sheet = await longPress(p, finger, lunch.locator('.bubble'));
  const sheetBox = await sheet.boundingBox();
  assert.equal(Math.round(sheetBox.x), 0);
  assert.equal(Math.round(sheetBox.y + sheetBox.height), MOBILE.height, 'at the bottom');
  for (const item of await sheet.getByRole('menuitem').all()) {
    const b = await item.boundingBox();
    assert.ok(b.height >= 44, `a 44 px target: ${b.height}`);
  }
  await screenshot(p, 'actions-menu-mobile');
  await sheet.getByRole('menuitem', { name: 'React with ❤️' }).tap();
  await expectText(message(a, 'Lunch at noon?').locator('.reaction[data-emoji="❤️"] .count'), '1');
  await expectCount(sheet, 0);

  // A swipe to the left: a reply. (The reaction moved the bubble up: measured again.)
  await expectVisible(lunch.locator('.reaction'));
  const moved = await lunch.locator('.text').boundingBox();
  const y = moved.y + moved.height / 2;
  await finger.start(moved.x + moved.width - 10, y);
  for (const dx of [20, 40, 60, 80, 90]) await finger.move(moved.x + moved.width - 10 - dx, y);
  await finger.end();
  await expectText(p.locator('#reply-bar .quote-text'), 'Lunch at noon?');
  // (Sent with Enter: right after a touch sequence of the DevTools protocol, Chromium's
  // emulation sometimes makes no click of Playwright's next tap.)
  await p.locator('#composer-input').fill('Yes!');
  await p.locator('#composer-input').press('Enter');  await expectText(message(a, 'Yes!').locator('.quote-text'), 'Lunch at noon?');
  // A short swipe is nothing.
  const now = await lunch.locator('.text').boundingBox();
  await finger.start(now.x + now.width - 10, now.y + now.height / 2);
  await finger.move(now.x + now.width - 30, now.y + now.height / 2);
  await finger.end();
  await expectHidden(p.locator('#reply-bar'));

  // My own message: a long press offers editing.
  const yes = message(p, 'Yes!');
  await longPress(p, finger, yes.locator('.text'));
  await sheet.getByRole('menuitem', { name: 'Edit' }).tap();
  await yes.locator('.edit-input').fill('Yes, noon works');
  await yes.locator('.edit-input').press('Enter');
  await expectText(message(a, 'Yes, noon works').locator('.edited'), 'edited');
  assertNoProblems(alice.problems);
  assertNoProblems(phone.problems);
  await alice.context.close();
  await phone.context.close();
});

test('on a phone: @ suggestions by tap, the highlight, typing, delete from the sheet, offline catch-up', { timeout: 120_000 }, async () => {
  // Ann and Ben from the reactions test sign in again (registering two more people from one
  // address would meet the registration limit).
  const desk = await signedIn('ann');
  const phone = await signedIn('ben', { viewport: MOBILE, isMobile: true, hasTouch: true });
  const a = desk.page;
  const p = phone.page;
  const network = await networkSwitch(phone.context);
  await p.reload();
  const room = await createRoom(a, 'Porch', { members: ['ben'] });
  await entry(p, 'room', 'Porch').tap();
  await expectText(p.locator('#chat-title'), 'Porch');

  // "@an" offers ann; a tap picks her.
  const input = p.locator('#composer-input');
  await input.pressSequentially('hi @an');
  const option = p.locator('#mention-list .mention-option');
  await expectCount(option, 1);
  await expectText(option.locator('.mention-name'), 'ann');
  await screenshot(p, 'actions-mentions-mobile');
  await option.tap();
  await expectHidden(p.locator('#mention-list'));
  assert.equal(await input.inputValue(), 'hi @ann ');
  await input.pressSequentially('on the porch');
  await input.press('Enter');
  await expectVisible(a.locator('#message-list .msg.mentions-me', { hasText: 'on the porch' }));
  const mine = message(p, 'hi @ann on the porch');
  await expectVisible(mine);
  const mineId = await mine.getAttribute('data-id');

  // A mention of ben is highlighted on his phone.
  await send(a, '@ben, coming');
  const coming = p.locator('#message-list .msg.mentions-me', { hasText: 'coming' });
  await expectVisible(coming);
  const comingId = await coming.getAttribute('data-id');
  await screenshot(p, 'actions-mention-highlight-mobile');

  // Typing shows in the phone's header, and ends.
  await a.locator('#composer-input').pressSequentially('hmm');
  await expectText(p.locator('#chat-subtitle'), 'ann is typing…');
  await a.locator('#composer-input').fill('');
  await expectText(p.locator('#chat-subtitle'), '2 members');

  // A long press on his own message, Delete in the sheet, confirmed: a tombstone for both.
  const sheet = await longPress(p, await touch(p), mine.locator('.text'));
  await sheet.getByRole('menuitem', { name: 'Delete' }).tap();
  await expectVisible(p.locator('#confirm-dialog[open]'));
  await p.locator('#confirm-yes').click();
  for (const page of [a, p]) {
    await expectText(page.locator(`#message-list .msg[data-id="${mineId}"] .text`), 'Message deleted');
  }

  // The phone loses its network; meanwhile a message, its edit and a reaction. Back online,
  // the phone shows the final state without a reload.
  await p.evaluate(() => { window.__sameDocument = true; });
  await network.down();
  await expectText(p.locator('#me-status'), 'Connecting…');
  const [away] = await socketFrames(a, { room }, [{ type: 'message', text: 'while you were out' }]);
  await socketFrames(a, { room }, [
    { type: 'edit', id: away.id, text: 'while you were out (edited)' },
    { type: 'react', id: Number(comingId), emoji: '👍' },
  ]);
  await network.up();
  await expectText(p.locator(`#message-list .msg[data-id="${away.id}"] .text`), 'while you were out (edited)', { timeout: 20_000 });
  await expectText(p.locator(`#message-list .msg[data-id="${away.id}"] .edited`), 'edited');
  await expectText(p.locator(`#message-list .msg[data-id="${comingId}"] .reaction[data-emoji="👍"] .count`), '1');
  assert.equal(await p.evaluate(() => window.__sameDocument), true, 'no reload');
  const ids = await p.locator('#message-list .msg:not(.pending)').evaluateAll((nodes) => nodes.map((n) => n.dataset.id));
  assert.equal(new Set(ids).size, ids.length, `a message shown twice: ${ids}`);
  await screenshot(p, 'actions-caught-up-mobile');
  assertNoProblems(desk.problems);
  assertNoProblems(phone.problems, [/WebSocket connection to .* failed/, /Failed to load resource/, /ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/]);
  await desk.context.close();
  await phone.context.close();
});
