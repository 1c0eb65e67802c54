// The tab's one global socket (/ws/global/{me}): presence, the chat list kept live
// (`activity`, `read_state`, `chat_settings`), read receipts, desktop notifications for
// conversations not in view (following each conversation's notification level) and room
// membership events. Whenever it is open again after a loss, the users, rooms and chat list
// are fetched anew; while it is down, presence is not shown as current.

import { api } from './api.js';
import { t } from './i18n.js';
import { notify, setTitleCount } from './notify.js';
import { ReconnectingSocket } from './socket.js';
import {
  applyPresence, emit, isActive, noteMessage, notifyLevel, noteUpdate, on, setChatNotify, setChatUnread,
  setChats, setLive, setRooms, setUsers, state, unreadTotal, upsertRoom,
} from './state.js';

/** Whether this tab shows the conversation to the reader right now. */
function inView(kind, id) {
  return isActive(kind, id) && document.visibilityState === 'visible';
}

/**
 * Starts the global socket and loads the lists.
 * @param {object} hooks {openChat(kind, id), roomGone(id, name, reason)}
 * @returns {{socket: ReconnectingSocket, ready: Promise<void>}}
 */
export function startGlobal(hooks) {
  const me = state.me.id;
  let loaded = false;

  async function refresh() {
    const [users, rooms, chats] = await Promise.all([api.users(), api.rooms(), api.chats()]);
    setUsers(users);
    const known = new Map(state.rooms);
    setRooms(rooms);
    setChats(chats);
    for (const [id, room] of known) {
      if (!state.rooms.has(id)) hooks.roomGone(id, room.name, 'gone');
    }
    loaded = true;
    emit('chats-loaded');
  }

  const socket = new ReconnectingSocket(`/ws/global/${encodeURIComponent(me)}`, {
    onOpen: (again) => {
      setLive(true);
      if (again || loaded) refresh().catch(() => {});
    },
    onDown: () => setLive(false),
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
      case 'activity':
        activity(data);
        break;
      case 'notify':
        // A private message in a conversation no tab of mine shows (the server weighed the
        // notification level). The chat list counts it from `activity`.
        if (inView('user', data.from_id)) break;
        notify({
          title: t('newMessageFrom', { name: data.from_name }),
          body: data.text,
          tag: `user-${data.from_id}`,
          onClick: () => hooks.openChat('user', data.from_id),
        });
        break;
      case 'read_state':
        if (data.chat) setChatUnread(data.chat.kind, data.chat.id, data.unread, data.chat.kind === 'room' ? data.mentions : undefined);
        break;
      case 'unread_reset':
        setChatUnread('user', data.from_id, 0);
        break;
      case 'chat_settings':
        if (data.chat) setChatNotify(data.chat.kind, data.chat.id, data.notify);
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
      default:
        break;
    }
  }

  /** A message in one of my conversations (mine too), or a change to one's latest message. */
  function activity(data) {
    const { chat, message } = data;
    if (!chat || !message || typeof message.id !== 'number') return;
    if (data.update) {
      noteUpdate(chat.kind, chat.id, message);
      return;
    }
    const incoming = message.sender_id !== me;
    // What the open conversation shows is counted by what the reader sees there (reads.js).
    noteMessage(chat.kind, chat.id, message, incoming && !inView(chat.kind, chat.id));
    if (!incoming || chat.kind !== 'room' || inView('room', chat.id)) return;
    const mentioned = (message.mentions || []).includes(me);
    const level = notifyLevel('room', chat.id);
    // As the server's Level::alerts: a bot's urgent alert reaches "mentions" too.
    if (level === 'none' || (level === 'mentions' && !mentioned && !message.alert?.urgent)) return;
    const room = state.rooms.get(chat.id);
    notify({
      title: mentioned
        ? t('mentionedIn', { name: message.user, room: room?.name ?? '' })
        : t('newMessageIn', { name: message.user, room: room?.name ?? '' }),
      body: message.text || '',
      tag: `room-${chat.id}`,
      onClick: () => hooks.openChat('room', chat.id),
    });
  }

  const updateTitle = () => setTitleCount(unreadTotal());
  on('chats', updateTitle);

  return { socket, ready: refresh() };
}

