// The SDK bundle (dist/sdk/ferry.js, built by scripts/build-sdk.js in `npm test` and `npm run
// build`): one module with no imports left, exporting exactly what client/index.ts exports, and
// working (a pure function called through it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as modules from '../../../client/index.js';

const BUNDLE = new URL('../../../sdk/ferry.js', import.meta.url); // dist/test/unit/client → dist/sdk

describe('SDK bundle', () => {
  test('exports what client/index.ts exports', async () => {
    const bundle = (await import(BUNDLE.href)) as typeof modules;
    assert.deepEqual(Object.keys(bundle).sort(), Object.keys(modules).sort());
    assert.deepEqual(bundle.parseIceUrl('turn:h:1?transport=tcp'), modules.parseIceUrl('turn:h:1?transport=tcp'));
    assert.ok(new bundle.FerryError('timeout', 'm') instanceof Error);
  });

  test('imports nothing: it loads in a browser as it is', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    assert.doesNotMatch(text, /^\s*import[\s{*]/m);
    assert.doesNotMatch(text, /\bimport\(|\brequire\(/);
    assert.match(text, /\/\/# sourceMappingURL=ferry\.js\.map\s*$/);
  });

  test('its types are client/index.ts\'s', () => {
    const dts = readFileSync(new URL('../../../sdk/ferry.d.ts', import.meta.url), 'utf8');
    assert.match(dts, /^export \* from '\.\.\/client\/index\.js';$/m);
  });
});
