// localStorage that never throws: private modes, a full quota or storage turned off lose a
// convenience (a draft, a queued message surviving a reload), never break the app. Values
// are JSON; every key is the user's, so two accounts in one browser keep theirs apart.

const PREFIX = 'mychat.';

/** The stored value of `key` (of the user `me`), or `fallback`. */
export function loadStored(me, key, fallback) {
  try {
    const text = localStorage.getItem(`${PREFIX}${me}.${key}`);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** Stores `value` (or removes the key when `value` is null/undefined); false if it could not. */
export function saveStored(me, key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(`${PREFIX}${me}.${key}`);
    else localStorage.setItem(`${PREFIX}${me}.${key}`, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

/** Calls `fn(key, value)` for each stored key of `me` that starts with `prefix`. */
export function eachStored(me, prefix, fn) {
  const start = `${PREFIX}${me}.${prefix}`;
  let keys = [];
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (key && key.startsWith(start)) keys.push(key);
    }
  } catch {
    keys = [];
  }
  for (const key of keys) {
    try {
      fn(key.slice(PREFIX.length + me.length + 1), JSON.parse(localStorage.getItem(key)));
    } catch {
      // An entry another version wrote; ignore it.
    }
  }
}
