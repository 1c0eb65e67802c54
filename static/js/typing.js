// "… is typing": while I type, a typing frame goes out when I start and again every few
// seconds while I go on (the server forwards at most one per ~2 s), and a stop when I send,
// clear the text, go idle or leave. Others' indicators show in the conversation header and
// fade if no news comes for a while (a lost "stopped").

import { t } from './i18n.js';

/** While typing, the indicator is renewed this often. */
const RENEW_MS = 3000;
/** No keystroke for this long counts as stopping. */
const IDLE_MS = 5000;
/** An indicator with no news for this long fades. */
const FADE_MS = 6000;

export class TypingSender {
  /** @param {(active: boolean) => void} send */
  constructor(send) {
    this.send = send;
    this.active = false;
    this.lastSent = 0;
    this.idleTimer = null;
  }

  /** The composer's text changed. */
  changed(text) {
    if (!text.trim()) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (!this.active || now - this.lastSent >= RENEW_MS) {
      this.send(true);
      this.active = true;
      this.lastSent = now;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
  }

  /** Sent, cleared, idle or leaving: the others see me stop. */
  stop() {
    clearTimeout(this.idleTimer);
    if (!this.active) return;
    this.active = false;
    this.send(false);
  }
}

export class TypingIndicator {
  /** @param {(text: string) => void} show  '' when nobody types */
  constructor(show) {
    this.show = show;
    this.typists = new Map();
  }

  /** A typing event: {user_id, name, active}. */
  typing({ user_id: id, name, active }) {
    clearTimeout(this.typists.get(id)?.timer);
    if (active) {
      const timer = setTimeout(() => this.stopped(id), FADE_MS);
      this.typists.set(id, { name, timer });
    } else {
      this.typists.delete(id);
    }
    this.render();
  }

  /** `id` sent a message (which ends their typing) or left. */
  stopped(id) {
    const known = this.typists.get(id);
    if (!known) return;
    clearTimeout(known.timer);
    this.typists.delete(id);
    this.render();
  }

  render() {
    const names = [...this.typists.values()].map((x) => x.name);
    let text = '';
    if (names.length === 1) text = t('typingOne', { name: names[0] });
    else if (names.length === 2) text = t('typingTwo', { a: names[0], b: names[1] });
    else if (names.length > 2) text = t('typingMany');
    this.show(text);
  }

  clear() {
    for (const { timer } of this.typists.values()) clearTimeout(timer);
    this.typists.clear();
    this.render();
  }
}
