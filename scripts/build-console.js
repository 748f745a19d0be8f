#!/usr/bin/env node
// Builds the operator console (console/) into dist/console-app/, the files Ferry serves at
// /console (signaling/console.ts):
//
//   index.html    the page (copied as it is)
//   console.js    the console and uPlot, one minified ES module, no imports left
//   console.css   uPlot's style sheet and the console's, one file
//
// Run by `npm run build` (after tsc) and by `npm test`. Everything is bundled from npm packages at
// build time: the page loads nothing from anywhere but Ferry. Fails (exit 1) when the bundle would
// still import anything, or reference another origin.
import { copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, 'dist', 'console-app');

async function main() {
  mkdirSync(OUT_DIR, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { console: 'console/main.ts', 'console-style': 'console/console.css' },
    outdir: OUT_DIR,
    entryNames: '[name]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    loader: { '.css': 'css' },
  });
  for (const w of result.warnings) console.error(`build-console: warning: ${w.text}`);
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  if (imports.length > 0) throw new Error(`the console bundle must not import anything: ${imports.join(', ')}`);
  // esbuild names the style sheet after its entry: one name the page links to.
  renameSync(join(OUT_DIR, 'console-style.css'), join(OUT_DIR, 'console.css'));
  copyFileSync(join(ROOT, 'console', 'index.html'), join(OUT_DIR, 'index.html'));
  for (const f of ['console.js', 'console.css', 'index.html']) {
    const text = readFileSync(join(OUT_DIR, f), 'utf8');
    const outside = /(?:src|href)\s*=\s*["']?(?:https?:)?\/\/|@import\s+url\(\s*["']?https?:|url\(\s*["']?https?:/i.exec(text);
    if (outside) throw new Error(`${f} references another origin: ${outside[0]}`);
  }
  if (process.env.npm_config_loglevel !== 'silent') {
    const kib = (f) => Math.round(readFileSync(join(OUT_DIR, f)).length / 1024);
    console.error(`build-console: ${relative(ROOT, OUT_DIR)}/ console.js (${kib('console.js')} KiB), console.css (${kib('console.css')} KiB), index.html`);
  }
}

main().catch((err) => {
  console.error(`build-console: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
