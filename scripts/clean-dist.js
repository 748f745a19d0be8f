#!/usr/bin/env node
// Removes the folders of dist/ that the package ships (package.json "files" entries under dist/),
// so what `npm pack` and `npm publish` tar up is built afresh: npm runs this as `prepack`, then
// `prepare` (npm run build) fills them again. A compiled file whose source was deleted or renamed
// would otherwise ship. dist/test and dist/bench (the test build) are left alone.
import { readFileSync, rmSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { files = [] } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
for (const entry of files) {
  const path = normalize(entry).replace(/[\\/]+$/, '');
  // Only whole folders below dist/: never dist/ itself or anything outside it.
  if (!path.startsWith(`dist${sep}`) || path.split(sep).includes('..')) continue;
  rmSync(join(ROOT, path), { recursive: true, force: true });
}
