// CSV cells of the usage export (issue 9, finding 12): a text cell that a spreadsheet could run as a
// formula is neutralised (a leading ', quoted), others are plain RFC 4180; numbers stay numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvRow, csvText } from '../../../signaling/csv.js';
import { parseCsv } from '../../helpers/csv-parse.js';

test('formula starters are prefixed with \' and quoted; the cell still parses back', () => {
  const cases: [string, string][] = [
    ['=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ['@SUM(1)', '"\'@SUM(1)"'],
    ['-2+3', '"\'-2+3"'],
    ['+1', '"\'+1"'],
    ['\t=1', '"\'\t=1"'],
    ['\r=1', '"\'\r=1"'],
    ['=1,2', '"\'=1,2"'],
  ];
  for (const [value, cell] of cases) {
    assert.equal(csvText(value), cell, JSON.stringify(value));
    assert.deepEqual(parseCsv(cell), [[`'${value}`]], JSON.stringify(value));
  }
});

test('ordinary text is unchanged, or only quoted (RFC 4180) when it must be', () => {
  for (const plain of ['acme', 'acc_0123abcd', '1700000000:alice', 'a=b', 'x-1', 'x@y', '2030-01-01T00:00:00.000Z', '']) {
    assert.equal(csvText(plain), plain);
  }
  assert.equal(csvText('a,b'), '"a,b"');
  assert.equal(csvText('say "hi"'), '"say ""hi"""');
  assert.equal(csvText('two\r\nlines'), '"two\r\nlines"');
  assert.deepEqual(parseCsv(csvText('say "hi", twice\r\n')), [['say "hi", twice\r\n']]);
});

test('a row: numbers as numbers, text neutralised', () => {
  const row = csvRow(['=cmd|\' /C calc\'!A0', '2030-01-01T00:00:00.000Z', 300, 0, 2, 1]);
  assert.equal(row, '"\'=cmd|\' /C calc\'!A0",2030-01-01T00:00:00.000Z,300,0,2,1');
  assert.deepEqual(parseCsv(row), [["'=cmd|' /C calc'!A0", '2030-01-01T00:00:00.000Z', '300', '0', '2', '1']]);
});
