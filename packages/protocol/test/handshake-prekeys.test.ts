// Prekeys, bundles and the upload records (src/keys/prekeys.ts, src/wire/prekey-*.ts):
// signatures, key checks, every-bit tampering, strict codecs, redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { corpusAt, seededRng } from '@sotto/test-support';
import {
  IdentityKeyPair,
  KemPrekeyPrivate,
  OneTimePrekeyPrivate,
  SignedPrekeyPrivate,
  decodeKemPrekey,
  decodeOneTimePrekey,
  decodePrekeyBundle,
  decodeSignedPrekey,
  decodePrekeyUpload,
  encodePrekeyUpload,
  verifyPrekeyUpload,
  encodeKemPrekey,
  encodeOneTimePrekey,
  encodePrekeyBundle,
  encodeSignedPrekey,
  isProtocolError,
  parseMlKemPublicKey,
  parseX25519PublicKey,
  verifyOneTimePrekey,
  verifyPrekeyBundle,
  type PrekeyBundle,
  type PrekeyUpload,
  type ProtocolErrorCode,
} from '@sotto/protocol';
import { fromHex, toHex } from '../src/internal/bytes.ts';
import { bundleOf, crypto, makeDevice } from './handshake-fixtures.ts';

const rejectsWith = (codes: readonly ProtocolErrorCode[]) => (e: unknown) => {
  assert.ok(isProtocolError(e), `expected a ProtocolError, got ${String(e)}`);
  assert.ok(codes.includes(e.code), `expected one of ${codes.join(', ')}, got ${e.code}`);
  return true;
};

const device = makeDevice(crypto, seededRng('prekeys device'));

test('a bundle with a one-time prekey and one without both verify, and round-trip through the codec', async () => {
  const d = await device;
  for (const b of [bundleOf(d, { oneTime: 0 }), bundleOf(d, { kem: 'last-resort' })]) {
    const bytes = encodePrekeyBundle(b);
    assert.equal(bytes.length, b.oneTimePrekey === undefined ? 1772 : 1872, 'length per the byte table');
    const decoded = decodePrekeyBundle(bytes);
    assert.deepEqual(decoded, { ...b, identityKey: Uint8Array.from(b.identityKey), signedPrekey: { ...b.signedPrekey, publicKey: Uint8Array.from(b.signedPrekey.publicKey) }, ...(b.oneTimePrekey ? { oneTimePrekey: { ...b.oneTimePrekey, publicKey: Uint8Array.from(b.oneTimePrekey.publicKey) } } : {}), kemPrekey: { ...b.kemPrekey, publicKey: Uint8Array.from(b.kemPrekey.publicKey) } });
    const v = await verifyPrekeyBundle(crypto, decoded, d.identity.publicKey);
    assert.equal(toHex(v.identityKey), toHex(d.identity.publicKey));
    assert.equal(v.kemPrekey.lastResort, b.kemPrekey.lastResort);
  }
});

