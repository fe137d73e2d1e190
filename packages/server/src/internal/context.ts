// What every route handler gets: the app's shared state and the request, plus the checks several
// routes share — bearer authentication (with the per-account rate limit), recipient paths, and the
// sealed-send authorisation by access key (docs/protocol/09 §9.4, §9.7, §9.9).
import { timingSafeEqual } from 'node:crypto';
import {
  ACCESS_KEY_HEADER,
  decodeAccessKeyHeader,
  decodeBearerAuthorization,
  foldUsername,
  isProtocolError,
  type CryptoProvider,
  type Rng,
} from '@sotto/protocol';
import type { Account, DeviceAddress, Store } from '@sotto/store';
import { ServerError } from '../errors.ts';
import type { ServerLimits } from '../limits.ts';
import type { Logger } from '../logger.ts';
import type { TurnConfig } from '../turn.ts';
import type { AccountCache } from './accounts.ts';
import type { Credentials, TokenOwner } from './credentials.ts';
import type { Fanout } from './fanout.ts';
import { readBody, replyResponse, type HeaderSource, type Reply } from './http.ts';
import type { Metrics } from './metrics.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface AppState {
  readonly store: Store;
  readonly crypto: CryptoProvider;
  readonly now: () => number;
  readonly rng: Rng;
  readonly limits: ServerLimits;
  readonly logger: Logger;
  readonly credentials: Credentials;
  readonly fanout: Fanout;
  readonly metrics: Metrics;
  readonly accountLimiter: RateLimiter;
  /** Accounts by name for the per-message checks (they never change once created). */
  readonly accounts: AccountCache;
  /** TURN credentials (docs/protocol/11 §11.7); undefined when the server has no TURN. */
  readonly turn: TurnConfig | undefined;
}

/** What the shared checks below read of a request: the app, its headers, path parameters, the time. */
export interface CheckContext {
  readonly app: AppState;
  readonly request: { readonly headers: HeaderSource };
  readonly params: Readonly<Record<string, string>>;
  /** The clock, read once per request. */
  readonly now: number;
}

export interface RequestContext extends CheckContext {
  readonly request: Request;
  readonly url: URL;
}

export type Handler = (ctx: RequestContext) => Promise<Response>;

/** A hot route's request (sealed send, fetch, ack), as both transports can give it: the fetch
 *  handler from a WHATWG Request, startServer's fast path straight from node:http. */
export interface HotContext extends CheckContext {
  /** The query as URL.search has it: "" or "?…". */
  readonly search: string;
  /** The whole body, under readBody's rules: 400 for a malformed Content-Length, 413 over `limit`. */
  readBody(limit: number): Promise<Uint8Array>;
}

/** A hot route: answers with a Reply (plain data) instead of a WHATWG Response. */
export type HotHandler = (ctx: HotContext) => Promise<Reply>;

/** The hot route as an ordinary Handler: what the fetch handler runs, so that both transports run
 *  the same code and give the same answer. */
export function whatwgHandler(hot: HotHandler): Handler {
  return async (ctx) =>
    replyResponse(
      await hot({
        app: ctx.app,
        request: ctx.request,
        params: ctx.params,
        now: ctx.now,
        search: ctx.url.search,
        readBody: (limit) => readBody(ctx.request, limit),
      }),
    );
}

/** A device's identity as its bearer token names it. */
export type AuthenticatedDevice = DeviceAddress;

/** Throws 429 when the account's bucket is empty (§9.9). */
export function chargeAccount(app: AppState, username: string, now: number): void {
  const wait = app.accountLimiter.take(username, now);
  if (wait > 0) {
    app.metrics.add('rate_limited');
    throw new ServerError('ERR_API_RATE_LIMITED', 'too many requests for this account', { retryAfterSeconds: wait });
  }
}

/** The owner of a live token, or undefined. */
export function tokenOwner(app: AppState, token: Uint8Array, now: number): TokenOwner | undefined {
  return app.credentials.tokenOwner(token, now);
}

/** §9.4 step 3: `Authorization: Bearer <b64[32]>` naming a live token; 401 otherwise (400 when the
 *  header does not decode). Charges the account's rate limit. */
