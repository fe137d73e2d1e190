// `sotto [--home DIR] answer [--play in.wav] [--record out.wav] [--duration <s>] [--wait <s>]`: waits
// for the next call that rings (client.onIncomingCall, docs/protocol/11 §11.6: a fresh offer from a
// contact that is not `changed`), accepts it with the CLI's werift media, and runs it like `call`.
// Calls that ring after the first are declined; an offer that arrives during the call is answered
// `busy` by the SDK itself.
import type { IncomingCall } from '@sotto/client';
import { CliError } from '../errors.ts';
import { CallSession, callError, readPlayFile, runCall } from '../calls/session.ts';
import type { Invocation } from '../internal/args.ts';
import type { Context } from '../internal/context.ts';
import { trustLabel } from '../internal/format.ts';
import { flushOutbox, withClient } from '../internal/open-client.ts';
import { waitForStopSignal } from '../internal/signals.ts';

export async function answer(inv: Extract<Invocation, { command: 'answer' }>, ctx: Context): Promise<void> {
  const play = await readPlayFile(inv.audio.play);
  await withClient(inv.globals, ctx, async (client) => {
    await flushOutbox(client, ctx);
    const signals = waitForStopSignal();
    let first: ((call: IncomingCall) => void) | undefined;
    const ringing = new Promise<IncomingCall>((resolve) => {
      first = resolve;
    });
    let unregister: () => void = () => undefined;
    const session = await CallSession.open(client, ctx, inv.globals.home, inv.audio, play, () => {
      unregister = client.onIncomingCall((incoming) => {
        if (first === undefined) {
          ctx.out.note(`declined a second call, from ${incoming.from}`);
          void incoming.decline().catch(() => undefined);
          return;
        }
        const take = first;
        first = undefined;
        take(incoming);
      });
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const waitText = inv.waitMs === undefined ? 'until Ctrl-C' : `for ${inv.waitMs / 1000} s`;
      ctx.out.note(`waiting for a call ${waitText}`);
      const gaveUp = new Promise<'timeout'>((resolve) => {
        if (inv.waitMs !== undefined) {
          timer = setTimeout(() => {
            resolve('timeout');
          }, inv.waitMs);
        }
      });
      const got = await Promise.race([ringing, gaveUp, signals.received]);
      if (got === 'timeout') throw new CliError('ERR_CLI_CALL', `no call came in within ${(inv.waitMs ?? 0) / 1000} s`);
      if (got === 'SIGINT' || got === 'SIGTERM') {
        ctx.out.note('stopped waiting');
        return;
      }
      clearTimeout(timer);
      ctx.out.note(`incoming call from ${got.from} (${trustLabel({ state: got.senderState })}); answering`);
      let accepted;
      try {
        accepted = await got.accept(session.media);
      } catch (e) {
        throw callError(e, got.from);
      }
      // A second signal-wait is not needed: the first signal was not used while waiting.
      await runCall(accepted, session, ctx, inv.audio.durationMs, signals);
    } finally {
      clearTimeout(timer);
      unregister();
      signals.dispose();
      await session.stop();
    }
  });
}
