// Photos and files: picking several files, pasting a screenshot, dropping files on the
// conversation, a progress bar and cancel on a slow upload, the server's refusal shown, and
// attachments in history with their aspect ratio reserved; the viewer on a desktop (arrows,
// keys, close) and on a phone (swipe, Back closes it).
//
// The data files are read (sqlite3) to check that refusals and cancels stored nothing and
// that a sent message claimed its uploads.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import {
  assertNoProblems, createRoom, DESKTOP, entry, eventually, expectCount, expectHidden, expectText, expectVisible, MOBILE,
  newUser, openChat, openPerson, screenshot, send, signIn, startSession, stopSession,
} from './helpers/browser.mjs';

let server;
let browser;
let alice;
let bob;
let roomId;

before(async () => {
  ({ server, browser } = await startSession({ args: ['--user-file-quota', '6M', '--log', 'info'] }));
  alice = await newUser(browser, server, 'alice');
  bob = await newUser(browser, server, 'bob');
});

after(() => stopSession({ server, browser }));

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i += 1) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A w×h PNG of one colour. */
function png(w, h, [r, g, b]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x += 1) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

function sql(file, statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(server.dataDir, file), statement], { encoding: 'utf8' }).trim();
}

/** Puts `files` into the page's File list of a DataTransfer and fires `type` events. */
async function fireWithFiles(page, selector, kind, files) {
  await page.evaluate(({ selector, kind, files }) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    const target = document.querySelector(selector);
    if (kind === 'paste') {
      target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    } else {
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    }
  }, { selector, kind, files: files.map((f) => ({ ...f, bytes: Array.from(f.bytes) })) });
}

const tray = (page) => page.locator('#upload-tray > li');

