// SFrame (RFC 9605; docs/protocol/11 §11.5) beyond the published vectors: the header codec is strict
// (only minimal encodings; any bytes decode to a canonical prefix or ERR_SFRAME_MALFORMED); sender →
// receiver round trips; every dropped frame (bit flip, replay, too old, wrong KID, wrong base key) is
// a typed ERR_SFRAME_* error, counted in stats.failed, and leaves the receiver usable; zero-length
// frames pass through; the CTR bound; redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { corpusAt, seededRng } from '@sotto/test-support';
import { fastProvider } from '@sotto/crypto';
import {
  SFRAME_REPLAY_WINDOW,
  SOTTO_SFRAME_SUITE,
  SframeReceiver,
  SframeSender,
  decodeSframeHeader,
  encodeSframeHeader,
  isProtocolError,
  limits,
  nobleProvider,
  type CryptoProvider,
  type ProtocolErrorCode,
  type SframeCipherSuite,
} from '@sotto/protocol';
import { fromHex, toHex } from '../src/internal/bytes.ts';
import { deriveSframeKeys, SFRAME_MAX_HEADER_BYTES } from '../src/call/sframe.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));
const rng = seededRng('sframe-properties');
const MAX = 2n ** 64n - 1n;
const SUITES: readonly SframeCipherSuite[] = [1, 2, 3, 4, 5];
const PROVIDERS: readonly CryptoProvider[] = [nobleProvider, fastProvider];
const baseKey = rng(32);
const otherBaseKey = rng(32);

function rejects(codes: readonly ProtocolErrorCode[], what: string) {
  return (e: unknown): boolean => {
    assert.ok(codes.some((c) => isProtocolError(e, c)), `${what}: expected ${codes.join(' or ')}, got ${String(e)}`);
    return true;
  };
}
const SFRAME_CODES: readonly ProtocolErrorCode[] = ['ERR_SFRAME_MALFORMED', 'ERR_SFRAME_UNKNOWN_KID', 'ERR_SFRAME_REPLAY', 'ERR_SFRAME_AUTH'];

async function pair(crypto: CryptoProvider, suite: SframeCipherSuite = SOTTO_SFRAME_SUITE, kid = 0): Promise<{ sender: SframeSender; receiver: SframeReceiver }> {
  return {
    sender: await SframeSender.create(crypto, { kid, baseKey, suite }),
    receiver: await SframeReceiver.create(crypto, { kid, baseKey, suite }),
  };
}

/** Values biased to the edges of every encoded length (1..8 bytes) and the inline range 0..7. */
const value64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 7n }),
  fc.integer({ min: 1, max: 8 }).chain((n) => fc.bigInt({ min: n === 1 ? 8n : 1n << BigInt(8 * (n - 1)), max: (1n << BigInt(8 * n)) - 1n })),
  fc.constantFrom(8n, 255n, 256n, 65535n, 65536n, MAX - 1n, MAX),
);

test('the contract constants: suite 5 (AES_256_GCM_SHA512_128) and a window of 128, one value in limits', () => {
  assert.equal(SOTTO_SFRAME_SUITE, 5);
  assert.equal(SFRAME_REPLAY_WINDOW, 128);
  assert.equal(limits.SFRAME_REPLAY_WINDOW, SFRAME_REPLAY_WINDOW);
});

test('property: encodeSframeHeader / decodeSframeHeader round trip every (KID, CTR) in 0..2^64-1', async () => {
  await corpus.check(
    'sframe-header-roundtrip',
    fc.tuple(value64, value64, fc.uint8Array({ maxLength: 8 })),
    ([kid, ctr, tail]) => {
      const header = encodeSframeHeader(kid, ctr);
      assert.ok(header.length >= 1 && header.length <= SFRAME_MAX_HEADER_BYTES);
      const framed = new Uint8Array([...header, ...tail]);
      assert.deepEqual(decodeSframeHeader(framed), { kid, ctr, headerLength: header.length });
    },
    { numRuns: 500 },
  );
  for (const [kid, ctr] of [
    [-1n, 0n],
    [0n, -1n],
    [MAX + 1n, 0n],
    [0n, MAX + 1n],
  ] as const) {
    assert.throws(() => encodeSframeHeader(kid, ctr), rejects(['ERR_ARGUMENT'], `encode ${kid}, ${ctr}`));
  }
});

