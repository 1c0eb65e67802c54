// The sidebar: people (presence dot, unread badge) and rooms (unread badge), filtered by the
// box above them. Each entry is a button, so Tab reaches it and Enter or Space opens it.

import { avatar, el } from './dom.js';
import { plural, t } from './i18n.js';
import { on, state } from './state.js';

export class Sidebar {
  /**
   * @param {object} els {userList, roomList, filter}
   * @param {(kind: string, id: string) => void} onOpen
   */
  constructor(els, onOpen) {
    this.userList = els.userList;
    this.roomList = els.roomList;
    this.filter = els.filter;
    this.onOpen = onOpen;
    this.filter.addEventListener('input', () => this.render());
    this.filter.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.filter.value) {
        event.preventDefault();
        this.filter.value = '';
        this.render();
      }
    });
    for (const event of ['users', 'unread', 'rooms', 'active']) on(event, () => this.render());
  }

  matches(name) {
    const needle = this.filter.value.trim().toLowerCase();
    return !needle || String(name).toLowerCase().includes(needle);
  }

  render() {
    this.renderUsers();
    this.renderRooms();
  }

  renderUsers() {
    const others = [...state.users.values()].filter((u) => u.id !== state.me.id);
    const shown = others.filter((u) => this.matches(u.name));
    const items = shown.map((user) => {
      const unread = state.unread.get(user.id) ?? 0;
      const status = user.online ? t('online') : t('offline');
      const face = el('span', { class: 'avatar-wrap' }, [
        avatar(user.id, user.name),
        el('span', { class: `presence-dot${user.online ? ' online' : ''}`, attrs: { 'aria-hidden': 'true' } }),
      ]);
      return this.entry('user', user.id, face, user.name, status, unread, user.online ? 'is-online' : '');
    });
    this.fill(this.userList, items, others.length ? t('noMatches') : t('noUsers'));
  }

  renderRooms() {
    const rooms = [...state.rooms.values()];
    const shown = rooms.filter((r) => this.matches(r.name));
    const items = shown.map((room) => {
      const face = el('span', { class: 'avatar-wrap' }, [avatar(room.id, room.name, 'room-avatar')]);
      return this.entry('room', room.id, face, room.name, plural('members', room.member_count), room.unread || 0, '');
    });
    this.fill(this.roomList, items, rooms.length ? t('noMatches') : t('noRooms'));
  }

  entry(kind, id, face, name, sub, unread, subClass) {
    const current = state.active && state.active.kind === kind && state.active.id === id;
    const button = el('button', {
      type: 'button',
      class: 'list-item',
      dataset: { kind, id },
      attrs: { 'aria-current': current ? 'true' : null },
      on: { click: () => this.onOpen(kind, id) },
    }, [
      face,
      el('span', { class: 'item-body' }, [
        el('span', { class: 'item-name', text: name }),
        el('span', { class: `item-sub ${subClass}`.trim(), text: sub }),
      ]),
    ]);
    if (unread > 0) {
      button.append(el('span', { class: 'badge', text: unread > 99 ? '99+' : String(unread), attrs: { 'aria-label': plural('unread', unread) } }));
    }
    return el('li', {}, [button]);
  }

  /** Replaces a list's entries, keeping keyboard focus on the entry that had it. */
  fill(list, items, emptyText) {
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    list.replaceChildren(...(items.length ? items : [el('li', { class: 'list-empty', text: emptyText })]));
    if (focused) list.querySelector(`[data-id="${CSS.escape(focused)}"]`)?.focus();
  }
}
