// docs/protocol/11 §11.7: TURN credentials in coturn's REST-API scheme (coturn's `use-auth-secret` /
// `static-auth-secret`; the scheme of draft-uberti-behave-turn-rest-00 §2.2, which coturn implements):
//
//   username   = "<expiry>:<random>"   expiry: Unix seconds when the credential stops working (now + ttl)
//                                      random: 16 random bytes, base64url — not the account name, so the
//                                      TURN server's logs do not say who called
//   credential = base64(HMAC-SHA-1(secret, username))   standard alphabet, padded (RFC 4648 §4)
//
// coturn recomputes the HMAC from the username and its copy of the secret, and refuses the username
// once its expiry has passed: nothing is stored on either side, and nothing is logged here.
// Minting is pure (clock and randomness come in); TurnConfig checks the operator's settings once and
// holds the secret, which it never prints.
import { createHmac } from 'node:crypto';
import {
  encodeBase64url,
  isTurnUrl,
  MAX_TURN_URLS,
  TURN_USERNAME_RANDOM_BYTES,
  type Rng,
  type TurnCredentialsResponse,
} from '@sotto/protocol';
import { ServerError } from './errors.ts';

/** §11.7: "ttl = 3600". */
export const TURN_CREDENTIAL_TTL_SECONDS = 3600;

/** The operator's TURN settings (`startServer` option `turn`, `sotto serve --turn-url/--turn-secret`). */
export interface TurnOptions {
  /** The TURN server's URIs as clients should use them, e.g. "turn:turn.example.org:3478?transport=udp". */
  readonly urls: readonly string[];
  /** coturn's `static-auth-secret`. */
  readonly secret: string;
}

// The shared secret: long enough not to be guessed offline from one credential (an HMAC-SHA-1 tag
// and its username are a test of any candidate secret), and visible ASCII only, because the operator
// also writes it into coturn's configuration or command line, where spaces and controls break.
const MIN_SECRET_CHARS = 16;
const MAX_SECRET_CHARS = 256;
const SECRET_CHARS = /^[\x21-\x7e]+$/;

/**
 * Mints one credential (§11.7). `nowMs` is the clock in milliseconds; `random` the 16 random bytes of
 * the username. Pure: the same inputs give the same credential.
 */
export function mintTurnCredentials(args: {
  readonly urls: readonly string[];
  readonly secret: string;
  readonly nowMs: number;
  readonly random: Uint8Array;
  readonly ttlSeconds?: number;
}): TurnCredentialsResponse {
  const ttl = args.ttlSeconds ?? TURN_CREDENTIAL_TTL_SECONDS;
  if (args.random.length !== TURN_USERNAME_RANDOM_BYTES) throw new ServerError('ERR_SERVER_CONFIG', `random: expected ${TURN_USERNAME_RANDOM_BYTES} bytes, got ${args.random.length}`);
  const expiry = Math.floor(args.nowMs / 1000) + ttl; // §11.7: expiry = now + ttl, in Unix seconds
  const username = `${expiry}:${encodeBase64url(args.random)}`; // §11.7: "<expiry>:<random>"
  const credential = createHmac('sha1', args.secret).update(username, 'utf8').digest('base64'); // §11.7: b64std(HMAC-SHA-1(secret, username))
  return { urls: [...args.urls], username, credential, ttl };
}

/** The checked TURN settings of one server; redacts itself (the secret never prints). */
export class TurnConfig {
  readonly urls: readonly string[];
  readonly #secret: string;

  /** Throws ServerError ERR_SERVER_CONFIG for settings clients could not use or that are unsafe. */
  constructor(options: TurnOptions) {
    const urls: unknown = options.urls;
    if (!Array.isArray(urls) || urls.length < 1 || urls.length > MAX_TURN_URLS) throw new ServerError('ERR_SERVER_CONFIG', `turn.urls: expected 1 to ${MAX_TURN_URLS} TURN URIs`);
    urls.forEach((u: unknown, i) => {
      if (typeof u !== 'string' || !isTurnUrl(u)) throw new ServerError('ERR_SERVER_CONFIG', `turn.urls[${i}]: expected a turn: or turns: URI (RFC 7065), e.g. turn:turn.example.org:3478?transport=udp`);
    });
    const secret: unknown = options.secret;
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_CHARS || secret.length > MAX_SECRET_CHARS || !SECRET_CHARS.test(secret)) {
      throw new ServerError('ERR_SERVER_CONFIG', `turn.secret: expected ${MIN_SECRET_CHARS} to ${MAX_SECRET_CHARS} visible ASCII characters (no spaces)`);
    }
    this.urls = Object.freeze([...(urls as string[])]);
    this.#secret = secret;
  }

  /** A fresh credential valid for TURN_CREDENTIAL_TTL_SECONDS from `nowMs`. */
  mint(nowMs: number, rng: Rng): TurnCredentialsResponse {
    return mintTurnCredentials({ urls: this.urls, secret: this.#secret, nowMs, random: rng(TURN_USERNAME_RANDOM_BYTES) });
  }

  toString(): string {
    return '[TurnConfig: redacted]';
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
