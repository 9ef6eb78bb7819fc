// Tables: sorting and paging (pure, unit-tested) and the DOM rendering shared by every list.
//
// Server-side lists (hosts) keep sort and page in the URL and ask the API for one page; client-side
// lists (live-query rows, a host's software) sort and page the rows they hold with the same
// functions, so both behave the same for the user.

import { h } from './dom.js';

/**
 * The sort after a click on `key`'s header: a new column sorts ascending; the same column flips.
 * @param {{key: string, direction: 'asc'|'desc'}} current
 */
export function nextSort(current, key) {
  if (current && current.key === key) return { key, direction: current.direction === 'asc' ? 'desc' : 'asc' };
  return { key, direction: 'asc' };
}

/** Compares two cell values: numbers numerically, missing last, text naturally ("host2" < "host10"). */
export function compareValues(a, b) {
  const missingA = a === null || a === undefined || a === '';
  const missingB = b === null || b === undefined || b === '';
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null) return na - nb;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

function numeric(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return null;
}

/**
 * A sorted copy (stable: equal rows keep their order, so rows streaming in do not jump around).
 * Missing values sort last in both directions.
 * @param {any[]} rows
 * @param {{key: string, direction: 'asc'|'desc'} | null} sort
 * @param {(row: any, key: string) => any} [value]
 */
export function sortRows(rows, sort, value = (row, key) => row?.[key]) {
  if (!sort || !sort.key) return [...rows];
  const sign = sort.direction === 'desc' ? -1 : 1;
  return rows
    .map((row, index) => ({ row, index, v: value(row, sort.key) }))
    .sort((x, y) => {
      const mx = x.v === null || x.v === undefined || x.v === '';
      const my = y.v === null || y.v === undefined || y.v === '';
      if (mx !== my) return mx ? 1 : -1;
      return sign * compareValues(x.v, y.v) || x.index - y.index;
    })
    .map((x) => x.row);
}

/**
 * Which page `page` (0-based) of `total` rows at `perPage` a client-side list shows; `page` is
 * clamped into range so a shrinking list never shows an empty page past its end.
 */
export function pageWindow(total, page, perPage) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const current = Math.min(Math.max(0, page), pages - 1);
  const start = current * perPage;
  return { page: current, pages, start, end: Math.min(total, start + perPage), hasPrevious: current > 0, hasNext: current < pages - 1 };
}

/**
 * "101–200 of 1,234" for a page; `total` may be unknown (null) for server lists without a count.
 */
export function pageLabel({ page, perPage, shown, total }) {
  if (shown === 0) return total ? `0 of ${formatCount(total)}` : 'none';
  const first = page * perPage + 1;
  const last = page * perPage + shown;
  const range = `${formatCount(first)}–${formatCount(last)}`;
  return total === null || total === undefined ? range : `${range} of ${formatCount(total)}`;
}

export function formatCount(n) {
  return Number(n).toLocaleString('en-US');
}

/**
 * A table element. Columns: `{key, label, sortable?, numeric?, render?(row) → node|string,
 * value?(row) → text for sorting/CSV, className?}`. Clicking a sortable header calls
 * `onSort(nextSort(sort, key))`; headers are buttons, so they are reachable by keyboard, and carry
 * `aria-sort`.
 */
export function renderTable({ columns, rows, sort = null, onSort = null, caption = null, rowKey = null, emptyText = 'Nothing to show.' }) {
  const head = h(
    'tr',
    {},
    columns.map((col) => {
      const active = sort && sort.key === col.key;
      const ariaSort = active ? (sort.direction === 'asc' ? 'ascending' : 'descending') : col.sortable ? 'none' : null;
      const label = col.label ?? col.key;
      const content =
        col.sortable && onSort
          ? h(
              'button',
              { type: 'button', class: 'sort', onclick: () => onSort(nextSort(sort, col.key)), title: `Sort by ${label}` },
              label,
              h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (sort.direction === 'asc' ? '▲' : '▼') : ''),
            )
          : label;
      return h('th', { scope: 'col', class: [col.numeric && 'num', col.className], 'aria-sort': ariaSort }, content);
    }),
  );
  const body = h('tbody');
  if (rows.length === 0) {
    body.append(h('tr', { class: 'empty' }, h('td', { colspan: String(columns.length) }, emptyText)));
  }
  for (const row of rows) {
    const tr = h(
      'tr',
      rowKey ? { dataset: { key: rowKey(row) } } : {},
      columns.map((col) => {
        const cell = col.render ? col.render(row) : cellText(row?.[col.key]);
        return h('td', { class: [col.numeric && 'num', col.className] }, cell);
      }),
    );
    body.append(tr);
  }
  return h('table', { class: 'grid' }, caption ? h('caption', {}, caption) : null, h('thead', {}, head), body);
}

/** Text for a cell value: JSON for objects, "" for null. */
export function cellText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Previous/next buttons with the range label between them. */
export function renderPager({ label, hasPrevious, hasNext, onPrevious, onNext }) {
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', disabled: !hasPrevious, onclick: onPrevious, 'aria-label': 'Previous page' }, '‹ Prev'),
    h('span', { class: 'pager-label', 'aria-live': 'polite' }, label),
    h('button', { type: 'button', disabled: !hasNext, onclick: onNext, 'aria-label': 'Next page' }, 'Next ›'),
  );
}

/**
 * The pager of a server-paged list, or null when the first page is empty (the table's empty
 * state says it all). `meta` is Fleet's `{has_next_results, has_previous_results}`.
 */
export function serverPager({ page, perPage, shown, total = null, meta = {}, onPage }) {
  if (shown === 0 && page === 0) return null;
  return renderPager({
    label: pageLabel({ page, perPage, shown, total }),
    hasPrevious: Boolean(meta.has_previous_results),
    hasNext: Boolean(meta.has_next_results),
    onPrevious: () => onPage(Math.max(0, page - 1)),
    onNext: () => onPage(page + 1),
  });
}
