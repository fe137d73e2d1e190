// Every JSON body and WebSocket frame of docs/protocol/09 (STYLE.md §12): decode(encode(x)) = x, and
// any text — random, or a valid encoding with a character changed, cut, a field added, removed or
// given another type — decodes to a value that re-encodes to an equal value, or fails with
// ERR_API_DECODE. Encoders refuse (ERR_ARGUMENT) what decoders would refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import * as p from '@sotto/protocol';
import { isProtocolError, limits } from '@sotto/protocol';
import { decodeSealedSendFrameFully } from '../src/api/sealed-frames.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** A sealed send's request id (§9.7.1): 0 names no request. */
const rid = fc.integer({ min: 1, max: 0xffffffff });
const ms = fc.maxSafeNat();
const anyCaseName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{2,31}$/);
const foldedName = fc.stringMatching(/^[a-z][a-z0-9_]{2,31}$/);
const envelope = fc.constantFrom(512, 1024, 2048).chain((n) => bytes(n));
const id16 = bytes(16);
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true });

interface Case<T> {
  readonly name: string;
  readonly arb: fc.Arbitrary<T>;
  readonly encode: (x: T) => string;
  readonly decode: (s: string | Uint8Array) => T;
}
const c = <T>(name: string, arb: fc.Arbitrary<T>, encode: (x: T) => string, decode: (s: string | Uint8Array) => T): Case<unknown> =>
  ({ name, arb, encode, decode }) as Case<unknown>;

const fetched = rec<p.FetchedMessage>({ seq: ms, id: id16, envelope, receivedAt: ms });

const cases: readonly Case<unknown>[] = [
  c('registration-request', rec<p.RegistrationRequest>({ username: anyCaseName, identityKey: bytes(32), deviceId: u32, accessKey: bytes(16), signature: bytes(64) }), p.encodeRegistrationRequest, p.decodeRegistrationRequest),
  c('registration-response', rec<p.RegistrationResponse>({ username: foldedName }), p.encodeRegistrationResponse, p.decodeRegistrationResponse),
  c('account-response', rec<p.AccountResponse>({ username: foldedName, identityKey: bytes(32), devices: fc.array(u32, { maxLength: 5 }) }), p.encodeAccountResponse, p.decodeAccountResponse),
  c('challenge-response', rec<p.ChallengeResponse>({ challenge: bytes(32), expiresAt: ms }), p.encodeChallengeResponse, p.decodeChallengeResponse),
  c('token-request', rec<p.TokenRequest>({ username: anyCaseName, deviceId: u32, challenge: bytes(32), signature: bytes(64) }), p.encodeTokenRequest, p.decodeTokenRequest),
  c('token-response', rec<p.TokenResponse>({ token: bytes(32), expiresAt: ms }), p.encodeTokenResponse, p.decodeTokenResponse),
  c('key-counts-response', rec<p.KeyCountsResponse>({ x25519: ms, kem: ms }), p.encodeKeyCountsResponse, p.decodeKeyCountsResponse),
  c('key-status-response', rec<p.KeyStatusResponse>({ x25519: ms, kem: ms, lowWater: fc.boolean() }), p.encodeKeyStatusResponse, p.decodeKeyStatusResponse),
  c('send-message-request', rec<p.SendMessageRequest>({ id: id16, envelope }), p.encodeSendMessageRequest, p.decodeSendMessageRequest),
  c('send-message-response', rec<p.SendMessageResponse>({ seq: ms, duplicate: fc.boolean() }), p.encodeSendMessageResponse, p.decodeSendMessageResponse),
  c('fetch-response', rec<p.FetchResponse>({ messages: fc.array(fetched, { maxLength: 3 }), more: fc.boolean() }), p.encodeFetchResponse, p.decodeFetchResponse),
  c('ack-request', rec<p.AckRequest>({ ids: fc.array(id16, { maxLength: 5 }) }), p.encodeAckRequest, p.decodeAckRequest),
  c('ack-response', rec<p.AckResponse>({ deleted: ms }), p.encodeAckResponse, p.decodeAckResponse),
  c('attachment-response', rec<p.AttachmentResponse>({ id: id16, expiresAt: ms }), p.encodeAttachmentResponse, p.decodeAttachmentResponse),
  c('error-body', rec<p.ApiErrorBody>({ code: fc.constantFrom(...p.API_ERROR_CODES), message: fc.string({ unit: 'grapheme', maxLength: 40 }) }), p.encodeErrorBody, p.decodeErrorBody),
  c('health-response', fc.constant<p.HealthResponse>({ status: 'ok' }), p.encodeHealthResponse, p.decodeHealthResponse),
  c(
    'client-frame',
    fc.oneof(rec<p.AuthFrame>({ type: fc.constant('auth'), token: bytes(32) }), rec<p.AckFrame>({ type: fc.constant('ack'), ids: fc.array(id16, { maxLength: 4 }) })),
    p.encodeClientFrame,
    p.decodeClientFrame,
  ),
  c(
    'server-frame',
    fc.oneof(
      rec<p.ReadyFrame>({ type: fc.constant('ready') }),
      rec<p.MessageFrame>({ type: fc.constant('message'), seq: ms, id: id16, envelope, receivedAt: ms }),
      rec<p.PrekeysLowFrame>({ type: fc.constant('prekeysLow'), x25519: ms, kem: ms }),
    ),
    p.encodeServerFrame,
    p.decodeServerFrame,
  ),
  c(
    'sealed-send-frame',
    rec<p.SealedSendFrame>({ type: fc.constant('send'), rid: rid, username: anyCaseName, deviceId: u32, accessKey: bytes(16), id: id16, envelope }),
    p.encodeSealedSendFrame,
    p.decodeSealedSendFrame,
  ),
  c(
    'sealed-server-frame',
    fc.oneof(
      rec<p.SealedSentFrame>({ type: fc.constant('sent'), rid: rid, seq: ms, duplicate: fc.boolean() }),
      rec<p.SealedErrorFrame>({
        type: fc.constant('error'),
        rid: fc.oneof(fc.constant(0), rid),
        error: rec<p.ApiErrorBody>({ code: fc.constantFrom(...p.API_ERROR_CODES), message: fc.string({ unit: 'grapheme', maxLength: 40 }) }),
        retryAfter: u32,
      }),
    ),
    p.encodeSealedServerFrame,
    p.decodeSealedServerFrame,
  ),
];

