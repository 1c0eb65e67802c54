// The open conversation — a private chat or a room: its socket (/ws/{me}/{target} or
// /ws/room/{room}/{me}), its history (the newest page first, older pages on scrolling up,
// catching up with ?after= whenever the socket is open again), read receipts and marking
// read, sending, and jumping to the message a quote points at.

import { api, ApiError, PAGE } from './api.js';
import { t } from './i18n.js';
import { notify, showNotice } from './notify.js';
import { ReconnectingSocket } from './socket.js';
import { addUnread, emit, setRoomUnread, setUnread, state } from './state.js';

const MARK_READ_DELAY = 300;
/** Pages loaded at most while looking for a quoted message. */
const MAX_JUMP_PAGES = 200;

export class Conversation {
  /**
   * @param {object} opts {kind: 'user'|'room', id, name(), view, composer, onGone(reason)}
   */
  constructor(opts) {
    this.kind = opts.kind;
    this.id = opts.id;
    this.name = opts.name;
    this.view = opts.view;
    this.composer = opts.composer;
    this.onGone = opts.onGone;
    this.me = state.me.id;
    this.loaded = false;
    this.loadingOlder = null;
    this.closed = false;
    this.markTimer = null;
    this.hiddenUnread = 0;
    /** Frames typed before the socket first opened (a fraction of a second); sent on open. */
    this.outbox = [];
    /** The message sent last and not echoed yet, to restore if the server refuses it. */
    this.lastSent = null;
    this.onVisibility = () => this.visibilityChanged();
    document.addEventListener('visibilitychange', this.onVisibility);

    this.view.reset({
      kind: this.kind,
      me: this.me,
      onReply: (item) => this.composer.setReply(item, item.sender_id === this.me ? t('you') : item.user),
      onJump: (quote) => this.jumpTo(quote),
    });
    this.view.onNearTop = () => this.loadOlder();
    this.composer.reset();
    const path = this.kind === 'room'
      ? `/ws/room/${encodeURIComponent(this.id)}/${encodeURIComponent(this.me)}`
      : `/ws/${encodeURIComponent(this.me)}/${encodeURIComponent(this.id)}`;
    this.socket = new ReconnectingSocket(path, {
      onOpen: () => this.opened(),
      onMessage: (data) => this.received(data),
      onDown: () => emit('connection'),
      onFinal: (code) => this.gone(code === 4404 ? 'deleted' : 'removed'),
      onFailedAttempt: (n) => this.failedAttempt(n),
    });
  }

  /** Whether this conversation's socket is down and coming back. */
  get isDown() {
    return this.socket.isDown;
  }

  fetchPage(page) {
    return this.kind === 'room' ? api.roomHistory(this.id, page) : api.history(this.me, this.id, page);
  }

  async opened() {
    emit('connection');
    for (const frame of this.outbox.splice(0)) this.socket.send(frame);
    try {
      if (!this.loaded) await this.loadLatest();
      else await this.catchUp();
    } catch (error) {
      if (!this.closed) showNotice(t('requestFailed', { error: error.message }), 'error');
      return;
    }
    if (this.closed) return;
    this.markReadSoon(0);
  }

  async loadLatest() {
    const items = await this.fetchPage({ limit: PAGE });
    if (this.closed) return;
    this.loaded = true;
    this.view.add(items, 'bottom');
    this.view.setReachedStart(items.length < PAGE);
    if (!this.view.reachedStart && this.view.needsMore()) await this.loadOlder();
  }

  /**
   * Everything newer than what we had when the socket came back, page by page, until a short
   * page. The cursor is our own: live messages arriving meanwhile are newer than the gap and
   * must not move it.
   */
  async catchUp() {
    let cursor = this.view.newestId;
    for (;;) {
      const page = await this.fetchPage({ after: cursor, limit: PAGE });
      if (this.closed) return;
      const fresh = this.view.add(page, 'live');
      this.arrived(fresh, false);
      if (page.length < PAGE) break;
      cursor = page[page.length - 1].id;
    }
    if (this.kind === 'user') {
      // Receipts that changed while we were away: the newest page carries `read`.
      const latest = await this.fetchPage({ limit: PAGE });
      if (!this.closed) this.view.add(latest, 'live');
    }
  }

  /** The previous page; resolves when loaded (or at once if there is nothing more). */
  loadOlder() {
    if (!this.loaded || this.view.reachedStart || this.closed) return Promise.resolve();
    if (this.loadingOlder) return this.loadingOlder;
    this.view.setLoadingOlder(true);
    this.loadingOlder = (async () => {
      try {
        const page = await this.fetchPage({ before: this.view.oldestId || undefined, limit: PAGE });
        if (this.closed) return;
        this.view.setLoadingOlder(false);
        this.view.add(page, 'older');
        if (page.length < PAGE) this.view.setReachedStart(true);
      } catch (error) {
        if (!this.closed) showNotice(t('requestFailed', { error: error.message }), 'error');
      } finally {
        this.loadingOlder = null;
        if (!this.closed) this.view.setLoadingOlder(false);
      }
    })();
    return this.loadingOlder;
  }

