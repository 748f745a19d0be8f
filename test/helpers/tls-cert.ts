// Self-signed P-256 certificate for TLS listeners in tests (openssl CLI, 1 day validity).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Removes the directory holding the key and certificate. */
  remove(): void;
}

export function makeSelfSignedCert(cn = '127.0.0.1'): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', `/CN=${cn}`, '-keyout', keyPath, '-out', certPath,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 },
  );
  return { dir, certPath, keyPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
