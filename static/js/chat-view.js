// The message list of the open conversation: the loaded window of messages (the newest page,
// or the history around a message), kept in id order without duplicates; a message that
// changed (edited, deleted, reacted to) replaced in place when its change number is newer;
// day separators, the "unread messages" divider, the outbox's messages at the end; the scroll
// position (stick to the bottom, keep the place when pages are added above); the jump button
// with its count of unread messages; and jumping to a message with a highlight.
//
// A day separator sticks to the top while its day scrolls by; stuck over messages it shows
// only while the reader scrolls (and SCROLL_IDLE_MS after), then fades, so it never hides
// the text of the message under it.

import { el } from './dom.js';
import { attachGestures } from './gestures.js';
import { plural, t } from './i18n.js';
import { isImage } from './attachments.js';
import { daySeparator, messageNode, pendingNode, setReceipt, unreadDivider } from './messages.js';
import { dayKey } from './time.js';

/** Closer to the bottom than this counts as "at the bottom". */
const NEAR_BOTTOM = 120;
/** Closer to the top (or bottom) than this asks for the next page that way. */
const NEAR_EDGE = 200;
/** Consecutive messages of one sender within this many ms are grouped. */
const GROUP_MS = 5 * 60 * 1000;
/** A stuck day label fades this long after the last scroll. */
const SCROLL_IDLE_MS = 1200;

