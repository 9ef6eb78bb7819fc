// Enrollment: the active enroll secrets (add, rotate, revoke) and how to build an agent kit.
// Secrets are shown masked until asked for: they are the only thing that admits a host. Every
// change sends the whole active set at once (see secrets.js), so a rotation never leaves a gap.

import { h, replace } from '../dom.js';
import { pageHeader, errorBanner } from '../ui.js';
import { renderTable } from '../table.js';
import { ago } from '../format.js';
import { confirmButton, formField } from '../forms.js';
import { newSecret, secretsAfter, maskSecret } from '../secrets.js';
import { ApiError } from '../api.js';

const random = (n) => crypto.getRandomValues(new Uint8Array(n));

export default async function enrollment(ctx) {
  ctx.title('Enrollment');
  const role = ctx.user?.global_role;
  const isAdmin = role === 'admin';
  const header = pageHeader(ctx, 'Enrollment', {
    onRefresh: () => load(),
    actions: isAdmin ? [h('button', { type: 'button', class: 'primary', onclick: () => change({ add: [newSecret(random)] }, 'Added') }, 'Add a secret')] : [],
  });
  const banner = h('div');
  const news = h('div', { 'aria-live': 'polite' });
  const tableSlot = h('div', { class: 'table-wrap' });
  const revealed = new Set();
  let secrets = [];

  const address = formField({ name: 'address', label: 'Server address the hosts will use', value: location.hostname === '127.0.0.1' || location.hostname === 'localhost' ? 'fleet.example.com:8443' : `${location.hostname}:8443`, hint: 'host:port of the agent listener, as the hosts reach it (a name in the server certificate).' }, 'en');
  const command = h('code', { class: 'command' });
  const sayCommand = () => {
    command.textContent = `pomona agent-kit --data-dir <data dir> --out ./agent-kit --server-address ${address.value || '<host:port>'}`;
  };
  address.input.addEventListener('input', sayCommand);
  sayCommand();

  replace(
    ctx.main,
    h(
      'div',
      { class: 'page' },
      header.el,
      h('p', { class: 'muted lede' }, 'A host enrolls with any active secret. Several can be active at once, so rotating needs no downtime: add the new one, roll it out, revoke the old one. Hosts already enrolled keep working when a secret is revoked.'),
      banner,
      news,
      h('div', { class: 'section' }, h('h2', {}, 'Enroll secrets'), tableSlot),
      h(
        'div',
        { class: 'section' },
        h('h2', {}, 'Agent kit'),
        h('p', {}, 'The kit holds the flagfile, the CA certificate, an enroll secret, a launchd plist and INSTALL.txt. Build it on the server:'),
        address.el,
        h('pre', { class: 'mono command-box' }, command),
        h('p', { class: 'muted small' }, 'The CA fingerprint to compare on a host: ', h('code', {}, 'openssl x509 -noout -fingerprint -sha256 -in <data dir>/tls/ca.pem'), '. The API serves neither the kit nor the fingerprint yet, so neither can be downloaded from this page.'),
      ),
    ),
  );

  async function load() {
    try {
      const answer = await ctx.api.get('/spec/enroll_secret', {}, { signal: ctx.signal });
      if (!ctx.active) return;
      secrets = answer.spec?.secrets ?? [];
      replace(banner);
      draw();
      header.loaded();
    } catch (error) {
      if (error?.name === 'AbortError' || !ctx.active) return;
      header.failed();
      if (error instanceof ApiError && error.status === 403) {
        replace(banner, h('div', { class: 'banner info' }, 'Enroll secrets admit hosts: only maintainers may see them and only admins change them.'));
        replace(tableSlot);
      } else replace(banner, errorBanner(error));
    }
  }

  function draw() {
    replace(
      tableSlot,
      renderTable({
        columns: [
          {
            key: 'secret', label: 'Secret', className: 'secret-col',
            render: (s) => h('span', { class: 'secret' }, revealed.has(s.secret) ? s.secret : maskSecret(s.secret)),
          },
          { key: 'created_at', label: 'Created', render: (s) => h('span', { title: s.created_at }, ago(s.created_at)) },
          {
            key: 'actions', label: 'Actions',
            render: (s) => h('div', { class: 'row-actions' },
              h('button', { type: 'button', 'aria-pressed': revealed.has(s.secret) ? 'true' : 'false', onclick: () => { if (revealed.has(s.secret)) revealed.delete(s.secret); else revealed.add(s.secret); draw(); } }, revealed.has(s.secret) ? 'Hide' : 'Show'),
              h('button', { type: 'button', onclick: () => copy(s.secret) }, 'Copy'),
              isAdmin ? h('button', { type: 'button', title: 'Add a new secret and revoke this one, in one change', onclick: () => change({ add: [newSecret(random)], revoke: [s.secret] }, 'Rotated: the new secret is active and the old one revoked') }, 'Rotate') : null,
              isAdmin ? confirmButton('Revoke', () => change({ revoke: [s.secret] }, 'Revoked'), { title: 'Hosts already enrolled keep working; new hosts cannot use it' }) : null),
          },
        ],
        rows: secrets,
        emptyText: 'No active secret: no new host can enroll. Add one.',
        rowKey: (s) => s.created_at,
      }),
    );
  }

  async function copy(secret) {
    try {
      await navigator.clipboard.writeText(secret);
      replace(news, h('div', { class: 'banner info', role: 'status' }, 'Copied to the clipboard.'));
    } catch {
      revealed.add(secret);
      draw();
      replace(news, h('div', { class: 'banner warn', role: 'status' }, 'The browser did not allow copying; the secret is shown instead.'));
    }
  }

  async function change(delta, what) {
    const next = secretsAfter(secrets, delta);
    if (next.error) {
      replace(news, h('div', { class: 'banner error', role: 'alert' }, next.error));
      return;
    }
    try {
      await ctx.api.post('/spec/enroll_secret', { spec: next }, { signal: ctx.signal });
      for (const s of delta.add ?? []) revealed.add(s);
      replace(news, h('div', { class: 'banner info', role: 'status' }, `${what}. `, (delta.add ?? []).length ? 'The new secret is shown below; put it in the agent kit (enroll_secret file).' : ''));
      await load();
    } catch (error) {
      if (error?.name !== 'AbortError') replace(news, errorBanner(error));
    }
  }

  await load();
}
