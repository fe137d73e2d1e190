// The baseline: @signalapp/libsignal-client 0.103.0 (Rust, native Node addon) doing the same work as
// Sotto, driven through its public Node API with in-memory stores. It is never a dependency of Sotto:
// it is installed into a scratch folder outside the repository and loaded from there.
//
// libsignal 0.103 does strictly more per message than Sotto's ratchet: it also runs the SPQR
// post-quantum ratchet (ML-KEM braid) inside every session, and its session records are native objects
// that cross the JS/Rust boundary on every call. Both are part of what "libsignal" costs an app.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MESSAGE_SIZE_SAMPLE, PLAINTEXT_BYTES, sizesOf, type Contender, type SetupTimes } from './contender.ts';
import { seconds } from './harness.ts';

export const LIBSIGNAL_VERSION = '0.103.0';
const PACKAGE = '@signalapp/libsignal-client';

// ---------------------------------------------------------------------------------------------
// The slice of libsignal-client's public API used here (its own .d.ts is not visible to this repo).

interface PublicKey {
  serialize(): Uint8Array;
}
interface PrivateKey {
  getPublicKey(): PublicKey;
  sign(msg: Uint8Array): Uint8Array;
}
interface IdentityKeyPair {
  readonly publicKey: PublicKey;
  readonly privateKey: PrivateKey;
}
interface KemKeyPair {
  getPublicKey(): PublicKey;
}
type Opaque = object;
interface ProtocolAddress {
  toString(): string;
}
interface CiphertextMessage {
  serialize(): Uint8Array;
  type(): number;
}
type StoreBase = abstract new () => object;

interface Libsignal {
  IdentityKeyPair: { generate(): IdentityKeyPair };
  PrivateKey: { generate(): PrivateKey };
  KEMKeyPair: { generate(): KemKeyPair };
  ProtocolAddress: { new: (name: string, deviceId: number) => ProtocolAddress };
  PreKeyRecord: { new: (id: number, pub: PublicKey, priv: PrivateKey) => Opaque };
  SignedPreKeyRecord: { new: (id: number, timestamp: number, pub: PublicKey, priv: PrivateKey, signature: Uint8Array) => Opaque };
  KyberPreKeyRecord: { new: (id: number, timestamp: number, keyPair: KemKeyPair, signature: Uint8Array) => Opaque };
  PreKeyBundle: {
    new: (
      registrationId: number,
      deviceId: number,
      prekeyId: number | null,
      prekey: PublicKey | null,
      signedPrekeyId: number,
      signedPrekey: PublicKey,
      signedPrekeySignature: Uint8Array,
      identityKey: PublicKey,
      kyberPrekeyId: number,
      kyberPrekey: PublicKey,
      kyberPrekeySignature: Uint8Array,
    ) => Opaque;
  };
  PreKeySignalMessage: { deserialize(b: Uint8Array): Opaque };
  SignalMessage: { deserialize(b: Uint8Array): Opaque };
  CiphertextMessageType: { readonly PreKey: number; readonly Whisper: number };
  SessionStore: StoreBase;
  IdentityKeyStore: StoreBase;
  PreKeyStore: StoreBase;
  SignedPreKeyStore: StoreBase;
  KyberPreKeyStore: StoreBase;
  processPreKeyBundle(bundle: Opaque, address: ProtocolAddress, local: ProtocolAddress, sessions: object, identities: object): Promise<void>;
  signalEncrypt(message: Uint8Array, address: ProtocolAddress, local: ProtocolAddress, sessions: object, identities: object): Promise<CiphertextMessage>;
  signalDecrypt(message: Opaque, address: ProtocolAddress, local: ProtocolAddress, sessions: object, identities: object): Promise<Uint8Array>;
  signalDecryptPreKey(
    message: Opaque,
    address: ProtocolAddress,
    local: ProtocolAddress,
    sessions: object,
    identities: object,
    prekeys: object,
    signedPrekeys: object,
    kyberPrekeys: object,
  ): Promise<Uint8Array>;
}

