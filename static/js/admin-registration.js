// Administration: who may register (open, by invitation, closed). A `--registration` flag on
// the server's command line wins over what is chosen here, and the page says so.

import { request } from './api.js';
import { say } from './account-common.js';
import { t } from './i18n.js';

const NAMES = { open: 'modeOpen', invite: 'modeInvite', closed: 'modeClosed' };

export class RegistrationMode {
  constructor(onChange) {
    this.onChange = onChange;
    this.form = document.getElementById('registration-form');
    this.error = document.getElementById('registration-error');
    this.status = document.getElementById('registration-status');
    this.override = document.getElementById('registration-override');
    this.form.addEventListener('change', (event) => {
      if (event.target.name === 'mode') this.save(event.target.value);
    });
    this.load();
  }

  async load() {
    try {
      this.show(await request('GET', '/api/admin/registration'));
    } catch (error) {
      say(this.error, error.message);
    }
  }

  show(settings) {
    for (const input of this.form.querySelectorAll('input[name="mode"]')) input.checked = input.value === settings.stored;
    this.override.hidden = !settings.overridden;
    say(this.override, settings.overridden ? t('modeOverridden', { mode: settings.mode }) : '');
  }

  async save(mode) {
    say(this.error, '');
    say(this.status, '');
    try {
      const settings = await request('POST', '/api/admin/registration', { mode });
      this.show(settings);
      say(this.status, t('modeSaved', { mode: t(NAMES[settings.stored]) }));
      this.onChange();
    } catch (error) {
      say(this.error, error.message);
      this.load();
    }
  }
}
