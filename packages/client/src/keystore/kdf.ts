// The passphrase side of every keystore back-end ("what you know", DESIGN.md "Keys at rest"): Argon2id
// (RFC 9106) with the same parameters everywhere, so a passphrase costs an attacker the same whether
// the software keystore's file or the browser keystore's IndexedDB record was stolen. Platform-neutral
// (noble only): used by src/keystore/software.ts (Node) and src/keystore/browser.ts (browsers).
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { ClientError } from '../errors.ts';
import { MAX_ARGON2_M_KIB, MAX_ARGON2_P, MAX_ARGON2_T, MAX_PASSPHRASE_BYTES } from '../limits.ts';

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
 *  KiB-passes (so OWASP's m = 46 MiB, t = 1 also passes). A store below it was not written by
 *  production code and is refused as ERR_KEYSTORE_CORRUPT. */
export const MIN_ARGON2ID: Argon2idParams = Object.freeze({ m: 19_456, t: 2, p: 1 });

/** Argon2id(P = passphrase bytes, S = salt, m, t, p, T = 32, v = 0x13): the 32-byte master secret that
 *  each back-end expands with HKDF under its own labels. */
export function argon2idMaster(pass: Uint8Array, salt: Uint8Array, params: Argon2idParams): Promise<Uint8Array> {
  return argon2idAsync(pass, salt, { m: params.m, t: params.t, p: params.p, dkLen: 32, maxmem: 2 ** 32 - 1 });
}

/** UTF-8 of the NFC form of a non-empty passphrase of at most MAX_PASSPHRASE_BYTES bytes. */
export function passphraseBytes(passphrase: string): Uint8Array {
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

/** Refuses parameters out of bounds (both directions) with `code`; below MIN_ARGON2ID unless `allowWeak`. */
export function checkParams(p: Argon2idParams, allowWeak: boolean, code: 'ERR_KEYSTORE_ARGUMENT' | 'ERR_KEYSTORE_CORRUPT'): void {
  const int = (x: number, lo: number, hi: number): boolean => Number.isInteger(x) && x >= lo && x <= hi;
  if (!int(p.t, 1, MAX_ARGON2_T) || !int(p.p, 1, MAX_ARGON2_P) || !int(p.m, 8 * p.p, MAX_ARGON2_M_KIB)) {
    throw new ClientError(code, `expected Argon2id parameters 1 <= t <= ${MAX_ARGON2_T}, 1 <= p <= ${MAX_ARGON2_P}, 8p <= m <= ${MAX_ARGON2_M_KIB} KiB, got m=${p.m} t=${p.t} p=${p.p}`);
  }
  if (!allowWeak && (p.m < MIN_ARGON2ID.m || p.m * p.t < MIN_ARGON2ID.m * MIN_ARGON2ID.t)) {
    throw new ClientError(code, `expected Argon2id parameters at least m=${MIN_ARGON2ID.m} KiB and m*t >= ${MIN_ARGON2ID.m * MIN_ARGON2ID.t}, got m=${p.m} t=${p.t}`);
  }
}
