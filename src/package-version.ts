/**
 * Ferry's version, read from package.json (the one place it is written), so the OpenAPI document
 * cannot disagree with the package. This file is compiled to dist/src/package-version.js:
 * package.json is two directories up, in the checkout as in the installed package.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** package.json's `version`; "unknown" when the file cannot be read (a bundled or moved copy). */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
