// Household administration in the browser: the admin page (accounts, invitations, the
// registration mode, disk use, the audit log), an invitation used end to end by a new browser, a
// one-time sign-in link opened by a fresh browser that then sets a new password, and the
// settings page's list of devices with "sign out" — in English and Russian, desktop and phone.
// The server runs with its own default registration mode (a new server: by invitation).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, DESKTOP, eventually, expectCount, expectHidden, expectText, expectVisible, MOBILE, openPerson,
  PASSWORD, register, screenshot, signIn, signInButton, startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;
let root;

before(async () => {
  ({ server, browser } = await startSession({ openRegistration: false }));
  // The first account of a new server is its administrator.
  root = await openPerson(browser, server);
  await register(root.page, 'root');
});

after(() => stopSession({ server, browser }));

/** Uploads a file for a private chat with root from `page`'s user (not sent yet: it counts). */
async function uploadToRoot(page, name, text) {
  const rootId = await root.page.evaluate(() => document.body.dataset.userId);
  const status = await page.evaluate(async ({ to, name, text }) => {
    const response = await fetch(`/api/files?to=${encodeURIComponent(to)}&name=${encodeURIComponent(name)}`, { method: 'POST', body: text });
    return response.status;
  }, { to: `user:${rootId}`, name, text });
  assert.equal(status, 201, `upload of ${name}`);
}

/** The admin page's card of an account. */
function card(page, name) {
  return page.locator('#account-list > li').filter({ has: page.locator('.account-name', { hasText: new RegExp(`^${name}$`) }) });
}

