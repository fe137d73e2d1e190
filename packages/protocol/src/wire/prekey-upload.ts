// PrekeyUpload: a batch of prekeys a device uploads in one request (PQXDH rev 3 §3.2 "Bob may upload
// new one-time prekeys at other times"; docs/protocol/03-keys-and-bundles.md §3.6). Every part is
// optional, so the same message rotates the signed prekey, rotates the last-resort KEM prekey, or
// refills one-time prekeys. The last-resort flag of each KEM key is implied by its position (and is
// covered by its signature, docs/protocol/03 §3.3).
//
// | size       | field                                                                  |
// |------------|------------------------------------------------------------------------|
// | 1          | WIRE_VERSION (0x01)                                                    |
// | 1          | WireType.PrekeyUpload (0x0c)                                           |
// | 32         | identity key (Ed25519) that signed everything below                    |
// | 1          | signed prekey present: 0x00 / 0x01                                     |
// | 0 / 100    | if present: id (u32) ‖ SPK (32) ‖ signature (64)                       |
// | 1          | last-resort KEM prekey present: 0x00 / 0x01                            |
// | 0 / 1636   | if present: id (u32) ‖ PQSPK (1568) ‖ signature (64)                   |
// | 2          | n1: number of one-time X25519 prekeys (u16, ≤ MAX_PREKEYS_PER_UPLOAD)  |
// | 100 · n1   | each: id (u32) ‖ OPK (32) ‖ signature (64)                             |
// | 2          | n2: number of one-time KEM prekeys (u16, ≤ MAX_PREKEYS_PER_UPLOAD)     |
// | 1636 · n2  | each: id (u32) ‖ PQOPK (1568) ‖ signature (64)                         |
// No trailing bytes. Decoding checks syntax only; `verifyPrekeyUpload` checks keys and signatures.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, MLKEM1024_PUBLIC_KEY_BYTES, X25519_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { constantTimeEqual } from '../internal/bytes.ts';
import { MAX_PREKEYS_PER_UPLOAD } from '../limits.ts';
import { parseIdentityPublicKey } from '../keys/identity.ts';
import {
  checkPrekeyId,
  parseMlKemPublicKey,
  parseX25519PublicKey,
  verifyKemPrekey,
  verifyOneTimePrekey,
  verifySignedPrekey,
} from '../keys/prekeys.ts';
import { WIRE_VERSION, WireType } from './version.ts';
import type { WireKemPrekey, WireOneTimePrekey, WireSignedPrekey } from './prekey-bundle.ts';

export interface PrekeyUpload {
  readonly identityKey: Uint8Array;
  readonly signedPrekey?: WireSignedPrekey | undefined;
  /** Must have lastResort = true. */
  readonly lastResortKemPrekey?: WireKemPrekey | undefined;
  readonly oneTimePrekeys: readonly WireOneTimePrekey[];
  /** Each must have lastResort = false. */
  readonly kemPrekeys: readonly WireKemPrekey[];
}

function arg(cond: boolean, message: string): void {
  if (!cond) throw new ProtocolError('ERR_ARGUMENT', `prekey upload: ${message}`);
}

function writeEc(w: Writer, p: WireSignedPrekey, what: string): void {
  arg(p.publicKey.length === X25519_KEY_BYTES && p.signature.length === ED25519_SIGNATURE_BYTES, `${what}: expected a ${X25519_KEY_BYTES}-byte key and ${ED25519_SIGNATURE_BYTES}-byte signature`);
  w.u32(p.id).bytes(p.publicKey).bytes(p.signature);
}

function writeKem(w: Writer, p: WireKemPrekey, lastResort: boolean, what: string): void {
  arg(p.lastResort === lastResort, `${what}: expected lastResort = ${String(lastResort)}`);
  arg(p.publicKey.length === MLKEM1024_PUBLIC_KEY_BYTES && p.signature.length === ED25519_SIGNATURE_BYTES, `${what}: expected a ${MLKEM1024_PUBLIC_KEY_BYTES}-byte key and ${ED25519_SIGNATURE_BYTES}-byte signature`);
  w.u32(p.id).bytes(p.publicKey).bytes(p.signature);
}

export function encodePrekeyUpload(u: PrekeyUpload): Uint8Array {
  arg(u.identityKey.length === ED25519_PUBLIC_KEY_BYTES, `identity key: expected ${ED25519_PUBLIC_KEY_BYTES} bytes, got ${u.identityKey.length}`);
  arg(u.oneTimePrekeys.length <= MAX_PREKEYS_PER_UPLOAD, `at most ${MAX_PREKEYS_PER_UPLOAD} one-time prekeys, got ${u.oneTimePrekeys.length}`);
  arg(u.kemPrekeys.length <= MAX_PREKEYS_PER_UPLOAD, `at most ${MAX_PREKEYS_PER_UPLOAD} KEM prekeys, got ${u.kemPrekeys.length}`);
  const w = new Writer().u8(WIRE_VERSION).u8(WireType.PrekeyUpload).bytes(u.identityKey);
  if (u.signedPrekey === undefined) w.u8(0);
  else writeEc(w.u8(1), u.signedPrekey, 'signed prekey');
  if (u.lastResortKemPrekey === undefined) w.u8(0);
  else writeKem(w.u8(1), u.lastResortKemPrekey, true, 'last-resort KEM prekey');
  w.u16(u.oneTimePrekeys.length);
  for (const p of u.oneTimePrekeys) writeEc(w, p, 'one-time prekey');
  w.u16(u.kemPrekeys.length);
  for (const p of u.kemPrekeys) writeKem(w, p, false, 'KEM prekey');
  return w.finish();
}

