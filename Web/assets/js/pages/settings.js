// Settings, in three sections with their own URLs: agent options (the osquery options every host
// gets, checked by the server before they are saved), users and roles (with API-only users and
// their tokens), and the audit log with filters and CSV.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, showFieldErrors, facts, showLoadError } from '../ui.js';
import { renderTable } from '../table.js';
import { ago, timestamp } from '../format.js';
import { editorForm, confirmButton, formField, subnav } from '../forms.js';
import { filterActivities, activityTypes, typeText, detailsText } from '../audit.js';
import { toCSV, downloadCSV } from '../csv.js';
import { ApiError } from '../api.js';

const SECTIONS = [
  ['/settings', 'Agent options'],
  ['/settings/users', 'Users'],
  ['/settings/audit', 'Audit log'],
  ['/settings/account', 'Your account'],
];

export default async function settings(ctx) {
  const section = ctx.params.section ?? 'agent-options';
  const path = section === 'agent-options' ? '/settings' : `/settings/${section}`;
  if (!SECTIONS.some(([href]) => href === path)) {
    replace(ctx.main, h('div', { class: 'page' }, h('h1', {}, 'No such settings page'), h('p', {}, h('a', { href: '/settings' }, 'Back to settings'), '.')));
    return;
  }
  const title = SECTIONS.find(([href]) => href === path)[1];
  ctx.title(title);
  const body = h('div');
  const header = pageHeader(ctx, 'Settings', { onRefresh: () => run() });
  replace(ctx.main, h('div', { class: 'page' }, header.el, subnav(SECTIONS, path), body));
  const sections = { users, audit, account, 'agent-options': agentOptions };
  const run = () => sections[section](ctx, body, header);
  await run();
}

// ---- Agent options

async function agentOptions(ctx, body, header) {
  const isAdmin = ctx.user?.global_role === 'admin';
  let config;
  try {
    config = await ctx.api.get('/config', {}, { signal: ctx.signal });
  } catch (error) {
    showLoadError(ctx, header, body, error);
    return;
  }
  if (!ctx.active) return;
  header.loaded();
  if (!config.agent_options) {
    replace(body, h('div', { class: 'banner info' }, 'Agent options hold the osquery settings of every host; maintainers and admins may read them.'));
    return;
  }
  const text = JSON.stringify(config.agent_options.config ?? {}, null, 2);
  const editor = formField({ name: 'agent_options', label: 'Agent options (JSON: options, decorators, …)', type: 'textarea', value: text, hint: 'Sent to every host at its next config refresh. Pomona keeps the options its own endpoints need.', attrs: { class: 'json', spellcheck: 'false', rows: 20, readonly: !isAdmin } }, 'ao');
  const banner = h('div');
  const status = h('span', { class: 'muted', role: 'status' });
  const check = h('button', { type: 'button', onclick: () => send(true) }, 'Check');
  const save = h('button', { type: 'button', class: 'primary', onclick: () => send(false) }, 'Save');

  function parsed() {
    try {
      return { value: JSON.parse(editor.input.value) };
    } catch (error) {
      return { error: `not valid JSON: ${error.message}` };
    }
  }

  async function send(dryRun) {
    editor.setError(null);
    replace(banner);
    const p = parsed();
    if (p.error) {
      editor.setError(p.error);
      editor.input.focus();
      return;
    }
    if (!p.value || typeof p.value !== 'object' || Array.isArray(p.value)) {
      editor.setError('must be a JSON object');
      return;
    }
    status.textContent = dryRun ? 'Checking…' : 'Saving…';
    try {
      const answer = await ctx.api.request('PATCH', '/config', { query: dryRun ? { dry_run: 'true' } : {}, body: { agent_options: { config: p.value } }, signal: ctx.signal });
      status.textContent = dryRun ? 'The server accepts these options (nothing saved).' : 'Saved. Hosts get them at their next config refresh.';
      if (!dryRun && answer.agent_options) editor.input.value = JSON.stringify(answer.agent_options.config, null, 2);
      header.loaded();
    } catch (error) {
      status.textContent = '';
      if (error?.name === 'AbortError') return;
      // Errors name `agent_options` (or `agent_options.overrides`): show them under the editor.
      const reason = error instanceof ApiError ? error.errors.filter((e) => e.name.startsWith('agent_options')).map((e) => e.reason).join('; ') : '';
      if (reason) {
        editor.setError(reason);
        editor.input.focus();
      }
      replace(banner, reason ? null : showFieldErrors([editor], error));
    }
  }

  replace(
    body,
    h('div', { class: 'section' },
      banner,
      editor.el,
      isAdmin
        ? h('div', { class: 'actions' }, check, save, status)
        : h('p', { class: 'muted' }, 'Only admins change agent options.')),
  );
}

