// What mallory does with key material against Sotto: harvest every secret out of a device keystore it has
// stolen (with the passphrase — the worst case) or out of anything else it holds, and try all of it on every
// sealed envelope it recorded. The attempt is deliberately stronger than the real client: the thief's prekey
// store never refuses a prekey use (no replay record, no deletion), and every stolen session is tried on every
// message, so what stays secret stays secret because the keys are gone, not because of bookkeeping.
import { openSoftwareKeystore } from '@sotto/client/node';
import {
  acceptPrekeyMessage,
  decodeSession,
  encodePrekeyBundle,
  IdentityKeyPair,
  KemPrekeyPrivate,
  MemoryPrekeyStore,
  OneTimePrekeyPrivate,
  openEnvelope,
  ProtocolError,
  sessionDecrypt,
  SignedPrekeyPrivate,
  type CryptoProvider,
  type PrekeyUse,
  type ResponderPrekeyStore,
  type Rng,
  type Session,
} from '@sotto/protocol';
import { decodedViews, type RecordedEnvelope } from './sotto-recording.ts';

/** Mallory's own keys for impersonating someone: an identity, a bundle it signed (signed prekey 1 and the
 *  last-resort ML-KEM prekey 2, no one-time prekey) and the prekey store that answers first messages to it. */
export interface ForgedIdentity {
  readonly identity: IdentityKeyPair;
  readonly bundle: Uint8Array;
  readonly store: MemoryPrekeyStore;
}

export async function forgeIdentity(crypto: CryptoProvider, rng: Rng): Promise<ForgedIdentity> {
  const identity = await IdentityKeyPair.generate(crypto, rng);
  const spk = await SignedPrekeyPrivate.generate(crypto, rng, identity, 1);
  const kem = await KemPrekeyPrivate.generate(crypto, rng, identity, 2, true);
  const store = new MemoryPrekeyStore();
  store.addSignedPrekey(spk);
  store.addKemPrekeys([kem]);
  return { identity, bundle: encodePrekeyBundle({ identityKey: identity.publicKey, signedPrekey: spk.public, kemPrekey: kem.public }), store };
}

/** Everything usable found in a stolen keystore. */
export interface StolenKeys {
  readonly entryNames: readonly string[];
  /** The raw entry values, for grepping (local history, outbox, ...). */
  readonly values: readonly Uint8Array[];
  /** Every 32-byte value found, tried as an identity seed. */
  readonly identities: readonly IdentityKeyPair[];
  readonly sessions: readonly Session[];
  readonly x25519Prekeys: readonly { readonly id: number; readonly secret: Uint8Array; readonly signature: Uint8Array }[];
  readonly kemPrekeys: readonly { readonly id: number; readonly seed: Uint8Array; readonly signature: Uint8Array; readonly lastResort: boolean }[];
}

function walkJson(v: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (Array.isArray(v)) for (const x of v) walkJson(x, visit);
  else if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    visit(o);
    for (const x of Object.values(o)) walkJson(x, visit);
  }
}

const isHex = (v: unknown, bytes: number): v is string => typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]+$/i.test(v);

/** Opens a stolen keystore directory with its passphrase and harvests every entry. */
export async function harvestKeystore(crypto: CryptoProvider, dir: string, passphrase: string): Promise<StolenKeys> {
  const ks = await openSoftwareKeystore(dir, passphrase, { testOnlyAllowWeakKdf: true });
  try {
    const entryNames = await ks.names();
    const values: Uint8Array[] = [];
    for (const name of entryNames) {
      const v = await ks.get(name);
      if (v !== undefined) values.push(v);
    }
    return await harvestValues(crypto, entryNames, values);
  } finally {
    await ks.close();
  }
}

/** Harvests secrets from arbitrary byte strings: sessions, JSON records of prekeys, and every 32-byte value. */
export async function harvestValues(crypto: CryptoProvider, entryNames: readonly string[], values: readonly Uint8Array[]): Promise<StolenKeys> {
  const sessions: Session[] = [];
  const x25519: { id: number; secret: Uint8Array; signature: Uint8Array }[] = [];
  const kem: { id: number; seed: Uint8Array; signature: Uint8Array; lastResort: boolean }[] = [];
  const seeds = new Map<string, Uint8Array>();
  for (const value of values) {
    try {
      sessions.push(decodeSession(value));
      continue;
    } catch {
      // not a session: read it as a record
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
    } catch {
      json = undefined;
    }
    walkJson(json, (o) => {
      if (typeof o.id === 'number' && isHex(o.secret, 32) && isHex(o.signature, 64)) x25519.push({ id: o.id, secret: Buffer.from(o.secret, 'hex'), signature: Buffer.from(o.signature, 'hex') });
      if (typeof o.id === 'number' && isHex(o.seed, 64) && isHex(o.signature, 64) && typeof o.lastResort === 'boolean') {
        kem.push({ id: o.id, seed: Buffer.from(o.seed, 'hex'), signature: Buffer.from(o.signature, 'hex'), lastResort: o.lastResort });
      }
    });
    for (const v of decodedViews(value)) if (v.length === 32) seeds.set(Buffer.from(v).toString('hex'), v);
  }
  const identities: IdentityKeyPair[] = [];
  for (const seed of seeds.values()) identities.push(await IdentityKeyPair.fromSeed(crypto, seed));
  return { entryNames, values, identities, sessions, x25519Prekeys: x25519, kemPrekeys: kem };
}

