// The MIKEY-SAKKE Key Management Server (RFC 6509 §2.1, §2.1.2, §3): one KMS holding BOTH master secrets — the
// ECCSI KMS Secret Authentication Key KSAK (RFC 6507 §4.2) and the SAKKE KMS Master Secret z_T (RFC 6508 §6.1) —
// that provisions every user, every month, with an ECCSI (SSK, PVT) pair and a SAKKE Receiver Secret Key for the
// Identifier "YYYY-MM\0tel:+…\0" (RFC 6509 §3.2).
//
// THE ESCROW PROPERTY (what Sotto's scorecard attacks). Every user key is a function of the master secrets and a
// public Identifier, so the KMS needs nothing from anyone to:
//   * read every call: `kmsRecoverCall` takes the master secrets and a recorded I_MESSAGE — nothing else — and
//     returns the SSV (= the MIKEY TGK) and every SRTP master key and salt of the call. Recording calls and
//     decrypting them later, for any past or future month, is one function call;
//   * impersonate anyone: `kmsProvisionUser` run again for a user's Identifier mints a fresh, valid signing key
//     for that user, and the Responder cannot tell its signatures from the user's (see src/eccsi.ts).
// Users cannot opt out, rotate away from, or detect either. That is the design of RFC 6509, not a bug here.
//
// Not constant-time; secrets are plain bigints and octets that JavaScript cannot wipe. Never protects anything.
import { EscrowError } from '../errors.ts';
import { eccsiGenerateKms, eccsiProvision, eccsiValidateUserKey, type EccsiKmsKeys, type EccsiUserKey, type Rng } from '../eccsi.ts';
import {
  decodeSakkePoint,
  sakkeGenerateKms,
  sakkeKmsDecapsulate,
  sakkeReceiverKey,
  sakkeValidateReceiverKey,
  type SakkeKmsKeys,
  type SakkePoint,
  type SakkeReceiverSecretKey,
} from '../sakke.ts';
import { decodeIMessage, MIKEY_ID_TYPE, unixMsFromNtp, type MikeySakkeIMessage } from './i-message.ts';
import { deriveCallSrtpKeys, type SrtpMasterKeys } from './kdf.ts';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Makes a secret-holding plain object print as `marker` through util.inspect, String() and JSON (STYLE.md §10). */
function redact<T extends object>(obj: T, marker: string): T {
  for (const key of [INSPECT, 'toString', 'toJSON']) {
    Object.defineProperty(obj, key, { enumerable: false, value: () => marker });
  }
  return Object.freeze(obj);
}

// ---------------------------------------------------------------------------------------------------------
// Identifiers and key periods (RFC 6509 §3.2, §3.3)

/** A key period "YYYY-MM" (RFC 6509 §3.2: "a four-digit year, followed by a hyphen "-", followed by a two-digit month"). */
export type KeyPeriod = string;

const PERIOD_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
/**
 * A constrained tel URI (RFC 6509 §3.2): global notation ("+" then digits), no visual separators, no parameters,
 * no phone-context. Stricter than the RFC: at most 15 digits, the E.164 maximum, which also keeps the Identifier
 * far below SAKKE's q (RFC 6508 §2.2).
 */
const TEL_URI_RE = /^tel:\+[0-9]{1,15}$/;

