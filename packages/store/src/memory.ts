// The in-memory Store: for unit tests of the server and client, and the reference the conformance
// suite's model-based test compares the SQLite store against. Nothing survives close() or the process.
//
// Atomicity: each method checks everything it can reject before it changes anything, then mutates
// synchronously; JavaScript runs it to completion before any other call, so every method is one
// transaction and concurrent takeBundleParts calls can never share a one-time key.

import { StoreError } from './errors.ts';
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

interface DeviceState {
  readonly createdAt: number;
  lastSeenAt: number;
  signedPrekey: PrekeyRecord | null;
  lastResortKemPrekey: PrekeyRecord | null;
  /** One-time prekeys by id; a Map iterates in insertion order, so the first entry is the oldest. */
  readonly oneTime: Record<OneTimePrekeyKind, Map<number, Uint8Array>>;
  /** Messages by hex id, in arrival (= seq) order. */
  readonly queue: Map<string, QueuedMessage>;
}

interface AccountState {
  readonly account: Account;
  readonly devices: Map<number, DeviceState>;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const copyPrekey = (p: PrekeyRecord): PrekeyRecord => ({ id: p.id, record: p.record.slice() });
const copyMessage = (m: QueuedMessage): QueuedMessage => ({
  seq: m.seq,
  id: m.id.slice(),
  envelope: m.envelope.slice(),
  receivedAt: m.receivedAt,
  expiresAt: m.expiresAt,
});

class MemoryStore implements Store {
  #closed = false;
  readonly #accounts = new Map<string, AccountState>();
  readonly #attachments = new Map<string, Attachment>();
  /** Last message seq handed out, shared by all queues (like SQLite's AUTOINCREMENT): never reused. */
  #lastSeq = 0;

  /** Runs one operation: a synchronous body, so it is atomic; a throw becomes a rejection. */
  #run<T>(body: () => T): Promise<T> {
    try {
      if (this.#closed) throw new StoreError('ERR_STORE_CLOSED', 'the store was closed');
      return Promise.resolve(body());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #device(d: DeviceAddress): DeviceState {
    const device = this.#accounts.get(d.username)?.devices.get(d.deviceId);
    if (device === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such device');
    return device;
  }

  // --- accounts and devices ---

  createAccount(a: NewAccount): Promise<void> {
    return this.#run(() => {
      checkNewAccount(a);
      if (this.#accounts.has(a.username)) throw new StoreError('ERR_STORE_CONFLICT', 'the username is taken');
      const devices = new Map<number, DeviceState>([[a.firstDeviceId, newDevice(a.createdAt)]]);
      this.#accounts.set(a.username, {
        account: { username: a.username, identityKey: a.identityKey.slice(), accessKeyHash: a.accessKeyHash.slice(), createdAt: a.createdAt },
        devices,
      });
    });
  }

