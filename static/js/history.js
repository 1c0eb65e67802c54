// Loading a conversation's history into the view: opening at the first unread message (with
// the "unread messages" divider) or at a message (a search result, a quote), older pages on
// scrolling up, newer ones on scrolling down when the view is not at the end, and catching up
// after a reconnect with every change since the newest change number seen (`changed_since`:
// new messages, edits, deletions, reactions).

import { api, PAGE } from './api.js';

/** The largest page the server gives. */
const MAX_PAGE = 200;
/** Pages looked through at most for the first unread message, or for a quote's original. */
const MAX_UNREAD_PAGES = 5;
const MAX_JUMP_PAGES = 200;
/** Catch-up pages at most; a tab away longer than that starts the view over. */
const MAX_CATCH_UP_PAGES = 5;

export class History {
  /**
   * @param {object} c {kind, id, me, view, closed(), added(result), position(readUpTo, firstUnread)}
   */
  constructor(c) {
    this.c = c;
    this.view = c.view;
    this.loadingOlder = null;
    this.loadingNewer = null;
    /** Bumped when the view starts over: pages asked for before that are dropped. */
    this.generation = 0;
    /** The view is being (re)opened: scrolling asks for no pages meanwhile. */
    this.opening = false;
  }

  /** The view starts over (a new window of the conversation). */
  restart() {
    this.generation += 1;
    this.loadingOlder = null;
    this.loadingNewer = null;
  }

  /** Runs `open` with page loads on scrolling held off until it is done. */
  async opened(open) {
    this.restart();
    this.opening = true;
    try {
      return await open();
    } finally {
      this.opening = false;
    }
  }

  fetch(page) {
    const { kind, id, me } = this.c;
    return kind === 'room' ? api.roomHistory(id, page) : api.history(me, id, page);
  }

  add(items, mode) {
    const result = this.view.add(items, mode);
    this.c.added(result);
    return result;
  }

  /** Opens at the first unread message (`unread`: how many the list counts), else the end. */
  openLatest(unread) {
    return this.opened(() => this.latest(unread));
  }

  async latest(unread) {
    const limit = Math.min(MAX_PAGE, Math.max(PAGE, unread + 10));
    const page = await this.fetch({ limit });
    if (this.c.closed()) return;
    this.view.reachedEnd = true;
    this.add(page, 'bottom');
    this.view.setReachedStart(page.length < limit);
    let first = this.firstUnread(unread);
    for (let pages = 0; first.more && pages < MAX_UNREAD_PAGES && !this.view.reachedStart; pages += 1) {
      await this.loadOlder(MAX_PAGE, true);
      if (this.c.closed()) return;
      first = this.firstUnread(unread);
    }
    this.c.position(first.id ? first.id - 1 : this.view.newestId, first.id);
    if (first.id) {
      this.view.setDivider(first.id);
      this.view.scrollToUnread();
    } else {
      this.view.scrollToBottom(false);
    }
    if (!this.view.reachedStart && this.view.needsMore()) await this.loadOlder(PAGE, true);
  }

  /**
   * The first unread message among those loaded, and whether it may lie further back. Private
   * messages say whether I read them; in a room, the unread are the newest `unread` messages
   * of others (deleted ones are not counted).
   */
  firstUnread(unread) {
    const items = this.view.all().filter((m) => m.sender_id !== this.c.me && !m.deleted);
    if (this.c.kind === 'user') {
      const unreadItems = items.filter((m) => !m.read);
      const first = unreadItems[0]?.id ?? 0;
      return { id: first, more: first !== 0 && items[0]?.id === first };
    }
    if (unread <= 0) return { id: 0, more: false };
    if (items.length >= unread) return { id: items[items.length - unread].id, more: false };
    return { id: items[0]?.id ?? 0, more: true };
  }

  /** Opens the history around message `target` (not necessarily reaching the end). */
  openAround(target) {
    return this.opened(() => this.around(target));
  }

  async around(target) {
    const page = await this.fetch({ around: target, limit: PAGE });
    if (this.c.closed()) return false;
    const older = page.filter((m) => m.id < target).length;
    const newer = page.length - older;
    this.view.reachedEnd = newer < PAGE - Math.floor(PAGE / 2);
    this.add(page, 'around');
    this.view.setReachedStart(older < Math.floor(PAGE / 2));
    return this.view.has(target);
  }

