// The settings page (/settings): one's password and devices. Each section is its own module;
// others (notifications) join the page the same way.

import './account-strings.js';
import { request } from './api.js';
import { initLanguageSwitch } from './i18n.js';
import { PasswordForm } from './settings-password.js';
import { SessionList } from './settings-sessions.js';

initLanguageSwitch(document.querySelector('.lang-switch'));

request('GET', '/api/account').then((account) => {
  document.getElementById('admin-link').hidden = !account.is_admin;
  const sessions = new SessionList(account);
  new PasswordForm(account, () => sessions.load());
}, (error) => {
  document.getElementById('password-error').textContent = error.message;
});
