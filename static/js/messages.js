// One message as DOM: the bubble, its sender (rooms, colour-coded by sender id), the quote it
// replies to, the text (formatted, see format.js) or the tombstone of a deleted message, an
// "edited" mark, local time, the ✓ / ✓✓ receipt of my private messages, the reactions under
// it, and the actions offered on hover (react, reply, more). A message waiting in the outbox
// is drawn here too, with "sending…" or its error. All user text goes in as text nodes.
//
// Other parts of a message (attachments) go between the quote and the text: see `body`.

import { alertBlock, alertLink } from './bots.js';
import { renderAttachments } from './attachments.js';
import { colorOf, el } from './dom.js';
import { formatText } from './format.js';
import { icon } from './icons.js';
import { t } from './i18n.js';
import { reactionsRow } from './reactions.js';
import { dayLabel, fullTime, messageDate, shortTime } from './time.js';

/** A day separator before the first message of each local day. */
export function daySeparator(item) {
  return el('div', { class: 'day-separator', attrs: { role: 'separator' } }, [
    el('span', { text: dayLabel(item) }),
  ]);
}

/** The "unread messages" line before the first message the reader had not read. */
export function unreadDivider() {
  return el('div', { class: 'unread-divider', attrs: { role: 'separator' } }, [el('span', { text: t('unreadMessages') })]);
}

/** Sets a private message's receipt: ✓ once stored, ✓✓ once the other side read it. */
export function setReceipt(node, read) {
  const receipt = node.querySelector('.receipt');
  if (!receipt) return;
  receipt.textContent = read ? '✓✓' : '✓';
  receipt.classList.toggle('is-read', read);
  receipt.title = read ? t('read') : t('sent');
  receipt.setAttribute('aria-label', receipt.title);
}

/**
 * The quote a reply carries: a button that jumps to the original. Its accessible name is its
 * visible text (name and quoted text) after a hidden hint, so speech control finds it by
 * what it shows. A deleted original shows as deleted.
 */
function quoteBlock(quote, onJump) {
  const name = quote.sender_name || '';
  const text = quote.deleted ? t('messageDeleted') : (quote.text || '');
  const children = [
    el('span', { class: 'visually-hidden', text: `${t('quoteJump')} ` }),
    el('span', { class: 'quote-name', text: name }),
    el('span', { class: 'visually-hidden', text: ': ' }),
    el('span', { class: `quote-text${quote.deleted ? ' is-deleted' : ''}`, text }),
  ];
  if (!onJump) return el('div', { class: 'quote', dataset: { color: String(colorOf(quote.sender_id || name)) } }, children.slice(1));
  return el('button', {
    type: 'button',
    class: 'quote',
    dataset: { color: String(colorOf(quote.sender_id || name)) },
    on: { click: (event) => { event.stopPropagation(); onJump(quote); } },
  }, children);
}

/** The message's content: the text, formatted; attachments (issue 16) join it here. */
function body(item) {
  if (item.deleted) return [el('p', { class: 'text is-deleted', text: t('messageDeleted') })];
  return [el('div', { class: 'text' }, [formatText(item.text ?? '')])];
}

/** Whether `item` mentions me. */
function mentionsMe(item, me) {
  return !item.deleted && Array.isArray(item.mentions) && item.mentions.includes(me);
}

function actionButton(name, label, onClick, extra = {}) {
  return el('button', {
    type: 'button',
    class: `msg-action ${extra.class ?? ''}`.trim(),
    title: label,
    attrs: { 'aria-label': label, tabindex: extra.tabindex, 'aria-haspopup': extra.popup },
    on: { click: onClick },
  }, [icon(name)]);
}

/**
 * Builds a message.
 * @param item  a private or room message from the API
 * @param ctx   {kind: 'user'|'room', me, onJump(quote), onOpen(attachment), act(action, item, detail)}:
 *              actions 'menu', 'reply', 'picker', 'toggle' (detail: emoji), 'reactors'
 */
