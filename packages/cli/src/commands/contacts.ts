// `sotto [--home DIR] contacts [--json]`: every contact with its trust state (DESIGN.md "Trust": the
// UI always shows it), a loud note under each changed one.
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { contactJson, formatContacts } from '../internal/format.ts';
import { withClient } from '../internal/open-client.ts';

export async function contacts(inv: Extract<Invocation, { command: 'contacts' }>, ctx: Context): Promise<void> {
  const list = await withClient(inv.globals, ctx, (client) => client.contacts());
  const sorted = [...list].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  if (inv.json) ctx.out.json(sorted.map(contactJson));
  else for (const line of formatContacts(sorted)) ctx.out.line(line);
}