/** Regions of the encoded bundle (with a one-time prekey) and the codes a flipped bit there may give. */
const SIG_OR_KEY: readonly ProtocolErrorCode[] = ['ERR_SIGNATURE_INVALID', 'ERR_KEY_INVALID'];
const WIRE: readonly ProtocolErrorCode[] = ['ERR_WIRE_NON_CANONICAL', 'ERR_WIRE_TRUNCATED', 'ERR_WIRE_TRAILING_BYTES'];
const REGIONS: readonly { from: number; to: number; name: string; codes: readonly ProtocolErrorCode[] }[] = [
  { from: 0, to: 1, name: 'version', codes: ['ERR_WIRE_UNKNOWN_VERSION'] },
  { from: 1, to: 2, name: 'type', codes: ['ERR_WIRE_UNKNOWN_TYPE'] },
  { from: 2, to: 34, name: 'identity key', codes: SIG_OR_KEY },
  { from: 34, to: 38, name: 'signed prekey id', codes: ['ERR_SIGNATURE_INVALID'] },
  { from: 38, to: 70, name: 'signed prekey', codes: SIG_OR_KEY },
  { from: 70, to: 134, name: 'signed prekey signature', codes: ['ERR_SIGNATURE_INVALID'] },
  { from: 134, to: 135, name: 'one-time presence', codes: WIRE },
  { from: 135, to: 139, name: 'one-time prekey id', codes: ['ERR_SIGNATURE_INVALID'] },
  { from: 139, to: 171, name: 'one-time prekey', codes: SIG_OR_KEY },
  { from: 171, to: 235, name: 'one-time prekey signature', codes: ['ERR_SIGNATURE_INVALID'] },
  { from: 235, to: 239, name: 'KEM prekey id', codes: ['ERR_SIGNATURE_INVALID'] },
  { from: 239, to: 240, name: 'last-resort flag', codes: ['ERR_SIGNATURE_INVALID', 'ERR_WIRE_NON_CANONICAL'] },
  { from: 240, to: 1808, name: 'KEM prekey', codes: SIG_OR_KEY },
  { from: 1808, to: 1872, name: 'KEM prekey signature', codes: ['ERR_SIGNATURE_INVALID'] },
];

test('flipping a bit anywhere in a bundle is rejected with a typed error', async () => {
  // Every bit of the header, identity key, ids and flags; one bit (rotating) of every byte of the
  // X25519 keys and signatures; one bit of every 4th byte of the ML-KEM key. (Exhausting all 14 976
  // bits takes over a minute: a failed Ed25519 verification costs ~2 ms.)
  const d = await device;
  const good = encodePrekeyBundle(bundleOf(d, { oneTime: 1 }));
  assert.equal(good.length, 1872);
  let checked = 0;
  for (const region of REGIONS) {
    const everyBit = ['version', 'type', 'identity key', 'one-time presence', 'last-resort flag'].includes(region.name) || region.name.endsWith(' id');
    const step = region.name === 'KEM prekey' ? 4 : 1;
    for (let i = region.from; i < region.to; i += step) {
      const bits = everyBit ? [0, 1, 2, 3, 4, 5, 6, 7] : [(i >> (step === 4 ? 2 : 0)) % 8];
      for (const bit of bits) {
        const bad = good.slice();
        bad[i] = (bad[i] ?? 0) ^ (1 << bit);
        await assert.rejects(
          (async () => verifyPrekeyBundle(crypto, decodePrekeyBundle(bad)))(),
          rejectsWith(region.codes),
          `${region.name}: byte ${i} bit ${bit}`,
        );
        checked++;
      }
    }
  }
  assert.equal(checked, 8 * (2 + 32 + 4 + 1 + 4 + 4 + 1) + (32 + 64 + 32 + 64 + 64) + 1568 / 4);
});

test('a bundle whose identity differs from the expected one is ERR_BUNDLE_INVALID', async () => {
  const d = await device;
  const other = await IdentityKeyPair.generate(crypto, seededRng('other identity'));
  await assert.rejects(verifyPrekeyBundle(crypto, bundleOf(d), other.publicKey), rejectsWith(['ERR_BUNDLE_INVALID']));
});

test('a bundle re-signed under another identity, or with prekeys mixed from two devices, is rejected', async () => {
  const d = await device;
  const e = await makeDevice(crypto, seededRng('prekeys device 2'), { oneTime: 1, kemOneTime: 1 });
  const mixed: PrekeyBundle = { ...bundleOf(d), kemPrekey: bundleOf(e).kemPrekey };
  await assert.rejects(verifyPrekeyBundle(crypto, mixed), rejectsWith(['ERR_SIGNATURE_INVALID']));
  const swappedIdentity: PrekeyBundle = { ...bundleOf(d), identityKey: e.identity.publicKey };
  await assert.rejects(verifyPrekeyBundle(crypto, swappedIdentity), rejectsWith(['ERR_SIGNATURE_INVALID']));
});

