// Resource bounds of @sotto/client, each with a one-line why (STYLE.md §3).

/** Longest entry name in UTF-8 bytes: names are short identifiers ("identity", "session/<id>"). */
export const MAX_KEYSTORE_NAME_BYTES = 255;

/** Most entries in one keystore: the whole store is rewritten on every write, so it must stay small. */
export const MAX_KEYSTORE_ENTRIES = 65_536;

/** Largest keystore body in bytes (64 MiB): bounds the memory a (corrupted) file can make us allocate. */
export const MAX_KEYSTORE_BODY_BYTES = 64 * 1024 * 1024;

/** Longest passphrase in UTF-8 bytes: far beyond any human passphrase, bounds Argon2id input. */
export const MAX_PASSPHRASE_BYTES = 1024;

/** Largest Argon2id memory cost accepted from a file, in KiB (1 GiB): a corrupted or hostile header
 *  must not make the client allocate without bound (noble's own default ceiling is also 1 GiB). */
export const MAX_ARGON2_M_KIB = 1024 * 1024;

/** Largest Argon2id time cost accepted from a file: 16 passes at 1 GiB is already minutes. */
export const MAX_ARGON2_T = 16;

/** Largest Argon2id parallelism accepted from a file (RFC 9106 §3.1 allows up to 2^24 - 1 lanes). */
export const MAX_ARGON2_P = 64;

// --- content (docs/protocol/10 §10.2) ---

/** Content version this client writes and reads (docs/protocol/10 §10.2 `"v": 1`). */
export const CONTENT_VERSION = 1;

/** Longest text message in Unicode code points (docs/protocol/10 §10.2 MAX_TEXT_CHARS): even when every
 *  character needs a six-byte JSON escape the content stays far below the 256 KiB envelope bound. */
export const MAX_TEXT_CHARS = 16_384;

/** Longest file name in code points (docs/protocol/10 §10.2): the common file-system limit of 255. */
export const MAX_FILE_NAME_CHARS = 255;

/** Longest MIME type in code points (docs/protocol/10 §10.2; RFC 6838 §4.2 allows 127 per part). */
export const MAX_MIME_CHARS = 127;

/** Most ids one delivery receipt carries (docs/protocol/10 §10.2). */
export const MAX_RECEIPT_IDS = 100;

/** Longest content JSON accepted, in bytes: the largest envelope (256 KiB, docs/protocol/09 §9.10) can
 *  hold nothing bigger, so anything larger is not a Sotto message. */
export const MAX_CONTENT_BYTES = 256 * 1024;

// --- calls (docs/protocol/11 §11.6) ---

/** A caller that gets no answer within this long gives up with `call-end` `timeout` (docs/protocol/11
 *  §11.6 CALL_RING_TIMEOUT_MS); the callee stops ringing after as long, and either side ends a call
 *  whose key agreement has not finished this long after the answer. */
export const CALL_RING_TIMEOUT_MS = 45_000;

/** An offer sent longer ago than this by the receiver's clock is a missed call, never rung (docs/protocol/11
 *  §11.6 CALL_OFFER_MAX_AGE_MS): a callee who was offline does not ring for an old call. */
export const CALL_OFFER_MAX_AGE_MS = 60_000;

/** Attempts to deliver one call-signalling message (250 + 500 + 1000 ms of back-off): signalling is
 *  time-critical, so it is retried briefly and never kept in the outbox (src/calls/call-manager.ts). */
export const CALL_SIGNAL_SEND_ATTEMPTS = 4;

/** Longest voicemail duration a `voicemail` body may state (docs/protocol/11 §11.6 `durationMs`): an
 *  hour of Opus at its lowest useful bit rate still fits the 32 MiB attachment bound, and a duration
 *  beyond it is not a recording but a lie the UI would display. */
export const MAX_VOICEMAIL_DURATION_MS = 60 * 60 * 1000;

// --- attachments (docs/protocol/10 §10.3) ---

