// Finding one's way (issue 14): the chat list (rooms and people talked with, newest first,
// previews with the sender in rooms, times, unread badges, the mention marker, live without a
// reload, a muted look), a conversation opening at its first unread message under an "unread
// messages" line, only what was on screen reported read (the sender's ✓✓ follows exactly
// that), the jump button, and notification levels (muted: silent; mentions only: a mention
// still notifies) set from the conversation's menu and followed by every tab.
//
// The server runs without rate limits, so a test can write forty messages at once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, entry, eventually, expectCount, expectHidden, expectText, expectVisible, message, newUser,
  openChat, screenshot, send, socketFrames, startSession, stopSession, userId,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession({ args: ['--rate-limits', 'off'] }));
});

after(() => stopSession({ server, browser }));

const LINES = 40;

/** What the server counts unread for `page`'s user from `other` (an id). */
async function unreadFrom(page, other) {
  const counts = await page.evaluate(async () => (await fetch(`/api/unread/${document.body.dataset.userId}`)).json());
  return counts[other] ?? 0;
}

test('a chat opens at its first unread; only what was on screen is read', { timeout: 120_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  const a = alice.page;
  const b = bob.page;
  const aliceId = await userId(a);
  const bobId = await userId(b);
  await openChat(a, 'bob');
  await send(a, 'hi');
  await entry(b, 'user', 'alice').click();
  await send(b, 'hey');
  await expectVisible(message(a, 'hey'));
  // Alice looks elsewhere; Bob writes forty lines.
  await a.locator('#back-button').evaluate((n) => n.click());
  await createRoom(a, 'Elsewhere');
  await socketFrames(b, { user: aliceId }, Array.from({ length: LINES }, (_, i) => ({ type: 'message', text: `line ${i + 1}` })));
  await expectText(entry(a, 'user', 'bob').locator('.badge'), String(LINES));
  await expectText(entry(a, 'user', 'bob').locator('.item-sub'), `line ${LINES}`);
  assert.equal(await unreadFrom(a, bobId), LINES);

  // Alice opens it: at the first unread, under the line, the earlier ones above.
  await entry(a, 'user', 'bob').click();
  const divider = a.locator('#message-list .unread-divider');
  await expectVisible(divider);
  assert.equal(await a.locator('#message-list .unread-divider + .msg .text').textContent(), 'line 1');
  assert.equal(await a.locator('#message-list .unread-divider').evaluate((n) => n.previousElementSibling.querySelector('.text')?.textContent), 'hey');
  // Only what was on screen is read: the server's count, the badge, the jump button and Bob's
  // ticks all say the same, and the ✓✓ are exactly the first lines.
  const receipts = () => b.locator('#message-list .msg.own').filter({ hasText: /^line / }).locator('.receipt').allTextContents();
  let left = 0;
  await eventually(async () => {
    left = await unreadFrom(a, bobId);
    assert.ok(left > 0 && left < LINES - 3, `some read, not all: ${left} unread`);
    const ticks = await receipts();
    assert.equal(ticks.length, LINES);
    const read = ticks.filter((t) => t === '✓✓').length;
    assert.equal(read, LINES - left, 'a ✓✓ for each line shown, no more');
    assert.deepEqual(ticks, [...Array(read).fill('✓✓'), ...Array(left).fill('✓')]);
    assert.equal(await entry(a, 'user', 'bob').locator('.badge').textContent(), String(left));
    assert.equal(await a.locator('#scroll-bottom-count').textContent(), String(left));
  });
  // What is on screen is what was read: the newest line read is visible, the next is not.
  const lastRead = a.locator(`#message-list .msg:has(.text:text-is("line ${LINES - left}"))`);
  const firstUnread = a.locator(`#message-list .msg:has(.text:text-is("line ${LINES - left + 1}"))`);
  const view = await a.locator('#messages').boundingBox();
  const readBox = await lastRead.boundingBox();
  const unreadBox = await firstUnread.boundingBox();
  assert.ok(readBox.y < view.y + view.height, 'the last line read is on screen');
  assert.ok(unreadBox.y + unreadBox.height / 2 > view.y + view.height, 'the first unread line is below the view');
  await screenshot(a, 'unread-divider-desktop');

  // The jump button brings the next unread to the top; pressed until the end, all is read.
  await a.locator('#scroll-bottom').click();
  await eventually(async () => assert.ok((await unreadFrom(a, bobId)) < left, 'the next screenful was read'));
  await eventually(async () => {
    if (await a.locator('#scroll-bottom').isVisible()) await a.locator('#scroll-bottom').click();
    assert.equal(await unreadFrom(a, bobId), 0);
  });
  await eventually(async () => assert.deepEqual([...new Set(await receipts())], ['✓✓']));
  await expectHidden(entry(a, 'user', 'bob').locator('.badge'));
  await expectHidden(a.locator('#scroll-bottom'));
  // The divider stays where it was while the chat is open.
  await expectCount(divider, 1);
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
  await alice.context.close();
  await bob.context.close();
});

/** Runs in the page before its scripts: a Notification that records what it is asked. */
function recordNotifications() {
  const shown = [];
  class RecordedNotification {
    constructor(title, options = {}) {
      shown.push({ title, body: options.body });
    }

    static get permission() { return 'granted'; }

    static async requestPermission() { return 'granted'; }

    addEventListener() {}

    close() {}
  }
  window.Notification = RecordedNotification;
  window.__shown = shown;
}

