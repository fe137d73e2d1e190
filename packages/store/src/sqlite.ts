// The SQLite Store: the embedded default (a single file under the server's --data directory). This
// class is the store on one connection; openSqliteStore (sqlite-worker.ts) runs two of them, one for
// reads on the caller's thread and one for writes on the SQLite writer thread.
//
// Settings, and why (each is set on every connection by openSqliteStoreWith):
// - journal_mode = WAL: readers never block the writer and the writer never blocks readers, and a
//   commit is one sequential append to the -wal file.
// - synchronous = FULL: the WAL is fsync'ed at every commit, so a message is on stable storage when
//   enqueue resolves (issue 3: "never loses a message it has accepted"). NORMAL would fsync only at
//   checkpoints: still consistent, and safe against a crash of the server process, but a power cut or
//   kernel panic could roll back the last commits, i.e. messages the sender was already told were
//   stored. The price is one fsync per write transaction; batching is the way to buy throughput back.
// - foreign_keys = ON: a queue, a prekey or a device cannot outlive its device or account.
// - secure_delete = ON: deleted rows (acknowledged envelopes, handed-out prekeys) are overwritten
//   with zeros instead of lingering in free pages for a later dump of the file to find.
// - busy_timeout (better-sqlite3's `timeout`): another connection holding the write lock is waited
//   for, not reported as an error.
//
// Transactions: every writing method runs in one BEGIN IMMEDIATE transaction, which takes SQLite's
// single write lock before its first read. Nothing another connection does can come between what a
// method reads and what it writes, so checks such as "is this prekey id already held" and "which
// one-time key is the oldest" stay true until the commit: two connections can never take the same
// one-time key. Reads that need more than one statement run in one (deferred) read transaction, which
// sees a single snapshot.
//
// better-sqlite3 is synchronous: each call blocks its thread for its statement (microseconds; an fsync
// for writes). That is why openSqliteStore makes the writes on a thread of their own (sqlite-worker.ts),
// where those blocks cost the server's event loop nothing; PostgreSQL is the scale-out back-end.
//
// Group commit (enqueue and ack only, the per-message hot path): a call is checked at once, then
// queued; the queue is applied at the next setImmediate, so every call that arrived in the same
// event-loop turn (and every call that arrived while the previous commit's fsync blocked the loop)
// shares one BEGIN IMMEDIATE … COMMIT, i.e. one fsync. Each call that writes with several statements
// (an ack of several ids) runs in its own SAVEPOINT, and each call that writes with one statement (an
// enqueue: one INSERT, whose foreign key is the device check) relies on SQLite undoing a failed
// statement alone: either way one failing call (an unknown device) changes nothing and the others
// commit. Calls resolve in arrival order, and one device's enqueues in seq order; each promise settles
// only after the COMMIT returned, so "durable before resolve" holds per call. Calls are applied in
// arrival order (seq order = arrival order; a duplicate id later in the same batch finds the row the
// earlier call inserted). Any other write first applies the pending queue, so writes take effect in
// the order they were made. Reads do not wait for it: a read sees what has committed, and a queued
// call has not happened yet (its promise is unsettled), so reads stay consistent without breaking
// up the batch that the server's per-request reads would otherwise split.

import Database from 'better-sqlite3';
import { StoreError } from './errors.ts';
import { MAX_GROUP_COMMIT_CALLS } from './limits.ts';
import {
  checkAckIds,
  checkAttachmentId,
  checkDevice,
  checkFetch,
  checkKind,
  checkNewAccount,
  checkNewAttachment,
  checkNewMessage,
  checkPrekey,
  checkPrekeyBatch,
  checkPrekeyUpload,
  checkTime,
  checkUsername,
} from './internal/validate.ts';
import { migrate } from './internal/sqlite-migrate.ts';
import type { Migration } from './internal/migrations.ts';
import type {
  Account,
  Attachment,
  BundleParts,
  Device,
  DeviceAddress,
  EnqueueResult,
  FetchOptions,
  NewAccount,
  NewAttachment,
  NewMessage,
  OneTimePrekeyCounts,
  OneTimePrekeyKind,
  PrekeyBatch,
  PrekeyRecord,
  QueuedMessage,
  Store,
} from './store.ts';

