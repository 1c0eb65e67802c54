// Messages on their way: each gets a client-chosen id and waits in the conversation's outbox
// (kept in localStorage, so a reload or a closed tab loses nothing) until the server echoes
// it back stored. Frames that expect an answer — messages, edits, deletions, reactions — go
// out one at a time over the conversation's socket, so each answer (an echo, an update or an
// error frame) belongs to the frame in flight, and a queue sent after a reconnect goes in
// order and within the rate limit. A message resent after a lost echo is stored once: the
// server knows its client id. One it refuses stays in the outbox with the error until the
// reader retries or deletes it; "too many messages" is waited out and retried.

import { loadStored, saveStored } from './storage.js';

/** An answer this late means the frame was lost with its connection: try the next. */
const ANSWER_TIMEOUT_MS = 10_000;
const TRANSIENT = /^(too many messages|message not saved)/;

/** A fresh client id: 24 hex digits from the browser's random source. */
function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Outbox {
  /**
   * @param {string} me
   * @param {string} key  the conversation (state.js chatKey)
   * @param {object} hooks {socket (ReconnectingSocket), changed(), refused(what, error)}
   */
  constructor(me, key, hooks) {
    this.me = me;
    this.storageKey = `outbox.${key}`;
    this.hooks = hooks;
    /** [{client_id, text, reply_to, attachments?, error?}] in the order written. */
    this.entries = loadStored(me, this.storageKey, []).filter((e) => e && typeof e.client_id === 'string' && typeof e.text === 'string');
    this.actions = [];
    this.inflight = null;
    this.retryTimer = null;
  }

  save() {
    saveStored(this.me, this.storageKey, this.entries.length ? this.entries : null);
  }

  /**
   * Queues a message; it is shown at once ("sending…") and sent when it can be. `attachments`:
   * the ids of files already uploaded; with them the text (a caption) may be empty.
   */
  add(text, replyTo, attachments = []) {
    const entry = { client_id: newClientId(), text, reply_to: replyTo ?? null };
    if (attachments.length) entry.attachments = attachments;
    this.entries.push(entry);
    this.save();
    this.hooks.changed();
    this.pump();
    return entry;
  }

  /** Sends an edit, deletion or reaction; false when not connected (nothing is queued). */
  act(frame, what) {
    if (!this.hooks.socket.isOpen) return false;
    this.actions.push({ frame, what });
    this.pump();
    return true;
  }

  /** Sends the next frame if the socket is open and nothing is in flight. */
  pump() {
    const socket = this.hooks.socket;
    if (this.inflight || !socket.isOpen || this.retryTimer) return;
    const action = this.actions.shift();
    if (action) {
      this.inflight = { ...action, id: action.frame.id };
      socket.sendJson(action.frame);
    } else {
      const entry = this.entries.find((e) => !e.error);
      if (!entry) return;
      this.inflight = { clientId: entry.client_id };
      const frame = { type: 'message', text: entry.text, client_id: entry.client_id };
      if (entry.reply_to) frame.reply_to = { id: entry.reply_to.id };
      if (entry.attachments?.length) frame.attachments = entry.attachments;
      socket.sendJson(frame);
    }
    const inflight = this.inflight;
    inflight.timer = setTimeout(() => {
      if (this.inflight !== inflight) return;
      this.inflight = null;
      this.pump();
    }, ANSWER_TIMEOUT_MS);
  }

  settle() {
    clearTimeout(this.inflight?.timer);
    this.inflight = null;
    this.pump();
  }

  /**
   * A message of the conversation arrived (live or in history): if it carries one of our
   * client ids, that entry was stored and leaves the outbox.
   */
  stored(item) {
    const id = item.client_id;
    if (!id || item.sender_id !== this.me) return;
    const at = this.entries.findIndex((e) => e.client_id === id);
    if (at >= 0) {
      this.entries.splice(at, 1);
      this.save();
      this.hooks.changed();
    }
    if (this.inflight?.clientId === id) this.settle();
  }

  /** A message changed: the answer to our edit, deletion or reaction of it. */
  updated(item) {
    if (this.inflight && this.inflight.id === item.id && this.inflight.clientId === undefined) this.settle();
  }

  /** An error frame: the answer to the frame in flight. */
  refused(error) {
    const inflight = this.inflight;
    if (!inflight) {
      this.hooks.refused(null, error);
      return;
    }
    clearTimeout(inflight.timer);
    this.inflight = null;
    if (inflight.clientId === undefined) {
      this.hooks.refused(inflight.what, error);
      this.pump();
      return;
    }
    if (TRANSIENT.test(error)) {
      // Waited out, then the same message again.
      const seconds = Number(/wait (\d+)/.exec(error)?.[1] ?? 1);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.pump();
      }, Math.min(30, Math.max(1, seconds)) * 1000);
      return;
    }
    const entry = this.entries.find((e) => e.client_id === inflight.clientId);
    if (entry) {
      entry.error = error;
      this.save();
      this.hooks.changed();
    }
    this.pump();
  }

  /** The connection dropped: what was in flight is sent again (idempotently) later. */
  down() {
    clearTimeout(this.inflight?.timer);
    this.inflight = null;
    this.actions = [];
  }

  retry(clientId) {
    const entry = this.entries.find((e) => e.client_id === clientId);
    if (!entry) return;
    delete entry.error;
    this.save();
    this.hooks.changed();
    this.pump();
  }

  discard(clientId) {
    this.entries = this.entries.filter((e) => e.client_id !== clientId);
    this.save();
    this.hooks.changed();
  }

  close() {
    clearTimeout(this.inflight?.timer);
    clearTimeout(this.retryTimer);
  }
}
