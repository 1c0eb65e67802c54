// The connection banner: "Connecting…" while the tab's sockets are not open yet (after a
// short grace period, so a normal page load does not flash it), "Reconnecting…" at once
// when an open connection was lost; gone when every socket is open again.

import { t } from './i18n.js';
import { on } from './state.js';

const GRACE_MS = 800;

/**
 * @param {HTMLElement} banner
 * @param {() => Array<{isDown: boolean, everOpened: boolean}|null>} sockets
 */
export function initConnectionBanner(banner, sockets) {
  let timer = null;
  const update = () => {
    const live = sockets().filter(Boolean);
    const down = live.filter((s) => s.isDown);
    if (down.length === 0) {
      clearTimeout(timer);
      timer = null;
      banner.hidden = true;
      document.body.classList.remove('offline');
      return;
    }
    const lost = down.some((s) => s.everOpened);
    if (lost) {
      clearTimeout(timer);
      timer = null;
      show(t('reconnecting'));
    } else if (banner.hidden && timer === null) {
      timer = setTimeout(() => {
        timer = null;
        if (sockets().filter(Boolean).some((s) => s.isDown)) show(t('connecting'));
      }, GRACE_MS);
    }
  };
  const show = (text) => {
    banner.textContent = text;
    banner.hidden = false;
    document.body.classList.add('offline');
  };
  on('connection', update);
  update();
}
