import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInterval, describeInterval, runsPerDay, loggingFromFlags, flagsFromLogging, describePlatform, changedFields } from '../assets/js/schedule.js';

test('intervals people write', () => {
  assert.deepEqual(parseInterval('3600'), { seconds: 3600 });
  assert.deepEqual(parseInterval(' 1h '), { seconds: 3600 });
  assert.deepEqual(parseInterval('30m'), { seconds: 1800 });
  assert.deepEqual(parseInterval('15 min'), { seconds: 900 });
  assert.deepEqual(parseInterval('1d'), { seconds: 86400 });
  assert.deepEqual(parseInterval('7d'), { seconds: 604800 });
  assert.deepEqual(parseInterval(''), { seconds: 0 });
  assert.deepEqual(parseInterval(60), { seconds: 60 });
  assert.match(parseInterval('8d').error, /at most 604800/);
  assert.match(parseInterval('soon').error, /write seconds/);
  assert.match(parseInterval('-5').error, /write seconds/);
  assert.match(parseInterval('1.5h').error, /write seconds/);
});

test('intervals said back', () => {
  assert.equal(describeInterval(3600), '1 h');
  assert.equal(describeInterval(5400), '1 h 30 min');
  assert.equal(describeInterval(86400 + 7), '1 d 7 s');
  assert.equal(describeInterval(0), 'not scheduled');
  assert.equal(describeInterval(null), 'not scheduled');
  assert.equal(runsPerDay(3600), 24);
  assert.equal(runsPerDay(0), 0);
});

test('logging words and Fleet flags round-trip', () => {
  for (const word of ['snapshot', 'differential', 'differential_ignore_removals']) {
    assert.equal(loggingFromFlags(flagsFromLogging(word)), word);
  }
  assert.equal(loggingFromFlags({ snapshot: false, removed: true }), 'differential');
  // Fleet's default when `removed` is missing is differential with removals.
  assert.equal(loggingFromFlags({ snapshot: false }), 'differential');
  assert.equal(loggingFromFlags({ snapshot: true, removed: true }), 'snapshot');
});

test('platforms for people', () => {
  assert.equal(describePlatform(''), 'every platform');
  assert.equal(describePlatform('darwin,linux'), 'macOS, Linux');
  assert.equal(describePlatform('ubuntu'), 'ubuntu');
});

test('a PATCH carries only what changed', () => {
  const before = { name: 'a', interval: 60, platform: '', description: null, label_ids: [1, 2] };
  assert.deepEqual(changedFields(before, { name: 'a', interval: 60, platform: '', description: '', label_ids: [1, 2] }), {});
  assert.deepEqual(changedFields(before, { name: 'b', interval: 3600, label_ids: [2] }), { name: 'b', interval: 3600, label_ids: [2] });
  assert.deepEqual(changedFields(null, { name: 'x' }), { name: 'x' });
  assert.deepEqual(changedFields({ on: true }, { on: false }), { on: false });
});
