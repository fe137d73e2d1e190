// What crosses the thread boundary between the SQLite store's main-thread side (sqlite-worker.ts) and
// its writer thread (internal/sqlite-writer.ts), shared so that both read the same layout.
//
// One postMessage per batch both ways, because a message costs per message, and structured clone
// costs per object and per Uint8Array on top. So the hot calls, enqueue and ack, do not go as objects
// at all: a batch's enqueues and acks are packed into ONE ArrayBuffer (layout below), which is
// transferred, not cloned, and the writer binds the ids and envelopes to SQLite as views into it (no
// copy there); their answers come back as one Float64Array, transferred too. Every other call (rare)
// goes as before, in a flat array: a batch of calls is
//   [packed: ArrayBuffer | null, [at, id, connection, method, a, b, c, at, id, …]]
// (CALL_STRIDE slots a call, unused arguments undefined), a batch of answers is
//   [packed: Float64Array | null, [at, id, ok, value, at, id, ok, value, …]]
// where `at` is how many packed calls (answers) come before that one: calls are made, and answers
// settled, in the one order they had on the sending side.
//
// An answer that is a failure is never packed; it carries a WireError: the StoreError's code and
// message (without the "CODE: " prefix the constructor adds); the driver's error (`cause`) stays in the
// writer thread, where its code was already copied into the message by toStoreError.
//
// The packed calls (little-endian; no alignment, read through a DataView):
//   u32 count of usernames, then each: u32 length, its UTF-8 bytes   (each username once a batch)
//   then calls until the end of the buffer, each:
//     u8 kind (PACKED_ENQUEUE | PACKED_ACK), f64 call id, u32 connection, u32 username index, u32 deviceId,
//     enqueue: 16 bytes message id, f64 receivedAt, f64 expiresAt, u32 envelope length, the envelope
//     ack:     u32 count of ids, then the ids, 16 bytes each
// The packed answers: PACKED_ANSWER_STRIDE float64s each: call id, value (an enqueue's seq, an ack's
// count), what the value is (ANSWER_NEW / ANSWER_DUPLICATE: an enqueue's, ANSWER_COUNT: an ack's).

import { StoreError, type StoreErrorCode } from '../errors.ts';
import { MESSAGE_ID_BYTES } from '../limits.ts';
import type { DeviceAddress, NewMessage } from '../store.ts';

/** Slots per call in a batch's generic calls: at, id, connection, method, then up to three arguments. */
export const CALL_STRIDE = 7;
/** Slots per answer in a batch's generic answers: at, id, ok, value (the result, or a WireError). */
export const ANSWER_STRIDE = 4;
/** Float64 slots per packed answer: call id, value, what the value is. */
export const PACKED_ANSWER_STRIDE = 3;

/** A batch of calls, main thread → writer thread. */
export type CallBatch = readonly [packed: ArrayBuffer | null, generic: unknown[]];
/** A batch of answers, writer thread → main thread. */
export type AnswerBatch = readonly [packed: Float64Array | null, generic: unknown[]];

/** The kind of a packed call. */
export const PACKED_ENQUEUE = 1;
export const PACKED_ACK = 2;
/** Bytes of a packed call before its arguments: kind, call id, connection, username index, deviceId. */
export const PACKED_CALL_HEAD = 1 + 8 + 4 + 4 + 4;
/** Bytes of an enqueue's arguments after the head, without the envelope: id, two times, length. */
export const PACKED_ENQUEUE_FIXED = MESSAGE_ID_BYTES + 8 + 8 + 4;

/** What a packed answer's value is. */
export const ANSWER_NEW = 0;
export const ANSWER_DUPLICATE = 1;
export const ANSWER_COUNT = 2;

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

/** An enqueue or ack as the main thread queues it for the next batch: the caller's fields, copied into
 *  the packed buffer when the batch is sent (as structured clone copied them, when it was sent). */
export type PackedCall =
  | {
      readonly kind: typeof PACKED_ENQUEUE;
      readonly id: number;
      readonly connection: number;
      readonly device: DeviceAddress;
      readonly message: NewMessage;
    }
  | {
      readonly kind: typeof PACKED_ACK;
      readonly id: number;
      readonly connection: number;
      readonly device: DeviceAddress;
      readonly ids: readonly Uint8Array[];
    };

/** Whether a username can be packed: UTF-8 carries every string but one with a lone surrogate
 *  exactly, and usernames with surrogates at all are rare enough to go the generic way. */
