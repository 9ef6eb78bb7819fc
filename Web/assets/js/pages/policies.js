// Policies: yes/no questions asked of every host of their platform (a row back = pass, none =
// fail, an error = unknown), with pass/fail counts from each host's latest answer; create, edit,
// delete. `/policies/{id}` opens one in the editor (a link to it can be shared).

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner, showLoadError, canChange } from '../ui.js';
import { renderTable, formatCount } from '../table.js';
import { percent, ago } from '../format.js';
import { progressBar } from '../charts.js';
import { editorForm, confirmButton } from '../forms.js';
import { describePlatform, changedFields } from '../schedule.js';

export default async function policies(ctx) {
  ctx.title('Policies');
  const canEdit = canChange(ctx.user);
  const header = pageHeader(ctx, 'Policies', {
    onRefresh: () => load(),
    actions: canEdit ? [h('button', { type: 'button', class: 'primary', onclick: () => ctx.navigate('/policies/new') }, 'New policy')] : [],
  });
  const banner = h('div');
  const editorSlot = h('div');
  const tableSlot = h('div', { class: 'table-wrap' });
  const countText = h('span', { class: 'muted', 'aria-live': 'polite' });
  replace(
    ctx.main,
    h(
      'div',
      { class: 'page' },
      header.el,
      h('p', { class: 'muted lede' }, 'A host passes when the query returns a row and fails when it returns none. Hosts answer within about an hour, and at once after a policy changes.'),
      editorSlot,
      banner,
      h('div', { class: 'table-tools' }, countText),
      tableSlot,
    ),
  );
  // Counts change as hosts answer: refresh while the page is open.
  ctx.every(30_000, () => load());

  async function load() {
    try {
      const list = await ctx.api.get('/global/policies', { per_page: 1000, order_key: 'failing_host_count', order_direction: 'desc' }, { signal: ctx.signal });
      if (!ctx.active) return;
      const items = list.policies ?? [];
      const failing = items.filter((p) => p.failing_host_count > 0).length;
      countText.textContent = `${items.length} ${items.length === 1 ? 'policy' : 'policies'} · ${failing} with failing hosts`;
      replace(banner);
      replace(
        tableSlot,
        renderTable({
          columns: [
            {
              key: 'name', label: 'Policy', className: 'wrap',
              render: (p) => [h('a', { href: `/policies/${p.id}` }, p.name), p.critical ? h('span', { class: 'tag fail' }, 'critical') : null, p.description ? h('div', { class: 'muted small' }, p.description) : null],
            },
            { key: 'platform', label: 'Platform', render: (p) => describePlatform(p.platform) },
            { key: 'passing_host_count', label: 'Passing', numeric: true, render: (p) => h('span', { class: 'pass' }, formatCount(p.passing_host_count)) },
            { key: 'failing_host_count', label: 'Failing', numeric: true, render: (p) => h('span', { class: p.failing_host_count ? 'fail' : 'muted' }, formatCount(p.failing_host_count)) },
            {
              key: 'share', label: 'Passing share', className: 'share',
              render: (p) => {
                const answered = p.passing_host_count + p.failing_host_count;
                if (!answered) return h('span', { class: 'muted' }, 'no answers yet');
                const share = percent(p.passing_host_count, answered);
                return h('span', { class: 'share-cell' }, progressBar(share, { tone: p.failing_host_count ? 'bad' : 'ok', label: `${share}% of ${answered} answering hosts pass` }), ` ${share}%`);
              },
            },
            { key: 'updated_at', label: 'Updated', render: (p) => h('span', { title: p.updated_at }, ago(p.updated_at)) },
            canEdit ? { key: 'actions', label: 'Actions', render: (p) => confirmButton('Delete', () => remove(p), { title: `Delete “${p.name}”` }) } : null,
          ].filter(Boolean),
          rows: items,
          emptyText: 'No policies. Create one with “New policy”: for example FileVault on, SELECT 1 FROM disk_encryption WHERE encrypted = 1;',
          rowKey: (p) => p.id,
        }),
      );
      header.loaded();
    } catch (error) {
      showLoadError(ctx, header, banner, error);
    }
  }

  async function remove(p) {
    try {
      await ctx.api.post('/global/policies/delete', { ids: [p.id] }, { signal: ctx.signal });
      if (String(ctx.params.id) === String(p.id)) ctx.navigate('/policies');
      else load();
    } catch (error) {
      if (error?.name !== 'AbortError') replace(banner, errorBanner(error));
    }
  }

  async function openEditor() {
    if (!ctx.params.id) return;
    if (!canEdit) {
      if (ctx.params.id === 'new') return replace(editorSlot, h('div', { class: 'banner info' }, 'Creating a policy needs the maintainer role.'));
    }
    let existing = null;
    if (ctx.params.id !== 'new') {
      try {
        existing = (await ctx.api.get(`/global/policies/${encodeURIComponent(ctx.params.id)}`, {}, { signal: ctx.signal })).policy;
      } catch (error) {
        if (error?.name !== 'AbortError') replace(editorSlot, errorBanner(error));
        return;
      }
    }
    if (!ctx.active) return;
    if (existing) ctx.title(existing.name);
    const form = editorForm({
      id: 'pol',
      title: existing ? `Edit “${existing.name}”` : 'New policy',
      submitLabel: existing ? 'Save changes' : 'Create policy',
      onCancel: () => ctx.navigate('/policies'),
      fields: [
        { name: 'name', label: 'Name', value: existing?.name, required: true },
        { name: 'platform', label: 'Platform', value: existing?.platform ?? '', hint: 'Empty for every platform; darwin, linux, windows or a comma list.' },
        { name: 'query', label: 'SQL (a row back means the host passes)', type: 'sql', value: existing?.query ?? '', wide: true, attrs: { rows: 5 } },
        { name: 'description', label: 'Description', type: 'textarea', value: existing?.description ?? '', attrs: { rows: 2 } },
        { name: 'resolution', label: 'Resolution (what to do on a failing host)', type: 'textarea', value: existing?.resolution ?? '', attrs: { rows: 2 } },
        { name: 'critical', label: 'Critical', type: 'checkbox', value: existing?.critical ?? false },
      ],
      onSubmit: async (values) => {
        if (existing) await ctx.api.patch(`/global/policies/${existing.id}`, changedFields(existing, values), { signal: ctx.signal });
        else await ctx.api.post('/global/policies', values, { signal: ctx.signal });
        ctx.navigate('/policies');
      },
    });
    const counts = existing
      ? h('p', { class: 'muted small' }, `${formatCount(existing.passing_host_count)} passing, ${formatCount(existing.failing_host_count)} failing · by ${existing.author_name || 'nobody recorded'} · updated ${ago(existing.updated_at)}`)
      : null;
    if (!canEdit && existing) {
      replace(editorSlot, h('div', { class: 'section' }, h('h2', {}, existing.name), h('pre', { class: 'mono' }, existing.query), counts));
      return;
    }
    replace(editorSlot, form.el, counts);
    form.focus();
  }

  await Promise.all([load(), openEditor()]);
}
