// SFrame media encryption (RFC 9605; docs/protocol/11 §11.5): one Opus frame in, one SFrame
// ciphertext (header || AEAD output) out.
//
// All five RFC 9605 §4.5 cipher suites are implemented so that every published vector passes
// (docs §11.5); calls use suite 5, AES_256_GCM_SHA512_128, only. The GCM suites go through the
// CryptoProvider (node:crypto / WebCrypto where fast). The provider has no HKDF-SHA-512, AES-CTR or
// truncated HMAC, so key derivation and the AES-CTR-HMAC suites use @noble directly, as
// keys/identity.ts does: derivation runs once per call and the CTR suites exist for the vectors.
//
// Layers:
//   - deriveSframeKeys, sframeEncryptFrame, sframeDecryptFrame: RFC 9605 §4.4 as written, bigint
//     KID and CTR (both up to 64 bits), no state;
//   - SframeSender / SframeReceiver: one direction of a call — the CTR discipline, the single known
//     KID and the replay window of docs §11.5; keys in private fields, redacted when printed.
import { extract, expand } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ctr as aesCtr } from '@noble/ciphers/aes.js';
import { ProtocolError } from '../errors.ts';
import { concatBytes, constantTimeEqual, utf8 } from '../internal/bytes.ts';
import { SFRAME_REPLAY_WINDOW } from '../limits.ts';
import type { AeadAlgorithm, CryptoProvider } from '../crypto/provider.ts';
import { Redacted } from '../keys/redacted.ts';
import { SFRAME_MAX_VALUE, decodeSframeHeader, encodeSframeHeader } from './sframe-header.ts';

export { encodeSframeHeader, decodeSframeHeader, SFRAME_MAX_HEADER_BYTES } from './sframe-header.ts';
export { SFRAME_REPLAY_WINDOW } from '../limits.ts';

/** RFC 9605 §4.5 / §8.1 (IANA "SFrame Cipher Suites"): 0x0001..0x0005. */
export type SframeCipherSuite = 1 | 2 | 3 | 4 | 5;

/** docs/protocol/11 §11.5: calls use AES_256_GCM_SHA512_128 (0x0005), fixed, nothing negotiated. */
export const SOTTO_SFRAME_SUITE: SframeCipherSuite = 5;

/** Derived per-KID key material (RFC 9605 §4.4.2): sframe_key (Nk bytes) and sframe_salt (Nn bytes). */
export interface SframeKeys {
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
}

interface SuiteParams {
  readonly name: string;
  readonly hash: typeof sha256 | typeof sha512; // Hash for HKDF (and HMAC in the CTR suites)
  readonly nk: number; // AEAD.Nk
  readonly nn: number; // AEAD.Nn
  readonly nt: number; // AEAD.Nt
  /** 'ctr-hmac': RFC 9605 §4.5.1 with AES-128 (Nka = 16); otherwise the provider's GCM. */
  readonly aead: 'ctr-hmac' | AeadAlgorithm;
}

// RFC 9605 §4.5, Table "SFrame cipher suite constants" (Nh, Nka, Nk, Nn, Nt).
const SUITES: Readonly<Record<SframeCipherSuite, SuiteParams>> = {
  1: { name: 'AES_128_CTR_HMAC_SHA256_80', hash: sha256, nk: 48, nn: 12, nt: 10, aead: 'ctr-hmac' },
  2: { name: 'AES_128_CTR_HMAC_SHA256_64', hash: sha256, nk: 48, nn: 12, nt: 8, aead: 'ctr-hmac' },
  3: { name: 'AES_128_CTR_HMAC_SHA256_32', hash: sha256, nk: 48, nn: 12, nt: 4, aead: 'ctr-hmac' },
  4: { name: 'AES_128_GCM_SHA256_128', hash: sha256, nk: 16, nn: 12, nt: 16, aead: 'aes-128-gcm' },
  5: { name: 'AES_256_GCM_SHA512_128', hash: sha512, nk: 32, nn: 12, nt: 16, aead: 'aes-256-gcm' },
};
/** RFC 9605 §4.5.1: the AES-CTR key size in the CTR-HMAC suites (AES-128). */
const CTR_HMAC_NKA = 16;

// RFC 9605 §4.4.2 labels: "SFrame 1.0 Secret key " / "SFrame 1.0 Secret salt " || KID || cipher_suite.
const SFRAME_KEY_LABEL = utf8('SFrame 1.0 Secret key ');
const SFRAME_SALT_LABEL = utf8('SFrame 1.0 Secret salt ');

