// The phone layout (390×844, touch): the list and the conversation are two screens; opening
// a chat slides it over the list, the back button (and the browser's Back) returns; targets
// are at least 44 px; the composer sits at the bottom of the dynamic viewport.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, expectCount, expectHidden, expectText, expectVisible, message, MOBILE, newUser, openChat, screenshot,
  send,
  startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

async function assertTapSize(locator, label) {
  const box = await locator.boundingBox();
  assert.ok(box, `${label} is on screen`);
  assert.ok(box.width >= 44 && box.height >= 44, `${label} is ${box.width}×${box.height}, at least 44×44 expected`);
}

test('list → chat → back on a phone', { timeout: 60_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const phone = await newUser(browser, server, 'bob', { viewport: MOBILE, isMobile: true, hasTouch: true });
  const p = phone.page;
  const sidebar = p.locator('#sidebar');
  const chat = p.locator('#chat');

  // The list is the whole screen; the conversation is off screen.
  await expectVisible(sidebar);
  await expectHidden(chat);
  await assertTapSize(p.locator('#search'), 'the search box');
  await assertTapSize(p.locator('#new-room'), 'the new-room button');
  await assertTapSize(p.locator('#search-link'), 'the search link');
  const listBox = await sidebar.boundingBox();
  assert.equal(Math.round(listBox.width), MOBILE.width, 'the list fills the width');

  // A message from Alice shows as a list entry with a badge on the phone.
  await openChat(alice.page, 'bob');
  await send(alice.page, 'Ping from the desktop');
  await expectText(entry(p, 'user', 'alice').locator('.badge'), '1');
  await expectCount(entry(p, 'user', 'alice').locator('.presence-dot.online'), 1);
  await assertTapSize(entry(p, 'user', 'alice'), 'a list entry');
  await screenshot(p, 'main-list-mobile');

  // Tap: the conversation covers the list.
  await entry(p, 'user', 'alice').tap();
  await expectVisible(chat);
  await expectHidden(sidebar);
  await expectVisible(message(p, 'Ping from the desktop'));
  await assertTapSize(p.locator('#back-button'), 'the back button');
  await assertTapSize(p.locator('#composer button[type="submit"]'), 'the send button');
  const composer = await p.locator('#composer').boundingBox();
  assert.equal(Math.round(composer.y + composer.height), MOBILE.height, 'the composer sits at the bottom');
  const chatBox = await chat.boundingBox();
  assert.equal(Math.round(chatBox.x), 0, 'the conversation fills the screen');
  await p.locator('#composer-input').fill('Pong from the phone');
  await p.locator('#composer button[type="submit"]').tap();
  await expectVisible(message(alice.page, 'Pong from the phone'));
  await expectText(message(p, 'Pong from the phone').locator('.receipt'), '✓✓');
  // No permanent button beside each message on a phone (a long press or a swipe instead).
  const actions = p.locator('#message-list .msg .msg-actions');
  assert.ok((await actions.count()) > 0, 'the actions are there, for keyboards and screen readers');
  for (const bar of await actions.all()) {
    const box = await bar.boundingBox();
    assert.ok(box && box.width <= 1 && box.height <= 1, `message actions take no room on a phone: ${JSON.stringify(box)}`);
  }
  await screenshot(p, 'main-private-chat-mobile');

  // The back button returns to the list, where the entry is no longer unread.
  await p.locator('#back-button').tap();
  await expectVisible(sidebar);
  await expectHidden(chat);
  assert.equal(await entry(p, 'user', 'alice').locator('.badge').count(), 0);
  assert.equal(new URL(p.url()).hash, '', 'the address no longer names the conversation');

  // So does the browser's (or Android's) Back.
  await entry(p, 'user', 'alice').tap();
  await expectVisible(chat);
  await p.goBack();
  await expectVisible(sidebar);
  await expectHidden(chat);

  // And the conversation is still there when opened again.
  await entry(p, 'user', 'alice').tap();
  await expectVisible(message(p, 'Pong from the phone'));
  assertNoProblems(phone.problems);
  assertNoProblems(alice.problems);
  await phone.context.close();
  await alice.context.close();
});

test('dark mode follows the system', { timeout: 60_000 }, async () => {
  const dark = await newUser(browser, server, 'dora', { colorScheme: 'dark' });
  const p = dark.page;
  const background = await p.locator('#sidebar').evaluate((n) => getComputedStyle(n).backgroundColor);
  assert.equal(background, 'rgb(23, 33, 43)', 'the dark palette applies');
  await openChat(p, 'alice');
  await send(p, 'Hello from the dark side');
  await expectText(message(p, 'Hello from the dark side').locator('.receipt'), '✓');
  await screenshot(p, 'dark-chat-desktop');
  // A narrow window gets the phone layout too (not only phones).
  await p.setViewportSize(MOBILE);
  await expectHidden(p.locator('#sidebar'));
  await expectVisible(p.locator('#back-button'));
  await screenshot(p, 'dark-chat-mobile');
  assertNoProblems(dark.problems);
  await dark.context.close();
});
