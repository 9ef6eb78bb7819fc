// The state of one live-query campaign as its event stream arrives: results by host (a host
// answers once; a reconnect that replays results does not count them twice), the server's totals,
// and what the console shows — the breakdown, the result columns, flat rows for the table and CSV.
// Pure: the console feeds it events and reads it back.

export class LiveResults {
  constructor() {
    /** host_id → {host_id, hostname, rows, error, received} */
    this.byHost = new Map();
    this.totals = null;
    this.done = null;
    this.columnSet = new Set();
    this.columnList = [];
    this.rowCount = 0;
    this.streamError = null;
  }

  /**
   * Applies one parsed SSE event (`{event, json}`); returns true when it changed what is shown.
   */
  apply({ event, json }) {
    switch (event) {
      case 'result':
        return this.addResult(json);
      case 'totals':
        this.totals = json;
        return true;
      case 'done':
        this.done = json;
        this.totals = json;
        return true;
      case 'error':
        this.streamError = json?.message ?? 'the stream ended with an error';
        return true;
      default:
        return false; // status: the same numbers as totals
    }
  }

  addResult(r) {
    if (!r || typeof r.host_id !== 'number' || this.byHost.has(r.host_id)) return false;
    const rows = Array.isArray(r.rows) ? r.rows : [];
    const hostname = r.host?.display_name || r.host?.hostname || r.hostname || `host ${r.host_id}`;
    this.byHost.set(r.host_id, { host_id: r.host_id, hostname, rows, error: r.error ?? null });
    for (const row of rows) {
      for (const key of Object.keys(row ?? {})) {
        if (!this.columnSet.has(key)) {
          this.columnSet.add(key);
          this.columnList.push(key);
        }
      }
    }
    this.rowCount += rows.length;
    return true;
  }

  /** Result columns in first-seen order. */
  get columns() {
    return this.columnList;
  }

  /** Targeted, responded and the four groups every targeted host falls into. */
  get breakdown() {
    let withRows = 0;
    let withoutRows = 0;
    let errors = 0;
    for (const r of this.byHost.values()) {
      if (r.error !== null && r.error !== undefined && r.error !== '') errors++;
      else if (r.rows.length > 0) withRows++;
      else withoutRows++;
    }
    const responded = this.byHost.size;
    const targeted = Math.max(this.totals?.count ?? 0, responded);
    const online = this.totals?.online ?? 0;
    return { targeted, online, responded, withRows, withoutRows, errors, notYet: Math.max(0, targeted - responded) };
  }

  /**
   * Percent responded, as Fleet counts it: of the hosts that were online when the campaign
   * started (the others may never answer), floored; 100 only when all of them did.
   */
  get percentResponded() {
    const online = this.totals?.online ?? 0;
    const respondedOnline = Math.max(this.totals?.responded_online ?? 0, 0);
    if (online === 0) return this.byHost.size > 0 ? 100 : 0;
    return Math.min(100, Math.floor((100 * respondedOnline) / online));
  }

  /** One flat record per row: `_host` first, then the row's columns. */
  rows() {
    const out = [];
    for (const r of this.byHost.values()) {
      for (const row of r.rows) out.push({ _host: r.hostname, _host_id: r.host_id, ...row });
    }
    return out;
  }

  /** The hosts that answered with an error. */
  errors() {
    return [...this.byHost.values()].filter((r) => r.error).map((r) => ({ _host: r.hostname, _host_id: r.host_id, error: r.error }));
  }
}