function count(r: Reader, what: string): number {
  const n = r.u16();
  if (n > MAX_PREKEYS_PER_UPLOAD) throw new ProtocolError('ERR_WIRE_BAD_LENGTH', `${what}: ${n} entries, at most ${MAX_PREKEYS_PER_UPLOAD}`);
  return n;
}

export function decodePrekeyUpload(bytes: Uint8Array): PrekeyUpload {
  const what = 'prekey upload';
  const r = new Reader(bytes, what);
  expectHeader(r, WireType.PrekeyUpload, what);
  const identityKey = r.bytes(ED25519_PUBLIC_KEY_BYTES);
  const ec = (): WireSignedPrekey => ({ id: r.u32(), publicKey: r.bytes(X25519_KEY_BYTES), signature: r.bytes(ED25519_SIGNATURE_BYTES) });
  const kem = (lastResort: boolean): WireKemPrekey => ({ id: r.u32(), lastResort, publicKey: r.bytes(MLKEM1024_PUBLIC_KEY_BYTES), signature: r.bytes(ED25519_SIGNATURE_BYTES) });
  const signedPrekey = r.flag(`${what} signed prekey flag`) ? ec() : undefined;
  const lastResortKemPrekey = r.flag(`${what} last-resort flag`) ? kem(true) : undefined;
  const oneTimePrekeys: WireOneTimePrekey[] = [];
  for (let i = count(r, `${what} one-time prekeys`); i > 0; i--) oneTimePrekeys.push(ec());
  const kemPrekeys: WireKemPrekey[] = [];
  for (let i = count(r, `${what} KEM prekeys`); i > 0; i--) kemPrekeys.push(kem(false));
  r.end();
  return {
    identityKey,
    ...(signedPrekey === undefined ? {} : { signedPrekey }),
    ...(lastResortKemPrekey === undefined ? {} : { lastResortKemPrekey }),
    oneTimePrekeys,
    kemPrekeys,
  };
}

function distinct(ids: readonly number[], what: string): void {
  if (new Set(ids).size !== ids.length) throw new ProtocolError('ERR_BUNDLE_INVALID', `prekey upload: duplicate ${what} id`);
}

/**
 * What a server checks before storing an upload: the identity key is valid and (when given) the
 * account's; every key is valid (ERR_KEY_INVALID); ids are u32 and distinct per kind
 * (ERR_BUNDLE_INVALID); the last-resort flags match the positions; every signature verifies
 * (ERR_SIGNATURE_INVALID). A server must also refuse ids that clash with keys it still holds.
 */
export async function verifyPrekeyUpload(crypto: CryptoProvider, u: PrekeyUpload, expectedIdentityKey?: Uint8Array): Promise<void> {
  const identityKey = parseIdentityPublicKey(u.identityKey);
  if (expectedIdentityKey !== undefined && !constantTimeEqual(identityKey, expectedIdentityKey)) {
    throw new ProtocolError('ERR_BUNDLE_INVALID', 'prekey upload: identity key differs from the expected one');
  }
  if (u.oneTimePrekeys.length > MAX_PREKEYS_PER_UPLOAD || u.kemPrekeys.length > MAX_PREKEYS_PER_UPLOAD) {
    throw new ProtocolError('ERR_WIRE_BAD_LENGTH', `prekey upload: at most ${MAX_PREKEYS_PER_UPLOAD} one-time prekeys of each kind`);
  }
  const kemIds = u.kemPrekeys.map((p) => p.id);
  if (u.lastResortKemPrekey !== undefined) kemIds.push(u.lastResortKemPrekey.id);
  distinct(u.oneTimePrekeys.map((p) => p.id), 'one-time prekey');
  distinct(kemIds, 'KEM prekey');
  if (u.lastResortKemPrekey !== undefined && !u.lastResortKemPrekey.lastResort) throw new ProtocolError('ERR_BUNDLE_INVALID', 'prekey upload: the last-resort slot holds a one-time KEM prekey');
  if (u.kemPrekeys.some((p) => p.lastResort)) throw new ProtocolError('ERR_BUNDLE_INVALID', 'prekey upload: a one-time KEM prekey is flagged last-resort');
  const sig = (s: Uint8Array): Uint8Array => {
    if (s.length !== ED25519_SIGNATURE_BYTES) throw new ProtocolError('ERR_SIGNATURE_INVALID', `prekey upload: expected a ${ED25519_SIGNATURE_BYTES}-byte signature, got ${s.length}`);
    return s;
  };
  if (u.signedPrekey !== undefined) {
    const p = u.signedPrekey;
    checkPrekeyId(p.id, 'signed prekey');
    await verifySignedPrekey(crypto, identityKey, { id: p.id, publicKey: parseX25519PublicKey(p.publicKey, 'signed prekey'), signature: sig(p.signature) });
  }
  for (const p of u.oneTimePrekeys) {
    checkPrekeyId(p.id, 'one-time prekey');
    await verifyOneTimePrekey(crypto, identityKey, { id: p.id, publicKey: parseX25519PublicKey(p.publicKey, 'one-time prekey'), signature: sig(p.signature) });
  }
  for (const p of u.lastResortKemPrekey === undefined ? u.kemPrekeys : [u.lastResortKemPrekey, ...u.kemPrekeys]) {
    checkPrekeyId(p.id, 'KEM prekey');
    await verifyKemPrekey(crypto, identityKey, { id: p.id, lastResort: p.lastResort, publicKey: parseMlKemPublicKey(p.publicKey, 'KEM prekey'), signature: sig(p.signature) });
  }
}
