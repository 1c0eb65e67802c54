// Drafts: what was typed in a conversation's composer and not sent, kept per conversation in
// localStorage, so it is there again after switching chats or reloading. The chat list shows
// a conversation's draft in place of its last message.

import { emit } from './state.js';
import { eachStored, loadStored, saveStored } from './storage.js';

const drafts = new Map();
let owner = null;

function ensureLoaded(me) {
  if (owner === me) return;
  owner = me;
  drafts.clear();
  eachStored(me, 'draft.', (key, text) => {
    if (typeof text === 'string' && text) drafts.set(key.slice('draft.'.length), text);
  });
}

/** The draft of conversation `key` (state.js chatKey), or ''. */
export function draftOf(me, key) {
  ensureLoaded(me);
  return drafts.get(key) ?? '';
}

/** Keeps (or, for blank text, forgets) the draft of conversation `key`. */
export function saveDraft(me, key, text) {
  ensureLoaded(me);
  const keep = text.trim() ? text : '';
  if ((drafts.get(key) ?? '') === keep) return;
  if (keep) drafts.set(key, keep);
  else drafts.delete(key);
  saveStored(me, `draft.${key}`, keep || null);
  emit('drafts', key);
}

/** Another tab changed a draft: read it again. */
window.addEventListener('storage', (event) => {
  if (owner && event.key && event.key.startsWith(`mychat.${owner}.draft.`)) {
    const key = event.key.slice(`mychat.${owner}.draft.`.length);
    const text = loadStored(owner, `draft.${key}`, '');
    if (text) drafts.set(key, text);
    else drafts.delete(key);
    emit('drafts', key);
  }
});
