// The MIKEY-SAKKE I_MESSAGE codec (RFC 6509 §2.1, §4; RFC 3830 §5.2, §6; RFC 6043 §6.1, §6.6). RFC 6509 publishes
// no encoded I_MESSAGE, so this file tests by round trip (fixed and property-based), by byte-layout assertions
// whose code points are read from the vector summary (../shared/vectors/rfc6509-mikey-sakke/mikey-sakke-summary.md,
// quoting RFC 6509 §4 / RFC 3830 §6.1 / RFC 6043 §6.1), and by strict-decoder rejections with typed codes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { seededRng, vectorPath } from '@sotto/test-support';
import { EscrowError, type EscrowErrorCode } from '../src/errors.ts';
import {
  decodeIMessage,
  encodeIMessage,
  encodeIMessageSignedPart,
  ntpFromUnixMs,
  unixMsFromNtp,
  type MikeyIdr,
  type MikeySakkeIMessage,
} from '../src/mikey/i-message.ts';
import { keyPeriodOfNtp, mikeySakkeIdentifier } from '../src/mikey/kms.ts';

// ---------------------------------------------------------------------------------------------------------
// Code points, read from the summary of the RFC text (never typed in by hand)

const summary = readFileSync(vectorPath('rfc6509-mikey-sakke/mikey-sakke-summary.md'), 'utf8');

/** The integer in the summary's "Code points" table row whose first column is `field` (RFC 6509 §4, §7). */
function tableValue(field: string): number {
  const m = new RegExp(`^\\| ${field.replace(/[()]/g, '\\$&')} \\| (\\d+)`, 'm').exec(summary);
  assert.ok(m?.[1] !== undefined, `summary table row "${field}" missing`);
  return Number(m[1]);
}
/** A "NAME = value" code point quoted in the summary's prose (RFC 3830 Table 6.1.b, RFC 6043 Table 6.2). */
function proseValue(name: string): number {
  const m = new RegExp(`${name} = (0x[0-9a-fA-F]+|\\d+)`).exec(summary);
  assert.ok(m?.[1] !== undefined, `summary value "${name}" missing`);
  return Number(m[1]);
}

