// The SQLite store as openSqliteStore returns it: reads on the calling thread, writes on a writer
// thread (issue 3: durable delivery throughput).
//
// Why: better-sqlite3 is synchronous, and every write commits with an fsync (synchronous=FULL,
// sqlite.ts). On the server's event loop each group commit blocked everything else for its statements
// and its fsync: at 2 clients the server's main thread spent ~55% of its time in SqliteStore's flush.
// Here the writes run on a thread of their own (internal/sqlite-writer.ts, on its own connection to
// the same file), so the event loop keeps serving sockets while the writer runs statements and waits
// for the disk, on a second core when there is one.
//
// Who does what:
// - Reads (getAccount, listDevices, countOneTimePrekeys, fetch, getAttachment) run here, at once, on a
//   second connection: a SqliteStore used only for reading. WAL lets it read beside the writer; it sees
//   what has committed, and a write resolves only after its COMMIT, so a read made after a write
//   resolved sees it. A write not yet resolved is not seen, as with the one-thread store.
// - Writes (every other method) are checked here with the same functions as everywhere
//   (internal/validate.ts), so a bad argument rejects at once, then sent to the writer thread, which
//   makes the call on the existing SqliteStore: group commit, BEGIN IMMEDIATE, savepoints and all, with
//   the same semantics (sqlite.ts). Only plain copies of the arguments' fields cross (no caller object
//   whose extra properties might not clone), and they are copied when the batch is sent, at the next
//   setImmediate: as the group commit always did for enqueue and ack, a caller must not change an
//   argument's bytes before the call resolves.
// - Opening runs the migrations here, on the read connection, before the writer opens its own: open
//   errors (ERR_STORE_SCHEMA_TOO_NEW, a file that is not a database, …) reject openSqliteStore
//   exactly as before.
//
// Batching, so that the thread boundary costs little per message: every call made in one event-loop
// turn (until the next setImmediate, like the group commit) goes in ONE postMessage; the writer makes
// them in order, so they share one commit, and answers each commit's calls in ONE postMessage. The
// enqueues and acks of a batch are not cloned as objects but packed into one ArrayBuffer, transferred
// (internal/sqlite-writer-calls.ts: structured clone costs per object and per Uint8Array, which was
// most of the boundary's cost per message), and their answers come back as one Float64Array. Answers
// settle the callers' promises in the order the writer settled them: writes take effect in call
// order, one device's enqueues resolve in seq order.
//
// One writer thread per process serves every store the process opens (one connection each): starting
// a thread that compiles the store with tsx costs ~150 ms, which a server pays once but a test suite
// opening hundreds of stores would pay each time. The thread is unref'd whenever no call is in flight,
// so an idle store keeps no process alive (as the one-thread store never did), and after close() a
// store holds neither connection: the writer closed its own, this side closes the reader. A crashed
// writer thread (an exception, an exit) fails every call in flight and every later call of its stores
// with ERR_STORE_BACKEND; the next openSqliteStore starts a new thread.
//
// ':memory:' and '' name a database private to one connection, which a second connection cannot read:
// they get the one-thread SqliteStore (no file, no fsync to move off the event loop anyway).

import { Worker } from 'node:worker_threads';
import { StoreError } from './errors.ts';
import {
  checkAckIds,
  checkDevice,
  checkKind,
  checkNewAccount,
  checkNewAttachment,
  checkNewMessage,
  checkPrekey,
  checkPrekeyBatch,
  checkPrekeyUpload,
  checkTime,
} from './internal/validate.ts';
import { bundledSqliteMigrations } from './internal/sqlite-migrate.ts';
import {
  ANSWER_COUNT,
  ANSWER_DUPLICATE,
  ANSWER_STRIDE,
  CallPacker,
  fromWire,
  PACKED_ACK,
  PACKED_ANSWER_STRIDE,
  PACKED_ENQUEUE,
  packableUsername,
  type AnswerBatch,
  type PackedCall,
  type WireError,
  type WriteMethod,
  type WriterFault,
  type WriterMethod,
} from './internal/sqlite-writer-calls.ts';
import { openSqliteStoreWith, toStoreError, type SqliteSettings, type SqliteStore } from './sqlite.ts';
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

