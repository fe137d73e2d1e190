// PrekeyBundle: what the server hands Alice for one of Bob's devices (PQXDH rev 3 §3.3;
// docs/protocol/03-keys-and-bundles.md §3.5), and `verifyPrekeyBundle`, the only way to obtain the
// `VerifiedPrekeyBundle` that `initiateSession` accepts.
//
// | offset | size | field                                                            |
// |--------|------|------------------------------------------------------------------|
// | 0      | 1    | WIRE_VERSION (0x01)                                              |
// | 1      | 1    | WireType.PrekeyBundle (0x01)                                     |
// | 2      | 32   | identity key IK_B (Ed25519, RFC 8032 §5.1.2)                     |
// | 34     | 4    | signed prekey id (u32 BE)                                        |
// | 38     | 32   | signed prekey SPK_B (X25519 u, little-endian)                    |
// | 70     | 64   | signed prekey signature (Ed25519)                                |
// | 134    | 1    | one-time prekey present: 0x00 or 0x01 (any other value rejected) |
// | 135    | 100  | if present: id (u32 BE) ‖ OPK_B (32) ‖ signature (64)            |
// | …      | 4    | KEM prekey id (u32 BE)                                           |
// | …      | 1    | last-resort flag: 0x00 one-time, 0x01 last-resort                |
// | …      | 1568 | KEM prekey PQPK_B (ML-KEM-1024 encapsulation key)                |
// | …      | 64   | KEM prekey signature (Ed25519)                                   |
// Total: 1772 bytes without, 1872 bytes with a one-time prekey. No trailing bytes.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, MLKEM1024_PUBLIC_KEY_BYTES, X25519_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { constantTimeEqual } from '../internal/bytes.ts';
import { WIRE_VERSION, WireType } from './version.ts';
import { parseIdentityPublicKey, type IdentityPublicKey } from '../keys/identity.ts';
import {
  checkPrekeyId,
  parseMlKemPublicKey,
  parseX25519PublicKey,
  verifyKemPrekey,
  verifyOneTimePrekey,
  verifySignedPrekey,
  type KemPrekeyPublic,
  type OneTimePrekeyPublic,
  type SignedPrekeyPublic,
} from '../keys/prekeys.ts';

export interface WireSignedPrekey {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

export type WireOneTimePrekey = WireSignedPrekey;

export interface WireKemPrekey {
  readonly id: number;
  readonly lastResort: boolean;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** A prekey bundle as received: nothing in it is checked until `verifyPrekeyBundle`. */
export interface PrekeyBundle {
  readonly identityKey: Uint8Array;
  readonly signedPrekey: WireSignedPrekey;
  readonly oneTimePrekey?: WireOneTimePrekey | undefined;
  readonly kemPrekey: WireKemPrekey;
}

function checkLen(what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new ProtocolError('ERR_ARGUMENT', `${what}: expected ${n} bytes, got ${b.length}`);
}

export function encodePrekeyBundle(b: PrekeyBundle): Uint8Array {
  checkLen('identity key', b.identityKey, ED25519_PUBLIC_KEY_BYTES);
  checkLen('signed prekey', b.signedPrekey.publicKey, X25519_KEY_BYTES);
  checkLen('signed prekey signature', b.signedPrekey.signature, ED25519_SIGNATURE_BYTES);
  checkLen('KEM prekey', b.kemPrekey.publicKey, MLKEM1024_PUBLIC_KEY_BYTES);
  checkLen('KEM prekey signature', b.kemPrekey.signature, ED25519_SIGNATURE_BYTES);
  const w = new Writer().u8(WIRE_VERSION).u8(WireType.PrekeyBundle).bytes(b.identityKey);
  w.u32(b.signedPrekey.id).bytes(b.signedPrekey.publicKey).bytes(b.signedPrekey.signature);
  const otp = b.oneTimePrekey;
  if (otp === undefined) {
    w.u8(0);
  } else {
    checkLen('one-time prekey', otp.publicKey, X25519_KEY_BYTES);
    checkLen('one-time prekey signature', otp.signature, ED25519_SIGNATURE_BYTES);
    w.u8(1).u32(otp.id).bytes(otp.publicKey).bytes(otp.signature);
  }
  w.u32(b.kemPrekey.id).u8(b.kemPrekey.lastResort ? 1 : 0).bytes(b.kemPrekey.publicKey).bytes(b.kemPrekey.signature);
  return w.finish();
}

export function decodePrekeyBundle(bytes: Uint8Array): PrekeyBundle {
  const what = 'prekey bundle';
  const r = new Reader(bytes, what);
  expectHeader(r, WireType.PrekeyBundle, what);
  const identityKey = r.bytes(ED25519_PUBLIC_KEY_BYTES);
  const signedPrekey = { id: r.u32(), publicKey: r.bytes(X25519_KEY_BYTES), signature: r.bytes(ED25519_SIGNATURE_BYTES) };
  const oneTimePrekey = r.flag(`${what} one-time prekey presence`)
    ? { id: r.u32(), publicKey: r.bytes(X25519_KEY_BYTES), signature: r.bytes(ED25519_SIGNATURE_BYTES) }
    : undefined;
  const kemId = r.u32();
  const lastResort = r.flag(`${what} last-resort flag`);
  const kemPrekey = { id: kemId, lastResort, publicKey: r.bytes(MLKEM1024_PUBLIC_KEY_BYTES), signature: r.bytes(ED25519_SIGNATURE_BYTES) };
  r.end();
  return oneTimePrekey === undefined ? { identityKey, signedPrekey, kemPrekey } : { identityKey, signedPrekey, oneTimePrekey, kemPrekey };
}

const VERIFIED = Symbol('VerifiedPrekeyBundle');

/**
 * A bundle whose every key and signature has been checked. Only `verifyPrekeyBundle` makes one
 * (the constructor needs a module-private token), and `initiateSession` refuses anything else, so
 * skipping verification is not possible by accident. Fields are private copies of the input.
 */
export class VerifiedPrekeyBundle {
  readonly identityKey: IdentityPublicKey;
  readonly signedPrekey: SignedPrekeyPublic;
  readonly oneTimePrekey: OneTimePrekeyPublic | undefined;
  readonly kemPrekey: KemPrekeyPublic;

