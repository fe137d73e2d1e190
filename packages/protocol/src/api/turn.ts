// docs/protocol/11 §11.7: the body of `GET /v1/calls/turn` — short-lived credentials for the server's
// TURN server in coturn's REST-API scheme (`use-auth-secret`):
//
//   { "urls": [string, ...], "username": "<expiry>:<random>", "credential": b64std(HMAC-SHA-1(secret, username)), "ttl": seconds }
//
// Strict like every body of docs/protocol/09 §9.1 (unknown fields rejected), and stricter than coturn
// needs on each field, so that a server cannot smuggle anything else through it:
// - urls: 1..MAX_TURN_URLS `turn:` / `turns:` URIs (RFC 7065 §3.1) with a host, an optional port and
//   an optional `?transport=udp|tcp`; nothing else (no `stun:`, no credentials, no other query);
// - username: canonical decimal Unix seconds, ":", 16 random bytes as canonical base64url (§11.7:
//   "16 random bytes in base64url, not the user's name");
// - credential: a 20-byte HMAC-SHA-1 as canonical padded standard base64 (RFC 4648 §4), 28 characters;
// - ttl: 1..MAX_TURN_TTL_SECONDS seconds.
import { ProtocolError } from '../errors.ts';
import { decodeBase64url } from './base64url.ts';
import { arrayOf, body, object, string, type FieldCodec } from './fields.ts';

/** §11.7: the `<random>` half of the username is 16 random bytes. */
export const TURN_USERNAME_RANDOM_BYTES = 16;
/** §11.7: the credential is an HMAC-SHA-1 tag (RFC 2104 with SHA-1: 20 bytes). */
export const TURN_CREDENTIAL_BYTES = 20;
// Bounds of this body (docs/protocol/09 §9.1 "strings have the bounds given"): a deployment lists a
// few TURN URIs (UDP, TCP, TLS per host); 8 leaves room, 256 characters fits any host name (253) and port.
/** At most this many TURN URIs in one answer. */
export const MAX_TURN_URLS = 8;
/** At most this many characters per TURN URI. */
export const MAX_TURN_URL_CHARS = 256;
/** A credential lives at most a day; §11.7 mints them for 3600 s. */
export const MAX_TURN_TTL_SECONDS = 86_400;

/** The answer of `GET /v1/calls/turn` (docs/protocol/11 §11.7), shaped like an RTCIceServer plus `ttl`. */
export interface TurnCredentialsResponse {
  readonly urls: readonly string[];
  /** "<expiry>:<random>": expiry in Unix seconds, random = 16 bytes base64url. */
  readonly username: string;
  /** Standard padded base64 of HMAC-SHA-1(secret, username). */
  readonly credential: string;
  /** Seconds the credential is valid for, from when it was minted. */
  readonly ttl: number;
}

const fail = (what: string, message: string): never => {
  throw new ProtocolError('ERR_API_DECODE', `${what}: ${message}`);
};

// RFC 7065 §3.1: turnURI = scheme ":" host [ ":" port ] [ "?transport=" transport ]; host is an
// IP-literal (RFC 3986, here IPv6 only), an IPv4 address or a registered name (here: LDH labels).
const TURN_URI = /^turns?:(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::([1-9][0-9]{0,4}))?(?:\?transport=(?:udp|tcp))?$/;

/** True when `text` is a TURN URI this body accepts (RFC 7065 §3.1, restricted as above). */
export function isTurnUrl(text: string): boolean {
  if (typeof text !== 'string' || text.length > MAX_TURN_URL_CHARS) return false;
  const m = TURN_URI.exec(text);
  return m !== null && (m[1] === undefined || Number(m[1]) <= 65_535);
}

const turnUrl = string(1, MAX_TURN_URL_CHARS, (s, what) => {
  if (!isTurnUrl(s)) fail(what, 'expected a turn: or turns: URI (RFC 7065): host, optional port, optional ?transport=udp|tcp');
});

// Canonical decimal seconds (no sign, no leading zero, a safe integer), ":", canonical base64url of 16 bytes.
const USERNAME = /^(0|[1-9][0-9]{0,15}):([A-Za-z0-9_-]{22})$/;
const turnUsername = string(24, 39, (s, what) => {
  const m = USERNAME.exec(s);
  if (m === null || !Number.isSafeInteger(Number(m[1]))) return fail(what, 'expected "<expiry seconds>:<16 bytes base64url>" (docs/protocol/11 §11.7)');
  decodeBase64url(m[2] ?? '', what, { length: TURN_USERNAME_RANDOM_BYTES });
});

// RFC 4648 §4 with padding: 20 bytes are 27 characters and one "="; canonical means the 2 unused low
// bits of the 27th character are zero (its alphabet index is a multiple of 4).
const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const CREDENTIAL = /^[A-Za-z0-9+/]{27}=$/;
const turnCredential = string(28, 28, (s, what) => {
  if (!CREDENTIAL.test(s) || STD_ALPHABET.indexOf(s.charAt(26)) % 4 !== 0) fail(what, 'expected canonical padded base64 of 20 bytes (HMAC-SHA-1, docs/protocol/11 §11.7)');
});

const ttlSeconds: FieldCodec<number> = (() => {
  const check = (v: unknown, what: string, code: 'ERR_API_DECODE' | 'ERR_ARGUMENT'): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_TURN_TTL_SECONDS) {
      throw new ProtocolError(code, `${what}: expected an integer from 1 to ${MAX_TURN_TTL_SECONDS}`);
    }
    return v;
  };
  return { decode: (v, what) => check(v, what, 'ERR_API_DECODE'), encode: (v, what) => check(v, what, 'ERR_ARGUMENT') };
})();

const turnCredentialsResponse: FieldCodec<TurnCredentialsResponse> = object({
  urls: arrayOf(turnUrl, 1, MAX_TURN_URLS),
  username: turnUsername,
  credential: turnCredential,
  ttl: ttlSeconds,
});

const turnCredentialsResponseBody = body(turnCredentialsResponse, 'TURN credentials response');

/** JSON text of a `GET /v1/calls/turn` answer; ERR_ARGUMENT for a value the decoder would refuse. */
export const encodeTurnCredentialsResponse = turnCredentialsResponseBody.encode;
/** Strict decoder of a `GET /v1/calls/turn` answer; ERR_API_DECODE otherwise. */
export const decodeTurnCredentialsResponse = turnCredentialsResponseBody.decode;