/** HDR data type "SAKKE msg" (RFC 6509 §4.1 Table 1). */
const DATA_TYPE_SAKKE = tableValue('HDR data type');
/** Next payload SAKKE (RFC 6509 §4.1 Table 2). */
const NEXT_SAKKE = tableValue('Next payload');
/** S type ECCSI (RFC 6509 §4.3 Table 6). */
const S_TYPE_ECCSI = tableValue('SIGN S type');
/** SAKKE params: Parameter Set 1 (RFC 6509 §4.2 Table 4). */
const SAKKE_PARAMS_1 = tableValue('SAKKE params');
/** ID scheme: tel URI with monthly keys (RFC 6509 §4.2 Table 5). */
const ID_SCHEME_1 = tableValue('ID scheme');
/** Next payload SIGN, T, RAND, Last (RFC 3830 §6.1 Table 6.1.b) and IDR (RFC 6043 §6.1 Table 6.2). */
const NEXT_SIGN = proseValue('SIGN');
const NEXT_T = proseValue('T');
const NEXT_RAND = proseValue('RAND');
const NEXT_LAST = proseValue('Last payload');
const NEXT_IDR = proseValue('IDR');
/** MIKEY version (RFC 3830 §6.1). */
const VERSION = proseValue('MIKEY version');
/** SAKKE data length for Parameter Set 1: "1 + 128 + 128 + 16 = 273 octets" (RFC 6508 §4 via the summary). */
const SAKKE_DATA_BYTES = Number(/= (\d+) octets \(the\s+arithmetic/.exec(summary)?.[1]);
/** ECCSI signature r || s || PVT: "4N+1 = 129 octets for P-256" (RFC 6507 §3.3 via the summary). */
const SIGNATURE_BYTES = Number(/4N\+1 = (\d+) octets/.exec(summary)?.[1]);
/** Next payload SP (RFC 3830 §6.1 Table 6.1.b) and CERT (ibid.): not in the summary, from RFC 3830 Table 6.1.b. */
const NEXT_SP = 10;
const NEXT_CERT = 7;
/** CS ID map types SRTP-ID 0 (RFC 3830 Table 6.1.d) and GENERIC-ID 2 (RFC 6043 Table 6.4). */
const MAP_SRTP_ID = 0;
const MAP_GENERIC_ID = 2;

test('the code points this test uses were found in the summary', () => {
  assert.deepEqual(
    { DATA_TYPE_SAKKE, NEXT_SAKKE, S_TYPE_ECCSI, SAKKE_PARAMS_1, ID_SCHEME_1, NEXT_SIGN, NEXT_T, NEXT_RAND, NEXT_LAST, NEXT_IDR, VERSION, SAKKE_DATA_BYTES, SIGNATURE_BYTES },
    { DATA_TYPE_SAKKE: 26, NEXT_SAKKE: 26, S_TYPE_ECCSI: 2, SAKKE_PARAMS_1: 1, ID_SCHEME_1: 1, NEXT_SIGN: 4, NEXT_T: 5, NEXT_RAND: 11, NEXT_LAST: 0, NEXT_IDR: 14, VERSION: 1, SAKKE_DATA_BYTES: 273, SIGNATURE_BYTES: 129 },
    'summary parse (a mismatch means the summary or the regexes changed)',
  );
});

// ---------------------------------------------------------------------------------------------------------
// Fixtures

const rng = seededRng('mikey-i-message');
const utf8 = new TextEncoder();
const uri = (s: string): MikeyIdr => ({ idType: 1, data: utf8.encode(s) });

/** A minimal message: SRTP-ID map with one CS, no IDR, no SP. Fake SAKKE data / signature (the codec checks lengths only). */
const minimal: MikeySakkeIMessage = {
  csbId: 0x01020304,
  prfFunc: 1,
  csIdMap: { type: 'srtp-id', sessions: [{ policyNo: 0, ssrc: 0xa1a2a3a4, roc: 0xb1b2b3b4 }] },
  timestamp: { type: 0, value: 0xc1c2c3c4c5c6c7c8n },
  rand: rng(16),
  securityPolicies: [],
  sakkeData: rng(SAKKE_DATA_BYTES),
  signature: rng(SIGNATURE_BYTES),
};

/** A full message: GENERIC-ID with two CSs, all four IDRs, two SPs. */
const full: MikeySakkeIMessage = {
  csbId: 0xfffffffe,
  prfFunc: 0,
  csIdMap: {
    type: 'generic-id',
    sessions: [
      { csId: 1, protType: 0, sFlag: false, policies: [0], sessionData: new Uint8Array(0), spi: new Uint8Array(0) },
      { csId: 9, protType: 0, sFlag: true, policies: [0, 1], sessionData: rng(10), spi: rng(4) },
    ],
  },
  timestamp: { type: 1, value: ntpFromUnixMs(Date.UTC(2026, 10, 22, 12)) },
  rand: rng(32),
  idri: uri('tel:+447700900123'),
  idrr: uri('tel:+447700900456'),
  idrkmsi: { idType: 0, data: utf8.encode('kms.example.org') },
  idrkmsr: { idType: 2, data: rng(5) },
  securityPolicies: [
    { policyNo: 0, protType: 0, params: [{ type: 0, value: Uint8Array.of(1) }, { type: 1, value: Uint8Array.of(16) }] },
    { policyNo: 1, protType: 0, params: [] },
  ],
  sakkeData: rng(SAKKE_DATA_BYTES),
  signature: rng(SIGNATURE_BYTES),
};

function assertEscrowError(fn: () => unknown, code: EscrowErrorCode, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof EscrowError && e.code === code, `${what}: expected ${code}`);
}

