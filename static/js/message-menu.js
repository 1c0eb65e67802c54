// What can be done to a message, in one menu: react (six quick emoji, or any emoji typed),
// reply, edit and delete (mine; a room's creator deletes any), copy the text, see who
// reacted. It opens from the message's "more" button, a right click (desktop) or a long
// press (phone, gestures.js); the reaction picker alone opens from the smile button.

import { el } from './dom.js';
import { icon } from './icons.js';
import { t } from './i18n.js';
import { closePopup, openMenu, openPanel } from './popup.js';
import { reactorsList } from './reactions.js';

/** The quick reactions. */
const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];
/** One emoji, as the server accepts it (it checks again): pictographs and their joiners. */
const EMOJI = /^(?=.*[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3])[\p{Extended_Pictographic}\p{Emoji_Component}\u200d\ufe0f\u20e3]{1,10}$/u;

function reactedWith(item, emoji, me) {
  return (item.reactions ?? []).some((r) => r.emoji === emoji && (r.users ?? []).some((u) => u.id === me));
}

function reactionRow(item, ctx, where) {
  return {
    label: t('reactions'),
    row: [
      ...QUICK_REACTIONS.map((emoji) => ({
        text: emoji,
        label: reactedWith(item, emoji, ctx.me) ? t('reactionRemove', { emoji }) : t('reactWith', { emoji }),
        action: () => ctx.react(item, emoji),
        returnFocus: true,
      })),
      { text: '+', label: t('otherEmoji'), action: () => openEmojiPanel(item, ctx, where) },
    ],
  };
}

/**
 * The message's menu. `where`: {anchor?, point?, opener}. ctx: {me, canEdit(item),
 * canDelete(item), react(item, emoji), reply(item), edit(item), remove(item)}.
 */
export function openMessageMenu(item, where, ctx) {
  const items = [reactionRow(item, ctx, where), 'separator'];
  items.push({ text: t('reply'), icon: icon('reply'), action: () => ctx.reply(item) });
  if (ctx.canEdit(item)) items.push({ text: t('edit'), icon: icon('edit'), action: () => ctx.edit(item) });
  if (navigator.clipboard?.writeText && item.text) {
    items.push({ text: t('copyText'), icon: icon('copy'), action: () => navigator.clipboard.writeText(item.text).catch(() => {}), returnFocus: true });
  }
  if ((item.reactions ?? []).length) {
    items.push({ text: t('whoReacted'), icon: icon('smile'), action: () => showReactors(item, where, ctx.me) });
  }
  if (ctx.canDelete(item)) {
    items.push({ text: t('delete'), icon: icon('trash'), danger: true, action: () => ctx.remove(item) });
  }
  openMenu({ ...where, label: t('messageMenu'), items, className: 'message-menu' });
}

/** The quick reactions alone (the smile button). */
export function openReactionPicker(item, where, ctx) {
  openMenu({ ...where, label: t('react'), items: [reactionRow(item, ctx, where)], className: 'reaction-picker' });
}

/** Who reacted with what. */
export function showReactors(item, where, me) {
  openPanel({ ...where, label: t('whoReacted'), content: [el('h2', { class: 'panel-title', text: t('whoReacted') }), reactorsList(item, me)] });
}

/** A box to type any emoji in. */
function openEmojiPanel(item, ctx, where) {
  const input = el('input', {
    type: 'text', id: 'emoji-input', autocomplete: 'off', attrs: { 'aria-describedby': 'emoji-error', inputmode: 'text' },
  });
  const error = el('p', { class: 'panel-error', id: 'emoji-error', attrs: { 'aria-live': 'polite' } });
  const form = el('form', { class: 'emoji-form' }, [
    el('label', { text: t('typeEmoji'), attrs: { for: 'emoji-input' } }),
    el('div', { class: 'emoji-row' }, [input, el('button', { type: 'submit', class: 'primary', text: t('react') })]),
    error,
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const emoji = input.value.trim();
    if (!EMOJI.test(emoji)) {
      error.textContent = t('notAnEmoji');
      input.focus();
      return;
    }
    closePopup();
    ctx.react(item, emoji);
  });
  openPanel({ ...where, label: t('otherEmoji'), content: [form], focusTarget: input });
}
