// The MIKEY-SAKKE I_MESSAGE (RFC 6509 §2.1 Figure 1, §2.2.1, §4) as plain readonly data plus a pure encoder and
// a strict decoder. Payload formats are those of MIKEY (RFC 3830 §6) with the RFC 6043 §6.1 / §6.6 additions.
//
//   I_MESSAGE = HDR, T, RAND, [IDRi], [IDRr], [IDRkmsi], [IDRkmsr], [CERT], {SP}, SAKKE, SIGN
//
// Byte layout (all integers big-endian, "network byte order", RFC 3830 §6; payloads byte aligned, §5.2):
//
//   HDR  (RFC 3830 §6.1, RFC 6043 §6.1, RFC 6509 §4.1)
//     0   version = 0x01                 1   data type = 26 (SAKKE msg)      2   next payload = 5 (T)
//     3   V(1 bit) = 0 | PRF func(7 bits) 4-7 CSB ID                         8   #CS
//     9   CS ID map type                 10- CS ID map info (variable, below)
//       SRTP-ID (type 0, RFC 3830 §6.1.1): #CS × { Policy_no(1) SSRC(4) ROC(4) }
//       GENERIC-ID (type 2, RFC 6043 §6.1.1): #CS × { CS ID(1) Prot type(1) S(1 bit)|#P(7 bits) Ps(#P)
//                                            Session Data Length(2) Session Data SPI Length(1) SPI }
//   T    (RFC 3830 §6.6)   next(1) TS type(1) = 0 NTP-UTC | 1 NTP   TS value(8)
//   RAND (RFC 3830 §6.11)  next(1) RAND len(1) RAND(len)
//   IDR  (RFC 6043 §6.6, RFC 6509 §4.4)  next(1) ID Role(1) ID Type(1) ID len(2) ID Data(len)
//   SP   (RFC 3830 §6.10)  next(1) Policy no(1) Prot type(1) Policy param length(2) Policy param = { Type(1) Length(1) Value }*
//   SAKKE (RFC 6509 §4.2)  next(1) SAKKE params(1) = 1  ID scheme(1) = 1  SAKKE data length(2) SAKKE data (RFC 6508 §4)
//   SIGN (RFC 3830 §6.5, RFC 6509 §4.3)  S type(4 bits) = 2 (ECCSI) | Signature len(12 bits)  Signature = r || s || PVT
//
// SIGN is the last payload and has no Next-payload field; the SAKKE payload before it names it (next = 4).
// What ECCSI signs (RFC 3830 §5.2): "the entire MIKEY message, except the MAC/Signature field", i.e. every octet
// from HDR up to and including SIGN's S type / Signature len header — `encodeIMessageSignedPart`, and the
// `signedPart` the decoder returns.
//
// Strict decoding, stricter than RFC 3830 §5.3 (which leaves parsing "implementation specific") in these ways,
// each because MIKEY-SAKKE has exactly one message shape and a counter-example should accept one encoding only:
// payloads must come in Figure 1's order; each IDR role at most once; CERT is refused (RFC 6509 §2.2.1: "MUST NOT
// include a CERT payload" with ECCSI); the V bit must be 0 (RFC 6509 §4.1 says "set to '0' and ignored"; we refuse
// 1 rather than ignore it); RAND must be at least 16 octets (RFC 3830 §6.11 "SHOULD be at least 16"); SAKKE data
// must be exactly the Parameter Set 1 length; GENERIC-ID CS IDs must be distinct (keys are derived per CS ID);
// and no octet may follow the signature.
//
// Not constant-time and not meant to protect anything: see src/sakke.ts and src/eccsi.ts.
import { EscrowError } from '../errors.ts';
import { ECCSI_SIGNATURE_BYTES } from '../eccsi.ts';
import { SAKKE_ENCAPSULATED_DATA_LENGTH } from '../sakke.ts';

// ---------------------------------------------------------------------------------------------------------
// Code points

/** MIKEY version 1 (RFC 3830 §6.1: "version = 0x01 refers to MIKEY as defined in this document"). */
export const MIKEY_VERSION = 0x01;
/** HDR data type "SAKKE msg" (RFC 6509 §4.1 Table 1). */
export const MIKEY_DATA_TYPE_SAKKE = 26;

