// The three crypto providers (noble reference, node:crypto, WebCrypto) agree byte for byte on every
// method over seeded inputs, on the libsignal X25519 vector, and on every rejection: small-order
// X25519 points, wrong AEAD tags, wrong lengths. Ed25519 edge cases: crypto-providers-ed25519.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, seededRng } from '@sotto/test-support';
import { isProtocolError, nobleProvider, type AeadAlgorithm } from '@sotto/protocol';
import { fastProvider as nodeFast, nodeProvider } from '@sotto/crypto/node';
import { fastProvider as webFast, webCryptoProvider, AEAD_WEBCRYPTO_MIN_BYTES } from '@sotto/crypto/webcrypto';
import { fastProvider } from '@sotto/crypto';
import { ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { agree, hex, providers, unhex } from './providers.ts';

const ALGS: readonly AeadAlgorithm[] = ['aes-256-gcm', 'aes-128-gcm', 'chacha20-poly1305'];
const P = (1n << 255n) - 19n;

function leBytes(n: bigint, len = 32): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

function leInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] ?? 0);
  return n;
}

/** A seeded integer in [0, n) (n small: the modulo bias does not matter for picking a bit). */
function rngInt(rng: (n: number) => Uint8Array, n: number): number {
  const b = rng(2);
  return (((b[0] ?? 0) << 8) | (b[1] ?? 0)) % n;
}

test('the package entry points pick the right provider', () => {
  assert.equal(nodeFast, nodeProvider);
  assert.equal(webFast, webCryptoProvider);
  assert.equal(fastProvider, nodeProvider, 'under Node the "node" export condition selects node:crypto');
  assert.deepEqual(
    providers.map((p) => p.name),
    ['noble', 'node', 'webcrypto'],
  );
});

test('libsignal x25519_agreement vector, every provider', async () => {
  interface X25519Vector {
    alice_private: string;
    alice_public: string;
    bob_private: string;
    bob_public: string;
    shared: string;
  }
  const v = loadVectors<{ x25519_agreement: X25519Vector }>('signal/libsignal-test-vectors.json').x25519_agreement;
  for (const p of providers) {
    assert.equal(hex(await p.x25519PublicKey(unhex(v.alice_private))), v.alice_public, `${p.name}: alice public`);
    assert.equal(hex(await p.x25519PublicKey(unhex(v.bob_private))), v.bob_public, `${p.name}: bob public`);
    assert.equal(hex(await p.x25519(unhex(v.alice_private), unhex(v.bob_public))), v.shared, `${p.name}: alice side`);
    assert.equal(hex(await p.x25519(unhex(v.bob_private), unhex(v.alice_public))), v.shared, `${p.name}: bob side`);
  }
});

test('hashes, HMAC and HKDF agree on seeded inputs (incl. empty inputs, long info, long outputs)', async () => {
  const rng = seededRng('crypto-providers/hash');
  const lengths = [0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 1025, 3000];
  const n = lengths.length;
  // Every (key length, data length) pair, so HMAC keys below, at and above the 64-byte block all occur.
  for (let i = 0; i < n * n; i++) {
    const key = rng(lengths[i % n] ?? 0);
    const data = rng(lengths[Math.floor(i / n)] ?? 0);
    const info = rng(lengths[(i * 5 + 3) % n] ?? 0);
    const out = [0, 1, 32, 33, 64, 100, 255 * 32][i % 7] ?? 32;
    await agree(`sha256 #${i}`, (p) => p.sha256(data));
    await agree(`sha512 #${i}`, (p) => p.sha512(data));
    await agree(`hmac #${i}`, (p) => p.hmacSha256(key, data));
    const r = await agree(`hkdf #${i}`, (p) => p.hkdfSha256(data, key, info, out));
    assert.ok('value' in r && typeof r.value === 'string' && r.value.length === 2 * out, `hkdf #${i} has ${out} bytes`);
  }
  // RFC 5869 §2.2: an empty salt is HashLen zero bytes, in every provider.
  const ikm = rng(32);
  await agree('hkdf empty salt = zero salt', async (p) => {
    assert.equal(hex(p.hkdfSha256(ikm, new Uint8Array(0), rng(0), 42)), hex(p.hkdfSha256(ikm, new Uint8Array(32), new Uint8Array(0), 42)));
    return Promise.resolve(true);
  });
});

