#!/usr/bin/env node
// The `ferry` command: a shim over the compiled CLI in dist/ (built by `npm run build` / `prepare`).
let cli;
try {
  cli = await import('../dist/app/cli/main.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/app/cli/main.js')) {
    process.stderr.write('ferry: not built yet: run "npm run build" first\n');
    process.exit(1);
  }
  throw err;
}
process.exit(await cli.run(process.argv.slice(2)));