/** Next payload values (RFC 3830 §6.1 Table 6.1.b; RFC 6043 §6.1 Table 6.2; RFC 6509 §4.1 Table 2). */
export const MIKEY_PAYLOAD = {
  /** "Last payload" (RFC 3830 Table 6.1.b). */
  LAST: 0,
  /** SIGN (RFC 3830 Table 6.1.b, §6.5). */
  SIGN: 4,
  /** T (RFC 3830 Table 6.1.b, §6.6). */
  T: 5,
  /** CERT (RFC 3830 Table 6.1.b, §6.7); forbidden here (RFC 6509 §2.2.1). */
  CERT: 7,
  /** SP (RFC 3830 Table 6.1.b, §6.10). */
  SP: 10,
  /** RAND (RFC 3830 Table 6.1.b, §6.11). */
  RAND: 11,
  /** IDR (RFC 6043 §6.1 Table 6.2, §6.6). */
  IDR: 14,
  /** SAKKE (RFC 6509 §4.1 Table 2, §4.2). */
  SAKKE: 26,
} as const;

/** PRF func (RFC 3830 §6.1 Table 6.1.c: MIKEY-1 = 0; RFC 6043 §6.1 Table 6.3: PRF-HMAC-SHA-256 = 1). */
export const MIKEY_PRF = { MIKEY_1: 0, HMAC_SHA_256: 1 } as const;
export type MikeyPrfFunc = (typeof MIKEY_PRF)[keyof typeof MIKEY_PRF];
const PRF_FUNCS: readonly number[] = Object.values(MIKEY_PRF);
/** True for the PRF func values this implementation knows (runtime check of data typed elsewhere). */
export function isMikeyPrfFunc(value: number): value is MikeyPrfFunc {
  return PRF_FUNCS.includes(value);
}

/** CS ID map type (RFC 3830 §6.1 Table 6.1.d: SRTP-ID = 0; RFC 6043 §6.1 Table 6.4: GENERIC-ID = 2). */
export const MIKEY_CS_ID_MAP = { SRTP_ID: 0, GENERIC_ID: 2 } as const;

/** TS type (RFC 3830 §6.6 Table 6.6); RFC 6509 §2.2.1: the T payload "MUST use TS type NTP-UTC (TS type 0) or NTP (TS type 1)". */
export const MIKEY_TS_TYPE = { NTP_UTC: 0, NTP: 1 } as const;
export type MikeyTsType = (typeof MIKEY_TS_TYPE)[keyof typeof MIKEY_TS_TYPE];
const TS_TYPES: readonly number[] = Object.values(MIKEY_TS_TYPE);
function isMikeyTsType(value: number): value is MikeyTsType {
  return TS_TYPES.includes(value);
}

/** ID Role (RFC 6043 §6.6 Table 6.11: Initiator 1, Responder 2; RFC 6509 §4.4 Table 7: IDRkmsi 6, IDRkmsr 7). */
export const MIKEY_ID_ROLE = { INITIATOR: 1, RESPONDER: 2, INITIATOR_KMS: 6, RESPONDER_KMS: 7 } as const;

/** ID Type (RFC 3830 §6.7 Table 6.7.a: NAI 0, URI 1; RFC 6043 §6.5 Table 6.10: Byte string 2). */
export const MIKEY_ID_TYPE = { NAI: 0, URI: 1, BYTE_STRING: 2 } as const;
export type MikeyIdType = (typeof MIKEY_ID_TYPE)[keyof typeof MIKEY_ID_TYPE];

/** SAKKE params "Parameter Set 1" (RFC 6509 §4.2 Table 4). */
export const MIKEY_SAKKE_PARAMS_SET_1 = 1;
/** ID scheme "tel URI with monthly keys" (RFC 6509 §4.2 Table 5, §3.2). */
export const MIKEY_SAKKE_ID_SCHEME_TEL_MONTHLY = 1;
/** S type ECCSI (RFC 6509 §4.3 Table 6). */
export const MIKEY_S_TYPE_ECCSI = 2;

// ---------------------------------------------------------------------------------------------------------
// Field sizes and offsets

