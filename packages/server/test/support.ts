// Shared pieces of the server tests: real keys and real protocol objects (nothing is mocked), a
// settable clock, two transports (app.fetch in process, or HTTP to a real startServer), a store
// wrapper that records every call that could change state, and a snapshot of what a store holds for
// a set of known accounts, to compare before and after a refused request.
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { fastProvider } from '@sotto/crypto';
import {
  IdentityKeyPair,
  KemPrekeyPrivate,
  SignedPrekeyPrivate,
  accessKeyFromProfileKey,
  buildRegistrationMessage,
  buildServerAuthMessage,
  createSenderCertificate,
  decodeChallengeResponse,
  decodeErrorBody,
  decodeTokenResponse,
  encodeAccessKeyHeader,
  encodeBearerAuthorization,
  encodePrekeyUpload,
  encodeRegistrationRequest,
  encodeSendMessageRequest,
  encodeTokenRequest,
  generateKemPrekeys,
  generateOneTimePrekeys,
  sealEnvelope,
  type ApiErrorBody,
  type ApiErrorCode,
  type Rng,
} from '@sotto/protocol';
import type { Store } from '@sotto/store';
import type { App, RequestInfo } from '@sotto/server';

export const crypto = fastProvider;
export const rng: Rng = (n) => randomFillSync(new Uint8Array(n));

/** A clock the test moves by hand: no test waits for real time to pass. */
export class Clock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface CallInit {
  readonly body?: string | Uint8Array | ReadableStream<Uint8Array> | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}
/** One HTTP request by method and path, over some transport. */
export type Http = (method: string, path: string, init?: CallInit) => Promise<Response>;

function toRequest(base: string, method: string, path: string, init: CallInit = {}): Request {
  const body = init.body instanceof Uint8Array ? init.body.slice() : init.body;
  const options: RequestInit & { duplex?: 'half' } = { method, ...(init.headers ? { headers: init.headers } : {}) };
  if (body !== undefined) options.body = body;
  if (body instanceof ReadableStream) options.duplex = 'half';
  return new Request(new URL(path, base), options);
}

export function viaApp(app: App, info?: RequestInfo): Http {
  return (method, path, init) => app.fetch(toRequest('http://sotto.test', method, path, init), info);
}

export function viaNetwork(baseUrl: string): Http {
  return (method, path, init) => fetch(toRequest(baseUrl, method, path, init));
}

export const json = (body: string, headers: Record<string, string> = {}): CallInit => ({ body, headers: { 'content-type': 'application/json', ...headers } });
export const binary = (body: Uint8Array, headers: Record<string, string> = {}): CallInit => ({ body, headers: { 'content-type': 'application/octet-stream', ...headers } });
export const bearer = (token: Uint8Array): Record<string, string> => ({ authorization: encodeBearerAuthorization(token) });
export const accessKeyHeader = (key: Uint8Array): Record<string, string> => ({ 'sotto-access-key': encodeAccessKeyHeader(key) });

/** Asserts an error answer of docs/protocol/09 §9.1: the status, a JSON error body with the code. */
export async function expectError(res: Response, status: number, code: ApiErrorCode, what = ''): Promise<ApiErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, `${what}: expected ${status} ${code}, got ${res.status} ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}: content type`);
  const body = decodeErrorBody(text);
  assert.equal(body.code, code, `${what}: ${text}`);
  return body;
}

