// Administration: the audit log — who did what to whom, and when — newest first, a page at a
// time.

import { request } from './api.js';
import { formatWhen, say } from './account-common.js';
import { el } from './dom.js';
import { t } from './i18n.js';

const PAGE = 50;

export class AuditLog {
  constructor() {
    this.list = document.getElementById('audit-list');
    this.error = document.getElementById('audit-error');
    this.more = document.getElementById('audit-more');
    this.oldest = null;
    this.more.addEventListener('click', () => this.load(this.oldest));
    this.load(null);
  }

  /** Reloads the newest page (after an action on this page). */
  refresh() {
    return this.load(null);
  }

  async load(before) {
    say(this.error, '');
    try {
      const query = before ? `?before=${before}&limit=${PAGE}` : `?limit=${PAGE}`;
      const entries = await request('GET', `/api/admin/audit${query}`);
      const items = entries.map((e) => this.entry(e));
      if (before) this.list.append(...items);
      else this.list.replaceChildren(...(items.length ? items : [el('li', { class: 'empty', text: t('noAudit') })]));
      if (entries.length) this.oldest = entries[entries.length - 1].id;
      this.more.hidden = entries.length < PAGE;
    } catch (error) {
      say(this.error, error.message);
    }
  }

  entry(e) {
    const target = e.target_name || e.target_id || '';
    let what = t(`action_${e.action}`, { target });
    if (what === `action_${e.action}`) what = e.action;
    const detail = e.detail ? ` (${e.detail})` : '';
    return el('li', { class: 'audit-entry', dataset: { action: e.action } }, [
      el('time', { class: 'card-meta', text: formatWhen(e.at), attrs: { datetime: e.at } }),
      el('span', {}, [el('strong', { text: e.actor_name }), ` ${what}${detail}`]),
    ]);
  }
}
