// `sotto [--home DIR] trust <username> --accept-new-key`: accepts a changed key without verifying it;
// the contact becomes unverified with the new key (docs/protocol/10 §10.4), and sends go through.
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { trustLabel } from '../internal/format.ts';
import { withClient } from '../internal/open-client.ts';

export async function trust(inv: Extract<Invocation, { command: 'trust' }>, ctx: Context): Promise<void> {
  const contact = await withClient(inv.globals, ctx, (client) => client.acceptNewKey(inv.username));
  const u = contact.username;
  ctx.out.line(`accepted ${u}'s new key; ${u} is now ${trustLabel(contact)}`);
  ctx.out.note(`compare safety numbers with ${u} when you can: sotto safety-number ${u}`);
}