test('files are picked, pasted and dropped, shown with progress, cancelled and refused', { timeout: 90_000 }, async () => {
  const a = alice.page;
  roomId = await createRoom(a, 'Photos', { members: ['bob'] });
  await expectHidden(a.locator('#room-dialog'));
  await expectText(a.locator('#chat-title'), 'Photos');

  // Picking two photos at once: both upload and show a preview.
  await a.locator('#photo-input').setInputFiles([
    { name: 'wide.png', mimeType: 'image/png', buffer: png(1200, 600, [220, 30, 30]) },
    { name: 'tall.png', mimeType: 'image/png', buffer: png(300, 600, [30, 30, 220]) },
  ]);
  await expectCount(tray(a), 2);
  await expectCount(a.locator('#upload-tray li.ready .upload-preview img'), 2);
  // Pasting a screenshot, dropping a document.
  await fireWithFiles(a, '#composer-input', 'paste', [{ name: 'screenshot.png', type: 'image/png', bytes: png(200, 100, [30, 160, 30]) }]);
  await fireWithFiles(a, '#conversation', 'drop', [{ name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('shopping list\n') }]);
  await expectCount(a.locator('#upload-tray li.ready'), 4);
  await expectText(a.locator('#upload-tray li.ready', { hasText: 'notes.txt' }).locator('.upload-status'), /ready to send/);
  await expectHidden(a.locator('#drop-zone'));
  await screenshot(a, 'files-tray-desktop');

  // A slow upload shows its progress and can be cancelled: nothing is stored.
  const rowsBefore = sql('chathistory.db', 'SELECT count(*) FROM files');
  const cdp = await alice.context.newCDPSession(a);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
  await a.locator('#attach-input').setInputFiles([{ name: 'video.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4 << 20, 7) }]);
  const slow = a.locator('#upload-tray li', { hasText: 'video.bin' });
  await eventually(async () => {
    const value = await slow.locator('progress').evaluate((p) => p.value);
    assert.ok(value > 0 && value < 100, `progress ${value}`);
  }, { timeout: 20_000 });
  await slow.locator('.upload-cancel').click();
  await expectCount(slow, 0);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await eventually(() => assert.match(server.logText(), /upload cut short/), { timeout: 20_000 });
  assert.equal(sql('chathistory.db', 'SELECT count(*) FROM files'), rowsBefore, 'a cancelled upload stores nothing');

  // A refusal shows the server's sentence: alice's 6 MiB are nearly used up.
  await a.locator('#attach-input').setInputFiles([{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(6 << 20, 9) }]);
  const refused = a.locator('#upload-tray li.failed', { hasText: 'big.bin' });
  await expectText(refused.locator('.upload-status'), /^Not uploaded: your files take .* of your 6 MiB; this one \(6 MiB\) does not fit/);
  await screenshot(a, 'files-refused-desktop');
  await refused.locator('.upload-cancel').click();

  // Sent with a caption: the message carries the four uploads.
  await send(a, 'Holiday pictures');
  await expectCount(tray(a), 0);
  await expectVisible(a.locator('#message-list .msg .text', { hasText: 'Holiday pictures' }));
  // Live, in the sender's own bubble: the message carries its files.
  const sent = a.locator('#message-list .msg', { hasText: 'Holiday pictures' });
  await expectCount(sent.locator('.attachment-image'), 3);
  await expectCount(sent.locator('.attachment-file'), 1);
  const messageId = sql('rooms.db', `SELECT max(id) FROM room_messages WHERE room_id = '${roomId}'`);
  assert.equal(sql('chathistory.db', `SELECT count(*) FROM files WHERE message_id = ${messageId}`), '4');
  assertNoProblems(alice.problems, [/Failed to load resource: the server responded with a status of 413/]);
});

test('attachments show in history with their shape, and the viewer moves between photos', { timeout: 60_000 }, async () => {
  const b = bob.page;
  await b.reload();
  await entry(b, 'room', 'Photos').click();
  const bubble = b.locator('#message-list .msg', { hasText: 'Holiday pictures' });
  await expectCount(bubble.locator('.attachment-image'), 3);
  // The box has the photo's aspect ratio before it loads: 1200×600 is twice as wide as high.
  const wide = bubble.locator('.attachment-img[alt="wide.png"]');
  assert.equal(await wide.getAttribute('width'), '300');
  assert.equal(await wide.getAttribute('height'), '150');
  const tall = bubble.locator('.attachment-img[alt="tall.png"]');
  assert.equal(await tall.getAttribute('width'), '160');
  assert.equal(await tall.getAttribute('height'), '320');
  await expectText(bubble.locator('.attachment-file .file-name'), 'notes.txt');
  assert.match(await bubble.locator('.attachment-file').getAttribute('href'), /^\/api\/files\/\d+$/);
  await eventually(async () => assert.ok(await wide.evaluate((img) => img.complete && img.naturalWidth > 0)));
  await screenshot(b, 'files-bubble-desktop');

  // The viewer goes through the photos in the order they were uploaded.
  const names = await bubble.locator('.attachment-img').evaluateAll((imgs) => imgs.map((img) => img.alt));
  const widths = { 'wide.png': 1200, 'tall.png': 300, 'screenshot.png': 200 };
  await bubble.locator('.attachment-image').first().click();
  const viewer = b.locator('#viewer');
  await expectVisible(viewer);
  await expectText(b.locator('#viewer-count'), '1 of 3');
  await expectText(b.locator('#viewer-name'), names[0]);
  assert.ok(await b.locator('#viewer-prev').isDisabled());
  await b.keyboard.press('ArrowRight');
  await expectText(b.locator('#viewer-name'), names[1]);
  await b.locator('#viewer-next').click();
  await expectText(b.locator('#viewer-count'), '3 of 3');
  await expectText(b.locator('#viewer-name'), names[2]);
  assert.ok(await b.locator('#viewer-next').isDisabled());
  assert.match(await b.locator('#viewer-download').getAttribute('href'), /^\/api\/files\/\d+$/);
  await eventually(async () => assert.equal(await b.locator('#viewer-image').evaluate((img) => img.complete && img.naturalWidth), widths[names[2]]));
  await screenshot(b, 'files-viewer-desktop');
  await b.keyboard.press('Escape');
  await expectHidden(viewer);
  assert.ok(b.url().includes(`#room/${roomId}`), 'the room stays open');
  await expectVisible(bubble);
  assertNoProblems(bob.problems);
});

test('on a phone the viewer swipes and Back closes it', { timeout: 60_000 }, async () => {
  const phone = await openPerson(browser, server, { viewport: MOBILE, isMobile: true, hasTouch: true });
  const p = phone.page;
  await signIn(p, 'bob');
  await entry(p, 'room', 'Photos').click();
  await expectVisible(p.locator('#camera-button'));
  const bubble = p.locator('#message-list .msg', { hasText: 'Holiday pictures' });
  await bubble.locator('.attachment-image').nth(1).click();
  await expectText(p.locator('#viewer-count'), '2 of 3');
  const box = await p.locator('#viewer-stage').boundingBox();
  const y = box.y + box.height / 2;
  await p.locator('#viewer-stage').dispatchEvent('pointerdown', { clientX: box.x + box.width - 40, clientY: y });
  await p.locator('#viewer-stage').dispatchEvent('pointerup', { clientX: box.x + 40, clientY: y });
  await expectText(p.locator('#viewer-count'), '3 of 3');
  await screenshot(p, 'files-viewer-phone');
  await p.goBack();
  await expectHidden(p.locator('#viewer'));
  await expectVisible(bubble);
  assert.ok(p.url().includes('#room/'), 'Back closed the viewer, not the room');
  assertNoProblems(phone.problems);
  await phone.context.close();
});

/** A mono 16-bit PCM WAV of `seconds` of a 440 Hz tone at 8 kHz. */
function wav(seconds) {
  const rate = 8000;
  const samples = rate * seconds;
  const out = Buffer.alloc(44 + samples * 2);
  out.write('RIFF', 0);
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36);
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i += 1) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return out;
}

test('a voice note sent in a private chat plays in the other side\'s bubble', { timeout: 60_000 }, async () => {
  const a = alice.page;
  const b = bob.page;
  await openChat(a, 'bob');
  await a.locator('#attach-input').setInputFiles([{ name: 'voice note.wav', mimeType: 'audio/wav', buffer: wav(3) }]);
  await expectCount(a.locator('#upload-tray li.ready'), 1);
  await send(a, 'listen to this');
  await expectCount(tray(a), 0);
  await openChat(b, 'alice');
  const bubble = b.locator('#message-list .msg', { hasText: 'listen to this' });
  const player = bubble.locator('audio.attachment-audio');
  await expectCount(player, 1);
  await expectText(bubble.locator('.attachment-file .file-name'), 'voice note.wav');
  assert.equal(await player.getAttribute('preload'), 'none', 'nothing is fetched before play');
  // Loading it as the player does: the served bytes decode as 3 s of audio, and a seek lands
  // (the server answers ranges).
  const state = await player.evaluate(async (audio) => {
    audio.preload = 'auto';
    audio.load();
    await new Promise((resolve, reject) => {
      audio.addEventListener('canplay', resolve, { once: true });
      audio.addEventListener('error', () => reject(new Error(`media error ${audio.error?.code}`)), { once: true });
    });
    audio.currentTime = 2;
    await new Promise((resolve) => audio.addEventListener('seeked', resolve, { once: true }));
    return { duration: audio.duration, time: audio.currentTime };
  });
  assert.ok(Math.abs(state.duration - 3) < 0.05, `duration ${state.duration}`);
  assert.ok(Math.abs(state.time - 2) < 0.05, `seeked to ${state.time}`);
  const messageId = sql('chathistory.db', 'SELECT max(id) FROM messages');
  assert.equal(sql('chathistory.db', `SELECT mime FROM files WHERE message_id = ${messageId} AND message_kind = 'private'`), 'audio/wav');
  await screenshot(b, 'files-audio-private-desktop');
  assertNoProblems(alice.problems, [/Failed to load resource: the server responded with a status of 413/]);
  assertNoProblems(bob.problems);
});

test('on a phone: the camera button picks a photo, a file shows its progress, both are sent and viewed', { timeout: 90_000 }, async () => {
  const phone = await newUser(browser, server, 'erin', { viewport: MOBILE, isMobile: true, hasTouch: true });
  const p = phone.page;
  await openChat(p, 'alice');
  // The camera button opens the camera's picker (capture), which gives a photo.
  assert.equal(await p.locator('#camera-input').getAttribute('capture'), 'environment');
  const [chooser] = await Promise.all([p.waitForEvent('filechooser'), p.locator('#camera-button').tap()]);
  await chooser.setFiles([{ name: 'porch.png', mimeType: 'image/png', buffer: png(800, 600, [200, 120, 40]) }]);
  await expectCount(p.locator('#upload-tray li.ready .upload-preview img'), 1);
  // A bigger file on a slow uplink: its progress moves, then it is ready.
  const cdp = await phone.context.newCDPSession(p);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
  await p.locator('#attach-input').setInputFiles([{ name: 'report.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1536 * 1024, 32)]) }]);
  const slow = p.locator('#upload-tray li', { hasText: 'report.pdf' });
  await eventually(async () => {
    const value = await slow.locator('progress').evaluate((node) => node.value);
    assert.ok(value > 0 && value < 100, `progress ${value}`);
  }, { timeout: 20_000 });
  await screenshot(p, 'files-progress-mobile');
  await expectText(slow.locator('.upload-status'), /ready to send/, { timeout: 30_000 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await p.locator('#composer-input').fill('the porch, and the report');
  await p.locator('#composer-input').press('Enter');
  await expectCount(tray(p), 0);
  const bubble = p.locator('#message-list .msg', { hasText: 'the porch, and the report' });
  await expectCount(bubble.locator('.attachment-image'), 1);
  await expectText(bubble.locator('.attachment-file .file-name'), 'report.pdf');
  // Alice gets both; the phone opens the photo full screen, and Back closes it.
  await expectVisible(alice.page.locator('#chat-list .list-item', { hasText: 'erin' }));
  await bubble.locator('.attachment-image').tap();
  await expectVisible(p.locator('#viewer'));
  await expectText(p.locator('#viewer-name'), 'porch.png');
  await eventually(async () => assert.equal(await p.locator('#viewer-image').evaluate((img) => img.complete && img.naturalWidth), 800, 'the original, full size'));
  await screenshot(p, 'files-viewer-single-phone');
  await p.goBack();
  await expectHidden(p.locator('#viewer'));
  await expectVisible(bubble);
  assertNoProblems(phone.problems);
  await phone.context.close();
});