test('property: any byte string decodes to a header that re-encodes to the same prefix, or is ERR_SFRAME_MALFORMED', async () => {
  await corpus.check(
    'sframe-header-strict',
    fc.uint8Array({ maxLength: 20 }),
    (bytes) => {
      let decoded: { kid: bigint; ctr: bigint; headerLength: number };
      try {
        decoded = decodeSframeHeader(bytes);
      } catch (e) {
        assert.ok(isProtocolError(e, 'ERR_SFRAME_MALFORMED'), `expected ERR_SFRAME_MALFORMED, got ${String(e)}`);
        return;
      }
      assert.equal(toHex(encodeSframeHeader(decoded.kid, decoded.ctr)), toHex(bytes.subarray(0, decoded.headerLength)));
    },
    { numRuns: 2000 },
  );
});

test('decodeSframeHeader accepts only minimal encodings (RFC 9605 §4.3), and refuses empty or truncated input', () => {
  const bad: readonly [string, string][] = [
    ['', 'empty'],
    ['80', 'X set, KID byte missing'],
    ['08', 'Y set, CTR byte missing'],
    ['f0' + '00'.repeat(7), 'KID of 8 bytes, 7 present'],
    ['8f08' + '00'.repeat(7), 'CTR of 8 bytes, 7 present'],
    ['8005', 'KID 5 in extended form'],
    ['8000', 'KID 0 in extended form'],
    ['0807', 'CTR 7 in extended form'],
    ['9000ff', 'KID 255 in two bytes with a leading zero'],
    ['0900ff', 'CTR 255 in two bytes with a leading zero'],
    ['f000ffffffffffffff', 'KID in eight bytes with a leading zero'],
    ['0f00ffffffffffffff', 'CTR in eight bytes with a leading zero'],
    ['88ff07', 'CTR 7 in extended form after an extended KID'],
  ];
  for (const [hex, what] of bad) {
    assert.throws(() => decodeSframeHeader(fromHex(hex)), rejects(['ERR_SFRAME_MALFORMED'], what));
  }
  // the minimal neighbours of those decode
  assert.deepEqual(decodeSframeHeader(fromHex('8008')), { kid: 8n, ctr: 0n, headerLength: 2 });
  assert.deepEqual(decodeSframeHeader(fromHex('0808')), { kid: 0n, ctr: 8n, headerLength: 2 });
  assert.deepEqual(decodeSframeHeader(fromHex('900100')), { kid: 256n, ctr: 0n, headerLength: 3 });
  assert.deepEqual(decodeSframeHeader(fromHex('77')), { kid: 7n, ctr: 7n, headerLength: 1 });
});

for (const crypto of PROVIDERS) {
  test(`property: sender → receiver round trips random frames in every suite (${crypto.name})`, async () => {
    await corpus.check(
      'sframe-roundtrip',
      fc.tuple(fc.constantFrom(...SUITES), fc.integer({ min: 0, max: 2 ** 40 }), fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 })),
      async ([suite, kid, frames]) => {
        const { sender, receiver } = await pair(crypto, suite, kid);
        let nonEmpty = 0;
        for (const [i, frame] of frames.entries()) {
          const sframe = await sender.encrypt(frame);
          if (frame.length === 0) {
            assert.equal(sframe, frame, 'a zero-length frame passes through as is');
          } else {
            const { kid: k, ctr } = decodeSframeHeader(sframe);
            assert.equal(k, BigInt(kid));
            assert.equal(ctr, BigInt(nonEmpty), `frame ${i}: CTR counts non-empty frames from 0`);
            nonEmpty++;
          }
          assert.equal(toHex(await receiver.decrypt(sframe)), toHex(frame), `frame ${i}`);
        }
        assert.deepEqual(receiver.stats, { decrypted: nonEmpty, failed: 0 });
      },
      { numRuns: 40 },
    );
  });

  test(`property: any single bit flip is dropped with ERR_SFRAME_*, counted, and the receiver goes on (${crypto.name})`, async () => {
    const { sender, receiver } = await pair(crypto);
    let failed = 0;
    let decrypted = 0;
    await corpus.check(
      'sframe-bit-flip',
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 7 })),
      async ([frame, at, bit]) => {
        const good = await sender.encrypt(frame);
        const bad = good.slice();
        const i = at % bad.length;
        bad[i] = (bad[i] ?? 0) ^ (1 << bit);
        await assert.rejects(receiver.decrypt(bad), rejects(SFRAME_CODES, `flip byte ${i} bit ${bit}`));
        failed++;
        assert.deepEqual(receiver.stats, { decrypted, failed }, 'the dropped frame is counted, nothing else changes');
        // the untouched frame, and the next one, still decrypt
        assert.equal(toHex(await receiver.decrypt(good)), toHex(frame));
        assert.equal(toHex(await receiver.decrypt(await sender.encrypt(frame))), toHex(frame));
        decrypted += 2;
        assert.deepEqual(receiver.stats, { decrypted, failed });
      },
      { numRuns: 150 },
    );
  });
}

