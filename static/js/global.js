// The tab's one global socket (/ws/global/{me}): presence, unread counts, read receipts,
// notifications for conversations not in view and room membership events. Whenever it is
// open again after a loss, the users, unread counts and rooms are fetched anew.

import { api } from './api.js';
import { t } from './i18n.js';
import { notify, setTitleCount } from './notify.js';
import { ReconnectingSocket } from './socket.js';
import {
  addUnread, applyPresence, emit, isActive, on, setRoomUnread, setRooms, setUnread, setUnreadAll, setUsers,
  state, unreadTotal, upsertRoom,
} from './state.js';

/**
 * Starts the global socket and loads the lists.
 * @param {object} hooks {openChat(kind, id), roomGone(id, name, reason)}
 * @returns {{socket: ReconnectingSocket, ready: Promise<void>}}
 */
export function startGlobal(hooks) {
  const me = state.me.id;
  let loaded = false;

  async function refresh() {
    const [users, unread, rooms] = await Promise.all([api.users(), api.unread(me), api.rooms()]);
    const visible = document.visibilityState === 'visible';
    // What the open conversation shows is being read: its counts stay at zero.
    if (visible && state.active?.kind === 'user') delete unread[state.active.id];
    setUsers(users);
    setUnreadAll(unread);
    const known = new Map(state.rooms);
    setRooms(rooms.map((r) => (visible && isActive('room', r.id) ? { ...r, unread: 0 } : r)));
    for (const [id, room] of known) {
      if (!state.rooms.has(id)) hooks.roomGone(id, room.name, 'gone');
    }
    loaded = true;
  }

  const socket = new ReconnectingSocket(`/ws/global/${encodeURIComponent(me)}`, {
    onOpen: (again) => {
      emit('connection');
      if (again || loaded) refresh().catch(() => {});
    },
    onDown: () => emit('connection'),
    onFailedAttempt: (n) => {
      emit('connection');
      // Several refusals in a row: if the session ended, api.js takes us to the login page.
      if (n >= 2) api.me().catch(() => {});
    },
    onMessage: (data) => handle(data),
  });

  function handle(data) {
    switch (data.type) {
      case 'ping':
        socket.sendJson({ type: 'pong' });
        break;
      case 'presence':
        applyPresence(data.users || []);
        break;
      case 'notify':
        if (isActive('user', data.from_id)) break;
        addUnread(data.from_id);
        notify({
          title: t('newMessageFrom', { name: data.from_name }),
          body: data.text,
          tag: `user-${data.from_id}`,
          onClick: () => hooks.openChat('user', data.from_id),
        });
        break;
      case 'unread_reset':
        setUnread(data.from_id, 0);
        break;
      case 'read':
        emit('read', data);
        break;
      case 'room_added':
      case 'room_updated':
        upsertRoom(data.room);
        break;
      case 'room_removed':
        hooks.roomGone(data.room_id, state.rooms.get(data.room_id)?.name ?? '', 'removed');
        break;
      case 'room_deleted':
        hooks.roomGone(data.room_id, data.name, 'deleted');
        break;
      case 'activity': {
        // A new message in one of my rooms (private ones come as 'notify' above).
        const message = data.message || {};
        if (data.update || data.chat?.kind !== 'room' || message.sender_id === me) break;
        const roomId = data.chat.id;
        if (isActive('room', roomId)) break;
        const room = state.rooms.get(roomId);
        if (room) setRoomUnread(roomId, (room.unread || 0) + 1);
        const mentioned = (message.mentions || []).includes(me);
        const level = room?.notify || 'all';
        // As the server's Level::alerts: a bot's urgent alert reaches "mentions" too.
        if (level === 'none' || (level === 'mentions' && !mentioned && !message.alert?.urgent)) break;
        notify({
          title: t('newMessageIn', { name: message.user, room: room?.name ?? '' }),
          body: message.text || '',
          tag: `room-${roomId}`,
          onClick: () => hooks.openChat('room', roomId),
        });
        break;
      }
      case 'read_state':
        if (data.chat?.kind === 'room') setRoomUnread(data.chat.id, data.unread);
        else if (data.chat?.kind === 'user') setUnread(data.chat.id, data.unread);
        break;
      default:
        break;
    }
  }

  const updateTitle = () => setTitleCount(unreadTotal());
  on('unread', updateTitle);
  on('rooms', updateTitle);

  return { socket, ready: refresh() };
}
