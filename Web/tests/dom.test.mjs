import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installFakeDOM, FakeText } from './fake-dom.mjs';

const doc = installFakeDOM();
const { h, replace } = await import('../assets/js/dom.js');
const { renderTable } = await import('../assets/js/table.js');

const hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

test('strings become text nodes, never markup', () => {
  const el = h('p', {}, hostile, ' and ', 42);
  assert.equal(el.textContent, hostile + ' and 42');
  assert.ok(el.childNodes.every((c) => c instanceof FakeText));
  assert.equal(el.find('img').length, 0);
  assert.equal(el.find('script').length, 0);
});

test('the text attribute is textContent, and attribute values stay values', () => {
  const el = h('a', { href: '/hosts/1', title: hostile, text: hostile });
  assert.equal(el.textContent, hostile);
  assert.equal(el.getAttribute('title'), hostile);
  assert.equal(el.find('img').length, 0);
});

test('innerHTML and inline style are refused', () => {
  assert.throws(() => h('div', { innerHTML: '<b>x</b>' }), /not allowed/);
  assert.throws(() => h('div', { style: 'color: red' }), /not allowed/);
});

test('replace() clears and appends text', () => {
  const el = h('div', {}, 'old');
  replace(el, hostile);
  assert.equal(el.textContent, hostile);
  assert.equal(el.childNodes.length, 1);
});

test('a table of API data (label and query names with HTML) renders them as text', () => {
  const before = doc.created.length;
  const table = renderTable({
    columns: [{ key: 'name', label: 'Name', sortable: true }, { key: 'query', label: hostile }, { key: 'obj' }],
    rows: [{ name: hostile, query: 'SELECT "<b>" AS x;', obj: { html: '<i>' } }],
    sort: { key: 'name', direction: 'asc' },
    onSort: () => {},
  });
  const made = doc.created.slice(before).map((e) => e.tagName);
  for (const tag of ['IMG', 'SCRIPT', 'B', 'I']) assert.ok(!made.includes(tag), `${tag} element was created from data`);
  const cells = table.find('td').map((td) => td.textContent);
  assert.deepEqual(cells, [hostile, 'SELECT "<b>" AS x;', '{"html":"<i>"}']);
  assert.ok(table.find('th')[1].textContent.includes('<script>'));
  assert.equal(table.find('th')[0].getAttribute('aria-sort'), 'ascending');
});

test('an empty table says so in one cell spanning every column', () => {
  const table = renderTable({ columns: [{ key: 'a' }, { key: 'b' }], rows: [], emptyText: 'No hosts match.' });
  const td = table.find('td');
  assert.equal(td.length, 1);
  assert.equal(td[0].getAttribute('colspan'), '2');
  assert.equal(td[0].textContent, 'No hosts match.');
});
