// Hosts: the server pages, sorts and filters (status, platform, label, free-text search); every
// choice is in the URL (`/hosts?status=online&platform=darwin&page=2`), so the list is a link and
// survives a reload. The count comes from `/hosts/count` with the same filters.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, emptyState, statusBadge } from '../ui.js';
import { renderTable, renderPager, pageLabel, formatCount } from '../table.js';
import { readState, writeState, updateState } from '../urlstate.js';
import { ago, bytes } from '../format.js';
import { toCSV, downloadCSV } from '../csv.js';

/** The sort keys the API accepts for hosts (`Datastore.hostOrderColumns`), by column. */
const SORTABLE = { hostname: 'hostname', platform: 'platform', seen_time: 'seen_time', created_at: 'created_at', public_ip: 'public_ip', hardware_serial: 'hardware_serial' };

export const HOSTS_STATE = {
  query: { type: 'string', max: 255 },
  status: { type: 'enum', values: ['online', 'offline', 'missing', 'new'] },
  platform: { type: 'string', max: 64 },
  label_id: { type: 'int', min: 1, default: 0 },
  order_key: { type: 'enum', values: Object.keys(SORTABLE), default: 'hostname' },
  order_direction: { type: 'enum', values: ['asc', 'desc'], default: 'asc' },
  page: { type: 'int', min: 0, max: 10_000_000, default: 0 },
  per_page: { type: 'enum', values: ['50', '100', '500'], default: '100' },
};

const COLUMNS = [
  { key: 'hostname', label: 'Host', sortable: true, render: (host) => h('a', { href: `/hosts/${host.id}` }, host.display_name || host.hostname || `host ${host.id}`), csv: (x) => x.display_name || x.hostname },
  { key: 'status', label: 'Status', render: (host) => statusBadge(host.status), csv: (x) => x.status },
  { key: 'platform', label: 'Platform', sortable: true },
  { key: 'os_version', label: 'OS', className: 'wrap-narrow' },
  { key: 'osquery_version', label: 'osquery' },
  { key: 'public_ip', label: 'Address', sortable: true, render: (host) => host.primary_ip || host.public_ip, csv: (x) => x.primary_ip || x.public_ip },
  { key: 'seen_time', label: 'Last seen', sortable: true, render: (host) => h('span', { title: host.seen_time }, ago(host.seen_time)), csv: (x) => x.seen_time },
  { key: 'disk', label: 'Disk free', numeric: true, render: (host) => diskText(host), csv: (x) => x.percent_disk_space_available },
  { key: 'memory', label: 'Memory', numeric: true, render: (host) => (host.memory ? bytes(host.memory) : ''), csv: (x) => x.memory },
  { key: 'created_at', label: 'Enrolled', sortable: true, render: (host) => h('span', { title: host.created_at }, ago(host.created_at)), csv: (x) => x.created_at },
];

function diskText(host) {
  if (!host.gigs_total_disk_space) return '';
  return `${Math.round(host.percent_disk_space_available)}% · ${host.gigs_disk_space_available.toFixed(0)} GB`;
}