function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  out[offset] = value;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Round trips

test('round trip: minimal and full messages decode to what was encoded, and re-encode to the same octets', () => {
  for (const [name, msg] of [['minimal', minimal], ['full', full]] as const) {
    const bytes = encodeIMessage(msg);
    const { message, signedPart } = decodeIMessage(bytes);
    assert.deepEqual(message, msg, `${name}: decode(encode(m)) = m`);
    assert.deepEqual(signedPart, encodeIMessageSignedPart(msg), `${name}: signedPart = encodeIMessageSignedPart`);
    assert.deepEqual(encodeIMessage(message), bytes, `${name}: encode(decode(b)) = b`);
    assert.deepEqual(bytes.subarray(signedPart.length), msg.signature, `${name}: the signature is exactly what follows the signed part`);
  }
});

const arbIdr = fc.record({ idType: fc.constantFrom(0 as const, 1 as const, 2 as const), data: fc.uint8Array({ maxLength: 40 }) });
const arbMessage: fc.Arbitrary<MikeySakkeIMessage> = fc
  .record({
    csbId: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    prfFunc: fc.constantFrom(0 as const, 1 as const),
    csIdMap: fc.oneof(
      fc.record({
        type: fc.constant('srtp-id' as const),
        sessions: fc.array(fc.record({ policyNo: fc.integer({ min: 0, max: 255 }), ssrc: fc.integer({ min: 0, max: 2 ** 32 - 1 }), roc: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }), { maxLength: 4 }),
      }),
      fc.record({
        type: fc.constant('generic-id' as const),
        sessions: fc.uniqueArray(
          fc.record({
            csId: fc.integer({ min: 0, max: 255 }),
            protType: fc.integer({ min: 0, max: 255 }),
            sFlag: fc.boolean(),
            policies: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 5 }),
            sessionData: fc.uint8Array({ maxLength: 20 }),
            spi: fc.uint8Array({ maxLength: 8 }),
          }),
          { maxLength: 4, selector: (s) => s.csId },
        ),
      }),
    ),
    timestamp: fc.record({ type: fc.constantFrom(0 as const, 1 as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    rand: fc.uint8Array({ minLength: 16, maxLength: 255 }),
    idri: fc.option(arbIdr, { nil: undefined }),
    idrr: fc.option(arbIdr, { nil: undefined }),
    idrkmsi: fc.option(arbIdr, { nil: undefined }),
    idrkmsr: fc.option(arbIdr, { nil: undefined }),
    securityPolicies: fc.array(
      fc.record({
        policyNo: fc.integer({ min: 0, max: 255 }),
        protType: fc.integer({ min: 0, max: 255 }),
        params: fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 20 }) }), { maxLength: 4 }),
      }),
      { maxLength: 3 },
    ),
    sakkeData: fc.uint8Array({ minLength: 273, maxLength: 273 }),
    signature: fc.uint8Array({ minLength: 129, maxLength: 129 }),
  })
  .map(({ idri, idrr, idrkmsi, idrkmsr, ...rest }) => ({
    ...rest,
    ...(idri === undefined ? {} : { idri }),
    ...(idrr === undefined ? {} : { idrr }),
    ...(idrkmsi === undefined ? {} : { idrkmsi }),
    ...(idrkmsr === undefined ? {} : { idrkmsr }),
  }));

test('property: decode(encode(m)) = m for arbitrary well-formed messages', () => {
  fc.assert(
    fc.property(arbMessage, (m) => {
      // structuredClone: fast-check builds records with a null prototype; the decoder returns plain objects
      assert.deepEqual(decodeIMessage(encodeIMessage(m)).message, structuredClone(m));
    }),
    { numRuns: 300 },
  );
});