test('HKDF output lengths outside 0..8160 throw in every provider', () => {
  for (const bad of [-1, 1.5, 255 * 32 + 1, Number.NaN]) {
    for (const p of providers) {
      // The reference (@noble/hashes) throws a plain Error; the fast providers ERR_CRYPTO_PARAMETER.
      assert.throws(() => p.hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), bad), `${p.name}: length ${bad}`);
      if (p !== nobleProvider) {
        assert.throws(
          () => p.hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), bad),
          (e) => isProtocolError(e, 'ERR_CRYPTO_PARAMETER'),
        );
      }
    }
  }
});

test('X25519 public keys and shared secrets agree on seeded keys (incl. unclamped scalars, non-canonical u)', async () => {
  const rng = seededRng('crypto-providers/x25519');
  const keys: Uint8Array[] = [];
  for (let i = 0; i < 24; i++) {
    const priv = rng(32);
    keys.push(priv);
    await agree(`x25519 public #${i}`, (p) => p.x25519PublicKey(priv));
  }
  for (let i = 0; i < 24; i++) {
    const a = keys[i] ?? new Uint8Array(32);
    const b = keys[(i + 1) % keys.length] ?? new Uint8Array(32);
    const bPub = await nobleProvider.x25519PublicKey(b);
    await agree(`x25519 dh #${i}`, (p) => p.x25519(a, bPub));
    // Random 32-byte strings as peer keys: half have the top bit set, which RFC 7748 §5 masks.
    const junk = rng(32);
    await agree(`x25519 dh with random u #${i}`, (p) => p.x25519(a, junk));
  }
  // u >= p (non-canonical, RFC 7748 §5 says to accept and reduce): p + 2 .. p + 18.
  for (let k = 2n; k < 19n; k++) {
    const u = leBytes(P + k);
    await agree(`x25519 dh with u = p + ${k}`, (p) => p.x25519(keys[0] ?? new Uint8Array(32), u));
  }
});

/** Montgomery u of the points of order dividing 8 (RFC 7748 §6.1 lists why they matter). */
function smallOrderU(): bigint[] {
  const inv = (b: bigint): bigint => {
    let r = 1n;
    let e = P - 2n;
    b %= P;
    while (e > 0n) {
      if (e & 1n) r = (r * b) % P;
      b = (b * b) % P;
      e >>= 1n;
    }
    return r;
  };
  const us = new Set<bigint>();
  // The Edwards torsion subgroup as listed by @noble/curves, mapped with u = (1 + y) / (1 − y)
  // (RFC 7748 §4.1); y = 1 (the identity) maps to the point at infinity, which has no encoding.
  for (const h of ED25519_TORSION_SUBGROUP) {
    const enc = unhex(h);
    enc[31] = (enc[31] ?? 0) & 0x7f;
    const y = leInt(enc);
    if (y !== 1n) us.add((((1n + y) % P) * inv((1n - y + P) % P)) % P);
  }
  us.add(P - 1n); // u = −1 lies on the twist, where it has order 4; X25519 cannot tell curve from twist
  return [...us];
}