const WRITER_ENTRY = new URL('./internal/sqlite-writer-entry.mjs', import.meta.url);

/** A call sent (or about to be sent) to the writer thread, waiting for its answer. */
interface Waiting {
  readonly resolve: (value: unknown) => void;
  readonly reject: (e: StoreError) => void;
}

/** A generic call as it waits in the outbox: id, connection, method, up to three arguments. */
type GenericCall = [id: number, connection: number, method: WriterMethod, a: unknown, b: unknown, c: unknown];

const NOT_SENT: WireError = { code: 'ERR_STORE_ARGUMENT', message: 'an argument could not be sent to the SQLite writer thread' };

/** The main thread's end of the writer thread: numbers calls, batches them per event-loop turn,
 *  settles them from the answers, and fails them all if the thread dies. */
class WriterThread {
  readonly #worker: Worker;
  /** Every call not yet answered, sent or still in #outbox, by id. */
  #waiting = new Map<number, Waiting>();
  /** This turn's calls, in order, sent together at the next setImmediate: enqueue and ack packed, the
   *  others generic. */
  #outbox: (PackedCall | GenericCall)[] = [];
  #sendScheduled = false;
  #nextCall = 1;
  #nextConnection = 1;
  /** Set when the thread has died: every call of its stores fails with it from then on. */
  #failure: StoreError | null = null;

  constructor() {
    // execArgv: none of the parent's. `--import tsx` does nothing for a worker on Node 20 but costs
    // ~100 ms of start-up (the entry registers tsx itself), and `--cpu-prof` would write a second
    // profile next to the server's (bench/server/profile.ts reads one).
    this.#worker = new Worker(WRITER_ENTRY, { execArgv: [] });
    this.#worker.unref(); // ref'd only while calls are in flight (#track)
    this.#worker.on('message', (answers: AnswerBatch) => {
      this.#settle(answers);
    });
    this.#worker.on('error', (e) => {
      this.#die(e);
    });
    this.#worker.on('messageerror', (e) => {
      this.#die(e);
      void this.#worker.terminate();
    });
    this.#worker.on('exit', (code) => {
      this.#die(new Error(`the SQLite writer thread exited with code ${code}`));
    });
  }

  get failure(): StoreError | null {
    return this.#failure;
  }

  newConnection(): number {
    return this.#nextConnection++;
  }

  /** Queues one call for this turn's batch; resolves to the writer's answer. */
  call(connection: number, method: WriterMethod, a?: unknown, b?: unknown, c?: unknown): Promise<unknown> {
    return this.#queue((id) => [id, connection, method, a, b, c]);
  }

  /** Queues an enqueue, packed (the device's username must be packableUsername). */
  enqueue(connection: number, device: DeviceAddress, message: NewMessage): Promise<EnqueueResult> {
    return this.#queue((id) => ({ kind: PACKED_ENQUEUE, id, connection, device, message })) as Promise<EnqueueResult>;
  }

  /** Queues an ack, packed (the device's username must be packableUsername). */
  ack(connection: number, device: DeviceAddress, ids: readonly Uint8Array[]): Promise<number> {
    return this.#queue((id) => ({ kind: PACKED_ACK, id, connection, device, ids })) as Promise<number>;
  }

  #queue(entry: (id: number) => PackedCall | GenericCall): Promise<unknown> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const id = this.#nextCall++;
      if (this.#waiting.size === 0) this.#worker.ref(); // a call in flight keeps the process alive
      this.#waiting.set(id, { resolve, reject });
      this.#outbox.push(entry(id));
      if (!this.#sendScheduled) {
        this.#sendScheduled = true;
        setImmediate(this.#send);
      }
    });
  }

  readonly #send = (): void => {
    this.#sendScheduled = false;
    const batch = this.#outbox;
    this.#outbox = [];
    if (this.#failure !== null || batch.length === 0) return; // #die has rejected them
    const packer = new CallPacker();
    const generic: unknown[] = [];
    for (const e of batch) {
      if (Array.isArray(e)) generic.push(packer.count, ...e);
      else if (!packer.add(e)) this.#answer(e.id, false, NOT_SENT); // a detached buffer, say
    }
    const packed = packer.finish();
    try {
      this.#worker.postMessage([packed, generic], packed === null ? [] : [packed]);
    } catch {
      // An argument that cannot be cloned (a Uint8Array over a detached buffer, say): send the calls
      // in order, each generic one alone, so that only the call that cannot be sent fails.
      let run = new CallPacker();
      const sendRun = (): void => {
        const p = run.finish();
        if (p !== null) this.#worker.postMessage([p, []], [p]);
        run = new CallPacker();
      };
      for (const e of batch) {
        if (!Array.isArray(e)) {
          run.add(e); // one that cannot be packed was answered above
          continue;
        }
        sendRun();
        try {
          this.#worker.postMessage([null, [0, ...e]]);
        } catch {
          this.#answer(e[0], false, NOT_SENT);
        }
      }
      sendRun();
    }
  };

  /** Settles the answers in the order the writer settled them: each generic one after the `at`
   *  packed ones before it. */
  #settle([packed, answers]: AnswerBatch): void {
    let i = 0;
    const genericUpTo = (n: number): void => {
      for (; i + ANSWER_STRIDE <= answers.length && (answers[i] as number) <= n; i += ANSWER_STRIDE) {
        this.#answer(answers[i + 1] as number, answers[i + 2] === true, answers[i + 3]);
      }
    };
    if (packed !== null) {
      for (let p = 0, k = 0; p + PACKED_ANSWER_STRIDE <= packed.length; p += PACKED_ANSWER_STRIDE, k++) {
        genericUpTo(k);
        const value = packed[p + 1] as number;
        const what = packed[p + 2];
        this.#answer(packed[p] as number, true, what === ANSWER_COUNT ? value : ({ seq: value, duplicate: what === ANSWER_DUPLICATE } satisfies EnqueueResult));
      }
    }
    genericUpTo(Infinity);
  }

  #answer(id: number, ok: boolean, value: unknown): void {
    const w = this.#waiting.get(id);
    if (w === undefined) return;
    this.#waiting.delete(id);
    if (this.#waiting.size === 0) this.#worker.unref();
    if (ok) w.resolve(value);
    else w.reject(fromWire(value));
  }

  #die(cause: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = new StoreError('ERR_STORE_BACKEND', 'the SQLite writer thread stopped', { cause });
    if (shared === this) shared = null; // the next openSqliteStore starts a new thread
    const waiting = this.#waiting;
    this.#waiting = new Map();
    this.#outbox = [];
    this.#worker.unref();
    for (const w of waiting.values()) w.reject(this.#failure);
  }
}

