// The administration page (/admin, administrators only): accounts, invitations, the
// registration mode, disk use and the audit log, each its own module. An action in one
// section shows in the audit log at once; a deleted account's files leave the disk use.

import './account-strings.js';
import { AccountList } from './admin-accounts.js';
import { AuditLog } from './admin-audit.js';
import { DiskUse } from './admin-files.js';
import { Invites } from './admin-invites.js';
import { RegistrationMode } from './admin-registration.js';
import { initLanguageSwitch } from './i18n.js';

initLanguageSwitch(document.querySelector('.lang-switch'));

const audit = new AuditLog();
const disk = new DiskUse();
const changed = () => audit.refresh();
new AccountList(document.body.dataset.userId, changed, () => disk.refresh());
new Invites(changed);
new RegistrationMode(changed);