  received(data) {
    switch (data.type) {
      case 'message':
        if (this.kind !== 'user' || !this.belongs(data)) return;
        this.echoed(data);
        this.arrived(this.view.add([data], 'live'), true);
        break;
      case 'room_message':
        if (this.kind !== 'room' || data.room_id !== this.id) return;
        this.echoed(data);
        this.arrived(this.view.add([data], 'live'), true);
        break;
      case 'read':
        if (this.kind === 'user' && data.reader_id === this.id) this.view.markOwnRead(data.up_to);
        break;
      case 'error':
        // The last message was refused (too long, too fast...): give its text back.
        if (this.lastSent) this.composer.restore(this.lastSent.text, this.lastSent.replyTo);
        this.lastSent = null;
        showNotice(t('sendFailed', { error: data.error }), 'error');
        break;
      default:
        break;
    }
  }

  /** My message came back stored: nothing to give back if an error follows. */
  echoed(item) {
    if (item.sender_id === this.me && this.lastSent && this.lastSent.text === item.text) this.lastSent = null;
  }

  belongs(item) {
    return (item.sender_id === this.id && item.receiver_id === this.me)
      || (item.sender_id === this.me && item.receiver_id === this.id);
  }

  /** New messages from others: read at once if the tab is visible, else counted and notified. */
  arrived(fresh, live) {
    const incoming = fresh.filter((m) => m.sender_id !== this.me);
    if (incoming.length === 0) return;
    if (document.visibilityState === 'visible') {
      this.markReadSoon(MARK_READ_DELAY);
      return;
    }
    this.hiddenUnread += incoming.length;
    if (this.kind === 'user') addUnread(this.id, incoming.length);
    else setRoomUnread(this.id, (state.rooms.get(this.id)?.unread ?? 0) + incoming.length);
    if (!live) return;
    const last = incoming[incoming.length - 1];
    notify({
      title: this.kind === 'room'
        ? t('newMessageIn', { name: last.user, room: this.name() })
        : t('newMessageFrom', { name: last.user }),
      body: last.text,
      tag: `${this.kind}-${this.id}`,
    });
  }

  visibilityChanged() {
    if (this.closed || document.visibilityState !== 'visible') return;
    const behind = this.hiddenUnread > 0 || (this.kind === 'user' && state.unread.has(this.id));
    if (!behind) return;
    this.hiddenUnread = 0;
    this.markReadSoon(0);
  }

  /**
   * Reports what is shown as read (debounced); the badge clears now, the server confirms on
   * the global socket. Rooms say it on their socket, private chats with the original's POST.
   */
  markReadSoon(delay) {
    clearTimeout(this.markTimer);
    this.markTimer = setTimeout(async () => {
      if (this.closed || document.visibilityState !== 'visible') return;
      if (this.kind === 'room') {
        setRoomUnread(this.id, 0);
        if (this.view.newestId) this.socket.sendJson({ type: 'read', up_to: this.view.newestId });
        return;
      }
      setUnread(this.id, 0);
      try {
        await api.markRead(this.me, this.id);
      } catch {
        // The next message or reconnect tries again; nothing to tell the reader.
      }
    }, delay);
  }

  /**
   * Sends a message; false (the text stays in the composer) when the connection is lost.
   * While the conversation's socket is still opening for the first time, it waits in the
   * outbox instead.
   */
  send(text, replyTo, attachments = []) {
    // Always a typed frame: a text that looks like one must stay text. A message with files
    // carries their ids; its text (the caption) may then be empty.
    const json = { type: 'message', text };
    if (replyTo) json.reply_to = { id: replyTo.id };
    if (attachments.length) json.attachments = attachments;
    const frame = JSON.stringify(json);
    if (this.socket.send(frame)) {
      this.lastSent = { text, replyTo };
      return true;
    }
    if (!this.socket.everOpened && !this.socket.final && !this.closed) {
      this.outbox.push(frame);
      return true;
    }
    showNotice(t('notConnected'), 'error');
    return false;
  }

  /** Scrolls to the quoted message, loading older pages until it is there. */
  async jumpTo(quote) {
    let id = typeof quote.id === 'number' ? quote.id : this.view.findByContent(quote.sender_id, quote.text);
    let pages = 0;
    while ((id === null || !this.view.has(id)) && !this.view.reachedStart && pages < MAX_JUMP_PAGES && !this.closed) {
      if (id !== null && id > this.view.newestId) break;
      const oldest = this.view.oldestId;
      await this.loadOlder();
      // A page that failed (or added nothing) ends the search instead of repeating it.
      if (this.view.oldestId === oldest && !this.view.reachedStart) break;
      pages += 1;
      if (id === null) id = this.view.findByContent(quote.sender_id, quote.text);
    }
    if (this.closed) return;
    if (id === null || !this.view.highlight(id)) showNotice(t('jumpFailed'));
  }

  /** A handshake failed: was the room deleted, or did we leave it, while we were away? */
  async failedAttempt(count) {
    emit('connection');
    if (this.kind !== 'room' || count < 2) return;
    try {
      await api.room(this.id);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) this.gone('gone');
    }
  }

  gone(reason) {
    if (this.closed) return;
    this.onGone?.(reason);
  }

  close() {
    this.closed = true;
    clearTimeout(this.markTimer);
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.socket.close();
    this.view.onNearTop = null;
    emit('connection');
  }
}
