// The PostgreSQL Store: the back-end for running several server processes against one database.
//
// Transactions: every method is one transaction on a client taken from a pg.Pool (BEGIN … COMMIT, or a
// single statement, which PostgreSQL runs as its own transaction), at READ COMMITTED, the default.
// Reads of several statements run as one REPEATABLE READ READ ONLY transaction: one snapshot. What
// keeps concurrent writers apart is row locks, not isolation level:
// - takeBundleParts deletes the oldest one-time key of each kind with
//   `DELETE … WHERE seq = (SELECT seq … ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING …`: a
//   row another transaction is taking is skipped, never waited for and never handed out twice.
//   (Plain FOR UPDATE is also correct, since PostgreSQL re-reads past a row deleted while it waited,
//   but it makes every bundle fetch for a device wait for the one before it to commit.)
// - enqueue locks the recipient's device row (FOR NO KEY UPDATE) before the INSERT takes the next
//   seq from the sequence. A sequence value is taken at insert, not at commit: without the lock a
//   reader could see seq 6 committed before seq 5 and move its cursor past 5 for good. With it, the
//   enqueues of one device take turns, so their commits happen in seq order (the cursor is per
//   device; other devices' enqueues run in parallel). NO KEY UPDATE rather than UPDATE: it does not
//   block the KEY SHARE locks that foreign-key checks of other tables take on the same row.
// - Group commit (enqueue and ack, the per-message hot path): calls wait for the next setImmediate
//   and then go together, the enqueues of many devices as one statement and the acks as another (one
//   round trip and one commit each, instead of one per call; MAX_PG_ENQUEUE_BATCH, MAX_PG_ACK_BATCH_IDS),
//   with up to MAX_PG_BATCHES_IN_FLIGHT batches of each kind in flight. An enqueue batch locks its
//   devices in (username, device_id) order, the one order every batch of every process uses, so
//   batches that share devices wait for one another and never deadlock.
// - Within this process, the enqueues to one device also resolve in seq order: a device is in at most
//   one batch in flight, and its later calls wait for that batch to settle (in call order). Commit
//   order alone is not enough for the server's live push, which wakes a receiver as each enqueue
//   resolves: replies of two pooled connections can reach this process in either order, and a
//   receiver woken for seq 6 before seq 5 would move past 5 (MessageQueue.enqueue's contract).
// - Idempotent enqueue is `INSERT … ON CONFLICT (username, device_id, message_id) DO NOTHING
//   RETURNING seq`; the seqs of ids that were not inserted (queued before, or committed by another
//   process while the statement waited for the device lock) are read by one more query.
// - Unique violations (SQLSTATE 23505: a taken username, device id, one-time prekey id or attachment
//   id, also when two transactions race for it) become ERR_STORE_CONFLICT; every other driver error
//   ERR_STORE_BACKEND with the driver's error as `cause`.
//
// Plans that do not depend on statistics: every connection of the pool runs with enable_seqscan,
// enable_hashjoin and enable_mergejoin off (SESSION_SETTINGS), so every statement here is a nested
// loop of index lookups driven by its (small) input. The messages table is a queue: thousands of rows
// inserted and deleted a second, its live rows few, its dead ones many until autovacuum comes round
// (at most once a minute). A plan made while it looked small — a fresh database, or the sixth
// execution of a prepared statement, whose generic plan the connection then keeps — hash-joins the
// acks against a sequential scan of the whole table, dead rows and all: measured, an ack batch of 40
// read 9,259 pages instead of 160, and PostgreSQL's CPU per message rose through the benchmark's run
// as the table grew (60 µs on average at 100 clients, 38 µs with these settings). Every statement of
// the store has an index for its lookups; the settings make the planner use it whatever its
// statistics say ("off" makes a path very costly, not impossible: a statement with no other way
// still runs).
//
// Durability is the server's: keep fsync = on and synchronous_commit = on (the defaults), and a
// COMMIT, hence every resolved write, is on stable storage (with synchronous replication, on the
// standbys too). bigint columns arrive as strings from the driver and are turned into numbers here:
// every value stored is a u32 or a safe integer of milliseconds, and seqs stay far below 2^53.

import pg from 'pg';
import { StoreError } from './errors.ts';
import { MAX_PG_ACK_BATCH_IDS, MAX_PG_BATCHES_IN_FLIGHT, MAX_PG_ENQUEUE_BATCH, MAX_PG_ENQUEUE_BATCH_BYTES } from './limits.ts';
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
import { bundledPostgresMigrations, migratePostgres } from './internal/pg-migrate.ts';
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

