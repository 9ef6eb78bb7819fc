// Each scheduled query's volume as the SIEM sees it (pure; unit-tested), from the pipeline's
// per-query, per-UTC-day accounting (`GET /api/v1/pomona/pipeline/stats` → `queries`). Results
// are named as agents log them: `pack/Global/<query>` for the global schedule,
// `pack/<pack>/<query>` for a pack's.

/** The osquery result name of a global-schedule query, or of a query in a pack. */
export function resultName(query, pack = 'Global') {
  return `pack/${pack}/${query}`;
}

/** "2026-12-07" for `now` in UTC (the days the accounting keeps). */
export function utcDay(now) {
  return new Date(now).toISOString().slice(0, 10);
}

/**
 * The volume of result `name`: today so far, the last complete day before today, and the average
 * of the complete days held (at most the last 7). Missing days count as nothing for "last", but
 * only days present count toward the average (a query added yesterday is not diluted by the week
 * before it existed).
 * @param {{day: string, name: string, events: number, bytes: number}[]} volumes
 */
export function queryVolume(volumes, name, now) {
  const today = utcDay(now);
  const mine = (volumes ?? []).filter((v) => v.name === name);
  const none = { events: 0, bytes: 0 };
  const todayRow = mine.find((v) => v.day === today);
  const past = mine.filter((v) => v.day < today).sort((a, b) => (a.day < b.day ? 1 : -1));
  const week = past.slice(0, 7);
  const average = week.length
    ? { events: Math.round(week.reduce((s, v) => s + v.events, 0) / week.length), bytes: Math.round(week.reduce((s, v) => s + v.bytes, 0) / week.length), days: week.length }
    : null;
  return {
    today: todayRow ? { events: todayRow.events, bytes: todayRow.bytes } : none,
    last: past[0] ? { day: past[0].day, events: past[0].events, bytes: past[0].bytes } : null,
    average,
  };
}