/** Texts derived from a valid JSON object: a character changed, a cut, a field added, dropped or
 *  replaced by another JSON value, or noise. */
function mutations(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const otherValue = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 2 ** 53 + 2 }), fc.double(), fc.string({ maxLength: 8 }), fc.constant([]), fc.constant({}), fc.constant('AAAA'));
  return fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.tuple(valid, fc.nat(), fc.string({ minLength: 1, maxLength: 2 })).map(([s, i, x]) => {
      const at = i % (s.length + 1);
      return s.slice(0, at) + x + s.slice(at + 1);
    }),
    fc.tuple(valid, fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))),
    fc.tuple(valid, fc.string({ maxLength: 6 }), otherValue).map(([s, k, v]) => {
      const o = JSON.parse(s) as Record<string, unknown>;
      o[k] = v;
      return JSON.stringify(o);
    }),
    fc.tuple(valid, fc.nat(), otherValue).map(([s, i, v]) => {
      const o = JSON.parse(s) as Record<string, unknown>;
      const keys = Object.keys(o);
      const k = keys[i % Math.max(1, keys.length)];
      if (k !== undefined) o[k] = v;
      return JSON.stringify(o);
    }),
    fc.tuple(valid, fc.nat()).map(([s, i]) => {
      const o = JSON.parse(s) as Record<string, unknown>;
      const keys = Object.keys(o);
      const k = keys[i % Math.max(1, keys.length)];
      if (k !== undefined) Reflect.deleteProperty(o, k);
      return JSON.stringify(o);
    }),
  );
}

for (const k of cases) {
  test(`${k.name}: decode(encode(x)) = x, from text and from UTF-8 bytes`, async () => {
    await corpus.check(
      `api-${k.name}-roundtrip`,
      k.arb,
      (x) => {
        const text = k.encode(x);
        assert.deepEqual(k.decode(text), x);
        assert.deepEqual(k.decode(new TextEncoder().encode(text)), x);
      },
      { numRuns: 200 },
    );
  });

  test(`${k.name}: random and mutated texts give ERR_API_DECODE or a value that round-trips`, async () => {
    await corpus.check(
      `api-${k.name}-mutated`,
      mutations(k.arb.map(k.encode)),
      (text) => {
        let v: unknown;
        try {
          v = k.decode(text);
        } catch (e) {
          assert.ok(isProtocolError(e, 'ERR_API_DECODE'), `untyped error: ${String(e)}`);
          return;
        }
        assert.deepEqual(k.decode(k.encode(v)), v);
      },
      { numRuns: 600 },
    );
  });
}