/** SQLSTATE unique_violation (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const UNIQUE_VIOLATION = '23505';

/** A copy as a plain Uint8Array (the driver returns Buffers, which compare unequal to Uint8Arrays). */
const bytes = (b: Buffer): Uint8Array => new Uint8Array(b);
/** A copy of the caller's bytes as a Buffer (the driver sends Buffers as bytea). */
const buf = (u: Uint8Array): Buffer => Buffer.from(u);
/** The byte strings back to back, as one Buffer (one binary parameter). */
const concat = (parts: readonly Uint8Array[]): Buffer => Buffer.concat(parts);
/** The 1-based offset of each part in concat(parts) (SQL's substring counts from 1). */
function offsets(parts: readonly Uint8Array[]): number[] {
  let at = 1;
  return parts.map((p) => {
    const off = at;
    at += p.length;
    return off;
  });
}
/** bigint columns come back as decimal strings. */
const num = (v: string | number): number => Number(v);

interface PrekeyRow {
  prekey_id: string;
  record: Buffer;
}

/** Anything that is not already a StoreError: unique violations are conflicts, the rest back-end
 *  failures with the driver's error (SQLSTATE, SQL, never row contents in our messages) as cause. */
function toStoreError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const code = e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : 'unknown';
  if (code === UNIQUE_VIOLATION) return new StoreError('ERR_STORE_CONFLICT', 'a unique key is already taken', { cause: e });
  return new StoreError('ERR_STORE_BACKEND', `the PostgreSQL database failed (${code})`, { cause: e });
}

/** One enqueue waiting for the next batch. `key` is the device's, `${deviceId}:${username}`. */
interface PendingEnqueue {
  readonly key: string;
  readonly device: DeviceAddress;
  readonly message: NewMessage;
  readonly resolve: (r: EnqueueResult) => void;
  readonly reject: (e: StoreError) => void;
}

