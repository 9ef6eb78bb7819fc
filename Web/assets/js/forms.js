// Edit forms shared by the management pages (queries, packs, policies, labels, users, …): labelled
// fields of every kind, values read back typed, API errors shown under the field they name, and a
// two-step "delete" button (no window.confirm: a modal the page cannot style or test).

import { h, replace } from './dom.js';
import { showFieldErrors } from './ui.js';

/**
 * One labelled field. `spec`: `{name, label, type: text|number|textarea|sql|select|checkbox|password|email,
 * value, options: [[value, text]], hint, required, attrs}`. `prefix` keeps ids unique when a page
 * holds two forms with the same field names. The returned object fits `showFieldErrors`.
 */
export function formField(spec, prefix = 'f') {
  const { name, label, type = 'text', value, options = [], hint = null, required = false, attrs = {} } = spec;
  const id = `${prefix}-${name.replace(/[^a-z0-9_-]/gi, '-')}`;
  const described = { 'aria-describedby': `${id}-msg` };
  let input;
  if (type === 'textarea' || type === 'sql') {
    input = h('textarea', { id, name, required, class: type === 'sql' ? 'sql' : null, spellcheck: type === 'sql' ? 'false' : null, ...described, ...attrs }, value ?? '');
    input.value = value ?? '';
  } else if (type === 'select') {
    input = h('select', { id, name, required, ...described, ...attrs }, options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, text)));
  } else if (type === 'checkbox') {
    input = h('input', { id, name, type: 'checkbox', checked: Boolean(value), ...described, ...attrs });
  } else {
    input = h('input', { id, name, type, value: value ?? '', required, autocomplete: 'off', ...described, ...attrs });
  }
  const message = h('div', { id: `${id}-msg`, class: 'field-msg' }, hint ?? '');
  const wrap =
    type === 'checkbox'
      ? h('div', { class: 'field check' }, h('label', { for: id }, input, ' ', label), message)
      : h('div', { class: ['field', spec.wide && 'wide'] }, h('label', { for: id }, label), input, message);
  return {
    el: wrap,
    input,
    name,
    type,
    /** The value as the API wants it: numbers as numbers, checkboxes as booleans, text trimmed (SQL as typed). */
    get value() {
      if (type === 'checkbox') return input.checked;
      if (type === 'number') return input.value.trim() === '' ? null : Number(input.value);
      if (type === 'sql' || type === 'textarea' || type === 'password') return input.value;
      return input.value.trim();
    },
    setHint(text) {
      if (!wrap.classList.contains('invalid')) message.textContent = text ?? '';
    },
    setError(reason) {
      wrap.classList.toggle('invalid', Boolean(reason));
      input.setAttribute('aria-invalid', reason ? 'true' : 'false');
      message.textContent = reason ?? hint ?? '';
    },
  };
}

/**
 * A form in a panel: title, fields, Save and Cancel. `onSubmit(values)` sends it; an ApiError is
 * shown on the fields it names (`aliases` maps an API field name to a form field, e.g. Fleet's
 * `version` to the form's `min_osquery_version`) and the rest in a banner above the fields.
 */
export function editorForm({ id, title, fields, submitLabel = 'Save', onSubmit, onCancel = null, aliases = {}, extra = null }) {
  const built = fields.map((spec) => formField(spec, id));
  const byName = Object.fromEntries(built.map((f) => [f.name, f]));
  const banner = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const cancel = onCancel ? h('button', { type: 'button', onclick: () => onCancel() }, 'Cancel') : null;
  const status = h('span', { class: 'muted', role: 'status' });
  const form = h(
    'form',
    { id, class: 'section editor', novalidate: true, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    banner,
    h('div', { class: 'editor-fields' }, built.map((f) => f.el)),
    extra,
    h('div', { class: 'actions' }, submit, cancel, status),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.textContent = 'Saving…';
    try {
      const values = Object.fromEntries(built.map((f) => [f.name, f.value]));
      for (const f of built) f.setError(null);
      replace(banner);
      await onSubmit(values);
      status.textContent = '';
    } catch (error) {
      status.textContent = '';
      if (error?.name === 'AbortError') return;
      replace(banner, showFieldErrors(aliased(built, aliases), error));
    } finally {
      submit.disabled = false;
    }
  });
  return {
    el: form,
    fields: byName,
    focus: () => built[0]?.input.focus(),
    /** Shows an error that did not come from this form's own submit (a dependent request). */
    showError: (error) => replace(banner, showFieldErrors(aliased(built, aliases), error)),
  };
}

/** The fields, plus stand-ins that take errors under an API name the form calls differently. */
function aliased(built, aliases) {
  const extra = Object.entries(aliases)
    .map(([apiName, formName]) => {
      const f = built.find((b) => b.name === formName);
      return f ? { ...f, name: apiName, setError: (reason) => reason && f.setError(reason) } : null;
    })
    .filter(Boolean);
  return [...built, ...extra];
}

/**
 * A button that asks once more before it acts: the first press turns it into "Confirm …" for a
 * few seconds; only a second press runs `action`. Keyboard and screen readers see the new text.
 */
export function confirmButton(label, action, { confirmLabel = `Confirm: ${label.toLowerCase()}`, className = 'danger', title = null } = {}) {
  let armed = false;
  let timer = null;
  const button = h('button', { type: 'button', class: className, title }, label);
  const disarm = () => {
    armed = false;
    button.textContent = label;
    button.classList.remove('armed');
  };
  button.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      button.textContent = confirmLabel;
      button.classList.add('armed');
      clearTimeout(timer);
      timer = setTimeout(disarm, 5000);
      return;
    }
    clearTimeout(timer);
    disarm();
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** A row of page-local tabs (links, so each is a URL and keyboard-reachable). */
export function subnav(items, active) {
  return h(
    'nav',
    { class: 'subnav', 'aria-label': 'Sections' },
    items.map(([href, text]) => h('a', { href, 'aria-current': href === active ? 'page' : null }, text)),
  );
}
