// The conversation header's menu: my notification level for the conversation (everything,
// mentions only in rooms, nothing — muted), and leaving a room (members) or deleting it (its
// creator). The level is stored on the server, so every tab and device follows it.

import { api } from './api.js';
import { icon } from './icons.js';
import { t } from './i18n.js';
import { showNotice } from './notify.js';
import { openMenu } from './popup.js';
import { notifyLevel, setChatNotify, state } from './state.js';

export class ChatMenu {
  /**
   * @param {HTMLElement} button  the header's menu button
   * @param {object} hooks {leave(roomId), remove(roomId)}
   */
  constructor(button, hooks) {
    this.button = button;
    this.hooks = hooks;
    button.addEventListener('click', () => this.open());
  }

  open() {
    const active = state.active;
    if (!active) return;
    const { kind, id } = active;
    const level = notifyLevel(kind, id);
    const levels = kind === 'room'
      ? [['all', t('notifyAll')], ['mentions', t('notifyMentions')], ['none', t('notifyNone')]]
      : [['all', t('notifyAll')], ['none', t('notifyNone')]];
    const items = levels.map(([value, text]) => ({
      text,
      id: `notify-${value}`,
      checked: level === value || (kind === 'user' && value === 'all' && level === 'mentions'),
      icon: icon(value === 'none' ? 'muted' : 'bell'),
      action: () => this.setLevel(kind, id, value),
      returnFocus: true,
    }));
    if (kind === 'room') {
      items.push('separator');
      // The creator sees "leave" too, and is told there to delete the room instead.
      items.push({ text: t('leaveRoom'), id: 'leave-room-button', icon: icon('leave'), danger: true, action: () => this.hooks.leave(id) });
      if (state.rooms.get(id)?.creator_id === state.me.id) {
        items.push({ text: t('deleteRoom'), id: 'delete-room-button', icon: icon('trash'), danger: true, action: () => this.hooks.remove(id) });
      }
    }
    openMenu({ anchor: this.button, opener: this.button, label: t('chatMenu'), items });
  }

  async setLevel(kind, id, level) {
    const before = notifyLevel(kind, id);
    if (before === level) return;
    setChatNotify(kind, id, level);
    try {
      await api.setNotify(kind, id, level);
    } catch (error) {
      setChatNotify(kind, id, before);
      showNotice(t('requestFailed', { error: error.message }), 'error');
    }
  }
}
