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
// Body (plaintext): count u32, then `count` entries sorted strictly by the UTF-8 bytes of their names:
// nameLen u8 (1..255) | name (UTF-8) | valueLen u32 | value. Decoding is strict (no trailing bytes).
//
// Writes are atomic and durable: the new file is written to a fresh temp file in the same directory
// (mode 0600, O_EXCL), fsynced, renamed over the old one (or hard-linked into place on create, so two
// creators cannot both win), and then the directory is fsynced. A crash at any point leaves either the
// old or the new file at `keystore.sotto`; stray `keystore.sotto.tmp-*` files are never read.
//
// Limits (honest): one process at a time per keystore (no cross-process lock); JavaScript may keep
// copies of the passphrase string and of buffers we wipe (README "Memory hygiene").
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ClientError } from '../errors.ts';
import {
  MAX_ARGON2_M_KIB,
  MAX_ARGON2_P,
  MAX_ARGON2_T,
  MAX_KEYSTORE_BODY_BYTES,
  MAX_KEYSTORE_ENTRIES,
  MAX_KEYSTORE_NAME_BYTES,
  MAX_PASSPHRASE_BYTES,
} from '../limits.ts';
import type { Keystore } from './keystore.ts';

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

/** Argon2id cost parameters: memory `m` in KiB, `t` passes, `p` lanes (RFC 9106 §3.1). */
export interface Argon2idParams {
  readonly m: number;
  readonly t: number;
  readonly p: number;
}

/** The parameters every production keystore is created with: RFC 9106 §4's second recommended option
 *  (m = 64 MiB, t = 3, p = 4), the one for memory-constrained uses, since the first (2 GiB) is too much
 *  for phones and browsers. About 1.1 s with @noble/hashes on a 2-core server; the user pays it once per
 *  unlock. It is well above OWASP's Password Storage Cheat Sheet floor (below). */
export const PRODUCTION_ARGON2ID: Argon2idParams = Object.freeze({ m: 65_536, t: 3, p: 4 });

/** The weakest parameters a production open accepts: OWASP Password Storage Cheat Sheet's lowest
 *  Argon2id configuration (m = 19 MiB, t = 2, p = 1), as memory m >= 19456 KiB and m * t >= 38912
 *  KiB-passes (so OWASP's m = 46 MiB, t = 1 also passes). A file below it was not written by
 *  production code and is refused as ERR_KEYSTORE_CORRUPT. */
export const MIN_ARGON2ID: Argon2idParams = Object.freeze({ m: 19_456, t: 2, p: 1 });

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

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

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

