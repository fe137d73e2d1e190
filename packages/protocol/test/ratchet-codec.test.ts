// The ratchet message and ratchet state codecs (docs/protocol/05-double-ratchet.md §5.7, §5.9):
// byte layout, round trips and strict rejection of every malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '@sotto/test-support';
import { fastProvider as crypto } from '@sotto/crypto';
import { limits, type ProtocolErrorCode } from '@sotto/protocol';
import {
  RATCHET_HEADER_BYTES,
  decodeRatchetMessage,
  encodeRatchetHeader,
  encodeRatchetMessage,
  isCanonicalX25519,
} from '../src/wire/ratchet-message.ts';
import { decodeRatchetState, encodeRatchetState } from '../src/wire/ratchet-state.ts';
import { WIRE_VERSION, WireType } from '../src/wire/version.ts';
import { makeRatchetState, ratchetDecrypt, ratchetEncrypt, type RatchetState } from '../src/ratchet/double-ratchet.ts';
import { fromHex, toHex, utf8 } from '../src/internal/bytes.ts';
import { fingerprint, sessionPair } from './ratchet-harness.ts';

function throwsCode(run: () => unknown, code: ProtocolErrorCode, what: string): void {
  assert.throws(run, (e: unknown) => e instanceof Error && 'code' in e && e.code === code, `${what}: expected ${code}`);
}

test('ratchet message byte layout: version, type, key, PN, N, AEAD output', () => {
  const key = fromHex('11'.repeat(32));
  const ct = fromHex('ee'.repeat(20));
  const bytes = encodeRatchetMessage({ ratchetKey: key, previousCounter: 0x01020304, counter: 0xa0b0c0d0, ciphertext: ct });
  assert.equal(toHex(bytes), `0103${'11'.repeat(32)}01020304a0b0c0d0${'ee'.repeat(20)}`);
  assert.equal(bytes[0], WIRE_VERSION);
  assert.equal(bytes[1], WireType.RatchetMessage);
  assert.equal(toHex(encodeRatchetHeader(key, 0x01020304, 0xa0b0c0d0)), toHex(bytes.subarray(0, RATCHET_HEADER_BYTES)));
  const m = decodeRatchetMessage(bytes);
  assert.deepEqual({ ...m, ratchetKey: toHex(m.ratchetKey), ciphertext: toHex(m.ciphertext) }, {
    ratchetKey: '11'.repeat(32),
    previousCounter: 0x01020304,
    counter: 0xa0b0c0d0,
    ciphertext: 'ee'.repeat(20),
  });
});

test('ratchet message decoder is strict', () => {
  const good = encodeRatchetMessage({ ratchetKey: new Uint8Array(32).fill(7), previousCounter: 1, counter: 2, ciphertext: new Uint8Array(16) });
  for (let n = 0; n < RATCHET_HEADER_BYTES + 16; n++) throwsCode(() => decodeRatchetMessage(good.subarray(0, n)), 'ERR_WIRE_TRUNCATED', `prefix ${n}`);
  throwsCode(() => decodeRatchetMessage(Uint8Array.from([0, ...good.subarray(1)])), 'ERR_WIRE_UNKNOWN_VERSION', 'version 0');
  throwsCode(() => decodeRatchetMessage(Uint8Array.from([1, WireType.PrekeyMessage, ...good.subarray(2)])), 'ERR_WIRE_UNKNOWN_TYPE', 'wrong type');
  // u = 2^255 - 19 (= p) and u = 2^255 - 1 are not canonical; p - 1 is.
  const p = fromHex(`ed${'ff'.repeat(30)}7f`);
  const pMinus1 = fromHex(`ec${'ff'.repeat(30)}7f`);
  const top = fromHex(`00${'00'.repeat(30)}80`);
  assert.equal(isCanonicalX25519(pMinus1), true);
  for (const [what, k] of [['p', p], ['2^255 - 1', fromHex(`${'ff'.repeat(31)}7f`)], ['top bit', top]] as const) {
    assert.equal(isCanonicalX25519(k), false, what);
    const bad = good.slice();
    bad.set(k, 2);
    throwsCode(() => decodeRatchetMessage(bad), 'ERR_WIRE_NON_CANONICAL', `ratchet key ${what}`);
  }
  throwsCode(() => decodeRatchetMessage(new Uint8Array(limits.MAX_MESSAGE_BYTES + 1)), 'ERR_WIRE_TOO_LARGE', 'oversized');
  throwsCode(
    () => encodeRatchetMessage({ ratchetKey: new Uint8Array(32), previousCounter: 0, counter: 2 ** 32, ciphertext: new Uint8Array(16) }),
    'ERR_ARGUMENT',
    'counter beyond u32',
  );
  throwsCode(() => encodeRatchetMessage({ ratchetKey: top, previousCounter: 0, counter: 0, ciphertext: new Uint8Array(16) }), 'ERR_ARGUMENT', 'bad key');
  throwsCode(() => encodeRatchetMessage({ ratchetKey: pMinus1, previousCounter: 0, counter: 0, ciphertext: new Uint8Array(15) }), 'ERR_ARGUMENT', 'no tag');
});

