// The storage interface of the Sotto server (DESIGN.md "Server"; issue 3). One interface, several
// back-ends (memory, SQLite, later PostgreSQL), one conformance suite (test/conformance.ts).
//
// What is stored, and what is not (packages/store/README.md has the table-by-table list):
// - Everything the server holds for a message is opaque: the envelope is a sealed envelope the server
//   cannot open, addressed to one recipient device. Nothing names the sender, and nothing links two
//   accounts to each other, so a dump of the store holds no contact list.
// - Prekeys are stored as the protocol's wire encodings with their u32 ids; the store never parses them.
// - Attachments are opaque blobs under random ids, linked to no account.
//
// Transactions are explicit and per method: every method is exactly one transaction. It happens
// completely or not at all, and when its promise resolves its effects are durable (on disk for SQLite
// and PostgreSQL) and visible to every other connection. There is no transaction spanning two calls:
// whatever must be atomic together is one method (createAccount creates an account with its first
// device; addOneTimePrekeys adds a whole batch or nothing; takeBundleParts removes and returns in one
// step). That is also the shape PostgreSQL needs: one BEGIN … COMMIT per call on a pooled connection.
//
// Times are integer milliseconds since the Unix epoch, always given by the caller (the store reads no
// clock), so tests and the server decide what "now" is.

/** A device: the account's canonical username (the server case-folds and validates it) and the
 *  device's u32 id within that account. */
export interface DeviceAddress {
  readonly username: string;
  readonly deviceId: number;
}

export interface Account {
  /** The canonical form, exactly as it was given to createAccount. */
  readonly username: string;
  /** The account's Ed25519 identity public key, 32 bytes. */
  readonly identityKey: Uint8Array;
  /** SHA-256 of the account's access key, 32 bytes (docs/protocol/09 §9.7): what a sealed send's
   *  Sotto-Access-Key is checked against. The access key itself is never stored. Accounts created
   *  before schema version 2 have 32 zero bytes here, which no access key hashes to. */
  readonly accessKeyHash: Uint8Array;
  readonly createdAt: number;
}

export interface NewAccount {
  readonly username: string;
  readonly identityKey: Uint8Array;
  /** SHA-256 of the access key, 32 bytes (docs/protocol/09 §9.7). */
  readonly accessKeyHash: Uint8Array;
  readonly createdAt: number;
  /** The account's first device, created in the same transaction (its lastSeenAt is createdAt). */
  readonly firstDeviceId: number;
}

