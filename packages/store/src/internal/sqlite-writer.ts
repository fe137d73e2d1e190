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
// Answers go back in one message per burst: each settled call appends to the answers (a successful
// enqueue or ack to the packed ones, anything else to the generic ones, which note how many packed
// answers came before them), and the first one schedules the send with process.nextTick, which runs
// only once the microtask queue is empty, i.e. after every promise the group commit settled has run
// its reaction. So one group commit is one postMessage, in the order the calls settled (one device's
// enqueues in seq order). The packed calls arrive in a transferred ArrayBuffer whose ids and envelopes
// the SqliteStore binds as they are (views into it).

import { parentPort } from 'node:worker_threads';
import { StoreError } from '../errors.ts';
import { openSqliteStoreWith, type SqliteStore } from '../sqlite.ts';
import type { DeviceAddress, NewAccount, NewAttachment, NewMessage, OneTimePrekeyKind, PrekeyBatch, PrekeyRecord } from '../store.ts';
import type { Migration } from './migrations.ts';
import {
  ANSWER_COUNT,
  ANSWER_DUPLICATE,
  ANSWER_NEW,
  CALL_STRIDE,
  PACKED_ANSWER_STRIDE,
  PACKED_ENQUEUE,
  toWire,
  unpackCalls,
  type CallBatch,
  type PackedCall,
  type WriterFault,
  type WriterMethod,
} from './sqlite-writer-calls.ts';

const port = parentPort;
if (port === null) throw new Error('internal/sqlite-writer.ts runs in the SQLite writer thread only');

/** The open stores, by the connection number the main thread gave them. */
const connections = new Map<number, SqliteStore>();

/** The next send's answers: PACKED_ANSWER_STRIDE numbers each, and ANSWER_STRIDE slots each. */
let packedAnswers: number[] = [];
let answers: unknown[] = [];
let sendScheduled = false;

function sendAnswers(): void {
  sendScheduled = false;
  const packed = packedAnswers.length === 0 ? null : new Float64Array(packedAnswers);
  const batch = answers;
  packedAnswers = [];
  answers = [];
  port?.postMessage([packed, batch], packed === null ? [] : [packed.buffer]);
}

function scheduleSend(): void {
  if (!sendScheduled) {
    sendScheduled = true;
    process.nextTick(sendAnswers);
  }
}

/** Queues one answer for the next send. */
function answer(id: number, ok: boolean, value: unknown): void {
  answers.push(packedAnswers.length / PACKED_ANSWER_STRIDE, id, ok, value);
  scheduleSend();
}

/** Queues one successful enqueue's or ack's answer, packed. */
function answerPacked(id: number, value: number, what: number): void {
  packedAnswers.push(id, value, what);
  scheduleSend();
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

/** Makes one generic call (CALL_STRIDE slots from `i` of `calls`). */
function callGeneric(calls: unknown[], i: number): void {
  const id = calls[i + 1] as number;
  const method = calls[i + 3] as WriterMethod;
  if (method === 'fault') fault(calls[i + 4] as WriterFault); // outside the try: it must end the thread
  let settled: Promise<unknown>;
  try {
    settled = call(calls[i + 2] as number, method, calls[i + 4], calls[i + 5], calls[i + 6]);
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

const answerFailure = (id: number) => (e: unknown) => {
  answer(id, false, toWire(e));
};

/** Makes one packed call (enqueue or ack); its success is answered packed, a failure generic. */
function callPacked(c: PackedCall): void {
  const s = connections.get(c.connection);
  const id = c.id;
  if (s === undefined) {
    Promise.reject(new StoreError('ERR_STORE_CLOSED', 'the store was closed')).catch(answerFailure(id));
    return;
  }
  if (c.kind === PACKED_ENQUEUE) {
    s.enqueue(c.device, c.message).then((r) => {
      answerPacked(id, r.seq, r.duplicate ? ANSWER_DUPLICATE : ANSWER_NEW);
    }, answerFailure(id));
  } else {
    s.ack(c.device, c.ids).then((n) => {
      answerPacked(id, n, ANSWER_COUNT);
    }, answerFailure(id));
  }
}

port.on('message', ([packed, calls]: CallBatch) => {
  // Each generic call goes after the `at` packed calls before it, as the main thread made them.
  let i = 0;
  let made = 0;
  const genericUpTo = (n: number): void => {
    for (; i + CALL_STRIDE <= calls.length && (calls[i] as number) <= n; i += CALL_STRIDE) callGeneric(calls, i);
  };
  if (packed !== null) {
    unpackCalls(packed, (c) => {
      genericUpTo(made);
      callPacked(c);
      made++;
    });
  }
  genericUpTo(Infinity);
});
