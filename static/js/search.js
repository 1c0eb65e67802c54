// Search inside the app, in the sidebar's search box: as the reader types, the chat list
// narrows to matching names, and below it the server's answer (GET /api/search) lists people
// (starting a chat with someone new goes through here), and messages of my conversations with
// the words around each match highlighted. Choosing a message opens its conversation at it.
// Escape empties the box; Down moves from the box to the results. The server-rendered /search
// page stays for browsers without script.

import { api } from './api.js';
import { avatar, el } from './dom.js';
import { t } from './i18n.js';
import { state } from './state.js';
import { listTime } from './time.js';

const DEBOUNCE_MS = 200;
/** The server marks each match in a snippet with these private-use characters. */
const MARK_START = '\u{E000}';
const MARK_END = '\u{E001}';

/** A snippet as text nodes, each match in a <mark>. */
function markedSnippet(snippet) {
  const out = el('span', { class: 'snippet' });
  let mark = null;
  let run = '';
  const flush = () => {
    if (run) (mark ?? out).append(run);
    run = '';
  };
  for (const ch of String(snippet)) {
    if (ch === MARK_START) {
      flush();
      mark = el('mark');
    } else if (ch === MARK_END) {
      flush();
      if (mark) out.append(mark);
      mark = null;
    } else {
      run += ch;
    }
  }
  flush();
  if (mark) out.append(mark);
  return out;
}

export class Search {
  /**
   * @param {object} els {input, results, link, nav}
   * @param {object} hooks {chatList, open(kind, id, around?)}
   */
  constructor(els, hooks) {
    Object.assign(this, els);
    this.hooks = hooks;
    this.timer = null;
    this.asked = 0;
    this.input.addEventListener('input', () => this.changed());
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.input.value) {
        event.preventDefault();
        this.clear();
      } else if (event.key === 'ArrowDown') {
        const first = this.nav.querySelector('button.list-item');
        if (first) {
          event.preventDefault();
          first.focus();
        }
      }
    });
    // With script, the header's search link (the /search page without it) goes to the box.
    this.link?.addEventListener('click', (event) => {
      event.preventDefault();
      this.input.focus();
    });
  }

  get query() {
    return this.input.value.trim();
  }

  clear() {
    this.input.value = '';
    this.changed();
  }

  changed() {
    this.hooks.chatList.setQuery(this.input.value);
    clearTimeout(this.timer);
    const query = this.query;
    this.asked += 1;
    if (!query) {
      this.results.hidden = true;
      this.results.replaceChildren();
      return;
    }
    this.status(t('searching'));
    this.timer = setTimeout(() => this.run(query, this.asked), DEBOUNCE_MS);
  }

  async run(query, ticket) {
    let found;
    try {
      found = await api.search(query);
    } catch (error) {
      if (ticket === this.asked) this.status(t('requestFailed', { error: error.message }));
      return;
    }
    if (ticket !== this.asked) return;
    this.render(found);
  }

  status(text) {
    this.results.hidden = false;
    this.results.replaceChildren(el('p', { class: 'list-empty', text, attrs: { role: 'status' } }));
  }

  render({ users = [], messages = [] }) {
    const listed = new Set([...state.chats.values()].filter((c) => c.kind === 'user').map((c) => c.id));
    const people = users.filter((u) => u.id !== state.me.id && !listed.has(u.id));
    const parts = [];
    if (people.length) {
      parts.push(el('h2', { class: 'results-title', id: 'people-results-title', text: t('people') }));
      parts.push(el('ul', { class: 'entity-list', id: 'people-results', attrs: { 'aria-labelledby': 'people-results-title' } }, people.map((u) => this.person(u))));
    }
    if (messages.length) {
      parts.push(el('h2', { class: 'results-title', id: 'message-results-title', text: t('messagesFound') }));
      parts.push(el('ul', { class: 'entity-list', id: 'message-results', attrs: { 'aria-labelledby': 'message-results-title' } }, messages.map((m) => this.hit(m))));
    }
    const chatMatches = this.hooks.chatList.shown().length;
    if (!parts.length && !chatMatches) parts.push(el('p', { class: 'list-empty', text: t('nothingFound'), attrs: { role: 'status' } }));
    this.results.hidden = parts.length === 0;
    this.results.replaceChildren(...parts);
  }

  person(user) {
    const online = state.live && !!state.users.get(user.id)?.online;
    return el('li', {}, [el('button', {
      type: 'button',
      class: 'list-item',
      dataset: { kind: 'user', id: user.id },
      on: { click: () => this.hooks.open('user', user.id) },
    }, [
      el('span', { class: 'avatar-wrap' }, [
        avatar(user.id, user.name),
        el('span', { class: `presence-dot${online ? ' online' : ''}`, attrs: { 'aria-hidden': 'true' } }),
      ]),
      el('span', { class: 'item-body' }, [
        el('span', { class: 'item-name', text: user.name }),
        el('span', { class: `item-sub${online ? ' is-online' : ''}`, text: online ? t('online') : t('startChat') }),
      ]),
    ])]);
  }

  hit(message) {
    const { kind, id } = message.chat;
    const sender = message.sender_id === state.me.id ? t('you') : message.sender_name;
    const time = el('time', { class: 'item-time', text: listTime(message) });
    if (message.created_at) time.dateTime = message.created_at;
    return el('li', {}, [el('button', {
      type: 'button',
      class: 'list-item search-hit',
      dataset: { kind, id, message: String(message.id) },
      on: { click: () => this.hooks.open(kind, id, message.id) },
    }, [
      el('span', { class: 'avatar-wrap' }, [avatar(id, message.chat_name, kind === 'room' ? 'room-avatar' : '')]),
      el('span', { class: 'item-body' }, [
        el('span', { class: 'item-top' }, [el('span', { class: 'item-name', text: message.chat_name }), time]),
        el('span', { class: 'item-sub hit-text' }, [el('span', { class: 'preview-sender', text: `${sender}: ` }), markedSnippet(message.snippet)]),
      ]),
    ])]);
  }
}
