// Issue requirement: "both crypto providers produce identical transcripts from the same seeded
// randomness". One scripted conversation — prekeys, bundle, PQXDH, messages both ways with
// reordering, sealed envelopes, saved session states, safety numbers — runs once per provider with the
// same seeded Rng; every byte that would cross the wire or reach storage is recorded, and the records
// must be identical. A different seed must give a different transcript (so the test can fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '@sotto/test-support';
import {
  IdentityKeyPair,
  KemPrekeyPrivate,
  MemoryPrekeyStore,
  SignedPrekeyPrivate,
  acceptPrekeyMessage,
  createSenderCertificate,
  decodePrekeyBundle,
  encodePrekeyBundle,
  encodeSession,
  generateKemPrekeys,
  generateOneTimePrekeys,
  initiateSession,
  openEnvelope,
  sealEnvelope,
  sessionDecrypt,
  sessionEncrypt,
  sottoSafetyNumber,
  verifyPrekeyBundle,
  type CryptoProvider,
  type Session,
} from '@sotto/protocol';
import { hex, providers } from './providers.ts';

const NOW = 1_800_000_000_000;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function transcript(crypto: CryptoProvider, seed: string): Promise<string[]> {
  const rng = seededRng(seed);
  const out: string[] = [];
  const record = (label: string, b: Uint8Array): void => {
    out.push(`${label} ${hex(b)}`);
  };

  const alice = await IdentityKeyPair.generate(crypto, rng);
  const bob = await IdentityKeyPair.generate(crypto, rng);
  record('alice identity', alice.publicKey);
  record('bob identity', bob.publicKey);

  const store = new MemoryPrekeyStore();
  const spk = await SignedPrekeyPrivate.generate(crypto, rng, bob, 1);
  const otps = await generateOneTimePrekeys(crypto, rng, bob, 10, 2);
  const kems = await generateKemPrekeys(crypto, rng, bob, 20, 1);
  const lastResort = await KemPrekeyPrivate.generate(crypto, rng, bob, 99, true);
  store.addSignedPrekey(spk);
  store.addOneTimePrekeys(otps);
  store.addKemPrekeys([...kems, lastResort]);
  const otp = otps[0];
  const kem = kems[0];
  assert.ok(otp !== undefined && kem !== undefined);
  const bundleBytes = encodePrekeyBundle({ identityKey: bob.publicKey, signedPrekey: spk.public, oneTimePrekey: otp.public, kemPrekey: kem.public });
  record('bundle', bundleBytes);

  let a: Session = await initiateSession(crypto, rng, alice, await verifyPrekeyBundle(crypto, decodePrekeyBundle(bundleBytes)));
  const aliceCert = await createSenderCertificate(crypto, alice, { username: 'alice', deviceId: 1, expiresAt: NOW + 1000 });
  const bobCert = await createSenderCertificate(crypto, bob, { username: 'bob', deviceId: 1, expiresAt: NOW + 1000 });
  record('alice certificate signature', aliceCert.signature);

  // Alice's first (prekey) message, sealed.
  const m1 = await sessionEncrypt(crypto, rng, a, text('hello bob'));
  a = m1.session;
  const env1 = await sealEnvelope(crypto, rng, { sender: alice, certificate: aliceCert, recipient: bob.publicKey, contentType: m1.message.kind, content: m1.message.bytes });
  record('envelope 1', env1);
  const opened1 = await openEnvelope(crypto, bob, env1, NOW);
  const accepted = await acceptPrekeyMessage(crypto, rng, bob, store, opened1.content);
  let b: Session = accepted.session;
  assert.equal(new TextDecoder().decode(accepted.plaintext), 'hello bob');
  record('bob state after accept', encodeSession(b));

  // Ping-pong with a reordered burst in each direction.
  for (let round = 0; round < 3; round++) {
    const burst: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await sessionEncrypt(crypto, rng, b, text(`bob ${round}.${i}`));
      b = m.session;
      burst.push(m.message.bytes);
      record(`bob message ${round}.${i}`, m.message.bytes);
    }
    for (const i of [2, 0, 1]) {
      const msg = burst[i];
      assert.ok(msg !== undefined);
      const d = await sessionDecrypt(crypto, rng, a, msg);
      a = d.session;
    }
    const reply = await sessionEncrypt(crypto, rng, a, text(`alice ${round}`));
    a = reply.session;
    const env = await sealEnvelope(crypto, rng, { sender: alice, certificate: aliceCert, recipient: bob.publicKey, contentType: reply.message.kind, content: reply.message.bytes });
    record(`alice envelope ${round}`, env);
    const opened = await openEnvelope(crypto, bob, env, NOW);
    const d = await sessionDecrypt(crypto, rng, b, opened.content);
    b = d.session;
    record(`alice state ${round}`, encodeSession(a));
    record(`bob state ${round}`, encodeSession(b));
  }
  const back = await sealEnvelope(crypto, rng, { sender: bob, certificate: bobCert, recipient: alice.publicKey, contentType: 'ratchet', content: (await sessionEncrypt(crypto, rng, b, text('bye'))).message.bytes });
  record('bob envelope', back);

  const sn = sottoSafetyNumber(crypto, { username: 'alice', identityKey: alice.publicKey }, { username: 'bob', identityKey: a.remoteIdentityKey });
  out.push(`safety number ${sn.displayable}`);
  record('scannable', sn.scannable);
  return out;
}

test('every provider produces the identical transcript from the same seeded randomness', async () => {
  const [reference, ...others] = providers;
  assert.ok(reference !== undefined && others.length >= 2, 'noble, node and webcrypto providers');
  const expected = await transcript(reference, 'transcript-seed-1');
  assert.ok(expected.length > 20, `a substantial transcript (${expected.length} records)`);
  for (const p of others) {
    const got = await transcript(p, 'transcript-seed-1');
    assert.equal(got.length, expected.length, `${p.name}: number of records`);
    for (let i = 0; i < expected.length; i++) {
      assert.equal(got[i], expected[i], `${p.name}: record ${i} (${(expected[i] ?? '').split(' ')[0] ?? ''}…) differs from ${reference.name}`);
    }
  }
});

test('a different seed gives a different transcript (the comparison above can fail)', async () => {
  const p = providers[1];
  assert.ok(p !== undefined);
  const one = await transcript(p, 'transcript-seed-1');
  const two = await transcript(p, 'transcript-seed-2');
  const same = one.filter((r, i) => r === two[i] && !r.startsWith('safety') && !r.startsWith('scannable'));
  assert.deepEqual(same, [], 'no record should repeat across seeds');
});
