// A strict RFC 4180 parser for the CSV export tests.

/** A strict RFC 4180 parser for the tests: rows of cells, CRLF line endings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted cell');
        cell += text.slice(i, q);
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const end = text.slice(i).search(/[,\r]|$/);
      cell = text.slice(i, i + end);
      if (cell.includes('"') || cell.includes('\n')) throw new Error(`bare quote or LF in ${JSON.stringify(cell)}`);
      i += end;
    }
    row.push(cell);
    if (text[i] === ',') {
      i++;
      continue;
    }
    rows.push(row);
    row = [];
    if (i === text.length) return rows;
    if (text.slice(i, i + 2) !== '\r\n') throw new Error(`expected CRLF at ${i}`);
    i += 2;
    if (i === text.length) return rows;
  }
}
