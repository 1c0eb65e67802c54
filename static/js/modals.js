// Modal dialogs on the native <dialog>: showModal() keeps focus inside and Escape closes it;
// here a click on the backdrop or a [data-close] button closes it too, and focus returns to
// whatever opened it.

const openers = new WeakMap();

/** Prepares a dialog once: close buttons, backdrop clicks, focus return. */
export function setupDialog(dialog) {
  for (const button of dialog.querySelectorAll('[data-close]')) {
    button.addEventListener('click', () => closeDialog(dialog));
  }
  dialog.addEventListener('click', (event) => {
    // A click on the dialog element itself (not its content) is a click on the backdrop.
    if (event.target === dialog) closeDialog(dialog);
  });
  dialog.addEventListener('close', () => {
    const opener = openers.get(dialog);
    openers.delete(dialog);
    if (opener && opener.isConnected && typeof opener.focus === 'function') {
      // Chromium puts the focus back itself, but a text box focused that way takes no typing
      // until focused again: so it is focused anew.
      if (document.activeElement === opener) opener.blur();
      opener.focus();
    }
  });
  return dialog;
}

export function openDialog(dialog, focusTarget) {
  if (dialog.open) return;
  openers.set(dialog, document.activeElement);
  dialog.showModal();
  if (focusTarget) focusTarget.focus();
}

export function closeDialog(dialog) {
  if (dialog.open) dialog.close();
}

/** Shows an error inside a dialog (empty text hides it). */
export function setError(node, text) {
  node.textContent = text || '';
}
