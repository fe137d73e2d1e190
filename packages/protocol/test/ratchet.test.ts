// Double Ratchet behaviour (spec rev 1 §3): round trips, lost and out-of-order messages, replays,
// bounds, tampering, forward secrecy, healing, deletion of used keys, redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { seededRng } from '@sotto/test-support';
import { fastProvider } from '@sotto/crypto';
import { limits, nobleProvider, type CryptoProvider, type ProtocolErrorCode, type Rng } from '@sotto/protocol';
import { makeRatchetState, ratchetDecrypt, ratchetEncrypt, initRatchetAsInitiator, initRatchetAsResponder, type RatchetState } from '../src/ratchet/double-ratchet.ts';
import { kdfCk, type ChainKey } from '../src/ratchet/chain-key.ts';
import { encodeRatchetState, decodeRatchetState } from '../src/wire/ratchet-state.ts';
import { RATCHET_HEADER_BYTES } from '../src/wire/ratchet-message.ts';
import { AEAD_TAG_BYTES } from '../src/crypto/provider.ts';
import { toHex, utf8, fromUtf8 } from '../src/internal/bytes.ts';
import { Redacted } from '../src/keys/redacted.ts';
import { fingerprint, rejectsWith, sessionPair } from './ratchet-harness.ts';

const crypto = fastProvider;

/** A two-party conversation with helpers that thread the states through. */
class Conversation {
  constructor(
    readonly crypto: CryptoProvider,
    readonly rng: Rng,
    public alice: RatchetState,
    public bob: RatchetState,
  ) {}

  static async start(label: string, c: CryptoProvider = crypto): Promise<Conversation> {
    const rng = seededRng(`ratchet.test/${label}`);
    const { alice, bob } = await sessionPair(c, rng);
    return new Conversation(c, rng, alice, bob);
  }

  async send(from: 'alice' | 'bob', text: string): Promise<Uint8Array> {
    const r = await ratchetEncrypt(this.crypto, this.rng, this[from], utf8(text));
    this[from] = r.state;
    return r.message;
  }

  async receive(to: 'alice' | 'bob', message: Uint8Array): Promise<string> {
    const r = await ratchetDecrypt(this.crypto, this.rng, this[to], message);
    this[to] = r.state;
    return fromUtf8(r.plaintext);
  }

  /** Delivers `message` expecting a typed rejection and an untouched state; returns the code. */
  async refuse(to: 'alice' | 'bob', message: Uint8Array, codes: readonly ProtocolErrorCode[], what: string): Promise<ProtocolErrorCode> {
    const state = this[to];
    const before = fingerprint(state);
    const code = await rejectsWith(() => ratchetDecrypt(this.crypto, this.rng, state, message), codes, what);
    assert.equal(fingerprint(state), before, `${what}: the input state changed on error`);
    return code;
  }

  async roundTrip(text: string): Promise<void> {
    assert.equal(await this.receive('bob', await this.send('alice', `${text}/a`)), `${text}/a`);
    assert.equal(await this.receive('alice', await this.send('bob', `${text}/b`)), `${text}/b`);
  }
}

for (const c of [nobleProvider, fastProvider]) {
  test(`round trips in both directions with DH ratchet steps [${c.name}]`, async () => {
    const s = await Conversation.start('basic', c);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) assert.equal(await s.receive('bob', await s.send('alice', `a${round}.${i}`)), `a${round}.${i}`);
      for (let i = 0; i < 2; i++) assert.equal(await s.receive('alice', await s.send('bob', `b${round}.${i}`)), `b${round}.${i}`);
    }
  });
}

test('message size is plaintext + 58 bytes (42-byte header, 16-byte tag)', async () => {
  const s = await Conversation.start('size');
  for (const n of [0, 1, 100, 1000]) {
    const r = await ratchetEncrypt(crypto, s.rng, s.alice, new Uint8Array(n));
    s.alice = r.state;
    assert.equal(r.message.length, n + RATCHET_HEADER_BYTES + AEAD_TAG_BYTES, `plaintext ${n}`);
    assert.equal(RATCHET_HEADER_BYTES + AEAD_TAG_BYTES, 58);
    assert.deepEqual(new Uint8Array((await ratchetDecrypt(crypto, s.rng, s.bob, r.message)).plaintext), new Uint8Array(n));
  }
});

