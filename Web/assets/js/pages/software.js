// Software: the inventory across hosts (name, version, source, how many hosts have it), searched,
// sorted and paged by the server; search, sort and page are in the URL. CSV of the page.

import { h, replace } from '../dom.js';
import { pageHeader, showLoadError } from '../ui.js';
import { renderTable, serverPager, formatCount } from '../table.js';
import { readState, writeState, updateState } from '../urlstate.js';
import { toCSV, downloadCSV } from '../csv.js';

const STATE = {
  query: { type: 'string', max: 255 },
  order_key: { type: 'enum', values: ['hosts_count', 'name', 'version', 'source'], default: 'hosts_count' },
  order_direction: { type: 'enum', values: ['asc', 'desc'], default: 'desc' },
  page: { type: 'int', min: 0, max: 1_000_000, default: 0 },
};
const PER_PAGE = 100;
const COLUMNS = [
  { key: 'name', label: 'Name', sortable: true, className: 'wrap' },
  { key: 'version', label: 'Version', sortable: true },
  { key: 'source', label: 'Source', sortable: true },
  { key: 'bundle_identifier', label: 'Bundle identifier' },
  { key: 'hosts_count', label: 'Hosts', sortable: true, numeric: true, render: (s) => formatCount(s.hosts_count) },
];

export default async function software(ctx) {
  ctx.title('Software');
  let state = readState(ctx.query, STATE);
  const header = pageHeader(ctx, 'Software', { onRefresh: () => load() });
  const banner = h('div');
  const tableSlot = h('div', { class: 'table-wrap' });
  const pagerSlot = h('div');
  const countText = h('span', { class: 'muted', 'aria-live': 'polite' });
  const exportButton = h('button', { type: 'button', onclick: () => exportPage() }, 'Export page (CSV)');
  const search = h('input', { id: 'sf-query', type: 'search', value: state.query, placeholder: 'name, version or bundle id', autocomplete: 'off' });
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => setState({ query: search.value.trim() }, { push: false }), 300);
  });
  ctx.onCleanup(() => clearTimeout(timer));
  replace(
    ctx.main,
    h(
      'div',
      { class: 'page' },
      header.el,
      h('p', { class: 'muted lede' }, 'What hosts reported in their software inventory (apps, packages, extensions). A host’s own list is on its page.'),
      h('form', { class: 'filters', role: 'search', 'aria-label': 'Search software', onsubmit: (e) => { e.preventDefault(); clearTimeout(timer); setState({ query: search.value.trim() }); } },
        h('div', { class: 'f grow' }, h('label', { for: 'sf-query' }, 'Search'), search)),
      banner,
      h('div', { class: 'table-tools' }, countText, h('span', { class: 'spacer' }), exportButton),
      tableSlot,
      pagerSlot,
    ),
  );
  let rows = [];

  function setState(changes, { push = true } = {}) {
    state = updateState(state, changes);
    const url = '/software' + writeState(state, STATE);
    if (push) ctx.pushURL(url);
    else ctx.replaceURL(url);
    load();
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    tableSlot.classList.add('busy');
    try {
      const [list, count] = await Promise.all([
        ctx.api.get('/software', { query: state.query, page: state.page, per_page: PER_PAGE, order_key: state.order_key, order_direction: state.order_direction }, { signal: ctx.signal }),
        ctx.api.get('/software/count', { query: state.query }, { signal: ctx.signal }),
      ]);
      if (mine !== seq || !ctx.active) return;
      rows = list.software ?? [];
      replace(banner);
      countText.textContent = `${formatCount(count.count)} ${count.count === 1 ? 'title and version' : 'titles and versions'}${state.query ? ' match' : ''}`;
      exportButton.disabled = rows.length === 0;
      replace(
        tableSlot,
        renderTable({
          columns: COLUMNS,
          rows,
          sort: { key: state.order_key, direction: state.order_direction },
          onSort: (sort) => setState({ order_key: sort.key, order_direction: sort.direction }),
          emptyText: state.query ? 'No software matches.' : 'No software reported yet. Hosts send their inventory about hourly.',
          rowKey: (s) => s.id,
        }),
      );
      replace(pagerSlot, serverPager({ page: state.page, perPage: PER_PAGE, shown: rows.length, total: count.count, meta: list.meta, onPage: (page) => setState({ page }) }));
      header.loaded();
    } catch (error) {
      if (mine === seq) showLoadError(ctx, header, banner, error);
    } finally {
      if (mine === seq) tableSlot.classList.remove('busy');
    }
  }

  function exportPage() {
    downloadCSV(`software-page-${state.page + 1}.csv`, toCSV(COLUMNS.map((c) => ({ key: c.key, label: c.label })), rows));
  }

  await load();
}
