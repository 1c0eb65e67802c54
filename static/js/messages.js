// One message as DOM: the bubble, its sender (rooms, colour-coded by sender id), the quote it
// replies to, local time and — for my own private messages — the ✓ / ✓✓ receipt. All user
// text goes in through textContent.

import { renderAttachments } from './attachments.js';
import { colorOf, el } from './dom.js';
import { t } from './i18n.js';
import { dayLabel, fullTime, messageDate, shortTime } from './time.js';

/** A day separator before the first message of each local day. */
export function daySeparator(item) {
  return el('div', { class: 'day-separator', attrs: { role: 'separator' } }, [
    el('span', { text: dayLabel(item) }),
  ]);
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
 * what it shows.
 */
function quoteBlock(quote, onJump) {
  const name = quote.sender_name || '';
  return el('button', {
    type: 'button',
    class: 'quote',
    dataset: { color: String(colorOf(quote.sender_id || name)) },
    on: { click: (event) => { event.stopPropagation(); onJump(quote); } },
  }, [
    el('span', { class: 'visually-hidden', text: `${t('quoteJump')} ` }),
    el('span', { class: 'quote-name', text: name }),
    el('span', { class: 'visually-hidden', text: ': ' }),
    el('span', { class: 'quote-text', text: quote.text || '' }),
  ]);
}

/**
 * Builds a message.
 * @param item  a private or room message from the API
 * @param ctx   {kind: 'user'|'room', me, onReply(item), onJump(quote), onOpen(attachment)}
 */
export function messageNode(item, ctx) {
  const own = item.sender_id === ctx.me;
  const inRoom = ctx.kind === 'room';
  const date = messageDate(item);
  const node = el('article', {
    class: `msg ${own ? 'own' : 'other'}`,
    dataset: { id: String(item.id), sender: item.sender_id },
    attrs: { 'aria-label': own ? t('you') : t('messageFrom', { name: item.user }) },
  });
  node.dataset.color = String(colorOf(item.sender_id));

  const bubble = el('div', { class: 'bubble' });
  if (inRoom && !own) bubble.append(el('span', { class: 'sender', text: item.user }));
  if (item.reply_to) bubble.append(quoteBlock(item.reply_to, ctx.onJump));
  if (item.attachments?.length) bubble.append(renderAttachments(item.attachments, ctx.onOpen));
  // With attachments, the text is an optional caption.
  if (item.text || !item.attachments?.length) bubble.append(el('p', { class: 'text', text: item.text }));

  const time = el('time', { text: shortTime(item), title: fullTime(item) });
  if (date) time.dateTime = date.toISOString();
  const meta = el('span', { class: 'meta' }, [time]);
  if (own && !inRoom) {
    meta.append(el('span', { class: 'receipt' }));
  }
  bubble.append(meta);
  node.append(bubble);
  if (own && !inRoom) setReceipt(node, !!item.read);

  if (inRoom) {
    node.append(el('button', {
      type: 'button',
      class: 'reply-button',
      title: t('reply'),
      attrs: { 'aria-label': t('replyTo', { name: own ? t('you') : item.user }) },
      text: '↩',
      on: { click: () => ctx.onReply(item) },
    }));
  }
  return node;
}
