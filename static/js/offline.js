// The offline page (shown by the service worker when the server can't be reached): its text
// in the interface language, and a retry that loads the page that failed again.

import { lang, t } from './i18n.js';

document.documentElement.lang = lang;
document.title = `MyChat — ${t('offlineTitle')}`;
document.getElementById('offline-title').textContent = t('offlineTitle');
document.getElementById('offline-text').textContent = t('offlineText');
const retry = document.getElementById('offline-retry');
retry.textContent = t('offlineRetry');
retry.addEventListener('click', (event) => {
  event.preventDefault();
  window.location.reload();
});