export function messageNode(item, ctx) {
  const own = item.sender_id === ctx.me;
  const inRoom = ctx.kind === 'room';
  const date = messageDate(item);
  const who = own ? t('you') : item.user;
  const node = el('article', {
    class: `msg ${own ? 'own' : 'other'}`,
    dataset: { id: String(item.id), sender: item.sender_id, color: String(colorOf(item.sender_id)) },
    attrs: { 'aria-label': own ? t('you') : t('messageFrom', { name: item.user }) },
  });
  if (item.bot) node.classList.add('from-bot');
  node.classList.toggle('is-deleted', !!item.deleted);
  node.classList.toggle('mentions-me', mentionsMe(item, ctx.me));

  const bubble = el('div', { class: 'bubble' });
  if (inRoom && !own) bubble.append(el('span', { class: 'sender', text: item.user }));
  if (item.bot && !item.deleted) bubble.append(alertBlock(item));
  if (item.reply_to && !item.deleted) bubble.append(quoteBlock(item.reply_to, ctx.onJump));
  const files = item.deleted ? [] : item.attachments ?? [];
  if (files.length) bubble.append(renderAttachments(files, ctx.onOpen));
  // With attachments, the text is an optional caption.
  if (item.deleted || item.text || !files.length) bubble.append(...body(item));
  if (item.bot && !item.deleted) bubble.append(alertLink(item));

  const time = el('time', { text: shortTime(item), title: fullTime(item) });
  if (date) time.dateTime = date.toISOString();
  const meta = el('span', { class: 'meta' });
  if (item.edited_at && !item.deleted) {
    const when = fullTime({ created_at: item.edited_at });
    meta.append(el('span', { class: 'edited', text: t('edited'), title: when ? t('editedAt', { time: when }) : t('edited') }));
  }
  meta.append(time);
  if (own && !inRoom) meta.append(el('span', { class: 'receipt' }));
  bubble.append(meta);
  const column = el('div', { class: 'msg-body' }, [bubble]);
  node.append(column);
  if (own && !inRoom) setReceipt(node, !!item.read);

  if (!item.deleted) {
    const reactions = reactionsRow(item, ctx);
    if (reactions) column.append(reactions);
    node.append(el('div', { class: 'msg-actions' }, [
      actionButton('smile', t('react'), (event) => ctx.act('picker', item, event.currentTarget), { tabindex: -1 }),
      actionButton('reply', t('replyTo', { name: who }), () => ctx.act('reply', item), { class: 'reply-button', tabindex: -1 }),
      actionButton('more', t('messageActions', { name: who }), (event) => ctx.act('menu', item, event.currentTarget), {
        class: 'msg-more', popup: 'menu',
      }),
    ]));
  }
  return node;
}

/**
 * A message of mine still in the outbox: "sending…" while it waits for the connection or
 * its echo; refused, its error with a choice to retry or delete it.
 * @param entry  {client_id, text, reply_to, failed?}
 * @param ctx    {kind, retry(entry), discard(entry)}
 */
export function pendingNode(entry, ctx) {
  const node = el('article', {
    class: `msg own pending${entry.error ? ' failed' : ''}`,
    dataset: { clientId: entry.client_id },
    attrs: { 'aria-label': entry.error ? t('notSentLabel') : t('sendingLabel') },
  });
  const bubble = el('div', { class: 'bubble' });
  if (entry.reply_to) bubble.append(quoteBlock(entry.reply_to, null));
  bubble.append(el('div', { class: 'text' }, [formatText(entry.text)]));
  const meta = el('span', { class: 'meta' });
  if (entry.error) {
    meta.append(icon('alert'), el('span', { class: 'pending-state', text: t('notSent') }));
  } else {
    meta.append(icon('clock'), el('span', { class: 'pending-state', text: t('sending') }));
  }
  bubble.append(meta);
  const column = el('div', { class: 'msg-body' }, [bubble]);
  node.append(column);
  if (entry.error) {
    column.append(el('div', { class: 'send-error', attrs: { role: 'group', 'aria-label': t('notSentLabel') } }, [
      el('span', { class: 'send-error-text', text: entry.error }),
      el('button', { type: 'button', class: 'small-button', text: t('retry'), on: { click: () => ctx.retry(entry) } }),
      el('button', { type: 'button', class: 'small-button danger-text', text: t('delete'), on: { click: () => ctx.discard(entry) } }),
    ]));
  }
  return node;
}
