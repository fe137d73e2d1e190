// What crosses the thread boundary between the SQLite store's main-thread side (sqlite-worker.ts) and
// its writer thread (internal/sqlite-writer.ts), shared so that both read the same layout.
//
// Both directions are flat arrays, one postMessage per batch, because structured clone costs per
// object: a batch of calls is [id, connection, method, a, b, c, id, connection, …] (CALL_STRIDE slots a
// call, unused arguments undefined), a batch of answers is [id, ok, value, id, ok, value, …]. An answer
// that is a failure carries a WireError: the StoreError's code and message (without the "CODE: "
// prefix the constructor adds); the driver's error (`cause`) stays in the writer thread, where its
// code was already copied into the message by toStoreError.

import { StoreError, type StoreErrorCode } from '../errors.ts';

/** Slots per call in a batch of calls: id, connection, method, then up to three arguments. */
export const CALL_STRIDE = 6;
/** Slots per answer in a batch of answers: id, ok, value (the result, or a WireError). */
export const ANSWER_STRIDE = 3;

/** The Store methods that write, run by the writer thread on its connection. */
export type WriteMethod =
  | 'createAccount'
  | 'addDevice'
  | 'touchDevice'
  | 'setSignedPrekey'
  | 'setLastResortKemPrekey'
  | 'addOneTimePrekeys'
  | 'storePrekeys'
  | 'takeBundleParts'
  | 'enqueue'
  | 'ack'
  | 'expireMessages'
  | 'putAttachment'
  | 'expireAttachments';

/** Everything else the writer thread does for a connection: open it (a = path, b = migrations),
 *  close it, report its settings or its group-commit count, and the test-only fault (a = 'exit' |
 *  'throw': the thread ends, as a crash would end it). */
export type ControlMethod = 'open' | 'close' | 'settings' | 'groupCommits' | 'fault';

export type WriterMethod = WriteMethod | ControlMethod;

/** How the test-only fault ends the writer thread: process.exit, or an uncaught exception. */
export type WriterFault = 'exit' | 'throw';

/** A StoreError as it crosses the boundary. */
export interface WireError {
  readonly code: StoreErrorCode;
  readonly message: string;
}

const CODES: ReadonlySet<string> = new Set<StoreErrorCode>([
  'ERR_STORE_ARGUMENT',
  'ERR_STORE_CONFLICT',
  'ERR_STORE_NOT_FOUND',
  'ERR_STORE_CLOSED',
  'ERR_STORE_SCHEMA_TOO_NEW',
  'ERR_STORE_SCHEMA_INVALID',
  'ERR_STORE_BACKEND',
]);

/** The writer thread's side: a StoreError (anything else is a bug, sent as ERR_STORE_BACKEND). */
export function toWire(e: unknown): WireError {
  if (e instanceof StoreError) {
    const prefix = `${e.code}: `;
    return { code: e.code, message: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message };
  }
  return { code: 'ERR_STORE_BACKEND', message: 'the SQLite writer thread failed unexpectedly' };
}

/** The main thread's side: the same code and message, as a StoreError of this thread. */
export function fromWire(w: unknown): StoreError {
  if (typeof w === 'object' && w !== null && 'code' in w && 'message' in w && typeof w.code === 'string' && CODES.has(w.code) && typeof w.message === 'string') {
    return new StoreError(w.code as StoreErrorCode, w.message);
  }
  return new StoreError('ERR_STORE_BACKEND', 'expected an error from the SQLite writer thread, got something else');
}
