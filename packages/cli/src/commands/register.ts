// `sotto [--home DIR] [--server URL] register <username>`: a new identity, registered on the server,
// kept in a new keystore under a passphrase asked twice (or $SOTTO_PASSPHRASE).
import { createAccount } from '@sotto/client';
import { nodeWebSocket, softwareKeystore } from '@sotto/client/node';
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { getPassphrase } from '../internal/passphrase.ts';

export async function register(inv: Extract<Invocation, { command: 'register' }>, ctx: Context): Promise<void> {
  const { home, serverUrl } = inv.globals;
  ctx.learned.server = serverUrl;
  const passphrase = await getPassphrase(ctx, home, true);
  const client = await createAccount({ keystore: softwareKeystore(home), webSocket: nodeWebSocket, passphrase, username: inv.username, serverUrl });
  try {
    ctx.out.line(`registered ${client.username} on ${client.serverUrl}; keystore in ${home}`);
    ctx.out.note('the passphrase cannot be recovered: without it, this account is lost');
  } finally {
    await client.close();
  }
}
