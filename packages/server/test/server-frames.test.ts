// internal/frames.ts writes the per-message frames as text without the codecs: it must give exactly
// what encodeServerFrame / encodeSealedServerFrame give (STYLE.md §12: a property test per codec),
// and for values the codecs refuse it must refuse them the same way rather than send them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeSealedServerFrame, encodeServerFrame, isProtocolError } from '@sotto/protocol';
import { messageFrameText, sentFrameText } from '../src/internal/frames.ts';

const bucket = fc.constantFrom(512, 1024, 2048, 4096);

test('messageFrameText = encodeServerFrame for every message the codec accepts', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), fc.uint8Array({ minLength: 16, maxLength: 16 }), bucket.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), fc.maxSafeNat(), (seq, id, envelope, receivedAt) => {
      assert.equal(messageFrameText(seq, id, envelope, receivedAt), encodeServerFrame({ type: 'message', seq, id, envelope, receivedAt }));
    }),
    { numRuns: 300 },
  );
  // A view into a larger buffer encodes only its own bytes.
  const backing = new Uint8Array(600).fill(7);
  const view = backing.subarray(40, 552);
  assert.equal(messageFrameText(1, backing.subarray(0, 16), view, 2), encodeServerFrame({ type: 'message', seq: 1, id: backing.slice(0, 16), envelope: view.slice(), receivedAt: 2 }));
});

test('messageFrameText refuses what encodeServerFrame refuses', () => {
  for (const [seq, idLen, envLen, at] of [[-1, 16, 512, 0], [1.5, 16, 512, 0], [1, 15, 512, 0], [1, 16, 513, 0], [1, 16, 512, Number.MAX_SAFE_INTEGER + 1]] as const) {
    assert.throws(() => messageFrameText(seq, new Uint8Array(idLen), new Uint8Array(envLen), at), (e) => isProtocolError(e, 'ERR_ARGUMENT'), `${seq} ${idLen} ${envLen} ${at}`);
  }
});

test('sentFrameText = encodeSealedServerFrame; refuses what it refuses', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.maxSafeNat(), fc.boolean(), (rid, seq, duplicate) => {
      assert.equal(sentFrameText(rid, seq, duplicate), encodeSealedServerFrame({ type: 'sent', rid, seq, duplicate }));
    }),
    { numRuns: 300 },
  );
  for (const [rid, seq] of [[0, 1], [2 ** 32, 1], [1, -1], [1.5, 1]] as const) {
    assert.throws(() => sentFrameText(rid, seq, false), (e) => isProtocolError(e, 'ERR_ARGUMENT'), `${rid} ${seq}`);
  }
});
