// The one TTL parser of the API and the CLI: forms, whole seconds, the range, never clamped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTtlRange, formatSeconds, ICE_TTL, parseTtl, SIGNAL_TOKEN_TTL, TtlError } from '../../../../src/credentials/ttl.js';

test('seconds as a number or a string, and the config\'s duration forms', () => {
  const cases: [unknown, number][] = [
    [3600, 3600], ['3600', 3600], [' 90 ', 90], ['90s', 90], ['15m', 900], ['1h', 3600], ['1h30m', 5400],
    ['1.5h', 5400], ['1d', 86_400], ['60000ms', 60], [60, 60], [86_400, 86_400], ['24h', 86_400],
  ];
  for (const [input, seconds] of cases) assert.equal(parseTtl(input, ICE_TTL), seconds, JSON.stringify(input));
  assert.equal(parseTtl(1, SIGNAL_TOKEN_TTL), 1);
  assert.equal(parseTtl('1s', SIGNAL_TOKEN_TTL), 1);
});

test('out of range: refused with the range, never raised or lowered', () => {
  for (const input of [59, '59', '59s', 0, '0', '30s', 86_401, '86401', '25h', '2d', '1w', 10 ** 9]) {
    assert.throws(
      () => parseTtl(input, ICE_TTL),
      (e: unknown) => e instanceof TtlError && e.message.startsWith('must be from 1m to 1d (60 to 86400 seconds); got '),
      JSON.stringify(input),
    );
  }
  assert.throws(() => parseTtl(0, SIGNAL_TOKEN_TTL), /must be from 1s to 1d \(1 to 86400 seconds\); got 0/);
  assert.throws(() => parseTtl('86401s', SIGNAL_TOKEN_TTL), /from 1s to 1d/);
});

test('not whole seconds, not a TTL: refused with the accepted forms', () => {
  for (const input of [1.5, 90.5, -5, NaN, Infinity, '1500ms', '90.5s']) {
    assert.throws(() => parseTtl(input, ICE_TTL), TtlError, JSON.stringify(input));
  }
  assert.throws(() => parseTtl('1500ms', ICE_TTL), /must be whole seconds, from 1m to 1d/);
  for (const input of ['soon', '', '1 h', '-60', '1e3', '0x10', '1h1h', null, true, {}, []]) {
    assert.throws(
      () => parseTtl(input, ICE_TTL),
      (e: unknown) => e instanceof TtlError && /expected a whole number of seconds or a duration such as "90s", "15m" or "1h", from 1m to 1d/.test(e.message),
      JSON.stringify(input),
    );
  }
});

test('the range as people read it', () => {
  assert.equal(describeTtlRange(ICE_TTL), 'from 1m to 1d (60 to 86400 seconds)');
  assert.deepEqual([0, 1, 59, 60, 90, 3600, 5400, 86_400, 90_061].map(formatSeconds), ['0s', '1s', '59s', '1m', '1m30s', '1h', '1h30m', '1d', '1d1h1m1s']);
  // What formatSeconds writes, parseTtl reads back.
  for (const s of [60, 90, 5400, 86_400]) assert.equal(parseTtl(formatSeconds(s), ICE_TTL), s);
});

test('a string longer than any TTL form is refused without being quoted back', () => {
  const long = `1h${' '.repeat(100_000)}`;
  assert.throws(() => parseTtl(long, ICE_TTL), (e: unknown) => e instanceof TtlError && /got a string of 100002 characters$/.test(e.message) && e.message.length < 300);
  assert.equal(parseTtl(' 1d23h59m59s ', { ...ICE_TTL, max: 200_000 }), 172_799); // the longest sensible form still reads
});