export async function expectOk(res: Response, status = 200, what = ''): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${text}`);
  return text;
}

/** A user with real keys: identity, profile key, and the access key derived from it (§9.7). */
export interface TestUser {
  readonly name: string;
  readonly identity: IdentityKeyPair;
  readonly profileKey: Uint8Array;
  readonly accessKey: Uint8Array;
}

export async function newUser(name: string): Promise<TestUser> {
  const identity = await IdentityKeyPair.generate(crypto, rng);
  const profileKey = rng(32);
  return { name, identity, profileKey, accessKey: accessKeyFromProfileKey(crypto, profileKey) };
}

export async function registrationBody(user: TestUser, signer: IdentityKeyPair = user.identity, deviceId = 1): Promise<string> {
  const signature = await signer.sign(crypto, buildRegistrationMessage(user.name, deviceId, user.accessKey));
  return encodeRegistrationRequest({ username: user.name, identityKey: user.identity.publicKey, deviceId, accessKey: user.accessKey, signature });
}

export async function register(http: Http, user: TestUser): Promise<void> {
  await expectOk(await http('POST', '/v1/accounts', json(await registrationBody(user))), 201, `register ${user.name}`);
}

/** alice and bob, new and registered (most tests start from this pair). */
export async function registeredPair(http: Http): Promise<{ alice: TestUser; bob: TestUser }> {
  const alice = await newUser('alice');
  const bob = await newUser('bob');
  await register(http, alice);
  await register(http, bob);
  return { alice, bob };
}

export async function challenge(http: Http): Promise<Uint8Array> {
  return decodeChallengeResponse(await expectOk(await http('POST', '/v1/auth/challenge'), 200, 'challenge')).challenge;
}

export async function tokenBody(user: TestUser, value: Uint8Array, deviceId = 1, signer: IdentityKeyPair = user.identity): Promise<string> {
  const signature = await signer.sign(crypto, buildServerAuthMessage(value, user.name, deviceId));
  return encodeTokenRequest({ username: user.name, deviceId, challenge: value, signature });
}

/** Challenge, signature, token (§9.4). */
export async function authenticate(http: Http, user: TestUser): Promise<Uint8Array> {
  const c = await challenge(http);
  return decodeTokenResponse(await expectOk(await http('POST', '/v1/auth/token', json(await tokenBody(user, c))), 200, 'token')).token;
}

/** A signed prekey, a last-resort KEM prekey, and `oneTime` one-time keys of each kind from `firstId`. */
export async function prekeyUpload(user: TestUser, options: { oneTime?: number; kem?: number; firstId?: number; signedId?: number; lastResortId?: number; signer?: IdentityKeyPair } = {}): Promise<Uint8Array> {
  const signer = options.signer ?? user.identity;
  const firstId = options.firstId ?? 1;
  const signed = await SignedPrekeyPrivate.generate(crypto, rng, signer, options.signedId ?? 1);
  const lastResort = await KemPrekeyPrivate.generate(crypto, rng, signer, options.lastResortId ?? 100_000, true);
  const oneTime = await generateOneTimePrekeys(crypto, rng, signer, firstId, options.oneTime ?? 0);
  const kem = await generateKemPrekeys(crypto, rng, signer, firstId, options.kem ?? options.oneTime ?? 0);
  return encodePrekeyUpload({
    identityKey: user.identity.publicKey,
    signedPrekey: signed.public,
    lastResortKemPrekey: lastResort.public,
    oneTimePrekeys: oneTime.map((k) => k.public),
    kemPrekeys: kem.map((k) => k.public),
  });
}

/** A real sealed envelope from `from` to `to` (the content is opaque to the server). */
export async function sealed(from: TestUser, to: TestUser, now: number, size = 100): Promise<Uint8Array> {
  const certificate = await createSenderCertificate(crypto, from.identity, { username: from.name.toLowerCase(), deviceId: 1, expiresAt: now + 86_400_000 });
  return sealEnvelope(crypto, rng, { sender: from.identity, certificate, recipient: to.identity.publicKey, contentType: 'ratchet', content: rng(size) });
}

export async function sendBody(from: TestUser, to: TestUser, now: number, id: Uint8Array = rng(16)): Promise<string> {
  return encodeSendMessageRequest({ id, envelope: await sealed(from, to, now) });
}

const MUTATORS = new Set<keyof Store>([
  'createAccount',
  'addDevice',
  'touchDevice',
  'setSignedPrekey',
  'setLastResortKemPrekey',
  'addOneTimePrekeys',
  'storePrekeys',
  'takeBundleParts',
  'enqueue',
  'ack',
  'expireMessages',
  'putAttachment',
  'expireAttachments',
]);

/** Wraps a store; `mutations` lists every call of a state-changing method (successful or not). */
export function recording(store: Store): { store: Store; mutations: string[] } {
  const mutations: string[] = [];
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        if (MUTATORS.has(prop as keyof Store)) mutations.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, mutations };
}

/** Everything the store holds for these accounts' first devices, and these attachments. */
export async function snapshot(store: Store, usernames: readonly string[], attachmentIds: readonly Uint8Array[] = []): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const u of usernames) {
    const account = await store.getAccount(u);
    if (account === null) {
      out[u] = null;
      continue;
    }
    const devices = await store.listDevices(u);
    const perDevice = [];
    for (const d of devices) {
      const address = { username: u, deviceId: d.deviceId };
      perDevice.push({ device: d, counts: await store.countOneTimePrekeys(address), queue: await store.fetch(address, { after: 0, limit: 1000 }) });
    }
    out[u] = { account, devices: perDevice };
  }
  out.attachments = await Promise.all(attachmentIds.map((id) => store.getAttachment(id)));
  return out;
}