export function requireBearer(ctx: CheckContext): AuthenticatedDevice {
  const header = ctx.request.headers.get('authorization');
  if (header === null) throw new ServerError('ERR_API_UNAUTHORIZED', 'expected Authorization: Bearer <token>');
  const token = decodeOr400(() => decodeBearerAuthorization(header));
  const owner = tokenOwner(ctx.app, token, ctx.now);
  if (owner === undefined) throw new ServerError('ERR_API_UNAUTHORIZED', 'the token is unknown or expired');
  chargeAccount(ctx.app, owner.username, ctx.now);
  return { username: owner.username, deviceId: owner.deviceId };
}

/** Rethrows a ProtocolError as 400 with its message (protocol messages never quote the input); any
 *  other error unchanged. */
export function asBadRequest(e: unknown): never {
  if (isProtocolError(e)) throw new ServerError('ERR_API_BAD_REQUEST', e.message, { cause: e });
  throw e;
}

/** Runs a decoder; its ProtocolError becomes 400. */
export function decodeOr400<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    return asBadRequest(e);
  }
}

const U32_DECIMAL = /^(?:0|[1-9][0-9]{0,9})$/;

/** `{username}` and `{deviceId}` path segments: a §9.2 username (folded here) and a canonical u32. */
export function devicePath(ctx: CheckContext): DeviceAddress {
  const username = usernamePath(ctx);
  const raw = ctx.params.deviceId ?? '';
  if (!U32_DECIMAL.test(raw) || Number(raw) > 0xffffffff) throw new ServerError('ERR_API_BAD_REQUEST', 'deviceId: expected a decimal u32');
  return { username, deviceId: Number(raw) };
}

export function usernamePath(ctx: CheckContext): string {
  return decodeOr400(() => foldUsername(ctx.params.username ?? ''));
}

/**
 * §9.7: who may send to, fetch a bundle of, or look up (§9.6) the account `username`. Exactly one credential: `Sotto-Access-Key`
 * (sealed — the request names no sender) or a bearer token (the sender's account, charged to its rate
 * limit). With an access key, a wrong key and an unknown account are the same 401, checked before
 * anything says whether the device exists. Returns the recipient's account (null only for bearer
 * requests to an unknown account: the caller answers 404).
 */
export async function authorizeForAccount(ctx: CheckContext, username: string): Promise<Account | null> {
  const accessHeader = ctx.request.headers.get(ACCESS_KEY_HEADER);
  const hasBearer = ctx.request.headers.get('authorization') !== null;
  if (accessHeader !== null && hasBearer) throw new ServerError('ERR_API_BAD_REQUEST', `expected one credential: ${ACCESS_KEY_HEADER} or Authorization, got both`);
  if (accessHeader === null) {
    requireBearer(ctx);
    return ctx.app.accounts.get(username);
  }
  return authorizeAccessKey(ctx.app, username, decodeOr400(() => decodeAccessKeyHeader(accessHeader)));
}

const NO_HASH = new Uint8Array(32);

/** §9.7: the account `username` if `accessKey` opens it; a wrong key and an unknown account are the
 *  same 401. Shared by the access-key header and the sealed-send WebSocket (§9.7.1). */
export async function authorizeAccessKey(app: AppState, username: string, accessKey: Uint8Array): Promise<Account> {
  const presented = app.crypto.sha256(accessKey);
  return checkAccessKey(presented, await app.accounts.get(username));
}

/** authorizeAccessKey without the await when the account is in memory (the sealed-send socket's
 *  per-message path); undefined when it is not, and the caller takes authorizeAccessKey. */
export function authorizeCachedAccessKey(app: AppState, username: string, accessKey: Uint8Array): Account | undefined {
  const account = app.accounts.cached(username);
  return account === undefined ? undefined : checkAccessKey(app.crypto.sha256(accessKey), account);
}

function checkAccessKey(presented: Uint8Array, account: Account | null): Account {
  // Compare against something even when the account does not exist, so both 401s take the same path.
  const stored = account?.accessKeyHash ?? NO_HASH;
  const match = timingSafeEqual(presented, stored) && account !== null;
  if (!match) throw new ServerError('ERR_API_UNAUTHORIZED', 'the access key does not open this account');
  return account;
}
