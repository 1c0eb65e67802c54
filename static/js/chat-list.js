// The chat list: one list of my rooms and the people I have talked with, newest activity
// first. Each entry shows the latest message (with its sender in rooms, "You" for mine, my
// draft instead if there is one), its time, the unread count, a marker when a message
// mentions me, presence for people (not while the connection is down), and a muted look
// when its notifications are off. Each entry is a button, so Tab reaches it and Enter or
// Space opens it. While the search box has text, only matching entries show.

import { avatar, el } from './dom.js';
import { draftOf } from './drafts.js';
import { icon } from './icons.js';
import { plural, t } from './i18n.js';
import { on, sortedChats, state } from './state.js';
import { listTime } from './time.js';

export class ChatList {
  /**
   * @param {HTMLElement} list  the <ul>
   * @param {(kind: string, id: string) => void} onOpen
   */
  constructor(list, onOpen) {
    this.list = list;
    this.onOpen = onOpen;
    this.query = '';
    this.loaded = false;
    for (const event of ['chats', 'users', 'rooms', 'active', 'connection', 'drafts']) on(event, () => this.render());
    on('chats-loaded', () => {
      this.loaded = true;
      this.render();
    });
  }

  /** Shows only the entries whose name contains `query` ('' shows all). */
  setQuery(query) {
    this.query = query.trim().toLowerCase();
    this.render();
  }

  /** The entries shown now, in order. */
  shown() {
    return sortedChats().filter((c) => !this.query || String(c.name).toLowerCase().includes(this.query));
  }

  render() {
    const chats = this.shown();
    let empty = null;
    if (!chats.length) {
      if (this.query) empty = t('noChatMatches');
      else if (this.loaded) empty = t('noChats');
    }
    const items = chats.map((chat) => this.entry(chat));
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    this.list.replaceChildren(...(empty ? [el('li', { class: 'list-empty', text: empty })] : items));
    if (focused) this.list.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  entry(chat) {
    const { kind, id } = chat;
    const current = state.active && state.active.kind === kind && state.active.id === id;
    const muted = chat.notify === 'none';
    let face;
    if (kind === 'user') {
      const online = state.live && !!state.users.get(id)?.online;
      face = el('span', { class: 'avatar-wrap' }, [
        avatar(id, chat.name),
        el('span', { class: `presence-dot${online ? ' online' : ''}`, attrs: { 'aria-hidden': 'true' } }),
      ]);
    } else {
      face = el('span', { class: 'avatar-wrap' }, [avatar(id, chat.name, 'room-avatar')]);
    }
    const top = el('span', { class: 'item-top' }, [el('span', { class: 'item-name', text: chat.name })]);
    if (muted) top.append(el('span', { class: 'muted-mark', title: t('mutedTitle'), attrs: { role: 'img', 'aria-label': t('muted') } }, [icon('muted')]));
    if (chat.last) {
      const time = el('time', { class: 'item-time', text: listTime(chat.last) });
      if (chat.last.created_at) time.dateTime = chat.last.created_at;
      top.append(time);
    }
    const bottom = el('span', { class: 'item-bottom' }, [this.preview(chat, current)]);
    if (chat.mentions > 0) {
      bottom.append(el('span', { class: 'mention-mark', text: '@', title: t('mentionedYou'), attrs: { 'aria-label': plural('mentionsCount', chat.mentions) } }));
    }
    if (chat.unread > 0) {
      bottom.append(el('span', { class: 'badge', text: chat.unread > 99 ? '99+' : String(chat.unread), attrs: { 'aria-label': plural('unread', chat.unread) } }));
    }
    const button = el('button', {
      type: 'button',
      class: `list-item chat-item${muted ? ' is-muted' : ''}`,
      dataset: { kind, id, key: `${kind}:${id}` },
      attrs: { 'aria-current': current ? 'true' : null },
      on: { click: () => this.onOpen(kind, id) },
    }, [face, el('span', { class: 'item-body' }, [top, bottom])]);
    return el('li', {}, [button]);
  }

  /** The line under the name: a draft, the latest message, or (rooms) the member count. */
  preview(chat, current) {
    const draft = current ? '' : draftOf(state.me.id, `${chat.kind}:${chat.id}`);
    if (draft) {
      return el('span', { class: 'item-sub preview' }, [el('span', { class: 'draft-mark', text: `${t('draft')}: ` }), draft.split('\n')[0]]);
    }
    const last = chat.last;
    if (!last) {
      const room = chat.kind === 'room' ? state.rooms.get(chat.id) : null;
      return el('span', { class: 'item-sub preview', text: room ? plural('members', room.member_count) : '' });
    }
    const sub = el('span', { class: 'item-sub preview' });
    const mine = last.sender_id === state.me.id;
    if (mine || chat.kind === 'room') {
      sub.append(el('span', { class: 'preview-sender', text: `${mine ? t('you') : last.sender_name}: ` }));
    }
    if (last.deleted) sub.append(el('span', { class: 'is-deleted', text: t('messageDeleted') }));
    else sub.append(last.text.split('\n')[0]);
    return sub;
  }
}
