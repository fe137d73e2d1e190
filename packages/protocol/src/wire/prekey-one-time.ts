// OneTimePrekey upload record (PQXDH rev 3 §3.2; docs/protocol/03-keys-and-bundles.md §3.6): a one-time
// X25519 prekey. Sotto signs one-time prekeys too (stricter than PQXDH, docs/protocol/03 §3.3).
//
// | offset | size | field                                   |
// |--------|------|-----------------------------------------|
// | 0      | 1    | WIRE_VERSION (0x01)                     |
// | 1      | 1    | WireType.OneTimePrekey (0x08)           |
// | 2      | 4    | id (u32 BE)                             |
// | 6      | 32   | OPK (X25519 u, little-endian)           |
// | 38     | 64   | Ed25519 signature (docs/protocol/03 §3.3) |
// Total: 102 bytes. Decoding checks the syntax only; verify with `verifyOneTimePrekey`.
import { ED25519_SIGNATURE_BYTES, X25519_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { WIRE_VERSION, WireType } from './version.ts';
import type { WireOneTimePrekey } from './prekey-bundle.ts';
import { ProtocolError } from '../errors.ts';

export const ONE_TIME_PREKEY_BYTES = 2 + 4 + X25519_KEY_BYTES + ED25519_SIGNATURE_BYTES;

export function encodeOneTimePrekey(p: WireOneTimePrekey): Uint8Array {
  if (p.publicKey.length !== X25519_KEY_BYTES || p.signature.length !== ED25519_SIGNATURE_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `one-time prekey: expected a ${X25519_KEY_BYTES}-byte key and ${ED25519_SIGNATURE_BYTES}-byte signature`);
  }
  return new Writer().u8(WIRE_VERSION).u8(WireType.OneTimePrekey).u32(p.id).bytes(p.publicKey).bytes(p.signature).finish();
}

export function decodeOneTimePrekey(bytes: Uint8Array): WireOneTimePrekey {
  const what = 'one-time prekey';
  const r = new Reader(bytes, what);
  expectHeader(r, WireType.OneTimePrekey, what);
  const out = { id: r.u32(), publicKey: r.bytes(X25519_KEY_BYTES), signature: r.bytes(ED25519_SIGNATURE_BYTES) };
  r.end();
  return out;
}
