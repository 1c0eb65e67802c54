// axe-core on every main view — login, register, the app with its chat list and a private
// chat open (an edited message, reactions, a link and formatting), a room with a reply, a
// mention of the reader and a deleted message, the message menu, the reaction picker, the
// `@name` suggestions, the in-app search with results, the conversation menu, the
// create-room, members, delete and confirmation dialogs, the search page, /chat/{id}, the
// settings page, and the admin page with its sign-in-link and delete-account dialogs — in
// light and dark, on a desktop (1280×800) and a phone (390×844), in English and Russian. Any
// serious or critical violation fails the test, listed with the view and the elements it
// names. The screenshots (artifacts/view-*.png) are the views to look at after a change.
//
// axe is injected from the npm package with page.addScriptTag; the contexts bypass the
// Content-Security-Policy for that (the app's own scripts are external files either way).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import {
  DESKTOP, createRoom, entry, expectText, expectVisible, message, MOBILE, newUser, openChat, screenshot, send,
  socketFrames, startSession, stopSession, userId, watchProblems, assertNoProblems,
} from './helpers/browser.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let server;
let browser;
let aliceState;
let bobId;
let roomId;
/** Bots made by the audits (a room holds 10). */
let bots = 0;

before(async () => {
  ({ server, browser } = await startSession());
  // Alice and Bob talk privately and in a room, where Alice replies to Bob.
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  bobId = await userId(bob.page);
  const aliceId = await userId(alice.page);
  await openChat(alice.page, 'bob');
  await send(alice.page, 'Hi Bob, are you coming tonight?');
  await entry(bob.page, 'user', 'alice').click();
  await send(bob.page, 'Yes, at eight. See *you* at https://example.com/party');
  await expectVisible(message(alice.page, 'Yes, at eight.'));
  // An edited message with reactions.
  const question = Number(await message(alice.page, 'Hi Bob').getAttribute('data-id'));
  await socketFrames(alice.page, { user: bobId }, [{ type: 'edit', id: question, text: 'Hi Bob, are you coming tonight at 8?' }]);
  await socketFrames(bob.page, { user: aliceId }, [{ type: 'react', id: question, emoji: '👍' }, { type: 'react', id: question, emoji: '🎉' }]);
  await socketFrames(alice.page, { user: bobId }, [{ type: 'react', id: question, emoji: '👍' }]);

  roomId = await createRoom(alice.page, 'Garden club', { members: ['bob'] });
  await entry(bob.page, 'room', 'Garden club').click();
  await send(bob.page, 'The tomatoes are ripe.');
  await expectVisible(message(alice.page, 'The tomatoes are ripe.'));
  await message(alice.page, 'The tomatoes are ripe.').hover();
  await message(alice.page, 'The tomatoes are ripe.').locator('.reply-button').click();
  await send(alice.page, 'I will bring a basket.');
  await expectVisible(message(alice.page, 'I will bring a basket.').locator('.quote'));
  // A bot's alert and its recovery (a reply, the alert marked resolved).
  const created = await alice.page.evaluate(async (room) => {
    const response = await fetch(`/api/rooms/${encodeURIComponent(room)}/bots`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Greenhouse' }),
    });
    return response.json();
  }, roomId);
  for (const status of ['down', 'up']) {
    const query = `?id=greenhouse&status=${status}&title=Greenhouse&priority=5&tags=thermometer&click=http://greenhouse.lan/`;
    const response = await fetch(`${server.url}/hooks/${created.token}${query}`, { method: 'POST', body: `Greenhouse is ${status}` });
    assert.equal(response.status, 200);
  }
  await expectVisible(message(alice.page, 'Greenhouse is up').locator('.quote'));
  const [oops] = await socketFrames(alice.page, { room: roomId }, [{ type: 'message', text: 'oops, wrong room' }]);
  await socketFrames(alice.page, { room: roomId }, [{ type: 'delete', id: oops.id }]);
  await send(bob.page, '@alice can you bring seeds too?');
  await expectVisible(message(alice.page, 'can you bring seeds').and(alice.page.locator('.mentions-me')));
  aliceState = await alice.context.storageState();
  await alice.context.close();
  await bob.context.close();
});

