import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextSort, sortRows, pageWindow, pageLabel, compareValues } from '../assets/js/table.js';

test('a new column sorts ascending; the same column flips', () => {
  assert.deepEqual(nextSort(null, 'name'), { key: 'name', direction: 'asc' });
  assert.deepEqual(nextSort({ key: 'name', direction: 'asc' }, 'name'), { key: 'name', direction: 'desc' });
  assert.deepEqual(nextSort({ key: 'name', direction: 'desc' }, 'name'), { key: 'name', direction: 'asc' });
  assert.deepEqual(nextSort({ key: 'name', direction: 'desc' }, 'pid'), { key: 'pid', direction: 'asc' });
});

test('numbers (also as osquery text) sort numerically, text naturally, missing values last', () => {
  const rows = [{ v: '10' }, { v: '9' }, { v: null }, { v: '100' }, { v: '' }, { v: '-1' }];
  assert.deepEqual(sortRows(rows, { key: 'v', direction: 'asc' }).map((r) => r.v), ['-1', '9', '10', '100', null, '']);
  assert.deepEqual(sortRows(rows, { key: 'v', direction: 'desc' }).map((r) => r.v), ['100', '10', '9', '-1', null, '']);
  assert.ok(compareValues('host2', 'host10') < 0);
  assert.ok(compareValues('Alpha', 'beta') < 0);
});

test('sorting is stable and does not change the input', () => {
  const rows = [{ k: 1, i: 'a' }, { k: 0, i: 'b' }, { k: 1, i: 'c' }, { k: 0, i: 'd' }];
  const sorted = sortRows(rows, { key: 'k', direction: 'asc' });
  assert.deepEqual(sorted.map((r) => r.i), ['b', 'd', 'a', 'c']);
  assert.deepEqual(sortRows(rows, { key: 'k', direction: 'desc' }).map((r) => r.i), ['a', 'c', 'b', 'd']);
  assert.deepEqual(rows.map((r) => r.i), ['a', 'b', 'c', 'd']);
  assert.deepEqual(sortRows(rows, null).map((r) => r.i), ['a', 'b', 'c', 'd']);
});

test('page windows clamp into range', () => {
  assert.deepEqual(pageWindow(250, 0, 100), { page: 0, pages: 3, start: 0, end: 100, hasPrevious: false, hasNext: true });
  assert.deepEqual(pageWindow(250, 2, 100), { page: 2, pages: 3, start: 200, end: 250, hasPrevious: true, hasNext: false });
  assert.equal(pageWindow(250, 9, 100).page, 2);
  assert.equal(pageWindow(250, -1, 100).page, 0);
  assert.deepEqual(pageWindow(0, 3, 100), { page: 0, pages: 1, start: 0, end: 0, hasPrevious: false, hasNext: false });
});

test('page labels give the range and the total when known', () => {
  assert.equal(pageLabel({ page: 1, perPage: 100, shown: 100, total: 1234 }), '101–200 of 1,234');
  assert.equal(pageLabel({ page: 0, perPage: 50, shown: 7, total: null }), '1–7');
  assert.equal(pageLabel({ page: 0, perPage: 50, shown: 0, total: 0 }), 'none');
});
