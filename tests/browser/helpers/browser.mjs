// Headless Chromium (Debian's) through playwright-core, and what the tests share: users who
// register through the real form, polling assertions, console/CSP error capture, screenshots.

import { startServer } from './server.mjs';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };
export const PASSWORD = 'correct horse battery';

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * Retries `check` (which throws while the condition does not hold) until it passes or the
 * timeout ends; then throws its last error. For conditions no locator auto-waits for.
 */
export async function eventually(check, { timeout = 10_000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Waits until the locator's text content equals (string) or matches (RegExp) `expected`. */
export async function expectText(locator, expected, options) {
  await eventually(async () => {
    const text = (await locator.textContent({ timeout: 1000 })) ?? '';
    if (expected instanceof RegExp) assert.match(text, expected);
    else assert.equal(text.trim(), expected);
  }, options);
}

export async function expectCount(locator, count, options) {
  await eventually(async () => assert.equal(await locator.count(), count), options);
}

export async function expectVisible(locator, options = {}) {
  await locator.first().waitFor({ state: 'visible', timeout: options.timeout ?? 10_000 });
}

export async function expectHidden(locator, options = {}) {
  await locator.first().waitFor({ state: 'hidden', timeout: options.timeout ?? 10_000 });
}

/**
 * Collects what a page reports as wrong: console errors (CSP violations are among them) and
 * uncaught exceptions. `allow` lists patterns that are expected (a test that stops the
 * server expects failed connections).
 */
export function watchProblems(page) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

export function assertNoProblems(problems, allow = []) {
  const real = problems.filter((p) => !allow.some((pattern) => pattern.test(p)));
  assert.deepEqual(real, [], `the page reported problems:\n${real.join('\n')}`);
}

/** A new browser context and page for one person. */
export async function openPerson(browser, server, options = {}) {
  const { viewport = DESKTOP, colorScheme = 'light', locale = 'en-US', isMobile = false, hasTouch = false } = options;
  const context = await browser.newContext({ viewport, colorScheme, locale, isMobile, hasTouch, baseURL: server.url });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems = watchProblems(page);
  return { context, page, problems };
}

/** Registers through the real form and waits for the app. */
export async function register(page, name, password = PASSWORD) {
  await page.goto('/#register');
  await page.locator('#register-username').fill(name);
  await page.locator('#register-password').fill(password);
  await Promise.all([
    page.waitForURL('**/index'),
    page.locator('#register button[type="submit"]').click(),
  ]);
  // The chat list is loaded: its entries, or the note that there are none yet.
  await page.locator('#chat-list > li').first().waitFor();
}

/** The sign-in form's button (the sign-in page also has a form for a pasted login link). */
export function signInButton(page) {
  return page.locator('form[action="/login"] button[type="submit"]');
}

/** Signs an existing account in through the real form and waits for the app. */
export async function signIn(page, name, password = PASSWORD) {
  await page.goto('/');
  await page.locator('#login-username').fill(name);
  await page.locator('#login-password').fill(password);
  await Promise.all([page.waitForURL('**/index'), signInButton(page).click()]);
}

/** A person who registered and sees the app. */
export async function newUser(browser, server, name, options) {
  const person = await openPerson(browser, server, options);
  await register(person.page, name);
  return { ...person, name };
}

/** The chat list's entry of a person or room, by visible name. */
export function entry(page, kind, name) {
  return page.locator(`#chat-list .list-item[data-kind="${kind}"]`).filter({ has: page.locator('.item-name', { hasText: name }) });
}

/**
 * Opens the private chat with `name` as a person would: through the search box (someone
 * never talked with is not in the chat list), then empties the box again.
 */
export async function openChat(page, name) {
  const search = page.locator('#search');
  await search.fill(name);
  const found = page.locator('#chat-list .list-item[data-kind="user"], #people-results .list-item')
    .filter({ has: page.locator('.item-name', { hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
  await found.first().click();
  await page.locator('#chat-title').filter({ hasText: name }).waitFor();
  await search.fill('');
}

/**
 * Creates a room through its dialog; the dialog for adding people opens at once, where
 * `members` are added; it is closed after.
 */
export async function createRoom(page, name, { description = '', members = [] } = {}) {
  await page.locator('#new-room').click();
  await page.locator('#room-name').fill(name);
  if (description) await page.locator('#room-description').fill(description);
  await page.locator('#room-create').click();
  await page.locator('#chat-title').filter({ hasText: name }).waitFor();
  await page.locator('#members-dialog[open]').waitFor();
  for (const member of members) {
    await page.getByRole('button', { name: `Add ${member} to the room`, exact: true }).click();
    await page.locator('#member-list .member', { hasText: member }).first().waitFor();
  }
  await page.keyboard.press('Escape');
  await page.locator('#members-dialog').waitFor({ state: 'hidden' });
  return decodeURIComponent(new URL(page.url()).hash.replace('#room/', ''));
}

/** Types a message in the composer and sends it with Enter. */
export async function send(page, text) {
  const input = page.locator('#composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/** The message bubbles whose text is exactly `text`. */
export function message(page, text) {
  return page.locator('#message-list .msg').filter({ has: page.locator('.text', { hasText: text }) });
}

/**
 * Sends `count` messages into a room from the page's own socket, one at a time: each waits
 * for its echo, and one refused by the rate limit is sent again after a pause.
 */
export async function flood(page, room, count) {
  await page.evaluate(async ({ room, count }) => {
    const me = document.body.dataset.userId;
    const ws = new WebSocket(`ws://${location.host}/ws/room/${room}/${me}`);
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    const next = () => new Promise((resolve) => { ws.onmessage = (event) => resolve(JSON.parse(event.data)); });
    for (let i = 1; i <= count; i += 1) {
      for (;;) {
        const answer = next();
        ws.send(JSON.stringify({ text: `filler ${i}` }));
        if ((await answer).type === 'room_message') break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    ws.close();
  }, { room, count });
}

/**
 * Sends frames on a socket of the page's own user to a conversation (`{room}` or `{user}`:
 * the other person's id), one at a time, each after the answer to the one before (its echo,
 * the changed message, or an error). Returns the answers. For setting a scene quickly; the
 * app's own sending is what the tests test.
 */
export async function socketFrames(page, where, frames) {
  return page.evaluate(async ({ where, frames }) => {
    const me = document.body.dataset.userId;
    const path = where.room ? `/ws/room/${where.room}/${me}` : `/ws/${me}/${where.user}`;
    const ws = new WebSocket(`ws://${location.host}${path}`);
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    const answers = [];
    const answer = () => new Promise((resolve) => {
      ws.onmessage = (event) => {
        const data = JSON.parse(event.data);
        if (['message', 'room_message', 'message_updated', 'room_message_updated', 'error'].includes(data.type)) resolve(data);
      };
    });
    for (const frame of frames) {
      const next = answer();
      ws.send(JSON.stringify(frame));
      answers.push(await next);
    }
    ws.close();
    return answers;
  }, { where, frames });
}

/**
 * A switch for one person's network: `down()` cuts every WebSocket of the context (they are
 * routed through here) and takes the context offline, so HTTP fails too; `up()` lets both
 * through again. (Going offline alone leaves open WebSockets open in Chromium.) Install it
 * before the sockets it should control are opened (a reload does that).
 */
export async function networkSwitch(context) {
  let down = false;
  const open = new Set();
  await context.routeWebSocket(/\/ws\//, (ws) => {
    if (down) {
      ws.close({ code: 1001, reason: 'offline' });
      return;
    }
    const upstream = ws.connectToServer();
    open.add(ws);
    ws.onMessage((frame) => upstream.send(frame));
    upstream.onMessage((frame) => ws.send(frame));
    ws.onClose(() => { open.delete(ws); upstream.close(); });
    upstream.onClose(() => { open.delete(ws); ws.close(); });
  });
  return {
    async down() {
      down = true;
      await context.setOffline(true);
      for (const ws of [...open]) {
        open.delete(ws);
        ws.close({ code: 1001, reason: 'offline' });
      }
    },
    async up() {
      down = false;
      await context.setOffline(false);
    },
  };
}

/** The id of the user a page is logged in as. */
export function userId(page) {
  return page.evaluate(() => document.body.dataset.userId);
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** A server and a browser for one test file: start them in `before`, stop them in `after`. */
export async function startSession(serverOptions) {
  const server = await startServer(serverOptions);
  const browser = await launchBrowser();
  return { server, browser };
}

export async function stopSession({ server, browser }) {
  await browser?.close();
  await server?.dispose();
}
