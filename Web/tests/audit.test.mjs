import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterActivities, activityTypes, typeText, detailsText } from '../assets/js/audit.js';
import { membersAfter } from '../assets/js/members.js';

const log = [
  { id: 3, created_at: '2026-12-07T12:00:00Z', actor_full_name: 'Ada Admin', actor_email: 'ada@example.com', type: 'deleted_host', details: { host_id: 42, host_display_name: 'mac-42' } },
  { id: 2, created_at: '2026-12-07T11:00:00Z', actor_full_name: 'Bob', actor_email: 'bob@example.com', type: 'live_query', details: { host_ids: [7, 42], targets_count: 2 } },
  { id: 1, created_at: '2026-12-06T09:00:00Z', actor_full_name: 'Ada Admin', actor_email: 'ada@example.com', type: 'created_saved_query', details: { query_id: 1, query_name: 'apps' } },
];

test('filters combine', () => {
  assert.deepEqual(filterActivities(log, {}).map((e) => e.id), [3, 2, 1]);
  assert.deepEqual(filterActivities(log, { type: 'live_query' }).map((e) => e.id), [2]);
  assert.deepEqual(filterActivities(log, { actor: 'ADA' }).map((e) => e.id), [3, 1]);
  assert.deepEqual(filterActivities(log, { actor: 'bob@' }).map((e) => e.id), [2]);
  assert.deepEqual(filterActivities(log, { host: '42' }).map((e) => e.id), [3, 2]);
  assert.deepEqual(filterActivities(log, { host: 'mac-4' }).map((e) => e.id), [3]);
  assert.deepEqual(filterActivities(log, { host: '4' }).map((e) => e.id), [3], 'ids match whole, names by part');
  assert.deepEqual(filterActivities(log, { since: '2026-12-07T00:00:00Z' }).map((e) => e.id), [3, 2]);
  assert.deepEqual(filterActivities(log, { until: '2026-12-07T11:00:00Z' }).map((e) => e.id), [2, 1]);
  assert.deepEqual(filterActivities(log, { actor: 'ada', since: '2026-12-07T00:00:00Z' }).map((e) => e.id), [3]);
  assert.deepEqual(filterActivities(log, { since: 'not a date' }).map((e) => e.id), [3, 2, 1]);
});

test('types and wording', () => {
  assert.deepEqual(activityTypes(log), ['created_saved_query', 'deleted_host', 'live_query']);
  assert.equal(typeText('created_saved_query'), 'Created saved query');
  assert.equal(detailsText({ query_id: 1, query_name: 'apps' }), 'query_name: apps, query_id: 1');
  assert.equal(detailsText({ host_ids: [7, 42], targets_count: 2 }), 'targets_count: 2, host_ids: [7,42]');
  assert.equal(detailsText(null), '');
});

test('a manual label gains and loses one host', () => {
  assert.deepEqual(membersAfter([1, 2, 3], { add: [4] }), [1, 2, 3, 4]);
  assert.deepEqual(membersAfter([1, 2, 3], { remove: [2] }), [1, 3]);
  assert.deepEqual(membersAfter([1, 2], { add: [2] }), [1, 2]);
  assert.deepEqual(membersAfter([], { add: [5], remove: [5] }), []);
});