test('a responder cannot send before it has received (spec §3.3)', async () => {
  const s = await Conversation.start('responder-first');
  await rejectsWith(() => ratchetEncrypt(crypto, s.rng, s.bob, utf8('too early')), ['ERR_ARGUMENT'], 'bob sends first');
});

test('init rejects malformed inputs with typed errors', async () => {
  const rng = seededRng('ratchet.test/init');
  const pub = await crypto.x25519PublicKey(rng(32));
  const ok = { sharedSecret: rng(32), peerRatchetPublicKey: pub, associatedData: rng(64) };
  await rejectsWith(() => initRatchetAsInitiator(crypto, rng, { ...ok, sharedSecret: rng(31) }), ['ERR_ARGUMENT'], 'short secret');
  await rejectsWith(() => initRatchetAsInitiator(crypto, rng, { ...ok, peerRatchetPublicKey: rng(33) }), ['ERR_KEY_INVALID'], 'long key');
  await rejectsWith(() => initRatchetAsInitiator(crypto, rng, { ...ok, peerRatchetPublicKey: new Uint8Array(32) }), ['ERR_KEY_INVALID'], 'small-order key');
  await rejectsWith(
    () => initRatchetAsInitiator(crypto, rng, { ...ok, associatedData: new Uint8Array(limits.MAX_RATCHET_AD_BYTES + 1) }),
    ['ERR_ARGUMENT'],
    'oversized AD',
  );
  assert.throws(
    () => initRatchetAsResponder({ sharedSecret: rng(32), ownRatchetKeyPair: { privateKey: rng(31), publicKey: pub }, associatedData: rng(1) }),
    (e: unknown) => e instanceof Error && 'code' in e && e.code === 'ERR_KEY_INVALID',
  );
});

test('out-of-order and lost messages within a chain decrypt; each exactly once', async () => {
  const s = await Conversation.start('reorder');
  const msgs: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) msgs.push(await s.send('alice', `m${i}`));
  for (const i of [9, 3, 0, 5, 1]) assert.equal(await s.receive('bob', msgs[i] ?? new Uint8Array()), `m${i}`);
  for (const i of [9, 3, 0]) await s.refuse('bob', msgs[i] ?? new Uint8Array(), ['ERR_DUPLICATE_MESSAGE'], `replay of m${i}`);
  // m2, m4, m6..m8 are "lost" for now; the session goes on and they still decrypt later.
  await s.roundTrip('after-loss');
  for (const i of [8, 2, 7, 4, 6]) assert.equal(await s.receive('bob', msgs[i] ?? new Uint8Array()), `m${i}`);
  for (let i = 0; i < 10; i++) await s.refuse('bob', msgs[i] ?? new Uint8Array(), ['ERR_DUPLICATE_MESSAGE'], `replay of m${i}`);
  await s.roundTrip('still-working');
});

test('late messages from older ratchet steps decrypt while their chain is kept (MAX_RECEIVER_CHAINS)', async () => {
  const s = await Conversation.start('old-chains');
  const held: Uint8Array[] = [];
  // Alice's first chain: one delivered, one held back. Each round trip gives Alice a new chain.
  for (let step = 0; step < limits.MAX_RECEIVER_CHAINS + 1; step++) {
    assert.equal(await s.receive('bob', await s.send('alice', `chain${step} first`)), `chain${step} first`);
    held.push(await s.send('alice', `chain${step} late`));
    assert.equal(await s.receive('alice', await s.send('bob', `reply${step}`)), `reply${step}`);
  }
  // Bob has now seen MAX_RECEIVER_CHAINS + 1 chains of Alice; only the newest MAX_RECEIVER_CHAINS are kept.
  const [oldest, ...kept] = held;
  assert.ok(oldest !== undefined);
  await s.refuse('bob', oldest, ['ERR_DECRYPT_FAILED'], 'message of a dropped chain');
  for (const [i, m] of kept.entries()) assert.equal(await s.receive('bob', m), `chain${i + 1} late`);
  await s.roundTrip('after-late');
});

