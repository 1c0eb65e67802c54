// The header of the open conversation: avatar, name, presence (private chats) or member
// count and description (rooms), and the room actions the reader may use.

import { avatar, byId } from './dom.js';
import { plural, t } from './i18n.js';
import { state } from './state.js';

export class ChatHeader {
  constructor() {
    this.avatar = byId('chat-avatar');
    this.title = byId('chat-title');
    this.subtitle = byId('chat-subtitle');
    this.membersButton = byId('members-button');
    this.deleteButton = byId('delete-room-button');
  }

  /** Shows `active` ({kind, id} or null); `fallbackName` until the user list is loaded. */
  render(active, fallbackName = '') {
    if (!active) return;
    if (active.kind === 'user') {
      const user = state.users.get(active.id);
      const name = user?.name ?? fallbackName;
      this.avatar.replaceChildren(avatar(active.id, name));
      this.title.textContent = name;
      this.subtitle.textContent = user ? (user.online ? t('online') : t('offline')) : '';
      this.subtitle.classList.toggle('is-online', !!user?.online);
      this.membersButton.hidden = true;
      this.deleteButton.hidden = true;
    } else {
      const room = state.rooms.get(active.id);
      const name = room?.name ?? fallbackName;
      this.avatar.replaceChildren(avatar(active.id, name, 'room-avatar'));
      this.title.textContent = name;
      const parts = room ? [plural('members', room.member_count)] : [];
      if (room?.description) parts.push(room.description);
      this.subtitle.textContent = parts.join(' · ');
      this.subtitle.title = room?.description ?? '';
      this.subtitle.classList.remove('is-online');
      this.membersButton.hidden = false;
      this.deleteButton.hidden = room?.creator_id !== state.me.id;
    }
  }

  /** The display name of what `active` points at. */
  nameOf(active) {
    if (!active) return '';
    return active.kind === 'user' ? (state.users.get(active.id)?.name ?? '') : (state.rooms.get(active.id)?.name ?? '');
  }
}
