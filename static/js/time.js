// Times as the reader's clock shows them. Messages carry `created_at` (full UTC ISO-8601);
// rows written by the original app have only `time` (HH:MM), shown as stored.

import { lang, t } from './i18n.js';

const timeFormat = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long' });
const dayYearFormat = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long', year: 'numeric' });

/** The message's instant, or null for legacy rows. */
export function messageDate(item) {
  if (!item.created_at) return null;
  const date = new Date(item.created_at);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `HH:MM` in local time (or the legacy `time` field). */
export function shortTime(item) {
  const date = messageDate(item);
  return date ? timeFormat.format(date) : (item.time || '');
}

/** A full date and time for a tooltip; empty for legacy rows. */
export function fullTime(item) {
  const date = messageDate(item);
  return date ? fullFormat.format(date) : '';
}

/** A key that is equal for messages of the same local day; "legacy" for undated rows. */
export function dayKey(item) {
  const date = messageDate(item);
  if (!date) return 'legacy';
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** The label of a day separator. */
export function dayLabel(item, now = new Date()) {
  const date = messageDate(item);
  if (!date) return t('earlier');
  const startOf = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(date)) / 86_400_000);
  if (days === 0) return t('today');
  if (days === 1) return t('yesterday');
  return date.getFullYear() === now.getFullYear() ? dayFormat.format(date) : dayYearFormat.format(date);
}

const weekdayFormat = new Intl.DateTimeFormat(lang, { weekday: 'short' });
const shortDateFormat = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short' });
const yearDateFormat = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', year: 'numeric' });

/** A chat list entry's time: HH:MM today, the weekday this week, else the date. */
export function listTime(item, now = new Date()) {
  const date = messageDate(item);
  if (!date) return item.time || '';
  const startOf = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(date)) / 86_400_000);
  if (days <= 0) return timeFormat.format(date);
  if (days < 7) return weekdayFormat.format(date);
  return date.getFullYear() === now.getFullYear() ? shortDateFormat.format(date) : yearDateFormat.format(date);
}
