// `sotto [--home DIR] send-file <username> <path>`: the SDK encrypts the file on this machine and
// uploads only the encrypted blob (docs/protocol/10 §10.3); the key travels in the message.
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { readFileToSend } from '../internal/files.ts';
import { formatSize } from '../internal/format.ts';
import { flushOutbox, withClient } from '../internal/open-client.ts';
import { reportSent } from './send.ts';

export async function sendFile(inv: Extract<Invocation, { command: 'send-file' }>, ctx: Context): Promise<void> {
  // Read first: a mistyped path fails at once, before the passphrase and its Argon2id.
  const file = await readFileToSend(inv.path);
  await withClient(inv.globals, ctx, async (client) => {
    await flushOutbox(client, ctx);
    const sent = await client.sendFile(inv.to, file);
    reportSent(ctx, inv.to, `file ${file.name} (${formatSize(file.bytes.length)})`, sent);
  });
}
