/**
 * Reading the usage CSV back in the page, for its preview: RFC 4180 (quoted cells, doubled quotes,
 * CRLF or LF line ends), as GET /v1/usage/export.csv writes it. The preview shows what the file
 * holds, not a second answer of the API.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(cell);
    rows.push(row);
    row = [];
    cell = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      endRow();
      i++;
    } else if (c === '\n') endRow();
    else cell += c;
    i++;
  }
  if (cell !== '' || row.length > 0) endRow();
  return rows;
}

/**
 * A text cell as it was before the export neutralised it against formulas: the API puts a `'`
 * before a cell starting with =, +, -, @, a tab or a CR (signaling/csv.ts); the preview shows
 * the name itself.
 */
export function cellText(cell: string): string {
  return /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

/** The first records of a CSV and how many records it holds in all. */
export interface CsvHead {
  /** At most the `records` asked for, parsed (the header first). */
  readonly records: string[][];
  /** Every record in the text, the header included. */
  readonly count: number;
}

/**
 * The first `records` records of `text`, parsed, and the number of records in all, without parsing
 * the rest: a large export is counted by its record ends (a CRLF or LF outside quotes; a quoted
 * cell may hold line breaks, and a doubled quote inside one toggles twice, so counting quotes is
 * exact). Only the head is split into cells, so the preview of a file of a million rows costs one
 * pass over its characters and keeps nothing of the text once it returns.
 */
export function csvHead(text: string, records: number): CsvHead {
  let count = 0;
  let headEnd = records <= 0 ? 0 : -1;
  let quoted = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) quoted = !quoted;
    else if (c === 10 /* LF */ && !quoted) {
      count++;
      if (count === records) headEnd = i + 1;
    }
  }
  // A last record without a line end is a record too.
  if (n > 0 && text.charCodeAt(n - 1) !== 10) count++;
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  return { records: parseCsv(head), count };
}