  /**
   * The previous page; resolves when loaded (or at once if there is nothing more). While the
   * view is opening, only the opening itself (`opening`) asks for one.
   */
  loadOlder(limit = PAGE, opening = false) {
    if (this.view.reachedStart || this.c.closed() || (this.opening && !opening) || !this.view.oldestId) return Promise.resolve();
    if (this.loadingOlder) return this.loadingOlder;
    this.view.setLoadingOlder(true);
    const generation = this.generation;
    this.loadingOlder = (async () => {
      try {
        const page = await this.fetch({ before: this.view.oldestId, limit });
        if (this.c.closed() || generation !== this.generation) return;
        this.view.loading = false;
        this.add(page, 'older');
        if (page.length < limit) this.view.setReachedStart(true);
      } finally {
        if (generation === this.generation) {
          this.loadingOlder = null;
          if (!this.c.closed()) this.view.setLoadingOlder(false);
        }
      }
    })();
    return this.loadingOlder;
  }

  /** The next page toward the end, when the view does not reach it. */
  loadNewer() {
    if (this.view.reachedEnd || this.c.closed() || this.opening || !this.view.newestId) return Promise.resolve();
    if (this.loadingNewer) return this.loadingNewer;
    const generation = this.generation;
    const current = () => !this.c.closed() && generation === this.generation;
    this.loadingNewer = (async () => {
      try {
        const page = await this.fetch({ after: this.view.newestId, limit: PAGE });
        if (!current()) return;
        this.add(page, 'newer');
        if (page.length < PAGE) {
          this.view.reachedEnd = true;
          // What arrived live while the last page was on its way.
          const rest = await this.fetch({ after: this.view.newestId, limit: MAX_PAGE });
          if (current()) this.add(rest, 'newer');
          this.view.updateBottomButton();
        }
      } finally {
        if (generation === this.generation) this.loadingNewer = null;
      }
    })();
    return this.loadingNewer;
  }

  /**
   * Every change since the newest change number seen, page by page; `receipts`: after a
   * disconnection, the receipts of a private chat too. Returns false when the tab was away
   * so long that the view should start over.
   */
  async catchUp(receipts) {
    if (!this.view.reachedEnd) return this.refreshWindow();
    let cursor = this.view.maxSeq;
    for (let pages = 0; ; pages += 1) {
      if (pages >= MAX_CATCH_UP_PAGES) return false;
      const page = await this.fetch({ changedSince: cursor, limit: MAX_PAGE });
      if (this.c.closed()) return true;
      this.add(page, 'live');
      if (page.length < MAX_PAGE) break;
      cursor = Math.max(cursor, ...page.map((m) => m.seq ?? 0));
    }
    if (receipts && this.c.kind === 'user' && this.view.reachedEnd) {
      // Receipts that changed while we were away: the newest page carries `read`.
      const latest = await this.fetch({ limit: PAGE });
      if (!this.c.closed()) this.add(latest, 'live');
    }
    return true;
  }

  /**
   * A window that does not reach the end (opened at a search result): its own messages are
   * fetched again, so their edits, deletions and reactions show; what is newer loads on
   * scrolling down as usual.
   */
  async refreshWindow() {
    const ids = this.view.all().map((m) => m.id);
    for (let from = 0; from < ids.length && !this.c.closed(); from += MAX_PAGE) {
      const chunk = ids.slice(from, from + MAX_PAGE);
      // (`after` must be positive: a chunk from the very first message is asked for from its end.)
      const page = await this.fetch(chunk[0] > 1
        ? { after: chunk[0] - 1, limit: chunk.length }
        : { before: chunk[chunk.length - 1] + 1, limit: chunk.length });
      if (this.c.closed()) break;
      this.add(page, 'live');
    }
    return true;
  }

  /** Finds a quote's original by content (quotes written by the original app carry no id). */
  async findLegacy(quote) {
    let id = this.view.findByContent(quote.sender_id, quote.text);
    for (let pages = 0; id === null && !this.view.reachedStart && pages < MAX_JUMP_PAGES && !this.c.closed(); pages += 1) {
      const oldest = this.view.oldestId;
      await this.loadOlder();
      if (this.view.oldestId === oldest && !this.view.reachedStart) break;
      id = this.view.findByContent(quote.sender_id, quote.text);
    }
    return id;
  }
}
