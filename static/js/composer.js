// The message composer: a growing textarea (Enter sends, Shift+Enter starts a new line),
// the send button, and the reply indicator above it (rooms) with its cancel button.

import { el, hueOf } from './dom.js';
import { t } from './i18n.js';

const MAX_HEIGHT = 160;

export class Composer {
  /**
   * @param {object} els {form, input, replyBar}
   * @param {(text: string, replyTo: object|null) => boolean} onSend  true when sent
   */
  constructor(els, onSend) {
    this.form = els.form;
    this.input = els.input;
    this.replyBar = els.replyBar;
    this.onSend = onSend;
    this.replyTo = null;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.ctrlKey && !event.altKey) {
        event.preventDefault();
        this.submit();
      } else if (event.key === 'Escape' && this.replyTo) {
        event.preventDefault();
        this.cancelReply();
      }
    });
    this.input.addEventListener('input', () => this.autosize());
  }

  submit() {
    const text = this.input.value;
    if (!text.trim()) return;
    if (this.onSend(text, this.replyTo)) {
      this.input.value = '';
      this.cancelReply();
      this.autosize();
    }
    this.input.focus();
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_HEIGHT)}px`;
  }

  focus() {
    this.input.focus();
  }

  /** Clears the text and the reply (a new conversation). */
  reset() {
    this.input.value = '';
    this.cancelReply();
    this.autosize();
  }

  /** Puts back a message the server refused, unless something new was typed meanwhile. */
  restore(text, replyTo) {
    if (this.input.value.trim()) return;
    this.input.value = text;
    this.autosize();
    if (replyTo && this.lastReplyName) this.setReply(replyTo, this.lastReplyName);
  }

  /** Shows "Replying to …" with the quoted text above the composer. */
  setReply(item, senderName) {
    this.replyTo = item;
    this.lastReplyName = senderName;
    const quote = el('div', { class: 'reply-quote' }, [
      el('span', { class: 'quote-name', text: t('replyingTo', { name: senderName }) }),
      el('span', { class: 'quote-text', text: item.text }),
    ]);
    quote.style.setProperty('--hue', String(hueOf(item.sender_id)));
    const cancel = el('button', {
      type: 'button',
      class: 'icon-button reply-cancel',
      title: t('cancelReply'),
      attrs: { 'aria-label': t('cancelReply') },
      text: '✕',
      on: { click: () => { this.cancelReply(); this.input.focus(); } },
    });
    this.replyBar.replaceChildren(quote, cancel);
    this.replyBar.hidden = false;
    this.input.focus();
  }

  cancelReply() {
    this.replyTo = null;
    this.replyBar.hidden = true;
    this.replyBar.replaceChildren();
  }
}
