// The language switch and Russian plurals: the switch in the app and on the login page
// (which has no script: a form post), the choice remembered in the cookie the server reads
// (so server-rendered pages follow it, over Accept-Language) and in localStorage (which puts
// the cookie back if it is lost), the open conversation kept across a switch, and counts in
// the forms Intl.PluralRules picks: "2 участника", "5 участников", "21 участник".

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, eventually, expectText, expectVisible, MOBILE, newUser, openChat, openPerson, screenshot, send,
  signInButton, startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

async function langCookie(context) {
  return (await context.cookies()).find((c) => c.name === 'lang')?.value ?? null;
}

/** Counted strings through the app's own i18n module, in the page's language. */
function plurals(page, key, counts) {
  return page.evaluate(async ({ key, counts }) => {
    const { plural } = await import('/static/js/i18n.js');
    return counts.map((n) => plural(key, n));
  }, { key, counts });
}

test('the switch in the app: remembered, followed by every page, the chat kept open', { timeout: 90_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  const a = alice.page;
  await a.locator('#new-room').click();
  await a.locator('#room-name').fill('Garden');
  await a.locator('#room-create').click();
  await expectText(a.locator('#chat-title'), 'Garden');
  await a.getByRole('button', { name: 'Add bob to the room' }).click();
  await expectText(a.locator('#chat-subtitle'), '2 members');
  await a.keyboard.press('Escape');
  await expectText(entry(a, 'room', 'Garden').locator('.item-sub'), '2 members');
  const address = a.url();

  // The switch: the page comes back in Russian, with the same room open.
  const footer = a.locator('.sidebar-footer .lang-switch');
  await expectVisible(footer.getByRole('button', { name: 'Русский' }));
  await Promise.all([a.waitForEvent('load'), footer.getByRole('button', { name: 'Русский' }).click()]);
  await expectText(a.locator('#chat-title'), 'Garden');
  assert.equal(a.url(), address, 'the open conversation is kept');
  assert.equal(await a.evaluate(() => document.documentElement.lang), 'ru');
  await expectText(a.locator('#chats-title'), 'Чаты');
  await expectText(a.locator('#chat-subtitle'), '2 участника');
  await expectText(entry(a, 'room', 'Garden').locator('.item-sub'), '2 участника');
  assert.equal(await langCookie(alice.context), 'ru');
  assert.equal(await a.evaluate(() => localStorage.getItem('mychat.lang')), 'ru');
  const body = await a.locator('body').textContent();
  assert.doesNotMatch(body, /Участников: \d/, 'no "Участников: N" phrasing');

  // Russian plural forms, through the helper the app uses.
  assert.deepEqual(await plurals(a, 'members', [1, 2, 5, 11, 21, 22, 25, 101, 111]), [
    '1 участник', '2 участника', '5 участников', '11 участников', '21 участник', '22 участника', '25 участников',
    '101 участник', '111 участников',
  ]);
  assert.deepEqual(await plurals(a, 'unread', [1, 3, 7]), [
    '1 непрочитанное сообщение', '3 непрочитанных сообщения', '7 непрочитанных сообщений',
  ]);

  // An unread badge's label counts in Russian too.
  await openChat(bob.page, 'alice');
  await send(bob.page, 'Привет');
  await send(bob.page, 'Как дела?');
  await expectText(entry(a, 'user', 'bob').locator('.badge'), '2');
  assert.equal(await entry(a, 'user', 'bob').locator('.badge').getAttribute('aria-label'), '2 непрочитанных сообщения');
  await screenshot(a, 'lang-ru-room-desktop');

  // Server-rendered pages follow the choice over the browser's English Accept-Language.
  await a.goto('/search?q=b');
  assert.equal(await a.evaluate(() => document.documentElement.lang), 'ru');
  await expectText(a.locator('h1'), 'Поиск пользователей');
  await a.goto('/logout');
  await expectVisible(a.getByRole('button', { name: 'Выйти' }));

  // The cookie lost (cleared by hand): localStorage remembers, puts it back, and the page
  // shows in Russian again after one reload.
  await alice.context.clearCookies({ name: 'lang' });
  await a.goto('/index');
  await eventually(async () => assert.equal(await a.evaluate(() => document.documentElement.lang), 'ru'));
  await expectText(a.locator('#chats-title'), 'Чаты');
  assert.equal(await langCookie(alice.context), 'ru');

  // And back to English.
  await Promise.all([a.waitForEvent('load'), a.locator('.sidebar-footer').getByRole('button', { name: 'English' }).click()]);
  await expectText(a.locator('#chats-title'), 'Chats');
  await expectText(entry(a, 'room', 'Garden').locator('.item-sub'), '2 members');
  assert.deepEqual(await plurals(a, 'members', [1, 2, 21]), ['1 member', '2 members', '21 members']);
  assert.equal(await a.evaluate(() => localStorage.getItem('mychat.lang')), 'en');
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
  await alice.context.close();
  await bob.context.close();
});

test('the switch on the login page works without script and wins over Accept-Language', { timeout: 60_000 }, async () => {
  for (const [label, viewport] of [['desktop', undefined], ['mobile', MOBILE]]) {
    const { context, page, problems } = await openPerson(browser, server, { locale: 'ru-RU', viewport });
    await page.goto('/');
    await expectText(page.locator('#login-title'), 'Вход');
    await screenshot(page, `lang-login-ru-${label}`);
    const english = page.locator('.lang-switch').getByRole('button', { name: 'English' });
    await expectVisible(english);
    if (viewport) {
      const box = await english.boundingBox();
      assert.ok(box.height >= 44, `a 44 px target on a phone, not ${box.height}`);
    }
    await Promise.all([page.waitForURL((url) => url.pathname === '/'), english.click()]);
    await expectText(page.locator('#login-title'), 'Sign in');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await langCookie(context), 'en');
    await screenshot(page, `lang-login-en-${label}`);
    // A wrong password's page stays in the chosen language.
    await page.locator('#login-username').fill('nobody');
    await page.locator('#login-password').fill('wrong password');
    await signInButton(page).click();
    await expectText(page.locator('#form-error'), 'Wrong user name or password.');
    assertNoProblems(problems, [/401/]);
    await context.close();
  }
});