class SoftwareKeystore implements Keystore {
  readonly #dir: string;
  #header: Uint8Array;
  #key: Uint8Array;
  #entries: Map<string, Uint8Array>;
  readonly #weakKdf: boolean;
  #closed = false;
  /** Writes run one at a time, in call order, so temp files and in-memory state never interleave. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, header: Uint8Array, key: Uint8Array, entries: Map<string, Uint8Array>, weakKdf: boolean) {
    this.#dir = dir;
    this.#header = header;
    this.#key = key;
    this.#entries = entries;
    this.#weakKdf = weakKdf;
  }

  get(name: string): Promise<Uint8Array | undefined> {
    return Promise.resolve().then(() => {
      this.#open();
      checkName(name);
      const v = this.#entries.get(name);
      return v === undefined ? undefined : v.slice();
    });
  }

  names(): Promise<string[]> {
    return Promise.resolve().then(() => {
      this.#open();
      return sortedNames(this.#entries);
    });
  }

  put(name: string, bytes: Uint8Array): Promise<void> {
    return Promise.resolve().then(() => {
      checkName(name);
      if (!(bytes instanceof Uint8Array)) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected the value to be a Uint8Array');
      const copy = bytes.slice();
      return this.#serial(() => this.#put(name, copy));
    });
  }

  async #put(name: string, copy: Uint8Array): Promise<void> {
    const next = new Map(this.#entries);
    next.set(name, copy);
    try {
      await writeStore(this.#dir, this.#header, this.#key, next, 'replace');
    } catch (e) {
      wipe(copy);
      throw e;
    }
    const old = this.#entries.get(name);
    this.#entries = next;
    if (old !== undefined) wipe(old);
  }

  update(changes: ReadonlyMap<string, Uint8Array | null>): Promise<void> {
    return Promise.resolve().then(() => {
      if (!((changes as unknown) instanceof Map)) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected the changes as a Map');
      const copies = new Map<string, Uint8Array | null>();
      for (const [name, bytes] of changes) {
        checkName(name);
        if (bytes !== null && !(bytes instanceof Uint8Array)) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected each value to be a Uint8Array or null');
        copies.set(name, bytes === null ? null : bytes.slice());
      }
      return this.#serial(() => this.#update(copies));
    });
  }

  async #update(copies: Map<string, Uint8Array | null>): Promise<void> {
    const next = new Map(this.#entries);
    for (const [name, v] of copies) {
      if (v === null) next.delete(name);
      else next.set(name, v);
    }
    try {
      await writeStore(this.#dir, this.#header, this.#key, next, 'replace');
    } catch (e) {
      for (const v of copies.values()) if (v !== null) wipe(v);
      throw e;
    }
    const old = [...copies.keys()].map((n) => this.#entries.get(n)).filter((v): v is Uint8Array => v !== undefined);
    this.#entries = next;
    for (const v of old) wipe(v);
  }

  delete(name: string): Promise<boolean> {
    return Promise.resolve().then(() => {
      checkName(name);
      return this.#serial(() => this.#delete(name));
    });
  }

  async #delete(name: string): Promise<boolean> {
    const old = this.#entries.get(name);
    if (old === undefined) return false;
    const next = new Map(this.#entries);
    next.delete(name);
    await writeStore(this.#dir, this.#header, this.#key, next, 'replace');
    this.#entries = next;
    wipe(old);
    return true;
  }

  changePassphrase(current: string, next: string): Promise<void> {
    return Promise.resolve().then(() => {
      const cur = passphraseBytes(current);
      const nxt = passphraseBytes(next);
      return this.#serial(() => this.#changePassphrase(cur, nxt));
    });
  }

  async #changePassphrase(cur: Uint8Array, nxt: Uint8Array): Promise<void> {
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
      await writeStore(this.#dir, header, derived.key, this.#entries, 'replace');
    } catch (e) {
      wipe(derived.key);
      throw e;
    }
    wipe(this.#key);
    this.#key = derived.key;
    this.#header = header;
  }

  close(): Promise<void> {
    const done = this.#queue.then(
      () => undefined,
      () => undefined,
    );
    return done.then(() => {
      if (this.#closed) return;
      this.#closed = true;
      wipe(this.#key);
      for (const v of this.#entries.values()) wipe(v);
      this.#entries = new Map();
    });
  }

  toString(): string {
    return '[SoftwareKeystore: redacted]';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspectCustom](): string {
    return this.toString();
  }

  #open(): void {
    if (this.#closed) throw new ClientError('ERR_KEYSTORE_CLOSED', 'expected an open keystore, got a closed one');
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(
      () => {
        this.#open();
        return op();
      },
      () => {
        this.#open();
        return op();
      },
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

// ---------------------------------------------------------------------------------------------------
// Key derivation

async function deriveKeys(pass: Uint8Array, salt: Uint8Array, params: Argon2idParams): Promise<{ key: Uint8Array; verifier: Uint8Array }> {
  const master = await argon2idAsync(pass, salt, { m: params.m, t: params.t, p: params.p, dkLen: 32, maxmem: 2 ** 32 - 1 });
  try {
    return {
      key: hkdf(sha256, master, undefined, KEY_INFO, 32),
      verifier: hkdf(sha256, master, undefined, VERIFIER_INFO, VERIFIER_LEN),
    };
  } finally {
    wipe(master);
  }
}

function passphraseBytes(passphrase: string): Uint8Array {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected a non-empty passphrase string');
  }
  // NFC: the same passphrase typed on two systems that compose accents differently must unlock the store.
  const b = new TextEncoder().encode(passphrase.normalize('NFC'));
  if (b.length > MAX_PASSPHRASE_BYTES) {
    throw new ClientError('ERR_KEYSTORE_ARGUMENT', `expected a passphrase of at most ${MAX_PASSPHRASE_BYTES} bytes, got ${b.length}`);
  }
  return b;
}

function checkParams(p: Argon2idParams, allowWeak: boolean, code: 'ERR_KEYSTORE_ARGUMENT' | 'ERR_KEYSTORE_CORRUPT'): void {
  const int = (x: number, lo: number, hi: number): boolean => Number.isInteger(x) && x >= lo && x <= hi;
  if (!int(p.t, 1, MAX_ARGON2_T) || !int(p.p, 1, MAX_ARGON2_P) || !int(p.m, 8 * p.p, MAX_ARGON2_M_KIB)) {
    throw new ClientError(code, `expected Argon2id parameters 1 <= t <= ${MAX_ARGON2_T}, 1 <= p <= ${MAX_ARGON2_P}, 8p <= m <= ${MAX_ARGON2_M_KIB} KiB, got m=${p.m} t=${p.t} p=${p.p}`);
  }
  if (!allowWeak && (p.m < MIN_ARGON2ID.m || p.m * p.t < MIN_ARGON2ID.m * MIN_ARGON2ID.t)) {
    throw new ClientError(code, `expected Argon2id parameters at least m=${MIN_ARGON2ID.m} KiB and m*t >= ${MIN_ARGON2ID.m * MIN_ARGON2ID.t}, got m=${p.m} t=${p.t}`);
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

function encodeBody(entries: Map<string, Uint8Array>): Uint8Array {
  const names = sortedNames(entries);
  if (names.length > MAX_KEYSTORE_ENTRIES) {
    throw new ClientError('ERR_KEYSTORE_ARGUMENT', `expected at most ${MAX_KEYSTORE_ENTRIES} entries, got ${names.length}`);
  }
  const enc = new TextEncoder();
  const parts: [Uint8Array, Uint8Array][] = names.map((n) => [enc.encode(n), entries.get(n) ?? new Uint8Array(0)]);
  let len = 4;
  for (const [n, v] of parts) len += 1 + n.length + 4 + v.length;
  if (len > MAX_KEYSTORE_BODY_BYTES) {
    throw new ClientError('ERR_KEYSTORE_ARGUMENT', `expected the keystore to hold at most ${MAX_KEYSTORE_BODY_BYTES} bytes, got ${len}`);
  }
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length);
  let off = 4;
  for (const [n, v] of parts) {
    out[off] = n.length;
    out.set(n, off + 1);
    off += 1 + n.length;
    dv.setUint32(off, v.length);
    out.set(v, off + 4);
    off += 4 + v.length;
  }
  return out;
}

function decodeBody(body: Uint8Array): Map<string, Uint8Array> {
  const bad = (what: string): ClientError => new ClientError('ERR_KEYSTORE_CORRUPT', `the decrypted body is malformed: ${what}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  if (body.length < 4) throw bad('no entry count');
  const count = dv.getUint32(0);
  if (count > MAX_KEYSTORE_ENTRIES) throw bad(`expected at most ${MAX_KEYSTORE_ENTRIES} entries, got ${count}`);
  const out = new Map<string, Uint8Array>();
  let off = 4;
  let prev: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const nlen = body[off];
    if (nlen === undefined || nlen === 0 || off + 1 + nlen + 4 > body.length) throw bad('truncated entry name');
    const nb = body.subarray(off + 1, off + 1 + nlen);
    if (prev !== undefined && compareBytes(prev, nb) >= 0) throw bad('entries not strictly sorted');
    prev = nb;
    let name: string;
    try {
      name = dec.decode(nb);
    } catch {
      throw bad('entry name is not UTF-8');
    }
    off += 1 + nlen;
    const vlen = dv.getUint32(off);
    if (off + 4 + vlen > body.length) throw bad('truncated entry value');
    out.set(name, body.slice(off + 4, off + 4 + vlen));
    off += 4 + vlen;
  }
  if (off !== body.length) throw bad(`expected ${off} bytes, got ${body.length}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Atomic, durable writes

async function writeStore(dir: string, header: Uint8Array, key: Uint8Array, entries: Map<string, Uint8Array>, mode: 'create' | 'replace'): Promise<void> {
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

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected a non-empty entry name');
  const b = new TextEncoder().encode(name);
  if (b.length > MAX_KEYSTORE_NAME_BYTES) {
    throw new ClientError('ERR_KEYSTORE_ARGUMENT', `expected an entry name of at most ${MAX_KEYSTORE_NAME_BYTES} UTF-8 bytes, got ${b.length}`);
  }
  if (new TextDecoder().decode(b) !== name) throw new ClientError('ERR_KEYSTORE_ARGUMENT', 'expected an entry name of well-formed Unicode');
}

function sortedNames(entries: Map<string, Uint8Array>): string[] {
  const enc = new TextEncoder();
  return [...entries.keys()].sort((a, b) => compareBytes(enc.encode(a), enc.encode(b)));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Compares two byte strings in time that depends only on their lengths. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function wipe(...bufs: Uint8Array[]): void {
  for (const b of bufs) b.fill(0);
}

function random(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
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