/** HDR octets before the CS ID map info: version, data type, next, V|PRF, CSB ID(4), #CS, map type (RFC 3830 §6.1). */
export const MIKEY_HDR_FIXED_BYTES = 10;
/** Offsets inside HDR (RFC 3830 §6.1 figure). */
export const MIKEY_HDR_OFFSET = { VERSION: 0, DATA_TYPE: 1, NEXT: 2, V_PRF: 3, CSB_ID: 4, CS_COUNT: 8, MAP_TYPE: 9, MAP_INFO: 10 } as const;
/** V is the top bit of octet 3, PRF func the low 7 bits (RFC 3830 §6.1). */
const V_BIT = 0x80;
const PRF_MASK = 0x7f;
/** One SRTP-ID map entry: Policy_no(1) || SSRC(4) || ROC(4) (RFC 3830 §6.1.1). */
export const MIKEY_SRTP_ID_ENTRY_BYTES = 9;
/** T payload: next(1) || TS type(1) || 64-bit TS value (RFC 3830 §6.6 Table 6.6: NTP-UTC and NTP are 64 bits). */
export const MIKEY_T_BYTES = 10;
/** RAND len "SHOULD be at least 16" (RFC 3830 §6.11); required here (see the header). */
export const MIKEY_MIN_RAND_BYTES = 16;
/** RAND len is an 8-bit field (RFC 3830 §6.11). */
export const MIKEY_MAX_RAND_BYTES = 255;
/** IDR header: next(1) || ID Role(1) || ID Type(1) || ID len(2) (RFC 6043 §6.6). */
export const MIKEY_IDR_HEADER_BYTES = 5;
/** SP header: next(1) || Policy no(1) || Prot type(1) || Policy param length(2) (RFC 3830 §6.10). */
export const MIKEY_SP_HEADER_BYTES = 5;
/** SAKKE header: next(1) || SAKKE params(1) || ID scheme(1) || SAKKE data length(2) (RFC 6509 §4.2 Table 3). */
export const MIKEY_SAKKE_HEADER_BYTES = 5;
/** SIGN header: S type(4 bits) || Signature len(12 bits) (RFC 3830 §6.5). */
export const MIKEY_SIGN_HEADER_BYTES = 2;
/** Signature len is a 12-bit field (RFC 3830 §6.5). */
const MAX_SIGNATURE_LEN = 0xfff;

// ---------------------------------------------------------------------------------------------------------
// The message as data

/** One SRTP-ID map entry (RFC 3830 §6.1.1). The crypto session's cs_id is its 1-based position ("no i"). */
export interface MikeySrtpIdEntry {
  readonly policyNo: number;
  readonly ssrc: number;
  readonly roc: number;
}

/** One GENERIC-ID map entry (RFC 6043 §6.1.1). Session Data and SPI are kept as opaque octets. */
export interface MikeyGenericIdEntry {
  readonly csId: number;
  readonly protType: number;
  readonly sFlag: boolean;
  /** Policy_no_1..Policy_no_#P, each referring to an SP payload's Policy no. */
  readonly policies: readonly number[];
  readonly sessionData: Uint8Array;
  readonly spi: Uint8Array;
}

/** CS ID map type and info (RFC 3830 §6.1, RFC 6043 §6.1). #CS is the number of sessions. */
export type MikeyCsIdMap =
  | { readonly type: 'srtp-id'; readonly sessions: readonly MikeySrtpIdEntry[] }
  | { readonly type: 'generic-id'; readonly sessions: readonly MikeyGenericIdEntry[] };

/** An IDR payload without its role (the role is the field it sits in). */
export interface MikeyIdr {
  readonly idType: MikeyIdType;
  readonly data: Uint8Array;
}

/** One Type/Length/Value policy parameter (RFC 3830 §6.10). */
export interface MikeyPolicyParam {
  readonly type: number;
  readonly value: Uint8Array;
}

/** An SP payload (RFC 3830 §6.10). */
export interface MikeySecurityPolicy {
  readonly policyNo: number;
  readonly protType: number;
  readonly params: readonly MikeyPolicyParam[];
}

/** The T payload: an NTP-format timestamp (RFC 3830 §6.6, §4.2.8). */
export interface MikeyTimestamp {
  readonly type: MikeyTsType;
  /** 64-bit NTP value: seconds since 1900-01-01 in the high 32 bits, binary fraction in the low 32 (RFC 5905 §6). */
  readonly value: bigint;
}

/** Everything an I_MESSAGE carries except the signature, i.e. what the Initiator signs. */
export interface MikeySakkeIMessageBody {
  /** CSB ID, a 32-bit unsigned integer "randomly selected by the Initiator" (RFC 6509 §2.2.1). */
  readonly csbId: number;
  readonly prfFunc: MikeyPrfFunc;
  readonly csIdMap: MikeyCsIdMap;
  readonly timestamp: MikeyTimestamp;
  readonly rand: Uint8Array;
  readonly idri?: MikeyIdr;
  readonly idrr?: MikeyIdr;
  readonly idrkmsi?: MikeyIdr;
  readonly idrkmsr?: MikeyIdr;
  readonly securityPolicies: readonly MikeySecurityPolicy[];
  /** SAKKE Encapsulated Data, 0x04 || Rx || Ry || H (RFC 6508 §4), SAKKE_ENCAPSULATED_DATA_LENGTH octets. */
  readonly sakkeData: Uint8Array;
}

/** A complete I_MESSAGE: the body plus the ECCSI signature r || s || PVT (RFC 6507 §3.3). */
export interface MikeySakkeIMessage extends MikeySakkeIMessageBody {
  readonly signature: Uint8Array;
}

