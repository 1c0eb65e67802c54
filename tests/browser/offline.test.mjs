// Coming back after being away, and writing while away: a tab that was offline while a
// message was edited, reacted to and deleted shows the final state once it reconnects,
// without a reload (catch-up with `changed_since`); duplicates injected on purpose — a
// replayed frame, a stale update, a catch-up page overlapping live delivery, a message resent
// after its echo was lost — show once; messages written offline wait visibly ("sending…"),
// survive a reload, go out in order once the connection is back and are stored once each; one
// the server refuses stays with its error and a choice to retry or delete it; drafts are kept
// per conversation across switches and reloads; presence says "connecting…" while it is not
// current.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, entry, eventually, expectCount, expectHidden, expectText, expectVisible, message,
  networkSwitch, newUser, openChat, screenshot, send, socketFrames, startSession, stopSession, userId,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

/** What a page logs while its network is gone: failed connections and requests. */
const OUTAGE = [/WebSocket connection to .* failed/, /Failed to load resource/, /ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/];

function history(page, { user, room }) {
  return page.evaluate(async ({ user, room }) => {
    const me = document.body.dataset.userId;
    const url = room ? `/api/rooms/${room}/history?limit=200` : `/api/history/${me}/${user}?limit=200`;
    return (await fetch(url)).json();
  }, { user, room });
}

async function assertOnce(page) {
  const ids = await page.locator('#message-list .msg:not(.pending)').evaluateAll((nodes) => nodes.map((n) => n.dataset.id));
  assert.equal(new Set(ids).size, ids.length, `a message shown twice: ${ids}`);
  assert.deepEqual(ids, [...ids].sort((x, y) => Number(x) - Number(y)), 'in id order');
}

test('a tab that was offline shows edits, reactions and deletions made meanwhile, without a reload', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  const a = alice.page;
  const b = bob.page;
  const network = await networkSwitch(bob.context);
  await b.reload();
  const room = await createRoom(a, 'Newsroom', { members: ['bob'] });
  const [first, second, third] = await socketFrames(a, { room }, ['first', 'second', 'third'].map((text) => ({ type: 'message', text })));
  await entry(b, 'room', 'Newsroom').click();
  await expectVisible(message(b, 'third'));
  // A private chat too, for presence.
  await openChat(a, 'bob');
  await send(a, 'ping');
  await expectCount(entry(b, 'user', 'alice').locator('.presence-dot.online'), 1);
  await b.evaluate(() => { window.__sameDocument = true; });

  // Bob's tab loses the network: presence is no longer current.
  await network.down();
  await expectText(b.locator('#me-status'), 'Connecting…');
  await expectCount(entry(b, 'user', 'alice').locator('.presence-dot.online'), 0);
  await expectVisible(b.locator('#connection-banner'));

  // Meanwhile: an edit, a reaction, a deletion, a new message.
  await socketFrames(a, { room }, [
    { type: 'edit', id: first.id, text: 'first, corrected' },
    { type: 'react', id: second.id, emoji: '👍' },
    { type: 'delete', id: third.id },
    { type: 'message', text: 'fourth' },
  ]);
  assert.equal(await message(b, 'first, corrected').count(), 0, 'Bob cannot know yet');
  await expectText(message(b, 'third').locator('.text'), 'third');

  // Back online: the final state, in the same document.
  await network.up();
  await expectHidden(b.locator('#connection-banner'), { timeout: 20_000 });
  const shown = (id) => b.locator(`#message-list .msg[data-id="${id}"]`);
  await expectText(shown(first.id).locator('.text'), 'first, corrected');
  await expectText(shown(first.id).locator('.edited'), 'edited');
  await expectText(shown(second.id).locator('.reaction[data-emoji="👍"] .count'), '1');
  await expectText(shown(third.id).locator('.text'), 'Message deleted');
  await expectVisible(message(b, 'fourth'));
  assert.equal(await b.evaluate(() => window.__sameDocument), true, 'no reload');
  await assertOnce(b);
  await expectText(b.locator('#me-status'), 'MyChat');
  await expectCount(entry(b, 'user', 'alice').locator('.presence-dot.online'), 1);
  // The private chat's header says "connecting…" while presence is not current.
  await entry(b, 'user', 'alice').click();
  await expectText(b.locator('#chat-subtitle'), 'online');
  await network.down();
  await expectText(b.locator('#chat-subtitle'), 'Connecting…');
  await network.up();
  await expectText(b.locator('#chat-subtitle'), 'online', { timeout: 20_000 });
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems, OUTAGE);
  await alice.context.close();
  await bob.context.close();
});

