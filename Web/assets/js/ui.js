// Small UI pieces every page uses: page header with the "updated N s ago" line, error banners,
// field errors next to the field the API named, status badges, empty states, form fields.

import { h, replace } from './dom.js';
import { updatedAgo } from './format.js';
import { ApiError } from './api.js';

/**
 * The page title row: heading, optional actions, and a freshness line that ticks every second.
 * `freshness.loaded()` marks a successful load; `freshness.failed()` keeps the old time and says so.
 */
export function pageHeader(ctx, title, { actions = [], onRefresh = null } = {}) {
  const line = h('span', { class: 'freshness', 'aria-live': 'off' }, 'loading…');
  let loadedAt = null;
  let failed = false;
  const tick = () => {
    line.textContent = failed ? `${updatedAgo(loadedAt)} · last refresh failed` : loadedAt ? updatedAgo(loadedAt) : 'loading…';
  };
  ctx.every(1000, tick);
  const refresh = onRefresh
    ? h('button', { type: 'button', class: 'quiet', onclick: () => onRefresh(), title: 'Load again from the server' }, 'Refresh')
    : null;
  const el = h('div', { class: 'page-head' }, h('h1', {}, title), h('div', { class: 'page-meta' }, line, refresh, actions));
  return {
    el,
    loaded() {
      loadedAt = Date.now();
      failed = false;
      tick();
    },
    failed() {
      failed = true;
      tick();
    },
  };
}

/** A banner for an error (an ApiError lists what it names). Empty when `error` is null. */
export function errorBanner(error, { known = [] } = {}) {
  if (!error) return null;
  if (!(error instanceof ApiError)) {
    return h('div', { class: 'banner error', role: 'alert' }, String(error?.message ?? error));
  }
  const general = error.general(known);
  const items = general.length > 0 ? general : error.errors.length === 0 ? [{ name: 'base', reason: error.message }] : [];
  if (items.length === 0) return null;
  return h(
    'div',
    { class: 'banner error', role: 'alert' },
    h('strong', {}, error.status ? `${error.message} (${error.status})` : error.message),
    items.length === 1 && items[0].reason === error.message
      ? null
      : h('ul', {}, items.map((e) => h('li', {}, e.name === 'base' ? e.reason : `${e.name}: ${e.reason}`))),
  );
}

/** A labelled form field; `name` is the API field name its errors come back under. */
export function field({ label, name, type = 'text', value = '', autocomplete = null, required = false, hint = null, attrs = {} }) {
  const id = `f-${name.replace(/[^a-z0-9_-]/gi, '-')}`;
  const input =
    type === 'textarea'
      ? h('textarea', { id, name, required, 'aria-describedby': `${id}-msg`, ...attrs }, value)
      : h('input', { id, name, type, value, autocomplete, required, 'aria-describedby': `${id}-msg`, ...attrs });
  const message = h('div', { id: `${id}-msg`, class: 'field-msg' }, hint ?? '');
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), input, message);
  return {
    el: wrap,
    input,
    name,
    setError(reason) {
      wrap.classList.toggle('invalid', Boolean(reason));
      input.setAttribute('aria-invalid', reason ? 'true' : 'false');
      message.textContent = reason ?? hint ?? '';
    },
  };
}

/**
 * Shows an API error on the fields it names and returns a banner for the rest; focuses the first
 * named field so a keyboard user lands where the problem is.
 */
export function showFieldErrors(fields, error) {
  for (const f of fields) f.setError(null);
  if (!(error instanceof ApiError)) return errorBanner(error);
  let focused = false;
  for (const f of fields) {
    const reason = error.field(f.name);
    if (reason) {
      f.setError(reason);
      if (!focused) {
        f.input.focus();
        focused = true;
      }
    }
  }
  return errorBanner(error, { known: fields.map((f) => f.name) });
}

const STATUS_TEXT = { online: 'Online', offline: 'Offline', missing: 'Missing', mia: 'Missing', new: 'New' };

/** A host status with a dot and its word (never colour alone). */
export function statusBadge(status) {
  const s = String(status ?? '');
  return h('span', { class: ['status', `status-${STATUS_TEXT[s] ? s : 'unknown'}`] }, STATUS_TEXT[s] ?? (s || 'Unknown'));
}

/** An empty state: what is missing and what to do about it. */
export function emptyState(title, ...hint) {
  return h('div', { class: 'empty-state' }, h('p', { class: 'empty-title' }, title), hint.length ? h('p', {}, hint) : null);
}

/** Replaces a slot's content with `node` (or clears it). */
export function fill(slot, node) {
  replace(slot, node);
}

/** A definition list from [label, value] pairs; empty values show an en dash. */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === '' || v === null || v === undefined ? '–' : v)]),
  );
}

/** Whether `user` may change queries, packs, labels and policies (maintainer or admin). */
export function canChange(user) {
  return user?.global_role === 'admin' || user?.global_role === 'maintainer';
}

/**
 * A list load failed: ignore it when the page is gone or the request was aborted; otherwise say
 * so in the freshness line and show the error in `banner`.
 */
export function showLoadError(ctx, header, banner, error) {
  if (error?.name === 'AbortError' || !ctx.active) return;
  header.failed();
  replace(banner, errorBanner(error));
}