/** The process's writer thread, started by the first openSqliteStore (and again after a crash). */
let shared: WriterThread | null = null;

const closedError = (): StoreError => new StoreError('ERR_STORE_CLOSED', 'the store was closed');

// Plain copies of the fields a write needs: what crosses to the writer thread is exactly this.
const device = (d: DeviceAddress): DeviceAddress => ({ username: d.username, deviceId: d.deviceId });
const prekey = (p: PrekeyRecord): PrekeyRecord => ({ id: p.id, record: p.record });
const prekeyList = (ps: readonly PrekeyRecord[]): PrekeyRecord[] => ps.map(prekey);

/** The store openSqliteStore returns: reads on this thread's connection, writes on the writer thread's. */
export class SqliteWorkerStore implements Store {
  readonly #reader: SqliteStore;
  readonly #writer: WriterThread;
  readonly #connection: number;
  #closing: Promise<void> | null = null;

  constructor(reader: SqliteStore, writer: WriterThread, connection: number) {
    this.#reader = reader;
    this.#writer = writer;
    this.#connection = connection;
  }

  /** A write: `check` runs now (argument errors reject at once), the call goes in this turn's batch. */
  #write<T>(check: () => void, method: WriteMethod, a: unknown, b?: unknown, c?: unknown): Promise<T> {
    try {
      if (this.#closing !== null) throw closedError();
      check();
    } catch (e) {
      return Promise.reject(toStoreError(e));
    }
    return this.#writer.call(this.#connection, method, a, b, c) as Promise<T>;
  }