export const packableUsername = (username: string): boolean => !/[\uD800-\uDFFF]/.test(username);

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A view over a detached buffer reads as empty; structured clone refused it, and so does packing. */
function detached(v: Uint8Array): boolean {
  if (v.length !== 0) return false;
  try {
    new Uint8Array(v.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** The main thread's side: packs one batch's enqueue and ack calls, in order, into one ArrayBuffer. */
export class CallPacker {
  readonly #usernames = new Map<string, number>();
  readonly #names: Uint8Array[] = [];
  readonly #calls: PackedCall[] = [];
  #size = 4;

  /** Calls packed so far. */
  get count(): number {
    return this.#calls.length;
  }

  /** Adds a call; false if its bytes can no longer be sent (a detached buffer: the call fails alone). */
  add(c: PackedCall): boolean {
    let size = PACKED_CALL_HEAD;
    if (c.kind === PACKED_ENQUEUE) {
      const m = c.message;
      if (m.id.length !== MESSAGE_ID_BYTES || detached(m.envelope)) return false;
      size += PACKED_ENQUEUE_FIXED + m.envelope.length;
    } else {
      for (const id of c.ids) if (id.length !== MESSAGE_ID_BYTES) return false;
      size += 4 + MESSAGE_ID_BYTES * c.ids.length;
    }
    const username = c.device.username;
    if (!this.#usernames.has(username)) {
      const bytes = utf8.encode(username);
      this.#usernames.set(username, this.#names.length);
      this.#names.push(bytes);
      size += 4 + bytes.length;
    }
    this.#size += size;
    this.#calls.push(c);
    return true;
  }

  /** The packed calls (null if none), ready to transfer. */
  finish(): ArrayBuffer | null {
    if (this.#calls.length === 0) return null;
    const buffer = new ArrayBuffer(this.#size);
    const bytes = new Uint8Array(buffer);
    const view = new DataView(buffer);
    view.setUint32(0, this.#names.length, true);
    let o = 4;
    for (const name of this.#names) {
      view.setUint32(o, name.length, true);
      bytes.set(name, o + 4);
      o += 4 + name.length;
    }
    for (const c of this.#calls) {
      view.setUint8(o, c.kind);
      view.setFloat64(o + 1, c.id, true);
      view.setUint32(o + 9, c.connection, true);
      view.setUint32(o + 13, this.#usernames.get(c.device.username) ?? 0, true);
      view.setUint32(o + 17, c.device.deviceId, true);
      o += PACKED_CALL_HEAD;
      if (c.kind === PACKED_ENQUEUE) {
        const m = c.message;
        bytes.set(m.id, o);
        view.setFloat64(o + MESSAGE_ID_BYTES, m.receivedAt, true);
        view.setFloat64(o + MESSAGE_ID_BYTES + 8, m.expiresAt, true);
        view.setUint32(o + MESSAGE_ID_BYTES + 16, m.envelope.length, true);
        o += PACKED_ENQUEUE_FIXED;
        bytes.set(m.envelope, o);
        o += m.envelope.length;
      } else {
        view.setUint32(o, c.ids.length, true);
        o += 4;
        for (const id of c.ids) {
          bytes.set(id, o);
          o += MESSAGE_ID_BYTES;
        }
      }
    }
    if (o !== buffer.byteLength) throw new StoreError('ERR_STORE_BACKEND', 'packed calls: size mismatch');
    return buffer;
  }
}

/** The writer thread's side: each packed call of `buffer`, in order, its ids and envelope views into
 *  `buffer` (SQLite binds them as they are: no copy). */
export function unpackCalls(buffer: ArrayBuffer, visit: (c: PackedCall) => void): void {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const names: string[] = [];
  let o = 4;
  for (let n = view.getUint32(0, true); n > 0; n--) {
    const length = view.getUint32(o, true);
    names.push(fromUtf8.decode(bytes.subarray(o + 4, o + 4 + length)));
    o += 4 + length;
  }
  while (o < buffer.byteLength) {
    const kind = view.getUint8(o);
    const id = view.getFloat64(o + 1, true);
    const connection = view.getUint32(o + 9, true);
    const username = names[view.getUint32(o + 13, true)];
    const deviceId = view.getUint32(o + 17, true);
    if (username === undefined) throw new StoreError('ERR_STORE_BACKEND', 'packed calls: no such username');
    const device = { username, deviceId };
    o += PACKED_CALL_HEAD;
    if (kind === PACKED_ENQUEUE) {
      const messageId = new Uint8Array(buffer, o, MESSAGE_ID_BYTES);
      const receivedAt = view.getFloat64(o + MESSAGE_ID_BYTES, true);
      const expiresAt = view.getFloat64(o + MESSAGE_ID_BYTES + 8, true);
      const length = view.getUint32(o + MESSAGE_ID_BYTES + 16, true);
      o += PACKED_ENQUEUE_FIXED;
      const envelope = new Uint8Array(buffer, o, length);
      o += length;
      visit({ kind, id, connection, device, message: { id: messageId, envelope, receivedAt, expiresAt } });
    } else if (kind === PACKED_ACK) {
      const ids: Uint8Array[] = [];
      for (let n = view.getUint32(o, true), p = o + 4; n > 0; n--, p += MESSAGE_ID_BYTES) ids.push(new Uint8Array(buffer, p, MESSAGE_ID_BYTES));
      o += 4 + MESSAGE_ID_BYTES * ids.length;
      visit({ kind, id, connection, device, ids });
    } else {
      throw new StoreError('ERR_STORE_BACKEND', `packed calls: unknown kind ${kind}`);
    }
  }
}
