// Settings: the devices signed in to this account (its sessions), each with when it signed
// in, when it was last used, its address and browser, and a button that signs it out; and
// "sign out everywhere else".

import { request } from './api.js';
import { describeAgent, formatWhen, say } from './account-common.js';
import { el } from './dom.js';
import { plural, t } from './i18n.js';

export class SessionList {
  constructor(account) {
    this.list = document.getElementById('session-list');
    this.error = document.getElementById('sessions-error');
    this.status = document.getElementById('sessions-status');
    this.endOthers = document.getElementById('end-others');
    this.sso = account.single_sign_on;
    this.endOthers.addEventListener('click', () => this.signOutOthers());
    this.load();
  }

  async load() {
    if (this.sso) {
      this.endOthers.hidden = true;
      say(this.status, t('ssoSessions'));
      return;
    }
    try {
      this.render(await request('GET', '/api/account/sessions'));
    } catch (error) {
      say(this.error, error.message);
    }
  }

  render(sessions) {
    const items = sessions.map((s) => {
      const device = describeAgent(s.user_agent);
      const lines = [
        el('span', { class: 'card-title', text: s.current ? `${device} — ${t('thisDevice')}` : device }),
        el('span', { class: 'card-meta', text: t('signedIn', { when: formatWhen(s.created_at) }) }),
        el('span', { class: 'card-meta', text: t('lastUsed', { when: formatWhen(s.last_seen) }) }),
      ];
      if (s.address) lines.push(el('span', { class: 'card-meta', text: t('fromAddress', { address: s.address }) }));
      const actions = s.current ? [] : [el('button', {
        type: 'button',
        class: 'secondary',
        text: t('signOut'),
        attrs: { 'aria-label': t('signOutDevice', { device }) },
        on: { click: () => this.signOut(s.id) },
      })];
      return el('li', { class: `card${s.current ? ' current' : ''}`, dataset: { session: s.id } }, [
        el('div', { class: 'card-body' }, lines),
        el('div', { class: 'card-actions' }, actions),
      ]);
    });
    this.list.replaceChildren(...items);
    this.endOthers.disabled = sessions.length <= 1;
  }

  async signOut(id) {
    say(this.error, '');
    try {
      await request('DELETE', `/api/account/sessions/${encodeURIComponent(id)}`);
      say(this.status, t('sessionEnded'));
      await this.load();
    } catch (error) {
      say(this.error, error.message);
    }
  }

  async signOutOthers() {
    say(this.error, '');
    try {
      const answer = await request('POST', '/api/account/sessions/end-others');
      say(this.status, answer.ended ? plural('endedOthers', answer.ended) : t('noOtherSessions'));
      await this.load();
    } catch (error) {
      say(this.error, error.message);
    }
  }
}
