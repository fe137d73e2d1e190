// The message history on this device, encrypted at rest (issue 4: "every other piece of local state
// is encrypted at rest under a key that needs the passphrase").
//
// A random 32-byte history secret lives as one entry in the device keystore (src/account.ts), which
// the passphrase unlocks; from it HKDF-SHA-256 derives two non-extractable WebCrypto keys: AES-256-GCM
// for the records and HMAC-SHA-256 for their names. Each conversation is one IndexedDB record named
// HMAC(username), so the database shows neither usernames nor contents, only how many conversations
// there are and roughly how long each is. The record name is the AES-GCM additional data, so a
// record cannot be moved under another contact's name. Writes to one record are queued in order.
import { decodeConversation, encodeConversation } from './history-codec.ts';
import type { Conversation } from './conversations.ts';
import { WebError } from './errors.ts';

const DB_VERSION = 1;
const STORE = 'conversations';
const ENC_INFO = 'Sotto web history v1 encryption key';
const NAME_INFO = 'Sotto web history v1 record name';
const IV_BYTES = 12; // NIST SP 800-38D §8.2: 96-bit random IVs

interface StoredRecord {
  readonly iv: Uint8Array<ArrayBuffer>;
  readonly ct: ArrayBuffer;
}

export interface HistoryStore {
  /** Every conversation that decrypts; `unreadable` counts records that did not (shown as a notice). */
  load(): Promise<{ conversations: Conversation[]; unreadable: number }>;
  /** Stores the conversation (replacing its previous record). */
  save(c: Conversation): Promise<void>;
  close(): void;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => {
      resolve(r.result);
    };
    r.onerror = () => {
      reject(new WebError('ERR_WEB_HISTORY', 'IndexedDB request failed', { cause: r.error }));
    };
  });
}

function openDb(name: string): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new WebError('ERR_WEB_UNSUPPORTED', 'expected IndexedDB'));
  const r = indexedDB.open(name, DB_VERSION);
  r.onupgradeneeded = () => {
    if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE);
  };
  return request(r);
}

async function deriveKeys(secret: Uint8Array): Promise<{ enc: CryptoKey; names: CryptoKey }> {
  const subtle = globalThis.crypto.subtle;
  const raw = new Uint8Array(secret); // an ArrayBuffer-backed copy, as WebCrypto's types ask
  const master = await subtle.importKey('raw', raw, 'HKDF', false, ['deriveKey']).finally(() => raw.fill(0));
  const hkdf = (info: string): HkdfParams => ({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: new TextEncoder().encode(info) });
  const enc = await subtle.deriveKey(hkdf(ENC_INFO), master, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const names = await subtle.deriveKey(hkdf(NAME_INFO), master, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']);
  return { enc, names };
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Deletes the history database `dbName` (a new account starts with none; records of an account
 *  whose keystore is gone can never be read again). Resolves when it is gone. */
export function deleteHistory(dbName: string): Promise<void> {
  if (typeof indexedDB === 'undefined') return Promise.resolve();
  return request(indexedDB.deleteDatabase(dbName)).then(() => undefined);
}

/** Opens (creating when needed) the history database `dbName` under the 32-byte `secret`. */
export async function openHistory(dbName: string, secret: Uint8Array): Promise<HistoryStore> {
  if (secret.length !== 32) throw new WebError('ERR_WEB_HISTORY', `expected a 32-byte history secret, got ${secret.length} bytes`);
  const subtle = globalThis.crypto.subtle;
  const keys = await deriveKeys(secret);
  const db = await openDb(dbName);
  const queue = new Map<string, Promise<void>>();

  const recordName = async (username: string): Promise<string> => hex(await subtle.sign('HMAC', keys.names, new TextEncoder().encode(username)));

  const decrypt = async (name: string, rec: unknown): Promise<Conversation> => {
    const r = rec as Partial<StoredRecord> | undefined;
    if (!(r?.iv instanceof Uint8Array) || !(r.iv.buffer instanceof ArrayBuffer) || !(r.ct instanceof ArrayBuffer)) throw new WebError('ERR_WEB_HISTORY', 'history record: expected iv and ciphertext');
    let plain: ArrayBuffer;
    try {
      plain = await subtle.decrypt({ name: 'AES-GCM', iv: r.iv, additionalData: new TextEncoder().encode(name) }, keys.enc, r.ct);
    } catch (e) {
      throw new WebError('ERR_WEB_HISTORY', 'history record: does not authenticate', { cause: e });
    }
    const c = decodeConversation(new Uint8Array(plain));
    if ((await recordName(c.username)) !== name) throw new WebError('ERR_WEB_HISTORY', 'history record: stored under another name');
    return c;
  };

  return {
    async load() {
      const tx = db.transaction(STORE, 'readonly');
      const store = tx.objectStore(STORE);
      const [names, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
      const conversations: Conversation[] = [];
      let unreadable = 0;
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        try {
          if (typeof name !== 'string') throw new WebError('ERR_WEB_HISTORY', 'history record: expected a string name');
          conversations.push(await decrypt(name, values[i]));
        } catch {
          unreadable++;
        }
      }
      return { conversations, unreadable };
    },
    save(c) {
      const task = async (): Promise<void> => {
        const name = await recordName(c.username);
        const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
        const ct = await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(name) }, keys.enc, encodeConversation(c));
        const tx = db.transaction(STORE, 'readwrite');
        const done = new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => {
            resolve();
          };
          tx.onerror = () => {
            reject(new WebError('ERR_WEB_HISTORY', 'IndexedDB write failed', { cause: tx.error }));
          };
          tx.onabort = () => {
            reject(new WebError('ERR_WEB_HISTORY', 'IndexedDB write aborted', { cause: tx.error }));
          };
        });
        const record: StoredRecord = { iv, ct };
        tx.objectStore(STORE).put(record, name);
        await done;
      };
      const previous = queue.get(c.username) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(task);
      queue.set(c.username, next);
      return next;
    },
    close() {
      db.close();
    },
  };
}
