// Shared fixtures for the handshake and session tests: a responder device with all its prekeys in a
// MemoryPrekeyStore, and bundles made from them as a server would.
import { fastProvider } from '@sotto/crypto';
import {
  IdentityKeyPair,
  KemPrekeyPrivate,
  MemoryPrekeyStore,
  SignedPrekeyPrivate,
  generateKemPrekeys,
  generateOneTimePrekeys,
  type CryptoProvider,
  type PrekeyBundle,
  type Rng,
} from '@sotto/protocol';
import type { OneTimePrekeyPrivate } from '../src/keys/prekeys.ts';

export const crypto: CryptoProvider = fastProvider;

export interface Device {
  readonly identity: IdentityKeyPair;
  readonly signedPrekey: SignedPrekeyPrivate;
  readonly oneTimePrekeys: readonly OneTimePrekeyPrivate[];
  readonly kemPrekeys: readonly KemPrekeyPrivate[];
  readonly lastResort: KemPrekeyPrivate;
  readonly store: MemoryPrekeyStore;
}

export async function makeDevice(c: CryptoProvider, rng: Rng, opts: { oneTime?: number; kemOneTime?: number } = {}): Promise<Device> {
  const identity = await IdentityKeyPair.generate(c, rng);
  const signedPrekey = await SignedPrekeyPrivate.generate(c, rng, identity, 7);
  const oneTimePrekeys = await generateOneTimePrekeys(c, rng, identity, 100, opts.oneTime ?? 2);
  const kemPrekeys = await generateKemPrekeys(c, rng, identity, 200, opts.kemOneTime ?? 2);
  const lastResort = await KemPrekeyPrivate.generate(c, rng, identity, 999, true);
  const store = new MemoryPrekeyStore();
  store.addSignedPrekey(signedPrekey);
  store.addOneTimePrekeys(oneTimePrekeys);
  store.addKemPrekeys([...kemPrekeys, lastResort]);
  return { identity, signedPrekey, oneTimePrekeys, kemPrekeys, lastResort, store };
}

/** A bundle as the server would hand it out: optional one-time prekey, a one-time or the last-resort KEM prekey. */
export function bundleOf(d: Device, opts: { oneTime?: number | undefined; kem?: number | 'last-resort' } = {}): PrekeyBundle {
  const kem = opts.kem === undefined ? d.kemPrekeys[0] : opts.kem === 'last-resort' ? d.lastResort : d.kemPrekeys[opts.kem];
  if (kem === undefined) throw new Error('no such KEM prekey');
  const otp = opts.oneTime === undefined ? undefined : d.oneTimePrekeys[opts.oneTime];
  return {
    identityKey: d.identity.publicKey,
    signedPrekey: d.signedPrekey.public,
    ...(otp === undefined ? {} : { oneTimePrekey: otp.public }),
    kemPrekey: kem.public,
  };
}
