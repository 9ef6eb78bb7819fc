import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSecret, secretsAfter, maskSecret } from '../assets/js/secrets.js';

const list = (...s) => s.map((secret) => ({ secret, created_at: '2026-12-07T00:00:00Z' }));

test('a new secret is 32 random bytes in base64url', () => {
  let asked = 0;
  const secret = newSecret((n) => {
    asked = n;
    return Uint8Array.from({ length: n }, (_, i) => (i * 37 + 250) % 256);
  });
  assert.equal(asked, 32);
  assert.equal(secret.length, 43);
  assert.match(secret, /^[A-Za-z0-9_-]+$/);
  assert.notEqual(newSecret(() => new Uint8Array(32)), newSecret(() => new Uint8Array(32).fill(1)));
});

test('add, rotate and revoke compute the whole active set', () => {
  assert.deepEqual(secretsAfter(list('a'), { add: ['b'] }), { secrets: [{ secret: 'a' }, { secret: 'b' }] });
  assert.deepEqual(secretsAfter(list('a', 'b'), { add: ['c'], revoke: ['a'] }), { secrets: [{ secret: 'b' }, { secret: 'c' }] });
  assert.deepEqual(secretsAfter(list('a', 'b'), { revoke: ['b'] }), { secrets: [{ secret: 'a' }] });
  assert.deepEqual(secretsAfter(list('a'), { add: ['a'] }), { secrets: [{ secret: 'a' }] });
});

test('the last secret cannot be revoked, nor one that is gone', () => {
  assert.match(secretsAfter(list('a'), { revoke: ['a'] }).error, /at least one secret/);
  assert.match(secretsAfter(list('a', 'b'), { revoke: ['x'] }).error, /no longer active/);
  assert.match(secretsAfter([], {}).error, /at least one/);
});

test('masked secrets show their ends only', () => {
  assert.equal(maskSecret('FDODabIq250hbL63C_kk9H-n1QUahJM-zg5d-o6_wOg'), 'FDOD…wOg');
  assert.equal(maskSecret('short'), '•••••');
});
