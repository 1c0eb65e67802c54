// The open conversation — a private chat or a room, one code path: its socket
// (/ws/{me}/{target} or /ws/room/{room}/{me}), its history (history.js), what the reader has
// seen (reads.js), the outbox of messages on their way (outbox.js), the actions on messages
// (reply, edit in place, delete, react), typing indicators, the draft, and notifications
// while its tab is hidden.

import { api, ApiError } from './api.js';
import { confirmDialog } from './confirm.js';
import { draftOf, saveDraft } from './drafts.js';
import { Editor } from './editor.js';
import { History } from './history.js';
import { t } from './i18n.js';
import { openMessageMenu, openReactionPicker, showReactors } from './message-menu.js';
import { notify, showNotice } from './notify.js';
import { Outbox } from './outbox.js';
import { ReadTracker } from './reads.js';
import { ReconnectingSocket } from './socket.js';
import { chatKey, chatOf, emit, notifyLevel, setChatUnread, state } from './state.js';
import { TypingIndicator, TypingSender } from './typing.js';

export class Conversation {
  /**
   * @param {object} opts {kind: 'user'|'room', id, view, composer, header, around?, onGone(reason)}
   */
  constructor(opts) {
    Object.assign(this, { kind: opts.kind, id: opts.id, view: opts.view, composer: opts.composer });
    this.header = opts.header;
    this.onGone = opts.onGone;
    this.me = state.me.id;
    this.key = chatKey(this.kind, this.id);
    this.loaded = false;
    this.closed = false;
    this.around = opts.around ?? null;
    /** Live messages from others beyond the loaded window (the view does not reach the end). */
    this.outside = new Set();
    /** Live messages from others that arrived in view and are not counted in the list yet. */
    this.uncounted = new Set();
    this.onVisibility = () => this.updateUnseen();
    document.addEventListener('visibilitychange', this.onVisibility);

    this.reads = new ReadTracker({
      scroller: this.view.scroller,
      report: (upTo) => this.reportRead(upTo),
      onChange: () => this.updateUnseen(),
    });
    this.positionKnown = false;
    this.editor = new Editor({ save: (id, text) => this.saveEdit(id, text), closed: () => this.composer.focus() });
    this.typing = new TypingIndicator((text) => this.header?.setTyping(text));
    this.typist = new TypingSender((active) => this.socket?.sendJson({ type: 'typing', active }));
    this.history = new History({
      kind: this.kind, id: this.id, me: this.me, view: this.view,
      closed: () => this.closed,
      added: (result) => this.added(result),
      position: (readUpTo) => this.setPosition(readUpTo),
    });

    this.view.reset({
      kind: this.kind,
      me: this.me,
      onJump: (quote) => this.jumpTo(quote),
      act: (action, item, detail) => this.act(action, item, detail),
      onNode: (node, item) => this.watch(node, item),
      onReplace: (old, node, item, focused) => this.editor.redrawn(old, node, item, focused),
    });
    this.view.onNearTop = () => this.history.loadOlder().catch((e) => this.failed(e));
    this.view.onNearBottom = () => this.history.loadNewer().catch((e) => this.failed(e));
    this.view.onJump = () => this.jumpDown();
    this.composer.reset({
      text: draftOf(this.me, this.key),
      kind: this.kind,
      roomId: this.kind === 'room' ? this.id : null,
      onEditLast: () => this.editLast(),
      onInput: (text) => {
        this.typist.changed(text);
        saveDraft(this.me, this.key, text);
      },
    });

    const path = this.kind === 'room'
      ? `/ws/room/${encodeURIComponent(this.id)}/${encodeURIComponent(this.me)}`
      : `/ws/${encodeURIComponent(this.me)}/${encodeURIComponent(this.id)}`;
    this.socket = new ReconnectingSocket(path, {
      onOpen: () => this.opened(),
      onMessage: (data) => this.received(data),
      onDown: () => {
        this.outbox.down();
        this.typing.clear();
        emit('connection');
      },
      onFinal: (code) => this.gone(code === 4404 ? 'deleted' : 'removed'),
      onFailedAttempt: (n) => this.failedAttempt(n),
    });
    this.outbox = new Outbox(this.me, this.key, {
      socket: this.socket,
      changed: () => this.showOutbox(),
      refused: (what, error) => this.refused(what, error),
    });
    this.showOutbox();
    this.everOpened = false;
    this.loading = this.load();
  }

  /** Whether this conversation's socket is down and coming back. */
  get isDown() {
    return this.socket.isDown;
  }

  failed(error) {
    if (!this.closed) showNotice(t('requestFailed', { error: error.message }), 'error');
  }

  /**
   * The history, loaded as soon as the conversation opens (over HTTP, so it shows even while
   * the socket cannot connect); a failure is tried again when the socket opens.
   */
  async load() {
    try {
      if (this.around) await this.openAround(this.around);
      else await this.history.openLatest(chatOf(this.kind, this.id)?.unread ?? 0);
      this.loaded = !this.closed;
    } catch (error) {
      this.failed(error);
    }
  }