  getAccount(username: string): Promise<Account | null> {
    return this.#run(() => {
      checkUsername(username);
      const a = this.#accounts.get(username)?.account;
      return a === undefined ? null : { username: a.username, identityKey: a.identityKey.slice(), accessKeyHash: a.accessKeyHash.slice(), createdAt: a.createdAt };
    });
  }

  addDevice(d: DeviceAddress, createdAt: number): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkTime('createdAt', createdAt);
      const account = this.#accounts.get(d.username);
      if (account === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such account');
      if (account.devices.has(d.deviceId)) throw new StoreError('ERR_STORE_CONFLICT', 'the device id is taken');
      account.devices.set(d.deviceId, newDevice(createdAt));
    });
  }

  listDevices(username: string): Promise<readonly Device[]> {
    return this.#run(() => {
      checkUsername(username);
      const account = this.#accounts.get(username);
      if (account === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'no such account');
      const devices = [...account.devices].map(([deviceId, s]) => ({ deviceId, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt }));
      return devices.sort((x, y) => x.deviceId - y.deviceId);
    });
  }

  touchDevice(d: DeviceAddress, lastSeenAt: number): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkTime('lastSeenAt', lastSeenAt);
      const device = this.#device(d);
      device.lastSeenAt = Math.max(device.lastSeenAt, lastSeenAt);
    });
  }

  // --- prekeys ---

  setSignedPrekey(d: DeviceAddress, prekey: PrekeyRecord): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkPrekey(prekey);
      this.#device(d).signedPrekey = copyPrekey(prekey);
    });
  }

  setLastResortKemPrekey(d: DeviceAddress, prekey: PrekeyRecord): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkPrekey(prekey);
      this.#device(d).lastResortKemPrekey = copyPrekey(prekey);
    });
  }

  addOneTimePrekeys(d: DeviceAddress, kind: OneTimePrekeyKind, prekeys: readonly PrekeyRecord[]): Promise<void> {
    return this.#run(() => {
      checkDevice(d);
      checkKind(kind);
      checkPrekeyBatch(prekeys);
      const held = this.#device(d).oneTime[kind];
      const seen = new Set<number>();
      for (const p of prekeys) {
        if (held.has(p.id) || seen.has(p.id)) throw new StoreError('ERR_STORE_CONFLICT', 'a one-time prekey id is already in use');
        seen.add(p.id);
      }
      for (const p of prekeys) held.set(p.id, p.record.slice());
    });
  }

  countOneTimePrekeys(d: DeviceAddress): Promise<OneTimePrekeyCounts> {
    return this.#run(() => {
      checkDevice(d);
      const device = this.#device(d);
      return { x25519: device.oneTime.x25519.size, kem: device.oneTime.kem.size };
    });
  }

  storePrekeys(d: DeviceAddress, batch: PrekeyBatch): Promise<OneTimePrekeyCounts> {
    return this.#run(() => {
      checkDevice(d);
      checkPrekeyUpload(batch);
      const device = this.#device(d);
      for (const kind of ['x25519', 'kem'] as const) {
        const seen = new Set<number>();
        for (const p of batch.oneTime[kind]) {
          if (device.oneTime[kind].has(p.id) || seen.has(p.id)) throw new StoreError('ERR_STORE_CONFLICT', 'a one-time prekey id is already in use');
          seen.add(p.id);
        }
      }
      // Every check passed: nothing below throws, so the upload is applied whole.
      if (batch.signedPrekey !== undefined) device.signedPrekey = copyPrekey(batch.signedPrekey);
      if (batch.lastResortKemPrekey !== undefined) device.lastResortKemPrekey = copyPrekey(batch.lastResortKemPrekey);
      for (const kind of ['x25519', 'kem'] as const) for (const p of batch.oneTime[kind]) device.oneTime[kind].set(p.id, p.record.slice());
      return { x25519: device.oneTime.x25519.size, kem: device.oneTime.kem.size };
    });
  }

  takeBundleParts(d: DeviceAddress): Promise<BundleParts> {
    return this.#run(() => {
      checkDevice(d);
      const device = this.#device(d);
      const signed = device.signedPrekey;
      if (signed === null) throw new StoreError('ERR_STORE_NOT_FOUND', 'the device has no signed prekey');
      const oneTimeKem = oldest(device.oneTime.kem);
      const kem = oneTimeKem ?? device.lastResortKemPrekey;
      if (kem === null) throw new StoreError('ERR_STORE_NOT_FOUND', 'the device has no KEM prekey');
      // Every check passed: from here on nothing throws, so the removals happen together or not at all.
      const oneTimeX = oldest(device.oneTime.x25519);
      if (oneTimeX !== null) device.oneTime.x25519.delete(oneTimeX.id);
      if (oneTimeKem !== null) device.oneTime.kem.delete(oneTimeKem.id);
      return {
        signedPrekey: copyPrekey(signed),
        oneTimePrekey: oneTimeX,
        kemPrekey: copyPrekey(kem),
        kemPrekeyIsLastResort: oneTimeKem === null,
      };
    });
  }

  // --- message queues ---

  enqueue(recipient: DeviceAddress, m: NewMessage): Promise<EnqueueResult> {
    return this.#run(() => {
      checkDevice(recipient);
      checkNewMessage(m);
      const queue = this.#device(recipient).queue;
      const key = hex(m.id);
      const existing = queue.get(key);
      if (existing !== undefined) return { seq: existing.seq, duplicate: true };
      const seq = ++this.#lastSeq;
      queue.set(key, { seq, id: m.id.slice(), envelope: m.envelope.slice(), receivedAt: m.receivedAt, expiresAt: m.expiresAt });
      return { seq, duplicate: false };
    });
  }

  fetch(recipient: DeviceAddress, options: FetchOptions): Promise<readonly QueuedMessage[]> {
    return this.#run(() => {
      checkDevice(recipient);
      checkFetch(options);
      const out: QueuedMessage[] = [];
      for (const m of this.#device(recipient).queue.values()) {
        if (out.length === options.limit) break;
        if (m.seq > options.after) out.push(copyMessage(m));
      }
      return out;
    });
  }

  ack(recipient: DeviceAddress, ids: readonly Uint8Array[]): Promise<number> {
    return this.#run(() => {
      checkDevice(recipient);
      checkAckIds(ids);
      // An unknown device has nothing to acknowledge: 0, like the SQL DELETE that matches no row.
      const queue = this.#accounts.get(recipient.username)?.devices.get(recipient.deviceId)?.queue;
      let deleted = 0;
      for (const id of ids) if (queue?.delete(hex(id)) === true) deleted++;
      return deleted;
    });
  }

  expireMessages(now: number): Promise<number> {
    return this.#run(() => {
      checkTime('now', now);
      let deleted = 0;
      for (const { devices } of this.#accounts.values()) {
        for (const { queue } of devices.values()) {
          for (const [key, m] of queue) {
            if (m.expiresAt <= now) {
              queue.delete(key);
              deleted++;
            }
          }
        }
      }
      return deleted;
    });
  }

  // --- attachments ---

  putAttachment(a: NewAttachment): Promise<void> {
    return this.#run(() => {
      checkNewAttachment(a);
      const key = hex(a.id);
      if (this.#attachments.has(key)) throw new StoreError('ERR_STORE_CONFLICT', 'the attachment id is taken');
      this.#attachments.set(key, { id: a.id.slice(), bytes: a.bytes.slice(), size: a.bytes.length, expiresAt: a.expiresAt });
    });
  }

  getAttachment(id: Uint8Array): Promise<Attachment | null> {
    return this.#run(() => {
      checkAttachmentId(id);
      const a = this.#attachments.get(hex(id));
      return a === undefined ? null : { id: a.id.slice(), bytes: a.bytes.slice(), size: a.size, expiresAt: a.expiresAt };
    });
  }

  expireAttachments(now: number): Promise<number> {
    return this.#run(() => {
      checkTime('now', now);
      let deleted = 0;
      for (const [key, a] of this.#attachments) {
        if (a.expiresAt <= now) {
          this.#attachments.delete(key);
          deleted++;
        }
      }
      return deleted;
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#accounts.clear();
    this.#attachments.clear();
    return Promise.resolve();
  }
}

function newDevice(createdAt: number): DeviceState {
  return {
    createdAt,
    lastSeenAt: createdAt,
    signedPrekey: null,
    lastResortKemPrekey: null,
    oneTime: { x25519: new Map(), kem: new Map() },
    queue: new Map(),
  };
}

/** The oldest entry of an insertion-ordered map, as a record (not yet removed). */
function oldest(keys: Map<number, Uint8Array>): PrekeyRecord | null {
  for (const [id, record] of keys) return { id, record };
  return null;
}

/** A new, empty in-memory store. */
export function createMemoryStore(): Store {
  return new MemoryStore();
}
