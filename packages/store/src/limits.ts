// Every bound the store itself enforces, each with its reason (STYLE.md §3). The server enforces the
// tighter, user-facing bounds (username syntax, upload and attachment sizes) before it calls the store;
// these only keep a caller bug from writing something the schema was not designed for.

/** Identity public keys are Ed25519 keys: 32 bytes (docs/protocol/03-keys-and-bundles.md). */
export const IDENTITY_KEY_BYTES = 32;

/** Access-key hashes are SHA-256 digests: 32 bytes (docs/protocol/09 §9.7). */
export const ACCESS_KEY_HASH_BYTES = 32;

/** Message ids are 16 random bytes chosen by the sender's client (issue 3: de-duplication by id). */
export const MESSAGE_ID_BYTES = 16;

/** Attachment ids are 16 random bytes chosen by the uploader: unguessable, and linked to no account. */
export const ATTACHMENT_ID_BYTES = 16;

/** Longest canonical username, in UTF-8 bytes. The protocol's own bound (limits.MAX_USERNAME_BYTES = 64)
 *  is the one the server applies; the store accepts up to 255 so that it never is the tighter check. */
export const MAX_USERNAME_BYTES = 255;

/** Device ids, prekey ids: u32 on the wire (docs/protocol/03-keys-and-bundles.md). */
export const MAX_U32 = 0xffffffff;

/** Most messages one fetch returns: a page the server can hold in memory and send in one go. */
export const MAX_FETCH_LIMIT = 1000;

/** Most message ids one ack may name (a fetch page), so one request is one bounded statement. */
export const MAX_ACK_IDS = MAX_FETCH_LIMIT;

/** Most one-time prekeys one addOneTimePrekeys call takes: the protocol allows 100 per upload
 *  (limits.MAX_PREKEYS_PER_UPLOAD); 1000 leaves room without making one transaction unbounded. */
export const MAX_PREKEYS_PER_CALL = 1000;

/** Most enqueue/ack calls the SQLite store applies in one group-commit transaction: amortises the
 *  fsync over a burst while keeping one transaction (and the event-loop stall it causes) bounded. */
export const MAX_GROUP_COMMIT_CALLS = 1000;

/** Group commit in the PostgreSQL store: most enqueue calls (of any devices) it writes in one
 *  statement (one round trip, one commit), and most envelope bytes in it (the first call always goes,
 *  whatever its size): amortises a statement's and a commit's cost over a burst while keeping the
 *  statement bounded. */
export const MAX_PG_ENQUEUE_BATCH = 256;
export const MAX_PG_ENQUEUE_BATCH_BYTES = 4 * 1024 * 1024;

/** Most message ids one PostgreSQL ack batch deletes in one statement (the first call always goes). */
export const MAX_PG_ACK_BATCH_IDS = 4096;

/** Enqueue batches, and separately ack batches, the PostgreSQL store keeps in flight at once. Two, not
 *  one: a batch waiting for a device lock that another process holds must not stop every other
 *  device's enqueues. Not more: calls that wait while a batch is in flight go together in the next
 *  one, and batches of more calls cost the database less per call (with 3 in flight the batches were
 *  smaller, and the 100-client benchmark slower by a third). */
export const MAX_PG_BATCHES_IN_FLIGHT = 2;
