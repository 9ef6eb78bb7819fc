import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installFakeDOM } from './fake-dom.mjs';

installFakeDOM();
const { formField, editorForm, confirmButton } = await import('../assets/js/forms.js');
const { ApiError } = await import('../assets/js/api.js');

const submit = (form) => form.el.listeners.submit[0]({ preventDefault() {} });

test('fields give their values typed as the API wants them', () => {
  const n = formField({ name: 'shard', label: 'Shard', type: 'number' });
  n.input.value = ' 10 ';
  assert.equal(n.value, 10);
  n.input.value = '';
  assert.equal(n.value, null);
  const c = formField({ name: 'critical', label: 'Critical', type: 'checkbox', value: true });
  assert.equal(c.value, true);
  const t = formField({ name: 'name', label: 'Name', value: '  spaced  ' });
  assert.equal(t.value, 'spaced');
  const sql = formField({ name: 'query', label: 'SQL', type: 'sql', value: 'SELECT 1;\n' });
  assert.equal(sql.value, 'SELECT 1;\n', 'SQL is kept as typed');
  assert.equal(formField({ name: 'a b', label: 'x' }, 'pre').input.getAttribute('id'), 'pre-a-b');
  assert.equal(n.el.find('label')[0].getAttribute('for'), n.input.getAttribute('id'), 'every field is labelled');
});

test('an API error lands under the field it names, also under a form name that differs', async () => {
  let sent = null;
  const form = editorForm({
    id: 'se',
    title: 'Schedule',
    aliases: { version: 'min_osquery_version' },
    fields: [{ name: 'interval', label: 'Interval', value: '60' }, { name: 'min_osquery_version', label: 'Minimum osquery version', value: 'five' }],
    onSubmit: async (values) => {
      sent = values;
      throw new ApiError(422, 'Validation Failed', [{ name: 'version', reason: 'must be a version like 5.2.0' }, { name: 'base', reason: 'and something else' }]);
    },
  });
  await submit(form);
  assert.deepEqual(sent, { interval: '60', min_osquery_version: 'five' });
  const version = form.fields.min_osquery_version;
  assert.equal(version.el.find('div').find((d) => d.getAttribute('class') === 'field-msg').textContent, 'must be a version like 5.2.0');
  assert.ok(version.el.classList.contains('invalid'));
  assert.ok(version.input.focused, 'focus goes to the named field');
  assert.ok(!form.fields.interval.el.classList.contains('invalid'));
  const banner = form.el.textContent;
  assert.ok(banner.includes('and something else'), 'what names no field is in the banner');
  assert.ok(!banner.includes('version: must be'), 'the named field is not repeated in the banner');
});

test('a second submit clears the errors of the first', async () => {
  let fail = true;
  const form = editorForm({
    id: 'x',
    title: 'X',
    fields: [{ name: 'name', label: 'Name' }],
    onSubmit: async () => {
      if (fail) throw new ApiError(409, 'Resource Already Exists', [{ name: 'name', reason: '"a" already exists' }]);
    },
  });
  await submit(form);
  assert.ok(form.fields.name.el.classList.contains('invalid'));
  fail = false;
  await submit(form);
  assert.ok(!form.fields.name.el.classList.contains('invalid'));
});

test('delete needs two presses', async () => {
  let ran = 0;
  const button = confirmButton('Delete', async () => { ran++; });
  await button.listeners.click[0]();
  assert.equal(ran, 0);
  assert.equal(button.textContent, 'Confirm: delete');
  await button.listeners.click[0]();
  assert.equal(ran, 1);
  assert.equal(button.textContent, 'Delete');
});
