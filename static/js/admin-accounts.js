// Administration: the accounts (name, role, online, last seen, registered, disabled), each
// with its actions: make or remove administrator, disable or enable, a one-time sign-in link
// (shown with its QR code), delete (after a confirmation that says what happens).

import { request } from './api.js';
import { formatWhen, copyField, say } from './account-common.js';
import { el } from './dom.js';
import { t } from './i18n.js';
import { openDialog, closeDialog, setupDialog } from './modals.js';

const PAGE = 100;

export class AccountList {
  /**
   * @param onChange   after any action (the audit log shows it)
   * @param onDeleted  after an account is deleted (its files went with it)
   */
  constructor(me, onChange, onDeleted) {
    this.me = me;
    this.onChange = onChange;
    this.onDeleted = onDeleted;
    this.list = document.getElementById('account-list');
    this.error = document.getElementById('accounts-error');
    this.status = document.getElementById('accounts-status');
    this.more = document.getElementById('accounts-more');
    this.accounts = [];
    this.next = null;
    this.more.addEventListener('click', () => this.load(this.next));
    this.linkDialog = setupDialog(document.getElementById('link-dialog'));
    this.deleteDialog = setupDialog(document.getElementById('delete-account-dialog'));
    document.getElementById('link-copy').addEventListener('click', () => copyField(document.getElementById('link-url'), document.getElementById('link-copied')));
    document.getElementById('delete-account-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.confirmDelete();
    });
    this.load(null);
  }

  async load(after) {
    say(this.error, '');
    try {
      const query = after ? `?after=${after}&limit=${PAGE}` : `?limit=${PAGE}`;
      const page = await request('GET', `/api/admin/users${query}`);
      this.accounts = after ? this.accounts.concat(page.users) : page.users;
      this.next = page.next;
      this.more.hidden = !page.next;
      this.render();
    } catch (error) {
      say(this.error, error.message);
    }
  }

  /** Reloads what is shown (after an action), keeping the pages already loaded. */
  async refresh() {
    const shown = this.accounts.length;
    const page = await request('GET', `/api/admin/users?limit=${Math.min(Math.max(shown, PAGE), 500)}`);
    this.accounts = page.users;
    this.next = page.next;
    this.more.hidden = !page.next;
    this.render();
  }

  render() {
    this.list.replaceChildren(...this.accounts.map((a) => this.card(a)));
  }

  card(account) {
    const badges = [el('span', { class: `badge-tag${account.is_admin ? ' admin' : ''}`, text: account.is_admin ? t('admin') : t('member') })];
    if (account.online) badges.push(el('span', { class: 'badge-tag online', text: t('online') }));
    if (account.disabled) badges.push(el('span', { class: 'badge-tag disabled', text: t('disabled') }));
    if (account.id === this.me) badges.push(el('span', { class: 'badge-tag', text: t('you') }));
    const meta = [
      el('span', { class: 'card-meta', text: account.created_at ? t('created', { when: formatWhen(account.created_at) }) : t('createdUnknown') }),
      el('span', { class: 'card-meta', text: account.last_seen ? t('lastSeen', { when: formatWhen(account.last_seen) }) : t('neverSeen') }),
    ];
    const action = (name, label, run, extra = '') => el('button', {
      type: 'button',
      class: `secondary small ${extra}`.trim(),
      text: label,
      dataset: { action: name },
      on: { click: run },
    });
    const actions = [
      account.is_admin
        ? action('demote', t('demote'), () => this.act(account, 'demote'))
        : action('promote', t('promote'), () => this.act(account, 'promote')),
      account.disabled
        ? action('enable', t('enable'), () => this.act(account, 'enable'))
        : action('disable', t('disable'), () => this.act(account, 'disable')),
      action('login-link', t('loginLink'), (event) => this.issueLink(account, event.currentTarget)),
      action('delete', t('deleteAccount'), (event) => this.askDelete(account, event.currentTarget), 'danger-text'),
    ];
    if (account.disabled) actions[2].disabled = true;
    return el('li', { class: `card${account.disabled ? ' muted-card' : ''}`, dataset: { account: account.id, name: account.name } }, [
      el('div', { class: 'card-body' }, [
        el('span', { class: 'card-title' }, [el('span', { class: 'account-name', text: account.name }), ...badges]),
        ...meta,
      ]),
      el('div', { class: 'card-actions', attrs: { role: 'group', 'aria-label': t('actionsFor', { name: account.name }) } }, actions),
    ]);
  }

  async act(account, what) {
    say(this.error, '');
    try {
      await request('POST', `/api/admin/users/${encodeURIComponent(account.id)}/${what}`);
      await this.refresh();
      this.onChange();
    } catch (error) {
      say(this.error, error.message);
    }
  }

  async issueLink(account) {
    say(this.error, '');
    try {
      const link = await request('POST', `/api/admin/users/${encodeURIComponent(account.id)}/login-link`);
      document.getElementById('link-for').textContent = t('linkFor', { name: account.name });
      const qr = document.getElementById('link-qr');
      qr.src = link.qr;
      qr.alt = t('qrAlt', { name: account.name });
      document.getElementById('link-url').value = link.url;
      document.getElementById('link-expires').textContent = t('linkExpires', { when: formatWhen(link.expires_at) });
      say(document.getElementById('link-copied'), '');
      openDialog(this.linkDialog, document.getElementById('link-copy'));
      this.onChange();
    } catch (error) {
      say(this.error, error.message);
    }
  }

  askDelete(account) {
    this.deleting = account;
    document.getElementById('delete-account-name').textContent = account.name;
    say(document.getElementById('delete-account-error'), '');
    openDialog(this.deleteDialog, document.getElementById('delete-account-confirm'));
  }

  async confirmDelete() {
    const account = this.deleting;
    if (!account) return;
    try {
      await request('DELETE', `/api/admin/users/${encodeURIComponent(account.id)}`);
      closeDialog(this.deleteDialog);
      say(this.status, t('accountDeleted', { name: account.name }));
      await this.refresh();
      this.onChange();
      this.onDeleted();
    } catch (error) {
      say(document.getElementById('delete-account-error'), error.message);
    }
  }
}