test('property: a mutated message gives a typed error or a canonical message that re-encodes to the same octets', () => {
  const valid = encodeIMessage(full);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -3, max: 3 }), (at, value, cut) => {
      let bytes = withByte(valid, at, value);
      if (cut < 0) bytes = bytes.slice(0, bytes.length + cut);
      if (cut > 0) bytes = Uint8Array.from([...bytes, ...new Uint8Array(cut)]);
      try {
        const { message } = decodeIMessage(bytes);
        assert.deepEqual(encodeIMessage(message), bytes, 'accepted input must be canonical');
      } catch (e) {
        assert.ok(
          e instanceof EscrowError && (e.code === 'ERR_ESCROW_MALFORMED_MESSAGE' || e.code === 'ERR_ESCROW_UNSUPPORTED_MESSAGE'),
          `typed decoder error expected, got ${String(e)}`,
        );
      }
    }),
    { numRuns: 1000 },
  );
});

// ---------------------------------------------------------------------------------------------------------
// Byte layout (offsets per RFC 3830 §6.1, §6.6, §6.11, §6.5; RFC 6509 §4.2; RFC 6043 §6.6)

test('byte layout of the minimal message matches RFC 3830 §6 / RFC 6509 §4 field by field', () => {
  const b = encodeIMessage(minimal);
  const u32 = (o: number): number => new DataView(b.buffer, b.byteOffset + o, 4).getUint32(0);
  // HDR: version, data type, next payload, V|PRF func, CSB ID, #CS, CS ID map type (RFC 3830 §6.1)
  assert.equal(b[0], VERSION, 'HDR[0] version');
  assert.equal(b[1], DATA_TYPE_SAKKE, 'HDR[1] data type SAKKE msg');
  assert.equal(b[2], NEXT_T, 'HDR[2] next payload = T');
  assert.equal(b[3], 0x01, 'HDR[3] V = 0, PRF func = 1');
  assert.equal(u32(4), 0x01020304, 'HDR[4..7] CSB ID');
  assert.equal(b[8], 1, 'HDR[8] #CS');
  assert.equal(b[9], MAP_SRTP_ID, 'HDR[9] CS ID map type SRTP-ID');
  // SRTP-ID entry: Policy_no(1) SSRC(4) ROC(4) (RFC 3830 §6.1.1)
  assert.equal(b[10], 0, 'Policy_no_1');
  assert.equal(u32(11), 0xa1a2a3a4, 'SSRC_1');
  assert.equal(u32(15), 0xb1b2b3b4, 'ROC_1');
  // T at 19: next, TS type, 64-bit value (RFC 3830 §6.6)
  const t = 19;
  assert.equal(b[t], NEXT_RAND, 'T next payload = RAND');
  assert.equal(b[t + 1], 0, 'TS type NTP-UTC');
  assert.equal(new DataView(b.buffer, b.byteOffset + t + 2, 8).getBigUint64(0), 0xc1c2c3c4c5c6c7c8n, 'TS value');
  // RAND at 29: next, len, RAND (RFC 3830 §6.11)
  const r = t + 10;
  assert.equal(b[r], NEXT_SAKKE, 'RAND next payload = SAKKE');
  assert.equal(b[r + 1], 16, 'RAND len');
  assert.deepEqual(b.subarray(r + 2, r + 18), minimal.rand, 'RAND');
  // SAKKE at 47: next, SAKKE params, ID scheme, 16-bit length, data (RFC 6509 §4.2)
  const s = r + 18;
  assert.equal(b[s], NEXT_SIGN, 'SAKKE next payload = SIGN');
  assert.equal(b[s + 1], SAKKE_PARAMS_1, 'SAKKE params');
  assert.equal(b[s + 2], ID_SCHEME_1, 'ID scheme');
  assert.equal(((b[s + 3] ?? 0) << 8) | (b[s + 4] ?? 0), SAKKE_DATA_BYTES, 'SAKKE data length');
  assert.deepEqual(b.subarray(s + 5, s + 5 + SAKKE_DATA_BYTES), minimal.sakkeData, 'SAKKE data');
  // SIGN: S type (4 bits) | Signature len (12 bits), then the signature (RFC 3830 §6.5); no Next payload field
  const g = s + 5 + SAKKE_DATA_BYTES;
  assert.equal((b[g] ?? 0) >> 4, S_TYPE_ECCSI, 'S type ECCSI');
  assert.equal((((b[g] ?? 0) & 0x0f) << 8) | (b[g + 1] ?? 0), SIGNATURE_BYTES, 'Signature len');
  assert.deepEqual(b.subarray(g + 2), minimal.signature, 'signature');
  assert.equal(b.length, g + 2 + SIGNATURE_BYTES, 'total length');
  // What ECCSI signs: everything up to and including the SIGN header (RFC 3830 §5.2)
  assert.deepEqual(decodeIMessage(b).signedPart, b.subarray(0, g + 2), 'signed part ends after the SIGN header');
});

