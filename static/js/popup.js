// Pop-up menus and panels over the page, one at a time: a message's actions, the reaction
// picker, who reacted, the conversation's menu. A menu (role=menu) is moved through with the
// arrow keys (Left/Right within a row of emoji), Home/End; Escape or Tab closes it and focus
// returns to what opened it; a click elsewhere closes it. Near the pointer or its button on a
// desktop, a sheet at the bottom of the screen on a phone (static/css/app.css).

import { el } from './dom.js';

const phone = window.matchMedia('(max-width: 767.98px)');
/** Space kept between a popup and the window's edges. */
const MARGIN = 8;

let current = null;

/** Closes the open popup, if any; focus goes back to its opener unless `keepFocus`. */
export function closePopup(keepFocus = false) {
  const open = current;
  if (!open) return;
  current = null;
  open.node.remove();
  open.backdrop.remove();
  document.removeEventListener('pointerdown', open.outside, true);
  window.removeEventListener('resize', open.dismiss);
  open.onClose?.();
  if (!keepFocus && open.opener?.isConnected) open.opener.focus({ preventScroll: true });
}

/**
 * Shows `node` as the popup, placed at `point` ({x, y}) or beside `anchor`. `opener` gets
 * the focus back when it closes.
 */
function show(node, { anchor, point, opener, onClose }) {
  closePopup(true);
  const backdrop = el('div', { class: 'popup-backdrop', attrs: { 'aria-hidden': 'true' } });
  document.body.append(backdrop, node);
  place(node, anchor, point);
  const outside = (event) => {
    if (!node.contains(event.target)) closePopup(true);
  };
  const dismiss = () => closePopup(true);
  document.addEventListener('pointerdown', outside, true);
  window.addEventListener('resize', dismiss);
  current = { node, backdrop, opener: opener ?? document.activeElement, outside, dismiss, onClose };
}

function place(node, anchor, point) {
  if (phone.matches) return;
  const box = node.getBoundingClientRect();
  const width = window.innerWidth;
  const height = window.innerHeight;
  let left;
  let top;
  if (point) {
    left = point.x + box.width + MARGIN > width ? point.x - box.width : point.x;
    top = point.y + box.height + MARGIN > height ? point.y - box.height : point.y;
  } else if (anchor) {
    const a = anchor.getBoundingClientRect();
    left = a.right - box.width;
    top = a.bottom + 4;
    if (top + box.height + MARGIN > height) top = a.top - box.height - 4;
  } else {
    left = (width - box.width) / 2;
    top = (height - box.height) / 2;
  }
  node.style.left = `${Math.round(Math.max(MARGIN, Math.min(left, width - box.width - MARGIN)))}px`;
  node.style.top = `${Math.round(Math.max(MARGIN, Math.min(top, height - box.height - MARGIN)))}px`;
}

/**
 * Opens a menu.
 * @param {object} opts {label, items, anchor?, point?, opener?, onClose?, className?}
 *   items: {text, icon?, action, danger?, checked? (a radio item), id?, returnFocus?}
 *   | {row: [items], label} | 'separator'. Row items are compact (an emoji each) and carry
 *   `label`. `returnFocus`: the opener gets the focus back after the action.
 */
export function openMenu(opts) {
  const menu = el('div', { class: `popup popup-menu ${opts.className ?? ''}`.trim(), attrs: { role: 'menu', 'aria-label': opts.label } });
  const rows = [];
  for (const item of opts.items) {
    if (item === 'separator') {
      menu.append(el('div', { class: 'menu-separator', attrs: { role: 'separator' } }));
    } else if (item.row) {
      const buttons = item.row.map((entry) => menuButton(entry, 'menu-chip'));
      menu.append(el('div', { class: 'menu-row', attrs: { role: 'group', 'aria-label': item.label } }, buttons));
      rows.push(buttons);
    } else {
      const button = menuButton(item, 'menu-item');
      menu.append(button);
      rows.push([button]);
    }
  }
  menu.addEventListener('keydown', (event) => keys(event, rows));
  show(menu, opts);
  rows[0]?.[0]?.focus({ preventScroll: true });
  return menu;
}

function menuButton(item, kind) {
  const radio = item.checked !== undefined;
  const button = el('button', {
    type: 'button',
    class: `${kind}${item.danger ? ' danger-text' : ''}`,
    id: item.id,
    title: item.title,
    attrs: {
      role: radio ? 'menuitemradio' : 'menuitem',
      'aria-checked': radio ? String(!!item.checked) : null,
      'aria-label': item.label,
      'aria-pressed': null,
      tabindex: '-1',
    },
    on: {
      click: (event) => {
        event.stopPropagation();
        // Focus goes where the action takes it (the composer, an editor), or back to the opener.
        closePopup(!item.returnFocus);
        item.action();
      },
    },
  }, [item.icon ?? null, el('span', { text: item.text })]);
  return button;
}

/** Arrow keys between the menu's rows (and within a row), Escape and Tab close. */
function keys(event, rows) {
  const flat = rows.flat();
  const at = flat.indexOf(document.activeElement);
  const row = rows.findIndex((r) => r.includes(document.activeElement));
  const col = row >= 0 ? rows[row].indexOf(document.activeElement) : 0;
  const focus = (button) => { event.preventDefault(); button?.focus({ preventScroll: true }); };
  switch (event.key) {
    case 'ArrowDown': {
      const next = rows[(row + 1) % rows.length];
      focus(next[Math.min(col, next.length - 1)]);
      break;
    }
    case 'ArrowUp': {
      const prev = rows[(row - 1 + rows.length) % rows.length];
      focus(prev[Math.min(col, prev.length - 1)]);
      break;
    }
    case 'ArrowRight':
      if (rows[row]?.length > 1) focus(rows[row][(col + 1) % rows[row].length]);
      break;
    case 'ArrowLeft':
      if (rows[row]?.length > 1) focus(rows[row][(col - 1 + rows[row].length) % rows[row].length]);
      break;
    case 'Home':
      focus(flat[0]);
      break;
    case 'End':
      focus(flat[flat.length - 1]);
      break;
    case 'Escape':
      event.preventDefault();
      event.stopPropagation();
      closePopup();
      break;
    case 'Tab':
      event.preventDefault();
      closePopup();
      break;
    default:
      if (at < 0 && flat.length) focus(flat[0]);
      break;
  }
}

/**
 * Opens a small non-modal panel (role=dialog) holding `content`: who reacted, an emoji to
 * type. Escape closes it; `focusTarget` gets the focus (else the panel itself).
 */
export function openPanel({ label, content, anchor, point, opener, focusTarget, onClose }) {
  const panel = el('div', { class: 'popup popup-panel', attrs: { role: 'dialog', 'aria-label': label, tabindex: '-1' } }, content);
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      closePopup();
    }
  });
  show(panel, { anchor, point, opener, onClose });
  (focusTarget ?? panel).focus({ preventScroll: true });
  return panel;
}
