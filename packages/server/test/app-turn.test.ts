// GET /v1/calls/turn (docs/protocol/11 §11.7, docs/protocol/09 §9.12) through app.fetch: bearer only,
// rate-limited per account, 404 without TURN, a body the strict decoder accepts, and credentials in
// coturn's REST-API format. That coturn accepts them is turn-coturn.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { decodeBase64url, decodeTurnCredentialsResponse } from '@sotto/protocol';
import { createMemoryStore } from '@sotto/store';
import { createApp, isServerError, mintTurnCredentials, TURN_CREDENTIAL_TTL_SECONDS, type AppDeps, type TurnOptions } from '@sotto/server';
import { TurnConfig } from '../src/turn.ts';
import { Clock, authenticate, bearer, crypto, expectError, expectOk, newUser, register, viaApp } from './support.ts';

const TURN = { urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'], secret: 'a-test-secret-of-enough-length' } as const;

async function setup(extra: Partial<AppDeps> = {}) {
  const clock = new Clock();
  const app = createApp({ store: createMemoryStore(), crypto, now: clock.now, limits: { sweepIntervalMs: 0 }, ...extra });
  const http = viaApp(app);
  const alice = await newUser('turn_alice');
  await register(http, alice);
  return { app, http, clock, token: await authenticate(http, alice) };
}

test('without TURN: 404 with the standard error body to a device (401 first without a token)', async () => {
  const { http, token } = await setup();
  await expectError(await http('GET', '/v1/calls/turn', { headers: bearer(token) }), 404, 'ERR_API_NOT_FOUND', 'no TURN');
  await expectError(await http('GET', '/v1/calls/turn'), 401, 'ERR_API_UNAUTHORIZED', 'no TURN, no bearer');
});

test('bearer authentication like every bearer route: 401 without or with an unknown token, 400 malformed, 405 other methods', async () => {
  const { http, token } = await setup({ turn: TURN });
  await expectError(await http('GET', '/v1/calls/turn'), 401, 'ERR_API_UNAUTHORIZED', 'no bearer');
  await expectError(await http('GET', '/v1/calls/turn', { headers: bearer(new Uint8Array(32)) }), 401, 'ERR_API_UNAUTHORIZED', 'unknown token');
  await expectError(await http('GET', '/v1/calls/turn', { headers: { authorization: 'Bearer nope' } }), 400, 'ERR_API_BAD_REQUEST', 'malformed bearer');
  await expectError(await http('GET', '/v1/calls/turn', { headers: { 'sotto-access-key': 'AAAAAAAAAAAAAAAAAAAAAA' } }), 401, 'ERR_API_UNAUTHORIZED', 'an access key is no bearer');
  await expectError(await http('POST', '/v1/calls/turn', { headers: bearer(token) }), 405, 'ERR_API_METHOD_NOT_ALLOWED', 'POST');
});

test('an expired token is refused', async () => {
  const { http, clock, token } = await setup({ turn: TURN });
  clock.advance(60 * 60 * 1000);
  await expectError(await http('GET', '/v1/calls/turn', { headers: bearer(token) }), 401, 'ERR_API_UNAUTHORIZED', 'expired token');
});

test('200: the strict body of §11.7 with coturn REST-API credentials, fresh each time', async () => {
  const { http, clock, token } = await setup({ turn: TURN });
  const res = await http('GET', '/v1/calls/turn', { headers: bearer(token) });
  const text = await expectOk(res);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = decodeTurnCredentialsResponse(text);
  assert.deepEqual(Object.keys(JSON.parse(text) as object), ['urls', 'username', 'credential', 'ttl']);
  assert.deepEqual(body.urls, TURN.urls);
  assert.equal(body.ttl, 3600);
  assert.equal(TURN_CREDENTIAL_TTL_SECONDS, 3600);
  // username = "<expiry>:<16 random bytes base64url>", expiry = now + ttl in Unix seconds.
  const [expiry, random, ...rest] = body.username.split(':');
  assert.equal(rest.length, 0);
  assert.equal(expiry, String(Math.floor(clock.t / 1000) + 3600));
  assert.equal(decodeBase64url(random ?? '', 'random', { length: 16 }).length, 16);
  assert.ok(!body.username.includes('turn_alice'), 'the username does not name the account');
  // credential = standard padded base64 of HMAC-SHA-1(secret, username).
  assert.equal(body.credential, createHmac('sha1', TURN.secret).update(body.username).digest('base64'));
  assert.match(body.credential, /^[A-Za-z0-9+/]{27}=$/);
  const again = decodeTurnCredentialsResponse(await expectOk(await http('GET', '/v1/calls/turn', { headers: bearer(token) })));
  assert.notEqual(again.username, body.username, 'a fresh random id per request');
  assert.notEqual(again.credential, body.credential);
});

test('rate-limited per account like the other bearer routes', async () => {
  const { http, token } = await setup({ turn: TURN, rateLimits: { perAccount: { capacity: 3, refillPerSecond: 0.001 } } });
  // authenticate() above used no bearer; each GET below takes one token of the account's bucket.
  for (let i = 0; i < 3; i++) await expectOk(await http('GET', '/v1/calls/turn', { headers: bearer(token) }));
  const limited = await http('GET', '/v1/calls/turn', { headers: bearer(token) });
  assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After');
  await expectError(limited, 429, 'ERR_API_RATE_LIMITED', 'fourth request');
});

test('mintTurnCredentials is pure: the same inputs, the same credential', () => {
  const random = Uint8Array.from({ length: 16 }, (_, i) => i);
  const args = { urls: TURN.urls, secret: TURN.secret, nowMs: 1_700_000_000_999, random };
  const a = mintTurnCredentials(args);
  assert.deepEqual(mintTurnCredentials(args), a);
  assert.equal(a.username, '1700003600:AAECAwQFBgcICQoLDA0ODw');
  assert.equal(a.credential, createHmac('sha1', TURN.secret).update('1700003600:AAECAwQFBgcICQoLDA0ODw').digest('base64'));
  assert.equal(mintTurnCredentials({ ...args, ttlSeconds: 60 }).username, '1700000060:AAECAwQFBgcICQoLDA0ODw');
});

test('createApp refuses unusable or unsafe TURN settings (ERR_SERVER_CONFIG), and the secret never prints', () => {
  const refuse = (turn: unknown, why: string): void => {
    assert.throws(() => createApp({ store: createMemoryStore(), crypto, limits: { sweepIntervalMs: 0 }, turn: turn as TurnOptions }), (e) => isServerError(e, 'ERR_SERVER_CONFIG'), why);
  };
  refuse({ urls: [], secret: TURN.secret }, 'no URL');
  refuse({ urls: ['stun:127.0.0.1:3478'], secret: TURN.secret }, 'a STUN URL');
  refuse({ urls: ['turn:127.0.0.1:3478', 'https://example.org'], secret: TURN.secret }, 'a second URL that is not TURN');
  refuse({ urls: TURN.urls, secret: 'short' }, 'a short secret');
  refuse({ urls: TURN.urls, secret: 'has a space in the middle' }, 'a secret with spaces');
  refuse({ urls: TURN.urls, secret: '' }, 'an empty secret');
  refuse({ urls: TURN.urls }, 'no secret');
  const config = new TurnConfig(TURN);
  for (const shown of [String(config), JSON.stringify({ config }), inspect(config), inspect({ config }, { depth: 5 })]) {
    assert.ok(!shown.includes(TURN.secret), shown);
    assert.match(shown, /redacted/);
  }
});
