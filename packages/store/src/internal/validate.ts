// Argument checks shared by every back-end, so that each rejects exactly the same inputs with
// ERR_STORE_ARGUMENT before touching its data (the conformance suite checks that they agree).
// Messages name the field and the expected shape, never the value (it may be a username or a key).

import { StoreError } from '../errors.ts';
import {
  ACCESS_KEY_HASH_BYTES,
  ATTACHMENT_ID_BYTES,
  IDENTITY_KEY_BYTES,
  MAX_ACK_IDS,
  MAX_FETCH_LIMIT,
  MAX_PREKEYS_PER_CALL,
  MAX_U32,
  MAX_USERNAME_BYTES,
  MESSAGE_ID_BYTES,
} from '../limits.ts';
import type { DeviceAddress, FetchOptions, NewAccount, NewAttachment, NewMessage, OneTimePrekeyKind, PrekeyBatch, PrekeyRecord } from '../store.ts';

const utf8 = new TextEncoder();

/** Array.isArray without its type guard: the arrays checked here are already typed. */
const isArray = (v: unknown): boolean => Array.isArray(v);

function fail(message: string): never {
  throw new StoreError('ERR_STORE_ARGUMENT', message);
}

export function checkUsername(username: unknown): asserts username is string {
  if (typeof username !== 'string') fail(`username: expected a string, got ${typeof username}`);
  // A UTF-16 unit is 1 to 3 UTF-8 bytes (a lone surrogate becomes U+FFFD, 3): a name this short is in
  // bounds without encoding it, which this check on every enqueue used to do (1–2 % of the server).
  if (username.length >= 1 && username.length * 3 <= MAX_USERNAME_BYTES) return;
  const n = utf8.encode(username).length;
  if (n < 1 || n > MAX_USERNAME_BYTES) fail(`username: expected 1..${MAX_USERNAME_BYTES} UTF-8 bytes, got ${n}`);
}

export function checkU32(what: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_U32) fail(`${what}: expected an integer in 0..2^32-1`);
}

/** Milliseconds since the epoch: a non-negative safe integer. */
export function checkTime(what: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what}: expected a non-negative safe integer (ms)`);
}

export function checkBytes(what: string, v: unknown, exactLength?: number): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what}: expected a Uint8Array`);
  if (exactLength !== undefined && v.length !== exactLength) fail(`${what}: expected ${exactLength} bytes, got ${v.length}`);
}

export function checkDevice(d: DeviceAddress): void {
  checkUsername(d.username);
  checkU32('deviceId', d.deviceId);
}

export function checkNewAccount(a: NewAccount): void {
  checkUsername(a.username);
  checkBytes('identityKey', a.identityKey, IDENTITY_KEY_BYTES);
  checkBytes('accessKeyHash', a.accessKeyHash, ACCESS_KEY_HASH_BYTES);
  checkTime('createdAt', a.createdAt);
  checkU32('firstDeviceId', a.firstDeviceId);
}

export function checkPrekey(p: PrekeyRecord): void {
  checkU32('prekey id', p.id);
  checkBytes('prekey record', p.record);
  if (p.record.length === 0) fail('prekey record: expected at least 1 byte, got 0');
}

export function checkKind(kind: unknown): asserts kind is OneTimePrekeyKind {
  if (kind !== 'x25519' && kind !== 'kem') fail(`one-time prekey kind: expected 'x25519' or 'kem'`);
}

export function checkPrekeyBatch(prekeys: readonly PrekeyRecord[]): void {
  if (!isArray(prekeys)) fail('prekeys: expected an array');
  if (prekeys.length > MAX_PREKEYS_PER_CALL) fail(`prekeys: expected at most ${MAX_PREKEYS_PER_CALL}, got ${prekeys.length}`);
  for (const p of prekeys) checkPrekey(p);
}

export function checkPrekeyUpload(b: PrekeyBatch): void {
  if (typeof b !== 'object' || (b as unknown) === null) fail('prekey batch: expected an object');
  if (b.signedPrekey !== undefined) checkPrekey(b.signedPrekey);
  if (b.lastResortKemPrekey !== undefined) checkPrekey(b.lastResortKemPrekey);
  if (typeof b.oneTime !== 'object' || (b.oneTime as unknown) === null) fail('prekey batch: oneTime: expected an object');
  checkPrekeyBatch(b.oneTime.x25519);
  checkPrekeyBatch(b.oneTime.kem);
}

export function checkNewMessage(m: NewMessage): void {
  checkBytes('message id', m.id, MESSAGE_ID_BYTES);
  checkBytes('envelope', m.envelope);
  checkTime('receivedAt', m.receivedAt);
  checkTime('expiresAt', m.expiresAt);
  if (m.expiresAt < m.receivedAt) fail('expiresAt: expected a time not before receivedAt');
}

export function checkFetch(o: FetchOptions): void {
  checkTime('after', o.after);
  if (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 1 || o.limit > MAX_FETCH_LIMIT) {
    fail(`limit: expected an integer in 1..${MAX_FETCH_LIMIT}`);
  }
}

export function checkAckIds(ids: readonly Uint8Array[]): void {
  if (!isArray(ids)) fail('ids: expected an array');
  if (ids.length > MAX_ACK_IDS) fail(`ids: expected at most ${MAX_ACK_IDS}, got ${ids.length}`);
  for (const id of ids) checkBytes('message id', id, MESSAGE_ID_BYTES);
}

export function checkNewAttachment(a: NewAttachment): void {
  checkBytes('attachment id', a.id, ATTACHMENT_ID_BYTES);
  checkBytes('attachment bytes', a.bytes);
  checkTime('expiresAt', a.expiresAt);
}

export function checkAttachmentId(id: Uint8Array): void {
  checkBytes('attachment id', id, ATTACHMENT_ID_BYTES);
}
