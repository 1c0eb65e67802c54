// `@name` in a room's composer: typing "@" and the start of a name offers the room's members
// in a list above the composer; Up/Down move through it, Enter or Tab puts the name in, Escape
// closes it. The text box keeps the focus and points at the chosen option
// (aria-activedescendant), and a live region says how many there are.

import { api } from './api.js';
import { avatar, el } from './dom.js';
import { plural, t } from './i18n.js';
import { on, state } from './state.js';

/** At most this many suggestions. */
const MAX = 8;
/** "@" and what follows it up to the caret, at the start or after a space. */
const TRIGGER = /(?:^|\s)@([^\s@]{0,32})$/u;

/** Members of each room, fetched once per change of its member count. */
const members = new Map();

on('rooms', () => {
  for (const [id, entry] of members) {
    if (state.rooms.get(id)?.member_count !== entry.count) members.delete(id);
  }
});

function membersOf(roomId) {
  let entry = members.get(roomId);
  if (!entry) {
    entry = { count: state.rooms.get(roomId)?.member_count, list: api.members(roomId).catch(() => []) };
    members.set(roomId, entry);
  }
  return entry.list;
}

export class Mentions {
  /** @param {HTMLTextAreaElement} input  @param {HTMLElement} form  the composer, which holds the list */
  constructor(input, form) {
    this.input = input;
    this.roomId = null;
    this.options = [];
    this.active = 0;
    this.query = null;
    this.list = el('ul', { class: 'mention-list', id: 'mention-list', hidden: true, attrs: { role: 'listbox', 'aria-label': t('mentionSuggestions') } });
    this.status = el('span', { class: 'visually-hidden', attrs: { role: 'status' } });
    form.prepend(this.list);
    form.append(this.status);
    input.setAttribute('aria-autocomplete', 'list');
    input.addEventListener('input', () => this.update());
    input.addEventListener('click', () => this.update());
    input.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== input) this.close(); }, 0));
  }

  /** The room whose members are offered (null: a private chat, nothing offered). */
  setRoom(roomId) {
    this.roomId = roomId;
    this.close();
    if (roomId) membersOf(roomId);
  }

  get open() {
    return !this.list.hidden;
  }

  async update() {
    if (!this.roomId) return;
    const before = this.input.value.slice(0, this.input.selectionStart);
    const match = TRIGGER.exec(before);
    if (!match) {
      this.close();
      return;
    }
    const query = match[1].toLowerCase();
    this.query = query;
    const room = this.roomId;
    const list = await membersOf(room);
    if (this.roomId !== room || this.query !== query) return;
    const others = list.filter((m) => m.id !== state.me.id);
    const starts = others.filter((m) => m.name.toLowerCase().startsWith(query));
    const contains = others.filter((m) => !starts.includes(m) && m.name.toLowerCase().includes(query));
    this.show([...starts, ...contains].slice(0, MAX));
  }

  show(options) {
    this.options = options;
    if (options.length === 0) {
      this.close();
      return;
    }
    this.active = Math.min(this.active, options.length - 1);
    this.list.replaceChildren(...options.map((m, i) => el('li', {
      id: `mention-${i}`,
      class: 'mention-option',
      attrs: { role: 'option', 'aria-selected': i === this.active ? 'true' : 'false' },
      on: {
        mousedown: (event) => event.preventDefault(),
        click: () => this.choose(i),
      },
    }, [avatar(m.id, m.name), el('span', { class: 'mention-name', text: m.name })])));
    this.list.hidden = false;
    this.input.setAttribute('aria-controls', 'mention-list');
    this.input.setAttribute('aria-activedescendant', `mention-${this.active}`);
    this.status.textContent = plural('suggestions', options.length);
  }

  close() {
    this.list.hidden = true;
    this.list.replaceChildren();
    this.options = [];
    this.active = 0;
    this.query = null;
    this.input.removeAttribute('aria-activedescendant');
    this.input.removeAttribute('aria-controls');
    this.status.textContent = '';
  }

  /** The composer's keys while the list is open; true if the key was for the list. */
  key(event) {
    if (!this.open) return false;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        const step = event.key === 'ArrowDown' ? 1 : -1;
        this.active = (this.active + step + this.options.length) % this.options.length;
        this.show(this.options);
        return true;
      }
      case 'Enter':
      case 'Tab':
        if (event.shiftKey) return false;
        this.choose(this.active);
        return true;
      case 'Escape':
        this.close();
        return true;
      default:
        return false;
    }
  }

  /** Puts `@name ` in place of what was typed after "@". */
  choose(index) {
    const member = this.options[index];
    if (!member) return;
    const caret = this.input.selectionStart;
    const before = this.input.value.slice(0, caret);
    const at = before.lastIndexOf('@');
    const insert = `@${member.name} `;
    this.input.setRangeText(insert, at, caret, 'end');
    this.close();
    this.input.focus();
    this.input.dispatchEvent(new Event('input', { bubbles: true }));
  }
}
