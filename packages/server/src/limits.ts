// Every bound of the server, each with its reason (STYLE.md §3; docs/protocol/09 §9.10). The ones an
// operator may change are collected in ServerLimits / DEFAULT_LIMITS (createApp's `limits`); the
// others are protocol facts.
import { limits as protocolLimits } from '@sotto/protocol';

/** Largest sealed envelope (256 KiB): text and control messages; files go through attachments, so a
 *  queue entry stays small enough to hold in memory and push over a WebSocket (§9.10). A protocol
 *  fact: the codecs in @sotto/protocol refuse anything larger. */
export const MAX_ENVELOPE_BYTES = protocolLimits.MAX_API_ENVELOPE_BYTES;

/** Largest attachment blob (32 MiB): voice notes and photos; bigger files are out of scope for now. */
export const MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024;

/** Largest JSON body (512 KiB): a send request with the largest envelope in base64url (≈ 342 KiB) fits. */
export const MAX_JSON_BODY_BYTES = 512 * 1024;

/** Largest prekey upload (1 MiB): 100 ML-KEM-1024 one-time keys (≈ 160 KiB) and 100 X25519 ones fit
 *  with room to spare (limits.MAX_PREKEYS_PER_UPLOAD in @sotto/protocol). */
export const MAX_PREKEY_UPLOAD_BYTES = 1024 * 1024;

/** Unacknowledged messages are deleted after 30 days: a device offline longer loses them, which
 *  bounds what a server holds for a lost device. */
export const MESSAGE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Attachments are deleted after 30 days, like messages: the message that names one expires too. */
export const ATTACHMENT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Below this many one-time prekeys of either kind a device is asked to upload more (§9.5). */
export const PREKEY_LOW_WATER = 20;

/** Most pushed-but-unacknowledged messages per WebSocket (§9.8): bounds server memory per socket and
 *  the work a slow client makes the server redo on reconnect. */
export const MAX_INFLIGHT = 256;

/** Most sealed sends one sealed-send WebSocket may have in flight — received, not yet answered
 *  (§9.7.1); a send beyond it is refused with 429. Bounds what one anonymous connection can make the
 *  server hold: 256 × the largest envelope is 64 MiB at worst, a handful of KiB for text messages. */
export const MAX_SEALED_INFLIGHT = 256;

/** A challenge is accepted for 60 s after it was issued (§9.4). */
export const CHALLENGE_TTL_MS = 60_000;

/** A bearer token is valid for one hour (§9.4): a stolen token is worth an hour. */
export const TOKEN_TTL_MS = 60 * 60 * 1000;

/** A WebSocket must authenticate within 10 s or is closed with 4401 (§9.8). */
export const WS_AUTH_TIMEOUT_MS = 10_000;

/** Most envelope bytes one fetch page carries (4 MiB); a page stops early and says "more" (§9.8), so
 *  1000 large envelopes never become one 256 MiB response. */
export const MAX_FETCH_PAGE_BYTES = 4 * 1024 * 1024;

/** Largest WebSocket frame a client may send (64 KiB): an ack of MAX_API_ACK_IDS ids is ≈ 25 KiB. */
export const MAX_WS_FRAME_BYTES = 64 * 1024;

/** Most challenges awaiting an answer, server-wide: each is 32 bytes and a timestamp; the per-address
 *  rate limit is the first defence, this bound the last (503 beyond it). */
export const MAX_PENDING_CHALLENGES = 100_000;

/** Most live bearer tokens, server-wide (only SHA-256 of each is kept): the oldest is dropped beyond it. */
export const MAX_LIVE_TOKENS = 200_000;

/** Most accounts kept in memory for the per-message access-key check (internal/accounts.ts): each is
 *  a name and two 32-byte keys, so 50,000 are a few MiB; beyond it the oldest is read again. */
export const MAX_CACHED_ACCOUNTS = 50_000;

/** Most rate-limit buckets kept (per address and per account); idle full buckets are dropped first. */
export const MAX_RATE_LIMIT_BUCKETS = 100_000;

/** How often expired messages, attachments, challenges and tokens are deleted (1 min): expiry is
 *  also checked on every read, so this only bounds how long expired bytes stay on disk. */
export const SWEEP_INTERVAL_MS = 60_000;

/** Account and device times (created-at, last-seen-at) are stored rounded down to the UTC day: an
 *  operator needs a date to retire devices unseen for months, not the moment somebody registered or
 *  came online, which would be one more timing record to correlate with a network log
 *  (docs/server-data.md). Not an operator setting: finer would only leak more. */
export const STORED_TIME_GRANULARITY_MS = 24 * 60 * 60 * 1000;

/** A token bucket: `capacity` requests at once, refilled at `refillPerSecond`. */
export interface TokenBucketSettings {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** Rate limits (§9.9): per remote address (every request) and per account (bearer requests). */
export interface RateLimitSettings {
  readonly perAddress: TokenBucketSettings;
  readonly perAccount: TokenBucketSettings;
}

/** Defaults generous enough for a busy client behind one address, tight enough that one address
 *  cannot flood queues or make the server verify signatures all day. */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  perAddress: { capacity: 600, refillPerSecond: 60 },
  perAccount: { capacity: 600, refillPerSecond: 60 },
};

/** The bounds an operator (or a test) may change through createApp / startServer. */
export interface ServerLimits {
  readonly maxAttachmentBytes: number;
  readonly maxJsonBodyBytes: number;
  readonly maxPrekeyUploadBytes: number;
  readonly messageRetentionMs: number;
  readonly attachmentRetentionMs: number;
  readonly prekeyLowWater: number;
  readonly maxInflight: number;
  readonly maxSealedInflight: number;
  readonly challengeTtlMs: number;
  readonly tokenTtlMs: number;
  readonly wsAuthTimeoutMs: number;
  readonly maxFetchPageBytes: number;
  /** 0 disables the periodic sweep (tests call app.sweep() instead). */
  readonly sweepIntervalMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxAttachmentBytes: MAX_ATTACHMENT_BYTES,
  maxJsonBodyBytes: MAX_JSON_BODY_BYTES,
  maxPrekeyUploadBytes: MAX_PREKEY_UPLOAD_BYTES,
  messageRetentionMs: MESSAGE_RETENTION_MS,
  attachmentRetentionMs: ATTACHMENT_RETENTION_MS,
  prekeyLowWater: PREKEY_LOW_WATER,
  maxInflight: MAX_INFLIGHT,
  maxSealedInflight: MAX_SEALED_INFLIGHT,
  challengeTtlMs: CHALLENGE_TTL_MS,
  tokenTtlMs: TOKEN_TTL_MS,
  wsAuthTimeoutMs: WS_AUTH_TIMEOUT_MS,
  maxFetchPageBytes: MAX_FETCH_PAGE_BYTES,
  sweepIntervalMs: SWEEP_INTERVAL_MS,
};
