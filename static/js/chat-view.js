// The message list of the open conversation: messages kept in id order without duplicates,
// day separators, scroll position (stick to the bottom, keep the place when older pages are
// prepended), the scroll-to-bottom button with its count of new messages, and jumping to a
// message with a highlight.
//
// A day separator sticks to the top while its day scrolls by; stuck over messages it shows
// only while the reader scrolls (and SCROLL_IDLE_MS after), then fades, so it never hides
// the text of the message under it.

import { el } from './dom.js';
import { plural, t } from './i18n.js';
import { isImage } from './attachments.js';
import { daySeparator, messageNode, setReceipt } from './messages.js';
import { dayKey } from './time.js';

/** Closer to the bottom than this counts as "at the bottom". */
const NEAR_BOTTOM = 120;
/** Closer to the top than this asks for the previous page. */
const NEAR_TOP = 200;
/** Consecutive messages of one sender within this many ms are grouped. */
const GROUP_MS = 5 * 60 * 1000;
/** A stuck day label fades this long after the last scroll. */
const SCROLL_IDLE_MS = 1200;

export class ChatView {
  /**
   * @param {object} els {scroller, list, bottomButton, bottomCount, viewer}
   */
  constructor(els) {
    this.viewer = els.viewer;
    this.scroller = els.scroller;
    this.list = els.list;
    this.bottomButton = els.bottomButton;
    this.bottomCount = els.bottomCount;
    this.ctx = null;
    this.items = new Map();
    this.nodes = new Map();
    this.ids = [];
    this.unseen = 0;
    this.reachedStart = false;
    this.loading = false;
    this.onNearTop = null;
    this.loadingRow = el('div', { class: 'list-note loading', text: t('loadingOlder'), attrs: { role: 'status' } });
    this.startRow = el('div', { class: 'list-note start' });
    this.bottomLabel = this.bottomButton.getAttribute('aria-label') ?? '';
    this.idleTimer = null;
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.bottomButton.addEventListener('click', () => this.scrollToBottom(true));
  }

  /** Empties the list for a new conversation. `ctx`: {kind, me, onReply, onJump}. */
  reset(ctx) {
    this.ctx = { ...ctx, onOpen: (attachment) => this.viewer?.show(this.images(), attachment.id) };
    this.viewer?.close();
    this.items.clear();
    this.nodes.clear();
    this.ids = [];
    this.unseen = 0;
    this.reachedStart = false;
    this.loading = false;
    this.list.replaceChildren();
    this.list.dataset.kind = ctx.kind;
    this.updateBottomButton();
  }

  get newestId() {
    return this.ids.length ? this.ids[this.ids.length - 1] : 0;
  }

  get oldestId() {
    return this.ids.length ? this.ids[0] : 0;
  }

  has(id) {
    return this.items.has(id);
  }

  get(id) {
    return this.items.get(id);
  }

  /** The loaded messages' photos, oldest first: what the viewer moves through. */
  images() {
    return this.all().flatMap((item) => (item.attachments || []).filter(isImage));
  }

  /** Every loaded message, oldest first. */
  all() {
    return this.ids.map((id) => this.items.get(id));
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM;
  }

  /**
   * Merges messages (any order, duplicates ignored). Returns the ones that were new.
   * `mode`: 'bottom' scrolls to the end, 'older' keeps the reader's place while content
   * grows above, 'live' follows the end only if the reader was there (or wrote it).
   */
  add(items, mode = 'live') {
    const wasNearBottom = this.isNearBottom();
    const heightBefore = this.scroller.scrollHeight;
    const topBefore = this.scroller.scrollTop;
    const fresh = [];
    for (const item of items) {
      if (typeof item.id !== 'number') continue;
      const known = this.items.get(item.id);
      if (known) {
        if (item.read && !known.read) this.markRead(item.id, item.id);
        continue;
      }
      this.items.set(item.id, item);
      fresh.push(item);
      const node = messageNode(item, this.ctx);
      this.nodes.set(item.id, node);
      this.insert(item.id, node);
    }
    if (fresh.length === 0) return fresh;
    this.relayout();
    if (mode === 'bottom') {
      this.scrollToBottom(false);
    } else if (mode === 'older') {
      this.scroller.scrollTop = topBefore + (this.scroller.scrollHeight - heightBefore);
    } else {
      const mine = fresh.some((m) => m.sender_id === this.ctx.me);
      if (wasNearBottom || mine) this.scrollToBottom(false);
      else this.unseen += fresh.length;
    }
    this.updateBottomButton();
    return fresh;
  }