/** How long a connection waits for another connection's write lock before ERR_STORE_BACKEND (ms). */
const BUSY_TIMEOUT_MS = 10_000;

/** A copy as a plain Uint8Array (the driver returns Buffers, which compare unequal to Uint8Arrays). */
const bytes = (b: Buffer): Uint8Array => new Uint8Array(b);

interface PrekeyRow {
  prekey_id: number;
  record: Buffer;
}
interface OneTimeRow extends PrekeyRow {
  seq: number;
}
interface MessageRow {
  seq: number;
  message_id: Buffer;
  envelope: Buffer;
  received_at: number;
  expires_at: number;
}

function prepareAll(db: Database.Database) {
  const p = (sql: string): Database.Statement => db.prepare(sql);
  return {
    getAccount: p('SELECT username, identity_key, access_key_hash, created_at FROM accounts WHERE username = ?'),
    insertAccount: p('INSERT INTO accounts (username, identity_key, access_key_hash, created_at) VALUES (?, ?, ?, ?)'),
    insertDevice: p('INSERT INTO devices (username, device_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)'),
    hasDevice: p('SELECT 1 AS found FROM devices WHERE username = ? AND device_id = ?'),
    listDevices: p('SELECT device_id, created_at, last_seen_at FROM devices WHERE username = ? ORDER BY device_id'),
    touchDevice: p('UPDATE devices SET last_seen_at = max(last_seen_at, ?) WHERE username = ? AND device_id = ?'),
    upsertSigned: p(
      'INSERT INTO signed_prekeys (username, device_id, prekey_id, record) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (username, device_id) DO UPDATE SET prekey_id = excluded.prekey_id, record = excluded.record',
    ),
    upsertLastResort: p(
      'INSERT INTO last_resort_kem_prekeys (username, device_id, prekey_id, record) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (username, device_id) DO UPDATE SET prekey_id = excluded.prekey_id, record = excluded.record',
    ),
    getSigned: p('SELECT prekey_id, record FROM signed_prekeys WHERE username = ? AND device_id = ?'),
    getLastResort: p('SELECT prekey_id, record FROM last_resort_kem_prekeys WHERE username = ? AND device_id = ?'),
    hasOneTime: p('SELECT 1 AS found FROM one_time_prekeys WHERE username = ? AND device_id = ? AND kind = ? AND prekey_id = ?'),
    insertOneTime: p('INSERT INTO one_time_prekeys (username, device_id, kind, prekey_id, record) VALUES (?, ?, ?, ?, ?)'),
    countOneTime: p('SELECT kind, count(*) AS n FROM one_time_prekeys WHERE username = ? AND device_id = ? GROUP BY kind'),
    oldestOneTime: p('SELECT seq, prekey_id, record FROM one_time_prekeys WHERE username = ? AND device_id = ? AND kind = ? ORDER BY seq LIMIT 1'),
    deleteOneTime: p('DELETE FROM one_time_prekeys WHERE seq = ?'),
    findMessage: p('SELECT seq FROM messages WHERE username = ? AND device_id = ? AND message_id = ?'),
    insertMessage: p(
      'INSERT INTO messages (username, device_id, message_id, envelope, received_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (username, device_id, message_id) DO NOTHING RETURNING seq',
    ),
    fetchMessages: p(
      'SELECT seq, message_id, envelope, received_at, expires_at FROM messages WHERE username = ? AND device_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    deleteMessage: p('DELETE FROM messages WHERE username = ? AND device_id = ? AND message_id = ?'),
    expireMessages: p('DELETE FROM messages WHERE expires_at <= ?'),
    hasAttachment: p('SELECT 1 AS found FROM attachments WHERE id = ?'),
    insertAttachment: p('INSERT INTO attachments (id, bytes, size, expires_at) VALUES (?, ?, ?, ?)'),
    getAttachment: p('SELECT id, bytes, size, expires_at FROM attachments WHERE id = ?'),
    expireAttachments: p('DELETE FROM attachments WHERE expires_at <= ?'),
    // The group commit's transaction control, prepared once rather than parsed per call.
    begin: p('BEGIN IMMEDIATE'),
    commit: p('COMMIT'),
    savepoint: p('SAVEPOINT group_call'),
    release: p('RELEASE group_call'),
    rollbackTo: p('ROLLBACK TO group_call'),
  };
}

type Statements = ReturnType<typeof prepareAll>;

/** One enqueue or ack waiting for the next group commit. */
interface PendingWrite {
  /** Runs inside the batch's transaction, in its own savepoint unless `single`. */
  readonly apply: () => unknown;
  /** apply changes the database with one statement at most, its last: a statement that fails
   *  changes nothing (SQLite undoes it alone), so no savepoint is needed around it. */
  readonly single: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (e: StoreError) => void;
}

/** Wraps anything that is not already a StoreError (the driver's errors: busy, I/O, not a database). */
export function toStoreError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const code = e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : 'unknown';
  return new StoreError('ERR_STORE_BACKEND', `the SQLite database failed (${code})`, { cause: e });
}

