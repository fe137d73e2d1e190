// `sotto [--home DIR] send <username> <text>`. The trust rules are the SDK's (docs/protocol/10 §10.4):
// a contact whose key changed, verified before or not, is refused (ERR_TRUST_CHANGED, described by
// src/internal/describe-error.ts with what to do) until `sotto verify` or `sotto trust --accept-new-key`.
import type { SentMessage } from '@sotto/client';
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { trustLabel } from '../internal/format.ts';
import { flushOutbox, foldUsername, withClient } from '../internal/open-client.ts';

export async function send(inv: Extract<Invocation, { command: 'send' }>, ctx: Context): Promise<void> {
  await withClient(inv.globals, ctx, async (client) => {
    await flushOutbox(client, ctx);
    const sent = await client.sendText(inv.to, inv.text);
    reportSent(ctx, inv.to, 'message', sent);
  });
}

/** One line on stdout for a sent message, with the contact's trust state when it is not verified
 *  (`unverified`; a changed contact is never sent to). */
export function reportSent(ctx: Context, to: string, what: string, sent: SentMessage): void {
  const username = foldUsername(to);
  const state = sent.recipientState === 'verified' ? '' : ` (${trustLabel({ state: sent.recipientState })})`;
  ctx.out.line(`sent ${what} to ${username}${state}, id ${sent.id}${sent.duplicate ? ' (the server already had it)' : ''}`);
}
