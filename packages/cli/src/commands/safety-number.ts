// `sotto [--home DIR] safety-number <username>`: the 60 digits in 12 groups of 5 and the scannable
// payload as a QR code (docs/protocol/07 §7.3, §7.4), the same on both sides.
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { formatSafetyNumber } from '../internal/format.ts';
import { withClient } from '../internal/open-client.ts';

export async function safetyNumber(inv: Extract<Invocation, { command: 'safety-number' }>, ctx: Context): Promise<void> {
  const r = await withClient(inv.globals, ctx, (client) => client.safetyNumber(inv.username));
  ctx.out.line(formatSafetyNumber(r.contact, r.digits, r.scannable).join('\n'));
}
