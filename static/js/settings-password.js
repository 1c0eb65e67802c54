// Settings: change one's password. The current password is asked for, except right after a
// one-time login link signed this device in (the account says so); changing it signs the
// other devices out.

import { request } from './api.js';
import { say } from './account-common.js';
import { plural, t } from './i18n.js';

export class PasswordForm {
  /** @param {object} account GET /api/account */
  constructor(account, onChanged) {
    this.form = document.getElementById('password-form');
    this.current = document.getElementById('current-password');
    this.fresh = document.getElementById('new-password');
    this.repeat = document.getElementById('repeat-password');
    this.error = document.getElementById('password-error');
    this.status = document.getElementById('password-status');
    this.onChanged = onChanged;
    this.apply(account);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  apply(account) {
    this.account = account;
    const noPassword = account.single_sign_on || !account.has_password;
    document.getElementById('password-sso').hidden = !account.single_sign_on;
    this.form.hidden = account.single_sign_on;
    const needCurrent = !account.may_reset_password && !noPassword;
    document.getElementById('current-field').hidden = !needCurrent;
    this.current.required = needCurrent;
    document.getElementById('welcome').hidden = !account.may_reset_password;
    if (account.may_reset_password) this.fresh.focus();
  }

  async submit() {
    say(this.error, '');
    say(this.status, '');
    const fresh = this.fresh.value;
    if ([...fresh].length < 8 || [...fresh].length > 1024) return say(this.error, t('passwordRule'));
    if (fresh !== this.repeat.value) return say(this.error, t('passwordsDiffer'));
    const body = { new: fresh };
    if (!this.current.closest('[hidden]')) body.current = this.current.value;
    const button = document.getElementById('password-save');
    button.disabled = true;
    try {
      const answer = await request('POST', '/api/account/password', body);
      this.form.reset();
      const ended = answer.ended_sessions || 0;
      say(this.status, ended ? plural('passwordChanged', ended) : t('passwordChangedAlone'));
      this.apply({ ...this.account, may_reset_password: false, has_password: true });
      document.getElementById('welcome').hidden = true;
      this.onChanged();
    } catch (error) {
      say(this.error, error.message);
    } finally {
      button.disabled = false;
    }
  }
}
