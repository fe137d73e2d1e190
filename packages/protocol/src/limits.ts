// Every resource bound of the protocol core, each with its reason (STYLE.md §3; libsignal consts.rs).

/** Most message keys one chain may skip ahead in a single step (Double Ratchet rev 1 §3.5 MAX_SKIP).
 *  Bounds the work and memory a forged counter can force on the receiver (libsignal consts.rs keeps
 *  2000 keys, MAX_MESSAGE_KEYS, but allows jumps of 25000, MAX_FORWARD_JUMPS; we bound both at 2000). */
export const MAX_SKIP = 2000;

/** Most skipped message keys kept per session, oldest dropped first: lost messages must not grow
 *  state without bound (Double Ratchet rev 1 §6.4 "deletion of skipped message keys"). */
export const MAX_SKIPPED_KEYS = 2000;

/** Most receiving chains kept (current + previous), so a late message from an older ratchet step can
 *  still be read without keeping every chain forever (libsignal consts.rs MAX_RECEIVER_CHAINS = 5). */
export const MAX_RECEIVER_CHAINS = 5;

/** Largest session associated data a ratchet accepts (identity keys and handshake context, well under
 *  this): it is stored in every ratchet state and prefixed to every message's AEAD input. */
export const MAX_RATCHET_AD_BYTES = 4096;

/** Largest plaintext one message may carry (64 MiB). Bigger payloads go as attachments. */
export const MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024;

/** Largest encoded message any decoder accepts: plaintext bound plus headers and padding. */
export const MAX_MESSAGE_BYTES = MAX_PLAINTEXT_BYTES + 64 * 1024;

/** Message counters are u32 on the wire; a chain refuses to go past this (rekey first). */
export const MAX_COUNTER = 0xffffffff;

/** Highest HPKE sequence number a context uses (RFC 9180 §5.2 allows 2^96 − 1): the largest integer a
 *  JavaScript number holds exactly. Unreachable in practice; Sotto's envelopes use sequence 0 only. */
export const HPKE_MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

/** Longest username (UTF-8 bytes) in a sender certificate or a safety number: usernames are short
 *  handles, and a bound keeps certificates (carried in every sealed envelope) small. */
export const MAX_USERNAME_BYTES = 64;

/** Sealed-envelope size buckets (docs/protocol/06-sealed-envelope.md §6.7): every envelope is padded
 *  to one of SEALED_BUCKET_MIN · 2^k up to SEALED_BUCKET_DOUBLING_MAX, then every multiple of
 *  SEALED_BUCKET_STEP up to MAX_SEALED_ENVELOPE_BYTES, so the server learns a bucket, not a length.
 *  Why: 512 B is the smallest useful bucket (130 B of HPKE overhead, a >= 113 B sender certificate
 *  and a 58 B ratchet header already exceed 256 B) and holds every short text; doubling to 64 KiB gives 8
 *  classes for ordinary messages (at most 2x bandwidth, bytes that are cheap at that size); above
 *  64 KiB, 64 KiB steps cap the overhead per message at 64 KiB while leaking at most ~10 bits. */
export const SEALED_BUCKET_MIN = 512;
export const SEALED_BUCKET_DOUBLING_MAX = 64 * 1024;
export const SEALED_BUCKET_STEP = 64 * 1024;

/** Largest sealed envelope: the decoder-wide message bound (a multiple of SEALED_BUCKET_STEP), which
 *  leaves room for a ratchet or prekey message carrying MAX_PLAINTEXT_BYTES. */
export const MAX_SEALED_ENVELOPE_BYTES = MAX_MESSAGE_BYTES;

/** Largest encoded ratchet state inside a persisted session (1 MiB): MAX_SKIPPED_KEYS entries of under
 *  100 bytes each plus MAX_RECEIVER_CHAINS chains fit many times over; a decoder rejects anything bigger. */
export const MAX_SESSION_STATE_BYTES = 1024 * 1024;

/** Most one-time prekeys of each kind (X25519, ML-KEM-1024) in one upload: bounds the upload's size
 *  (100 ML-KEM keys ≈ 160 KiB) and a server's verification work per request; libsignal-server allows 100. */
export const MAX_PREKEYS_PER_UPLOAD = 100;

/** Identity public keys whose validation and X25519 form are remembered (public data only). A busy
 *  client meets the same few contacts' keys again and again; the bound keeps memory small. */
export const IDENTITY_KEY_CACHE_ENTRIES = 1024;

/** Last-resort KEM prekey uses a device records (docs/protocol/08 §8.5) before it must rotate that
 *  key: the record cannot be trimmed while the key is in use, so rotation is what bounds it. */
export const LAST_RESORT_MAX_RECORDED_USES = 10_000;

// --- server API (docs/protocol/09) ---

/** Shortest and longest username, in characters after case folding (docs/protocol/09 §9.2): long
 *  enough to be a name, short enough to read aloud and to keep certificates and paths small. */
export const USERNAME_MIN_CHARS = 3;
export const USERNAME_MAX_CHARS = 32;

/** Largest sealed envelope the server API carries (docs/protocol/09 §9.10 MAX_ENVELOPE_BYTES, 256 KiB):
 *  text and control messages fit many times over; files go through attachments, so one queue entry
 *  stays small enough to fetch, hold in memory and push over a WebSocket. */
export const MAX_API_ENVELOPE_BYTES = 256 * 1024;

/** Most messages one fetch page may ask for (docs/protocol/09 §9.8, `limit` in 1..1000). */
export const MAX_API_FETCH_LIMIT = 1000;

/** Most message ids one acknowledgement may carry (docs/protocol/09 §9.8): one fetch page. */
export const MAX_API_ACK_IDS = 1000;

/** Most device ids an account lookup lists: multi-device is later, and a bound keeps the response small. */
export const MAX_API_DEVICES = 256;

/** Longest error message in an error body: enough for "expected X, got Y", not for echoing input. */
export const MAX_API_ERROR_MESSAGE_CHARS = 1024;

/** Deepest nesting a server API JSON text may have: the deepest body (a fetch response) needs 3;
 *  the bound stops a hostile "[[[[…" from exhausting the parser's stack. */
export const MAX_API_JSON_DEPTH = 8;

// --- calls: SFrame media (docs/protocol/11 §11.5) ---

/** How far below the highest accepted SFrame CTR a frame may arrive and still be accepted (once)
 *  (docs/protocol/11 §11.5; RFC 9605 §9.3 "Anti-Replay" asks receivers to keep one). 128 frames is 2.56 s of 20-ms
 *  Opus: far more reordering than a live call tolerates, while the window stays one small bitmap. */
export const SFRAME_REPLAY_WINDOW = 128;

// --- calls: key agreement (docs/protocol/11 §11.2.4) ---

/** Longest SDP a call offer or answer may carry (docs/protocol/11 §11.2.4): a complete audio-only
 *  WebRTC description with every ICE candidate is 2–6 KB; the bound keeps a hostile SDP from bloating
 *  the transcript hash and the session message that carries it. */
export const MAX_CALL_SDP_CHARS = 16384;
