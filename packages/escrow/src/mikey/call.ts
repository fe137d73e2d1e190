// MIKEY-SAKKE call set-up (RFC 6509 §2): a single simplex I_MESSAGE from Initiator to Responder, with no
// response. The Initiator SAKKE-encapsulates a fresh random SSV to the Responder's Identifier (RFC 6508 §6.2.1),
// ECCSI-signs the whole message (RFC 6507 §5.2.1, RFC 3830 §5.2); the Responder checks the timestamp and replay
// cache (RFC 3830 §5.3, §5.4), verifies the signature against the Initiator's Identifier (RFC 6507 §5.2.2) and
// decapsulates the SSV (RFC 6508 §6.2.2). Both use the SSV as the TGK and derive SRTP master keys from it
// (RFC 6509 §3.1, RFC 3830 §4.1.3).
//
// Both parties are provisioned by the same KMS (a closed user group, so no IDRkmsi / IDRkmsr: RFC 6509 §2.2.1),
// and that KMS can read every call set up here and impersonate either party — see kms.ts, `kmsRecoverCall`.
// Pure functions: time (`nowMs`) and randomness (`rng`) are injected; the replay cache is the caller's state.
// Not constant-time; never protects anything.
import { sha256 } from '@noble/hashes/sha2.js';
import { EscrowError } from '../errors.ts';
import { eccsiSign, eccsiVerify, type Rng } from '../eccsi.ts';
import { sakkeDecapsulate, sakkeEncapsulate, sakkeGenerateSsv } from '../sakke.ts';
import {
  decodeIMessage,
  encodeIMessageSignedPart,
  MIKEY_ID_TYPE,
  MIKEY_PRF,
  MIKEY_TS_TYPE,
  ntpFromUnixMs,
  unixMsFromNtp,
  type MikeySakkeIMessageBody,
  type MikeySecurityPolicy,
} from './i-message.ts';
import { deriveCallSrtpKeys, SRTP_MASTER_KEY_BYTES, SRTP_MASTER_SALT_BYTES, type SrtpMasterKeys } from './kdf.ts';
import { keyPeriodOfNtp, keyPeriodOfUnixMs, mikeySakkeIdentifier, requireTelUri, shiftKeyPeriod, uriOfIdr, type KeyPeriod, type MikeySakkeUserKeys } from './kms.ts';

/**
 * Allowed difference between the I_MESSAGE timestamp and the Responder's clock. RFC 3830 §5.4 leaves the clock skew
 * to local policy (a trade-off against replay-cache size); five minutes is the usual choice for signed,
 * timestamped key exchange and bounds how long a replay cache entry must be kept.
 */
export const MIKEY_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** RAND length: 128 bits, the minimum RFC 3830 §4.1.1 / §6.11 ask for. */
export const MIKEY_RAND_BYTES = 16;
/** The one crypto session an I_MESSAGE made here carries: GENERIC-ID CS ID 1 (RFC 6043 §6.1.1). */
export const MIKEY_CALL_CS_ID = 1;
/** Prot type SRTP (RFC 3830 §6.10 Table 6.10). */
const PROT_TYPE_SRTP = 0;
/** The SP payload's Policy no, referenced by the GENERIC-ID entry's Ps (RFC 3830 §6.10, RFC 6043 §6.1.1). */
const POLICY_NO = 0;
/** SRTP policy parameter Types (RFC 3830 §6.10.1 Table 6.10.1.a) and values (Tables 6.10.1.b, c). */
const SRTP_POLICY = { ENCR_ALG: 0, ENCR_KEY_LEN: 1, AUTH_ALG: 2, SALT_KEY_LEN: 4, AES_CM: 1, HMAC_SHA_1: 1 } as const;

/**
 * The security policy offered: AES-CM with a 128-bit master key, HMAC-SHA-1, a 112-bit salt (RFC 3830 §6.10.1),
 * i.e. exactly the lengths deriveSrtpMasterKeys produces.
 */
const SRTP_DEFAULT_POLICY: MikeySecurityPolicy = {
  policyNo: POLICY_NO,
  protType: PROT_TYPE_SRTP,
  params: [
    { type: SRTP_POLICY.ENCR_ALG, value: Uint8Array.of(SRTP_POLICY.AES_CM) },
    { type: SRTP_POLICY.ENCR_KEY_LEN, value: Uint8Array.of(SRTP_MASTER_KEY_BYTES) },
    { type: SRTP_POLICY.AUTH_ALG, value: Uint8Array.of(SRTP_POLICY.HMAC_SHA_1) },
    { type: SRTP_POLICY.SALT_KEY_LEN, value: Uint8Array.of(SRTP_MASTER_SALT_BYTES) },
  ],
};

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const utf8 = new TextEncoder();

function redact<T extends object>(obj: T, marker: string): T {
  for (const key of [INSPECT, 'toString', 'toJSON']) Object.defineProperty(obj, key, { enumerable: false, value: () => marker });
  return Object.freeze(obj);
}

