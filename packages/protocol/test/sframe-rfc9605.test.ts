// RFC 9605 Appendix C (SFrame test vectors; the JSON published with draft-ietf-sframe-enc-09, from
// which the RFC was made): C.1 every header case encodes and decodes; C.2 the AES-CTR-HMAC AEAD of
// suites 1–3 (subkey split, encrypt, decrypt); C.3 full SFrame for suites 1–5, every intermediate
// value (labels, secret, key, salt, nonce, aad) and the ciphertext, in both directions. Run with the
// portable and the fast provider (STYLE.md §11: data-driven, cases named, a missing file fails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { vectorPath } from '@sotto/test-support';
import { nobleProvider, type CryptoProvider } from '@sotto/protocol';
import { fastProvider } from '@sotto/crypto';
import { concatBytes, fromHex, toHex } from '../src/internal/bytes.ts';
import {
  decodeSframeHeader,
  deriveSframeKeys,
  encodeSframeHeader,
  sframeAeadDecrypt,
  sframeAeadEncrypt,
  sframeCtrHmacSubkeys,
  sframeDecryptFrame,
  sframeEncryptFrame,
  sframeLabels,
  sframeNonce,
  sframeSecret,
  type SframeCipherSuite,
} from '../src/call/sframe.ts';

interface HeaderCase {
  readonly kid: string;
  readonly ctr: string;
  readonly encoded: string;
}
interface AesCtrHmacCase {
  readonly cipher_suite: number;
  readonly key: string;
  readonly enc_key: string;
  readonly auth_key: string;
  readonly nonce: string;
  readonly aad: string;
  readonly pt: string;
  readonly ct: string;
}
interface SframeCase {
  readonly cipher_suite: number;
  readonly kid: string;
  readonly ctr: string;
  readonly base_key: string;
  readonly sframe_key_label: string;
  readonly sframe_salt_label: string;
  readonly sframe_secret: string;
  readonly sframe_key: string;
  readonly sframe_salt: string;
  readonly metadata: string;
  readonly nonce: string;
  readonly aad: string;
  readonly pt: string;
  readonly ct: string;
}
interface Vectors {
  readonly header: readonly HeaderCase[];
  readonly aes_ctr_hmac: readonly AesCtrHmacCase[];
  readonly sframe: readonly SframeCase[];
}

// KID and CTR go up to 2^64 − 1, beyond what a JSON number survives through JSON.parse: read them as
// their literal digits (quoted before parsing) and turn them into bigints.
const text = readFileSync(vectorPath('rfc9605-sframe/sframe-test-vectors.rfc9605.json'), 'utf8');
const vectors = JSON.parse(text.replace(/("(?:kid|ctr)"\s*:\s*)(\d+)/g, '$1"$2"')) as Vectors;

const PROVIDERS: readonly CryptoProvider[] = [nobleProvider, fastProvider];

function suiteOf(n: number, name: string): SframeCipherSuite {
  if (n === 1 || n === 2 || n === 3 || n === 4 || n === 5) return n;
  throw new Error(`${name}: unknown cipher_suite ${n}`);
}

test('the vector file holds 289 header cases, the 3 AES-CTR-HMAC suites and the 5 SFrame suites', () => {
  assert.equal(vectors.header.length, 289);
  assert.deepEqual(vectors.aes_ctr_hmac.map((v) => v.cipher_suite), [1, 2, 3]);
  assert.deepEqual(vectors.sframe.map((v) => v.cipher_suite), [1, 2, 3, 4, 5]);
  // the big values really are read exactly, not rounded through a double
  assert.ok(vectors.header.some((v) => v.kid === '18446744073709551615' && v.ctr === '18446744073709551615'));
});

