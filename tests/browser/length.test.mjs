// The message length limit in the composer: a counter near the end (from 3,500 of the 4,000
// characters), characters counted as the server counts them (code points, so 4,000 emoji fit),
// an over-long message kept in the composer and refused with a message (nothing sent, nothing
// stored), and an over-long paste refused with a message instead of being cut short.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, eventually, openChat, expectHidden, expectText, expectVisible, message, MOBILE, newUser, screenshot,
  send, startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;
let alice;
let bob;

before(async () => {
  ({ server, browser } = await startSession());
  alice = await newUser(browser, server, 'alice');
  bob = await newUser(browser, server, 'bob', { viewport: MOBILE, isMobile: true, hasTouch: true });
  await openChat(alice.page, 'bob');
  await send(alice.page, 'hello');
  await entry(bob.page, 'user', 'alice').tap();
  await expectVisible(message(bob.page, 'hello'));
});

after(() => stopSession({ server, browser }));

/** The stored conversation, as the API returns it to `page`'s user. */
function history(page, otherName) {
  return page.evaluate(async (name) => {
    const me = document.body.dataset.userId;
    const users = await (await fetch('/api/users')).json();
    const other = users.find((u) => u.name === name).id;
    return (await fetch(`/api/history/${me}/${other}?limit=200`)).json();
  }, otherName);
}

/** Pastes `text` into the composer with the real clipboard and Ctrl+V. */
async function paste(page, text) {
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.locator('#composer-input').focus();
  await page.keyboard.press('Control+V');
}

test('the counter shows near the limit; an over-long message is kept and refused', { timeout: 60_000 }, async () => {
  const a = alice.page;
  const input = a.locator('#composer-input');
  const counter = a.locator('#composer-count');
  assert.equal(await input.getAttribute('maxlength'), null, 'no silent cut by the textarea');
  await input.fill('x'.repeat(3499));
  await expectHidden(counter);
  await input.fill('x'.repeat(3500));
  await expectVisible(counter);
  await expectText(counter, '3,500 / 4,000');
  assert.equal(await counter.getAttribute('title'), '500 characters left');
  const before = (await history(a, 'bob')).length;

  await input.fill('y'.repeat(4003));
  await expectText(counter, '4,003 / 4,000');
  assert.match(await counter.getAttribute('class'), /\bover\b/);
  await input.press('Enter');
  const note = a.locator('#composer-limit');
  await expectText(note, 'Too long by 3 characters: a message holds at most 4,000. It was not sent.');
  assert.equal((await input.inputValue()).length, 4003, 'the text stays, whole');
  await screenshot(a, 'length-over-desktop');
  // Nothing was sent: not stored, not delivered.
  assert.equal((await history(a, 'bob')).length, before);
  assert.equal(await bob.page.locator('#message-list .msg').count(), 1);

  // Shortened to the limit, the message goes and the note goes away.
  await input.press('Backspace');
  await input.press('Backspace');
  await input.press('Backspace');
  await expectHidden(note);
  await input.press('Enter');
  await eventually(async () => assert.equal((await history(a, 'bob')).length, before + 1));
  await expectHidden(counter);
  const sent = (await history(a, 'bob')).at(-1);
  assert.equal(sent.text, 'y'.repeat(4000));
  await eventually(async () => assert.equal(await bob.page.locator('#message-list .msg').count(), 2));
  assertNoProblems(alice.problems);
});

test('characters are counted as the server counts them: 4,000 emoji fit', { timeout: 60_000 }, async () => {
  const a = alice.page;
  const input = a.locator('#composer-input');
  const emoji = '😀'.repeat(4000);
  await input.fill(emoji);
  await expectText(a.locator('#composer-count'), '4,000 / 4,000');
  assert.doesNotMatch(await a.locator('#composer-count').getAttribute('class'), /\bover\b/);
  await input.press('Enter');
  await eventually(async () => assert.equal((await history(a, 'bob')).at(-1).text, emoji));
  assert.equal(await input.inputValue(), '');
  assertNoProblems(alice.problems);
});

test('an over-long paste is refused with a message; one that fits is pasted', { timeout: 60_000 }, async () => {
  await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const a = alice.page;
  const input = a.locator('#composer-input');
  await input.fill('Start: ');
  await paste(a, 'z'.repeat(4500));
  const note = a.locator('#composer-limit');
  await expectText(note, 'Not pasted: the message would be 507 characters over the limit of 4,000.');
  assert.equal(await input.inputValue(), 'Start: ', 'nothing pasted, nothing cut');
  await screenshot(a, 'length-paste-desktop');
  await paste(a, 'a short quote');
  assert.equal(await input.inputValue(), 'Start: a short quote');
  await expectHidden(note);
  await input.fill('');
  assertNoProblems(alice.problems);
});

test('on a phone the counter and the note fit beside the composer', { timeout: 60_000 }, async () => {
  await bob.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const b = bob.page;
  const input = b.locator('#composer-input');
  await input.fill('w'.repeat(3900));
  const counter = b.locator('#composer-count');
  await expectText(counter, '3,900 / 4,000');
  await paste(b, 'v'.repeat(200));
  await expectVisible(b.locator('#composer-limit'));
  for (const [name, locator] of [['counter', counter], ['note', b.locator('#composer-limit')], ['send button', b.locator('#composer button[type="submit"]')]]) {
    const box = await locator.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= MOBILE.width + 0.5, `the ${name} is on screen: ${JSON.stringify(box)}`);
  }
  const send = await b.locator('#composer button[type="submit"]').boundingBox();
  assert.ok(send.width >= 44 && send.height >= 44, 'the send button keeps its size');
  await screenshot(b, 'length-paste-mobile');
  assertNoProblems(bob.problems);
});
