// Labels: dynamic ones (a host is a member when the label's query returns a row) and manual ones
// (a host list); built-in labels are read-only. `/labels/{id}` opens one: its members, and for a
// manual label "add a host" and "remove" per member.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, statusBadge, emptyState, showLoadError, canChange } from '../ui.js';
import { renderTable, formatCount } from '../table.js';
import { ago } from '../format.js';
import { editorForm, confirmButton, formField } from '../forms.js';
import { describePlatform, changedFields } from '../schedule.js';
import { membersAfter } from '../members.js';
import { ApiError } from '../api.js';

const MEMBER_PAGE = 500;

export default async function labels(ctx) {
  ctx.title('Labels');
  const canEdit = canChange(ctx.user);
  const header = pageHeader(ctx, 'Labels', {
    onRefresh: () => load(),
    actions: canEdit ? [h('button', { type: 'button', class: 'primary', onclick: () => ctx.navigate('/labels/new') }, 'New label')] : [],
  });
  const banner = h('div');
  const detailSlot = h('div');
  const tableSlot = h('div', { class: 'table-wrap' });
  replace(ctx.main, h('div', { class: 'page' }, header.el, detailSlot, banner, tableSlot));

  async function load() {
    try {
      const list = await ctx.api.get('/labels', { per_page: 500, order_key: 'name' }, { signal: ctx.signal });
      if (!ctx.active) return;
      replace(banner);
      replace(
        tableSlot,
        renderTable({
          columns: [
            {
              key: 'name', label: 'Label', className: 'wrap',
              render: (l) => [h('a', { href: `/labels/${l.id}` }, l.name), l.label_type === 'builtin' ? h('span', { class: 'tag' }, 'built-in') : null, l.description ? h('div', { class: 'muted small' }, l.description) : null],
            },
            { key: 'label_membership_type', label: 'Membership', render: (l) => (l.label_membership_type === 'manual' ? 'manual (host list)' : 'dynamic (query)') },
            { key: 'platform', label: 'Platform', render: (l) => describePlatform(l.platform) },
            { key: 'host_count', label: 'Hosts', numeric: true, render: (l) => h('a', { href: `/hosts?label_id=${l.id}`, title: `The hosts in ${l.name}` }, formatCount(l.host_count)) },
            { key: 'updated_at', label: 'Updated', render: (l) => h('span', { title: l.updated_at }, ago(l.updated_at)) },
          ],
          rows: list.labels ?? [],
          emptyText: 'No labels.',
          rowKey: (l) => l.id,
        }),
      );
      header.loaded();
    } catch (error) {
      showLoadError(ctx, header, banner, error);
    }
  }

  function newLabel() {
    if (!canEdit) return replace(detailSlot, h('div', { class: 'banner info' }, 'Creating a label needs the maintainer role.'));
    const form = editorForm({
      id: 'le',
      title: 'New label',
      submitLabel: 'Create label',
      onCancel: () => ctx.navigate('/labels'),
      aliases: { host_ids: 'hosts' },
      fields: [
        { name: 'name', label: 'Name', required: true },
        { name: 'description', label: 'Description' },
        { name: 'label_membership_type', label: 'Membership', type: 'select', value: 'dynamic', options: [['dynamic', 'Dynamic: hosts where the query returns a row'], ['manual', 'Manual: a list of hosts']] },
        { name: 'platform', label: 'Platform', hint: 'Empty for every platform (dynamic labels only).' },
        { name: 'query', label: 'SQL (dynamic)', type: 'sql', wide: true, attrs: { rows: 4 }, hint: 'A host is a member while this returns a row; re-checked about hourly.' },
        { name: 'hosts', label: 'Hosts (manual)', type: 'textarea', wide: true, attrs: { rows: 2 }, hint: 'Hostnames, UUIDs or serials, separated by commas or new lines.' },
      ],
      onSubmit: async (values) => {
        const manual = values.label_membership_type === 'manual';
        const body = { name: values.name, description: values.description, label_membership_type: values.label_membership_type };
        if (manual) body.hosts = values.hosts.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
        else Object.assign(body, { query: values.query, platform: values.platform });
        const label = (await ctx.api.post('/labels', body, { signal: ctx.signal })).label;
        ctx.navigate(`/labels/${label.id}`);
      },
    });
    const kind = form.fields.label_membership_type.input;
    const sync = () => {
      const manual = kind.value === 'manual';
      form.fields.query.el.hidden = manual;
      form.fields.platform.el.hidden = manual;
      form.fields.hosts.el.hidden = !manual;
    };
    kind.addEventListener('change', sync);
    sync();
    replace(detailSlot, form.el);
    form.focus();
  }

  async function showLabel(id) {
    let label;
    try {
      label = (await ctx.api.get(`/labels/${encodeURIComponent(id)}`, {}, { signal: ctx.signal })).label;
    } catch (error) {
      if (error?.name !== 'AbortError') replace(detailSlot, errorBanner(error));
      return;
    }
    if (!ctx.active) return;
    ctx.title(label.name);
    const builtin = label.label_type === 'builtin';
    const manual = label.label_membership_type === 'manual';
    const localBanner = h('div');
    const membersSlot = h('div', { id: 'label-members' });
    let members = [];
    let truncated = false;

    async function loadMembers() {
      // PATCH replaces the whole list, so a manual label's page must hold every member.
      const all = [];
      for (let page = 0; page < 200; page++) {
        const answer = await ctx.api.get(`/labels/${label.id}/hosts`, { page, per_page: MEMBER_PAGE, order_key: 'hostname' }, { signal: ctx.signal });
        all.push(...(answer.hosts ?? []));
        if (!answer.meta?.has_next_results) break;
        if (!manual && all.length >= MEMBER_PAGE) {
          truncated = true;
          break;
        }
      }
      members = all;
      drawMembers();
    }

    function drawMembers() {
      replace(
        membersSlot,
        h('h2', {}, 'Members', h('span', { class: 'count' }, truncated ? `first ${formatCount(members.length)}` : formatCount(members.length)), h('a', { href: `/hosts?label_id=${label.id}`, class: 'small' }, 'open in Hosts')),
        members.length === 0
          ? emptyState(manual ? 'No host is in this label.' : 'No host is a member yet.', manual ? 'Add one below.' : 'Hosts answer label queries about hourly, and at once after a label is created.')
          : h('div', { class: 'table-wrap' }, renderTable({
              columns: [
                { key: 'hostname', label: 'Host', render: (x) => h('a', { href: `/hosts/${x.id}` }, x.display_name || x.hostname) },
                { key: 'status', label: 'Status', render: (x) => statusBadge(x.status) },
                { key: 'platform', label: 'Platform' },
                { key: 'hardware_serial', label: 'Serial' },
                manual && canEdit ? { key: 'actions', label: 'Actions', render: (x) => confirmButton('Remove', () => changeMembers({ remove: [x.id] }), { title: `Remove ${x.display_name || x.hostname} from ${label.name}` }) } : null,
              ].filter(Boolean),
              rows: members,
              rowKey: (x) => x.id,
            })),
      );
    }

    async function changeMembers(change) {
      try {
        const ids = membersAfter(members.map((m) => m.id), change);
        await ctx.api.patch(`/labels/${label.id}`, { host_ids: ids }, { signal: ctx.signal });
        replace(localBanner);
        await loadMembers();
        load();
      } catch (error) {
        if (error?.name !== 'AbortError') replace(localBanner, errorBanner(error));
        throw error;
      }
    }

    let editForm = null;
    if (canEdit && !builtin) {
      editForm = editorForm({
        id: 'le',
        title: `Edit “${label.name}”`,
        submitLabel: 'Save label',
        fields: [
          { name: 'name', label: 'Name', value: label.name, required: true },
          { name: 'description', label: 'Description', value: label.description },
        ],
        onSubmit: async (values) => {
          await ctx.api.patch(`/labels/${label.id}`, changedFields(label, values), { signal: ctx.signal });
          showLabel(label.id);
          load();
        },
      });
      editForm.el.querySelector('.actions').append(
        h('span', { class: 'spacer' }),
        confirmButton('Delete label', async () => {
          try {
            await ctx.api.del(`/labels/id/${label.id}`, { signal: ctx.signal });
            ctx.navigate('/labels');
          } catch (error) {
            if (error?.name !== 'AbortError') replace(localBanner, errorBanner(error));
          }
        }),
      );
    }

    let addForm = null;
    if (manual && canEdit && !builtin) {
      const who = formField({ name: 'host', label: 'Add a host', hint: 'Its hostname, UUID, serial or id.' }, 'lm');
      const add = h('button', { type: 'submit' }, 'Add host');
      addForm = h('form', { class: 'inline-add', 'aria-label': `Add a host to ${label.name}` }, who.el, add);
      addForm.addEventListener('submit', async (event) => {
        event.preventDefault();
        who.setError(null);
        const text = who.value;
        if (!text) return who.setError('Name a host first.');
        add.disabled = true;
        try {
          const host = /^\d+$/.test(text)
            ? (await ctx.api.get(`/hosts/${text}`, {}, { signal: ctx.signal })).host
            : (await ctx.api.get(`/hosts/identifier/${encodeURIComponent(text)}`, {}, { signal: ctx.signal })).host;
          if (members.some((m) => m.id === host.id)) {
            who.setError(`${host.display_name || host.hostname} is already in this label.`);
            return;
          }
          await changeMembers({ add: [host.id] });
          who.input.value = '';
          who.setHint(`Added ${host.display_name || host.hostname}.`);
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) who.setError(`No host is named “${text}”.`);
          else if (error instanceof ApiError) who.setError(error.describe());
        } finally {
          add.disabled = false;
        }
      });
    }

    replace(
      detailSlot,
      h('div', { class: 'crumbs' }, h('a', { href: '/labels' }, 'Labels'), ' / ', label.name),
      localBanner,
      h('div', { class: 'cols' },
        h('div', { class: 'section' },
          h('h2', {}, label.name, builtin ? h('span', { class: 'tag' }, 'built-in, read-only') : null),
          h('p', {}, manual ? 'Manual label: a list of hosts.' : `Dynamic label on ${describePlatform(label.platform)}: a host is a member while this query returns a row.`),
          label.query && !manual ? h('pre', { class: 'mono query-text' }, label.query) : null,
          label.description ? h('p', { class: 'muted' }, label.description) : null),
        editForm ? editForm.el : null),
      h('div', { class: 'section' }, addForm, membersSlot),
    );
    try {
      await loadMembers();
    } catch (error) {
      if (error?.name !== 'AbortError') replace(membersSlot, errorBanner(error));
    }
  }

  const detail = ctx.params.id === 'new' ? newLabel() : ctx.params.id ? showLabel(ctx.params.id) : null;
  await Promise.all([load(), detail]);
}
