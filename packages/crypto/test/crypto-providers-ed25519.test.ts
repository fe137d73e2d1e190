// Ed25519 verification edge cases: where OpenSSL (node:crypto and WebCrypto on Node) and the reference
// (@noble/curves, RFC 8032 strict: `zip215: false`) disagree, and proof that all three providers give
// the reference's answer anyway (policy explained in src/internal/checks.ts).
//
// Divergences found (OpenSSL 3.0 in Node 20.20), each pinned below against raw node:crypto:
//   1. small-order public keys: OpenSSL accepts (R = [S]B, S) whenever [k]A = O, e.g. for every
//      message under the identity key 01 00..00; the reference rejects every small-order A;
//   2. non-canonical public keys: OpenSSL reduces y mod p and ignores the sign bit of x = 0, so
//      p + 1 (the identity again) and 01 00..80 verify as above; the reference rejects them;
//   3. mixed-order R or A (an honest point plus a torsion point): OpenSSL's cofactorless equation
//      rejects, the reference's cofactored equation accepts.
// Non-canonical R and S >= L are rejected by both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { seededRng } from '@sotto/test-support';
import { agree, hex, unhex } from './providers.ts';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const P = Point.Fp.ORDER;
const MSG = Uint8Array.of(0x53, 0x6f, 0x74, 0x74, 0x6f);

function le(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] ?? 0);
  return n;
}

function leBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** RFC 8032 §5.1.7 step 2: k = SHA-512(R || A || M) mod L. */
function challenge(R: Uint8Array, A: Uint8Array, M: Uint8Array): bigint {
  return le(sha512(Uint8Array.of(...R, ...A, ...M))) % L;
}

function signature(R: Uint8Array, s: bigint): Uint8Array {
  return Uint8Array.of(...R, ...leBytes(s));
}

/** node:crypto with no policy on top: what OpenSSL itself says. */
function openssl(A: Uint8Array, M: Uint8Array, sig: Uint8Array): boolean {
  try {
    return nodeVerify(null, M, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(A).toString('base64url') }, format: 'jwk' }), sig);
  } catch {
    return false;
  }
}

async function allSay(what: string, A: Uint8Array, M: Uint8Array, sig: Uint8Array, expected: boolean): Promise<void> {
  assert.deepEqual(await agree(what, (p) => p.ed25519Verify(A, M, sig)), { value: expected }, what);
}

const honest = ed25519.utils.getExtendedPublicKey(seededRng('ed25519-edge/honest')(32));

test('small-order public keys: OpenSSL accepts trivial forgeries, every provider rejects', async () => {
  let opensslAccepted = 0;
  for (const h of ED25519_TORSION_SUBGROUP) {
    const A = unhex(h);
    const s = 123_456_789n;
    const sig = signature(Point.BASE.multiply(s).toBytes(), s); // R = [S]B: valid iff [k]A = O
    const expectOpenssl = Point.fromBytes(A).multiplyUnsafe(challenge(sig.subarray(0, 32), A, MSG)).is0();
    assert.equal(openssl(A, MSG, sig), expectOpenssl, `OpenSSL on small-order A ${h}`);
    if (expectOpenssl) opensslAccepted++;
    await allSay(`small-order A ${h}`, A, MSG, sig, false);
  }
  assert.ok(opensslAccepted >= 1, 'the identity key at least: [k]O = O for every k');
});

test('non-canonical public keys (y >= p, x = 0 with sign bit): OpenSSL accepts, every provider rejects', async () => {
  const s = 777n;
  const sig = signature(Point.BASE.multiply(s).toBytes(), s);
  const identityPlusP = leBytes(P + 1n);
  const identitySigned = leBytes(1n);
  identitySigned[31] = 0x80;
  assert.equal(openssl(identityPlusP, MSG, sig), true, 'OpenSSL reduces y = p + 1 to the identity');
  assert.equal(openssl(identitySigned, MSG, sig), true, 'OpenSSL ignores the sign bit of x = 0');
  await allSay('A = p + 1', identityPlusP, MSG, sig, false);
  await allSay('A = 1 with sign bit', identitySigned, MSG, sig, false);
  // Every other y = p + j below 2^255, whether or not it is on the curve.
  for (let j = 0n; j < 19n; j++) await allSay(`A = p + ${j}`, leBytes(P + j), MSG, sig, false);
  // A canonical encoding of the honest key with the sign bit flipped is another point (−A): false.
  const negA = honest.pointBytes.slice();
  negA[31] = (negA[31] ?? 0) ^ 0x80;
  await allSay('A with flipped sign bit', negA, MSG, ed25519.sign(MSG, seededRng('ed25519-edge/honest')(32)), false);
});

