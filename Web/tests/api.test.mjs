import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApi, readCookie, withQuery, ApiError, CSRF_HEADER } from '../assets/js/api.js';

function fakeFetch(answers) {
  const calls = [];
  const fn = async (url, init) => {
    calls.push({ url, init });
    const next = answers.shift();
    return new Response(JSON.stringify(next.body ?? {}), { status: next.status ?? 200, headers: next.headers ?? {} });
  };
  fn.calls = calls;
  return fn;
}

test('readCookie finds a cookie among others and decodes it', () => {
  assert.equal(readCookie('a=1; __Host-pomona_csrf=abc%3D; b=2', '__Host-pomona_csrf'), 'abc=');
  assert.equal(readCookie('', 'x'), '');
  assert.equal(readCookie('xa=1', 'a'), '');
});

test('withQuery drops empty values and encodes the rest', () => {
  assert.equal(withQuery('/hosts', { page: 0, status: 'online', query: '', label_id: null, q: 'a&b' }), '/hosts?page=0&status=online&q=a%26b');
  assert.equal(withQuery('/hosts', {}), '/hosts');
});

test('state-changing requests carry the CSRF header from the cookie; reads do not', async () => {
  const fetchImpl = fakeFetch([{ body: { hosts: [] } }, { body: {} }, { body: {} }]);
  const api = createApi({ fetchImpl, cookies: () => '__Host-pomona_csrf=tok123' });
  await api.get('/hosts', { page: 1 });
  await api.post('/hosts/1/refetch');
  await api.del('/queries/run/4');
  const [get, post, del] = fetchImpl.calls;
  assert.equal(get.url, '/api/latest/fleet/hosts?page=1');
  assert.equal(get.init.headers[CSRF_HEADER], undefined);
  assert.equal(get.init.credentials, 'same-origin');
  assert.equal(post.init.headers[CSRF_HEADER], 'tok123');
  assert.equal(post.init.headers['Content-Type'], 'application/json');
  assert.equal(post.init.body, '{}');
  assert.equal(del.init.method, 'DELETE');
  assert.equal(del.init.headers[CSRF_HEADER], 'tok123');
});

test('errors keep the fields they name', async () => {
  const api = createApi({
    fetchImpl: fakeFetch([{ status: 422, body: { message: 'Validation Failed', errors: [{ name: 'email', reason: 'is required' }] } }]),
    cookies: () => '',
  });
  await assert.rejects(api.post('/users/admin', {}), (e) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 422);
    assert.equal(e.field('email'), 'is required');
    assert.equal(e.describe(), 'email: is required');
    assert.deepEqual(e.general(['email']), []);
    return true;
  });
});

test('a 401 brings back the login and retries once', async () => {
  const fetchImpl = fakeFetch([{ status: 401, body: { message: 'Authentication required', errors: [] } }, { body: { ok: 1 } }]);
  let asked = 0;
  const api = createApi({ fetchImpl, cookies: () => '', onUnauthenticated: async () => void asked++ });
  assert.deepEqual(await api.get('/me2'), { ok: 1 });
  assert.equal(asked, 1);
  assert.equal(fetchImpl.calls.length, 2);
});

test('login and setup ask for a cookie session (the token never reaches page scripts)', async () => {
  const fetchImpl = fakeFetch([{ body: { user: {} } }, { body: { admin: {} } }]);
  const api = createApi({ fetchImpl, cookies: () => '' });
  await api.login('a@example.com', 'pw');
  await api.setup({ name: 'A', email: 'a@example.com', password: 'pw' });
  assert.equal(fetchImpl.calls[0].url, '/api/latest/fleet/login');
  assert.equal(fetchImpl.calls[0].init.headers['X-Pomona-Session'], 'cookie');
  assert.equal(fetchImpl.calls[1].url, '/api/v1/setup');
  assert.equal(fetchImpl.calls[1].init.headers['X-Pomona-Session'], 'cookie');
  assert.deepEqual(JSON.parse(fetchImpl.calls[1].init.body), { admin: { name: 'A', email: 'a@example.com', password: 'pw' } });
});

test('login failures are not retried (that would loop on a wrong password)', async () => {
  let asked = 0;
  const api = createApi({
    fetchImpl: fakeFetch([{ status: 401, body: { message: 'Authentication failed', errors: [{ name: 'base', reason: 'Authentication failed' }] } }]),
    cookies: () => '',
    onUnauthenticated: async () => void asked++,
  });
  await assert.rejects(api.login('a@example.com', 'x'), (e) => e.status === 401);
  assert.equal(asked, 0);
});

test('a server that cannot be reached is an ApiError with status 0', async () => {
  const api = createApi({ fetchImpl: async () => { throw new TypeError('Failed to fetch'); }, cookies: () => '' });
  await assert.rejects(api.get('/hosts'), (e) => e instanceof ApiError && e.status === 0);
});

test('Retry-After is kept for 429', async () => {
  const api = createApi({
    fetchImpl: fakeFetch([{ status: 429, headers: { 'Retry-After': '17' }, body: { message: 'Too many requests', errors: [] } }]),
    cookies: () => '',
  });
  await assert.rejects(api.login('a@example.com', 'x'), (e) => e.retryAfter === 17);
});