export default async function hosts(ctx) {
  ctx.title('Hosts');
  let state = readState(ctx.query, HOSTS_STATE);
  const header = pageHeader(ctx, 'Hosts', { onRefresh: () => load() });
  const banner = h('div');
  const filtersSlot = h('div');
  const tableSlot = h('div', { class: 'table-wrap' });
  const pagerSlot = h('div');
  const countText = h('span', { class: 'muted', 'aria-live': 'polite' });
  const exportButton = h('button', { type: 'button', onclick: () => exportPage(), title: 'The rows on this page, as CSV' }, 'Export page (CSV)');
  replace(
    ctx.main,
    h(
      'div',
      { class: 'page' },
      header.el,
      filtersSlot,
      banner,
      h('div', { class: 'table-tools' }, countText, h('span', { class: 'spacer' }), exportButton),
      tableSlot,
      pagerSlot,
    ),
  );

  let lastHosts = [];
  const clearButton = h('button', { type: 'button', class: 'quiet', onclick: () => ctx.navigate('/hosts') }, 'Clear filters');
  let requestSeq = 0;

  function setState(changes, { push = true } = {}) {
    state = updateState(state, changes);
    const url = '/hosts' + writeState(state, HOSTS_STATE);
    if (push) ctx.pushURL(url);
    else ctx.replaceURL(url);
    load();
  }

  function apiFilters() {
    return {
      query: state.query,
      status: state.status,
      platform: state.platform,
      label_id: state.label_id || '',
    };
  }

  async function load() {
    const seq = ++requestSeq;
    tableSlot.classList.add('busy');
    try {
      const perPage = Number(state.per_page);
      const [list, count] = await Promise.all([
        ctx.api.get('/hosts', { ...apiFilters(), page: state.page, per_page: perPage, order_key: state.order_key, order_direction: state.order_direction }, { signal: ctx.signal }),
        ctx.api.get('/hosts/count', apiFilters(), { signal: ctx.signal }),
      ]);
      if (seq !== requestSeq || !ctx.active) return; // a newer filter is already on its way
      replace(banner);
      lastHosts = list.hosts ?? [];
      drawTable(lastHosts, list.meta ?? {}, count.count, perPage);
      header.loaded();
    } catch (error) {
      if (error?.name === 'AbortError' || seq !== requestSeq || !ctx.active) return;
      header.failed();
      replace(banner, errorBanner(error));
    } finally {
      if (seq === requestSeq) tableSlot.classList.remove('busy');
    }
  }

  function drawTable(list, meta, total, perPage) {
    const filtered = Boolean(state.query || state.status || state.platform || state.label_id);
    clearButton.disabled = !filtered;
    countText.textContent = total === 1 ? '1 host' : `${formatCount(total)} hosts${filtered ? ' match' : ''}`;
    exportButton.disabled = list.length === 0;
    const empty = filtered ? 'No host matches these filters.' : 'No hosts have enrolled yet. Install an agent kit (pomona agent-kit) on a host.';
    replace(
      tableSlot,
      renderTable({
        columns: COLUMNS,
        rows: list,
        sort: { key: state.order_key, direction: state.order_direction },
        onSort: (sort) => setState({ order_key: sort.key, order_direction: sort.direction }),
        emptyText: empty,
        rowKey: (host) => host.id,
      }),
    );
    replace(
      pagerSlot,
      list.length === 0 && state.page === 0
        ? null
        : renderPager({
            label: pageLabel({ page: state.page, perPage, shown: list.length, total }),
            hasPrevious: Boolean(meta.has_previous_results),
            hasNext: Boolean(meta.has_next_results),
            onPrevious: () => setState({ page: Math.max(0, state.page - 1) }),
            onNext: () => setState({ page: state.page + 1 }),
          }),
    );
    if (list.length === 0 && state.page > 0 && total > 0) {
      // A link to a page past the end (hosts were deleted since): offer the way back.
      replace(pagerSlot, h('p', {}, 'This page is past the end of the list. ', h('button', { type: 'button', onclick: () => setState({ page: 0 }) }, 'Go to the first page')));
    }
  }

  function exportPage() {
    const columns = COLUMNS.map((c) => ({ key: c.key, label: c.label }));
    const rows = lastHosts.map((host) => Object.fromEntries(COLUMNS.map((c) => [c.key, c.csv ? c.csv(host) : host[c.key]])));
    downloadCSV(`hosts-page-${state.page + 1}.csv`, toCSV(columns, rows));
  }

  async function drawFilters() {
    const [summary, labels] = await Promise.all([
      ctx.api.get('/host_summary', {}, { signal: ctx.signal }).catch(() => ({ platforms: [] })),
      ctx.api.get('/labels', { per_page: 500, order_key: 'name' }, { signal: ctx.signal }).catch(() => ({ labels: [] })),
    ]);
    if (!ctx.active) return;
    const search = h('input', { id: 'hf-query', type: 'search', value: state.query, placeholder: 'hostname, serial, UUID or IP', autocomplete: 'off', spellcheck: 'false' });
    let timer = null;
    search.addEventListener('input', () => {
      clearTimeout(timer);
      // Typing rewrites the URL (no history entry per key) once the user pauses.
      timer = setTimeout(() => setState({ query: search.value.trim() }, { push: false }), 300);
    });
    ctx.onCleanup(() => clearTimeout(timer));
    const select = (id, label, value, options, onChange) =>
      h(
        'div',
        { class: 'f' },
        h('label', { for: id }, label),
        h(
          'select',
          { id, onchange: (e) => onChange(e.target.value) },
          options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value) }, text)),
        ),
      );
    const platforms = (summary.platforms ?? []).map((p) => p.platform).filter(Boolean).sort();
    if (state.platform && !platforms.includes(state.platform)) platforms.push(state.platform);
    const labelList = labels.labels ?? [];
    if (state.label_id && !labelList.some((l) => l.id === state.label_id)) labelList.push({ id: state.label_id, name: `label ${state.label_id}` });
    replace(
      filtersSlot,
      h(
        'form',
        { class: 'filters', role: 'search', 'aria-label': 'Filter hosts', onsubmit: (e) => { e.preventDefault(); clearTimeout(timer); setState({ query: search.value.trim() }); } },
        h('div', { class: 'f grow' }, h('label', { for: 'hf-query' }, 'Search'), search),
        select('hf-status', 'Status', state.status, [['', 'Any status'], ['online', 'Online'], ['offline', 'Offline'], ['missing', 'Missing (30 d)'], ['new', 'New (24 h)']], (v) => setState({ status: v })),
        select('hf-platform', 'Platform', state.platform, [['', 'Any platform'], ['darwin', 'macOS (darwin)'], ['linux', 'Linux (all)'], ['windows', 'Windows'], ...platforms.filter((p) => !['darwin', 'windows'].includes(p)).map((p) => [p, p])], (v) => setState({ platform: v })),
        select('hf-label', 'Label', state.label_id || '', [['', 'Any label'], ...labelList.map((l) => [l.id, l.name])], (v) => setState({ label_id: Number(v) || 0 })),
        select('hf-per-page', 'Per page', state.per_page, [['50', '50'], ['100', '100'], ['500', '500']], (v) => setState({ per_page: v })),
        clearButton,
      ),
    );
  }

  await Promise.all([drawFilters(), load()]);
}

