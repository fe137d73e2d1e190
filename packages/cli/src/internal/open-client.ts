// Opening the account for one command: passphrase (env or prompt), then the keystore, then the
// command's work, and the client is always closed again (its WebSocket, its keystore key).
import { openClient, type SottoClient } from '@sotto/client';
import { nodeWebSocket, softwareKeystore } from '@sotto/client/node';
import type { ClientGlobals } from './args.ts';
import type { Context } from './context.ts';
import { getPassphrase } from './passphrase.ts';

export async function withClient<T>(globals: ClientGlobals, ctx: Context, work: (client: SottoClient) => Promise<T>): Promise<T> {
  const passphrase = await getPassphrase(ctx, globals.home, false);
  // --server (or $SOTTO_SERVER) overrides the server stored at registration (a server that moved).
  const client = await openClient({ keystore: softwareKeystore(globals.home), webSocket: nodeWebSocket, passphrase, ...(globals.serverExplicit ? { serverUrl: globals.serverUrl } : {}) });
  ctx.learned.server = client.serverUrl;
  let result: T;
  try {
    result = await work(client);
  } catch (e) {
    // The command's error is the one to report; a failure to close after it adds nothing.
    await client.close().catch(() => undefined);
    throw e;
  }
  await client.close();
  return result;
}

/** Usernames are case-folded ASCII (docs/protocol/09 §9.2): "Bob" and "bob" are one contact. */
export function foldUsername(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Re-sends what an earlier, interrupted command left in the outbox (docs/protocol/10 §10.5). */
export async function flushOutbox(client: SottoClient, ctx: Context): Promise<void> {
  const n = await client.flushOutbox();
  if (n > 0) ctx.out.note(`re-sent ${n} message${n === 1 ? '' : 's'} left over from an earlier attempt`);
}
