// The software keystore back-end: every entry of the device's local state lives in ONE file,
// `<dir>/keystore.sotto`, sealed with XChaCha20-Poly1305 under a key derived from the user's passphrase
// with Argon2id (RFC 9106). Nothing is ever written in the clear: not entry names, not values.
//
// File layout, version 1 (all integers big-endian):
//
// | offset | length | field                                                                  |
// |--------|--------|------------------------------------------------------------------------|
// | 0      | 8      | magic, ASCII `SOTTO-KS`                                                |
// | 8      | 1      | format version, 1                                                      |
// | 9      | 4      | Argon2id memory cost m, in KiB                                         |
// | 13     | 4      | Argon2id time cost t (passes)                                          |
// | 17     | 4      | Argon2id parallelism p (lanes)                                         |
// | 21     | 16     | salt, random per passphrase                                            |
// | 37     | 32     | passphrase verifier (HKDF output, see below)                           |
// | 69     | 24     | XChaCha20-Poly1305 nonce, random per write                             |
// | 93     | n + 16 | ciphertext of the body (n bytes) and its Poly1305 tag; AAD = bytes 0..69 |
// | 109+n  | 32     | SHA-256 of every preceding byte of the file                            |
//
// Key schedule: master = Argon2id(P = UTF-8(NFC(passphrase)), S = salt, m, t, p, T = 32, v = 0x13);
// key = HKDF-SHA256(master, salt = none, info = KEY_INFO, 32); verifier = HKDF-SHA256(master, salt =
// none, info = VERIFIER_INFO, 32). The verifier tells a wrong passphrase (verifier mismatch) from a
// damaged body (verifier matches, tag does not). It gives an offline guesser nothing the AEAD tag does
// not already give: each guess still costs one Argon2id. The trailing SHA-256 is NOT a security
// mechanism (anyone can recompute it); it only lets damage anywhere in the file be reported as
// ERR_KEYSTORE_CORRUPT before any key is derived. Integrity and authenticity come from the AEAD,
// whose associated data is the whole header, so parameters, salt and verifier cannot be swapped.
//
// Body (plaintext): the entry encoding of src/keystore/body.ts (count u32, then the entries sorted by name).
//
// Writes are atomic and durable: the new file is written to a fresh temp file in the same directory
// (mode 0600, O_EXCL), fsynced, renamed over the old one (or hard-linked into place on create, so two
// creators cannot both win), and then the directory is fsynced. A crash at any point leaves either the
// old or the new file at `keystore.sotto`; stray `keystore.sotto.tmp-*` files are never read.
//
// Limits (honest): one process at a time per keystore (no cross-process lock); JavaScript may keep
// copies of the passphrase string and of buffers we wipe (README "Memory hygiene").
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ClientError } from '../errors.ts';
import { constantTimeEqual, toHex, wipe } from '../internal/bytes.ts';
import { MAX_KEYSTORE_BODY_BYTES } from '../limits.ts';
import { decodeBody, encodeBody } from './body.ts';
import { argon2idMaster, checkParams, passphraseBytes, PRODUCTION_ARGON2ID, type Argon2idParams } from './kdf.ts';
import type { Keystore, KeystoreOpener } from './keystore.ts';
import { SealedEntriesKeystore } from './sealed-entries.ts';

/** The keystore's file name inside its directory. */
export const KEYSTORE_FILE = 'keystore.sotto';
const TEMP_PREFIX = `${KEYSTORE_FILE}.tmp-`;

const MAGIC = new TextEncoder().encode('SOTTO-KS'); // file layout above, offset 0
/** The only format version this code reads and writes. */
export const KEYSTORE_VERSION = 1;
const VERSION_OFFSET = 8;
const SALT_LEN = 16; // RFC 9106 §3.1 recommends 16 bytes of salt for password hashing
const VERIFIER_LEN = 32;
const NONCE_LEN = 24; // XChaCha20: 192-bit random nonces are safe to pick at random per write
const TAG_LEN = 16;
const CHECKSUM_LEN = 32;
const HEADER_LEN = 8 + 1 + 4 + 4 + 4 + SALT_LEN + VERIFIER_LEN; // 69: the AEAD associated data
const BODY_OFFSET = HEADER_LEN + NONCE_LEN; // 93
const MIN_FILE_LEN = BODY_OFFSET + 4 + TAG_LEN + CHECKSUM_LEN; // an empty store: count = 0

// HKDF labels of the key schedule (file layout comment above).
const KEY_INFO = new TextEncoder().encode('Sotto keystore v1 encryption key');
const VERIFIER_INFO = new TextEncoder().encode('Sotto keystore v1 passphrase verifier');

