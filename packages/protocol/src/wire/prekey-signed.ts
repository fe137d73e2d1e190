// SignedPrekey upload record (PQXDH rev 3 §3.2; docs/protocol/03-keys-and-bundles.md §3.6): a signed
// X25519 prekey as a device uploads it. The server stores it and copies its fields into bundles.
//
// | offset | size | field                                   |
// |--------|------|-----------------------------------------|
// | 0      | 1    | WIRE_VERSION (0x01)                     |
// | 1      | 1    | WireType.SignedPrekey (0x06)            |
// | 2      | 4    | id (u32 BE)                             |
// | 6      | 32   | SPK (X25519 u, little-endian)           |
// | 38     | 64   | Ed25519 signature (docs/protocol/03 §3.3) |
// Total: 102 bytes. Decoding checks the syntax only; verify with `verifySignedPrekey`.
import { ED25519_SIGNATURE_BYTES, X25519_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { WIRE_VERSION, WireType } from './version.ts';
import type { WireSignedPrekey } from './prekey-bundle.ts';
import { ProtocolError } from '../errors.ts';

export const SIGNED_PREKEY_BYTES = 2 + 4 + X25519_KEY_BYTES + ED25519_SIGNATURE_BYTES;

export function encodeSignedPrekey(p: WireSignedPrekey): Uint8Array {
  if (p.publicKey.length !== X25519_KEY_BYTES || p.signature.length !== ED25519_SIGNATURE_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `signed prekey: expected a ${X25519_KEY_BYTES}-byte key and ${ED25519_SIGNATURE_BYTES}-byte signature`);
  }
  return new Writer().u8(WIRE_VERSION).u8(WireType.SignedPrekey).u32(p.id).bytes(p.publicKey).bytes(p.signature).finish();
}

export function decodeSignedPrekey(bytes: Uint8Array): WireSignedPrekey {
  const what = 'signed prekey';
  const r = new Reader(bytes, what);
  expectHeader(r, WireType.SignedPrekey, what);
  const out = { id: r.u32(), publicKey: r.bytes(X25519_KEY_BYTES), signature: r.bytes(ED25519_SIGNATURE_BYTES) };
  r.end();
  return out;
}
