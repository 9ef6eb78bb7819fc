import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, updatedAgo, bytes, uptime, percent } from '../assets/js/format.js';

const now = Date.parse('2026-12-07T12:00:00Z');

test('relative times', () => {
  assert.equal(ago('2026-12-07T11:59:48Z', now), '12 s ago');
  assert.equal(ago('2026-12-07T11:55:00Z', now), '5 min ago');
  assert.equal(ago('2026-12-07T09:00:00Z', now), '3 h ago');
  assert.equal(ago('2026-12-01T12:00:00Z', now), '6 d ago');
  assert.equal(ago('0001-01-01T00:00:00Z', now), 'never');
  assert.equal(ago('garbage', now), 'never');
  assert.equal(ago('2026-12-07T12:00:05Z', now), 'just now');
});

test('updated N s ago', () => {
  assert.equal(updatedAgo(now - 4200, now), 'updated 4 s ago');
  assert.equal(updatedAgo(now - 120000, now), 'updated 2 min ago');
  assert.equal(updatedAgo(null, now), 'not loaded yet');
});

test('sizes, uptimes and percentages', () => {
  assert.equal(bytes(512), '512 B');
  assert.equal(bytes(1536), '1.5 KiB');
  assert.equal(bytes(17179869184), '16 GiB');
  assert.equal(uptime(93784 * 1e9), '1 d 2 h');
  assert.equal(uptime(3700 * 1e9), '1 h 1 min');
  assert.equal(uptime(0), '');
  assert.equal(percent(199, 200), 99);
  assert.equal(percent(3, 0), 0);
  assert.equal(percent(5, 4), 100);
});
