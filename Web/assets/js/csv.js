// CSV (RFC 4180) for exports: CRLF line ends, fields quoted when they hold a quote, comma, CR or LF.
//
// Cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading
// apostrophe, as OWASP's "CSV injection" advice says: osquery rows carry text that hosts control
// (process names, file paths, shell history), and an investigator opens the export in a spreadsheet.
// `{ protectFormulas: false }` turns that off for exports read by programs.

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field.
 * @param {unknown} value strings as they are; numbers and booleans as text; null/undefined empty;
 *   objects and arrays as JSON.
 */
export function csvField(value, { protectFormulas = true } = {}) {
  let text;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  // Numbers such as -1 are data, not formulas: only text is protected.
  if (protectFormulas && typeof value === 'string' && FORMULA_START.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
}

/**
 * A whole document: a header line from `columns`, then one line per row.
 * @param {{key: string, label?: string}[] | string[]} columns
 * @param {Record<string, unknown>[]} rows
 */
export function toCSV(columns, rows, options = {}) {
  const cols = columns.map((c) => (typeof c === 'string' ? { key: c, label: c } : { label: c.key, ...c }));
  const lines = [cols.map((c) => csvField(c.label, options)).join(',')];
  for (const row of rows) {
    lines.push(cols.map((c) => csvField(row?.[c.key], options)).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** The union of the keys of `rows`, in first-seen order (osquery rows of one query share keys; errors may not). */
export function columnsOf(rows) {
  const seen = new Set();
  for (const row of rows) for (const key of Object.keys(row ?? {})) seen.add(key);
  return [...seen];
}

/** A file name safe on every OS: letters, digits, dot, dash, underscore. */
export function safeFileName(name) {
  const cleaned = String(name).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned || 'export';
}

/** Starts a download of `text` as `fileName` (browser only). */
export function downloadCSV(fileName, text) {
  const blob = new Blob([text], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = safeFileName(fileName);
  document.body.append(a);
  a.click();
  a.remove();
  // The click has started the download; the URL is not needed after this turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