test('byte layout of IDR (RFC 6043 §6.6), SP (RFC 3830 §6.10) and GENERIC-ID (RFC 6043 §6.1.1) payloads', () => {
  const b = encodeIMessage(full);
  assert.equal(b[9], MAP_GENERIC_ID, 'CS ID map type GENERIC-ID');
  // GENERIC-ID entry 1 at 10: CS ID 1, Prot type 0, S|#P = 0x01, Ps [0], Session Data Length 0, SPI Length 0
  assert.deepEqual([...b.subarray(10, 17)], [1, 0, 0x01, 0, 0, 0, 0], 'GENERIC-ID entry 1');
  // entry 2 at 17: CS ID 9, Prot 0, S=1|#P=2 → 0x82, Ps [0,1], length 10, data, SPI length 4, SPI
  assert.deepEqual([...b.subarray(17, 23)], [9, 0, 0x82, 0, 1, 0], 'GENERIC-ID entry 2 header');
  assert.equal(b[23], 10, 'GENERIC-ID entry 2 Session Data Length');
  const t = 17 + 5 + 2 + 10 + 1 + 4;
  assert.equal(b[t], NEXT_RAND, 'T follows the map');
  const r = t + 10;
  assert.equal(b[r], NEXT_IDR, 'RAND next payload = IDR');
  const i = r + 2 + 32;
  // IDRi: next = IDR, role 1, type URI 1, len 17, data
  assert.deepEqual([...b.subarray(i, i + 5)], [NEXT_IDR, 1, 1, 0, 17], 'IDRi header');
  assert.equal(new TextDecoder().decode(b.subarray(i + 5, i + 22)), 'tel:+447700900123', 'IDRi data');
  const ir = i + 22;
  assert.deepEqual([...b.subarray(ir, ir + 5)], [NEXT_IDR, 2, 1, 0, 17], 'IDRr header');
  const ik = ir + 22;
  assert.deepEqual([...b.subarray(ik, ik + 5)], [NEXT_IDR, 6, 0, 0, 15], 'IDRkmsi header (role 6, RFC 6509 §4.4)');
  const ikr = ik + 20;
  assert.deepEqual([...b.subarray(ikr, ikr + 5)], [NEXT_SP, 7, 2, 0, 5], 'IDRkmsr header (role 7), next = SP');
  const sp = ikr + 10;
  assert.deepEqual([...b.subarray(sp, sp + 11)], [NEXT_SP, 0, 0, 0, 6, 0, 1, 1, 1, 1, 16], 'SP 0: header + TLVs');
  assert.deepEqual([...b.subarray(sp + 11, sp + 16)], [NEXT_SAKKE, 1, 0, 0, 0], 'SP 1, next = SAKKE');
});

// ---------------------------------------------------------------------------------------------------------
// Strict decoder

