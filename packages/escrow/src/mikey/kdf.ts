// MIKEY key derivation: the PRF of RFC 3830 §4.1.2 (MIKEY-1, HMAC-SHA-1) and its RFC 6043 §6.1 variant
// PRF-HMAC-SHA-256, and the derivation of traffic keys from the TGK (RFC 3830 §4.1.3). In MIKEY-SAKKE the TGK is
// the SAKKE Shared Secret Value (RFC 6509 §2.1, §3.1: "This SSV is used as the TGK"), and for SRTP the TEK is the
// SRTP master key and the salting key the SRTP master salt (RFC 3830 Appendix A, §4.1.3).
//
// Lengths are whole octets here (RFC 3830 counts bits; every key SRTP uses is a whole number of octets): outkey
// is the outkey_len/8 most significant octets of the PRF output.
//
// No published test vector exists for this PRF (RFC 3830 and RFC 6043 give none); test/mikey-kdf.test.ts checks
// it against an independent computation written with node:crypto's HMAC.
// Not constant-time and not meant to protect anything: this package is the escrow counter-example.
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { EscrowError } from '../errors.ts';
import { isMikeyPrfFunc, MIKEY_PRF, type MikeyCsIdMap, type MikeyPrfFunc, type MikeySakkeIMessageBody } from './i-message.ts';

/** inkey is split into blocks of 256 bits = 32 octets, "half the input block-size" of the hash (RFC 3830 §4.1.2). */
export const MIKEY_PRF_INKEY_BLOCK_BYTES = 32;
/** m = outkey_len / 160 for MIKEY-1 (RFC 3830 §4.1.2), / 256 for PRF-HMAC-SHA-256 (RFC 6043 §6.1): the hash output. */
const OUTPUT_BLOCK_BYTES: Readonly<Record<MikeyPrfFunc, number>> = { [MIKEY_PRF.MIKEY_1]: 20, [MIKEY_PRF.HMAC_SHA_256]: 32 };

/** Label constants for keys derived from the TGK (RFC 3830 §4.1.3 Table 4.1.3). */
export const MIKEY_TGK_CONSTANT = {
  /** TEK: the SRTP master key (RFC 3830 Appendix A). */
  TEK: 0x2ad01c64,
  /** Authentication key, for protocols that cannot derive one from the TEK. */
  AUTHENTICATION: 0x1b5c7973,
  /** Encryption key, likewise. */
  ENCRYPTION: 0x15798cef,
  /** Salting key: the SRTP master salt. */
  SALT: 0x39a2c14b,
} as const;

/** SRTP's default master key length, 128 bits (RFC 3711 §8.2, AES_CM_128 default; RFC 3830 §6.10.1 "default"). */
export const SRTP_MASTER_KEY_BYTES = 16;
/** SRTP's default master salt length, 112 bits (RFC 3711 §8.2). */
export const SRTP_MASTER_SALT_BYTES = 14;
/** An upper bound on outkey: 255 output blocks is far beyond any key SRTP uses, and keeps m small. */
const MAX_OUTKEY_BYTES = 255 * 20;

function hmacFor(prf: MikeyPrfFunc, key: Uint8Array, data: Uint8Array): Uint8Array {
  return prf === MIKEY_PRF.MIKEY_1 ? hmac(sha1, key, data) : hmac(sha256, key, data);
}

/**
 * P(s, label, m) = HMAC(s, A_1 || label) || ... || HMAC(s, A_m || label), A_0 = label, A_i = HMAC(s, A_(i-1))
 * (RFC 3830 §4.1.2).
 */
export function mikeyP(prf: MikeyPrfFunc, s: Uint8Array, label: Uint8Array, m: number): Uint8Array {
  const blockBytes = OUTPUT_BLOCK_BYTES[prf];
  const out = new Uint8Array(m * blockBytes);
  let a = label; // A_0 = label
  for (let i = 1; i <= m; i++) {
    a = hmacFor(prf, s, a); // A_i = HMAC(s, A_(i-1))
    const input = new Uint8Array(a.length + label.length);
    input.set(a);
    input.set(label, a.length);
    out.set(hmacFor(prf, s, input), (i - 1) * blockBytes); // HMAC(s, A_i || label)
  }
  return out;
}

/**
 * PRF(inkey, label) truncated to `outkeyBytes` octets (RFC 3830 §4.1.2; RFC 6043 §6.1 for PRF func 1).
 * ERR_ESCROW_ARGUMENT for an unknown PRF func, an empty inkey or an outkey length out of range.
 */