/** The key period containing a Unix time (UTC month; RFC 6509 §2.2.1 RECOMMENDS UTC). */
export function keyPeriodOfUnixMs(unixMs: number): KeyPeriod {
  const d = new Date(unixMs);
  if (Number.isNaN(d.getTime())) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'time: not a valid date');
  const year = d.getUTCFullYear();
  if (year < 1000 || year > 9999) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'time: year must have four digits');
  return `${year}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * The key period of an I_MESSAGE: "The value of the month used to form the Identifiers MUST be equal to the
 * month as specified by the data in the timestamp payload" (RFC 6509 §3.2). Both TS types are read as UTC.
 */
export function keyPeriodOfNtp(ntp: bigint): KeyPeriod {
  return keyPeriodOfUnixMs(unixMsFromNtp(ntp));
}

/** The key period `offset` months after `period` (negative for before). */
export function shiftKeyPeriod(period: KeyPeriod, offset: number): KeyPeriod {
  const m = PERIOD_RE.exec(period);
  if (m === null) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'key period: expected "YYYY-MM"');
  const index = Number(m[1]) * 12 + Number(m[2]) - 1 + offset;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** Throws ERR_ESCROW_ARGUMENT unless `uri` is a constrained tel URI (RFC 6509 §3.2). */
export function requireTelUri(uri: string): void {
  if (!TEL_URI_RE.test(uri)) {
    throw new EscrowError('ERR_ESCROW_ARGUMENT', 'URI: expected a global-number tel URI "tel:+<1-15 digits>" without separators or parameters (RFC 6509 §3.2)');
  }
}

/** The Identifier "YYYY-MM" || 0x00 || tel URI || 0x00 (RFC 6509 §3.2), e.g. "2011-02\0tel:+447700900123\0". */
export function mikeySakkeIdentifier(period: KeyPeriod, telUri: string): Uint8Array {
  if (!PERIOD_RE.test(period)) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'key period: expected "YYYY-MM" (RFC 6509 §3.2)');
  requireTelUri(telUri);
  return utf8.encode(`${period}\0${telUri}\0`);
}

/** The URI carried in an IDR payload, which "MUST contain the URI used to form the Identifier" (RFC 6509 §3.2). */
export function uriOfIdr(idr: { readonly idType: number; readonly data: Uint8Array }, role: string): string {
  if (idr.idType !== MIKEY_ID_TYPE.URI) throw new EscrowError('ERR_ESCROW_IDENTIFIER_MISMATCH', `${role}: ID Type ${idr.idType}, expected 1 (URI) (RFC 6509 §2.2.1)`);
  let uri: string;
  try {
    uri = utf8Decoder.decode(idr.data);
  } catch {
    throw new EscrowError('ERR_ESCROW_IDENTIFIER_MISMATCH', `${role}: ID Data is not text`);
  }
  if (!TEL_URI_RE.test(uri)) throw new EscrowError('ERR_ESCROW_IDENTIFIER_MISMATCH', `${role}: not a constrained tel URI (RFC 6509 §3.2)`);
  return uri;
}

// ---------------------------------------------------------------------------------------------------------
// The KMS and what it hands out (RFC 6509 §2.1.2)

/** The KMS master secrets: ECCSI KSAK and SAKKE z_T. Whoever holds this object holds every user's keys. */
export interface MikeySakkeKms {
  readonly eccsi: EccsiKmsKeys;
  readonly sakke: SakkeKmsKeys;
}

/** The public keys every device is provisioned with (RFC 6509 §2.1): the KPAK (RFC 6507) and Z_T (RFC 6508). */
export interface MikeySakkeCommunityKeys {
  /** KMS Public Authentication Key, 0x04 || x || y on P-256. */
  readonly kpak: Uint8Array;
  /** KMS Public Key Z_T = [z_T]P on the SAKKE curve. */
  readonly Z: SakkePoint;
}

/** A fresh KMS (RFC 6507 §4.2, RFC 6508 §6.1). Printing it shows a redacted marker. */
export function mikeySakkeGenerateKms(rng: Rng): MikeySakkeKms {
  return redact({ eccsi: eccsiGenerateKms(rng), sakke: sakkeGenerateKms(rng) }, '[MikeySakkeKms: redacted]');
}

/** The community public keys of a KMS. */
export function mikeySakkeCommunityKeys(kms: MikeySakkeKms): MikeySakkeCommunityKeys {
  return Object.freeze({ kpak: kms.eccsi.kpak.slice(), Z: kms.sakke.Z });
}

/**
 * One user's key material for one period, as it travels from the KMS to the device over the secure channel
 * RFC 6509 §3.4 requires: the ECCSI SSK and PVT (RFC 6507 §5.1.1) and the SAKKE RSK (RFC 6508 §6.1.1, §4 encoding).
 */
export interface MikeySakkeKeyDelivery {
  readonly period: KeyPeriod;
  readonly uri: string;
  readonly ssk: bigint;
  readonly pvt: Uint8Array;
  readonly rsk: Uint8Array;
}

/** A user's installed, validated keys for one period (what call.ts signs and decapsulates with). */
export interface MikeySakkeUserKeys {
  readonly period: KeyPeriod;
  readonly uri: string;
  /** The Identifier for (period, uri), RFC 6509 §3.2. */
  readonly identifier: Uint8Array;
  readonly community: MikeySakkeCommunityKeys;
  readonly signing: EccsiUserKey;
  readonly receiving: SakkeReceiverSecretKey;
}

/**
 * The KMS provisions `uri` for `period` (RFC 6509 §2.1.2, §3.3): (SSK, PVT) by RFC 6507 §5.1.1 and
 * K_(a,T) by RFC 6508 §6.1.1 for the Identifier of RFC 6509 §3.2. Needs only the master secrets and the public
 * Identifier — which is why running it again, at any time, for anyone, is the escrow.
 */
export function kmsProvisionUser(kms: MikeySakkeKms, uri: string, period: KeyPeriod, rng: Rng): MikeySakkeKeyDelivery {
  const identifier = mikeySakkeIdentifier(period, uri);
  const signing = eccsiProvision(kms.eccsi, identifier, rng);
  const receiving = sakkeReceiverKey(kms.sakke, identifier);
  return redact({ period, uri, ssk: signing.ssk, pvt: signing.pvt, rsk: receiving.encode() }, `[MikeySakkeKeyDelivery ${period}: redacted]`);
}

/**
 * The device installs a delivery after the checks the RFCs require: "each device MUST check that the supplied
 * KPAK lies on the elliptic curve" and validate (SSK, PVT) (RFC 6507 §4.2, §5.1.2), and "each user MUST verify
 * its RSK" (RFC 6508 §6.1.2). ERR_ESCROW_INVALID_POINT / ERR_ESCROW_INVALID_SIGNATURE /
 * ERR_ESCROW_INVALID_ENCAPSULATION when a check fails (one SAKKE pairing: tens of milliseconds).
 */
export function installUserKeys(community: MikeySakkeCommunityKeys, delivery: MikeySakkeKeyDelivery): MikeySakkeUserKeys {
  const identifier = mikeySakkeIdentifier(delivery.period, delivery.uri);
  const hs = eccsiValidateUserKey(community.kpak, identifier, delivery.ssk, delivery.pvt);
  const signing: EccsiUserKey = redact({ ssk: delivery.ssk, pvt: delivery.pvt.slice(), hs }, '[EccsiUserKey: redacted]');
  const receiving = sakkeValidateReceiverKey(community.Z, identifier, decodeSakkePoint(delivery.rsk));
  return redact({ period: delivery.period, uri: delivery.uri, identifier, community, signing, receiving }, `[MikeySakkeUserKeys ${delivery.period}: redacted]`);
}

// ---------------------------------------------------------------------------------------------------------
// THE ESCROW: reading a recorded call with the master secrets alone

/** What the KMS learns from one recorded I_MESSAGE. */
export interface RecoveredCall {
  readonly period: KeyPeriod;
  readonly responderUri: string;
  /** The Initiator's URI if the message names it (IDRi); the signature tells the KMS nothing it could not forge. */
  readonly initiatorUri?: string;
  readonly csbId: number;
  /** The SAKKE SSV, i.e. the MIKEY TGK (RFC 6509 §2.1). */
  readonly ssv: Uint8Array;
  /** The SRTP master key and salt of every crypto session (RFC 3830 §4.1.3). */
  readonly srtp: readonly SrtpMasterKeys[];
}

/**
 * Given ONLY the KMS master secrets and a recorded I_MESSAGE, recovers the call's SSV and all its SRTP keys:
 * the key period comes from T (RFC 6509 §3.2), the Responder's URI from IDRr (or `responderUri` when the message
 * omits IDRr — a KMS knows its subscribers and can simply try each), the Receiver Secret Key is re-derived from z_T
 * (RFC 6508 §6.1.1) and the SAKKE payload decapsulated (§6.2.2); the SSV is the TGK (RFC 6509 §3.1) and the
 * SRTP keys follow by RFC 3830 §4.1.3. No user key, cooperation or trace is involved. The signature is not
 * checked: the KMS does not need it. Throws ERR_ESCROW_MALFORMED_MESSAGE / ERR_ESCROW_UNSUPPORTED_MESSAGE for
 * undecodable input, ERR_ESCROW_ARGUMENT if no Responder URI is known, ERR_ESCROW_INVALID_ENCAPSULATION if the
 * SAKKE payload was not made for that Responder and period.
 */
export function kmsRecoverCall(kms: MikeySakkeKms, recordedIMessage: Uint8Array, responderUri?: string): RecoveredCall {
  const { message } = decodeIMessage(recordedIMessage);
  const period = keyPeriodOfNtp(message.timestamp.value); //             the month of T is the month of the Identifiers
  const uri = responderUriOf(message, responderUri);
  const identifier = mikeySakkeIdentifier(period, uri); //                "YYYY-MM\0tel:+…\0"
  const ssv = sakkeKmsDecapsulate(kms.sakke, identifier, message.sakkeData); // K_(b,T) from z_T, then RFC 6508 §6.2.2
  const srtp = deriveCallSrtpKeys(ssv, message); //                       TGK = SSV → TEK and salt per crypto session
  const initiator = message.idri === undefined ? {} : { initiatorUri: uriOfIdr(message.idri, 'IDRi') };
  return redact({ period, responderUri: uri, ...initiator, csbId: message.csbId, ssv, srtp }, `[RecoveredCall ${period}: redacted]`);
}

function responderUriOf(message: MikeySakkeIMessage, fallback: string | undefined): string {
  if (message.idrr !== undefined) {
    const uri = uriOfIdr(message.idrr, 'IDRr');
    if (fallback !== undefined && fallback !== uri) throw new EscrowError('ERR_ESCROW_IDENTIFIER_MISMATCH', 'IDRr names a different Responder than the one given');
    return uri;
  }
  if (fallback === undefined) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'the I_MESSAGE has no IDRr: pass the Responder URI');
  requireTelUri(fallback);
  return fallback;
}
