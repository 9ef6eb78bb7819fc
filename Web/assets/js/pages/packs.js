// Packs: the list, and one pack with its settings (platform, disabled, label and host targets) and
// its scheduled queries (interval, logging, platform, minimum osquery version, shard). A pack with
// no targets goes to every host of its platform, as an osquery pack file does; disable it to park it.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, emptyState, showLoadError, canChange } from '../ui.js';
import { renderTable } from '../table.js';
import { ago, bytes } from '../format.js';
import { formatCount } from '../table.js';
import { queryVolume, resultName } from '../volume.js';
import { editorForm, confirmButton } from '../forms.js';
import { parseInterval, describeInterval, describePlatform, LOGGING, loggingFromFlags, flagsFromLogging, changedFields } from '../schedule.js';
import { ApiError } from '../api.js';

export default async function packs(ctx) {
  if (ctx.params.id && ctx.params.id !== 'new') return packPage(ctx, ctx.params.id);
  return packList(ctx);
}

const canEdit = (ctx) => canChange(ctx.user);

async function packList(ctx) {
  ctx.title('Packs');
  const header = pageHeader(ctx, 'Packs', {
    onRefresh: () => load(),
    actions: canEdit(ctx) ? [h('button', { type: 'button', class: 'primary', onclick: () => ctx.navigate('/packs/new') }, 'New pack')] : [],
  });
  const banner = h('div');
  const editorSlot = h('div');
  const tableSlot = h('div', { class: 'table-wrap' });
  replace(
    ctx.main,
    h(
      'div',
      { class: 'page' },
      header.el,
      h('p', { class: 'muted lede' }, 'Groups of scheduled queries, sent as osquery packs under their own names. osquery pack files import with ', h('code', {}, 'pomona packs import file.conf'), ' (the API has no upload yet).'),
      editorSlot,
      banner,
      tableSlot,
    ),
  );
  let labels = [];

  async function load() {
    try {
      const [list, labelList] = await Promise.all([
        ctx.api.get('/packs', {}, { signal: ctx.signal }),
        ctx.api.get('/labels', { per_page: 500, order_key: 'name' }, { signal: ctx.signal }).catch(() => ({ labels: [] })),
      ]);
      if (!ctx.active) return;
      labels = labelList.labels ?? [];
      const byLabel = new Map(labels.map((l) => [l.id, l.name]));
      replace(banner);
      replace(
        tableSlot,
        renderTable({
          columns: [
            { key: 'name', label: 'Pack', className: 'wrap', render: (p) => [h('a', { href: `/packs/${p.id}` }, p.name), p.description ? h('div', { class: 'muted small' }, p.description) : null] },
            { key: 'state', label: 'State', render: (p) => (p.disabled ? h('span', { class: 'muted' }, 'disabled') : 'enabled') },
            { key: 'platform', label: 'Platform', render: (p) => describePlatform(p.platform) },
            { key: 'query_count', label: 'Queries', numeric: true },
            {
              key: 'targets', label: 'Targets', className: 'wrap',
              render: (p) => (p.label_ids.length || p.host_ids.length
                ? [p.label_ids.map((id) => h('span', { class: 'tag' }, byLabel.get(id) ?? `label ${id}`)), p.host_ids.length ? h('span', { class: 'tag' }, `${p.host_ids.length} host${p.host_ids.length === 1 ? '' : 's'}`) : null]
                : h('span', { class: 'muted' }, 'every host of its platform')),
            },
            { key: 'total_hosts_count', label: 'Hosts', numeric: true },
            { key: 'updated_at', label: 'Updated', render: (p) => h('span', { title: p.updated_at }, ago(p.updated_at)) },
          ],
          rows: list.packs ?? [],
          emptyText: 'No packs. Create one with “New pack”, or import osquery pack files with pomona packs import.',
          rowKey: (p) => p.id,
        }),
      );
      header.loaded();
      if (ctx.params.id === 'new' && !editorSlot.firstChild) openNew();
    } catch (error) {
      showLoadError(ctx, header, banner, error);
    }
  }

  function openNew() {
    if (!canEdit(ctx)) {
      replace(editorSlot, h('div', { class: 'banner info' }, 'Creating a pack needs the maintainer role.'));
      return;
    }
    const form = packForm(ctx, null, labels, async (body) => {
      const pack = (await ctx.api.post('/packs', body, { signal: ctx.signal })).pack;
      ctx.navigate(`/packs/${pack.id}`);
    }, () => ctx.navigate('/packs'));
    replace(editorSlot, form.el);
    form.focus();
  }

  await load();
}

