// The login and registration page: it works through the real forms, says clearly what went
// wrong (wrong password, a taken name), speaks Russian to a Russian browser, and carries no
// CSP violations or script errors.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, DESKTOP, expectText, expectVisible, MOBILE, openPerson, PASSWORD, register, screenshot,
  signInButton, startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

test('the login page renders cleanly on desktop and phone', { timeout: 60_000 }, async () => {
  for (const [label, viewport] of [['desktop', DESKTOP], ['mobile', MOBILE]]) {
    const { context, page, problems } = await openPerson(browser, server, { viewport });
    await page.goto('/');
    await expectVisible(page.locator('#login-username'));
    assert.equal(await page.locator('#register-username').isVisible(), false, 'only one form shows at a time');
    assert.equal(await page.locator('#form-error').isVisible(), false, 'no error before anything was tried');
    await screenshot(page, `login-${label}`);
    // The switch to the registration form works without JavaScript (a fragment link).
    await page.getByRole('link', { name: 'Register' }).click();
    await expectVisible(page.locator('#register-username'));
    assert.equal(await page.locator('#login-username').isVisible(), false);
    assertNoProblems(problems);
    await context.close();
  }
});

test('wrong password and taken name are reported on the form', { timeout: 60_000 }, async () => {
  const { context, page, problems } = await openPerson(browser, server);
  await register(page, 'carol');
  // Sign out through the logout page's button.
  await page.goto('/logout');
  await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.locator('form[action="/logout"] button').click()]);

  await page.locator('#login-username').fill('carol');
  await page.locator('#login-password').fill('not the password');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/login')),
    signInButton(page).click(),
  ]);
  assert.equal(response.status(), 401);
  await expectText(page.locator('#form-error'), 'Wrong user name or password.');
  await expectVisible(page.locator('#form-error'));
  assert.equal(await page.locator('#login-username').inputValue(), 'carol', 'the name is kept');
  await screenshot(page, 'login-error-desktop');

  await page.goto('/#register');
  await page.locator('#register-username').fill('carol');
  await page.locator('#register-password').fill(PASSWORD);
  const [taken] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/register')),
    page.locator('#register button[type="submit"]').click(),
  ]);
  assert.equal(taken.status(), 409);
  await expectText(page.locator('#form-error'), 'That user name is taken.');
  await expectVisible(page.locator('#register-username'));

  // The right password gets in.
  await page.goto('/');
  await page.locator('#login-username').fill('carol');
  await page.locator('#login-password').fill(PASSWORD);
  await Promise.all([page.waitForURL('**/index'), signInButton(page).click()]);
  await expectVisible(page.locator('#me-name'));
  assertNoProblems(problems, [/status of 40[19]/]);
  await context.close();
});

test('a Russian browser gets the Russian interface', { timeout: 60_000 }, async () => {
  const { context, page, problems } = await openPerson(browser, server, { locale: 'ru-RU' });
  await page.goto('/');
  await expectText(page.locator('#login-title'), 'Вход');
  await register(page, 'дмитрий');
  await expectText(page.locator('#chats-title'), 'Чаты');
  assert.equal(await page.locator('#search').getAttribute('placeholder'), 'Поиск…');
  // Strings the scripts write come from static/js/i18n.js.
  await expectText(page.locator('#chat-list .list-empty'), 'Чатов пока нет. Найдите людей через поиск или создайте комнату кнопкой +.');
  assertNoProblems(problems);
  await context.close();
});
