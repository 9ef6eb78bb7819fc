#!/usr/bin/env node
// Browser test of the admin page in real headless Chromium, against a running Pomona with
// simulated hosts and no user yet. Drives it like a person (setup, sign out and in, dashboard,
// hosts, a host, a live query on every host, session expiry in the middle of typing) and checks
// on every page: no console error, no uncaught exception, no CSP violation, no request to any
// other origin, the session cookie invisible to `document.cookie`, API text inserted as text.
// Screenshots of every page go to --screenshots.
//
//   node Web/tests/browser/run.mjs --origin https://127.0.0.1:9443 --cert <data>/tls/server.pem \
//        --hosts 20 --screenshots Web/screenshots
//
// Exit status 0 when every check passed; otherwise the failed check is printed and it is 1.

import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launch, findChromium } from './cdp.mjs';
import { openPage } from './page.mjs';
import { checkManagementPages } from './manage.mjs';

const { values: opts } = parseArgs({
  options: {
    origin: { type: 'string' },
    cert: { type: 'string' },
    hosts: { type: 'string', default: '0' },
    screenshots: { type: 'string', default: '' },
    email: { type: 'string', default: 'admin@example.com' },
    password: { type: 'string', default: 'browser-test-pass-1!' },
  },
});
if (!opts.origin || !opts.cert) {
  console.error('usage: run.mjs --origin https://127.0.0.1:PORT --cert server.pem [--hosts N] [--screenshots DIR]');
  process.exit(2);
}
const origin = new URL(opts.origin).origin;
const expectedHosts = Number(opts.hosts);
const shots = opts.screenshots;
if (shots) mkdirSync(shots, { recursive: true });

// Trust exactly this server's key, nothing else: Chromium skips certificate errors only for
// certificates whose SPKI hash is listed.
const spki = new X509Certificate(readFileSync(opts.cert)).publicKey.export({ type: 'spki', format: 'der' });
const spkiHash = createHash('sha256').update(spki).digest('base64');

const executable = findChromium();
if (!executable) {
  console.error('chromium not found: apt-get install -y chromium (or set CHROMIUM)');
  process.exit(3);
}

const steps = [];
function ok(what) {
  steps.push(what);
  console.log(`ok ${steps.length} - ${what}`);
}
function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