/** The pack's own fields; `labels` become one checkbox each (targets). */
function packForm(ctx, pack, labels, save, cancel) {
  const labelBoxes = labels.map((l) => {
    const id = `pe-label-${l.id}`;
    const box = h('input', { type: 'checkbox', id, value: String(l.id), checked: pack ? pack.label_ids.includes(l.id) : false });
    return { id: l.id, box, el: h('label', { for: id }, box, ' ', l.name, h('span', { class: 'n' }, String(l.host_count))) };
  });
  const targets = h(
    'fieldset',
    { class: 'field wide targets' },
    h('legend', {}, 'Target labels (none: every host of the platform)'),
    h('div', { class: 'targets-box' }, labelBoxes.length ? labelBoxes.map((b) => b.el) : h('span', { class: 'muted' }, 'No labels yet.')),
  );
  const form = editorForm({
    id: 'pe',
    title: pack ? `Settings of “${pack.name}”` : 'New pack',
    submitLabel: pack ? 'Save pack' : 'Create pack',
    onCancel: cancel,
    fields: [
      { name: 'name', label: 'Name', value: pack?.name, required: true, hint: 'Results are logged as pack/<name>/<query>.' },
      { name: 'description', label: 'Description', value: pack?.description },
      { name: 'platform', label: 'Platform', value: pack?.platform ?? '', hint: 'Empty for every platform; darwin, linux, windows or a comma list.' },
      { name: 'host_ids', label: 'Target host ids', value: (pack?.host_ids ?? []).join(', '), hint: 'Comma-separated host ids, on top of the labels.' },
      { name: 'disabled', label: 'Disabled (sent to no host)', type: 'checkbox', value: pack?.disabled ?? false },
    ],
    extra: targets,
    onSubmit: async (values) => {
      const hostIDs = values.host_ids === '' ? [] : values.host_ids.split(',').map((s) => s.trim()).filter(Boolean);
      if (hostIDs.some((s) => !/^\d+$/.test(s))) throw new ApiError(422, 'Validation Failed', [{ name: 'host_ids', reason: 'write host ids (numbers) separated by commas' }]);
      const body = { ...values, host_ids: hostIDs.map(Number), label_ids: labelBoxes.filter((b) => b.box.checked).map((b) => b.id) };
      await save(pack ? changedFields(pack, body) : body);
    },
  });
  return form;
}

