import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resultName, utcDay, queryVolume } from '../assets/js/volume.js';

const now = Date.parse('2026-12-07T23:30:00Z');
const v = (day, name, events, bytes) => ({ day, name, events, bytes });

test('result names as agents log them', () => {
  assert.equal(resultName('apps'), 'pack/Global/apps');
  assert.equal(resultName('usb', 'incident response'), 'pack/incident response/usb');
  assert.equal(utcDay(Date.parse('2026-12-08T00:30:00+02:00')), '2026-12-07');
});

test('today, the last complete day and the average of the days held', () => {
  const volumes = [
    v('2026-12-07', 'pack/Global/apps', 10, 1000),
    v('2026-12-06', 'pack/Global/apps', 40, 4000),
    v('2026-12-04', 'pack/Global/apps', 20, 2000),
    v('2026-12-06', 'pack/Global/other', 999, 999),
  ];
  assert.deepEqual(queryVolume(volumes, 'pack/Global/apps', now), {
    today: { events: 10, bytes: 1000 },
    last: { day: '2026-12-06', events: 40, bytes: 4000 },
    average: { events: 30, bytes: 3000, days: 2 },
  });
});

test('a query with nothing logged yet', () => {
  assert.deepEqual(queryVolume([], 'pack/Global/apps', now), { today: { events: 0, bytes: 0 }, last: null, average: null });
  assert.deepEqual(queryVolume(undefined, 'x', now).today, { events: 0, bytes: 0 });
});

test('the average covers at most the last 7 complete days', () => {
  const volumes = [];
  for (let d = 1; d <= 10; d++) volumes.push(v(`2026-11-${String(20 + d).padStart(2, '0')}`, 'q', d <= 3 ? 1000 : 10, 0));
  // Nov 21–23 had 1000 each, Nov 24–30 had 10 each: the last seven days are all 10.
  assert.equal(queryVolume(volumes, 'q', now).average.events, 10);
  assert.equal(queryVolume(volumes, 'q', now).average.days, 7);
});