test('a late message whose key was skipped decrypts even after its chain is dropped', async () => {
  const s = await Conversation.start('skipped-outlives-chain');
  const early = await s.send('alice', 'skipped one');
  assert.equal(await s.receive('bob', await s.send('alice', 'delivered')), 'delivered'); // stores the key of `early`
  for (let i = 0; i < limits.MAX_RECEIVER_CHAINS + 2; i++) await s.roundTrip(`r${i}`);
  assert.equal(await s.receive('bob', early), 'skipped one');
});

test('a counter jump beyond MAX_SKIP gives ERR_TOO_MANY_SKIPPED, exactly MAX_SKIP is accepted', async () => {
  const s = await Conversation.start('max-skip');
  await s.roundTrip('setup');
  const msgs: Uint8Array[] = [];
  for (let i = 0; i <= limits.MAX_SKIP + 1; i++) msgs.push(await s.send('alice', `m${i}`));
  const first = msgs[0];
  const tooFar = msgs[limits.MAX_SKIP + 1];
  const justFar = msgs[limits.MAX_SKIP];
  assert.ok(first !== undefined && tooFar !== undefined && justFar !== undefined);
  // A new chain (DH ratchet path): message MAX_SKIP + 1 needs MAX_SKIP + 1 skipped keys.
  await s.refuse('bob', tooFar, ['ERR_TOO_MANY_SKIPPED'], 'new chain, n = MAX_SKIP + 1');
  // Message MAX_SKIP needs exactly MAX_SKIP skipped keys.
  assert.equal(await s.receive('bob', justFar), `m${limits.MAX_SKIP}`);
  assert.equal(await s.receive('bob', first), 'm0');
  assert.equal(await s.receive('bob', tooFar), `m${limits.MAX_SKIP + 1}`);

  // An existing chain: a jump of MAX_SKIP + 1 from the next expected number.
  const more: Uint8Array[] = [];
  for (let i = 0; i <= limits.MAX_SKIP + 1; i++) more.push(await s.send('alice', `n${i}`));
  const far = more[limits.MAX_SKIP + 1];
  assert.ok(far !== undefined);
  await s.refuse('bob', far, ['ERR_TOO_MANY_SKIPPED'], 'existing chain, jump MAX_SKIP + 1');
  // Alice's chain is now out of reach for Bob (more than MAX_SKIP of its messages never arrived);
  // Bob's next message makes Alice ratchet to a new chain, and the session goes on.
  assert.equal(await s.receive('alice', await s.send('bob', 'ratchet please')), 'ratchet please');
  await s.roundTrip('after-refusals');
});

test('a sending chain stops at MAX_COUNTER (ERR_COUNTER_EXHAUSTED); a received number ≥ MAX_COUNTER is refused', async () => {
  const s = await Conversation.start('counter');
  const sending = s.alice.sending;
  assert.ok(sending !== null);
  const nearEnd = makeRatchetState({ ...s.alice, sending: { chainKey: sending.chainKey, index: limits.MAX_COUNTER - 1 } });
  const last = await ratchetEncrypt(crypto, s.rng, nearEnd, utf8('last'));
  assert.equal(last.state.sending?.index, limits.MAX_COUNTER);
  const before = fingerprint(last.state);
  await rejectsWith(() => ratchetEncrypt(crypto, s.rng, last.state, utf8('one too many')), ['ERR_COUNTER_EXHAUSTED'], 'past MAX_COUNTER');
  assert.equal(fingerprint(last.state), before);
  const forged = last.message.slice();
  forged.set([0xff, 0xff, 0xff, 0xff], 38);
  await s.refuse('bob', forged, ['ERR_DECRYPT_FAILED'], 'n = MAX_COUNTER');
  await s.refuse('bob', last.message, ['ERR_TOO_MANY_SKIPPED'], 'n = MAX_COUNTER - 1 on a fresh chain');
});

