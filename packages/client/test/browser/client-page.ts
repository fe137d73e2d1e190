// The page of client-browser.test.ts: the SDK exactly as a browser bundle gets it (@sotto/client with
// @sotto/client/browser — WebCrypto provider, the platform's fetch and WebSocket, the IndexedDB
// keystore), served by the real server under its Content-Security-Policy. Results are plain JSON;
// a ClientError comes back as { error: code }.
import { createAccount, isClientError, openClient, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { browserKeystore } from '@sotto/client/browser';

// TESTS ONLY: weak Argon2id (the browser keystore test runs the real parameters).
const KEYSTORE = browserKeystore('default', { testOnlyWeakKdf: { m: 8, t: 1, p: 1 } });

let client: SottoClient | undefined;

function current(): SottoClient {
  if (client === undefined) throw new Error('no client open in the page');
  return client;
}

async function guarded<T>(f: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await f();
  } catch (e) {
    if (isClientError(e)) return { error: e.code };
    return { error: `unexpected: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
}

function summary(m: ReceivedMessage): string {
  switch (m.kind) {
    case 'text':
      return `${m.from}: ${m.text}`;
    case 'file':
      return `${m.from}: file ${m.file.name}`;
    case 'delivered':
      return `${m.from}: delivered ${m.ids.length}`;
    case 'voicemail':
      return `${m.from}: voicemail ${m.durationMs} ms`;
    case 'missed-call':
      return `${m.from}: missed call`;
  }
}

const api = {
  register: (username: string, passphrase: string) =>
    guarded(async () => {
      client = await createAccount({ keystore: KEYSTORE, passphrase, username, serverUrl: location.origin });
      return client.username;
    }),
  unlock: (passphrase: string) =>
    guarded(async () => {
      client = await openClient({ keystore: KEYSTORE, passphrase });
      return client.username;
    }),
  send: (to: string, text: string) => guarded(async () => (await current().sendText(to, text)).recipientState),
  /** The backlog, then live messages over the platform's WebSocket until `waitMs` of quiet. */
  receive: (waitMs: number) => guarded(async () => (await current().receive({ waitMs })).map(summary)),
  close: () =>
    guarded(async () => {
      await current().close();
      client = undefined;
      return 'closed';
    }),
};

export type ClientPageApi = typeof api;
declare const location: { readonly origin: string };
(globalThis as unknown as { clientApi: ClientPageApi }).clientApi = api;