/** One ack waiting for the next batch. */
interface PendingAck {
  readonly device: DeviceAddress;
  readonly ids: readonly Uint8Array[];
  readonly resolve: (deleted: number) => void;
  readonly reject: (e: StoreError) => void;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * The hot statements, prepared once per connection (pg's named statements): an enqueue batch, a
 * queue page and an ack batch are one round trip each. A batch's message ids (16 bytes each) and
 * envelopes travel as one bytea parameter each, the ids back to back and the envelopes at the
 * offsets and lengths of two int arrays: the driver sends a Buffer parameter in binary, where a
 * bytea[] would go as hex text, twice the size, encoded here and parsed there.
 * - enqueue: the calls of several devices, in call order (n). First the devices' locks, taken in
 *   (username, device_id) order — every batch of every process locks in that one order, so batches
 *   that share devices wait for each other and never deadlock — then the rows in call order (ORDER BY
 *   n: one device's seqs follow its calls), inserted only for devices that were locked (the IN
 *   sub-plan runs to completion before the INSERT produces its first row, so no seq is taken for a
 *   device before its lock). Rows: kind 'd' (this device exists), 'i' (inserted). An id that was not
 *   inserted is already queued: EXISTING_SQL reads its seq, a second round trip for repeated sends only.
 * - existing, ack: look messages up by id. (username, device_id) is compared with IS NOT DISTINCT
 *   FROM, which no index serves, so the only index the planner can use is the unique key that starts
 *   with message_id (migration 0003), whatever its statistics; with `=` it could take the queue index
 *   and read every message of the device per id.
 * - ack: the ids of several calls, each tagged with its call's index (c); a deleted row names the
 *   call it counts for (one row, once, even when two calls of the batch name it).
 * - fetch: one snapshot; no row at all when the device does not exist, one row of NULLs when its
 *   queue has nothing after the cursor.
 */
const ENQUEUE_SQL =
  'WITH input AS (SELECT u.username, u.device_id, substring($3::bytea FROM u.n::int * 16 - 15 FOR 16) AS message_id, ' +
  'substring($4::bytea FROM u.off FOR u.len) AS envelope, u.received_at, u.expires_at, u.n ' +
  'FROM unnest($1::text[], $2::bigint[], $5::int[], $6::int[], $7::bigint[], $8::bigint[]) ' +
  'WITH ORDINALITY AS u (username, device_id, off, len, received_at, expires_at, n)), ' +
  'device AS (SELECT username, device_id FROM devices WHERE (username, device_id) IN (SELECT username, device_id FROM input) ' +
  'ORDER BY username, device_id FOR NO KEY UPDATE), ' +
  'inserted AS (INSERT INTO messages (username, device_id, message_id, envelope, received_at, expires_at) ' +
  'SELECT i.username, i.device_id, i.message_id, i.envelope, i.received_at, i.expires_at FROM input i ' +
  'WHERE (i.username, i.device_id) IN (SELECT username, device_id FROM device) ORDER BY i.n ' +
  'ON CONFLICT (username, device_id, message_id) DO NOTHING RETURNING seq, username, device_id, message_id) ' +
  "SELECT 'd' AS k, username, device_id, NULL::bigint AS seq, NULL::bytea AS message_id FROM device " +
  "UNION ALL SELECT 'i', username, device_id, seq, message_id FROM inserted";
/** The seqs of ids an enqueue batch did not insert: queued before it, or committed by another
 *  process while the batch waited for a device lock. */
const EXISTING_SQL =
  'SELECT m.username, m.device_id, m.seq, m.message_id FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS i (username, device_id, message_id) ' +
  'JOIN messages m ON m.message_id = i.message_id AND (m.username, m.device_id) IS NOT DISTINCT FROM (i.username, i.device_id)';
const FETCH_SQL =
  'SELECT m.seq, m.message_id, m.envelope, m.received_at, m.expires_at FROM devices d LEFT JOIN LATERAL ' +
  '(SELECT seq, message_id, envelope, received_at, expires_at FROM messages WHERE username = d.username AND device_id = d.device_id AND seq > $3 ORDER BY seq LIMIT $4) m ON true ' +
  'WHERE d.username = $1 AND d.device_id = $2 ORDER BY m.seq';
const ACK_SQL =
  'DELETE FROM messages m USING unnest($1::text[], $2::bigint[], $4::int[]) WITH ORDINALITY AS a (username, device_id, c, k) ' +
  'WHERE m.message_id = substring($3::bytea FROM a.k::int * 16 - 15 FOR 16) AND (m.username, m.device_id) IS NOT DISTINCT FROM (a.username, a.device_id) RETURNING a.c';
const GET_ACCOUNT_SQL = 'SELECT username, identity_key, access_key_hash, created_at FROM accounts WHERE username = $1';

/** What a transaction body runs its statements with. */
type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<pg.QueryResult<R>>;
type Mode = 'write' | 'read';

/** The PostgreSQL store. Construct it through openPostgresStore. */
export class PostgresStore implements Store {
  #pool: pg.Pool | null;
  // Group commit of the hot path (enqueue and ack): calls wait here for the next batch.
  #enqueues: PendingEnqueue[] = [];
  #acks: PendingAck[] = [];
  /** Devices with an enqueue batch in flight: their next calls wait for it (they resolve in seq order). */
  readonly #busy = new Set<string>();
  #enqueueBatches = 0;
  #ackBatches = 0;
  #scheduled = false;
  /** Statements the group commit has run: enqueue batches, ack batches (for the tests that check a
   *  burst shares them). */
  readonly #statements = { enqueue: 0, ack: 0 };
  /** Resolved once nothing is pending or in flight (close waits for it). */
  #idle: (() => void)[] = [];

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  #requirePool(): pg.Pool {
    if (this.#pool === null) throw new StoreError('ERR_STORE_CLOSED', 'the store was closed');
    return this.#pool;
  }

  /** One operation: argument checks (`check`, before any I/O), then `body` as one transaction on a
   *  pooled client; every failure becomes a rejected StoreError. */
  async #tx<T>(mode: Mode, check: () => void, body: (q: Query) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      const pool = this.#requirePool();
      check();
      client = await pool.connect();
    } catch (e) {
      throw toStoreError(e);
    }
    let broken: Error | undefined;
    try {
      await client.query(mode === 'write' ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await body((sql, params) => client.query(sql, params));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackFailed) {
        broken = rollbackFailed instanceof Error ? rollbackFailed : new Error('ROLLBACK failed');
      }
      throw toStoreError(e);
    } finally {
      client.release(broken); // a client whose ROLLBACK failed is discarded, not reused
    }
  }

