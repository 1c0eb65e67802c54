// Browser notifications: never requested on page load, only from the visible button; once
// allowed, messages in chats not in view (the global `notify` and `activity` events) show
// one, following each conversation's notification level (muted: none; mentions only: a
// mention still notifies), and clicking one opens that chat. The Notification API is replaced
// by a recorder, since a headless browser shows nothing. Also: the search box narrowing the
// chat list, and opening chats with the keyboard.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, entry, eventually, expectCount, expectHidden, expectText, expectVisible, message, newUser,
  openChat, send, startSession, stopSession,
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

/** Runs in the page before its scripts: every frame its WebSockets send is kept. */
function recordSentFrames() {
  window.__sentFrames = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function recorded(data) {
    window.__sentFrames.push(String(data));
    return send.call(this, data);
  };
}

const shown = (page) => page.evaluate(() => window.__notifications.shown.map(({ title, body, tag }) => ({ title, body, tag })));

test('notifications need the button, then announce chats not in view', { timeout: 60_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  await alice.context.addInitScript(recordNotifications);
  await alice.context.addInitScript(recordSentFrames);
  await alice.page.reload();
  const bob = await newUser(browser, server, 'bob');
  const a = alice.page;
  const b = bob.page;

  // Nothing is requested on load; the button offers it.
  await expectVisible(a.locator('#notify-button'));
  assert.equal(await a.evaluate(() => window.__notifications.asked), 0, 'permission is never requested on load');

  // Bob writes before Alice allowed anything: a badge, no notification.
  await openChat(b, 'alice');
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
  await createRoom(b, 'Plans', { members: ['alice'] });
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
  // The open chat is in view: its messages are not announced. What is announced comes over
  // the global socket, in order: once a later message of a chat not in view is announced,
  // the one before it was decided on.
  const before = (await shown(a)).length;
  await send(b, 'Seen live');
  await expectVisible(message(a, 'Seen live'));
  await entry(b, 'user', 'alice').click();
  await send(b, 'Meanwhile, elsewhere');
  await eventually(async () => assert.equal((await shown(a)).at(-1)?.body, 'Meanwhile, elsewhere'));
  assert.deepEqual((await shown(a)).slice(before).map((n) => n.body), ['Meanwhile, elsewhere'], 'only the chat not in view is announced');

  // A hidden tab does not read the open chat: the message counts, is announced, stays unread.
  // The page's clock is Playwright's from here, so the app's timers can be run on demand.
  await entry(a, 'user', 'bob').click();
  await expectVisible(message(a, 'Meanwhile, elsewhere'));
  await a.clock.install();
  await setHidden(a, true);
  await send(b, 'While the tab was hidden');
  await expectVisible(message(a, 'While the tab was hidden'));
  await eventually(async () => assert.equal(await a.title(), '(1) MyChat'));
  await eventually(async () => assert.equal((await shown(a)).at(-1).body, 'While the tab was hidden'));
  // Nothing was reported read. Synchronised on the page's own order of events: once an
  // IntersectionObserver of ours has seen the message (the app's, created earlier, was told
  // first in the same rendering step), the clock is moved past the app's read-report delay
  // (reads.js, 250 ms), which runs any report it scheduled; then the frames the page sent
  // are read from the recorder.
  const hiddenMessage = message(a, 'While the tab was hidden');
  await hiddenMessage.evaluate((node) => new Promise((resolve) => {
    const io = new IntersectionObserver(() => {
      io.disconnect();
      resolve();
    });
    io.observe(node);
  }));
  await a.clock.runFor(1000);
  const hiddenId = Number(await hiddenMessage.getAttribute('data-id'));
  const reads = () => a.evaluate(() => window.__sentFrames.map((f) => JSON.parse(f)).filter((f) => f.type === 'read'));
  assert.deepEqual((await reads()).filter((f) => f.up_to >= hiddenId), [], 'no read position sent for it while hidden');
  const unread = await a.evaluate(async () => (await fetch(`/api/unread/${document.body.dataset.userId}`)).json());
  assert.deepEqual(Object.values(unread), [1], 'the server still counts it unread');
  await expectText(message(b, 'While the tab was hidden').locator('.receipt'), '✓');
  // Back in view: read at once, up to that message.
  await setHidden(a, false);
  await expectText(message(b, 'While the tab was hidden').locator('.receipt'), '✓✓');
  assert.deepEqual((await reads()).filter((f) => f.up_to >= hiddenId).map((f) => f.up_to), [hiddenId]);
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

test('the search box narrows the chat list; the keyboard reaches every chat', { timeout: 60_000 }, async () => {
  const carol = await newUser(browser, server, 'carol');
  const c = carol.page;
  // Alice and Bob write to Carol, so both are in her list.
  for (const name of ['alice', 'bob']) {
    const other = await newUser(browser, server, `${name}2`);
    await openChat(other.page, 'carol');
    await send(other.page, `hi from ${name}`);
    await expectVisible(entry(c, 'user', `${name}2`));
    await other.context.close();
  }
  const search = c.locator('#search');
  await search.fill('ALI');
  await expectHidden(entry(c, 'user', 'bob2'));
  await expectVisible(entry(c, 'user', 'alice2'));
  await search.fill('zzz');
  await expectText(c.locator('#chat-list .list-empty'), 'No chats match.');
  await expectText(c.locator('#search-results .list-empty'), 'Nothing found.');
  await search.press('Escape');
  assert.equal(await search.inputValue(), '');
  await expectVisible(entry(c, 'user', 'bob2'));
  await expectHidden(c.locator('#search-results'));

  // Tab from the search box reaches the list; Enter opens the focused entry.
  await search.focus();
  await c.keyboard.press('Tab');
  assert.equal(await c.evaluate(() => document.activeElement.id), 'new-room');
  await c.keyboard.press('Tab');
  assert.equal(await c.evaluate(() => document.activeElement.dataset.kind), 'user');
  const outline = await c.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused entry shows a focus ring');
  await c.keyboard.press('Enter');
  await expectText(c.locator('#chat-title'), 'bob2');
  assert.equal(await c.evaluate(() => document.activeElement.id), 'composer-input', 'typing can start at once');
  // Down from the search box goes to the first result.
  await search.fill('alice');
  await expectVisible(entry(c, 'user', 'alice2'));
  await search.press('ArrowDown');
  assert.equal(await c.evaluate(() => document.activeElement.dataset.id), await entry(c, 'user', 'alice2').getAttribute('data-id'));
  await search.fill('');

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