function mismatch(message: string): EscrowError {
  return new EscrowError('ERR_ESCROW_IDENTIFIER_MISMATCH', message);
}

/** What the Initiator sends and keeps. */
export interface InitiatedCall {
  /** The encoded I_MESSAGE to send to the Responder. */
  readonly iMessage: Uint8Array;
  readonly period: KeyPeriod;
  readonly csbId: number;
  /** The SSV = TGK (RFC 6509 §2.1). */
  readonly ssv: Uint8Array;
  readonly srtp: readonly SrtpMasterKeys[];
}

/** What the Responder learns from an accepted I_MESSAGE. */
export interface AcceptedCall {
  readonly initiatorUri: string;
  readonly period: KeyPeriod;
  readonly csbId: number;
  readonly ssv: Uint8Array;
  readonly srtp: readonly SrtpMasterKeys[];
  /** Add this to the replay cache and keep it for MIKEY_MAX_CLOCK_SKEW_MS past the timestamp (RFC 3830 §5.4). */
  readonly replayCacheKey: string;
}

export interface InitiateCallInput {
  /** The Initiator's installed keys for the current period. */
  readonly initiator: MikeySakkeUserKeys;
  /** The Responder's tel URI; its Identifier is formed from it and the current month (RFC 6509 §3.2). */
  readonly responderUri: string;
  readonly nowMs: number;
  readonly rng: Rng;
}

/**
 * Initiator (RFC 6509 §2.1, §2.2.1): builds and signs an I_MESSAGE = HDR, T, RAND, IDRi, IDRr, SP, SAKKE, SIGN.
 * ERR_ESCROW_IDENTIFIER_MISMATCH if the Initiator's keys are not for the current month; ERR_ESCROW_ARGUMENT for a
 * bad URI or time.
 */
export function initiateCall(input: InitiateCallInput): InitiatedCall {
  const { initiator, responderUri, nowMs, rng } = input;
  requireTelUri(responderUri);
  const period = keyPeriodOfUnixMs(nowMs); //                                   the month of T names the key period (§3.2)
  if (initiator.period !== period) throw mismatch(`Initiator keys are for another period than the current month`);
  const responderId = mikeySakkeIdentifier(period, responderUri); //          the Responder's Identifier (§3.2)
  const ssv = sakkeGenerateSsv(rng); //                                         RFC 6508 §6.2.1 step 1: a random SSV
  const { encapsulatedData } = sakkeEncapsulate(initiator.community.Z, responderId, ssv); // steps 2-5
  const csbIdBytes = rng(4); //                                                 CSB ID "randomly selected" (RFC 6509 §2.2.1)
  const csbId = new DataView(csbIdBytes.buffer, csbIdBytes.byteOffset, 4).getUint32(0);
  const body: MikeySakkeIMessageBody = {
    csbId,
    prfFunc: MIKEY_PRF.HMAC_SHA_256,
    csIdMap: {
      type: 'generic-id',
      sessions: [{ csId: MIKEY_CALL_CS_ID, protType: PROT_TYPE_SRTP, sFlag: false, policies: [POLICY_NO], sessionData: new Uint8Array(0), spi: new Uint8Array(0) }],
    },
    timestamp: { type: MIKEY_TS_TYPE.NTP_UTC, value: ntpFromUnixMs(nowMs) }, // NTP-UTC, RECOMMENDED (§2.2.1)
    rand: rng(MIKEY_RAND_BYTES), //                                              RAND "MUST" be included (§2.2.1)
    idri: { idType: MIKEY_ID_TYPE.URI, data: utf8.encode(initiator.uri) }, //   IDRi/IDRr carry the URIs (§2.2.1, §3.2)
    idrr: { idType: MIKEY_ID_TYPE.URI, data: utf8.encode(responderUri) },
    securityPolicies: [SRTP_DEFAULT_POLICY],
    sakkeData: encapsulatedData, //                                               the SAKKE payload (§4.2)
  };
  const signedPart = encodeIMessageSignedPart(body); //                         RFC 3830 §5.2: SIGN without its signature
  const { signing, community, identifier } = initiator;
  const signature = eccsiSign(community.kpak, identifier, signing.ssk, signing.pvt, signedPart, rng); // RFC 6507 §5.2.1
  const iMessage = new Uint8Array(signedPart.length + signature.length);
  iMessage.set(signedPart);
  iMessage.set(signature, signedPart.length);
  const srtp = deriveCallSrtpKeys(ssv, body); //                                 TGK = SSV (RFC 6509 §3.1; RFC 3830 §4.1.3)
  return redact({ iMessage, period, csbId, ssv, srtp }, `[InitiatedCall ${period}: redacted]`);
}

/**
 * The key periods whose keys a Responder accepts at `nowMs` (RFC 6509 §3.3): the current month; the next month
 * from the second-to-last day of the current one; the previous month on the first and second days.
 */