  /** One operation of a single statement: PostgreSQL runs it as its own transaction. With a `name`,
   *  the statement is prepared once per connection and reused. */
  async #one<R extends pg.QueryResultRow>(check: () => void, sql: string, params: unknown[], name?: string): Promise<pg.QueryResult<R>> {
    try {
      const pool = this.#requirePool();
      check();
      return await pool.query<R>(name === undefined ? { text: sql, values: params } : { name, text: sql, values: params });
    } catch (e) {
      throw toStoreError(e);
    }
  }

  // --- accounts and devices ---

  async createAccount(a: NewAccount): Promise<void> {
    await this.#tx(
      'write',
      () => {
        checkNewAccount(a);
      },
      async (q) => {
        const inserted = await q('INSERT INTO accounts (username, identity_key, access_key_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING', [
          a.username,
          buf(a.identityKey),
          buf(a.accessKeyHash),
          a.createdAt,
        ]);
        if (inserted.rowCount !== 1) throw new StoreError('ERR_STORE_CONFLICT', 'the username is taken');
        await q('INSERT INTO devices (username, device_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)', [a.username, a.firstDeviceId, a.createdAt]);
      },
    );
  }

  async getAccount(username: string): Promise<Account | null> {
    const { rows } = await this.#one<{ username: string; identity_key: Buffer; access_key_hash: Buffer; created_at: string }>(
      () => {
        checkUsername(username);
      },
      GET_ACCOUNT_SQL,
      [username],
      'sotto_get_account',
    );
    const row = rows[0];
    return row === undefined
      ? null
      : { username: row.username, identityKey: bytes(row.identity_key), accessKeyHash: bytes(row.access_key_hash), createdAt: num(row.created_at) };
  }

  async addDevice(d: DeviceAddress, createdAt: number): Promise<void> {
    await this.#tx(
      'write',
      () => {
        checkDevice(d);
        checkTime('createdAt', createdAt);
      },
      async (q) => {
        const account = await q('SELECT 1 FROM accounts WHERE username = $1 FOR KEY SHARE', [d.username]);
        if (account.rowCount === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such account');
        const inserted = await q('INSERT INTO devices (username, device_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING', [d.username, d.deviceId, createdAt]);
        if (inserted.rowCount !== 1) throw new StoreError('ERR_STORE_CONFLICT', 'the device id is taken');
      },
    );
  }

  listDevices(username: string): Promise<readonly Device[]> {
    return this.#tx(
      'read',
      () => {
        checkUsername(username);
      },
      async (q) => {
        const account = await q('SELECT 1 FROM accounts WHERE username = $1', [username]);
        if (account.rowCount === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such account');
        const { rows } = await q<{ device_id: string; created_at: string; last_seen_at: string }>(
          'SELECT device_id, created_at, last_seen_at FROM devices WHERE username = $1 ORDER BY device_id',
          [username],
        );
        return rows.map((r) => ({ deviceId: num(r.device_id), createdAt: num(r.created_at), lastSeenAt: num(r.last_seen_at) }));
      },
    );
  }

  async touchDevice(d: DeviceAddress, lastSeenAt: number): Promise<void> {
    const { rowCount } = await this.#one(
      () => {
        checkDevice(d);
        checkTime('lastSeenAt', lastSeenAt);
      },
      'UPDATE devices SET last_seen_at = GREATEST(last_seen_at, $1) WHERE username = $2 AND device_id = $3',
      [lastSeenAt, d.username, d.deviceId],
    );
    if (rowCount === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
  }

  // --- prekeys ---

  /** Locks the device row against deletion for the rest of the transaction; NOT_FOUND if it is missing. */
  static async #requireDevice(q: Query, d: DeviceAddress): Promise<void> {
    const found = await q('SELECT 1 FROM devices WHERE username = $1 AND device_id = $2 FOR KEY SHARE', [d.username, d.deviceId]);
    if (found.rowCount === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
  }

  async #replacePrekey(table: 'signed_prekeys' | 'last_resort_kem_prekeys', d: DeviceAddress, prekey: PrekeyRecord): Promise<void> {
    await this.#tx(
      'write',
      () => {
        checkDevice(d);
        checkPrekey(prekey);
      },
      async (q) => {
        await PostgresStore.#requireDevice(q, d);
        await q(
          `INSERT INTO ${table} (username, device_id, prekey_id, record) VALUES ($1, $2, $3, $4) ` +
            'ON CONFLICT (username, device_id) DO UPDATE SET prekey_id = excluded.prekey_id, record = excluded.record',
          [d.username, d.deviceId, prekey.id, buf(prekey.record)],
        );
      },
    );
  }

  setSignedPrekey(d: DeviceAddress, prekey: PrekeyRecord): Promise<void> {
    return this.#replacePrekey('signed_prekeys', d, prekey);
  }

  setLastResortKemPrekey(d: DeviceAddress, prekey: PrekeyRecord): Promise<void> {
    return this.#replacePrekey('last_resort_kem_prekeys', d, prekey);
  }

  async addOneTimePrekeys(d: DeviceAddress, kind: OneTimePrekeyKind, prekeys: readonly PrekeyRecord[]): Promise<void> {
    await this.#tx(
      'write',
      () => {
        checkDevice(d);
        checkKind(kind);
        checkPrekeyBatch(prekeys);
      },
      async (q) => {
        await PostgresStore.#requireDevice(q, d);
        await PostgresStore.#insertOneTime(q, d, kind, prekeys);
      },
    );
  }

  /** Inside a write transaction: the batch, all or nothing (a held id is a unique violation, which
   *  rolls the whole transaction back and becomes a conflict). */
  static async #insertOneTime(q: Query, d: DeviceAddress, kind: OneTimePrekeyKind, prekeys: readonly PrekeyRecord[]): Promise<void> {
    if (new Set(prekeys.map((p) => p.id)).size !== prekeys.length) throw new StoreError('ERR_STORE_CONFLICT', 'a one-time prekey id is already in use');
    if (prekeys.length === 0) return;
    // One statement for the batch, in the caller's order (the seqs follow it: oldest first).
    await q(
      'INSERT INTO one_time_prekeys (username, device_id, kind, prekey_id, record) ' +
        'SELECT $1, $2, $3, k.id, k.record FROM unnest($4::bigint[], $5::bytea[]) WITH ORDINALITY AS k (id, record, n) ORDER BY k.n',
      [d.username, d.deviceId, kind, prekeys.map((p) => p.id), prekeys.map((p) => buf(p.record))],
    );
  }

  storePrekeys(d: DeviceAddress, batch: PrekeyBatch): Promise<OneTimePrekeyCounts> {
    return this.#tx(
      'write',
      () => {
        checkDevice(d);
        checkPrekeyUpload(batch);
      },
      async (q) => {
        await PostgresStore.#requireDevice(q, d);
        await PostgresStore.#insertOneTime(q, d, 'x25519', batch.oneTime.x25519);
        await PostgresStore.#insertOneTime(q, d, 'kem', batch.oneTime.kem);
        for (const [table, prekey] of [
          ['signed_prekeys', batch.signedPrekey],
          ['last_resort_kem_prekeys', batch.lastResortKemPrekey],
        ] as const) {
          if (prekey === undefined) continue;
          await q(
            `INSERT INTO ${table} (username, device_id, prekey_id, record) VALUES ($1, $2, $3, $4) ` +
              'ON CONFLICT (username, device_id) DO UPDATE SET prekey_id = excluded.prekey_id, record = excluded.record',
            [d.username, d.deviceId, prekey.id, buf(prekey.record)],
          );
        }
        const { rows } = await q<{ x25519: string; kem: string }>(
          "SELECT count(*) FILTER (WHERE kind = 'x25519') AS x25519, count(*) FILTER (WHERE kind = 'kem') AS kem FROM one_time_prekeys WHERE username = $1 AND device_id = $2",
          [d.username, d.deviceId],
        );
        const row = rows[0];
        return { x25519: num(row?.x25519 ?? '0'), kem: num(row?.kem ?? '0') };
      },
    );
  }

  async countOneTimePrekeys(d: DeviceAddress): Promise<OneTimePrekeyCounts> {
    const { rows } = await this.#one<{ found: boolean; x25519: string; kem: string }>(
      () => {
        checkDevice(d);
      },
      'SELECT EXISTS (SELECT 1 FROM devices WHERE username = $1 AND device_id = $2) AS found, ' +
        "(SELECT count(*) FROM one_time_prekeys WHERE username = $1 AND device_id = $2 AND kind = 'x25519') AS x25519, " +
        "(SELECT count(*) FROM one_time_prekeys WHERE username = $1 AND device_id = $2 AND kind = 'kem') AS kem",
      [d.username, d.deviceId],
    );
    const row = rows[0];
    if (row?.found !== true) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
    return { x25519: num(row.x25519), kem: num(row.kem) };
  }

  takeBundleParts(d: DeviceAddress): Promise<BundleParts> {
    return this.#tx(
      'write',
      () => {
        checkDevice(d);
      },
      async (q) => {
        await PostgresStore.#requireDevice(q, d);
        const signed = (await q<PrekeyRow>('SELECT prekey_id, record FROM signed_prekeys WHERE username = $1 AND device_id = $2', [d.username, d.deviceId])).rows[0];
        if (signed === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'the device has no signed prekey');
        const take = async (kind: OneTimePrekeyKind): Promise<PrekeyRow | undefined> =>
          (
            await q<PrekeyRow>(
              'DELETE FROM one_time_prekeys WHERE seq = (SELECT seq FROM one_time_prekeys WHERE username = $1 AND device_id = $2 AND kind = $3 ' +
                'ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING prekey_id, record',
              [d.username, d.deviceId, kind],
            )
          ).rows[0];
        const oneTimeKem = await take('kem');
        const kem = oneTimeKem ?? (await q<PrekeyRow>('SELECT prekey_id, record FROM last_resort_kem_prekeys WHERE username = $1 AND device_id = $2', [d.username, d.deviceId])).rows[0];
        if (kem === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'the device has no KEM prekey'); // rolls back: nothing taken
        const oneTimeX = await take('x25519');
        return {
          signedPrekey: { id: num(signed.prekey_id), record: bytes(signed.record) },
          oneTimePrekey: oneTimeX === undefined ? null : { id: num(oneTimeX.prekey_id), record: bytes(oneTimeX.record) },
          kemPrekey: { id: num(kem.prekey_id), record: bytes(kem.record) },
          kemPrekeyIsLastResort: oneTimeKem === undefined,
        };
      },
    );
  }

  // --- message queues ---

  /** How many enqueue and ack statements the group commit has run on this store. */
  groupCommits(): { enqueue: number; ack: number } {
    return { ...this.#statements };
  }

  enqueue(recipient: DeviceAddress, m: NewMessage): Promise<EnqueueResult> {
    try {
      this.#requirePool();
      checkDevice(recipient);
      checkNewMessage(m);
    } catch (e) {
      return Promise.reject(toStoreError(e));
    }
    const device = { username: recipient.username, deviceId: recipient.deviceId };
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.#enqueues.push({ key: `${device.deviceId}:${device.username}`, device, message: m, resolve, reject });
      this.#schedule();
    });
  }

  /** Starts the pending calls' batches at the next setImmediate: every call of one event-loop turn
   *  (a burst of frames read together) can share a statement and a commit. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#startBatches();
    });
  }

  /** Starts as many batches as the in-flight bounds allow (MAX_PG_BATCHES_IN_FLIGHT of each kind). */
  #startBatches(): void {
    while (this.#enqueueBatches < MAX_PG_BATCHES_IN_FLIGHT && this.#enqueues.length > 0) {
      const batch = this.#takeEnqueueBatch();
      if (batch.length === 0) break; // every pending call's device has a batch in flight
      this.#enqueueBatches++;
      void this.#runEnqueueBatch(batch).finally(() => {
        this.#enqueueBatches--;
        this.#startBatches();
      });
    }
    while (this.#ackBatches < MAX_PG_BATCHES_IN_FLIGHT && this.#acks.length > 0) {
      const batch = this.#takeAckBatch();
      this.#ackBatches++;
      void this.#runAckBatch(batch).finally(() => {
        this.#ackBatches--;
        this.#startBatches();
      });
    }
    if (this.#enqueues.length + this.#acks.length + this.#enqueueBatches + this.#ackBatches === 0) {
      const waiting = this.#idle;
      this.#idle = [];
      for (const done of waiting) done();
    }
  }

  /** The next enqueue batch, in call order: every pending call whose device has no batch in flight,
   *  up to MAX_PG_ENQUEUE_BATCH calls and MAX_PG_ENQUEUE_BATCH_BYTES of envelopes (the first call
   *  always goes). A call left behind keeps its place; so does every later call of its device, which
   *  is what keeps one device's calls resolving in seq order. */
  #takeEnqueueBatch(): PendingEnqueue[] {
    const batch: PendingEnqueue[] = [];
    const rest: PendingEnqueue[] = [];
    const mine = new Set<string>();
    let bytes = 0;
    let full = false;
    for (const p of this.#enqueues) {
      full ||= batch.length > 0 && (batch.length === MAX_PG_ENQUEUE_BATCH || bytes + p.message.envelope.length > MAX_PG_ENQUEUE_BATCH_BYTES);
      if (full || (this.#busy.has(p.key) && !mine.has(p.key))) {
        rest.push(p);
        continue;
      }
      if (!mine.has(p.key)) {
        mine.add(p.key);
        this.#busy.add(p.key);
      }
      batch.push(p);
      bytes += p.message.envelope.length;
    }
    this.#enqueues = rest;
    return batch;
  }

  /** Writes one batch (one statement, one commit) and settles its calls in call order. */
  async #runEnqueueBatch(batch: readonly PendingEnqueue[]): Promise<void> {
    let results: (EnqueueResult | StoreError)[];
    try {
      results = await this.#enqueueBatch(batch);
    } catch (e) {
      const error = toStoreError(e);
      results = batch.map(() => error);
    }
    for (const p of batch) this.#busy.delete(p.key);
    batch.forEach((p, i) => {
      const r = results[i];
      if (r === undefined) p.reject(new StoreError('ERR_STORE_BACKEND', 'the enqueue batch lost a call'));
      else if (r instanceof StoreError) p.reject(r);
      else p.resolve(r);
    });
  }

  /** One statement (its own transaction): the devices' locks, the batch inserted in call order, and
   *  the seqs of ids the queues already held. A call to a device that does not exist gets
   *  ERR_STORE_NOT_FOUND; the others are unaffected. */
  async #enqueueBatch(batch: readonly PendingEnqueue[]): Promise<(EnqueueResult | StoreError)[]> {
    const pool = this.#requirePool();
    this.#statements.enqueue++;
    const { rows } = await pool.query<{ k: 'd' | 'i'; username: string; device_id: string; seq: string | null; message_id: Buffer | null }>({
      name: 'sotto_enqueue',
      text: ENQUEUE_SQL,
      values: [
        batch.map((p) => p.device.username),
        batch.map((p) => p.device.deviceId),
        concat(batch.map((p) => p.message.id)),
        concat(batch.map((p) => p.message.envelope)),
        offsets(batch.map((p) => p.message.envelope)),
        batch.map((p) => p.message.envelope.length),
        batch.map((p) => p.message.receivedAt),
        batch.map((p) => p.message.expiresAt),
      ],
    });
    // Keys: `${deviceId}:${username}` for devices, `${deviceId}:${username}:${hex(id)}` for messages.
    const found = new Set<string>();
    const inserted = new Map<string, number>();
    for (const r of rows) {
      const device = `${num(r.device_id)}:${r.username}`;
      if (r.k === 'd') found.add(device);
      else if (r.seq !== null && r.message_id !== null) inserted.set(`${device}:${hex(r.message_id)}`, num(r.seq));
    }
    const keyOf = (p: PendingEnqueue): string => `${p.key}:${hex(p.message.id)}`;
    // An id of an existing device that was not inserted is queued already: read its seq.
    const existing = new Map<string, number>();
    const repeated = batch.filter((p) => found.has(p.key) && !inserted.has(keyOf(p)));
    if (repeated.length > 0) {
      const { rows: queued } = await pool.query<{ username: string; device_id: string; seq: string; message_id: Buffer }>({
        name: 'sotto_existing',
        text: EXISTING_SQL,
        values: [repeated.map((p) => p.device.username), repeated.map((p) => p.device.deviceId), repeated.map((p) => buf(p.message.id))],
      });
      for (const r of queued) existing.set(`${num(r.device_id)}:${r.username}:${hex(r.message_id)}`, num(r.seq));
    }
    // In call order: the first call with an inserted id gets it as new, any later call with the same
    // id to the same device (in this batch) is its duplicate.
    const claimed = new Set<string>();
    return batch.map((p) => {
      if (!found.has(p.key)) return new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
      const k = keyOf(p);
      const fresh = inserted.get(k);
      if (fresh !== undefined && !claimed.has(k)) {
        claimed.add(k);
        return { seq: fresh, duplicate: false };
      }
      const seq = fresh ?? existing.get(k);
      if (seq === undefined) return new StoreError('ERR_STORE_BACKEND', 'expected the conflicting message, got none');
      return { seq, duplicate: true };
    });
  }

  async fetch(recipient: DeviceAddress, options: FetchOptions): Promise<readonly QueuedMessage[]> {
    const { rows } = await this.#one<{ seq: string | null; message_id: Buffer | null; envelope: Buffer | null; received_at: string | null; expires_at: string | null }>(
      () => {
        checkDevice(recipient);
        checkFetch(options);
      },
      FETCH_SQL,
      [recipient.username, recipient.deviceId, options.after, options.limit],
      'sotto_fetch',
    );
    if (rows.length === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
    const out: QueuedMessage[] = [];
    for (const r of rows) {
      if (r.seq === null || r.message_id === null || r.envelope === null || r.received_at === null || r.expires_at === null) continue; // the empty queue's row
      out.push({ seq: num(r.seq), id: bytes(r.message_id), envelope: bytes(r.envelope), receivedAt: num(r.received_at), expiresAt: num(r.expires_at) });
    }
    return out;
  }

  ack(recipient: DeviceAddress, ids: readonly Uint8Array[]): Promise<number> {
    try {
      this.#requirePool();
      checkDevice(recipient);
      checkAckIds(ids);
    } catch (e) {
      return Promise.reject(toStoreError(e));
    }
    if (ids.length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => {
      this.#acks.push({ device: { username: recipient.username, deviceId: recipient.deviceId }, ids, resolve, reject });
      this.#schedule();
    });
  }

  /** The next ack batch: pending calls in order up to MAX_PG_ACK_BATCH_IDS ids (the first call always goes). */
  #takeAckBatch(): PendingAck[] {
    let n = 0;
    let ids = 0;
    for (const p of this.#acks) {
      if (n > 0 && ids + p.ids.length > MAX_PG_ACK_BATCH_IDS) break;
      ids += p.ids.length;
      n++;
    }
    const batch = this.#acks.slice(0, n);
    this.#acks = this.#acks.slice(n);
    return batch;
  }

  /** Deletes one batch's ids (one statement, one commit); each call resolves to the rows it deleted. */
  async #runAckBatch(batch: readonly PendingAck[]): Promise<void> {
    try {
      const pool = this.#requirePool();
      const usernames: string[] = [];
      const deviceIds: number[] = [];
      const ids: Uint8Array[] = [];
      const calls: number[] = [];
      batch.forEach((p, c) => {
        for (const id of p.ids) {
          usernames.push(p.device.username);
          deviceIds.push(p.device.deviceId);
          ids.push(id);
          calls.push(c);
        }
      });
      this.#statements.ack++;
      const { rows } = await pool.query<{ c: number }>({ name: 'sotto_ack', text: ACK_SQL, values: [usernames, deviceIds, concat(ids), calls] });
      const deleted = batch.map(() => 0);
      for (const r of rows) deleted[r.c] = (deleted[r.c] ?? 0) + 1;
      batch.forEach((p, c) => {
        p.resolve(deleted[c] ?? 0);
      });
    } catch (e) {
      const error = toStoreError(e);
      for (const p of batch) p.reject(error);
    }
  }

  async expireMessages(now: number): Promise<number> {
    const { rowCount } = await this.#one(
      () => {
        checkTime('now', now);
      },
      'DELETE FROM messages WHERE expires_at <= $1',
      [now],
    );
    return rowCount ?? 0;
  }

  // --- attachments ---

  async putAttachment(a: NewAttachment): Promise<void> {
    const { rowCount } = await this.#one(
      () => {
        checkNewAttachment(a);
      },
      'INSERT INTO attachments (id, bytes, size, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
      [buf(a.id), buf(a.bytes), a.bytes.length, a.expiresAt],
    );
    if (rowCount !== 1) throw new StoreError('ERR_STORE_CONFLICT', 'the attachment id is taken');
  }

  async getAttachment(id: Uint8Array): Promise<Attachment | null> {
    const { rows } = await this.#one<{ id: Buffer; bytes: Buffer; size: string; expires_at: string }>(
      () => {
        checkAttachmentId(id);
      },
      'SELECT id, bytes, size, expires_at FROM attachments WHERE id = $1',
      [buf(id)],
    );
    const row = rows[0];
    return row === undefined ? null : { id: bytes(row.id), bytes: bytes(row.bytes), size: num(row.size), expiresAt: num(row.expires_at) };
  }

  async expireAttachments(now: number): Promise<number> {
    const { rowCount } = await this.#one(
      () => {
        checkTime('now', now);
      },
      'DELETE FROM attachments WHERE expires_at <= $1',
      [now],
    );
    return rowCount ?? 0;
  }

  /** Closes the pool (waiting for operations in flight to finish); idempotent. */
  async close(): Promise<void> {
    if (this.#pool !== null && this.#enqueues.length + this.#acks.length + this.#enqueueBatches + this.#ackBatches > 0) {
      // Calls made before close still run (as calls of any other method already sent would).
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    const pool = this.#pool;
    this.#pool = null;
    try {
      await pool?.end();
    } catch (e) {
      throw toStoreError(e);
    }
  }
}

