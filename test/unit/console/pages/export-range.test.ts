// The export page's UTC ranges and file names (console/pages/export-range.ts) and its reading of
// the CSV for the preview (console/csv.ts): pure functions, no browser needed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cellText, csvHead, parseCsv } from '../../../../console/csv.js';
import { alignRange, dayOf, fileStamp, isMidnight, lastMonth, lastSevenDays, parseDay, startOfDay, thisMonth } from '../../../../console/pages/export-range.js';

const at = (iso: string) => Date.parse(iso);

describe('export ranges in UTC', () => {
  test('parseDay: a real YYYY-MM-DD only, at 00:00 UTC', () => {
    assert.equal(parseDay('2026-12-03'), at('2026-12-03T00:00:00Z'));
    assert.equal(parseDay('2028-02-29'), at('2028-02-29T00:00:00Z'));
    for (const bad of ['', '2026-02-30', '2027-02-29', '2026-13-01', '2026-1-01', '03/12/2026', '2026-12-03T00:00', ' 2026-12-03']) {
      assert.equal(parseDay(bad), undefined, bad);
    }
  });

  test('days and midnights are UTC, whatever the local zone', () => {
    const late = at('2026-12-03T23:59:59.999Z');
    assert.equal(dayOf(late), '2026-12-03');
    assert.equal(startOfDay(late), at('2026-12-03T00:00:00Z'));
    assert.equal(isMidnight(at('2026-12-03T00:00:00Z')), true);
    assert.equal(isMidnight(at('2026-12-03T00:00:00.001Z')), false);
  });

  test('quick choices: the last 7 days with today, this month, last month (across a year)', () => {
    const now = at('2026-12-03T15:30:00Z');
    assert.deepEqual(lastSevenDays(now), { from: at('2026-11-27T00:00:00Z'), to: at('2026-12-04T00:00:00Z') });
    assert.deepEqual(thisMonth(now), { from: at('2026-12-01T00:00:00Z'), to: at('2027-01-01T00:00:00Z') });
    assert.deepEqual(lastMonth(now), { from: at('2026-11-01T00:00:00Z'), to: at('2026-12-01T00:00:00Z') });
    const january = at('2027-01-01T00:00:00Z');
    assert.deepEqual(lastMonth(january), { from: at('2026-12-01T00:00:00Z'), to: january });
    assert.deepEqual(thisMonth(at('2028-02-29T23:00:00Z')), { from: at('2028-02-01T00:00:00Z'), to: at('2028-03-01T00:00:00Z') });
  });

  test('a range inside hours or days takes their buckets whole; rows per timeframe keep it exact', () => {
    // A 30-day timeframe that started when metering did, at 15:37:12.
    const tf = { from: at('2026-12-03T15:37:12Z'), to: at('2027-01-02T15:37:12Z') };
    assert.deepEqual(alignRange(tf, 'day'), { from: at('2026-12-03T00:00:00Z'), to: at('2027-01-03T00:00:00Z') });
    assert.deepEqual(alignRange(tf, 'hour'), { from: at('2026-12-03T15:00:00Z'), to: at('2027-01-02T16:00:00Z') });
    assert.deepEqual(alignRange(tf, 'timeframe'), tf);
    const days = { from: at('2026-12-01T00:00:00Z'), to: at('2027-01-01T00:00:00Z') };
    assert.deepEqual(alignRange(days, 'day'), days);
    assert.deepEqual(alignRange(days, 'hour'), days);
  });

  test('file stamps: the day at midnight, else the UTC time without colons', () => {
    assert.equal(fileStamp(at('2026-12-03T00:00:00Z')), '2026-12-03');
    assert.equal(fileStamp(at('2026-12-03T15:07:00Z')), '2026-12-03T1507Z');
    assert.doesNotMatch(fileStamp(at('2026-12-03T15:07:42Z')), /[:/\\]/);
  });
});

describe('the preview\'s CSV reading', () => {
  test('quoted cells, doubled quotes, commas and line breaks inside quotes, CRLF and LF', () => {
    assert.deepEqual(parseCsv('a,b\r\n"x, ""y""","line\r\nbreak"\r\n'), [['a', 'b'], ['x, "y"', 'line\r\nbreak']]);
    assert.deepEqual(parseCsv('a,b\nc,\n'), [['a', 'b'], ['c', '']]);
    assert.deepEqual(parseCsv('a,b'), [['a', 'b']]);
    assert.deepEqual(parseCsv(''), []);
    assert.deepEqual(parseCsv('start\r\n'), [['start']]);
  });

  test('a name the export neutralised against formulas is shown as it is', () => {
    const [[, name]] = parseCsv('x,"\'=Bee, ""Corp"""\r\n');
    assert.equal(name, '\'=Bee, "Corp"');
    assert.equal(cellText(name), '=Bee, "Corp"');
    assert.equal(cellText('\'plain'), '\'plain');
    assert.equal(cellText('Acme'), 'Acme');
  });

  test('the head: only the first records parsed, all of them counted, line breaks inside quotes not counted', () => {
    const text = 'h1,h2\r\n"a\r\nb",1\r\n"say ""x""\nnow",2\r\nplain,3\r\n';
    assert.deepEqual(csvHead(text, 2), { records: [['h1', 'h2'], ['a\r\nb', '1']], count: 4 });
    assert.deepEqual(csvHead(text, 10), { records: parseCsv(text), count: 4 });
    assert.deepEqual(csvHead('h\r\nlast', 1), { records: [['h']], count: 2 }, 'a last record without a line end');
    assert.deepEqual(csvHead('', 11), { records: [], count: 0 });
    assert.deepEqual(csvHead('h\n', 11), { records: [['h']], count: 1 });
  });

  test('a large file: its count, and the head parsed alone', () => {
    const rows = 200_000;
    const text = `start,account_name\r\n${Array.from({ length: rows }, (_, i) => `2026-12-0${1 + (i % 9)},"Acme\r\nVideo ${i}"\r\n`).join('')}`;
    const head = csvHead(text, 11);
    assert.equal(head.count, rows + 1);
    assert.equal(head.records.length, 11);
    assert.deepEqual(head.records[10], ['2026-12-01', 'Acme\r\nVideo 9']);
  });
});
