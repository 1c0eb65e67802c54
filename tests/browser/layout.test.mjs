// Two layout fixes: a day label stuck to the top of the message list shows only while the
// reader scrolls, so it never hides the text under it once scrolling stops; and the
// scroll-to-bottom button sits beside the message column on a wide screen (not at the far
// edge of the window), at the screen's edge on a phone.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, eventually, expectVisible, flood, message, MOBILE, newUser, screenshot, startSession,
  stopSession,
} from './helpers/browser.mjs';

const MESSAGES = 40;
let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

/** A new user with a room of their own holding MESSAGES messages, open. */
async function withLongRoom(name, viewport) {
  const phone = viewport === MOBILE;
  const person = await newUser(browser, server, name, { viewport, isMobile: phone, hasTouch: phone });
  const p = person.page;
  const room = await createRoom(p, `${name}’s room`);
  await flood(p, room, MESSAGES);
  await expectVisible(message(p, `filler ${MESSAGES}`));
  return person;
}

test('a stuck day label fades when scrolling stops and never covers text at rest', { timeout: 90_000 }, async () => {
  const bob = await withLongRoom('bob', { width: 1280, height: 800 });
  const b = bob.page;
  const scroller = b.locator('#messages');
  const label = b.locator('#message-list > .day-separator').first();
  // At the bottom, after a short while without scrolling, the label is stuck and invisible.
  await scroller.evaluate((n) => { n.scrollTop = n.scrollHeight / 2; });
  await eventually(async () => {
    assert.match(await label.getAttribute('class'), /\bstuck\b/);
    assert.equal(await label.locator('span').evaluate((n) => getComputedStyle(n).opacity), '0');
  });
  // What is under it is the message, not the label.
  const under = await label.evaluate((sep) => {
    const box = sep.querySelector('span').getBoundingClientRect();
    return document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2)?.closest('.day-separator') ?? null;
  });
  assert.equal(under, null, 'what is under the label gets the clicks');
  await screenshot(b, 'layout-label-at-rest');

  // While the reader scrolls, it shows which day this is.
  await scroller.hover();
  await b.mouse.wheel(0, -200);
  await eventually(async () => assert.equal(await label.locator('span').evaluate((n) => getComputedStyle(n).opacity), '1'));
  await screenshot(b, 'layout-label-scrolling');

  // At the top it is in its place above the first message, visible, covering nothing.
  await scroller.evaluate((n) => { n.scrollTop = 0; });
  await eventually(async () => {
    assert.doesNotMatch(await label.getAttribute('class'), /\bstuck\b/);
    assert.equal(await label.locator('span').evaluate((n) => getComputedStyle(n).opacity), '1');
  });
  assertNoProblems(bob.problems);
  await bob.context.close();
});

async function bottomButtonPlace(viewport, name) {
  const person = await withLongRoom(name, viewport);
  const p = person.page;
  await p.locator('#messages').evaluate((n) => { n.scrollTop = 0; });
  const button = p.locator('#scroll-bottom');
  await expectVisible(button);
  const place = {
    button: await button.boundingBox(),
    column: await p.locator('#message-list').boundingBox(),
    chat: await p.locator('#chat').boundingBox(),
  };
  await screenshot(p, `layout-scroll-button-${name}`);
  assertNoProblems(person.problems);
  await person.context.close();
  return place;
}

test('the scroll-to-bottom button sits by the message column', { timeout: 120_000 }, async () => {
  for (const [name, viewport] of [['wide', { width: 1920, height: 1000 }], ['desktop', { width: 1280, height: 800 }]]) {
    const { button, column, chat } = await bottomButtonPlace(viewport, name);
    const columnRight = column.x + column.width;
    const gap = button.x - columnRight;
    assert.ok(gap >= 0 && gap <= 32, `${name}: the button starts ${gap} px right of the column's edge`);
    assert.ok(button.x + button.width <= chat.x + chat.width - 8, `${name}: inside the chat area`);
  }
  const phone = await bottomButtonPlace(MOBILE, 'phone');
  const margin = MOBILE.width - (phone.button.x + phone.button.width);
  assert.ok(margin >= 8 && margin <= 24, `phone: at the screen's edge (${margin} px)`);
});
