// assertSignature / verifySignature (src/webhooks/signature.ts, the package's `ferry-relay/webhooks`):
// every reason to refuse a delivery has its own code and message, misuse is a TypeError, and the
// positive cases (Buffer bodies, several v1 entries, a repeated-header array of one) pass.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertSignature, signatureHeader, verifySignature, WebhookSignatureError, type SignatureProblem,
} from '../../../../src/webhooks/signature.js';

const SECRET = 'whsec-unit-0123456789';
const BODY = '{"id":"evt_1","type":"session.closed"}';
const T = 1_700_000_000;
const HEADER = signatureHeader(SECRET, BODY, T);

function refused(fn: () => unknown, code: SignatureProblem, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WebhookSignatureError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('assertSignature', () => {
  test('a valid delivery returns its timestamp; verifySignature says true', () => {
    assert.equal(assertSignature(SECRET, HEADER, BODY, 300, T + 10), T);
    assert.equal(assertSignature(SECRET, HEADER, Buffer.from(BODY), 300, T - 10), T);
    assert.equal(assertSignature(SECRET, [HEADER], new Uint8Array(Buffer.from(BODY)), 300, T), T);
    assert.equal(verifySignature(SECRET, HEADER, BODY, 300, T), true);
  });

  test('a rotated secret: any v1 entry may match', () => {
    const old = signatureHeader('old-secret-0123456789', BODY, T).split(',')[1];
    assert.equal(assertSignature(SECRET, `${HEADER},${old}`, BODY, 300, T), T);
    assert.equal(assertSignature(SECRET, `t=${T},${old},${HEADER.split(',')[1]}`, BODY, 300, T), T);
  });

  test('refusals name their reason', () => {
    refused(() => assertSignature(SECRET, undefined, BODY, 300, T), 'missing_header', /no Ferry-Signature header/);
    refused(() => assertSignature(SECRET, '  ', BODY, 300, T), 'missing_header', /no Ferry-Signature header/);
    refused(() => assertSignature(SECRET, [HEADER, HEADER], BODY, 300, T), 'missing_header', /more than one/);
    refused(() => assertSignature(SECRET, HEADER.replace('t=', 'x='), BODY, 300, T), 'malformed_header', /no t=/);
    refused(() => assertSignature(SECRET, `t=${T},v1=abc`, BODY, 300, T), 'malformed_header', /no v1=/);
    refused(() => assertSignature(SECRET, HEADER, BODY, 300, T + 301), 'timestamp_out_of_range', /301 s old \(tolerance 300 s\)/);
    refused(() => assertSignature(SECRET, HEADER, BODY, 60, T - 61), 'timestamp_out_of_range', /61 s in the future/);
    refused(() => assertSignature(SECRET, HEADER, `${BODY} `, 300, T), 'signature_mismatch', /does not match the body/);
    refused(() => assertSignature('another-secret-0123', HEADER, BODY, 300, T), 'signature_mismatch', /another secret/);
    for (const bad of [undefined, '', 'garbage', HEADER.slice(0, -1)]) assert.equal(verifySignature(SECRET, bad, BODY, 300, T), false);
  });

  test('misuse is a TypeError, from verifySignature too: an empty secret, a parsed body, a bad tolerance', () => {
    assert.throws(() => assertSignature('', HEADER, BODY), TypeError);
    assert.throws(() => verifySignature('', HEADER, BODY), /non-empty string/);
    assert.throws(() => verifySignature(SECRET, HEADER, JSON.parse(BODY) as string), /raw request body/);
    assert.throws(() => assertSignature(SECRET, HEADER, BODY, -1), /toleranceSec/);
    assert.throws(() => assertSignature(SECRET, HEADER, BODY, Number.NaN), /toleranceSec/);
  });
});