const hostile = '<img src=x onerror="window.__xss=1">Finance <b>Macs</b>';
const downloads = mkdtempSync(join(tmpdir(), 'pomona-downloads-'));
const browser = await launch({
  executable,
  args: [
    `--ignore-certificate-errors-spki-list=${spkiHash}`,
    '--window-size=1280,900',
    // Belt and braces: any name but the server's resolves to nothing (the origin check below
    // still sees an attempt).
    `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(origin).hostname}`,
  ],
});
let page;
try {
  console.log(`# ${browser.version.product} against ${origin}`);
  page = await openPage(browser, origin);
  await browser.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await page.setViewport(1280, 900);
  const shot = async (name) => {
    if (!shots) return;
    // From the top: a full-page capture keeps the sticky top bar where the page was scrolled to.
    await page.evaluate('window.scrollTo(0, 0); document.fonts.ready.then(() => true)');
    await page.screenshot(join(shots, `${name}.png`));
  };

  // ---- First run: setup
  await page.goto('/');
  await page.waitFor(`document.querySelector('h1')?.textContent === 'Set up Pomona'`, 'the setup form');
  ok('a server without users offers first-run setup');
  await shot('setup');
  page.expectStatus(422, '/api/v1/setup');
  await page.type('#f-name', 'Browser Admin');
  await page.type('#f-email', opts.email);
  await page.type('#f-password', 'short1!');
  await page.click('form.auth button[type=submit]');
  await page.waitFor(`document.querySelector('#f-password-msg')?.textContent.includes('at least 12')`, 'the password error under the password field');
  check(await page.evaluate(`document.activeElement?.id === 'f-password'`), 'focus moves to the field the API named');
  ok('a refused password is shown under its field, with focus on it');
  await shot('setup-error');
  await page.type('#f-password', opts.password);
  await page.click('form.auth button[type=submit]');
  await page.waitFor(`document.querySelector('.tiles') || document.querySelector('.empty-state')`, 'the dashboard after setup');
  ok('setup signs the new admin in and shows the dashboard');

  // ---- The session cookie
  const cookies = await page.evaluate('document.cookie');
  check(!cookies.includes('__Host-pomona_session'), `document.cookie shows the session cookie: ${cookies}`);
  check(cookies.includes('__Host-pomona_csrf='), `the CSRF cookie is readable: ${cookies}`);
  const all = (await page.send('Network.getCookies', { urls: [origin] })).cookies;
  const session = all.find((c) => c.name === '__Host-pomona_session');
  check(session && session.httpOnly && session.secure && session.sameSite === 'Strict', `session cookie flags: ${JSON.stringify(session)}`);
  ok('the session cookie is HttpOnly, Secure, SameSite=Strict and invisible to document.cookie');

  // ---- Hosts to look at: wait for the simulated ones
  if (expectedHosts > 0) {
    await page.waitFor(
      `fetch('/api/latest/fleet/host_summary').then(r => r.json()).then(s => s.online_count >= ${expectedHosts})`,
      `${expectedHosts} online hosts`, 60000);
  }
  // API text with markup, made through the page's own session (CSRF header from the cookie).
  page.expectStatus(403, '/api/latest/fleet/labels');
  const csrfStatus = await page.evaluate(`fetch('/api/latest/fleet/labels', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"name":"no csrf","query":"SELECT 1;"}'}).then(r => r.status)`);
  check(csrfStatus === 403, `a POST without X-Pomona-CSRF answered ${csrfStatus}`);
  ok('a state-changing request without the CSRF header is refused in the browser too');
  const created = await page.evaluate(`(async () => {
    const csrf = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('__Host-pomona_csrf=')).slice('__Host-pomona_csrf='.length));
    const hosts = (await (await fetch('/api/latest/fleet/hosts?per_page=3')).json()).hosts.map(h => h.id);
    const post = (path, body) => fetch('/api/latest/fleet' + path, {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Pomona-CSRF': csrf}, body: JSON.stringify(body)}).then(r => r.status);
    return [await post('/labels', {name: ${JSON.stringify(hostile)}, label_membership_type: 'manual', host_ids: hosts}),
            await post('/global/policies', {name: '<script>window.__xss=2</script>Osquery runs', query: 'SELECT 1 FROM osquery_info;'})];
  })()`);
  check(created.every((s) => s === 200), `creating a label and a policy answered ${created}`);
  ok('with the CSRF header from the cookie, the page can change things');

  // ---- Dashboard
  await page.goto('/');
  await page.waitFor(`document.querySelectorAll('.tile').length >= 5`, 'dashboard tiles');
  const tiles = await page.evaluate(`[...document.querySelectorAll('.tile')].map(t => [t.getAttribute('href'), Number(t.querySelector('.value').textContent.replaceAll(',', ''))])`);
  const summary = await page.evaluate(`fetch('/api/latest/fleet/host_summary').then(r => r.json())`);
  const tile = (href) => tiles.find(([h]) => h === href)?.[1];
  check(tile('/hosts') === summary.totals_hosts_count, `hosts tile ${tile('/hosts')} vs ${summary.totals_hosts_count}`);
  check(Math.abs(tile('/hosts?status=online') - summary.online_count) <= 1, `online tile ${tile('/hosts?status=online')} vs ${summary.online_count}`);
  check(tile('/hosts?status=offline') === summary.offline_count, 'offline tile');
  check(expectedHosts === 0 || summary.totals_hosts_count >= expectedHosts, 'every simulated host is counted');
  ok(`dashboard counts match the API (${summary.totals_hosts_count} hosts, ${summary.online_count} online)`);
  await page.waitFor(`[...document.querySelectorAll('.bar-row .name')].some(n => n.textContent === ${JSON.stringify(hostile)})`, 'the label with markup, as text');
  check(await page.evaluate(`window.__xss === undefined && document.querySelectorAll('main img, main b, main script').length === 0`), 'label or policy markup was run or rendered');
  check(await page.evaluate(`[...document.querySelectorAll('td')].some(td => td.textContent === '<script>window.__xss=2</script>Osquery runs')`), 'the policy name shows as text');
  ok('label and policy names with HTML are shown as text and never run');
  await shot('dashboard');

  // ---- Sign out and in
  page.expectStatus(401, '/api/latest/fleet/me');
  await page.click('.who button');
  await page.waitFor(`document.querySelector('h1')?.textContent === 'Sign in to Pomona'`, 'the login form after signing out');
  check(!(await page.evaluate('document.cookie')).includes('__Host-pomona_csrf'), 'signing out clears the CSRF cookie');
  check(!(await page.send('Network.getCookies', { urls: [origin] })).cookies.some((c) => c.name === '__Host-pomona_session'), 'signing out clears the session cookie');
  ok('signing out ends the session and clears both cookies');
  page.expectStatus(401, '/api/latest/fleet/login');
  await page.type('#f-email', opts.email);
  await page.type('#f-password', 'wrong-password-9!');
  await page.click('form.auth button[type=submit]');
  await page.waitFor(`document.querySelector('.banner.error')?.textContent.includes('Authentication failed')`, 'the failed-login banner');
  ok('a wrong password is refused with a clear message');
  await shot('login');
  await page.type('#f-password', opts.password);
  await page.click('form.auth button[type=submit]');
  await page.waitFor(`document.querySelectorAll('.tile').length >= 5`, 'the dashboard after signing in');
  ok('signing in shows the dashboard');

  // ---- Hosts: filter, sort, page, deep link
  await page.click('nav.nav a[href="/hosts"]');
  await page.waitFor(`location.pathname === '/hosts' && document.querySelectorAll('table.grid tbody tr:not(.empty)').length > 0`, 'the hosts table');
  const rows = await page.evaluate(`document.querySelectorAll('table.grid tbody tr').length`);
  check(rows === Math.min(100, summary.totals_hosts_count), `the first page shows ${rows} rows`);
  await page.evaluate(`[...document.querySelectorAll('th button.sort')].find(b => b.textContent.startsWith('Last seen')).click()`);
  await page.waitFor(`location.search.includes('order_key=seen_time')`, 'the sort in the URL');
  await page.evaluate(`(() => { const s = document.querySelector('#hf-status'); s.value = 'online'; s.dispatchEvent(new Event('change')); })()`);
  await page.waitFor(`location.search.includes('status=online') && document.querySelector('.table-tools .muted')?.textContent.includes('match')`, 'the status filter applied');
  await page.waitFor(`document.querySelector('#hf-status')?.value === 'online' && document.querySelectorAll('table.grid tbody tr .status-online').length === document.querySelectorAll('table.grid tbody tr').length`, 'only online hosts listed');
  const search = await page.evaluate('location.search');
  await page.reload();
  await page.waitFor(`location.search === ${JSON.stringify(search)} && document.querySelector('#hf-status')?.value === 'online' && document.querySelector('th[aria-sort="ascending"]')?.textContent.startsWith('Last seen')`, 'filters and sort back after a reload');
  ok(`hosts: sort and filter go into the URL (${search}) and survive a reload`);
  await page.evaluate(`(() => { const s = document.querySelector('#hf-per-page'); s.value = '50'; s.dispatchEvent(new Event('change')); })()`);
  await page.waitFor(`location.search.includes('per_page=50') && document.querySelectorAll('table.grid tbody tr').length <= 50`, 'fifty per page');
  if (summary.online_count > 50) {
    await page.click('.pager button[aria-label="Next page"]');
    await page.waitFor(`location.search.includes('page=1') && document.querySelector('.pager-label')?.textContent.startsWith('51–')`, 'the second page');
    ok('hosts: paging moves through the server-side pages');
  }
  await page.goto('/hosts');
  await page.waitFor(`document.querySelectorAll('table.grid tbody tr:not(.empty)').length > 0`, 'the hosts table');
  await shot('hosts');
  await page.goto('/hosts?query=no-such-host-anywhere');
  await page.waitFor(`document.querySelector('tr.empty td')?.textContent === 'No host matches these filters.'`, 'the empty state');
  ok('a filter that matches nothing says so');

  // ---- One host
  await page.goto('/hosts');
  await page.waitFor(`document.querySelector('table.grid tbody a')`, 'a host link');
  const hostHref = await page.evaluate(`document.querySelector('table.grid tbody a').getAttribute('href')`);
  await page.click('table.grid tbody a');
  await page.waitFor(`location.pathname === ${JSON.stringify(hostHref)} && document.querySelector('#h-vitals')`, 'the host page');
  await page.waitFor(`document.querySelector('#h-software')`, 'the software section');
  ok(`a host opens from the list (${hostHref})`);
  await shot('host');
  await page.reload();
  await page.waitFor(`document.querySelector('#h-vitals')`, 'the host page after a reload');
  ok('a host deep link survives a reload');

  // ---- Live query on every host
  await page.goto('/live?all=1');
  await page.waitFor(`document.querySelector('#lq-all')?.checked && document.querySelector('#f-query')`, 'the live query console');
  await shot('live-empty');
  await page.type('#f-query', '');
  await page.click('.actions button.primary');
  await page.waitFor(`document.querySelector('#f-query-msg')?.textContent === 'Write a query first.'`, 'the empty-query error');
  ok('running an empty query is stopped before it reaches the server');
  await page.type('#f-query', 'SELECT version, build_platform FROM osquery_info;');
  await page.press('Enter', { code: 'Enter', modifiers: 2, windowsVirtualKeyCode: 13 });
  await page.waitFor(`location.pathname.startsWith('/live/campaigns/')`, 'the campaign to start');
  await page.waitFor(`document.querySelector('.progress .big')?.textContent === '100% responded' || (${expectedHosts} === 0 && document.querySelector('.progress'))`, 'every online host to answer', 60000);
  const responded = await page.evaluate(`document.querySelector('.breakdown')?.textContent`);
  const resultRows = await page.evaluate(`document.querySelectorAll('table.grid tbody tr:not(.empty)').length`);
  check(expectedHosts === 0 || resultRows >= Math.min(expectedHosts, 100), `only ${resultRows} result rows`);
  check(await page.evaluate(`[...document.querySelectorAll('th')].some(th => th.textContent.startsWith('version'))`), 'a column per result field');
  ok(`a live query on all hosts streams rows in: ${responded}`);
  await page.click('.table-tools button:nth-of-type(3)');
  const csv = await (async () => {
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      const files = readdirSync(downloads).filter((f) => f.endsWith('.csv'));
      if (files.length) return readFileSync(join(downloads, files[0]), 'utf8');
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  })();
  // (The simulator answers every osquery_info column whatever the SELECT names.)
  check(csv && csv.startsWith('host,host_id,') && csv.split('\r\n')[0].split(',').includes('version'), `the CSV export: ${csv?.slice(0, 80)}`);
  check(csv.trim().split('\r\n').length - 1 === (await page.evaluate(`Number(document.querySelector('.breakdown span:last-child b').textContent.replaceAll(',', ''))`)), 'the CSV has every row');
  ok('the rows export as CSV');
  await page.waitFor(`document.querySelector('#lq-progress-title .count')?.textContent.startsWith('Finished')`, 'the campaign to finish', 30000);
  await shot('live');
  const campaignPath = await page.evaluate('location.pathname');
  await page.reload();
  await page.waitFor(`document.querySelector('#f-query')?.value.startsWith('SELECT version') && document.querySelectorAll('table.grid tbody tr:not(.empty)').length > 0`, 'the reopened campaign');
  ok(`a campaign link (${campaignPath}) reopens with its results`);

  // ---- Session expiry while typing
  await page.goto('/live?all=1');
  await page.waitFor(`document.querySelector('#lq-all')?.checked`, 'the console');
  const draft = "SELECT name, path FROM processes WHERE name = 'sshd';";
  await page.type('#f-query', draft);
  await page.evaluate(`(async () => {
    const csrf = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('__Host-pomona_csrf=')).slice(19));
    await fetch('/api/latest/fleet/logout', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Pomona-CSRF': csrf}, body: '{}'});
  })()`);
  page.expectStatus(401, '/api/latest/fleet/queries/run');
  await page.click('.actions button.primary');
  await page.waitFor(`!document.querySelector('#overlay').hidden && document.querySelector('#overlay h1')?.textContent === 'Sign in to Pomona'`, 'the login dialog over the console');
  await shot('session-expired');
  await page.type('#overlay #f-email', opts.email);
  await page.type('#overlay #f-password', opts.password);
  await page.click('#overlay button[type=submit]');
  await page.waitFor(`document.querySelector('#overlay').hidden && location.pathname.startsWith('/live/campaigns/')`, 'the query to run after signing in again');
  check((await page.evaluate(`document.querySelector('#f-query').value`)) === draft, 'the SQL typed before the session ended is still there');
  ok('an ended session brings back the login over the page; the SQL typed stays and the query runs after signing in');

  // ---- 400 px wide
  await page.setViewport(400, 800);
  for (const [path, ready, name] of [
    ['/', `document.querySelectorAll('.tile').length >= 5`, 'dashboard-narrow'],
    ['/hosts', `document.querySelectorAll('table.grid tbody tr:not(.empty)').length > 0`, 'hosts-narrow'],
    [hostHref, `document.querySelector('#h-vitals')`, 'host-narrow'],
    [campaignPath, `document.querySelectorAll('table.grid tbody tr:not(.empty)').length > 0`, 'live-narrow'],
  ]) {
    await page.goto(path);
    await page.waitFor(ready, `${path} at 400 px`);
    const width = await page.evaluate('document.documentElement.scrollWidth');
    check(width <= 400, `${path} is ${width} px wide at a 400 px window (only tables may scroll, inside their box)`);
    await shot(name);
  }
  ok('every page fits a 400 px window');
  await page.setViewport(1280, 900);

  // ---- Keyboard: every control on the hosts page is reachable with Tab
  await page.goto('/hosts');
  await page.waitFor(`document.querySelectorAll('table.grid tbody tr:not(.empty)').length > 0`, 'the hosts table');
  const reached = new Set();
  for (let i = 0; i < 80; i++) {
    await page.press('Tab', { code: 'Tab', windowsVirtualKeyCode: 9 });
    reached.add(await page.evaluate(`(() => { const a = document.activeElement; return a ? (a.id || a.getAttribute('aria-label') || a.textContent.trim().slice(0, 30)) : ''; })()`));
  }
  for (const needed of ['hf-query', 'hf-status', 'hf-platform', 'hf-label', 'Sign out']) check(reached.has(needed), `Tab never reached ${needed}: ${[...reached].join(' | ')}`);
  check([...reached].some((r) => r.startsWith('Last seen')), 'Tab reaches the sort buttons');
  ok('the filters, sort buttons and menu are reachable with Tab');
  check(await page.evaluate(`[...document.querySelectorAll('input, select, textarea')].every(el => el.labels?.length > 0 || el.getAttribute('aria-label'))`), 'every form field has a label');
  ok('every form field is labelled');

  // ---- Queries, packs, policies, labels, software, carves, enrollment, settings
  await checkManagementPages({ page, ok, check, shot, email: opts.email, password: opts.password });

  // ---- What every page did
  const foreign = page.requests.filter((url) => !url.startsWith(origin + '/') && !url.startsWith('data:') && !url.startsWith('blob:' + origin));
  check(foreign.length === 0, `requests left the origin: ${foreign.join(', ')}`);
  ok(`no request left ${origin} (${page.requests.length} requests)`);
  check(page.problems.length === 0, `console errors, exceptions or refused requests:\n  ${page.problems.join('\n  ')}`);
  ok('no console error, uncaught exception, CSP violation or unexpected HTTP error on any page');
  console.log(`# all ${steps.length} checks passed`);
} catch (error) {
  console.log(`not ok - ${error.message}`);
  if (page?.problems.length) console.log(`# problems seen so far:\n#   ${page.problems.join('\n#   ')}`);
  if (shots && page) await page.screenshot(join(shots, 'failure.png')).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
  rmSync(downloads, { recursive: true, force: true });
}
