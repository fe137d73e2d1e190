// Property tests of the Double Ratchet and its codecs (STYLE.md §12). Every shrunk counterexample is
// saved in test/corpus/ and replayed first on every run (ratchet-harness.ts checkWithCorpus).
//
// The schedule property is model-based: a small independent model predicts, for every delivery,
// whether the message must decrypt (and to what) or which typed error it must get, from what the
// receiver has seen so far and the bounds in limits.ts (the runs stay below MAX_SKIP and
// MAX_SKIPPED_KEYS, so MAX_RECEIVER_CHAINS is the bound they exercise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seededRng } from '@sotto/test-support';
import { fastProvider as crypto } from '@sotto/crypto';
import { isProtocolError, limits, type ProtocolErrorCode } from '@sotto/protocol';
import { makeRatchetState, ratchetDecrypt, ratchetEncrypt, type RatchetState } from '../src/ratchet/double-ratchet.ts';
import type { ChainKey, MessageKey } from '../src/ratchet/chain-key.ts';
import type { RootKey } from '../src/ratchet/root-chain.ts';
import type { SkippedMessageKey } from '../src/ratchet/skipped-keys.ts';
import { decodeRatchetState, encodeRatchetState } from '../src/wire/ratchet-state.ts';
import { RATCHET_HEADER_BYTES, decodeRatchetMessage, encodeRatchetMessage, isCanonicalX25519 } from '../src/wire/ratchet-message.ts';
import { fromUtf8, toHex, utf8 } from '../src/internal/bytes.ts';
import { checkWithCorpus, corpusEntries, fingerprint, rejectsWith, sessionPair } from './ratchet-harness.ts';

const ANY_REJECTION: readonly ProtocolErrorCode[] = [
  'ERR_WIRE_TRUNCATED',
  'ERR_WIRE_TRAILING_BYTES',
  'ERR_WIRE_UNKNOWN_VERSION',
  'ERR_WIRE_UNKNOWN_TYPE',
  'ERR_WIRE_BAD_LENGTH',
  'ERR_WIRE_NON_CANONICAL',
  'ERR_WIRE_TOO_LARGE',
  'ERR_DECRYPT_FAILED',
  'ERR_DUPLICATE_MESSAGE',
  'ERR_TOO_MANY_SKIPPED',
];

function typedOrCanonical(run: () => Uint8Array, input: Uint8Array, what: string): void {
  let reencoded: Uint8Array;
  try {
    reencoded = run();
  } catch (e) {
    assert.ok(isProtocolError(e), `${what}: expected a ProtocolError, got ${String(e)}`);
    return;
  }
  assert.equal(toHex(reencoded), toHex(input), `${what}: accepted input is not canonical`);
}

// ---------------------------------------------------------------------------------------- codecs

const canonicalKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter(isCanonicalX25519);
const u32 = fc.nat({ max: 0xffffffff });

test('property: ratchet message decode(encode(m)) = m', async () => {
  await checkWithCorpus(
    'ratchet-message-roundtrip',
    fc.record({ ratchetKey: canonicalKey, previousCounter: u32, counter: u32, ciphertext: fc.uint8Array({ minLength: 16, maxLength: 300 }) }),
    (m) => {
      const d = decodeRatchetMessage(encodeRatchetMessage(m));
      assert.deepEqual({ ...d, ciphertext: toHex(d.ciphertext) }, { ...m, ciphertext: toHex(m.ciphertext) });
      return Promise.resolve();
    },
    { numRuns: 500 },
  );
});