test('skipped keys are bounded by MAX_SKIPPED_KEYS, oldest dropped first', async () => {
  const s = await Conversation.start('skipped-bound');
  const firstChain: Uint8Array[] = [];
  const n1 = 1500;
  for (let i = 0; i < n1; i++) firstChain.push(await s.send('alice', `x${i}`));
  assert.equal(await s.receive('bob', firstChain[n1 - 1] ?? new Uint8Array()), `x${n1 - 1}`); // skips n1 - 1 keys
  await s.roundTrip('step');
  const secondChain: Uint8Array[] = [];
  const n2 = 1000;
  for (let i = 0; i < n2; i++) secondChain.push(await s.send('alice', `y${i}`));
  assert.equal(await s.receive('bob', secondChain[n2 - 1] ?? new Uint8Array()), `y${n2 - 1}`); // skips n2 - 1 more
  assert.equal(s.bob.skipped.length, limits.MAX_SKIPPED_KEYS);
  const dropped = n1 - 1 + (n2 - 1) - limits.MAX_SKIPPED_KEYS; // oldest keys of the first chain
  await s.refuse('bob', firstChain[0] ?? new Uint8Array(), ['ERR_DUPLICATE_MESSAGE'], 'key dropped from the store');
  await s.refuse('bob', firstChain[dropped - 1] ?? new Uint8Array(), ['ERR_DUPLICATE_MESSAGE'], 'last dropped key');
  assert.equal(await s.receive('bob', firstChain[dropped] ?? new Uint8Array()), `x${dropped}`);
  assert.equal(await s.receive('bob', secondChain[0] ?? new Uint8Array()), 'y0');
});

test('tampered, forged and foreign messages are rejected and the session keeps working', async () => {
  const s = await Conversation.start('tamper');
  await s.roundTrip('warm-up');
  const m = await s.send('alice', 'genuine');
  const flipped = m.slice();
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
  await s.refuse('bob', flipped, ['ERR_DECRYPT_FAILED'], 'flipped tag');
  const ct = m.slice();
  ct[RATCHET_HEADER_BYTES] = (ct[RATCHET_HEADER_BYTES] ?? 0) ^ 0x80;
  await s.refuse('bob', ct, ['ERR_DECRYPT_FAILED'], 'flipped ciphertext');
  const pn = m.slice();
  pn[RATCHET_HEADER_BYTES - 5] = (pn[RATCHET_HEADER_BYTES - 5] ?? 0) ^ 1;
  await s.refuse('bob', pn, ['ERR_DECRYPT_FAILED'], 'flipped PN (authenticated as associated data)');
  const other = await Conversation.start('tamper-other-session');
  await other.roundTrip('x');
  await s.refuse('bob', await other.send('alice', 'foreign'), ['ERR_DECRYPT_FAILED'], 'message of another session');
  // A forged header with a small-order ratchet key (u = 0) fails closed as a decryption failure.
  const small = m.slice();
  small.fill(0, 2, 34);
  await s.refuse('bob', small, ['ERR_DECRYPT_FAILED'], 'small-order ratchet key');
  assert.equal(await s.receive('bob', m), 'genuine');
  await s.roundTrip('after');
});

test('a message numbered at or beyond its chain\'s final length (pn) is refused even though it authenticates', async () => {
  const s = await Conversation.start('beyond-end');
  assert.equal(await s.receive('bob', await s.send('alice', 'm0')), 'm0');
  const forked = s.alice; // e.g. a device restored from an old backup
  assert.equal(await s.receive('alice', await s.send('bob', 'r')), 'r');
  assert.equal(await s.receive('bob', await s.send('alice', 'new chain, pn = 1')), 'new chain, pn = 1');
  // The old chain's message number 1 has a valid key and tag, but the peer said that chain ended at 1:
  // spec §3.5 stores keys only up to pn, so nothing can open it.
  const late = await ratchetEncrypt(crypto, s.rng, forked, utf8('beyond the end'));
  await s.refuse('bob', late.message, ['ERR_DECRYPT_FAILED'], 'message beyond the announced final length');
  await s.roundTrip('after');
});

