// The client's state: who I am, the users with their presence and unread counts, my rooms,
// and which conversation is open. Modules change it through these functions and listen for
// the events they care about; nothing else holds a copy.

const listeners = new Map();

export const state = {
  me: { id: '', name: '' },
  /** id → {id, name, online} in registration order. */
  users: new Map(),
  /** sender id → unread private messages from them. */
  unread: new Map(),
  /** id → room summary ({id, name, description, creator_id, creator_name, member_count, unread}). */
  rooms: new Map(),
  /** The open conversation: null, {kind: 'user', id} or {kind: 'room', id}. */
  active: null,
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
  }
  emit('users');
  emit('presence', list);
}

export function setUnreadAll(map) {
  state.unread = new Map(Object.entries(map).filter(([, n]) => n > 0));
  emit('unread');
}

export function setUnread(userId, count) {
  if (count > 0) state.unread.set(userId, count);
  else state.unread.delete(userId);
  emit('unread');
}

export function addUnread(userId, by = 1) {
  setUnread(userId, (state.unread.get(userId) ?? 0) + by);
}

export function setRooms(list) {
  state.rooms = new Map(list.map((r) => [r.id, { ...r, unread: r.unread ?? 0 }]));
  emit('rooms');
}

/** Adds or updates a room; a summary without `unread` keeps the count we have. */
export function upsertRoom(room) {
  const known = state.rooms.get(room.id);
  const unread = room.unread ?? known?.unread ?? 0;
  state.rooms.set(room.id, { ...known, ...room, unread });
  emit('rooms');
}

export function dropRoom(id) {
  if (state.rooms.delete(id)) emit('rooms');
}

export function setRoomUnread(id, count) {
  const room = state.rooms.get(id);
  if (!room || room.unread === count) return;
  room.unread = Math.max(0, count);
  emit('rooms');
}

export function setActive(active) {
  state.active = active;
  emit('active', active);
}

export function isActive(kind, id) {
  return state.active !== null && state.active.kind === kind && state.active.id === id;
}

/** Unread private messages plus unread room messages. */
export function unreadTotal() {
  let total = 0;
  for (const n of state.unread.values()) total += n;
  for (const room of state.rooms.values()) total += room.unread || 0;
  return total;
}

export function userName(id) {
  return state.users.get(id)?.name ?? '';
}