test('property: random bytes are a typed error or a canonical ratchet message', async () => {
  const structured = fc
    .tuple(fc.constantFrom(0, 1, 2), fc.constantFrom(2, 3, 4), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }))
    .map(([v, t, k, rest]) => Uint8Array.from([v, t, ...k, ...rest]));
  await checkWithCorpus(
    'ratchet-message-random-bytes',
    fc.oneof(fc.uint8Array({ maxLength: 120 }), structured),
    (bytes) => {
      typedOrCanonical(() => encodeRatchetMessage(decodeRatchetMessage(bytes)), bytes, 'decodeRatchetMessage');
      return Promise.resolve();
    },
    { numRuns: 2000 },
  );
});

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** Arbitrary states inside the invariants of wire/ratchet-state.ts (not only reachable ones). */
const stateArb: fc.Arbitrary<RatchetState> = fc
  .record({
    ad: fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.constant(new Uint8Array(limits.MAX_RATCHET_AD_BYTES))),
    rootKey: bytes32,
    privateKey: bytes32,
    publicKey: canonicalKey,
    sending: fc.option(fc.record({ chainKey: bytes32, index: u32 }), { nil: null }),
    pn: u32,
    chains: fc.uniqueArray(fc.record({ ratchetKey: canonicalKey, chainKey: bytes32, index: u32, extra: u32 }), {
      maxLength: limits.MAX_RECEIVER_CHAINS,
      selector: (c) => toHex(c.ratchetKey),
    }),
    skipped: fc.array(fc.record({ which: fc.nat(), other: canonicalKey, index: u32, messageKey: bytes32, onChain: fc.boolean() }), { maxLength: 30 }),
  })
  .map(({ ad, rootKey, privateKey, publicKey, sending, pn, chains, skipped }) => {
    const receiving = sending === null ? [] : chains.map((c, i) => ({ ratchetKey: c.ratchetKey, chainKey: c.chainKey as ChainKey, index: c.index, end: i === 0 ? null : Math.min(0xffffffff, c.index + c.extra) }));
    const next = new Map(receiving.map((c) => [toHex(c.ratchetKey), c.index]));
    const seen = new Set<string>();
    const keys: SkippedMessageKey[] = [];
    for (const k of sending === null ? [] : skipped) {
      const ratchetKey = k.onChain && receiving.length > 0 ? (receiving[k.which % receiving.length]?.ratchetKey ?? k.other) : k.other;
      const limit = next.get(toHex(ratchetKey));
      if (limit === 0) continue;
      const index = limit === undefined ? k.index : k.index % limit;
      const id = `${toHex(ratchetKey)}:${index}`;
      if (seen.has(id)) continue;
      seen.add(id);
      keys.push({ ratchetKey, index, messageKey: k.messageKey as MessageKey });
    }
    return makeRatchetState({
      associatedData: ad,
      rootKey: rootKey as RootKey,
      selfRatchetKey: { privateKey, publicKey },
      sending: sending === null ? null : { chainKey: sending.chainKey as ChainKey, index: sending.index },
      previousCounter: sending === null ? 0 : pn,
      receiving,
      skipped: keys,
    });
  });

test('property: arbitrary ratchet states round-trip through the state codec', async () => {
  await checkWithCorpus(
    'ratchet-state-roundtrip',
    stateArb,
    (st) => {
      const bytes = encodeRatchetState(st);
      const back = decodeRatchetState(bytes);
      assert.equal(toHex(encodeRatchetState(back)), toHex(bytes));
      assert.deepEqual({ ...back, skipped: [...back.skipped] }, { ...st, skipped: [...st.skipped] });
      return Promise.resolve();
    },
    { numRuns: 300 },
  );
});

/** A few reachable states with chains and skipped keys, built once (model schedule below). */
async function sampleStates(): Promise<RatchetState[]> {
  const rng = seededRng('ratchet-properties/sample-states');
  let { alice, bob } = await sessionPair(crypto, rng);
  const out: RatchetState[] = [alice, bob];
  for (let round = 0; round < 3; round++) {
    const ms: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      const e = await ratchetEncrypt(crypto, rng, alice, utf8(`${round}.${i}`));
      alice = e.state;
      ms.push(e.message);
    }
    for (const i of [3, 1]) bob = (await ratchetDecrypt(crypto, rng, bob, ms[i] ?? new Uint8Array())).state;
    const e = await ratchetEncrypt(crypto, rng, bob, utf8('r'));
    bob = e.state;
    alice = (await ratchetDecrypt(crypto, rng, alice, e.message)).state;
    out.push(alice, bob);
  }
  return out;
}

