// The network_usage config keys: validated with units.ts's parsers, kept as written in the
// config, converted by meteringSettings().
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../src/config/errors.js';
import { parseConfig } from '../../../../src/config/load.js';
import { meteringSettings } from '../../../../src/metering/settings.js';

describe('network_usage settings', () => {
  it('defaults: 30d timeframe, 10s writes, 90% and 93%, no global limit or archive', () => {
    assert.deepEqual(meteringSettings(parseConfig({}, null)), { timeframe: 30 * 86_400_000, writeIntervalMs: 10_000, softLimit: 0.9, hardLimit: 0.93, reportIntervalMs: 3_600_000 });
  });

  it('converts sizes, durations and percentages; archive_dir starts at the config file\'s directory', () => {
    const loaded = parseConfig(
      { network_usage: { timeframe: '1w', write_interval: '1m30s', archive_dir: 'archive', global_limit: '2TB', soft_limit: '80%', hard_limit: '95%' } },
      '/etc/ferry/config.json',
    );
    assert.equal(loaded.config.network_usage.global_limit, '2TB', 'kept as written');
    const s = meteringSettings(loaded);
    assert.equal(s.timeframe, 7 * 86_400_000);
    assert.equal(s.writeIntervalMs, 90_000);
    assert.equal(s.archiveDir, '/etc/ferry/archive');
    assert.ok(s.globalLimitBytes !== undefined && s.globalLimitBytes >= 2e12);
    assert.deepEqual([s.softLimit, s.hardLimit], [0.8, 0.95]);
    assert.equal(meteringSettings(parseConfig({ network_usage: { global_limit: 1000 } }, null)).globalLimitBytes, 1000);
  });

  it('refuses bad values, one line per key', () => {
    const bad = { timeframe: '10s', write_interval: '10', global_limit: 'lots', soft_limit: '120%', hard_limit: 93, colour: 'blue' };
    assert.throws(
      () => parseConfig({ network_usage: bad }, null),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const paths = err.problems.map((p) => p.path).sort();
        assert.deepEqual(paths, [
          'network_usage.colour',
          'network_usage.global_limit',
          'network_usage.hard_limit',
          'network_usage.soft_limit',
          'network_usage.timeframe',
          'network_usage.write_interval',
        ]);
        assert.match(err.message, /network_usage\.timeframe: must be at least 1m/);
        return true;
      },
    );
    assert.throws(() => parseConfig({ network_usage: { soft_limit: '95%' } }, null), /network_usage\.hard_limit: must be at least soft_limit/);
  });

  it('timeframe "month": calendar months (UTC), kept as written; other words are refused with the forms', () => {
    const loaded = parseConfig({ network_usage: { timeframe: 'month' } }, null);
    assert.equal(loaded.config.network_usage.timeframe, 'month');
    assert.equal(meteringSettings(loaded).timeframe, 'month');
    for (const bad of ['Month', 'months', '1mo', 'monthly', '']) {
      assert.throws(
        () => parseConfig({ network_usage: { timeframe: bad } }, null),
        /network_usage\.timeframe: expected a duration such as 30d or 1h \(at least 1m\), or "month" for calendar months \(UTC\)/,
        bad,
      );
    }
  });
});
