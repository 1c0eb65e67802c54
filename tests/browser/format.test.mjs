// Links and formatting in messages (issue 14): http, https and mailto addresses become links
// that open in a new tab without handing the opener or the referrer over; `javascript:` and
// every other scheme stay text; *bold*, _italic_, `code` and ``` code blocks ``` are the only
// markup, made as DOM nodes, so HTML in a message stays the text it is.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, entry, expectVisible, message, newUser, openChat, screenshot, send, startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await startSession());
});

after(() => stopSession({ server, browser }));

test('links and formatting, and nothing else', { timeout: 60_000 }, async () => {
  const alice = await newUser(browser, server, 'alice');
  const bob = await newUser(browser, server, 'bob');
  const a = alice.page;
  const b = bob.page;
  await openChat(a, 'bob');
  const messages = [
    'docs at https://example.com/a_b?c=1&d=(2). Mail mailto:bob@example.com, or see (http://example.org/x)',
    'javascript:alert(document.domain) and JAVASCRIPT:alert(1) and data:text/html,<b>x</b> and //evil.example',
    '*bold* and _italic_ and `code with *stars*` but not snake_case_name, 2*3*4 or a * b *',
    '```\nconst x = "<b>not bold</b>";\n  indented *still code*\n```\nafter the block',
    '<b>not bold</b> <a href="javascript:alert(1)">click</a> <img src=x onerror=alert(1)>',
  ];
  for (const text of messages) await send(a, text);
  await entry(b, 'user', 'alice').click();
  await expectVisible(message(b, 'after the block'));
  const text = (i) => b.locator('#message-list .msg .text').nth(i);
  await text(messages.length - 1).waitFor();
  await screenshot(b, 'format-desktop');

  const links = await b.locator('#message-list .msg .text a').evaluateAll((nodes) => nodes.map((n) => ({
    href: n.getAttribute('href'), text: n.textContent, target: n.target, rel: n.rel,
  })));
  assert.deepEqual(links, [
    { href: 'https://example.com/a_b?c=1&d=(2)', text: 'https://example.com/a_b?c=1&d=(2)', target: '_blank', rel: 'noopener noreferrer' },
    { href: 'mailto:bob@example.com', text: 'mailto:bob@example.com', target: '_blank', rel: 'noopener noreferrer' },
    { href: 'http://example.org/x', text: 'http://example.org/x', target: '_blank', rel: 'noopener noreferrer' },
  ]);
  // The whole text is still there, punctuation included.
  assert.equal(await text(0).textContent(), messages[0]);
  // Other schemes are text.
  assert.equal(await text(1).textContent(), messages[1]);
  assert.equal(await text(1).locator('a').count(), 0);

  // Bold, italic, inline code (no formatting inside it), and what is not formatting.
  const third = text(2);
  assert.deepEqual(await third.locator('strong').allTextContents(), ['bold']);
  assert.deepEqual(await third.locator('em').allTextContents(), ['italic']);
  assert.deepEqual(await third.locator('code').allTextContents(), ['code with *stars*']);
  assert.equal(await third.textContent(), 'bold and italic and code with *stars* but not snake_case_name, 2*3*4 or a * b *');

  // A code block: the lines as written, nothing inside it formatted.
  const block = text(3);
  assert.equal(await block.locator('pre code').textContent(), 'const x = "<b>not bold</b>";\n  indented *still code*');
  assert.equal(await block.locator('pre strong, pre em').count(), 0);

  // HTML is text.
  const html = text(4);
  assert.equal(await html.textContent(), messages[4]);
  assert.equal(await html.evaluate((n) => n.children.length), 0, 'no element made of it');
  const inert = await b.evaluate(() => ({
    bold: document.querySelectorAll('#message-list b').length,
    imgs: document.querySelectorAll('#message-list img').length,
    jsLinks: [...document.querySelectorAll('a')].filter((x) => /^\s*javascript:/i.test(x.getAttribute('href') ?? '')).length,
  }));
  assert.deepEqual(inert, { bold: 0, imgs: 0, jsLinks: 0 });

  // A link opens in a new tab, and the new page knows neither its opener nor where it came from.
  await b.route('https://example.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>ok</title>' }));
  const [popup] = await Promise.all([b.waitForEvent('popup'), b.locator('#message-list a').first().click()]);
  await popup.waitForLoadState();
  assert.deepEqual(await popup.evaluate(() => ({ opener: window.opener, referrer: document.referrer })), { opener: null, referrer: '' });
  await popup.close();
  assertNoProblems(alice.problems);
  assertNoProblems(bob.problems);
  await alice.context.close();
  await bob.context.close();
});
