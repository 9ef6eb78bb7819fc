// Live query console: SQL editor, target picker (all hosts, labels, hosts found by search), a
// campaign whose results stream in over Server-Sent Events into a sortable, paged table,
// "X% responded" with the breakdown, stop, and CSV export of rows and of errors.
// `/live/campaigns/{id}` reopens a campaign (its stored results replay, a running one goes on
// streaming); `/live?hosts=1,2&labels=3&all=1` preselects targets.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, emptyState, statusBadge, field } from '../ui.js';
import { renderTable, renderPager, pageWindow, pageLabel, sortRows, formatCount } from '../table.js';
import { readState, writeState } from '../urlstate.js';
import { readEventStream } from '../sse.js';
import { LiveResults } from '../liveresults.js';
import { progressBar } from '../charts.js';
import { toCSV, downloadCSV } from '../csv.js';
import { ApiError, API_BASE } from '../api.js';

const TARGETS = {
  hosts: { type: 'ints' },
  labels: { type: 'ints' },
  all: { type: 'bool' },
};
const PAGE = 100;
const DRAFT_KEY = 'pomona.live.sql';
const REASONS = {
  all_responded: 'every targeted host answered',
  deadline: 'the deadline passed',
  cancelled: 'stopped',
  finished: 'stored results, replayed',
};

