// What the reader has seen: a message from someone else counts as read only once at least
// half of it (or half the view, for a tall one) has been on screen in a visible tab
// (IntersectionObserver). The newest seen id is reported as the read position, debounced;
// the server moves it forward only, answers with the unread counts, and sends the sender
// their ✓✓. Also counts what is still unseen, for the jump button.

const REPORT_DELAY = 250;

export class ReadTracker {
  /**
   * @param {object} opts {scroller, report(upTo), onChange()}
   */
  constructor(opts) {
    this.report = opts.report;
    this.onChange = opts.onChange;
    /** id → node of unread messages from others, not yet seen. */
    this.waiting = new Map();
    /** Ids on screen while the tab was hidden: seen once it shows. */
    this.onScreen = new Set();
    this.seenUpTo = 0;
    this.reported = 0;
    this.timer = null;
    this.observer = new IntersectionObserver((entries) => this.intersect(entries), {
      root: opts.scroller,
      threshold: [0, 0.25, 0.5, 0.75, 1],
    });
    this.onVisibility = () => {
      if (document.visibilityState !== 'visible') return;
      for (const id of this.onScreen) this.seen(id);
      this.onScreen.clear();
    };
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  /** Starts over: everything up to `readUpTo` is read already. */
  reset(readUpTo) {
    this.observer.disconnect();
    this.waiting.clear();
    this.onScreen.clear();
    this.seenUpTo = readUpTo;
    this.reported = readUpTo;
    clearTimeout(this.timer);
    this.onChange();
  }

  /** Watches a message the reader has not read (from someone else, newer than the position). */
  watch(node, item) {
    const old = this.waiting.get(item.id);
    if (old) this.observer.unobserve(old);
    if (item.id <= this.seenUpTo) {
      this.waiting.delete(item.id);
      return;
    }
    this.waiting.set(item.id, node);
    this.observer.observe(node);
    this.onChange();
  }

  intersect(entries) {
    for (const entry of entries) {
      const id = Number(entry.target.dataset.id);
      if (!this.waiting.has(id)) continue;
      const rootHeight = entry.rootBounds?.height ?? 0;
      const enough = entry.isIntersecting
        && (entry.intersectionRatio >= 0.5 || (rootHeight > 0 && entry.intersectionRect.height >= rootHeight / 2));
      if (!enough) {
        this.onScreen.delete(id);
        continue;
      }
      if (document.visibilityState === 'visible') this.seen(id);
      else this.onScreen.add(id);
    }
  }

  /** The reader saw message `id`: the position moves to it (and past everything before it). */
  seen(id) {
    if (id <= this.seenUpTo) return;
    this.seenUpTo = id;
    for (const [waitingId, node] of this.waiting) {
      if (waitingId <= id) {
        this.observer.unobserve(node);
        this.waiting.delete(waitingId);
      }
    }
    this.onChange();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), REPORT_DELAY);
  }

  /** Reports the position if it moved since the last report that went out. */
  flush() {
    clearTimeout(this.timer);
    if (this.seenUpTo <= this.reported) return;
    if (this.report(this.seenUpTo)) this.reported = this.seenUpTo;
  }

  /** Unread messages not seen yet, among those loaded. */
  get unseen() {
    return this.waiting.size;
  }

  /** The oldest loaded message not seen yet, or 0. */
  get firstUnseen() {
    let first = 0;
    for (const id of this.waiting.keys()) if (first === 0 || id < first) first = id;
    return first;
  }

  close() {
    clearTimeout(this.timer);
    this.observer.disconnect();
    document.removeEventListener('visibilitychange', this.onVisibility);
  }
}
