// The web app (/index): the sidebar with people and rooms, the open conversation, the room
// dialogs, and the address (#user/<id>, #room/<id>) that says which conversation is open,
// so the browser's back button and the mobile back button return to the list.

import { ChatHeader } from './chat-header.js';
import { initConnectionBanner } from './connection.js';
import { Conversation } from './conversation.js';
import { conversationParts } from './conversation-parts.js';
import { avatar, byId } from './dom.js';
import { startGlobal } from './global.js';
import { initLanguageSwitch, t } from './i18n.js';
import { initNotifyButton, showNotice } from './notify.js';
import { PushSettings, startServiceWorker } from './push.js';
import { RoomDialogs } from './rooms.js';
import { Sidebar } from './sidebar.js';
import { dropRoom, isActive, on, setActive, setMe, state } from './state.js';

const wide = window.matchMedia('(min-width: 768px)');

setMe(document.body.dataset.userId, document.body.dataset.userName);
byId('me-avatar').replaceChildren(avatar(state.me.id, state.me.name));

const app = byId('app');
const section = byId('conversation');
const emptyState = byId('empty-state');
const header = new ChatHeader();
const { view, composer } = conversationParts((text, replyTo, attachments) => (conversation ? conversation.send(text, replyTo, attachments) : false));
/** @type {Conversation|null} */
let conversation = null;
/** Rooms whose loss was already announced (the socket and the global event both tell). */
const announced = new Set();

new Sidebar({ userList: byId('user-list'), roomList: byId('room-list'), filter: byId('filter') }, (kind, id) => navigate(kind, id));
const rooms = new RoomDialogs((kind, id) => navigate(kind, id), (id, name) => roomGone(id, name, 'deleted'));
byId('members-button').addEventListener('click', () => {
  if (state.active?.kind === 'room') rooms.openMembers(state.active.id);
});
byId('delete-room-button').addEventListener('click', () => {
  if (state.active?.kind === 'room') rooms.openDelete(state.active.id);
});
byId('back-button').addEventListener('click', () => goBack());

const global = startGlobal({ openChat: (kind, id) => navigate(kind, id), roomGone });
initConnectionBanner(byId('connection-banner'), () => [global.socket, conversation?.socket]);
initNotifyButton(byId('notify-button'));
initLanguageSwitch(document.querySelector('.lang-switch'));
new PushSettings();
// A notification clicked while the app is open: show its conversation here.
startServiceWorker((hash) => {
  if (window.location.hash !== hash) history.pushState({ chat: true }, '', hash);
  route();
});

on('users', () => header.render(state.active));
on('rooms', () => header.render(state.active));
on('read', (data) => conversation?.received(data));

// Escape leaves a conversation on a phone (where the list is a separate screen).
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || event.defaultPrevented || wide.matches || !state.active) return;
  if (document.querySelector('dialog[open]')) return;
  goBack();
});

/** Opens a conversation from the list: a new history entry, so Back returns to the list. */
function navigate(kind, id) {
  const hash = `#${kind}/${encodeURIComponent(id)}`;
  if (window.location.hash !== hash) history.pushState({ chat: true }, '', hash);
  route();
  if (wide.matches) composer.focus();
}

/** The mobile back button: to the list. */
function goBack() {
  if (history.state?.chat) history.back();
  else {
    history.replaceState(null, '', window.location.pathname + window.location.search);
    route();
  }
}

function parseHash() {
  const match = /^#(user|room)\/(.+)$/.exec(window.location.hash);
  if (!match) return null;
  try {
    return { kind: match[1], id: decodeURIComponent(match[2]) };
  } catch {
    return null;
  }
}

/** Shows what the address names. */
function route() {
  const wanted = parseHash();
  if (!wanted) {
    closeConversation();
    return;
  }
  const exists = wanted.kind === 'user'
    ? state.users.has(wanted.id) && wanted.id !== state.me.id
    : state.rooms.has(wanted.id);
  if (!exists) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
    closeConversation();
    return;
  }
  openConversation(wanted.kind, wanted.id);
}

function openConversation(kind, id) {
  if (isActive(kind, id)) return;
  conversation?.close();
  setActive({ kind, id });
  const active = state.active;
  header.render(active);
  section.hidden = false;
  emptyState.hidden = true;
  app.classList.add('chat-open');
  conversation = new Conversation({
    kind,
    id,
    name: () => header.nameOf(active),
    view,
    composer,
    onGone: (reason) => roomGone(id, header.nameOf(active), reason),
  });
}

function closeConversation() {
  if (!conversation && !state.active) return;
  const previous = state.active;
  conversation?.close();
  conversation = null;
  setActive(null);
  section.hidden = true;
  emptyState.hidden = false;
  app.classList.remove('chat-open');
  // Keyboard users land back on the entry they came from.
  if (previous) document.querySelector(`.list-item[data-kind="${previous.kind}"][data-id="${CSS.escape(previous.id)}"]`)?.focus({ preventScroll: true });
}

/** A room was deleted, or we were removed from it: it leaves the list and, if open, the view. */
function roomGone(id, name, reason) {
  const known = state.rooms.has(id);
  const open = isActive('room', id);
  dropRoom(id);
  if (open) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
    closeConversation();
  }
  if ((known || open) && !announced.has(id)) {
    announced.add(id);
    const key = reason === 'deleted' ? 'roomDeleted' : reason === 'removed' ? 'roomRemoved' : 'roomGone';
    showNotice(t(key, { name }));
  }
}

window.addEventListener('popstate', route);
window.addEventListener('hashchange', route);
global.ready.then(route, (error) => showNotice(t('requestFailed', { error: error.message }), 'error'));