export default async function live(ctx) {
  ctx.title('Live query');
  const targets = readState(ctx.query, TARGETS);
  const campaignParam = ctx.params.id ? Number(ctx.params.id) : null;

  // ---- Editor
  const sql = field({
    label: 'SQL', name: 'query', type: 'textarea',
    value: sessionStorage.getItem(DRAFT_KEY) ?? 'SELECT * FROM osquery_info;',
    hint: 'osquery SQL; Ctrl+Enter (⌘+Enter) runs it.',
    attrs: { class: 'sql', spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off', rows: 8 },
  });
  sql.input.addEventListener('input', () => sessionStorage.setItem(DRAFT_KEY, sql.input.value));
  sql.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  const wait = h(
    'select',
    { id: 'lq-wait', class: 'inline' },
    h('option', { value: '' }, 'online hosts only (2 min)'),
    h('option', { value: '600' }, 'also hosts that come online in 10 min'),
    h('option', { value: '3600' }, 'also hosts that come online in 1 h'),
  );
  const runButton = h('button', { type: 'button', class: 'primary', onclick: () => run() }, 'Run');
  const stopButton = h('button', { type: 'button', onclick: () => stop(), disabled: true }, 'Stop');
  const formBanner = h('div');

  // ---- Targets
  const targetMsg = h('div', { id: 'lq-targets-msg', class: 'field-msg' });
  const allBox = h('input', { type: 'checkbox', id: 'lq-all', checked: targets.all });
  const allCount = h('span', { class: 'n' });
  const labelsBox = h('div', { class: 'targets-box', role: 'group', 'aria-label': 'Labels' }, h('p', { class: 'muted' }, 'Loading labels…'));
  const hostSearch = h('input', { id: 'lq-host-search', type: 'search', placeholder: 'hostname, serial, UUID or IP', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'lq-targets-msg' });
  const suggestions = h('ul', { class: 'suggest', hidden: true, 'aria-label': 'Matching hosts' });
  const chips = h('div', { class: 'chips', 'aria-label': 'Chosen hosts' });
  const preview = h('p', { class: 'muted', 'aria-live': 'polite' });
  /** id → {id, name, status} */
  const chosenHosts = new Map();
  const chosenLabels = new Set(targets.labels);
  let labelList = [];
  let totalHosts = 0;
  let onlineHosts = 0;

  // ---- Results
  const progressSlot = h('div');
  const resultsSlot = h('div');
  const header = pageHeader(ctx, 'Live query');

  replace(
    ctx.main,
    h(
      'div',
      { class: 'page' },
      header.el,
      formBanner,
      h(
        'div',
        { class: 'live-grid' },
        h(
          'section',
          { class: 'section', 'aria-labelledby': 'lq-query-title' },
          h('h2', { id: 'lq-query-title' }, 'Query'),
          sql.el,
          h('div', { class: 'field' }, h('label', { for: 'lq-wait' }, 'Wait for'), wait),
          h('div', { class: 'actions' }, runButton, stopButton, h('span', { class: 'muted' }, h('span', { class: 'kbd' }, 'Ctrl'), ' + ', h('span', { class: 'kbd' }, 'Enter'))),
        ),
        h(
          'section',
          { class: 'section', 'aria-labelledby': 'lq-targets-title' },
          h('h2', { id: 'lq-targets-title' }, 'Targets'),
          h('div', { class: 'targets-box' }, h('label', { for: 'lq-all' }, allBox, 'All hosts', allCount)),
          h('h3', {}, 'Labels'),
          labelsBox,
          h('div', { class: 'field' }, h('label', { for: 'lq-host-search' }, 'Hosts'), hostSearch, suggestions),
          chips,
          targetMsg,
          preview,
        ),
      ),
      progressSlot,
      resultsSlot,
    ),
  );

  function updatePreview() {
    // "All hosts" covers every label and host: the other pickers stay as chosen but do not apply.
    labelsBox.classList.toggle('off', allBox.checked);
    for (const box of labelsBox.querySelectorAll('input')) box.disabled = allBox.checked;
    hostSearch.disabled = allBox.checked;
    const labelHosts = labelList.filter((l) => chosenLabels.has(l.id)).reduce((n, l) => n + l.host_count, 0);
    let text;
    if (allBox.checked) text = `All ${formatCount(totalHosts)} hosts (${formatCount(onlineHosts)} online now).`;
    else if (chosenLabels.size === 0 && chosenHosts.size === 0) text = 'No target chosen yet.';
    else {
      const upTo = Math.min(totalHosts || Infinity, labelHosts + chosenHosts.size);
      const parts = [];
      if (chosenLabels.size) parts.push(`${chosenLabels.size} label${chosenLabels.size > 1 ? 's' : ''}`);
      if (chosenHosts.size) parts.push(`${chosenHosts.size} host${chosenHosts.size > 1 ? 's' : ''}`);
      text = `${parts.join(' and ')}: at most ${formatCount(upTo)} hosts (the exact count is known when it starts).`;
    }
    preview.textContent = text;
    const state = { hosts: [...chosenHosts.keys()], labels: [...chosenLabels], all: allBox.checked };
    if (!campaignParam) ctx.replaceURL('/live' + writeState(state, TARGETS));
  }
  allBox.addEventListener('change', updatePreview);

  function drawChips() {
    replace(
      chips,
      [...chosenHosts.values()].map((host) =>
        h('span', { class: 'chip' }, statusBadge(host.status), host.name,
          h('button', { type: 'button', 'aria-label': `Remove ${host.name}`, title: 'Remove', onclick: () => { chosenHosts.delete(host.id); drawChips(); updatePreview(); } }, '×')),
      ),
    );
  }

  let searchTimer = null;
  let searchSeq = 0;
  hostSearch.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchHosts, 250);
  });
  hostSearch.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') suggestions.hidden = true;
    if (event.key === 'ArrowDown') suggestions.querySelector('button')?.focus();
  });
  ctx.onCleanup(() => clearTimeout(searchTimer));
  async function searchHosts() {
    const q = hostSearch.value.trim();
    const seq = ++searchSeq;
    if (!q) {
      suggestions.hidden = true;
      return;
    }
    try {
      const answer = await ctx.api.get('/hosts', { query: q, per_page: 8, order_key: 'hostname' }, { signal: ctx.signal });
      if (seq !== searchSeq) return;
      const found = answer.hosts ?? [];
      replace(
        suggestions,
        found.length === 0
          ? h('li', { class: 'muted' }, `No host matches “${q}”.`)
          : found.map((host) =>
              h('li', {}, h('button', {
                type: 'button',
                onclick: () => {
                  chosenHosts.set(host.id, { id: host.id, name: host.display_name || host.hostname, status: host.status });
                  drawChips();
                  updatePreview();
                  hostSearch.value = '';
                  suggestions.hidden = true;
                  hostSearch.focus();
                },
              }, statusBadge(host.status), h('span', {}, host.display_name || host.hostname), h('span', { class: 'muted' }, host.platform))),
            ),
      );
      suggestions.hidden = false;
    } catch (error) {
      if (error?.name !== 'AbortError') replace(targetMsg, errorBanner(error));
    }
  }

  async function loadTargets() {
    const [summary, labels] = await Promise.all([
      ctx.api.get('/host_summary', {}, { signal: ctx.signal }),
      ctx.api.get('/labels', { per_page: 500, order_key: 'name' }, { signal: ctx.signal }),
    ]);
    totalHosts = summary.totals_hosts_count ?? 0;
    onlineHosts = summary.online_count ?? 0;
    allCount.textContent = `${formatCount(totalHosts)} · ${formatCount(onlineHosts)} online`;
    labelList = labels.labels ?? [];
    replace(
      labelsBox,
      labelList.length === 0
        ? h('p', { class: 'muted' }, 'No labels.')
        : labelList.map((label) => {
            const box = h('input', { type: 'checkbox', id: `lq-label-${label.id}`, checked: chosenLabels.has(label.id) });
            box.addEventListener('change', () => {
              if (box.checked) chosenLabels.add(label.id);
              else chosenLabels.delete(label.id);
              updatePreview();
            });
            return h('label', { for: `lq-label-${label.id}` }, box, label.name, h('span', { class: 'n' }, formatCount(label.host_count)));
          }),
    );
    // Hosts named in the URL: look them up for their names and status.
    await Promise.all(
      targets.hosts.slice(0, 100).map(async (id) => {
        try {
          const { host } = await ctx.api.get(`/hosts/${id}`, {}, { signal: ctx.signal });
          chosenHosts.set(id, { id, name: host.display_name || host.hostname, status: host.status });
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) return; // deleted since: drop it
          throw error;
        }
      }),
    );
    drawChips();
    updatePreview();
  }

  // ---- Campaign
  let campaign = null;
  let results = new LiveResults();
  let streamAbort = null;
  let tab = 'rows';
  let page = 0;
  let sort = null;
  let drawPending = false;
  let startedAt = null;

  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    // Results may arrive by the thousand: draw at most four times a second.
    setTimeout(() => {
      drawPending = false;
      if (ctx.active) drawResults();
    }, 250);
  }

  function running() {
    return campaign && !results.done;
  }

  function drawResults() {
    stopButton.disabled = !running();
    runButton.disabled = Boolean(running());
    if (!campaign) {
      replace(progressSlot);
      replace(resultsSlot, h('section', { class: 'section' }, emptyState('No query run yet.', 'Write a query, choose targets and press Run. Results stream in as hosts answer.')));
      return;
    }
    const b = results.breakdown;
    const pct = results.percentResponded;
    const state = results.done
      ? `Finished: ${REASONS[results.done.reason] ?? results.done.reason}`
      : `Running${startedAt ? ` for ${Math.floor((Date.now() - startedAt) / 1000)} s` : ''}`;
    replace(
      progressSlot,
      h(
        'section',
        { class: 'section', 'aria-labelledby': 'lq-progress-title' },
        h('h2', { id: 'lq-progress-title' }, `Campaign ${campaign.id}`, h('span', { class: 'count' }, state)),
        results.streamError ? h('div', { class: 'banner warn', role: 'status' }, results.streamError) : null,
        h(
          'div',
          { class: 'progress' },
          h('span', { class: 'big', 'aria-live': 'polite' }, `${pct}% responded`),
          progressBar(pct, { tone: results.done ? 'ok' : null, label: `${pct}% responded` }),
          h('span', { class: 'muted' }, `${formatCount(results.totals?.responded_online ?? 0)} of ${formatCount(b.online)} online hosts (${formatCount(b.targeted)} targeted)`),
        ),
        h(
          'div',
          { class: 'breakdown' },
          h('span', {}, h('b', {}, formatCount(b.withRows)), ' with rows'),
          h('span', {}, h('b', {}, formatCount(b.withoutRows)), ' without rows'),
          h('span', {}, h('b', { class: b.errors ? 'fail' : '' }, formatCount(b.errors)), ' with errors'),
          h('span', {}, h('b', {}, formatCount(b.notYet)), ' not yet answered'),
          h('span', {}, h('b', {}, formatCount(results.rowCount)), ' rows'),
        ),
      ),
    );
    const rows = tab === 'rows' ? results.rows() : results.errors();
    const sorted = sortRows(rows, sort);
    const win = pageWindow(sorted.length, page, PAGE);
    page = win.page;
    const hostColumn = { key: '_host', label: 'Host', sortable: true, render: (r) => h('a', { href: `/hosts/${r._host_id}` }, r._host) };
    const columns =
      tab === 'rows'
        ? [hostColumn, ...results.columns.map((key) => ({ key, label: key, sortable: true }))]
        : [hostColumn, { key: 'error', label: 'Error', sortable: true, className: 'error-cell' }];
    const tabButton = (key, label, count) =>
      h('button', { type: 'button', class: key === tab ? 'primary' : '', 'aria-pressed': String(key === tab), onclick: () => { tab = key; page = 0; sort = null; drawResults(); } }, `${label} (${formatCount(count)})`);
    const empty =
      tab === 'rows'
        ? results.byHost.size === 0
          ? running() ? 'Waiting for the first host to answer…' : 'No host answered.'
          : 'The hosts that answered returned no rows.'
        : 'No host answered with an error.';
    replace(
      resultsSlot,
      h(
        'section',
        { class: 'section', 'aria-labelledby': 'lq-results-title' },
        h('h2', { id: 'lq-results-title', class: 'visually-hidden' }, 'Results'),
        h(
          'div',
          { class: 'table-tools' },
          tabButton('rows', 'Rows', results.rowCount),
          tabButton('errors', 'Errors', b.errors),
          h('span', { class: 'spacer' }),
          h('button', { type: 'button', disabled: results.rowCount === 0, onclick: () => exportRows() }, 'Export rows (CSV)'),
          h('button', { type: 'button', disabled: b.errors === 0, onclick: () => exportErrors() }, 'Export errors (CSV)'),
        ),
        h('div', { class: 'table-wrap' }, renderTable({ columns, rows: sorted.slice(win.start, win.end), sort, onSort: (s) => { sort = s; page = 0; drawResults(); }, emptyText: empty })),
        sorted.length > PAGE
          ? renderPager({
              label: pageLabel({ page: win.page, perPage: PAGE, shown: win.end - win.start, total: sorted.length }),
              hasPrevious: win.hasPrevious, hasNext: win.hasNext,
              onPrevious: () => { page--; drawResults(); }, onNext: () => { page++; drawResults(); },
            })
          : null,
      ),
    );
  }

  function exportRows() {
    const columns = [{ key: '_host', label: 'host' }, { key: '_host_id', label: 'host_id' }, ...results.columns.map((key) => ({ key, label: key }))];
    downloadCSV(`campaign-${campaign.id}-rows.csv`, toCSV(columns, results.rows()));
  }

  function exportErrors() {
    downloadCSV(`campaign-${campaign.id}-errors.csv`, toCSV([{ key: '_host', label: 'host' }, { key: '_host_id', label: 'host_id' }, 'error'], results.errors()));
  }

  async function stream(id) {
    streamAbort?.abort();
    const controller = new AbortController();
    streamAbort = controller;
    ctx.onCleanup(() => controller.abort());
    const ticker = setInterval(() => running() && scheduleDraw(), 1000);
    ctx.onCleanup(() => clearInterval(ticker));
    for (let attempt = 0; attempt < 5 && !controller.signal.aborted && !results.done; attempt++) {
      try {
        await readEventStream(`${API_BASE}/queries/run/${id}/stream`, {
          signal: controller.signal,
          onEvent: (event) => {
            if (results.apply(event)) scheduleDraw();
          },
        });
        attempt = 0;
        if (results.done || results.streamError) break;
      } catch (error) {
        if (error?.name === 'AbortError') return;
        if (error.status === 401) {
          await ctx.api.get('/me'); // a 401 here brings back the login form; then the stream goes on
          continue;
        }
        if (error.status) {
          replace(formBanner, errorBanner(new ApiError(error.status, error.body?.message ?? error.message, error.body?.errors ?? [])));
          break;
        }
      }
      // The connection dropped before `done`: reconnect; replayed results are not counted twice.
      await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
    }
    clearInterval(ticker);
    scheduleDraw();
  }

  function validate() {
    let ok = true;
    sql.setError(null);
    targetMsg.textContent = '';
    targetMsg.classList.remove('invalid-text');
    if (!sql.input.value.trim()) {
      sql.setError('Write a query first.');
      ok = false;
    }
    if (!allBox.checked && chosenLabels.size === 0 && chosenHosts.size === 0) {
      targetMsg.textContent = 'Choose all hosts, a label or a host.';
      targetMsg.classList.add('invalid-text');
      ok = false;
    }
    if (!ok) (sql.input.value.trim() ? hostSearch : sql.input).focus();
    return ok;
  }

  async function run() {
    if (running() || !validate()) return;
    replace(formBanner);
    runButton.disabled = true;
    const body = {
      query: sql.input.value,
      selected: allBox.checked ? { all: true } : { hosts: [...chosenHosts.keys()], labels: [...chosenLabels] },
    };
    if (wait.value) body.queue_for_offline_seconds = Number(wait.value);
    try {
      const answer = await ctx.api.post('/queries/run', body);
      campaign = answer.campaign;
      results = new LiveResults();
      results.totals = { count: campaign.metrics.total_hosts, online: campaign.metrics.online_hosts, responded: 0, responded_online: 0 };
      startedAt = Date.now();
      tab = 'rows';
      page = 0;
      sort = null;
      ctx.pushURL(`/live/campaigns/${campaign.id}`);
      drawResults();
      stream(campaign.id);
    } catch (error) {
      runButton.disabled = false;
      if (error instanceof ApiError) {
        const sqlReason = error.field('query');
        if (sqlReason) sql.setError(sqlReason);
        const targetErrors = error.errors.filter((e) => e.name.startsWith('selected'));
        if (targetErrors.length) {
          targetMsg.textContent = targetErrors.map((e) => e.reason).join('; ');
          targetMsg.classList.add('invalid-text');
        }
        const rest = error.errors.filter((e) => e.name !== 'query' && !e.name.startsWith('selected'));
        if (rest.length || error.errors.length === 0) replace(formBanner, errorBanner(new ApiError(error.status, error.message, rest)));
        if (sqlReason) sql.input.focus();
      } else {
        replace(formBanner, errorBanner(error));
      }
    }
  }

  async function stop() {
    if (!campaign) return;
    stopButton.disabled = true;
    try {
      await ctx.api.del(`/queries/run/${campaign.id}`);
    } catch (error) {
      replace(formBanner, errorBanner(error));
      stopButton.disabled = false;
    }
  }

  async function reopen(id) {
    const answer = await ctx.api.get(`/queries/run/${id}`, {}, { signal: ctx.signal });
    campaign = answer.campaign;
    sql.input.value = campaign.query;
    ctx.title(`Campaign ${id}`);
    results = new LiveResults();
    results.totals = { count: campaign.metrics.total_hosts, online: campaign.metrics.online_hosts, responded: 0, responded_online: 0 };
    startedAt = campaign.status === 'running' ? Date.parse(campaign.created_at) : null;
    drawResults();
    stream(id);
  }

  drawResults();
  try {
    await Promise.all([loadTargets(), campaignParam ? reopen(campaignParam) : null]);
    header.loaded();
  } catch (error) {
    if (error?.name === 'AbortError' || !ctx.active) return;
    header.failed();
    replace(formBanner, errorBanner(error));
  }
}