test('every truncation is ERR_ESCROW_MALFORMED_MESSAGE, and so is any trailing octet', () => {
  for (const msg of [minimal, full]) {
    const b = encodeIMessage(msg);
    for (let n = 0; n < b.length; n++) assertEscrowError(() => decodeIMessage(b.subarray(0, n)), 'ERR_ESCROW_MALFORMED_MESSAGE', `prefix of ${n} octets`);
    assertEscrowError(() => decodeIMessage(Uint8Array.from([...b, 0])), 'ERR_ESCROW_MALFORMED_MESSAGE', 'one trailing octet');
  }
});

test('wrong version, data type and other unknown code points are ERR_ESCROW_UNSUPPORTED_MESSAGE', () => {
  const b = encodeIMessage(minimal);
  const s = 47; // SAKKE payload offset in the minimal message (see the layout test)
  const g = s + 5 + SAKKE_DATA_BYTES;
  const cases: [string, number, number][] = [
    ['version 0', 0, 0],
    ['version 2', 0, 2],
    ['data type 2 (Public key)', 1, 2],
    ['PRF func 2', 3, 2],
    ['CS ID map type 1', 9, 1],
    ['TS type 2 (COUNTER)', 20, 2],
    ['SAKKE params 2', s + 1, 2],
    ['SAKKE params 0 (reserved)', s + 1, 0],
    ['ID scheme 2', s + 2, 2],
    ['S type 0 (RSA)', g, (0 << 4) | ((b[g] ?? 0) & 0x0f)],
  ];
  for (const [what, at, value] of cases) assertEscrowError(() => decodeIMessage(withByte(b, at, value)), 'ERR_ESCROW_UNSUPPORTED_MESSAGE', what);
});

test('wrong Next payload, out-of-order or repeated payloads, V = 1, CERT, bad lengths are ERR_ESCROW_MALFORMED_MESSAGE', () => {
  const b = encodeIMessage(minimal);
  const s = 47;
  const g = s + 5 + SAKKE_DATA_BYTES;
  const cases: [string, number, number][] = [
    ['HDR next = RAND (T skipped)', 2, NEXT_RAND],
    ['HDR next = Last payload', 2, NEXT_LAST],
    ['T next = SAKKE (RAND skipped)', 19, NEXT_SAKKE],
    ['RAND next = CERT (forbidden with ECCSI, RFC 6509 §2.2.1)', 29, NEXT_CERT],
    ['RAND next = SIGN (SAKKE skipped)', 29, NEXT_SIGN],
    ['SAKKE next = Last payload', s, NEXT_LAST],
    ['SAKKE next = SAKKE', s, NEXT_SAKKE],
    ['V bit set', 3, 0x81],
    ['RAND len 15', 30, 15],
    ['SAKKE data length 272', s + 4, (SAKKE_DATA_BYTES - 1) & 0xff],
    ['Signature len 128', g + 1, (SIGNATURE_BYTES - 1) & 0xff],
  ];
  for (const [what, at, value] of cases) assertEscrowError(() => decodeIMessage(withByte(b, at, value)), 'ERR_ESCROW_MALFORMED_MESSAGE', what);

  // IDRr before IDRi, and IDRi twice (RFC 6509 §2.1 Figure 1 order)
  const two = encodeIMessage({ ...minimal, idri: uri('tel:+1'), idrr: uri('tel:+2') });
  const first = 47; // first IDR payload: after RAND
  const second = first + 5 + 6;
  assert.equal(two[first + 1], 1, 'fixture: IDRi role at the first IDR');
  assertEscrowError(() => decodeIMessage(withByte(withByte(two, first + 1, 2), second + 1, 1)), 'ERR_ESCROW_MALFORMED_MESSAGE', 'IDRr before IDRi');
  assertEscrowError(() => decodeIMessage(withByte(two, second + 1, 1)), 'ERR_ESCROW_MALFORMED_MESSAGE', 'IDRi twice');
  assertEscrowError(() => decodeIMessage(withByte(two, second + 1, 3)), 'ERR_ESCROW_UNSUPPORTED_MESSAGE', 'ID Role 3');
  // A repeated GENERIC-ID CS ID: keys are derived per CS ID
  const g2 = encodeIMessage(full);
  assertEscrowError(() => decodeIMessage(withByte(g2, 17, 1)), 'ERR_ESCROW_MALFORMED_MESSAGE', 'CS ID repeated');
  assertEscrowError(() => decodeIMessage(new Uint8Array(0)), 'ERR_ESCROW_MALFORMED_MESSAGE', 'empty input');
});