// ---- Your account: who you are, and a new password (which ends your other sessions)

async function account(ctx, body, header) {
  let me;
  try {
    me = (await ctx.api.get('/me', {}, { signal: ctx.signal })).user;
  } catch (error) {
    showLoadError(ctx, header, body, error);
    return;
  }
  if (!ctx.active) return;
  header.loaded();
  const done = h('div', { 'aria-live': 'polite' });
  const form = editorForm({
    id: 'pw',
    title: 'Change your password',
    submitLabel: 'Change password',
    fields: [
      { name: 'old_password', label: 'Current password', type: 'password', attrs: { autocomplete: 'current-password' } },
      { name: 'new_password', label: 'New password', type: 'password', hint: 'At least 12 characters, with a number and a symbol.', attrs: { autocomplete: 'new-password' } },
      { name: 'new_password_again', label: 'New password again', type: 'password', attrs: { autocomplete: 'new-password' } },
    ],
    onSubmit: async (values) => {
      if (values.new_password !== values.new_password_again) throw new ApiError(422, 'Validation Failed', [{ name: 'new_password_again', reason: 'does not match the new password' }]);
      await ctx.api.post('/change_password', { old_password: values.old_password, new_password: values.new_password }, { signal: ctx.signal });
      for (const f of Object.values(form.fields)) f.input.value = '';
      replace(done, h('div', { class: 'banner info', role: 'status' }, 'Password changed. Your other sessions were signed out; this one stays.'));
    },
  });
  replace(
    body,
    done,
    h('div', { class: 'cols' },
      h('div', { class: 'section' }, h('h2', {}, 'You'), facts([['Name', me.name], ['Email', me.email], ['Role', me.global_role], ['Since', timestamp(me.created_at)]])),
      form.el),
    h('p', { class: 'muted small gap-note' }, 'Your open sessions cannot be listed or revoked one by one yet (the API has no sessions endpoint); changing the password ends all but this one.'),
  );
}

// ---- Users

const ROLES = [['observer', 'Observer: reads'], ['maintainer', 'Maintainer: also changes queries, labels, policies; runs live queries'], ['admin', 'Admin: also users, secrets, settings']];