test('RFC 9605 C.1: every header case encodes to the published bytes and decodes back', () => {
  for (const v of vectors.header) {
    const name = `header kid=${v.kid} ctr=${v.ctr}`;
    const kid = BigInt(v.kid);
    const ctr = BigInt(v.ctr);
    assert.equal(toHex(encodeSframeHeader(kid, ctr)), v.encoded, `${name}: encode`);
    const encoded = fromHex(v.encoded);
    assert.deepEqual(decodeSframeHeader(encoded), { kid, ctr, headerLength: encoded.length }, `${name}: decode`);
    // as a prefix of a ciphertext, the header reads the same and stops where it ends
    assert.deepEqual(decodeSframeHeader(concatBytes(encoded, fromHex('deadbeef'))), { kid, ctr, headerLength: encoded.length }, `${name}: decode as prefix`);
  }
});

for (const crypto of PROVIDERS) {
  test(`RFC 9605 C.2: AES-CTR-HMAC AEAD, suites 1-3 (${crypto.name})`, async () => {
    for (const v of vectors.aes_ctr_hmac) {
      const name = `aes_ctr_hmac suite ${v.cipher_suite}`;
      const suite = suiteOf(v.cipher_suite, name);
      const key = fromHex(v.key);
      const { encKey, authKey } = sframeCtrHmacSubkeys(key);
      assert.equal(toHex(encKey), v.enc_key, `${name}: enc_key`);
      assert.equal(toHex(authKey), v.auth_key, `${name}: auth_key`);
      const nonce = fromHex(v.nonce);
      const aad = fromHex(v.aad);
      const ct = await sframeAeadEncrypt(crypto, suite, key, nonce, aad, fromHex(v.pt));
      assert.equal(toHex(ct), v.ct, `${name}: AEAD.Encrypt`);
      const pt = await sframeAeadDecrypt(crypto, suite, key, nonce, aad, fromHex(v.ct));
      assert.ok(pt !== null, `${name}: AEAD.Decrypt authenticates`);
      assert.equal(toHex(pt), v.pt, `${name}: AEAD.Decrypt`);
      // and the truncated tag is really checked: the last byte flipped fails
      const bad = fromHex(v.ct);
      bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
      assert.equal(await sframeAeadDecrypt(crypto, suite, key, nonce, aad, bad), null, `${name}: tampered tag`);
    }
  });

  test(`RFC 9605 C.3: SFrame encryption/decryption, suites 1-5 (${crypto.name})`, async () => {
    for (const v of vectors.sframe) {
      const name = `sframe suite ${v.cipher_suite} kid=${v.kid} ctr=${v.ctr}`;
      const suite = suiteOf(v.cipher_suite, name);
      const kid = BigInt(v.kid);
      const ctr = BigInt(v.ctr);
      const baseKey = fromHex(v.base_key);
      const labels = sframeLabels(suite, kid);
      assert.equal(toHex(labels.key), v.sframe_key_label, `${name}: sframe_key_label`);
      assert.equal(toHex(labels.salt), v.sframe_salt_label, `${name}: sframe_salt_label`);
      assert.equal(toHex(sframeSecret(suite, baseKey)), v.sframe_secret, `${name}: sframe_secret`);
      const keys = deriveSframeKeys(suite, baseKey, kid);
      assert.equal(toHex(keys.key), v.sframe_key, `${name}: sframe_key`);
      assert.equal(toHex(keys.salt), v.sframe_salt, `${name}: sframe_salt`);
      assert.equal(toHex(sframeNonce(keys.salt, ctr)), v.nonce, `${name}: nonce`);
      const metadata = fromHex(v.metadata);
      assert.equal(toHex(concatBytes(encodeSframeHeader(kid, ctr), metadata)), v.aad, `${name}: aad`);
      const ct = await sframeEncryptFrame(crypto, suite, keys, kid, ctr, metadata, fromHex(v.pt));
      assert.equal(toHex(ct), v.ct, `${name}: encrypt`);
      const out = await sframeDecryptFrame(crypto, suite, keys, fromHex(v.ct), metadata);
      assert.equal(out.kid, kid, `${name}: decrypt kid`);
      assert.equal(out.ctr, ctr, `${name}: decrypt ctr`);
      assert.equal(toHex(out.plaintext), v.pt, `${name}: decrypt`);
    }
  });
}