test('the encoder refuses values that do not fit their fields (ERR_ESCROW_ARGUMENT)', () => {
  const cases: [string, MikeySakkeIMessage][] = [
    ['CSB ID 2^32', { ...minimal, csbId: 2 ** 32 }],
    ['RAND 15 octets', { ...minimal, rand: new Uint8Array(15) }],
    ['SAKKE data 272 octets', { ...minimal, sakkeData: new Uint8Array(272) }],
    ['signature 128 octets', { ...minimal, signature: new Uint8Array(128) }],
    ['SSRC negative', { ...minimal, csIdMap: { type: 'srtp-id', sessions: [{ policyNo: 0, ssrc: -1, roc: 0 }] } }],
    ['TS value 2^64', { ...minimal, timestamp: { type: 0, value: 2n ** 64n } }],
    ['ID data 65536 octets', { ...minimal, idri: { idType: 1, data: new Uint8Array(65536) } }],
  ];
  for (const [what, m] of cases) assertEscrowError(() => encodeIMessage(m), 'ERR_ESCROW_ARGUMENT', what);
});

// ---------------------------------------------------------------------------------------------------------
// Timestamps and Identifiers

test('NTP timestamps: 1900 epoch, 32.32 fixed point, RFC 4330 era rule, month of T', () => {
  const ms = Date.UTC(2011, 1, 14, 12, 0, 0, 500);
  const ntp = ntpFromUnixMs(ms);
  assert.equal(ntp >> 32n, BigInt(ms / 1000 - 0.5) + 2_208_988_800n, 'seconds since 1900 (RFC 868 offset 2208988800)');
  assert.equal(ntp & 0xffffffffn, 1n << 31n, 'half a second is 0x80000000');
  assert.equal(unixMsFromNtp(ntp), ms, 'round trip');
  assert.equal(keyPeriodOfNtp(ntp), '2011-02', 'key period');
  const era1 = Date.UTC(2040, 0, 1);
  assert.ok(ntpFromUnixMs(era1) >> 32n < 1n << 31n, '2040 wraps into era 1');
  assert.equal(unixMsFromNtp(ntpFromUnixMs(era1)), era1, 'era 1 round trip');
  assert.equal(keyPeriodOfNtp(ntpFromUnixMs(era1)), '2040-01', 'era 1 key period');
});

test('Identifier "2011-02\\0tel:+447700900123\\0" has the octets RFC 6507/6508 Appendix A print (RFC 6509 §3.2)', () => {
  const hex = /`(323031312D[0-9A-F]+)`/.exec(summary)?.[1];
  assert.ok(hex !== undefined, 'identifier hex missing from summary');
  assert.equal(Buffer.from(mikeySakkeIdentifier('2011-02', 'tel:+447700900123')).toString('hex').toUpperCase(), hex, 'identifier octets');
  for (const [period, telUri] of [['2011-2', 'tel:+447700900123'], ['2011-13', 'tel:+1'], ['2011-02', 'tel:447700900123'], ['2011-02', 'tel:+44-7700'], ['2011-02', 'tel:+1;phone-context=x'], ['2011-02', 'sip:a@b']]) {
    assertEscrowError(() => mikeySakkeIdentifier(period ?? '', telUri ?? ''), 'ERR_ESCROW_ARGUMENT', `identifier ${period} ${telUri}`);
  }
});
