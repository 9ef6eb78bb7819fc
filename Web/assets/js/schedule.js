// Schedule fields as people write them and as the API wants them (pure; unit-tested).
//
// Intervals are seconds in the API; people think in minutes, hours and days, so the form takes
// "3600", "60m", "1h" or "1d" and says back what it understood. Fleet's pack schedule spells the
// logging type as two booleans (`snapshot`, `removed`); saved queries spell it as one word.

/** The largest interval osquery and the API accept (a week). */
export const MAX_INTERVAL = 604_800;

const UNITS = { s: 1, m: 60, min: 60, h: 3600, d: 86400 };

/**
 * "1h" → {seconds: 3600}; "" → {seconds: 0}; "soon" → {error: "…"}. Bounded to 0…604800.
 * @param {string|number} text
 */
export function parseInterval(text) {
  const t = String(text ?? '').trim().toLowerCase();
  if (t === '') return { seconds: 0 };
  const m = /^(\d+)\s*(s|m|min|h|d)?$/.exec(t);
  if (!m) return { error: 'write seconds (3600) or a number with s, m, h or d (1h)' };
  const seconds = Number(m[1]) * UNITS[m[2] ?? 's'];
  if (!Number.isSafeInteger(seconds) || seconds > MAX_INTERVAL) return { error: `must be at most ${MAX_INTERVAL} seconds (7 days)` };
  return { seconds };
}

/** 3600 → "1 h", 5400 → "1 h 30 min", 86400 → "1 d", 0 → "not scheduled". */
export function describeInterval(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s) || s <= 0) return 'not scheduled';
  const parts = [];
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) parts.push(`${d} d`);
  if (hr) parts.push(`${hr} h`);
  if (min) parts.push(`${min} min`);
  if (sec) parts.push(`${sec} s`);
  return parts.join(' ');
}

/** Runs a day at this interval (what the daily volume scales with). */
export function runsPerDay(seconds) {
  const s = Number(seconds);
  return s > 0 ? 86400 / s : 0;
}

export const LOGGING = [
  ['snapshot', 'Snapshot (every row, every run)'],
  ['differential', 'Differential (added and removed rows)'],
  ['differential_ignore_removals', 'Differential, added rows only'],
];

/** Fleet's pack-schedule booleans → the logging word. */
export function loggingFromFlags({ snapshot, removed }) {
  if (snapshot) return 'snapshot';
  return removed === false ? 'differential_ignore_removals' : 'differential';
}

/** The logging word → Fleet's pack-schedule booleans. */
export function flagsFromLogging(logging) {
  if (logging === 'snapshot') return { snapshot: true, removed: false };
  if (logging === 'differential_ignore_removals') return { snapshot: false, removed: false };
  return { snapshot: false, removed: true };
}

/** The platform filter of a query or pack for people: "" → "every platform". */
export function describePlatform(platform) {
  const p = String(platform ?? '').trim();
  if (!p) return 'every platform';
  return p
    .split(',')
    .map((x) => ({ darwin: 'macOS', windows: 'Windows', linux: 'Linux' })[x.trim()] ?? x.trim())
    .join(', ');
}

/**
 * The members of `after` that differ from `before` (shallow, by key): a PATCH sends only what
 * the user changed, so a field another admin edited meanwhile is not overwritten with old text.
 */
export function changedFields(before, after) {
  const out = {};
  for (const [key, value] of Object.entries(after)) {
    const old = before?.[key];
    const same = Array.isArray(value) ? JSON.stringify(value) === JSON.stringify(old ?? []) : (old ?? '') === (value ?? '');
    if (!same) out[key] = value;
  }
  return out;
}
