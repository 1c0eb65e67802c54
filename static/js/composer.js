// The message composer: a growing textarea (Enter sends, Shift+Enter starts a new line, Up in
// an empty composer edits my last message), the send button, the reply indicator above it
// with its cancel button, `@name` suggestions in rooms (mentions.js), and the length limit. The limit (the server's, from the page) counts characters as the server does — code
// points — and shows as a counter from COUNTER_FROM of it on; a message over it is not sent,
// and a paste that would pass it is refused, each with a message saying why. Nothing is ever
// cut short.

import { colorOf, el } from './dom.js';
import { plural, t } from './i18n.js';
import { Uploads } from './uploads.js';
import { Mentions } from './mentions.js';

const MAX_HEIGHT = 160;
/** The counter shows from this share of the limit on (3,500 of 4,000). */
const COUNTER_FROM = 0.875;
/** The server's limit, if the page does not say (templates/conversation.html does). */
const DEFAULT_MAX_CHARS = 4000;

/** Characters as the server counts them: Unicode code points. */
export function charCount(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

export class Composer {
  /**
   * @param {object} els {form, input, replyBar, counter, limitNote, tray, dropZone, section, pickers}
   * @param {(text: string, replyTo: object|null, attachments: number[]) => boolean} onSend  true when sent
   * @param {() => string|null} target  where files go: 'user:<id>' or 'room:<id>'
   */
  constructor(els, onSend, target) {
    this.form = els.form;
    this.input = els.input;
    this.replyBar = els.replyBar;
    this.counter = els.counter;
    this.limitNote = els.limitNote;
    this.onSend = onSend;
    this.replyTo = null;
    /** Set per conversation by reset(): onInput(text), onEditLast() → whether it started. */
    this.hooks = {};
    this.mentions = new Mentions(this.input, this.form);
    this.maxChars = Number(this.input.dataset.maxChars) || DEFAULT_MAX_CHARS;
    this.numberFormat = new Intl.NumberFormat(document.documentElement.lang || undefined);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.isComposing) return;
      if (this.mentions.key(event)) {
        event.preventDefault();
      } else if (event.key === 'Enter' && !event.shiftKey && !event.ctrlKey && !event.altKey) {
        event.preventDefault();
        this.submit();
      } else if (event.key === 'Escape' && this.replyTo) {
        event.preventDefault();
        this.cancelReply();
      } else if (event.key === 'ArrowUp' && !this.input.value && !event.shiftKey && this.hooks.onEditLast?.()) {
        event.preventDefault();
      }
    });
    this.input.addEventListener('input', () => {
      this.changed();
      this.hooks.onInput?.(this.input.value);
    });
    this.input.addEventListener('paste', (event) => this.paste(event));
    this.uploads = new Uploads(els.tray, target, Number(this.form.dataset.maxFileBytes) || 25 * 1024 * 1024, () => {
      if (this.limitNote.dataset.kind === 'uploads' && !this.uploads.busy) this.showLimit('');
    });
    this.initFiles(els);
  }

  /** The file buttons, dropping files on the conversation, and pasting them. */
  initFiles(els) {
    for (const [button, input] of els.pickers) {
      button.addEventListener('click', () => input.click());
      input.addEventListener('change', () => {
        this.uploads.add(input.files);
        input.value = '';
        this.input.focus();
      });
    }
    const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes('Files');
    let depth = 0;
    els.section.addEventListener('dragenter', (event) => {
      if (!hasFiles(event)) return;
      depth += 1;
      els.dropZone.hidden = false;
    });
    els.section.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) els.dropZone.hidden = true;
    });
    els.section.addEventListener('dragover', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    });
    els.section.addEventListener('drop', (event) => {
      depth = 0;
      els.dropZone.hidden = true;
      if (!event.dataTransfer?.files?.length) return;
      event.preventDefault();
      this.uploads.add(event.dataTransfer.files);
      this.input.focus();
    });
  }

  /** After every edit: the height, the counter; a refused paste's note goes with the next edit. */
  changed() {
    if (this.limitNote.dataset.kind === 'paste') this.showLimit('');
    this.autosize();
    this.updateCounter();
  }

  updateCounter() {
    const n = charCount(this.input.value);
    const over = n > this.maxChars;
    this.counter.hidden = n < this.maxChars * COUNTER_FROM;
    // Hidden, it is empty too: the textarea's description must not read it out.
    this.counter.textContent = this.counter.hidden ? '' : `${this.numberFormat.format(n)} / ${this.numberFormat.format(this.maxChars)}`;
    this.counter.title = over ? plural('charsOver', n - this.maxChars) : plural('charsLeft', this.maxChars - n);
    this.counter.classList.toggle('over', over);
    this.form.classList.toggle('over-limit', over);
    if (!over && this.limitNote.dataset.kind === 'length') this.showLimit('');
  }

  /** A message under the composer (empty hides it). */
  showLimit(text, kind = 'length') {
    this.limitNote.textContent = text;
    this.limitNote.hidden = !text;
    this.limitNote.dataset.kind = text ? kind : '';
  }

  /** Refuses a paste that would take the text over the limit, rather than cutting it. */
  paste(event) {
    const files = event.clipboardData?.files;
    if (files?.length) {
      // A screenshot or copied files: attach them; the text stays as it was.
      event.preventDefault();
      this.uploads.add(files);
      return;
    }
    const pasted = event.clipboardData?.getData('text/plain') ?? '';
    const { selectionStart: start, selectionEnd: end, value } = this.input;
    const after = charCount(value) - charCount(value.slice(start, end)) + charCount(pasted);
    if (after <= this.maxChars) return;
    event.preventDefault();
    this.showLimit(plural('pasteTooLong', after - this.maxChars, { max: this.numberFormat.format(this.maxChars) }), 'paste');
  }

  submit() {
    const text = this.input.value;
    const attachments = this.uploads.readyIds();
    if (this.uploads.busy) {
      this.showLimit(t('uploadsPending'), 'uploads');
      return;
    }
    if (!text.trim() && attachments.length === 0) return;
    const n = charCount(text);
    if (n > this.maxChars) {
      this.showLimit(plural('tooLong', n - this.maxChars, { max: this.numberFormat.format(this.maxChars) }));
      this.input.focus();
      return;
    }
    this.showLimit('');
    if (this.onSend(text.trim() ? text : '', this.replyTo, attachments)) {
      this.input.value = '';
      this.cancelReply();
      this.uploads.clear();
      this.mentions.close();
      this.changed();
    }
    this.input.focus();
  }

  /** What is typed. */
  get text() {
    return this.input.value;
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_HEIGHT)}px`;
  }

  focus() {
    this.input.focus();
  }

  /**
   * A new conversation: its draft, no reply, no files, its room's members for `@name` (rooms only).
   * @param {object} opts {text, roomId, onInput(text), onEditLast()}
   */
  reset(opts = {}) {
    this.hooks = opts;
    this.input.value = opts.text ?? '';
    this.uploads.clear();
    this.cancelReply();
    this.showLimit('');
    this.mentions.setRoom(opts.roomId ?? null);
    this.changed();
  }

  /** Shows "Replying to …" with the quoted text above the composer. */
  setReply(item, senderName) {
    this.replyTo = item;
    const quote = el('div', { class: 'reply-quote' }, [
      el('span', { class: 'quote-name', text: t('replyingTo', { name: senderName }) }),
      el('span', { class: 'quote-text', text: item.text }),
    ]);
    quote.dataset.color = String(colorOf(item.sender_id));
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