  /** An enqueue or ack: like #write, but packed (internal/sqlite-writer-calls.ts), unless the
   *  username is one that packing cannot carry exactly (then generic, as every other write). */
  #writeHot<T>(check: () => void, method: 'enqueue' | 'ack', d: DeviceAddress, arg: unknown, packed: () => Promise<T>): Promise<T> {
    if (typeof d.username === 'string' && !packableUsername(d.username)) return this.#write(check, method, d, arg);
    try {
      if (this.#closing !== null) throw closedError();
      check();
    } catch (e) {
      return Promise.reject(toStoreError(e));
    }
    return packed();
  }

  /** A read on this thread's connection (it checks its own arguments). */
  #read<T>(body: (reader: SqliteStore) => Promise<T>): Promise<T> {
    if (this.#closing !== null) return Promise.reject(closedError());
    const failure = this.#writer.failure;
    if (failure !== null) return Promise.reject(failure);
    return body(this.#reader);
  }

  /** The settings both connections run with (for the tests that pin them). */
  async settings(): Promise<{ reader: SqliteSettings; writer: SqliteSettings }> {
    if (this.#closing !== null) throw closedError();
    const writer = (await this.#writer.call(this.#connection, 'settings')) as SqliteSettings;
    return { reader: this.#reader.settings(), writer };
  }

  /** How many group commits the writer's connection has made (for the tests that check a burst of
   *  enqueue/ack calls shares one commit). */
  async groupCommits(): Promise<number> {
    if (this.#closing !== null) throw closedError();
    return (await this.#writer.call(this.#connection, 'groupCommits')) as number;
  }

  /** Test-only: ends the writer thread as a crash would (internal; not exported by the package). */
  injectWriterFault(how: WriterFault): void {
    void this.#writer.call(this.#connection, 'fault', how).catch(() => undefined);
  }

  // --- accounts and devices ---

  createAccount(a: NewAccount): Promise<void> {
    return this.#write(
      () => {
        checkNewAccount(a);
      },
      'createAccount',
      { username: a.username, identityKey: a.identityKey, accessKeyHash: a.accessKeyHash, createdAt: a.createdAt, firstDeviceId: a.firstDeviceId },
    );
  }

  getAccount(username: string): Promise<Account | null> {
    return this.#read((r) => r.getAccount(username));
  }

  addDevice(d: DeviceAddress, createdAt: number): Promise<void> {
    return this.#write(
      () => {
        checkDevice(d);
        checkTime('createdAt', createdAt);
      },
      'addDevice',
      device(d),
      createdAt,
    );
  }

  listDevices(username: string): Promise<readonly Device[]> {
    return this.#read((r) => r.listDevices(username));
  }

  touchDevice(d: DeviceAddress, lastSeenAt: number): Promise<void> {
    return this.#write(
      () => {
        checkDevice(d);
        checkTime('lastSeenAt', lastSeenAt);
      },
      'touchDevice',
      device(d),
      lastSeenAt,
    );
  }

  // --- prekeys ---

  setSignedPrekey(d: DeviceAddress, p: PrekeyRecord): Promise<void> {
    return this.#write(
      () => {
        checkDevice(d);
        checkPrekey(p);
      },
      'setSignedPrekey',
      device(d),
      prekey(p),
    );
  }

  setLastResortKemPrekey(d: DeviceAddress, p: PrekeyRecord): Promise<void> {
    return this.#write(
      () => {
        checkDevice(d);
        checkPrekey(p);
      },
      'setLastResortKemPrekey',
      device(d),
      prekey(p),
    );
  }

  addOneTimePrekeys(d: DeviceAddress, kind: OneTimePrekeyKind, prekeys: readonly PrekeyRecord[]): Promise<void> {
    return this.#write(
      () => {
        checkDevice(d);
        checkKind(kind);
        checkPrekeyBatch(prekeys);
      },
      'addOneTimePrekeys',
      device(d),
      kind,
      prekeyList(prekeys),
    );
  }

  countOneTimePrekeys(d: DeviceAddress): Promise<OneTimePrekeyCounts> {
    return this.#read((r) => r.countOneTimePrekeys(d));
  }

