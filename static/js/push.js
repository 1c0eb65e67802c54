// Notifications on this device (Web Push), the installable app, and the ntfy/Gotify forward:
// the service worker's registration (every page load), the "Notifications and app" dialog,
// and keeping this browser's subscription known to the server (refreshed on each start, so
// one in use never expires there). Where push cannot work (no HTTPS, no support, blocked,
// iOS outside the installed app) the dialog says so instead of offering a switch.

import { api } from './api.js';
import { byId } from './dom.js';
import { t } from './i18n.js';
import { openDialog, setError, setupDialog } from './modals.js';

const swSupported = 'serviceWorker' in navigator;
/** @type {Promise<ServiceWorkerRegistration|null>} */
let registration = Promise.resolve(null);
/** The browser's install prompt (Chromium), kept for the install button. */
let installPrompt = null;

const isIos = () => /iPad|iPhone|iPod/.test(navigator.userAgent)
  || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
const standalone = () => window.matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;

/**
 * Registers the service worker; `openHash(hash)` shows a conversation when a notification
 * is clicked while this page is open.
 */
export function startServiceWorker(openHash) {
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault();
    installPrompt = event;
  });
  if (!swSupported || !window.isSecureContext) return;
  registration = navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => null);
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'open' && typeof event.data.hash === 'string') openHash(event.data.hash);
  });
  refreshSubscription().catch(() => {});
}

/** Why push can't work here, or 'ok'. */
export function pushSupport() {
  if (!window.isSecureContext) return 'insecure';
  if (isIos() && !standalone()) return 'ios-install';
  if (!swSupported || !('PushManager' in window) || !('Notification' in window)) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  return 'ok';
}

