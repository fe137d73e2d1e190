// Secrets never print (STYLE.md §10): every object of the public API that holds secret key material
// shows a fixed marker under String(), JSON.stringify() and util.inspect() — also when nested, and
// with showHidden — and never the secret's bytes. This pins the redacted output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { seededRng } from '@sotto/test-support';
import { fastProvider } from '@sotto/crypto';
import {
  HpkeKeyPair,
  IdentityKeyPair,
  KemPrekeyPrivate,
  MemoryPrekeyStore,
  OneTimePrekeyPrivate,
  SignedPrekeyPrivate,
  decodeSession,
  encodeSession,
  initRatchetAsResponder,
  initiateSession,
  setupHpkeSender,
  verifyPrekeyBundle,
} from '@sotto/protocol';
import { toHex } from '../src/internal/bytes.ts';

const crypto = fastProvider;

function assertRedacted(name: string, value: { toString(): string }, secrets: readonly Uint8Array[], marker: string): void {
  const views = {
    String: value.toString(),
    JSON: JSON.stringify(value),
    'JSON nested': JSON.stringify({ nested: [value] }),
    inspect: inspect(value, { showHidden: true, depth: Infinity, getters: true }),
    'inspect nested': inspect({ nested: [value] }, { showHidden: true, depth: Infinity }),
    concatenation: 'x' + value.toString(),
  };
  for (const [how, shown] of Object.entries(views)) {
    for (const s of secrets) {
      const h = toHex(s);
      assert.ok(h.length >= 32, `${name}: the secret under test is real (${h.length / 2} bytes)`);
      assert.ok(!shown.includes(h) && !shown.includes(h.slice(0, 16)), `${name} leaks its secret through ${how}: ${shown.slice(0, 200)}`);
    }
    assert.ok(shown.includes(marker), `${name}: ${how} shows the marker ${marker}, got ${shown.slice(0, 200)}`);
  }
}

test('identity, prekey and HPKE key objects print only a redaction marker', async () => {
  const rng = seededRng('redaction/keys');
  const identity = await IdentityKeyPair.generate(crypto, rng);
  assertRedacted('IdentityKeyPair', identity, [identity.exportSeed()], '[IdentityKeyPair: redacted]');
  const spk = await SignedPrekeyPrivate.generate(crypto, rng, identity, 1);
  assertRedacted('SignedPrekeyPrivate', spk, [spk.exportSecret()], '[SignedPrekeyPrivate: redacted]');
  const otp = await OneTimePrekeyPrivate.generate(crypto, rng, identity, 2);
  assertRedacted('OneTimePrekeyPrivate', otp, [otp.exportSecret()], '[OneTimePrekeyPrivate: redacted]');
  const kem = await KemPrekeyPrivate.generate(crypto, rng, identity, 3, true);
  assertRedacted('KemPrekeyPrivate', kem, [kem.exportSecret()], '[KemPrekeyPrivate: redacted]');
  const hpke = await HpkeKeyPair.generate(crypto, rng);
  assertRedacted('HpkeKeyPair', hpke, [hpke.exportPrivateKey()], '[HpkeKeyPair: redacted]');
  const { context } = await setupHpkeSender(crypto, rng, { aead: 'chacha20-poly1305', recipientPublicKey: hpke.publicKey, info: new Uint8Array(0), auth: { mode: 'base' } });
  assertRedacted('HpkeSenderContext', context, [context.export(crypto, new Uint8Array(0), 32)], 'redacted]');

  const store = new MemoryPrekeyStore();
  store.addSignedPrekey(spk);
  store.addOneTimePrekeys([otp]);
  store.addKemPrekeys([kem]);
  assertRedacted('MemoryPrekeyStore', store, [spk.exportSecret(), otp.exportSecret(), kem.exportSecret()], '[MemoryPrekeyStore: redacted]');
});

test('sessions and ratchet states print only a redaction marker', async () => {
  const rng = seededRng('redaction/session');
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const spk = await SignedPrekeyPrivate.generate(crypto, rng, bob, 1);
  const kem = await KemPrekeyPrivate.generate(crypto, rng, bob, 2, true);
  const bundle = await verifyPrekeyBundle(crypto, { identityKey: bob.publicKey, signedPrekey: spk.public, kemPrekey: kem.public });
  const session = await initiateSession(crypto, rng, alice, bundle);
  // The encoded state holds the root key; any 32-byte window of it must not appear in the output.
  const encoded = encodeSession(session);
  const windows = [];
  for (let i = 0; i + 32 <= encoded.length; i += 16) windows.push(encoded.subarray(i, i + 32));
  assertRedacted('Session', session, windows, '[Session: redacted]');
  assertRedacted('Session (decoded)', decodeSession(encoded), windows, '[Session: redacted]');

  const sharedSecret = rng(32);
  const ratchetPrivate = rng(32);
  const ratchet = initRatchetAsResponder({
    sharedSecret,
    ownRatchetKeyPair: { privateKey: ratchetPrivate, publicKey: await crypto.x25519PublicKey(ratchetPrivate) },
    associatedData: rng(64),
  });
  assertRedacted('RatchetState', ratchet, [ratchet.rootKey, ratchetPrivate], '[RatchetState: redacted]');
});