/** A connection URL (postgres://user@host:port/db) or a pg.PoolConfig (host, port, database, user,
 *  password, ssl, max, options such as '-c search_path=sotto', …). */
export type PostgresConfig = string | pg.PoolConfig;

/** The planner settings of every connection (see the header): nested loops of index lookups. */
const SESSION_SETTINGS = 'SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off';

/** Opens the store with the given migrations. Internal: tests pass their own migration lists;
 *  everything else uses openPostgresStore. */
export async function openPostgresStoreWith(config: PostgresConfig, migrations: readonly Migration[]): Promise<PostgresStore> {
  const base: pg.PoolConfig = typeof config === 'string' ? { connectionString: config } : config;
  const theirs = base.onConnect;
  // Every new connection runs SESSION_SETTINGS (after the caller's own hook, if any) before the pool
  // hands it out; if that fails, the pool closes it and the query that waited for it fails
  // (ERR_STORE_BACKEND): no connection runs without the settings. (A caller's hook that returns a
  // promise is awaited, as pg-pool itself would.)
  const onConnect = async (client: pg.ClientBase): Promise<void> => {
    await (theirs?.(client) as Promise<void> | undefined);
    await client.query(SESSION_SETTINGS);
  };
  // pg-pool awaits onConnect's promise before it hands the client out, and on a rejection closes the
  // client and fails the wait; @types/pg declares the hook's result void.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  const pool = new pg.Pool({ ...base, onConnect });
  // An idle pooled client whose connection drops emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection (or fails as ERR_STORE_BACKEND).
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    let failed: Error | undefined;
    try {
      await migratePostgres(client, migrations);
    } catch (e) {
      failed = e instanceof Error ? e : new Error('migration failed');
      throw e;
    } finally {
      client.release(failed);
    }
    return new PostgresStore(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw toStoreError(e);
  }
}

/** Opens the PostgreSQL store in the database that `config` names (which must exist and be UTF8),
 *  creating its tables if missing and upgrading its schema if it is older than this code, once even
 *  when several processes open it at once. Rejects with ERR_STORE_SCHEMA_TOO_NEW for a database
 *  written by a newer version, ERR_STORE_SCHEMA_INVALID for one whose recorded migrations differ,
 *  ERR_STORE_BACKEND when the server cannot be reached or refuses. */
export function openPostgresStore(config: PostgresConfig): Promise<Store> {
  return openPostgresStoreWith(config, bundledPostgresMigrations());
}
