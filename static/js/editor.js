// Editing a message in place: its text becomes a text box in the bubble. Enter saves,
// Shift+Enter starts a new line, Escape cancels; the box stays until the server confirms
// the edit (the message is then drawn anew) or refuses it (the box stays, with the error).

import { el } from './dom.js';
import { charCount } from './composer.js';
import { plural, t } from './i18n.js';

const MAX_HEIGHT = 240;

export class Editor {
  /**
   * @param {object} hooks {save(id, text) → boolean (sent), closed()}
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.id = null;
    this.box = null;
    this.input = null;
    this.note = null;
    /** The text of the edit sent and not yet confirmed. */
    this.sent = null;
    this.maxChars = 4000;
  }

  get editing() {
    return this.id !== null;
  }

  /** Starts editing message `item`, drawn as `node`. */
  start(node, item, maxChars) {
    this.cancel(false);
    this.id = item.id;
    this.sent = null;
    this.maxChars = maxChars;
    this.input = el('textarea', {
      class: 'edit-input',
      value: item.text,
      attrs: { 'aria-label': t('editMessage'), 'aria-describedby': 'edit-hint', rows: '1', enterkeyhint: 'done' },
    });
    this.note = el('p', { class: 'edit-note', attrs: { role: 'alert' } });
    this.box = el('div', { class: 'edit-box' }, [
      this.input,
      el('span', { class: 'edit-hint', id: 'edit-hint', text: t('editHint') }),
      this.note,
    ]);
    this.input.addEventListener('keydown', (event) => this.key(event));
    this.input.addEventListener('input', () => this.autosize());
    this.attach(node);
    this.input.focus();
    this.input.setSelectionRange(this.input.value.length, this.input.value.length);
  }

  /** Puts the box into (a new drawing of) the message being edited. */
  attach(node) {
    const text = node.querySelector('.text');
    if (!text) return;
    node.classList.add('editing');
    text.hidden = true;
    text.after(this.box);
    this.autosize();
  }

  /**
   * The message being edited was drawn anew (an edit of ours applied, or someone reacted);
   * `focused`: what had the focus in the old drawing.
   */
  redrawn(old, node, item, focused) {
    if (item.id !== this.id) return;
    const hadFocus = !!focused && this.box.contains(focused);
    if (item.deleted || (this.sent !== null && item.text === this.sent)) {
      this.finish();
      if (hadFocus) this.hooks.closed();
      return;
    }
    this.attach(node);
    if (hadFocus) this.input.focus();
  }

  key(event) {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      this.cancel(true);
    } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.save();
    }
  }

  save() {
    const text = this.input.value;
    const n = charCount(text);
    if (!text.trim()) {
      this.note.textContent = t('editEmpty');
      return;
    }
    if (n > this.maxChars) {
      this.note.textContent = plural('tooLong', n - this.maxChars, { max: this.maxChars });
      return;
    }
    this.note.textContent = '';
    if (this.hooks.save(this.id, text)) {
      this.sent = text;
      this.box.classList.add('saving');
    }
  }

  /** The server refused the edit. */
  refused(error) {
    if (!this.editing) return;
    this.sent = null;
    this.box.classList.remove('saving');
    this.note.textContent = t('editFailed', { error });
    this.input.focus();
  }

  cancel(refocus) {
    if (!this.editing) return;
    this.finish();
    if (refocus) this.hooks.closed();
  }

  finish() {
    const node = this.box.closest('.msg');
    node?.classList.remove('editing');
    const text = node?.querySelector('.text');
    if (text) text.hidden = false;
    this.box.remove();
    this.id = null;
    this.sent = null;
    this.box = null;
    this.input = null;
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_HEIGHT)}px`;
  }
}
