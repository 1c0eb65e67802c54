// Administration: disk use — what the stored files take against the server's limits, the
// disk's free space, and each person's uploads, largest first.

import { request } from './api.js';
import { say } from './account-common.js';
import { formatSize } from './attachments.js';
import { el } from './dom.js';
import { plural, t } from './i18n.js';

export class DiskUse {
  constructor() {
    this.summary = document.getElementById('files-summary');
    this.list = document.getElementById('files-list');
    this.error = document.getElementById('files-error');
    this.refresh();
  }

  /** Reloads the figures. */
  async refresh() {
    say(this.error, '');
    try {
      this.show(await request('GET', '/api/admin/files'));
    } catch (error) {
      say(this.error, error.message);
    }
  }

  show(use) {
    const summary = t('filesSummary', {
      stored: formatSize(use.stored_bytes),
      total: formatSize(use.total_quota),
      quota: formatSize(use.user_quota),
      free: formatSize(use.free_bytes),
      floor: formatSize(use.min_free_space),
    });
    const kept = use.retention_seconds
      ? t('filesRetention', { days: Math.round(use.retention_seconds / 86400) })
      : t('filesKept');
    const more = use.more ? ` ${t('filesMore', { n: use.users.length })}` : '';
    say(this.summary, `${summary} ${kept}${more}`);
    const items = use.users.map((u) => el('li', { class: 'card', dataset: { user: u.user_id } }, [
      el('div', { class: 'card-body' }, [
        el('span', { class: 'card-title', text: u.name }),
        el('span', { class: 'card-meta', text: plural('filesOf', u.files, { size: formatSize(u.bytes) }) }),
      ]),
    ]));
    this.list.replaceChildren(...(items.length ? items : [el('li', { class: 'card empty', text: t('noFiles') })]));
  }
}
