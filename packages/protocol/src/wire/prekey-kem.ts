// KemPrekey upload record (PQXDH rev 3 §3.2; docs/protocol/03-keys-and-bundles.md §3.6): a signed
// ML-KEM-1024 prekey, one-time (PQOPK) or last-resort (PQSPK).
//
// | offset | size | field                                             |
// |--------|------|---------------------------------------------------|
// | 0      | 1    | WIRE_VERSION (0x01)                               |
// | 1      | 1    | WireType.KemPrekey (0x07)                         |
// | 2      | 4    | id (u32 BE)                                       |
// | 6      | 1    | last-resort flag: 0x00 one-time, 0x01 last-resort |
// | 7      | 1568 | ML-KEM-1024 encapsulation key (FIPS 203 §7.1)     |
// | 1575   | 64   | Ed25519 signature (docs/protocol/03 §3.3)           |
// Total: 1639 bytes. Decoding checks the syntax only; verify with `verifyKemPrekey`.
import { ED25519_SIGNATURE_BYTES, MLKEM1024_PUBLIC_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { WIRE_VERSION, WireType } from './version.ts';
import type { WireKemPrekey } from './prekey-bundle.ts';
import { ProtocolError } from '../errors.ts';

export const KEM_PREKEY_BYTES = 2 + 4 + 1 + MLKEM1024_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES;

export function encodeKemPrekey(p: WireKemPrekey): Uint8Array {
  if (p.publicKey.length !== MLKEM1024_PUBLIC_KEY_BYTES || p.signature.length !== ED25519_SIGNATURE_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `KEM prekey: expected a ${MLKEM1024_PUBLIC_KEY_BYTES}-byte key and ${ED25519_SIGNATURE_BYTES}-byte signature`);
  }
  return new Writer()
    .u8(WIRE_VERSION)
    .u8(WireType.KemPrekey)
    .u32(p.id)
    .u8(p.lastResort ? 1 : 0)
    .bytes(p.publicKey)
    .bytes(p.signature)
    .finish();
}

export function decodeKemPrekey(bytes: Uint8Array): WireKemPrekey {
  const what = 'KEM prekey';
  const r = new Reader(bytes, what);
  expectHeader(r, WireType.KemPrekey, what);
  const id = r.u32();
  const lastResort = r.flag(`${what} last-resort flag`);
  const out = { id, lastResort, publicKey: r.bytes(MLKEM1024_PUBLIC_KEY_BYTES), signature: r.bytes(ED25519_SIGNATURE_BYTES) };
  r.end();
  return out;
}
