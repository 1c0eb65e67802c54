// The client's state: who I am, the people I know of (with presence), my rooms, my chat list
// (rooms and the people I have talked with, newest activity first, with unread counts), the
// open conversation, and whether the global socket is live. Modules change it through these
// functions and listen for the events they care about; nothing else holds a copy.

const listeners = new Map();

export const state = {
  me: { id: '', name: '' },
  /** id → {id, name, online}: every user, for names and presence (GET /api/users). */
  users: new Map(),
  /** id → room summary ({id, name, description, creator_id, creator_name, member_count, ...}). */
  rooms: new Map(),
  /** chatKey → {kind, id, name, last, unread, mentions, notify, sortKey} (GET /api/chats). */
  chats: new Map(),
  /** The open conversation: null, {kind: 'user', id} or {kind: 'room', id}. */
  active: null,
  /** Whether the global socket is open, so presence is current. */
  live: false,
};

/** Listens for `event`; returns a function that stops listening. */
export function on(event, fn) {
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
  return () => listeners.get(event).delete(fn);
}

export function emit(event, detail) {
  for (const fn of listeners.get(event) ?? []) fn(detail);
}

export function setMe(id, name) {
  state.me = { id, name };
}

export function chatKey(kind, id) {
  return `${kind}:${id}`;
}

export function chatOf(kind, id) {
  return state.chats.get(chatKey(kind, id)) ?? null;
}

/** Replaces the user list (from GET /api/users). */
export function setUsers(list) {
  state.users = new Map(list.map((u) => [u.id, { id: u.id, name: u.name, online: !!u.online }]));
  emit('users');
}

/** Applies presence changes; users not seen before (just registered) are added. */
export function applyPresence(list) {
  for (const u of list) {
    const known = state.users.get(u.id);
    if (known) {
      known.online = !!u.online;
      known.name = u.name;
    } else {
      state.users.set(u.id, { id: u.id, name: u.name, online: !!u.online });
    }
    const chat = chatOf('user', u.id);
    if (chat) chat.name = u.name;
  }
  emit('users');
  emit('presence', list);
}

/** Whether the global socket is live (presence is shown only then). */
export function setLive(live) {
  if (state.live === live) return;
  state.live = live;
  emit('connection');
}

export function setRooms(list) {
  state.rooms = new Map(list.map((r) => [r.id, { ...r }]));
  emit('rooms');
}

/** Adds or updates a room; its chat list entry follows. */
export function upsertRoom(room) {
  const known = state.rooms.get(room.id);
  state.rooms.set(room.id, { ...known, ...room });
  const chat = chatOf('room', room.id);
  if (chat) {
    chat.name = room.name;
    if (room.unread !== undefined) chat.unread = room.unread;
    if (room.mentions !== undefined) chat.mentions = room.mentions;
    if (room.notify !== undefined) chat.notify = room.notify;
  } else {
    putChat({
      kind: 'room', id: room.id, name: room.name, last: null, unread: room.unread ?? 0, mentions: room.mentions ?? 0,
      notify: room.notify ?? 'all', sortKey: new Date().toISOString(),
    });
  }
  emit('rooms');
  emit('chats');
}

export function dropRoom(id) {
  const had = state.rooms.delete(id);
  const listed = state.chats.delete(chatKey('room', id));
  if (had) emit('rooms');
  if (listed) emit('chats');
}

function putChat(chat) {
  state.chats.set(chatKey(chat.kind, chat.id), chat);
}

/** The sort key of a list entry: its latest message's time (rooms without one: creation). */
function sortKeyOf(item) {
  return item.last?.created_at || (item.kind === 'room' ? state.rooms.get(item.id)?.created_at : '') || '';
}

/** Replaces the chat list (from GET /api/chats, newest first). */
export function setChats(list) {
  state.chats = new Map();
  for (const item of list) putChat({ ...item, sortKey: sortKeyOf(item) });
  emit('chats');
}

/** A preview of a message for the list. */
function preview(message) {
  return {
    id: message.id,
    sender_id: message.sender_id,
    sender_name: message.user ?? message.sender_name ?? '',
    text: String(message.text ?? '').slice(0, 120),
    time: message.time,
    created_at: message.created_at,
    deleted: !!message.deleted,
  };
}

/**
 * A new message in a conversation (the global `activity` event): it moves to the top with
 * the message as its preview; `unseen` counts it unread (and a mention if it names me).
 */
export function noteMessage(kind, id, message, unseen) {
  let chat = chatOf(kind, id);
  if (!chat) {
    const name = kind === 'room' ? (state.rooms.get(id)?.name ?? '') : (state.users.get(id)?.name ?? message.user ?? '');
    chat = { kind, id, name, last: null, unread: 0, mentions: 0, notify: 'all', sortKey: '' };
    putChat(chat);
  }
  if (!chat.last || chat.last.id <= message.id) chat.last = preview(message);
  chat.sortKey = message.created_at || new Date().toISOString();
  if (unseen) {
    chat.unread += 1;
    if ((message.mentions ?? []).includes(state.me.id)) chat.mentions += 1;
  }
  emit('chats');
}

/** A conversation's latest message changed (edited, deleted). */
export function noteUpdate(kind, id, message) {
  const chat = chatOf(kind, id);
  if (!chat || (chat.last && chat.last.id !== message.id)) return;
  chat.last = preview(message);
  emit('chats');
}

/** The server's count of what is unread in a conversation. */
export function setChatUnread(kind, id, unread, mentions = undefined) {
  const chat = chatOf(kind, id);
  if (!chat) return;
  const m = mentions ?? (unread === 0 ? 0 : chat.mentions);
  if (chat.unread === unread && chat.mentions === m) return;
  chat.unread = Math.max(0, unread);
  chat.mentions = Math.max(0, Math.min(m, chat.unread));
  emit('chats');
}

/** My notification level for a conversation: 'all', 'mentions' or 'none'. */
export function setChatNotify(kind, id, level) {
  const chat = chatOf(kind, id);
  if (chat) {
    chat.notify = level;
    emit('chats');
  }
  const room = kind === 'room' ? state.rooms.get(id) : null;
  if (room) room.notify = level;
  emit('notify-level', { kind, id, level });
}

/** A conversation's notification level (people I have not talked with yet: 'all'). */
export function notifyLevel(kind, id) {
  return chatOf(kind, id)?.notify ?? (kind === 'room' ? state.rooms.get(id)?.notify : null) ?? 'all';
}

/** The list, newest activity first. */
export function sortedChats() {
  return [...state.chats.values()].sort((a, b) => (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : 0));
}

export function setActive(active) {
  state.active = active;
  emit('active', active);
}

export function isActive(kind, id) {
  return state.active !== null && state.active.kind === kind && state.active.id === id;
}

/** Unread messages in conversations that are not muted (the tab title's count). */
export function unreadTotal() {
  let total = 0;
  for (const chat of state.chats.values()) if (chat.notify !== 'none') total += chat.unread || 0;
  return total;
}
