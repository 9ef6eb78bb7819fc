// Dashboard: the fleet at a glance from what the API has today — host counts by status and
// platform (`/host_summary`), labels with their sizes, policies with failing hosts, and the event
// pipeline's spool and outputs (`/api/v1/pomona/pipeline/stats`). Refreshes every 30 s while the
// tab is visible.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, emptyState, statusBadge } from '../ui.js';
import { barList, progressBar } from '../charts.js';
import { formatCount, renderTable } from '../table.js';
import { bytes, percent } from '../format.js';

const REFRESH_MS = 30_000;

export default async function dashboard(ctx) {
  ctx.title('Dashboard');
  const body = h('div', { class: 'stack' });
  const header = pageHeader(ctx, 'Dashboard', { onRefresh: () => load() });
  const banner = h('div');
  replace(ctx.main, h('div', { class: 'page' }, header.el, banner, body));

  let loading = false;
  async function load() {
    if (loading) return;
    loading = true;
    try {
      const [summary, labels, policies, pipeline] = await Promise.all([
        ctx.api.get('/host_summary', {}, { signal: ctx.signal }),
        ctx.api.get('/labels', { per_page: 500, order_key: 'name' }, { signal: ctx.signal }),
        ctx.api.get('/global/policies', { per_page: 500 }, { signal: ctx.signal }),
        // The pipeline is optional (a server without it answers 404): the rest still shows.
        ctx.api.get('/api/v1/pomona/pipeline/stats', {}, { signal: ctx.signal }).catch((error) => ({ unavailable: error })),
      ]);
      if (!ctx.active) return;
      replace(banner);
      draw(summary, labels.labels ?? [], policies.policies ?? [], pipeline);
      header.loaded();
    } catch (error) {
      if (error?.name === 'AbortError' || !ctx.active) return;
      header.failed();
      replace(banner, errorBanner(error));
    } finally {
      loading = false;
    }
  }

  function draw(summary, labels, policies, pipeline) {
    const total = summary.totals_hosts_count ?? 0;
    if (total === 0) {
      replace(
        body,
        h(
          'div',
          { class: 'section' },
          emptyState(
            'No hosts have enrolled yet.',
            'Write an agent kit with ',
            h('code', {}, 'pomona agent-kit --out ./agent-kit --server-address <this-host>:8443'),
            ' and install it on a host; it shows up here within a minute of osqueryd starting.',
          ),
        ),
        pipelineSection(pipeline),
      );
      return;
    }
    const tile = (label, value, href, sub, status) =>
      h(
        'a',
        { class: 'tile', href },
        h('span', { class: 'label' }, status ? statusBadge(status) : label),
        h('span', { class: 'value' }, formatCount(value)),
        h('span', { class: 'sub' }, sub),
      );
    const share = (n) => `${percent(n, total)}% of hosts`;
    const tiles = h(
      'div',
      { class: 'tiles' },
      tile('Hosts', total, '/hosts', 'enrolled'),
      tile('Online', summary.online_count, '/hosts?status=online', share(summary.online_count), 'online'),
      tile('Offline', summary.offline_count, '/hosts?status=offline', share(summary.offline_count), 'offline'),
      tile('Missing', summary.mia_count, '/hosts?status=missing', 'not seen for 30 days', 'missing'),
      tile('New', summary.new_count, '/hosts?status=new', 'enrolled in the last 24 h', 'new'),
    );
    const platforms = (summary.platforms ?? [])
      .slice()
      .sort((a, b) => b.hosts_count - a.hosts_count)
      .map((p) => ({ label: p.platform || 'unknown', value: p.hosts_count, href: `/hosts?platform=${encodeURIComponent(p.platform)}` }));
    const labelItems = labels
      .slice()
      .sort((a, b) => b.host_count - a.host_count || a.name.localeCompare(b.name))
      .map((l) => ({ label: l.name, value: l.host_count, href: `/hosts?label_id=${l.id}` }));

    replace(
      body,
      tiles,
      h(
        'div',
        { class: 'cols' },
        h('section', { class: 'section', 'aria-labelledby': 'd-platforms' }, h('h2', { id: 'd-platforms' }, 'Platforms'), platforms.length ? barList(platforms) : emptyState('No platform reported yet.')),
        h(
          'section',
          { class: 'section', 'aria-labelledby': 'd-labels' },
          h('h2', { id: 'd-labels' }, 'Labels', h('span', { class: 'count' }, `${labels.length}`)),
          labelItems.length ? barList(labelItems, { max: total }) : emptyState('No labels.'),
        ),
      ),
      policiesSection(policies, total),
      pipelineSection(pipeline),
    );
  }

  await load();
  ctx.every(REFRESH_MS, () => {
    if (document.visibilityState === 'visible') load();
  });
}

