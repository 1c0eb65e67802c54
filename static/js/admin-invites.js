// Administration: invitations. Create one (how many people, for how long) and copy its link,
// which is shown this once; the list shows each one's uses left and expiry, with Revoke.

import { request } from './api.js';
import { copyField, formatWhen, say } from './account-common.js';
import { el } from './dom.js';
import { plural, t } from './i18n.js';

export class Invites {
  constructor(onChange) {
    this.onChange = onChange;
    this.form = document.getElementById('invite-form');
    this.list = document.getElementById('invite-list');
    this.error = document.getElementById('invite-error');
    this.issued = document.getElementById('invite-issued');
    this.url = document.getElementById('invite-url');
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.create();
    });
    document.getElementById('invite-copy').addEventListener('click', () => copyField(this.url, document.getElementById('invite-copied')));
    this.load();
  }

  async load() {
    try {
      this.render(await request('GET', '/api/admin/invites'));
    } catch (error) {
      say(this.error, error.message);
    }
  }

  render(invites) {
    if (!invites.length) {
      this.list.replaceChildren(el('li', { class: 'card empty', text: t('noInvites') }));
      return;
    }
    this.list.replaceChildren(...invites.map((invite) => {
      const created = formatWhen(invite.created_at);
      const meta = [
        plural('inviteUses', invite.uses_left, { max: invite.max_uses }),
        invite.expired ? t('inviteExpired') : t('inviteExpires', { when: formatWhen(invite.expires_at) }),
      ];
      if (invite.created_by_name) meta.push(t('inviteBy', { name: invite.created_by_name }));
      return el('li', { class: `card${invite.expired || !invite.uses_left ? ' muted-card' : ''}`, dataset: { invite: invite.id } }, [
        el('div', { class: 'card-body' }, [
          el('span', { class: 'card-title', text: created }),
          el('span', { class: 'card-meta', text: meta.join(' · ') }),
        ]),
        el('div', { class: 'card-actions' }, [el('button', {
          type: 'button',
          class: 'secondary small danger-text',
          text: t('revoke'),
          attrs: { 'aria-label': t('revokeInvite', { when: created }) },
          on: { click: () => this.revoke(invite.id) },
        })]),
      ]);
    }));
  }

  async create() {
    say(this.error, '');
    const uses = Number(document.getElementById('invite-uses').value);
    const hours = Number(document.getElementById('invite-hours').value);
    try {
      const made = await request('POST', '/api/admin/invites', { uses, hours });
      this.url.value = made.url;
      this.issued.hidden = false;
      say(document.getElementById('invite-copied'), t('inviteCreated'));
      this.url.focus();
      this.url.select();
      await this.load();
      this.onChange();
    } catch (error) {
      say(this.error, error.message);
    }
  }

  async revoke(id) {
    say(this.error, '');
    try {
      await request('DELETE', `/api/admin/invites/${encodeURIComponent(id)}`);
      await this.load();
      this.onChange();
    } catch (error) {
      say(this.error, error.message);
    }
  }
}
