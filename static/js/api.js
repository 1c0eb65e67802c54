// The REST API of README.md "API", one function per endpoint. Every call is same-origin
// with the session cookie; errors become ApiError with the server's `{"error": "..."}` text.

import { t } from './i18n.js';

/** Items per history page, as the server's default. */
export const PAGE = 50;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Reads retry a refusal for load (429, 503) this often, after 1 s, then 2 s. */
const READ_RETRIES = 2;

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** One JSON request (the helpers below use it; so do the settings and admin pages). */
export async function request(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  for (let attempt = 0; ; attempt += 1) {
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, t('network'));
    }
    const busy = response.status === 429 || response.status === 503;
    if (!busy || method !== 'GET' || attempt >= READ_RETRIES) break;
    await sleep(1000 * 2 ** attempt);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.status === 401) {
    // The session ended (logout elsewhere, expiry): back to the login page.
    window.location.assign('/');
    throw new ApiError(401, (data && data.error) || 'not logged in');
  }
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || response.statusText);
  return data;
}

const enc = encodeURIComponent;

/**
 * A history page: `before` (scrolling back), `after` (newer messages), `around` (open at a
 * message), `changedSince` (every change after that change number, in change order).
 */
function pageQuery({ before, after, around, changedSince, limit = PAGE } = {}) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (before) params.set('before', String(before));
  if (after) params.set('after', String(after));
  if (around) params.set('around', String(around));
  if (changedSince !== undefined) params.set('changed_since', String(changedSince));
  return `?${params}`;
}

export const api = {
  me: () => request('GET', '/api/me'),
  users: () => request('GET', '/api/users'),
  history: (me, target, page) => request('GET', `/api/history/${enc(me)}/${enc(target)}${pageQuery(page)}`),
  rooms: () => request('GET', '/api/rooms'),
  room: (id) => request('GET', `/api/rooms/${enc(id)}`),
  createRoom: (name, description) => request('POST', '/api/rooms/create', { name, description }),
  deleteRoom: (id) => request('DELETE', `/api/rooms/${enc(id)}`),
  addMember: (id, userId) => request('POST', `/api/rooms/${enc(id)}/add_user`, { user_id: userId }),
  removeMember: (id, userId) => request('POST', `/api/rooms/${enc(id)}/remove_user`, { user_id: userId }),
  members: (id) => request('GET', `/api/rooms/${enc(id)}/members`),
  bots: (id) => request('GET', `/api/rooms/${enc(id)}/bots`),
  createBot: (id, name) => request('POST', `/api/rooms/${enc(id)}/bots`, { name }),
  rotateBot: (id, bot) => request('POST', `/api/rooms/${enc(id)}/bots/${enc(bot)}/rotate`),
  revokeBot: (id, bot) => request('POST', `/api/rooms/${enc(id)}/bots/${enc(bot)}/revoke`),
  deleteBot: (id, bot) => request('DELETE', `/api/rooms/${enc(id)}/bots/${enc(bot)}`),
  roomHistory: (id, page) => request('GET', `/api/rooms/${enc(id)}/history${pageQuery(page)}`),
  pushKey: () => request('GET', '/api/push/key'),
  pushSubscribe: (subscription) => request('POST', '/api/push/subscribe', subscription),
  pushUnsubscribe: (endpoint) => request('POST', '/api/push/unsubscribe', { endpoint }),
  pushTest: () => request('POST', '/api/push/test'),
  pushForward: () => request('GET', '/api/push/forward'),
  setPushForward: (forward) => request('PUT', '/api/push/forward', forward),
  deletePushForward: () => request('DELETE', '/api/push/forward'),
  pushForwardTest: () => request('POST', '/api/push/forward/test'),
  leaveRoom: (id) => request('POST', `/api/rooms/${enc(id)}/leave`, {}),
  chats: () => request('GET', '/api/chats'),
  setNotify: (kind, id, level) => request('POST', '/api/chats/notify', { chat: { kind, id }, level }),
  search: (query) => request('GET', `/api/search?q=${enc(query)}`),
};

/** The WebSocket URL for a path on this server. */
export function socketUrl(path) {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}${path}`;
}
