// The body of GET /v1/calls/turn (docs/protocol/11 §11.7), strict like every body of docs/protocol/09
// §9.1 (STYLE.md §12): decode(encode(x)) = x; random and mutated texts give ERR_API_DECODE or a value
// that round-trips; encoders refuse (ERR_ARGUMENT) what decoders refuse; named refusals of each rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import {
  decodeTurnCredentialsResponse,
  encodeBase64url,
  encodeTurnCredentialsResponse,
  isProtocolError,
  isTurnUrl,
  MAX_TURN_TTL_SECONDS,
  MAX_TURN_URLS,
  type TurnCredentialsResponse,
} from '@sotto/protocol';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Standard padded base64 (RFC 4648 §4), written out here so the test does not lean on the code under test. */
function base64std(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = bytes.length - i;
    const v = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += STD.charAt(v >>> 18) + STD.charAt((v >>> 12) & 63) + (n > 1 ? STD.charAt((v >>> 6) & 63) : '=') + (n > 2 ? STD.charAt(v & 63) : '=');
  }
  return out;
}

const host = fc.oneof(
  fc.constantFrom('127.0.0.1', 'turn.example.org', '[::1]', '[2001:db8::1]', 'a'),
  fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6})?$/),
);
const url = fc
  .tuple(fc.constantFrom('turn', 'turns'), host, fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }), fc.constantFrom('', '?transport=udp', '?transport=tcp'))
  .map(([scheme, h, port, query]) => `${scheme}:${h}${port === undefined ? '' : `:${port}`}${query}`);
const response: fc.Arbitrary<TurnCredentialsResponse> = fc.record(
  {
    urls: fc.array(url, { minLength: 1, maxLength: MAX_TURN_URLS }),
    username: fc.tuple(fc.maxSafeNat(), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([t, r]) => `${t}:${encodeBase64url(r)}`),
    credential: fc.uint8Array({ minLength: 20, maxLength: 20 }).map(base64std),
    ttl: fc.integer({ min: 1, max: MAX_TURN_TTL_SECONDS }),
  },
  { noNullPrototype: true },
);

const good: TurnCredentialsResponse = {
  urls: ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'],
  username: `1700003600:${encodeBase64url(new Uint8Array(16).fill(7))}`,
  credential: base64std(new Uint8Array(20).fill(9)),
  ttl: 3600,
};

test('decode(encode(x)) = x, from text and from UTF-8 bytes', async () => {
  assert.deepEqual(decodeTurnCredentialsResponse(encodeTurnCredentialsResponse(good)), good);
  await corpus.check(
    'api-turn-credentials-roundtrip',
    response,
    (x) => {
      const text = encodeTurnCredentialsResponse(x);
      assert.deepEqual(decodeTurnCredentialsResponse(text), x);
      assert.deepEqual(decodeTurnCredentialsResponse(new TextEncoder().encode(text)), x);
    },
    { numRuns: 200 },
  );
});

test('random and mutated texts give ERR_API_DECODE or a value that round-trips', async () => {
  const other = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 2 ** 53 + 2 }), fc.string({ maxLength: 8 }), fc.constant([]), fc.constant({}));
  const mutated = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.tuple(response.map(encodeTurnCredentialsResponse), fc.nat(), fc.string({ minLength: 1, maxLength: 2 })).map(([s, i, x]) => {
      const at = i % (s.length + 1);
      return s.slice(0, at) + x + s.slice(at + 1);
    }),
    fc.tuple(response.map(encodeTurnCredentialsResponse), fc.constantFrom('urls', 'username', 'credential', 'ttl', 'extra'), other).map(([s, k, v]) => {
      const o = JSON.parse(s) as Record<string, unknown>;
      o[k] = v;
      return JSON.stringify(o);
    }),
  );
  await corpus.check(
    'api-turn-credentials-mutated',
    mutated,
    (text) => {
      let v: TurnCredentialsResponse;
      try {
        v = decodeTurnCredentialsResponse(text);
      } catch (e) {
        assert.ok(isProtocolError(e, 'ERR_API_DECODE'), `untyped error: ${String(e)}`);
        return;
      }
      assert.deepEqual(decodeTurnCredentialsResponse(encodeTurnCredentialsResponse(v)), v);
    },
    { numRuns: 600 },
  );
});

test('named refusals: each field and its rule (§11.7)', () => {
  const json = JSON.parse(encodeTurnCredentialsResponse(good)) as Record<string, unknown>;
  const refuse = (change: Record<string, unknown>, why: string, encoderToo = true): void => {
    const body = { ...json, ...change };
    assert.throws(() => decodeTurnCredentialsResponse(JSON.stringify(body)), (e) => isProtocolError(e, 'ERR_API_DECODE'), `decode: ${why}`);
    if (encoderToo) assert.throws(() => encodeTurnCredentialsResponse(body as unknown as TurnCredentialsResponse), (e) => isProtocolError(e, 'ERR_ARGUMENT'), `encode: ${why}`);
  };
  const random = encodeBase64url(new Uint8Array(16).fill(7));
  refuse({ extra: 1 }, 'unknown field', false); // encoders write the known fields only
  refuse({ ttl: undefined }, 'missing field');
  refuse({ urls: [] }, 'no URL');
  refuse({ urls: Array.from({ length: MAX_TURN_URLS + 1 }, () => 'turn:a') }, 'too many URLs');
  for (const u of ['stun:127.0.0.1:3478', 'http://127.0.0.1', 'turn:', 'turn:user@host', 'turn:host:0', 'turn:host:65536', 'turn:host:03478', 'turn:host?transport=sctp', 'turn:host?x=1', 'turn: host', `turn:${'a'.repeat(300)}`]) {
    assert.equal(isTurnUrl(u), false, u);
    refuse({ urls: [u] }, `URL ${u}`);
  }
  refuse({ username: `alice:${random}` }, 'a name instead of the expiry');
  refuse({ username: `01700003600:${random}` }, 'expiry with a leading zero');
  refuse({ username: `-1:${random}` }, 'negative expiry');
  refuse({ username: `1700003600:alice` }, 'a name instead of the random id');
  refuse({ username: `1700003600:${random}A` }, 'random id too long');
  refuse({ username: `1700003600:${random.slice(0, -1)}B` }, 'random id not canonical (unused bits set)');
  refuse({ username: `1700003600:${random.slice(0, -2)}+/` }, 'random id in the standard alphabet');
  refuse({ credential: good.credential.slice(0, -1) }, 'credential without padding');
  refuse({ credential: `${good.credential.slice(0, 26)}B=` }, 'credential not canonical (unused bits set)');
  refuse({ credential: good.credential.replace(/.$/, 'A') }, 'credential too long / not padded');
  refuse({ credential: '_'.repeat(27) + '=' }, 'credential in the URL-safe alphabet');
  refuse({ ttl: 0 }, 'ttl 0');
  refuse({ ttl: MAX_TURN_TTL_SECONDS + 1 }, 'ttl over a day');
  refuse({ ttl: 1.5 }, 'fractional ttl');
  refuse({ ttl: '3600' }, 'ttl as a string');
});