  /**
   * The socket is open (again): whatever changed since the newest change seen — between the
   * history's answer and the socket, or while the connection was down — is fetched, then the
   * read position and the outbox go out.
   */
  async opened() {
    emit('connection');
    const again = this.everOpened;
    this.everOpened = true;
    try {
      await this.loading;
      if (!this.loaded) {
        this.loading = this.load();
        await this.loading;
        if (!this.loaded) return;
      } else if (!(await this.history.catchUp(again))) {
        await this.restart();
      }
    } catch (error) {
      this.failed(error);
      return;
    }
    if (this.closed) return;
    // A report the socket could not take (it was down) goes now.
    this.reads.flush();
    this.outbox.pump();
  }

  /** Opens the view at message `target`, highlighted. */
  async openAround(target) {
    this.view.reset();
    this.reads.reset(0);
    this.positionKnown = false;
    this.outside.clear();
    const found = await this.history.openAround(target);
    if (this.closed) return;
    const chat = chatOf(this.kind, this.id);
    const unreadKnown = this.kind === 'room' && (chat?.unread ?? 0) === 0;
    this.setPosition(unreadKnown ? Number.MAX_SAFE_INTEGER : this.readPositionFromFlags());
    if (!found || !this.view.highlight(target)) showNotice(t('jumpFailed'));
  }

  /** Private chats: the newest message of theirs I have read, by the messages' `read`. */
  readPositionFromFlags() {
    if (this.kind !== 'user') return 0;
    let position = 0;
    for (const m of this.view.all()) if (m.sender_id !== this.me && m.read) position = m.id;
    return position;
  }

  /** Starts the view over at the end (after a long absence, or to jump to the newest). */
  async restart() {
    this.view.reset();
    this.reads.reset(0);
    this.positionKnown = false;
    this.outside.clear();
    await this.history.openLatest(chatOf(this.kind, this.id)?.unread ?? 0);
  }

  /** The read position is known: everything after it from others is watched until seen. */
  setPosition(readUpTo) {
    this.reads.reset(readUpTo);
    this.positionKnown = true;
    for (const item of this.view.all()) {
      if (item.sender_id !== this.me && item.id > readUpTo) this.reads.watch(this.view.node(item.id), item);
    }
  }

  watch(node, item) {
    if (this.positionKnown && item.sender_id !== this.me) this.reads.watch(node, item);
  }

  /** Messages the view took in (history or live): the outbox learns which of ours are stored. */
  added({ fresh, changed, outside }) {
    for (const item of fresh) {
      this.outbox.stored(item);
      this.outside.delete(item.id);
    }
    for (const item of changed) this.outbox.updated(item);
    for (const item of outside) if (item.sender_id !== this.me) this.outside.add(item.id);
    if (outside.length) this.updateUnseen();
  }

  received(data) {
    switch (data.type) {
      case 'message':
        if (this.kind === 'user' && this.belongs(data)) this.live(data);
        break;
      case 'room_message':
        if (this.kind === 'room' && data.room_id === this.id) this.live(data);
        break;
      case 'message_updated':
      case 'room_message_updated':
        if (data.message && (this.kind === 'room' ? data.message.room_id === this.id : this.belongs(data.message))) {
          this.history.add([data.message], 'live');
        }
        break;
      case 'typing':
        if (data.user_id !== this.me) this.typing.typing(data);
        break;
      case 'read':
        if (this.kind === 'user' && data.reader_id === this.id) this.view.markOwnRead(data.up_to);
        break;
      case 'error':
        this.outbox.refused(data.error);
        break;
      default:
        break;
    }
  }

  belongs(item) {
    return (item.sender_id === this.id && item.receiver_id === this.me)
      || (item.sender_id === this.me && item.receiver_id === this.id);
  }

  /** A new message on the socket. */
  live(item) {
    this.typing.stopped(item.sender_id);
    const { fresh } = this.history.add([item], 'live');
    if (fresh.length === 0 || item.sender_id === this.me) return;
    if (document.visibilityState === 'visible') {
      this.uncounted.add(item.id);
      return;
    }
    // A hidden tab: the server sent no notification, since this conversation is open here.
    if (this.kind === 'user' && notifyLevel('user', this.id) !== 'none') {
      notify({ title: t('newMessageFrom', { name: item.user }), body: item.text, tag: `user-${this.id}` });
    }
  }

  /** The jump button's count: unread messages not seen yet, loaded or not. */
  updateUnseen() {
    for (const id of this.uncounted) if (id <= this.reads.seenUpTo) this.uncounted.delete(id);
    this.view.setUnseen(this.reads.unseen + this.outside.size);
  }

  /**
   * Reports the read position (of what was seen while the tab was visible) on the socket;
   * false (tried again on reconnect) if it is down.
   */
  reportRead(upTo) {
    return this.socket.sendJson({ type: 'read', up_to: upTo });
  }