test('duplicates injected on purpose show once', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'ann');
  const bob = await newUser(browser, server, 'ben');
  const a = alice.page;
  const b = bob.page;
  const room = await createRoom(a, 'Echoes', { members: ['ben'] });

  // Bob's sockets pass through here: every new room message reaches him twice, and each
  // update of one is followed by a stale copy (the message as first sent). `cut` drops them.
  let replays = 0;
  let cut = false;
  const open = new Set();
  const first = new Map();
  await bob.context.routeWebSocket(/\/ws\//, (ws) => {
    if (cut) {
      ws.close({ code: 1001 });
      return;
    }
    const upstream = ws.connectToServer();
    open.add(ws);
    ws.onMessage((frame) => upstream.send(frame));
    upstream.onClose(() => ws.close());
    upstream.onMessage((frame) => {
      ws.send(frame);
      const data = JSON.parse(frame);
      if (data.type === 'room_message') {
        ws.send(frame);
        replays += 1;
        if (!first.has(data.id)) first.set(data.id, data);
      } else if (data.type === 'room_message_updated' && first.has(data.message.id)) {
        ws.send(JSON.stringify({ type: 'room_message_updated', message: first.get(data.message.id) }));
        replays += 1;
      }
    });
  });
  await b.reload();
  await entry(b, 'room', 'Echoes').click();
  await send(a, 'said once');
  await expectVisible(message(b, 'said once'));
  const id = Number(await message(a, 'said once').getAttribute('data-id'));
  await socketFrames(a, { room }, [{ type: 'edit', id, text: 'said once, edited' }]);
  await expectText(b.locator(`#message-list .msg[data-id="${id}"] .text`), 'said once, edited');
  // A socket's frames are handled in order: once a later message shows, the replayed copy of
  // the first and the stale update (an older change number) sent after the edit were handled
  // too. Neither added or changed anything.
  await send(a, 'after the replays');
  await expectVisible(message(b, 'after the replays'));
  assert.ok(replays >= 2, `the replayed copy and the stale update were sent: ${replays}`);
  assert.equal(await message(b, 'said once').count(), 1, 'the replayed message shows once');
  assert.equal(await b.locator(`#message-list .msg[data-id="${id}"] .text`).textContent(), 'said once, edited');
  await assertOnce(b);

  // A catch-up page overlapping live delivery: Bob's connection drops, Alice writes; when he
  // is back, his catch-up request is held until a live message has arrived, so its answer
  // holds that one again.
  cut = true;
  await bob.context.setOffline(true);
  for (const ws of [...open]) ws.close({ code: 1001 });
  open.clear();
  await expectVisible(b.locator('#connection-banner'));
  await send(a, 'while away');
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let caughtUp = 0;
  await b.route(/changed_since=/, async (route) => {
    await held;
    caughtUp += 1;
    await route.continue();
  });
  cut = false;
  await bob.context.setOffline(false);
  await expectHidden(b.locator('#connection-banner'), { timeout: 20_000 });
  await send(a, 'live during catch-up');
  await expectVisible(message(b, 'live during catch-up'));
  assert.equal(await message(b, 'while away').count(), 0, 'the catch-up is still held');
  release();
  await expectVisible(message(b, 'while away'));
  await eventually(async () => assert.ok(caughtUp >= 1, 'the catch-up was answered'));
  for (const text of ['said once, edited', 'after the replays', 'while away', 'live during catch-up']) await expectCount(message(b, text), 1);
  await assertOnce(b);
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems, OUTAGE);
  await alice.context.close();
  await bob.context.close();
});