test('named refusals of the body rules (§9.1)', () => {
  const good = { username: 'Alice', identityKey: new Uint8Array(32), deviceId: 1, accessKey: new Uint8Array(16), signature: new Uint8Array(64) };
  const text = JSON.parse(p.encodeRegistrationRequest(good)) as Record<string, unknown>;
  const refuse = (body: unknown, why: string): void => {
    assert.throws(() => p.decodeRegistrationRequest(JSON.stringify(body)), (e) => isProtocolError(e, 'ERR_API_DECODE'), why);
  };
  refuse({ ...text, extra: 1 }, 'unknown field');
  refuse({ ...text, username: undefined }, 'missing field');
  refuse({ ...text, deviceId: 2 ** 32 }, 'device id beyond u32');
  refuse({ ...text, deviceId: '1' }, 'number as a string');
  refuse({ ...text, username: 'al' }, 'username too short');
  refuse({ ...text, username: 'alicé' }, 'non-ASCII username');
  refuse({ ...text, username: '1alice' }, 'username starting with a digit');
  refuse({ ...text, identityKey: `${String(text.identityKey)}A` }, 'identity key too long');
  refuse([text], 'an array instead of an object');
  // Responses carry the folded form only.
  assert.throws(() => p.decodeRegistrationResponse('{"username":"Alice"}'), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  // Envelopes must be a bucket size (docs/protocol/06 §6.7) and at most MAX_API_ENVELOPE_BYTES.
  for (const n of [0, 511, 513, 3000]) {
    const body = JSON.stringify({ id: p.encodeBase64url(new Uint8Array(16)), envelope: p.encodeBase64url(new Uint8Array(n)) });
    assert.throws(() => p.decodeSendMessageRequest(body), (e) => isProtocolError(e, 'ERR_API_DECODE'), `envelope of ${n} bytes`);
    assert.throws(() => p.encodeSendMessageRequest({ id: new Uint8Array(16), envelope: new Uint8Array(n) }), (e) => isProtocolError(e, 'ERR_ARGUMENT'), `encoding an envelope of ${n} bytes`);
  }
  const big = limits.MAX_API_ENVELOPE_BYTES;
  assert.equal(p.decodeSendMessageRequest(p.encodeSendMessageRequest({ id: new Uint8Array(16), envelope: new Uint8Array(big) })).envelope.length, big);
  assert.throws(() => p.encodeSendMessageRequest({ id: new Uint8Array(16), envelope: new Uint8Array(big + 64 * 1024) }), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
  // Bounded arrays.
  const ids = Array.from({ length: limits.MAX_API_ACK_IDS + 1 }, () => new Uint8Array(16));
  assert.throws(() => p.encodeAckRequest({ ids }), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
  assert.throws(() => p.decodeAckRequest(JSON.stringify({ ids: ids.map((i) => p.encodeBase64url(i)) })), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  // Frames: unknown type, a server frame sent by a client.
  assert.throws(() => p.decodeClientFrame('{"type":"ready"}'), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  assert.throws(() => p.decodeClientFrame('{"type":"toString"}'), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  assert.throws(() => p.decodeServerFrame('{"type":"auth","token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  // Error bodies: only registered codes.
  assert.throws(() => p.decodeErrorBody('{"error":{"code":"ERR_OTHER","message":""}}'), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  assert.throws(() => p.encodeErrorBody({ code: 'ERR_API_INTERNAL', message: 'x'.repeat(limits.MAX_API_ERROR_MESSAGE_CHARS + 1) }), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
});

test('sealed-send frames (§9.7.1): named refusals, and which malformed frames still name their request', () => {
  const good: p.SealedSendFrame = { type: 'send', rid: 9, username: 'Alice', deviceId: 1, accessKey: new Uint8Array(16), id: new Uint8Array(16), envelope: new Uint8Array(512) };
  const text = JSON.parse(p.encodeSealedSendFrame(good)) as Record<string, unknown>;
  const refuse = (frame: unknown, why: string, rid: number): void => {
    const s = JSON.stringify(frame);
    assert.throws(() => p.decodeSealedSendFrame(s), (e) => isProtocolError(e, 'ERR_API_DECODE'), why);
    assert.equal(p.sealedFrameRequestId(s), rid, `${why}: the rid the server answers`);
  };
  // A frame with a valid type and rid names its request whatever else is wrong with it.
  refuse({ ...text, extra: 1 }, 'unknown field', 9);
  refuse({ ...text, accessKey: undefined }, 'missing access key', 9);
  refuse({ ...text, accessKey: 'AAAA' }, 'short access key', 9);
  refuse({ ...text, envelope: p.encodeBase64url(new Uint8Array(513)) }, 'envelope not a bucket', 9);
  refuse({ ...text, username: 'al' }, 'username too short', 9);
  refuse({ ...text, deviceId: 2 ** 32 }, 'device id beyond u32', 9);
  refuse({ ...text, id: `${String(text.id)}A` }, 'message id too long', 9);
  // One that does not is rid 0.
  refuse({ ...text, rid: 0 }, 'rid 0', 0);
  refuse({ ...text, rid: 2 ** 32 }, 'rid beyond u32', 0);
  refuse({ ...text, rid: '9' }, 'rid as a string', 0);
  refuse({ ...text, rid: undefined }, 'no rid', 0);
  refuse({ ...text, type: 'auth' }, 'another type', 0);
  refuse([text], 'an array', 0);
  assert.equal(p.sealedFrameRequestId('{"type":"send","rid":9,"rid":9}'), 0, 'duplicate keys: not strict JSON');
  assert.equal(p.sealedFrameRequestId('not json'), 0);
  assert.equal(p.sealedFrameRequestId(new Uint8Array([0xff, 0xfe])), 0, 'invalid UTF-8');
  // The authenticated socket's frames are not sealed-send frames, and a send is not a client frame of §9.8.
  assert.throws(() => p.decodeSealedSendFrame(p.encodeClientFrame({ type: 'auth', token: new Uint8Array(32) })), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  assert.throws(() => p.decodeClientFrame(p.encodeSealedSendFrame(good)), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  // Encoders refuse what decoders would.
  assert.throws(() => p.encodeSealedSendFrame({ ...good, rid: 0 }), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
  assert.throws(() => p.encodeSealedServerFrame({ type: 'sent', rid: 0, seq: 1, duplicate: false }), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
  assert.equal(p.decodeSealedServerFrame(p.encodeSealedServerFrame({ type: 'error', rid: 0, error: { code: 'ERR_API_BAD_REQUEST', message: 'm' }, retryAfter: 0 })).rid, 0);
  assert.throws(() => p.decodeSealedServerFrame('{"type":"error","rid":1,"error":{"code":"ERR_OTHER","message":""},"retryAfter":0}'), (e) => isProtocolError(e, 'ERR_API_DECODE'));
});

test('decodeSealedSendFrame (canonical fast path) agrees with the full strict decoder: same value or same error', async () => {
  const outcome = (f: () => unknown): unknown => {
    try {
      return { value: f() };
    } catch (e) {
      return { error: isProtocolError(e) ? `${e.code} ${e.message}` : `untyped ${String(e)}` };
    }
  };
  const frames = rec<p.SealedSendFrame>({ type: fc.constant('send'), rid, username: anyCaseName, deviceId: u32, accessKey: bytes(16), id: id16, envelope }).map(p.encodeSealedSendFrame);
  // Value-level mutations the fast path sees (a field's text changed in place, keeping the shape).
  const inPlace = fc.tuple(frames, fc.constantFrom('rid', 'username', 'deviceId', 'accessKey', 'id', 'envelope'), fc.oneof(fc.constant('0'), fc.constant('4294967296'), fc.constant('99999999999'), fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/))).map(([f, k, v]) =>
    f.replace(new RegExp(`"${k}":("[^"]*"|[0-9]+)`), (_m, old: string) => `"${k}":${old.startsWith('"') ? `"${v}"` : v}`),
  );
  await corpus.check(
    'api-sealed-send-fast-path',
    fc.oneof(mutations(frames), inPlace, frames),
    (text) => {
      assert.deepEqual(outcome(() => p.decodeSealedSendFrame(text)), outcome(() => decodeSealedSendFrameFully(text)), text.slice(0, 120));
      const utf8 = new TextEncoder().encode(text);
      assert.deepEqual(outcome(() => p.decodeSealedSendFrame(utf8)), outcome(() => decodeSealedSendFrameFully(utf8)));
    },
    { numRuns: 1500 },
  );
  assert.deepEqual(outcome(() => p.decodeSealedSendFrame(new Uint8Array([0xff]))), outcome(() => decodeSealedSendFrameFully(new Uint8Array([0xff]))));
});

test('sealedFrameRequestId never throws: 0, or the rid of a frame that names one', async () => {
  const frames = rec<p.SealedSendFrame>({ type: fc.constant('send'), rid, username: anyCaseName, deviceId: u32, accessKey: bytes(16), id: id16, envelope: fc.constant(new Uint8Array(512)) }).map(p.encodeSealedSendFrame);
  await corpus.check(
    'api-sealed-frame-rid',
    mutations(frames),
    (text) => {
      const r = p.sealedFrameRequestId(text);
      assert.ok(Number.isSafeInteger(r) && r >= 0 && r <= 0xffffffff, `rid ${r}`);
      let frame: p.SealedSendFrame | undefined;
      try {
        frame = p.decodeSealedSendFrame(text);
      } catch {
        return;
      }
      assert.equal(r, frame.rid);
    },
    { numRuns: 400 },
  );
});

test('fetch query: canonical after and limit, each exactly once', async () => {
  assert.deepEqual(p.decodeFetchQuery('?after=0&limit=1000'), { after: 0, limit: 1000 });
  assert.deepEqual(p.decodeFetchQuery('limit=5&after=17'), { after: 17, limit: 5 });
  for (const bad of ['', 'after=0', 'limit=5', 'after=0&limit=0', 'after=0&limit=1001', 'after=01&limit=5', 'after=-1&limit=5', 'after=0&limit=5&x=1', 'after=0&after=0&limit=5', 'after=0&limit=+5', 'after=1e3&limit=5', 'after=0&limit=5&']) {
    assert.throws(() => p.decodeFetchQuery(bad), (e) => isProtocolError(e, 'ERR_API_DECODE'), bad);
  }
  await corpus.check(
    'api-fetch-query-roundtrip',
    fc.record({ after: ms, limit: fc.integer({ min: 1, max: limits.MAX_API_FETCH_LIMIT }) }, { noNullPrototype: true }),
    (q) => {
      assert.deepEqual(p.decodeFetchQuery(p.encodeFetchQuery(q)), q);
    },
    { numRuns: 200 },
  );
  await corpus.check('api-fetch-query-any', fc.string({ maxLength: 40 }), (s) => {
    try {
      const q = p.decodeFetchQuery(s);
      assert.deepEqual(p.decodeFetchQuery(p.encodeFetchQuery(q)), q);
    } catch (e) {
      assert.ok(isProtocolError(e, 'ERR_API_DECODE'), String(e));
    }
  }, { numRuns: 500 });
});

test('credential headers: Bearer <b64[32]> and Sotto-Access-Key <b64[16]>', () => {
  const token = Uint8Array.from({ length: 32 }, (_, i) => i);
  const header = p.encodeBearerAuthorization(token);
  assert.equal(header, `Bearer ${Buffer.from(token).toString('base64url')}`);
  assert.deepEqual(p.decodeBearerAuthorization(header), token);
  for (const bad of ['', 'Bearer', 'bearer ' + header.slice(7), `Bearer  ${header.slice(7)}`, `${header}=`, `Basic ${header.slice(7)}`, header.slice(0, -1)]) {
    assert.throws(() => p.decodeBearerAuthorization(bad), (e) => isProtocolError(e, 'ERR_API_DECODE'), JSON.stringify(bad));
  }
  const key = new Uint8Array(16).fill(7);
  assert.deepEqual(p.decodeAccessKeyHeader(p.encodeAccessKeyHeader(key)), key);
  assert.throws(() => p.decodeAccessKeyHeader(p.encodeBase64url(new Uint8Array(17))), (e) => isProtocolError(e, 'ERR_API_DECODE'));
  assert.throws(() => p.encodeAccessKeyHeader(new Uint8Array(15)), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
});