after(() => stopSession({ server, browser }));

/** Serious and critical violations on the page as it is now, one line per element. */
async function audit(page, view) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((node) => `${view}: [${v.impact}] ${v.id} (${v.help}) at ${node.replace(/\s+/g, ' ')}`));
}

function contextOptions(viewport, colorScheme, storageState) {
  const phone = viewport === MOBILE;
  return {
    viewport, colorScheme, storageState, baseURL: server.url, bypassCSP: true, reducedMotion: 'reduce',
    isMobile: phone, hasTouch: phone, locale: 'en-US',
  };
}

async function openDialog(page, opener, dialog) {
  await opener.click();
  await expectVisible(page.locator(`${dialog}[open]`));
}

/** Sets the language cookie, as the switch would. */
async function chooseLanguage(context, lang) {
  await context.addCookies([{ name: 'lang', value: lang, url: server.url }]);
}

for (const colorScheme of ['light', 'dark']) {
  for (const [device, viewport] of [['desktop', DESKTOP], ['phone', MOBILE]]) {
    test(`no serious or critical axe violations: ${colorScheme}, ${device}`, { timeout: 180_000 }, async () => {
      const found = [];
      for (const lang of ['en', 'ru']) {
        const label = (view) => `${view} (${colorScheme}, ${device}, ${lang})`;
        const shot = (page, view) => screenshot(page, `view-${view}-${colorScheme}-${device}-${lang}`);

        const anonymous = await browser.newContext(contextOptions(viewport, colorScheme, undefined));
        await chooseLanguage(anonymous, lang);
        const guest = await anonymous.newPage();
        await guest.goto('/');
        await expectVisible(guest.locator('#login-username'));
        found.push(...await audit(guest, label('login')));
        await shot(guest, 'login');
        await guest.goto('/#register');
        await expectVisible(guest.locator('#register-username'));
        found.push(...await audit(guest, label('register')));
        await anonymous.close();

        const context = await browser.newContext(contextOptions(viewport, colorScheme, aliceState));
        await chooseLanguage(context, lang);
        const page = await context.newPage();
        const problems = watchProblems(page);
        await page.goto(`/index#user/${encodeURIComponent(bobId)}`);
        await expectVisible(message(page, 'Yes, at eight.'));
        await expectVisible(page.locator('#message-list .reaction').first());
        found.push(...await audit(page, label('private chat')));
        await shot(page, 'private');

        await page.goto(`/index#room/${encodeURIComponent(roomId)}`);
        await expectVisible(message(page, 'I will bring a basket.').locator('.quote'));
        await expectVisible(message(page, 'Greenhouse is down').locator('.alert-state'));
        await expectVisible(page.locator('#message-list .msg.is-deleted'));
        found.push(...await audit(page, label('room with a reply and a bot\'s alerts')));
        await shot(page, 'room');

        // The message menu, from its button (by keyboard: on a phone the button shows when
        // focused), and the reaction picker.
        const basket = message(page, 'I will bring a basket.');
        await basket.locator('.msg-more').focus();
        await page.keyboard.press('Enter');
        await expectVisible(page.locator('.popup-menu.message-menu'));
        found.push(...await audit(page, label('message menu')));
        await shot(page, 'message-menu');
        await page.keyboard.press('Escape');
        if (device === 'desktop') {
          await basket.hover();
          await basket.locator('.msg-action').first().click();
        } else {
          await basket.locator('.msg-more').focus();
          await page.keyboard.press('Enter');
          await page.locator('.popup-menu .menu-chip').last().click();
        }
        await expectVisible(page.locator('.popup.reaction-picker, .popup-panel'));
        found.push(...await audit(page, label('reaction picker')));
        await shot(page, 'reaction-picker');
        await page.keyboard.press('Escape');

        // `@name` suggestions.
        await page.locator('#composer-input').fill('@b');
        await page.locator('#composer-input').press('End');
        await page.locator('#composer-input').pressSequentially('o');
        await expectVisible(page.locator('#mention-list .mention-option'));
        found.push(...await audit(page, label('mention suggestions')));
        await shot(page, 'mentions');
        await page.locator('#composer-input').press('Escape');
        await page.locator('#composer-input').fill('');

        // The conversation menu.
        await page.locator('#chat-menu-button').click();
        await expectVisible(page.locator('#leave-room-button'));
        found.push(...await audit(page, label('conversation menu')));
        await shot(page, 'chat-menu');
        await page.keyboard.press('Escape');

        await openDialog(page, page.locator('#members-button'), '#members-dialog');
        await expectVisible(page.locator('#member-list .member').nth(1));
        await expectVisible(page.locator('#room-bots .bot-row'));
        found.push(...await audit(page, label('members dialog with bots')));
        await shot(page, 'members');
        // A new bot's token, shown once with the URLs for each tool.
        bots += 1;
        await page.locator('#bot-name').fill(`Bot ${bots}`);
        await page.locator('#room-bots .bot-form button').click();
        await expectVisible(page.locator('#room-bots .bot-token'));
        found.push(...await audit(page, label('a new bot\'s token')));
        await page.keyboard.press('Escape');
        await page.locator('#chat-menu-button').click();
        await openDialog(page, page.locator('#delete-room-button'), '#delete-dialog');
        found.push(...await audit(page, label('delete dialog')));
        await page.keyboard.press('Escape');
        await page.locator('#chat-menu-button').click();
        await openDialog(page, page.locator('#leave-room-button'), '#confirm-dialog');
        found.push(...await audit(page, label('confirmation dialog')));
        await shot(page, 'confirm');
        await page.keyboard.press('Escape');
        if (device === 'phone') await page.locator('#back-button').click();
        await openDialog(page, page.locator('#new-room'), '#room-dialog');
        found.push(...await audit(page, label('create-room dialog')));
        await page.keyboard.press('Escape');

        // The chat list, and the in-app search with people and messages found.
        await page.goto('/index');
        await expectVisible(entry(page, 'room', 'Garden club'));
        found.push(...await audit(page, label('chat list')));
        await shot(page, 'list');
        await page.locator('#search').fill('b');
        await page.locator('#search').fill('basket');
        await expectVisible(page.locator('#message-results mark'));
        found.push(...await audit(page, label('in-app search')));
        await shot(page, 'in-app-search');

        await page.goto('/search?q=b');
        await expectVisible(page.locator('.search-result'));
        found.push(...await audit(page, label('search page')));
        await shot(page, 'search');

        await page.goto(`/chat/${encodeURIComponent(bobId)}`);
        await expectVisible(message(page, 'Yes, at eight.'));
        found.push(...await audit(page, label('/chat/{id}')));

        // Alice, the first account, is the administrator.
        await page.goto('/settings');
        await expectVisible(page.locator('#session-list > li'));
        found.push(...await audit(page, label('settings')));
        await shot(page, 'settings');
        await page.goto('/admin');
        await expectVisible(page.locator('#account-list > li[data-name="bob"]'));
        await expectVisible(page.locator('#audit-list > li').first());
        found.push(...await audit(page, label('admin')));
        await shot(page, 'admin');
        await openDialog(page, page.locator('#account-list > li[data-name="bob"] [data-action="login-link"]'), '#link-dialog');
        found.push(...await audit(page, label('sign-in link dialog')));
        await page.keyboard.press('Escape');
        await openDialog(page, page.locator('#account-list > li[data-name="bob"] [data-action="delete"]'), '#delete-account-dialog');
        found.push(...await audit(page, label('delete-account dialog')));
        await page.keyboard.press('Escape');
        assertNoProblems(problems);
        await context.close();
      }

      if (found.length) console.log(found.map((f) => `# ${f}`).join('\n'));
      assert.deepEqual(found, [], `axe-core found ${found.length} serious or critical violations`);
    });
  }
}
