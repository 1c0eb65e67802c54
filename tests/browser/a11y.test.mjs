// axe-core on every main view — login, register, the app with a private chat open, a room
// with a reply, the create-room, members and delete dialogs, the search page, /chat/{id},
// the settings page, and the admin page with its sign-in-link and delete-account dialogs —
// in light and dark, on a desktop (1280×800) and a phone (390×844), in English and Russian.
// Any serious or critical violation fails the test, listed with the view and the elements it
// names. The screenshots (artifacts/view-*.png) are the views to look at after a change.
//
// axe is injected from the npm package with page.addScriptTag; the contexts bypass the
// Content-Security-Policy for that (the app's own scripts are external files either way).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import {
  DESKTOP, entry, expectText, expectVisible, message, MOBILE, newUser, screenshot, send, startSession, stopSession,
  watchProblems, assertNoProblems,
} from './helpers/browser.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let server;
let browser;
let aliceState;
let bobId;
let roomId;

before(async () => {
  ({ server, browser } = await startSession());
  // Alice and Bob talk privately and in a room, where Alice replies to Bob.
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  bobId = await bob.page.evaluate(() => document.body.dataset.userId);
  await entry(alice.page, 'user', 'bob').click();
  await send(alice.page, 'Hi Bob, are you coming tonight?');
  await entry(bob.page, 'user', 'alice').click();
  await send(bob.page, 'Yes, at eight.');
  await expectVisible(message(alice.page, 'Yes, at eight.'));

  await alice.page.locator('#new-room').click();
  await alice.page.locator('#room-name').fill('Garden club');
  await alice.page.locator('#room-create').click();
  await expectText(alice.page.locator('#chat-title'), 'Garden club');
  roomId = decodeURIComponent(new URL(alice.page.url()).hash.replace('#room/', ''));
  await alice.page.locator('#members-button').click();
  await alice.page.getByRole('button', { name: 'Add bob to the room' }).click();
  await expectVisible(alice.page.locator('#member-list .member[data-id="' + bobId + '"]'));
  await alice.page.keyboard.press('Escape');
  await entry(bob.page, 'room', 'Garden club').click();
  await send(bob.page, 'The tomatoes are ripe.');
  await expectVisible(message(alice.page, 'The tomatoes are ripe.'));
  await message(alice.page, 'The tomatoes are ripe.').hover();
  await message(alice.page, 'The tomatoes are ripe.').locator('.reply-button').click();
  await send(alice.page, 'I will bring a basket.');
  await expectVisible(message(alice.page, 'I will bring a basket.').locator('.quote'));
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
        found.push(...await audit(page, label('private chat')));
        await shot(page, 'private');

        await page.goto(`/index#room/${encodeURIComponent(roomId)}`);
        await expectVisible(message(page, 'I will bring a basket.').locator('.quote'));
        found.push(...await audit(page, label('room with a reply')));
        await shot(page, 'room');

        await openDialog(page, page.locator('#members-button'), '#members-dialog');
        await expectVisible(page.locator('#member-list .member').nth(1));
        found.push(...await audit(page, label('members dialog')));
        await shot(page, 'members');
        await page.keyboard.press('Escape');
        await openDialog(page, page.locator('#delete-room-button'), '#delete-dialog');
        found.push(...await audit(page, label('delete dialog')));
        await page.keyboard.press('Escape');
        if (device === 'phone') await page.locator('#back-button').click();
        await openDialog(page, page.locator('#new-room'), '#room-dialog');
        found.push(...await audit(page, label('create-room dialog')));
        await page.keyboard.press('Escape');
        if (device === 'phone') await shot(page, 'list');

        await page.goto('/search?q=b');
        await expectVisible(page.locator('.search-result'));
        found.push(...await audit(page, label('search')));
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
