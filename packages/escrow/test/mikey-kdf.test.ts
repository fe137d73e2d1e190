// MIKEY PRF (RFC 3830 §4.1.2; PRF-HMAC-SHA-256 of RFC 6043 §6.1) and TGK key derivation (RFC 3830 §4.1.3).
// Neither RFC publishes a PRF test vector, and none is invented here: the PRF is checked against a second,
// independent computation written below with node:crypto's HMAC (a different HMAC implementation from
// @noble/hashes), structured differently (whole P-function output per inkey block, then XOR-folded). The Table
// 4.1.3 constants are checked against the decimal digits of e, computed here from the series sum 1/k!, as
// RFC 3830 §4.1.3 says they were chosen.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { seededRng } from '@sotto/test-support';
import { EscrowError, type EscrowErrorCode } from '../src/errors.ts';
import {
  deriveCallSrtpKeys,
  deriveSrtpMasterKeys,
  mikeyCsIds,
  mikeyDeriveFromTgk,
  mikeyPrf,
  mikeyTgkLabel,
  MIKEY_TGK_CONSTANT,
  SRTP_MASTER_KEY_BYTES,
  SRTP_MASTER_SALT_BYTES,
} from '../src/mikey/kdf.ts';
import type { MikeyPrfFunc } from '../src/mikey/i-message.ts';

/** PRF func 0 = MIKEY-1 with HMAC-SHA-1 (RFC 3830 §6.1 Table 6.1.c, §4.1.2). */
const PRF_MIKEY_1 = 0;
/** PRF func 1 = PRF-HMAC-SHA-256 (RFC 6043 §6.1 Table 6.3). */
const PRF_HMAC_SHA_256 = 1;
/** Output block of the P function: 160 bits for SHA-1 (RFC 3830 §4.1.2), 256 for SHA-256 (RFC 6043 §6.1). */
const HASH_FOR: Record<MikeyPrfFunc, { name: string; bytes: number }> = { 0: { name: 'sha1', bytes: 20 }, 1: { name: 'sha256', bytes: 32 } };

/** The independent reference: RFC 3830 §4.1.2 written out with node:crypto and Buffers. */
function referencePrf(prf: MikeyPrfFunc, inkey: Uint8Array, label: Uint8Array, outBytes: number): Buffer {
  const { name, bytes } = HASH_FOR[prf];
  const mac = (key: Buffer, data: Buffer): Buffer => createHmac(name, key).update(data).digest();
  const m = Math.ceil((outBytes * 8) / (bytes * 8)); //                m = outkey_len / hash bits, rounded up
  const blocks: Buffer[] = [];
  for (let off = 0; off < inkey.length; off += 32) blocks.push(Buffer.from(inkey.slice(off, off + 32))); // 256-bit s_i
  const lab = Buffer.from(label);
  const outputs = blocks.map((s) => {
    const parts: Buffer[] = [];
    let a: Buffer = lab;
    for (let i = 0; i < m; i++) {
      a = mac(s, a);
      parts.push(mac(s, Buffer.concat([a, lab])));
    }
    return Buffer.concat(parts);
  });
  const folded = outputs.reduce((x, y) => Buffer.from(x.map((v, i) => v ^ (y[i] ?? 0))));
  return folded.subarray(0, outBytes);
}

function assertEscrowError(fn: () => unknown, code: EscrowErrorCode, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof EscrowError && e.code === code, `${what}: expected ${code}`);
}

test('MIKEY PRF equals an independent node:crypto computation for both PRF funcs, many inkey/outkey lengths', () => {
  const rng = seededRng('mikey-prf');
  for (const prf of [PRF_MIKEY_1, PRF_HMAC_SHA_256] as const) {
    for (const inkeyBytes of [1, 16, 31, 32, 33, 64, 65, 100]) {
      for (const outBytes of [1, 14, 16, 20, 21, 32, 33, 64, 100]) {
        const inkey = rng(inkeyBytes);
        const label = rng(9 + 16);
        assert.deepEqual(
          Buffer.from(mikeyPrf(prf, inkey, label, outBytes)),
          referencePrf(prf, inkey, label, outBytes),
          `PRF func ${prf}, inkey ${inkeyBytes} octets, outkey ${outBytes} octets`,
        );
      }
    }
  }
});

