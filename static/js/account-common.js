// What the settings and administration pages share: dates in the reader's language, a short
// name for a browser from its user agent, copying a link, and status lines.

import { lang, t } from './i18n.js';

const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });

/** An ISO-8601 time as the reader's clock and language show it ('' if there is none). */
export function formatWhen(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : dateTime.format(date);
}

const BROWSERS = [['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']];
const SYSTEMS = [['Android', 'Android'], ['iPhone', 'iPhone'], ['iPad', 'iPad'], ['Windows', 'Windows'], ['Mac OS X', 'macOS'], ['CrOS', 'ChromeOS'], ['Linux', 'Linux']];

/** "Firefox on Android" from a user agent; the raw text's start for anything else. */
export function describeAgent(agent) {
  if (!agent) return t('unknownDevice');
  const browser = BROWSERS.find(([mark]) => agent.includes(mark))?.[1];
  const system = SYSTEMS.find(([mark]) => agent.includes(mark))?.[1];
  if (browser && system) return `${browser} · ${system}`;
  return browser || system || agent.slice(0, 60);
}

/** Shows `text` in a status or error line (empty hides it). */
export function say(node, text) {
  node.textContent = text || '';
}

/** Copies a read-only field's text, saying so in `status`. */
export async function copyField(input, status) {
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    say(status, t('copied'));
  } catch {
    say(status, t('copyFailed'));
  }
}