/** The decoder's output: the message and the exact received octets the signature covers (RFC 3830 §5.2). */
export interface DecodedIMessage {
  readonly message: MikeySakkeIMessage;
  readonly signedPart: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------------
// Encoder

function argument(message: string): EscrowError {
  return new EscrowError('ERR_ESCROW_ARGUMENT', message);
}

function requireUint(value: number, bits: 4 | 7 | 8 | 12 | 16 | 32, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** bits - 1) {
    throw argument(`${what}: expected an integer in [0, 2^${bits} - 1], got ${String(value)}`);
  }
}

class Writer {
  readonly #parts: Uint8Array[] = [];
  #length = 0;
  u8(v: number, what: string): void {
    requireUint(v, 8, what);
    this.bytes(Uint8Array.of(v));
  }
  u16(v: number, what: string): void {
    requireUint(v, 16, what);
    this.bytes(Uint8Array.of(v >>> 8, v & 0xff));
  }
  u32(v: number, what: string): void {
    requireUint(v, 32, what);
    this.bytes(Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff));
  }
  u64(v: bigint, what: string): void {
    if (v < 0n || v >= 1n << 64n) throw argument(`${what}: expected a 64-bit unsigned integer`);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, v);
    this.bytes(out);
  }
  bytes(b: Uint8Array): void {
    this.#parts.push(b.slice());
    this.#length += b.length;
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let off = 0;
    for (const p of this.#parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

function writeCsIdMap(w: Writer, map: MikeyCsIdMap): void {
  if (map.type === 'srtp-id') {
    for (const [i, s] of map.sessions.entries()) {
      w.u8(s.policyNo, `SRTP-ID[${i}] Policy_no`);
      w.u32(s.ssrc, `SRTP-ID[${i}] SSRC`);
      w.u32(s.roc, `SRTP-ID[${i}] ROC`);
    }
    return;
  }
  const seen = new Set<number>();
  for (const [i, s] of map.sessions.entries()) {
    if (seen.has(s.csId)) throw argument(`GENERIC-ID[${i}]: CS ID ${s.csId} repeated`);
    seen.add(s.csId);
    w.u8(s.csId, `GENERIC-ID[${i}] CS ID`);
    w.u8(s.protType, `GENERIC-ID[${i}] Prot type`);
    requireUint(s.policies.length, 7, `GENERIC-ID[${i}] #P`);
    w.u8((s.sFlag ? 0x80 : 0) | s.policies.length, `GENERIC-ID[${i}] S|#P`);
    for (const p of s.policies) w.u8(p, `GENERIC-ID[${i}] Policy_no`);
    w.u16(s.sessionData.length, `GENERIC-ID[${i}] Session Data Length`);
    w.bytes(s.sessionData);
    w.u8(s.spi.length, `GENERIC-ID[${i}] SPI Length`);
    w.bytes(s.spi);
  }
}

/** The IDR payloads present, in Figure 1's order, with their RFC 6043 / RFC 6509 roles. */
function idrsOf(body: MikeySakkeIMessageBody): { role: number; idr: MikeyIdr }[] {
  const out: { role: number; idr: MikeyIdr }[] = [];
  if (body.idri !== undefined) out.push({ role: MIKEY_ID_ROLE.INITIATOR, idr: body.idri });
  if (body.idrr !== undefined) out.push({ role: MIKEY_ID_ROLE.RESPONDER, idr: body.idrr });
  if (body.idrkmsi !== undefined) out.push({ role: MIKEY_ID_ROLE.INITIATOR_KMS, idr: body.idrkmsi });
  if (body.idrkmsr !== undefined) out.push({ role: MIKEY_ID_ROLE.RESPONDER_KMS, idr: body.idrkmsr });
  return out;
}

/**
 * The octets the Initiator signs (RFC 3830 §5.2): HDR through SAKKE, then the SIGN header with S type 2 and
 * Signature len = ECCSI_SIGNATURE_BYTES, "without the MAC/signature field filled in". ERR_ESCROW_ARGUMENT for a
 * field that does not fit its wire width or violates the strict rules in the file header.
 */
export function encodeIMessageSignedPart(body: MikeySakkeIMessageBody): Uint8Array {
  const w = new Writer();
  const idrs = idrsOf(body);
  const afterRand = idrs[0] !== undefined ? MIKEY_PAYLOAD.IDR : body.securityPolicies.length > 0 ? MIKEY_PAYLOAD.SP : MIKEY_PAYLOAD.SAKKE;
  const afterIdrs = body.securityPolicies.length > 0 ? MIKEY_PAYLOAD.SP : MIKEY_PAYLOAD.SAKKE;

  // HDR (RFC 3830 §6.1; RFC 6509 §4.1)
  w.u8(MIKEY_VERSION, 'version');
  w.u8(MIKEY_DATA_TYPE_SAKKE, 'data type');
  w.u8(MIKEY_PAYLOAD.T, 'next payload');
  if (!isMikeyPrfFunc(body.prfFunc)) throw argument('PRF func: expected 0 or 1');
  w.u8(body.prfFunc & PRF_MASK, 'V|PRF func'); // V = 0 (RFC 6509 §4.1)
  w.u32(body.csbId, 'CSB ID');
  w.u8(body.csIdMap.sessions.length, '#CS');
  w.u8(body.csIdMap.type === 'srtp-id' ? MIKEY_CS_ID_MAP.SRTP_ID : MIKEY_CS_ID_MAP.GENERIC_ID, 'CS ID map type');
  writeCsIdMap(w, body.csIdMap);

  // T (RFC 3830 §6.6)
  w.u8(MIKEY_PAYLOAD.RAND, 'T next payload');
  if (!isMikeyTsType(body.timestamp.type)) throw argument('TS type: expected 0 or 1');
  w.u8(body.timestamp.type, 'TS type');
  w.u64(body.timestamp.value, 'TS value');

  // RAND (RFC 3830 §6.11)
  w.u8(afterRand, 'RAND next payload');
  if (body.rand.length < MIKEY_MIN_RAND_BYTES || body.rand.length > MIKEY_MAX_RAND_BYTES) {
    throw argument(`RAND: expected ${MIKEY_MIN_RAND_BYTES} to ${MIKEY_MAX_RAND_BYTES} octets, got ${body.rand.length}`);
  }
  w.u8(body.rand.length, 'RAND len');
  w.bytes(body.rand);

  // IDRi, IDRr, IDRkmsi, IDRkmsr (RFC 6043 §6.6; RFC 6509 §2.2.1, §4.4)
  for (const [i, { role, idr }] of idrs.entries()) {
    w.u8(idrs[i + 1] !== undefined ? MIKEY_PAYLOAD.IDR : afterIdrs, 'IDR next payload');
    w.u8(role, 'ID Role');
    if (!Object.values(MIKEY_ID_TYPE).includes(idr.idType)) throw argument('ID Type: expected 0 (NAI), 1 (URI) or 2 (byte string)');
    w.u8(idr.idType, 'ID Type');
    w.u16(idr.data.length, 'ID len');
    w.bytes(idr.data);
  }

  // {SP} (RFC 3830 §6.10)
  for (const [i, sp] of body.securityPolicies.entries()) {
    w.u8(body.securityPolicies[i + 1] !== undefined ? MIKEY_PAYLOAD.SP : MIKEY_PAYLOAD.SAKKE, 'SP next payload');
    w.u8(sp.policyNo, `SP[${i}] Policy no`);
    w.u8(sp.protType, `SP[${i}] Prot type`);
    let paramLength = 0;
    for (const p of sp.params) paramLength += 2 + p.value.length;
    w.u16(paramLength, `SP[${i}] Policy param length`);
    for (const p of sp.params) {
      w.u8(p.type, `SP[${i}] param Type`);
      w.u8(p.value.length, `SP[${i}] param Length`);
      w.bytes(p.value);
    }
  }

  // SAKKE (RFC 6509 §4.2)
  w.u8(MIKEY_PAYLOAD.SIGN, 'SAKKE next payload');
  w.u8(MIKEY_SAKKE_PARAMS_SET_1, 'SAKKE params');
  w.u8(MIKEY_SAKKE_ID_SCHEME_TEL_MONTHLY, 'ID scheme');
  if (body.sakkeData.length !== SAKKE_ENCAPSULATED_DATA_LENGTH) {
    throw argument(`SAKKE data: expected ${SAKKE_ENCAPSULATED_DATA_LENGTH} octets, got ${body.sakkeData.length}`);
  }
  w.u16(body.sakkeData.length, 'SAKKE data length');
  w.bytes(body.sakkeData);

  // SIGN header (RFC 3830 §6.5, RFC 6509 §4.3); the signature itself is not part of what is signed (§5.2)
  w.u16((MIKEY_S_TYPE_ECCSI << 12) | ECCSI_SIGNATURE_BYTES, 'S type|Signature len');
  return w.finish();
}

/** The complete I_MESSAGE: the signed part followed by the ECCSI signature (ECCSI_SIGNATURE_BYTES octets). */
export function encodeIMessage(message: MikeySakkeIMessage): Uint8Array {
  if (message.signature.length !== ECCSI_SIGNATURE_BYTES) {
    throw argument(`signature: expected ${ECCSI_SIGNATURE_BYTES} octets (r || s || PVT), got ${message.signature.length}`);
  }
  const signed = encodeIMessageSignedPart(message);
  const out = new Uint8Array(signed.length + message.signature.length);
  out.set(signed);
  out.set(message.signature, signed.length);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Decoder

function malformed(message: string): EscrowError {
  return new EscrowError('ERR_ESCROW_MALFORMED_MESSAGE', message);
}

function unsupported(message: string): EscrowError {
  return new EscrowError('ERR_ESCROW_UNSUPPORTED_MESSAGE', message);
}

class Reader {
  #off = 0;
  constructor(private readonly buf: Uint8Array) {}
  get offset(): number {
    return this.#off;
  }
  take(n: number, what: string): Uint8Array {
    if (this.#off + n > this.buf.length) {
      throw malformed(`truncated in ${what}: needed ${n} octets at offset ${this.#off}, ${this.buf.length - this.#off} left`);
    }
    const out = this.buf.slice(this.#off, this.#off + n);
    this.#off += n;
    return out;
  }
  u8(what: string): number {
    return this.take(1, what)[0] ?? 0;
  }
  u16(what: string): number {
    const b = this.take(2, what);
    return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  }
  u32(what: string): number {
    const b = this.take(4, what);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  u64(what: string): bigint {
    const b = this.take(8, what);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
  }
}

/** Payloads allowed after `current`, in Figure 1 order (RFC 6509 §2.1). */
function expectNext(got: number, allowed: readonly number[], after: string): void {
  if (got === MIKEY_PAYLOAD.CERT) throw malformed(`${after}: next payload is CERT, which an ECCSI-signed I_MESSAGE MUST NOT include (RFC 6509 §2.2.1)`);
  if (!allowed.includes(got)) throw malformed(`${after}: next payload ${got} not allowed here, expected one of ${allowed.join(', ')} (RFC 6509 §2.1 Figure 1)`);
}

function readCsIdMap(r: Reader, mapType: number, count: number): MikeyCsIdMap {
  if (mapType === MIKEY_CS_ID_MAP.SRTP_ID) {
    const sessions: MikeySrtpIdEntry[] = [];
    for (let i = 0; i < count; i++) {
      sessions.push({ policyNo: r.u8('SRTP-ID Policy_no'), ssrc: r.u32('SRTP-ID SSRC'), roc: r.u32('SRTP-ID ROC') });
    }
    return { type: 'srtp-id', sessions };
  }
  if (mapType === MIKEY_CS_ID_MAP.GENERIC_ID) {
    const sessions: MikeyGenericIdEntry[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const csId = r.u8('GENERIC-ID CS ID');
      if (seen.has(csId)) throw malformed(`GENERIC-ID: CS ID ${csId} repeated`);
      seen.add(csId);
      const protType = r.u8('GENERIC-ID Prot type');
      const sp = r.u8('GENERIC-ID S|#P');
      const policies = [...r.take(sp & 0x7f, 'GENERIC-ID Ps')];
      const sessionData = r.take(r.u16('GENERIC-ID Session Data Length'), 'GENERIC-ID Session Data');
      const spi = r.take(r.u8('GENERIC-ID SPI Length'), 'GENERIC-ID SPI');
      sessions.push({ csId, protType, sFlag: (sp & 0x80) !== 0, policies, sessionData, spi });
    }
    return { type: 'generic-id', sessions };
  }
  throw unsupported(`CS ID map type ${mapType}: expected 0 (SRTP-ID) or 2 (GENERIC-ID)`);
}

function readPolicyParams(bytes: Uint8Array): MikeyPolicyParam[] {
  const r = new Reader(bytes);
  const params: MikeyPolicyParam[] = [];
  while (r.offset < bytes.length) {
    const type = r.u8('SP param Type');
    params.push({ type, value: r.take(r.u8('SP param Length'), 'SP param Value') });
  }
  return params;
}

/**
 * Strict I_MESSAGE decoder. ERR_ESCROW_MALFORMED_MESSAGE for truncation, trailing octets, a payload out of
 * Figure 1's order or a wrong Next payload, inconsistent lengths, V = 1, a short RAND, a CERT payload;
 * ERR_ESCROW_UNSUPPORTED_MESSAGE for a MIKEY version other than 1, a data type other than SAKKE msg, an unknown
 * PRF func, CS ID map type, TS type, ID Type, SAKKE params, ID scheme or S type. Checks no signature and no
 * SAKKE point: call.ts does that with the keys.
 */
export function decodeIMessage(bytes: Uint8Array): DecodedIMessage {
  if (!(bytes instanceof Uint8Array)) throw argument('I_MESSAGE: expected a Uint8Array');
  const r = new Reader(bytes);

  // HDR (RFC 3830 §6.1, RFC 6043 §6.1, RFC 6509 §4.1)
  const version = r.u8('HDR version');
  if (version !== MIKEY_VERSION) throw unsupported(`HDR version ${version}: expected ${MIKEY_VERSION} (RFC 3830 §6.1)`);
  const dataType = r.u8('HDR data type');
  if (dataType !== MIKEY_DATA_TYPE_SAKKE) throw unsupported(`HDR data type ${dataType}: expected ${MIKEY_DATA_TYPE_SAKKE} (SAKKE msg, RFC 6509 §4.1)`);
  expectNext(r.u8('HDR next payload'), [MIKEY_PAYLOAD.T], 'HDR');
  const vPrf = r.u8('HDR V|PRF func');
  if ((vPrf & V_BIT) !== 0) throw malformed('HDR V bit is 1; RFC 6509 §4.1 requires 0');
  const prfFunc = vPrf & PRF_MASK;
  if (!isMikeyPrfFunc(prfFunc)) throw unsupported(`PRF func ${prfFunc}: expected 0 (MIKEY-1) or 1 (PRF-HMAC-SHA-256)`);
  const csbId = r.u32('HDR CSB ID');
  const count = r.u8('HDR #CS');
  const csIdMap = readCsIdMap(r, r.u8('HDR CS ID map type'), count);

  // T (RFC 3830 §6.6)
  expectNext(r.u8('T next payload'), [MIKEY_PAYLOAD.RAND], 'T');
  const tsType = r.u8('T TS type');
  if (!isMikeyTsType(tsType)) throw unsupported(`TS type ${tsType}: RFC 6509 §2.2.1 requires 0 (NTP-UTC) or 1 (NTP)`);
  const timestamp: MikeyTimestamp = { type: tsType, value: r.u64('T TS value') };

  // RAND (RFC 3830 §6.11)
  let next = r.u8('RAND next payload');
  expectNext(next, [MIKEY_PAYLOAD.IDR, MIKEY_PAYLOAD.SP, MIKEY_PAYLOAD.SAKKE], 'RAND');
  const randLen = r.u8('RAND len');
  if (randLen < MIKEY_MIN_RAND_BYTES) throw malformed(`RAND len ${randLen}: expected at least ${MIKEY_MIN_RAND_BYTES} (RFC 3830 §6.11)`);
  const rand = r.take(randLen, 'RAND');

  // IDRs, each role at most once and in Figure 1's order (RFC 6043 §6.6, RFC 6509 §2.2.1 / §4.4)
  const idrs: Partial<Record<'idri' | 'idrr' | 'idrkmsi' | 'idrkmsr', MikeyIdr>> = {};
  const roleOrder = [MIKEY_ID_ROLE.INITIATOR, MIKEY_ID_ROLE.RESPONDER, MIKEY_ID_ROLE.INITIATOR_KMS, MIKEY_ID_ROLE.RESPONDER_KMS] as const;
  const roleField = ['idri', 'idrr', 'idrkmsi', 'idrkmsr'] as const;
  let lastRole = -1;
  while (next === MIKEY_PAYLOAD.IDR) {
    next = r.u8('IDR next payload');
    expectNext(next, [MIKEY_PAYLOAD.IDR, MIKEY_PAYLOAD.SP, MIKEY_PAYLOAD.SAKKE], 'IDR');
    const role = r.u8('IDR ID Role');
    const index = roleOrder.findIndex((x) => x === role);
    if (index < 0) throw unsupported(`IDR ID Role ${role}: expected 1, 2, 6 or 7 (RFC 6509 §2.2.1)`);
    if (index <= lastRole) throw malformed(`IDR ID Role ${role} repeated or out of order (RFC 6509 §2.1 Figure 1)`);
    lastRole = index;
    const idType = r.u8('IDR ID Type');
    if (idType !== MIKEY_ID_TYPE.NAI && idType !== MIKEY_ID_TYPE.URI && idType !== MIKEY_ID_TYPE.BYTE_STRING) {
      throw unsupported(`IDR ID Type ${idType}: expected 0 (NAI), 1 (URI) or 2 (byte string)`);
    }
    const data = r.take(r.u16('IDR ID len'), 'IDR ID Data');
    const field = roleField[index];
    if (field !== undefined) idrs[field] = { idType, data };
  }

  // {SP} (RFC 3830 §6.10)
  const securityPolicies: MikeySecurityPolicy[] = [];
  while (next === MIKEY_PAYLOAD.SP) {
    next = r.u8('SP next payload');
    expectNext(next, [MIKEY_PAYLOAD.SP, MIKEY_PAYLOAD.SAKKE], 'SP');
    const policyNo = r.u8('SP Policy no');
    const protType = r.u8('SP Prot type');
    const params = readPolicyParams(r.take(r.u16('SP Policy param length'), 'SP Policy param'));
    securityPolicies.push({ policyNo, protType, params });
  }

  // SAKKE (RFC 6509 §4.2)
  expectNext(r.u8('SAKKE next payload'), [MIKEY_PAYLOAD.SIGN], 'SAKKE');
  const params = r.u8('SAKKE params');
  if (params !== MIKEY_SAKKE_PARAMS_SET_1) throw unsupported(`SAKKE params ${params}: expected ${MIKEY_SAKKE_PARAMS_SET_1} (Parameter Set 1, RFC 6509 §4.2)`);
  const scheme = r.u8('SAKKE ID scheme');
  if (scheme !== MIKEY_SAKKE_ID_SCHEME_TEL_MONTHLY) throw unsupported(`SAKKE ID scheme ${scheme}: expected ${MIKEY_SAKKE_ID_SCHEME_TEL_MONTHLY} (RFC 6509 §4.2)`);
  const sakkeLength = r.u16('SAKKE data length');
  if (sakkeLength !== SAKKE_ENCAPSULATED_DATA_LENGTH) {
    throw malformed(`SAKKE data length ${sakkeLength}: expected ${SAKKE_ENCAPSULATED_DATA_LENGTH} for Parameter Set 1 (RFC 6508 §4)`);
  }
  const sakkeData = r.take(sakkeLength, 'SAKKE data');

  // SIGN (RFC 3830 §6.5, RFC 6509 §4.3): the last payload
  const sign = r.u16('SIGN header');
  const sType = sign >>> 12;
  if (sType !== MIKEY_S_TYPE_ECCSI) throw unsupported(`SIGN S type ${sType}: expected ${MIKEY_S_TYPE_ECCSI} (ECCSI, RFC 6509 §4.3)`);
  const sigLen = sign & MAX_SIGNATURE_LEN;
  if (sigLen !== ECCSI_SIGNATURE_BYTES) throw malformed(`SIGN Signature len ${sigLen}: expected ${ECCSI_SIGNATURE_BYTES} (RFC 6507 §3.3)`);
  const signedEnd = r.offset;
  const signature = r.take(sigLen, 'SIGN Signature');
  if (r.offset !== bytes.length) throw malformed(`${bytes.length - r.offset} trailing octets after the SIGN payload`);

  const message: MikeySakkeIMessage = { csbId, prfFunc, csIdMap, timestamp, rand, ...idrs, securityPolicies, sakkeData, signature };
  return { message, signedPart: bytes.slice(0, signedEnd) };
}

// ---------------------------------------------------------------------------------------------------------
// NTP timestamps (RFC 3830 §4.2.8 "as defined in NTP ... a 64-bit number in seconds relative to 0h on
// 1 January 1900"; the era rule is RFC 4330 §3)

/** Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch), RFC 868 / RFC 5905 Figure 4. */
const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800n;
/** NTP era 0 ends in 2036; RFC 4330 §3: a value whose top seconds bit is 0 is taken to be in era 1 (2036-2104). */
const NTP_ERA_SECONDS = 1n << 32n;
const NTP_MSB = 1n << 31n;

/** The 64-bit NTP timestamp for a Unix time in milliseconds (fraction = ms / 1000 · 2^32, truncated). */
export function ntpFromUnixMs(unixMs: number): bigint {
  if (!Number.isSafeInteger(unixMs)) throw argument('time: expected an integer number of milliseconds');
  const ms = BigInt(unixMs);
  const seconds = (ms >= 0n ? ms / 1000n : (ms - 999n) / 1000n) + NTP_UNIX_OFFSET_SECONDS;
  const fracMs = ms - (seconds - NTP_UNIX_OFFSET_SECONDS) * 1000n;
  if (seconds < NTP_MSB || seconds >= NTP_MSB + NTP_ERA_SECONDS) {
    throw argument('time: outside the NTP range this implementation maps (1968-2104, RFC 4330 §3)');
  }
  return ((seconds % NTP_ERA_SECONDS) << 32n) | ((fracMs << 32n) / 1000n);
}

/** Unix milliseconds (floored) for a 64-bit NTP timestamp, using the RFC 4330 §3 era rule. */
export function unixMsFromNtp(ntp: bigint): number {
  if (ntp < 0n || ntp >= 1n << 64n) throw argument('NTP timestamp: expected a 64-bit unsigned integer');
  let seconds = ntp >> 32n;
  if (seconds < NTP_MSB) seconds += NTP_ERA_SECONDS; // era 1 (RFC 4330 §3)
  const fracMs = ((ntp & 0xffffffffn) * 1000n) >> 32n;
  return Number((seconds - NTP_UNIX_OFFSET_SECONDS) * 1000n + fracMs);
}
