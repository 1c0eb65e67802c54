// A WebSocket that comes back: after a network loss or a server restart it reconnects with
// exponential backoff (with jitter, capped), and tells its owner each time it is open again
// so the owner can catch up from history. Closes the server means as final (4403 removed
// from a room, 4404 room deleted) are not retried.

import { socketUrl } from './api.js';

const BASE_DELAY = 500;
const MAX_DELAY = 10_000;
/** Codes after which reconnecting cannot help. */
const FINAL_CODES = new Set([4403, 4404]);

/** The wait before attempt `n` (0-based): 0.5 s, 1 s, 2 s… up to 10 s, each 50–100 % of that. */
export function backoffDelay(attempt) {
  const ceiling = Math.min(MAX_DELAY, BASE_DELAY * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling * (0.5 + Math.random() * 0.5));
}

export class ReconnectingSocket {
  /**
   * @param {string} path  e.g. `/ws/global/<id>`
   * @param {object} handlers  onMessage(data), onOpen(isReconnect), onDown(), onFinal(code, reason),
   *   onFailedAttempt(count): all optional.
   */
  constructor(path, handlers = {}) {
    this.path = path;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.everOpened = false;
    this.stopped = false;
    this.final = false;
    this.failedAttempts = 0;
    this.onOnline = () => this.retryNow();
    this.onVisible = () => { if (document.visibilityState === 'visible') this.retryNow(); };
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.connect();
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Whether the socket is down and expected to come back (the banner shows then). */
  get isDown() {
    return !this.stopped && !this.final && !this.isOpen;
  }

  connect() {
    this.timer = null;
    if (this.stopped) return;
    let opened = false;
    const ws = new WebSocket(socketUrl(this.path));
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      opened = true;
      this.attempt = 0;
      this.failedAttempts = 0;
      const again = this.everOpened;
      this.everOpened = true;
      this.handlers.onOpen?.(again);
    });
    ws.addEventListener('message', (event) => {
      if (this.ws !== ws || typeof event.data !== 'string') return;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handlers.onMessage?.(data);
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (FINAL_CODES.has(event.code)) {
        this.final = true;
        this.handlers.onFinal?.(event.code, event.reason);
        return;
      }
      if (!opened) {
        this.failedAttempts += 1;
        this.handlers.onFailedAttempt?.(this.failedAttempts);
      }
      this.handlers.onDown?.();
      this.schedule();
    });
  }

  schedule() {
    if (this.stopped || this.timer !== null) return;
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Skips the remaining wait (the network or the tab came back). */
  retryNow() {
    if (this.stopped || this.final || this.timer === null) return;
    clearTimeout(this.timer);
    this.connect();
  }

  /** Sends a text frame; false when not connected (the caller keeps what it wanted to send). */
  send(text) {
    if (!this.isOpen) return false;
    this.ws.send(text);
    return true;
  }

  sendJson(value) {
    return this.send(JSON.stringify(value));
  }

  /** Closes for good. */
  close() {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      if (ws.readyState === WebSocket.CONNECTING) ws.addEventListener('open', () => ws.close(1000));
      else ws.close(1000);
    }
  }
}
