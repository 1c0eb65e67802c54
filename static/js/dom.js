// A tiny, safe element builder. Text only ever enters the page through textContent or
// createTextNode: nothing here parses markup, so names and messages full of HTML stay text.

/**
 * Creates an element. `props` may hold: class (string), text (string, set as textContent),
 * attrs (object of attribute values, set with setAttribute), dataset (object), on (object
 * of event listeners), and any other own property (hidden, type, disabled, value...).
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'attrs') for (const [a, v] of Object.entries(value)) { if (v !== undefined && v !== null) node.setAttribute(a, String(v)); }
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    else node[key] = value;
  }
  append(node, children);
  return node;
}

/** Appends children: nodes as they are, strings as text nodes. */
export function append(parent, children) {
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return parent;
}

/** Finds a required element by id. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

/** Removes every child. */
export function clear(node) {
  node.replaceChildren();
}

/** How many sender colours there are (static/css/app.css defines [data-color="0"]…"7"). */
export const COLORS = 8;

/** A stable colour (0…COLORS-1) for an id, so each sender keeps one colour everywhere. */
export function colorOf(id) {
  let hash = 2166136261;
  for (const ch of String(id)) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash % COLORS;
}

/** The first letter of a name, for avatars. */
export function initial(name) {
  const first = Array.from(String(name).trim())[0];
  return first ? first.toUpperCase() : '?';
}

/** A coloured circle with a name's initial. */
export function avatar(id, name, extraClass = '') {
  return el('span', {
    class: `avatar ${extraClass}`.trim(),
    text: initial(name),
    dataset: { color: String(colorOf(id)) },
    attrs: { 'aria-hidden': 'true' },
  });
}