test('X25519 small-order peer keys are ERR_CRYPTO_SMALL_ORDER in every provider (RFC 7748 §6.1)', async () => {
  const priv = seededRng('crypto-providers/small-order')(32);
  const us = smallOrderU();
  const encodings: Uint8Array[] = [];
  for (const u of us) {
    encodings.push(leBytes(u));
    const hi = leBytes(u);
    hi[31] = (hi[31] ?? 0) | 0x80; // the masked top bit (RFC 7748 §5)
    encodings.push(hi);
    if (u + P < 1n << 255n) encodings.push(leBytes(u + P)); // non-canonical u
  }
  assert.equal(us.length, 5, 'u ∈ {0, 1, −1} and the two order-8 u');
  assert.equal(encodings.length, 12);
  for (const enc of encodings) {
    assert.deepEqual(await agree(`x25519 with small-order u ${hex(enc)}`, (p) => p.x25519(priv, enc)), { error: 'ERR_CRYPTO_SMALL_ORDER' }, hex(enc));
  }
});

test('AEAD seal/open agree on seeded inputs; wrong tag, key, nonce, AD or truncation → null everywhere', async () => {
  const rng = seededRng('crypto-providers/aead');
  const sizes = [0, 1, 15, 16, 17, 100, 160, 1000, AEAD_WEBCRYPTO_MIN_BYTES - 1, AEAD_WEBCRYPTO_MIN_BYTES, 10_000];
  for (const alg of ALGS) {
    const keyBytes = alg === 'aes-128-gcm' ? 16 : 32;
    for (const [i, size] of sizes.entries()) {
      const key = rng(keyBytes);
      const nonce = rng(12);
      const pt = rng(size);
      const ad = rng(i * 7);
      const sealed = await agree(`${alg} seal ${size}`, (p) => p.aeadSeal(alg, key, nonce, pt, ad));
      assert.ok('value' in sealed && typeof sealed.value === 'string');
      const ct = unhex(sealed.value);
      assert.equal(ct.length, size + 16);
      const opened = await agree(`${alg} open ${size}`, (p) => p.aeadOpen(alg, key, nonce, ct, ad));
      assert.deepEqual(opened, { value: hex(pt) });
      const tamper = (b: Uint8Array, at: number): Uint8Array => {
        const c = b.slice();
        c[at] = (c[at] ?? 0) ^ 1;
        return c;
      };
      const cases: [string, () => [Uint8Array, Uint8Array, Uint8Array, Uint8Array]][] = [
        ['tag bit', () => [key, nonce, tamper(ct, ct.length - 1), ad]],
        ['first byte', () => [key, nonce, tamper(ct, 0), ad]],
        ['key bit', () => [tamper(key, 3), nonce, ct, ad]],
        ['nonce bit', () => [key, tamper(nonce, 11), ct, ad]],
        ['ad appended', () => [key, nonce, ct, Uint8Array.of(...ad, 0)]],
        ['truncated by one', () => [key, nonce, ct.subarray(0, ct.length - 1), ad]],
        ['tag only (15 bytes)', () => [key, nonce, ct.subarray(0, 15), ad]],
        ['empty', () => [key, nonce, new Uint8Array(0), ad]],
      ];
      for (const [what, make] of cases) {
        const [k, n, c, a] = make();
        assert.deepEqual(await agree(`${alg} ${size} ${what}`, (p) => p.aeadOpen(alg, k, n, c, a)), { value: null }, `${alg} ${size} ${what}`);
      }
    }
  }
});