const seqOf = (item) => (typeof item.seq === 'number' ? item.seq : 0);

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
    this.pending = [];
    this.reachedStart = false;
    this.reachedEnd = true;
    this.loading = false;
    this.dividerBefore = null;
    this.divider = unreadDivider();
    this.unseen = 0;
    this.maxSeq = 0;
    /** Set by the conversation: called near the top / bottom, and on the jump button. */
    this.onNearTop = null;
    this.onNearBottom = null;
    this.onJump = null;
    this.loadingRow = el('div', { class: 'list-note loading', text: t('loadingOlder'), attrs: { role: 'status' } });
    this.startRow = el('div', { class: 'list-note start' });
    this.idleTimer = null;
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.bottomButton.addEventListener('click', () => this.onJump?.());
    const itemOf = (node) => this.items.get(Number(node.dataset.id));
    attachGestures(this.list, {
      menu: (node, where) => { const item = itemOf(node); if (item) this.ctx.act('menu', item, { ...where, opener: node.querySelector('.msg-more') }); },
      reply: (node) => { const item = itemOf(node); if (item) this.ctx.act('reply', item); },
    });
  }

  /**
   * Empties the list for a new conversation (or a new window of it). `ctx`: what messageNode
   * takes, plus onNode(node, item) and onReplace(old, node, item); photos open in the viewer.
   */
  reset(ctx = this.ctx) {
    this.ctx = { ...ctx, onOpen: (attachment) => this.viewer?.show(this.images(), attachment.id) };
    this.viewer?.close();
    this.items.clear();
    this.nodes.clear();
    this.ids = [];
    this.reachedStart = false;
    this.reachedEnd = true;
    this.loading = false;
    this.dividerBefore = null;
    this.unseen = 0;
    this.maxSeq = 0;
    this.list.replaceChildren();
    this.list.dataset.kind = ctx.kind;
    this.relayout();
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

  node(id) {
    return this.nodes.get(id) ?? null;
  }

  /** Every loaded message, oldest first. */
  all() {
    return this.ids.map((id) => this.items.get(id));
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM;
  }

  /** Whether a live message with this id belongs in the loaded window (no gap before it). */
  inWindow(id) {
    if (this.ids.length === 0) return this.reachedEnd;
    if (id > this.newestId) return this.reachedEnd;
    if (id < this.oldestId) return this.reachedStart;
    return true;
  }

  /**
   * Merges messages (any order; each id once; a known one replaced if its change number is
   * newer). Returns {fresh, changed, outside}: the new ones, the replaced ones, and the ones
   * left out because they lie beyond the loaded window.
   * `mode`: 'bottom' scrolls to the end; 'older' keeps the reader's place while content grows
   * above; 'newer' and 'around' add a page and keep the place; 'live' adds only what fits the
   * window and follows the end if the reader was there (or wrote it).
   */
  add(items, mode = 'live') {
    const wasNearBottom = this.isNearBottom();
    const heightBefore = this.scroller.scrollHeight;
    const topBefore = this.scroller.scrollTop;
    const fresh = [];
    const changed = [];
    const outside = [];
    for (const item of items) {
      if (typeof item.id !== 'number') continue;
      this.maxSeq = Math.max(this.maxSeq, seqOf(item));
      const known = this.items.get(item.id);
      if (known) {
        if (seqOf(item) > seqOf(known)) {
          this.replace({ ...item, read: item.read || known.read });
          changed.push(item);
          if (item.deleted && !known.deleted) this.originalDeleted(item.id);
        } else if (item.read && !known.read) {
          this.markRead(item.id, item.id);
        }
        continue;
      }
      if (mode === 'live' && !this.inWindow(item.id)) {
        outside.push(item);
        continue;
      }
      this.items.set(item.id, item);
      fresh.push(item);
      const node = messageNode(item, this.ctx);
      this.nodes.set(item.id, node);
      this.insert(item.id, node);
      this.ctx.onNode?.(node, item);
    }
    if (fresh.length === 0) return { fresh, changed, outside };
    this.relayout();
    if (mode === 'bottom') {
      this.scrollToBottom(false);
    } else if (mode === 'older') {
      this.scroller.scrollTop = topBefore + (this.scroller.scrollHeight - heightBefore);
    } else if (mode === 'live') {
      const mine = fresh.some((m) => m.sender_id === this.ctx.me);
      if (wasNearBottom || mine) this.scrollToBottom(false);
    }
    this.updateBottomButton();
    return { fresh, changed, outside };
  }

  /** Draws a known message again (it changed). */
  replace(item) {
    const old = this.nodes.get(item.id);
    this.items.set(item.id, item);
    const node = messageNode(item, this.ctx);
    node.classList.toggle('grouped', old.classList.contains('grouped'));
    // Keyboard focus inside the old drawing moves to the same control in the new one.
    const focused = old.contains(document.activeElement) ? document.activeElement : null;
    old.replaceWith(node);
    this.nodes.set(item.id, node);
    this.ctx.onReplace?.(old, node, item, focused);
    const lost = !document.activeElement || document.activeElement === document.body;
    if (focused && lost) {
      const same = focused.classList.contains('reaction')
        ? node.querySelector(`.reaction[data-emoji="${CSS.escape(focused.dataset.emoji)}"]`)
        : node.querySelector([...focused.classList].map((c) => `.${CSS.escape(c)}`).join('') || '.msg-more');
      (same ?? node.querySelector('.msg-more'))?.focus({ preventScroll: true });
    }
    this.ctx.onNode?.(node, item);
  }

  /** Replies to a message that was just deleted show their quote as deleted too. */
  originalDeleted(id) {
    for (const reply of [...this.items.values()]) {
      if (reply.reply_to?.id !== id || reply.reply_to.deleted) continue;
      this.replace({ ...reply, reply_to: { ...reply.reply_to, text: '', deleted: true } });
    }
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
    this.list.insertBefore(node, before ?? this.pendingAnchor());
  }

  /** Where messages end: before the first outbox message, if any. */
  pendingAnchor() {
    return this.list.querySelector(':scope > .msg.pending');
  }

  /** Day separators, grouping, the unread divider, the notes at the top, after any change. */
  relayout() {
    for (const sep of this.list.querySelectorAll(':scope > .day-separator, :scope > .list-note, :scope > .unread-divider')) sep.remove();
    let previous = null;
    for (const id of this.ids) {
      const item = this.items.get(id);
      const node = this.nodes.get(id);
      const newDay = !previous || dayKey(previous) !== dayKey(item);
      if (newDay) this.list.insertBefore(daySeparator(item), node);
      if (id === this.dividerBefore) this.list.insertBefore(this.divider, node);
      const grouped = !newDay && id !== this.dividerBefore && previous.sender_id === item.sender_id
        && !item.reply_to && withinGroup(previous, item);
      node.classList.toggle('grouped', grouped);
      previous = item;
    }
    for (const node of this.list.querySelectorAll(':scope > .msg.pending')) node.remove();
    for (const entry of this.pending) this.list.append(entry.node);
    if (this.loading) this.list.prepend(this.loadingRow);
    else if (this.reachedStart) {
      this.startRow.textContent = this.ids.length || this.pending.length ? t('startOfChat') : t('emptyChat');
      this.list.prepend(this.startRow);
    }
    this.markStuck();
  }

  /** Shows the outbox: `entries` in order, with the callbacks pendingNode takes. */
  setPending(entries, ctx) {
    const wasNearBottom = this.isNearBottom();
    const added = entries.length > this.pending.length;
    this.pending = entries.map((entry) => ({ entry, node: pendingNode(entry, { kind: this.ctx.kind, ...ctx }) }));
    this.relayout();
    if (wasNearBottom || added) this.scrollToBottom(false);
    this.updateBottomButton();
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

  /** Puts the "unread messages" divider before message `id` (null: none). */
  setDivider(id) {
    this.dividerBefore = id;
    this.relayout();
  }

  /** Scrolls so the divider (or else message `id`) is at the top of the view. */
  scrollToUnread() {
    const target = this.divider.isConnected ? this.divider : null;
    if (!target) {
      this.scrollToBottom(false);
      return;
    }
    this.scroller.scrollTop = Math.max(0, target.offsetTop - this.list.offsetTop - 8);
    this.updateBottomButton();
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
    this.updateBottomButton();
  }

  onScroll() {
    this.list.classList.add('scrolling');
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.list.classList.remove('scrolling'), SCROLL_IDLE_MS);
    this.markStuck();
    this.updateBottomButton();
    const s = this.scroller;
    if (s.scrollTop < NEAR_EDGE) this.onNearTop?.();
    if (!this.reachedEnd && s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_EDGE) this.onNearBottom?.();
  }

  /** Whether the loaded messages do not fill the view yet (so a page more should load). */
  needsMore() {
    return this.scroller.scrollHeight <= this.scroller.clientHeight + NEAR_EDGE;
  }

  /** How many unread messages wait below (the jump button's count). */
  setUnseen(count) {
    if (this.unseen === count) return;
    this.unseen = count;
    this.updateBottomButton();
  }

  updateBottomButton() {
    const away = (this.ids.length > 0 && !this.isNearBottom()) || !this.reachedEnd;
    this.bottomButton.hidden = !away;
    this.bottomCount.textContent = this.unseen ? (this.unseen > 99 ? '99+' : String(this.unseen)) : '';
    this.bottomCount.hidden = !this.unseen;
    const label = this.unseen ? t('jumpToUnread', { count: plural('unread', this.unseen) }) : t('scrollBottom');
    this.bottomButton.setAttribute('aria-label', label);
    this.bottomButton.title = label;
  }

  /** Scrolls to a loaded message and flashes it; false if it is not loaded. */
  highlight(id, { focus = true } = {}) {
    const node = this.nodes.get(id);
    if (!node) return false;
    node.scrollIntoView({ block: 'center', behavior: 'auto' });
    node.classList.remove('highlight');
    // Restart the animation when the same message is jumped to twice.
    void node.offsetWidth;
    node.classList.add('highlight');
    node.addEventListener('animationend', () => node.classList.remove('highlight'), { once: true });
    if (focus) {
      const focusTarget = node.querySelector('.bubble');
      focusTarget.tabIndex = -1;
      focusTarget.focus({ preventScroll: true });
    }
    this.updateBottomButton();
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
