// The dependency rules of .dependency-cruiser.cjs (run over the whole tree by `npm test`) refuse
// what they are meant to refuse: each case is a tiny tree in a temp dir, cruised with the
// repository's own config, so a rule that stopped matching (a renamed folder, a wrong regex) fails
// here instead of letting every wrong-way import through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/unit → root
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

/** Cruises a tree of files (path → text) with the repository's config: exit code and output. */
function cruise(files: Record<string, string>): { code: number | null; out: string } {
  const dir = tempDir('ferry-deps-');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const tops = [...new Set(Object.keys(files).map((p) => p.split('/')[0]))];
  const r = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, ...tops], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const refused = (files: Record<string, string>, rule: string) => {
  const r = cruise(files);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`error ${rule}:`), r.out);
};

test('the right-way imports of every folder pass', () => {
  const r = cruise({
    'turn/index.ts': "export { x } from './x.js';\n",
    'turn/x.ts': 'export const x = 1;\n',
    'protocol/signaling.ts': 'export type Frame = { type: string };\n',
    'src/domain.ts': "import { x } from '../turn/index.js';\nexport const y = x;\n",
    'signaling/app.ts': "import { y } from '../src/domain.js';\nimport type { Frame } from '../protocol/signaling.js';\nexport const f = (_: Frame) => y;\n",
    'client/sdk.ts': "import type { Frame } from '../protocol/signaling.js';\nexport const g = (_: Frame) => 1;\n",
    'app/root.ts': "import { f } from '../signaling/app.js';\nimport { y } from '../src/domain.js';\nimport { x } from '../turn/index.js';\nexport const all = [f, y, x];\n",
  });
  assert.equal(r.code, 0, r.out);
});

test('turn/ importing the domain is refused', () => {
  refused({ 'turn/a.ts': "import { b } from '../src/b.js';\nexport const a = b;\n", 'src/b.ts': 'export const b = 1;\n' }, 'turn-imports-nothing-of-ours');
});

test('the domain importing signaling/, or a turn/ file other than its entry, is refused', () => {
  refused({ 'src/a.ts': "import { b } from '../signaling/b.js';\nexport const a = b;\n", 'signaling/b.ts': 'export const b = 1;\n' }, 'src-is-the-domain');
  refused({ 'src/a.ts': "import type { B } from '../turn/b.js';\nexport const a = (_: B) => 1;\n", 'turn/b.ts': 'export type B = number;\n' }, 'src-reaches-turn-through-its-entry');
});

test('the composition root importing a turn/ file other than its entry is refused', () => {
  refused({ 'app/a.ts': "import { b } from '../turn/b.js';\nexport const a = b;\n", 'turn/b.ts': 'export const b = 1;\n' }, 'app-reaches-turn-through-its-entry');
});

test('a domain module or the HTTP app importing a store implementation is refused', () => {
  refused({ 'src/limits/a.ts': "import { b } from '../store/b.js';\nexport const a = b;\n", 'src/store/b.ts': 'export const b = 1;\n' }, 'the-domain-does-not-know-its-stores');
  refused({ 'signaling/a.ts': "import { b } from '../src/store/b.js';\nexport const a = b;\n", 'src/store/b.ts': 'export const b = 1;\n' }, 'the-domain-does-not-know-its-stores');
});

test('the composition root importing the SDK is refused', () => {
  refused({ 'app/a.ts': "import { b } from '../client/b.js';\nexport const a = b;\n", 'client/b.ts': 'export const b = 1;\n' }, 'the-root-does-not-import-the-sdk');
});

test('signaling/ importing the engine is refused', () => {
  refused({ 'signaling/a.ts': "import { b } from '../turn/index.js';\nexport const a = b;\n", 'turn/index.ts': 'export const b = 1;\n' }, 'signaling-imports-the-domain-only');
});

test('signaling/ importing the composition root is refused', () => {
  refused({ 'signaling/a.ts': "import { b } from '../app/b.js';\nexport const a = b;\n", 'app/b.ts': 'export const b = 1;\n' }, 'signaling-imports-the-domain-only');
});

test('the SDK importing a server module, a package or a Node built-in is refused', () => {
  refused({ 'client/a.ts': "import type { B } from '../src/b.js';\nexport const a = (_: B) => 1;\n", 'src/b.ts': 'export type B = number;\n' }, 'client-imports-the-protocol-only');
  refused({ 'client/a.ts': "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n" }, 'client-imports-the-protocol-only');
});

test('a file cycle is refused, also through type-only imports', () => {
  refused({
    'turn/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
    'turn/b.ts': "import type { A } from './a.js';\nexport type B = { a?: A };\n",
  }, 'no-circular');
});

test('a database driver imported outside the stores is refused', () => {
  // Resolved against the repository's node_modules, through a link in the temp tree.
  refused({ 'src/a.ts': "import Database from 'better-sqlite3';\nexport const a = Database;\n" }, 'only-the-stores-touch-the-database');
});

test('product code importing a test helper is refused', () => {
  refused({ 'app/a.ts': "import { b } from '../test/b.js';\nexport const a = b;\n", 'test/b.ts': 'export const b = 1;\n' }, 'product-does-not-import-tests');
});
