// The audit log's filters and wording (pure; unit-tested).
//
// `GET /activities` pages newest first but has no filters yet, so the page filters the entries it
// has loaded and says how many that is; "load more" widens the window.

/**
 * Entries matching every given filter: `type` exact, `actor` substring of name or email, `host` a
 * host id or name anywhere in the details, `since`/`until` ISO times (inclusive).
 */
export function filterActivities(list, { type = '', actor = '', host = '', since = '', until = '' } = {}) {
  const a = actor.trim().toLowerCase();
  const hq = host.trim().toLowerCase();
  const from = since ? Date.parse(since) : null;
  const to = until ? Date.parse(until) : null;
  return list.filter((entry) => {
    if (type && entry.type !== type) return false;
    if (a && !`${entry.actor_full_name ?? ''} ${entry.actor_email ?? ''}`.toLowerCase().includes(a)) return false;
    if (hq && !mentionsHost(entry.details, hq)) return false;
    const t = Date.parse(entry.created_at);
    if (from !== null && Number.isFinite(from) && !(t >= from)) return false;
    if (to !== null && Number.isFinite(to) && !(t <= to)) return false;
    return true;
  });
}

function mentionsHost(details, needle) {
  if (!details || typeof details !== 'object') return false;
  for (const [key, value] of Object.entries(details)) {
    if (/host/.test(key)) {
      const values = Array.isArray(value) ? value : [value];
      if (values.some((v) => String(v).toLowerCase() === needle || (typeof v === 'string' && v.toLowerCase().includes(needle)))) return true;
    }
  }
  return false;
}

/** The distinct types in `list`, sorted, for the type menu. */
export function activityTypes(list) {
  return [...new Set(list.map((e) => e.type))].sort();
}

/** "created_saved_query" → "Created saved query". */
export function typeText(type) {
  const t = String(type ?? '').replaceAll('_', ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** The details as "key: value" pairs, names first (query_name, label_name, …), ids after. */
export function detailsText(details) {
  if (!details || typeof details !== 'object') return '';
  const entries = Object.entries(details);
  entries.sort(([a], [b]) => Number(a.endsWith('_id') || a.endsWith('_ids')) - Number(b.endsWith('_id') || b.endsWith('_ids')));
  return entries.map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
}
