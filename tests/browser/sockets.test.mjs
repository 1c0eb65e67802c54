// The sockets the app opens: one /ws/global/{me} per tab (never the seed's /ws/status), one
// conversation socket at a time (the previous one closes on switching), and the global
// socket answers the server's {"type":"ping"} with {"type":"pong"}. Messages go as typed
// frames: {"type": "message", "text": ..., "reply_to": {"id": ...}, "client_id": ...}.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, entry, eventually, expectVisible, message, newUser, openChat, openPerson,
  register, send,
  startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

test('one global socket, one conversation socket at a time, pings answered', { timeout: 60_000 }, async () => {
  const bob = await newUser(browser, server, 'bob');
  const alice = await openPerson(browser, server);
  const a = alice.page;

  // Frames the page sends on its global socket pass through here, so a ping can be injected.
  const fromPage = [];
  let globalRoute = null;
  await alice.context.routeWebSocket(/\/ws\/global\//, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((frame) => {
      fromPage.push(frame);
      upstream.send(frame);
    });
    globalRoute = ws;
  });
  const sockets = [];
  a.on('websocket', (ws) => sockets.push(ws));

  await register(a, 'alice');
  await createRoom(bob.page, 'Lobby', { members: ['alice'] });
  await expectVisible(entry(a, 'room', 'Lobby'));

  // Open a chat, then the room, then the chat again.
  const aliceId = await a.evaluate(() => document.body.dataset.userId);
  await openChat(a, 'bob');
  await send(a, 'hi');
  await expectVisible(message(a, 'hi'));
  await entry(a, 'room', 'Lobby').click();
  await send(a, 'hello room');
  await expectVisible(message(a, 'hello room'));
  // Messages go as typed JSON frames; a reply names the message it answers by id.
  const roomSocket = sockets.find((ws) => ws.url().includes('/ws/room/'));
  const sent = [];
  roomSocket.on('framesent', (frame) => sent.push(JSON.parse(frame.payload)));
  const original = message(a, 'hello room');
  const originalId = Number(await original.getAttribute('data-id'));
  await original.hover();
  await original.locator('.reply-button').click();
  await send(a, 'a reply');
  await expectVisible(message(a, 'a reply'));
  const frames = sent.filter((f) => f.type === 'message');
  assert.equal(frames.length, 1, JSON.stringify(frames));
  assert.match(frames[0].client_id, /^[0-9a-f]{24}$/, 'a client-chosen id makes a resend idempotent');
  assert.deepEqual(frames[0], { type: 'message', text: 'a reply', reply_to: { id: originalId }, client_id: frames[0].client_id });
  await entry(a, 'user', 'bob').click();
  await expectVisible(message(a, 'hi'));

  const paths = () => sockets.map((ws) => new URL(ws.url()).pathname);
  await eventually(async () => {
    const open = sockets.filter((ws) => !ws.isClosed()).map((ws) => new URL(ws.url()).pathname);
    const bobId = await bob.page.evaluate(() => document.body.dataset.userId);
    assert.deepEqual(open.sort(), [`/ws/${aliceId}/${bobId}`, `/ws/global/${aliceId}`].sort());
  });
  assert.equal(paths().filter((p) => p.startsWith('/ws/global/')).length, 1, 'one global socket per tab');
  assert.equal(paths().filter((p) => p === '/ws/status').length, 0, 'the seed status socket is not used');
  assert.equal(paths().filter((p) => p.startsWith('/ws/room/')).length, 1);

  // The server's application-level ping gets a pong.
  assert.ok(globalRoute, 'the global socket was routed');
  globalRoute.send('{"type":"ping"}');
  await eventually(async () => assert.deepEqual(fromPage.map((f) => JSON.parse(f)), [{ type: 'pong' }]));

  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
});
