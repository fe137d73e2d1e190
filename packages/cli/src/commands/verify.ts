// `sotto [--home DIR] verify <username> <safety-number>`: the contact becomes verified (method
// safety-number) when the digits equal the safety number of its current key; otherwise
// ERR_SAFETY_NUMBER_MISMATCH and nothing changes (docs/protocol/10 §10.4).
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { trustLabel } from '../internal/format.ts';
import { withClient } from '../internal/open-client.ts';

export async function verify(inv: Extract<Invocation, { command: 'verify' }>, ctx: Context): Promise<void> {
  const contact = await withClient(inv.globals, ctx, (client) => client.verify(inv.username, inv.digits, 'safety-number'));
  ctx.out.line(`${contact.username} is now ${trustLabel(contact)}`);
}