async function users(ctx, body, header) {
  if (ctx.user?.global_role !== 'admin') {
    header.loaded();
    replace(body, h('div', { class: 'banner info' }, 'Only admins manage users. You are signed in as ', h('b', {}, ctx.user?.email ?? ''), ` (${ctx.user?.global_role ?? 'unknown role'}).`));
    return;
  }
  const banner = h('div');
  const news = h('div', { 'aria-live': 'polite' });
  const tableSlot = h('div', { class: 'table-wrap' });
  const formSlot = h('div');
  const gap = h('p', { class: 'muted small gap-note' }, 'Open sessions cannot be listed or revoked here yet (the API has no sessions endpoint). Changing a user’s password ends their other sessions; deleting a user ends all of theirs.');
  replace(body, banner, news, formSlot, h('div', { class: 'table-tools' }, h('button', { type: 'button', class: 'primary', onclick: () => openNew() }, 'New user')), tableSlot, gap);

  async function load() {
    try {
      const list = await ctx.api.get('/users', { per_page: 500 }, { signal: ctx.signal });
      if (!ctx.active) return;
      replace(banner);
      replace(
        tableSlot,
        renderTable({
          columns: [
            { key: 'name', label: 'Name' },
            { key: 'email', label: 'Email' },
            {
              key: 'global_role', label: 'Role',
              render: (u) => {
                const id = `role-${u.id}`;
                // Your own role is not changed from here: one slip would lock you out of this page.
                const self = u.id === ctx.user?.id;
                const select = h('select', { id, 'aria-label': `Role of ${u.email}`, disabled: self, title: self ? 'Another admin changes your role' : null, onchange: (e) => setRole(u, e.target.value, select) }, ROLES.map(([v]) => h('option', { value: v, selected: v === u.global_role }, v)));
                return select;
              },
            },
            { key: 'api_only', label: 'Kind', render: (u) => (u.api_only ? 'API only' : 'person') },
            { key: 'created_at', label: 'Created', render: (u) => h('span', { title: u.created_at }, ago(u.created_at)) },
            {
              key: 'actions', label: 'Actions',
              render: (u) => h('div', { class: 'row-actions' },
                u.api_only ? confirmButton('New token', () => rotate(u), { className: '', confirmLabel: 'Confirm: replace token', title: 'Issue a new token; the old one stops working' }) : null,
                u.id === ctx.user?.id ? h('span', { class: 'muted' }, 'you') : confirmButton('Delete', () => remove(u), { title: `Delete ${u.email}` })),
            },
          ],
          rows: list.users ?? [],
          rowKey: (u) => u.id,
        }),
      );
      header.loaded();
    } catch (error) {
      showLoadError(ctx, header, banner, error);
    }
  }

  async function setRole(user, role, select) {
    try {
      await ctx.api.patch(`/users/${user.id}`, { global_role: role }, { signal: ctx.signal });
      replace(news, h('div', { class: 'banner info', role: 'status' }, `${user.email} is now ${role}.`));
      load();
    } catch (error) {
      if (error?.name === 'AbortError') return;
      select.value = user.global_role;
      replace(news, errorBanner(error));
    }
  }

  function showToken(user, token) {
    replace(news, h('div', { class: 'banner warn', role: 'status' },
      h('strong', {}, `API token for ${user.email}`), ' — shown once; store it now: ',
      h('code', { class: 'secret', id: 'new-token' }, token)));
  }

  async function rotate(user) {
    try {
      const answer = await ctx.api.post(`/users/${user.id}/api_token`, {}, { signal: ctx.signal });
      showToken(user, answer.token);
    } catch (error) {
      if (error?.name !== 'AbortError') replace(news, errorBanner(error));
    }
  }

  async function remove(user) {
    try {
      await ctx.api.del(`/users/${user.id}`, { signal: ctx.signal });
      replace(news, h('div', { class: 'banner info', role: 'status' }, `Deleted ${user.email}.`));
      load();
    } catch (error) {
      if (error?.name !== 'AbortError') replace(news, errorBanner(error));
    }
  }

  function openNew() {
    const form = editorForm({
      id: 'ue',
      title: 'New user',
      submitLabel: 'Create user',
      onCancel: () => replace(formSlot),
      fields: [
        { name: 'name', label: 'Name', required: true },
        { name: 'email', label: 'Email', type: 'email', required: true },
        { name: 'global_role', label: 'Role', type: 'select', value: 'observer', options: ROLES },
        { name: 'password', label: 'Password', type: 'password', hint: 'At least 12 characters, with a number and a symbol. Not needed for an API-only user.', attrs: { autocomplete: 'new-password' } },
        { name: 'api_only', label: 'API only (a token for scripts; cannot sign in here)', type: 'checkbox' },
      ],
      onSubmit: async (values) => {
        const payload = { ...values };
        if (payload.api_only && !payload.password) delete payload.password;
        const answer = await ctx.api.post('/users/admin', payload, { signal: ctx.signal });
        replace(formSlot);
        if (answer.token) showToken(answer.user, answer.token);
        else replace(news, h('div', { class: 'banner info', role: 'status' }, `Created ${answer.user?.email}.`));
        load();
      },
    });
    replace(formSlot, form.el);
    form.focus();
  }

  await load();
}

// ---- Audit log

const AUDIT_PAGE = 200;

