// Room management in modals: creating a room (then, at once, adding people to it), the
// member list with presence (everyone sees it; the creator adds and removes people, finding
// them by name), and deleting a room (creator only).

import { api } from './api.js';
import { BotManager } from './bots.js';
import { avatar, byId, el } from './dom.js';
import { t } from './i18n.js';
import { closeDialog, openDialog, setError, setupDialog } from './modals.js';
import { on, state, upsertRoom } from './state.js';

export class RoomDialogs {
  /**
   * @param {(kind: string, id: string) => void} onOpen  opens a conversation
   * @param {(id: string, name: string) => void} onDeleted  a room this tab deleted
   */
  constructor(onOpen, onDeleted) {
    this.onOpen = onOpen;
    this.onDeleted = onDeleted;
    this.createDialog = setupDialog(byId('room-dialog'));
    this.membersDialog = setupDialog(byId('members-dialog'));
    this.deleteDialog = setupDialog(byId('delete-dialog'));
    this.membersRoom = null;
    this.members = [];
    this.bots = new BotManager(byId('room-bots'));
    this.deleteRoomId = null;

    byId('new-room').addEventListener('click', () => this.openCreate());
    byId('room-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.create();
    });
    byId('delete-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.confirmDelete();
    });
    this.membersDialog.addEventListener('close', () => { this.membersRoom = null; });
    byId('candidate-filter').addEventListener('input', () => this.renderMembers());
    this.deleteDialog.addEventListener('close', () => { this.deleteRoomId = null; });
    on('presence', () => this.renderMembers());
    on('users', () => this.renderMembers());
    on('rooms', () => this.roomsChanged());
  }

  openCreate() {
    byId('room-form').reset();
    setError(byId('room-error'), '');
    openDialog(this.createDialog, byId('room-name'));
  }

  async create() {
    const name = byId('room-name').value.trim();
    const description = byId('room-description').value.trim();
    const button = byId('room-create');
    if (!name) {
      setError(byId('room-error'), t('roomNameRequired'));
      return;
    }
    button.disabled = true;
    try {
      const room = await api.createRoom(name, description);
      upsertRoom(room);
      closeDialog(this.createDialog);
      this.onOpen('room', room.id);
      // A new room is empty: offer to add people at once.
      this.openMembers(room.id, { created: true });
    } catch (error) {
      setError(byId('room-error'), error.message);
    } finally {
      button.disabled = false;
    }
  }

  isCreator(roomId) {
    return state.rooms.get(roomId)?.creator_id === state.me.id;
  }

  /** The members dialog; `created`: the room was just made, so adding people comes first. */
  async openMembers(roomId, { created = false } = {}) {
    this.membersRoom = roomId;
    this.members = [];
    byId('members-room-name').textContent = state.rooms.get(roomId)?.name ?? '';
    byId('members-intro').hidden = !created;
    byId('members-done').hidden = !created;
    byId('candidate-filter').value = '';
    setError(byId('members-error'), '');
    this.renderMembers();
    openDialog(this.membersDialog, created ? byId('candidate-filter') : undefined);
    // Whoever may manage the room's bots: its creator or an administrator (the server decides,
    // see may_manage_bots; the page shows the admin link to administrators only).
    this.bots.show(roomId, this.isCreator(roomId) || byId('admin-link')?.hidden === false);
    await this.loadMembers();
  }

  async loadMembers() {
    const roomId = this.membersRoom;
    if (!roomId) return;
    try {
      const members = await api.members(roomId);
      if (this.membersRoom !== roomId) return;
      this.members = members;
      this.renderMembers();
    } catch (error) {
      if (this.membersRoom === roomId) setError(byId('members-error'), error.message);
    }
  }

  renderMembers() {
    const roomId = this.membersRoom;
    if (!roomId) return;
    const creator = this.isCreator(roomId);
    const list = byId('member-list');
    const rows = this.members.map((m) => {
      const online = state.users.get(m.id)?.online ?? m.online;
      const name = state.users.get(m.id)?.name ?? m.name;
      const tags = [m.is_creator ? t('creator') : null, m.id === state.me.id ? t('youTag') : null].filter(Boolean);
      const row = this.personRow(m.id, name, online, tags.join(' · ') || null);
      if (creator && !m.is_creator) {
        row.append(el('button', {
          type: 'button',
          class: 'small-button danger-text',
          text: t('remove'),
          attrs: { 'aria-label': t('removeMember', { name }) },
          on: { click: (event) => this.changeMember(event.currentTarget, 'remove', m.id) },
        }));
      }
      return row;
    });
    list.replaceChildren(...rows);

    const addSection = byId('add-members');
    addSection.hidden = !creator;
    if (!creator) return;
    const memberIds = new Set(this.members.map((m) => m.id));
    const needle = byId('candidate-filter').value.trim().toLowerCase();
    const candidates = [...state.users.values()]
      .filter((u) => !memberIds.has(u.id) && u.id !== state.me.id && (!needle || u.name.toLowerCase().includes(needle)));
    const candidateRows = candidates.map((u) => {
      const row = this.personRow(u.id, u.name, u.online, null);
      row.append(el('button', {
        type: 'button',
        class: 'small-button',
        text: t('add'),
        attrs: { 'aria-label': t('addMember', { name: u.name }) },
        on: { click: (event) => this.changeMember(event.currentTarget, 'add', u.id) },
      }));
      return row;
    });
    const none = needle ? t('noMatches') : t('nobodyToAdd');
    byId('candidate-list').replaceChildren(...(candidateRows.length ? candidateRows : [el('li', { class: 'list-empty', text: none })]));
  }

  personRow(id, name, online, tag) {
    return el('li', { class: 'member', dataset: { id } }, [
      el('span', { class: 'avatar-wrap' }, [
        avatar(id, name),
        el('span', { class: `presence-dot${online ? ' online' : ''}`, attrs: { 'aria-hidden': 'true' } }),
      ]),
      el('span', { class: 'item-body' }, [
        el('span', { class: 'item-name', text: name }),
        el('span', { class: `item-sub${online ? ' is-online' : ''}`, text: tag ? `${tag} · ${online ? t('online') : t('offline')}` : (online ? t('online') : t('offline')) }),
      ]),
    ]);
  }

  async changeMember(button, action, userId) {
    const roomId = this.membersRoom;
    if (!roomId) return;
    button.disabled = true;
    setError(byId('members-error'), '');
    try {
      const room = action === 'add' ? await api.addMember(roomId, userId) : await api.removeMember(roomId, userId);
      upsertRoom(room);
      await this.loadMembers();
      // Keep the keyboard in the dialog (its rows were rebuilt): on the next person to add.
      const next = byId('candidate-list').querySelector('button:not([disabled])');
      (next ?? byId('members-dialog').querySelector('button:not([disabled])'))?.focus();
    } catch (error) {
      setError(byId('members-error'), error.message);
      button.disabled = false;
    }
  }

  /** A room changed (members joined or left, or it is gone): refresh or close its dialogs. */
  roomsChanged() {
    if (this.membersRoom) {
      if (!state.rooms.has(this.membersRoom)) closeDialog(this.membersDialog);
      else {
        const count = state.rooms.get(this.membersRoom).member_count;
        if (count !== this.members.length) this.loadMembers();
      }
    }
    if (this.deleteRoomId && !state.rooms.has(this.deleteRoomId)) closeDialog(this.deleteDialog);
  }

  openDelete(roomId) {
    if (!this.isCreator(roomId)) return;
    this.deleteRoomId = roomId;
    byId('delete-room-name').textContent = state.rooms.get(roomId)?.name ?? '';
    setError(byId('delete-error'), '');
    openDialog(this.deleteDialog, byId('delete-confirm'));
  }

  async confirmDelete() {
    const roomId = this.deleteRoomId;
    if (!roomId) return;
    const button = byId('delete-confirm');
    button.disabled = true;
    try {
      const name = state.rooms.get(roomId)?.name ?? '';
      await api.deleteRoom(roomId);
      closeDialog(this.deleteDialog);
      this.onDeleted(roomId, name);
    } catch (error) {
      setError(byId('delete-error'), error.message);
    } finally {
      button.disabled = false;
    }
  }
}