test('wrong lengths are ERR_CRYPTO_PARAMETER in every provider; Ed25519 verify says false instead', async () => {
  const z = (n: number): Uint8Array => new Uint8Array(n).fill(7);
  const calls: [string, (p: (typeof providers)[number]) => unknown][] = [
    ['x25519PublicKey 31', (p) => p.x25519PublicKey(z(31))],
    ['x25519PublicKey 33', (p) => p.x25519PublicKey(z(33))],
    ['x25519 private 31', (p) => p.x25519(z(31), z(32))],
    ['x25519 public 33', (p) => p.x25519(z(32), z(33))],
    ['x25519 public 0', (p) => p.x25519(z(32), z(0))],
    ['ed25519PublicKey 31', (p) => p.ed25519PublicKey(z(31))],
    ['ed25519PublicKey 64', (p) => p.ed25519PublicKey(z(64))],
    ['ed25519Sign 33', (p) => p.ed25519Sign(z(33), z(5))],
    ['mlKem1024KeyGen 63', (p) => p.mlKem1024KeyGen(z(63))],
    ['mlKem1024Encapsulate pk 1567', (p) => p.mlKem1024Encapsulate(z(1567), z(32))],
    ['mlKem1024Encapsulate m 31', (p) => p.mlKem1024Encapsulate(z(1568), z(31))],
    ['mlKem1024Decapsulate ct 1569', (p) => p.mlKem1024Decapsulate(z(1569), z(3168))],
    ['mlKem1024Decapsulate sk 3167', (p) => p.mlKem1024Decapsulate(z(1568), z(3167))],
  ];
  for (const alg of ALGS) {
    const kb = alg === 'aes-128-gcm' ? 16 : 32;
    for (const size of [0, AEAD_WEBCRYPTO_MIN_BYTES]) {
      calls.push([`${alg} seal key ${kb + 1} (${size})`, (p) => p.aeadSeal(alg, z(kb + 1), z(12), z(size), z(0))]);
      calls.push([`${alg} seal key ${kb === 16 ? 32 : 16} (${size})`, (p) => p.aeadSeal(alg, z(kb === 16 ? 32 : 16), z(12), z(size), z(0))]);
      calls.push([`${alg} seal nonce 8 (${size})`, (p) => p.aeadSeal(alg, z(kb), z(8), z(size), z(0))]);
      calls.push([`${alg} open key 0 (${size})`, (p) => p.aeadOpen(alg, z(0), z(12), z(size + 16), z(0))]);
      calls.push([`${alg} open nonce 24 (${size})`, (p) => p.aeadOpen(alg, z(kb), z(24), z(size + 16), z(0))]);
    }
  }
  for (const [what, call] of calls) {
    // `outcome` treats a synchronous throw (the reference's habit) and a rejection alike.
    assert.deepEqual(await agree(what, call), { error: 'ERR_CRYPTO_PARAMETER' }, what);
  }
  // Too short to hold a tag: every provider reports an authentication failure before checking the key.
  for (const alg of ALGS) {
    assert.deepEqual(await agree(`${alg} open 15 bytes, bad key`, (p) => p.aeadOpen(alg, z(3), z(3), z(15), z(0))), { value: null });
  }
  for (const [pk, sig] of [
    [31, 64],
    [33, 64],
    [32, 63],
    [32, 65],
    [0, 0],
  ] as const) {
    assert.deepEqual(await agree(`ed25519Verify ${pk}/${sig}`, (p) => p.ed25519Verify(z(pk), z(3), z(sig))), { value: false });
  }
});

test('Ed25519 keys, signatures and verification agree on seeded seeds and messages', async () => {
  const rng = seededRng('crypto-providers/ed25519');
  for (let i = 0; i < 16; i++) {
    const seed = rng(32);
    const msg = rng([0, 1, 32, 64, 200, 1000][i % 6] ?? 0);
    const pub = await agree(`ed25519 public #${i}`, (p) => p.ed25519PublicKey(seed));
    const sig = await agree(`ed25519 sign #${i}`, (p) => p.ed25519Sign(seed, msg));
    assert.ok('value' in pub && typeof pub.value === 'string' && 'value' in sig && typeof sig.value === 'string');
    const pk = unhex(pub.value);
    const s = unhex(sig.value);
    assert.deepEqual(await agree(`ed25519 verify #${i}`, (p) => p.ed25519Verify(pk, msg, s)), { value: true });
    const flip = (b: Uint8Array, at: number): Uint8Array => {
      const c = b.slice();
      c[at] = (c[at] ?? 0) ^ (1 << rngInt(rng, 8));
      return c;
    };
    assert.deepEqual(await agree(`ed25519 verify, sig R bit #${i}`, (p) => p.ed25519Verify(pk, msg, flip(s, rngInt(rng, 32)))), { value: false });
    assert.deepEqual(await agree(`ed25519 verify, sig S bit #${i}`, (p) => p.ed25519Verify(pk, msg, flip(s, 32 + rngInt(rng, 32)))), { value: false });
    assert.deepEqual(await agree(`ed25519 verify, key bit #${i}`, (p) => p.ed25519Verify(flip(pk, rngInt(rng, 32)), msg, s)), { value: false });
    assert.deepEqual(await agree(`ed25519 verify, message #${i}`, (p) => p.ed25519Verify(pk, Uint8Array.of(...msg, 0), s)), { value: false });
  }
});

