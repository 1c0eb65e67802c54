// Browser notifications (only after the user allowed them with the visible button — the
// page never asks on its own), the unread total in the tab title, and short notices in the
// page (a room was deleted, a message could not be sent...).

import { el } from './dom.js';
import { t } from './i18n.js';

const supported = typeof window.Notification === 'function';
const baseTitle = document.title;

/** Shows "(3) MyChat" while anything is unread, and the count on the installed app's icon. */
export function setTitleCount(total) {
  document.title = total > 0 ? `(${total}) ${baseTitle}` : baseTitle;
  if ('setAppBadge' in navigator) {
    (total > 0 ? navigator.setAppBadge(total) : navigator.clearAppBadge()).catch(() => {});
  }
}

/** Wires the "Enable notifications" button; it shows while the browser has not been asked. */
export function initNotifyButton(button) {
  const refresh = () => {
    const permission = supported ? Notification.permission : 'unsupported';
    button.hidden = permission === 'unsupported' || permission === 'granted';
    button.disabled = permission === 'denied';
    const label = permission === 'denied' ? t('notifyBlocked') : t('notifyEnable');
    button.title = label;
    button.setAttribute('aria-label', label);
  };
  button.addEventListener('click', async () => {
    if (!supported || Notification.permission !== 'default') return;
    try {
      await Notification.requestPermission();
    } finally {
      refresh();
    }
  });
  refresh();
}

/**
 * Shows a notification if the user allowed them. `tag` collapses repeats (several tabs get
 * the same event); `onClick` runs after the tab is focused.
 */
export function notify({ title, body, tag, onClick }) {
  if (!supported || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(title, { body: body.length > 200 ? `${body.slice(0, 200)}…` : body, tag, icon: '/static/favicon.svg' });
    n.addEventListener('click', () => {
      window.focus();
      onClick?.();
      n.close();
    });
  } catch {
    // Some platforms only allow notifications from a service worker; the badge still shows.
  }
}

let noticeArea = null;

/** A short message at the top of the page; it goes away by itself or with its button. */
export function showNotice(text, kind = 'info') {
  noticeArea ??= document.getElementById('notices');
  if (!noticeArea) return;
  const notice = el('div', { class: `notice notice-${kind}`, attrs: { role: kind === 'error' ? 'alert' : 'status' } });
  const close = el('button', {
    type: 'button',
    class: 'icon-button',
    text: '✕',
    title: t('dismiss'),
    attrs: { 'aria-label': t('dismiss') },
    on: { click: () => notice.remove() },
  });
  notice.append(el('span', { text }), close);
  noticeArea.append(notice);
  setTimeout(() => notice.remove(), 8000);
}
