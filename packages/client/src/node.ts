// Public API of @sotto/client/node (STYLE.md §7): the Node-only pieces, kept out of the platform-neutral
// main entry so a browser bundle of @sotto/client never pulls in node: modules or `ws`.
// Usage (createAccount from the main entry, the rest from here):
//   createAccount({ keystore: softwareKeystore(home), webSocket: nodeWebSocket, passphrase, username, serverUrl })

// The software keystore (one sealed file in a directory, node:fs).
export {
  softwareKeystore,
  createSoftwareKeystore,
  openSoftwareKeystore,
  removeSoftwareKeystore,
  KEYSTORE_FILE,
  KEYSTORE_VERSION,
} from './keystore/software.ts';
export type { SoftwareKeystoreOptions, CreateSoftwareKeystoreOptions, OpenSoftwareKeystoreOptions } from './keystore/software.ts';

// The `ws` package as the client's WebSocket (Node 20 has no global WebSocket).
export { nodeWebSocket } from './transport/node-websocket.ts';
