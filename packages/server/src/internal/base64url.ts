// Node's native base64url decoder, which startServer installs into the protocol core
// (installBase64urlDecoder, packages/protocol/src/api/base64url.ts): every sealed send's envelope is
// ~700 characters, which the portable loop decoded in ~12 % of the server's main-thread time at 2
// clients (bench/server/profile.ts). Buffer's decoder is lenient (it skips what is not base64); it
// is only ever given text decodeBase64url has already checked to be canonical, and the bytes are the
// portable decoder's (test/base64url-native.test.ts).

/** Canonical base64url text → its bytes, in a fresh exact-size buffer: Buffer.from hands out slices
 *  of a shared 8 KiB pool, which a structured clone (the SQLite writer thread) would copy whole. */
export function nativeBase64url(text: string): Uint8Array {
  const b = Buffer.from(text, 'base64url');
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