function policiesSection(policies, total) {
  const failing = policies.filter((p) => p.failing_host_count > 0).length;
  const content =
    policies.length === 0
      ? emptyState(
          'No policies yet.',
          'A policy is a query a healthy host answers with a row (e.g. FileVault on). Create them with ',
          h('code', {}, 'pomona apply -f policies.yml'),
          ' or POST /api/v1/fleet/global/policies.',
        )
      : h(
          'div',
          { class: 'table-wrap' },
          renderTable({
            columns: [
              { key: 'name', label: 'Policy', render: (p) => p.name },
              { key: 'failing_host_count', label: 'Failing', numeric: true, render: (p) => h('span', { class: p.failing_host_count ? 'fail' : '' }, formatCount(p.failing_host_count)) },
              { key: 'passing_host_count', label: 'Passing', numeric: true, render: (p) => formatCount(p.passing_host_count) },
              {
                key: 'bar', label: 'Passing share',
                render: (p) => progressBar(percent(p.passing_host_count, p.passing_host_count + p.failing_host_count), { tone: p.failing_host_count ? 'bad' : 'ok', label: `${percent(p.passing_host_count, p.passing_host_count + p.failing_host_count)}% passing` }),
              },
              { key: 'unknown', label: 'No answer yet', numeric: true, render: (p) => formatCount(Math.max(0, total - p.passing_host_count - p.failing_host_count)) },
            ],
            rows: policies.slice().sort((a, b) => b.failing_host_count - a.failing_host_count || a.name.localeCompare(b.name)),
          }),
        );
  return h(
    'section',
    { class: 'section', 'aria-labelledby': 'd-policies' },
    h('h2', { id: 'd-policies' }, 'Policies', h('span', { class: 'count' }, policies.length ? `${failing} of ${policies.length} failing on some host` : '')),
    content,
  );
}

function pipelineSection(pipeline) {
  const title = h('h2', { id: 'd-pipeline' }, 'Event pipeline');
  if (!pipeline || pipeline.unavailable) {
    return h('section', { class: 'section', 'aria-labelledby': 'd-pipeline' }, title, errorBanner(pipeline?.unavailable ?? 'not available'));
  }
  const spool = pipeline.spool ?? {};
  const used = percent(spool.bytes ?? 0, spool.max_bytes ?? 0);
  const outputs = pipeline.outputs ?? [];
  const n = (tally) => formatCount(tally?.events ?? 0);
  return h(
    'section',
    { class: 'section', 'aria-labelledby': 'd-pipeline' },
    title,
    h(
      'div',
      { class: 'progress' },
      h('span', {}, 'Spool'),
      progressBar(used, { tone: used > 80 ? 'bad' : null, label: `spool ${used}% full` }),
      h('span', { class: 'muted' }, `${bytes(spool.bytes ?? 0)} of ${bytes(spool.max_bytes ?? 0)} · ${formatCount(spool.events ?? 0)} events · when full: ${spool.when_full ?? '?'}`),
    ),
    outputs.length === 0
      ? emptyState('No outputs configured.')
      : h(
          'div',
          { class: 'table-wrap' },
          renderTable({
            columns: [
              { key: 'name', label: 'Output' },
              { key: 'received', label: 'Received', numeric: true, render: (o) => n(o.totals?.received) },
              { key: 'forwarded', label: 'Forwarded', numeric: true, render: (o) => n(o.totals?.forwarded) },
              { key: 'spooled', label: 'Waiting', numeric: true, render: (o) => n(o.totals?.still_spooled) },
              { key: 'throttled', label: 'Throttled', numeric: true, render: (o) => n(o.totals?.throttled) },
              { key: 'dead', label: 'Dead letters', numeric: true, render: (o) => h('span', { class: o.totals?.dead_lettered?.events ? 'fail' : '' }, n(o.totals?.dead_lettered)) },
              { key: 'retries', label: 'Retries', numeric: true, render: (o) => formatCount(o.retries ?? 0) },
            ],
            rows: outputs,
          }),
        ),
  );
}
