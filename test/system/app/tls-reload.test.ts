// TLS certificate reload on SIGHUP, in a real `ferry start --fg` process: the certificate files are
// replaced in place, SIGHUP makes new handshakes present the new certificate while a TLS allocation
// opened before keeps working; a bad new pair is refused (the log names tls.cert and tls.key) and
// the running certificate stays.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { startFerryProcess, TEST_PASSWORD, TEST_USER, type FerryProcess } from '../../helpers/ferry-process.js';
import { makeSelfSignedCert, type TestCert } from '../../helpers/tls-cert.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { until, withTimeout } from '../../helpers/wait.js';

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is shown. */
function servedFingerprint(port: number): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.end();
      });
      s.once('error', reject);
    }),
    5000,
    'TLS handshake',
  );
}

const fingerprintOf = (c: TestCert) => new X509Certificate(readFileSync(c.certPath)).fingerprint256;

describe('TLS certificate reload on SIGHUP', () => {
  let ferry: FerryProcess;
  let certB: TestCert;
  let certC: TestCert;
  let old: TestTurnClient | undefined;
  /** Where the running config's certificate and key are: replaced in place. */
  let certPath = '';
  let keyPath = '';

  before(async () => {
    ferry = await startFerryProcess({}, { tls: true });
    certPath = ferry.config.tls!.cert;
    keyPath = ferry.config.tls!.key;
    certB = makeSelfSignedCert();
    certC = makeSelfSignedCert();
  });
  after(async () => {
    old?.close();
    await ferry?.stop();
    certB?.remove();
    certC?.remove();
  });

  const reloads = (needle: string) => ferry.logs().split('\n').filter((l) => l.includes(needle)).length;

  it('new handshakes get the new certificate; a live TLS allocation keeps working', { timeout: 30_000 }, async () => {
    const port = ferry.tlsPort!;
    const a = new X509Certificate(readFileSync(certPath)).fingerprint256;
    assert.equal(await servedFingerprint(port), a, 'certificate A at start');
    old = await TestTurnClient.connect({ port, transport: 'tls', username: TEST_USER, password: TEST_PASSWORD });
    assert.equal((await old.allocate()).code, 0);

    writeFileSync(keyPath, readFileSync(certB.keyPath));
    writeFileSync(certPath, readFileSync(certB.certPath));
    const done = reloads('configuration reloaded');
    ferry.signal('SIGHUP');
    await until(() => reloads('configuration reloaded') > done, 10_000, `reload logged:\n${ferry.logs().slice(-2000)}`);
    assert.ok(ferry.logs().includes('TLS certificate reloaded'), 'the new certificate is logged');

    assert.equal(await servedFingerprint(port), fingerprintOf(certB), 'a new connection is shown certificate B');
    assert.equal((await old.refresh()).code, 0, 'the allocation made over the old TLS connection still answers');
    assert.equal((await old.createPermission({ address: '8.8.8.8' })).code, 0, 'and handles new requests');
    assert.ok(ferry.running());
  });

  it('a certificate that does not match its key is refused and the running one stays', { timeout: 30_000 }, async () => {
    const port = ferry.tlsPort!;
    writeFileSync(certPath, readFileSync(certC.certPath)); // key B stays: a mismatched pair
    const refused = reloads('reload refused');
    ferry.signal('SIGHUP');
    await until(() => reloads('reload refused') > refused, 10_000, `refusal logged:\n${ferry.logs().slice(-2000)}`);
    const line = ferry.logs().split('\n').filter((l) => l.includes('reload refused')).pop()!;
    assert.match(line, /tls\.cert, tls\.key: cannot use/);

    assert.equal(await servedFingerprint(port), fingerprintOf(certB), 'certificate B is still served');
    assert.equal((await old!.refresh()).code, 0, 'the old allocation still works');
  });
});