/** A state with every optional part present: two receiving chains, skipped keys of both. */
async function richState(): Promise<RatchetState> {
  const rng = seededRng('ratchet-codec/rich');
  let { alice, bob } = await sessionPair(crypto, rng);
  const send = async (from: 'a' | 'b', text: string): Promise<Uint8Array> => {
    const r = await ratchetEncrypt(crypto, rng, from === 'a' ? alice : bob, utf8(text));
    if (from === 'a') alice = r.state;
    else bob = r.state;
    return r.message;
  };
  const recv = async (to: 'a' | 'b', m: Uint8Array): Promise<void> => {
    const r = await ratchetDecrypt(crypto, rng, to === 'a' ? alice : bob, m);
    if (to === 'a') alice = r.state;
    else bob = r.state;
  };
  const a0 = [await send('a', '0'), await send('a', '1'), await send('a', '2')];
  await recv('b', a0[2] ?? new Uint8Array());
  await recv('a', await send('b', 'r'));
  const a1 = [await send('a', '3'), await send('a', '4')];
  await recv('b', a1[1] ?? new Uint8Array());
  assert.equal(bob.receiving.length, 2);
  assert.equal(bob.skipped.length, 3);
  return bob;
}

test('ratchet state round trip, and its layout', async () => {
  const s = await richState();
  const bytes = encodeRatchetState(s);
  assert.equal(bytes[0], WIRE_VERSION);
  assert.equal(bytes[1], WireType.RatchetState);
  const expectedLength = 2 + 2 + 66 + 32 * 3 + 1 + 36 + 4 + 1 + (68 + 72) + 2 + 3 * 68;
  assert.equal(bytes.length, expectedLength);
  const back = decodeRatchetState(bytes);
  assert.equal(toHex(encodeRatchetState(back)), toHex(bytes));
  assert.deepEqual(
    { ...back, receiving: back.receiving.map((c) => ({ ...c })), skipped: back.skipped.map((k) => ({ ...k })) },
    { ...s, receiving: s.receiving.map((c) => ({ ...c })), skipped: s.skipped.map((k) => ({ ...k })) },
  );
  // Fresh states of both roles round-trip too.
  const { alice, bob } = await sessionPair(crypto, seededRng('ratchet-codec/fresh'));
  for (const st of [alice, bob]) assert.equal(fingerprint(decodeRatchetState(encodeRatchetState(st))), fingerprint(st));
});

