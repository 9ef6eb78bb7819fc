// Queries and the global schedule: every saved query with its schedule (interval, platform,
// logging, minimum osquery version), create / edit / delete, "run as a live query". A query is in
// the schedule when "scheduled" is on and it has an interval; agents get it within seconds
// (pack "Global"). Search, "scheduled only" and the sort are in the URL.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, showLoadError, canChange } from '../ui.js';
import { renderTable, serverPager } from '../table.js';
import { readState, writeState, updateState } from '../urlstate.js';
import { ago, bytes } from '../format.js';
import { formatCount } from '../table.js';
import { queryVolume, resultName } from '../volume.js';
import { editorForm, confirmButton } from '../forms.js';
import { parseInterval, describeInterval, describePlatform, LOGGING, changedFields } from '../schedule.js';
import { ApiError } from '../api.js';

const STATE = {
  query: { type: 'string', max: 255 },
  scheduled: { type: 'bool' },
  order_key: { type: 'enum', values: ['name', 'interval', 'updated_at', 'created_at'], default: 'name' },
  order_direction: { type: 'enum', values: ['asc', 'desc'], default: 'asc' },
  page: { type: 'int', min: 0, max: 1_000_000, default: 0 },
};
const PER_PAGE = 100;
const LIVE_DRAFT_KEY = 'pomona.live.sql';

