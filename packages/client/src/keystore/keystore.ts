// The device keystore: a small map from names to secret byte strings that the rest of the client
// (identity keys, prekeys, sessions, trust store) persists through. Back-ends: software (Node,
// src/keystore/software.ts, exported by @sotto/client/node), browser (IndexedDB + a non-extractable
// WebCrypto device key, src/keystore/browser.ts, exported by @sotto/client/browser); a hardware
// (PKCS#11) back-end implements the same interface.

/** An open keystore. Every method is async; after `close()` every method rejects with
 *  ERR_KEYSTORE_CLOSED. Values are copied in and out: mutating a returned or passed buffer never
 *  changes the store. A rejected write has changed nothing, in memory or on disk. */
export interface Keystore {
  /** The bytes stored under `name`, or undefined. */
  get(name: string): Promise<Uint8Array | undefined>;
  /** Stores `bytes` under `name` (replacing any previous value), durably before resolving. */
  put(name: string, bytes: Uint8Array): Promise<void>;
  /** Applies several writes at once, atomically and durably: each name mapped to bytes is stored,
   *  each mapped to null is removed. Either every change is made or none (one file write for the
   *  software back-end, so a batch of received messages costs one write, docs/protocol/10 §10.1). */
  update(changes: ReadonlyMap<string, Uint8Array | null>): Promise<void>;
  /** Removes `name`; resolves to whether it was present. Durable before resolving. */
  delete(name: string): Promise<boolean>;
  /** Every stored name, sorted by code unit. */
  names(): Promise<string[]>;
  /** Re-encrypts everything under a key derived from `next` with a fresh salt; `current` must be the
   *  passphrase the store is open with (ERR_KEYSTORE_WRONG_PASSPHRASE otherwise, nothing changed). */
  changePassphrase(current: string, next: string): Promise<void>;
  /** Wipes the key and the cached plaintext held in memory. Idempotent. */
  close(): Promise<void>;
  /** A fixed marker, never contents: keystores redact themselves (also under JSON and util.inspect). */
  toString(): string;
}

/** Where one device keystore lives, and how to create, open and remove it: the platform-specific part
 *  of createAccount / openClient, so the SDK itself stays platform-neutral. Made by
 *  `softwareKeystore(dir)` (@sotto/client/node) or `browserKeystore(name)` (@sotto/client/browser). */
export interface KeystoreOpener {
  /** Creates a new, empty keystore unlocked by `passphrase`; ERR_KEYSTORE_EXISTS (nothing changed)
   *  when there is one already. */
  create(passphrase: string): Promise<Keystore>;
  /** Opens the existing keystore: ERR_KEYSTORE_NOT_FOUND, ERR_KEYSTORE_WRONG_PASSPHRASE, ... */
  open(passphrase: string): Promise<Keystore>;
  /** Removes the keystore (for createAccount, when the username it was made for is refused). Resolves
   *  when there is nothing (left) to remove. */
  remove(): Promise<void>;
  /** A fixed marker: where a keystore lives may name a user (a home directory). */
  toString(): string;
}