test('ratchet state decoder is strict', async () => {
  const s = await richState();
  const good = encodeRatchetState(s);
  for (let n = 0; n < good.length; n++) {
    assert.throws(
      () => decodeRatchetState(good.subarray(0, n)),
      (e: unknown) => e instanceof Error && 'code' in e && (e.code === 'ERR_WIRE_TRUNCATED' || e.code === 'ERR_WIRE_BAD_LENGTH'),
      `prefix ${n}`,
    );
  }
  throwsCode(() => decodeRatchetState(Uint8Array.from([...good, 0])), 'ERR_WIRE_TRAILING_BYTES', 'trailing byte');
  throwsCode(() => decodeRatchetState(Uint8Array.from([2, ...good.subarray(1)])), 'ERR_WIRE_UNKNOWN_VERSION', 'version');
  throwsCode(() => decodeRatchetState(Uint8Array.from([1, WireType.SessionState, ...good.subarray(2)])), 'ERR_WIRE_UNKNOWN_TYPE', 'type');

  // Offsets in the rich state's encoding (see the layout table in wire/ratchet-state.ts).
  const adEnd = 4 + 66;
  const sendingFlag = adEnd + 96;
  const chainCount = sendingFlag + 1 + 36 + 4;
  const chain0 = chainCount + 1;
  const chain1 = chain0 + 68;
  const skippedCount = chain1 + 72;
  const skipped0 = skippedCount + 2;
  const edit = (at: number, bytes: readonly number[]): Uint8Array => {
    const b = good.slice();
    b.set(bytes, at);
    return b;
  };
  assert.equal(good[sendingFlag], 1);
  assert.equal(good[chainCount], 2);
  throwsCode(() => decodeRatchetState(edit(sendingFlag, [2])), 'ERR_WIRE_NON_CANONICAL', 'sending flag 2');
  throwsCode(() => decodeRatchetState(edit(chainCount, [limits.MAX_RECEIVER_CHAINS + 1])), 'ERR_WIRE_BAD_LENGTH', 'too many chains');
  throwsCode(() => decodeRatchetState(edit(2, [0xff, 0xff])), 'ERR_WIRE_BAD_LENGTH', 'AD too long');
  throwsCode(() => decodeRatchetState(edit(adEnd + 95, [0x80])), 'ERR_WIRE_NON_CANONICAL', 'DHs public key top bit');
  throwsCode(() => decodeRatchetState(edit(chain0 + 31, [0x80])), 'ERR_WIRE_NON_CANONICAL', 'chain key top bit');
  throwsCode(() => decodeRatchetState(edit(chain1, [...good.subarray(chain0, chain0 + 32)])), 'ERR_WIRE_NON_CANONICAL', 'two chains with one key');
  throwsCode(() => decodeRatchetState(edit(chain1 + 68, [0, 0, 0, 0])), 'ERR_WIRE_NON_CANONICAL', 'final length below the counter');
  throwsCode(() => decodeRatchetState(edit(skippedCount, [0xff, 0xff])), 'ERR_WIRE_BAD_LENGTH', 'too many skipped keys');
  throwsCode(() => decodeRatchetState(edit(skipped0 + 32, [0, 0, 0, 9])), 'ERR_WIRE_NON_CANONICAL', 'skipped number not below its chain counter');
  throwsCode(
    () => decodeRatchetState(edit(skipped0 + 68, [...good.subarray(skipped0, skipped0 + 36)])),
    'ERR_WIRE_NON_CANONICAL',
    'repeated skipped key',
  );
  // A responder that never received cannot have a receiving chain.
  const { bob } = await sessionPair(crypto, seededRng('ratchet-codec/responder'));
  const forged = makeRatchetState({ ...bob, receiving: s.receiving.slice(0, 1) });
  throwsCode(() => decodeRatchetState(encodeRatchetState(forged)), 'ERR_WIRE_NON_CANONICAL', 'receiving without sending');
  // The encoder refuses states outside the invariants rather than writing something undecodable.
  throwsCode(() => encodeRatchetState(makeRatchetState({ ...s, receiving: [...s.receiving].reverse() })), 'ERR_ARGUMENT', 'chain order');
});
