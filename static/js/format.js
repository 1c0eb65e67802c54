// Message text as DOM nodes: links (http, https and mailto only), *bold*, _italic_, `code`
// and ``` code blocks ```. Nothing else is markup: HTML and everything else stays the text it
// is, because nodes are only ever made with createElement and createTextNode — no string is
// parsed as HTML. A `javascript:` address is never a link (only the three schemes match).

import { el } from './dom.js';

const FENCE = '```';
/** Link schemes that become links. */
const SCHEMES = new Set(['http:', 'https:', 'mailto:']);
/**
 * What inline formatting recognises, leftmost first: an address; *bold* and _italic_ whose
 * delimiters sit at word edges (so snake_case and 2*3*4 stay text) and hug their text.
 */
const INLINE = new RegExp([
  String.raw`((?:https?:\/\/|mailto:)[^\s<>"]+)`,
  String.raw`(?<![\p{L}\p{N}_*])\*(?=\S)([^*\n]*?\S)\*(?![\p{L}\p{N}_*])`,
  String.raw`(?<![\p{L}\p{N}_])_(?=\S)([^_\n]*?\S)_(?![\p{L}\p{N}_])`,
].join('|'), 'gu');
/** Inline code: backticks around text on one line. */
const CODE = /`([^`\n]+)`/g;

/** The nodes for a message's text. */
export function formatText(text) {
  const fragment = document.createDocumentFragment();
  let rest = String(text);
  for (;;) {
    const open = rest.indexOf(FENCE);
    const close = open < 0 ? -1 : rest.indexOf(FENCE, open + FENCE.length);
    if (close < 0) break;
    appendCode(fragment, rest.slice(0, open));
    let code = rest.slice(open + FENCE.length, close);
    if (code.startsWith('\n')) code = code.slice(1);
    if (code.endsWith('\n')) code = code.slice(0, -1);
    fragment.append(el('pre', { class: 'code-block' }, [el('code', { text: code })]));
    rest = rest.slice(close + FENCE.length);
    if (rest.startsWith('\n')) rest = rest.slice(1);
  }
  appendCode(fragment, rest);
  return fragment;
}

/** Text with `inline code`; the rest is formatted inline. */
function appendCode(parent, text) {
  let at = 0;
  for (const match of text.matchAll(CODE)) {
    appendInline(parent, text.slice(at, match.index));
    parent.append(el('code', { class: 'inline-code', text: match[1] }));
    at = match.index + match[0].length;
  }
  appendInline(parent, text.slice(at));
}

function appendInline(parent, text) {
  if (!text) return;
  let at = 0;
  for (const match of text.matchAll(INLINE)) {
    const [whole, address, bold, italic] = match;
    let end = match.index + whole.length;
    if (address !== undefined) {
      const { link, length } = linkFor(address);
      if (!link) continue;
      parent.append(text.slice(at, match.index), link);
      end = match.index + length;
      // Punctuation trimmed off the address is ordinary text again.
      parent.append(text.slice(end, match.index + whole.length));
      at = match.index + whole.length;
      continue;
    }
    parent.append(text.slice(at, match.index));
    const node = el(bold !== undefined ? 'strong' : 'em');
    appendInline(node, bold ?? italic);
    parent.append(node);
    at = end;
  }
  parent.append(text.slice(at));
}

/** A link for an address as typed, without trailing punctuation; null if it is not one. */
function linkFor(candidate) {
  let text = candidate.replace(/[.,;:!?'"*_]+$/u, '');
  // A closing parenthesis belongs to the address only if it opened one.
  while (text.endsWith(')') && count(text, '(') < count(text, ')')) text = text.slice(0, -1).replace(/[.,;:!?'"*_]+$/u, '');
  let url;
  try {
    url = new URL(text);
  } catch {
    return { link: null, length: 0 };
  }
  if (!SCHEMES.has(url.protocol) || (url.protocol === 'mailto:' ? !url.pathname.includes('@') : !url.hostname)) {
    return { link: null, length: 0 };
  }
  const link = el('a', { href: url.href, text, attrs: { target: '_blank', rel: 'noopener noreferrer' } });
  return { link, length: text.length };
}

function count(text, ch) {
  let n = 0;
  for (const c of text) if (c === ch) n += 1;
  return n;
}
