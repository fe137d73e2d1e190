// Sotto's side of the benchmark: the public session API of @sotto/protocol (PQXDH + Double Ratchet)
// with a given crypto provider, doing the same work as bench/libsignal.ts.
import { randomFillSync } from 'node:crypto';
import {
  IdentityKeyPair,
  MemoryPrekeyStore,
  SignedPrekeyPrivate,
  acceptPrekeyMessage,
  generateKemPrekeys,
  generateOneTimePrekeys,
  initiateSession,
  sessionDecrypt,
  sessionEncrypt,
  verifyPrekeyBundle,
  type CryptoProvider,
  type PrekeyBundle,
  type Rng,
  type Session,
  type SessionMessage,
} from '@sotto/protocol';
import { MESSAGE_SIZE_SAMPLE, PLAINTEXT_BYTES, sizesOf, type Contender, type SetupTimes } from './contender.ts';
import { seconds } from './harness.ts';

const rng: Rng = (n) => randomFillSync(new Uint8Array(n));
const plaintext = (): Uint8Array => rng(PLAINTEXT_BYTES);

interface Responder {
  readonly identity: IdentityKeyPair;
  readonly store: MemoryPrekeyStore;
  readonly bundles: PrekeyBundle[];
}

/** A responder with `count` bundles: one signed prekey, `count` one-time X25519 and one-time ML-KEM-1024 prekeys. */
async function responder(crypto: CryptoProvider, count: number, firstId: number): Promise<Responder> {
  const identity = await IdentityKeyPair.generate(crypto, rng);
  const store = new MemoryPrekeyStore();
  const spk = await SignedPrekeyPrivate.generate(crypto, rng, identity, firstId);
  const otps = await generateOneTimePrekeys(crypto, rng, identity, firstId, count);
  const kems = await generateKemPrekeys(crypto, rng, identity, firstId, count);
  store.addSignedPrekey(spk);
  store.addOneTimePrekeys(otps);
  store.addKemPrekeys(kems);
  const bundles = otps.map((otp, i) => {
    const kem = kems[i];
    if (kem === undefined) throw new Error('bench: missing KEM prekey');
    return { identityKey: identity.publicKey, signedPrekey: spk.public, oneTimePrekey: otp.public, kemPrekey: kem.public };
  });
  return { identity, store, bundles };
}

interface Pair {
  alice: Session;
  bob: Session;
}

/** For bench/breakdown.ts: told when a timed block starts and ends, so it can count only those calls. */
export interface TimingHooks {
  timed(running: boolean): void;
}

export function sottoContender(crypto: CryptoProvider, hooks?: TimingHooks): Contender {
  const timed = async (f: () => Promise<unknown>): Promise<number> => {
    hooks?.timed(true);
    try {
      return await seconds(f);
    } finally {
      hooks?.timed(false);
    }
  };
  let alice: IdentityKeyPair | undefined;
  let nextId = 1;
  let oneWay: Pair | undefined;
  let pingPong: Pair | undefined;

  async function first(bundle: PrekeyBundle, pt: Uint8Array = plaintext()): Promise<{ session: Session; message: SessionMessage }> {
    if (alice === undefined) throw new Error('bench: prepare() first');
    const session = await initiateSession(crypto, rng, alice, await verifyPrekeyBundle(crypto, bundle));
    return sessionEncrypt(crypto, rng, session, pt);
  }

  /** A session in which both sides have sent and received, so no message is a prekey message. */
  async function establish(): Promise<Pair> {
    const bob = await responder(crypto, 1, nextId++);
    const [bundle] = bob.bundles;
    if (bundle === undefined) throw new Error('bench: no bundle');
    const a1 = await first(bundle);
    const accepted = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, a1.message.bytes);
    const reply = await sessionEncrypt(crypto, rng, accepted.session, plaintext());
    const a2 = await sessionDecrypt(crypto, rng, a1.session, reply.message.bytes);
    if (a2.session.awaitingReply) throw new Error('bench: the initiator should have left the prekey phase');
    return { alice: a2.session, bob: reply.session };
  }

  return {
    name: `sotto/${crypto.name}`,
    async prepare() {
      alice = await IdentityKeyPair.generate(crypto, rng);
      oneWay = await establish();
      pingPong = await establish();
    },

    async setups(count): Promise<SetupTimes> {
      const bob = await responder(crypto, count, nextId); // untimed: Bob's prekeys, as libsignal's side
      nextId += count;
      const messages: Uint8Array[] = [];
      const initiator = await timed(async () => {
        for (const bundle of bob.bundles) messages.push((await first(bundle)).message.bytes);
      });
      const responderTime = await timed(async () => {
        for (const m of messages) await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m);
      });
      return { initiator, responder: responderTime };
    },

    async oneDirection(count) {
      if (oneWay === undefined) throw new Error('bench: prepare() first');
      const pair = oneWay;
      const pts = Array.from({ length: count }, plaintext);
      const out: Uint8Array[] = [];
      const enc = await timed(async () => {
        for (const pt of pts) {
          const r = await sessionEncrypt(crypto, rng, pair.alice, pt);
          pair.alice = r.session;
          out.push(r.message.bytes);
        }
      });
      const dec = await timed(async () => {
        for (const m of out) pair.bob = (await sessionDecrypt(crypto, rng, pair.bob, m)).session;
      });
      return enc + dec;
    },

    async pingPong(count) {
      if (pingPong === undefined) throw new Error('bench: prepare() first');
      const pair = pingPong;
      const pts = Array.from({ length: count }, plaintext);
      return timed(async () => {
        for (const [i, pt] of pts.entries()) {
          if (i % 2 === 0) {
            const r = await sessionEncrypt(crypto, rng, pair.alice, pt);
            pair.alice = r.session;
            pair.bob = (await sessionDecrypt(crypto, rng, pair.bob, r.message.bytes)).session;
          } else {
            const r = await sessionEncrypt(crypto, rng, pair.bob, pt);
            pair.bob = r.session;
            pair.alice = (await sessionDecrypt(crypto, rng, pair.alice, r.message.bytes)).session;
          }
        }
      });
    },

    async messageBytes(plaintextBytes) {
      const pair = await establish();
      const sizes: number[] = [];
      for (let i = 0; i < MESSAGE_SIZE_SAMPLE; i++) {
        const fromBob = i < MESSAGE_SIZE_SAMPLE / 2 && i % 2 === 1;
        const r = await sessionEncrypt(crypto, rng, fromBob ? pair.bob : pair.alice, new Uint8Array(plaintextBytes));
        sizes.push(r.message.bytes.length);
        if (fromBob) {
          pair.bob = r.session;
          pair.alice = (await sessionDecrypt(crypto, rng, pair.alice, r.message.bytes)).session;
        } else {
          pair.alice = r.session;
          pair.bob = (await sessionDecrypt(crypto, rng, pair.bob, r.message.bytes)).session;
        }
      }
      const bob = await responder(crypto, 1, nextId++);
      const [bundle] = bob.bundles;
      if (bundle === undefined) throw new Error('bench: no bundle');
      const prekey = (await first(bundle, new Uint8Array(plaintextBytes))).message.bytes.length;
      return sizesOf(sizes, prekey);
    },
  };
}