export default async function queries(ctx) {
  ctx.title('Queries');
  let state = readState(ctx.query, STATE);
  const canEdit = canChange(ctx.user);
  const header = pageHeader(ctx, 'Queries and schedule', {
    onRefresh: () => load(),
    actions: canEdit ? [h('button', { type: 'button', class: 'primary', onclick: () => ctx.navigate('/queries/new') }, 'New query')] : [],
  });
  const banner = h('div');
  const editorSlot = h('div');
  const tableSlot = h('div', { class: 'table-wrap' });
  const pagerSlot = h('div');
  const countText = h('span', { class: 'muted', 'aria-live': 'polite' });
  const search = h('input', { id: 'qf-query', type: 'search', value: state.query, placeholder: 'name or description', autocomplete: 'off' });
  const scheduledOnly = h('input', { id: 'qf-scheduled', type: 'checkbox', checked: state.scheduled });
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => setState({ query: search.value.trim() }, { push: false }), 300);
  });
  ctx.onCleanup(() => clearTimeout(timer));
  scheduledOnly.addEventListener('change', () => setState({ scheduled: scheduledOnly.checked }));
  replace(
    ctx.main,
    h(
      'div',
      { class: 'page' },
      header.el,
      h('p', { class: 'muted lede' }, 'Scheduled queries go to every host of their platform as pack ', h('code', {}, 'Global'), '; results are logged as ', h('code', {}, 'pack/Global/<name>'), '. Packs of their own are under ', h('a', { href: '/packs' }, 'Packs'), '.'),
      editorSlot,
      h(
        'form',
        { class: 'filters', role: 'search', 'aria-label': 'Filter queries', onsubmit: (e) => { e.preventDefault(); setState({ query: search.value.trim() }); } },
        h('div', { class: 'f grow' }, h('label', { for: 'qf-query' }, 'Search'), search),
        h('div', { class: 'f' }, h('label', { for: 'qf-scheduled' }, 'Scheduled only'), scheduledOnly),
      ),
      banner,
      h('div', { class: 'table-tools' }, countText),
      tableSlot,
      pagerSlot,
    ),
  );

  function setState(changes, { push = true } = {}) {
    state = updateState(state, changes);
    const url = (ctx.params.id ? `/queries/${ctx.params.id}` : '/queries') + writeState(state, STATE);
    if (push) ctx.pushURL(url);
    else ctx.replaceURL(url);
    load();
  }

  let seq = 0;
  let volumes = null;
  async function load() {
    const mine = ++seq;
    tableSlot.classList.add('busy');
    try {
      const [list, stats] = await Promise.all([
        ctx.api.get(
          '/queries',
          { query: state.query, scheduled: state.scheduled ? 'true' : '', page: state.page, per_page: PER_PAGE, order_key: state.order_key, order_direction: state.order_direction },
          { signal: ctx.signal },
        ),
        // The volume column is extra: a server without the pipeline still lists its queries.
        ctx.api.get('/api/v1/pomona/pipeline/stats', {}, { signal: ctx.signal }).catch(() => null),
      ]);
      if (mine !== seq || !ctx.active) return;
      replace(banner);
      volumes = stats?.queries ?? null;
      draw(list.queries ?? [], list.meta ?? {});
      header.loaded();
    } catch (error) {
      if (mine === seq) showLoadError(ctx, header, banner, error);
    } finally {
      if (mine === seq) tableSlot.classList.remove('busy');
    }
  }

  function draw(items, meta) {
    const filtered = Boolean(state.query || state.scheduled);
    const scheduled = items.filter((q) => q.automations_enabled && q.interval > 0).length;
    countText.textContent = `${items.length} ${items.length === 1 ? 'query' : 'queries'}${filtered ? ' match' : ''} on this page · ${scheduled} scheduled`;
    const columns = [
      {
        key: 'name', label: 'Name', sortable: true, className: 'wrap',
        render: (q) => [h('a', { href: `/queries/${q.id}` }, q.name), q.builtin ? h('span', { class: 'tag', title: 'Installed by Pomona' }, 'built-in') : null, q.description ? h('div', { class: 'muted small' }, q.description) : null],
      },
      { key: 'interval', label: 'Schedule', sortable: true, render: (q) => (q.automations_enabled && q.interval > 0 ? `every ${describeInterval(q.interval)}` : h('span', { class: 'muted' }, 'not scheduled')) },
      { key: 'platform', label: 'Platform', render: (q) => describePlatform(q.platform) },
      { key: 'logging', label: 'Logging' },
      { key: 'volume', label: 'SIEM volume', numeric: true, render: (q) => volumeCell(q) },
      { key: 'min_osquery_version', label: 'Min osquery', render: (q) => q.min_osquery_version || '–' },
      { key: 'author', label: 'Author', render: (q) => q.author_name || q.author_email || h('span', { class: 'muted', title: 'No author: installed by Pomona or imported' }, '–') },
      { key: 'updated_at', label: 'Updated', sortable: true, render: (q) => h('span', { title: q.updated_at }, ago(q.updated_at)) },
      {
        key: 'actions', label: 'Actions',
        render: (q) => h('div', { class: 'row-actions' },
          h('button', { type: 'button', onclick: () => runLive(q), title: `Run “${q.name}” as a live query` }, 'Run live'),
          canEdit ? confirmButton('Delete', () => remove(q), { title: `Delete “${q.name}”` }) : null),
      },
    ];
    replace(
      tableSlot,
      renderTable({
        columns,
        rows: items,
        sort: { key: state.order_key, direction: state.order_direction },
        onSort: (sort) => setState({ order_key: sort.key, order_direction: sort.direction }),
        emptyText: filtered ? 'No query matches.' : 'No saved queries. Create one with “New query”, or apply specs with pomona apply -f queries.yml.',
        rowKey: (q) => q.id,
      }),
    );
    replace(pagerSlot, serverPager({ page: state.page, perPage: PER_PAGE, shown: items.length, meta, onPage: (page) => setState({ page }) }));
  }

  /** What the query sends to the outputs a day (the average of the last complete days held), and today so far. */
  function volumeCell(q) {
    if (!volumes) return h('span', { class: 'muted', title: 'The pipeline statistics are not available' }, '–');
    const v = queryVolume(volumes, resultName(q.name), Date.now());
    const today = `today so far ${formatCount(v.today.events)} events, ${bytes(v.today.bytes)}`;
    if (v.average) {
      return h('span', { title: `average of ${v.average.days} complete UTC day(s); ${today}` }, `${formatCount(v.average.events)} · ${bytes(v.average.bytes)}/day`, h('div', { class: 'muted small' }, `today ${formatCount(v.today.events)}`));
    }
    if (v.today.events > 0) return h('span', { title: today }, `${formatCount(v.today.events)} · ${bytes(v.today.bytes)}`, h('div', { class: 'muted small' }, 'today so far'));
    return h('span', { class: 'muted' }, q.automations_enabled && q.interval > 0 ? 'nothing yet' : '–');
  }

  function runLive(q) {
    sessionStorage.setItem(LIVE_DRAFT_KEY, q.query);
    ctx.navigate('/live');
  }

  async function remove(q) {
    try {
      await ctx.api.del(`/queries/id/${q.id}`, { signal: ctx.signal });
      if (String(ctx.params.id) === String(q.id)) ctx.navigate('/queries' + writeState(state, STATE));
      else load();
    } catch (error) {
      if (error?.name !== 'AbortError') replace(banner, errorBanner(error));
    }
  }

  async function openEditor() {
    if (!ctx.params.id) return;
    if (!canEdit && ctx.params.id === 'new') {
      replace(editorSlot, h('div', { class: 'banner info' }, 'Observers can read queries; creating one needs the maintainer role.'));
      return;
    }
    let existing = null;
    if (ctx.params.id !== 'new') {
      try {
        existing = (await ctx.api.get(`/queries/${encodeURIComponent(ctx.params.id)}`, {}, { signal: ctx.signal })).query;
      } catch (error) {
        if (error?.name === 'AbortError') return;
        replace(editorSlot, errorBanner(error));
        return;
      }
    }
    if (!ctx.active) return;
    ctx.title(existing ? existing.name : 'New query');
    const close = () => ctx.navigate('/queries' + writeState(state, STATE));
    const form = editorForm({
      id: 'qe',
      title: existing ? `Edit “${existing.name}”` : 'New query',
      submitLabel: existing ? 'Save changes' : 'Create query',
      onCancel: close,
      fields: [
        { name: 'name', label: 'Name', value: existing?.name, required: true, hint: 'Results are logged as pack/Global/<name>.' },
        { name: 'description', label: 'Description', value: existing?.description },
        { name: 'query', label: 'SQL', type: 'sql', value: existing?.query ?? '', wide: true, hint: 'Checked against osquery’s tables for the chosen platforms before it is saved.', attrs: { rows: 7 } },
        { name: 'automations_enabled', label: 'Scheduled: send to hosts at the interval below', type: 'checkbox', value: existing ? existing.automations_enabled : true },
        { name: 'interval', label: 'Interval', value: existing?.interval ? String(existing.interval) : '3600', hint: 'Seconds, or 15m, 1h, 1d (at most 7 d).', attrs: { inputmode: 'text' } },
        { name: 'platform', label: 'Platform', value: existing?.platform ?? '', hint: 'Empty for every platform; darwin, linux, windows, a distribution, or a comma list.' },
        { name: 'logging', label: 'Logging', type: 'select', value: existing?.logging ?? 'snapshot', options: LOGGING },
        { name: 'min_osquery_version', label: 'Minimum osquery version', value: existing?.min_osquery_version ?? '', hint: 'Like 5.2.0; empty for any.' },
        { name: 'observer_can_run', label: 'Observers may run it as a live query', type: 'checkbox', value: existing?.observer_can_run ?? false },
        { name: 'discard_data', label: 'Discard results (do not keep them on the server)', type: 'checkbox', value: existing?.discard_data ?? false },
      ],
      onSubmit: async (values) => {
        const interval = parseInterval(values.interval);
        if (interval.error) throw new ApiError(422, 'Validation Failed', [{ name: 'interval', reason: interval.error }]);
        const body = { ...values, interval: interval.seconds };
        if (body.automations_enabled && body.interval === 0) throw new ApiError(422, 'Validation Failed', [{ name: 'interval', reason: 'a scheduled query needs an interval' }]);
        const saved = existing
          ? (await ctx.api.patch(`/queries/${existing.id}`, changedFields(existing, body), { signal: ctx.signal })).query
          : (await ctx.api.post('/queries', body, { signal: ctx.signal })).query;
        ctx.navigate(`/queries/${saved.id}?saved=1`);
      },
    });
    const intervalField = form.fields.interval;
    const sayInterval = () => {
      const parsed = parseInterval(intervalField.input.value);
      intervalField.setError(null);
      intervalField.setHint(parsed.error ? 'Seconds, or 15m, 1h, 1d (at most 7 d).' : `= ${describeInterval(parsed.seconds)}`);
    };
    intervalField.input.addEventListener('input', sayInterval);
    sayInterval();
    const savedNote = ctx.query.get('saved') === '1' ? h('div', { class: 'banner info', role: 'status' }, 'Saved. Hosts get the change at their next config refresh.') : null;
    replace(editorSlot, savedNote, form.el, existing ? h('p', { class: 'muted small' }, `Query ${existing.id} · created ${ago(existing.created_at)}${existing.author_name ? ` by ${existing.author_name}` : ''} · updated ${ago(existing.updated_at)}`) : null);
    if (!savedNote) form.focus();
  }

  await Promise.all([load(), openEditor()]);
}
