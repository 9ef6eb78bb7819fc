import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, toCSV, columnsOf, safeFileName } from '../assets/js/csv.js';

test('fields with quotes, commas and line breaks are quoted; quotes doubled', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('line1\nline2'), '"line1\nline2"');
  assert.equal(csvField('cr\rhere'), '"cr\rhere"');
});

test('null is empty, numbers and booleans are text, objects are JSON', () => {
  assert.equal(csvField(null), '');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(-3), '-3');
  assert.equal(csvField(true), 'true');
  assert.equal(csvField({ a: 1, b: 'x,y' }), '"{""a"":1,""b"":""x,y""}"');
});

test('text a spreadsheet would run as a formula is defused', () => {
  for (const bad of ['=HYPERLINK("http://evil")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx']) {
    assert.ok(csvField(bad).replace(/^"/, '').startsWith("'"), `${JSON.stringify(bad)} → ${csvField(bad)}`);
  }
  assert.equal(csvField('=1', { protectFormulas: false }), '=1');
  assert.equal(csvField('a=1'), 'a=1');
});

test('a document has a header, CRLF line ends and a final CRLF', () => {
  const text = toCSV([{ key: 'host', label: 'Host' }, 'name'], [{ host: 'mac-1', name: 'a' }, { host: 'mac,2' }]);
  assert.equal(text, 'Host,name\r\nmac-1,a\r\n"mac,2",\r\n');
});

test('columnsOf keeps first-seen order across rows with different keys', () => {
  assert.deepEqual(columnsOf([{ b: 1, a: 2 }, { c: 3, a: 1 }, null]), ['b', 'a', 'c']);
});

test('file names lose path separators and odd characters', () => {
  assert.equal(safeFileName('../etc/passwd'), '..-etc-passwd');
  assert.equal(safeFileName('campaign 7: results.csv'), 'campaign-7-results.csv');
  assert.equal(safeFileName('///'), 'export');
});