/** Options of createSoftwareKeystore. */
export interface CreateSoftwareKeystoreOptions {
  /** TESTS ONLY. Derive the key with these (weak) parameters instead of PRODUCTION_ARGON2ID, so test
   *  suites stay fast. Production code never passes it; a store created with it can only be opened
   *  with `testOnlyAllowWeakKdf`. */
  readonly testOnlyWeakKdf?: Argon2idParams;
}

/** Options of openSoftwareKeystore. */
export interface OpenSoftwareKeystoreOptions {
  /** TESTS ONLY. Accept a file whose Argon2id parameters are below MIN_ARGON2ID. */
  readonly testOnlyAllowWeakKdf?: boolean;
}


/** Creates a new, empty keystore in `dir` (created with mode 0700 if missing). Rejects with
 *  ERR_KEYSTORE_EXISTS if one is there already, leaving it untouched. */
export async function createSoftwareKeystore(
  dir: string,
  passphrase: string,
  opts: CreateSoftwareKeystoreOptions = {},
): Promise<Keystore> {
  const weak = opts.testOnlyWeakKdf;
  const params = weak ?? PRODUCTION_ARGON2ID;
  checkParams(params, weak !== undefined, 'ERR_KEYSTORE_ARGUMENT');
  const pass = passphraseBytes(passphrase);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ClientError('ERR_KEYSTORE_IO', 'could not create the keystore directory', { cause: e });
  }
  if (await exists(join(dir, KEYSTORE_FILE))) {
    throw new ClientError('ERR_KEYSTORE_EXISTS', `expected no keystore in the directory, found ${KEYSTORE_FILE}`);
  }
  const salt = random(SALT_LEN);
  const { key, verifier } = await deriveKeys(pass, salt, params);
  wipe(pass);
  const header = encodeHeader(params, salt, verifier);
  const store = new SoftwareKeystore(dir, header, key, new Map(), weak !== undefined);
  try {
    await writeStore(dir, header, key, new Map(), 'create');
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

/** Opens the keystore in `dir` with `passphrase`. Never changes the file. Rejects with
 *  ERR_KEYSTORE_NOT_FOUND, ERR_KEYSTORE_VERSION, ERR_KEYSTORE_CORRUPT or ERR_KEYSTORE_WRONG_PASSPHRASE. */
export async function openSoftwareKeystore(
  dir: string,
  passphrase: string,
  opts: OpenSoftwareKeystoreOptions = {},
): Promise<Keystore> {
  const pass = passphraseBytes(passphrase);
  let file: Uint8Array;
  try {
    file = new Uint8Array(await readFile(join(dir, KEYSTORE_FILE)));
  } catch (e) {
    if (errno(e) === 'ENOENT') throw new ClientError('ERR_KEYSTORE_NOT_FOUND', `expected ${KEYSTORE_FILE} in the directory, found none`);
    throw new ClientError('ERR_KEYSTORE_IO', 'could not read the keystore file', { cause: e });
  }
  let parsed: ReturnType<typeof parseFile>;
  let key: Uint8Array;
  let verifier: Uint8Array;
  try {
    parsed = parseFile(file, opts.testOnlyAllowWeakKdf === true);
    ({ key, verifier } = await deriveKeys(pass, parsed.salt, parsed.params));
  } finally {
    wipe(pass);
  }
  if (!constantTimeEqual(verifier, parsed.verifier)) {
    wipe(key, verifier);
    throw new ClientError('ERR_KEYSTORE_WRONG_PASSPHRASE', 'the passphrase does not unlock this keystore');
  }
  wipe(verifier);
  let body: Uint8Array;
  try {
    body = xchacha20poly1305(key, parsed.nonce, parsed.header).decrypt(parsed.ciphertext);
  } catch {
    wipe(key);
    throw new ClientError('ERR_KEYSTORE_CORRUPT', 'the passphrase is right but the body does not authenticate');
  }
  let entries: Map<string, Uint8Array>;
  try {
    entries = decodeBody(body);
  } catch (e) {
    wipe(key);
    throw e;
  } finally {
    wipe(body);
  }
  return new SoftwareKeystore(dir, parsed.header, key, entries, opts.testOnlyAllowWeakKdf === true);
}

class SoftwareKeystore extends SealedEntriesKeystore {
  readonly #dir: string;
  #header: Uint8Array;
  #key: Uint8Array;
  readonly #weakKdf: boolean;
  protected readonly redacted = '[SoftwareKeystore: redacted]';

  constructor(dir: string, header: Uint8Array, key: Uint8Array, entries: Map<string, Uint8Array>, weakKdf: boolean) {
    super(entries);
    this.#dir = dir;
    this.#header = header;
    this.#key = key;
    this.#weakKdf = weakKdf;
  }

  protected persist(next: ReadonlyMap<string, Uint8Array>): Promise<void> {
    return writeStore(this.#dir, this.#header, this.#key, next, 'replace');
  }

  protected async rekey(cur: Uint8Array, nxt: Uint8Array, entries: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const old = parseHeader(this.#header);
    const check = await deriveKeys(cur, old.salt, old.params);
    wipe(cur);
    const ok = constantTimeEqual(check.verifier, old.verifier);
    wipe(check.key, check.verifier);
    if (!ok) wipe(nxt);
    if (!ok) throw new ClientError('ERR_KEYSTORE_WRONG_PASSPHRASE', 'the current passphrase given does not unlock this keystore');
    // Production stores move to the production parameters; a test store keeps its weak ones.
    const params = this.#weakKdf ? old.params : PRODUCTION_ARGON2ID;
    const salt = random(SALT_LEN);
    const derived = await deriveKeys(nxt, salt, params);
    wipe(nxt);
    const header = encodeHeader(params, salt, derived.verifier);
    wipe(derived.verifier);
    try {
      await writeStore(this.#dir, header, derived.key, entries, 'replace');
    } catch (e) {
      wipe(derived.key);
      throw e;
    }
    wipe(this.#key);
    this.#key = derived.key;
    this.#header = header;
  }

  protected release(): void {
    wipe(this.#key);
  }
}

// ---------------------------------------------------------------------------------------------------
// Key derivation

async function deriveKeys(pass: Uint8Array, salt: Uint8Array, params: Argon2idParams): Promise<{ key: Uint8Array; verifier: Uint8Array }> {
  const master = await argon2idMaster(pass, salt, params);
  try {
    return {
      key: hkdf(sha256, master, undefined, KEY_INFO, 32),
      verifier: hkdf(sha256, master, undefined, VERIFIER_INFO, VERIFIER_LEN),
    };
  } finally {
    wipe(master);
  }
}

// ---------------------------------------------------------------------------------------------------
// File format

function encodeHeader(params: Argon2idParams, salt: Uint8Array, verifier: Uint8Array): Uint8Array {
  const h = new Uint8Array(HEADER_LEN);
  const dv = new DataView(h.buffer);
  h.set(MAGIC, 0);
  h[VERSION_OFFSET] = KEYSTORE_VERSION;
  dv.setUint32(9, params.m);
  dv.setUint32(13, params.t);
  dv.setUint32(17, params.p);
  h.set(salt, 21);
  h.set(verifier, 37);
  return h;
}

interface ParsedHeader {
  readonly params: Argon2idParams;
  readonly salt: Uint8Array;
  readonly verifier: Uint8Array;
}

function parseHeader(h: Uint8Array): ParsedHeader {
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  return {
    params: { m: dv.getUint32(9), t: dv.getUint32(13), p: dv.getUint32(17) },
    salt: h.slice(21, 21 + SALT_LEN),
    verifier: h.slice(37, 37 + VERIFIER_LEN),
  };
}

function parseFile(file: Uint8Array, allowWeak: boolean): ParsedHeader & { header: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array } {
  if (file.length < MAGIC.length + 1 || !constantTimeEqual(file.subarray(0, MAGIC.length), MAGIC)) {
    throw new ClientError('ERR_KEYSTORE_CORRUPT', 'expected a file starting with the keystore magic, got other bytes');
  }
  // The version is read before anything else is trusted: a newer format may lay out the rest differently.
  const version = file[VERSION_OFFSET];
  if (version !== KEYSTORE_VERSION) {
    throw new ClientError('ERR_KEYSTORE_VERSION', `expected keystore format version ${KEYSTORE_VERSION}, got ${version ?? 'none'}`);
  }
  if (file.length < MIN_FILE_LEN || file.length > MIN_FILE_LEN + MAX_KEYSTORE_BODY_BYTES) {
    throw new ClientError('ERR_KEYSTORE_CORRUPT', `expected a file of ${MIN_FILE_LEN}..${MIN_FILE_LEN + MAX_KEYSTORE_BODY_BYTES} bytes, got ${file.length}`);
  }
  const end = file.length - CHECKSUM_LEN;
  if (!constantTimeEqual(sha256(file.subarray(0, end)), file.subarray(end))) {
    throw new ClientError('ERR_KEYSTORE_CORRUPT', 'the file checksum does not match: the file is damaged or truncated');
  }
  const header = file.slice(0, HEADER_LEN);
  const parsed = parseHeader(header);
  checkParams(parsed.params, allowWeak, 'ERR_KEYSTORE_CORRUPT');
  return { ...parsed, header, nonce: file.slice(HEADER_LEN, BODY_OFFSET), ciphertext: file.slice(BODY_OFFSET, end) };
}

// ---------------------------------------------------------------------------------------------------
// Atomic, durable writes

async function writeStore(dir: string, header: Uint8Array, key: Uint8Array, entries: ReadonlyMap<string, Uint8Array>, mode: 'create' | 'replace'): Promise<void> {
  const body = encodeBody(entries);
  const nonce = random(NONCE_LEN);
  let sealed: Uint8Array;
  try {
    sealed = xchacha20poly1305(key, nonce, header).encrypt(body);
  } finally {
    wipe(body);
  }
  const file = new Uint8Array(BODY_OFFSET + sealed.length + CHECKSUM_LEN);
  file.set(header, 0);
  file.set(nonce, HEADER_LEN);
  file.set(sealed, BODY_OFFSET);
  file.set(sha256(file.subarray(0, BODY_OFFSET + sealed.length)), BODY_OFFSET + sealed.length);
  await writeAtomic(dir, file, mode);
}

async function writeAtomic(dir: string, bytes: Uint8Array, mode: 'create' | 'replace'): Promise<void> {
  const target = join(dir, KEYSTORE_FILE);
  const tmp = join(dir, TEMP_PREFIX + toHex(random(8)));
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (mode === 'replace') {
      await rename(tmp, target);
    } else {
      // link() fails with EEXIST instead of replacing: of two concurrent creators exactly one wins.
      await link(tmp, target);
      await unlink(tmp);
    }
    await syncDir(dir);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if (e instanceof ClientError) throw e;
    if (errno(e) === 'EEXIST' && mode === 'create') {
      throw new ClientError('ERR_KEYSTORE_EXISTS', `expected no keystore in the directory, found ${KEYSTORE_FILE}`);
    }
    throw new ClientError('ERR_KEYSTORE_IO', 'could not write the keystore file', { cause: e });
  }
}

/** fsync the directory so the rename itself survives a power loss (POSIX). */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch (e) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes(errno(e) ?? '')) return; // platforms that cannot open directories
    throw e;
  }
  try {
    await fh.sync();
  } catch (e) {
    if (!['EINVAL', 'EPERM', 'EISDIR'].includes(errno(e) ?? '')) throw e; // file systems without directory fsync
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

/** Compares two byte strings in time that depends only on their lengths. */
function random(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** Options of softwareKeystore. */
export interface SoftwareKeystoreOptions {
  /** TESTS ONLY. Create with these weak Argon2id parameters and accept weak ones on open (see
   *  CreateSoftwareKeystoreOptions.testOnlyWeakKdf). */
  readonly testOnlyWeakKdf?: Argon2idParams;
}

/** The software keystore in `dir` as the KeystoreOpener that createAccount / openClient take. */
export function softwareKeystore(dir: string, opts: SoftwareKeystoreOptions = {}): KeystoreOpener {
  if (typeof dir !== 'string' || dir.length === 0) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected a keystore directory');
  const weak = opts.testOnlyWeakKdf;
  return {
    create: (passphrase) => createSoftwareKeystore(dir, passphrase, weak === undefined ? {} : { testOnlyWeakKdf: weak }),
    open: (passphrase) => openSoftwareKeystore(dir, passphrase, weak === undefined ? {} : { testOnlyAllowWeakKdf: true }),
    remove: () => removeSoftwareKeystore(dir),
    toString: () => '[SoftwareKeystoreOpener]',
  };
}

/** Removes the keystore file of `dir` (nothing else in the directory). For the account creation that
 *  made the keystore moments before and then learned that the username cannot be registered. */
export async function removeSoftwareKeystore(dir: string): Promise<void> {
  try {
    await unlink(join(dir, KEYSTORE_FILE));
    await syncDir(dir);
  } catch (e) {
    if (errno(e) === 'ENOENT') return;
    throw new ClientError('ERR_KEYSTORE_IO', 'could not remove the keystore file', { cause: e });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    await fh.close();
    return true;
  } catch (e) {
    if (errno(e) === 'ENOENT') return false;
    throw new ClientError('ERR_KEYSTORE_IO', 'could not check for an existing keystore', { cause: e });
  }
}