async function audit(ctx, body, header) {
  const entries = [];
  let page = 0;
  let more = true;
  const banner = h('div');
  const tableSlot = h('div', { class: 'table-wrap' });
  const countText = h('span', { class: 'muted', 'aria-live': 'polite' });
  const moreButton = h('button', { type: 'button', onclick: () => loadPage() }, 'Load older entries');
  const exportButton = h('button', { type: 'button', onclick: () => exportCSV() }, 'Export shown (CSV)');
  const q = ctx.query;
  const type = h('select', { id: 'af-type', onchange: () => sync() }, h('option', { value: '' }, 'Any type'));
  const actor = h('input', { id: 'af-actor', type: 'search', value: q.get('actor') ?? '', placeholder: 'name or email', autocomplete: 'off' });
  const host = h('input', { id: 'af-host', type: 'search', value: q.get('host') ?? '', placeholder: 'host id or name', autocomplete: 'off' });
  const since = h('input', { id: 'af-since', type: 'datetime-local', value: q.get('since') ?? '' });
  const until = h('input', { id: 'af-until', type: 'datetime-local', value: q.get('until') ?? '' });
  for (const input of [actor, host]) input.addEventListener('input', () => sync());
  for (const input of [since, until]) input.addEventListener('change', () => sync());
  const f = (id, label, input) => h('div', { class: 'f' }, h('label', { for: id }, label), input);
  replace(
    body,
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log', onsubmit: (e) => { e.preventDefault(); sync(); } },
      f('af-type', 'Type', type), f('af-actor', 'Actor', actor), f('af-host', 'Host', host), f('af-since', 'From', since), f('af-until', 'To', until)),
    h('p', { class: 'muted small gap-note' }, 'The API has no audit-log filters yet: these filter the entries loaded so far (newest first). Load older entries to look further back.'),
    banner,
    h('div', { class: 'table-tools' }, countText, h('span', { class: 'spacer' }), exportButton, moreButton),
    tableSlot,
  );

  function filters() {
    const iso = (v) => (v ? new Date(v).toISOString() : '');
    return { type: type.value, actor: actor.value, host: host.value, since: iso(since.value), until: iso(until.value) };
  }

  function sync() {
    const params = new URLSearchParams();
    for (const [k, el] of [['type', type], ['actor', actor], ['host', host], ['since', since], ['until', until]]) if (el.value.trim()) params.set(k, el.value.trim());
    const text = params.toString();
    ctx.replaceURL('/settings/audit' + (text ? `?${text}` : ''));
    draw();
  }

  let shown = [];
  function draw() {
    const types = activityTypes(entries);
    const wanted = type.value || q.get('type') || '';
    if (wanted && !types.includes(wanted)) types.push(wanted);
    replace(type, h('option', { value: '' }, 'Any type'), types.map((t) => h('option', { value: t, selected: t === wanted }, typeText(t))));
    shown = filterActivities(entries, filters());
    countText.textContent = `${shown.length} of ${entries.length} loaded entries${more ? '' : ' (all)'}`;
    moreButton.disabled = !more;
    exportButton.disabled = shown.length === 0;
    replace(
      tableSlot,
      renderTable({
        columns: [
          { key: 'created_at', label: 'When', render: (a) => h('span', { title: a.created_at }, timestamp(a.created_at)) },
          { key: 'actor', label: 'Actor', render: (a) => a.actor_full_name || a.actor_email || h('span', { class: 'muted' }, 'Pomona') },
          { key: 'type', label: 'What', render: (a) => typeText(a.type) },
          { key: 'details', label: 'Details', className: 'wrap', render: (a) => detailsText(a.details) },
        ],
        rows: shown,
        emptyText: entries.length ? 'No loaded entry matches these filters.' : 'The audit log is empty.',
        rowKey: (a) => a.id,
      }),
    );
  }

  async function loadPage() {
    moreButton.disabled = true;
    try {
      const answer = await ctx.api.get('/activities', { page, per_page: AUDIT_PAGE }, { signal: ctx.signal });
      if (!ctx.active) return;
      entries.push(...(answer.activities ?? []));
      more = Boolean(answer.meta?.has_next_results);
      page += 1;
      replace(banner);
      header.loaded();
      draw();
    } catch (error) {
      if (error?.name === 'AbortError' || !ctx.active) return;
      header.failed();
      moreButton.disabled = !more;
      replace(banner, errorBanner(error));
    }
  }

  function exportCSV() {
    const columns = [
      { key: 'created_at', label: 'created_at' }, { key: 'actor_full_name', label: 'actor' }, { key: 'actor_email', label: 'actor_email' },
      { key: 'type', label: 'type' }, { key: 'details', label: 'details' },
    ];
    downloadCSV('audit-log.csv', toCSV(columns, shown.map((a) => ({ ...a, details: JSON.stringify(a.details ?? {}) }))));
  }

  await loadPage();
}