test('MIKEY PRF: a shorter outkey is a prefix of a longer one; PRF funcs, inkeys and labels all matter', () => {
  const rng = seededRng('mikey-prf-prefix');
  const inkey = rng(16);
  const label = rng(25);
  const long = mikeyPrf(PRF_HMAC_SHA_256, inkey, label, 100);
  for (const n of [1, 16, 32, 33, 99]) assert.deepEqual(mikeyPrf(PRF_HMAC_SHA_256, inkey, label, n), long.slice(0, n), `prefix of length ${n}`);
  assert.notDeepEqual(mikeyPrf(PRF_MIKEY_1, inkey, label, 16), mikeyPrf(PRF_HMAC_SHA_256, inkey, label, 16), 'MIKEY-1 vs PRF-HMAC-SHA-256');
  const otherKey = inkey.slice();
  otherKey[0] = (otherKey[0] ?? 0) ^ 1;
  assert.notDeepEqual(mikeyPrf(PRF_HMAC_SHA_256, otherKey, label, 16), long.slice(0, 16), 'one inkey bit changed');
  // A second 256-bit inkey block is XORed in (RFC 3830 §4.1.2): an inkey of 33 octets differs from its first 32.
  const k33 = rng(33);
  assert.notDeepEqual(mikeyPrf(PRF_MIKEY_1, k33, label, 20), mikeyPrf(PRF_MIKEY_1, k33.slice(0, 32), label, 20), 'inkey block s_2');
});

test('MIKEY PRF rejects an unknown PRF func, an empty inkey and bad outkey lengths', () => {
  assertEscrowError(() => mikeyPrf(2 as MikeyPrfFunc, new Uint8Array(16), new Uint8Array(1), 16), 'ERR_ESCROW_ARGUMENT', 'PRF func 2');
  assertEscrowError(() => mikeyPrf(PRF_MIKEY_1, new Uint8Array(0), new Uint8Array(1), 16), 'ERR_ESCROW_ARGUMENT', 'empty inkey');
  for (const n of [0, -1, 1.5, 100_000]) assertEscrowError(() => mikeyPrf(PRF_MIKEY_1, new Uint8Array(16), new Uint8Array(1), n), 'ERR_ESCROW_ARGUMENT', `outkey ${n}`);
});

/** The first `chunks` nine-digit chunks of e's decimal expansion after "2.", from e = sum 1/k!. */
function digitsOfE(chunks: number): number[] {
  const digits = 9 * chunks + 20; // guard digits
  const scale = 10n ** BigInt(digits);
  let term = scale;
  let sum = 0n;
  for (let k = 1n; term > 0n; k++) {
    sum += term;
    term /= k;
  }
  const frac = (sum - 2n * scale).toString().padStart(digits, '0');
  return Array.from({ length: chunks }, (_, i) => Number(frac.slice(9 * i, 9 * i + 9)));
}

test('RFC 3830 §4.1.3 constants are consecutive nine-digit chunks of e, as the RFC says (TEK = 718281828)', () => {
  const e = digitsOfE(8);
  assert.equal(e[0], 718281828, 'first chunk of e, quoted by RFC 3830 §4.1.3');
  // Chunks 4-6 went to RFC 3830 §4.1.4's envelope constants; the TGK salting key took chunk 7.
  assert.equal(MIKEY_TGK_CONSTANT.TEK, e[0], 'TEK constant');
  assert.equal(MIKEY_TGK_CONSTANT.AUTHENTICATION, e[1], 'authentication key constant');
  assert.equal(MIKEY_TGK_CONSTANT.ENCRYPTION, e[2], 'encryption key constant');
  assert.equal(MIKEY_TGK_CONSTANT.SALT, e[6], 'salting key constant');
});

test('TGK label is constant || cs_id (8 bits) || csb_id (32 bits) || RAND (RFC 3830 §4.1.3, §4.1.1)', () => {
  const rand = seededRng('label-rand')(16);
  const label = mikeyTgkLabel(0x2ad01c64, 0xab, 0x01020304, rand);
  assert.deepEqual([...label.subarray(0, 9)], [0x2a, 0xd0, 0x1c, 0x64, 0xab, 0x01, 0x02, 0x03, 0x04], 'label header octets');
  assert.deepEqual(label.subarray(9), rand, 'label ends with RAND');
  assertEscrowError(() => mikeyTgkLabel(0x2ad01c64, 256, 0, rand), 'ERR_ESCROW_ARGUMENT', 'cs_id 256');
  assertEscrowError(() => mikeyTgkLabel(0x2ad01c64, 1, 2 ** 32, rand), 'ERR_ESCROW_ARGUMENT', 'csb_id 2^32');
});