/** A prekey store that hands the thief every stolen prekey under every id it is asked for, and never refuses a use. */
class ThiefPrekeyStore implements ResponderPrekeyStore {
  readonly #crypto: CryptoProvider;
  readonly #keys: StolenKeys;

  constructor(crypto: CryptoProvider, keys: StolenKeys) {
    this.#crypto = crypto;
    this.#keys = keys;
  }

  async signedPrekey(id: number): Promise<SignedPrekeyPrivate | undefined> {
    const k = this.#keys.x25519Prekeys.find((p) => p.id === id);
    return k === undefined ? undefined : SignedPrekeyPrivate.restore(this.#crypto, id, k.secret, k.signature);
  }

  async oneTimePrekey(id: number): Promise<OneTimePrekeyPrivate | undefined> {
    const k = this.#keys.x25519Prekeys.find((p) => p.id === id);
    return k === undefined ? undefined : OneTimePrekeyPrivate.restore(this.#crypto, id, k.secret, k.signature);
  }

  async kemPrekey(id: number): Promise<KemPrekeyPrivate | undefined> {
    const k = this.#keys.kemPrekeys.find((p) => p.id === id);
    return k === undefined ? undefined : KemPrekeyPrivate.restore(this.#crypto, id, k.lastResort, k.seed, k.signature);
  }

  consume(_use: PrekeyUse): boolean {
    return true; //                                         a thief keeps no replay record
  }
}

/** What trying every stolen key on every recorded envelope gave. */
export interface DecryptionAttempt {
  readonly envelopes: number;
  /** Envelopes whose outer sealed layer opened (the thief learns the sender and the session message). */
  readonly opened: number;
  /** Plaintexts recovered from session messages, with the envelope they came from. */
  readonly plaintexts: readonly { readonly id: string; readonly text: string }[];
  /** ProtocolError codes of the failed attempts, with counts. */
  readonly failures: ReadonlyMap<string, number>;
}

/** Tries every stolen identity, session and prekey on every envelope (at time `now` for certificate expiry). */
export async function tryStolenKeys(crypto: CryptoProvider, rng: Rng, keys: StolenKeys, envelopes: readonly RecordedEnvelope[], now: number): Promise<DecryptionAttempt> {
  const failures = new Map<string, number>();
  const fail = (e: unknown): void => {
    if (!(e instanceof ProtocolError)) throw e;
    failures.set(e.code, (failures.get(e.code) ?? 0) + 1);
  };
  const store = new ThiefPrekeyStore(crypto, keys);
  const plaintexts: { id: string; text: string }[] = [];
  let opened = 0;
  for (const env of envelopes) {
    let got: { contentType: 'prekey' | 'ratchet'; content: Uint8Array } | undefined;
    let identity: IdentityKeyPair | undefined;
    for (const candidate of keys.identities) {
      try {
        got = await openEnvelope(crypto, candidate, env.envelope, now);
        identity = candidate;
        break;
      } catch (e) {
        fail(e);
      }
    }
    if (got === undefined || identity === undefined) continue;
    opened++;
    const recovered: Uint8Array[] = [];
    for (const session of keys.sessions) {
      try {
        recovered.push((await sessionDecrypt(crypto, rng, session, got.content)).plaintext);
      } catch (e) {
        fail(e);
      }
    }
    if (got.contentType === 'prekey') {
      try {
        recovered.push((await acceptPrekeyMessage(crypto, rng, identity, store, got.content)).plaintext);
      } catch (e) {
        fail(e);
      }
    }
    for (const p of recovered) plaintexts.push({ id: env.id, text: new TextDecoder().decode(p) });
  }
  return { envelopes: envelopes.length, opened, plaintexts, failures };
}

/** "ERR_A ×3, ERR_B ×1" */
export function describeFailures(failures: ReadonlyMap<string, number>): string {
  return [...failures].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ×${n}`).join(', ');
}
