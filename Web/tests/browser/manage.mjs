// The management pages in the browser test: queries and schedule, packs, policies, labels,
// software, carves, enrollment and settings. Each is driven as a person would (create with a
// mistake, read the error under the field, fix it), with its empty state, and checked at 400 px,
// with every field labelled. `run.mjs` calls this after signing in; its own checks (no console
// error, no CSP violation, no request off the origin) cover these pages too.

/**
 * @param {{page: any, ok: (what: string) => void, check: (cond: any, what: string) => void, shot: (name: string) => Promise<void>}} t
 */
export async function checkManagementPages({ page, ok, check, shot, email, password }) {
  const rows = `document.querySelectorAll('table.grid tbody tr:not(.empty)').length`;
  const labelled = `[...document.querySelectorAll('main input, main select, main textarea')].every(el => el.labels?.length > 0 || el.getAttribute('aria-label'))`;
  const api = (path) => page.evaluate(`fetch('/api/latest/fleet${path}').then(r => r.json())`);

  // ---- Queries and schedule
  await page.goto('/queries');
  await page.waitFor(`${rows} >= 12`, 'the baseline queries');
  check(await page.evaluate(`[...document.querySelectorAll('table.grid tbody td')].some(td => td.textContent === 'every 1 d')`), 'schedule shown as an interval people read');
  check(await page.evaluate(labelled), 'queries: every field labelled');
  const volumes = (await page.evaluate(`fetch('/api/v1/pomona/pipeline/stats').then(r => r.json())`)).queries ?? [];
  const logged = volumes.find((v) => v.name.startsWith('pack/Global/') && v.events > 0);
  if (logged) {
    const name = logged.name.slice('pack/Global/'.length);
    await page.reload();
    await page.waitFor(`[...document.querySelectorAll('table.grid tbody tr')].some(tr => tr.querySelector('a')?.textContent === ${JSON.stringify(name)} && /^[\\d,]+ · /.test(tr.children[4].textContent))`, `the SIEM volume of ${name}`);
    ok(`queries: each scheduled query shows what it sends to the SIEM (${name}: ${logged.events} events today)`);
  }
  ok('queries: the list shows the installed baseline with its schedule');
  await shot('queries');
  await page.click('.page-head button.primary');
  await page.waitFor(`location.pathname === '/queries/new' && document.querySelector('#qe-name')`, 'the new-query form');
  await page.type('#qe-name', 'web2 running shells');
  await page.type('#qe-query', 'SELECT pid, name FROM no_such_table;');
  await page.type('#qe-interval', 'soon');
  await page.click('#qe button[type=submit]');
  await page.waitFor(`document.querySelector('#qe-interval-msg')?.textContent.includes('write seconds')`, 'the interval error (checked before sending)');
  check(await page.evaluate(`document.activeElement?.id === 'qe-interval'`), 'focus on the bad interval');
  await page.type('#qe-interval', '15m');
  page.expectStatus(422, '/api/latest/fleet/queries');
  await page.click('#qe button[type=submit]');
  await page.waitFor(`document.querySelector('#qe-query-msg')?.textContent.includes('no_such_table')`, 'the server’s SQL error under the SQL field');
  check(await page.evaluate(`document.activeElement?.id === 'qe-query'`), 'focus moves to the SQL the server refused');
  ok('queries: a bad interval is caught before sending, bad SQL is shown under the SQL field');
  await shot('query-error');
  await page.type('#qe-query', "SELECT pid, name FROM processes WHERE name IN ('bash', 'zsh');");
  await page.click('#qe button[type=submit]');
  await page.waitFor(`/^\\/queries\\/\\d+$/.test(location.pathname) && location.search.includes('saved=1')`, 'the saved query');
  const queryID = Number(await page.evaluate(`location.pathname.split('/')[2]`));
  const saved = (await api(`/queries/${queryID}`)).query;
  check(saved.interval === 900 && saved.automations_enabled && saved.logging === 'snapshot', `the query was saved as typed: ${JSON.stringify(saved)}`);
  await page.waitFor(`[...document.querySelectorAll('table.grid tbody tr')].some(tr => tr.dataset.key === '${queryID}' && tr.textContent.includes('every 15 min'))`, 'the new query in the list');
  ok(`queries: fixed and saved (query ${queryID}, every 15 min)`);
  await page.goto(`/queries/${queryID}`);
  await page.waitFor(`document.querySelector('#qe-interval')?.value === '900'`, 'the query in the editor');
  await page.type('#qe-interval', '2h');
  await page.waitFor(`document.querySelector('#qe-interval-msg')?.textContent === '= 2 h'`, 'the interval said back');
  await page.evaluate(`(() => { const s = document.querySelector('#qe-logging'); s.value = 'differential'; })()`);
  await page.click('#qe button[type=submit]');
  await page.waitFor(`location.search.includes('saved=1') && document.querySelector('#qe-interval')?.value === '7200'`, 'the edited query');
  const edited = (await api(`/queries/${queryID}`)).query;
  check(edited.interval === 7200 && edited.logging === 'differential' && edited.query === saved.query, `the edit: ${JSON.stringify(edited)}`);
  ok('queries: an edit changes the interval (said back as "2 h") and the logging type');
  await page.evaluate(`[...document.querySelectorAll('table.grid tbody tr')].find(tr => tr.dataset.key === '${queryID}').querySelector('button').click()`);
  await page.waitFor(`location.pathname === '/live' && document.querySelector('#f-query')?.value === ${JSON.stringify(saved.query)}`, 'the live console with the query');
  ok('queries: “Run live” opens the console with the query’s SQL');

  // ---- Packs
  await page.goto('/packs');
  await page.waitFor(`document.querySelector('tr.empty td')?.textContent.startsWith('No packs')`, 'the packs empty state');
  ok('packs: an empty list says how to get packs');
  await page.click('.page-head button.primary');
  await page.waitFor(`document.querySelector('#pe-name')`, 'the new-pack form');
  await page.type('#pe-name', 'web2 incident response');
  await page.type('#pe-host_ids', '1, two');
  await page.click('#pe button[type=submit]');
  await page.waitFor(`document.querySelector('#pe-host_ids-msg')?.textContent.includes('write host ids')`, 'the host-id error');
  await page.type('#pe-host_ids', '');
  await page.evaluate(`document.querySelector('#pe .targets-box input').click()`);
  await page.click('#pe button[type=submit]');
  await page.waitFor(`/^\\/packs\\/\\d+$/.test(location.pathname) && document.querySelector('.empty-state')`, 'the pack page');
  const packID = Number(await page.evaluate(`location.pathname.split('/')[2]`));
  check((await api(`/packs/${packID}`)).pack.label_ids.length === 1, 'the pack targets the chosen label');
  await page.evaluate(`[...document.querySelectorAll('button')].find(b => b.textContent === 'Add a query').click()`);
  await page.waitFor(`document.querySelector('#se-query_id')`, 'the add-query form');
  await page.evaluate(`(() => { const s = document.querySelector('#se-query_id'); s.value = '${queryID}'; })()`);
  await page.type('#se-interval', '1h');
  await page.type('#se-shard', '150');
  await page.click('#se button[type=submit]');
  await page.waitFor(`document.querySelector('#se-shard-msg')?.textContent.includes('0 to 100')`, 'the shard error');
  await page.type('#se-shard', '10');
  await page.type('#se-min_osquery_version', 'five');
  page.expectStatus(422, '/api/latest/fleet/packs/schedule');
  await page.click('#se button[type=submit]');
  await page.waitFor(`document.querySelector('#se-min_osquery_version-msg')?.textContent.includes('version like')`, 'the server’s version error under the field (API name "version")');
  await page.type('#se-min_osquery_version', '5.2.0');
  await page.click('#se button[type=submit]');
  await page.waitFor(`[...document.querySelectorAll('table.grid tbody tr')].some(tr => tr.textContent.includes('10%') && tr.textContent.includes('1 h'))`, 'the scheduled query in the pack');
  const scheduled = (await api(`/packs/${packID}/scheduled`)).scheduled;
  check(scheduled.length === 1 && scheduled[0].shard === 10 && scheduled[0].interval === 3600 && scheduled[0].version === '5.2.0', `pack schedule: ${JSON.stringify(scheduled)}`);
  ok('packs: create a targeted pack and schedule a query in it with shard and minimum version; errors land under their fields');
  await shot('pack');

  // ---- Policies
  await page.goto('/policies/new');
  await page.waitFor(`document.querySelector('#pol-name')`, 'the new-policy form');
  await page.type('#pol-name', 'osquery is current');
  page.expectStatus(422, '/api/latest/fleet/global/policies');
  await page.click('#pol button[type=submit]');
  await page.waitFor(`document.querySelector('#pol-query-msg')?.textContent.includes('must not be empty')`, 'the empty-SQL error');
  await page.type('#pol-query', "SELECT 1 FROM osquery_info WHERE version >= '5';");
  await page.click('#pol button[type=submit]');
  await page.waitFor(`location.pathname === '/policies' && [...document.querySelectorAll('td a')].some(a => a.textContent === 'osquery is current')`, 'the policy in the list');
  check(await page.evaluate(`[...document.querySelectorAll('th')].some(th => th.textContent === 'Failing')`), 'pass and fail columns');
  ok('policies: create (an empty query is refused under its field) and list with pass/fail counts');
  await shot('policies');

  // ---- Labels: a manual label, add and remove a host
  const hosts = (await api('/hosts?per_page=3&order_key=hostname')).hosts;
  await page.goto('/labels');
  await page.waitFor(`[...document.querySelectorAll('td .tag')].some(t => t.textContent === 'built-in')`, 'the built-in labels');
  await shot('labels');
  await page.click('.page-head button.primary');
  await page.waitFor(`document.querySelector('#le-name')`, 'the new-label form');
  await page.evaluate(`(() => { const s = document.querySelector('#le-label_membership_type'); s.value = 'manual'; s.dispatchEvent(new Event('change')); })()`);
  check(await page.evaluate(`document.querySelector('#le-query').closest('.field').hidden && !document.querySelector('#le-hosts').closest('.field').hidden`), 'a manual label asks for hosts, not SQL');
  await page.type('#le-name', 'web2 quarantine');
  const members = `document.querySelectorAll('#label-members tbody tr:not(.empty)').length`;
  if (hosts.length >= 2) {
    page.expectStatus(422, '/api/latest/fleet/labels');
    await page.type('#le-hosts', 'no-such-host-anywhere');
    await page.click('#le button[type=submit]');
    await page.waitFor(`document.querySelector('#le-hosts-msg')?.textContent.includes('no-such-host-anywhere')`, 'the unknown-host error under the hosts field');
    await page.type('#le-hosts', hosts[0].hostname);
    await page.click('#le button[type=submit]');
    await page.waitFor(`/^\\/labels\\/\\d+$/.test(location.pathname) && ${members} === 1`, 'the label with its one member');
    await page.type('#lm-host', hosts[1].hostname);
    await page.click('form.inline-add button[type=submit]');
    await page.waitFor(`${members} === 2`, 'the added host');
    await page.evaluate(`[...document.querySelectorAll('#label-members tbody tr')].find(tr => tr.textContent.includes(${JSON.stringify(hosts[0].hostname)})).querySelector('button').click()`);
    await page.evaluate(`[...document.querySelectorAll('#label-members tbody tr')].find(tr => tr.textContent.includes(${JSON.stringify(hosts[0].hostname)})).querySelector('button').click()`);
    await page.waitFor(`${members} === 1 && document.querySelector('#label-members tbody tr').textContent.includes(${JSON.stringify(hosts[1].hostname)})`, 'the host removed');
    const labelID = await page.evaluate(`location.pathname.split('/')[2]`);
    const ids = (await api(`/labels/${labelID}/hosts`)).hosts.map((x) => x.id);
    check(ids.length === 1 && ids[0] === hosts[1].id, `label members after add and remove: ${ids}`);
    ok('labels: a manual label gains a host by name and loses one (two presses to remove)');
    await shot('label');
  }

  // ---- Software, carves
  await page.goto('/software');
  await page.waitFor(`document.querySelector('table.grid') && document.querySelector('.freshness')?.textContent.startsWith('updated')`, 'the software page');
  await shot('software');
  await page.goto('/software?query=no-such-software-anywhere');
  await page.waitFor(`document.querySelector('tr.empty td')?.textContent === 'No software matches.'`, 'the software empty state');
  ok('software: the inventory loads, and a search that matches nothing says so');
  await page.goto('/carves');
  await page.waitFor(`document.querySelector('tr.empty td')?.textContent.startsWith('No carves yet')`, 'the carves empty state');
  ok('carves: an empty list says how to start a carve');
  await shot('carves');

  // ---- Enrollment: rotate the secret
  const before = (await api('/spec/enroll_secret')).spec.secrets.map((s) => s.secret);
  await page.goto('/enrollment');
  await page.waitFor(`${rows} === ${before.length}`, 'the enroll secrets');
  check(!(await page.evaluate(`document.querySelector('main').textContent.includes(${JSON.stringify(before[0])})`)), 'secrets are masked until shown');
  if (before.length === 1) {
    await page.evaluate(`[...document.querySelectorAll('button')].find(b => b.textContent === 'Revoke').click()`);
    await page.evaluate(`[...document.querySelectorAll('button')].find(b => b.textContent.startsWith('Confirm')).click()`);
    await page.waitFor(`document.querySelector('.banner.error')?.textContent.includes('at least one secret')`, 'the refusal to revoke the last secret');
  }
  await page.evaluate(`[...document.querySelectorAll('button')].find(b => b.textContent === 'Rotate').click()`);
  await page.waitFor(`document.querySelector('.banner.info')?.textContent.startsWith('Rotated')`, 'the rotation');
  const after = (await api('/spec/enroll_secret')).spec.secrets.map((s) => s.secret);
  check(after.length === before.length && !after.includes(before[0]) && after.every((s) => s.length === 43), `secrets after rotating: ${after.length}`);
  check(await page.evaluate(`document.querySelector('main').textContent.includes(${JSON.stringify(after[after.length - 1])})`), 'the new secret is shown once made');
  ok('enrollment: rotating replaces the secret in one change and shows the new one; the last secret cannot be revoked');
  await shot('enrollment');

  // ---- Settings: agent options, users, audit log
  await page.goto('/settings');
  await page.waitFor(`document.querySelector('#ao-agent_options')?.value.includes('distributed_interval')`, 'the agent options');
  await page.type('#ao-agent_options', '{"options": {"distributed_interval": 10,}}');
  await page.evaluate(`[...document.querySelectorAll('button')].find(b => b.textContent === 'Check').click()`);
  await page.waitFor(`document.querySelector('#ao-agent_options-msg')?.textContent.startsWith('not valid JSON')`, 'the JSON error');
  await page.type('#ao-agent_options', '{"options": {"distributed_interval": 10, "logger_tls_period": 10}}');
  await page.evaluate(`[...document.querySelectorAll('button')].find(b => b.textContent === 'Check').click()`);
  await page.waitFor(`document.querySelector('.section [role=status]')?.textContent.includes('accepts')`, 'the server’s check');
  ok('settings: agent options are checked as JSON, then by the server without saving');
  await shot('settings');
  await page.goto('/settings/users');
  await page.waitFor(`${rows} >= 1`, 'the users');
  await page.evaluate(`[...document.querySelectorAll('button')].find(b => b.textContent === 'New user').click()`);
  await page.waitFor(`document.querySelector('#ue-name')`, 'the new-user form');
  await page.type('#ue-name', 'Olive Observer');
  await page.type('#ue-email', 'olive@example.com');
  await page.type('#ue-password', 'short');
  page.expectStatus(422, '/api/latest/fleet/users/admin');
  await page.click('#ue button[type=submit]');
  await page.waitFor(`document.querySelector('#ue-password').closest('.field').classList.contains('invalid') && document.querySelector('#ue-password-msg')?.textContent.includes('at least 12')`, 'the password error under the password field');
  await page.type('#ue-password', 'olive-password-7!');
  await page.click('#ue button[type=submit]');
  await page.waitFor(`[...document.querySelectorAll('td')].some(td => td.textContent === 'olive@example.com')`, 'the new user');
  ok('settings: a user is created (a weak password is refused under its field)');
  await shot('users');
  await page.goto('/settings/audit');
  await page.waitFor(`${rows} > 3`, 'the audit log');
  await page.evaluate(`(() => { const s = document.querySelector('#af-type'); s.value = 'created_saved_query'; s.dispatchEvent(new Event('change')); })()`);
  await page.waitFor(`location.search === '?type=created_saved_query' && ${rows} >= 1 && [...document.querySelectorAll('table.grid tbody tr')].every(tr => tr.children[2].textContent === 'Created saved query')`, 'only that type');
  await page.reload();
  await page.waitFor(`document.querySelector('#af-type')?.value === 'created_saved_query' && ${rows} >= 1`, 'the filter back after a reload');
  ok('settings: the audit log filters by type, in the URL');
  await shot('audit');

  // ---- Your account: a wrong current password is named
  await page.goto('/settings/account');
  await page.waitFor(`document.querySelector('#pw-old_password')`, 'the account page');
  await page.type('#pw-old_password', 'not-my-password-1!');
  await page.type('#pw-new_password', 'another-password-2!');
  await page.type('#pw-new_password_again', 'another-password-3!');
  await page.click('#pw button[type=submit]');
  await page.waitFor(`document.querySelector('#pw-new_password_again-msg')?.textContent === 'does not match the new password'`, 'the mismatch, caught before sending');
  await page.type('#pw-new_password_again', 'another-password-2!');
  page.expectStatus(422, '/api/latest/fleet/change_password');
  await page.click('#pw button[type=submit]');
  await page.waitFor(`document.querySelector('#pw-old_password-msg')?.textContent.includes('does not match the current password')`, 'the wrong current password under its field');
  ok('settings: changing the password names a mismatch and a wrong current password under their fields');

  // ---- Every page at 400 px, and labelled
  await page.setViewport(400, 800);
  for (const [path, name] of [['/queries', 'queries-narrow'], [`/packs/${packID}`, 'pack-narrow'], ['/policies', 'policies-narrow'], ['/labels', null], ['/software', null], ['/carves', null], ['/enrollment', 'enrollment-narrow'], ['/settings', null], ['/settings/users', null], ['/settings/audit', null]]) {
    await page.goto(path);
    await page.waitFor(`document.querySelector('.freshness')?.textContent.startsWith('updated')`, `${path} at 400 px`);
    const width = await page.evaluate('document.documentElement.scrollWidth');
    check(width <= 400, `${path} is ${width} px wide at a 400 px window`);
    check(await page.evaluate(labelled), `${path}: every field labelled`);
    if (name) await shot(name);
  }
  await page.setViewport(1280, 900);
  ok('queries, packs, policies, labels, software, carves, enrollment and settings fit 400 px, every field labelled');

  // ---- Keyboard: the new-query form and its Save reachable with Tab
  await page.goto('/queries/new');
  await page.waitFor(`document.activeElement?.id === 'qe-name'`, 'focus in the new-query form');
  const reached = new Set();
  for (let i = 0; i < 20; i++) {
    await page.press('Tab', { code: 'Tab', windowsVirtualKeyCode: 9 });
    reached.add(await page.evaluate(`document.activeElement?.id || document.activeElement?.textContent.trim()`));
  }
  for (const needed of ['qe-query', 'qe-interval', 'qe-logging', 'qe-min_osquery_version', 'Create query']) check(reached.has(needed), `Tab never reached ${needed}: ${[...reached].join(' | ')}`);
  ok('the query form is reachable with Tab from name to Create');

  // ---- The same pages as an observer: nothing offered that the role cannot do, and the pages
  // that need more say so instead of failing.
  await page.click('.who button');
  await page.waitFor(`document.querySelector('#f-email')`, 'the login form');
  await page.type('#f-email', 'olive@example.com');
  await page.type('#f-password', 'olive-password-7!');
  await page.click('form.auth button[type=submit]');
  await page.waitFor(`document.querySelector('.who-name')?.textContent.includes('observer')`, 'signed in as the observer');
  page.expectStatus(403, '/api/latest/fleet/spec/enroll_secret');
  page.expectStatus(403, '/api/latest/fleet/carves');
  for (const [path, ready] of [
    ['/queries', `${rows} >= 12 && !document.querySelector('.page-head button.primary') && ![...document.querySelectorAll('button')].some(b => b.textContent === 'Delete')`],
    [`/packs/${packID}`, `document.querySelector('.section h2')?.textContent === 'Settings' && ![...document.querySelectorAll('button')].some(b => b.textContent === 'Add a query')`],
    ['/policies', `${rows} >= 1 && !document.querySelector('.page-head button.primary')`],
    ['/enrollment', `document.querySelector('.banner.info')?.textContent.includes('only maintainers')`],
    ['/carves', `document.querySelector('.banner.info')?.textContent.includes('only maintainers and admins')`],
    ['/settings', `document.querySelector('.banner.info')?.textContent.includes('maintainers and admins')`],
    ['/settings/users', `document.querySelector('.banner.info')?.textContent.includes('Only admins')`],
  ]) {
    await page.goto(path);
    await page.waitFor(ready, `${path} as an observer`);
  }
  ok('as an observer: no create, edit or delete offered; secrets, carves, agent options and users say which role they need');
  await shot('observer-enrollment');
  await page.click('.who button');
  await page.waitFor(`document.querySelector('#f-email')`, 'the login form');
  await page.type('#f-email', email);
  await page.type('#f-password', password);
  await page.click('form.auth button[type=submit]');
  await page.waitFor(`document.querySelector('.who-name')?.textContent.includes('admin')`, 'signed in as the admin again');
}