test('property: ratchet state decode(encode(s)) = s, and mutated or random bytes are typed errors or canonical', async () => {
  const states = await sampleStates();
  const encoded = states.map((s) => encodeRatchetState(s));
  for (const [i, s] of states.entries()) assert.equal(fingerprint(decodeRatchetState(encodeRatchetState(s))), fingerprint(s), `sample ${i}`);
  const mutated = fc
    .tuple(fc.nat({ max: encoded.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean())
    .map(([which, at, value, cut]) => {
      const base = encoded[which] ?? new Uint8Array();
      const b = base.slice();
      const pos = at % b.length;
      b[pos] = value;
      return cut ? b.subarray(0, pos + 1) : b;
    });
  await checkWithCorpus(
    'ratchet-state-random-bytes',
    fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated),
    (bytes) => {
      typedOrCanonical(() => encodeRatchetState(decodeRatchetState(bytes)), bytes, 'decodeRatchetState');
      return Promise.resolve();
    },
    { numRuns: 3000 },
  );
});

// ------------------------------------------------------------------------- decrypting garbage

test('property: any bytes given to ratchetDecrypt are a typed rejection and leave the state unchanged', async () => {
  const states = await sampleStates();
  const bob = states[states.length - 1];
  assert.ok(bob !== undefined);
  const before = fingerprint(bob);
  const rng = seededRng('ratchet-properties/garbage');
  const shaped = fc
    .record({
      key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      pn: fc.oneof(fc.nat({ max: 8 }), u32),
      n: fc.oneof(fc.nat({ max: 8 }), fc.nat({ max: 2 * limits.MAX_SKIP }), u32),
      body: fc.uint8Array({ maxLength: 64 }),
      reuseKey: fc.nat({ max: 6 }),
    })
    .map(({ key, pn, n, body, reuseKey }) => {
      // Often reuse a ratchet key the receiver knows, so the known-chain paths are reached too.
      const known = bob.receiving[reuseKey]?.ratchetKey ?? key;
      const header = new Uint8Array(RATCHET_HEADER_BYTES);
      header.set([1, 3]);
      header.set(known, 2);
      new DataView(header.buffer).setUint32(34, pn);
      new DataView(header.buffer).setUint32(38, n);
      return Uint8Array.from([...header, ...body]);
    });
  await checkWithCorpus(
    'ratchet-decrypt-garbage',
    fc.oneof(fc.uint8Array({ maxLength: 120 }), shaped),
    async (bytes) => {
      await rejectsWith(() => ratchetDecrypt(crypto, rng, bob, bytes), ANY_REJECTION, 'garbage');
      assert.equal(fingerprint(bob), before, 'state changed');
    },
    { numRuns: 1500 },
  );
});

// ----------------------------------------------------------------------------------- bit flips

type Path = 'current' | 'skip-ahead' | 'skipped' | 'new-chain';
const PATHS: readonly Path[] = ['current', 'skip-ahead', 'skipped', 'new-chain'];

/** Bob's state and, for each decryption path, a way to make a genuine message for it. */
async function bitFlipScenario(): Promise<{ bob: RatchetState; make: (path: Path, plaintext: Uint8Array) => Promise<Uint8Array> }> {
  const rng = seededRng('ratchet-properties/bit-flip');
  let { alice, bob } = await sessionPair(crypto, rng);
  const send = async (text: string): Promise<Uint8Array> => {
    const e = await ratchetEncrypt(crypto, rng, alice, utf8(text));
    alice = e.state;
    return e.message;
  };
  bob = (await ratchetDecrypt(crypto, rng, bob, await send('a0'))).state;
  const beforeHeld = alice; // sends message number 1: its key ends up in Bob's skipped store
  await send('a1 (held)');
  bob = (await ratchetDecrypt(crypto, rng, bob, await send('a2'))).state;
  const onCurrent = alice; // Alice's chain as Bob knows it, next number 3
  const reply = await ratchetEncrypt(crypto, rng, bob, utf8('b'));
  bob = reply.state;
  const onNewChain = (await ratchetDecrypt(crypto, rng, alice, reply.message)).state; // Alice ratchets; Bob has not seen her new key
  const encryptFrom = async (s: RatchetState, pt: Uint8Array, skip: number): Promise<Uint8Array> => {
    let st = s;
    for (let i = 0; i < skip; i++) st = (await ratchetEncrypt(crypto, rng, st, pt)).state;
    return (await ratchetEncrypt(crypto, rng, st, pt)).message;
  };
  return {
    bob,
    make: (path, pt) => {
      switch (path) {
        case 'current':
          return encryptFrom(onCurrent, pt, 0);
        case 'skip-ahead':
          return encryptFrom(onCurrent, pt, 2);
        case 'skipped':
          return encryptFrom(beforeHeld, pt, 0);
        case 'new-chain':
          return encryptFrom(onNewChain, pt, 0);
      }
    },
  };
}

/** The codes a flip in each region may give; a flip in the AEAD output must be exactly ERR_DECRYPT_FAILED. */
function codesForByte(index: number): readonly ProtocolErrorCode[] {
  if (index === 0) return ['ERR_WIRE_UNKNOWN_VERSION'];
  if (index === 1) return ['ERR_WIRE_UNKNOWN_TYPE'];
  if (index < 34) return ['ERR_DECRYPT_FAILED', 'ERR_WIRE_NON_CANONICAL']; // ratchet key
  if (index < 38) return ['ERR_DECRYPT_FAILED']; // PN: authenticated as associated data
  if (index < RATCHET_HEADER_BYTES) return ['ERR_DECRYPT_FAILED', 'ERR_DUPLICATE_MESSAGE', 'ERR_TOO_MANY_SKIPPED']; // N
  return ['ERR_DECRYPT_FAILED'];
}

async function checkFlip(bob: RatchetState, message: Uint8Array, bit: number, what: string): Promise<void> {
  const before = fingerprint(bob);
  const flipped = message.slice();
  const byte = bit >>> 3;
  flipped[byte] = (flipped[byte] ?? 0) ^ (1 << (bit & 7));
  await rejectsWith(() => ratchetDecrypt(crypto, seededRng('flip'), bob, flipped), codesForByte(byte), `${what}, bit ${bit}`);
  assert.equal(fingerprint(bob), before, `${what}, bit ${bit}: state changed`);
}

test('every single-bit flip of a message is rejected, on every decryption path, and the genuine one still decrypts', async () => {
  const { bob, make } = await bitFlipScenario();
  const plaintext = utf8('flip me');
  for (const path of PATHS) {
    const message = await make(path, plaintext);
    for (let bit = 0; bit < message.length * 8; bit++) await checkFlip(bob, message, bit, path);
    assert.equal(fromUtf8((await ratchetDecrypt(crypto, seededRng('genuine'), bob, message)).plaintext), 'flip me', `${path}: genuine message`);
  }
});

test('property: a bit flip anywhere in a message of any length is rejected with the state unchanged', async () => {
  const { bob, make } = await bitFlipScenario();
  await checkWithCorpus(
    'ratchet-bit-flip',
    fc.record({ path: fc.constantFrom(...PATHS), plaintext: fc.uint8Array({ maxLength: 200 }), bit: fc.nat() }),
    async ({ path, plaintext, bit }) => {
      const message = await make(path, plaintext);
      await checkFlip(bob, message, bit % (message.length * 8), path);
      const back = await ratchetDecrypt(crypto, seededRng('genuine'), bob, message);
      assert.equal(toHex(back.plaintext), toHex(plaintext), `${path}: the genuine message no longer decrypts`);
    },
    { numRuns: 400 },
  );
});

// ---------------------------------------------------------------- drop / reorder / duplicate

type Party = 0 | 1; // 0 = Alice (initiator), 1 = Bob (responder)
type Op =
  | { t: 'send'; from: Party; len: number }
  | { t: 'deliver'; to: Party; pick: number; newest: boolean }
  | { t: 'dup'; to: Party; pick: number }
  | { t: 'drop'; to: Party; pick: number }
  | { t: 'stash'; to: Party; pick: number }
  | { t: 'release'; to: Party }
  | { t: 'tamper'; to: Party; pick: number; bit: number }
  | { t: 'garbage'; to: Party; bytes: Uint8Array }
  | { t: 'persist'; who: Party };

const party = fc.constantFrom<Party>(0, 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('send' as const), from: party, len: fc.nat({ max: 40 }) }) },
  // `newest` delivers the latest message, so ratchet steps run ahead while older messages wait.
  { weight: 6, arbitrary: fc.record({ t: fc.constant('deliver' as const), to: party, pick: fc.nat(), newest: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('dup' as const), to: party, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), to: party, pick: fc.nat() }) },
  // A stashed message is held back from `deliver` until a `release`: long delays across ratchet steps.
  { weight: 1, arbitrary: fc.record({ t: fc.constant('stash' as const), to: party, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), to: party }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tamper' as const), to: party, pick: fc.nat(), bit: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('garbage' as const), to: party, bytes: fc.uint8Array({ maxLength: 70 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('persist' as const), who: party }) },
);