/** Largest uploaded attachment blob (docs/protocol/09 §9.10 MAX_ATTACHMENT_BYTES, 32 MiB). */
export const MAX_ATTACHMENT_BLOB_BYTES = 32 * 1024 * 1024;

/** Smallest padded attachment plaintext (docs/protocol/10 §10.3): small files all look alike. */
export const ATTACHMENT_MIN_PADDED_BYTES = 4096;

/** Padded sizes grow by this factor per step (docs/protocol/10 §10.3): the server learns a size to
 *  within 5 % (Signal's attachment padding rule). */
export const ATTACHMENT_PADDING_BASE = 1.05;

// --- messaging (docs/protocol/10 §10.5) ---

/** Message ids remembered per contact for de-duplication (docs/protocol/10 §10.5 MAX_SEEN_IDS). */
export const MAX_SEEN_IDS = 10_000;

/** First retry delay of a send, doubled per attempt (docs/protocol/10 §10.5). */
export const SEND_RETRY_INITIAL_MS = 250;

/** Longest delay between two send attempts (docs/protocol/10 §10.5). */
export const SEND_RETRY_MAX_MS = 30_000;

/** Attempts one `sendText`/`flushOutbox` call makes per message before it gives up and leaves the
 *  message in the outbox: 9 attempts span about a minute of back-off, long enough for a server
 *  restart, short enough that a command-line send does not hang for ever. */
export const SEND_MAX_ATTEMPTS = 9;

/** Most messages waiting in the outbox: each holds a whole envelope and the keystore is rewritten on
 *  every change, so a client offline for long must not grow it without bound. */
export const MAX_OUTBOX_MESSAGES = 1000;

/** How long a self-signed sender certificate is valid (docs/protocol/06 §6.3): a week keeps a stolen
 *  certificate short-lived without re-signing for every message. */
export const SENDER_CERTIFICATE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** A cached sender certificate is renewed when less than this is left, so a message that waits in a
 *  queue for a while still opens (the recipient checks expiry when it opens the envelope). */
export const SENDER_CERTIFICATE_RENEW_MS = 5 * 24 * 60 * 60 * 1000;

/** Messages one HTTP fetch page asks for (docs/protocol/09 §9.8 allows 1..1000): also one batch that
 *  is persisted with one keystore write. */
export const FETCH_PAGE_LIMIT = 100;

// --- prekeys (docs/protocol/09 §9.5) ---

/** One-time prekeys of each kind kept on the server: the first upload and every refill tops up to this. */
export const PREKEY_TARGET_COUNT = 100;

/** Largest PrekeyUpload body (docs/protocol/09 §9.10 MAX_PREKEY_UPLOAD_BYTES, 1 MiB): bigger uploads are split. */
export const MAX_PREKEY_UPLOAD_BYTES = 1024 * 1024;

// --- transport (docs/protocol/09) ---

/** First WebSocket reconnect delay, doubled per failed attempt. */
export const RECONNECT_INITIAL_MS = 250;

/** Longest WebSocket reconnect delay. */
export const RECONNECT_MAX_MS = 30_000;

/** How long the client waits for the server's `ready` frame after its `auth` frame (the server itself
 *  closes an unauthenticated socket after 10 s, docs/protocol/09 §9.8). */
export const WS_READY_TIMEOUT_MS = 10_000;

/** After the sealed-send WebSocket (docs/protocol/09 §9.7.1) failed to open or dropped, sealed sends
 *  go over HTTP for this long before the client tries the socket again: a server without the
 *  endpoint, or a network that breaks WebSockets, costs one failed attempt a minute, not one a send. */
export const SEALED_SOCKET_RETRY_MS = 60_000;

/** Longest time one HTTP request may take before it counts as a network failure. */
export const HTTP_TIMEOUT_MS = 30_000;

/** Largest response body the client reads (an attachment, 32 MiB, plus room): bounds what a hostile
 *  server can make the client allocate. */
export const MAX_RESPONSE_BYTES = MAX_ATTACHMENT_BLOB_BYTES + 64 * 1024;
