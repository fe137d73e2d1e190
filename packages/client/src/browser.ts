// Public API of @sotto/client/browser (STYLE.md §7): the browser keystore (IndexedDB + a
// non-extractable WebCrypto device key + the passphrase, docs/protocol/10 §10.6). Platform-neutral
// code like the main entry, but useful only where IndexedDB and WebCrypto exist.
// Usage (createAccount from the main entry, the keystore from here):
//   createAccount({ keystore: browserKeystore(), passphrase, username, serverUrl: location.origin })
export {
  browserKeystore,
  browserKeystoreExists,
  createBrowserKeystore,
  openBrowserKeystore,
  deleteBrowserKeystore,
  BROWSER_KEYSTORE_VERSION,
  BROWSER_KEYSTORE_DB_PREFIX,
} from './keystore/browser.ts';
export type { CreateBrowserKeystoreOptions, OpenBrowserKeystoreOptions, IndexedDbFactoryLike } from './keystore/browser.ts';