test('SRTP master key = PRF(TGK, 0x2AD01C64 || …), master salt = PRF(TGK, 0x39A2C14B || …), default lengths', () => {
  const rng = seededRng('srtp-keys');
  const tgk = rng(16);
  const ctx = { prf: PRF_HMAC_SHA_256, csId: 1, csbId: 0xdeadbeef, rand: rng(16) } as const;
  const keys = deriveSrtpMasterKeys(tgk, ctx);
  assert.equal(SRTP_MASTER_KEY_BYTES, 16, 'RFC 3711 §8.2: 128-bit default master key');
  assert.equal(SRTP_MASTER_SALT_BYTES, 14, 'RFC 3711 §8.2: 112-bit default master salt');
  const labelHeader = (c: number): Uint8Array => Uint8Array.of(c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255, c & 255, 1, 0xde, 0xad, 0xbe, 0xef);
  const ref = (c: number, n: number): Buffer => referencePrf(PRF_HMAC_SHA_256, tgk, Buffer.concat([labelHeader(c), ctx.rand]), n);
  assert.deepEqual(Buffer.from(keys.masterKey), ref(0x2ad01c64, 16), 'master key');
  assert.deepEqual(Buffer.from(keys.masterSalt), ref(0x39a2c14b, 14), 'master salt');
  assert.deepEqual(mikeyDeriveFromTgk(tgk, MIKEY_TGK_CONSTANT.TEK, ctx, 16), keys.masterKey, 'TEK via mikeyDeriveFromTgk');
  const other = deriveSrtpMasterKeys(tgk, { ...ctx, csId: 2 });
  assert.notDeepEqual(other.masterKey, keys.masterKey, 'crypto sessions get distinct keys');
  assert.ok(!inspect(keys).includes(Buffer.from(keys.masterKey).toString('hex').slice(0, 8)), 'inspect does not show key bytes');
  assert.equal(inspect(keys), '[SrtpMasterKeys cs_id=1: redacted]', 'inspect output pinned');
  assert.equal(JSON.stringify(keys), '"[SrtpMasterKeys cs_id=1: redacted]"', 'JSON output pinned');
});

test('cs_id: SRTP-ID position (1-based, RFC 3830 §6.1.1) or GENERIC-ID CS ID (RFC 6043 §6.1.1)', () => {
  const entry = { policyNo: 0, ssrc: 0, roc: 0 };
  assert.deepEqual(mikeyCsIds({ type: 'srtp-id', sessions: [entry, entry, entry] }), [1, 2, 3], 'SRTP-ID');
  const g = (csId: number) => ({ csId, protType: 0, sFlag: false, policies: [], sessionData: new Uint8Array(0), spi: new Uint8Array(0) });
  assert.deepEqual(mikeyCsIds({ type: 'generic-id', sessions: [g(7), g(3)] }), [7, 3], 'GENERIC-ID');
});

test('per-session SRTP keys follow the session policy\'s key lengths (RFC 3830 §6.10.1), else the defaults', () => {
  const rng = seededRng('call-keys');
  const tgk = rng(16);
  const base = { csbId: 7, prfFunc: PRF_HMAC_SHA_256, timestamp: { type: 0, value: 0n }, rand: rng(16), sakkeData: new Uint8Array(0) } as const;
  const lengths = (encr: number, salt: number) => ({ policyNo: 3, protType: 0, params: [{ type: 1, value: Uint8Array.of(encr) }, { type: 4, value: Uint8Array.of(salt) }] });
  const keys = deriveCallSrtpKeys(tgk, {
    ...base,
    csIdMap: { type: 'srtp-id', sessions: [{ policyNo: 3, ssrc: 0, roc: 0 }, { policyNo: 9, ssrc: 0, roc: 0 }] },
    securityPolicies: [lengths(32, 12)],
  });
  assert.deepEqual(keys.map((k) => [k.csId, k.masterKey.length, k.masterSalt.length]), [[1, 32, 12], [2, 16, 14]], 'policy 3 sets 32/12; policy 9 is absent: defaults');
  const ctx = { prf: PRF_HMAC_SHA_256, csId: 2, csbId: 7, rand: base.rand } as const;
  assert.deepEqual(keys[1]?.masterKey, deriveSrtpMasterKeys(tgk, ctx).masterKey, 'default-length session matches deriveSrtpMasterKeys');
  assertEscrowError(
    () => deriveCallSrtpKeys(tgk, { ...base, csIdMap: { type: 'srtp-id', sessions: [{ policyNo: 3, ssrc: 0, roc: 0 }] }, securityPolicies: [lengths(0, 14)] }),
    'ERR_ESCROW_UNSUPPORTED_MESSAGE',
    'key length 0',
  );
});