  storePrekeys(d: DeviceAddress, batch: PrekeyBatch): Promise<OneTimePrekeyCounts> {
    return this.#write(
      () => {
        checkDevice(d);
        checkPrekeyUpload(batch);
      },
      'storePrekeys',
      device(d),
      {
        signedPrekey: batch.signedPrekey === undefined ? undefined : prekey(batch.signedPrekey),
        lastResortKemPrekey: batch.lastResortKemPrekey === undefined ? undefined : prekey(batch.lastResortKemPrekey),
        oneTime: { x25519: prekeyList(batch.oneTime.x25519), kem: prekeyList(batch.oneTime.kem) },
      } satisfies PrekeyBatch,
    );
  }

  takeBundleParts(d: DeviceAddress): Promise<BundleParts> {
    return this.#write(
      () => {
        checkDevice(d);
      },
      'takeBundleParts',
      device(d),
    );
  }

  // --- message queues ---

  enqueue(recipient: DeviceAddress, m: NewMessage): Promise<EnqueueResult> {
    const d = device(recipient);
    const message: NewMessage = { id: m.id, envelope: m.envelope, receivedAt: m.receivedAt, expiresAt: m.expiresAt };
    return this.#writeHot(
      () => {
        checkDevice(recipient);
        checkNewMessage(m);
      },
      'enqueue',
      d,
      message,
      () => this.#writer.enqueue(this.#connection, d, message),
    );
  }

  fetch(recipient: DeviceAddress, options: FetchOptions): Promise<readonly QueuedMessage[]> {
    return this.#read((r) => r.fetch(recipient, options));
  }

  ack(recipient: DeviceAddress, ids: readonly Uint8Array[]): Promise<number> {
    const d = device(recipient);
    const copy = [...ids];
    return this.#writeHot(
      () => {
        checkDevice(recipient);
        checkAckIds(ids);
      },
      'ack',
      d,
      copy,
      () => this.#writer.ack(this.#connection, d, copy),
    );
  }

  expireMessages(now: number): Promise<number> {
    return this.#write(
      () => {
        checkTime('now', now);
      },
      'expireMessages',
      now,
    );
  }

  // --- attachments ---

  putAttachment(a: NewAttachment): Promise<void> {
    return this.#write(
      () => {
        checkNewAttachment(a);
      },
      'putAttachment',
      { id: a.id, bytes: a.bytes, expiresAt: a.expiresAt } satisfies NewAttachment,
    );
  }

  getAttachment(id: Uint8Array): Promise<Attachment | null> {
    return this.#read((r) => r.getAttachment(id));
  }

  expireAttachments(now: number): Promise<number> {
    return this.#write(
      () => {
        checkTime('now', now);
      },
      'expireAttachments',
      now,
    );
  }

  /** Calls made before close() are sent first (they are ahead of it in the batch) and finish as if
   *  it had not been called; then the writer closes its connection, then this side its reader. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#writer.call(this.#connection, 'close');
      } catch (e) {
        // A dead writer thread took its connection with it: nothing is left to close there.
        if (this.#writer.failure === null) {
          await this.#reader.close();
          throw e;
        }
      }
      await this.#reader.close();
    })();
    return this.#closing;
  }
}

/** Opens the SQLite store in the file at `path`, creating it if missing and upgrading its schema if it
 *  is older than this code. Rejects with ERR_STORE_SCHEMA_TOO_NEW for a file written by a newer
 *  version, ERR_STORE_BACKEND for a file that is not a SQLite database or cannot be opened. */
export async function openSqliteStore(path: string): Promise<Store> {
  try {
    const migrations = bundledSqliteMigrations();
    const reader = openSqliteStoreWith(path, migrations); // runs the migrations, here, once
    if (path === ':memory:' || path === '') return reader;
    try {
      shared ??= new WriterThread();
      const writer = shared;
      const connection = writer.newConnection();
      await writer.call(connection, 'open', path, migrations);
      return new SqliteWorkerStore(reader, writer, connection);
    } catch (e) {
      await reader.close();
      throw e;
    }
  } catch (e) {
    throw toStoreError(e);
  }
}