export function mikeyPrf(prf: MikeyPrfFunc, inkey: Uint8Array, label: Uint8Array, outkeyBytes: number): Uint8Array {
  if (!isMikeyPrfFunc(prf)) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'PRF func: expected 0 (MIKEY-1) or 1 (PRF-HMAC-SHA-256)');
  if (inkey.length === 0) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'inkey: expected at least one octet');
  if (!Number.isInteger(outkeyBytes) || outkeyBytes < 1 || outkeyBytes > MAX_OUTKEY_BYTES) {
    throw new EscrowError('ERR_ESCROW_ARGUMENT', `outkey length: expected 1 to ${MAX_OUTKEY_BYTES} octets, got ${String(outkeyBytes)}`);
  }
  const n = Math.ceil(inkey.length / MIKEY_PRF_INKEY_BLOCK_BYTES); //               n = inkey_len / 256, rounded up
  const m = Math.ceil(outkeyBytes / OUTPUT_BLOCK_BYTES[prf]); //                    m = outkey_len / 160 (or 256), rounded up
  const acc = new Uint8Array(m * OUTPUT_BLOCK_BYTES[prf]);
  for (let i = 0; i < n; i++) {
    const s = inkey.subarray(i * MIKEY_PRF_INKEY_BLOCK_BYTES, (i + 1) * MIKEY_PRF_INKEY_BLOCK_BYTES); // inkey = s_1 || ... || s_n
    const p = mikeyP(prf, s, label, m);
    for (let j = 0; j < acc.length; j++) acc[j] = (acc[j] ?? 0) ^ (p[j] ?? 0); //  P(s_1, label, m) XOR ... XOR P(s_n, label, m)
  }
  return acc.slice(0, outkeyBytes); //                                              the outkey_len most significant bits
}

/** label = constant || cs_id || csb_id || RAND (RFC 3830 §4.1.3; cs_id 8 bits and csb_id 32 bits, §4.1.1). */
export function mikeyTgkLabel(constant: number, csId: number, csbId: number, rand: Uint8Array): Uint8Array {
  for (const [v, bits, what] of [[constant, 32, 'constant'], [csId, 8, 'cs_id'], [csbId, 32, 'csb_id']] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 2 ** bits - 1) throw new EscrowError('ERR_ESCROW_ARGUMENT', `${what}: expected a ${bits}-bit unsigned integer`);
  }
  const label = new Uint8Array(4 + 1 + 4 + rand.length);
  const view = new DataView(label.buffer);
  view.setUint32(0, constant);
  label[4] = csId;
  view.setUint32(5, csbId);
  label.set(rand, 9);
  return label;
}

/** The inputs of RFC 3830 §4.1.3 besides the TGK, as an I_MESSAGE carries them. */
export interface MikeyDerivationContext {
  readonly prf: MikeyPrfFunc;
  readonly csId: number;
  readonly csbId: number;
  readonly rand: Uint8Array;
}