test('signatures are domain-separated: a signed prekey does not verify as a one-time prekey, nor a one-time KEM key as last-resort', async () => {
  const d = await device;
  await assert.rejects(verifyOneTimePrekey(crypto, d.identity.publicKey, d.signedPrekey.public), rejectsWith(['ERR_SIGNATURE_INVALID']));
  const kem = d.kemPrekeys[0];
  assert.ok(kem);
  const relabelled: PrekeyBundle = { ...bundleOf(d), kemPrekey: { ...kem.public, lastResort: true } };
  await assert.rejects(verifyPrekeyBundle(crypto, relabelled), rejectsWith(['ERR_SIGNATURE_INVALID']));
  const renumbered: PrekeyBundle = { ...bundleOf(d), signedPrekey: { ...d.signedPrekey.public, id: d.signedPrekey.id + 1 } };
  await assert.rejects(verifyPrekeyBundle(crypto, renumbered), rejectsWith(['ERR_SIGNATURE_INVALID']));
});

test('X25519 keys: small-order and non-canonical encodings are ERR_KEY_INVALID (RFC 7748 §5, §6.1)', () => {
  const le = (n: bigint): Uint8Array => {
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  const p = (1n << 255n) - 19n;
  const bad = [
    0n,
    1n,
    325606250916557431795983626356110631294008115727848805560023387167927233504n,
    39382357235489614581723060781553021112529911719440698176882885853963445705823n,
    p - 1n,
    p,
    p + 1n,
    (1n << 255n) - 1n,
  ].map(le);
  const topBit = le(9n);
  topBit[31] = 0x80;
  for (const k of [...bad, topBit, new Uint8Array(31), new Uint8Array(33)]) {
    assert.throws(() => parseX25519PublicKey(k), rejectsWith(['ERR_KEY_INVALID']), toHex(k));
  }
  assert.equal(toHex(parseX25519PublicKey(le(9n))), toHex(le(9n)));
});

test('ML-KEM-1024 keys: wrong length and coefficients ≥ q are ERR_KEY_INVALID (FIPS 203 §7.2 modulus check)', async () => {
  const d = await device;
  const good = d.lastResort.public.publicKey;
  assert.equal(parseMlKemPublicKey(good).length, 1568);
  const high = good.slice();
  high[0] = 0xff; // d1 = 0x?FF with the low nibble of byte 1
  high[1] = (high[1] ?? 0) | 0x0f; // d1 = 0xFFF ≥ 3329
  assert.throws(() => parseMlKemPublicKey(high), rejectsWith(['ERR_KEY_INVALID']));
  const high2 = good.slice();
  high2[1535] = 0xff; // last coefficient's top byte: d2 ≥ 0xFF0 ≥ 3329
  assert.throws(() => parseMlKemPublicKey(high2), rejectsWith(['ERR_KEY_INVALID']));
  const rho = good.slice();
  rho[1567] = (rho[1567] ?? 0) ^ 0xff; // ρ is not range-checked
  assert.equal(parseMlKemPublicKey(rho).length, 1568);
  assert.throws(() => parseMlKemPublicKey(good.subarray(1)), rejectsWith(['ERR_KEY_INVALID']));
  // The provider agrees: encapsulating to such a key fails.
  await assert.rejects(crypto.mlKem1024Encapsulate(high, new Uint8Array(32)), rejectsWith(['ERR_KEY_INVALID']));
});

test('private prekeys never print their secrets, and restore from their exported secret', async () => {
  const d = await device;
  const opk = d.oneTimePrekeys[0];
  assert.ok(opk);
  assert.equal(String(d.signedPrekey), '[SignedPrekeyPrivate: redacted]');
  assert.equal(JSON.stringify({ k: opk }), '{"k":"[OneTimePrekeyPrivate: redacted]"}');
  assert.equal(inspect(d.lastResort, { showHidden: true, depth: 10 }), '[KemPrekeyPrivate: redacted]');
  for (const secret of [d.signedPrekey.exportSecret(), opk.exportSecret()]) {
    assert.ok(!inspect(d.signedPrekey).includes(toHex(secret)));
  }
  const spk = await SignedPrekeyPrivate.restore(crypto, d.signedPrekey.id, d.signedPrekey.exportSecret(), d.signedPrekey.public.signature);
  assert.equal(toHex(spk.public.publicKey), toHex(d.signedPrekey.public.publicKey));
  const o = await OneTimePrekeyPrivate.restore(crypto, opk.id, opk.exportSecret(), opk.public.signature);
  assert.equal(toHex(o.public.publicKey), toHex(opk.public.publicKey));
  const k = await KemPrekeyPrivate.restore(crypto, d.lastResort.id, true, d.lastResort.exportSecret(), d.lastResort.public.signature);
  assert.equal(toHex(k.public.publicKey), toHex(d.lastResort.public.publicKey));
  assert.equal(k.lastResort, true);
});

test('prekey ids must be u32 (ERR_ARGUMENT)', async () => {
  const d = await device;
  const rng = seededRng('ids');
  for (const id of [-1, 2 ** 32, 1.5, Number.NaN]) {
    await assert.rejects(SignedPrekeyPrivate.generate(crypto, rng, d.identity, id), rejectsWith(['ERR_ARGUMENT']), String(id));
  }
  await assert.rejects(verifyPrekeyBundle(crypto, { ...bundleOf(d), signedPrekey: { ...d.signedPrekey.public, id: 2 ** 32 + d.signedPrekey.id } }), rejectsWith(['ERR_ARGUMENT']));
});

// ---- codecs (fast-check) -----------------------------------------------------------------------

const corpus = corpusAt(new URL('corpus/', import.meta.url));

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const ecRecord = fc.record({ id: u32, publicKey: bytes(32), signature: bytes(64) }, { noNullPrototype: true });
const kemRecord = fc.record({ id: u32, lastResort: fc.boolean(), publicKey: bytes(1568), signature: bytes(64) }, { noNullPrototype: true });
const bundleArb: fc.Arbitrary<PrekeyBundle> = fc
  .record({ identityKey: bytes(32), signedPrekey: ecRecord, otp: fc.option(ecRecord, { nil: undefined }), kemPrekey: kemRecord }, { noNullPrototype: true })
  .map(({ otp, ...rest }) => (otp === undefined ? rest : { ...rest, oneTimePrekey: otp }));

test('codecs round-trip: bundle, signed / one-time / KEM prekey records', async () => {
  await corpus.check('prekey-bundle-roundtrip', bundleArb, (b) => { assert.deepEqual(decodePrekeyBundle(encodePrekeyBundle(b)), b); }, { numRuns: 100 });
  await corpus.check('prekey-signed-prekey-roundtrip', ecRecord, (p) => { assert.deepEqual(decodeSignedPrekey(encodeSignedPrekey(p)), p); }, { numRuns: 100 });
  await corpus.check('prekey-one-time-prekey-roundtrip', ecRecord, (p) => { assert.deepEqual(decodeOneTimePrekey(encodeOneTimePrekey(p)), p); }, { numRuns: 100 });
  await corpus.check('prekey-kem-prekey-roundtrip', kemRecord, (p) => { assert.deepEqual(decodeKemPrekey(encodeKemPrekey(p)), p); }, { numRuns: 100 });
});

test('the upload records of a real device decode and verify; their lengths match the byte tables', async () => {
  const d = await device;
  const opk = d.oneTimePrekeys[0];
  assert.ok(opk);
  assert.equal(encodeSignedPrekey(d.signedPrekey.public).length, 102);
  assert.equal(encodeOneTimePrekey(opk.public).length, 102);
  assert.equal(encodeKemPrekey(d.lastResort.public).length, 1639);
  const b: PrekeyBundle = {
    identityKey: d.identity.publicKey,
    signedPrekey: decodeSignedPrekey(encodeSignedPrekey(d.signedPrekey.public)),
    oneTimePrekey: decodeOneTimePrekey(encodeOneTimePrekey(opk.public)),
    kemPrekey: decodeKemPrekey(encodeKemPrekey(d.lastResort.public)),
  };
  await verifyPrekeyBundle(crypto, b);
});

const decoders: readonly [string, (b: Uint8Array) => unknown, (v: never) => Uint8Array][] = [
  ['bundle', decodePrekeyBundle, encodePrekeyBundle],
  ['signed prekey', decodeSignedPrekey, encodeSignedPrekey],
  ['one-time prekey', decodeOneTimePrekey, encodeOneTimePrekey],
  ['KEM prekey', decodeKemPrekey, encodeKemPrekey],
];

test('random bytes give a typed ProtocolError or a value that re-encodes to the same bytes', async () => {
  for (const [name, decode, encode] of decoders) {
    // Start most inputs with a valid version and a random type so the decoders get past the first byte.
    const input = fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.tuple(fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 2000 })).map(([t, rest]) => Uint8Array.of(1, t, ...rest)));
    await corpus.check(
      `prekey-${name.toLowerCase().replaceAll(' ', '-')}-random-bytes`,
      input,
      (b) => {
        let v: unknown;
        try {
          v = decode(b);
        } catch (e) {
          assert.ok(isProtocolError(e), `${name}: ${String(e)}`);
          return;
        }
        assert.equal(toHex(encode(v as never)), toHex(b), `${name}: canonical`);
      },
      { numRuns: 300 },
    );
  }
});

