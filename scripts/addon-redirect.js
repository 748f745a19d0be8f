// Preloaded (`node --import`) by scripts/test-runtimes.js when the suite runs on a runtime other than
// the one node_modules was built for (Node 24). Native addons are built for one Node ABI, so
// node_modules' better-sqlite3 (Node 20) cannot load there. scripts/setup.sh builds a copy of each
// ABI-specific package for that runtime under $FERRY_ADDON_DIR/node_modules; this hook resolves the
// repository's own imports of those packages to the copy. Everything else (dist/, bin/, every other
// package) is the same files as on Node 20, and the run keeps the repository root as its root.
//
// Only importers inside this repository are redirected: a project elsewhere (the temp project the
// package test installs the tarball into) resolves its own node_modules, as a user's would.
// NODE_OPTIONS carries this preload to every Node process the tests start (bin/ferry.js, fixtures).
import { readdirSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const addonDir = process.env.FERRY_ADDON_DIR;
if (!addonDir) throw new Error('addon-redirect: FERRY_ADDON_DIR is not set');
const repoUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..') + '/').href;
const addonUrl = pathToFileURL(addonDir + '/').href;
const packages = new Set(readdirSync(join(addonDir, 'node_modules')).filter((n) => !n.startsWith('.')));
// A parent inside the copy resolves from there anyway; this URL stands in for the repository's importer.
const standIn = new URL('node_modules/.resolve-from-here.js', addonUrl).href;

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    const parent = context.parentURL;
    if (parent && parent.startsWith(repoUrl) && !parent.startsWith(addonUrl) && packages.has(packageName(specifier))) {
      return nextResolve(specifier, { ...context, parentURL: standIn });
    }
    return nextResolve(specifier, context);
  },
});
