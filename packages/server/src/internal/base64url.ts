// Node's native base64url decoder, which startServer installs into the protocol core
// (installBase64urlDecoder, packages/protocol/src/api/base64url.ts): every sealed send's envelope is
// ~700 characters, which the portable loop decoded in ~12 % of the server's main-thread time at 2
// clients (bench/server/profile.ts). Buffer's decoder is lenient (it skips what is not base64); it
// is only ever given text decodeBase64url has already checked to be canonical, and the bytes are the
// portable decoder's (test/base64url-native.test.ts).

/** Canonical base64url text → its bytes, decoded straight into a fresh exact-size array (not
 *  Buffer.from, which hands out slices of a shared 8 KiB pool — a structured clone, as to the SQLite
 *  writer thread, copies a view's whole buffer — and would need a second copy to avoid that). */
export function nativeBase64url(text: string): Uint8Array {
  const rem = text.length % 4;
  const out = new Uint8Array(Math.floor(text.length / 4) * 3 + (rem === 0 ? 0 : rem - 1));
  Buffer.from(out.buffer).write(text, 'base64url');
  return out;
}
