/**
 * CSV cells (RFC 4180) that a spreadsheet opens as text. A text cell starting with `=`, `+`, `-`,
 * `@`, a tab or a CR could be run as a formula (CSV injection): it gets a leading `'` and is
 * quoted, as OWASP's CSV-injection guidance says. A cell with a quote, comma, CR or LF is quoted,
 * its quotes doubled. Numbers are written as numbers.
 */

/** First characters a spreadsheet may read as the start of a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One text cell, neutralised and escaped. */
export function csvText(value: string): string {
  if (FORMULA_START.test(value)) return `"'${value.replace(/"/g, '""')}"`;
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One row (no line ending): strings as text cells, numbers as they are. */
export function csvRow(cells: readonly (string | number)[]): string {
  return cells.map((c) => (typeof c === 'number' ? String(c) : csvText(c))).join(',');
}