test('a forked peer whose old chain ran past the pn it announces does not break the session', async () => {
  const s = await Conversation.start('pn-below');
  assert.equal(await s.receive('bob', await s.send('alice', 'm0')), 'm0');
  const forked = s.alice;
  assert.equal(await s.receive('alice', await s.send('bob', 'r')), 'r');
  const onNewChain = await s.send('alice', 'pn = 1'); // held back
  // The forked state sends message 1 on the old chain, and Bob reads it first: he has read 2 > pn.
  const extra = await ratchetEncrypt(crypto, s.rng, forked, utf8('from the fork'));
  assert.equal(await s.receive('bob', extra.message), 'from the fork');
  // Spec §3.5 SkipMessageKeys(state, pn) then skips nothing; the new chain is accepted.
  assert.equal(await s.receive('bob', onNewChain), 'pn = 1');
  assert.equal(decodeRatchetState(encodeRatchetState(s.bob)).receiving[1]?.end, 2, 'final length is max(pn, read)');
  await s.roundTrip('after');
});

test('malformed bytes give the wire error codes', async () => {
  const s = await Conversation.start('malformed');
  const m = await s.send('alice', 'x');
  const cases: [string, Uint8Array, ProtocolErrorCode][] = [
    ['empty', new Uint8Array(0), 'ERR_WIRE_TRUNCATED'],
    ['version 2', Uint8Array.from([2, ...m.subarray(1)]), 'ERR_WIRE_UNKNOWN_VERSION'],
    ['type of a prekey message', Uint8Array.from([1, 2, ...m.subarray(2)]), 'ERR_WIRE_UNKNOWN_TYPE'],
    ['header cut short', m.subarray(0, 20), 'ERR_WIRE_TRUNCATED'],
    ['no full tag', m.subarray(0, RATCHET_HEADER_BYTES + 15), 'ERR_WIRE_TRUNCATED'],
    ['top bit of the ratchet key set', Uint8Array.from(m, (b, i) => (i === 33 ? b | 0x80 : b)), 'ERR_WIRE_NON_CANONICAL'],
  ];
  for (const [what, bytes, code] of cases) {
    await s.refuse('bob', bytes, [code], what);
  }
  assert.equal(await s.receive('bob', m), 'x');
});

test('message keys are deleted after use: no used key is in the persisted state', async () => {
  const s = await Conversation.start('deletion');
  await s.roundTrip('setup');
  const sending = s.alice.sending;
  assert.ok(sending !== null);
  // Every message key of Alice's current chain, derived independently from her chain key.
  const keys: string[] = [];
  let ck: ChainKey = sending.chainKey;
  for (let i = 0; i < 6; i++) {
    const step = kdfCk(crypto, ck);
    keys.push(toHex(step.messageKey));
    ck = step.chainKey;
  }
  const msgs: Uint8Array[] = [];
  for (let i = 0; i < 6; i++) msgs.push(await s.send('alice', `k${i}`));
  // Deliver 4 (skipping 0..3), then 1 and 3 from the skipped store; 0, 2, 4 stay skipped; 5 is never sent.
  for (const i of [4, 1, 3]) await s.receive('bob', msgs[i] ?? new Uint8Array());
  const persisted = fingerprint(s.bob);
  for (const i of [1, 3, 4]) assert.ok(!persisted.includes(keys[i] ?? '-'), `used message key ${i} is still stored`);
  for (const i of [0, 2]) assert.ok(persisted.includes(keys[i] ?? '-'), `skipped message key ${i} should be stored until used`);
  assert.ok(!persisted.includes(keys[5] ?? '-'), 'a key beyond the last received message is never stored');
  assert.ok(!fingerprint(s.alice).includes(keys[0] ?? '-'), 'the sender keeps no message key');
});