interface Sent {
  readonly to: Party;
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly chain: string;
  readonly n: number;
  delivered: boolean;
}

/** What one receiver has seen, in the model: chains in the order they first decrypted, and per chain
 *  the highest message number decrypted. */
interface Seen {
  chains: string[];
  high: Map<string, number>;
}

let messagesExercised = 0;
/** How often each model outcome occurred, so a run that never reaches a branch is noticed. */
const outcomes = new Map<string, number>();
const count = (k: string): void => {
  outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
};

async function runSchedule(ops: readonly Op[]): Promise<void> {
  const rng = seededRng('ratchet-properties/schedule');
  const pair = await sessionPair(crypto, rng);
  const states: [RatchetState, RatchetState] = [pair.alice, pair.bob];
  const seen: [Seen, Seen] = [
    { chains: [], high: new Map() },
    { chains: [], high: new Map() },
  ];
  const pending: [Sent[], Sent[]] = [[], []];
  const delivered: [Sent[], Sent[]] = [[], []];
  const stashed: [Sent[], Sent[]] = [[], []];
  const lastSend: [{ chain: string; n: number; seenChains: number } | null, { chain: string; n: number; seenChains: number } | null] = [null, null];
  let id = 0;

  const retained = (r: Party, chain: string): boolean => seen[r].chains.slice(-limits.MAX_RECEIVER_CHAINS).includes(chain);

  const send = async (from: Party, len: number): Promise<void> => {
    const to: Party = from === 0 ? 1 : 0;
    const text = `${from === 0 ? 'A' : 'B'}#${id++}:${'x'.repeat(len)}`;
    const state = states[from];
    if (from === 1 && seen[1].chains.length === 0) {
      await rejectsWith(() => ratchetEncrypt(crypto, rng, state, utf8(text)), ['ERR_ARGUMENT'], 'responder sends before receiving');
      return;
    }
    const e = await ratchetEncrypt(crypto, rng, state, utf8(text));
    states[from] = e.state;
    const m = decodeRatchetMessage(e.message);
    const chain = toHex(m.ratchetKey);
    // Spec §3.4 / §3.5 DHRatchet bookkeeping: a new sending chain exactly after a new peer chain,
    // numbered from 0, announcing the previous chain's length as PN.
    const last = lastSend[from];
    const ratcheted = last === null ? from === 1 : seen[from].chains.length !== last.seenChains;
    if (last !== null && !ratcheted) {
      assert.equal(chain, last.chain, 'sending chain changed without a DH ratchet step');
      assert.equal(m.counter, last.n + 1, 'Ns did not advance by one');
    } else {
      if (last !== null) assert.notEqual(chain, last.chain, 'no new ratchet key after a DH ratchet step');
      if (last !== null) assert.equal(m.counter, 0, 'a new sending chain starts at 0');
      if (last !== null) assert.equal(m.previousCounter, last.n + 1, 'PN is the previous sending chain length');
    }
    lastSend[from] = { chain, n: m.counter, seenChains: seen[from].chains.length };
    pending[to].push({ to, bytes: e.message, text, chain, n: m.counter, delivered: false });
    messagesExercised++;
  };

  const deliver = async (msg: Sent): Promise<void> => {
    const r = msg.to;
    const s = seen[r];
    const known = s.chains.includes(msg.chain);
    const high = s.high.get(msg.chain) ?? -1;
    const before = fingerprint(states[r]);
    if (msg.delivered) {
      const code: ProtocolErrorCode = retained(r, msg.chain) ? 'ERR_DUPLICATE_MESSAGE' : 'ERR_DECRYPT_FAILED';
      await rejectsWith(() => ratchetDecrypt(crypto, rng, states[r], msg.bytes), [code], `duplicate of ${msg.text}`);
      count(code === 'ERR_DUPLICATE_MESSAGE' ? 'duplicate refused' : 'duplicate on a dropped chain refused');
      assert.equal(fingerprint(states[r]), before, 'state changed on a duplicate');
      return;
    }
    const mustDecrypt = !known || retained(r, msg.chain) || msg.n < high;
    if (!mustDecrypt) {
      // Its chain was dropped (MAX_RECEIVER_CHAINS) and its key was never skipped: lost for good.
      await rejectsWith(() => ratchetDecrypt(crypto, rng, states[r], msg.bytes), ['ERR_DECRYPT_FAILED'], `late ${msg.text}`);
      count('late message on a dropped chain refused');
      assert.equal(fingerprint(states[r]), before, 'state changed on a refused message');
      return;
    }
    const d = await ratchetDecrypt(crypto, rng, states[r], msg.bytes);
    assert.equal(fromUtf8(d.plaintext), msg.text);
    count(!known ? 'new chain' : !retained(r, msg.chain) ? 'skipped key of a dropped chain' : msg.n < high ? 'skipped key' : msg.n > high + 1 ? 'skip ahead' : 'in order');
    states[r] = d.state;
    msg.delivered = true;
    delivered[r].push(msg);
    if (!known) s.chains.push(msg.chain);
    s.high.set(msg.chain, Math.max(high, msg.n));
  };

  for (const op of ops) {
    switch (op.t) {
      case 'send':
        await send(op.from, op.len);
        break;
      case 'deliver': {
        const q = pending[op.to];
        const [msg] = q.splice(op.newest ? q.length - 1 : op.pick % Math.max(1, q.length), 1);
        if (msg !== undefined) await deliver(msg);
        break;
      }
      case 'dup': {
        const q = delivered[op.to];
        const msg = q[op.pick % Math.max(1, q.length)];
        if (msg !== undefined) await deliver(msg);
        break;
      }
      case 'drop': {
        const q = pending[op.to];
        q.splice(op.pick % Math.max(1, q.length), 1);
        break;
      }
      case 'stash': {
        const q = pending[op.to];
        stashed[op.to].push(...q.splice(op.pick % Math.max(1, q.length), 1));
        break;
      }
      case 'release': {
        const msg = stashed[op.to].shift();
        if (msg !== undefined) await deliver(msg);
        break;
      }
      case 'tamper': {
        const all = [...pending[op.to], ...delivered[op.to]];
        const msg = all[op.pick % Math.max(1, all.length)];
        if (msg === undefined) break;
        const bytes = msg.bytes.slice();
        const bit = op.bit % (bytes.length * 8);
        bytes[bit >>> 3] = (bytes[bit >>> 3] ?? 0) ^ (1 << (bit & 7));
        const before = fingerprint(states[op.to]);
        await rejectsWith(() => ratchetDecrypt(crypto, rng, states[op.to], bytes), ANY_REJECTION, `tampered ${msg.text}`);
        assert.equal(fingerprint(states[op.to]), before, 'state changed on a tampered message');
        break;
      }
      case 'garbage': {
        const before = fingerprint(states[op.to]);
        await rejectsWith(() => ratchetDecrypt(crypto, rng, states[op.to], op.bytes), ANY_REJECTION, 'garbage');
        assert.equal(fingerprint(states[op.to]), before, 'state changed on garbage');
        break;
      }
      case 'persist': {
        const bytes = encodeRatchetState(states[op.who]);
        const back = decodeRatchetState(bytes);
        assert.equal(toHex(encodeRatchetState(back)), toHex(bytes), 'state codec round trip');
        states[op.who] = back;
        break;
      }
    }
  }

  // The session keeps working: a fresh exchange in both directions, each message delivered at once.
  let p: Party = seen[1].chains.length === 0 ? 0 : 1;
  for (let i = 0; i < 4; i++) {
    await send(p, 2);
    const to: Party = p === 0 ? 1 : 0;
    const msg = pending[to].pop();
    assert.ok(msg !== undefined, 'final exchange: nothing was sent');
    await deliver(msg);
    assert.equal(msg.delivered, true, `final exchange: ${msg.text} did not decrypt`);
    p = to;
  }
}

