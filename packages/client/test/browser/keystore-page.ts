// The page of keystore-browser.test.ts, bundled with esbuild and run in real Chromium: the browser
// keystore exactly as the web client gets it (@sotto/client/browser), plus raw IndexedDB access so the
// test can look at what is really stored. Every function returns plain JSON for page.evaluate; a
// ClientError comes back as { error: code } so the test asserts on codes.
import { isClientError, PRODUCTION_ARGON2ID, type Keystore } from '@sotto/client';
import { BROWSER_KEYSTORE_DB_PREFIX, browserKeystoreExists, createBrowserKeystore, deleteBrowserKeystore, openBrowserKeystore } from '@sotto/client/browser';

// TESTS ONLY: weak Argon2id; `production` below runs the real parameters once.
const WEAK = { testOnlyWeakKdf: { m: 8, t: 1, p: 1 } } as const;
const ALLOW_WEAK = { testOnlyAllowWeakKdf: true } as const;

type Result<T> = T | { error: string };

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

async function guarded<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return await f();
  } catch (e) {
    if (isClientError(e)) return { error: e.code };
    return { error: `unexpected: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
}

async function dump(ks: Keystore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of await ks.names()) out[n] = hex((await ks.get(n)) ?? new Uint8Array(0));
  return out;
}

// --- raw IndexedDB, typed locally (the test code compiles without DOM types) ---

interface Req<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface Db {
  transaction(store: string, mode: string): { objectStore(n: string): { get(k: string): Req<unknown>; put(v: unknown, k: string): Req<unknown>; delete(k: string): Req<unknown> }; oncomplete: (() => void) | null; onerror: (() => void) | null };
  close(): void;
}
interface CryptoKeyLike {
  type: string;
  extractable: boolean;
  algorithm: { name: string; length?: number };
  usages: string[];
}
const idb = (globalThis as unknown as { indexedDB: { open(n: string): Req<Db> } }).indexedDB;
const subtle = (globalThis as unknown as { crypto: { subtle: { exportKey(f: string, k: unknown): Promise<unknown> } } }).crypto.subtle;

function rawDb(name: string): Promise<Db> {
  return new Promise((resolve, reject) => {
    const r = idb.open(BROWSER_KEYSTORE_DB_PREFIX + name);
    r.onsuccess = () => {
      resolve(r.result);
    };
    r.onerror = () => {
      reject(new Error('open failed'));
    };
  });
}

async function rawOp<T>(name: string, mode: 'readonly' | 'readwrite', op: (s: ReturnType<ReturnType<Db['transaction']>['objectStore']>) => Req<T>): Promise<T> {
  const db = await rawDb(name);
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction('records', mode);
      const req = op(tx.objectStore('records'));
      tx.oncomplete = () => {
        resolve(req.result);
      };
      tx.onerror = () => {
        reject(new Error('transaction failed'));
      };
    });
  } finally {
    db.close();
  }
}

async function settle(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return `rejected: ${e instanceof Error ? e.name : 'non-error'}`;
  }
}

const api = {
  /** Creates keystore `name`, writes three entries (one of them `marker`), names → values. */
  async create(name: string, pass: string, marker: string): Promise<Result<Record<string, string>>> {
    return guarded(async () => {
      const ks = await createBrowserKeystore(name, pass, WEAK);
      await ks.put('identity', utf8(marker));
      await ks.update(
        new Map<string, Uint8Array | null>([
          ['session/1', Uint8Array.of(1, 2, 3)],
          ['gone', Uint8Array.of(9)],
        ]),
      );
      await ks.update(new Map([['gone', null]]));
      const out = await dump(ks);
      await ks.close();
      return out;
    });
  },

  async create2(name: string, pass: string): Promise<Result<string>> {
    return guarded(async () => {
      const ks = await createBrowserKeystore(name, pass, WEAK);
      await ks.close();
      return String(ks);
    });
  },

  async open(name: string, pass: string): Promise<Result<Record<string, string>>> {
    return guarded(async () => {
      const ks = await openBrowserKeystore(name, pass, ALLOW_WEAK);
      const out = await dump(ks);
      await ks.close();
      return out;
    });
  },

  /** Opens without the test-only flag: a weak store must be refused as corrupt. */
  async openStrict(name: string, pass: string): Promise<Result<string>> {
    return guarded(async () => {
      const ks = await openBrowserKeystore(name, pass);
      await ks.close();
      return 'opened';
    });
  },

  async exists(name: string): Promise<boolean> {
    return browserKeystoreExists(name);
  },

  async remove(name: string): Promise<Result<boolean>> {
    return guarded(async () => {
      await deleteBrowserKeystore(name);
      return browserKeystoreExists(name);
    });
  },

  /** The device key as IndexedDB holds it, and what exporting it does. */
  async deviceKey(name: string): Promise<{ present: boolean; type?: string; extractable?: boolean; algorithm?: string; length?: number; usages?: string[]; exportRaw?: string; exportJwk?: string }> {
    const key = (await rawOp(name, 'readonly', (s) => s.get('device'))) as CryptoKeyLike | undefined;
    if (key === undefined) return { present: false };
    return {
      present: true,
      type: key.type,
      extractable: key.extractable,
      algorithm: key.algorithm.name,
      ...(key.algorithm.length === undefined ? {} : { length: key.algorithm.length }),
      usages: [...key.usages].sort(),
      exportRaw: await settle(subtle.exportKey('raw', key)),
      exportJwk: await settle(subtle.exportKey('jwk', key)),
    };
  },

  /** The sealed record's bytes, hex ('' when absent). */
  async sealed(name: string): Promise<string> {
    const v = await rawOp(name, 'readonly', (s) => s.get('sealed'));
    return v instanceof Uint8Array ? hex(v) : '';
  },

  async setSealed(name: string, sealedHex: string): Promise<void> {
    await rawOp(name, 'readwrite', (s) => s.put(unhex(sealedHex), 'sealed'));
  },

  async deleteDeviceKey(name: string): Promise<void> {
    await rawOp(name, 'readwrite', (s) => s.delete('device'));
  },

  /** Replaces the device key with an EXTRACTABLE AES-GCM key: must be refused. */
  async replaceDeviceKeyExtractable(name: string): Promise<void> {
    const s = (globalThis as unknown as { crypto: { subtle: { generateKey(a: unknown, e: boolean, u: string[]): Promise<unknown> } } }).crypto.subtle;
    const k = await s.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
    await rawOp(name, 'readwrite', (st) => st.put(k, 'device'));
  },

  /** A second open while the first is open: ERR_KEYSTORE_IN_USE; after close, it opens. */
  async lock(name: string, pass: string): Promise<Result<{ second: string; afterClose: string }>> {
    return guarded(async () => {
      const first = await openBrowserKeystore(name, pass, ALLOW_WEAK);
      const second = await guarded(() => openBrowserKeystore(name, pass, ALLOW_WEAK));
      await first.close();
      const third = await guarded(async () => {
        const ks = await openBrowserKeystore(name, pass, ALLOW_WEAK);
        await ks.close();
        return 'opened';
      });
      return { second: typeof second === 'object' && 'error' in second ? second.error : 'opened', afterClose: typeof third === 'string' ? third : third.error };
    });
  },

  /** Opens with `openWith`, then changePassphrase(current, next). */
  async changePassphrase(name: string, openWith: string, current: string, next: string): Promise<Result<string>> {
    return guarded(async () => {
      const ks = await openBrowserKeystore(name, openWith, ALLOW_WEAK);
      try {
        await ks.changePassphrase(current, next);
        return 'changed';
      } finally {
        await ks.close();
      }
    });
  },

  /** The real parameters: create, write, reopen (PRODUCTION_ARGON2ID in the browser, 64 MiB). */
  async production(name: string, pass: string): Promise<Result<{ params: string; value: string }>> {
    return guarded(async () => {
      const ks = await createBrowserKeystore(name, pass);
      await ks.put('k', utf8('production'));
      await ks.close();
      const again = await openBrowserKeystore(name, pass);
      const v = await again.get('k');
      await again.close();
      const sealed = await api.sealed(name);
      // header bytes 9..21: m, t, p as u32 big-endian
      const p = unhex(sealed.slice(18, 42));
      const dv = new DataView(p.buffer);
      return { params: `${dv.getUint32(0)}/${dv.getUint32(4)}/${dv.getUint32(8)} expected ${PRODUCTION_ARGON2ID.m}/${PRODUCTION_ARGON2ID.t}/${PRODUCTION_ARGON2ID.p}`, value: new TextDecoder().decode(v) };
    });
  },
};

export type KeystorePageApi = typeof api;
(globalThis as unknown as { keystoreApi: KeystorePageApi }).keystoreApi = api;
