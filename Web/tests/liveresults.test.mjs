import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveResults } from '../assets/js/liveresults.js';

const result = (id, rows, error = null) => ({
  event: 'result',
  json: { host_id: id, host: { id, hostname: `h${id}`, display_name: `Host ${id}` }, rows, error },
});

test('results accumulate by host with columns in first-seen order', () => {
  const live = new LiveResults();
  live.apply({ event: 'totals', json: { count: 4, online: 3, responded: 0, responded_online: 0 } });
  live.apply(result(1, [{ name: 'a', pid: '1' }, { name: 'b', pid: '2' }]));
  live.apply(result(2, [{ pid: '3', path: '/x' }]));
  live.apply(result(3, [], 'no such table: x'));
  assert.deepEqual(live.columns, ['name', 'pid', 'path']);
  assert.equal(live.rowCount, 3);
  assert.deepEqual(live.rows().map((r) => r._host), ['Host 1', 'Host 1', 'Host 2']);
  assert.deepEqual(live.errors(), [{ _host: 'Host 3', _host_id: 3, error: 'no such table: x' }]);
  assert.deepEqual(live.breakdown, { targeted: 4, online: 3, responded: 3, withRows: 2, withoutRows: 0, errors: 1, notYet: 1 });
});

test('a replayed result (reconnect) is not counted twice', () => {
  const live = new LiveResults();
  assert.equal(live.apply(result(7, [{ a: 1 }])), true);
  assert.equal(live.apply(result(7, [{ a: 1 }])), false);
  assert.equal(live.rowCount, 1);
  assert.equal(live.breakdown.responded, 1);
});

test('percent responded counts online hosts, floored', () => {
  const live = new LiveResults();
  live.apply({ event: 'totals', json: { count: 10, online: 3, responded: 2, responded_online: 2 } });
  assert.equal(live.percentResponded, 66);
  live.apply({ event: 'done', json: { count: 10, online: 3, responded: 3, responded_online: 3, reason: 'all_responded' } });
  assert.equal(live.percentResponded, 100);
  assert.equal(live.done.reason, 'all_responded');
});

test('hosts without rows and without errors count as "without rows"; a stream error is kept', () => {
  const live = new LiveResults();
  live.apply(result(1, []));
  live.apply({ event: 'error', json: { message: 'fell behind', received: 4096 } });
  assert.equal(live.breakdown.withoutRows, 1);
  assert.equal(live.streamError, 'fell behind');
  assert.equal(live.apply({ event: 'status', json: {} }), false);
  assert.equal(live.apply({ event: 'result', json: null }), false);
});