test('property: random schedules of drop / reorder / duplicate / tamper decrypt or fail as the model says', async (t) => {
  const before = messagesExercised;
  // The corpus holds at least the hand-written seed (a late message of a chain dropped after six steps).
  assert.ok(corpusEntries('ratchet-schedule').length > 0, 'the ratchet-schedule corpus is missing');
  // The first run has a fixed seed so that the branch-coverage assertions below cannot flake; the long
  // run draws a fresh seed every time to keep exploring (a failure lands in test/corpus/).
  await checkWithCorpus('ratchet-schedule', fc.array(opArb, { maxLength: 200 }), runSchedule, { numRuns: 300, seed: 0x50770 });
  await checkWithCorpus('ratchet-schedule-long', fc.array(opArb, { maxLength: 1500, size: 'max' }), runSchedule, { numRuns: 10 });
  t.diagnostic(`messages sent through the schedules: ${messagesExercised - before}`);
  t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  assert.ok(messagesExercised - before > 2000, 'expected thousands of messages');
  for (const k of ['new chain', 'in order', 'skip ahead', 'skipped key', 'skipped key of a dropped chain', 'late message on a dropped chain refused', 'duplicate refused']) {
    assert.ok((outcomes.get(k) ?? 0) > 0, `the schedules never reached: ${k}`);
  }
});