test('the chat list: newest first, previews, live, muted and mentions-only levels', { timeout: 120_000 }, async () => {
  const erin = await newUser(browser, server, 'erin');
  await erin.context.addInitScript(recordNotifications);
  await erin.page.reload();
  await erin.page.locator('#chat-list > li').first().waitFor();
  const carol = await newUser(browser, server, 'carol');
  const dave = await newUser(browser, server, 'dave');
  const e = erin.page;
  const c = carol.page;
  const d = dave.page;
  const names = () => e.locator('#chat-list .item-name').allTextContents();

  // Carol writes, then Dave: Dave's chat is first; each preview is the message.
  await openChat(c, 'erin');
  await send(c, 'from carol');
  await expectVisible(entry(e, 'user', 'carol'));
  await openChat(d, 'erin');
  await send(d, 'from dave');
  await eventually(async () => assert.deepEqual(await names(), ['dave', 'carol']));
  await expectText(entry(e, 'user', 'dave').locator('.item-sub'), 'from dave');
  assert.match(await entry(e, 'user', 'dave').locator('.item-time').textContent(), /^\d{1,2}:\d{2}( [AP]M)?$/);
  // A room with a message in it moves to the top, its preview naming the sender.
  const room = await createRoom(c, 'Hiking', { members: ['erin', 'dave'] });
  await send(c, 'trail at 9');
  await eventually(async () => assert.deepEqual(await names(), ['Hiking', 'dave', 'carol']));
  await expectText(entry(e, 'room', 'Hiking').locator('.item-sub'), 'carol: trail at 9');
  // Live: Carol writes again privately and her chat goes to the top; her edit of it shows.
  await openChat(c, 'erin');
  await send(c, 'carol again');
  await eventually(async () => assert.deepEqual(await names(), ['carol', 'Hiking', 'dave']));
  const latest = Number(await message(c, 'carol again').getAttribute('data-id'));
  await socketFrames(c, { user: await userId(e) }, [{ type: 'edit', id: latest, text: 'carol, edited' }]);
  await expectText(entry(e, 'user', 'carol').locator('.item-sub'), 'carol, edited');
  await socketFrames(c, { user: await userId(e) }, [{ type: 'delete', id: latest }]);
  await expectText(entry(e, 'user', 'carol').locator('.item-sub'), 'Message deleted');
  // Erin's own message: "You: …".
  await entry(e, 'user', 'dave').click();
  await send(e, 'hello dave');
  await expectText(entry(e, 'user', 'dave').locator('.item-sub'), 'You: hello dave');
  await screenshot(e, 'chat-list-desktop');

  // Erin mutes Carol from the conversation's menu: it looks muted, counts, and is silent.
  const second = await e.context().newPage();
  await second.goto('/index');
  await expectVisible(entry(second, 'user', 'carol'));
  await entry(e, 'user', 'carol').click();
  await e.locator('#chat-menu-button').click();
  const levels = e.locator('.popup-menu').getByRole('menuitemradio');
  assert.deepEqual(await levels.allTextContents(), ['Notify about every message', 'Mute']);
  assert.equal(await e.locator('#notify-all').getAttribute('aria-checked'), 'true');
  await e.locator('#notify-none').click();
  await expectVisible(e.locator('#chat-title .muted-mark'));
  for (const page of [e, second]) {
    await expectCount(entry(page, 'user', 'carol').and(page.locator('.is-muted')), 1);
    await expectVisible(entry(page, 'user', 'carol').locator('.muted-mark'));
  }
  const stored = (await e.evaluate(async () => (await fetch('/api/chats')).json())).find((x) => x.name === 'carol');
  assert.equal(stored.notify, 'none', 'kept on the server');
  await entry(e, 'room', 'Hiking').click();
  const shownBefore = await e.evaluate(() => window.__shown.length);
  await send(c, 'muted news');
  await expectText(entry(e, 'user', 'carol').locator('.badge'), '1');
  const badge = await entry(e, 'user', 'carol').locator('.badge').evaluate((n) => getComputedStyle(n).backgroundColor);
  assert.equal(badge, 'rgb(107, 119, 133)', 'a muted badge is grey');
  // A later message in a loud chat is announced; the muted one before it never was.
  await entry(d, 'user', 'erin').click();
  await send(d, 'loud news');
  await eventually(async () => assert.equal(await e.evaluate(() => window.__shown.at(-1)?.body), 'loud news'));
  assert.deepEqual(await e.evaluate((n) => window.__shown.slice(n).map((x) => x.body), shownBefore), ['loud news']);
  const counts = async () => (await e.evaluate(async () => (await fetch('/api/chats')).json())).map((x) => `${x.name}:${x.unread}`);
  await eventually(async () => assert.equal(await e.title(), '(1) MyChat', `a muted chat is not in the title count: ${await counts()}`));

  // A room at "mentions only": a plain message is silent, a mention notifies.
  await entry(e, 'room', 'Hiking').click();
  await e.locator('#chat-menu-button').click();
  await e.locator('#notify-mentions').click();
  await eventually(async () => {
    const chats = await e.evaluate(async () => (await fetch('/api/chats')).json());
    assert.equal(chats.find((x) => x.name === 'Hiking').notify, 'mentions');
  });
  await entry(e, 'user', 'dave').click();
  const mark = await e.evaluate(() => window.__shown.length);
  await entry(c, 'room', 'Hiking').click();
  await send(c, 'plain trail talk');
  await send(c, '@erin bring the map');
  await eventually(async () => assert.equal(await e.evaluate(() => window.__shown.at(-1)?.body), '@erin bring the map'));
  assert.deepEqual(await e.evaluate((n) => window.__shown.slice(n).map((x) => x.title), mark), ['carol mentioned you in Hiking']);
  await expectText(entry(e, 'room', 'Hiking').locator('.badge'), '2');
  await expectText(entry(e, 'room', 'Hiking').locator('.mention-mark'), '@');
  assert.ok(room);
  for (const person of [erin, carol, dave]) assertNoProblems(person.problems);
  for (const person of [erin, carol, dave]) await person.context.close();
});