/** A key derived from the TGK with one of the Table 4.1.3 constants (RFC 3830 §4.1.3): PRF(TGK, constant || cs_id || csb_id || RAND). */
export function mikeyDeriveFromTgk(tgk: Uint8Array, constant: number, ctx: MikeyDerivationContext, outkeyBytes: number): Uint8Array {
  return mikeyPrf(ctx.prf, tgk, mikeyTgkLabel(constant, ctx.csId, ctx.csbId, ctx.rand), outkeyBytes);
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** The SRTP master key and salt of one crypto session. Prints as a redacted marker (STYLE.md §10). */
export interface SrtpMasterKeys {
  readonly csId: number;
  /** TEK = PRF(TGK, 0x2AD01C64 || cs_id || csb_id || RAND): SRTP_MASTER_KEY_BYTES octets unless the SP payload says otherwise. */
  readonly masterKey: Uint8Array;
  /** Salting key = PRF(TGK, 0x39A2C14B || cs_id || csb_id || RAND): SRTP_MASTER_SALT_BYTES octets unless the SP payload says otherwise. */
  readonly masterSalt: Uint8Array;
}

/** Keys printed through util.inspect / toString / JSON show only the CS ID. */
export function redactSrtpKeys(keys: SrtpMasterKeys): SrtpMasterKeys {
  const marker = `[SrtpMasterKeys cs_id=${keys.csId}: redacted]`;
  Object.defineProperty(keys, INSPECT, { enumerable: false, value: () => marker });
  Object.defineProperty(keys, 'toString', { enumerable: false, value: () => marker });
  Object.defineProperty(keys, 'toJSON', { enumerable: false, value: () => marker });
  return Object.freeze(keys);
}

/**
 * The SRTP master key (TEK) and master salt (salting key) for crypto session `csId` (RFC 3830 §4.1.3 and
 * Appendix A), with SRTP's default lengths (RFC 3711 §8.2).
 */
export function deriveSrtpMasterKeys(tgk: Uint8Array, ctx: MikeyDerivationContext): SrtpMasterKeys {
  return redactSrtpKeys({
    csId: ctx.csId,
    masterKey: mikeyDeriveFromTgk(tgk, MIKEY_TGK_CONSTANT.TEK, ctx, SRTP_MASTER_KEY_BYTES),
    masterSalt: mikeyDeriveFromTgk(tgk, MIKEY_TGK_CONSTANT.SALT, ctx, SRTP_MASTER_SALT_BYTES),
  });
}

/**
 * The cs_id of each crypto session in HDR's CS ID map: for SRTP-ID, "the stream using SSRC_i will also have Crypto
 * Session ID equal to no i" (RFC 3830 §6.1.1, 1-based); for GENERIC-ID, the CS ID field (RFC 6043 §6.1.1).
 */
export function mikeyCsIds(map: MikeyCsIdMap): number[] {
  return map.type === 'srtp-id' ? map.sessions.map((_, i) => i + 1) : map.sessions.map((s) => s.csId);
}

/** SRTP policy parameter Types for the key lengths (RFC 3830 §6.10.1 Table 6.10.1.a). */
const SRTP_PARAM_ENCR_KEY_LEN = 1;
const SRTP_PARAM_SALT_KEY_LEN = 4;
/** Prot type SRTP (RFC 3830 §6.10 Table 6.10). */
const PROT_TYPE_SRTP = 0;

/** A one- or two-octet big-endian length value from an SP parameter, or undefined when absent. */
function lengthParam(message: MikeySakkeIMessageBody, policyNo: number | undefined, type: number): number | undefined {
  if (policyNo === undefined) return undefined;
  const policy = message.securityPolicies.find((p) => p.policyNo === policyNo && p.protType === PROT_TYPE_SRTP);
  const value = policy?.params.find((p) => p.type === type)?.value;
  if (value === undefined) return undefined;
  if (value.length < 1 || value.length > 2) throw new EscrowError('ERR_ESCROW_UNSUPPORTED_MESSAGE', `SRTP policy key length parameter of ${value.length} octets`);
  const n = value.reduce((acc, b) => acc * 256 + b, 0);
  if (n < 1 || n > MAX_OUTKEY_BYTES) throw new EscrowError('ERR_ESCROW_UNSUPPORTED_MESSAGE', `SRTP policy key length ${n} out of range`);
  return n;
}

/**
 * SRTP master keys for every crypto session of an I_MESSAGE, from its TGK (= the SAKKE SSV, RFC 6509 §3.1). The
 * lengths are SRTP's defaults unless the session's security policy sets "Session Encr. key length" ("should also be
 * seen as the Master key length") or "Session Salt key length" (RFC 3830 §6.10.1). A GENERIC-ID session that lists
 * several policies uses the first: MIKEY-SAKKE has no response message in which to choose (RFC 6043 §6.1.1).
 */
export function deriveCallSrtpKeys(tgk: Uint8Array, message: MikeySakkeIMessageBody): SrtpMasterKeys[] {
  const map = message.csIdMap;
  const policyNos = map.type === 'srtp-id' ? map.sessions.map((s) => s.policyNo) : map.sessions.map((s) => s.policies[0]);
  return mikeyCsIds(map).map((csId, i) => {
    const ctx = { prf: message.prfFunc, csId, csbId: message.csbId, rand: message.rand };
    const keyBytes = lengthParam(message, policyNos[i], SRTP_PARAM_ENCR_KEY_LEN) ?? SRTP_MASTER_KEY_BYTES;
    const saltBytes = lengthParam(message, policyNos[i], SRTP_PARAM_SALT_KEY_LEN) ?? SRTP_MASTER_SALT_BYTES;
    return redactSrtpKeys({
      csId,
      masterKey: mikeyDeriveFromTgk(tgk, MIKEY_TGK_CONSTANT.TEK, ctx, keyBytes),
      masterSalt: mikeyDeriveFromTgk(tgk, MIKEY_TGK_CONSTANT.SALT, ctx, saltBytes),
    });
  });
}
