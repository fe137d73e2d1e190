// The account in this browser: one per browser profile and origin, in the SDK's browser keystore
// (IndexedDB + a non-extractable WebCrypto device key + the passphrase through Argon2id), plus the
// encrypted message history (src/history.ts), whose secret is one more entry in that same keystore —
// so the passphrase unlocks both, and nothing readable is left on the device.
//
// The web client is served by the Sotto server it talks to (`sotto serve` serves packages/web/dist at
// `/`), so the server is always this page's origin: a server that moved is reached at its new address,
// and IndexedDB keeps each origin's account apart.
import { createAccount, openClient, type Keystore, type KeystoreOpener, type SottoClient } from '@sotto/client';
import { browserKeystore, browserKeystoreExists, deleteBrowserKeystore } from '@sotto/client/browser';
import { WebError } from './errors.ts';
import { deleteHistory, openHistory, type HistoryStore } from './history.ts';

/** The keystore's name in this origin's IndexedDB. */
export const KEYSTORE_NAME = 'sotto-account';
/** The history database's name. */
export const HISTORY_DB = 'sotto-web-history';
/** The keystore entry holding the history secret (the SDK ignores names it does not own). */
const HISTORY_SECRET_ENTRY = 'web/history-secret';

export interface Unlocked {
  readonly client: SottoClient;
  /** Undefined when the history could not be opened: the session then keeps it in memory only. */
  readonly history: HistoryStore | undefined;
  readonly historyProblem: unknown;
}

function checkPlatform(): void {
  if (typeof indexedDB === 'undefined' || typeof globalThis.crypto.subtle === 'undefined') {
    throw new WebError('ERR_WEB_UNSUPPORTED', 'expected IndexedDB and WebCrypto (a secure context)');
  }
}

/** The SDK's opener, remembering the keystore it opens so the history secret can live in it too. */
function capturing(): { opener: KeystoreOpener; opened: () => Keystore | undefined } {
  const inner = browserKeystore(KEYSTORE_NAME);
  let ks: Keystore | undefined;
  return {
    opener: {
      create: async (p) => (ks = await inner.create(p)),
      open: async (p) => (ks = await inner.open(p)),
      remove: () => inner.remove(),
      toString: () => inner.toString(),
    },
    opened: () => ks,
  };
}

/** Whether this browser holds an account (decides between the create and unlock screens). */
export async function accountExists(): Promise<boolean> {
  checkPlatform();
  return browserKeystoreExists(KEYSTORE_NAME);
}

async function withHistory(client: SottoClient, ks: Keystore | undefined): Promise<Unlocked> {
  try {
    if (ks === undefined) throw new WebError('ERR_WEB_HISTORY', 'expected the opened keystore');
    let secret = await ks.get(HISTORY_SECRET_ENTRY);
    if (secret === undefined) {
      secret = globalThis.crypto.getRandomValues(new Uint8Array(32));
      await ks.put(HISTORY_SECRET_ENTRY, secret);
    }
    const history = await openHistory(HISTORY_DB, secret);
    secret.fill(0);
    return { client, history, historyProblem: undefined };
  } catch (e) {
    return { client, history: undefined, historyProblem: e };
  }
}

/** Registers `username` on this page's server and keeps the account in this browser. */
export async function createBrowserAccount(username: string, passphrase: string): Promise<Unlocked> {
  checkPlatform();
  const { opener, opened } = capturing();
  const client = await createAccount({ keystore: opener, passphrase, username, serverUrl: location.origin });
  // Any history left in this browser belonged to an account whose keystore is gone: unreadable.
  await deleteHistory(HISTORY_DB).catch(() => undefined);
  return withHistory(client, opened());
}

/** Removes the account from this browser — keystore and history — when it can never be opened again
 *  (ERR_KEYSTORE_DEVICE_KEY_MISSING: the site data was partly cleared). The server keeps the name. */
export async function removeBrowserAccount(): Promise<void> {
  checkPlatform();
  await deleteBrowserKeystore(KEYSTORE_NAME);
  await deleteHistory(HISTORY_DB);
}

/** Opens the account of this browser with its passphrase. */
export async function unlockBrowserAccount(passphrase: string): Promise<Unlocked> {
  checkPlatform();
  const { opener, opened } = capturing();
  const client = await openClient({ keystore: opener, passphrase, serverUrl: location.origin });
  return withHistory(client, opened());
}