test('decoders reject trailing bytes, flag bytes other than 0/1, and other message types', async () => {
  const d = await device;
  const good = encodePrekeyBundle(bundleOf(d));
  assert.throws(() => decodePrekeyBundle(Uint8Array.of(...good, 0)), rejectsWith(['ERR_WIRE_TRAILING_BYTES']));
  const flag = good.slice();
  flag[134] = 2;
  assert.throws(() => decodePrekeyBundle(flag), rejectsWith(['ERR_WIRE_NON_CANONICAL']));
  const lr = good.slice();
  lr[134 + 1 + 4] = 7; // last-resort flag of a bundle without a one-time prekey
  assert.throws(() => decodePrekeyBundle(lr), rejectsWith(['ERR_WIRE_NON_CANONICAL']));
  assert.throws(() => decodeSignedPrekey(encodeOneTimePrekey(d.signedPrekey.public)), rejectsWith(['ERR_WIRE_UNKNOWN_TYPE']));
  assert.throws(() => decodePrekeyBundle(fromHex('02' + toHex(good.subarray(1)))), rejectsWith(['ERR_WIRE_UNKNOWN_VERSION']));
});

// ---- batch upload (wire/prekey-upload.ts) ------------------------------------------------------

test('prekey upload: a real device\'s upload round-trips and verifies; every part is optional', async () => {
  const d = await device;
  const full: PrekeyUpload = {
    identityKey: d.identity.publicKey,
    signedPrekey: d.signedPrekey.public,
    lastResortKemPrekey: d.lastResort.public,
    oneTimePrekeys: d.oneTimePrekeys.map((k) => k.public),
    kemPrekeys: d.kemPrekeys.map((k) => k.public),
  };
  const bytes = encodePrekeyUpload(full);
  assert.equal(bytes.length, 2 + 32 + 1 + 100 + 1 + 1636 + 2 + 100 * d.oneTimePrekeys.length + 2 + 1636 * d.kemPrekeys.length);
  const back = decodePrekeyUpload(bytes);
  assert.equal(toHex(encodePrekeyUpload(back)), toHex(bytes));
  await verifyPrekeyUpload(crypto, back, d.identity.publicKey);
  const refill: PrekeyUpload = { identityKey: d.identity.publicKey, oneTimePrekeys: d.oneTimePrekeys.map((k) => k.public), kemPrekeys: [] };
  assert.deepEqual(decodePrekeyUpload(encodePrekeyUpload(refill)), { ...refill, identityKey: Uint8Array.from(refill.identityKey), oneTimePrekeys: refill.oneTimePrekeys.map((p) => ({ ...p, publicKey: Uint8Array.from(p.publicKey) })) });
  await verifyPrekeyUpload(crypto, refill);
});