test('a message whose echo was lost is resent with its client id and stored once', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'amy');
  const bob = await newUser(browser, server, 'bert');
  const a = alice.page;
  const b = bob.page;
  const bobId = await userId(b);
  // The first echo of "lost echo" never reaches Alice: the connection drops instead.
  let dropped = false;
  const sent = [];
  await alice.context.routeWebSocket(/\/ws\/[^g][^/]*\/[^/]+$/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((frame) => {
      sent.push(JSON.parse(frame));
      upstream.send(frame);
    });
    upstream.onMessage((frame) => {
      const data = JSON.parse(frame);
      if (!dropped && data.type === 'message' && data.text === 'lost echo') {
        dropped = true;
        ws.close({ code: 1001 });
        upstream.close();
        return;
      }
      ws.send(frame);
    });
  });
  // Nor does the history fetched after the reconnect mention it (until it was sent again):
  // so the outbox sends it again.
  await a.route(/\/api\/history\//, async (route) => {
    const response = await route.fetch();
    const resent = sent.filter((f) => f.type === 'message' && f.text === 'lost echo').length > 1;
    const items = (await response.json()).filter((m) => resent || m.text !== 'lost echo');
    await route.fulfill({ response, json: items });
  });
  await openChat(a, 'bert');
  await send(a, 'lost echo');
  await expectVisible(a.locator('#message-list .msg.pending'));
  await expectVisible(message(a, 'lost echo').and(a.locator('.msg:not(.pending)')));
  await expectCount(a.locator('#message-list .msg.pending'), 0);
  await expectCount(message(a, 'lost echo'), 1);
  const frames = sent.filter((f) => f.type === 'message');
  assert.equal(frames.length, 2, `sent twice: ${JSON.stringify(frames)}`);
  assert.equal(frames[0].client_id, frames[1].client_id, 'with the same client id');
  const stored = (await history(a, { user: bobId })).filter((m) => m.text === 'lost echo');
  assert.equal(stored.length, 1, 'stored once');
  await entry(b, 'user', 'amy').click();
  await expectCount(message(b, 'lost echo'), 1);
  assertNoProblems(alice.problems, OUTAGE);
  assertNoProblems(bob.problems);
  await alice.context.close();
  await bob.context.close();
});

