// Charts drawn as inline SVG elements (built with createElementNS, so the CSP's ban on inline
// styles and scripts does not apply). Horizontal bars: dense, readable at 400 px, and every bar
// carries its number as text.

import { h, svg } from './dom.js';
import { formatCount } from './table.js';

/**
 * Rows of `{label, value, href?, tone?}` as labelled bars scaled to the largest value (or `max`).
 */
export function barList(items, { max = null, unit = '' } = {}) {
  const top = max ?? Math.max(1, ...items.map((i) => i.value));
  return h(
    'div',
    { class: 'bars', role: 'list' },
    items.map((item) => {
      const width = top > 0 ? Math.max(item.value > 0 ? 1 : 0, (100 * item.value) / top) : 0;
      const name = item.href ? h('a', { href: item.href }, item.label) : item.label;
      return h(
        'div',
        { class: 'bar-row', role: 'listitem' },
        h('span', { class: 'name', title: item.label }, name),
        svg(
          'svg',
          { viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false' },
          svg('rect', { class: 'bar-track', x: 0, y: 0, width: 100, height: 10, rx: 2 }),
          svg('rect', { class: ['bar-fill', item.tone], x: 0, y: 0, width: width.toFixed(2), height: 10, rx: 2 }),
        ),
        h('span', { class: 'n' }, formatCount(item.value) + unit),
      );
    }),
  );
}

/** A thin progress bar (0–100). */
export function progressBar(percent, { tone = null, label = '' } = {}) {
  const p = Math.max(0, Math.min(100, percent));
  return svg(
    'svg',
    { viewBox: '0 0 100 8', preserveAspectRatio: 'none', role: 'img', 'aria-label': label || `${p}%` },
    svg('rect', { class: 'bar-track', x: 0, y: 0, width: 100, height: 8, rx: 2 }),
    svg('rect', { class: ['bar-fill', tone], x: 0, y: 0, width: p, height: 8, rx: 2 }),
  );
}
