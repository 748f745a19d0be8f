// The dependency direction of ../shared/design.md: turn/ imports nothing of ours outside turn/;
// signaling/ may import src/ domain modules but not the composition root; src/ domain modules
// (everything but src/main.ts, src/cli/ and src/relay-options.ts) do not import signaling/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';

const root = process.cwd();

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) out.push(relative(root, resolve(dirname(file), spec)));
  }
  return out;
}

test('turn/ imports nothing of ours outside turn/', () => {
  const bad: string[] = [];
  for (const f of files(join(root, 'turn'))) {
    for (const i of imports(f)) if (!i.startsWith('turn/')) bad.push(`${relative(root, f)} → ${i}`);
  }
  assert.deepEqual(bad, []);
});

test('signaling/ does not import the composition root; src/ domain does not import signaling/', () => {
  const root_ = ['src/main', 'src/cli/', 'src/relay-options'];
  const bad: string[] = [];
  for (const f of files(join(root, 'signaling'))) {
    for (const i of imports(f)) if (root_.some((r) => i.startsWith(r))) bad.push(`${relative(root, f)} → ${i}`);
  }
  for (const f of files(join(root, 'src'))) {
    const rel = relative(root, f);
    if (root_.some((r) => rel.startsWith(r))) continue;
    for (const i of imports(f)) if (i.startsWith('signaling/')) bad.push(`${rel} → ${i}`);
  }
  assert.deepEqual(bad, []);
});

test('the import scanner sees relative imports (so the checks above can fail)', () => {
  const seen = imports(join(root, 'turn', 'server.ts'));
  assert.ok(seen.includes('turn/allocation-manager.js'), seen.join(', '));
});