  insert(id, node) {
    // Nearly always the newest (live) or the oldest (a page of history); else a binary search.
    let index;
    if (this.ids.length === 0 || id > this.newestId) index = this.ids.length;
    else if (id < this.oldestId) index = 0;
    else {
      let lo = 0;
      let hi = this.ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.ids[mid] < id) lo = mid + 1;
        else hi = mid;
      }
      index = lo;
    }
    const before = index < this.ids.length ? this.nodes.get(this.ids[index]) : null;
    this.ids.splice(index, 0, id);
    this.list.insertBefore(node, before);
  }

  /** Day separators, sender grouping and the notes at the top, after any change. */
  relayout() {
    for (const sep of this.list.querySelectorAll(':scope > .day-separator, :scope > .list-note')) sep.remove();
    let previous = null;
    for (const id of this.ids) {
      const item = this.items.get(id);
      const node = this.nodes.get(id);
      const newDay = !previous || dayKey(previous) !== dayKey(item);
      if (newDay) this.list.insertBefore(daySeparator(item), node);
      const grouped = !newDay && previous.sender_id === item.sender_id && !item.reply_to
        && withinGroup(previous, item);
      node.classList.toggle('grouped', grouped);
      previous = item;
    }
    if (this.loading) this.list.prepend(this.loadingRow);
    else if (this.reachedStart) {
      this.startRow.textContent = this.ids.length ? t('startOfChat') : t('emptyChat');
      this.list.prepend(this.startRow);
    }
    this.markStuck();
  }

  /** Marks the day labels that sit over messages (stuck to the top) rather than in place. */
  markStuck() {
    for (const sep of this.list.querySelectorAll(':scope > .day-separator')) {
      const next = sep.nextElementSibling;
      const stuck = !!next && next.getBoundingClientRect().top < sep.getBoundingClientRect().bottom;
      sep.classList.toggle('stuck', stuck);
    }
  }

  setLoadingOlder(loading) {
    this.loading = loading;
    this.relayout();
  }

  setReachedStart(reached) {
    this.reachedStart = reached;
    this.relayout();
  }

  /** Marks my messages with from ≤ id ≤ upTo as read (✓✓). */
  markRead(from, upTo) {
    for (const id of this.ids) {
      if (id < from) continue;
      if (id > upTo) break;
      const item = this.items.get(id);
      if (item.sender_id !== this.ctx.me || item.read) continue;
      item.read = true;
      setReceipt(this.nodes.get(id), true);
    }
  }

  /** Marks all my messages up to `upTo` read. */
  markOwnRead(upTo) {
    this.markRead(0, upTo);
  }

  scrollToBottom(smooth) {
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    this.unseen = 0;
    this.updateBottomButton();
  }

  onScroll() {
    this.list.classList.add('scrolling');
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.list.classList.remove('scrolling'), SCROLL_IDLE_MS);
    this.markStuck();
    if (this.isNearBottom() && this.unseen) this.unseen = 0;
    this.updateBottomButton();
    if (this.scroller.scrollTop < NEAR_TOP) this.onNearTop?.();
  }

  /** Whether the loaded messages do not fill the view yet (so a page more should load). */
  needsMore() {
    return this.scroller.scrollHeight <= this.scroller.clientHeight + NEAR_TOP;
  }

  updateBottomButton() {
    const away = this.ids.length > 0 && !this.isNearBottom();
    this.bottomButton.hidden = !away;
    this.bottomCount.textContent = this.unseen ? String(this.unseen) : '';
    this.bottomCount.hidden = !this.unseen;
    const label = this.unseen ? `${this.bottomLabel} (${plural('newMessages', this.unseen)})` : this.bottomLabel;
    this.bottomButton.setAttribute('aria-label', label);
  }

  /** Scrolls to a loaded message and flashes it; false if it is not loaded. */
  highlight(id) {
    const node = this.nodes.get(id);
    if (!node) return false;
    node.scrollIntoView({ block: 'center', behavior: 'auto' });
    node.classList.remove('highlight');
    // Restart the animation when the same message is jumped to twice.
    void node.offsetWidth;
    node.classList.add('highlight');
    node.addEventListener('animationend', () => node.classList.remove('highlight'), { once: true });
    const focusTarget = node.querySelector('.bubble');
    focusTarget.tabIndex = -1;
    focusTarget.focus({ preventScroll: true });
    return true;
  }

  /** A loaded message by its sender and text (quotes of the original app carry no id). */
  findByContent(senderId, text) {
    for (let i = this.ids.length - 1; i >= 0; i -= 1) {
      const item = this.items.get(this.ids[i]);
      if (item.sender_id === senderId && item.text === text) return item.id;
    }
    return null;
  }
}

function withinGroup(a, b) {
  if (!a.created_at || !b.created_at) return true;
  return Date.parse(b.created_at) - Date.parse(a.created_at) < GROUP_MS;
}
