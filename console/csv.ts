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