export function receivableKeyPeriods(nowMs: number): KeyPeriod[] {
  const now = new Date(nowMs);
  const current = keyPeriodOfUnixMs(nowMs);
  const day = now.getUTCDate();
  const daysInMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
  const periods = [current];
  if (day >= daysInMonth - 1) periods.push(shiftKeyPeriod(current, 1));
  if (day <= 2) periods.push(shiftKeyPeriod(current, -1));
  return periods;
}

export interface RespondToCallInput {
  /** The Responder's installed keys; devices "MUST allow ... two periods' keys simultaneously" (RFC 6509 §3.3). */
  readonly keys: readonly MikeySakkeUserKeys[];
  readonly iMessage: Uint8Array;
  readonly nowMs: number;
  /** Keys of I_MESSAGEs already accepted within the clock-skew window (RFC 3830 §5.4). */
  readonly replayCache?: ReadonlySet<string>;
  /** The Initiator's URI if known from signalling; required when the message carries no IDRi (RFC 6509 §2.2.1). */
  readonly initiatorUri?: string;
}

/**
 * Responder (RFC 6509 §2.2.2 on top of RFC 3830 §5.3). Throws, leaving the caller's state untouched:
 * ERR_ESCROW_MALFORMED_MESSAGE / ERR_ESCROW_UNSUPPORTED_MESSAGE (decoding), ERR_ESCROW_REPLAY (timestamp outside
 * the clock skew, or replayed), ERR_ESCROW_IDENTIFIER_MISMATCH (no key for the period, IDRr not us, IDRi not the
 * expected Initiator), ERR_ESCROW_INVALID_SIGNATURE (ECCSI verification failed),
 * ERR_ESCROW_INVALID_ENCAPSULATION (SAKKE check failed).
 */
export function respondToCall(input: RespondToCallInput): AcceptedCall {
  const { keys, iMessage, nowMs } = input;
  const { message, signedPart } = decodeIMessage(iMessage); //                   parse payload by payload (RFC 3830 §5.3)
  const skew = Math.abs(unixMsFromNtp(message.timestamp.value) - nowMs); //      "check that it is within the allowable clock skew"
  if (skew > MIKEY_MAX_CLOCK_SKEW_MS) throw new EscrowError('ERR_ESCROW_REPLAY', `timestamp differs from the local clock by more than ${MIKEY_MAX_CLOCK_SKEW_MS} ms (RFC 3830 §5.4)`);
  // Keyed on the signed part, not the whole message: an ECCSI signature (r, s) also verifies as (r, q - s)
  // (RFC 6507 §5.2.2 step 5 negates J, Jx is unchanged), so a replay with a re-encoded signature must still hit.
  const replayCacheKey = Array.from(sha256(signedPart), (b) => b.toString(16).padStart(2, '0')).join('');
  if (input.replayCache?.has(replayCacheKey) === true) throw new EscrowError('ERR_ESCROW_REPLAY', 'I_MESSAGE already accepted (RFC 3830 §5.4 replay cache)');

  const period = keyPeriodOfNtp(message.timestamp.value); //                     Identifier month = T's month (RFC 6509 §3.2)
  if (!receivableKeyPeriods(nowMs).includes(period)) throw mismatch('the message key period is not receivable now (RFC 6509 §3.3)');
  const own = keys.find((k) => k.period === period);
  if (own === undefined) throw mismatch('no Responder key held for the message key period (RFC 6509 §3.3)');
  if (message.idrr !== undefined && uriOfIdr(message.idrr, 'IDRr') !== own.uri) throw mismatch('IDRr names another Responder (RFC 6509 §2.2.1)');

  const idri = message.idri === undefined ? undefined : uriOfIdr(message.idri, 'IDRi');
  if (idri !== undefined && input.initiatorUri !== undefined && idri !== input.initiatorUri) throw mismatch('IDRi names another Initiator than expected');
  const initiatorUri = idri ?? input.initiatorUri;
  if (initiatorUri === undefined) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'the I_MESSAGE has no IDRi: pass the Initiator URI');
  const initiatorId = mikeySakkeIdentifier(period, initiatorUri); //            "The Initiator's ID is used to validate signatures"

  // "it MUST verify the signature according to the method described in Section 5.2.2 of [RFC6507]" (§2.2.2)
  if (!eccsiVerify(own.community.kpak, initiatorId, signedPart, message.signature)) {
    throw new EscrowError('ERR_ESCROW_INVALID_SIGNATURE', 'ECCSI signature does not verify for the Initiator Identifier (RFC 6509 §2.2.2)');
  }
  // "If the authentication is successful, then the Responder SHALL process the SAKKE payload" (§2.2.2)
  const ssv = sakkeDecapsulate(own.receiving, message.sakkeData);
  const srtp = deriveCallSrtpKeys(ssv, message); //                              TGK = SSV (RFC 6509 §3.1)
  return redact({ initiatorUri, period, csbId: message.csbId, ssv, srtp, replayCacheKey }, `[AcceptedCall ${period}: redacted]`);
}