function decodeKey(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

function sameKey(subscription, key) {
  const current = subscription.options?.applicationServerKey;
  if (!current) return true;
  const a = new Uint8Array(current);
  return a.length === key.length && a.every((byte, i) => byte === key[i]);
}

async function currentSubscription() {
  const reg = await registration;
  return reg ? reg.pushManager.getSubscription() : null;
}

/** Tells the server again about this browser's subscription, if it has one. */
async function refreshSubscription() {
  if (pushSupport() !== 'ok' || Notification.permission !== 'granted') return;
  const subscription = await currentSubscription();
  if (subscription) await api.pushSubscribe(subscription.toJSON());
}

async function subscribe() {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error(t('pushDenied'));
  const reg = (await registration) || (await navigator.serviceWorker.ready);
  const key = decodeKey((await api.pushKey()).key);
  let subscription = await reg.pushManager.getSubscription();
  if (subscription && !sameKey(subscription, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await api.pushSubscribe(subscription.toJSON());
}

async function unsubscribe() {
  const subscription = await currentSubscription();
  if (!subscription) return;
  try {
    await api.pushUnsubscribe(subscription.endpoint);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  await subscription.unsubscribe();
}

/** The "Notifications and app" dialog. */
export class PushSettings {
  constructor() {
    this.dialog = setupDialog(byId('push-dialog'));
    this.state = byId('push-state');
    this.toggleRow = byId('push-toggle-row');
    this.toggle = byId('push-toggle');
    this.testButton = byId('push-test');
    this.testStatus = byId('push-test-status');
    this.installText = byId('install-text');
    this.installButton = byId('install-button');
    this.form = byId('forward-form');
    this.forwardError = byId('forward-error');
    this.forwardStatus = byId('forward-status');
    this.tokenHint = byId('forward-token-hint');
    for (const [id, key] of [
      ['push-device-title', 'pushTitle'], ['push-toggle-label', 'pushDevice'], ['push-test', 'pushTest'],
      ['install-title', 'installTitle'], ['install-button', 'installButton'], ['forward-title', 'forwardTitle'],
      ['forward-help', 'forwardHelp'], ['forward-kind-label', 'forwardKind'], ['forward-url-label', 'forwardUrl'],
      ['forward-token-label', 'forwardToken'], ['forward-save', 'forwardSave'], ['forward-remove', 'forwardRemove'],
      ['forward-test', 'forwardTest'],
    ]) byId(id).textContent = t(key);
    byId('push-button').addEventListener('click', () => this.open());
    this.toggle.addEventListener('change', () => this.switched());
    this.testButton.addEventListener('click', () => this.test());
    this.installButton.addEventListener('click', () => this.install());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.saveForward();
    });
    byId('forward-remove').addEventListener('click', () => this.removeForward());
    byId('forward-test').addEventListener('click', () => this.testForward());
    byId('forward-kind').addEventListener('change', () => this.placeholder());
  }

  async open() {
    this.testStatus.textContent = '';
    setError(this.forwardError, '');
    this.forwardStatus.textContent = '';
    openDialog(this.dialog);
    this.renderInstall();
    await Promise.all([this.renderPush(), this.loadForward()]);
  }

  /** The device section: a switch where push can work, a plain sentence where it can't. */
  async renderPush() {
    const support = pushSupport();
    this.dialog.dataset.push = support;
    const works = support === 'ok';
    this.toggleRow.hidden = !works;
    if (!works) {
      this.testButton.hidden = true;
      this.state.textContent = t({ insecure: 'pushNoHttps', 'ios-install': 'pushIosInstall', unsupported: 'pushUnsupported', denied: 'pushBlocked' }[support]);
      return;
    }
    const on = Notification.permission === 'granted' && !!(await currentSubscription().catch(() => null));
    this.toggle.checked = on;
    this.testButton.hidden = !on;
    this.state.textContent = t(on ? 'pushOn' : 'pushOff');
  }

  async switched() {
    this.toggle.disabled = true;
    this.testStatus.textContent = '';
    try {
      if (this.toggle.checked) await subscribe();
      else await unsubscribe();
    } catch (error) {
      this.testStatus.textContent = t('pushFailed', { error: error.message });
    } finally {
      this.toggle.disabled = false;
      await this.renderPush();
    }
  }

  async test() {
    this.testStatus.textContent = '';
    try {
      await api.pushTest();
      this.testStatus.textContent = t('pushTestSent');
    } catch (error) {
      this.testStatus.textContent = t('pushFailed', { error: error.message });
    }
  }

  renderInstall() {
    const section = byId('install-section');
    let key = 'installOther';
    if (standalone()) key = 'installed';
    else if (isIos()) key = 'installIos';
    else if (installPrompt) key = 'installPrompt';
    section.dataset.install = key;
    this.installText.textContent = t(key);
    this.installButton.hidden = key !== 'installPrompt';
  }

  async install() {
    if (!installPrompt) return;
    const prompt = installPrompt;
    installPrompt = null;
    await prompt.prompt();
    this.renderInstall();
  }

  placeholder() {
    const kind = byId('forward-kind').value;
    byId('forward-url').placeholder = kind === 'gotify' ? 'https://gotify.example.org' : 'https://ntfy.sh/your-secret-topic';
  }

  async loadForward() {
    try {
      const forward = await api.pushForward();
      byId('forward-kind').value = forward?.kind || 'ntfy';
      byId('forward-url').value = forward?.url || '';
      byId('forward-token').value = '';
      this.tokenHint.textContent = forward?.token_hint ? t('forwardTokenKept', { hint: forward.token_hint }) : '';
      byId('forward-remove').hidden = !forward;
      byId('forward-test').hidden = !forward;
      this.placeholder();
    } catch (error) {
      setError(this.forwardError, error.message);
    }
  }

  async saveForward() {
    setError(this.forwardError, '');
    this.forwardStatus.textContent = '';
    const token = byId('forward-token').value.trim();
    const body = { kind: byId('forward-kind').value, url: byId('forward-url').value.trim() };
    // An empty token field keeps the stored token (the server never shows it).
    if (token) body.token = token;
    try {
      await api.setPushForward(body);
      await this.loadForward();
      this.forwardStatus.textContent = t('forwardSaved');
    } catch (error) {
      setError(this.forwardError, error.message);
    }
  }

  async removeForward() {
    setError(this.forwardError, '');
    try {
      await api.deletePushForward();
      await this.loadForward();
      this.forwardStatus.textContent = t('forwardRemoved');
    } catch (error) {
      setError(this.forwardError, error.message);
    }
  }

  async testForward() {
    setError(this.forwardError, '');
    try {
      await api.pushForwardTest();
      this.forwardStatus.textContent = t('forwardTestSent');
    } catch (error) {
      setError(this.forwardError, error.message);
    }
  }
}
