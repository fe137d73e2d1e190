// The device's prekeys (docs/protocol/03 §3.2–3.6, docs/protocol/08 §8.5, docs/protocol/09 §9.5):
// generating them, keeping their private halves in the client state (src/messaging/state.ts), building
// the PrekeyUpload bodies for PUT /v1/keys, and serving them to @sotto/protocol's
// `acceptPrekeyMessage` through the ResponderPrekeyStore interface, whose `consume` the protocol calls
// exactly once per accepted first message.
import {
  KemPrekeyPrivate,
  OneTimePrekeyPrivate,
  SignedPrekeyPrivate,
  encodePrekeyUpload,
  limits,
  type CryptoProvider,
  type IdentityKeyPair,
  type PrekeyUpload,
  type PrekeyUse,
  type ResponderPrekeyStore,
  type Rng,
  type WireKemPrekey,
  type WireOneTimePrekey,
} from '@sotto/protocol';
import { toHex } from '../internal/bytes.ts';
import { MAX_PREKEY_UPLOAD_BYTES } from '../limits.ts';
import type { KemPrekeyRecord, PrekeyState, X25519PrekeyRecord } from './state.ts';

/** The first ids (PQXDH §4.13 suggests sequential ids; 0 is left unused). */
const SIGNED_PREKEY_ID = 1;

/** A device's first prekeys: a signed prekey, a last-resort KEM prekey, `count` one-time keys of each kind. */
export async function generateInitialPrekeys(crypto: CryptoProvider, rng: Rng, identity: IdentityKeyPair, count: number): Promise<PrekeyState> {
  const signed = await SignedPrekeyPrivate.generate(crypto, rng, identity, SIGNED_PREKEY_ID);
  const lastResort = await KemPrekeyPrivate.generate(crypto, rng, identity, 1, true);
  const empty: PrekeyState = {
    signed: { id: signed.id, secret: signed.exportSecret(), signature: signed.public.signature },
    lastResort: kemRecord(lastResort),
    oneTime: new Map(),
    kem: new Map(),
    lastResortUses: new Set(),
    nextOneTimeId: 1,
    nextKemId: 2,
  };
  return (await addOneTimePrekeys(crypto, rng, identity, empty, count, count)).state;
}

function kemRecord(k: KemPrekeyPrivate): KemPrekeyRecord {
  return { id: k.id, seed: k.exportSecret(), signature: k.public.signature, lastResort: k.lastResort };
}

/** New one-time prekeys added to the state; returns their public halves for the upload. */
export async function addOneTimePrekeys(
  crypto: CryptoProvider,
  rng: Rng,
  identity: IdentityKeyPair,
  state: PrekeyState,
  x25519Count: number,
  kemCount: number,
): Promise<{ state: PrekeyState; oneTime: WireOneTimePrekey[]; kem: WireKemPrekey[] }> {
  const oneTime = new Map(state.oneTime);
  const kem = new Map(state.kem);
  const oneTimePublic: WireOneTimePrekey[] = [];
  const kemPublic: WireKemPrekey[] = [];
  for (let i = 0; i < x25519Count; i++) {
    const k = await OneTimePrekeyPrivate.generate(crypto, rng, identity, state.nextOneTimeId + i);
    oneTime.set(k.id, { id: k.id, secret: k.exportSecret(), signature: k.public.signature });
    oneTimePublic.push(k.public);
  }
  for (let i = 0; i < kemCount; i++) {
    const k = await KemPrekeyPrivate.generate(crypto, rng, identity, state.nextKemId + i, false);
    kem.set(k.id, kemRecord(k));
    kemPublic.push(k.public);
  }
  return {
    state: { ...state, oneTime, kem, nextOneTimeId: state.nextOneTimeId + x25519Count, nextKemId: state.nextKemId + kemCount },
    oneTime: oneTimePublic,
    kem: kemPublic,
  };
}

/** The public halves of the signed and last-resort prekeys, for the first upload. */
export async function currentPublicPrekeys(crypto: CryptoProvider, state: PrekeyState): Promise<Pick<PrekeyUpload, 'signedPrekey' | 'lastResortKemPrekey'>> {
  const signed = await SignedPrekeyPrivate.restore(crypto, state.signed.id, state.signed.secret, state.signed.signature);
  const lastResort = await restoreKem(crypto, state.lastResort);
  return { signedPrekey: signed.public, lastResortKemPrekey: lastResort.public };
}

/** Public halves of every one-time prekey the state holds (for an upload that failed before). */
export async function oneTimePublicPrekeys(crypto: CryptoProvider, state: PrekeyState): Promise<{ oneTime: WireOneTimePrekey[]; kem: WireKemPrekey[] }> {
  const oneTime: WireOneTimePrekey[] = [];
  for (const r of state.oneTime.values()) oneTime.push((await OneTimePrekeyPrivate.restore(crypto, r.id, r.secret, r.signature)).public);
  const kem: WireKemPrekey[] = [];
  for (const r of state.kem.values()) kem.push((await restoreKem(crypto, r)).public);
  return { oneTime, kem };
}

