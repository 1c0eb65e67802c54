// Browser notifications: never requested on page load, only from the visible button; once
// allowed, messages in chats not in view (global `notify` and `room_notify` events) show one,
// and clicking it opens that chat. The Notification API is replaced by a recorder, since a
// headless browser shows nothing. Also: the filter box and opening chats with the keyboard.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, eventually, expectHidden, expectText, expectVisible, message, newUser, send,
  startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

/** Runs in the page before its scripts: a Notification that records what it is asked. */
function recordNotifications() {
  const record = { asked: 0, shown: [] };
  let permission = 'default';
  class RecordedNotification {
    constructor(title, options = {}) {
      this.title = title;
      this.listeners = {};
      record.shown.push({ title, body: options.body, tag: options.tag, click: () => this.listeners.click?.() });
    }

    static get permission() { return permission; }

    static async requestPermission() {
      record.asked += 1;
      permission = 'granted';
      return permission;
    }

    addEventListener(type, fn) { this.listeners[type] = fn; }

    close() {}
  }
  window.Notification = RecordedNotification;
  window.__notifications = record;
}

const shown = (page) => page.evaluate(() => window.__notifications.shown.map(({ title, body, tag }) => ({ title, body, tag })));

test('notifications need the button, then announce chats not in view', { timeout: 60_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  await alice.context.addInitScript(recordNotifications);
  await alice.page.reload();
  const bob = await newUser(browser, server, 'bob');
  const a = alice.page;
  const b = bob.page;

  // Nothing is requested on load; the button offers it.
  await expectVisible(a.locator('#notify-button'));
  assert.equal(await a.evaluate(() => window.__notifications.asked), 0, 'permission is never requested on load');

  // Bob writes before Alice allowed anything: a badge, no notification.
  await entry(b, 'user', 'alice').click();
  await send(b, 'First, unannounced');
  await expectText(entry(a, 'user', 'bob').locator('.badge'), '1');
  assert.deepEqual(await shown(a), []);

  await a.locator('#notify-button').click();
  await expectHidden(a.locator('#notify-button'));
  assert.equal(await a.evaluate(() => window.__notifications.asked), 1);

  await send(b, 'Second, announced');
  await expectText(entry(a, 'user', 'bob').locator('.badge'), '2');
  await eventually(async () => assert.deepEqual(await shown(a), [
    { title: 'New message from bob', body: 'Second, announced', tag: `user-${await b.evaluate(() => document.body.dataset.userId)}` },
  ]));

  // A room message while Alice looks elsewhere.
  await b.locator('#new-room').click();
  await b.locator('#room-name').fill('Plans');
  await b.locator('#room-create').click();
  await b.locator('#members-button').click();
  await b.getByRole('button', { name: 'Add alice to the room' }).click();
  await b.keyboard.press('Escape');
  await expectVisible(entry(a, 'room', 'Plans'));
  await send(b, 'Room news');
  await expectText(entry(a, 'room', 'Plans').locator('.badge'), '1');
  await eventually(async () => {
    const last = (await shown(a)).at(-1);
    assert.equal(last.title, 'bob in Plans');
    assert.equal(last.body, 'Room news');
  });

  // Clicking the notification opens that chat.
  await a.evaluate(() => window.__notifications.shown.at(-1).click());
  await expectText(a.locator('#chat-title'), 'Plans');
  await expectVisible(message(a, 'Room news'));
  await expectHidden(entry(a, 'room', 'Plans').locator('.badge'));
  // The open chat is in view: its messages are not announced.
  const before = (await shown(a)).length;
  await send(b, 'Seen live');
  await expectVisible(message(a, 'Seen live'));
  assert.equal((await shown(a)).length, before);

  // A hidden tab does not read the open chat: the message counts, is announced, stays unread.
  await entry(a, 'user', 'bob').click();
  await expectVisible(message(a, 'Second, announced'));
  await entry(b, 'user', 'alice').click();
  await setHidden(a, true);
  await send(b, 'While the tab was hidden');
  await expectVisible(message(a, 'While the tab was hidden'));
  await a.waitForFunction(() => document.title === '(1) MyChat');
  await eventually(async () => assert.equal((await shown(a)).at(-1).body, 'While the tab was hidden'));
  await new Promise((resolve) => setTimeout(resolve, 600)); // longer than the mark-read debounce
  const unread = await a.evaluate(async () => (await fetch(`/api/unread/${document.body.dataset.userId}`)).json());
  assert.deepEqual(Object.values(unread), [1], 'the server still counts it unread');
  await expectText(message(b, 'While the tab was hidden').locator('.receipt'), '✓');
  // Back in view: read at once.
  await setHidden(a, false);
  await expectText(message(b, 'While the tab was hidden').locator('.receipt'), '✓✓');
  await a.waitForFunction(() => document.title === 'MyChat');

  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
  await alice.context.close();
  await bob.context.close();
});

/** Makes the page believe its tab was hidden (or shown again), as switching tabs does. */
async function setHidden(page, hidden) {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('the filter box and the keyboard reach every chat', { timeout: 60_000 }, async () => {
  const carol = await newUser(browser, server, 'carol');
  const c = carol.page;
  const filter = c.locator('#filter');
  await expectVisible(entry(c, 'user', 'alice'));
  await filter.fill('ALI');
  await expectHidden(entry(c, 'user', 'bob'));
  await expectVisible(entry(c, 'user', 'alice'));
  await filter.fill('zzz');
  await expectText(c.locator('#user-list .list-empty'), 'Nothing matches.');
  await filter.press('Escape');
  assert.equal(await filter.inputValue(), '');
  await expectVisible(entry(c, 'user', 'bob'));

  // Tab from the filter reaches the list; Enter opens the focused entry.
  await filter.focus();
  await c.keyboard.press('Tab');
  assert.equal(await c.evaluate(() => document.activeElement.id), 'new-room');
  await c.keyboard.press('Tab');
  assert.equal(await c.evaluate(() => document.activeElement.dataset.kind), 'user');
  const outline = await c.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused entry shows a focus ring');
  await c.keyboard.press('Enter');
  await expectText(c.locator('#chat-title'), 'alice');
  assert.equal(await c.evaluate(() => document.activeElement.id), 'composer-input', 'typing can start at once');

  // Escape closes a dialog and gives focus back to what opened it.
  await c.locator('#new-room').focus();
  await c.keyboard.press('Enter');
  await expectVisible(c.locator('#room-dialog'));
  assert.equal(await c.evaluate(() => document.activeElement.id), 'room-name');
  await c.keyboard.press('Escape');
  await expectHidden(c.locator('#room-dialog'));
  assert.equal(await c.evaluate(() => document.activeElement.id), 'new-room');
  assertNoProblems(carol.problems);
});