test('a replayed frame is ERR_SFRAME_REPLAY, counted, and changes nothing', async () => {
  const { sender, receiver } = await pair(nobleProvider);
  const f0 = await sender.encrypt(Uint8Array.of(1, 2, 3));
  const f1 = await sender.encrypt(Uint8Array.of(4, 5, 6));
  await receiver.decrypt(f0);
  await receiver.decrypt(f1);
  await assert.rejects(receiver.decrypt(f0), rejects(['ERR_SFRAME_REPLAY'], 'replay of an older frame'));
  await assert.rejects(receiver.decrypt(f1), rejects(['ERR_SFRAME_REPLAY'], 'replay of the newest frame'));
  assert.deepEqual(receiver.stats, { decrypted: 2, failed: 2 });
  assert.deepEqual([...(await receiver.decrypt(await sender.encrypt(Uint8Array.of(7))))], [7]);
});

test('two concurrent decrypts of one frame: exactly one is accepted', async () => {
  for (const crypto of PROVIDERS) {
    const { sender, receiver } = await pair(crypto);
    const f = await sender.encrypt(Uint8Array.of(1, 2, 3));
    const results = await Promise.allSettled([receiver.decrypt(f), receiver.decrypt(f), receiver.decrypt(f)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, crypto.name);
    for (const r of results) if (r.status === 'rejected') rejects(['ERR_SFRAME_REPLAY'], crypto.name)(r.reason);
    assert.deepEqual(receiver.stats, { decrypted: 1, failed: 2 });
  }
});

test('concurrent encrypts never share a CTR', async () => {
  const { sender } = await pair(fastProvider);
  const frames = await Promise.all(Array.from({ length: 20 }, (_, i) => sender.encrypt(Uint8Array.of(i))));
  assert.deepEqual(frames.map((f) => decodeSframeHeader(f).ctr), Array.from({ length: 20 }, (_, i) => BigInt(i)));
});

test(`a frame more than SFRAME_REPLAY_WINDOW below the highest accepted CTR is refused; exactly ${SFRAME_REPLAY_WINDOW} below is accepted once`, async () => {
  const { sender, receiver } = await pair(fastProvider);
  const frames: Uint8Array[] = [];
  for (let i = 0; i <= SFRAME_REPLAY_WINDOW + 1; i++) frames.push(await sender.encrypt(Uint8Array.of(i & 0xff, 0xaa)));
  const newest = frames[SFRAME_REPLAY_WINDOW + 1];
  const tooOld = frames[0];
  const edge = frames[1];
  assert.ok(newest !== undefined && tooOld !== undefined && edge !== undefined);
  await receiver.decrypt(newest); // highest = W + 1
  await assert.rejects(receiver.decrypt(tooOld), rejects(['ERR_SFRAME_REPLAY'], `CTR 0, ${SFRAME_REPLAY_WINDOW + 1} below`));
  assert.deepEqual([...(await receiver.decrypt(edge))], [1, 0xaa]); // W below: inside the window
  await assert.rejects(receiver.decrypt(edge), rejects(['ERR_SFRAME_REPLAY'], 'the edge frame again'));
  assert.deepEqual(receiver.stats, { decrypted: 2, failed: 2 });
});

test('property: any delivery schedule (reorder, duplicate, drop) matches the replay-window model', async () => {
  const crypto = fastProvider;
  const N = SFRAME_REPLAY_WINDOW * 2 + 20;
  const { sender } = await pair(crypto);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < N; i++) frames.push(await sender.encrypt(Uint8Array.of(i & 0xff, i >> 8)));
  await corpus.check(
    'sframe-replay-window-schedule',
    fc.array(fc.oneof(fc.integer({ min: 0, max: N - 1 }), fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 120 }),
    async (schedule) => {
      const receiver = await SframeReceiver.create(crypto, { kid: 0, baseKey });
      const accepted = new Set<number>();
      let highest = -1;
      let failed = 0;
      for (const n of schedule) {
        const frame = frames[n];
        assert.ok(frame !== undefined);
        const expectAccept = !accepted.has(n) && (highest < 0 || n > highest || highest - n <= SFRAME_REPLAY_WINDOW);
        if (expectAccept) {
          assert.deepEqual([...(await receiver.decrypt(frame))], [n & 0xff, n >> 8], `CTR ${n} accepted`);
          accepted.add(n);
          highest = Math.max(highest, n);
        } else {
          await assert.rejects(receiver.decrypt(frame), rejects(['ERR_SFRAME_REPLAY'], `CTR ${n} (highest ${highest})`));
          failed++;
        }
      }
      assert.deepEqual(receiver.stats, { decrypted: accepted.size, failed });
    },
    { numRuns: 150 },
  );
});