test('non-canonical R and S >= L: rejected by OpenSSL and by every provider', async () => {
  const a = honest.scalar;
  const A = honest.pointBytes;
  for (const [what, R] of [
    ['R = p + 1 (identity)', leBytes(P + 1n)],
    ['R = 1 with sign bit', Uint8Array.of(1, ...new Uint8Array(30), 0x80)],
  ] as const) {
    // With R = O: [S]B = [k]A holds for S = k·a, so only the encoding of R is wrong.
    const sig = signature(R, (challenge(R, A, MSG) * a) % L);
    assert.equal(ed25519.verify(sig, MSG, A, { zip215: true }), true, `${what}: valid under lenient (ZIP-215) decoding`);
    assert.equal(openssl(A, MSG, sig), false, `OpenSSL: ${what}`);
    await allSay(what, A, MSG, sig, false);
  }
  const good = ed25519.sign(MSG, seededRng('ed25519-edge/honest')(32));
  const big = signature(good.subarray(0, 32), le(good.subarray(32)) + L);
  assert.equal(openssl(A, MSG, big), false, 'OpenSSL: S + L');
  await allSay('S + L', A, MSG, big, false);
  await allSay('S = 2^256 − 1', A, MSG, Uint8Array.of(...good.subarray(0, 32), ...new Uint8Array(32).fill(0xff)), false);
});

test('mixed-order R or A: OpenSSL (cofactorless) rejects, every provider accepts like the reference (cofactored)', async () => {
  const a = honest.scalar;
  for (const h of ED25519_TORSION_SUBGROUP.slice(1)) {
    const T = Point.fromBytes(unhex(h));
    // R = [r]B + T, S = r + k·a: [8]([S]B − R − [k]A) = −[8]T = O, but [S]B − R − [k]A = −T ≠ O.
    const r = 99_991n;
    const R = Point.BASE.multiply(r).add(T).toBytes();
    const sigR = signature(R, (r + challenge(R, honest.pointBytes, MSG) * a) % L);
    assert.equal(openssl(honest.pointBytes, MSG, sigR), false, `OpenSSL: R + ${h}`);
    await allSay(`mixed-order R (+ ${h})`, honest.pointBytes, MSG, sigR, true);
    // A' = A + T with an honest R: fails cofactorless unless [k]T = O.
    const A2 = honest.point.add(T).toBytes();
    const R2 = Point.BASE.multiply(4242n).toBytes();
    const k2 = challenge(R2, A2, MSG);
    const sigA = signature(R2, (4242n + k2 * a) % L);
    assert.equal(openssl(A2, MSG, sigA), T.multiplyUnsafe(k2).is0(), `OpenSSL: A + ${h}`);
    await allSay(`mixed-order A (+ ${h})`, A2, MSG, sigA, true);
  }
});

test('random keys and signatures: every provider agrees with the reference', async () => {
  const rng = seededRng('ed25519-edge/random');
  const honestSig = ed25519.sign(MSG, seededRng('ed25519-edge/honest')(32));
  for (let i = 0; i < 60; i++) {
    const A = i % 3 === 0 ? honest.pointBytes : rng(32);
    const sig = i % 3 === 1 ? honestSig : rng(64);
    if (i % 2 === 0) sig[63] = (sig[63] ?? 0) & 0x0f; // S < L more often, so decoding goes further
    await agree(`random #${i} ${hex(A).slice(0, 8)}`, (p) => p.ed25519Verify(A, MSG, sig));
  }
});
