// Bots, in the web app: a bot's message drawn with its mark, alert title, priority, tags,
// link and resolved state (alertBlock, called by messages.js), and the bots section of a
// room's members dialog for whoever may manage them (BotManager): create one, see its token
// once with the exact URL to paste into each tool, rotate, revoke, delete.

import { api } from './api.js';
import { el } from './dom.js';
import { t } from './i18n.js';
import { setError } from './modals.js';

/** ntfy's tags that are emoji names (the common ones); others are shown as words. */
const TAG_EMOJI = {
  red_circle: '🔴', green_circle: '🟢', yellow_circle: '🟡', warning: '⚠️', rotating_light: '🚨',
  white_check_mark: '✅', heavy_check_mark: '✔️', x: '❌', skull: '💀', fire: '🔥', tada: '🎉',
  floppy_disk: '💾', wrench: '🔧', bell: '🔔', loudspeaker: '📢', '+1': '👍', '-1': '👎',
};

/** The line above a bot's text: the bot mark, the alert's state, title, priority and tags. */
export function alertBlock(item) {
  const alert = item.alert || {};
  const parts = [el('span', { class: 'bot-mark', text: t('botMark'), title: t('botTitle') })];
  if (alert.status === 'resolved') parts.push(el('span', { class: 'alert-state resolved', text: `✓ ${t('alertResolved')}` }));
  else if (alert.status === 'firing') parts.push(el('span', { class: 'alert-state firing', text: t('alertFiring') }));
  if (alert.priority && alert.priority !== 3) {
    parts.push(el('span', { class: `alert-priority p${alert.priority}`, text: t('priority', { n: alert.priority }) }));
  }
  const block = el('div', { class: 'alert-head' }, parts);
  const wrap = el('div', { class: `bot-alert${alert.urgent ? ' urgent' : ''}${alert.status === 'resolved' ? ' is-resolved' : ''}` }, [block]);
  if (alert.title) wrap.append(el('p', { class: 'alert-title', text: alert.title }));
  if (alert.tags?.length) {
    wrap.append(el('p', { class: 'alert-tags' }, alert.tags.map((tag) => el('span', { class: 'alert-tag', text: TAG_EMOJI[tag] ?? tag, title: tag }))));
  }
  return wrap;
}

/** The link a bot's message points to (only http and https reach the page). */
export function alertLink(item) {
  const click = item.alert?.click;
  if (!click || !/^https?:\/\//i.test(click)) return null;
  return el('a', { class: 'alert-link', href: click, text: t('alertOpen'), attrs: { target: '_blank', rel: 'noopener noreferrer' } });
}

/** The URLs to paste into each tool for a token. */
export function toolUrls(token) {
  const base = window.location.origin;
  return [
    ['Uptime Kuma (Webhook)', `${base}/hooks/${token}`],
    ['Healthchecks (Webhook)', `${base}/hooks/${token}?id=$CODE&status=$STATUS&title=$NAME`],
    ['Grafana, Alertmanager (Slack)', `${base}/hooks/${token}`],
    ['Alertmanager (webhook_configs)', `${base}/hooks/${token}`],
    ['ntfy: Home Assistant, Uptime Kuma, Healthchecks', `${base}/hooks/ntfy`],
    ['ntfy topic (no password needed)', token],
    ['Gotify', `${base}/hooks/gotify`],
    ['curl', `curl -d "backup done" ${base}/hooks/${token}`],
  ];
}

export class BotManager {
  /** @param section the dialog's bots <section>; it is shown to those who may manage. */
  constructor(section) {
    this.section = section;
    this.list = section.querySelector('.bot-list');
    this.form = section.querySelector('form');
    this.nameInput = section.querySelector('input[name="bot-name"]');
    this.error = section.querySelector('.form-error');
    this.secret = section.querySelector('.bot-secret');
    this.room = null;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.create();
    });
  }

  /** Shows the section for `roomId` if `canManage`, and loads its bots. */
  async show(roomId, canManage) {
    this.room = canManage ? roomId : null;
    this.section.hidden = !canManage;
    this.secret.replaceChildren();
    this.secret.hidden = true;
    setError(this.error, '');
    this.list.replaceChildren();
    if (canManage) await this.load();
  }

  async load() {
    const room = this.room;
    try {
      const bots = await api.bots(room);
      if (room !== this.room) return;
      this.list.replaceChildren(...(bots.length ? bots.map((b) => this.row(b)) : [el('li', { class: 'list-empty', text: t('noBots') })]));
    } catch (error) {
      setError(this.error, error.message);
    }
  }

  row(bot) {
    const act = (label, name, action, danger = false) => el('button', {
      type: 'button',
      class: `small-button${danger ? ' danger-text' : ''}`,
      text: label,
      attrs: { 'aria-label': `${label}: ${bot.name}` },
      dataset: { action: name },
      on: { click: (event) => this.act(event.currentTarget, bot, action) },
    });
    return el('li', { class: 'member bot-row', dataset: { id: bot.id } }, [
      el('span', { class: 'item-body' }, [
        el('span', { class: 'item-name', text: bot.name }),
        el('span', { class: 'item-sub', text: bot.active ? t('botActive') : t('botRevoked') }),
      ]),
      act(t('botRotate'), 'rotate', () => api.rotateBot(this.room, bot.id)),
      bot.active ? act(t('botRevoke'), 'revoke', () => api.revokeBot(this.room, bot.id), true) : null,
      act(t('remove'), 'delete', () => api.deleteBot(this.room, bot.id), true),
    ]);
  }

  async create() {
    const name = this.nameInput.value.trim();
    if (!name) {
      setError(this.error, t('botNameRequired'));
      return;
    }
    setError(this.error, '');
    try {
      const created = await api.createBot(this.room, name);
      this.nameInput.value = '';
      this.reveal(created);
      await this.load();
    } catch (error) {
      setError(this.error, error.message);
    }
  }

  async act(button, bot, action) {
    button.disabled = true;
    setError(this.error, '');
    try {
      const result = await action();
      if (result?.token) this.reveal(result);
      else this.secret.hidden = true;
      await this.load();
    } catch (error) {
      setError(this.error, error.message);
      button.disabled = false;
    }
  }

  /** The token, shown this once, with the URL to paste for each tool. */
  reveal({ bot, token }) {
    const rows = toolUrls(token).map(([tool, url]) => el('li', {}, [
      el('span', { class: 'tool-name', text: tool }),
      el('code', { class: 'tool-url', text: url }),
    ]));
    this.secret.replaceChildren(
      el('p', { class: 'bot-secret-note', attrs: { role: 'status' }, text: t('botTokenOnce', { name: bot.name }) }),
      el('code', { class: 'bot-token', text: token }),
      el('ul', { class: 'tool-urls', attrs: { 'aria-label': t('botUrls') } }, rows),
    );
    this.secret.hidden = false;
  }
}