test('messages written offline wait visibly, survive a reload, and go out once, in order', { timeout: 120_000 }, async () => {
  const alice = await newUser(browser, server, 'abe');
  const bob = await newUser(browser, server, 'bo');
  const a = alice.page;
  const b = bob.page;
  const bobId = await userId(b);
  await openChat(b, 'abe');
  await send(b, 'online first');
  await entry(a, 'user', 'bo').click();
  await expectVisible(message(a, 'online first'));
  const original = Number(await message(a, 'online first').getAttribute('data-id'));

  // Alice's conversation socket is cut off (the page itself still loads).
  let blocked = true;
  const sentTexts = [];
  await alice.context.routeWebSocket(/\/ws\/[^g][^/]*\/[^/]+$/, (ws) => {
    if (blocked) {
      ws.close({ code: 1001 });
      return;
    }
    const upstream = ws.connectToServer();
    ws.onMessage((frame) => {
      const data = JSON.parse(frame);
      if (data.type === 'message') sentTexts.push(data.text);
      upstream.send(frame);
    });
    upstream.onMessage((frame) => ws.send(frame));
  });
  await a.reload();
  await expectVisible(a.locator('#connection-banner'));
  // A reply to a message that Bob deletes meanwhile, then three more.
  await message(a, 'online first').hover();
  await message(a, 'online first').locator('.reply-button').click();
  await send(a, 'a reply to a message about to go');
  for (const text of ['queued one', 'queued two', 'queued three']) await send(a, text);
  const pending = a.locator('#message-list .msg.pending');
  await expectCount(pending, 4);
  assert.deepEqual(await pending.locator('.text').allTextContents(), ['a reply to a message about to go', 'queued one', 'queued two', 'queued three']);
  await expectText(pending.first().locator('.pending-state'), 'sending…');
  await screenshot(a, 'offline-queue-desktop');
  assert.equal(await message(b, 'queued one').count(), 0);

  // A reload while still cut off: they are all still there, in order.
  await a.reload();
  await expectCount(pending, 4);
  assert.deepEqual(await pending.locator('.text').allTextContents(), ['a reply to a message about to go', 'queued one', 'queued two', 'queued three']);

  // Bob deletes his message that the reply points at; Alice's connection returns.
  const [deleted] = await socketFrames(b, { user: await userId(a) }, [{ type: 'delete', id: original }]);
  assert.equal(deleted.message?.deleted, true);
  blocked = false;
  await expectHidden(a.locator('#connection-banner'), { timeout: 20_000 });
  // The three go out in order; the refused reply stays, with its error and a choice.
  for (const text of ['queued one', 'queued two', 'queued three']) await expectVisible(message(b, text));
  assert.deepEqual(
    (await b.locator('#message-list .msg .text').allTextContents()).filter((t) => t.startsWith('queued')),
    ['queued one', 'queued two', 'queued three'],
  );
  const failed = a.locator('#message-list .msg.pending.failed');
  await expectCount(failed, 1);
  await expectText(failed.locator('.send-error-text'), 'the message you reply to was deleted');
  await expectText(failed.locator('.pending-state'), 'not sent');
  await screenshot(a, 'offline-refused-desktop');
  await failed.getByRole('button', { name: 'Retry' }).click();
  await expectText(a.locator('#message-list .msg.pending.failed .send-error-text'), 'the message you reply to was deleted');
  await a.locator('#message-list .msg.pending.failed').getByRole('button', { name: 'Delete' }).click();
  await expectCount(pending, 0);
  // Sent one at a time, each once: the refused one twice (the retry), in the order written.
  assert.deepEqual(sentTexts, ['a reply to a message about to go', 'queued one', 'queued two', 'queued three', 'a reply to a message about to go']);
  // Each stored exactly once, and nothing of the refused one.
  const stored = (await history(a, { user: bobId })).map((m) => m.text);
  for (const text of ['queued one', 'queued two', 'queued three']) assert.equal(stored.filter((t) => t === text).length, 1, text);
  assert.equal(stored.filter((t) => t.startsWith('a reply')).length, 0);
  await a.reload();
  await expectVisible(message(a, 'queued three'));
  await expectCount(pending, 0);
  assertNoProblems(alice.problems, OUTAGE);
  assertNoProblems(bob.problems);
  await alice.context.close();
  await bob.context.close();
});

test('drafts are kept per conversation across switches and reloads', { timeout: 60_000 }, async () => {
  const alice = await newUser(browser, server, 'ada');
  const bob = await newUser(browser, server, 'bea');
  const a = alice.page;
  await createRoom(a, 'Drafts room');
  await openChat(a, 'bea');
  await send(a, 'hello');
  const input = a.locator('#composer-input');
  await input.fill('half a thought');
  await entry(a, 'room', 'Drafts room').click();
  assert.equal(await input.inputValue(), '', 'each conversation has its own');
  await expectText(entry(a, 'user', 'bea').locator('.item-sub'), 'Draft: half a thought');
  await input.fill('room draft');
  await entry(a, 'user', 'bea').click();
  assert.equal(await input.inputValue(), 'half a thought');
  await expectText(entry(a, 'room', 'Drafts room').locator('.item-sub'), 'Draft: room draft');
  await screenshot(a, 'drafts-desktop');
  await a.reload();
  await expectVisible(message(a, 'hello'));
  await expectText(a.locator('#composer-input'), '');
  assert.equal(await input.inputValue(), 'half a thought', 'kept across a reload');
  await input.fill('the whole thought');
  await input.press('Enter');
  await expectVisible(a.locator('#message-list .msg:not(.pending)', { hasText: 'the whole thought' }));
  assert.equal(await input.inputValue(), '');
  await a.reload();
  await expectVisible(message(a, 'the whole thought'));
  assert.equal(await input.inputValue(), '', 'a sent draft is gone');
  await entry(a, 'room', 'Drafts room').click();
  assert.equal(await input.inputValue(), 'room draft');
  assertNoProblems(alice.problems);
  await alice.context.close();
  await bob.context.close();
});