export interface Device {
  readonly deviceId: number;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

/** A prekey as the store keeps it: its u32 id and its wire encoding, opaque to the store. */
export interface PrekeyRecord {
  readonly id: number;
  readonly record: Uint8Array;
}

/** The two kinds of one-time prekeys: X25519 (PQXDH's OPK) and ML-KEM-1024 (PQXDH's one-time PQPK). */
export type OneTimePrekeyKind = 'x25519' | 'kem';

/** How many one-time prekeys of each kind a device has left (for the server's low-water signal). */
export interface OneTimePrekeyCounts {
  readonly x25519: number;
  readonly kem: number;
}

/** A device's prekey upload as one unit (docs/protocol/03 §3.6, docs/protocol/09 §9.5): each part is
 *  optional, and storePrekeys applies all of it or nothing. */
export interface PrekeyBatch {
  /** Replaces the signed prekey. */
  readonly signedPrekey?: PrekeyRecord | undefined;
  /** Replaces the last-resort KEM prekey. */
  readonly lastResortKemPrekey?: PrekeyRecord | undefined;
  /** One-time prekeys to add, per kind (ids distinct within the kind and from those held). */
  readonly oneTime: { readonly x25519: readonly PrekeyRecord[]; readonly kem: readonly PrekeyRecord[] };
}

/** What a bundle fetch gets from the store (docs/protocol/03-keys-and-bundles.md). */
export interface BundleParts {
  readonly signedPrekey: PrekeyRecord;
  /** A one-time X25519 prekey, already removed from the store; null when the device has none left. */
  readonly oneTimePrekey: PrekeyRecord | null;
  /** A one-time KEM prekey (already removed), or the last-resort KEM prekey (kept) when none is left. */
  readonly kemPrekey: PrekeyRecord;
  readonly kemPrekeyIsLastResort: boolean;
}

/** A message as the sender's request hands it to the server. */
export interface NewMessage {
  /** 16 random bytes chosen by the sending client; the idempotency key within the recipient's queue. */
  readonly id: Uint8Array;
  /** The sealed envelope, opaque. */
  readonly envelope: Uint8Array;
  readonly receivedAt: number;
  /** Deleted by expireMessages(now) once now >= expiresAt. Must not be before receivedAt. */
  readonly expiresAt: number;
}

export interface QueuedMessage extends NewMessage {
  /** Arrival position in its recipient's queue: strictly increasing in arrival order, never reused
   *  (not even after the message is deleted), always >= 1. Its value is otherwise opaque: pass it
   *  back as `after` to continue a fetch. */
  readonly seq: number;
}

export interface EnqueueResult {
  /** The message's arrival position (the existing one when this was a duplicate). */
  readonly seq: number;
  /** True when the recipient's queue already held a message with this id: nothing was changed, and
   *  the first envelope stands (a sender's retry must not create a second delivery). */
  readonly duplicate: boolean;
}

export interface FetchOptions {
  /** Return only messages with seq > after; 0 for the whole queue. */
  readonly after: number;
  /** At most this many, 1 ..= limits.MAX_FETCH_LIMIT. */
  readonly limit: number;
}

export interface NewAttachment {
  /** 16 random bytes chosen by the uploader. */
  readonly id: Uint8Array;
  /** The encrypted attachment, opaque. */
  readonly bytes: Uint8Array;
  readonly expiresAt: number;
}

export interface Attachment extends NewAttachment {
  /** bytes.length, kept separately so that sizes can be counted without reading blobs. */
  readonly size: number;
}

/** Accounts and their devices. */
export interface AccountStore {
  /** Creates the account and its first device atomically. ERR_STORE_CONFLICT if the username is taken. */
  createAccount(account: NewAccount): Promise<void>;
  /** The account, or null if there is none with this username. */
  getAccount(username: string): Promise<Account | null>;
  /** Adds a device (lastSeenAt = createdAt). ERR_STORE_NOT_FOUND for an unknown account,
   *  ERR_STORE_CONFLICT if the device id is taken. */
  addDevice(device: DeviceAddress, createdAt: number): Promise<void>;
  /** The account's devices in ascending id order; ERR_STORE_NOT_FOUND for an unknown account. */
  listDevices(username: string): Promise<readonly Device[]>;
  /** Sets the device's lastSeenAt (never moves it backwards). ERR_STORE_NOT_FOUND for an unknown device. */
  touchDevice(device: DeviceAddress, lastSeenAt: number): Promise<void>;
}

/** A device's prekeys, as opaque records. Every method: ERR_STORE_NOT_FOUND for an unknown device. */
export interface PrekeyStore {
  /** Replaces the device's signed prekey. */
  setSignedPrekey(device: DeviceAddress, prekey: PrekeyRecord): Promise<void>;
  /** Replaces the device's last-resort KEM prekey. */
  setLastResortKemPrekey(device: DeviceAddress, prekey: PrekeyRecord): Promise<void>;
  /** Adds one-time prekeys, all or none: ERR_STORE_CONFLICT if an id repeats within the batch or
   *  names a key of this kind the device still holds. Keys are handed out oldest first. */
  addOneTimePrekeys(device: DeviceAddress, kind: OneTimePrekeyKind, prekeys: readonly PrekeyRecord[]): Promise<void>;
  countOneTimePrekeys(device: DeviceAddress): Promise<OneTimePrekeyCounts>;
  /** A whole upload in one transaction: replaces the signed and last-resort prekeys that are given,
   *  adds the one-time prekeys of both kinds, and resolves to the one-time counts afterwards.
   *  ERR_STORE_CONFLICT (changing nothing, not even the signed prekey) under the same rule as
   *  addOneTimePrekeys, for either kind. */
  storePrekeys(device: DeviceAddress, batch: PrekeyBatch): Promise<OneTimePrekeyCounts>;
  /** Atomically removes and returns the oldest one-time X25519 prekey (if any) and the oldest one-time
   *  KEM prekey (or, if none is left, returns the last-resort KEM prekey without removing it), with
   *  the signed prekey. Two calls, on any connections, never receive the same one-time key.
   *  ERR_STORE_NOT_FOUND, removing nothing, when the device has no signed prekey or no KEM prekey. */
  takeBundleParts(device: DeviceAddress): Promise<BundleParts>;
}

/** Per-device message queues: at-least-once delivery, deleted on acknowledgement or expiry. */
export interface MessageQueue {
  /** Appends to the recipient device's queue, durably, before resolving. Idempotent per (device, id).
   *  ERR_STORE_NOT_FOUND for an unknown device. Concurrent calls for one device on one Store object
   *  resolve in seq order: the server wakes a live receiver as each resolves, and a receiver woken
   *  for seq n+1 before seq n would move its cursor past n. */
  enqueue(recipient: DeviceAddress, message: NewMessage): Promise<EnqueueResult>;
  /** The queue's messages after the cursor, in arrival order (expired ones until expireMessages runs).
   *  ERR_STORE_NOT_FOUND for an unknown device. */
  fetch(recipient: DeviceAddress, options: FetchOptions): Promise<readonly QueuedMessage[]>;
  /** Deletes the named messages from this device's queue only; unknown ids (and an unknown device)
   *  are ignored, since acks are retried too. Resolves to the number deleted. */
  ack(recipient: DeviceAddress, ids: readonly Uint8Array[]): Promise<number>;
  /** Deletes every message with expiresAt <= now, in all queues; resolves to the number deleted. */
  expireMessages(now: number): Promise<number>;
}

/** Encrypted attachments: opaque blobs under random ids, linked to no account. */
export interface AttachmentStore {
  /** ERR_STORE_CONFLICT if the id exists (ids are random: a repeat is a bug or an attack). */
  putAttachment(attachment: NewAttachment): Promise<void>;
  /** The attachment, or null (expired ones until expireAttachments runs). */
  getAttachment(id: Uint8Array): Promise<Attachment | null>;
  /** Deletes every attachment with expiresAt <= now; resolves to the number deleted. */
  expireAttachments(now: number): Promise<number>;
}

/** Everything the server stores. Every method rejects with a StoreError; after close(), with
 *  ERR_STORE_CLOSED. Returned byte arrays are copies the caller may keep and modify. */
export interface Store extends AccountStore, PrekeyStore, MessageQueue, AttachmentStore {
  /** Closes the store; idempotent. */
  close(): Promise<void>;
}