  constructor(
    token: typeof VERIFIED,
    fields: { identityKey: IdentityPublicKey; signedPrekey: SignedPrekeyPublic; oneTimePrekey: OneTimePrekeyPublic | undefined; kemPrekey: KemPrekeyPublic },
  ) {
    if (token !== VERIFIED) throw new ProtocolError('ERR_ARGUMENT', 'VerifiedPrekeyBundle is made by verifyPrekeyBundle only');
    this.identityKey = fields.identityKey;
    this.signedPrekey = fields.signedPrekey;
    this.oneTimePrekey = fields.oneTimePrekey;
    this.kemPrekey = fields.kemPrekey;
    Object.freeze(this);
  }
}

/**
 * PQXDH §3.3 "Alice verifies the signatures on the prekeys. If any signature check fails, Alice
 * aborts the protocol." Checks, in order: the identity key (ERR_KEY_INVALID), that it equals
 * `expectedIdentityKey` when given (ERR_BUNDLE_INVALID), every prekey (ERR_KEY_INVALID: canonical,
 * not small order; ML-KEM modulus check), then every signature (ERR_SIGNATURE_INVALID).
 */
export async function verifyPrekeyBundle(crypto: CryptoProvider, bundle: PrekeyBundle, expectedIdentityKey?: Uint8Array): Promise<VerifiedPrekeyBundle> {
  checkPrekeyId(bundle.signedPrekey.id, 'signed prekey');
  if (bundle.oneTimePrekey !== undefined) checkPrekeyId(bundle.oneTimePrekey.id, 'one-time prekey');
  checkPrekeyId(bundle.kemPrekey.id, 'KEM prekey');
  const identityKey = parseIdentityPublicKey(bundle.identityKey);
  if (expectedIdentityKey !== undefined && !constantTimeEqual(identityKey, expectedIdentityKey)) {
    throw new ProtocolError('ERR_BUNDLE_INVALID', 'prekey bundle: identity key differs from the expected one');
  }
  const sig = (s: Uint8Array, what: string): Uint8Array => {
    if (s.length !== ED25519_SIGNATURE_BYTES) throw new ProtocolError('ERR_SIGNATURE_INVALID', `${what}: expected a ${ED25519_SIGNATURE_BYTES}-byte signature, got ${s.length}`);
    return s.slice();
  };
  const signedPrekey: SignedPrekeyPublic = {
    id: bundle.signedPrekey.id,
    publicKey: parseX25519PublicKey(bundle.signedPrekey.publicKey, 'signed prekey'),
    signature: sig(bundle.signedPrekey.signature, 'signed prekey'),
  };
  const otp = bundle.oneTimePrekey;
  const oneTimePrekey: OneTimePrekeyPublic | undefined =
    otp === undefined ? undefined : { id: otp.id, publicKey: parseX25519PublicKey(otp.publicKey, 'one-time prekey'), signature: sig(otp.signature, 'one-time prekey') };
  const kemPrekey: KemPrekeyPublic = {
    id: bundle.kemPrekey.id,
    lastResort: bundle.kemPrekey.lastResort,
    publicKey: parseMlKemPublicKey(bundle.kemPrekey.publicKey, 'KEM prekey'),
    signature: sig(bundle.kemPrekey.signature, 'KEM prekey'),
  };
  await verifySignedPrekey(crypto, identityKey, signedPrekey);
  if (oneTimePrekey !== undefined) await verifyOneTimePrekey(crypto, identityKey, oneTimePrekey);
  await verifyKemPrekey(crypto, identityKey, kemPrekey);
  return new VerifiedPrekeyBundle(VERIFIED, { identityKey, signedPrekey, oneTimePrekey, kemPrekey });
}