test('a frame with another KID is ERR_SFRAME_UNKNOWN_KID (the receiver holds only the peer\'s)', async () => {
  const callerSender = await SframeSender.create(nobleProvider, { kid: 0, baseKey });
  const calleeReceiverOfCaller = await SframeReceiver.create(nobleProvider, { kid: 1, baseKey });
  const f = await callerSender.encrypt(Uint8Array.of(1, 2, 3));
  await assert.rejects(calleeReceiverOfCaller.decrypt(f), rejects(['ERR_SFRAME_UNKNOWN_KID'], 'KID 0 at a KID-1 receiver'));
  const big = await SframeSender.create(nobleProvider, { kid: Number.MAX_SAFE_INTEGER, baseKey });
  await assert.rejects(calleeReceiverOfCaller.decrypt(await big.encrypt(Uint8Array.of(1))), rejects(['ERR_SFRAME_UNKNOWN_KID'], 'a 7-byte KID'));
  assert.deepEqual(calleeReceiverOfCaller.stats, { decrypted: 0, failed: 2 });
});

test('property: a wrong base key is ERR_SFRAME_AUTH in every suite, never plaintext', async () => {
  await corpus.check(
    'sframe-wrong-base-key',
    fc.tuple(fc.constantFrom(...SUITES), fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.uint8Array({ minLength: 1, maxLength: 48 })),
    async ([suite, frame, wrongKey]) => {
      fc.pre(toHex(wrongKey) !== toHex(baseKey));
      const sender = await SframeSender.create(nobleProvider, { kid: 1, baseKey, suite });
      const receiver = await SframeReceiver.create(nobleProvider, { kid: 1, baseKey: wrongKey, suite });
      await assert.rejects(receiver.decrypt(await sender.encrypt(frame)), rejects(['ERR_SFRAME_AUTH'], `suite ${suite}`));
      assert.deepEqual(receiver.stats, { decrypted: 0, failed: 1 });
    },
    { numRuns: 60 },
  );
  // the same base key in another suite does not authenticate either
  const s5 = await SframeSender.create(nobleProvider, { kid: 0, baseKey, suite: 5 });
  const r4 = await SframeReceiver.create(nobleProvider, { kid: 0, baseKey, suite: 4 });
  await assert.rejects(r4.decrypt(await s5.encrypt(Uint8Array.of(1))), rejects(['ERR_SFRAME_AUTH'], 'suite 5 frame at a suite-4 receiver'));
  const other = await SframeReceiver.create(nobleProvider, { kid: 0, baseKey: otherBaseKey });
  await assert.rejects(other.decrypt(await s5.encrypt(Uint8Array.of(2))), rejects(['ERR_SFRAME_AUTH'], 'other base key'));
});