test('an invitation made on the admin page lets a new browser register, once', { timeout: 90_000 }, async () => {
  const { page, problems } = root;
  await page.goto('/index');
  await expectVisible(page.locator('#admin-link'));
  await Promise.all([page.waitForURL('**/admin'), page.locator('#admin-link').click()]);
  await expectVisible(card(page, 'root').locator('.badge-tag.admin'));
  await page.locator('#invite-uses').fill('1');
  await page.locator('#invite-create').click();
  await eventually(async () => assert.match(await page.locator('#invite-url').inputValue(), /\?invite=[0-9a-f]{64}#register$/));
  const link = await page.locator('#invite-url').inputValue();
  await expectText(page.locator('#invite-list > li').first().locator('.card-meta'), /1 of 1 use left/);
  await screenshot(page, 'admin-invite-desktop-en');

  // Without the link, nobody can register.
  const stranger = await openPerson(browser, server);
  await stranger.page.goto('/#register');
  await expectText(stranger.page.locator('#register-note'), 'New accounts need an invitation. Ask an administrator for a link.');
  await expectHidden(stranger.page.locator('#register-form'));
  await stranger.context.close();

  const guest = await openPerson(browser, server);
  await guest.page.goto(link);
  await expectVisible(guest.page.locator('#register-username'));
  await guest.page.locator('#register-username').fill('bob');
  await guest.page.locator('#register-password').fill(PASSWORD);
  await Promise.all([guest.page.waitForURL('**/index'), guest.page.locator('#register button[type="submit"]').click()]);
  await expectText(guest.page.locator('#me-name'), 'bob');
  assert.equal(await guest.page.locator('#admin-link').isVisible(), false, 'no admin link for a member');
  assertNoProblems(guest.problems);
  await guest.context.close();

  // Used up: the next browser reads why, and gets no form.
  const late = await openPerson(browser, server);
  await late.page.goto(link);
  await expectText(late.page.locator('#register-note'), 'This invitation has been used up. Ask for a new one.');
  await expectHidden(late.page.locator('#register-form'));
  await late.context.close();

  await page.reload();
  await expectVisible(card(page, 'bob'));
  await expectText(page.locator('#invite-list > li').first().locator('.card-meta'), /0 of 1 uses left/);
  await expectText(page.locator('#audit-list > li').first(), /root created an invitation/);
  // Revoke it; the list says there are none.
  await page.locator('#invite-list > li').first().getByRole('button', { name: /Revoke/ }).click();
  await expectText(page.locator('#invite-list > li').first(), 'No invitations.');
  assertNoProblems(problems);
});

test('a one-time sign-in link signs a fresh browser in, which sets a new password', { timeout: 90_000 }, async () => {
  const { page, problems } = root;
  await page.goto('/admin');
  await card(page, 'bob').locator('[data-action="login-link"]').click();
  await expectVisible(page.locator('#link-dialog[open]'));
  await eventually(async () => assert.ok(await page.locator('#link-qr').evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code shows'));
  const url = await page.locator('#link-url').inputValue();
  assert.match(url, /\/login-link\?token=[0-9a-f]{64}$/);
  await screenshot(page, 'admin-login-link-desktop-en');
  await page.keyboard.press('Escape');

  // As in an installed app, which has no address bar: the link is pasted on the sign-in page.
  const phone = await openPerson(browser, server, { viewport: MOBILE, isMobile: true, hasTouch: true });
  await phone.page.goto('/');
  await phone.page.locator('.link-signin summary').click();
  await phone.page.locator('#login-link').fill(url);
  await Promise.all([phone.page.waitForURL('**/login-link?token=*'), phone.page.locator('.link-signin button').click()]);
  await expectText(phone.page.locator('#link-name'), 'bob');
  await Promise.all([phone.page.waitForURL('**/settings'), phone.page.locator('#link-sign-in').click()]);
  await expectVisible(phone.page.locator('#welcome'));
  await expectHidden(phone.page.locator('#current-field'));
  await screenshot(phone.page, 'settings-after-link-phone-en');
  await phone.page.locator('#new-password').fill('bobs new password');
  await phone.page.locator('#repeat-password').fill('bobs new password');
  await phone.page.locator('#password-save').click();
  await expectText(phone.page.locator('#password-status'), /^Password changed\./);
  await expectHidden(phone.page.locator('#welcome'));
  await expectVisible(phone.page.locator('#current-field'));
  assertNoProblems(phone.problems);

  // The link worked once; the new password works anywhere.
  const again = await openPerson(browser, server);
  await again.page.goto(url);
  await expectText(again.page.locator('#link-problem'), /This sign-in link is not valid/);
  await expectHidden(again.page.locator('#link-form'));
  await signIn(again.page, 'bob', 'bobs new password');
  await again.context.close();
  await phone.context.close();
  assertNoProblems(problems);
});

test('the settings page lists devices and signs one out, or all the others', { timeout: 90_000 }, async () => {
  // Registration opened on the admin page, so carol registers without an invitation.
  const { page } = root;
  await page.goto('/admin');
  await page.locator('#registration-form input[value="open"]').check();
  await expectText(page.locator('#registration-status'), 'Registration is open now.');

  const laptop = await openPerson(browser, server);
  await register(laptop.page, 'carol');
  const tablet = await openPerson(browser, server);
  await signIn(tablet.page, 'carol', PASSWORD);
  const phone = await openPerson(browser, server, { viewport: MOBILE, isMobile: true, hasTouch: true });
  await signIn(phone.page, 'carol', PASSWORD);

  await Promise.all([laptop.page.waitForURL('**/settings'), laptop.page.locator('#settings-link').click()]);
  const devices = laptop.page.locator('#session-list > li');
  await expectCount(devices, 3);
  await expectCount(laptop.page.locator('#session-list > li.current'), 1);
  await expectText(laptop.page.locator('#session-list > li.current .card-title'), /This device$/);
  await screenshot(laptop.page, 'settings-sessions-desktop-en');
  // Sign one other device out: it is back at the login page on its next request.
  await devices.filter({ hasNot: laptop.page.locator('.current') }).first().getByRole('button', { name: /^Sign out/ }).click();
  await expectText(laptop.page.locator('#sessions-status'), 'That device was signed out.');
  await expectCount(devices, 2);
  await laptop.page.locator('#end-others').click();
  await expectText(laptop.page.locator('#sessions-status'), '1 other device was signed out.');
  await expectCount(devices, 1);
  for (const other of [tablet, phone]) {
    await other.page.goto('/index');
    await expectVisible(other.page.locator('#login-username'));
  }
  assertNoProblems(laptop.problems);
  for (const person of [laptop, tablet, phone]) await person.context.close();
});

test('the admin and settings pages in Russian on a phone, and in English on a phone', { timeout: 90_000 }, async () => {
  for (const lang of ['ru', 'en']) {
    const person = await openPerson(browser, server, { viewport: MOBILE, isMobile: true, hasTouch: true, locale: lang === 'ru' ? 'ru-RU' : 'en-US' });
    await person.context.addCookies([{ name: 'lang', value: lang, url: server.url }]);
    await signIn(person.page, 'root', PASSWORD);
    await person.page.goto('/admin');
    await expectText(person.page.locator('h1'), lang === 'ru' ? 'Администрирование' : 'Administration');
    await expectVisible(card(person.page, 'bob'));
    await person.page.locator('#invite-uses').fill('5');
    await person.page.locator('#invite-create').click();
    const uses = lang === 'ru' ? /осталось 5 из 5/ : /5 of 5 uses left/;
    await expectText(person.page.locator('#invite-list > li').first().locator('.card-meta'), uses);
    const overflow = await person.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px)`);
    await screenshot(person.page, `admin-phone-${lang}`);
    await card(person.page, 'bob').locator('[data-action="delete"]').click();
    await expectVisible(person.page.locator('#delete-account-dialog[open]'));
    await expectText(person.page.locator('#delete-account-dialog p').nth(1), lang === 'ru' ? /Её сообщения остаются/ : /Its messages stay/);
    await screenshot(person.page, `admin-delete-phone-${lang}`);
    await person.page.keyboard.press('Escape');
    await person.page.goto('/settings');
    await expectText(person.page.locator('#sessions-title'), lang === 'ru' ? 'Ваши устройства' : 'Your devices');
    await screenshot(person.page, `settings-phone-${lang}`);
    assertNoProblems(person.problems);
    await person.context.close();
  }
});

test('the admin page on a desktop disables and enables an account, and shows its disk use', { timeout: 60_000 }, async () => {
  const { page } = root;
  await page.setViewportSize(DESKTOP);
  await page.goto('/admin');
  await card(page, 'bob').locator('[data-action="disable"]').click();
  await expectVisible(card(page, 'bob').locator('.badge-tag.disabled'));
  assert.equal(await card(page, 'bob').locator('[data-action="login-link"]').isDisabled(), true);
  await expectText(page.locator('#audit-list > li').first(), /root disabled bob/);
  const bob = await openPerson(browser, server);
  await bob.page.goto('/');
  await bob.page.locator('#login-username').fill('bob');
  await bob.page.locator('#login-password').fill('bobs new password');
  await signInButton(bob.page).click();
  await expectText(bob.page.locator('#form-error'), 'This account is disabled. Ask an administrator.');
  await card(page, 'bob').locator('[data-action="enable"]').click();
  await expectHidden(card(page, 'bob').locator('.badge-tag.disabled'));
  await signIn(bob.page, 'bob', 'bobs new password');
  // Disk use: bob's upload shows under Files, beside the server's limits.
  await uploadToRoot(bob.page, 'note.txt', 'a note for root');
  await page.reload();
  await expectText(page.locator('#files-list > li').filter({ hasText: 'bob' }).locator('.card-meta'), /^1 file, 15 /);
  await expectText(page.locator('#files-summary'), /^Stored files take 15 .* of the 10 GB allowed/);
  await bob.context.close();
});

test('in Russian on a desktop: an invitation registers, a pasted sign-in link signs in, a device is signed out', { timeout: 90_000 }, async () => {
  const { page } = root;
  const api = (method, path, body) => page.evaluate(async ({ method, path, body }) => {
    const response = await fetch(path, { method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
    return { status: response.status, json: await response.json() };
  }, { method, path, body });
  await page.goto('/admin');
  await page.locator('#registration-form input[value="invite"]').check();
  await expectText(page.locator('#registration-status'), /invitation/);
  const invite = await api('POST', '/api/admin/invites', { uses: 1, hours: 24 });
  assert.equal(invite.status, 201);

  const russian = (options = {}) => openPerson(browser, server, { viewport: DESKTOP, locale: 'ru-RU', ...options });
  const first = await russian();
  await first.page.goto(invite.json.url);
  await expectText(first.page.locator('#register-title'), 'Регистрация');
  await first.page.locator('#register-username').fill('dima');
  await first.page.locator('#register-password').fill(PASSWORD);
  await Promise.all([first.page.waitForURL('**/index'), first.page.locator('#register button[type="submit"]').click()]);
  await expectText(first.page.locator('#me-name'), 'dima');
  const dimaId = await first.page.evaluate(() => document.body.dataset.userId);
  const used = await russian();
  await used.page.goto(invite.json.url);
  await expectText(used.page.locator('#register-note'), /использовано/i);
  await used.context.close();

  // A sign-in link, pasted on the Russian sign-in page of a second browser.
  const link = await api('POST', `/api/admin/users/${dimaId}/login-link`);
  assert.equal(link.status, 201);
  const second = await russian();
  await second.page.goto('/');
  await second.page.locator('.link-signin summary').click();
  await expectText(second.page.locator('label[for="login-link"]'), 'Вставьте ссылку, которую дал администратор');
  await second.page.locator('#login-link').fill(link.json.url);
  await Promise.all([second.page.waitForURL('**/login-link?token=*'), second.page.getByRole('button', { name: 'Открыть ссылку' }).click()]);
  await expectText(second.page.locator('#link-name'), 'dima');
  await expectText(second.page.locator('#link-sign-in'), 'Войти');
  await screenshot(second.page, 'login-link-desktop-ru');
  await Promise.all([second.page.waitForURL('**/settings'), second.page.locator('#link-sign-in').click()]);

  // Its devices, in Russian: the first browser is signed out from the second.
  await expectText(second.page.locator('#sessions-title'), 'Ваши устройства');
  const devices = second.page.locator('#session-list > li');
  await expectCount(devices, 2);
  await expectText(second.page.locator('#session-list > li.current .card-title'), /Это устройство$/);
  await devices.filter({ hasNot: second.page.locator('.current') }).getByRole('button', { name: /^Выйти на устройстве/ }).click();
  await expectText(second.page.locator('#sessions-status'), 'На этом устройстве выполнен выход.');
  await expectCount(devices, 1);
  await screenshot(second.page, 'settings-sessions-desktop-ru');
  await first.page.goto('/index');
  await expectVisible(first.page.locator('#login-username'));
  await expectText(first.page.locator('#login-title'), 'Вход');
  assertNoProblems(first.problems);

  // Dima uploads a file; deleting his account takes his line off the Files section at once.
  await uploadToRoot(second.page, 'dima.txt', 'from dima');
  await page.reload();
  const dimasFiles = page.locator('#files-list > li').filter({ hasText: 'dima' });
  await expectText(dimasFiles.locator('.card-meta'), /^1 file, 9 /);
  await card(page, 'dima').locator('[data-action="delete"]').click();
  await page.locator('#delete-account-confirm').click();
  await expectCount(card(page, 'dima'), 0);
  await expectCount(dimasFiles, 0);
  assertNoProblems(second.problems);
  for (const person of [first, second]) await person.context.close();
});
