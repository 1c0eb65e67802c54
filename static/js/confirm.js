// A yes/no question in a modal dialog (deleting a message, leaving a room), built on the
// native <dialog> like the other dialogs: focus stays inside, Escape answers no, and focus
// returns to what asked.

import { el } from './dom.js';
import { t } from './i18n.js';
import { closeDialog, openDialog, setupDialog } from './modals.js';

let dialog = null;
let settle = null;

function build() {
  const title = el('h2', { id: 'confirm-title' });
  const text = el('p', { id: 'confirm-text', class: 'modal-text' });
  const no = el('button', { type: 'button', class: 'secondary', id: 'confirm-no', attrs: { 'data-close': '' } });
  const yes = el('button', { type: 'submit', class: 'danger-button', id: 'confirm-yes' });
  const form = el('form', { class: 'modal-body', method: 'dialog' }, [title, text, el('div', { class: 'modal-actions' }, [no, yes])]);
  dialog = el('dialog', { class: 'modal', id: 'confirm-dialog', attrs: { 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' } }, [form]);
  document.body.append(dialog);
  setupDialog(dialog);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    answer(true);
  });
  dialog.addEventListener('close', () => answer(false));
}

function answer(yes) {
  const done = settle;
  settle = null;
  if (dialog.open) closeDialog(dialog);
  done?.(yes);
}

/**
 * Asks; resolves true if the reader confirmed.
 * @param {object} q {title, text, confirm (the button's text), danger (default true)}
 */
export function confirmDialog(q) {
  if (!dialog) build();
  if (settle) answer(false);
  dialog.querySelector('#confirm-title').textContent = q.title;
  dialog.querySelector('#confirm-text').textContent = q.text;
  dialog.querySelector('#confirm-no').textContent = q.cancel ?? t('cancel');
  const yes = dialog.querySelector('#confirm-yes');
  yes.textContent = q.confirm;
  yes.className = q.danger === false ? 'primary' : 'danger-button';
  return new Promise((resolve) => {
    settle = resolve;
    openDialog(dialog, yes);
  });
}