test('prekey upload: forged signatures, duplicate ids, wrong flags, foreign identity and too many keys are rejected', async () => {
  const d = await device;
  const other = await IdentityKeyPair.generate(crypto, seededRng('upload other'));
  const opks = d.oneTimePrekeys.map((k) => k.public);
  const base: PrekeyUpload = { identityKey: d.identity.publicKey, signedPrekey: d.signedPrekey.public, lastResortKemPrekey: d.lastResort.public, oneTimePrekeys: opks, kemPrekeys: d.kemPrekeys.map((k) => k.public) };
  const first = opks[0];
  assert.ok(first);
  const cases: readonly [string, PrekeyUpload, ProtocolErrorCode][] = [
    ['foreign identity', { ...base, identityKey: other.publicKey }, 'ERR_SIGNATURE_INVALID'],
    ['flipped one-time key', { ...base, oneTimePrekeys: [{ ...first, publicKey: first.publicKey.map((x, i) => (i === 3 ? x ^ 1 : x)) }] }, 'ERR_SIGNATURE_INVALID'],
    ['duplicate one-time id', { ...base, oneTimePrekeys: [first, first] }, 'ERR_BUNDLE_INVALID'],
    ['last-resort id reused by a one-time KEM key', { ...base, kemPrekeys: [{ ...d.lastResort.public, lastResort: false }] }, 'ERR_BUNDLE_INVALID'],
    ['one-time KEM key flagged last-resort', { ...base, lastResortKemPrekey: undefined, kemPrekeys: [d.lastResort.public] }, 'ERR_BUNDLE_INVALID'],
  ];
  for (const [name, u, code] of cases) await assert.rejects(verifyPrekeyUpload(crypto, u), rejectsWith([code]), name);
  await assert.rejects(verifyPrekeyUpload(crypto, base, other.publicKey), rejectsWith(['ERR_BUNDLE_INVALID']));
  assert.throws(() => encodePrekeyUpload({ ...base, kemPrekeys: [d.lastResort.public] }), rejectsWith(['ERR_ARGUMENT']));
  assert.throws(() => encodePrekeyUpload({ ...base, oneTimePrekeys: new Array<typeof first>(101).fill(first) }), rejectsWith(['ERR_ARGUMENT']));
  // A count above the limit is refused by the decoder before reading the entries.
  const tooMany = encodePrekeyUpload({ identityKey: d.identity.publicKey, oneTimePrekeys: [], kemPrekeys: [] });
  tooMany[tooMany.length - 4] = 0;
  tooMany[tooMany.length - 3] = 101;
  assert.throws(() => decodePrekeyUpload(tooMany), rejectsWith(['ERR_WIRE_BAD_LENGTH']));
  await corpus.check(
    'prekey-upload-random-bytes',
    fc.uint8Array({ maxLength: 400 }),
    (b) => {
      try {
        assert.equal(toHex(encodePrekeyUpload(decodePrekeyUpload(Uint8Array.of(1, 0x0c, ...b)))), toHex(Uint8Array.of(1, 0x0c, ...b)));
      } catch (e) {
        assert.ok(isProtocolError(e), String(e));
      }
    },
    { numRuns: 300 },
  );
});