function suiteParams(suite: SframeCipherSuite): SuiteParams {
  const p = (SUITES as Partial<Record<number, SuiteParams>>)[suite];
  if (p === undefined) throw new ProtocolError('ERR_ARGUMENT', `SFrame: expected cipher suite 1..5, got ${String(suite)}`);
  return p;
}

function checkValue(name: string, v: bigint): void {
  if (v < 0n || v > SFRAME_MAX_VALUE) throw new ProtocolError('ERR_ARGUMENT', `SFrame ${name}: expected an integer in 0..2^64-1`);
}

/** encode_big_endian(x, n) of RFC 9605 §4.4.3. */
function bigEndian(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = v;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** RFC 9605 §4.4.2: sframe_secret = HKDF-Extract("", base_key), with the suite's hash. */
export function sframeSecret(suite: SframeCipherSuite, baseKey: Uint8Array): Uint8Array {
  return extract(suiteParams(suite).hash, baseKey, new Uint8Array(0));
}

/** RFC 9605 §4.4.2: the key and salt labels; KID as 8 bytes and cipher_suite as 2, big-endian. */
export function sframeLabels(suite: SframeCipherSuite, kid: bigint): { key: Uint8Array; salt: Uint8Array } {
  checkValue('KID', kid);
  const tail = concatBytes(bigEndian(kid, 8), bigEndian(BigInt(suite), 2));
  return { key: concatBytes(SFRAME_KEY_LABEL, tail), salt: concatBytes(SFRAME_SALT_LABEL, tail) };
}

/** RFC 9605 §4.4.2 derive_key_salt(KID, base_key). */
export function deriveSframeKeys(suite: SframeCipherSuite, baseKey: Uint8Array, kid: bigint): SframeKeys {
  const p = suiteParams(suite);
  const labels = sframeLabels(suite, kid);
  const secret = sframeSecret(suite, baseKey); // sframe_secret = HKDF-Extract("", base_key)
  const key = expand(p.hash, secret, labels.key, p.nk); // sframe_key = HKDF-Expand(secret, key label, AEAD.Nk)
  const salt = expand(p.hash, secret, labels.salt, p.nn); // sframe_salt = HKDF-Expand(secret, salt label, AEAD.Nn)
  secret.fill(0);
  return { key, salt };
}

/** RFC 9605 §4.4.3: nonce = sframe_salt XOR encode_big_endian(CTR, AEAD.Nn). */
export function sframeNonce(salt: Uint8Array, ctr: bigint): Uint8Array {
  checkValue('CTR', ctr);
  const c = bigEndian(ctr, salt.length);
  const nonce = new Uint8Array(salt.length);
  for (let i = 0; i < salt.length; i++) nonce[i] = (salt[i] ?? 0) ^ (c[i] ?? 0);
  return nonce;
}

/** RFC 9605 §4.5.1 derive_subkeys: enc_key = key[..Nka], auth_key = key[Nka..]. */
export function sframeCtrHmacSubkeys(key: Uint8Array): { encKey: Uint8Array; authKey: Uint8Array } {
  if (key.length !== CTR_HMAC_NKA + 32) {
    throw new ProtocolError('ERR_CRYPTO_PARAMETER', `SFrame AES-CTR-HMAC: expected a ${CTR_HMAC_NKA + 32}-byte key, got ${key.length}`);
  }
  return { encKey: key.subarray(0, CTR_HMAC_NKA), authKey: key.subarray(CTR_HMAC_NKA) };
}

/** RFC 9605 §4.5.1 compute_tag: HMAC(auth_key, len(aad) || len(ct) || Nt || nonce || aad || ct)[..Nt]. */
function ctrHmacTag(authKey: Uint8Array, nt: number, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array {
  const authData = concatBytes(bigEndian(BigInt(aad.length), 8), bigEndian(BigInt(ct.length), 8), bigEndian(BigInt(nt), 8), nonce, aad, ct);
  return hmac(sha256, authKey, authData).subarray(0, nt); // truncate(tag, Nt)
}

/** RFC 9605 §4.5.1: initial_counter = nonce || 0x00000000 (the AES-CTR block counter starts at 0). */
function ctrInitialCounter(nonce: Uint8Array): Uint8Array {
  return concatBytes(nonce, new Uint8Array(4));
}

function checkNonce(nonce: Uint8Array, nn: number): void {
  if (nonce.length !== nn) throw new ProtocolError('ERR_CRYPTO_PARAMETER', `SFrame: expected a ${nn}-byte nonce, got ${nonce.length}`);
}

/** RFC 9605 §4.4.3 AEAD.Encrypt for the suite: ciphertext || tag (Nt bytes). */
export async function sframeAeadEncrypt(crypto: CryptoProvider, suite: SframeCipherSuite, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  const p = suiteParams(suite);
  checkNonce(nonce, p.nn);
  if (p.aead !== 'ctr-hmac') return crypto.aeadSeal(p.aead, key, nonce, plaintext, aad); // Nt = 16, the GCM tag
  // RFC 9605 §4.5.1 AEAD.Encrypt
  const { encKey, authKey } = sframeCtrHmacSubkeys(key);
  const ct = aesCtr(encKey, ctrInitialCounter(nonce)).encrypt(plaintext); // ct = AES-CTR.Encrypt(enc_key, initial_counter, pt)
  const tag = ctrHmacTag(authKey, p.nt, nonce, aad, ct); // tag = compute_tag(auth_key, nonce, aad, ct)
  return concatBytes(ct, tag); // return ct + tag
}

/** RFC 9605 §4.4.4 AEAD.Decrypt for the suite: the plaintext, or null when authentication fails. */
export async function sframeAeadDecrypt(crypto: CryptoProvider, suite: SframeCipherSuite, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array | null> {
  const p = suiteParams(suite);
  checkNonce(nonce, p.nn);
  if (ciphertext.length < p.nt) return null;
  if (p.aead !== 'ctr-hmac') return crypto.aeadOpen(p.aead, key, nonce, ciphertext, aad);
  // RFC 9605 §4.5.1 AEAD.Decrypt
  const { encKey, authKey } = sframeCtrHmacSubkeys(key);
  const inner = ciphertext.subarray(0, ciphertext.length - p.nt); // inner_ct, tag = split_ct(ct, tag_len)
  const tag = ciphertext.subarray(ciphertext.length - p.nt);
  const candidate = ctrHmacTag(authKey, p.nt, nonce, aad, inner);
  if (!constantTimeEqual(tag, candidate)) return null; // constant_time_equal(tag, candidate_tag)
  return aesCtr(encKey, ctrInitialCounter(nonce)).decrypt(inner); // AES-CTR.Decrypt(enc_key, initial_counter, inner_ct)
}

/** RFC 9605 §4.4.3 encrypt(CTR, KID, metadata, plaintext): header || AEAD.Encrypt(key, nonce, header || metadata, pt). */
export async function sframeEncryptFrame(
  crypto: CryptoProvider,
  suite: SframeCipherSuite,
  keys: SframeKeys,
  kid: bigint,
  ctr: bigint,
  metadata: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const nonce = sframeNonce(keys.salt, ctr); // nonce = xor(sframe_salt, encode_big_endian(CTR, AEAD.Nn))
  const header = encodeSframeHeader(kid, ctr); // header = encode_sframe_header(CTR, KID)
  const aad = concatBytes(header, metadata); // aad = header + metadata
  const ciphertext = await sframeAeadEncrypt(crypto, suite, keys.key, nonce, aad, plaintext);
  return concatBytes(header, ciphertext); // return header + ciphertext
}

/**
 * RFC 9605 §4.4.4 decrypt(metadata, sframe_ciphertext) with the keys of the header's KID, which the
 * caller looked up (the KID binds through the keys: other keys fail authentication).
 * ERR_SFRAME_MALFORMED for a header that does not decode; ERR_SFRAME_AUTH when the tag fails.
 */
export async function sframeDecryptFrame(
  crypto: CryptoProvider,
  suite: SframeCipherSuite,
  keys: SframeKeys,
  sframe: Uint8Array,
  metadata: Uint8Array,
): Promise<{ kid: bigint; ctr: bigint; plaintext: Uint8Array }> {
  const { kid, ctr, headerLength } = decodeSframeHeader(sframe); // KID, CTR, header, ciphertext = parse_ciphertext(...)
  const header = sframe.subarray(0, headerLength);
  const nonce = sframeNonce(keys.salt, ctr);
  const aad = concatBytes(header, metadata); // aad = header + metadata
  const plaintext = await sframeAeadDecrypt(crypto, suite, keys.key, nonce, aad, sframe.subarray(headerLength));
  if (plaintext === null) throw new ProtocolError('ERR_SFRAME_AUTH', 'SFrame ciphertext did not authenticate');
  return { kid, ctr, plaintext };
}

/** The options of SframeSender.create / SframeReceiver.create: the KID and base key of one direction (docs §11.5). */
export interface SframeDirectionOptions {
  /** docs §11.5: 0 for the caller's frames, 1 for the callee's. */
  readonly kid: number;
  /** The direction's SFrame base key (docs §11.3). */
  readonly baseKey: Uint8Array;
  /** Default SOTTO_SFRAME_SUITE; the other suites are for tests against the RFC. */
  readonly suite?: SframeCipherSuite;
}

function directionParams(opts: SframeDirectionOptions): { kid: bigint; suite: SframeCipherSuite; keys: SframeKeys } {
  if (!Number.isSafeInteger(opts.kid) || opts.kid < 0) throw new ProtocolError('ERR_ARGUMENT', `SFrame: expected a KID in 0..2^53-1, got ${String(opts.kid)}`);
  if (!(opts.baseKey instanceof Uint8Array) || opts.baseKey.length === 0) throw new ProtocolError('ERR_ARGUMENT', 'SFrame: expected a non-empty base key');
  const suite = opts.suite ?? SOTTO_SFRAME_SUITE;
  suiteParams(suite);
  const kid = BigInt(opts.kid);
  return { kid, suite, keys: deriveSframeKeys(suite, opts.baseKey, kid) };
}

/** Sotto's metadata is empty (docs §11.5): the frame's header is the whole AAD. */
const NO_METADATA = new Uint8Array(0);

/**
 * One sending direction of a call (docs §11.5): CTR from 0, one per frame, never reused; past
 * 2^64 − 1 it stops (ERR_COUNTER_EXHAUSTED). The base key is used once, in create(); the derived
 * key and salt live in private fields and never print.
 */
export class SframeSender extends Redacted {
  protected readonly kind = 'SframeSender';
  readonly #crypto: CryptoProvider;
  readonly #suite: SframeCipherSuite;
  readonly #kid: bigint;
  readonly #keys: SframeKeys;
  #ctr: bigint;

  private constructor(crypto: CryptoProvider, suite: SframeCipherSuite, kid: bigint, keys: SframeKeys, firstCtr: bigint) {
    super();
    this.#crypto = crypto;
    this.#suite = suite;
    this.#kid = kid;
    this.#keys = keys;
    this.#ctr = firstCtr;
  }

  static create(crypto: CryptoProvider, opts: SframeDirectionOptions): Promise<SframeSender> {
    try {
      const { kid, suite, keys } = directionParams(opts);
      return Promise.resolve(new SframeSender(crypto, suite, kid, keys, 0n));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Internal (not in index.ts): a sender whose next CTR is `ctr`, so tests can reach the 2^64 − 1 bound. */
  static createAt(crypto: CryptoProvider, opts: SframeDirectionOptions, ctr: bigint): SframeSender {
    checkValue('CTR', ctr);
    const { kid, suite, keys } = directionParams(opts);
    return new SframeSender(crypto, suite, kid, keys, ctr);
  }

  /** RFC 9605 §4.4.3 with the next CTR. A zero-length frame (padding, probing) is returned as is (docs §11.5). */
  async encrypt(frame: Uint8Array): Promise<Uint8Array> {
    if (frame.length === 0) return frame;
    const ctr = this.#ctr;
    if (ctr > SFRAME_MAX_VALUE) throw new ProtocolError('ERR_COUNTER_EXHAUSTED', 'SFrame: the sending CTR passed 2^64-1');
    // Taken before the await: concurrent calls never share a CTR (RFC 9605 §4.3: each (KID, CTR) once).
    this.#ctr = ctr + 1n;
    return sframeEncryptFrame(this.#crypto, this.#suite, this.#keys, this.#kid, ctr, NO_METADATA, frame);
  }
}

/**
 * One receiving direction of a call (docs §11.5): knows exactly one KID, the peer's, and keeps the
 * replay window — the highest accepted CTR and a bitmap of which of the SFRAME_REPLAY_WINDOW CTRs
 * below it were accepted. Every dropped frame throws ERR_SFRAME_* and counts in stats.failed; a
 * dropped frame changes nothing else.
 */
export class SframeReceiver extends Redacted {
  protected readonly kind = 'SframeReceiver';
  readonly #crypto: CryptoProvider;
  readonly #suite: SframeCipherSuite;
  readonly #kid: bigint;
  readonly #keys: SframeKeys;
  /** Highest accepted CTR; undefined before the first frame. */
  #highest: bigint | undefined = undefined;
  /** Bit i set: CTR highest − i was accepted (i in 0..SFRAME_REPLAY_WINDOW). */
  #seen = 0n;
  #decrypted = 0;
  #failed = 0;

  private constructor(crypto: CryptoProvider, suite: SframeCipherSuite, kid: bigint, keys: SframeKeys) {
    super();
    this.#crypto = crypto;
    this.#suite = suite;
    this.#kid = kid;
    this.#keys = keys;
  }

  static create(crypto: CryptoProvider, opts: SframeDirectionOptions): Promise<SframeReceiver> {
    try {
      const { kid, suite, keys } = directionParams(opts);
      return Promise.resolve(new SframeReceiver(crypto, suite, kid, keys));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Frames decrypted, and frames dropped (malformed, unknown KID, replay, failed tag). */
  get stats(): { readonly decrypted: number; readonly failed: number } {
    return { decrypted: this.#decrypted, failed: this.#failed };
  }

  /** docs §11.5: a CTR already accepted, or more than SFRAME_REPLAY_WINDOW below the highest, is a replay. */
  #isReplay(ctr: bigint): boolean {
    if (this.#highest === undefined || ctr > this.#highest) return false;
    const behind = this.#highest - ctr;
    if (behind > BigInt(SFRAME_REPLAY_WINDOW)) return true;
    return ((this.#seen >> behind) & 1n) === 1n;
  }

  #accept(ctr: bigint): void {
    const mask = (1n << BigInt(SFRAME_REPLAY_WINDOW + 1)) - 1n;
    if (this.#highest === undefined || ctr > this.#highest) {
      const ahead = this.#highest === undefined ? BigInt(SFRAME_REPLAY_WINDOW + 1) : ctr - this.#highest;
      this.#seen = ahead > BigInt(SFRAME_REPLAY_WINDOW) ? 1n : ((this.#seen << ahead) | 1n) & mask;
      this.#highest = ctr;
    } else {
      this.#seen |= 1n << (this.#highest - ctr);
    }
  }

  #drop(code: 'ERR_SFRAME_MALFORMED' | 'ERR_SFRAME_UNKNOWN_KID' | 'ERR_SFRAME_REPLAY' | 'ERR_SFRAME_AUTH', message: string): never {
    this.#failed++;
    throw new ProtocolError(code, message);
  }

  /** RFC 9605 §4.4.4 plus docs §11.5's checks. A zero-length frame is returned as is (docs §11.5). */
  async decrypt(frame: Uint8Array): Promise<Uint8Array> {
    if (frame.length === 0) return frame;
    let header: { kid: bigint; ctr: bigint };
    try {
      header = decodeSframeHeader(frame);
    } catch (e) {
      this.#failed++;
      throw e;
    }
    // RFC 9605 §4.4.4: the KID selects the key; this receiver holds only the peer's (docs §11.5).
    if (header.kid !== this.#kid) this.#drop('ERR_SFRAME_UNKNOWN_KID', 'SFrame: the frame names a KID this receiver does not hold');
    // Checked before the AEAD so a replay costs nothing, and again after it (below) because another
    // decrypt of the same CTR may have completed while this one awaited.
    if (this.#isReplay(header.ctr)) this.#drop('ERR_SFRAME_REPLAY', 'SFrame: the CTR was already accepted or is below the replay window');
    let plaintext: Uint8Array;
    try {
      ({ plaintext } = await sframeDecryptFrame(this.#crypto, this.#suite, this.#keys, frame, NO_METADATA));
    } catch (e) {
      this.#failed++;
      throw e;
    }
    if (this.#isReplay(header.ctr)) {
      plaintext.fill(0);
      this.#drop('ERR_SFRAME_REPLAY', 'SFrame: the CTR was already accepted or is below the replay window');
    }
    this.#accept(header.ctr);
    this.#decrypted++;
    return plaintext;
  }
}
