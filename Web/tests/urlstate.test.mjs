import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readState, writeState, updateState } from '../assets/js/urlstate.js';

const schema = {
  query: { type: 'string', max: 255 },
  status: { type: 'enum', values: ['online', 'offline', 'missing', 'new'] },
  label_id: { type: 'int', min: 1, default: 0 },
  order_key: { type: 'enum', values: ['hostname', 'seen_time'], default: 'hostname' },
  order_direction: { type: 'enum', values: ['asc', 'desc'], default: 'asc' },
  page: { type: 'int', min: 0, default: 0 },
  hosts: { type: 'ints' },
  live: { type: 'bool' },
};

test('a deep link reads back into typed state', () => {
  const s = readState('?status=online&label_id=7&page=3&order_key=seen_time&order_direction=desc&query=mac%20book&hosts=4,2,4&live=1', schema);
  assert.deepEqual(s, {
    query: 'mac book', status: 'online', label_id: 7, order_key: 'seen_time', order_direction: 'desc', page: 3, hosts: [4, 2], live: true,
  });
});

test('malformed or unknown values fall back to the defaults instead of breaking the page', () => {
  const s = readState('?status=<script>&label_id=abc&page=-2&order_key=drop%20table&hosts=x,0,-1&live=maybe&query=%20%20', schema);
  assert.deepEqual(s, { query: '', status: '', label_id: 0, order_key: 'hostname', order_direction: 'asc', page: 0, hosts: [], live: false });
});

test('long text is cut at its maximum', () => {
  assert.equal(readState('?query=' + 'a'.repeat(300), schema).query.length, 255);
});

test('writing leaves out defaults and keeps the schema order, so one state is one URL', () => {
  const s = { query: 'a&b', status: 'offline', label_id: 0, order_key: 'hostname', order_direction: 'desc', page: 2, hosts: [3, 9], live: false };
  assert.equal(writeState(s, schema), '?query=a%26b&status=offline&order_direction=desc&page=2&hosts=3%2C9');
  assert.equal(writeState(readState('', schema), schema), '');
});

test('state survives a round trip through the URL', () => {
  const s = { query: 'ü ✓ "x"', status: 'new', label_id: 12, order_key: 'seen_time', order_direction: 'asc', page: 1, hosts: [1], live: true };
  assert.deepEqual(readState(writeState(s, schema), schema), s);
});

test('changing a filter goes back to the first page; changing the page keeps the filter', () => {
  const s = { status: 'online', page: 4 };
  assert.deepEqual(updateState(s, { status: 'offline' }), { status: 'offline', page: 0 });
  assert.deepEqual(updateState(s, { page: 5 }), { status: 'online', page: 5 });
  assert.deepEqual(updateState(s, { status: 'online' }), { status: 'online', page: 4 });
});
