// Formatting for people: relative times, sizes, counts. Pure; `now` is passed in for tests.

/** "12 s ago", "5 min ago", "3 h ago", "4 d ago"; "never" for a missing or zero time. */
export function ago(date, now = Date.now()) {
  const t = date instanceof Date ? date.getTime() : typeof date === 'number' ? date : Date.parse(date);
  // Fleet's "never seen" time is the zero time (0001-01-01); hosts enrolled but never seen show it.
  if (!Number.isFinite(t) || t < Date.UTC(1971, 0, 1)) return 'never';
  const seconds = Math.round((now - t) / 1000);
  if (seconds < 0) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** "updated 4 s ago" for the freshness line of each page. */
export function updatedAgo(loadedAt, now = Date.now()) {
  if (!loadedAt) return 'not loaded yet';
  const seconds = Math.max(0, Math.floor((now - loadedAt) / 1000));
  if (seconds < 60) return `updated ${seconds} s ago`;
  return `updated ${ago(loadedAt, now)}`;
}

/** 1536 → "1.5 KiB". */
export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Nanoseconds (Fleet's `uptime`) → "3 d 4 h". */
export function uptime(nanoseconds) {
  const s = Math.floor(Number(nanoseconds) / 1e9);
  if (!Number.isFinite(s) || s <= 0) return '';
  const d = Math.floor(s / 86400);
  const hrs = Math.floor((s % 86400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${hrs} h`;
  if (hrs > 0) return `${hrs} h ${min} min`;
  return `${min} min`;
}

/** Whole percent of `part` in `whole`, floored so 99.6% does not read as done; 0 when `whole` is 0. */
export function percent(part, whole) {
  if (!whole) return 0;
  return Math.min(100, Math.floor((100 * part) / whole));
}

/** A local, sortable timestamp: "2026-12-07 14:03:22". */
export function timestamp(date) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
