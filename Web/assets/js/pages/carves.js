// File carves: what hosts uploaded after a carve query, newest first, with progress, and the
// archive as a download (a plain link: the browser streams it to disk with the session cookie,
// so a gigabyte carve never sits in the page's memory). Maintainers and admins only.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner } from '../ui.js';
import { renderTable, serverPager } from '../table.js';
import { ago, bytes, percent } from '../format.js';
import { progressBar } from '../charts.js';
import { API_BASE, ApiError } from '../api.js';
import { readState, writeState, updateState } from '../urlstate.js';

const STATE = { page: { type: 'int', min: 0, max: 1_000_000, default: 0 } };
const PER_PAGE = 100;

export default async function carves(ctx) {
  ctx.title('Carves');
  let state = readState(ctx.query, STATE);
  const header = pageHeader(ctx, 'File carves', { onRefresh: () => load() });
  const banner = h('div');
  const tableSlot = h('div', { class: 'table-wrap' });
  const pagerSlot = h('div');
  replace(
    ctx.main,
    h(
      'div',
      { class: 'page' },
      header.el,
      h('p', { class: 'muted lede' }, 'Start a carve with a live query such as ', h('code', {}, "SELECT * FROM carves WHERE carve = 1 AND path LIKE '/var/log/%';"), ' The host uploads the files as a tar archive within a minute or so.'),
      banner,
      tableSlot,
      pagerSlot,
    ),
  );
  // Uploads progress while the page is open.
  ctx.every(10_000, () => load());

  async function load() {
    try {
      const list = await ctx.api.get('/carves', { page: state.page, per_page: PER_PAGE }, { signal: ctx.signal });
      if (!ctx.active) return;
      const items = list.carves ?? [];
      replace(banner);
      replace(
        tableSlot,
        renderTable({
          columns: [
            { key: 'created_at', label: 'Started', render: (c) => h('span', { title: c.created_at }, ago(c.created_at)) },
            { key: 'host_id', label: 'Host', render: (c) => (c.host_id ? h('a', { href: `/hosts/${c.host_id}` }, `host ${c.host_id}`) : h('span', { class: 'muted' }, 'deleted')) },
            { key: 'name', label: 'Name', className: 'mono' },
            { key: 'carve_size', label: 'Size', numeric: true, render: (c) => bytes(c.carve_size) },
            {
              key: 'progress', label: 'Received',
              render: (c) => {
                const got = c.max_block + 1;
                const share = percent(got, c.block_count);
                return c.completed ? 'complete' : h('span', { class: 'share-cell' }, progressBar(share, { label: `${got} of ${c.block_count} blocks` }), ` ${got} of ${c.block_count} blocks`);
              },
            },
            { key: 'error', label: 'Error', className: 'error-cell', render: (c) => c.error ?? '' },
            {
              key: 'download', label: 'Archive',
              render: (c) => (c.completed
                ? h('a', { class: 'button', href: `${API_BASE}/carves/${c.id}/download`, download: `${c.name}.tar`, title: `Download ${c.name}.tar (${bytes(c.carve_size)})` }, 'Download')
                : h('span', { class: 'muted' }, 'not complete')),
            },
          ],
          rows: items,
          emptyText: 'No carves yet. Run a carve query from the live query console.',
          rowKey: (c) => c.id,
        }),
      );
      replace(pagerSlot, serverPager({ page: state.page, perPage: PER_PAGE, shown: items.length, meta: list.meta, onPage: go }));
      header.loaded();
    } catch (error) {
      if (error?.name === 'AbortError' || !ctx.active) return;
      header.failed();
      const role = error instanceof ApiError && error.status === 403;
      replace(banner, role ? h('div', { class: 'banner info' }, 'Carves hold files from hosts’ disks: only maintainers and admins may list or download them.') : errorBanner(error));
      if (role) replace(tableSlot);
    }
  }

  function go(page) {
    state = updateState(state, { page });
    ctx.pushURL('/carves' + writeState(state, STATE));
    load();
  }

  await load();
}