  /** The jump button: to the first unread message below, else to the newest. */
  jumpDown() {
    const first = this.reads.firstUnseen;
    const node = first ? this.view.node(first) : null;
    const box = node?.getBoundingClientRect();
    const view = this.view.scroller.getBoundingClientRect();
    if (node && box.top > view.top + view.height / 2) {
      this.view.scroller.scrollTop += box.top - view.top - 8;
      return;
    }
    if (this.view.reachedEnd) {
      this.view.scrollToBottom(true);
      return;
    }
    this.restart().then(() => this.view.scrollToBottom(false), (e) => this.failed(e));
  }

  /** Sends a message: queued in the outbox, shown at once, sent when the socket can. */
  send(text, replyTo, attachments = []) {
    this.typist.stop();
    const quote = replyTo ? { id: replyTo.id, sender_id: replyTo.sender_id, sender_name: replyTo.user, text: replyTo.text } : null;
    this.outbox.add(text, quote, attachments);
    saveDraft(this.me, this.key, '');
    return true;
  }

  showOutbox() {
    this.view.setPending(this.outbox.entries, {
      retry: (entry) => this.outbox.retry(entry.client_id),
      discard: (entry) => this.outbox.discard(entry.client_id),
    });
  }

  /** A refused frame: an action's error in a notice (an edit's in its box). */
  refused(what, error) {
    if (what === 'edit') this.editor.refused(error);
    else if (what) showNotice(t('actionFailed', { error }), 'error');
    else showNotice(t('sendFailed', { error }), 'error');
  }

  /** An action on a message from its buttons, menu or gestures. */
  act(action, item, detail) {
    const where = detail instanceof Element ? { anchor: detail, opener: detail } : detail ?? {};
    const ctx = {
      me: this.me,
      canEdit: (m) => this.canEdit(m),
      canDelete: (m) => this.canDelete(m),
      react: (m, emoji) => this.react(m, emoji),
      reply: (m) => this.reply(m),
      edit: (m) => this.edit(m),
      remove: (m) => this.remove(m),
    };
    switch (action) {
      case 'menu': openMessageMenu(item, where, ctx); break;
      case 'picker': openReactionPicker(item, where, ctx); break;
      case 'reactors': showReactors(item, where, this.me); break;
      case 'toggle': this.react(item, detail); break;
      case 'reply': this.reply(item); break;
      default: break;
    }
  }

  canEdit(item) {
    return item.sender_id === this.me && !item.deleted;
  }

  canDelete(item) {
    if (item.deleted) return false;
    return item.sender_id === this.me || (this.kind === 'room' && state.rooms.get(this.id)?.creator_id === this.me);
  }

  reply(item) {
    this.composer.setReply(item, item.sender_id === this.me ? t('you') : item.user);
  }

  react(item, emoji) {
    if (!this.outbox.act({ type: 'react', id: item.id, emoji }, 'react')) showNotice(t('notConnectedAction'), 'error');
  }

  edit(item) {
    const node = this.view.node(item.id);
    if (node && this.canEdit(item)) this.editor.start(node, item, this.composer.maxChars);
  }

  /** Up in an empty composer: my newest message that can still be edited. */
  editLast() {
    const mine = this.view.all().filter((m) => this.canEdit(m));
    const last = mine[mine.length - 1];
    if (!last) return false;
    this.view.node(last.id)?.scrollIntoView({ block: 'nearest' });
    this.edit(last);
    return true;
  }

  saveEdit(id, text) {
    if (this.outbox.act({ type: 'edit', id, text }, 'edit')) return true;
    this.editor.refused(t('notConnectedShort'));
    return false;
  }

  async remove(item) {
    const ok = await confirmDialog({
      title: t('deleteMessageTitle'),
      text: item.sender_id === this.me ? t('deleteMessageQuestion') : t('deleteOthersQuestion', { name: item.user }),
      confirm: t('delete'),
    });
    if (!ok || this.closed) return;
    if (!this.outbox.act({ type: 'delete', id: item.id }, 'delete')) showNotice(t('notConnectedAction'), 'error');
  }

  /** Scrolls to the quoted message, loading the history around it if it is not loaded. */
  async jumpTo(quote) {
    try {
      let id = typeof quote.id === 'number' ? quote.id : null;
      if (id === null) id = await this.history.findLegacy(quote);
      if (this.closed) return;
      if (id !== null && this.view.highlight(id)) return;
      if (id !== null) {
        await this.openAround(id);
        return;
      }
      showNotice(t('jumpFailed'));
    } catch (error) {
      this.failed(error);
    }
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
    if (this.closed) return;
    this.closed = true;
    this.typist.stop();
    saveDraft(this.me, this.key, this.composer.text);
    // Messages that arrived while in view and were never seen stay unread in the list.
    const unseen = [...this.uncounted].filter((id) => id > this.reads.seenUpTo).length + this.outside.size;
    const chat = chatOf(this.kind, this.id);
    if (unseen && chat) setChatUnread(this.kind, this.id, chat.unread + unseen);
    this.editor.cancel(false);
    // What was seen just before leaving is reported, not lost with the debounce.
    this.reads.flush();
    this.reads.close();
    this.outbox.close();
    this.typing.clear();
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.socket.close();
    this.view.onNearTop = null;
    this.view.onNearBottom = null;
    this.view.onJump = null;
    emit('connection');
  }
}
