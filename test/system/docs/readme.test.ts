import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../src/config/load.js';
import { DEFAULT_DENY_IPV4, DEFAULT_DENY_IPV6 } from '../../../turn/peer-policy.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('has the configuration table generated from the schema', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'config-table.js'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('has a valid example config', () => {
    const m = /<!-- example-config[^>]*-->\s*```json\n([\s\S]*?)```/.exec(README);
    assert.ok(m, 'example config block not found');
    const { config } = parseConfig(JSON.parse(m[1]), 'README example');
    assert.ok(Object.keys(config.users).length > 0 && config.auth_secrets.length > 0);
  });

  it('lists every default-denied peer range', () => {
    for (const range of [...DEFAULT_DENY_IPV4, ...DEFAULT_DENY_IPV6]) assert.ok(README.includes(`\`${range}\``), range);
  });
});