async function packPage(ctx, id) {
  ctx.title('Pack');
  const header = pageHeader(ctx, 'Pack', { onRefresh: () => load() });
  const crumbs = h('div', { class: 'crumbs' }, h('a', { href: '/packs' }, 'Packs'), ' / ');
  const banner = h('div');
  const settingsSlot = h('div');
  const scheduleSlot = h('div', { class: 'section' });
  const scheduleEditor = h('div');
  replace(ctx.main, h('div', { class: 'page' }, crumbs, header.el, banner, settingsSlot, scheduleEditor, scheduleSlot));
  let pack = null;
  let savedQueries = [];
  let labels = [];
  let volumes = null;

  async function load() {
    try {
      const [p, scheduled, q, l, stats] = await Promise.all([
        ctx.api.get(`/packs/${encodeURIComponent(id)}`, {}, { signal: ctx.signal }),
        ctx.api.get(`/packs/${encodeURIComponent(id)}/scheduled`, {}, { signal: ctx.signal }),
        ctx.api.get('/queries', { per_page: 1000, order_key: 'name' }, { signal: ctx.signal }).catch(() => ({ queries: [] })),
        ctx.api.get('/labels', { per_page: 500, order_key: 'name' }, { signal: ctx.signal }).catch(() => ({ labels: [] })),
        ctx.api.get('/api/v1/pomona/pipeline/stats', {}, { signal: ctx.signal }).catch(() => null),
      ]);
      if (!ctx.active) return;
      volumes = stats?.queries ?? null;
      pack = p.pack;
      savedQueries = q.queries ?? [];
      labels = l.labels ?? [];
      ctx.title(pack.name);
      header.el.querySelector('h1').textContent = pack.name;
      replace(crumbs, h('a', { href: '/packs' }, 'Packs'), ' / ', pack.name);
      replace(banner);
      drawSettings();
      drawSchedule(scheduled.scheduled ?? []);
      header.loaded();
    } catch (error) {
      showLoadError(ctx, header, banner, error);
    }
  }

  function drawSettings() {
    if (!canEdit(ctx)) {
      replace(settingsSlot, h('div', { class: 'section' }, h('h2', {}, 'Settings'), h('p', {}, `${pack.disabled ? 'Disabled' : 'Enabled'} · ${describePlatform(pack.platform)} · ${pack.total_hosts_count} hosts`)));
      return;
    }
    const form = packForm(ctx, pack, labels, async (body) => {
      pack = (await ctx.api.patch(`/packs/${pack.id}`, body, { signal: ctx.signal })).pack;
      load();
    }, null);
    const del = confirmButton('Delete pack', async () => {
      try {
        await ctx.api.del(`/packs/id/${pack.id}`, { signal: ctx.signal });
        ctx.navigate('/packs');
      } catch (error) {
        if (error?.name !== 'AbortError') replace(banner, errorBanner(error));
      }
    });
    form.el.querySelector('.actions').append(h('span', { class: 'spacer' }), del);
    replace(settingsSlot, form.el);
  }

  function drawSchedule(items) {
    const queryName = new Map(savedQueries.map((q) => [q.id, q.name]));
    replace(
      scheduleSlot,
      h('h2', {}, 'Scheduled queries', h('span', { class: 'count' }, String(items.length)),
        canEdit(ctx) ? h('button', { type: 'button', class: 'quiet', onclick: () => editScheduled(null) }, 'Add a query') : null),
      items.length === 0
        ? emptyState('This pack schedules nothing yet.', canEdit(ctx) ? 'Add a saved query with “Add a query”.' : '')
        : h('div', { class: 'table-wrap' }, renderTable({
            columns: [
              { key: 'name', label: 'Query', render: (s) => (s.query_id ? h('a', { href: `/queries/${s.query_id}` }, s.name || queryName.get(s.query_id)) : s.name) },
              { key: 'interval', label: 'Interval', render: (s) => describeInterval(s.interval) },
              { key: 'logging', label: 'Logging', render: (s) => loggingFromFlags(s) },
              { key: 'platform', label: 'Platform', render: (s) => describePlatform(s.platform) },
              { key: 'version', label: 'Min osquery', render: (s) => s.version || '–' },
              {
                key: 'volume', label: 'SIEM volume', numeric: true,
                render: (s) => {
                  if (!volumes) return '–';
                  const v = queryVolume(volumes, resultName(s.name, pack.name), Date.now());
                  if (v.average) return `${formatCount(v.average.events)} · ${bytes(v.average.bytes)}/day`;
                  return v.today.events ? `${formatCount(v.today.events)} · ${bytes(v.today.bytes)} today` : h('span', { class: 'muted' }, 'nothing yet');
                },
              },
              { key: 'shard', label: 'Shard', numeric: true, render: (s) => (s.shard === null || s.shard === undefined ? '–' : `${s.shard}%`) },
              {
                key: 'actions', label: 'Actions',
                render: (s) => (canEdit(ctx) ? h('div', { class: 'row-actions' },
                  h('button', { type: 'button', onclick: () => editScheduled(s) }, 'Edit'),
                  confirmButton('Remove', () => removeScheduled(s), { title: `Remove ${s.name} from the pack` })) : ''),
              },
            ],
            rows: items,
            rowKey: (s) => s.id,
          })),
    );
  }

  function editScheduled(item) {
    const close = () => replace(scheduleEditor);
    const options = savedQueries.map((q) => [q.id, q.name]);
    if (!item && options.length === 0) {
      replace(scheduleEditor, h('div', { class: 'banner info' }, 'No saved queries to add: ', h('a', { href: '/queries/new' }, 'create a query'), ' first.'));
      return;
    }
    const form = editorForm({
      id: 'se',
      title: item ? `Schedule of “${item.name}” in this pack` : 'Add a query to this pack',
      submitLabel: item ? 'Save' : 'Add to pack',
      onCancel: close,
      aliases: { version: 'min_osquery_version', query_id: 'query_id' },
      fields: [
        item ? null : { name: 'query_id', label: 'Saved query', type: 'select', options, value: options[0]?.[0] },
        { name: 'interval', label: 'Interval', value: String(item?.interval ?? 3600), hint: 'Seconds, or 15m, 1h, 1d.' },
        { name: 'logging', label: 'Logging', type: 'select', options: LOGGING, value: item ? loggingFromFlags(item) : 'snapshot' },
        { name: 'platform', label: 'Platform', value: item?.platform ?? '', hint: 'Empty: the pack’s platform.' },
        { name: 'min_osquery_version', label: 'Minimum osquery version', value: item?.version ?? '', hint: 'Like 5.2.0; empty for any.' },
        { name: 'shard', label: 'Shard (% of hosts)', type: 'number', value: item?.shard ?? '', hint: 'Empty or 100 for every host; 10 runs it on about a tenth.', attrs: { min: '0', max: '100', step: '1' } },
      ].filter(Boolean),
      onSubmit: async (values) => {
        const interval = parseInterval(values.interval);
        if (interval.error || interval.seconds === 0) throw new ApiError(422, 'Validation Failed', [{ name: 'interval', reason: interval.error ?? 'a scheduled query needs an interval' }]);
        if (values.shard !== null && !(Number.isInteger(values.shard) && values.shard >= 0 && values.shard <= 100)) throw new ApiError(422, 'Validation Failed', [{ name: 'shard', reason: 'must be a whole number from 0 to 100' }]);
        const body = { interval: interval.seconds, ...flagsFromLogging(values.logging), platform: values.platform, version: values.min_osquery_version };
        if (values.shard !== null) body.shard = values.shard;
        if (item) await ctx.api.patch(`/packs/schedule/${item.id}`, body, { signal: ctx.signal });
        else await ctx.api.post('/packs/schedule', { ...body, pack_id: pack.id, query_id: Number(values.query_id) }, { signal: ctx.signal });
        close();
        load();
      },
    });
    replace(scheduleEditor, form.el);
    form.focus();
  }

  async function removeScheduled(item) {
    try {
      await ctx.api.del(`/packs/schedule/${item.id}`, { signal: ctx.signal });
      load();
    } catch (error) {
      if (error?.name !== 'AbortError') replace(banner, errorBanner(error));
    }
  }

  await load();
}