test('ML-KEM-1024 keygen, encapsulation and decapsulation agree (incl. implicit rejection)', async () => {
  const rng = seededRng('crypto-providers/mlkem');
  for (let i = 0; i < 3; i++) {
    const seed = rng(64);
    const kp = await agree(`mlkem keygen #${i}`, (p) => p.mlKem1024KeyGen(seed));
    const { publicKey, secretKey } = (kp as { value: { publicKey: string; secretKey: string } }).value;
    const m = rng(32);
    const enc = await agree(`mlkem encaps #${i}`, (p) => p.mlKem1024Encapsulate(unhex(publicKey), m));
    const { ciphertext, sharedSecret } = (enc as { value: { ciphertext: string; sharedSecret: string } }).value;
    assert.deepEqual(await agree(`mlkem decaps #${i}`, (p) => p.mlKem1024Decapsulate(unhex(ciphertext), unhex(secretKey))), { value: sharedSecret });
    const bad = unhex(ciphertext);
    bad[5] = (bad[5] ?? 0) ^ 1;
    const rejected = await agree(`mlkem decaps of a tampered ciphertext #${i}`, (p) => p.mlKem1024Decapsulate(bad, unhex(secretKey)));
    assert.notDeepEqual(rejected, { value: sharedSecret }, 'implicit rejection gives another secret');
  }
  // FIPS 203 §7.2 modulus check: a public key with a coefficient ≥ q is refused alike.
  const pk = new Uint8Array(1568).fill(0xff);
  assert.deepEqual(await agree('mlkem encaps, key fails modulus check', (p) => p.mlKem1024Encapsulate(pk, new Uint8Array(32))), { error: 'ERR_KEY_INVALID' });
});

test('imported-key caches follow the caller: overwriting or wiping a key array gives the new key’s result', async () => {
  const rng = seededRng('crypto-providers/cache');
  const a = rng(32);
  const b = rng(32);
  const peer = await nobleProvider.x25519PublicKey(rng(32));
  for (const p of [nodeProvider, webCryptoProvider]) {
    const key = a.slice();
    assert.equal(hex(await p.x25519PublicKey(key)), hex(await nobleProvider.x25519PublicKey(a)), p.name);
    assert.equal(hex(await p.x25519(key, peer)), hex(await nobleProvider.x25519(a, peer)), p.name);
    key.set(b); // same array object, new contents
    assert.equal(hex(await p.x25519PublicKey(key)), hex(await nobleProvider.x25519PublicKey(b)), `${p.name}: after overwrite`);
    assert.equal(hex(await p.x25519(key, peer)), hex(await nobleProvider.x25519(b, peer)), `${p.name}: after overwrite`);
    const pub = peer.slice();
    await p.x25519(key, pub);
    pub.fill(0); // the peer key object is cached too: a zeroed array must be seen as u = 0
    await assert.rejects(p.x25519(key, pub), (e) => isProtocolError(e, 'ERR_CRYPTO_SMALL_ORDER'), `${p.name}: after wipe`);
    const seed = a.slice();
    const sig1 = await p.ed25519Sign(seed, Uint8Array.of(1));
    seed.set(b);
    assert.equal(hex(await p.ed25519PublicKey(seed)), hex(await nobleProvider.ed25519PublicKey(b)), `${p.name}: ed25519 after overwrite`);
    assert.notEqual(hex(await p.ed25519Sign(seed, Uint8Array.of(1))), hex(sig1));
  }
});
