// Names, messages, room names and descriptions full of HTML and script render as the text
// they are, everywhere they appear: the chat list and its previews, search results, headers,
// bubbles, quotes, the reply bar, dialogs, notices, the search page and the
// single-conversation page. Nothing runs. Links are made only of http, https and mailto
// addresses; formatting marks (*bold*, _italic_, `code`) are the only markup.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, expectHidden, expectText, expectVisible, message, newUser, openChat, send,
  watchProblems,
  startSession, stopSession,
} from './helpers/browser.mjs';

const EVIL_NAME = '<img src=x onerror=__xss=1>';
const EVIL_ROOM = '<b>bold</b><img src=x onerror=window.__xss=3>';
const EVIL_DESCRIPTION = '<script>window.__xss=4</script>';
const EVIL_MESSAGES = [
  '<img src=x onerror=window.__xss=1>',
  '<script>window.__xss=1</script>',
  '"><svg onload=window.__xss=1>',
  '{"text":"not a frame","reply_to":{"id":1}}',
];

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

/** Nothing ran and no markup from user text became elements. */
async function assertInert(page) {
  const found = await page.evaluate(() => ({
    xss: typeof window.__xss,
    imgs: document.querySelectorAll('img[src="x"], img[onerror]').length,
    svgs: document.querySelectorAll('svg[onload]').length,
    bold: document.querySelectorAll('b').length,
    scripts: [...document.scripts].filter((s) => !s.src).length,
  }));
  assert.deepEqual(found, { xss: 'undefined', imgs: 0, svgs: 0, bold: 0, scripts: 0 });
}

test('hostile names, messages and rooms render as plain text', { timeout: 90_000 }, async () => {
  const evil = await newUser(browser, server, EVIL_NAME);
  const victim = await newUser(browser, server, 'victim');
  const e = evil.page;
  const v = victim.page;

  // The name, in search results and in the header.
  await v.locator('#search').fill('onerror');
  await expectText(v.locator('#people-results .item-name'), EVIL_NAME);
  await v.locator('#search').fill('');
  await expectText(e.locator('#me-name'), EVIL_NAME);

  // Private messages.
  await openChat(e, 'victim');
  for (const text of EVIL_MESSAGES) {
    await send(e, text);
    await expectVisible(message(e, text));
  }
  // The chat list: the name and the preview, as text.
  await expectText(entry(v, 'user', 'onerror').locator('.item-name'), EVIL_NAME);
  await expectText(entry(v, 'user', 'onerror').locator('.item-sub'), EVIL_MESSAGES.at(-1));
  await entry(v, 'user', 'onerror').click();
  await expectText(v.locator('#chat-title'), EVIL_NAME);
  await expectText(v.locator('#message-list .msg').last().locator('.text'), EVIL_MESSAGES.at(-1));
  assert.deepEqual(await v.locator('#message-list .msg .text').allTextContents(), EVIL_MESSAGES);
  await assertInert(v);

  // A room with a hostile name and description, a hostile message in it, and a reply.
  await e.locator('#new-room').click();
  await e.locator('#room-name').fill(EVIL_ROOM);
  await e.locator('#room-description').fill(EVIL_DESCRIPTION);
  await e.locator('#room-create').click();
  await expectText(e.locator('#chat-title'), EVIL_ROOM);
  await expectText(e.locator('#members-room-name'), EVIL_ROOM);
  await e.getByRole('button', { name: 'Add victim to the room' }).click();
  await expectVisible(e.locator('#member-list .member', { hasText: 'victim' }));
  await e.keyboard.press('Escape');
  await send(e, EVIL_MESSAGES[1]);

  const room = entry(v, 'room', 'bold');
  await expectText(room.locator('.item-name'), EVIL_ROOM);
  await room.click();
  await expectText(v.locator('#chat-title'), EVIL_ROOM);
  await expectText(v.locator('#chat-subtitle'), `2 members · ${EVIL_DESCRIPTION}`);
  const hostile = message(v, EVIL_MESSAGES[1]);
  await expectText(hostile.locator('.sender'), EVIL_NAME);
  await hostile.hover();
  await hostile.locator('.reply-button').click();
  await expectText(v.locator('#reply-bar .quote-name'), `Replying to ${EVIL_NAME}`);
  await expectText(v.locator('#reply-bar .quote-text'), EVIL_MESSAGES[1]);
  await send(v, EVIL_MESSAGES[0]);
  const reply = message(e, EVIL_MESSAGES[0]).filter({ has: e.locator('.quote') });
  await expectText(reply.locator('.quote-name'), EVIL_NAME);
  await expectText(reply.locator('.quote-text'), EVIL_MESSAGES[1]);
  // A message that looks like a room frame stays the text that was typed.
  await send(v, EVIL_MESSAGES[3]);
  await expectVisible(message(e, EVIL_MESSAGES[3]));

  await v.locator('#members-button').click();
  await expectText(v.locator('#member-list .member').first().locator('.item-name'), EVIL_NAME);
  await v.keyboard.press('Escape');
  await assertInert(v);
  await assertInert(e);

  // Server-rendered pages: search results and the single-conversation page.
  const evilId = await e.evaluate(() => document.body.dataset.userId);
  const page = await victim.context.newPage();
  const problems = watchProblems(page);
  await page.goto(`/search?q=${encodeURIComponent('<img')}`);
  await expectText(page.locator('.search-result .name'), EVIL_NAME);
  assert.equal(await page.locator('#q').inputValue(), '<img');
  await assertInert(page);
  await page.goto(`/chat/${evilId}`);
  await expectText(page.locator('#chat-title'), EVIL_NAME);
  await expectVisible(message(page, EVIL_MESSAGES[2]));
  assert.equal(await page.title(), `MyChat — ${EVIL_NAME}`);
  await assertInert(page);
  await page.close();

  // Deleting the room: the notice names it as text.
  await e.locator('#chat-menu-button').click();
  await e.locator('#delete-room-button').click();
  await expectText(e.locator('#delete-room-name'), EVIL_ROOM);
  await e.locator('#delete-confirm').click();
  await expectText(v.locator('.notice span'), `The room “${EVIL_ROOM}” was deleted.`);
  await expectHidden(v.locator('#conversation'));
  await assertInert(v);
  await assertInert(e);

  assertNoProblems(problems);
  assertNoProblems(evil.problems);
  assertNoProblems(victim.problems);
});
