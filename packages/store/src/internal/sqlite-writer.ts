// The SQLite writer thread (started by sqlite-worker.ts through sqlite-writer-entry.mjs): it runs every
// write of the SQLite store on a connection of its own, so that the statements and, above all, the
// fsync of each commit block this thread instead of the server's event loop.
//
// One thread per process serves every store the process opened: each store is one connection here
// (a SqliteStore, numbered by the main thread), with its own group commit, exactly as SqliteStore
// works on the main thread (sqlite.ts): a batch of calls arrives as one message, its calls are made in
// order, so the enqueue/ack calls among them (and those of every message that arrives before the next
// setImmediate) share one commit, and any other write first commits what is queued. Nothing here
// re-implements the store; this file only routes calls and answers.
//
// Answers go back in one message per burst: each settled call appends to `answers`, and the first
// one schedules the send with process.nextTick, which runs only once the microtask queue is empty,
// i.e. after every promise the group commit settled has run its reaction. So one group commit is
// one postMessage, in the order the calls settled (one device's enqueues in seq order).

import { parentPort } from 'node:worker_threads';
import { StoreError } from '../errors.ts';
import { openSqliteStoreWith, type SqliteStore } from '../sqlite.ts';
import type { DeviceAddress, NewAccount, NewAttachment, NewMessage, OneTimePrekeyKind, PrekeyBatch, PrekeyRecord } from '../store.ts';
import type { Migration } from './migrations.ts';
import { CALL_STRIDE, toWire, type WriterFault, type WriterMethod } from './sqlite-writer-calls.ts';

const port = parentPort;
if (port === null) throw new Error('internal/sqlite-writer.ts runs in the SQLite writer thread only');

/** The open stores, by the connection number the main thread gave them. */
const connections = new Map<number, SqliteStore>();

let answers: unknown[] = [];
let sendScheduled = false;

function sendAnswers(): void {
  sendScheduled = false;
  const batch = answers;
  answers = [];
  port?.postMessage(batch);
}

/** Queues one answer (ANSWER_STRIDE slots) for the next send. */
function answer(id: number, ok: boolean, value: unknown): void {
  answers.push(id, ok, value);
  if (!sendScheduled) {
    sendScheduled = true;
    process.nextTick(sendAnswers);
  }
}

/** The test-only fault: ends this thread the way a crash would (sqlite-worker.ts injectWriterFault). */
function fault(how: WriterFault): never {
  if (how === 'exit') process.exit(1);
  throw new Error('injected fault: the SQLite writer thread throws');
}

/** Makes one call. The arguments were checked on the main thread and are checked again by the
 *  SqliteStore method, so whatever arrived here is either well-formed or rejected. */
function call(connection: number, method: WriterMethod, a: unknown, b: unknown, c: unknown): Promise<unknown> {
  if (method === 'open') {
    if (connections.has(connection)) throw new StoreError('ERR_STORE_BACKEND', 'connection number reused');
    connections.set(connection, openSqliteStoreWith(a as string, b as readonly Migration[]));
    return Promise.resolve();
  }
  const s = connections.get(connection);
  if (s === undefined) throw new StoreError('ERR_STORE_CLOSED', 'the store was closed');
  switch (method) {
    case 'close':
      connections.delete(connection);
      return s.close();
    case 'settings':
      return Promise.resolve(s.settings());
    case 'groupCommits':
      return Promise.resolve(s.groupCommits());
    case 'fault':
      return fault(a as WriterFault);
    case 'createAccount':
      return s.createAccount(a as NewAccount);
    case 'addDevice':
      return s.addDevice(a as DeviceAddress, b as number);
    case 'touchDevice':
      return s.touchDevice(a as DeviceAddress, b as number);
    case 'setSignedPrekey':
      return s.setSignedPrekey(a as DeviceAddress, b as PrekeyRecord);
    case 'setLastResortKemPrekey':
      return s.setLastResortKemPrekey(a as DeviceAddress, b as PrekeyRecord);
    case 'addOneTimePrekeys':
      return s.addOneTimePrekeys(a as DeviceAddress, b as OneTimePrekeyKind, c as readonly PrekeyRecord[]);
    case 'storePrekeys':
      return s.storePrekeys(a as DeviceAddress, b as PrekeyBatch);
    case 'takeBundleParts':
      return s.takeBundleParts(a as DeviceAddress);
    case 'enqueue':
      return s.enqueue(a as DeviceAddress, b as NewMessage);
    case 'ack':
      return s.ack(a as DeviceAddress, b as readonly Uint8Array[]);
    case 'expireMessages':
      return s.expireMessages(a as number);
    case 'putAttachment':
      return s.putAttachment(a as NewAttachment);
    case 'expireAttachments':
      return s.expireAttachments(a as number);
  }
}

port.on('message', (calls: unknown[]) => {
  for (let i = 0; i + CALL_STRIDE <= calls.length; i += CALL_STRIDE) {
    const id = calls[i] as number;
    const method = calls[i + 2] as WriterMethod;
    if (method === 'fault') fault(calls[i + 3] as WriterFault); // outside the try: it must end the thread
    let settled: Promise<unknown>;
    try {
      settled = call(calls[i + 1] as number, method, calls[i + 3], calls[i + 4], calls[i + 5]);
    } catch (e) {
      settled = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    settled.then(
      (value) => {
        answer(id, true, value);
      },
      (e: unknown) => {
        answer(id, false, toWire(e));
      },
    );
  }
});
