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
  await page.locator('#user-list > li').first().waitFor();
}

/** A person who registered and sees the app. */
export async function newUser(browser, server, name, options) {
  const person = await openPerson(browser, server, options);
  await register(person.page, name);
  return { ...person, name };
}

/** The sidebar entry of a user or room, by visible name. */
export function entry(page, kind, name) {
  const list = kind === 'user' ? '#user-list' : '#room-list';
  return page.locator(`${list} .list-item`).filter({ has: page.locator('.item-name', { hasText: name }) });
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