test('forward secrecy: a state captured after message N cannot decrypt messages up to N', async () => {
  const s = await Conversation.start('forward-secrecy');
  const before: Uint8Array[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 3; i++) {
      const m = await s.send('alice', `p${round}.${i}`);
      before.push(m);
      await s.receive('bob', m);
    }
    await s.receive('alice', await s.send('bob', `r${round}`));
  }
  // The attacker takes everything Bob stores (the persisted state) after message N.
  const stolen = decodeRatchetState(encodeRatchetState(s.bob));
  for (const [i, m] of before.entries()) {
    await rejectsWith(() => ratchetDecrypt(crypto, s.rng, stolen, m), ['ERR_DUPLICATE_MESSAGE', 'ERR_DECRYPT_FAILED'], `old message ${i}`);
  }
  // Sanity: the stolen state is a working copy, so the refusals above are not an artefact.
  const next = await s.send('alice', 'after capture');
  assert.equal(fromUtf8((await ratchetDecrypt(crypto, s.rng, stolen, next)).plaintext), 'after capture');
});

test('healing: after a full compromise of Bob, secrecy returns after one round trip', async () => {
  const s = await Conversation.start('healing');
  await s.roundTrip('before');
  // Eve copies Bob's entire state (every key he holds) and sees all traffic from now on.
  let eve = decodeRatchetState(encodeRatchetState(s.bob));
  const eveRng = seededRng('ratchet.test/healing/eve');
  // Until the next DH ratchet round trip, Alice's messages are readable with the stolen state.
  const exposed = await s.send('alice', 'exposed');
  const r = await ratchetDecrypt(crypto, eveRng, eve, exposed);
  eve = r.state;
  assert.equal(fromUtf8(r.plaintext), 'exposed', 'the compromise is real: Eve reads the next message');
  assert.equal(await s.receive('bob', exposed), 'exposed');
  // Bob answers with a fresh ratchet key Eve does not know; Alice ratchets on receipt.
  assert.equal(await s.receive('alice', await s.send('bob', 'reply with a new ratchet key')), 'reply with a new ratchet key');
  // Everything Alice sends now is keyed by DH(new Alice key, new Bob key): Eve is locked out.
  for (let i = 0; i < 3; i++) {
    const m = await s.send('alice', `healed ${i}`);
    await rejectsWith(() => ratchetDecrypt(crypto, eveRng, eve, m), ['ERR_DECRYPT_FAILED'], `healed message ${i}`);
    assert.equal(await s.receive('bob', m), `healed ${i}`);
  }
  await s.roundTrip('after');
  const later = await s.send('alice', 'later');
  await rejectsWith(() => ratchetDecrypt(crypto, eveRng, eve, later), ['ERR_DECRYPT_FAILED'], 'later message');
});

test('the state persists and resumes: decode(encode(state)) continues the session identically', async () => {
  const s = await Conversation.start('persist');
  for (let round = 0; round < 3; round++) {
    const held = await s.send('alice', `held${round}`);
    await s.roundTrip(`r${round}`);
    s.alice = decodeRatchetState(encodeRatchetState(s.alice));
    s.bob = decodeRatchetState(encodeRatchetState(s.bob));
    assert.equal(await s.receive('bob', held), `held${round}`);
  }
  await s.roundTrip('end');
});

test('states never print their secrets', async () => {
  const s = await Conversation.start('redaction');
  await s.roundTrip('x');
  const state = s.bob;
  assert.ok(state instanceof Redacted, 'states from the transitions are Redacted');
  const secrets = [state.rootKey, state.selfRatchetKey.privateKey, state.sending?.chainKey ?? new Uint8Array(1)].map(toHex);
  for (const shown of [String(state), JSON.stringify(state), inspect(state, { depth: 10 }), inspect({ nested: state })]) {
    assert.equal(shown.includes('redacted'), true, `expected the redacted marker in ${shown.slice(0, 40)}`);
    assert.ok(!shown.includes('Uint8Array') && !/\d+, \d+, \d+/.test(shown), `bytes were printed: ${shown.slice(0, 80)}`);
    for (const sec of secrets) assert.ok(!shown.includes(sec), 'a secret was printed');
  }
  assert.equal(String(state), '[RatchetState: redacted]');
  assert.ok(decodeRatchetState(encodeRatchetState(state)) instanceof Redacted, 'decoded states are Redacted too');
});
