// Reactions under a message: one chip per emoji with its count, pressed when I am among those
// who reacted; a click toggles mine. Who reacted shows as the chip's title on hover, in its
// accessible name, and as a list on a long press or a right click (and from the message's
// menu): `showReactors`.

import { el } from './dom.js';
import { t } from './i18n.js';

/** How long a touch must rest on a chip to show who reacted. */
const LONG_PRESS_MS = 500;

/** "alice, bob and carol" (or "You, bob"). */
function namesOf(reaction, me) {
  const names = (reaction.users ?? []).map((u) => (u.id === me ? t('you') : u.name));
  return new Intl.ListFormat(document.documentElement.lang || 'en', { style: 'long', type: 'conjunction' }).format(names);
}

/** The row of chips, or null when nobody reacted. ctx: {me, act(action, item, detail)}. */
export function reactionsRow(item, ctx) {
  const reactions = (item.reactions ?? []).filter((r) => r.count > 0);
  if (reactions.length === 0) return null;
  const row = el('div', { class: 'reactions', attrs: { role: 'group', 'aria-label': t('reactions') } });
  for (const reaction of reactions) {
    const mine = (reaction.users ?? []).some((u) => u.id === ctx.me);
    const names = namesOf(reaction, ctx.me);
    const chip = el('button', {
      type: 'button',
      class: `reaction${mine ? ' mine' : ''}`,
      title: names,
      dataset: { emoji: reaction.emoji },
      attrs: { 'aria-pressed': mine ? 'true' : 'false', 'aria-label': `${reaction.emoji} ${reaction.count}, ${names}` },
      on: {
        click: (event) => {
          if (chip.dataset.pressed === 'long') {
            delete chip.dataset.pressed;
            event.preventDefault();
            return;
          }
          ctx.act('toggle', item, reaction.emoji);
        },
        contextmenu: (event) => {
          event.preventDefault();
          event.stopPropagation();
          ctx.act('reactors', item, chip);
        },
      },
    }, [el('span', { class: 'reaction-emoji', text: reaction.emoji }), ' ', el('span', { class: 'count', text: String(reaction.count) })]);
    longPress(chip, () => {
      chip.dataset.pressed = 'long';
      ctx.act('reactors', item, chip);
    });
    row.append(chip);
  }
  return row;
}

/** Calls `fn` when a touch rests on `node` (without moving) for LONG_PRESS_MS. */
function longPress(node, fn) {
  let timer = null;
  let start = null;
  const cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  node.addEventListener('pointerdown', (event) => {
    if (event.pointerType !== 'touch') return;
    start = { x: event.clientX, y: event.clientY };
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, LONG_PRESS_MS);
  });
  node.addEventListener('pointermove', (event) => {
    if (timer && start && Math.hypot(event.clientX - start.x, event.clientY - start.y) > 10) cancel();
  });
  for (const type of ['pointerup', 'pointercancel', 'pointerleave']) node.addEventListener(type, cancel);
}

/** The list of who reacted with what, one line per emoji (for the popover). */
export function reactorsList(item, me) {
  return el('ul', { class: 'reactors' }, (item.reactions ?? []).map((r) => el('li', {}, [
    el('span', { class: 'reaction-emoji', text: r.emoji }),
    el('span', { class: 'reactor-names', text: namesOf(r, me) }),
  ])));
}