/** Installs libsignal-client into <tmpdir>/sotto-bench-baseline (once) and loads it from there. */
export function loadLibsignal(): Libsignal {
  const dir = join(tmpdir(), 'sotto-bench-baseline');
  const manifest = join(dir, 'node_modules', ...PACKAGE.split('/'), 'package.json');
  const installed = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version : undefined;
  if (installed !== LIBSIGNAL_VERSION) {
    console.log(`bench: installing ${PACKAGE}@${LIBSIGNAL_VERSION} into ${dir} (outside the repository; not a Sotto dependency)`);
    const r = spawnSync('npm', ['install', '--prefix', dir, `${PACKAGE}@${LIBSIGNAL_VERSION}`, '--no-save', '--no-audit', '--no-fund'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`bench: npm install of the libsignal baseline failed (exit ${String(r.status)})`);
  }
  return createRequire(join(dir, 'package.json'))(PACKAGE) as Libsignal;
}

// ---------------------------------------------------------------------------------------------
// In-memory stores (libsignal's store traits), holding libsignal's objects as they are: no
// serialization, as Sotto's side keeps its immutable session objects in memory too.

function stores(lib: Libsignal, identity: IdentityKeyPair, registrationId: number) {
  class Sessions extends lib.SessionStore {
    readonly map = new Map<string, Opaque>();
    saveSession(name: ProtocolAddress, record: Opaque): Promise<void> {
      this.map.set(name.toString(), record);
      return Promise.resolve();
    }
    getSession(name: ProtocolAddress): Promise<Opaque | null> {
      return Promise.resolve(this.map.get(name.toString()) ?? null);
    }
    getExistingSessions(addresses: ProtocolAddress[]): Promise<Opaque[]> {
      return Promise.resolve(addresses.map((a) => this.map.get(a.toString())).filter((r): r is Opaque => r !== undefined));
    }
  }
  class Identities extends lib.IdentityKeyStore {
    readonly known = new Map<string, PublicKey>();
    getIdentityKey(): Promise<PrivateKey> {
      return Promise.resolve(identity.privateKey);
    }
    getLocalRegistrationId(): Promise<number> {
      return Promise.resolve(registrationId);
    }
    saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<number> {
      const had = this.known.get(name.toString());
      this.known.set(name.toString(), key);
      return Promise.resolve(had === undefined ? 0 : 1); // IdentityChange.NewOrUnchanged / ReplacedExisting (ignored)
    }
    isTrustedIdentity(): Promise<boolean> {
      return Promise.resolve(true); // trust on first use, like Sotto's bench side (no trust store in either)
    }
    getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
      return Promise.resolve(this.known.get(name.toString()) ?? null);
    }
  }
  class PreKeys extends lib.PreKeyStore {
    readonly map = new Map<number, Opaque>();
    savePreKey(id: number, record: Opaque): Promise<void> {
      this.map.set(id, record);
      return Promise.resolve();
    }
    getPreKey(id: number): Promise<Opaque> {
      const r = this.map.get(id);
      return r === undefined ? Promise.reject(new Error(`no prekey ${id}`)) : Promise.resolve(r);
    }
    removePreKey(id: number): Promise<void> {
      this.map.delete(id);
      return Promise.resolve();
    }
  }
  class SignedPreKeys extends lib.SignedPreKeyStore {
    readonly map = new Map<number, Opaque>();
    saveSignedPreKey(id: number, record: Opaque): Promise<void> {
      this.map.set(id, record);
      return Promise.resolve();
    }
    getSignedPreKey(id: number): Promise<Opaque> {
      const r = this.map.get(id);
      return r === undefined ? Promise.reject(new Error(`no signed prekey ${id}`)) : Promise.resolve(r);
    }
  }
  class KyberPreKeys extends lib.KyberPreKeyStore {
    readonly map = new Map<number, Opaque>();
    saveKyberPreKey(id: number, record: Opaque): Promise<void> {
      this.map.set(id, record);
      return Promise.resolve();
    }
    getKyberPreKey(id: number): Promise<Opaque> {
      const r = this.map.get(id);
      return r === undefined ? Promise.reject(new Error(`no kyber prekey ${id}`)) : Promise.resolve(r);
    }
    markKyberPreKeyUsed(id: number): Promise<void> {
      this.map.delete(id); // one-time Kyber prekeys, as Sotto's side uses one-time KEM prekeys
      return Promise.resolve();
    }
  }
  return {
    sessions: new Sessions(),
    identities: new Identities(),
    prekeys: new PreKeys(),
    signedPrekeys: new SignedPreKeys(),
    kyberPrekeys: new KyberPreKeys(),
  };
}