/** The pragmas a connection runs with, as SQLite reports them (SqliteStore.settings()). */
export interface SqliteSettings {
  readonly journalMode: unknown;
  readonly synchronous: unknown;
  readonly foreignKeys: unknown;
  readonly secureDelete: unknown;
}

/** The SQLite store on one connection. Construct it through openSqliteStoreWith (or, for the
 *  two-connection store everything else uses, openSqliteStore in sqlite-worker.ts). */
export class SqliteStore implements Store {
  #db: Database.Database | null;
  readonly #s: Statements;
  /** Runs a function in a transaction; `.immediate` / `.deferred` pick BEGIN IMMEDIATE / BEGIN. */
  readonly #tx: Database.Transaction<(body: () => unknown) => unknown>;
  /** Group commit: the enqueue/ack calls waiting for the next commit, in arrival order. */
  #pending: PendingWrite[] = [];
  #flushScheduled = false;
  #groupCommits = 0;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#s = prepareAll(db);
    this.#tx = db.transaction((body: () => unknown) => body());
  }

  /** One operation: argument checks, then the body; every failure becomes a rejected StoreError. */
  #run<T>(body: () => T): Promise<T> {
    try {
      if (this.#db === null) throw new StoreError('ERR_STORE_CLOSED', 'the store was closed');
      return Promise.resolve(body());
    } catch (e) {
      return Promise.reject(toStoreError(e));
    }
  }

  /** A group-committed write: `check` runs now (argument errors reject at once, as before);
   *  `apply` runs at the next flush inside the batch's transaction. */
  #batched<T>(check: () => void, apply: () => T, single: boolean): Promise<T> {
    try {
      if (this.#db === null) throw new StoreError('ERR_STORE_CLOSED', 'the store was closed');
      check();
    } catch (e) {
      return Promise.reject(toStoreError(e));
    }
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ apply, single, resolve: resolve as (value: unknown) => void, reject });
      if (this.#pending.length >= MAX_GROUP_COMMIT_CALLS) {
        this.#flush();
      } else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Applies every pending enqueue/ack in one transaction (one fsync), then settles their promises. */
  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    const db = this.#db;
    if (db === null) {
      for (const w of batch) w.reject(new StoreError('ERR_STORE_CLOSED', 'the store was closed'));
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: StoreError })[] = [];
    const s = this.#s;
    try {
      s.begin.run();
      try {
        for (const w of batch) {
          if (w.single) {
            try {
              outcomes.push({ ok: true, value: w.apply() });
            } catch (e) {
              outcomes.push({ ok: false, error: toStoreError(e) });
            }
            continue;
          }
          s.savepoint.run();
          try {
            const value = w.apply();
            s.release.run();
            outcomes.push({ ok: true, value });
          } catch (e) {
            // This call alone is undone; the transaction and the other calls go on.
            s.rollbackTo.run();
            s.release.run();
            outcomes.push({ ok: false, error: toStoreError(e) });
          }
        }
        s.commit.run();
        this.#groupCommits++;
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw e;
      }
    } catch (e) {
      // BEGIN, a savepoint or COMMIT failed: nothing of the batch is durable, so every call fails.
      const error = toStoreError(e);
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const o = outcomes[i];
      if (o === undefined) w.reject(new StoreError('ERR_STORE_BACKEND', 'the group commit lost a call'));
      else if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    });
  }

  /** A write transaction (BEGIN IMMEDIATE: holds the write lock from its first statement). */
  #write<T>(body: () => T): T {
    this.#flush(); // pending enqueue/ack calls were made first: they commit first
    return this.#tx.immediate(body) as T;
  }

  /** A read transaction: one consistent snapshot for several statements. */
  #read<T>(body: () => T): T {
    return this.#tx.deferred(body) as T;
  }

  #requireDevice(d: DeviceAddress): void {
    if (this.#s.hasDevice.get(d.username, d.deviceId) === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
  }

  /** The settings this connection runs with (for the tests that pin them). */
  settings(): SqliteSettings {
    const db = this.#db;
    if (db === null) throw new StoreError('ERR_STORE_CLOSED', 'the store was closed');
    return {
      journalMode: db.pragma('journal_mode', { simple: true }),
      synchronous: db.pragma('synchronous', { simple: true }),
      foreignKeys: db.pragma('foreign_keys', { simple: true }),
      secureDelete: db.pragma('secure_delete', { simple: true }),
    };
  }

  /** How many group-commit transactions have committed on this connection (for the tests that
   *  check a burst of enqueue/ack calls shares one commit). */
  groupCommits(): number {
    return this.#groupCommits;
  }

  // --- accounts and devices ---

  createAccount(a: NewAccount): Promise<void> {
    return this.#run(() => {
      checkNewAccount(a);
      this.#write(() => {
        if (this.#s.getAccount.get(a.username) !== undefined) throw new StoreError('ERR_STORE_CONFLICT', 'the username is taken');
        this.#s.insertAccount.run(a.username, a.identityKey, a.accessKeyHash, a.createdAt);
        this.#s.insertDevice.run(a.username, a.firstDeviceId, a.createdAt, a.createdAt);
      });
    });
  }

  getAccount(username: string): Promise<Account | null> {
    return this.#run(() => {
      checkUsername(username);
      const row = this.#s.getAccount.get(username) as { username: string; identity_key: Buffer; access_key_hash: Buffer; created_at: number } | undefined;
      return row === undefined
        ? null
        : { username: row.username, identityKey: bytes(row.identity_key), accessKeyHash: bytes(row.access_key_hash), createdAt: row.created_at };
    });
  }

  addDevice(d: DeviceAddress, createdAt: number): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkTime('createdAt', createdAt);
      this.#write(() => {
        if (this.#s.getAccount.get(d.username) === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such account');
        if (this.#s.hasDevice.get(d.username, d.deviceId) !== undefined) throw new StoreError('ERR_STORE_CONFLICT', 'the device id is taken');
        this.#s.insertDevice.run(d.username, d.deviceId, createdAt, createdAt);
      });
    });
  }

  listDevices(username: string): Promise<readonly Device[]> {
    return this.#run(() => {
      checkUsername(username);
      return this.#read(() => {
        if (this.#s.getAccount.get(username) === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such account');
        const rows = this.#s.listDevices.all(username) as { device_id: number; created_at: number; last_seen_at: number }[];
        return rows.map((r) => ({ deviceId: r.device_id, createdAt: r.created_at, lastSeenAt: r.last_seen_at }));
      });
    });
  }

  touchDevice(d: DeviceAddress, lastSeenAt: number): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkTime('lastSeenAt', lastSeenAt);
      const { changes } = this.#s.touchDevice.run(lastSeenAt, d.username, d.deviceId);
      if (changes === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
    });
  }

  // --- prekeys ---

  setSignedPrekey(d: DeviceAddress, prekey: PrekeyRecord): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkPrekey(prekey);
      this.#write(() => {
        this.#requireDevice(d);
        this.#s.upsertSigned.run(d.username, d.deviceId, prekey.id, prekey.record);
      });
    });
  }

  setLastResortKemPrekey(d: DeviceAddress, prekey: PrekeyRecord): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkPrekey(prekey);
      this.#write(() => {
        this.#requireDevice(d);
        this.#s.upsertLastResort.run(d.username, d.deviceId, prekey.id, prekey.record);
      });
    });
  }

  addOneTimePrekeys(d: DeviceAddress, kind: OneTimePrekeyKind, prekeys: readonly PrekeyRecord[]): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkKind(kind);
      checkPrekeyBatch(prekeys);
      this.#write(() => {
        this.#requireDevice(d);
        this.#insertOneTime(d, kind, prekeys);
      });
    });
  }

  /** Inside a write transaction: checks the batch's ids (CONFLICT before any insert), then inserts. */
  #insertOneTime(d: DeviceAddress, kind: OneTimePrekeyKind, prekeys: readonly PrekeyRecord[]): void {
    const seen = new Set<number>();
    for (const p of prekeys) {
      if (seen.has(p.id) || this.#s.hasOneTime.get(d.username, d.deviceId, kind, p.id) !== undefined) {
        throw new StoreError('ERR_STORE_CONFLICT', 'a one-time prekey id is already in use');
      }
      seen.add(p.id);
    }
    for (const p of prekeys) this.#s.insertOneTime.run(d.username, d.deviceId, kind, p.id, p.record);
  }

  #countOneTime(d: DeviceAddress): OneTimePrekeyCounts {
    const counts = { x25519: 0, kem: 0 };
    for (const row of this.#s.countOneTime.all(d.username, d.deviceId) as { kind: OneTimePrekeyKind; n: number }[]) counts[row.kind] = row.n;
    return counts;
  }

  storePrekeys(d: DeviceAddress, batch: PrekeyBatch): Promise<OneTimePrekeyCounts> {
    return this.#run(() => {
      checkDevice(d);
      checkPrekeyUpload(batch);
      // One IMMEDIATE transaction: a conflict in the KEM batch rolls back the X25519 batch and the
      // replaced signed and last-resort prekeys too.
      return this.#write(() => {
        this.#requireDevice(d);
        this.#insertOneTime(d, 'x25519', batch.oneTime.x25519);
        this.#insertOneTime(d, 'kem', batch.oneTime.kem);
        const signed = batch.signedPrekey;
        if (signed !== undefined) this.#s.upsertSigned.run(d.username, d.deviceId, signed.id, signed.record);
        const lastResort = batch.lastResortKemPrekey;
        if (lastResort !== undefined) this.#s.upsertLastResort.run(d.username, d.deviceId, lastResort.id, lastResort.record);
        return this.#countOneTime(d);
      });
    });
  }

  countOneTimePrekeys(d: DeviceAddress): Promise<OneTimePrekeyCounts> {
    return this.#run(() => {
      checkDevice(d);
      return this.#read(() => {
        this.#requireDevice(d);
        return this.#countOneTime(d);
      });
    });
  }

  takeBundleParts(d: DeviceAddress): Promise<BundleParts> {
    return this.#run(() => {
      checkDevice(d);
      return this.#write(() => {
        this.#requireDevice(d);
        const signed = this.#s.getSigned.get(d.username, d.deviceId) as PrekeyRow | undefined;
        if (signed === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'the device has no signed prekey');
        const oneTimeKem = this.#s.oldestOneTime.get(d.username, d.deviceId, 'kem') as OneTimeRow | undefined;
        const kem = oneTimeKem ?? (this.#s.getLastResort.get(d.username, d.deviceId) as PrekeyRow | undefined);
        if (kem === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'the device has no KEM prekey');
        const oneTimeX = this.#s.oldestOneTime.get(d.username, d.deviceId, 'x25519') as OneTimeRow | undefined;
        if (oneTimeX !== undefined) this.#s.deleteOneTime.run(oneTimeX.seq);
        if (oneTimeKem !== undefined) this.#s.deleteOneTime.run(oneTimeKem.seq);
        return {
          signedPrekey: { id: signed.prekey_id, record: bytes(signed.record) },
          oneTimePrekey: oneTimeX === undefined ? null : { id: oneTimeX.prekey_id, record: bytes(oneTimeX.record) },
          kemPrekey: { id: kem.prekey_id, record: bytes(kem.record) },
          kemPrekeyIsLastResort: oneTimeKem === undefined,
        };
      });
    });
  }

  // --- message queues ---

  enqueue(recipient: DeviceAddress, m: NewMessage): Promise<EnqueueResult> {
    return this.#batched(
      () => {
        checkDevice(recipient);
        checkNewMessage(m);
      },
      (): EnqueueResult => {
        // One statement for a new message: the foreign key stands for the device check, the
        // conflict clause for the duplicate check; only a duplicate reads its seq after.
        let row: { seq: number } | undefined;
        try {
          row = this.#s.insertMessage.get(recipient.username, recipient.deviceId, m.id, m.envelope, m.receivedAt, m.expiresAt) as { seq: number } | undefined;
        } catch (e) {
          if (e instanceof Error && 'code' in e && e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
          throw e;
        }
        if (row !== undefined) return { seq: row.seq, duplicate: false };
        const existing = this.#s.findMessage.get(recipient.username, recipient.deviceId, m.id) as { seq: number } | undefined;
        if (existing === undefined) throw new StoreError('ERR_STORE_BACKEND', 'expected the conflicting message, got none');
        return { seq: existing.seq, duplicate: true };
      },
      true,
    );
  }

  fetch(recipient: DeviceAddress, options: FetchOptions): Promise<readonly QueuedMessage[]> {
    return this.#run(() => {
      checkDevice(recipient);
      checkFetch(options);
      return this.#read(() => {
        this.#requireDevice(recipient);
        const rows = this.#s.fetchMessages.all(recipient.username, recipient.deviceId, options.after, options.limit) as MessageRow[];
        return rows.map((r) => ({ seq: r.seq, id: bytes(r.message_id), envelope: bytes(r.envelope), receivedAt: r.received_at, expiresAt: r.expires_at }));
      });
    });
  }

  ack(recipient: DeviceAddress, ids: readonly Uint8Array[]): Promise<number> {
    return this.#batched(
      () => {
        checkDevice(recipient);
        checkAckIds(ids);
      },
      (): number => {
        let deleted = 0;
        for (const id of ids) deleted += this.#s.deleteMessage.run(recipient.username, recipient.deviceId, id).changes;
        return deleted;
      },
      ids.length <= 1,
    );
  }

  expireMessages(now: number): Promise<number> {
    return this.#run(() => {
      checkTime('now', now);
      return this.#s.expireMessages.run(now).changes;
    });
  }

  // --- attachments ---

  putAttachment(a: NewAttachment): Promise<void> {
    return this.#run(() => {
      checkNewAttachment(a);
      this.#write(() => {
        if (this.#s.hasAttachment.get(a.id) !== undefined) throw new StoreError('ERR_STORE_CONFLICT', 'the attachment id is taken');
        this.#s.insertAttachment.run(a.id, a.bytes, a.bytes.length, a.expiresAt);
      });
    });
  }

  getAttachment(id: Uint8Array): Promise<Attachment | null> {
    return this.#run(() => {
      checkAttachmentId(id);
      const row = this.#s.getAttachment.get(id) as { id: Buffer; bytes: Buffer; size: number; expires_at: number } | undefined;
      return row === undefined ? null : { id: bytes(row.id), bytes: bytes(row.bytes), size: row.size, expiresAt: row.expires_at };
    });
  }

  expireAttachments(now: number): Promise<number> {
    return this.#run(() => {
      checkTime('now', now);
      return this.#s.expireAttachments.run(now).changes;
    });
  }

  close(): Promise<void> {
    const db = this.#db;
    try {
      // Calls made before close() still commit (or fail) as if they had run alone.
      this.#flush();
    } catch {
      // #flush settles every call itself; nothing here stops the close.
    }
    this.#db = null;
    try {
      db?.close();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(toStoreError(e));
    }
  }
}

/** Opens (creating if missing) the database file at `path` with the given migrations, on one
 *  connection on this thread. openSqliteStore (sqlite-worker.ts) opens both of its connections with
 *  it; tests pass their own migration lists. */
export function openSqliteStoreWith(path: string, migrations: readonly Migration[]): SqliteStore {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    migrate(db, migrations);
    return new SqliteStore(db);
  } catch (e) {
    db?.close();
    throw toStoreError(e);
  }
}
