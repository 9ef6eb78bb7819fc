// Page state kept in the URL's query string, so a filtered, sorted, paged list is a link that
// survives a reload and can be sent to a colleague.
//
// A page declares a schema: each key with its type, allowed values and default. Reading is
// forgiving (an unknown or malformed value falls back to the default, so an old or hand-edited link
// still opens the page); writing leaves out defaults and keeps the schema's key order, so one state
// always gives the same URL.

/**
 * @typedef {{type: 'string', default?: string, max?: number}
 *   | {type: 'int', default?: number, min?: number, max?: number}
 *   | {type: 'enum', values: string[], default?: string}
 *   | {type: 'bool', default?: boolean}
 *   | {type: 'ints', default?: number[]}} FieldSpec
 */

/**
 * @param {string | URLSearchParams} search `location.search` or parameters
 * @param {Record<string, FieldSpec>} schema
 */
export function readState(search, schema) {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const state = {};
  for (const [key, spec] of Object.entries(schema)) {
    state[key] = readField(params, key, spec);
  }
  return state;
}

function readField(params, key, spec) {
  const fallback = defaultOf(spec);
  if (spec.type === 'ints') {
    const raw = params.getAll(key).flatMap((v) => v.split(','));
    const ids = raw.map((v) => v.trim()).filter((v) => /^\d{1,15}$/.test(v)).map(Number).filter((n) => n > 0);
    return ids.length > 0 ? [...new Set(ids)] : fallback;
  }
  const raw = params.get(key);
  if (raw === null) return fallback;
  switch (spec.type) {
    case 'string': {
      const text = raw.trim();
      if (text === '') return fallback;
      return spec.max ? text.slice(0, spec.max) : text;
    }
    case 'int': {
      if (!/^-?\d{1,15}$/.test(raw.trim())) return fallback;
      const n = Number(raw);
      if (spec.min !== undefined && n < spec.min) return fallback;
      if (spec.max !== undefined && n > spec.max) return fallback;
      return n;
    }
    case 'enum':
      return spec.values.includes(raw) ? raw : fallback;
    case 'bool':
      if (raw === '1' || raw === 'true') return true;
      if (raw === '0' || raw === 'false') return false;
      return fallback;
    default:
      throw new Error(`urlstate: unknown type ${spec.type} for ${key}`);
  }
}

function defaultOf(spec) {
  if (spec.default !== undefined) return Array.isArray(spec.default) ? [...spec.default] : spec.default;
  switch (spec.type) {
    case 'string':
    case 'enum':
      return '';
    case 'int':
      return 0;
    case 'bool':
      return false;
    case 'ints':
      return [];
    default:
      return undefined;
  }
}

/**
 * The query string for `state` (with a leading "?", or "" when everything is at its default).
 * @param {Record<string, any>} state
 * @param {Record<string, FieldSpec>} schema
 */
export function writeState(state, schema) {
  const params = new URLSearchParams();
  for (const [key, spec] of Object.entries(schema)) {
    const value = state[key];
    const fallback = defaultOf(spec);
    if (value === undefined || value === null) continue;
    if (spec.type === 'ints') {
      if (value.length > 0 && JSON.stringify(value) !== JSON.stringify(fallback)) params.set(key, value.join(','));
      continue;
    }
    if (value === fallback || value === '') continue;
    params.set(key, spec.type === 'bool' ? (value ? '1' : '0') : String(value));
  }
  const text = params.toString();
  return text ? '?' + text : '';
}

/**
 * The state with `changes` applied. Changing anything but the page itself goes back to the first
 * page: page 7 of the old filter means nothing under the new one.
 */
export function updateState(state, changes, { pageKey = 'page' } = {}) {
  const next = { ...state, ...changes };
  const filterChanged = Object.keys(changes).some((k) => k !== pageKey && changes[k] !== state[k]);
  if (filterChanged && !(pageKey in changes) && pageKey in state) next[pageKey] = 0;
  return next;
}