// docs/protocol/03 §3.6 sizes: header 2 + identity 32 + 1 + signed 100 + 1 + last resort 1636 + 2 + 2.
const UPLOAD_FIXED_BYTES = 2 + 32 + 1 + 100 + 1 + 1636 + 2 + 2;
const ONE_TIME_BYTES = 100;
const KEM_BYTES = 1636;

/**
 * Splits an upload into PrekeyUpload bodies that each respect MAX_PREKEYS_PER_UPLOAD per kind and
 * MAX_PREKEY_UPLOAD_BYTES (docs/protocol/09 §9.10). The signed and last-resort prekeys ride in the first.
 */
export function splitPrekeyUpload(upload: PrekeyUpload): Uint8Array[] {
  const perKind = limits.MAX_PREKEYS_PER_UPLOAD;
  const bodies: Uint8Array[] = [];
  let oneTime = [...upload.oneTimePrekeys];
  let kem = [...upload.kemPrekeys];
  let first = true;
  while (first || oneTime.length > 0 || kem.length > 0) {
    let budget = MAX_PREKEY_UPLOAD_BYTES - UPLOAD_FIXED_BYTES;
    const kemTake = Math.min(kem.length, perKind, Math.floor(budget / KEM_BYTES));
    budget -= kemTake * KEM_BYTES;
    const oneTimeTake = Math.min(oneTime.length, perKind, Math.floor(budget / ONE_TIME_BYTES));
    bodies.push(
      encodePrekeyUpload({
        identityKey: upload.identityKey,
        signedPrekey: first ? upload.signedPrekey : undefined,
        lastResortKemPrekey: first ? upload.lastResortKemPrekey : undefined,
        oneTimePrekeys: oneTime.slice(0, oneTimeTake),
        kemPrekeys: kem.slice(0, kemTake),
      }),
    );
    oneTime = oneTime.slice(oneTimeTake);
    kem = kem.slice(kemTake);
    first = false;
  }
  return bodies;
}

function restoreKem(crypto: CryptoProvider, r: KemPrekeyRecord): Promise<KemPrekeyPrivate> {
  return KemPrekeyPrivate.restore(crypto, r.id, r.lastResort, r.seed, r.signature);
}

/**
 * The ResponderPrekeyStore over a PrekeyState (docs/protocol/08 §8.5). Mutable on purpose: the
 * protocol calls `consume` on it, and the caller reads `state` afterwards and commits it (or drops it
 * to roll the use back when the message is refused later, e.g. for a forged sender).
 */
export class StatePrekeyStore implements ResponderPrekeyStore {
  state: PrekeyState;
  readonly #crypto: CryptoProvider;

  constructor(crypto: CryptoProvider, state: PrekeyState) {
    this.#crypto = crypto;
    this.state = state;
  }

  async signedPrekey(id: number): Promise<SignedPrekeyPrivate | undefined> {
    const r = this.state.signed;
    return r.id === id ? SignedPrekeyPrivate.restore(this.#crypto, r.id, r.secret, r.signature) : undefined;
  }

  async oneTimePrekey(id: number): Promise<OneTimePrekeyPrivate | undefined> {
    const r: X25519PrekeyRecord | undefined = this.state.oneTime.get(id);
    return r === undefined ? undefined : OneTimePrekeyPrivate.restore(this.#crypto, r.id, r.secret, r.signature);
  }

  async kemPrekey(id: number): Promise<KemPrekeyPrivate | undefined> {
    const r = this.state.lastResort.id === id ? this.state.lastResort : this.state.kem.get(id);
    return r === undefined ? undefined : restoreKem(this.#crypto, r);
  }

  /** Same all-or-nothing contract as @sotto/protocol's MemoryPrekeyStore.consume. */
  consume(use: PrekeyUse): boolean {
    const s = this.state;
    const entry = `${use.kemPrekeyId}:${toHex(use.baseKey)}`;
    if (use.oneTimePrekeyId !== undefined && !s.oneTime.has(use.oneTimePrekeyId)) return false;
    const kem = s.lastResort.id === use.kemPrekeyId ? s.lastResort : s.kem.get(use.kemPrekeyId);
    if (kem === undefined || kem.lastResort !== use.kemPrekeyLastResort) return false;
    if (use.kemPrekeyLastResort && s.lastResortUses.has(entry)) return false;
    const oneTime = new Map(s.oneTime);
    if (use.oneTimePrekeyId !== undefined) oneTime.delete(use.oneTimePrekeyId);
    const kemMap = new Map(s.kem);
    let lastResortUses = s.lastResortUses;
    if (use.kemPrekeyLastResort) lastResortUses = new Set([...s.lastResortUses, entry]);
    else kemMap.delete(use.kemPrekeyId);
    this.state = { ...s, oneTime, kem: kemMap, lastResortUses };
    return true;
  }
}
