import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveLongTermKey } from '../../../turn/long-term-key.js';

// RFC 5769 §2.4 credentials (password after SASLprep). Expected values computed independently:
//   printf '%s' 'マトリックス:example.org:TheMatrIX' | openssl dgst -md5 / -sha256  (and Python hashlib)
const USERNAME = '\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9';

test('RFC 5769 §2.4 long-term key (MD5) and its SHA-256 counterpart', () => {
  const key = deriveLongTermKey(USERNAME, 'example.org', 'TheMatrIX');
  assert.equal(key.md5.toString('hex'), 'e8ca7ad59d5eb0518e312911d2dab2a9');
  assert.equal(key.sha256.toString('hex'), 'dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1');
  assert.equal(key.md5.length, 16);
  assert.equal(key.sha256.length, 32);
});

test('ASCII credentials', () => {
  // printf '%s' 'alice:ferry:wonderland' | openssl dgst -md5
  assert.equal(deriveLongTermKey('alice', 'ferry', 'wonderland').md5.toString('hex'), '51535bd7cc94480d9ea920cad9e9e008');
});

test('no SASLprep: the unnormalised password gives a different key', () => {
  const prepped = deriveLongTermKey(USERNAME, 'example.org', 'TheMatrIX');
  const raw = deriveLongTermKey(USERNAME, 'example.org', 'The\u00ADM\u00AAtr\u2168');
  assert.notDeepEqual(raw.md5, prepped.md5);
});
