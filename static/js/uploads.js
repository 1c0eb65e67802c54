// Files waiting to be sent with the next message: each uploads at once (XHR, for its progress
// events) to POST /api/files for the open conversation, shows a progress bar with a cancel
// button, then its thumbnail or name; a refusal shows the server's sentence (413: too large,
// quota, disk full…). The composer sends the uploaded ids with its text as the caption.

import { boxOf, formatSize, isImage } from './attachments.js';
import { el } from './dom.js';
import { t } from './i18n.js';

export class Uploads {
  /**
   * @param tray      the <ul> above the composer
   * @param target    () => 'user:<id>' | 'room:<id>' | null: where files go now
   * @param maxBytes  the server's per-file limit (refused here before sending a byte)
   * @param onChange  called when the set of files or their state changes
   */
  constructor(tray, target, maxBytes, onChange) {
    this.tray = tray;
    this.target = target;
    this.maxBytes = maxBytes;
    this.onChange = onChange;
    /** @type {Array<{file: File, node: HTMLElement, xhr: XMLHttpRequest|null, item: object|null, error: string|null}>} */
    this.entries = [];
  }

  /** Starts uploading every file of a FileList or array. */
  add(files) {
    const to = this.target();
    if (!to) return;
    for (const file of Array.from(files)) {
      const entry = { file, node: null, xhr: null, item: null, error: null, to };
      entry.node = this.row(entry);
      this.entries.push(entry);
      this.tray.append(entry.node);
      if (file.size > this.maxBytes) {
        this.fail(entry, t('fileTooLarge', { size: formatSize(file.size), max: formatSize(this.maxBytes) }));
      } else if (file.size === 0) {
        this.fail(entry, t('fileEmpty'));
      } else {
        this.start(entry);
      }
    }
    this.changed();
  }

  row(entry) {
    const progress = el('progress', { class: 'upload-progress', max: 100, value: 0, attrs: { 'aria-label': t('uploadingName', { name: entry.file.name }) } });
    const cancel = el('button', {
      type: 'button',
      class: 'icon-button upload-cancel',
      title: t('removeUpload', { name: entry.file.name }),
      attrs: { 'aria-label': t('removeUpload', { name: entry.file.name }) },
      text: '✕',
      on: { click: () => this.remove(entry) },
    });
    return el('li', { class: 'upload uploading' }, [
      el('span', { class: 'upload-preview', attrs: { 'aria-hidden': 'true' } }),
      el('span', { class: 'upload-text' }, [
        el('span', { class: 'upload-name', text: entry.file.name }),
        el('span', { class: 'upload-status', text: formatSize(entry.file.size) }),
        progress,
      ]),
      cancel,
    ]);
  }

  start(entry) {
    const xhr = new XMLHttpRequest();
    entry.xhr = xhr;
    const params = new URLSearchParams({ to: entry.to, name: entry.file.name });
    xhr.open('POST', `/api/files?${params}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'json';
    const progress = entry.node.querySelector('progress');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener('load', () => {
      entry.xhr = null;
      if (xhr.status === 201 && xhr.response) this.done(entry, xhr.response);
      else if (xhr.status === 401) window.location.assign('/');
      else this.fail(entry, xhr.response?.error || xhr.statusText || t('network'));
    });
    xhr.addEventListener('error', () => {
      entry.xhr = null;
      this.fail(entry, t('network'));
    });
    xhr.send(entry.file);
  }

  done(entry, item) {
    entry.item = item;
    entry.node.classList.remove('uploading');
    entry.node.classList.add('ready');
    entry.node.querySelector('progress').remove();
    entry.node.querySelector('.upload-status').textContent = `${formatSize(item.size)} · ${t('uploadReady')}`;
    if (isImage(item)) {
      const { width, height } = boxOf(item);
      entry.node.querySelector('.upload-preview').append(el('img', { src: item.thumb_url || item.url, alt: '', attrs: { width, height } }));
    }
    this.changed();
  }

  fail(entry, message) {
    entry.error = message;
    entry.node.classList.remove('uploading');
    entry.node.classList.add('failed');
    entry.node.querySelector('progress')?.remove();
    const status = entry.node.querySelector('.upload-status');
    status.textContent = t('uploadFailed', { error: message });
    status.setAttribute('role', 'alert');
    this.changed();
  }

  /** Cancels an upload in progress, or takes a file off the list. */
  remove(entry) {
    entry.xhr?.abort();
    entry.xhr = null;
    entry.node.remove();
    this.entries = this.entries.filter((e) => e !== entry);
    this.changed();
  }

  /** Whether any file is still uploading. */
  get busy() {
    return this.entries.some((e) => e.xhr);
  }

  /** The uploaded files' ids, in the order they were added. */
  readyIds() {
    return this.entries.filter((e) => e.item).map((e) => e.item.id);
  }

  /** After sending: the list empties (failed ones too). */
  clear() {
    for (const entry of this.entries) entry.xhr?.abort();
    this.entries = [];
    this.tray.replaceChildren();
    this.changed();
  }

  changed() {
    this.tray.hidden = this.entries.length === 0;
    this.onChange?.();
  }
}
