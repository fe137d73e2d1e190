// A cache of imported key objects, keyed by the identity of the caller's Uint8Array.
//
// Importing a private 25519 key into OpenSSL costs a scalar multiplication (~40 µs, more than the DH
// itself), and the Double Ratchet uses each ratchet private key twice (public key, then DH) and each
// peer public key twice. Why this cannot leak or go stale:
//   - The key is the caller's array OBJECT (a WeakMap), not its contents: another user (or another
//     session) holding equal bytes in a different array never hits this entry, and no secret becomes
//     a map key or a string.
//   - Each hit compares the array with a copy taken at import time, so a caller who overwrites or
//     wipes the array gets a fresh import, never the old key.
// What it does NOT do (found in review; README "Memory hygiene"): wiping the caller's array does not
// wipe the entry. The copy and the imported key object (which holds the secret inside OpenSSL or the
// browser anyway) stay in memory until the caller's array object itself is garbage-collected. The
// protocol drops its references to used keys, so that is soon, but not at the moment of the wipe.
// The comparison is branch-free on the contents, like constantTimeEqual in @sotto/protocol.
interface Entry<K> {
  readonly bytes: Uint8Array;
  readonly key: K;
}

export class KeyCache<K> {
  readonly #entries = new WeakMap<Uint8Array, Entry<K>>();
  readonly #load: (bytes: Uint8Array) => K;

  constructor(load: (bytes: Uint8Array) => K) {
    this.#load = load;
  }

  get(bytes: Uint8Array): K {
    const hit = this.#entries.get(bytes);
    if (hit !== undefined && sameBytes(hit.bytes, bytes)) return hit.key;
    const key = this.#load(bytes);
    this.#entries.set(bytes, { bytes: new Uint8Array(bytes), key });
    return key;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