type Stores = ReturnType<typeof stores>;

interface Party {
  readonly address: ProtocolAddress;
  readonly identity: IdentityKeyPair;
  readonly registrationId: number;
  readonly s: Stores;
}

function party(lib: Libsignal, name: string, registrationId: number): Party {
  const identity = lib.IdentityKeyPair.generate();
  return { address: lib.ProtocolAddress.new(name, 1), identity, registrationId, s: stores(lib, identity, registrationId) };
}

const plaintext = (): Uint8Array => new Uint8Array(randomBytes(PLAINTEXT_BYTES));

export function libsignalContender(): Contender {
  const lib = loadLibsignal();
  let nextId = 1;
  let round = 0;

  /** Bob publishes one bundle: signed prekey, one-time prekey, one-time Kyber-1024 prekey (PQXDH). */
  function publishBundle(bob: Party): Opaque {
    const id = nextId++;
    const spk = lib.PrivateKey.generate();
    const spkSig = bob.identity.privateKey.sign(spk.getPublicKey().serialize());
    const opk = lib.PrivateKey.generate();
    const kyber = lib.KEMKeyPair.generate();
    const kyberSig = bob.identity.privateKey.sign(kyber.getPublicKey().serialize());
    bob.s.signedPrekeys.map.set(id, lib.SignedPreKeyRecord.new(id, 0, spk.getPublicKey(), spk, spkSig));
    bob.s.prekeys.map.set(id, lib.PreKeyRecord.new(id, opk.getPublicKey(), opk));
    bob.s.kyberPrekeys.map.set(id, lib.KyberPreKeyRecord.new(id, 0, kyber, kyberSig));
    return lib.PreKeyBundle.new(bob.registrationId, 1, id, opk.getPublicKey(), id, spk.getPublicKey(), spkSig, bob.identity.publicKey, id, kyber.getPublicKey(), kyberSig);
  }

  const encrypt = (from: Party, to: Party, pt: Uint8Array): Promise<CiphertextMessage> => lib.signalEncrypt(pt, to.address, from.address, from.s.sessions, from.s.identities);

  async function decrypt(at: Party, from: Party, m: CiphertextMessage): Promise<Uint8Array> {
    const bytes = m.serialize();
    if (m.type() === lib.CiphertextMessageType.PreKey) {
      return lib.signalDecryptPreKey(lib.PreKeySignalMessage.deserialize(bytes), from.address, at.address, at.s.sessions, at.s.identities, at.s.prekeys, at.s.signedPrekeys, at.s.kyberPrekeys);
    }
    return lib.signalDecrypt(lib.SignalMessage.deserialize(bytes), from.address, at.address, at.s.sessions, at.s.identities);
  }

  /** A session in which both sides have sent and received, so no message is a prekey message. */
  async function establish(tag: string): Promise<[Party, Party]> {
    const alice = party(lib, `alice-${tag}`, 1);
    const bob = party(lib, `bob-${tag}`, 2);
    await lib.processPreKeyBundle(publishBundle(bob), bob.address, alice.address, alice.s.sessions, alice.s.identities);
    await decrypt(bob, alice, await encrypt(alice, bob, plaintext()));
    await decrypt(alice, bob, await encrypt(bob, alice, plaintext()));
    return [alice, bob];
  }

  let oneWay: [Party, Party] | undefined;
  let pingPong: [Party, Party] | undefined;

  return {
    name: `libsignal-client ${LIBSIGNAL_VERSION}`,
    async prepare() {
      oneWay = await establish('one-way');
      pingPong = await establish('ping-pong');
    },

    async setups(count): Promise<SetupTimes> {
      round++;
      // Untimed: one Alice; `count` Bobs' worth of bundles from one Bob identity (distinct addresses,
      // so each setup creates a fresh session record on both sides).
      const alice = party(lib, `alice-setup-${round}`, 1);
      const bob = party(lib, `bob-setup-${round}`, 2);
      const work = Array.from({ length: count }, (_, i) => ({
        bundle: publishBundle(bob),
        bobAt: lib.ProtocolAddress.new(`bob-setup-${round}-${i}`, 1),
        aliceAt: lib.ProtocolAddress.new(`alice-setup-${round}-${i}`, 1),
        message: undefined as CiphertextMessage | undefined,
      }));
      const pts = work.map(() => plaintext());
      const initiator = await seconds(async () => {
        for (const [i, w] of work.entries()) {
          await lib.processPreKeyBundle(w.bundle, w.bobAt, w.aliceAt, alice.s.sessions, alice.s.identities);
          w.message = await lib.signalEncrypt(pts[i] ?? new Uint8Array(0), w.bobAt, w.aliceAt, alice.s.sessions, alice.s.identities);
        }
      });
      const responder = await seconds(async () => {
        for (const w of work) {
          if (w.message === undefined) throw new Error('bench: missing first message');
          await lib.signalDecryptPreKey(lib.PreKeySignalMessage.deserialize(w.message.serialize()), w.aliceAt, w.bobAt, bob.s.sessions, bob.s.identities, bob.s.prekeys, bob.s.signedPrekeys, bob.s.kyberPrekeys);
        }
      });
      return { initiator, responder };
    },

    async oneDirection(count) {
      if (oneWay === undefined) throw new Error('bench: prepare() first');
      const [alice, bob] = oneWay;
      const pts = Array.from({ length: count }, plaintext);
      const out: CiphertextMessage[] = [];
      const enc = await seconds(async () => {
        for (const pt of pts) out.push(await encrypt(alice, bob, pt));
      });
      const dec = await seconds(async () => {
        for (const m of out) await decrypt(bob, alice, m);
      });
      return enc + dec;
    },

    async pingPong(count) {
      if (pingPong === undefined) throw new Error('bench: prepare() first');
      const [alice, bob] = pingPong;
      const pts = Array.from({ length: count }, plaintext);
      return seconds(async () => {
        for (const [i, pt] of pts.entries()) {
          const [from, to] = i % 2 === 0 ? [alice, bob] : [bob, alice];
          await decrypt(to, from, await encrypt(from, to, pt));
        }
      });
    },

    async messageBytes(plaintextBytes) {
      const [alice, bob] = await establish('overhead');
      const sizes: number[] = [];
      for (let i = 0; i < MESSAGE_SIZE_SAMPLE; i++) {
        const pingPongPhase = i < MESSAGE_SIZE_SAMPLE / 2;
        const [from, to] = pingPongPhase && i % 2 === 1 ? [bob, alice] : [alice, bob];
        const m = await encrypt(from, to, new Uint8Array(plaintextBytes));
        sizes.push(m.serialize().length);
        await decrypt(to, from, m);
      }
      const carol = party(lib, 'carol-overhead', 3);
      const dave = party(lib, 'dave-overhead', 4);
      await lib.processPreKeyBundle(publishBundle(dave), dave.address, carol.address, carol.s.sessions, carol.s.identities);
      const prekey = (await encrypt(carol, dave, new Uint8Array(plaintextBytes))).serialize().length;
      return sizesOf(sizes, prekey);
    },
  };
}
