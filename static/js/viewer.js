// The photo viewer: a full-screen dialog showing one of the conversation's photos at a time,
// with previous/next buttons, the arrow keys and a horizontal swipe to move between them, a
// download link, and Esc, the close button or the browser's Back to close it. Opening it adds
// a history entry, so Back on a phone closes the viewer rather than the conversation.

import { byId } from './dom.js';
import { t } from './i18n.js';

/** A horizontal move this long (px) is a swipe. */
const SWIPE = 50;

export class Viewer {
  constructor() {
    this.dialog = byId('viewer');
    this.image = byId('viewer-image');
    this.name = byId('viewer-name');
    this.count = byId('viewer-count');
    this.download = byId('viewer-download');
    this.prev = byId('viewer-prev');
    this.next = byId('viewer-next');
    this.items = [];
    this.index = 0;
    this.pushed = false;
    this.prev.addEventListener('click', () => this.move(-1));
    this.next.addEventListener('click', () => this.move(1));
    byId('viewer-close').addEventListener('click', () => this.close());
    this.dialog.addEventListener('close', () => this.closed());
    this.dialog.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowLeft') { event.preventDefault(); this.move(-1); }
      if (event.key === 'ArrowRight') { event.preventDefault(); this.move(1); }
    });
    let startX = null;
    const stage = byId('viewer-stage');
    stage.addEventListener('pointerdown', (event) => { startX = event.clientX; });
    stage.addEventListener('pointerup', (event) => {
      if (startX === null) return;
      const dx = event.clientX - startX;
      startX = null;
      if (Math.abs(dx) >= SWIPE) this.move(dx < 0 ? 1 : -1);
    });
    window.addEventListener('popstate', () => {
      if (this.dialog.open && this.pushed) {
        this.pushed = false;
        this.dialog.close();
      }
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  /** Shows `items[at]` (image attachments, oldest first). */
  show(items, id) {
    if (items.length === 0) return;
    this.items = items;
    this.index = Math.max(0, items.findIndex((a) => a.id === id));
    this.render();
    if (!this.dialog.open) {
      this.dialog.showModal();
      history.pushState({ ...(history.state || {}), viewer: true }, '');
      this.pushed = true;
    }
  }

  move(step) {
    const next = this.index + step;
    if (next < 0 || next >= this.items.length) return;
    this.index = next;
    this.render();
  }

  render() {
    const item = this.items[this.index];
    this.image.src = item.url;
    this.image.alt = item.name;
    if (item.width && item.height) {
      this.image.width = item.width;
      this.image.height = item.height;
    }
    this.name.textContent = item.name;
    this.count.textContent = this.items.length > 1 ? t('viewerCount', { i: this.index + 1, n: this.items.length }) : '';
    this.download.href = item.url;
    this.download.setAttribute('download', item.name);
    this.prev.disabled = this.index === 0;
    this.next.disabled = this.index === this.items.length - 1;
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** The dialog closed (button, Esc): take back the history entry it added. */
  closed() {
    this.image.removeAttribute('src');
    if (this.pushed) {
      this.pushed = false;
      history.back();
    }
  }
}
