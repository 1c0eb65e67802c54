// The small inline icons the scripts draw (stroked 24×24 SVG paths, as in the templates).

const NS = 'http://www.w3.org/2000/svg';

const PATHS = {
  reply: ['M9 14L4 9l5-5', 'M4 9h10a6 6 0 0 1 6 6v5'],
  smile: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M8.5 14a4 4 0 0 0 7 0', 'M9 9.5h.01', 'M15 9.5h.01'],
  more: ['M5 12h.01', 'M12 12h.01', 'M19 12h.01'],
  kebab: ['M12 5h.01', 'M12 12h.01', 'M12 19h.01'],
  edit: ['M4 20h4L19 9l-4-4L4 16z', 'M13.5 6.5l4 4'],
  trash: ['M4 7h16', 'M9 7V4h6v3', 'M6 7l1 13h10l1-13'],
  copy: ['M9 9h11v11H9z', 'M5 15H4V4h11v1'],
  clock: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 7v5l3 2'],
  alert: ['M12 3l10 18H2z', 'M12 10v5', 'M12 18h.01'],
  muted: ['M6 16v-5a6 6 0 0 1 9.5-4.9', 'M18 11v5l2 2H8', 'M10 21a2 2 0 0 0 4 0', 'M3 3l18 18'],
  bell: ['M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z', 'M10 21a2 2 0 0 0 4 0'],
  leave: ['M14 4h5v16h-5', 'M9 8l-4 4 4 4', 'M5 12h10'],
  people: ['M9 11.5a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z', 'M2.5 20a6.5 6.5 0 0 1 13 0', 'M16 4.5a3.5 3.5 0 0 1 0 7', 'M18 14.5a6.5 6.5 0 0 1 3.5 5.5'],
  check: ['M5 12l5 5 9-10'],
  search: ['M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z', 'M20 20l-4-4'],
  down: ['M6 9l6 6 6-6'],
  plus: ['M12 5v14M5 12h14'],
  retry: ['M4 12a8 8 0 1 0 2.3-5.7', 'M4 4v4h4'],
};

/** An icon by name, hidden from assistive technology (its button carries the label). */
export function icon(name, extraClass = '') {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', `icon ${extraClass}`.trim());
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of PATHS[name] ?? []) {
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