test('frames too short for the tag, or a header alone, are ERR_SFRAME_AUTH and counted', async () => {
  const { sender, receiver } = await pair(nobleProvider);
  const f = await sender.encrypt(Uint8Array.of(9));
  for (let n = 1; n < f.length; n++) {
    await assert.rejects(receiver.decrypt(f.subarray(0, n)), rejects(['ERR_SFRAME_AUTH'], `${n} of ${f.length} bytes`));
  }
  assert.deepEqual(receiver.stats, { decrypted: 0, failed: f.length - 1 });
  assert.deepEqual([...(await receiver.decrypt(f))], [9]);
});

test('zero-length frames pass through both ways untouched, uncounted, and use no CTR', async () => {
  const { sender, receiver } = await pair(nobleProvider);
  const empty = new Uint8Array(0);
  assert.equal(await sender.encrypt(empty), empty);
  assert.equal(await receiver.decrypt(empty), empty);
  assert.equal(decodeSframeHeader(await sender.encrypt(Uint8Array.of(1))).ctr, 0n);
  assert.deepEqual(receiver.stats, { decrypted: 0, failed: 0 });
});

test('the sender uses CTR 2^64-1 and then stops with ERR_COUNTER_EXHAUSTED', async () => {
  const sender = SframeSender.createAt(nobleProvider, { kid: 1, baseKey }, MAX);
  const receiver = await SframeReceiver.create(nobleProvider, { kid: 1, baseKey });
  const last = await sender.encrypt(Uint8Array.of(1));
  assert.equal(decodeSframeHeader(last).ctr, MAX);
  await assert.rejects(sender.encrypt(Uint8Array.of(2)), rejects(['ERR_COUNTER_EXHAUSTED'], 'past 2^64-1'));
  await assert.rejects(sender.encrypt(Uint8Array.of(3)), rejects(['ERR_COUNTER_EXHAUSTED'], 'and stays stopped'));
  assert.deepEqual([...(await receiver.decrypt(last))], [1]);
});

test('create refuses a bad KID, an empty base key or an unknown suite (ERR_ARGUMENT)', async () => {
  const bad: [string, Parameters<typeof SframeSender.create>[1]][] = [
    ['negative KID', { kid: -1, baseKey }],
    ['fractional KID', { kid: 1.5, baseKey }],
    ['unsafe KID', { kid: 2 ** 53, baseKey }],
    ['empty base key', { kid: 0, baseKey: new Uint8Array(0) }],
    ['suite 6', { kid: 0, baseKey, suite: 6 as SframeCipherSuite }],
  ];
  for (const [what, opts] of bad) {
    await assert.rejects(SframeSender.create(nobleProvider, opts), rejects(['ERR_ARGUMENT'], `sender: ${what}`));
    await assert.rejects(SframeReceiver.create(nobleProvider, opts), rejects(['ERR_ARGUMENT'], `receiver: ${what}`));
  }
});

test('senders and receivers print redacted: no base key, derived key or salt', async () => {
  const { sender, receiver } = await pair(nobleProvider);
  const keys = deriveSframeKeys(SOTTO_SFRAME_SUITE, baseKey, 0n);
  const secrets = [toHex(baseKey), toHex(keys.key), toHex(keys.salt)];
  for (const [value, marker] of [
    [sender, '[SframeSender: redacted]'],
    [receiver, '[SframeReceiver: redacted]'],
  ] as const) {
    assert.equal(String(value), marker);
    assert.equal(JSON.stringify(value), JSON.stringify(marker));
    const shown = [inspect(value, { showHidden: true, depth: Infinity, getters: true }), inspect({ nested: [value] }, { showHidden: true, depth: Infinity }), JSON.stringify({ value })];
    for (const s of shown) {
      assert.ok(s.includes(marker), s);
      for (const secret of secrets) assert.ok(!s.includes(secret) && !s.includes(secret.slice(0, 16)), `${marker} leaks through ${s.slice(0, 100)}`);
    }
  }
});
