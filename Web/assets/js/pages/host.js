// One host: vitals, labels, policies, software (searchable, CSV), users, and the answers it gave
// to live queries; refetch, delete, and "run a live query on this host".

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, emptyState, statusBadge, facts } from '../ui.js';
import { renderTable, renderPager, pageWindow, pageLabel, sortRows, formatCount } from '../table.js';
import { ago, bytes, uptime, timestamp } from '../format.js';
import { toCSV, downloadCSV } from '../csv.js';
import { ApiError } from '../api.js';

const SOFTWARE_PAGE = 50;

export default async function host(ctx) {
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id <= 0) {
    replace(ctx.main, h('div', { class: 'page' }, h('h1', {}, 'No such host'), h('p', {}, 'Host ids are positive numbers. ', h('a', { href: '/hosts' }, 'Back to hosts'), '.')));
    return;
  }
  const canChange = ['maintainer', 'admin'].includes(ctx.user?.global_role);
  const actionsNote = h('span', { class: 'muted', 'aria-live': 'polite' });
  const refetch = h('button', { type: 'button', onclick: () => doRefetch() }, 'Refetch');
  const runLive = h('a', { class: 'button', href: `/live?hosts=${id}` }, 'Live query…');
  const del = canChange ? h('button', { type: 'button', class: 'danger', onclick: () => doDelete() }, 'Delete') : null;
  const header = pageHeader(ctx, 'Host', { onRefresh: () => load(), actions: [actionsNote, refetch, runLive, del] });
  const titleEl = header.el.querySelector('h1');
  const banner = h('div');
  const body = h('div', { class: 'stack' });
  replace(ctx.main, h('div', { class: 'page' }, h('div', { class: 'crumbs' }, h('a', { href: '/hosts' }, 'Hosts'), ' › ', h('span', { id: 'crumb-host' }, `#${id}`)), header.el, banner, body));

  let softwareQuery = '';
  let softwarePage = 0;
  let softwareSort = { key: 'name', direction: 'asc' };

  async function load() {
    try {
      const [detail, results] = await Promise.all([
        ctx.api.get(`/hosts/${id}`, {}, { signal: ctx.signal }),
        ctx.api.get(`/hosts/${id}/results`, {}, { signal: ctx.signal }).catch(() => ({ results: [] })),
      ]);
      if (!ctx.active) return;
      replace(banner);
      draw(detail.host, results.results ?? []);
      header.loaded();
    } catch (error) {
      if (error?.name === 'AbortError' || !ctx.active) return;
      header.failed();
      if (error instanceof ApiError && error.status === 404) {
        titleEl.textContent = 'Host not found';
        replace(body, emptyState(`There is no host ${id}.`, 'It may have been deleted; enrolled hosts are listed under ', h('a', { href: '/hosts' }, 'Hosts'), '.'));
        return;
      }
      replace(banner, errorBanner(error));
    }
  }

  function draw(hostRecord, results) {
    const name = hostRecord.display_name || hostRecord.hostname || `host ${id}`;
    ctx.title(name);
    titleEl.replaceChildren(name, ' ', statusBadge(hostRecord.status));
    document.getElementById('crumb-host').textContent = name;
    const v = hostRecord;
    const disk = v.gigs_total_disk_space ? `${v.gigs_disk_space_available.toFixed(1)} GB free of ${v.gigs_total_disk_space.toFixed(0)} GB (${Math.round(v.percent_disk_space_available)}%)` : '';
    const encryption = v.disk_encryption_enabled === null || v.disk_encryption_enabled === undefined ? 'not reported' : v.disk_encryption_enabled ? 'on' : 'off';
    const vitals = h(
      'section',
      { class: 'section', 'aria-labelledby': 'h-vitals' },
      h('h2', { id: 'h-vitals' }, 'Vitals'),
      h(
        'div',
        { class: 'cols' },
        facts([
          ['Hostname', v.hostname],
          ['Computer name', v.computer_name],
          ['Platform', v.platform],
          ['OS', v.os_version],
          ['Build', v.build],
          ['Kernel', v.kernel_version],
          ['osquery', v.osquery_version],
          ['Uptime', uptime(v.uptime)],
        ]),
        facts([
          ['Hardware', [v.hardware_vendor, v.hardware_model].filter(Boolean).join(' ')],
          ['Serial', v.hardware_serial],
          ['UUID', v.uuid],
          ['CPU', v.cpu_brand ? `${v.cpu_brand} · ${v.cpu_physical_cores} cores, ${v.cpu_logical_cores} threads` : ''],
          ['Memory', v.memory ? bytes(v.memory) : ''],
          ['Disk', disk],
          ['Disk encryption', encryption],
        ]),
        facts([
          ['Primary IP', v.primary_ip],
          ['Primary MAC', v.primary_mac],
          ['Public IP', v.public_ip],
          ['Last seen', `${ago(v.seen_time)} (${timestamp(v.seen_time)})`],
          ['Enrolled', `${ago(v.created_at)} (${timestamp(v.created_at)})`],
          ['Details updated', v.detail_updated_at ? ago(v.detail_updated_at) : 'not yet'],
          ['Check-in every', v.distributed_interval ? `${v.distributed_interval} s` : ''],
          ['Refetch', v.refetch_requested ? 'requested, waiting for the host' : ''],
        ]),
      ),
    );
    const labels = h(
      'section',
      { class: 'section', 'aria-labelledby': 'h-labels' },
      h('h2', { id: 'h-labels' }, 'Labels', h('span', { class: 'count' }, String(v.labels?.length ?? 0))),
      v.labels?.length ? h('div', {}, v.labels.map((l) => h('a', { class: 'tag', href: `/hosts?label_id=${l.id}`, title: l.description }, l.name))) : emptyState('In no label yet.', 'Label queries run within an hour of enrollment.'),
    );
    const policies = h(
      'section',
      { class: 'section', 'aria-labelledby': 'h-policies' },
      h('h2', { id: 'h-policies' }, 'Policies', h('span', { class: 'count' }, policySummary(v.policies ?? []))),
      v.policies?.length
        ? h('div', { class: 'table-wrap' }, renderTable({
            columns: [
              { key: 'name', label: 'Policy' },
              { key: 'response', label: 'Result', render: (p) => (p.response === 'pass' ? h('span', { class: 'pass' }, 'Pass') : p.response === 'fail' ? h('span', { class: 'fail' }, 'Fail') : h('span', { class: 'muted' }, 'No answer yet')) },
              { key: 'resolution', label: 'Resolution', className: 'wrap' },
            ],
            rows: v.policies.slice().sort((a, b) => (a.response === 'fail' ? -1 : 0) - (b.response === 'fail' ? -1 : 0)),
          }))
        : emptyState('No policies.'),
    );
    const users = h(
      'section',
      { class: 'section', 'aria-labelledby': 'h-users' },
      h('h2', { id: 'h-users' }, 'Users', h('span', { class: 'count' }, String(v.users?.length ?? 0))),
      v.users?.length
        ? h('div', { class: 'table-wrap' }, renderTable({
            columns: [{ key: 'username', label: 'User' }, { key: 'uid', label: 'UID', numeric: true }, { key: 'groupname', label: 'Group' }, { key: 'shell', label: 'Shell' }],
            rows: sortRows(v.users, { key: 'uid', direction: 'asc' }),
          }))
        : emptyState('No users reported yet.'),
    );
    const softwareSlot = h('div');
    const software = h(
      'section',
      { class: 'section', 'aria-labelledby': 'h-software' },
      h('h2', { id: 'h-software' }, 'Software', h('span', { class: 'count' }, formatCount(v.software?.length ?? 0))),
      softwareSlot,
    );
    drawSoftware(softwareSlot, v.software ?? [], name);
    const live = h(
      'section',
      { class: 'section', 'aria-labelledby': 'h-live' },
      h('h2', { id: 'h-live' }, 'Live query answers', h('span', { class: 'count' }, 'the last answer to each query this host ran')),
      results.length
        ? h('div', { class: 'table-wrap' }, renderTable({
            columns: [
              { key: 'name', label: 'Query', render: (r) => h('code', {}, r.name) },
              { key: 'received_at', label: 'Answered', render: (r) => h('span', { title: r.received_at }, ago(r.received_at)) },
              { key: 'row_count', label: 'Rows', numeric: true },
              { key: 'error', label: 'Error', className: 'error-cell' },
            ],
            rows: results.slice().sort((a, b) => String(b.received_at).localeCompare(String(a.received_at))),
          }))
        : emptyState('No live query has run on this host yet.', h('a', { href: `/live?hosts=${id}` }, 'Run one'), '.'),
    );
    replace(body, vitals, h('div', { class: 'cols' }, labels, policies), software, h('div', { class: 'cols' }, users, live));
  }

  function drawSoftware(slot, items, hostName) {
    const search = h('input', { id: 'sw-query', type: 'search', placeholder: 'name, version or source', value: softwareQuery, autocomplete: 'off', spellcheck: 'false' });
    const tableSlot = h('div', { class: 'table-wrap' });
    const pagerSlot = h('div');
    const exportButton = h('button', { type: 'button' }, 'Export CSV');
    const columns = [
      { key: 'name', label: 'Name', sortable: true },
      { key: 'version', label: 'Version', sortable: true },
      { key: 'source', label: 'Source', sortable: true },
      { key: 'bundle_identifier', label: 'Bundle id', sortable: true },
      { key: 'path', label: 'Path', className: 'wrap', render: (s) => (s.installed_paths ?? []).join(', ') },
    ];
    const matching = () => {
      const q = softwareQuery.toLowerCase();
      const list = q ? items.filter((s) => [s.name, s.version, s.source, s.bundle_identifier].some((x) => String(x ?? '').toLowerCase().includes(q))) : items;
      return sortRows(list, softwareSort);
    };
    const redraw = () => {
      const list = matching();
      const win = pageWindow(list.length, softwarePage, SOFTWARE_PAGE);
      softwarePage = win.page;
      replace(tableSlot, renderTable({
        columns, rows: list.slice(win.start, win.end), sort: softwareSort,
        onSort: (sort) => { softwareSort = sort; softwarePage = 0; redraw(); },
        emptyText: items.length ? 'No software matches.' : 'No software reported yet (inventory arrives with the detail queries).',
      }));
      replace(pagerSlot, list.length > SOFTWARE_PAGE ? renderPager({
        label: pageLabel({ page: win.page, perPage: SOFTWARE_PAGE, shown: win.end - win.start, total: list.length }),
        hasPrevious: win.hasPrevious, hasNext: win.hasNext,
        onPrevious: () => { softwarePage--; redraw(); }, onNext: () => { softwarePage++; redraw(); },
      }) : null);
      exportButton.disabled = list.length === 0;
    };
    search.addEventListener('input', () => { softwareQuery = search.value.trim(); softwarePage = 0; redraw(); });
    exportButton.addEventListener('click', () => {
      const rows = matching().map((s) => ({ ...s, path: (s.installed_paths ?? []).join(' ') }));
      downloadCSV(`${hostName}-software.csv`, toCSV(['name', 'version', 'source', 'bundle_identifier', 'path', 'last_opened_at'], rows));
    });
    replace(slot, h('div', { class: 'table-tools' }, h('label', { for: 'sw-query' }, 'Filter'), search, h('span', { class: 'spacer' }), exportButton), tableSlot, pagerSlot);
    redraw();
  }

  async function doRefetch() {
    refetch.disabled = true;
    try {
      await ctx.api.post(`/hosts/${id}/refetch`);
      actionsNote.textContent = 'Refetch requested: the host sends fresh details at its next check-in.';
      load();
    } catch (error) {
      replace(banner, errorBanner(error));
    } finally {
      refetch.disabled = false;
    }
  }

  async function doDelete() {
    const name = titleEl.firstChild?.textContent ?? `host ${id}`;
    // A native confirm: keyboard-reachable and impossible to click through by accident.
    if (!window.confirm(`Delete ${name}? Its node key stops working; osqueryd re-enrolls it at its next request if it still has the enroll secret.`)) return;
    try {
      await ctx.api.del(`/hosts/${id}`);
      ctx.navigate('/hosts');
    } catch (error) {
      replace(banner, errorBanner(error));
    }
  }

  await load();
}

function policySummary(policies) {
  if (policies.length === 0) return '';
  const count = (r) => policies.filter((p) => p.response === r).length;
  const parts = [];
  if (count('fail')) parts.push(`${count('fail')} failing`);
  if (count('pass')) parts.push(`${count('pass')} passing`);
  const unknown = policies.length - count('fail') - count('pass');
  if (unknown) parts.push(`${unknown} not answered yet`);
  return parts.join(' · ');
}
