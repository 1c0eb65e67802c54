// A message's attachments as DOM: photos as thumbnails whose box has the photo's real aspect
// ratio before a byte of it loads (the server sends each image's width and height), so the
// list does not jump; other files as a row with an icon, the name, the size and a download
// link, audio and video with a player above it; a file no longer kept as a note. Names go in
// through textContent.

import { el } from './dom.js';
import { lang, t } from './i18n.js';

const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** A thumbnail is at most this big in the bubble (CSS may shrink it further). */
const BOX_WIDTH = 300;
const BOX_HEIGHT = 320;

/** Whether an attachment is shown as a picture (and in the viewer). */
export function isImage(attachment) {
  return INLINE_TYPES.has(attachment.type) && !attachment.expired;
}

/** `25 MB`, `1.5 KB`, in the page's language. */
export function formatSize(bytes) {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(lang, {
    style: 'unit', unit: units[unit], unitDisplay: 'short', maximumFractionDigits: value < 10 && unit > 0 ? 1 : 0,
  }).format(value);
}

/** The box an image gets: its aspect ratio, at most BOX_WIDTH × BOX_HEIGHT. */
export function boxOf(attachment) {
  const w = attachment.width || BOX_WIDTH;
  const h = attachment.height || BOX_WIDTH;
  const scale = Math.min(1, BOX_WIDTH / w, BOX_HEIGHT / h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

function imageTile(attachment, onOpen) {
  const { width, height } = boxOf(attachment);
  const img = el('img', {
    class: 'attachment-img',
    alt: attachment.name,
    src: attachment.thumb_url || attachment.url,
    attrs: { width, height, loading: 'lazy', decoding: 'async' },
  });
  img.style.aspectRatio = `${width} / ${height}`;
  return el('button', {
    type: 'button',
    class: 'attachment-image',
    dataset: { id: String(attachment.id) },
    attrs: { 'aria-label': t('openImage', { name: attachment.name }) },
    on: { click: (event) => { event.stopPropagation(); onOpen(attachment); } },
  }, [img]);
}

/** `'audio'` or `'video'` for a type the browser can play, else `null`. */
function mediaKind(type) {
  return type.startsWith('audio/') ? 'audio' : type.startsWith('video/') ? 'video' : null;
}

function fileIcon(type) {
  const kind = mediaKind(type) || (type === 'application/pdf' ? 'pdf' : type.startsWith('text/') ? 'text' : 'file');
  return el('span', { class: `file-icon file-icon-${kind}`, attrs: { 'aria-hidden': 'true' }, text: kind === 'pdf' ? 'PDF' : '' });
}

function fileRow(attachment) {
  const size = formatSize(attachment.size);
  return el('a', {
    class: 'attachment-file',
    href: attachment.url,
    dataset: { id: String(attachment.id) },
    attrs: { download: attachment.name, 'aria-label': t('downloadFile', { name: attachment.name, size }) },
  }, [
    fileIcon(attachment.type),
    el('span', { class: 'file-text' }, [
      el('span', { class: 'file-name', text: attachment.name }),
      el('span', { class: 'file-size', text: size }),
    ]),
  ]);
}

/**
 * Audio and video play in the bubble (the server answers ranges, so they seek) above their
 * download row; nothing is fetched until the person presses play, or for a video, its first
 * frame's worth of metadata.
 */
function mediaTile(attachment, kind) {
  const video = kind === 'video';
  const player = el(kind, {
    class: `attachment-${kind}`,
    src: attachment.url,
    attrs: { controls: '', preload: video ? 'metadata' : 'none', playsinline: video ? '' : null, 'aria-label': attachment.name },
  });
  return el('div', { class: 'attachment-media' }, [player, fileRow(attachment)]);
}

/**
 * The attachments of a message.
 * @param items   the message's `attachments`
 * @param onOpen  called with an image attachment to show it full screen
 */
export function renderAttachments(items, onOpen) {
  const images = items.filter(isImage);
  const box = el('div', { class: `attachments${images.length > 1 ? ' several' : ''}` });
  for (const attachment of items) {
    const media = mediaKind(attachment.type);
    if (attachment.expired) box.append(el('p', { class: 'attachment-expired', text: t('fileExpired', { name: attachment.name }) }));
    else if (isImage(attachment)) box.append(imageTile(attachment, onOpen));
    else if (media) box.append(mediaTile(attachment, media));
    else box.append(fileRow(attachment));
  }
  return box;
}
