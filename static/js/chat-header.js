// The header of the open conversation: avatar, name (with a muted mark when its
// notifications are off), presence (private chats; "connecting…" while presence is not
// current) or member count and description (rooms), "… is typing" in place of those while
// someone types, and the buttons for the members and the conversation's menu.

import { avatar, byId, el } from './dom.js';
import { icon } from './icons.js';
import { plural, t } from './i18n.js';
import { notifyLevel, state } from './state.js';

export class ChatHeader {
  constructor() {
    this.avatar = byId('chat-avatar');
    this.title = byId('chat-title');
    this.subtitle = byId('chat-subtitle');
    this.membersButton = byId('members-button');
    this.menuButton = document.getElementById('chat-menu-button');
    this.active = null;
    this.fallbackName = '';
    this.typingText = '';
  }

  /** Shows `active` ({kind, id} or null); `fallbackName` until the user list is loaded. */
  render(active = this.active, fallbackName = this.fallbackName) {
    if (!active) return;
    if (active !== this.active) this.typingText = '';
    this.active = active;
    this.fallbackName = fallbackName;
    const muted = notifyLevel(active.kind, active.id) === 'none';
    let sub;
    if (active.kind === 'user') {
      const user = state.users.get(active.id);
      const name = user?.name ?? fallbackName;
      this.avatar.replaceChildren(avatar(active.id, name));
      this.setTitle(name, muted);
      if (!user) sub = '';
      else if (!state.live) sub = t('connecting');
      else sub = user.online ? t('online') : t('offline');
      this.subtitle.classList.toggle('is-online', !!user?.online && state.live);
      this.subtitle.title = '';
      this.membersButton.hidden = true;
    } else {
      const room = state.rooms.get(active.id);
      const name = room?.name ?? fallbackName;
      this.avatar.replaceChildren(avatar(active.id, name, 'room-avatar'));
      this.setTitle(name, muted);
      const parts = room ? [plural('members', room.member_count)] : [];
      if (room?.description) parts.push(room.description);
      sub = parts.join(' · ');
      this.subtitle.title = room?.description ?? '';
      this.subtitle.classList.remove('is-online');
      this.membersButton.hidden = false;
    }
    this.subtitle.classList.toggle('typing', !!this.typingText);
    this.subtitle.textContent = this.typingText || sub;
  }

  setTitle(name, muted) {
    const parts = [name];
    if (muted) parts.push(el('span', { class: 'muted-mark', title: t('mutedTitle'), attrs: { role: 'img', 'aria-label': t('muted') } }, [icon('muted')]));
    this.title.replaceChildren(...parts);
  }

  /** "alice is typing…" in place of the subtitle ('' shows the subtitle again). */
  setTyping(text) {
    this.typingText = text;
    this.render();
  }

  /** The display name of what `active` points at. */
  nameOf(active) {
    if (!active) return '';
    return active.kind === 'user' ? (state.users.get(active.id)?.name ?? '') : (state.rooms.get(active.id)?.name ?? '');
  }
}
