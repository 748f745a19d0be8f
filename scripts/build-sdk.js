#!/usr/bin/env node
// Bundles the client SDK (client/index.ts) into one ES module for browsers and Node:
//
//   dist/sdk/ferry.js       the SDK, no imports left (Ferry serves it at /sdk/ferry.js; the
//                           package exports it as `ferry-relay/client`)
//   dist/sdk/ferry.js.map   its source map, with the TypeScript sources inlined
//   dist/sdk/ferry.d.ts     its types: the declarations tsc emits for client/ (tsconfig.build.json)
//
// Run by `npm run build` (after tsc) and by `npm test`. esbuild reads the TypeScript sources
// itself, so the bundle does not depend on which tsconfig compiled dist/client. It fails (exit 1)
// when the SDK would import anything outside client/ and protocol/ (a package, a Node built-in):
// the bundle must load in a browser as it is.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, 'dist', 'sdk');
const OUT_FILE = join(OUT_DIR, 'ferry.js');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

async function main() {
  mkdirSync(OUT_DIR, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['client/index.ts'],
    outfile: OUT_FILE,
    bundle: true,
    format: 'esm',
    // Neither browser nor node: no built-ins and no package main fields to fall back on.
    platform: 'neutral',
    // The compiler's target (tsconfig.json): every browser with RTCPeerConnection and ES modules since 2021.
    target: 'es2022',
    sourcemap: 'linked',
    sourcesContent: true,
    legalComments: 'none',
    banner: { js: `// Ferry client SDK ${pkg.version} (${pkg.name}, ${pkg.license}): one ES module, no dependencies.` },
    metafile: true,
    logLevel: 'silent',
  });
  for (const w of result.warnings) console.error(`build-sdk: warning: ${w.text}`);

  const outside = Object.keys(result.metafile.inputs).filter((p) => !/^(client|protocol)\//.test(p.split(sep).join('/')));
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  if (outside.length > 0 || imports.length > 0) {
    throw new Error(`the SDK must not import anything outside client/ and protocol/: ${[...outside, ...imports].join(', ')}`);
  }

  // The bundle's types are client/'s: re-exported rather than bundled (no declaration bundler).
  writeFileSync(join(OUT_DIR, 'ferry.d.ts'), "// The types of ferry.js (built from client/index.ts).\nexport * from '../client/index.js';\n");

  const bytes = readFileSync(OUT_FILE).length;
  if (process.env.npm_config_loglevel !== 'silent') {
    console.error(`build-sdk: ${relative(ROOT, OUT_FILE)} (${Math.round(bytes / 1024)} KiB) + .map + .d.ts`);
  }
}

main().catch((err) => {
  console.error(`build-sdk: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
